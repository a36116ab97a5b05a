"""Reading access logs back: the files of a set in time order, their format, their lines as columns.

``read_log(paths)`` reads plain or gzip files (a gzip file is known by its first bytes, whatever
its name) in blocks of about ``BLOCK_BYTES``, so memory stays flat however long the input; each
``Batch`` holds one block's lines of one file as numpy columns. Every line is kept: a line the
format does not parse has ``parsed`` False, its raw bytes, and zeros or empty values elsewhere.

    >>> for batch in read_log(order_files(["output"]), format="combined"):
    ...     print(batch.path.name, batch.line[:2], batch.t_ms[:2], batch.status[:2])
    access.log-20261126 [1 2] [1795651200000 1795651200523] [200 304]

The work is done underneath, a module a job, and this module is the one to import:
``logblocks`` (raw blocks of whole lines, plain or gzip, read ahead in a thread), ``logtimes``
(times as logs write them, and the vectorised ``%t`` of a block), ``logparse`` (``LineParser``:
one format's lines as columns, with the grok regex the ingest pipeline uses for it; ``Batch``)
and ``logdetect`` (which format wrote a log). Here: which files, in which order, and the loop
that turns them into Batches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from synth.analysis.logblocks import BLOCK_BYTES, LogReadError, head_lines, is_gzip, read_blocks
from synth.analysis.logdetect import (
    DETECT_LINES,
    builtin_parser,
    candidates,
    detect_files_format,
    detect_format,
    resolve_format,
)
from synth.analysis.logparse import COLUMNS, TEXT_COLUMNS, Batch, LineParser
from synth.analysis.logtimes import MONTHS, parse_apache_times
from synth.render.formats import LineFormat

# --- which files, in which order -------------------------------------------------------------

_NUMBERED = re.compile(r"^(?P<base>.+?)\.(?P<n>\d+)(?:\.gz)?$")
_DATED = re.compile(r"^(?P<base>.+?)-(?P<date>\d{8}(?:\d{2})?)(?:\.gz)?$")


def _name_rank(name: str) -> tuple[str, tuple[int, int]]:
    """(base name, rank) where the name tells the file's place: larger ranks are newer."""
    m = _DATED.match(name)
    if m:
        date = m.group("date").ljust(10, "0")
        return m.group("base"), (0, int(date))
    m = _NUMBERED.match(name)
    if m:
        return m.group("base"), (0, -int(m.group("n")))
    base = name[:-3] if name.endswith(".gz") else name
    return base, (1, 0)  # the live file, newest


def _dated_and_numbered(ranks: list[tuple[str, tuple[int, int]]]) -> bool:
    kinds = {("dated" if r[1][0] == 0 and r[1][1] > 0 else "numbered" if r[1][0] == 0 else "live") for r in ranks}
    return {"dated", "numbered"} <= kinds


