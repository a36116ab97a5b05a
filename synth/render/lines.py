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

from dataclasses import dataclass
from typing import Any

import jinja2
import numpy as np

from synth.generate.pools import Pools
from synth.generate.traffic import Events
from synth.generate.zone import Zone
from synth.render.fields import (
    PARAMETRIC,
    POOLED_KEYS,
    FieldError,
    Tables,
    field_spec,
    key_column,
    needs_durations,
)
from synth.resources import resource_dir

_MARK = "\x00"
_ARG = "\x01"


class FormatError(ValueError):
    """A template or format that cannot make log lines."""


class _MarkerField(str):
    """A field's marker text; called with an argument (``e.header_in("Referer")``), the marker
    of that field with that argument."""

    def __call__(self, arg: object) -> str:
        return f"{_MARK}{self[1:-1]}{_ARG}{arg}{_MARK}"


class _Marker:
    """Stands in for an event while the template is rendered once to find its layout."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return _MarkerField(f"{_MARK}{name}{_MARK}")


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


def layout(template: jinja2.Template) -> list:
    """The line's layout: literal strings and (field, argument) tuples in order, ending in a newline."""
    text = template.render(events=[_Marker()])
    pieces = text.split(_MARK)
    items: list = []
    for i, piece in enumerate(pieces):
        if i % 2:
            name, _, arg = piece.partition(_ARG)
            item = (name, arg if _ARG in piece else None)
            try:
                field_spec(*item)
            except FieldError as e:
                raise FormatError(str(e)) from None
            items.append(item)
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
        out: Any = None
        for item in self.items:
            part = item if isinstance(item, str) else item.many(tables, keys)
            out = part if out is None else out + part
        return out

    @property
    def fixed(self) -> bool:
        """Whether every field of the segment has one width (its bytes are written by offsets)."""
        return all(isinstance(item, str) or item.fixed is not None for item in self.items)

    def encoded(self, tables: Tables, keys: np.ndarray) -> np.ndarray:
        """The segment's bytes for many key values, an object array of one bytes value each."""
        if not self.fixed:
            return _encoded(self.texts(tables, keys))
        n = len(keys)
        rows = [np.broadcast_to(np.frombuffer(item.encode("utf-8"), np.uint8), (n, len(item.encode("utf-8"))))
                if isinstance(item, str) else item.fixed(tables, keys) for item in self.items]
        matrix = np.ascontiguousarray(np.concatenate(rows, axis=1))
        # Each row as one bytes value (no line holds a NUL byte, so none is lost at a row's end).
        return matrix.view(f"S{matrix.shape[1]}").ravel().astype(object)


def _encoded(texts: np.ndarray) -> np.ndarray:
    """Each distinct text as UTF-8 once, so a chunk is joined straight into bytes: no text of
    the whole chunk is built, then copied again by an encode."""
    out = np.empty(len(texts), dtype=object)
    out[:] = [text.encode("utf-8") for text in texts.tolist()]
    return out


class LineRenderer:
    """Events -> bytes for one line format; pools pre-joined once, chunks joined once."""

    def __init__(self, template: jinja2.Template, pools: Pools, tz: int | str | Zone):
        self.template = template
        self.tables = Tables(pools, tz)
        self.segments = self._segments(layout(template))
        for segment in self.segments:
            if segment.key in POOLED_KEYS:
                n = self.tables.key_count(segment.key)
                segment.pool, segment.filled = np.empty(n, dtype=object), np.zeros(n, bool)

    def _segments(self, items: list) -> list[_Segment]:
        """Group the layout: a segment ends where the next field needs another column."""
        segments: list[_Segment] = []
        lead: list[str] = []
        for item in items:
            if isinstance(item, str):
                (segments[-1].items if segments else lead).append(item)
                continue
            spec = field_spec(*item)
            if spec.key == "const":
                (segments[-1].items if segments else lead).append(spec.text(self.tables, 0))
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
        pool, filled = segment.pool, segment.filled
        if pool is not None and filled is not None:
            # Each value is formatted the first time it appears, then only looked up.
            missing = ~filled[values]
            if missing.any():
                new = np.unique(values[missing])
                pool[new] = segment.encoded(self.tables, new)
                filled[new] = True
            return pool[values]
        if segment.key == "second":
            lo, hi = int(values[0]), int(values[-1])
            if hi - lo < 4 * len(values) + 64:  # events are in time order: a dense range
                return segment.encoded(self.tables, np.arange(lo, hi + 1, dtype=np.int64))[values - lo]
        unique, inverse = np.unique(values, return_inverse=True)
        return segment.encoded(self.tables, unique)[inverse]

    def render(self, events: Events) -> bytes:
        """The lines of ``events`` (in time order) as one block of bytes."""
        n = len(events)
        if n == 0:
            return b""
        k = len(self.segments)
        parts = np.empty(n * k, dtype=object)
        for i, segment in enumerate(self.segments):
            parts[i::k] = self._column(segment, events)
        return b"".join(parts.tolist())

    @property
    def needs_timing(self) -> bool:
        """Whether the format writes response times (the events must carry them)."""
        return needs_timing(layout(self.template))

    def field_values(self, events: Events) -> list[dict[str, str]]:
        """Each event's fields as the text the template receives, by label: the field's name,
        or ``name("argument")`` for fields that take one (for tests and verification)."""
        items = sorted({item for item in layout(self.template) if isinstance(item, tuple)}, key=str)
        columns = {}
        for item in items:
            spec = field_spec(*item)
            if spec.key == "const":
                columns[label(*item)] = [spec.text(self.tables, 0)] * len(events)
            else:
                column = self._column(_Segment(spec.key, [spec]), events)
                columns[label(*item)] = [value.decode("utf-8") for value in column.tolist()]
        return [{name: values[i] for name, values in columns.items()} for i in range(len(events))]

    def render_with_jinja(self, events: Events) -> bytes:
        """The same lines rendered by Jinja2 row by row: slow, and the reference for ``render``."""
        rows = [_Row(values) for values in self.field_values(events)]
        return self.template.render(events=rows).encode("utf-8")


def label(name: str, arg: str | None = None) -> str:
    return name if arg is None else f'{name}("{arg}")'


def needs_timing(items: list) -> bool:
    return any(needs_durations(field_spec(*item)) for item in items if isinstance(item, tuple))


class _Row:
    """An event's field texts, read by a template as ``e.name`` or ``e.name("argument")``."""

    def __init__(self, values: dict[str, str]):
        self._values = values

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in PARAMETRIC:
            return lambda arg: self._values[label(name, arg)]
        return self._values[name]
