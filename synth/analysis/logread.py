"""Reading access logs back: the files of a set in time order, their format, their lines as columns.

``read_log(paths)`` reads plain or gzip files (a gzip file is known by its first bytes, whatever
its name) in blocks of about ``BLOCK_BYTES``, so memory stays flat however long the input; each
``Batch`` holds one block's lines of one file as numpy columns. Every line is kept: a line the
format does not parse has ``parsed`` False, its raw bytes, and zeros or empty values elsewhere.

    >>> for batch in read_log(order_files(["output"]), format="combined"):
    ...     print(batch.path.name, batch.line[:2], batch.t_ms[:2], batch.status[:2])
    access.log-20261126 [1 2] [1795651200000 1795651200523] [200 304]

The line regex is not written by hand per format: it is the anchored grok pattern that
``synth.render.logformat.grok_plan`` derives from the format's Apache LogFormat (the pattern the
ingest pipeline uses), compiled to a Python regex by ``synth.elastic.grok`` (Elasticsearch's
expansion rules), so ``parsed`` means what the pipeline's grok would say. ``ecs_json`` lines are
read with ``json``.

Asking only for the time (``columns=("t_ms",)``) takes a vectorised path where the format
allows it: for a plain ``%t`` after fields that cannot hold ``[`` (combined, common, vhost,
nginx, combined_timing), each line's first ``[`` and the 26 bytes after it are read with numpy,
and only lines that do not have that shape go through the regex. ``parsed`` then says that the
line's time was read; the other fields are not looked at.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import queue
import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np

from synth.elastic.grok import Grok, GrokError, builtin_patterns
from synth.render.formats import LineFormat, builtin_format, line_format
from synth.render.lines import FormatError, template_names
from synth.render.logformat import EXTRA_PATTERNS, Directive, grok_plan, parse

BLOCK_BYTES = 16 << 20
DETECT_LINES = 2000
NEWLINE = 10

COLUMNS = ("t_ms", "client", "method", "target", "protocol", "status", "bytes", "referrer", "agent",
           "duration_us", "host")
TEXT_COLUMNS = ("client", "method", "target", "protocol", "referrer", "agent", "host")
MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")


class LogReadError(ValueError):
    """A file that cannot be read, or a format that cannot be told or does not fit."""


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


@cache
def _builtin_reader(name: str) -> LineParser:
    return LineParser(builtin_format(name))


def _first_time(path: Path) -> int:
    """The epoch ms of the first line of ``path`` whose time any built-in format reads."""
    lines = _head(path, 50)
    for name in _candidates():
        reader = _builtin_reader(name)
        for line in lines:
            t = reader.time_of(line)
            if t is not None:
                return t
    raise LogReadError(f"{path}: no line with a time that a built-in format reads, so its place in "
                       "the set is unknown (name the files in time order)")


# --- raw blocks --------------------------------------------------------------------------------

def _open(path: Path) -> Any:
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        return gzip.open(path, "rb") if gzipped else open(path, "rb")
    except FileNotFoundError:
        raise LogReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LogReadError(f"{path}: is a folder, not a log file") from None
    except OSError as e:
        raise LogReadError(f"{path}: {e.strerror or e}") from None


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[bytes, bool]]:
    try:
        with _open(path) as fh:
            while block := fh.read(block_bytes):
                if not block.endswith(b"\n"):
                    block += fh.readline()  # the rest of the block's last line
                yield block, block.endswith(b"\n")
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise LogReadError(f"{path}: not a readable gzip file ({e})") from None
    except OSError as e:
        raise LogReadError(f"{path}: {e.strerror or e}") from None


def read_blocks(path: str | Path, block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[bytes, bool]]:
    """``(block, terminated)``: the file's bytes in blocks of whole lines, each block ending in
    ``\\n`` except perhaps the file's last (``terminated`` False: its last line has no newline).

    The next block is read (and gunzipped) in a thread while the caller works on this one:
    reading and zlib release the GIL, so the second core does that work.
    """
    path = Path(path)
    if block_bytes < (1 << 20):
        yield from _blocks(path, block_bytes)
        return
    ahead: queue.Queue = queue.Queue(maxsize=1)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in _blocks(path, block_bytes):
                while not stop.is_set():
                    try:
                        ahead.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ahead.put(done)
        except BaseException as e:  # handed to the reader, raised there
            ahead.put(e)

    worker = threading.Thread(target=produce, name=f"read {path.name}", daemon=True)
    worker.start()
    try:
        while True:
            item = ahead.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _head(path: Path, n: int) -> list[bytes]:
    lines: list[bytes] = []
    for block, _ in read_blocks(path, 1 << 16):
        lines.extend(block.split(b"\n")[:-1] if block.endswith(b"\n") else block.split(b"\n"))
        if len(lines) >= n:
            break
    return lines[:n]


# --- times -------------------------------------------------------------------------------------

def parse_apache_times(written: np.ndarray) -> dict[str, np.ndarray]:
    """Apache ``%t`` values (``21/Nov/2026:12:00:00 +0100``, 26 bytes, dtype S26) to seconds.

    ``local`` counts the clock time as written as if it were UTC (for hours and weekdays);
    ``utc`` applies the zone; ``minute`` as written; ``valid`` is False for a value that is not
    of that shape or a date that does not exist.
    """
    b = written.view(np.uint8).reshape(-1, 26).astype(np.int64)
    digits = (b >= 48) & (b <= 57)
    shape = (digits[:, [0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25]].all(axis=1)
             & (b[:, 2] == 47) & (b[:, 6] == 47) & (b[:, 11] == 58) & (b[:, 14] == 58) & (b[:, 17] == 58)
             & (b[:, 20] == 32) & ((b[:, 21] == 43) | (b[:, 21] == 45)))

    def number(*positions: int) -> np.ndarray:
        value = np.zeros(len(b), np.int64)
        for position in positions:
            value = value * 10 + b[:, position] - ord("0")
        return value

    month = np.full(len(b), -1, np.int64)
    for i, name in enumerate(MONTHS):
        month[(b[:, 3] == name[0]) & (b[:, 4] == name[1]) & (b[:, 5] == name[2])] = i
    day, year = number(0, 1), number(7, 8, 9, 10)
    hour, minute, second = number(12, 13), number(15, 16), number(18, 19)
    months = np.where(shape & (month >= 0), (year - 1970) * 12 + month, 0)
    first_day = months.astype("M8[M]").astype("M8[D]").astype(np.int64)
    month_days = (months + 1).astype("M8[M]").astype("M8[D]").astype(np.int64) - first_day
    local = (first_day + day - 1) * 86400 + hour * 3600 + minute * 60 + second
    offset = (number(22, 23) * 3600 + number(24, 25) * 60) * np.where(b[:, 21] == ord("-"), -1, 1)
    valid = (shape & (month >= 0) & (day >= 1) & (day <= month_days) & (hour < 24) & (minute < 60)
             & (second <= 60) & (number(24, 25) < 60))
    return {"local": local, "utc": local - offset, "minute": minute, "valid": valid}


def _strptime_ms(fmt: str, zoned: bool) -> Any:
    def read(text: str) -> int | None:
        try:
            t = dt.datetime.strptime(text, fmt)
        except ValueError:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)  # a time written without its zone is read as UTC
        return int(t.timestamp()) * 1000 + t.microsecond // 1000
    return read


_MONTH_NUMBER = {name.decode(): i + 1 for i, name in enumerate(MONTHS)}
_APACHE_TIME = re.compile(r"(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def _apache_ms(text: str) -> int | None:
    """``21/Nov/2026:12:00:00 +0100`` -> epoch ms (one value; parse_apache_times does arrays)."""
    m = _APACHE_TIME.fullmatch(text)
    if m is None or m.group(2) not in _MONTH_NUMBER or int(m.group(9)) >= 60:
        return None
    day, _, year, hour, minute, second, sign, zh, zm = m.groups()
    try:
        t = dt.datetime(int(year), _MONTH_NUMBER[m.group(2)], int(day), int(hour), int(minute),
                        min(int(second), 59), tzinfo=dt.UTC)
    except ValueError:
        return None
    offset = (int(zh) * 3600 + int(zm) * 60) * (-1 if sign == "-" else 1)
    return (int(t.timestamp()) + (int(second) == 60) - offset) * 1000


def _iso_ms(text: str) -> int | None:
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return int(t.timestamp()) * 1000 + t.microsecond // 1000


def _time_reader(d: Directive) -> Any:
    """A function: a time as written -> epoch ms, or None when it is not a time."""
    if d.arg is None:
        return _apache_ms
    arg = d.arg.split(":", 1)[1] if d.arg.startswith(("begin:", "end:")) else d.arg
    if arg == "sec":
        return lambda text: int(text) * 1000 if text.isdigit() else None
    if arg == "msec":
        return lambda text: int(text) if text.isdigit() else None
    return _strptime_ms(arg, "%z" in arg)


# --- batches -----------------------------------------------------------------------------------

@dataclass
class Batch:
    """One block of one file's lines as columns.

    ``data`` is the block as read (plain bytes, after gunzip); line i is
    ``data[starts[i]:ends[i]]`` without its newline. Text columns hold the values as written in
    the line (still escaped, ``b"-"`` where the line says ``-``), ``b""`` where a line did not
    parse; numbers are -1 where a line says ``-`` or did not parse. A column is None when the
    format has no such field, or when it was not asked for.
    """

    path: Path
    file_index: int
    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    terminated: bool  # the last line ends in a newline (False only at the end of a file)
    first_line: int  # 1-based number of the batch's first line in its file
    parsed: np.ndarray
    t_ms: np.ndarray
    client: np.ndarray | None = None
    method: np.ndarray | None = None
    target: np.ndarray | None = None
    protocol: np.ndarray | None = None
    status: np.ndarray | None = None
    bytes: np.ndarray | None = None
    referrer: np.ndarray | None = None
    agent: np.ndarray | None = None
    duration_us: np.ndarray | None = None
    host: np.ndarray | None = None
    whole: bool = field(default=True)  # parsed means the whole line matched (not just its time)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def file(self) -> np.ndarray:
        return np.full(len(self), self.file_index, np.int64)

    @property
    def line(self) -> np.ndarray:
        return np.arange(self.first_line, self.first_line + len(self), dtype=np.int64)

    @cached_property
    def raw(self) -> np.ndarray:
        """The lines' bytes, without their newlines (an object array)."""
        data = self.data
        return np.array([data[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist())] or [], object)

    @property
    def unparsed(self) -> int:
        return int(len(self) - np.count_nonzero(self.parsed))


