"""Anomaly windows: where each falls in the run's range (from the scenario, or drawn from the
seed on whole minutes, away from the edges of the range), and what is said when one lacks
the history the ML jobs learn from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from synth.generate.checks import ScenarioError

if TYPE_CHECKING:
    from synth.generate.scenario import AnomalySpec

EDGE_MARGIN_S = 12 * 3600
# History an ML job sees before a drawn window, where the range has room: two days, so that the
# 1-hour population jobs have 48 buckets and a daily pattern before the anomaly comes.
HISTORY_S = 2 * 86400


@dataclass(frozen=True)
class Window:
    """One anomaly as placed in the run: [start, end) in epoch seconds."""

    index: int
    spec: AnomalySpec
    start: int
    end: int

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def magnitude(self) -> float:
        return self.spec.magnitude

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60

    @property
    def seconds(self) -> int:
        return self.end - self.start


def iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_problems(specs: tuple[AnomalySpec, ...], start: int, end: int) -> list[tuple[str, str]]:
    """Why anomalies do not fit in [start, end): a start outside it, or too little room to draw one."""
    problems = []
    for i, spec in enumerate(specs):
        duration = int(round(spec.minutes * 60))
        if spec.start is not None or spec.offset is not None:
            w0 = int(spec.start.timestamp()) if spec.start is not None else start + int(spec.offset or 0)
            if w0 < start or w0 + duration > end:
                problems.append((f"anomalies[{i}].start",
                                 f"{iso(w0)} + {spec.minutes:g} minutes is outside the range {iso(start)} to {iso(end)}"))
        else:
            first, last = _drawn_room(duration, start, end)
            if last < first:
                problems.append((f"anomalies[{i}].minutes",
                                 f"{spec.minutes:g} minutes does not fit on whole minutes in the range"))
    return problems


def _drawn_room(duration: int, start: int, end: int) -> tuple[int, int]:
    """The first and last whole minute a drawn window of ``duration`` may start on."""
    margin = min(EDGE_MARGIN_S, max(0, (end - start - duration) // 4))
    before = HISTORY_S if end - start - duration - margin >= HISTORY_S + 60 else margin
    return -(-(start + before) // 60) * 60, (end - margin - duration) // 60 * 60


def place_windows(specs: tuple[AnomalySpec, ...], start: int, end: int,
                  rng: np.random.Generator) -> list[Window]:
    """Place each anomaly: at its time or offset, or on a whole minute drawn from ``rng``.

    A drawn window starts at least two days into the range and ends at least 12 hours before
    its end, where the range has room for that; in shorter ranges, it keeps clear of the first
    and last 12 hours (of a quarter of the spare room each, where even that does not fit), so
    the ML job has data on both sides. ``history_notes`` says when a window has less than two
    days before it.
    """
    problems = window_problems(specs, start, end)
    if problems:
        raise ScenarioError(problems)
    windows = []
    for i, spec in enumerate(specs):
        duration = int(round(spec.minutes * 60))
        if spec.start is not None or spec.offset is not None:
            w0 = int(spec.start.timestamp()) if spec.start is not None else start + int(spec.offset or 0)
        else:
            first, last = _drawn_room(duration, start, end)
            w0 = first + 60 * int(rng.integers(0, (last - first) // 60 + 1))
        windows.append(Window(i, spec, w0, w0 + duration))
    return windows


def history_notes(windows: list[Window], start: int) -> list[str]:
    """A line for the windows that have less than two days of the range before them."""
    short = [w for w in windows if w.start - start < HISTORY_S]
    if not short:
        return []
    least = min(w.start - start for w in short) / 86400
    names = ", ".join(f"{w.kind}-{w.index + 1}" for w in short)
    return [f"{names} start{'s' if len(short) == 1 else ''} {least:.2g} days into the range: the bundled ML jobs "
            f"learn the daily pattern from about two days of history before an anomaly (with --days 3 or more, "
            f"drawn anomalies leave two days)"]
