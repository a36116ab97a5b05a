"""Expected requests per second: baseline x a daily curve x a weekly curve, per audience group.

Visitors live in time zones, so the site's daily rhythm is the sum of each group's local
rhythm; the weekly curve follows the same local clock. Anomalies bend these rates in
``anomalies.py``; this module only knows the normal week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.generate.zone import Zone

# Human activity by local hour (busiest hour = 1), the usual shape of web traffic:
# a trough before dawn, a climb through the morning, a plateau, a second evening peak.
DAILY = np.array([
    0.42, 0.29, 0.21, 0.17, 0.16, 0.19, 0.29, 0.46, 0.66, 0.84, 0.95, 1.00,
    0.98, 0.97, 0.98, 0.96, 0.92, 0.86, 0.82, 0.84, 0.87, 0.83, 0.72, 0.57,
])

DAY = 86400
_PIECE_S = 3600
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
        week = np.where(weekday(local) >= 5, self.weekend, 1.0)
        return self.shares[:, None] * daily_factor(local, self.daily) * week

    def mean_group_shape(self, start: int, end: int) -> np.ndarray:
        """Each group's mean shape over [start, end), sampled every minute."""
        times = np.arange(start, end, 60, dtype=np.int64) + 30
        if times.size == 0:
            times = np.array([start], np.int64)
        return self.group_shape(times).mean(axis=1)

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "_norm", self.rhythm.mean_shape(self.start, self.end))

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
