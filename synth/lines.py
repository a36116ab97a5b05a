"""Lines: a Jinja2 template in templates/ turned into bytes, a chunk of events at a time.

The template is the truth about the line format. It is compiled once and rendered once with
a marker in place of every field; that gives the line's layout (literal text and fields in
order). Neighbouring fields that depend on the same column (the client's address and its
``- -``, the request and its closing quote) are joined into one pool entry per value when the
renderer is built, so a chunk is assembled from a handful of pre-joined pieces per line,
picked with numpy and joined once. ``render_with_jinja`` renders the same events through
Jinja2 itself; the tests hold the two byte-identical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import jinja2
import numpy as np

from .pools import METHODS, PROTOCOLS, Pools
from .resources import resource_dir
from .traffic import Events, body_bytes

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MARK = "\x00"
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class FormatError(ValueError):
    """A template or format that cannot make log lines."""


@dataclass(frozen=True)
class FieldSpec:
    """A field a template may use: the column it depends on, and how a value becomes text.

    ``texts`` does the same for an array of values at once, where that is worth it (%t is
    formatted for thousands of distinct seconds per chunk).
    """

    key: str  # "client", "agent", "referrer", "request", "second", "response" or "const"
    text: Callable[["Tables", int], str]
    texts: Callable[["Tables", np.ndarray], np.ndarray] | None = None

    def many(self, tables: "Tables", keys: np.ndarray) -> np.ndarray:
        if self.texts is not None:
            return self.texts(tables, keys)
        return _strings([self.text(tables, int(k)) for k in keys])


class Tables:
    """The run's pools as the renderer reads them, plus the zone offset written in %t.

    A response key numbers every (target, method, protocol, status) the run can write; the
    request line, the status and the body size are all functions of it.
    """

    def __init__(self, pools: Pools, tz_seconds: int):
        self.pools = pools
        self.tz_seconds = tz_seconds
        sign = "-" if tz_seconds < 0 else "+"
        minutes = abs(tz_seconds) // 60
        self.tz_text = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
        self.n_methods, self.n_protos = len(METHODS), len(PROTOCOLS)
        self.statuses = np.array(pools.site.statuses, np.int64)
        self.status_slot = np.full(600, -1, np.int64)
        self.status_slot[self.statuses] = np.arange(len(self.statuses))

    def response_key(self, events: Events) -> np.ndarray:
        request = (events.target.astype(np.int64) * self.n_methods + events.method) * self.n_protos + events.proto
        return request * len(self.statuses) + self.status_slot[events.status]

    def response_parts(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(target, method, proto, status) of response keys."""
        request, slot = np.divmod(keys, len(self.statuses))
        rest, proto = np.divmod(request, self.n_protos)
        target, method = np.divmod(rest, self.n_methods)
        return target, method, proto, self.statuses[slot]

    def key_count(self, key: str) -> int:
        pools = self.pools
        return {"client": len(pools.population.addresses), "agent": len(pools.population.agents),
                "referrer": len(pools.referrers.values),
                "response": len(pools.site.targets) * self.n_methods * self.n_protos * len(self.statuses)}[key]

    def time_text(self, second: int) -> str:
        """Apache's %t for a UTC second: ``[28/Nov/2026:12:57:57 +0000]`` in the log's zone."""
        return str(self.time_texts(np.array([second], np.int64))[0])

    def time_texts(self, seconds: np.ndarray) -> np.ndarray:
        """%t for many seconds: a date part per day joined to a clock part per second of day."""
        if not hasattr(self, "_clock"):
            clock = [f"{h:02d}:{m:02d}:{s:02d} {self.tz_text}]" for h in range(24) for m in range(60) for s in range(60)]
            self._clock = _strings(clock)
        local = seconds + self.tz_seconds
        day, second_of_day = np.divmod(local, 86400)
        first = int(day.min())
        dates = [dt.date.fromordinal(_EPOCH_ORDINAL + d) for d in range(first, int(day.max()) + 1)]
        prefixes = _strings([f"[{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:" for d in dates])
        return prefixes[day - first] + self._clock[second_of_day]

    def request_texts(self, keys: np.ndarray) -> np.ndarray:
        target, method, proto, _ = self.response_parts(keys)
        targets = self.pools.site.targets
        return _strings([f"{METHODS[m]} {targets[t]} {PROTOCOLS[p]}"
                         for t, m, p in zip(target.tolist(), method.tolist(), proto.tolist())])

    def status_texts(self, keys: np.ndarray) -> np.ndarray:
        return _strings([str(s) for s in self.response_parts(keys)[3].tolist()])

    def bytes_texts(self, keys: np.ndarray) -> np.ndarray:
        target, method, _, status = self.response_parts(keys)
        sizes = body_bytes(self.pools.site.size, target, method, status)
        return _strings([str(n) if n else "-" for n in sizes.tolist()])


