"""A run's combined lines as numpy columns, for tests that read a whole default run (1.25 M lines).

Independent of the generator's code, and as strict as COMBINED_RE: a line without a backslash
has exactly six quotes, so every field sits at a place numpy finds for all lines at once (the
request between the first two quotes, status and size between the second and third, the
referrer and agent in the last two pairs); each place's bytes are checked (the spaces, " - - [",
the time's shape, the digits) and the texts are checked once per distinct value. The few lines
with a backslash (an escaped quote may hide a field's end) go through COMBINED_RE one by one.
Texts are codes into a list of the distinct values, so a test works on integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from helpers import COMBINED_RE, all_bytes, epoch_seconds

from synth.analysis.logtimes import parse_apache_times

NEWLINE, QUOTE, BACKSLASH, SPACE = 10, 34, 92, 32
TEXTS = ("client", "request", "referer", "agent")
CLIENT_CHARS = frozenset(b"0123456789abcdef.:")


@dataclass
class Texts:
    """One text field of every line: ``values[codes[i]]`` is line i's."""

    codes: np.ndarray
    values: list[str]

    def __getitem__(self, line: int) -> str:
        return self.values[self.codes[line]]


@dataclass
class CombinedColumns:
    t: np.ndarray  # UTC epoch seconds
    status: np.ndarray
    size: np.ndarray  # -1 where the line says "-"
    spans: dict[str, tuple[np.ndarray, np.ndarray]]  # per text field: each line's [start, end) in data
    data: bytes = field(repr=False)

    def __len__(self) -> int:
        return len(self.t)

    def _texts(self, name: str) -> Texts:
        data = self.data
        starts, ends = self.spans[name]
        index: dict[bytes, int] = {}
        codes = np.fromiter((index.setdefault(data[s:e], len(index)) for s, e in zip(starts.tolist(), ends.tolist())),
                            np.int64, count=len(starts))
        return Texts(codes, [v.decode("ascii") for v in index])

    @cached_property
    def client(self) -> Texts:
        texts = self._texts("client")
        assert all(v and CLIENT_CHARS.issuperset(v.encode()) for v in texts.values), "a client is not an address"
        return texts

    @cached_property
    def request(self) -> Texts:
        return self._texts("request")

    @cached_property
    def referer(self) -> Texts:
        return self._texts("referer")

    @cached_property
    def agent(self) -> Texts:
        return self._texts("agent")

    @cached_property
    def path(self) -> Texts:
        """The request's target (its second word), as ``request.split(" ")[1]``."""
        requests = self.request
        paths = [r.split(" ")[1] for r in requests.values]
        values = sorted(set(paths))
        index = {p: i for i, p in enumerate(values)}
        return Texts(np.array([index[p] for p in paths], np.int64)[requests.codes], values)

    @classmethod
    def read(cls, out: Path) -> CombinedColumns:
        return cls.parse(all_bytes(out))

    @classmethod
    def parse(cls, data: bytes) -> CombinedColumns:
        b = np.frombuffer(data, np.uint8)
        assert not data or data.endswith(b"\n"), "the last line has no newline"
        ends = np.flatnonzero(b == NEWLINE)
        starts = np.r_[0, ends[:-1] + 1]
        quotes = np.flatnonzero(b == QUOTE)
        slashes = np.flatnonzero(b == BACKSLASH)
        first = np.searchsorted(quotes, starts)
        plain = ((np.searchsorted(quotes, ends) - first == 6)
                 & (np.searchsorted(slashes, ends) == np.searchsorted(slashes, starts)))
        lines = np.flatnonzero(plain)
        q = quotes[first[lines, None] + np.arange(6)].T  # the six quotes of each plain line
        s, e = starts[lines], ends[lines]

        def at(offsets: np.ndarray, text: bytes) -> np.ndarray:
            return np.all([b[offsets + k] == c for k, c in enumerate(text)], axis=0) if len(offsets) else offsets > 0

        digit = lambda offsets: (b[offsets] >= 48) & (b[offsets] <= 57)  # noqa: E731
        shaped = (at(q[0] - 34, b" - - [") & (q[0] - 34 > s) & at(q[0] - 2, b"] ") & at(q[1] + 1, b" ")
                  & (b[q[1] + 2] >= ord("1")) & (b[q[1] + 2] <= ord("5")) & digit(q[1] + 3) & digit(q[1] + 4)
                  & at(q[1] + 5, b" ") & (q[2] - q[1] >= 8) & at(q[2] - 1, b" ") & at(q[3] + 1, b" ")
                  & (q[4] == q[3] + 2) & (q[5] == e - 1))
        assert shaped.all(), f"not a combined line: {data[s[~shaped][0]:e[~shaped][0]]!r}"
        stamps = np.frombuffer(data, "S1")[(q[0] - 28)[:, None] + np.arange(26)].view("S26").ravel()
        times = parse_apache_times(stamps)
        assert times["valid"].all(), "a line's %t is not a time"
        size = _numbers(b, q[1] + 6, q[2] - 1)

        n = len(starts)
        t, status, sizes = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
        t[lines], status[lines], sizes[lines] = times["utc"], _numbers(b, q[1] + 2, q[1] + 5), size
        spans = {name: (np.empty(n, np.int64), np.empty(n, np.int64)) for name in TEXTS}
        for name, (a, z) in zip(TEXTS, [(s, q[0] - 34), (q[0] + 1, q[1]), (q[2] + 1, q[3]), (q[4] + 1, q[5])]):
            spans[name][0][lines], spans[name][1][lines] = a, z
        for i in np.flatnonzero(~plain).tolist():
            m = COMBINED_RE.match(data[starts[i]:ends[i]].decode("ascii"))
            assert m, f"not a combined line: {data[starts[i]:ends[i]]!r}"
            t[i], status[i], sizes[i] = epoch_seconds(m), int(m["status"]), -1 if m["bytes"] == "-" else int(m["bytes"])
            for name in TEXTS:
                spans[name][0][i], spans[name][1][i] = starts[i] + m.start(name), starts[i] + m.end(name)
        return cls(t, status, sizes, spans, data)


def _numbers(b: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The decimal numbers at [starts, ends) (no leading zero), -1 for a lone "-"."""
    width = ends - starts
    dash = (width == 1) & (b[np.minimum(starts, len(b) - 1)] == ord("-"))
    value = np.zeros(len(starts), np.int64)
    ok = (width >= 1) & (width <= 18)
    for k in range(int(width.max(initial=0))):
        inside = k < width
        c = b[np.where(inside, starts + k, 0)].astype(np.int64)
        ok &= ~inside | dash | ((c >= 48) & (c <= 57) & ((k > 0) | (c > 48)))
        value = np.where(inside, value * 10 + c - 48, value)
    assert ok.all(), "a number field holds more than digits (or a leading zero)"
    return np.where(dash, -1, value)
