"""``synth report`` as a library: logs (a run folder or any files) in, a report out.

    >>> report = build_report(["output"])                       # a run folder: its truth too
    >>> write_report(report, "output/report.html")
    >>> write_report(report, "docs/run.png", width=1200)

``build_report`` reads the lines once (see report_data for what is counted), grades ML records
against the truth when given (as ``synth score`` does), and ``write_report`` writes the page
or an image according to the file's suffix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.analysis import logread, report_page
from synth.analysis.profile import _QUOTED, LINE_RE
from synth.analysis.report_data import (
    ALL_NEEDS,
    BUCKETS,
    Columns,
    ReportData,
    check_truth,
    collect,
    needs_of,
    read_json,
)
from synth.analysis.score import Grade, Record, ScoreError, grade
from synth.render.formats import LineFormat, builtin_format

SUFFIXES = (".html", ".png", ".svg")
# Blocks of 4 MB (some 16,000 lines): the parsed values of one block are all that is held of
# the lines at any time.
BLOCK_BYTES = 4 << 20


class ReportError(ValueError):
    """Input or output that cannot be used; the message names it."""


@dataclass
class Report:
    data: ReportData
    grade: Grade | None = None
    records: list[Record] = field(default_factory=list)
    min_score: float = 25.0


def resolve_inputs(paths: Sequence[str | Path]) -> tuple[list[Path], dict[str, Any] | None, Path | None]:
    """The log files in time order (logread.order_files), the manifest (a run folder's) and the
    folder's truth file."""
    given = [Path(p) for p in paths] or [Path("output")]
    folder = given[0] if len(given) == 1 and given[0].is_dir() else None
    if folder is None and any(p.is_dir() for p in given):
        raise ReportError(f"{next(p for p in given if p.is_dir())}: a folder among other paths "
                          "(give one run folder, or log files)")
    try:
        files = logread.order_files(given)
    except logread.LogReadError as e:
        raise ReportError(str(e)) from None
    if folder is None:
        return files, None, None
    manifest_path, truth = folder / "manifest.json", folder / "anomalies.json"
    manifest = read_json(manifest_path, "manifest") if manifest_path.is_file() else None
    return files, manifest, truth if truth.is_file() else None


def build_report(paths: Sequence[str | Path], truth: str | Path | dict[str, Any] | None = None,
                 records: Iterable[Record] | None = None, jobs: Sequence[str] | None = None,
                 min_score: float = 25.0, bucket: str | None = None, format: str | None = None,
                 log_format: str | None = None) -> Report:
    """Read the logs at ``paths`` and count what the report draws.

    ``truth`` is an anomalies.json (a path, or its content; default: the run folder's).
    ``records`` are ML anomaly records (synth.analysis.score.parse_records); they are graded
    for ``jobs`` (default: every job they name). ``bucket`` is one of BUCKETS (default: the
    smallest that keeps a run's range under 2,500 buckets; 5m for logs without a manifest).
    """
    files, manifest, truth_path = resolve_inputs(paths)
    truth_data: dict[str, Any] | None
    if isinstance(truth, dict):
        truth_data = check_truth(truth, "truth")
    else:
        source = Path(truth) if truth is not None else truth_path
        if source is not None and source.is_dir():
            source = source / "anomalies.json"
        truth_data = check_truth(read_json(source, "anomalies.json"), str(source)) if source is not None else None
    if bucket is not None and bucket not in BUCKETS:
        raise ReportError(f"bucket must be one of {', '.join(BUCKETS)}, not {bucket!r}")
    if records is not None and truth_data is None:  # said before the logs are read
        raise ReportError("ML records need the truth to be graded against (--truth anomalies.json)")
    range_ms = (int(manifest["start_ms"]), int(manifest["end_ms"])) if manifest and "start_ms" in manifest else None
    if manifest and not format and not log_format:
        options = manifest.get("scenario") or {}
        format, log_format = options.get("format"), options.get("log_format")
    report_page.start_bundle()
    try:
        needs = needs_of(truth_data)
        data = collect(read_columns(files, format, log_format, needs), truth_data, bucket,
                       [str(f) for f in files], manifest, range_ms, needs)
    except logread.LogReadError as e:
        raise ReportError(str(e)) from None
    result = Report(data, min_score=min_score)
    if records is not None:
        assert truth_data is not None
        result.records = list(records)
        graded = list(jobs) if jobs else list(dict.fromkeys(r.job_id for r in result.records))
        try:
            result.grade = grade(result.records, truth_data, graded, min_score)
        except ScoreError as e:
            raise ReportError(str(e)) from None
    return result


# combined, common and combined_timing (what synth writes by default, and most servers) are read
# the way synth profile reads them: one regex per line, its groups taken as columns, and the
# times of a whole block at once, about six times as fast as logread's general per-field path.
# Every other format goes through logread. tests/test_report.py holds the two paths equal.
_TIMING_RE = re.compile(LINE_RE.pattern[:LINE_RE.pattern.index(rb"(?: (")]
                        + rb" (" + _QUOTED + rb") (" + _QUOTED + rb") ([0-9]+)\r?")
FAST_FORMATS = {"combined": LINE_RE, "common": LINE_RE, "combined_timing": _TIMING_RE}


def _fast_regex(fmt: LineFormat) -> re.Pattern[bytes] | None:
    for name, regex in FAST_FORMATS.items():
        if fmt.logformat is not None and _plain(fmt.logformat) == _plain(builtin_format(name).logformat or ""):
            return regex
    return None


def _plain(logformat: str) -> str:
    return logformat.replace('\\"', '"').strip()


def read_columns(files: Sequence[Path], format: str | None, log_format: str | None,
                 needs: frozenset[str] = ALL_NEEDS) -> Iterator[Columns]:
    """The parsed lines of ``files`` as Columns, batch by batch: times, statuses and the
    columns in ``needs`` (see FAST_FORMATS)."""
    fmt = logread.resolve_format(list(files), format, log_format)
    regex = _fast_regex(fmt)
    if regex is None:
        yield from _logread_columns(files, format, log_format, needs)
        return
    timed = regex is _TIMING_RE
    # One findall over a block runs the regex over every line in C; a block with a line that
    # does not match is looked at line by line to name the first such line.
    findall = re.compile(rb"(?m)^" + regex.pattern + rb"$").findall
    for path in files:
        first_line = 1
        for block, terminated in logread.read_blocks(path, BLOCK_BYTES):
            found = findall(block)
            lines = block.count(b"\n") + (0 if terminated else 1)
            n = len(found)
            cols = list(zip(*found)) if found else [()] * (8 if timed else 7)
            clock = logread.parse_apache_times(np.array(cols[1], "S26"))
            valid = clock["valid"]
            bad = lines - int(np.count_nonzero(valid))
            first_unparsed = None
            if bad:
                rows = (block[:-1] if terminated else block).split(b"\n")
                ok = np.array([regex.fullmatch(row) is not None for row in rows], bool)
                ok[np.flatnonzero(ok)] = valid
                first_unparsed = f"{path}:{first_line + int(np.argmin(ok))}"
            out = Columns(t_ms=clock["utc"][valid] * 1000,
                          status=np.array(cols[3], "S3").astype(np.int64)[valid] if n else np.zeros(0, np.int64),
                          lines=lines, unparsed=bad, first_unparsed=first_unparsed)
            if "client" in needs:
                out.client = _objects(cols[0])[valid]
            if "target" in needs:
                out.target = _objects([r.split(b" ", 2)[1] if b" " in r else r for r in cols[2]])[valid]
            if "agent" in needs:
                out.agent = (_objects([a[1:-1] for a in cols[6]]) if n and cols[6][0] else
                             np.full(n, b"-", object))[valid]
            if "bytes" in needs:
                size = np.array(cols[4], "S20")
                out.bytes = np.where(size == b"-", b"-1", size).astype(np.int64)[valid] if n else np.zeros(0, np.int64)
            if "duration_us" in needs and timed:
                out.duration_us = np.array(cols[7], "S20").astype(np.int64)[valid] if n else np.zeros(0, np.int64)
            first_line += lines
            yield out


def _objects(values: Sequence[bytes]) -> np.ndarray:
    out = np.empty(len(values), object)
    out[:] = values
    return out


def _logread_columns(files: Sequence[Path], format: str | None, log_format: str | None,
                     needs: frozenset[str]) -> Iterator[Columns]:
    wanted = ("t_ms", "status", *sorted(needs))
    for batch in logread.read_log(files, format=format, log_format=log_format, columns=wanted):
        keep = batch.parsed
        n = int(np.count_nonzero(keep))
        first_unparsed = None
        if n < len(batch):
            first_unparsed = f"{batch.path}:{batch.first_line + int(np.argmin(keep))}"
        out = Columns(t_ms=batch.t_ms[keep], status=_column(batch, "status", keep, -1), lines=len(batch),
                      unparsed=len(batch) - n, first_unparsed=first_unparsed)
        for name in needs:
            setattr(out, name, _column(batch, name, keep, b"-" if name in ("client", "target", "agent") else -1))
        yield out


def _column(batch: logread.Batch, name: str, keep: np.ndarray, default: bytes | int) -> np.ndarray:
    values = getattr(batch, name)
    if values is None:  # the format has no such field
        n = int(np.count_nonzero(keep))
        return np.full(n, default, object) if isinstance(default, bytes) else np.full(n, default, np.int64)
    return values[keep]


def write_report(report: Report, path: str | Path, width: int = report_page.DEFAULT_WIDTH,
                 height: int | None = None) -> Path:
    """Write the page (.html) or an image (.png, .svg) of ``report`` to ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ReportError(f"{path}: the name must end in {', '.join(SUFFIXES)}")
    args = (report.data, report.grade, report.records, report.min_score)
    if suffix == ".html":
        content: bytes = report_page.page_html(*args).encode("utf-8")
    elif suffix == ".svg":
        content = report_page.svg_image(*args, width=width, height=height).encode("utf-8")
    else:
        content = report_page.png_image(*args, width=width, height=height)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {e.strerror or e}") from None
    return path
