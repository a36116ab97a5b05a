"""Every number and time a run takes is checked: finite, in its stated range, inside the span of
times synth writes (1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z); a bad one is one line on
stderr naming the option or the YAML path, exit status 2, nothing written, for generate, stream,
inject, fit and bench alike. Ranges at both edges of the span are written whole."""

import datetime as dt
import importlib
import math

import pytest
from helpers import check_files

import synth
from synth.cli import main
from synth.generate.scenario import ScenarioError, load_scenario

checks = importlib.import_module("synth.generate.checks")
TINY = ["--days", "0.05", "--rate", "0.05", "--spike-minutes", "5", "--end", "2026-11-28T12:00:00Z"]


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def snapshot(folder):
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()} if folder.exists() else None


# (arguments, the option the one line must name, a piece of its message)
GENERATE = [
    (["--days", "inf"], "--days", "finite"),
    (["--days", "1e400"], "--days", "finite"),
    (["--days", "nan"], "--days", "finite"),
    (["--days", "-inf"], "--days", "finite"),
    (["--spike-magnitude", "inf"], "--spike-magnitude", "finite"),
    (["--spike-magnitude", "1e308"], "--spike-magnitude", "<= 1,000 for spike"),
    (["--spike-magnitude", "nan"], "--spike-magnitude", "finite"),
    (["--spike-minutes", "inf"], "--spike-minutes", "finite"),
    (["--spike-minutes", "nan"], "--spike-minutes", "finite"),
    (["--days", "1e9", "--rate", "1e-6"], "--days", "<= 47,482"),
    (["--days", "3000", "--rate", "1e6"], "--rate", "lines; at most"),
    (["--rate", "inf"], "--rate", "finite"),
    (["--rate", "nan"], "--rate", "finite"),
    (["--rate", "1e7"], "--rate", "<= 1,000,000"),
    (["--end", "0001-01-01"], "--end", "outside the times synth writes"),
    (["--end", "1900-01-01"], "--end", "outside the times synth writes"),
    (["--end", "2100-01-02"], "--end", "outside the times synth writes"),
    (["--end", "9999-12-31T23:59:59Z"], "--end", "outside the times synth writes"),
    (["--end", "1970-01-01T01:00:00Z", "--days", "0.1"], "--days", "leaves the times synth writes"),
    (["--end", "1975-01-01", "--days", "3650"], "--days", "leaves the times synth writes"),
    (["--days", "47000"], "--days", "leaves the times synth writes"),  # back from now, past 1970
    (["--workers", "0"], "--workers", ">= 1"),
    (["--workers", "1000000"], "--workers", "<= 256"),
    (["--seed", str(2**64)], "--seed", "whole number"),
]


@pytest.mark.parametrize("args, option, message", GENERATE)
def test_generate_refuses_every_bad_number(tmp_path, capsys, args, option, message):
    """One line naming the option, exit 2, the folder of an earlier run untouched, no new folder."""
    out = tmp_path / "out"
    code, _, err = run_cli(["generate", "--out", str(out), "--seed", "1", "-q", *TINY], capsys)
    assert code == 0, err
    before = snapshot(out)
    code, stdout, err = run_cli(["generate", "--out", str(out), "-q", *args], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"synth: {option}: ") and message in err, err
    assert "Traceback" not in err and stdout == ""
    assert snapshot(out) == before
    missing = tmp_path / "never"
    code, _, _ = run_cli(["generate", "--out", str(missing), "-q", *args], capsys)
    assert code == 2 and not missing.exists()


