"""Expected requests per second: baseline x a daily curve x a weekly curve, per audience group.

Visitors live in time zones, so the site's daily rhythm is the sum of each group's local
rhythm; the weekly curve follows the same local clock. Anomalies bend these rates in
``synth.generate.anomalies``; this module only knows the normal week.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synth.generate.zone import Zone

# Human activity by local hour (busiest hour = 1), the usual shape of web traffic:
# a trough before dawn, a climb through the morning, a plateau, a second evening peak.
DAILY = np.array([
    0.42, 0.29, 0.21, 0.17, 0.16, 0.19, 0.29, 0.46, 0.66, 0.84, 0.95, 1.00,
    0.98, 0.97, 0.98, 0.96, 0.92, 0.86, 0.82, 0.84, 0.87, 0.83, 0.72, 0.57,
])

DAY = 86400
WEEK = 7 * DAY
_PIECE_S = 3600
_WEEK_MINUTES = WEEK // 60
# Ranges up to this many minutes take the mean of the week's shape sample by sample, as they
# always have; longer ones add up whole weeks (the shape repeats every week), so the cost of a
# range does not grow with its length.
_EXACT_MEAN_MINUTES = 8 * _WEEK_MINUTES
# 1970-01-01 was a Thursday; with this shift, (days + 3) % 7 is 0 on Mondays.
_MONDAY_SHIFT = 3


def daily_factor(local_seconds: np.ndarray, daily: np.ndarray = DAILY) -> np.ndarray:
    """The daily curve at local times (seconds), linear between the middles of the hours."""
    hours = (local_seconds % DAY) / 3600.0 - 0.5
    i = np.floor(hours).astype(np.int64)
    frac = hours - i
    return daily[i % 24] * (1.0 - frac) + daily[(i + 1) % 24] * frac


def weekday(local_seconds: np.ndarray) -> np.ndarray:
    """0 for Monday .. 6 for Sunday, for local times in seconds since the epoch."""
    return (local_seconds // DAY + _MONDAY_SHIFT) % 7


@dataclass(frozen=True)
class Rhythm:
    """The normal week of a site whose audience sits in several time zones."""

    offsets: np.ndarray  # each audience group's UTC offset, seconds
    shares: np.ndarray  # each group's share of human traffic
    weekend: float  # Saturday and Sunday traffic relative to a weekday
    daily: np.ndarray  # activity by local hour (DAILY unless the scenario says otherwise)
    weekly: np.ndarray | None = None  # traffic Monday .. Sunday; None: weekdays 1, weekend days ``weekend``
    # The site's zone when it keeps daylight-saving time: visitors keep their local clock as
    # it does, so in summer the day's rhythm comes an hour earlier in UTC.
    zone: Zone | None = None

    def group_shape(self, times: np.ndarray) -> np.ndarray:
        """Relative human activity of each group (rows) at UTC times in seconds (columns)."""
        if self.zone is not None and not self.zone.fixed:
            times_local = times + self.zone.dst(times)
        else:
            times_local = times
        local = times_local[None, :] + self.offsets[:, None]
        if self.weekly is None:
            week = np.where(weekday(local) >= 5, self.weekend, 1.0)
        else:
            week = self.weekly[weekday(local)]
        return self.shares[:, None] * daily_factor(local, self.daily) * week

    def mean_group_shape(self, start: int, end: int) -> np.ndarray:
        """Each group's mean shape over [start, end), sampled every minute.

        The samples repeat every week, so a long range is a number of whole weeks of samples
        and the first part of one more: two weeks of work, however long the range.
        """
        n = max(0, -(-(end - start) // 60))
        if n <= _EXACT_MEAN_MINUTES:
            times = np.arange(start, end, 60, dtype=np.int64) + 30
            if times.size == 0:
                times = np.array([start], np.int64)
            return self.group_shape(times).mean(axis=1)
        weeks, rest = divmod(n, _WEEK_MINUTES)
        week = self.group_shape(np.arange(start, start + WEEK, 60, dtype=np.int64) + 30)
        return (week.sum(axis=1) * weeks + week[:, :rest].sum(axis=1)) / n

    def mean_shape(self, start: int, end: int) -> float:
        """The mean of the summed shape over [start, end), sampled every minute."""
        return float(self.mean_group_shape(start, end).sum())


@dataclass(frozen=True)
class RateModel:
    """Expected human and bot requests per second for every second of the run."""

    start: int
    end: int
    rhythm: Rhythm
    human_rate: float  # mean human requests per second over the range
    bot_rate: float  # steady bot requests per second (crawlers, scanners)
    periodic_rate: float  # feed readers and monitors, on fixed schedules
    _norm: float = field(init=False, repr=False, compare=False, default=1.0)
    _week_prefix: np.ndarray = field(init=False, repr=False, compare=False, default_factory=lambda: np.zeros(1))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_norm", self.rhythm.mean_shape(self.start, self.end))
        # The summed shape of each minute of the week from Thursday 1970-01-01, as running
        # totals. Within a whole minute the shape is linear (the daily curve bends at half
        # hours, the week at midnight, audience offsets are whole minutes), so its 60 seconds
        # add up to 60 times the shape at the minute's middle: exact, one sample a minute.
        minutes = np.arange(0, WEEK, 60, dtype=np.int64)
        # The middle of a minute is second 29.5: the mean of seconds 29 and 30 (the shape is linear there).
        middle = (self.rhythm.group_shape(minutes + 29) + self.rhythm.group_shape(minutes + 30)) / 2
        week = middle.sum(axis=0) * 60
        object.__setattr__(self, "_week_prefix", np.concatenate([[0.0], np.cumsum(week)]))

    def _shape_before(self, minute: int) -> float:
        """The summed shape of every minute from the epoch's week start up to ``minute``."""
        weeks, rest = divmod(minute, _WEEK_MINUTES)
        prefix = self._week_prefix
        return weeks * float(prefix[-1]) + float(prefix[rest])

    def human(self, t0: int, t1: int) -> np.ndarray:
        """Expected human requests per second, one row per audience group, for seconds t0..t1-1."""
        return self.human_at(np.arange(t0, t1, dtype=np.int64))

    def human_at(self, times: np.ndarray) -> np.ndarray:
        """Expected human requests per second, one row per audience group, at the given seconds."""
        return self.rhythm.group_shape(times) * (self.human_rate / self._norm)

    def group_means(self) -> np.ndarray:
        """Each audience group's mean human requests per second over the range."""
        return self.rhythm.mean_group_shape(self.start, self.end) * (self.human_rate / self._norm)

    def mean_total(self) -> float:
        """Mean expected requests per second over the whole range, from every normal source."""
        return self.human_rate + self.bot_rate + self.periodic_rate

    def human_total(self, t0: int, t1: int) -> np.ndarray:
        """Expected human requests per second, all groups together, for seconds t0..t1-1.

        Built an hour at a time: a day's rows of every group at once, and their intermediates,
        would take tens of megabytes for a moment, and that high-water mark stays with the process.
        """
        out = np.empty(max(0, t1 - t0))
        for a in range(t0, t1, _PIECE_S):
            b = min(t1, a + _PIECE_S)
            out[a - t0:b - t0] = self.human(a, b).sum(axis=0)
        return out

    def total(self, t0: int, t1: int) -> np.ndarray:
        """Expected requests per second from every normal source, for seconds t0..t1-1."""
        return self.human_total(t0, t1) + (self.bot_rate + self.periodic_rate)

    def expected_count(self, t0: int, t1: int) -> float:
        """Expected requests from every normal source in seconds [t0, t1): ``total(t0, t1).sum()``
        at a cost of one sample per minute (whole minutes summed exactly, the odd seconds at
        either end one by one)."""
        if t1 <= t0:
            return 0.0
        m0, m1 = -(-t0 // 60) * 60, t1 // 60 * 60
        if m1 <= m0:
            return float(self.total(t0, t1).sum())
        shape = self._shape_before(m1 // 60) - self._shape_before(m0 // 60)
        human = shape * (self.human_rate / self._norm)
        edges = float(self.human_total(t0, m0).sum() + self.human_total(m1, t1).sum())
        return human + edges + (self.bot_rate + self.periodic_rate) * (t1 - t0)
