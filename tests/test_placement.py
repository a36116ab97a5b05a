"""Where drawn anomalies fall: by default at least two days of history before each, where the
range has room (the 1-hour population jobs then have 48 buckets and a daily pattern); shorter
ranges say so in the summary."""

import datetime as dt

import numpy as np
from click.testing import CliRunner
from conftest import END
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.cli import cli
from synth.generate.anomalies import HISTORY_S, history_notes, place_windows
from synth.generate.scenario import KINDS, AnomalySpec

START = int(END.timestamp()) - 7 * 86400


def spec(kind="spike", minutes=30.0):
    return AnomalySpec(kind, None, minutes, KINDS[kind].magnitude, None, ())


def test_two_days_before_every_drawn_window_over_many_seeds():
    """A week, every kind's default length, 300 seeds: no window starts in the first two days
    or ends in the last 12 hours, every one is on a whole minute, and none needs a note."""
    specs = tuple(spec(kind, KINDS[kind].minutes) for kind in KINDS)
    end = START + 7 * 86400
    starts = []
    for seed in range(300):
        windows = place_windows(specs, START, end, np.random.default_rng(seed))
        for w in windows:
            assert w.start - START >= HISTORY_S and end - w.end >= 12 * 3600, (seed, w)
            assert w.start % 60 == 0
            starts.append(w.start)
        assert history_notes(windows, START) == []
    # and the windows still spread over the whole allowed stretch, not one corner of it
    spread = (np.array(starts) - START) / 86400
    assert spread.min() < 2.1 and spread.max() > 6.3


@settings(max_examples=200, deadline=None)
@given(days=st.floats(0.1, 30), minutes=st.floats(1, 600), seed=st.integers(0, 2**32 - 1))
def test_history_where_the_range_allows_and_a_note_where_it_does_not(days, minutes, seed):
    end = START + int(days * 86400)
    if minutes * 60 >= end - START:
        return
    try:
        (w,) = place_windows((spec(minutes=minutes),), START, end, np.random.default_rng(seed))
    except ValueError:  # does not fit on whole minutes: the scenario check says so
        return
    assert START <= w.start and w.end <= end
    room = end - START - w.seconds - min(12 * 3600, (end - START - w.seconds) // 4)
    notes = history_notes([w], START)
    if room >= HISTORY_S + 60:
        assert w.start - START >= HISTORY_S and not notes
    else:
        assert w.start - START < HISTORY_S
        (note,) = notes
        assert note.startswith("spike-1 starts") and "two days of history" in note


def test_a_given_start_is_kept_and_noted():
    """An anomaly placed by hand stays where it was put; the note says it has little history."""
    at = AnomalySpec("spike", dt.datetime.fromtimestamp(START + 6 * 3600, dt.UTC), 30.0, 10.0, None, ())
    (w,) = place_windows((at,), START, START + 7 * 86400, np.random.default_rng(0))
    assert w.start == START + 6 * 3600
    assert history_notes([w], START)[0].startswith("spike-1 starts 0.25 days into the range")


def test_generate_prints_the_note_for_a_short_range(tmp_path):
    result = CliRunner().invoke(cli, ["generate", "--out", str(tmp_path / "o"), "--days", "1", "--rate", "0.05",
                                      "--seed", "3", "--end", END.isoformat(), "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("note: spike-1")]
    assert len(notes) == 1 and "--days 3" in notes[0]
    result = CliRunner().invoke(cli, ["generate", "--out", str(tmp_path / "w"), "--days", "3", "--rate", "0.02",
                                      "--seed", "3", "--end", END.isoformat(), "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "two days of history" not in result.output
