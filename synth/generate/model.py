"""Events for any stretch of the run: sessions drawn block by block, merged in time order.

Time is cut into fixed blocks (aligned to the epoch); each block's sessions are drawn from
their own ``SeedSequence`` child keyed by the block's number, so the requests that fall in a
given second are the same whichever file, shard or worker asks for them. Sessions spill into
the following blocks (never by more than ``SESSION_CAP_MS``); the spill is carried forward
and merged, and a stretch starting at ``t0`` replays the blocks of the cap before it.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from faker import Faker

from synth.generate.anomalies import ALL_CARRIED, Kind, Window, make_effects
from synth.generate.pools import GET, Pools
from synth.generate.rates import RateModel, Rhythm
from synth.generate.scenario import Scenario
from synth.generate.traffic import (
    SESSION_CAP_MS,
    Events,
    draw_crawls,
    draw_periodic,
    draw_scans,
    draw_visits,
    joined_column,
    reshape,
    response_times,
)

# Keys of the run's independent random streams: SeedSequence(seed, spawn_key=(KEY, ...)).
POOLS_STREAM, PLACEMENT_STREAM, CALIBRATION_STREAM, BLOCK_STREAM, ANOMALY_STREAM, TIMING_STREAM, SHAPE_STREAM = range(7)
# Blocks before the epoch (the sessions a range that starts in 1970's first hour replays) are
# keyed under a stream of their own: a spawn key holds no negative number.
BEFORE_EPOCH_STREAM = 7

BLOCK_CHOICES = (10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600)
EVENTS_PER_BLOCK = 40_000
# A site so quiet that an hour holds fewer than this many requests is drawn a week at a time:
# a block costs about a millisecond to draw however few requests it holds, so a year of hours
# would cost seconds for no lines. (Busier sites keep the hour; their bytes never changed.)
QUIET_HOUR_REQUESTS = 100
QUIET_BLOCK_S = 7 * 86400


def seed_stream(seed: int, *key: int) -> np.random.Generator:
    """The generator of one independent stream of the run."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def block_stream(seed: int, stream: int, b: int) -> np.random.Generator:
    """The generator of block ``b``'s part of ``stream``."""
    return seed_stream(seed, stream, b) if b >= 0 else seed_stream(seed, BEFORE_EPOCH_STREAM, stream, -b)


def block_seconds(rate: float) -> int:
    """The longest block that holds about EVENTS_PER_BLOCK requests at ``rate``: big enough for
    numpy to work in bulk, small enough to keep memory flat."""
    if rate * 3600 < QUIET_HOUR_REQUESTS:
        return QUIET_BLOCK_S
    fitting = [b for b in BLOCK_CHOICES if b * rate <= EVENTS_PER_BLOCK]
    return max(fitting) if fitting else BLOCK_CHOICES[0]


@dataclass(frozen=True)
class Mix:
    """Requests per second from each source, requests per session of each, and what the
    normal traffic looks like (status shares, median response) as measured on a sample."""

    human: float
    crawl: float
    scan: float
    periodic: float
    per_visit: float
    per_crawl: float
    per_scan: float
    status_shares: dict[int, float]
    median_size: float


