"""Workers and shards never change the bytes; the benchmark reports figures that agree."""

import json
import os
import subprocess
import sys
import time

import pytest
from helpers import manifest

import synth
from synth.run.bench import TreeMemory, tree_pss_kb

SPEC = dict(seed=31, end="2026-11-28T07:30:00Z")
# Every kind of anomaly, some across file boundaries, in two and a half days (a light rate: the
# files, their boundaries and each worker's share are those of any rate, the lines fewer).
SCENARIO = {"days": 2.5, "rate": 0.2, "anomalies": [
    {"kind": "spike", "start": "+10h50m", "minutes": 30}, {"kind": "scan", "start": "+23h45m", "minutes": 30},
    {"kind": "error_burst", "start": "+23h55m"}, {"kind": "flood", "start": "+1d2h"},
    {"kind": "crowd", "start": "+1d8h"}, {"kind": "bytes", "start": "+1d14h"},
    {"kind": "new_agent", "start": "+1d20h"}, {"kind": "dip", "start": "+2d2h", "magnitude": 0.3}]}


def _files(out):
    return {f["name"]: (out / f["name"]).read_bytes() for f in manifest(out)["files"]}


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    outs = {}
    for rotate in ("day", "hour", "none", "size:2MB"):
        out = tmp_path_factory.mktemp(f"whole-{rotate.replace(':', '')}")
        synth.generate(SCENARIO, out_dir=out, workers=1, rotate=rotate, **SPEC)
        outs[rotate] = out
    return outs


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("rotate", ["day", "hour", "none", "size:2MB"])
def test_any_number_of_workers_writes_the_same_bytes(tmp_path, whole, workers, rotate):
    """--workers 2 and 3 write byte-identical files (names, content, manifest records) to --workers 1."""
    synth.generate(SCENARIO, out_dir=tmp_path, workers=workers, rotate=rotate, **SPEC)
    assert _files(tmp_path) == _files(whole[rotate])
    strip = lambda m: {k: v for k, v in m.items() if k != "options"}  # noqa: E731
    assert strip(manifest(tmp_path)) == strip(manifest(whole[rotate]))
    assert (tmp_path / "anomalies.json").read_bytes() == (whole[rotate] / "anomalies.json").read_bytes()


@pytest.mark.parametrize("rotate", ["day", "hour", "none"])
def test_shards_together_are_the_whole_run(tmp_path, whole, rotate):
    """Shards 1/3, 2/3 and 3/3 (with any worker count) together are the whole run: for time
    rotation the same files, shared out; for none, three access.log that concatenate to it."""
    shards = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        synth.generate(SCENARIO, out_dir=out, workers=k, rotate=rotate, shard=f"{k}/3", **SPEC)
        assert manifest(out)["options"]["shard"] == f"{k}/3"
        shards.append(out)
    if rotate == "none":
        assert b"".join((out / "access.log").read_bytes() for out in shards) == (whole[rotate] / "access.log").read_bytes()
    else:
        together = {}
        for out in shards:
            files = _files(out)
            assert not set(files) & set(together)
            together.update(files)
        assert together == _files(whole[rotate])
        assert all(_files(out) for out in shards)  # each machine gets something to ship


# Every way a line can be written: the built-in formats, an Apache LogFormat, an nginx
# log_format, and a share of the junk real servers log.
LINE_FORMATS = [{"format": name} for name in ("combined", "combined_timing", "common", "ecs_json",
                                              "nginx_combined", "vhost_combined")] + [
    {"log_format": '%a %l %u [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %>s %b %D'},
    {"nginx_log_format": '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent $request_time'},
    {"format": "combined", "messy": 0.05}]


@pytest.mark.parametrize("line_format", LINE_FORMATS, ids=lambda f: "-".join(map(str, f.values()))[:40])
def test_every_format_writes_the_same_bytes_with_any_workers_and_shards(tmp_path, line_format):
    """Hourly files of a day with a spike: one worker, three, and two shards of two workers each
    write the same files, whatever the line format."""
    spec = dict(SPEC, days=0.75, rate=0.3, rotate="hour", spike_minutes=20, tz="+0530", **line_format)
    one, three = tmp_path / "one", tmp_path / "three"
    synth.generate("classic", out_dir=one, workers=1, **spec)
    synth.generate("classic", out_dir=three, workers=3, **spec)
    whole = _files(one)
    assert len(whole) >= 18 and _files(three) == whole
    together: dict[str, bytes] = {}
    for k in (1, 2):
        shard = _files(_shard(tmp_path / f"shard{k}", k, spec))
        assert shard and not set(shard) & set(together)
        together.update(shard)
    assert together == whole


