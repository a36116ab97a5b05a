"""`synth bench --verify`: the figures describe the run it verified and agree with each other
(no timing asserted); bad combinations are refused."""

import json
import statistics
import subprocess
import sys

import pytest

import synth
from synth.cli import main
from synth.run.bench import BENCH_DAYS, BENCH_END


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_bench_verify_reports_the_run_it_verified(tmp_path):
    """Lines counted are exactly the lines of the run `bench` says it made (the same scenario,
    seed, end and rate), none fail with the bundled pipeline, and the rates are the counts over
    the medians; nothing is left in the folder it worked in."""
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run([sys.executable, "-m", "synth", "bench", "--verify", "--lines", "10000", "--repeat", "2",
                             "--dir", str(work), "--json"], capture_output=True, text=True, check=True)
    assert list(work.iterdir()) == []
    bench = json.loads(result.stdout)
    run = synth.generate("classic", seed=1, out_dir=tmp_path / "same", end=BENCH_END, days=BENCH_DAYS,
                         rate=10000 / (BENCH_DAYS * 86400))
    assert bench["lines"] == run.lines
    assert bench["files"] == len(run.files) and bench["bytes"] == run.bytes
    assert bench["failed"] == 0 and bench["pipeline"] == "smoke_event-access"
    assert bench["workers"] == 1  # under 4 MB: one process, as synth verify chooses
    assert len(bench["runs"]) == 2 and bench["seconds"] == pytest.approx(statistics.median(bench["runs"]))
    assert bench["lines_per_s"] == pytest.approx(bench["lines"] / bench["seconds"])
    assert bench["cpu_seconds"] == pytest.approx(statistics.median(bench["cpu_runs"]))
    assert bench["lines_per_cpu_s"] == pytest.approx(bench["lines"] / bench["cpu_seconds"])
    assert "core" in bench["cpu"] and len(bench["load"]) == 2


def test_bench_verify_prints_rate_machine_and_load(tmp_path, capsys):
    """The text report names lines/s, lines per CPU-second, the processor and the load."""
    code, out, err = run_cli(["bench", "--verify", "--lines", "3000", "--repeat", "1", "--dir", str(tmp_path)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("verify: ") and "pipeline smoke_event-access, 1 worker, median of 1" in lines[0]
    assert lines[1].startswith("machine: ") and "core" in lines[1] and "load average" in lines[1]
    assert "lines/s" in lines[2] and "lines per CPU-second" in lines[3]


def test_bench_verify_and_stream_are_refused_together(tmp_path, capsys):
    """--verify with --stream: one line naming both options, exit 2, nothing written."""
    code, out, err = run_cli(["bench", "--verify", "--stream", "--dir", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1].endswith("--stream, --inject and --verify: choose one")
    assert list(tmp_path.iterdir()) == []
