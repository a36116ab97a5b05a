"""What ``synth report`` draws: counts per time bucket of a log, and each labelled window's
measured effect. Only counts are kept, never the lines, so memory does not grow with the log.

``collect(batches, truth, bucket="5m", ...)`` counts parsed lines (``Columns``, batch by
batch, as synth.analysis.report reads them) and returns a ``ReportData``:

requests per bucket by status class
    ``classes[b, c]``: lines of bucket ``b`` (``[start_ms + b * bucket_ms, ... + bucket_ms)``)
    whose status is ``1xx`` .. ``5xx``, or ``other`` (no status, or outside 100-599).
per-status counts
    ``statuses[code][b]`` for every status code seen.
for the clients a window names (scan, flood and bytes windows' ``affected.values``)
    ``client_requests``, ``client_bytes`` and ``client_urls`` (distinct request targets), one
    column per labelled client; ``other_requests``, ``other_bytes`` and ``other_urls`` are the
    highest value of any other client in the bucket (the busiest other client).
``clients[b]``, ``new_clients[b]``
    Distinct clients in the bucket, and clients whose first line in the whole log is in it.
``new_agent_requests[b]``
    Lines whose user agent's first line in the whole log is less than ``NEW_FOR_MS`` (a day)
    earlier. An agent first seen in the log's first day does not count: everything is new then.
``response_us[b, q]``
    Response time percentiles (``QUANTILES``: 50, 95, 99; linear interpolation) over the
    bucket's lines that carry one (formats with ``%D``); NaN in buckets without.

Distinct counts, maxima and percentiles are worked out when a bucket is closed, which is when
the lines have moved ``CLOSE_LAG`` buckets past it; lines that come later than that (a log
out of time order) are counted in ``late``, and for their buckets those figures are only
approximate (distinct counts add up, maxima take the larger). Every count is exact.

Each window's effect is measured exactly from the lines whose time falls in it, with the
metric of its kind (``MEASURES``), and over the same span a day before (a day after when the
day before is outside the log) for comparison.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.escape import apache_escape

BUCKETS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000}
MAX_AUTO_BUCKETS = 2500
CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "other")
QUANTILES = (0.5, 0.95, 0.99)
NEW_FOR_MS = 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
CLOSE_LAG = 1
CLIENT_KINDS = ("scan", "flood", "bytes")
# The columns beyond time and status that each kind's panel and measure read; a report reads
# only what its kinds need, so a log with a spike alone is read for its times and statuses.
NEEDS = {"spike": set(), "dip": set(), "error_burst": set(), "scan": {"client", "target"}, "flood": {"client"},
         "crowd": {"client"}, "bytes": {"client", "bytes"}, "new_agent": {"agent"}, "latency": {"duration_us"}}
ALL_NEEDS = frozenset({"client", "target", "agent", "bytes", "duration_us"})


def needs_of(truth: dict[str, Any] | None) -> frozenset[str]:
    """The optional columns that the windows of ``truth`` need read."""
    kinds = {w["kind"] for w in (truth or {}).get("anomalies", [])}
    return frozenset(set().union(*(NEEDS.get(k, ALL_NEEDS) for k in kinds)))

# What each kind's window is measured by: the metric its ML job watches, over the window.
MEASURES = {
    "spike": "requests in the window",
    "dip": "requests in the window",
    "error_burst": "requests answered with the status in the window",
    "scan": "distinct request targets per labelled client in the window",
    "flood": "requests from the labelled client in the window",
    "crowd": "distinct clients in the window",
    "bytes": "response bytes to the labelled client in the window",
    "new_agent": "requests with the labelled user agent in the window",
    "latency": "mean response time in the window (microseconds)",
}


class ReportDataError(ValueError):
    """Input that cannot be reported on; the message names the file and what is wrong."""


def auto_bucket(span_ms: int) -> str:
    """The smallest bucket that keeps the whole range within MAX_AUTO_BUCKETS buckets."""
    for name, ms in BUCKETS.items():
        if span_ms / ms <= MAX_AUTO_BUCKETS:
            return name
    return "1h"


@dataclass
class Columns:
    """One batch of parsed lines: times in epoch ms, text values as the line writes them
    (bytes, still escaped), ``status``, ``bytes`` and ``duration_us`` -1 where the line has none."""

    t_ms: np.ndarray
    status: np.ndarray
    lines: int  # lines read, parsed or not
    unparsed: int
    first_unparsed: str | None = None
    # None where not read (see NEEDS)
    client: np.ndarray | None = None
    target: np.ndarray | None = None
    bytes: np.ndarray | None = None
    agent: np.ndarray | None = None
    duration_us: np.ndarray | None = None


@dataclass
class Span:
    """A stretch of time whose lines are measured exactly: a window, or its day-before twin."""

    start_ms: int
    end_ms: int
    requests: int = 0
    status: int = 0
    duration_sum: float = 0.0
    duration_count: int = 0
    client_requests: int = 0
    client_bytes: int = 0
    agent_requests: int = 0
    targets: dict[int, set[int]] = field(default_factory=dict)  # labelled client id -> target hashes
    clients: set[int] = field(default_factory=set)
    new_clients: int = 0


@dataclass
class WindowFigures:
    """A labelled window as the truth gives it, with its measured effect."""

    truth: dict[str, Any]
    measure: str
    measured: float | None
    compare: float | None
    compare_label: str | None
    share: float | None = None  # error_burst: the status's share of the window's requests
    compare_share: float | None = None
    new_clients: int | None = None  # crowd: clients first seen in the window

    @property
    def id(self) -> str:
        return str(self.truth["id"])

    @property
    def kind(self) -> str:
        return str(self.truth["kind"])

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "start": self.truth.get("start"), "end": self.truth.get("end"),
                "start_ms": self.truth["start_ms"], "end_ms": self.truth["end_ms"],
                "magnitude": self.truth.get("magnitude"), "expected": self.truth.get("expected", {}),
                "measure": self.measure, "measured": self.measured, "compare": self.compare,
                "compare_label": self.compare_label, "share": self.share, "compare_share": self.compare_share,
                "new_clients": self.new_clients}


@dataclass
class ReportData:
    """Everything the report draws, as counts per bucket and per window."""

    files: list[str]
    run: dict[str, Any] | None  # the manifest, for a run folder
    truth: dict[str, Any] | None
    bucket: str
    bucket_ms: int
    start_ms: int  # the first bucket's start
    end_ms: int  # the end of the range: the run's, or the last line's time
    lines: int
    unparsed: int
    first_unparsed: str | None
    late: int
    classes: np.ndarray  # [buckets, len(CLASSES)]
    statuses: dict[int, np.ndarray]
    labelled_clients: list[str]
    client_requests: np.ndarray  # [buckets, len(labelled_clients)]
    client_bytes: np.ndarray
    client_urls: np.ndarray
    other_requests: np.ndarray  # [buckets]
    other_bytes: np.ndarray
    other_urls: np.ndarray
    clients: np.ndarray
    new_clients: np.ndarray
    new_agent_requests: np.ndarray
    response_us: np.ndarray  # [buckets, len(QUANTILES)], NaN where no line has a response time
    windows: list[WindowFigures]

    @property
    def buckets(self) -> int:
        return len(self.classes)

    @property
    def requests(self) -> np.ndarray:
        return self.classes.sum(axis=1)

    @property
    def times_ms(self) -> np.ndarray:
        return self.start_ms + self.bucket_ms * np.arange(self.buckets, dtype=np.int64)

    @property
    def kinds(self) -> list[str]:
        """The kinds of the labelled windows, in the order they first occur."""
        return list(dict.fromkeys(w.kind for w in self.windows))


# --- reading a run folder ------------------------------------------------------------------


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportDataError(f"{path}: no such file") from None
    except (OSError, ValueError) as e:
        raise ReportDataError(f"{path}: not a readable {what} ({e})") from None


def check_truth(truth: Any, source: str) -> dict[str, Any]:
    """The content of an anomalies.json, checked for the keys the report uses."""
    if not isinstance(truth, dict) or not isinstance(truth.get("anomalies"), list):
        raise ReportDataError(f"{source}: expected {{\"anomalies\": [...]}} as synth generate writes it")
    for i, window in enumerate(truth["anomalies"]):
        if not isinstance(window, dict):
            raise ReportDataError(f"{source}: anomalies[{i}] is not an object")
        missing = [k for k in ("id", "kind", "start_ms", "end_ms") if k not in window]
        if missing:
            raise ReportDataError(f"{source}: anomalies[{i}] lacks {', '.join(missing)}")
    return truth


# --- accumulating ---------------------------------------------------------------------------


def as_written(value: Any) -> bytes:
    """A value of anomalies.json as a log line holds it: Apache-escaped bytes."""
    return apache_escape(str(value)).encode("utf-8")


class _Interner:
    """Distinct values get ids 0, 1, 2 ... in order of first sight."""

    def __init__(self, first: Iterable[bytes] = ()):
        self.ids: dict[bytes, int] = {}
        for value in first:
            self.ids.setdefault(value, len(self.ids))

    def add(self, values: np.ndarray) -> np.ndarray:
        ids = self.ids
        for value in dict.fromkeys(values.tolist()):
            if value not in ids:
                ids[value] = len(ids)
        return np.fromiter(map(ids.__getitem__, values.tolist()), np.int64, count=len(values))

    def __len__(self) -> int:
        return len(self.ids)


class _Chunks:
    """Per-bucket values of closed buckets, as (bucket, values) pieces joined at the end."""

    def __init__(self, width: int | None = None, dtype: Any = np.int64):
        self.width, self.dtype = width, dtype
        self.keys: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def add(self, k: np.ndarray, values: np.ndarray) -> None:
        if len(k):
            self.keys.append(k)
            self.values.append(values)

    def grid(self, k0: int, n: int, how: str = "sum", fill: float = 0) -> np.ndarray:
        shape = (n,) if self.width is None else (n, self.width)
        out = np.full(shape, fill, self.dtype)
        if not self.keys:
            return out
        k, values = np.concatenate(self.keys) - k0, np.concatenate(self.values)
        keep = (k >= 0) & (k < n)
        k, values = k[keep], values[keep]
        if how == "sum":
            np.add.at(out, k, values)
        elif how == "max":
            np.maximum.at(out, k, values)
        else:  # "last": percentiles; a bucket seen twice (late lines) keeps its last figures
            out[k] = values
        return out


def _window_spans(window: dict[str, Any], lo_ms: int, hi_ms: int) -> tuple[Span, Span | None, str | None]:
    start, end = int(window["start_ms"]), int(window["end_ms"])
    if start - DAY_MS >= lo_ms:
        return Span(start, end), Span(start - DAY_MS, end - DAY_MS), "a day before"
    if end + DAY_MS <= hi_ms:
        return Span(start, end), Span(start + DAY_MS, end + DAY_MS), "a day after"
    return Span(start, end), None, None


class Collector:
    """Counts per bucket and per window, fed batch by batch (see the module docstring)."""

    def __init__(self, truth: dict[str, Any] | None, bucket_ms: int, range_ms: tuple[int, int] | None = None,
                 needs: frozenset[str] | None = None):
        self.bucket_ms = bucket_ms
        self.needs = needs_of(truth) if needs is None else needs
        self.range_ms = range_ms
        self.windows = list((truth or {}).get("anomalies", []))
        labelled = [str(v) for w in self.windows if w["kind"] in CLIENT_KINDS
                    for v in (w.get("affected") or {}).get("values", [])]
        self.labelled = list(dict.fromkeys(labelled))
        self.clients = _Interner(map(as_written, self.labelled))
        agents = [str(v) for w in self.windows if w["kind"] == "new_agent"
                  for v in (w.get("affected") or {}).get("values", [])]
        self.agents = _Interner(map(as_written, agents))
        self.client_first = np.zeros(0, np.int64)
        self.agent_first = np.zeros(0, np.int64)
        self.lines = self.unparsed = self.late = 0
        self.first_unparsed: str | None = None
        self.t_min: int | None = None
        self.t_max: int | None = None
        self.closed_below: int | None = None  # buckets below this have been closed
        self.pending: dict[str, np.ndarray] | None = None
        n_labelled = len(self.labelled)
        self.c_classes = _Chunks(len(CLASSES))
        self.c_status: dict[int, _Chunks] = {}
        self.c_client_requests = _Chunks(n_labelled)
        self.c_client_bytes = _Chunks(n_labelled)
        self.c_client_urls = _Chunks(n_labelled)
        self.c_other_requests, self.c_other_bytes, self.c_other_urls = _Chunks(), _Chunks(), _Chunks()
        self.c_clients, self.c_new_agents = _Chunks(), _Chunks()
        self.c_response = _Chunks(len(QUANTILES), np.float64)
        self.spans: list[tuple[Span, Span | None, str | None]] = []

    # -- one batch

    def add(self, batch: Columns) -> None:
        self.lines += batch.lines
        self.unparsed += batch.unparsed
        if self.first_unparsed is None and batch.first_unparsed is not None:
            self.first_unparsed = batch.first_unparsed
        t = batch.t_ms.astype(np.int64, copy=False)
        if len(t) == 0:
            return
        if self.t_min is None:
            lo, hi = self.range_ms or (int(t.min()), int(t.max()) + 1)
            self.spans = [_window_spans(w, lo, hi) for w in self.windows]
        self.t_min = int(t.min()) if self.t_min is None else min(self.t_min, int(t.min()))
        self.t_max = int(t.max()) if self.t_max is None else max(self.t_max, int(t.max()))
        k = t // self.bucket_ms
        n = len(t)
        zeros = np.zeros(n, np.int64)
        status = batch.status.astype(np.int64, copy=False)
        self._count(k, status)
        client = agent = target = size = zeros
        duration = np.full(n, -1, np.int64)
        if "client" in self.needs and batch.client is not None:
            client = self.clients.add(batch.client)
            self.client_first = _first_seen(self.client_first, client, t, len(self.clients))
        if "agent" in self.needs and batch.agent is not None:
            agent = self.agents.add(batch.agent)
            self.agent_first = _first_seen(self.agent_first, agent, t, len(self.agents))
        if "target" in self.needs and batch.target is not None:
            target = np.fromiter(map(hash, batch.target.tolist()), np.int64, count=n)
        if "bytes" in self.needs and batch.bytes is not None:
            size = batch.bytes.astype(np.int64, copy=False)
        if "duration_us" in self.needs and batch.duration_us is not None:
            duration = batch.duration_us.astype(np.int64, copy=False)
        columns = {"k": k, "t": t, "client": client, "agent": agent, "target": target, "bytes": size,
                   "duration": duration, "status": status}
        self._measure(columns)
        if self.pending is not None:
            columns = {name: np.concatenate([self.pending[name], columns[name]]) for name in columns}
        upto = int(k.max()) - CLOSE_LAG + 1
        closing = columns["k"] < upto
        self._close({name: col[closing] for name, col in columns.items()})
        self.pending = {name: col[~closing] for name, col in columns.items()}
        self.closed_below = upto if self.closed_below is None else max(self.closed_below, upto)

    def _count(self, k: np.ndarray, status: np.ndarray) -> None:
        """Exact, mergeable counts: requests by status class and by status code."""
        k0 = int(k.min())
        rel = k - k0
        n = int(rel.max()) + 1
        cls = np.where((status >= 100) & (status < 600), status // 100 - 1, len(CLASSES) - 1)
        counts = np.bincount(rel * len(CLASSES) + cls, minlength=n * len(CLASSES)).reshape(n, len(CLASSES))
        used = counts.any(axis=1)
        self.c_classes.add(np.flatnonzero(used) + k0, counts[used])
        codes, inverse = np.unique(status, return_inverse=True)
        for i, code in enumerate(codes.tolist()):
            per = np.bincount(rel[inverse == i], minlength=n)
            nz = np.flatnonzero(per)
            self.c_status.setdefault(int(code), _Chunks()).add(nz + k0, per[nz])

    def _close(self, c: dict[str, np.ndarray]) -> None:
        """Distinct counts, busiest clients and percentiles of whole buckets."""
        if len(c["k"]) == 0:
            return
        if self.closed_below is not None:
            self.late += int(np.count_nonzero(c["k"] < self.closed_below))
        k0 = int(c["k"].min())
        rel = c["k"] - k0
        if "client" in self.needs:
            self._close_clients(rel, k0, c)
        if "agent" in self.needs:
            # requests of agents first seen less than NEW_FOR_MS earlier, not in the log's first day
            born = self.agent_first[c["agent"]]
            new = (c["t"] - born < NEW_FOR_MS) & (born >= (self.t_min or 0) + NEW_FOR_MS)
            per = np.bincount(rel[new], minlength=int(rel.max()) + 1)
            nz = np.flatnonzero(per)
            self.c_new_agents.add(nz + k0, per[nz])
        timed = c["duration"] >= 0
        if timed.any():
            self._percentiles(rel[timed], c["duration"][timed], k0)

    def _close_clients(self, rel: np.ndarray, k0: int, c: dict[str, np.ndarray]) -> None:
        """Per bucket: distinct clients, the busiest other client and the labelled clients."""
        n_labelled = len(self.labelled)
        pair, inverse = np.unique((rel << 32) | c["client"], return_inverse=True)
        pair_k, pair_client = pair >> 32, pair & 0xFFFFFFFF
        requests = np.bincount(inverse)
        sent = np.bincount(inverse, weights=c["bytes"].clip(0)).astype(np.int64)
        order = np.lexsort((c["target"], inverse))
        first = np.ones(len(order), bool)
        first[1:] = (inverse[order][1:] != inverse[order][:-1]) | (c["target"][order][1:] != c["target"][order][:-1])
        urls = np.bincount(inverse[order][first], minlength=len(pair))
        ks, pos = np.unique(pair_k, return_index=True)
        self.c_clients.add(ks + k0, np.diff(np.append(pos, len(pair))))
        other = pair_client >= n_labelled
        for values, chunks in ((requests, self.c_other_requests), (sent, self.c_other_bytes), (urls, self.c_other_urls)):
            best = np.zeros(len(ks), np.int64)
            slot = np.searchsorted(ks, pair_k[other])
            np.maximum.at(best, slot, values[other])
            chunks.add(ks + k0, best)
        if n_labelled:
            mine = ~other
            slot = np.searchsorted(ks, pair_k[mine])
            for values, chunks in ((requests, self.c_client_requests), (sent, self.c_client_bytes),
                                   (urls, self.c_client_urls)):
                grid = np.zeros((len(ks), n_labelled), np.int64)
                grid[slot, pair_client[mine]] = values[mine]
                chunks.add(ks + k0, grid)

    def _percentiles(self, rel: np.ndarray, duration: np.ndarray, k0: int) -> None:
        order = np.lexsort((duration, rel))
        rel, duration = rel[order], duration[order].astype(np.float64)
        ks, starts, counts = np.unique(rel, return_index=True, return_counts=True)
        out = np.empty((len(ks), len(QUANTILES)))
        for j, q in enumerate(QUANTILES):
            pos = q * (counts - 1)
            lo = np.floor(pos).astype(np.int64)
            hi = np.minimum(lo + 1, counts - 1)
            frac = pos - lo
            out[:, j] = duration[starts + lo] * (1 - frac) + duration[starts + hi] * frac
        self.c_response.add(ks + k0, out)

    def _measure(self, c: dict[str, np.ndarray]) -> None:
        """Each window's own figures, from the lines whose time is in it."""
        t = c["t"]
        ordered = bool(np.all(t[1:] >= t[:-1]))
        for window, (span, twin, _) in zip(self.windows, self.spans):
            for s in (span, twin):
                if s is None:
                    continue
                if ordered:
                    a, z = np.searchsorted(t, [s.start_ms, s.end_ms])
                    pick: slice | np.ndarray = slice(int(a), int(z))
                    if z <= a:
                        continue
                else:
                    pick = (t >= s.start_ms) & (t < s.end_ms)
                    if not pick.any():
                        continue
                self._measure_span(window, s, {name: col[pick] for name, col in c.items()})

    def _measure_span(self, window: dict[str, Any], s: Span, c: dict[str, np.ndarray]) -> None:
        kind = window["kind"]
        values = (window.get("affected") or {}).get("values", [])
        s.requests += len(c["t"])
        timed = c["duration"] >= 0
        s.duration_sum += float(c["duration"][timed].sum())
        s.duration_count += int(np.count_nonzero(timed))
        if kind == "error_burst" and values:
            s.status += int(np.count_nonzero(c["status"] == int(values[0])))
        elif kind in CLIENT_KINDS:
            ids = [self.clients.ids[as_written(v)] for v in values]
            mine = np.isin(c["client"], ids)
            s.client_requests += int(np.count_nonzero(mine))
            s.client_bytes += int(c["bytes"][mine].clip(0).sum())
            for i in ids:
                s.targets.setdefault(i, set()).update(c["target"][c["client"] == i].tolist())
        elif kind == "new_agent":
            ids = [self.agents.ids[as_written(v)] for v in values]
            s.agent_requests += int(np.count_nonzero(np.isin(c["agent"], ids)))
        elif kind == "crowd":
            s.clients.update(np.unique(c["client"]).tolist())

    # -- the end

    def finish(self, files: list[str], run: dict[str, Any] | None, truth: dict[str, Any] | None,
               bucket: str) -> ReportData:
        if self.pending is not None:
            self._close(self.pending)
            self.pending = None
        if self.t_min is None or self.t_max is None:
            raise ReportDataError("no line of the logs could be read" +
                                  (f" (first: {self.first_unparsed})" if self.first_unparsed else ""))
        lo, hi = self.range_ms or (self.t_min, self.t_max + 1)
        lo, hi = min(lo, self.t_min), max(hi, self.t_max + 1)
        k0 = lo // self.bucket_ms
        n = -(-hi // self.bucket_ms) - k0
        seen = self.client_first[self.client_first < np.iinfo(np.int64).max]  # labelled clients may be absent
        first_new = np.bincount(seen // self.bucket_ms - k0, minlength=n)[:n]
        for span, twin, _ in self.spans:
            for s in (span, twin):
                if s is not None:
                    s.new_clients = int(np.count_nonzero((self.client_first >= s.start_ms)
                                                          & (self.client_first < s.end_ms)))
        return ReportData(
            files=files, run=run, truth=truth, bucket=bucket, bucket_ms=self.bucket_ms,
            start_ms=k0 * self.bucket_ms, end_ms=hi, lines=self.lines, unparsed=self.unparsed,
            first_unparsed=self.first_unparsed, late=self.late,
            classes=self.c_classes.grid(k0, n),
            statuses={code: chunks.grid(k0, n) for code, chunks in sorted(self.c_status.items())},
            labelled_clients=self.labelled,
            client_requests=self.c_client_requests.grid(k0, n), client_bytes=self.c_client_bytes.grid(k0, n),
            client_urls=self.c_client_urls.grid(k0, n, how="max"),
            other_requests=self.c_other_requests.grid(k0, n, how="max"),
            other_bytes=self.c_other_bytes.grid(k0, n, how="max"),
            other_urls=self.c_other_urls.grid(k0, n, how="max"),
            clients=self.c_clients.grid(k0, n), new_clients=first_new,
            new_agent_requests=self.c_new_agents.grid(k0, n),
            response_us=self.c_response.grid(k0, n, how="last", fill=np.nan),
            windows=[self._figures(w, spans) for w, spans in zip(self.windows, self.spans)],
        )

    def _figures(self, window: dict[str, Any], spans: tuple[Span, Span | None, str | None]) -> WindowFigures:
        span, twin, label = spans
        kind = window["kind"]
        figures = WindowFigures(window, MEASURES.get(kind, "requests in the window"),
                                _measured(kind, span), _measured(kind, twin) if twin else None, label)
        if kind == "error_burst":
            figures.share = span.status / span.requests if span.requests else None
            figures.compare_share = twin.status / twin.requests if twin and twin.requests else None
        if kind == "crowd":
            figures.new_clients = span.new_clients
        return figures


def _measured(kind: str, s: Span) -> float | None:
    if kind == "error_burst":
        return s.status
    if kind == "scan":
        return float(np.mean([len(v) for v in s.targets.values()])) if s.targets else 0
    if kind == "flood":
        return s.client_requests
    if kind == "bytes":
        return s.client_bytes
    if kind == "new_agent":
        return s.agent_requests
    if kind == "crowd":
        return len(s.clients)
    if kind == "latency":
        return s.duration_sum / s.duration_count if s.duration_count else None
    return s.requests


def _first_seen(first: np.ndarray, ids: np.ndarray, t: np.ndarray, size: int) -> np.ndarray:
    """``first[id]``: the earliest time seen for each id, grown to ``size`` ids."""
    if len(first) < size:
        first = np.concatenate([first, np.full(size - len(first), np.iinfo(np.int64).max, np.int64)])
    np.minimum.at(first, ids, t)
    return first


def iso_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def collect(batches: Iterator[Columns], truth: dict[str, Any] | None, bucket: str | None,
            files: list[str], run: dict[str, Any] | None = None,
            range_ms: tuple[int, int] | None = None, needs: frozenset[str] | None = None) -> ReportData:
    """Count ``batches`` into a ReportData. ``bucket`` None picks one from the range (needs
    ``range_ms``, else 5m)."""
    if bucket is None:
        bucket = auto_bucket(range_ms[1] - range_ms[0]) if range_ms else "5m"
    if bucket not in BUCKETS:
        raise ReportDataError(f"bucket must be one of {', '.join(BUCKETS)}, not {bucket!r}")
    collector = Collector(truth, BUCKETS[bucket], range_ms, needs)
    for batch in batches:
        collector.add(batch)
    return collector.finish(files, run, truth, bucket)