def time_order(t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stable argsort of ``t_ms`` (equal times in index order), and the times in that order.

    Time and index are packed into one int64 key and the keys sorted by value, which costs a
    fraction of numpy's stable argsort (a timsort over the indices); times too far apart to
    pack fall back to it.
    """
    n = len(t_ms)
    low = int(t_ms.min()) if n else 0
    bits = max(n - 1, 1).bit_length()
    if n and (int(t_ms.max()) - low).bit_length() + bits > 62:
        order = np.argsort(t_ms, kind="stable")
        return order, t_ms.take(order)
    key = np.subtract(t_ms, low, dtype=np.int64)
    key <<= bits
    key |= np.arange(n)
    key.sort()
    order = key & ((1 << bits) - 1)
    key >>= bits  # the key's buffer becomes the sorted times: a large block is not held twice
    key += low
    return order, key


def merge_sorted(pending: Events, new: Events) -> Events:
    """``pending`` (in time order) and ``new`` (any order) as one time-ordered batch; on equal
    times, pending first and each keeps its own order, so the result does not depend on how
    blocks were grouped. Both are used up: their columns are let go as they are merged."""
    both = [pending, new] if len(pending) else [new]
    times = joined_column(both, "t_ms", use_up=True)
    assert times is not None
    order, t_ms = time_order(times)
    del times

    # Column by column into the merged batch, each part's column dropped once it is copied: a
    # spike's block is large, and a second copy of all its columns at once would set the
    # worker's high-water mark.
    def merged(name: str) -> np.ndarray | None:
        joined = joined_column(both, name, use_up=True)
        return None if joined is None else joined.take(order)

    columns: dict[str, Any] = {f.name: merged(f.name) for f in fields(Events) if f.name != "t_ms"}
    return Events(t_ms=t_ms, **columns)


class TrafficModel:
    """Everything fixed for the run (pools, rates, anomaly effects); draws the events of any block."""

    def __init__(self, scenario: Scenario, start: int, end: int, seed: int, pools: Pools,
                 windows: list[Window], timing: bool = False, carries: frozenset[str] | None = None):
        self.scenario, self.start, self.end, self.seed, self.pools = scenario, start, end, seed, pools
        # What the run's lines tell (anomalies.CARRIED): the labels name only jobs that can see them.
        self.carries = ALL_CARRIED if carries is None else carries
        # Response times come from a stream of their own, drawn only for formats that write
        # them, so the same run in combined and in combined_timing has the same requests.
        self.timing = timing
        self.windows = windows
        self.block_s = block_seconds(scenario.rate)
        # Human visits are drawn per minute (per hour in a quiet site's week-long blocks).
        self.human_step = 3600 if self.block_s == QUIET_BLOCK_S else 60
        self.reshaping = scenario.shape.methods is not None or scenario.shape.statuses is not None
        self.mix = self._calibrate(scenario, pools, seed)
        pop = pools.population
        weekly = None if scenario.shape.weekly is None else np.array(scenario.shape.weekly, np.float64)
        rhythm = Rhythm(pop.group_offsets, pop.group_shares, scenario.weekend, scenario.daily_curve, weekly,
                        None if scenario.zone.fixed else scenario.zone)
        self.rates = RateModel(start, end, rhythm, self.mix.human, self.mix.crawl + self.mix.scan,
                               self.mix.periodic)
        self._group_means = self.rates.group_means()
        # Anomalies make what they need (clients, agents, URLs) once, from their own stream;
        # the pools grow, so the line renderer must be built after this.
        self.effects = make_effects(windows)
        rng = seed_stream(seed, ANOMALY_STREAM)
        fake = Faker("en_US")
        fake.seed_instance(int(rng.integers(2**63)))
        for effect in self.effects:
            effect.setup(self, fake, rng)
        self._late: list[Kind] = []

    def add_windows(self, windows: list[Window]) -> list[Kind]:
        """Windows placed after the model was built: a live stream places its spikes as it
        reaches them. A block drawn before a window is added does not see it. Kinds that make
        clients, agents or URLs in ``setup`` must be known before the line renderer is built,
        so only kinds that make nothing (spike, dip) can come late."""
        effects = make_effects(windows)
        for effect in effects:
            if type(effect).setup is not Kind.setup:
                raise ValueError(f"{effect.window.kind} windows must be known when the model is built")
        self.windows = self.windows + windows
        self.effects = self.effects + effects
        self._late += effects
        return effects

    def retire_windows(self, before: int) -> None:
        """Forget late windows (``add_windows``) that ended before second ``before``, so that a
        stream that never ends does not carry every window it ever had; a spike draws nothing
        outside its window, so no block from ``before`` on changes."""
        gone = [e for e in self._late if e.window.end < before and e.window.kind == "spike"]
        if gone:
            self._late = [e for e in self._late if e not in gone]
            self.effects = [e for e in self.effects if e not in gone]
            self.windows = [e.window for e in self.effects]

    @staticmethod
    def _calibrate(scenario: Scenario, pools: Pools, seed: int) -> Mix:
        """Split the scenario's rate between sources; measure each source's requests per session."""
        rng = seed_stream(seed, CALIBRATION_STREAM)
        pop = pools.population
        sample = 20_000
        zeros = np.zeros(sample, np.int64)
        # Visitors as traffic picks them, by activity: frequent ones revalidate from their cache,
        # so the requests a visit makes depend on who makes it.
        visits = draw_visits(rng, pools, zeros, pop.pick_visitors(rng, zeros))
        crawls = draw_crawls(rng, pools, zeros)
        scans = draw_scans(rng, pools, zeros, pop.scanner_clients)
        polls = draw_periodic(rng, pools, 0, 86_400_000)
        if scenario.shape.methods is not None or scenario.shape.statuses is not None:
            # The status shares anomalies measure against (error_burst) are those of the fitted mix.
            mixed = seed_stream(seed, SHAPE_STREAM)
            visits, crawls, scans = (reshape(mixed, pools, e, scenario.shape) for e in (visits, crawls, scans))
            if scenario.shape.bots is None:
                polls = reshape(mixed, pools, polls, scenario.shape)
        bots = scenario.rate * scenario.bot_share
        periodic = sum(1 / p for _, p in pop.feed_clients) + sum(1 / p for _, _, p in pop.monitor_clients)
        kinds = dict(scenario.shape.bots or ())
        if scenario.shape.bots is None and periodic > 0.5 * bots:  # a site this quiet has no monitors
            periodic = 0.0                                          # or feed readers to speak of
        if scenario.shape.bots is not None:
            scan = kinds.get("scanner", 0.0) * bots
            periodic = min(periodic, bots - scan)  # the pools sized feeds and monitors to their shares
        else:
            scan = (0.05 if scenario.shape.scanner_share is None else scenario.shape.scanner_share) * bots
        rates = {"human": scenario.rate - bots, "crawl": max(bots - scan - periodic, 0.0), "scan": scan, "periodic": periodic}
        shares: dict[int, float] = {}
        for source, sample_events in (("human", visits), ("crawl", crawls), ("scan", scans), ("periodic", polls)):
            if len(sample_events) and rates[source] > 0:
                codes, counts = np.unique(sample_events.status, return_counts=True)
                for code, count in zip(codes.tolist(), counts.tolist()):
                    shares[code] = shares.get(code, 0.0) + rates[source] / scenario.rate * count / len(sample_events)
        served = pools.site.size[visits.target[(visits.status == 200) & (visits.method == GET)]]
        return Mix(human=rates["human"], crawl=rates["crawl"], scan=scan, periodic=periodic,
                   per_visit=len(visits) / sample, per_crawl=len(crawls) / sample, per_scan=len(scans) / sample,
                   status_shares=shares, median_size=float(np.median(served)) if len(served) else 1000.0)

    # -- expected rates (ground truth and anomaly effects) ------------------------------------
    def expected_human(self, t0: int, t1: int) -> np.ndarray:
        return self.rates.human_total(t0, t1)

    def expected_total(self, t0: int, t1: int) -> np.ndarray:
        return self.rates.total(t0, t1)

    def expected_count(self, t0: int, t1: int) -> float:
        """Expected normal requests in seconds [t0, t1) (``expected_total(t0, t1).sum()``, at
        the cost of a sample a minute: for planning files over ranges of any length)."""
        return self.rates.expected_count(t0, t1)

    def expected_visits(self, t0: int, t1: int) -> float:
        return float(self.expected_human(t0, t1).sum()) / self.mix.per_visit

    def load(self, seconds: np.ndarray) -> np.ndarray:
        """Expected requests at these seconds (anomalies' extra traffic included) over the mean."""
        lo, hi = int(seconds.min()), int(seconds.max()) + 1
        expected = self.expected_total(lo, hi)
        for effect in self.effects:
            w = effect.window
            a, z = max(lo, w.start), min(hi, w.end)
            if z > a:
                expected[a - lo:z - lo] += effect.extra_rate(self, a, z)
        return expected[seconds - lo] / self.rates.mean_total()

    def status_share(self, status: int) -> float:
        return self.mix.status_shares.get(status, 0.0)

    def median_size(self) -> float:
        return self.mix.median_size

    def visit_size(self) -> float:
        return self.mix.per_visit

    def mean_response_us(self, t0: int | None = None, t1: int | None = None) -> float:
        """Mean response time of normal traffic: in [t0, t1) when given (its visitors, crawlers and
        scanners, at the load there), else of visits at average load; measured on a sample of
        at least 5,000 requests."""
        rng = seed_stream(self.seed, CALIBRATION_STREAM, 1)
        if t0 is None or t1 is None:
            humans = self.pools.population.group_clients[0]
            sample = draw_visits(rng, self.pools, np.zeros(5_000, np.int64), humans[rng.integers(0, len(humans), 5_000)])
            return float(response_times(rng, self.pools, sample, np.ones(len(sample))).mean())
        mix, pools = self.mix, self.pools
        times, total, count = [], 0.0, 0
        for _ in range(200):
            parts = [self.draw_human(rng, t0, t1),
                     draw_crawls(rng, pools, self._poisson_starts(rng, mix.crawl / mix.per_crawl, t0, t1)),
                     draw_scans(rng, pools, self._poisson_starts(rng, mix.scan / mix.per_scan, t0, t1),
                                pools.population.scanner_clients)]
            if mix.periodic:
                parts.append(draw_periodic(rng, pools, t0 * 1000, t1 * 1000))
            sample = Events.concat(parts)
            sample = sample.take((sample.t_ms >= t0 * 1000) & (sample.t_ms < t1 * 1000))
            if len(sample):
                times.append(response_times(rng, pools, sample, self.load(sample.t_ms // 1000)))
                total += float(times[-1].sum())
                count += len(sample)
            if count >= 5_000:
                break
        return total / count if count else self.mean_response_us()

    def client_rate(self, client: int) -> float:
        """A visitor's mean requests per second over the range (0 for bots and strangers)."""
        pop = self.pools.population
        for g, members in enumerate(pop.group_clients):
            where = np.flatnonzero(members == client)
            if len(where):
                cdf = pop.group_cdf[g]
                i = int(where[0])
                return float(self._group_means[g] * (cdf[i] - (cdf[i - 1] if i else 0.0)))
        return 0.0

    def crawl_rate(self) -> float:
        """Crawler requests per second over the range."""
        return float(self.mix.crawl)

    def busiest_visitor(self) -> int:
        """The most active visitor with an address of their own (not an office's)."""
        pop = self.pools.population
        shared = {a for a, n in collections.Counter(pop.addresses).items() if n > 1}
        best, best_rate = -1, -1.0
        for g, members in enumerate(pop.group_clients):
            p = np.diff(pop.group_cdf[g], prepend=0.0) * self._group_means[g]
            for i in np.argsort(-p, kind="stable").tolist():
                if pop.addresses[int(members[i])] not in shared:
                    if p[i] > best_rate:
                        best, best_rate = int(members[i]), float(p[i])
                    break
        return best

    # -- drawing ------------------------------------------------------------------------------
    def draw_human(self, rng: np.random.Generator, t0: int, t1: int,
                   scale: np.ndarray | None = None) -> Events:
        """Visits starting in seconds [t0, t1), at the normal rate times ``scale`` (per second).

        Rates change slowly, so on whole minutes they are taken per minute (one Poisson draw per
        group and minute, starts spread evenly within it; per hour for a quiet site, whose
        hours hold a few visits each); otherwise per second.
        """
        step = next(s for s in (self.human_step, 60, 1) if t0 % s == 0 and (t1 - t0) % s == 0)
        bins = np.arange(t0, t1, step, dtype=np.int64)
        rates = self.rates.human_at(bins + step // 2) * (step / self.mix.per_visit)
        if scale is not None:
            rates = rates * scale.reshape(-1, step).mean(axis=1)[None, :]
        counts = rng.poisson(rates).ravel()
        # Each visit's group and minute, repeated from the (group, minute) cells (no division).
        groups = len(counts) // max(len(bins), 1)
        group = np.repeat(np.repeat(np.arange(groups), len(bins)), counts)
        start_ms = np.repeat(np.tile(bins * 1000, groups), counts) + rng.integers(0, step * 1000, len(group))
        pop = self.pools.population
        local_hours = (start_ms // 1000 + pop.group_offsets[group]) // 3600 % 24
        return draw_visits(rng, self.pools, start_ms, pop.pick_visitors(rng, group, local_hours))

    def _poisson_starts(self, rng: np.random.Generator, rate: float, t0: int, t1: int) -> np.ndarray:
        n = rng.poisson(rate * (t1 - t0))
        return t0 * 1000 + rng.integers(0, (t1 - t0) * 1000, n)

    def draw_block(self, b: int) -> Events:
        """All requests of the sessions that start in block ``b`` (unsorted; may spill past it)."""
        rng = block_stream(self.seed, BLOCK_STREAM, b)
        b0, b1 = b * self.block_s, (b + 1) * self.block_s
        mix, pools = self.mix, self.pools
        parts = [
            self.draw_human(rng, b0, b1),
            draw_crawls(rng, pools, self._poisson_starts(rng, mix.crawl / mix.per_crawl, b0, b1)),
            draw_scans(rng, pools, self._poisson_starts(rng, mix.scan / mix.per_scan, b0, b1),
                       pools.population.scanner_clients),
        ]
        if mix.periodic:
            parts.append(draw_periodic(rng, pools, b0 * 1000, b1 * 1000))
        if self.reshaping:
            # A fitted method and status mix applies to the site's normal traffic, not to anomalies;
            # with fitted bot kinds, not to feed readers and monitors either (their 304s and HEADs
            # are their own, and synth fit measures the mix without them).
            polls = parts.pop() if mix.periodic and self.scenario.shape.bots is not None else None
            parts = [reshape(block_stream(self.seed, SHAPE_STREAM, b), pools, Events.concat(parts),
                             self.scenario.shape)] + ([] if polls is None else [polls])
        for effect in self.effects:
            extra = effect.extra(self, rng, b0, b1)
            if extra is not None:
                parts.append(extra)
        events = Events.concat(parts, use_up=True)
        if self.timing and len(events):
            events.duration_us = response_times(block_stream(self.seed, TIMING_STREAM, b), pools, events,
                                                self.load(events.t_ms // 1000))
        for effect in self.effects:
            events = effect.transform(self, events, rng)
        if len(events) and int(events.t_ms.min()) < b0 * 1000:
            raise AssertionError(f"block {b} drew a request before its start")  # the merger relies on it
        return events

    def events(self, t0: int, t1: int, before_block: Callable[[int], None] | None = None) -> Iterator[Events]:
        """Requests with times in [t0, t1) seconds, in time order, a block's worth at a time.

        Ties (same millisecond) keep block order, then drawing order, so the order of lines
        never depends on where the stretch starts. ``before_block(b)`` is called before block
        ``b`` is drawn (a live stream adds the windows the block may reach).
        """
        first = (t0 * 1000 - SESSION_CAP_MS) // 1000 // self.block_s
        last = (t1 - 1) // self.block_s
        pending = Events.empty()
        lo, hi = t0 * 1000, t1 * 1000
        for b in range(first, last + 1):
            if before_block is not None:
                before_block(b)
            merged = merge_sorted(pending, self.draw_block(b))
            settled = int(np.searchsorted(merged.t_ms, (b + 1) * self.block_s * 1000))
            # What spills past the block is copied out, and the batch let go before the next
            # block is drawn: a view would keep a spike's whole block alive beside the next.
            pending = merged.take(np.arange(settled, len(merged)))
            a, z = np.searchsorted(merged.t_ms[:settled], [lo, hi])
            if z > a:
                yield merged.take(slice(int(a), int(z)))
            del merged
