"""One format's lines as columns: ``LineParser`` reads a line (or a block of lines) of a text
format with the grok regex the ingest pipeline uses for it, or of ``ecs_json`` with ``json``;
``Batch`` holds one block's lines of one file as numpy columns.

The regex is not written by hand per format: it is the anchored grok pattern that
``synth.render.logformat.grok_plan`` derives from the format's Apache LogFormat (the pattern the
ingest pipeline uses), compiled to a Python regex by ``synth.elastic.grok`` (Elasticsearch's
expansion rules), so ``parsed`` means what the pipeline's grok would say.

Asking only for the time (``columns=("t_ms",)``) takes a vectorised path where the format
allows it: for a plain ``%t`` after fields that cannot hold ``[`` (combined, common, vhost,
nginx, combined_timing), ``logtimes.block_times`` reads each line's time with numpy, and only
lines that do not have that shape go through the regex; for ecs_json, ``json_block_times``
reads the ``@timestamp`` a line opens with, and only other lines go through ``json``. ``parsed`` then says that the line's
time was read; the other fields are not looked at.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from synth.analysis.logblocks import LogReadError
from synth.analysis.logtimes import apache_ms, block_times, iso_ms, json_block_times, parse_apache_times, time_reader
from synth.elastic.grok import Grok, GrokError, builtin_patterns
from synth.render.formats import LineFormat
from synth.render.logformat import EXTRA_PATTERNS, Directive, GrokPlan, grok_plan, parse

NEWLINE = 10

COLUMNS = ("t_ms", "client", "method", "target", "protocol", "status", "bytes", "referrer", "agent",
           "duration_us", "host")
TEXT_COLUMNS = ("client", "method", "target", "protocol", "referrer", "agent", "host")


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



NO_BRACKET = set("haluvpsbBDTIOmH")  # directives whose values never hold "[" (HTTPDUSER has none)


# The fields a row is made of, each read by a picker made once per format (_picker).
_ROW_FIELDS = ("timestamp", "url.original", "url.path", "url.query", "http.version", "http.response.status_code",
               "http.response.body.bytes", "http.response.bytes", "source.address", "http.request.method",
               "http.request.referrer", "user_agent.original", "url.domain")


def _msec(text: str) -> int | None:
    """nginx's ``$msec`` (``1764000000.123``, seconds with milliseconds) -> epoch ms."""
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return None
    return int(whole) * 1000 + int((frac + "000")[:3])


def _nginx_plan(text: str) -> tuple[GrokPlan, Callable[[str], int | None], bool]:
    """The grok plan of an nginx log_format string, how to read its time, and False: its time is
    not read by the block reader's ``[`` rule (a variable before it may hold one)."""
    from synth.render import nginx
    try:
        plan = nginx.grok_plan(nginx.parse(text))
    except nginx.NginxFormatError as e:
        raise LogReadError(str(e)) from None
    reader = {"dd/MMM/yyyy:HH:mm:ss Z": apache_ms, "yyyy-MM-dd'T'HH:mm:ssXXX": iso_ms, "UNIX": _msec}
    return plan, reader[plan.date_formats[0]], False


def _none(values: Sequence[bytes | None]) -> None:
    return None


def _picker(groups: list[int]) -> Callable[[Sequence[bytes | None]], bytes | None]:
    """A function: a match's groups -> the first of ``groups`` that matched (None if none did)."""
    if not groups:
        return _none
    if len(groups) == 1:
        return operator.itemgetter(groups[0])

    def first(values: Sequence[bytes | None]) -> bytes | None:
        for g in groups:
            if values[g] is not None:
                return values[g]
        return None
    return first


def _member(value: Any, key: str) -> Any:
    """``value[key]`` of a JSON object that has it; None otherwise (or where it is null)."""
    return value.get(key) if isinstance(value, dict) else None


def _json_text(value: Any, default: bytes = b"") -> bytes:
    if value is None:
        return default
    return (value if type(value) is str else str(value)).encode("utf-8", "surrogateescape")


