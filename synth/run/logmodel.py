"""A user's own log as the traffic model the anomaly kinds draw from and measure against.

``synth.generate.anomalies`` describes each kind once, against a ``Model`` (its pools, expected
rates, a way to draw normal traffic). Here that model is made of a real log instead of a
scenario: the pools hold the log's own clients, agents, paths (with the size each path has in
the log), referrers and statuses; normal traffic is drawn by resampling the log's own lines
of the same clock hours; expected rates are the log's baseline, the same clock window on the
other days of the input.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from synth.analysis.profile import BOT_RE, PAGE, ROBOTS, STATIC, _request_class, _split_request
from synth.escape import apache_unescape
from synth.generate.pools import (
    ASSET,
    DOWNLOAD,
    ERROR_SIZES,
    METHODS,
    PROTOCOLS,
    Pools,
    Population,
    Referrers,
    Site,
)
from synth.generate.pools import PAGE as SITE_PAGE
from synth.generate.pools import ROBOTS as SITE_ROBOTS
from synth.generate.traffic import Events

DAY_S = 86400
_SITE_KIND = {PAGE: SITE_PAGE, STATIC: ASSET, ROBOTS: SITE_ROBOTS}


def _text(value: bytes, json: bool) -> str:
    """A value as the log wrote it, as the text the renderer escapes again."""
    text = value.decode("utf-8", "surrogateescape")
    return text if json or "\\" not in text else apache_unescape(text)


@dataclass
class Sample:
    """Parsed lines of the log (its mix), as ids into the shared pools."""

    t_ms: np.ndarray
    client: np.ndarray
    agent: np.ndarray
    target: np.ndarray
    method: np.ndarray
    proto: np.ndarray
    status: np.ndarray
    referrer: np.ndarray
    size: np.ndarray
    duration_us: np.ndarray | None
    source: np.ndarray  # bit 1: an even thinning of the log (rates, shares); bit 2: a run of whole visits

    def take(self, index: np.ndarray) -> Sample:
        taken: dict[str, Any] = {name: None if value is None else value[index] for name, value in vars(self).items()}
        return Sample(**taken)

    def __len__(self) -> int:
        return len(self.t_ms)


class LogPools:
    """Pools built from the log's own values, in order of first sight; kinds add to them."""

    def __init__(self, host: str, json: bool):
        self.json = json
        self.site = Site(host=host or "localhost")
        self.site.statuses = [200, *ERROR_SIZES]
        self.population = Population()
        self.referrers = Referrers()
        self.pools = Pools(self.site, self.population, self.referrers, versions={})
        self._targets: dict[bytes, int] = {}
        self._clients: dict[bytes, int] = {}
        self._referrers: dict[bytes, int] = {b"-": 0, b"": 0}
        self._sizes: dict[int, Counter] = {}
        self._client_agents: dict[int, Counter] = {}

    def _target(self, value: bytes) -> int:
        if value not in self._targets:
            text = _text(value, self.json)
            self._targets[value] = self.site.add(text, _SITE_KIND.get(_request_class(_split_request("GET " + text)[2]),
                                                                      DOWNLOAD), 0)
        return self._targets[value]

    def _client(self, value: bytes) -> int:
        if value not in self._clients:
            self._clients[value] = self.population.add_client(value.decode("latin-1"), 0)
        return self._clients[value]

    def _referrer(self, value: bytes) -> int:
        if value not in self._referrers:
            self._referrers[value] = self.referrers.add(_text(value, self.json))
        return self._referrers[value]

    def sample(self, columns: dict[str, np.ndarray], source: np.ndarray) -> Sample:
        """The parsed lines of ``columns`` the renderer can write again (methods and protocols
        it knows, a status), as ids."""
        ok = columns["parsed"].copy()
        method = np.array([METHODS.index(m.decode()) if m.decode("latin-1") in METHODS else -1
                           for m in columns["method"]], np.int64) if columns["method"] is not None \
            else np.zeros(len(ok), np.int64)
        proto = np.array([PROTOCOLS.index(p.decode()) if p.decode("latin-1") in PROTOCOLS else -1
                          for p in columns["protocol"]], np.int64) if columns["protocol"] is not None \
            else np.zeros(len(ok), np.int64)
        status = columns["status"] if columns["status"] is not None else np.full(len(ok), 200)
        ok &= (method >= 0) & (proto >= 0) & (status >= 100) & (status < 600)
        if columns["client"] is None or columns["target"] is None:
            ok[:] = False
        rows = np.flatnonzero(ok)
        client = np.array([self._client(columns["client"][i]) for i in rows], np.int32)
        target = np.array([self._target(columns["target"][i]) for i in rows], np.int32)
        agents = columns["agent"]
        agent = np.array([self.population.agent(_text(agents[i], self.json)) if agents is not None else 0
                          for i in rows], np.int32)
        referrers = columns["referrer"]
        referrer = np.array([self._referrer(referrers[i]) if referrers is not None else 0 for i in rows], np.int32)
        size = columns["bytes"][rows] if columns["bytes"] is not None else np.zeros(len(rows), np.int64)
        for c, a in zip(client.tolist(), agent.tolist()):
            self._client_agents.setdefault(c, Counter())[a] += 1
        for t, s, st, m in zip(target.tolist(), size.tolist(), status[rows].tolist(), method[rows].tolist()):
            if st == 200 and m == 0 and s > 0:
                self._sizes.setdefault(t, Counter())[s] += 1
        for st in set(status[rows].tolist()) - set(self.site.statuses):
            self.site.statuses.append(int(st))
        duration = columns["duration_us"][rows] if columns["duration_us"] is not None else None
        return Sample(columns["t_ms"][rows], client, agent, target, method[rows].astype(np.int8),
                      proto[rows].astype(np.int8), status[rows].astype(np.int16), referrer, size, duration,
                      source[rows])

    def finish(self) -> Pools:
        """Each path's size is its most common size in the log; each client's agent its most
        common one; pages are the paths the log has as pages, weighted by their requests."""
        site, pop = self.site, self.population
        if not pop.agents:
            pop.agent("-")
        for target, sizes in self._sizes.items():
            site.size_list[target] = sizes.most_common(1)[0][0]
        pop.client_agent_list = [self._client_agents.get(c, Counter({0: 1})).most_common(1)[0][0]
                                 for c in range(len(pop.addresses))]
        pop.client_proto_list = [0] * len(pop.addresses)
        site.freeze()
        pop.freeze()
        bot = np.array([BOT_RE.search(a) is not None or a in ("-", "") for a in pop.agents], bool)
        humans = np.flatnonzero(~bot[pop.client_agent]).tolist() if len(pop.addresses) else []
        pop.group_clients = [np.array(humans or range(len(pop.addresses)), np.int32)]
        pop.group_cdf = [np.linspace(0, 1, len(pop.group_clients[0]) + 1)[1:]]
        return self.pools

    def set_pages(self, counts: np.ndarray) -> None:
        site = self.site
        pages = np.flatnonzero(site.kind == SITE_PAGE)
        weights = counts[pages].astype(np.float64) if len(counts) >= len(site.kind) else np.ones(len(pages))
        order = np.argsort(-weights, kind="stable")
        site.pages = pages[order].astype(np.int32)
        w = weights[order] + 1e-9
        site.page_cdf = np.cumsum(w) / w.sum() if len(w) else np.zeros(0)
        robots = [i for i, t in enumerate(site.targets) if t == "/robots.txt"]
        site.robots = robots[0] if robots else -1