def test_a_messy_runs_last_line_is_cut_in_the_shard_that_ends_it(tmp_path):
    """Apache leaves the run's last line cut short: in one access.log, it is the last shard's
    part that ends with it, so the parts still concatenate to the whole run."""
    spec = dict(SPEC, days=0.5, rate=0.3, rotate="none", messy=0.05)
    synth.generate("classic", out_dir=tmp_path / "one", workers=1, **spec)
    whole = (tmp_path / "one" / "access.log").read_bytes()
    assert not whole.endswith(b"\n")
    parts = [(_shard(tmp_path / f"shard{k}", k, spec) / "access.log").read_bytes() for k in (1, 2)]
    assert parts[0].endswith(b"\n") and b"".join(parts) == whole


def _shard(out, k, spec):
    synth.generate("classic", out_dir=out, workers=2, shard=f"{k}/2", **spec)
    return out


def test_shard_problems():
    with pytest.raises(synth.ScenarioError, match="shard: must be K/N"):
        synth.generate("classic", shard="4/3", out_dir="/tmp/never-written")
    with pytest.raises(synth.ScenarioError, match="shard: size rotation"):
        synth.generate("classic", shard="1/2", rotate="size:10MB", out_dir="/tmp/never-written")


def test_bench_reports_consistent_figures(tmp_path):
    """`synth bench --lines 50000 --json`: figures that agree with each other (no timing
    asserted), and nothing left in the folder it worked in."""
    result = subprocess.run([sys.executable, "-m", "synth", "bench", "--lines", "50000", "--repeat", "1",
                             "--workers", "2", "--dir", str(tmp_path), "--json"],
                            capture_output=True, text=True, check=True)
    assert list(tmp_path.iterdir()) == []
    bench = json.loads(result.stdout)
    assert abs(bench["lines"] - 50_000) < 5_000
    assert bench["bytes"] > 100 * bench["lines"]
    assert bench["lines_per_s"] == pytest.approx(bench["lines"] / bench["seconds"])
    assert bench["mb_per_s"] == pytest.approx(bench["bytes"] / bench["seconds"] / 1e6)
    assert bench["ratio"] == pytest.approx(bench["mb_per_s"] / bench["raw_mb_per_s"])
    # the raw write to the disk (fdatasync) and into the page cache, each over the run's bytes
    assert bench["raw_mb_per_s"] == pytest.approx(bench["bytes"] / bench["raw_runs"][0] / 1e6)
    assert bench["cache_mb_per_s"] == pytest.approx(bench["bytes"] / bench["cache_runs"][0] / 1e6)
    assert bench["peak_rss_mb"] > 10 and bench["workers"] == 2 and len(bench["runs"]) == 1
    # three processes, each holding at most as much as the largest at its largest
    assert bench["peak_rss_mb"] <= bench["peak_total_mb"] * 3 and bench["peak_total_mb"] <= 3 * bench["peak_rss_mb"]


def test_tree_memory_counts_the_children():
    """A child process that fills 64 MB shows in the tree's total and the sampler's peak, and
    is its largest process; gone, it no longer counts."""
    before = tree_pss_kb(os.getpid())
    with TreeMemory() as memory:
        child = subprocess.Popen([sys.executable, "-c", "import sys; b = bytearray(64 << 20); "
                                  "b[::4096] = b'x' * len(b[::4096]); print(1, flush=True); sys.stdin.read()"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            assert child.stdout.readline() == b"1\n"
            during = tree_pss_kb(os.getpid())
            seen = memory.samples
            deadline = time.monotonic() + 30
            while memory.samples < seen + 2 and time.monotonic() < deadline:  # one begun after the child filled
                time.sleep(0.01)
        finally:
            child.communicate(b"")
    assert during - before > 60 << 10
    assert memory.peak_kb > before + (60 << 10)
    assert memory.largest_kb > 64 << 10
    assert tree_pss_kb(os.getpid()) < during - (60 << 10)
