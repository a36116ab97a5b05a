"""Anomaly windows: where each one falls, how it bends the traffic, and what the ground truth says.

A window is placed once per run (from the scenario, or drawn from the seed on whole minutes,
away from the edges of the range). Its effect is applied per generation block, so it does not
depend on how the run is split between files or workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .scenario import AnomalySpec, ScenarioError
from .traffic import SESSION_CAP_MS, Events

EDGE_MARGIN_S = 12 * 3600


@dataclass(frozen=True)
class Window:
    """One anomaly as placed in the run: [start, end) in epoch seconds."""

    index: int
    kind: str
    start: int
    end: int
    magnitude: float

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60


class Model(Protocol):
    """What an effect needs from the traffic model (see events.TrafficModel)."""

    def draw_human(self, rng: np.random.Generator, t0: int, t1: int, scale: np.ndarray) -> Events: ...
    def expected_total(self, t0: int, t1: int) -> np.ndarray: ...
    def expected_human(self, t0: int, t1: int) -> np.ndarray: ...


def iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def place_windows(specs: tuple[AnomalySpec, ...], start: int, end: int,
                  rng: np.random.Generator) -> list[Window]:
    """Place each anomaly: as given, or on a whole minute drawn from ``rng``.

    Drawn windows keep clear of the first and last 12 hours of the range (of a quarter of the
    spare room each, in ranges too short for that), so the ML job has data on both sides.
    """
    windows, problems = [], []
    for i, spec in enumerate(specs):
        duration = int(round(spec.minutes * 60))
        if spec.start is not None:
            w0 = int(spec.start.timestamp())
            if w0 < start or w0 + duration > end:
                problems.append((f"anomalies[{i}].start",
                                 f"{iso(w0)} + {spec.minutes:g} minutes is outside the range {iso(start)} to {iso(end)}"))
                continue
        else:
            margin = min(EDGE_MARGIN_S, max(0, (end - start - duration) // 4))
            first = -(-(start + margin) // 60) * 60
            last = (end - margin - duration) // 60 * 60
            if last < first:
                problems.append((f"anomalies[{i}].minutes",
                                 f"{spec.minutes:g} minutes does not fit on whole minutes in the range"))
                continue
            w0 = first + 60 * int(rng.integers(0, (last - first) // 60 + 1))
        windows.append(Window(i, spec.kind, w0, w0 + duration, spec.magnitude))
    if problems:
        raise ScenarioError(problems)
    return windows


class Spike:
    """Total request rate x magnitude inside the window.

    The extra traffic is (magnitude - 1) more copies of the normal traffic, made of visits that
    start up to the session cap before the window and are cut at its edges: so inside the
    window the expected rate is exactly magnitude times what it would have been, and outside
    it nothing changes.
    """

    def __init__(self, window: Window):
        self.window = window

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        w = self.window
        t0, t1 = max(b0, w.start - SESSION_CAP_MS // 1000), min(b1, w.end)
        if t0 >= t1:
            return None
        human = model.expected_human(t0, t1)
        # Bots are steady; their share of the extra traffic is carried by extra visits.
        scale = (w.magnitude - 1.0) * model.expected_total(t0, t1) / np.maximum(human, 1e-12)
        events = model.draw_human(rng, t0, t1, scale)
        inside = (events.t_ms >= w.start * 1000) & (events.t_ms < w.end * 1000)
        return events.take(inside)

    def transform(self, events: Events, rng: np.random.Generator) -> Events:
        return events

    def truth(self, model: Model) -> dict[str, Any]:
        w = self.window
        baseline = float(model.expected_total(w.start, w.end).sum())
        return {
            "metric": "requests in the window",
            "baseline": round(baseline),
            "during": round(baseline * w.magnitude),
            "extra_events": round(baseline * (w.magnitude - 1)),
        }


EFFECTS = {"spike": Spike}

# The ML jobs (ml/jobs) expected to flag each kind of window.
JOBS = {"spike": ["smoke-request-count"]}


def make_effects(windows: list[Window]) -> list[Spike]:
    return [EFFECTS[w.kind](w) for w in windows]


def ground_truth(effects: list[Spike], model: Model) -> dict[str, Any]:
    """The content of anomalies.json: every window with its kind, times, magnitude and effect."""
    entries = []
    for effect in effects:
        w = effect.window
        entries.append({
            "id": f"{w.kind}-{w.index + 1}",
            "kind": w.kind,
            "start": iso(w.start),
            "end": iso(w.end),
            "start_ms": w.start * 1000,
            "end_ms": w.end * 1000,
            "minutes": w.minutes,
            "magnitude": w.magnitude,
            "affected": {"field": None, "values": []},
            "expected": effect.truth(model),
            "jobs": JOBS.get(w.kind, []),
        })
    return {"anomalies": entries}
