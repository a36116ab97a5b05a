"""The classic spike: ten times the traffic inside its window, and nowhere else anything like it."""

import datetime as dt

import numpy as np
import pytest
from helpers import all_bytes, line_times

import synth
from synth.run.generate import prepare

END = dt.datetime(2026, 11, 25, 17, 0, 0, tzinfo=dt.UTC)
WINDOW = 30  # minutes


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    out = tmp_path_factory.mktemp("week")
    run = synth.generate("classic", seed=21, out_dir=out, rate=0.5, end=END)
    times = np.array(line_times(all_bytes(out)))
    per_minute = np.bincount((times - run.start) // 60, minlength=(run.end - run.start) // 60)
    _, _, model, _ = prepare(run.scenario, run.seed, run.start, run.end)
    expected = model.expected_total(run.start, run.end).reshape(-1, 60).sum(axis=1)
    return run, per_minute, expected


def _window_sums(per_minute):
    c = np.concatenate([[0], np.cumsum(per_minute)])
    return c[WINDOW:] - c[:-WINDOW]  # sums over every 30-minute window, by its first minute


def _other_days(sums, first, days=7):
    k = [first + 1440 * d for d in range(-days, days + 1) if d and 0 <= first + 1440 * d < len(sums)]
    return sums[k]


def test_window_holds_magnitude_times_the_traffic(week):
    """Lines in the window / the same clock window on the other days = 10 x the model's ratio
    of those windows' normal traffic (the weekly rhythm makes days differ), within noise."""
    run, per_minute, expected = week
    w = run.windows[0]
    assert w.end - w.start == WINDOW * 60 and w.magnitude == 10
    first = (w.start - run.start) // 60
    sums, normal = _window_sums(per_minute), _window_sums(expected)
    observed = sums[first] / _other_days(sums, first).mean()
    model = 10 * normal[first] / _other_days(normal, first).mean()
    assert observed == pytest.approx(model, rel=0.12)
    # And against the labels: the window holds the 'during' count of anomalies.json.
    assert sums[first] == pytest.approx(run.truth["anomalies"][0]["expected"]["during"], rel=0.08)


def test_no_other_window_comes_close(week):
    """Every other 30-minute window stays below half the spike's ratio to its other days."""
    run, per_minute, _ = week
    w = run.windows[0]
    first = (w.start - run.start) // 60
    sums = _window_sums(per_minute)
    worst = 0.0
    for start in range(len(sums)):
        if abs(start - first) < WINDOW:
            continue
        others = _other_days(sums, start)
        if len(others) >= 3:
            worst = max(worst, sums[start] / max(others.mean(), 1))
    assert worst < 5, worst