def _json_number(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else -1


class LineParser:
    """Parses lines of one format: the grok regex (text) or json (ecs_json)."""

    def __init__(self, fmt: LineFormat):
        self.format = fmt
        self.json = fmt.json
        self.fast_time = False
        self.has: set[str] = set()
        self._times: dict[bytes, int | None] = {}
        self._scratch = np.empty(0, bool)
        if self.json:
            self.fast_time = True  # a line's time is read where it opens with its @timestamp
            self.has = {"client", "method", "target", "protocol", "status", "bytes", "referrer", "agent",
                        "duration_us", "host"}
            return
        if fmt.nginx is not None:
            plan, self.time_text, fast = _nginx_plan(fmt.nginx)
        else:
            assert fmt.logformat is not None
            items = parse(fmt.logformat)
            plan = grok_plan(fmt.logformat)
            time_directive = next(i for i in items if isinstance(i, Directive) and i.time
                                  and plan.fields.get("timestamp") == i.text)
            self.time_text = time_reader(time_directive)
            before = items[:items.index(time_directive)]
            fast = time_directive.arg is None and all(
                isinstance(i, str) and "[" not in i or isinstance(i, Directive) and i.code in NO_BRACKET
                for i in before)
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
        self._pick = {name: _picker(self.groups.get(name, [])) for name in _ROW_FIELDS}
        self.fast_time = fast
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

    def _row(self, values: Sequence[bytes | None]) -> dict[str, Any] | None:
        """One line's fields from its groups: the columns of ``_column``, for a line alone."""
        stamp = self._pick["timestamp"](values)
        t = None if stamp is None else self._time(stamp)
        if t is None:
            return None
        row: dict[str, Any] = {"t_ms": t}
        for name in COLUMNS[1:]:
            row[name] = None if name == "duration_us" and not self.duration else self._column(name, [values])[0]
        return row

    @staticmethod
    def _json_fields(line: bytes) -> dict[str, Any] | None:
        try:
            doc = json.loads(line)
            t = iso_ms(doc["@timestamp"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if t is None or not isinstance(doc, dict):
            return None
        http, url = doc.get("http"), doc.get("url")
        request, response = _member(http, "request"), _member(http, "response")
        version = _member(http, "version")
        duration = _json_number(_member(doc.get("event"), "duration"))
        return {"t_ms": t, "client": _json_text(_member(doc.get("source"), "address")),
                "method": _json_text(_member(request, "method")), "target": _json_text(_member(url, "original")),
                "protocol": b"HTTP/" + str(version).encode() if version else b"",
                "status": _json_number(_member(response, "status_code")),
                "bytes": _json_number(_member(_member(response, "body"), "bytes")),
                "referrer": _json_text(_member(request, "referrer"), b"-"),
                "agent": _json_text(_member(doc.get("user_agent"), "original"), b"-"),
                "duration_us": duration // 1000 if duration >= 0 else -1, "host": _json_text(_member(url, "domain"))}

    # a block
    def batch(self, path: Path, file_index: int, block: bytes, terminated: bool, first_line: int,
              columns: frozenset[str]) -> Batch:
        arr = np.frombuffer(block, np.uint8)
        newlines = self._newlines(arr)
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
        if not self.json:
            return self._text_batch(path, file_index, block, starts, ends, terminated, first_line, columns)
        rows = [self.fields(block[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
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

    def _text_batch(self, path: Path, file_index: int, block: bytes, starts: np.ndarray, ends: np.ndarray,
                    terminated: bool, first_line: int, columns: frozenset[str]) -> Batch:
        """A block of a text format: each line matched once, then each column taken from the
        matches' groups a column at a time (what _row gives a line, without a dict a line)."""
        n = len(starts)
        fullmatch = self.regex.fullmatch
        matches = [fullmatch(block, s, e - 1 if e > s and block[e - 1] == 13 else e)
                   for s, e in zip(starts.tolist(), ends.tolist())]
        groups: list[Any] = [None if m is None else m.groups() for m in matches]
        stamp = self._pick["timestamp"]
        stamps = [None if g is None else stamp(g) for g in groups]
        t = self._stamp_times(stamps)
        for i in np.flatnonzero(t < 0).tolist():
            groups[i] = None  # no time: the line is not parsed
        parsed = t >= 0
        out = Batch(path, file_index, block, starts, ends, terminated, first_line, parsed, np.where(parsed, t, 0))
        for name in columns & self.has - {"t_ms"}:
            column = self._column(name, groups)
            if name in TEXT_COLUMNS:
                values = np.empty(n, object)
                values[:] = column
                setattr(out, name, values)
            else:
                setattr(out, name, np.fromiter(column, np.int64, count=n))
        return out

    def _stamp_times(self, stamps: list[bytes | None]) -> np.ndarray:
        """Each written time (None: the line has none) in epoch ms, -1 where it is not a time:
        all at once for %t."""
        at = [i for i, x in enumerate(stamps) if x is not None]
        t = np.full(len(stamps), -1, np.int64)
        if not at:
            return t
        written = [stamps[i] for i in at]
        if self.time_text is apache_ms and all(len(x) == 26 for x in written):  # type: ignore[arg-type]
            times = parse_apache_times(np.array(written, "S26"))
            t[at] = np.where(times["valid"], times["utc"] * 1000, -1)
        else:
            values = [self._time(x) for x in written]  # type: ignore[arg-type]
            t[at] = [-1 if v is None else v for v in values]
        return np.maximum(t, -1)

    def _column(self, name: str, groups: list[Any]) -> list[Any]:
        """One column of _row's, from each line's groups (None: not parsed, b"" or -1 there)."""
        pick = self._pick
        if name in ("client", "method", "host", "referrer", "agent"):
            field, default = {"client": ("source.address", b""), "method": ("http.request.method", b""),
                              "host": ("url.domain", b""), "referrer": ("http.request.referrer", b"-"),
                              "agent": ("user_agent.original", b"-")}[name]
            get = pick[field]
            return [b"" if g is None else get(g) or default for g in groups]
        if name == "target":
            original = pick["url.original"]
            if "url.path" not in self.groups:
                return [b"" if g is None else original(g) or b"" for g in groups]
            path, query = pick["url.path"], pick["url.query"]

            def target(g: Any) -> bytes:
                value = original(g)
                if value is None:
                    q = query(g)
                    value = (path(g) or b"") + (b"?" + q if q is not None else b"")
                return value or b""
            return [b"" if g is None else target(g) for g in groups]
        if name == "protocol":
            version = pick["http.version"]
            return [b"" if g is None else b"HTTP/" + v if (v := version(g)) else b"" for g in groups]
        if name in ("status", "bytes"):
            first = pick["http.response.status_code" if name == "status" else "http.response.body.bytes"]
            second = pick["http.response.bytes"] if name == "bytes" else _none
            values = [None if g is None else (v if (v := first(g)) is not None else second(g)) for g in groups]
            return [-1 if v is None or v == b"-" else int(v) for v in values]
        assert name == "duration_us" and self.duration
        key, scale = self.duration
        return [-1 if g is None or (v := self._group(g, key)) is None else int(v) * scale for g in groups]

    def _newlines(self, arr: np.ndarray) -> np.ndarray:
        """Where the block's newlines are. The comparison goes into a buffer kept from block to
        block: a new 16 MB array each time costs more in page faults than the comparison."""
        if len(self._scratch) < len(arr):
            self._scratch = np.empty(len(arr), bool)
        return np.flatnonzero(np.equal(arr, NEWLINE, out=self._scratch[:len(arr)]))

    def _fast_times(self, block: bytes, arr: np.ndarray, starts: np.ndarray,
                    ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parsed, t_ms = (json_block_times if self.json else block_times)(arr, starts, ends)
        for i in np.flatnonzero(~parsed).tolist():
            t = self.time_of(block[starts[i]:ends[i]])
            if t is not None:
                parsed[i], t_ms[i] = True, t
        return parsed, t_ms


__all__ = ["Batch", "LineParser", "COLUMNS", "TEXT_COLUMNS", "NO_BRACKET"]
