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
from typing import Callable

import jinja2
import numpy as np

from .pools import METHODS, PROTOCOLS, Pools
from .resources import resource_dir
from .traffic import Events

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MARK = "\x00"
_STATUS_BITS = 10  # status codes fit in 10 bits; a response key is size << 10 | status


class FormatError(ValueError):
    """A template or format that cannot make log lines."""


@dataclass(frozen=True)
class FieldSpec:
    """A field a template may use: the column it depends on, and how a value becomes text."""

    key: str  # "client", "agent", "referrer", "request", "second", "response" or "const"
    text: Callable[["Tables", int], str]


class Tables:
    """The run's pools as the renderer reads them, plus the zone offset written in %t."""

    def __init__(self, pools: Pools, tz_seconds: int):
        self.pools = pools
        self.tz_seconds = tz_seconds
        sign = "-" if tz_seconds < 0 else "+"
        minutes = abs(tz_seconds) // 60
        self.tz_text = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
        self.n_methods, self.n_protos = len(METHODS), len(PROTOCOLS)

    def request_key(self, events: Events) -> np.ndarray:
        return (events.target.astype(np.int64) * self.n_methods + events.method) * self.n_protos + events.proto

    def request_text(self, key: int) -> str:
        rest, proto = divmod(key, self.n_protos)
        target, method = divmod(rest, self.n_methods)
        return f"{METHODS[method]} {self.pools.site.targets[target]} {PROTOCOLS[proto]}"

    def key_count(self, key: str) -> int:
        pools = self.pools
        return {"client": len(pools.population.addresses), "agent": len(pools.population.agents),
                "referrer": len(pools.referrers.values),
                "request": len(pools.site.targets) * self.n_methods * self.n_protos}[key]

    def time_text(self, second: int) -> str:
        """Apache's %t for a UTC second: ``[28/Nov/2026:12:57:57 +0000]`` in the log's zone."""
        local = dt.datetime.fromtimestamp(second + self.tz_seconds, dt.timezone.utc)
        return (f"[{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:"
                f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {self.tz_text}]")


def _bytes_text(tables: Tables, key: int) -> str:
    size = key >> _STATUS_BITS
    return str(size) if size else "-"


FIELDS: dict[str, FieldSpec] = {
    "client": FieldSpec("client", lambda t, k: t.pools.population.addresses[k]),
    "ident": FieldSpec("const", lambda t, k: "-"),
    "user": FieldSpec("const", lambda t, k: "-"),
    "time": FieldSpec("second", lambda t, k: t.time_text(k)),
    "request": FieldSpec("request", lambda t, k: t.request_text(k)),
    "status": FieldSpec("response", lambda t, k: str(k & ((1 << _STATUS_BITS) - 1))),
    "bytes": FieldSpec("response", _bytes_text),
    "referer": FieldSpec("referrer", lambda t, k: t.pools.referrers.values[k]),
    "agent": FieldSpec("agent", lambda t, k: t.pools.population.agents[k]),
}


def key_column(key: str, events: Events, tables: Tables) -> np.ndarray:
    """The integer column a key reads from the events."""
    if key == "client":
        return events.client
    if key == "agent":
        return events.agent
    if key == "referrer":
        return events.referrer
    if key == "request":
        return tables.request_key(events)
    if key == "second":
        return events.t_ms // 1000
    if key == "response":
        return (events.size << _STATUS_BITS) | events.status.astype(np.int64)
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
    pool: np.ndarray | None = None  # object array, for pooled keys

    def text(self, tables: Tables, key_value: int) -> str:
        return "".join(item if isinstance(item, str) else item.text(tables, key_value) for item in self.items)


class LineRenderer:
    """Events -> bytes for one line format; pools pre-joined once, chunks joined once."""

    def __init__(self, template: jinja2.Template, pools: Pools, tz_seconds: int):
        self.template = template
        self.tables = Tables(pools, tz_seconds)
        self.segments = self._segments(layout(template))
        for segment in self.segments:
            if segment.key in ("client", "agent", "referrer", "request"):
                n = self.tables.key_count(segment.key)
                segment.pool = _strings([segment.text(self.tables, k) for k in range(n)])

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
            return segment.pool[values]
        if segment.key == "second":
            lo, hi = int(values[0]), int(values[-1])
            if hi - lo < 4 * len(values) + 64:  # events are in time order: a dense range
                pool = _strings([segment.text(self.tables, s) for s in range(lo, hi + 1)])
                return pool[values - lo]
        unique, inverse = np.unique(values, return_inverse=True)
        return _strings([segment.text(self.tables, int(k)) for k in unique])[inverse]

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