def _pool_field(key: str, values: Callable[[Pools], list[str]]) -> FieldSpec:
    """A field that is an entry of one of the pools, by the column ``key``."""
    return FieldSpec(key, lambda t, k: values(t.pools)[k],
                     lambda t, keys: _strings([values(t.pools)[k] for k in keys.tolist()]))


def _one(many: Callable[["Tables", np.ndarray], np.ndarray]) -> Callable[["Tables", int], str]:
    return lambda t, k: str(many(t, np.array([k], np.int64))[0])


FIELDS: dict[str, FieldSpec] = {
    "client": _pool_field("client", lambda p: p.population.addresses),
    "ident": FieldSpec("const", lambda t, k: "-"),
    "user": FieldSpec("const", lambda t, k: "-"),
    "time": FieldSpec("second", lambda t, k: t.time_text(k), Tables.time_texts),
    "request": FieldSpec("response", _one(Tables.request_texts), Tables.request_texts),
    "status": FieldSpec("response", _one(Tables.status_texts), Tables.status_texts),
    "bytes": FieldSpec("response", _one(Tables.bytes_texts), Tables.bytes_texts),
    "referer": _pool_field("referrer", lambda p: p.referrers.values),
    "agent": _pool_field("agent", lambda p: p.population.agents),
}
POOLED_KEYS = ("client", "agent", "referrer", "response")


def key_column(key: str, events: Events, tables: Tables) -> np.ndarray:
    """The integer column a key reads from the events."""
    if key == "client":
        return events.client
    if key == "agent":
        return events.agent
    if key == "referrer":
        return events.referrer
    if key == "response":
        return tables.response_key(events)
    if key == "second":
        return events.t_ms // 1000
    raise KeyError(key)


class _Marker:
    """Stands in for an event while the template is rendered once to find its layout."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return f"{_MARK}{name}{_MARK}"


def template_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        keep_trailing_newline=True,  # a line's final newline is part of the format
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def template_names() -> list[str]:
    return sorted(p.stem for p in resource_dir("templates").glob("*.j2"))


def load_template(name: str) -> jinja2.Template:
    try:
        return template_environment().get_template(f"{name}.j2")
    except jinja2.TemplateNotFound:
        raise FormatError(f"no line format named {name!r} (known: {', '.join(template_names())})") from None


def layout(template: jinja2.Template) -> list[str | tuple[str]]:
    """The line's layout: literal strings and (field,) tuples in order, ending in a newline."""
    text = template.render(events=[_Marker()])
    pieces = text.split(_MARK)
    items: list[str | tuple[str]] = []
    for i, piece in enumerate(pieces):
        if i % 2:
            if piece not in FIELDS:
                raise FormatError(f"template field e.{piece} is unknown (known: {', '.join(FIELDS)})")
            items.append((piece,))
        elif piece:
            items.append(piece)
    literal = "".join(p for p in items if isinstance(p, str))
    if not text.endswith("\n") or literal.count("\n") != 1:
        raise FormatError("a template must render exactly one line, ending in a newline, per event")
    return items