STREAM = [
    (["--rate", "inf"], "--rate", "finite"),
    (["--rate", "nan"], "--rate", "finite"),
    (["--speed", "inf"], "--speed", "finite"),
    (["--speed", "nan"], "--speed", "finite"),
    (["--speed", "1e400"], "--speed", "finite"),
    (["--speed", "0"], "--speed", "> 0"),
    (["--backfill", "30000d"], "--backfill", "leaves the times synth writes"),
    (["--backfill", "99999999d"], "--backfill", "at most 47482 days"),
    (["--duration", "1e400"], "--duration", "duration like"),
    (["--duration", "40000d"], "--duration", "leaves the times synth writes"),
    (["--anomaly-every", "1h", "--spike-magnitude", "1e308"], "--spike-magnitude", "<= 1,000"),
    (["--anomaly-every", "1h", "--spike-magnitude", "nan"], "--spike-magnitude", "finite"),
    (["--anomaly-every", "1h", "--spike-minutes", "inf"], "--spike-minutes", "finite"),
    (["--spike-magnitude", "inf"], "--spike-magnitude", "finite"),
    (["--workers", "0"], "--workers", ">= 1"),
]


def test_the_stream_table_starts_from_a_good_stream(tmp_path, capsys):
    """The options the table adds to each case make a stream that runs (so each case fails for its own value)."""
    code, _, err = run_cli(["stream", "--out", str(tmp_path), "--speed", "1000", "--duration", "2s",
                            "--anomaly-every", "1h", "--rate", "1"], capsys)
    assert code == 0, err


@pytest.mark.parametrize("args, option, message", STREAM)
def test_stream_refuses_every_bad_number(tmp_path, capsys, args, option, message):
    """The same for synth stream (a short, fast stream, so a check that let a value through ends)."""
    out = tmp_path / "out"
    base = [] if "--duration" in args else ["--duration", "2s"]
    base += [] if "--anomaly-every" in args else ["--anomaly-every", "1h"]
    code, stdout, err = run_cli(["stream", "--out", str(out), "--speed", "1000", *base, *args], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"synth: {option}: ") and message in err, err
    assert stdout == "" and not out.exists()


BENCH = [
    (["--lines", "1e400"], "--lines", "whole number"),
    (["--lines", "10"], "--lines", ">= 1,000"),
    (["--lines", str(10**12)], "--lines", "<= 1,000,000,000"),
    (["--workers", "0"], "--workers", ">= 1"),
    (["--repeat", "0"], "--repeat", ">= 1"),
    (["--stream", "--rate", "inf"], "--rate", "finite"),
    (["--stream", "--rate", "nan"], "--rate", "finite"),
    (["--stream", "--rate", "1e400"], "--rate", "finite"),
    (["--stream", "--seconds", "inf"], "--seconds", "whole number"),
]