# --- one format's reader -----------------------------------------------------------------------

_NO_BRACKET = set("haluvpsbBDTIOmH")  # directives whose values never hold "[" (HTTPDUSER has none)


class LineParser:
    """Parses lines of one format: the grok regex (text) or json (ecs_json)."""

    def __init__(self, fmt: LineFormat):
        self.format = fmt
        self.json = fmt.json
        self.fast_time = False
        self.has: set[str] = set()
        self._times: dict[bytes, int | None] = {}
        if self.json:
            self.has = {"client", "method", "target", "protocol", "status", "bytes", "referrer", "agent",
                        "duration_us", "host"}
            return
        assert fmt.logformat is not None
        items = parse(fmt.logformat)
        plan = grok_plan(fmt.logformat)
        bank = dict(builtin_patterns(ecs=True))
        bank.update(EXTRA_PATTERNS)
        bank.update(plan.definitions)
        # A field that may be written "-" is captured with its dash, so that every field has a
        # place in the line (for rewriting it) and "-" reads as written; the language matched
        # is the plan's own.
        pattern = re.sub(r"\(\?:-\|%\{(\w+):([\w.@]+)(?::\w+)?\}\)", r"(?<\2>-|%{\1})", plan.pattern)
        try:
            grok = Grok(bank, [pattern])
        except GrokError as e:
            raise LogReadError(f"the format's grok pattern does not compile: {e}") from None
        self.regex = re.compile(grok.regex.pattern.encode("latin-1"), re.MULTILINE)  # ^ at each line start
        self.groups = {c.field: [g - 1 for g in c.groups] for c in grok.config}
        time_directive = next(i for i in items if isinstance(i, Directive) and i.time
                              and plan.fields.get("timestamp") == i.text)
        self.time_text = _time_reader(time_directive)
        before = items[:items.index(time_directive)]
        self.fast_time = time_directive.arg is None and all(
            isinstance(i, str) and "[" not in i or isinstance(i, Directive) and i.code in _NO_BRACKET
            for i in before)
        f = self.groups
        self.has = {name for name, ecs in (
            ("client", "source.address"), ("method", "http.request.method"), ("referrer", "http.request.referrer"),
            ("agent", "user_agent.original"), ("host", "url.domain"), ("status", "http.response.status_code"),
        ) if ecs in f}
        if "url.original" in f or "url.path" in f:
            self.has.add("target")
        if "http.version" in f:
            self.has.add("protocol")
        if "http.response.body.bytes" in f or "http.response.bytes" in f:
            self.has.add("bytes")
        self.duration = next(((name, scale) for name, scale in (
            ("apache.access.response_time", 1), ("apache.access.response_time_ms", 1000),
            ("apache.access.response_time_s", 1_000_000)) if name in f), None)
        if self.duration:
            self.has.add("duration_us")

    # one line, for detection and ordering
    def time_of(self, line: bytes) -> int | None:
        row = self.fields(line)
        return None if row is None else row["t_ms"]

    def fields(self, line: bytes) -> dict[str, Any] | None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if self.json:
            return self._json_fields(line)
        m = self.regex.fullmatch(line)
        if m is None:
            return None
        return self._row(m.groups())

    def spans(self, line: bytes) -> dict[str, tuple[int, int]] | None:
        """Where each column's value is in a text line: ``{"status": (start, end), ...}``, for
        the columns status, bytes and duration_us; None when the line does not parse."""
        if self.json:
            raise LogReadError("spans are for text formats; JSON lines are rewritten as JSON")
        m = self.regex.fullmatch(line[:-1] if line.endswith(b"\r") else line)
        if m is None:
            return None
        out = {}
        for column, names in (("status", ("http.response.status_code",)),
                              ("bytes", ("http.response.body.bytes", "http.response.bytes")),
                              ("duration_us", (self.duration[0],) if self.duration else ())):
            for name in names:
                for g in self.groups.get(name, ()):
                    if m.group(g + 1) is not None and column not in out:
                        out[column] = m.span(g + 1)
        return out

    def _group(self, values: Sequence[bytes | None], name: str) -> bytes | None:
        for g in self.groups.get(name, ()):
            if values[g] is not None:
                return values[g]
        return None

    def _time(self, stamp: bytes) -> int | None:
        cache = self._times
        if stamp not in cache:
            if len(cache) > 100_000:
                cache.clear()
            cache[stamp] = self.time_text(stamp.decode("latin-1"))
        return cache[stamp]

    def _row(self, values: Sequence[bytes | None], timed: bool = True) -> dict[str, Any] | None:
        stamp = self._group(values, "timestamp")
        if stamp is None:
            return None
        t = self._time(stamp) if timed else stamp
        if t is None:
            return None
        g = self._group
        target = g(values, "url.original")
        if target is None and "url.path" in self.groups:
            path, query = g(values, "url.path"), g(values, "url.query")
            target = (path or b"") + (b"?" + query if query is not None else b"")
        version = g(values, "http.version")
        status = g(values, "http.response.status_code")
        size = g(values, "http.response.body.bytes")
        if size is None:
            size = g(values, "http.response.bytes")
        duration = None
        if self.duration:
            value = g(values, self.duration[0])
            duration = int(value) * self.duration[1] if value is not None else -1
        return {"t_ms": t, "client": g(values, "source.address") or b"", "method": g(values, "http.request.method") or b"",
                "target": target or b"", "protocol": b"HTTP/" + version if version else b"",
                "status": int(status) if status not in (None, b"-") else -1,
                "bytes": int(size) if size not in (None, b"-") else -1,
                "referrer": g(values, "http.request.referrer") or b"-", "agent": g(values, "user_agent.original") or b"-",
                "duration_us": duration, "host": g(values, "url.domain") or b""}

    @staticmethod
    def _json_fields(line: bytes) -> dict[str, Any] | None:
        try:
            doc = json.loads(line)
            t = _iso_ms(doc["@timestamp"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if t is None or not isinstance(doc, dict):
            return None

        def get(*keys: str) -> Any:
            value: Any = doc
            for key in keys:
                if not isinstance(value, dict) or key not in value:
                    return None
                value = value[key]
            return value

        def text(*keys: str, default: bytes = b"") -> bytes:
            value = get(*keys)
            return str(value).encode("utf-8", "surrogateescape") if value is not None else default

        def number(*keys: str) -> int:
            value = get(*keys)
            return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else -1

        version = get("http", "version")
        duration = number("event", "duration")
        return {"t_ms": t, "client": text("source", "address"), "method": text("http", "request", "method"),
                "target": text("url", "original"), "protocol": b"HTTP/" + str(version).encode() if version else b"",
                "status": number("http", "response", "status_code"),
                "bytes": number("http", "response", "body", "bytes"),
                "referrer": text("http", "request", "referrer", default=b"-"),
                "agent": text("user_agent", "original", default=b"-"),
                "duration_us": duration // 1000 if duration >= 0 else -1, "host": text("url", "domain")}

    # a block
    def batch(self, path: Path, file_index: int, block: bytes, terminated: bool, first_line: int,
              columns: frozenset[str]) -> Batch:
        arr = np.frombuffer(block, np.uint8)
        newlines = np.flatnonzero(arr == NEWLINE)
        if terminated:
            starts = np.r_[0, newlines[:-1] + 1].astype(np.int64)
            ends = newlines.astype(np.int64)
        else:
            starts = np.r_[0, newlines + 1].astype(np.int64)
            ends = np.r_[newlines, len(block)].astype(np.int64)
        n = len(starts)
        if columns <= {"t_ms"} and self.fast_time:
            parsed, t_ms = self._fast_times(block, arr, starts, ends)
            return Batch(path, file_index, block, starts, ends, terminated, first_line, parsed, t_ms, whole=False)
        rows: list[dict[str, Any] | None] = []
        if self.json:
            rows = [self.fields(block[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
        else:
            fullmatch, row = self.regex.fullmatch, self._row
            for s, e in zip(starts.tolist(), ends.tolist()):
                m = fullmatch(block, s, e - 1 if e > s and block[e - 1] == 13 else e)
                rows.append(None if m is None else row(m.groups(), timed=False))
            self._times_of(rows)
        parsed = np.fromiter((r is not None for r in rows), bool, count=n)
        t_ms = np.fromiter((r["t_ms"] if r is not None else 0 for r in rows), np.int64, count=n)
        out = Batch(path, file_index, block, starts, ends, terminated, first_line, parsed, t_ms)
        for name in columns & self.has - {"t_ms"}:
            if name in TEXT_COLUMNS:
                values = np.empty(n, object)
                values[:] = [r[name] if r is not None else b"" for r in rows]
                setattr(out, name, values)
            else:
                setattr(out, name, np.fromiter((r[name] if r is not None else -1 for r in rows), np.int64, count=n))
        return out

    def _times_of(self, rows: list[dict[str, Any] | None]) -> None:
        """Each row's written time (``t_ms`` holds it, as bytes) read: all at once for %t."""
        at = [i for i, r in enumerate(rows) if r is not None]
        if not at:
            return
        stamps = [rows[i]["t_ms"] for i in at]  # type: ignore[index]
        if self.time_text is _apache_ms and all(len(x) == 26 for x in stamps):
            times = parse_apache_times(np.array(stamps, "S26"))
            values = np.where(times["valid"], times["utc"] * 1000, -1).tolist()
        else:
            values = [self._time(x) for x in stamps]
            values = [-1 if v is None else v for v in values]
        for i, t in zip(at, values):
            if t < 0:
                rows[i] = None
            else:
                rows[i]["t_ms"] = t  # type: ignore[index]

    def _fast_times(self, block: bytes, arr: np.ndarray, starts: np.ndarray,
                    ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(starts)
        brackets = np.flatnonzero(arr == 91)
        t_ms = np.zeros(n, np.int64)
        parsed = np.zeros(n, bool)
        if len(brackets):
            k = np.searchsorted(brackets, starts)
            has = k < len(brackets)
            pos = np.where(has, brackets[np.minimum(k, len(brackets) - 1)], 0)
            has &= pos + 27 < ends
            at = np.flatnonzero(has)
            if len(at):
                taken = arr[pos[at, None] + np.arange(1, 28)]
                # Lines of one second write the same 27 bytes: each run is parsed once.
                written = taken.view("S27").ravel()
                heads = np.flatnonzero(np.r_[True, written[1:] != written[:-1]])
                head_bytes = taken[heads]
                times = parse_apache_times(np.ascontiguousarray(head_bytes[:, :26]).view("S26").ravel())
                run = np.cumsum(np.r_[True, written[1:] != written[:-1]]) - 1
                good = (times["valid"] & (head_bytes[:, 26] == 93))[run]
                t_ms[at[good]] = (times["utc"] * 1000)[run][good]
                parsed[at[good]] = True
        for i in np.flatnonzero(~parsed).tolist():
            t = self.time_of(block[starts[i]:ends[i]])
            if t is not None:
                parsed[i], t_ms[i] = True, t
        return parsed, t_ms


# --- formats -----------------------------------------------------------------------------------

def _candidates() -> list[str]:
    """The built-in formats, combined first (the order the renderer lists them in)."""
    return ["combined"] + [n for n in template_names() if n != "combined"]


_APACHE_ESCAPE = re.compile(rb'\\["\\]')


def _refuted(name: str, fmt: LineFormat, rows: list[dict[str, Any]], lines: list[bytes]) -> bool:
    """Evidence in parsed lines that a format did not write them, beyond its grok: Apache's
    ``%b`` writes ``-`` for an empty body, never ``0``; nginx writes ``"`` and ``\\`` as
    ``\\x22`` and ``\\x5C``, never ``\\"`` or ``\\\\``."""
    if fmt.logformat and re.search(r"%>?b", fmt.logformat) and any(r["bytes"] == 0 for r in rows):
        return True
    return name.startswith("nginx") and any(_APACHE_ESCAPE.search(line) for line in lines)


def detect_format(lines: Sequence[bytes | str]) -> str:
    """The built-in format (a name from synth.render.formats) that wrote ``lines``.

    A format fits when it parses every non-blank line of the sample (the first DETECT_LINES),
    and nothing in them says another wrote them. Raises LogReadError naming the candidates when
    several fit, or the nearest ones when none does.
    """
    sample = [(line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line).rstrip(b"\r\n")
              for line in list(lines)[:DETECT_LINES]]
    sample = [line for line in sample if line.strip()]
    if not sample:
        raise LogReadError("no lines to tell the format from (the input is empty)")
    fits, near = [], []
    for name in _candidates():
        reader = _builtin_reader(name)
        fmt = reader.format
        # A format that fails most of the first lines is not read further.
        head = [reader.fields(line) for line in sample[:20]]
        if sum(r is not None for r in head) < len(head) // 2:
            if any(r is not None for r in head):
                near.append((sum(r is not None for r in head), name))
            continue
        rows = head + [reader.fields(line) for line in sample[20:]]
        good = [r for r in rows if r is not None]
        if len(good) == len(sample) and not _refuted(name, fmt, good, sample):
            fits.append(name)
        elif good:
            near.append((len(good), name))
    if len(fits) == 1:
        return fits[0]
    if fits:
        raise LogReadError(f"the first {len(sample):,} lines fit several formats ({', '.join(fits)}) and nothing "
                           "in them tells which: name one with --format")
    if near:
        near.sort(key=lambda p: -p[0])
        best = ", ".join(f"{name} ({count:,} of {len(sample):,} lines)" for count, name in near[:3])
        raise LogReadError(f"no built-in format parses all of the first {len(sample):,} lines; nearest: {best}; "
                           "name the format with --format or --log-format")
    raise LogReadError(f"no built-in format parses any of the first {len(sample):,} lines (candidates: "
                       f"{', '.join(_candidates())}); give --log-format with the server's LogFormat")


def detect_files_format(paths: Sequence[Path]) -> str:
    """detect_format on the first lines of the first non-empty file."""
    for path in paths:
        head = _head(path, DETECT_LINES)
        if any(line.strip() for line in head):
            try:
                return detect_format(head)
            except LogReadError as e:
                raise LogReadError(f"{path}: {e}") from None
    raise LogReadError("no lines to tell the format from (the input is empty)")


def resolve_format(paths: Sequence[Path], format: str | None = None, log_format: str | None = None) -> LineFormat:
    """The format to read ``paths`` with: a LogFormat string, a built-in name, else detected."""
    try:
        if log_format or format:
            if format and not log_format and format not in template_names():
                raise LogReadError(f"unknown format {format!r} (built-in: {', '.join(_candidates())})")
            return line_format(format, log_format)
    except FormatError as e:
        raise LogReadError(str(e)) from None
    return builtin_format(detect_files_format(paths))


def read_log(paths: Iterable[str | Path], format: str | None = None, log_format: str | None = None,
             columns: Iterable[str] | None = None, block_bytes: int = BLOCK_BYTES) -> Iterator[Batch]:
    """Every line of ``paths`` (in the order given: see order_files) as Batches of columns.

    ``format`` names a built-in format, ``log_format`` is an Apache LogFormat string; with
    neither, the format is detected from the first lines. ``columns`` limits the columns
    read (default: all of COLUMNS); ``("t_ms",)`` alone takes the fast path.
    """
    files = [Path(p) for p in paths]
    fmt = resolve_format(files, format, log_format)
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


__all__ = ["Batch", "LogReadError", "COLUMNS", "order_files", "detect_format", "detect_files_format",
           "resolve_format", "read_log", "read_blocks", "parse_apache_times", "reader_columns", "is_gzip",
           "LineParser", "parse_lines"]
