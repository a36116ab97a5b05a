"""The time a log covers, told from its lines: its range, the minutes of each hour it samples
(a log may keep one minute an hour), and its gaps (outages, lost rotations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Coverage:
    """The time a log covers: its range, the minutes of each hour it samples, its gaps."""

    start: int  # epoch seconds, first line's minute
    end: int  # epoch seconds, after the last line's minute
    minutes: tuple[int, ...]  # minutes of the hour that hold lines (all 60 unless sampled)
    hours: np.ndarray  # per hour from start // 3600: covered seconds
    gaps: tuple[tuple[int, int, float], ...]  # (start, end, lines expected there) of uncovered hours

    @property
    def seconds(self) -> float:
        return float(self.hours.sum())

    @property
    def sampled(self) -> bool:
        return len(self.minutes) < 60


def coverage(utc: np.ndarray, offset: int = 0) -> Coverage:
    """The covered time of lines at ``utc`` (sorted epoch seconds), written at zone ``offset``.

    A sample is told by the minute of the hour: when a few minutes hold nearly every line
    (99.5 %) and the others would hold 20 lines each if the lines were spread evenly, only those
    minutes are covered. A gap is an hour without a line where that clock hour's median over the
    log's other hours would put 5 or more; quieter hours without lines are simply quiet.
    """
    start = int(utc[0]) // 60 * 60
    end = int(utc[-1]) // 60 * 60 + 60
    by_minute = np.bincount((utc // 60) % 60, minlength=60)
    ranked = np.argsort(-by_minute, kind="stable")
    cumulative = np.cumsum(by_minute[ranked])
    k = int(np.searchsorted(cumulative, 0.995 * len(utc))) + 1
    minutes = tuple(range(60))
    if k <= 30 and len(utc) / 60 >= 20:
        minutes = tuple(sorted(int(m) for m in ranked[:k]))
    share = len(minutes) / 60
    first_hour = start // 3600
    n_hours = (end - 1) // 3600 - first_hour + 1
    counts = np.bincount(utc // 3600 - first_hour, minlength=n_hours)
    span = np.full(n_hours, 3600.0)
    span[0] -= start - first_hour * 3600
    span[-1] -= (first_hour + n_hours) * 3600 - end
    span = np.minimum(span, 3600.0) if n_hours > 1 else np.array([float(end - start)])
    if share < 1:
        span = span * share
    clock = (np.arange(first_hour, first_hour + n_hours) * 3600 + offset) // 3600 % 24
    expected = np.zeros(n_hours)
    for h in range(24):
        busy = (clock == h) & (counts > 0)
        if busy.any():
            expected[clock == h] = np.median(counts[busy] / span[busy]) * span[clock == h]
    empty = (counts == 0) & (expected >= 5)
    gaps = []
    i = 0
    while i < n_hours:
        if empty[i]:
            j = i
            while j + 1 < n_hours and empty[j + 1]:
                j += 1
            gaps.append(((first_hour + i) * 3600, (first_hour + j + 1) * 3600, float(expected[i:j + 1].sum())))
            i = j + 1
        else:
            i += 1
    hours = np.where(empty, 0.0, span)
    return Coverage(start, end, minutes, hours, tuple(gaps))


def describe_coverage(c: Coverage) -> list[str]:
    def when(t: int) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    notes = []
    if c.sampled:
        minutes = ", ".join(f":{m:02d}" for m in c.minutes)
        notes.append(f"lines only in minute{'s' if len(c.minutes) > 1 else ''} {minutes} of each hour: "
                     f"rates fitted over those minutes")
    for a, b, expected in c.gaps:
        notes.append(f"no lines from {when(a)} to {when(b)} ({(b - a) // 3600} h, about {expected:,.0f} "
                     f"expected): left out of the fit")
    total = c.end - c.start
    notes.append(f"covered: {c.seconds / 3600:,.1f} h of the {total / 3600:,.1f} h from the first line to the last")
    return notes


__all__ = ["Coverage", "coverage", "describe_coverage"]