@pytest.mark.parametrize("args, option, message", BENCH)
def test_bench_refuses_every_bad_number(tmp_path, capsys, args, option, message):
    code, stdout, err = run_cli(["bench", "--dir", str(tmp_path), *args], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and f"'{option}'" in err and message in err, err
    assert stdout == "" and list(tmp_path.iterdir()) == []


INJECT = [
    (["--anomaly", "spike:magnitude=inf"], "--anomaly", "#0.magnitude: must be a finite number"),
    (["--anomaly", "spike:magnitude=nan"], "--anomaly", "#0.magnitude: must be a finite number"),
    (["--anomaly", "spike:minutes=1e400"], "--anomaly", "#0.minutes: must be a finite number"),
    (["--anomaly", "dip:magnitude=-1"], "--anomaly", "#0.magnitude: must be >= 0"),
    (["--anomaly", "spike:start=0001-01-01"], "--anomaly", "outside the times synth writes"),
    (["--anomaly", "spike:start=2026-13-45"], "--anomaly", "#0.start"),
    (["--seed", "-1"], "--seed", "whole number from 0"),
]


@pytest.fixture(scope="module")
def small_log(tmp_path_factory):
    out = tmp_path_factory.mktemp("limits") / "log"
    synth.generate({"name": "plain", "days": 1, "rate": 0.2, "anomalies": []}, seed=3, out_dir=out, end="2026-11-28T12:00:00Z",
                   rotate="none", workers=1)
    return out / "access.log"


@pytest.mark.parametrize("args, option, message", INJECT)
def test_inject_refuses_every_bad_number(tmp_path, capsys, small_log, args, option, message):
    """The same for synth inject: the user's log is read by nothing before the check."""
    out = tmp_path / "out"
    code, stdout, err = run_cli(["inject", str(small_log), "--out", str(out), *args], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"synth: {option}: ") and message in err, err
    assert stdout == "" and not out.exists()


FIT = [
    (["--seed", "-3"], "--seed"),
    (["--seed", "1e400"], "--seed"),
    (["--seed", "nan"], "--seed"),
]


@pytest.mark.parametrize("args, option", FIT)
def test_fit_refuses_every_bad_number(tmp_path, capsys, small_log, args, option):
    code, stdout, err = run_cli(["fit", "--check", "-o", str(tmp_path / "twin.yaml"), str(small_log), *args], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and f"'{option}'" in err, err
    assert stdout == "" and list(tmp_path.iterdir()) == []


YAML = [
    ("end: 2026-13-45\n", "end: must be now, epoch seconds or an ISO 8601 time (UTC when it has no zone), got '2026-13-45'"),
    ("end: 1900-01-01\n", "end: 1900-01-01T00:00:00Z is outside the times synth writes"),
    ("end: 0001-01-01T00:00:00Z\n", "end: 0001-01-01T00:00:00Z is outside the times synth writes"),
    ("days: .inf\n", "days: must be a finite number > 0 and <= 47,482, got inf"),
    ("days: .nan\n", "days: must be a finite number > 0 and <= 47,482, got nan"),
    ("rate: 1.0e+400\n", "rate: must be a finite number > 0 and <= 1,000,000, got inf"),
    ("clients: .inf\n", "clients: must be a finite number >= 10 and <= 5,000,000, got inf"),
    ("pages: .nan\n", "pages: must be a finite number >= 10 and <= 200,000, got nan"),
    ("weekend: .inf\n", "weekend: must be a finite number > 0 and <= 5, got inf"),
    ("ipv6_share: .nan\n", "ipv6_share: must be a finite number >= 0 and <= 1, got nan"),
    ("daily: [.nan, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n",
     "daily: must be 24 numbers from 0 to 1000000"),
    ("audience: {'+0100': .inf}\n", "audience.+0100: share must be a number > 0"),
    ("anomalies: [{kind: spike, magnitude: .inf}]\n",
     "anomalies[0].magnitude: must be a finite number > 1 and <= 1,000 for spike, got inf"),
    ("anomalies: [{kind: bytes, magnitude: 1.0e+308}]\n", "anomalies[0].magnitude: must be <= 100,000 for bytes"),
    ("anomalies: [{kind: dip, magnitude: .nan}]\n", "anomalies[0].magnitude: must be a finite number >= 0 and < 1"),
    ("anomalies: [{kind: spike, minutes: .inf}]\n", "anomalies[0].minutes: must be a finite number > 0"),
    ("anomalies: [{kind: spike, start: 2026-02-30T00:00:00Z}]\n", "anomalies[0].start: must be an ISO 8601 time"),
    ("anomalies: [{kind: spike, start: 1800-01-01}]\n", "anomalies[0].start: 1800-01-01T00:00:00Z is outside"),
    ("anomalies: [{kind: spike, start: +999999999d}]\n", "anomalies[0].start: an offset of"),
]


@pytest.mark.parametrize("text, message", YAML)
def test_scenario_files_refuse_every_bad_number(tmp_path, capsys, text, message):
    """In a file, the message names the file and the YAML path; through the CLI, one line, exit 2."""
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert len(error.value.lines()) == 1 and error.value.lines()[0].startswith(f"{path}: {message}"), error.value
    out = tmp_path / "out"
    code, stdout, err = run_cli(["generate", "--scenario", str(path), "--out", str(out), "-q"], capsys)
    assert code == 2 and err.startswith(f"synth: {path}: {message}") and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_library_refuses_the_same_values(tmp_path):
    """synth.generate and synth.stream check their keywords as the CLI does (the CLI only names them)."""
    for kw in ({"days": math.inf}, {"spike_magnitude": math.nan}, {"end": "0001-01-01"}, {"rate": 1e400},
               {"workers": 10**6}, {"days": 0.1, "end": "1970-01-01T01:00:00Z"}):
        with pytest.raises(ScenarioError):
            synth.generate("classic", seed=1, out_dir=tmp_path / "g", **kw)
    for kw in ({"speed": math.inf}, {"backfill": "50000d"}, {"rate": math.nan}):
        with pytest.raises(ScenarioError):
            synth.stream("classic", seed=1, out_dir=tmp_path / "s", duration="1s", **kw)
    assert not (tmp_path / "g").exists() and not (tmp_path / "s").exists()


@pytest.mark.parametrize("value, bounds, problem", [
    (3, checks.Bounds(0, 5), None),
    (0, checks.Bounds(0, 5, low_open=True), "must be > 0, got 0"),
    (5, checks.Bounds(0, 5, high_open=True), "must be < 5, got 5"),
    (2.5, checks.Bounds(0, 5, integer=True), "must be a whole number, got 2.5"),
    (True, checks.Bounds(0, 5), "must be a number, got True"),
    ("3", checks.Bounds(0, 5), "must be a number, got '3'"),
    (math.inf, checks.Bounds(0, 5, integer=True), "must be a finite number >= 0 and <= 5, got inf"),
    (-math.inf, checks.Bounds(0, 5), "must be a finite number >= 0 and <= 5, got -inf"),
    (math.nan, checks.Bounds(0, 5), "must be a finite number >= 0 and <= 5, got nan"),
    (10**400, checks.Bounds(0, 5), "must be <= 5, got 1e+400") if False else (10**30, checks.Bounds(0, 5),
                                                                            "must be <= 5, got 1e+30"),
])
def test_number_checks(value, bounds, problem):
    """The reusable check the commands share: finiteness first, then each end of the range."""
    assert checks.number_problem(value, bounds) == problem


def test_time_checks():
    utc = dt.UTC
    assert checks.time_problem(dt.datetime(1970, 1, 1, tzinfo=utc)) is None
    assert checks.time_problem(dt.datetime(2100, 1, 1, tzinfo=utc)) is None
    assert checks.time_problem(dt.datetime(2100, 1, 1, 0, 0, 1, tzinfo=utc)).startswith("2100-01-01T00:00:01Z")
    assert checks.time_problem(dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=utc)).startswith("1969-12-31T23:59:59Z")
    assert checks.range_problem(0, checks.LATEST) is None
    assert "leaves" in checks.range_problem(-1, 100)
    with pytest.raises(ScenarioError) as error:
        checks.check_number("--days", math.inf, checks.Bounds(0, 1, low_open=True))
    assert error.value.problems == [("--days", "must be a finite number > 0 and <= 1, got inf")]


@pytest.mark.parametrize("end, tz", [("1970-01-01T01:30:00Z", "-0800"), ("2100-01-01T00:00:00Z", "+1400")])
def test_ranges_at_the_edges_of_the_span_are_written_whole(tmp_path, end, tz):
    """A range that starts at the epoch's first hour (its sessions replay blocks before 1970) and one
    that ends at 2100-01-01: whole lines, in time order, a complete manifest, local times in %t."""
    run = synth.generate("classic", seed=3, out_dir=tmp_path, days=1 / 24, rate=1, end=end, tz=tz,
                         spike_minutes=5, workers=1)
    data = check_files(tmp_path)  # whole lines, in time order, every one in the manifest
    assert run.lines > 1000 and data.count(b"\n") == run.lines
    first = data.split(b"\n", 1)[0].decode()
    assert ("/Dec/1969:" in first) if end.startswith("1970") else ("/Jan/2100:" in first or "/Dec/2099" in first)
