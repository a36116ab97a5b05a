"""Invariants of every run, over seeds, ranges, zones and rotations (hypothesis)."""

import datetime as dt
import hashlib

from helpers import COMBINED_RE, all_bytes, files_in_order, line_times, manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synth

END = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)

runs = st.fixed_dictionaries({
    "seed": st.integers(0, 2**40),
    "days": st.sampled_from([0.05, 0.3, 1.0, 1.7]),
    "rate": st.sampled_from([0.02, 0.08, 0.2]),
    "tz": st.sampled_from(["+0000", "-0800", "+0530", "+1400"]),
    "end": st.integers(0, 3 * 86400).map(lambda s: END - dt.timedelta(seconds=s)),
})
rotations = st.sampled_from(["day", "hour", "size:20KB", "size:1MB"])
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _generate(out, spec, rotate):
    spec = dict(spec)
    minutes = min(30, spec["days"] * 1440 / 3)
    # One worker: these invariants are not about workers (tests/test_parallel.py is), and a pool a run costs more than the run.
    return synth.generate("classic", out_dir=out, force=True, rotate=rotate, spike_minutes=minutes, workers=1, **spec)


@SETTINGS
@given(spec=runs, rotate=rotations)
def test_rotation_only_cuts(tmp_path_factory, spec, rotate):
    """Rotated files, in the manifest's order, concatenate to the unrotated run byte for byte;
    every line is strict combined; times never go backwards; the manifest tells the truth."""
    whole_dir, cut_dir = tmp_path_factory.mktemp("whole"), tmp_path_factory.mktemp("cut")
    _generate(whole_dir, spec, "none")
    run = _generate(cut_dir, spec, rotate)
    whole = (whole_dir / "access.log").read_bytes()
    assert all_bytes(cut_dir) == whole

    text = whole.decode("ascii")
    lines = text.splitlines()
    assert text == "" or text.endswith("\n")
    for line in lines:
        assert COMBINED_RE.match(line), line
    times = line_times(whole)
    assert len(times) == len(lines)
    assert times == sorted(times)
    start_s, end_s = manifest(cut_dir)["start_ms"] // 1000, manifest(cut_dir)["end_ms"] // 1000
    assert all(start_s <= t < end_s for t in times)

    m = manifest(cut_dir)
    assert m["complete"] is True and m["lines"] == len(lines) == run.lines
    for record, path in zip(m["files"], files_in_order(cut_dir)):
        data = path.read_bytes()
        assert record["lines"] == data.count(b"\n")
        assert record["bytes"] == len(data)
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in cut_dir.iterdir()) == sorted([f["name"] for f in m["files"]] + ["anomalies.json", "manifest.json"])
    if rotate.startswith("size"):
        limit = 20_000 if rotate == "size:20KB" else 1_000_000
        assert all(f["bytes"] <= limit for f in m["files"])
        assert m["files"][-1]["name"] == "access.log"


@SETTINGS
@given(spec=runs)
def test_same_seed_same_bytes(tmp_path_factory, spec):
    """Same scenario, seed and end: byte-identical files and labels; another seed differs."""
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    _generate(a, spec, "hour")
    _generate(b, spec, "hour")
    assert all_bytes(a) == all_bytes(b)
    assert (a / "anomalies.json").read_bytes() == (b / "anomalies.json").read_bytes()
    c = tmp_path_factory.mktemp("c")
    _generate(c, dict(spec, seed=spec["seed"] + 1), "hour")
    assert all_bytes(c) != all_bytes(a)


@SETTINGS
@given(spec=runs)
def test_spike_placement(tmp_path_factory, spec):
    """The spike starts on a whole minute, inside the range, clear of its edges."""
    out = tmp_path_factory.mktemp("p")
    run = _generate(out, spec, "none")
    (window,) = run.windows
    range_s = run.end - run.start
    margin = min(12 * 3600, (range_s - (window.end - window.start)) // 4)
    assert window.start % 60 == 0
    assert run.start + margin <= window.start and window.end <= run.end - margin