@dataclass
class _Segment:
    key: str
    items: list  # literal strings and FieldSpecs
    pool: np.ndarray | None = None  # object array over every key value, filled as values appear
    filled: np.ndarray | None = None

    def texts(self, tables: Tables, keys: np.ndarray) -> np.ndarray:
        """text for many key values at once: each item's column, added element by element."""
        out: Any = ""
        for item in self.items:
            out = out + (item if isinstance(item, str) else item.many(tables, keys))
        return out


class LineRenderer:
    """Events -> bytes for one line format; pools pre-joined once, chunks joined once."""

    def __init__(self, template: jinja2.Template, pools: Pools, tz_seconds: int):
        self.template = template
        self.tables = Tables(pools, tz_seconds)
        self.segments = self._segments(layout(template))
        for segment in self.segments:
            if segment.key in POOLED_KEYS:
                n = self.tables.key_count(segment.key)
                segment.pool, segment.filled = np.empty(n, dtype=object), np.zeros(n, bool)

    @staticmethod
    def _segments(items: list) -> list[_Segment]:
        """Group the layout: a segment ends where the next field needs another column."""
        segments: list[_Segment] = []
        lead: list[str] = []
        for item in items:
            if isinstance(item, str):
                (segments[-1].items if segments else lead).append(item)
                continue
            spec = FIELDS[item[0]]
            if spec.key == "const":
                (segments[-1].items if segments else lead).append(spec.text(None, 0))  # type: ignore[arg-type]
            elif segments and segments[-1].key == spec.key:
                segments[-1].items.append(spec)
            else:
                segments.append(_Segment(spec.key, lead + [spec]))
                lead = []
        if not segments:
            raise FormatError("a line format needs at least one field that varies")
        segments[-1].items.extend(lead)
        return segments

    def _column(self, segment: _Segment, events: Events) -> np.ndarray:
        values = key_column(segment.key, events, self.tables)
        if segment.pool is not None:
            # Each value is formatted the first time it appears, then only looked up.
            missing = ~segment.filled[values]
            if missing.any():
                new = np.unique(values[missing])
                segment.pool[new] = segment.texts(self.tables, new)
                segment.filled[new] = True
            return segment.pool[values]
        if segment.key == "second":
            lo, hi = int(values[0]), int(values[-1])
            if hi - lo < 4 * len(values) + 64:  # events are in time order: a dense range
                return segment.texts(self.tables, np.arange(lo, hi + 1, dtype=np.int64))[values - lo]
        unique, inverse = np.unique(values, return_inverse=True)
        return segment.texts(self.tables, unique)[inverse]

    def render(self, events: Events) -> bytes:
        """The lines of ``events`` (in time order) as one block of bytes."""
        n = len(events)
        if n == 0:
            return b""
        k = len(self.segments)
        parts = np.empty(n * k, dtype=object)
        for i, segment in enumerate(self.segments):
            parts[i::k] = self._column(segment, events)
        return "".join(parts.tolist()).encode("utf-8")

    def field_values(self, events: Events) -> list[dict[str, str]]:
        """Each event's fields as the text the template receives (for tests and verification)."""
        names = sorted({name for item in layout(self.template) if isinstance(item, tuple) for name in item})
        columns = {}
        for name in names:
            single = _Segment(FIELDS[name].key, [FIELDS[name]])
            if single.key == "const":
                columns[name] = [FIELDS[name].text(self.tables, 0)] * len(events)
            else:
                columns[name] = self._column(single, events).tolist()
        return [{name: columns[name][i] for name in names} for i in range(len(events))]

    def render_with_jinja(self, events: Events) -> bytes:
        """The same lines rendered by Jinja2 row by row: slow, and the reference for ``render``."""
        rows = [_Row(values) for values in self.field_values(events)]
        return self.template.render(events=rows).encode("utf-8")


def _strings(values: list[str]) -> np.ndarray:
    pool = np.empty(len(values), dtype=object)
    pool[:] = values
    return pool


class _Row:
    def __init__(self, values: dict[str, str]):
        self.__dict__.update(values)


def make_renderer(format_name: str, pools: Pools, tz_seconds: int) -> LineRenderer:
    return LineRenderer(load_template(format_name), pools, tz_seconds)
