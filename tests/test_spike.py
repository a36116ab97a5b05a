"""The classic spike: ten times the traffic inside its window, and nowhere else anything like it."""

import datetime as dt
import importlib

import numpy as np
import pytest
from helpers import all_bytes, line_times
from hypothesis import given
from hypothesis import strategies as st

import synth
from synth.generate.anomalies.kinds import SPIKE_PIECE_REQUESTS, spike_pieces
from synth.run.generate import prepare, resolve_scenario, time_range

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


@given(t0=st.integers(0, 10**6), span=st.integers(1, 20_000), expected=st.floats(0, 5e6))
def test_spike_pieces_tile_the_span(t0, span, expected):
    """Pieces follow each other from t0 to t1, as many as the expected requests need (as the
    span allows), of whole minutes where the span is, and of lengths within one unit."""
    t1 = t0 + span
    pieces = spike_pieces(t0, t1, expected)
    assert pieces[0][0] == t0 and pieces[-1][1] == t1
    assert all(z == a for (_, z), (a, _) in zip(pieces, pieces[1:]))
    unit = 60 if t0 % 60 == 0 and span % 60 == 0 else 1
    assert all((z - a) % unit == 0 and z > a for a, z in pieces)
    wanted = max(1, int(np.ceil(expected / SPIKE_PIECE_REQUESTS)))
    assert len(pieces) == min(wanted, span // unit)
    lengths = {z - a for a, z in pieces}
    assert max(lengths) - min(lengths) <= unit


def test_a_big_sites_spike_is_drawn_in_pieces_and_holds_its_magnitude(monkeypatch):
    """At 40 requests a second a 10x spike adds over 300,000 requests to a 15-minute block: it
    is drawn a few minutes at a time, and every minute of the window still holds ten times the
    normal traffic (within Poisson noise), pieces' edges included."""
    scenario = resolve_scenario({"name": "big", "days": 0.25, "rate": 40.0, "end": "2026-11-25T06:00:00Z",
                                 "anomalies": [{"kind": "spike", "minutes": 30, "magnitude": 10,
                                                "start": "+3h"}]})
    start, end = time_range(scenario)
    windows, _, model, _ = prepare(scenario, 5, start, end)
    w = windows[0]
    cuts = []
    kinds = importlib.import_module("synth.generate.anomalies.kinds")
    pieces = kinds.spike_pieces
    monkeypatch.setattr(kinds, "spike_pieces", lambda *a: cuts.append(pieces(*a)) or cuts[-1])
    per_minute = np.zeros((w.end - w.start) // 60, np.int64)
    for events in model.events(w.start, w.end):
        minute = (events.t_ms // 1000 - w.start) // 60
        per_minute += np.bincount(minute, minlength=len(per_minute))
    assert max(len(c) for c in cuts) >= 3
    normal = model.expected_total(w.start, w.end).reshape(-1, 60).sum(axis=1)
    z = (per_minute - 10 * normal) / np.sqrt(10 * normal * model.mix.per_visit)
    assert np.abs(z).max() < 5, z.round(1)
    assert per_minute.sum() == pytest.approx(10 * normal.sum(), rel=0.03)
