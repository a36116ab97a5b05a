"""Time zones and times as a user types them: offsets in any common form, IANA names with
daylight saving done right in %t, rotation, the daily rhythm and the histogram; --end as now,
epoch seconds or a zone-less time (UTC)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from helpers import COMBINED_RE, all_lines, epoch_seconds, manifest
from hypothesis import given, settings
from hypothesis import strategies as st

import synth
from synth.generate.rates import DAILY, Rhythm
from synth.generate.scenario import Rotation, ScenarioError, parse_time
from synth.generate.zone import Zone, normal_zone
from synth.output.files import plan_stretches

PARIS = "Europe/Paris"
AUTUMN = int(dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC).timestamp())  # 03:00 CEST -> 02:00 CET
SPRING = int(dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC).timestamp())  # 02:00 CET -> 03:00 CEST


@pytest.mark.parametrize("text, canonical", [("+0530", "+0530"), ("+05:30", "+0530"), ("-08", "-0800"),
                                             ("Z", "+0000"), ("UTC", "+0000"), ("utc", "+0000"),
                                             ("Europe/Paris", "Europe/Paris"), ("America/New_York", "America/New_York")])
def test_zones_in_every_common_form(text, canonical):
    assert normal_zone(text) == canonical


@pytest.mark.parametrize("text", ["0800", "+1500", "Mars/Olympus", "", "+05:75"])
def test_wrong_zones_are_refused(text):
    with pytest.raises(ValueError):
        normal_zone(text)


def test_named_zone_offsets_follow_zoneinfo():
    """Every second's offset is zoneinfo's, across both transitions of a year."""
    zone = Zone(PARIS)
    from zoneinfo import ZoneInfo
    seconds = np.arange(SPRING - 7200, AUTUMN + 7200, 997, dtype=np.int64)
    expected = [int(dt.datetime.fromtimestamp(s, ZoneInfo(PARIS)).utcoffset().total_seconds()) for s in seconds]
    assert zone.offsets(seconds).tolist() == expected
    assert zone.offset(AUTUMN - 1) == 7200 and zone.offset(AUTUMN) == 3600
    assert zone.offset(SPRING - 1) == 3600 and zone.offset(SPRING) == 7200


@settings(max_examples=50, deadline=None)
@given(t=st.integers(1_600_000_000, 1_900_000_000), name=st.sampled_from([PARIS, "America/New_York",
                                                                          "Australia/Sydney", "Asia/Kolkata"]))
def test_offsets_of_any_second(t, name):
    """Property: the offset of any second, alone or in an array, is zoneinfo's."""
    from zoneinfo import ZoneInfo
    want = int(dt.datetime.fromtimestamp(t, ZoneInfo(name)).utcoffset().total_seconds())
    zone = Zone(name)
    assert zone.offset(t) == want
    assert zone.offsets(np.array([t - 86400 * 100, t], np.int64))[1] == want


def test_autumn_night_in_t_rotation_and_order(tmp_path):
    """Across the autumn change: %t goes from +0200 to +0100 at the second it happens, the
    repeated hour 02 is a file of its own (access.log-2026102502.1), and every file holds its
    lines in UTC order."""
    end = dt.datetime.fromtimestamp(AUTUMN + 3 * 3600, dt.UTC)
    synth.generate("classic", seed=4, days=0.25, rate=0.5, tz=PARIS, rotate="hour", out_dir=tmp_path, end=end)
    names = [f["name"] for f in manifest(tmp_path)["files"]]
    assert "access.log-2026102502" in names and "access.log-2026102502.1" in names
    assert names.index("access.log-2026102502.1") == names.index("access.log-2026102502") + 1
    seen = []
    for line in all_lines(tmp_path):
        m = COMBINED_RE.match(line)
        t = epoch_seconds(m)
        assert m["tz"] == ("+0200" if t < AUTUMN else "+0100"), line
        seen.append(t)
    assert seen == sorted(seen) and seen[0] < AUTUMN < seen[-1]


def test_daily_rotation_cuts_at_local_midnight_across_spring():
    """By day in Europe/Paris: each file starts at a local midnight, the spring day is 23 hours."""
    start = SPRING - 3 * 86400
    stretches = plan_stretches(start, start + 6 * 86400, Rotation("day"), PARIS)
    zone = Zone(PARIS)
    for s in stretches[1:]:
        assert zone.local(s.t0).time() == dt.time(0, 0)
    lengths = {s.name: s.t1 - s.t0 for s in stretches[1:-1]}
    assert lengths["access.log-20260329"] == 23 * 3600 and lengths["access.log-20260328"] == 24 * 3600


def test_daily_rhythm_follows_local_time():
    """Visitors of a named zone keep their clock through daylight saving: the activity at
    local noon is the same in summer (10:00 UTC) as in winter (11:00 UTC)."""
    rhythm = Rhythm(np.array([3600]), np.array([1.0]), 1.0, DAILY, zone=Zone(PARIS))
    winter = int(dt.datetime(2026, 1, 14, 11, tzinfo=dt.UTC).timestamp())  # a Wednesday, 12:00 CET
    summer = int(dt.datetime(2026, 7, 15, 10, tzinfo=dt.UTC).timestamp())  # a Wednesday, 12:00 CEST
    at = rhythm.group_shape(np.array([winter, summer, summer + 3600], np.int64))[0]
    assert at[0] == pytest.approx(at[1]) and at[1] != pytest.approx(at[2])


def test_histogram_and_table_in_the_files_zone(tmp_path, capsys):
    """The histogram's hours and the windows' local times are the files' zone's."""
    from synth.cli import main
    with pytest.raises(SystemExit):
        main(["generate", "--scenario", "mixed", "--rate", "0.2", "--seed", "1", "--tz", "+05:30",
              "--end", "2026-11-28T12:00:00", "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("lines per hour at +0530 (full block") for line in out)
    table = out[out.index("8 anomaly windows:") + 1:][:9]
    assert "start (+0530)" in table[0]
    assert "2026-11-23T02:00:00Z" in table[1] and "2026-11-23 07:30 +0530" in table[1]


def test_end_as_now_epoch_or_zoneless():
    """--end takes now, epoch seconds, and a time without a zone, which is UTC."""
    now = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_time("now", now) == now
    assert parse_time("1795867200") == dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    assert parse_time("2026-11-28T12:00:00") == now
    assert parse_time("2026-11-28T13:00:00+01:00") == now
    with pytest.raises(ValueError, match="now, epoch seconds or an ISO 8601 time"):
        parse_time("tomorrow")
    run = synth.generate("classic", seed=1, days=0.1, rate=0.1, end="1795867200", out_dir="/tmp/synth-test-epoch",
                         force=True)
    assert run.end == 1795867200
    with pytest.raises(ScenarioError, match="tz: no time zone named 'Europe/Pariss'"):
        synth.generate("classic", tz="Europe/Pariss", out_dir="/tmp/never-written")
