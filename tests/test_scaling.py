"""A run costs in proportion to its lines plus a little per day: a quiet site's year costs about
what a busy site's week of the same lines costs, and its bytes do not depend on how its days
are grouped into work (workers, shards)."""

import importlib
import resource
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from helpers import all_lines, line_times, manifest

import synth
from synth.run.generate import prepare, resolve_scenario, time_range
from synth.run.workers import group_stretches

model_module = importlib.import_module("synth.generate.model")

END = "2026-11-28T07:30:00Z"
# A quiet site (an hour holds fewer than 100 requests: drawn a week at a time) for six weeks,
# anomalies across day and week boundaries.
QUIET = {"days": 45, "rate": 0.01, "anomalies": [
    {"kind": "spike", "start": "+3d23h50m", "minutes": 30}, {"kind": "scan", "start": "+20d", "minutes": 30},
    {"kind": "flood", "start": "+27d23h45m"}, {"kind": "dip", "start": "+40d", "magnitude": 0.3}]}


def _files(out):
    return {f["name"]: (out / f["name"]).read_bytes() for f in manifest(out)["files"]}


@pytest.fixture(scope="module")
def quiet_whole(tmp_path_factory):
    out = tmp_path_factory.mktemp("quiet-whole")
    run = synth.generate(QUIET, seed=5, end=END, out_dir=out, workers=1)
    return out, run


@pytest.mark.parametrize("workers", [2, 3])
def test_a_quiet_site_is_the_same_with_any_workers(tmp_path, quiet_whole, workers):
    """Days are written in groups from one pass over the model; the groups differ with the
    number of workers (one group for one worker), the bytes do not."""
    whole, _ = quiet_whole
    synth.generate(QUIET, seed=5, end=END, out_dir=tmp_path, workers=workers)
    assert _files(tmp_path) == _files(whole)
    assert len(_files(whole)) == 46


def test_a_quiet_sites_shards_are_the_whole_run(tmp_path, quiet_whole):
    whole, _ = quiet_whole
    files = {}
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        synth.generate(QUIET, seed=5, end=END, out_dir=out, workers=2, shard=f"{k}/3")
        files.update(_files(out))
    assert files == _files(whole)


def test_a_quiet_sites_histogram_counts_its_lines(quiet_whole):
    """The per-hour counts the workers hand back (a slice per file) add up to the lines of each hour."""
    whole, run = quiet_whole
    counts = Counter((t - run.hour0) // 3600 for t in line_times(b"".join(_files(whole).values())))
    assert run.hourly.sum() == run.lines == len(all_lines(whole))
    assert {h: int(c) for h, c in enumerate(run.hourly) if c} == dict(counts)


def test_quiet_sites_are_drawn_a_week_at_a_time():
    """The block length: a week below 100 requests an hour, the hour (and shorter) above, as before."""
    assert model_module.block_seconds(0.01) == 7 * 86400
    assert model_module.block_seconds(99 / 3600) == 7 * 86400
    assert model_module.block_seconds(100 / 3600) == 3600
    assert model_module.block_seconds(2) == 3600
    assert model_module.block_seconds(100) == 300


@pytest.mark.parametrize("days, rate", [(45, 0.01), (3, 2.0), (400, 0.5)])
def test_expected_counts_add_up_every_second(days, rate):
    """The planner's expected lines (a sample a minute, or a week's running totals) equal the sum of
    the expected rate of every second, for ranges at odd seconds too."""
    scenario = resolve_scenario({"days": days, "rate": rate, "anomalies": []}, end=END)
    start, end = time_range(scenario)
    _, _, model, _ = prepare(scenario, 3, start, end)
    rng = np.random.default_rng(1)
    for _ in range(6):
        t0 = int(rng.integers(start, end - 1))
        t1 = int(rng.integers(t0 + 1, min(end, t0 + 20 * 86400) + 1))
        exact = float(model.expected_total(t0, t1).sum())
        assert model.expected_count(t0, t1) == pytest.approx(exact, rel=1e-9)


def test_the_mean_over_a_long_range_is_the_mean_of_every_minute():
    """Past eight weeks the range's mean shape is added up week by week; it equals the sample mean."""
    scenario = resolve_scenario({"days": 400, "rate": 0.5, "anomalies": []}, end=END)
    start, end = time_range(scenario)
    _, _, model, _ = prepare(scenario, 3, start + 17, end)
    rhythm = model.rates.rhythm
    times = np.arange(start + 17, end, 60, dtype=np.int64) + 30
    np.testing.assert_allclose(rhythm.mean_group_shape(start + 17, end), rhythm.group_shape(times).mean(axis=1),
                               rtol=1e-12)


@pytest.mark.parametrize("weights, workers", [([1.0] * 365, 2), ([5e5, 1, 1, 5e5], 2), ([100.0] * 10, 1), ([0.0], 3)])
def test_groups_are_consecutive_and_cover_every_file(weights, workers):
    groups = group_stretches(weights, workers)
    assert [i for g in groups for i in g] == list(range(len(weights)))
    if workers == 1 and sum(weights) < 200_000:
        assert len(groups) == 1
    if len(weights) == 365:
        assert 4 * workers - 1 <= len(groups) <= 4 * workers + 1


def _cpu_seconds(args, tmp_path, name):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "synth", "generate", "-q", "--seed", "1", "--end", END,
                    "--out", str(tmp_path / name), *args], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@pytest.mark.slow
def test_a_year_of_a_quiet_site_costs_about_a_week_of_the_same_lines(tmp_path):
    """``--days 365 --rate 0.01`` and ``--days 7 --rate 0.5`` make about the same number of lines;
    the year takes less than three times the CPU time of the week (CPU time, every process of the
    run: what a busy shared machine does to wall time does not count)."""
    year = _cpu_seconds(["--days", "365", "--rate", "0.01"], tmp_path, "year")
    week = _cpu_seconds(["--days", "7", "--rate", "0.5"], tmp_path, "week")
    lines = [manifest(tmp_path / name)["lines"] for name in ("year", "week")]
    assert 0.8 < lines[0] / lines[1] < 1.25
    assert year / week < 3, (year, week)


@pytest.mark.slow
def test_hourly_files_cost_in_proportion_to_their_number(tmp_path):
    """Two years of hourly files of a quiet site (17,520 files in one worker's group) cost less
    than twice one year of them: nothing done per file grows with the files before it (user
    CPU time, every process: the file system's own time for thousands of new files is not ours
    and moves from run to run)."""
    def user_seconds(days, name):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        subprocess.run([sys.executable, "-m", "synth", "generate", "-q", "--seed", "1", "--end", END, "--rotate",
                        "hour", "--workers", "1", "--days", str(days), "--rate", "0.002",
                        "--out", str(tmp_path / name)], check=True, capture_output=True)
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before

    year, two = user_seconds(365, "year"), user_seconds(730, "two")
    assert len(manifest(tmp_path / "two")["files"]) >= 17_520
    assert two / year < 2, (two, year)