def _folder_files(folder: Path) -> list[Path]:
    """A run folder's log files: its manifest's order, else ``access.log*`` (never its JSON)."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            names = [f["name"] for f in json.loads(manifest.read_text(encoding="utf-8"))["files"]]
        except (ValueError, KeyError, TypeError) as e:
            raise LogReadError(f"{manifest}: not a synth manifest ({e})") from None
        files = [folder / name for name in names]
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise LogReadError(f"{missing[0]}: listed in {manifest} but missing")
        return files
    files = [p for p in folder.glob("access.log*") if p.is_file()]
    if not files:
        raise LogReadError(f"{folder}: no access.log* files in this folder")
    return order_files(files)


def order_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files of a rotated set, oldest first, whatever order they were given in.

    Names tell the order where they can: ``access.log.2.gz`` < ``access.log.1`` < ``access.log``
    (numbered), ``access.log-20261125`` < ``access.log-2026112609`` < ``access.log`` (logrotate
    dateext, by day or hour). Where they cannot (files of different bases, numbered and dated
    names mixed, or names that say nothing), the time of each file's first line decides. A
    folder stands for its files: its manifest's order, or its ``access.log*``.

    >>> [p.name for p in order_files(["access.log", "access.log.2.gz", "access.log.1"])]
    ['access.log.2.gz', 'access.log.1', 'access.log']
    """
    files: list[Path] = []
    for p in (Path(p) for p in paths):
        if p.is_dir():
            files.extend(_folder_files(p))
        elif not p.exists():
            raise LogReadError(f"{p}: no such file")
        else:
            files.append(p)
    if len(files) != len({p.resolve() for p in files}):
        raise LogReadError("the same file is given twice")
    if len(files) <= 1:
        return files
    ranks = [_name_rank(p.name) for p in files]
    bases = {r[0] for r in ranks}
    lives = sum(1 for r in ranks if r[1][0] == 1)
    if len(bases) == 1 and lives <= 1 and not _dated_and_numbered(ranks):
        return [p for _, p in sorted(zip(ranks, files), key=lambda pair: pair[0][1])]
    firsts = [_first_time(p) for p in files]
    return [p for _, _, p in sorted(zip(firsts, range(len(files)), files))]


def _first_time(path: Path) -> int:
    """The epoch ms of the first line of ``path`` whose time any built-in format reads."""
    lines = head_lines(path, 50)
    for name in candidates():
        reader = builtin_parser(name)
        for line in lines:
            t = reader.time_of(line)
            if t is not None:
                return t
    raise LogReadError(f"{path}: no line with a time that a built-in format reads, so its place in "
                       "the set is unknown (name the files in time order)")


# --- lines as columns --------------------------------------------------------------------------

def read_log(paths: Iterable[str | Path], format: str | None = None, log_format: str | None = None,
             columns: Iterable[str] | None = None, block_bytes: int = BLOCK_BYTES,
             nginx_log_format: str | None = None) -> Iterator[Batch]:
    """Every line of ``paths`` (in the order given: see order_files) as Batches of columns.

    ``format`` names a built-in format, ``log_format`` is an Apache LogFormat string; with
    neither, the format is detected from the first lines; ``nginx_log_format`` (an nginx
    log_format string) wins over both. ``columns`` limits the columns
    read (default: all of COLUMNS); ``("t_ms",)`` alone takes the fast path.
    """
    files = [Path(p) for p in paths]
    fmt = resolve_format(files, format, log_format, nginx_log_format)
    wanted = frozenset(COLUMNS if columns is None else columns)
    unknown = wanted - set(COLUMNS)
    if unknown:
        raise LogReadError(f"unknown columns: {', '.join(sorted(unknown))} (columns: {', '.join(COLUMNS)})")
    reader = LineParser(fmt)
    for index, path in enumerate(files):
        first = 1
        for block, terminated in read_blocks(path, block_bytes):
            batch = reader.batch(path, index, block, terminated, first, wanted)
            first += len(batch)
            yield batch


def reader_columns(format: LineFormat) -> set[str]:
    """The columns a format's lines carry (t_ms always)."""
    return {"t_ms"} | LineParser(format).has


def parse_lines(format: LineFormat, lines: Sequence[bytes]) -> dict[str, np.ndarray]:
    """Columns (as in a Batch, plus ``parsed``) of a few lines, for work on a chosen sample."""
    parser = LineParser(format)
    block = b"".join(line + b"\n" for line in lines)
    batch = parser.batch(Path("-"), 0, block, True, 1, frozenset(COLUMNS))
    return {name: getattr(batch, name) for name in ("parsed", *COLUMNS)}


__all__ = ["Batch", "LogReadError", "COLUMNS", "TEXT_COLUMNS", "MONTHS", "BLOCK_BYTES", "DETECT_LINES",
           "order_files", "detect_format", "detect_files_format", "resolve_format", "read_log", "read_blocks",
           "parse_apache_times", "reader_columns", "is_gzip", "LineParser", "parse_lines"]