class LogModel:
    """The Model of synth.generate.anomalies for one window, made of the log."""

    def __init__(self, pools: Pools, sample: Sample, mix_seconds: float, baseline: Baseline,
                 sampled_every: int, carries: frozenset[str]):
        self.pools = pools
        self.carries = carries  # what the log's lines tell, so labels name jobs that can see them
        self.mix = sample.take(np.flatnonzero(sample.source & 1))  # every k-th line: rates and shares
        self.visits = sample.take(np.flatnonzero(sample.source & 2))  # runs of lines: whole visits
        self.mix_seconds = max(mix_seconds, 1.0)
        self.baseline = baseline
        self.every = sampled_every  # the mix holds one line in this many
        self.visitors: float | None = None  # distinct clients in the window on other days, where counted
        self.client_counts: dict[str, float] | None = None  # lines per client there, per day
        self.window_seconds = 1

    # -- expected rates ------------------------------------------------------------------------
    def expected_total(self, t0: int, t1: int) -> np.ndarray:
        return self.baseline.per_second(t0, t1)

    def expected_human(self, t0: int, t1: int) -> np.ndarray:
        return self.expected_total(t0, t1)

    def expected_visits(self, t0: int, t1: int) -> float:
        return float(self.expected_total(t0, t1).sum()) / self.visit_size()

    def status_share(self, status: int) -> float:
        return float(np.mean(self.mix.status == status)) if len(self.mix) else 0.0

    def median_size(self) -> float:
        body = self.mix.size[self.mix.size > 0]
        return float(np.median(body)) if len(body) else 1000.0

    def visit_size(self) -> float:
        """Lines per client and agent at these hours: a visit, as near as a log tells it."""
        v = self.visits
        if not len(v):
            return 1.0
        pairs = v.client.astype(np.int64) * (int(v.agent.max()) + 1) + v.agent
        return float(len(pairs) / len(np.unique(pairs)))

    def mean_response_us(self, t0: int | None = None, t1: int | None = None) -> float:
        """The log's own mean response time (the window is not looked at: the mix is the log's)."""
        d = self.mix.duration_us
        return float(d[d >= 0].mean()) if d is not None and (d >= 0).any() else 0.0

    def measure_clients(self, days: list[list[bytes]], seconds: int) -> None:
        """Count the clients of the window's clock time on other days (one list of client
        fields a day): the crowd's and the flood's baseline, measured rather than estimated."""
        if not days:
            return
        self.visitors = float(np.mean([len(set(day)) for day in days]))
        counts: dict[str, float] = {}
        for day in days:
            for client, n in Counter(day).items():
                key = client.decode("latin-1")
                counts[key] = counts.get(key, 0.0) + n / len(days)
        self.client_counts, self.window_seconds = counts, seconds

    def client_rate(self, client: int) -> float:
        if self.client_counts is not None:
            address = self.pools.population.addresses[client]
            return self.client_counts.get(address, 0.0) / self.window_seconds
        return float(np.count_nonzero(self.mix.client == client)) * self.every / self.mix_seconds

    def crawl_rate(self) -> float:
        """A log's crawlers are not modelled apart: a flood's pace comes from its clients' rates."""
        return 0.0

    def busiest_visitor(self) -> int:
        humans = self.pools.population.group_clients[0]
        if self.client_counts:
            pop = self.pools.population
            index = {a: i for i, a in enumerate(pop.addresses)}
            known = [(n, index[a]) for a, n in self.client_counts.items() if a in index]
            human = set(humans.tolist())
            ranked = sorted((item for item in known if item[1] in human), reverse=True) or sorted(known, reverse=True)
            if ranked:
                return int(ranked[0][1])
        counts = np.bincount(self.mix.client, minlength=len(self.pools.population.addresses))
        return int(humans[int(np.argmax(counts[humans]))]) if len(humans) else int(np.argmax(counts))

    # -- drawing -------------------------------------------------------------------------------
    def draw_human(self, rng: np.random.Generator, t0: int, t1: int, scale: np.ndarray | None = None) -> Events:
        """Lines of the log's own mix at these hours, resampled: at the baseline rate times
        ``scale``, each a copy of a real line (client, agent, request, status, referrer) at a new time."""
        rates = self.expected_total(t0, t1) * (1.0 if scale is None else scale)
        counts = rng.poisson(rates)
        seconds = np.repeat(np.arange(t0, t1, dtype=np.int64), counts)
        t_ms = np.sort(seconds * 1000 + rng.integers(0, 1000, len(seconds)))
        rows = rng.integers(0, len(self.mix), len(t_ms)) if len(self.mix) else np.zeros(0, np.int64)
        m = self.mix
        return Events(t_ms=t_ms, client=m.client[rows], agent=m.agent[rows], target=m.target[rows],
                      method=m.method[rows], proto=m.proto[rows], status=m.status[rows], referrer=m.referrer[rows])

    def durations(self, rng: np.random.Generator, events: Events) -> np.ndarray:
        """Response times for added lines: each that of a random line of the mix for the same
        target where the mix has one, else of any line of the mix."""
        d = self.mix.duration_us
        if d is None or not len(d):
            return np.zeros(len(events), np.int64)
        out = d[rng.integers(0, len(d), len(events))].copy()
        order = np.argsort(self.mix.target, kind="stable")
        targets = self.mix.target[order]
        lo = np.searchsorted(targets, events.target, "left")
        hi = np.searchsorted(targets, events.target, "right")
        has = hi > lo
        pick = lo[has] + (rng.random(int(has.sum())) * (hi[has] - lo[has])).astype(np.int64)
        out[has] = d[order[pick]]
        return np.maximum(out, 0)


class Baseline:
    """Expected lines per second at any time of the log: the mean of the same clock seconds'
    minute on the other days of the input that hold no anomaly window. Where the input has no
    such other day, the log's mean rate outside the windows."""

    def __init__(self, times_ms: np.ndarray, start: int, end: int, windows: list[tuple[int, int]]):
        self.t = np.sort(times_ms) // 1000
        self.start, self.end, self.windows = start, end, windows
        outside = end - start - sum(w1 - w0 for w0, w1 in windows)
        inside = sum(int(np.searchsorted(self.t, w1) - np.searchsorted(self.t, w0)) for w0, w1 in windows)
        self.mean_rate = (len(self.t) - inside) / max(outside, 1)

    def days(self, t0: int, t1: int) -> list[int]:
        """Shifts (whole days, not 0) whose [t0, t1) lies in the input and clear of every window."""
        out = []
        for k in range(-((t0 - self.start) // DAY_S) - 1, (self.end - t1) // DAY_S + 2):
            a, b = t0 + k * DAY_S, t1 + k * DAY_S
            if k and a >= self.start and b <= self.end and not any(a < w1 and w0 < b for w0, w1 in self.windows):
                out.append(k)
        return out

    def count(self, t0: int, t1: int) -> float:
        """Expected lines in [t0, t1)."""
        days = self.days(t0, t1)
        if not days:
            return self.mean_rate * (t1 - t0)
        return float(np.mean([np.searchsorted(self.t, t1 + k * DAY_S) - np.searchsorted(self.t, t0 + k * DAY_S)
                              for k in days]))

    def per_second(self, t0: int, t1: int) -> np.ndarray:
        """Expected lines per second over [t0, t1), minute by minute."""
        out = np.zeros(t1 - t0)
        for a in range(t0, t1, 60):
            b = min(a + 60, t1)
            out[a - t0:b - t0] = self.count(a, b) / (b - a)
        return out
