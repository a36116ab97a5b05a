"""The command line: the seed's printed lines, one-line errors with exit 2, the output folder's rules."""

import os
import subprocess
import sys
import time

import pytest

from synth.cli import main

TINY = ["--days", "0.05", "--rate", "0.05", "--spike-minutes", "5", "--end", "2026-11-28T12:00:00Z"]


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def snapshot(folder):
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()} if folder.exists() else None


def test_prints_the_seed_lines_and_a_summary(tmp_path, capsys):
    """The four lines users' scripts grep for, then the summary with the seed, then the histogram."""
    code, out, err = run_cli(["generate", "--out", str(tmp_path / "o"), "--seed", "5", "--days", "2", "--rate", "0.05",
                              "--end", "2026-11-28T12:00:00Z"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "creating time series for previous 2 days"
    assert lines[1] == "creating anomaly time series range within the previous 2 days"
    assert lines[2].startswith("Anomaly Start Time 2026-11-2") and lines[2].endswith(":00Z")
    assert lines[3].startswith("Anomaly End Time 2026-11-2")
    assert "seed 5" in lines[4]
    assert any("<- spike" in line for line in lines[5:])


def test_no_seed_draws_one_and_records_it(tmp_path, capsys):
    """Without --seed a seed is drawn, printed, and recorded; replaying it gives the same bytes."""
    code, out, _ = run_cli(["generate", "--out", str(tmp_path / "a"), "--quiet", *TINY], capsys)
    assert code == 0
    seed = int(out.split("; seed ")[1].split()[0])
    import json
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["seed"] == seed
    code, _, _ = run_cli(["generate", "--out", str(tmp_path / "b"), "--quiet", "--seed", str(seed), *TINY], capsys)
    assert (tmp_path / "a" / "access.log").read_bytes() == (tmp_path / "b" / "access.log").read_bytes()


BAD = [
    (["--days", "-3"], "--days"),
    (["--days", "abc"], "--days"),
    (["--end", "not-a-date"], "--end"),
    (["--rotate", "weekly"], "--rotate"),
    (["--days", "7", "--spike-minutes", "20000"], "--spike-minutes"),
    (["--spike-magnitude", "0.5"], "--spike-magnitude"),
    (["--rate", "0"], "--rate"),
    (["--tz", "0800"], "--tz"),
    (["--seed", "-1"], "--seed"),
    (["--format", "nope"], "--format"),
    (["--scenario", "nope"], "--scenario"),
    (["--bogus"], "--bogus"),
]


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory):
    """A folder holding a run of ours, for the bad options to leave as it is."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--out", str(out), "--seed", "1", "--quiet", *TINY])
    assert exit_info.value.code == 0
    return out


@pytest.mark.parametrize("args, option", BAD)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, earlier_run, args, option):
    """Each bad option: one line on stderr naming it, exit status 2, the folder untouched."""
    out = earlier_run
    before = snapshot(out)
    assert before and "access.log" in before
    code, stdout, err = run_cli(["generate", "--out", str(out), *args], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and option in err, err
    assert stdout == ""
    assert snapshot(out) == before
    missing = tmp_path / "never"
    code, _, _ = run_cli(["generate", "--out", str(missing), *args], capsys)
    assert code == 2 and not missing.exists()


def test_out_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("mine")
    code, _, err = run_cli(["generate", "--out", str(target), *TINY], capsys)
    assert code == 2 and "--out" in err and target.read_text() == "mine"


def test_foreign_files_need_force_and_are_never_touched(tmp_path, capsys):
    """A folder with files we did not write is refused; with --force we write beside them."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / ".gitkeep").write_text("")
    code, _, err = run_cli(["generate", "--out", str(out), *TINY], capsys)
    assert code == 2 and "--out" in err and "notes.txt" in err
    assert sorted(p.name for p in out.iterdir()) == [".gitkeep", "notes.txt"]
    code, _, _ = run_cli(["generate", "--out", str(out), "--force", "--quiet", *TINY], capsys)
    assert code == 0
    assert (out / "notes.txt").read_text() == "keep me" and (out / "access.log").exists()


def test_earlier_run_is_replaced(tmp_path, capsys):
    """Files of an earlier run of ours go, even when the new run names its files differently."""
    out = tmp_path / "out"
    (out).mkdir()
    (out / ".gitkeep").write_text("")
    assert run_cli(["generate", "--out", str(out), "--rotate", "hour", "--quiet", "--days", "0.5", *TINY[2:]], capsys)[0] == 0
    hourly = {p.name for p in out.iterdir()}
    assert any(name.startswith("access.log-2026") for name in hourly)
    assert run_cli(["generate", "--out", str(out), "--rotate", "none", "--quiet", *TINY], capsys)[0] == 0
    assert {p.name for p in out.iterdir()} == {".gitkeep", "access.log", "anomalies.json", "manifest.json"}


def test_python_dash_m_and_console_script(tmp_path):
    """``python -m synth`` and the ``synth`` script are the same program."""
    for command in ([sys.executable, "-m", "synth"], [os.path.join(os.path.dirname(sys.executable), "synth")]):
        result = subprocess.run([*command, "--version"], capture_output=True, text=True)
        assert result.returncode == 0 and "synth" in result.stdout
        bad = subprocess.run([*command, "generate", "--days", "-1", "--out", str(tmp_path / "x")],
                             capture_output=True, text=True)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--days" in bad.stderr


def test_rotated_files_are_named_as_logrotate_names_them(tmp_path, capsys):
    """By day: access.log-YYYYMMDD of the day its lines belong to (in the --tz written), the
    last day in access.log; by size: access.log.N oldest to access.log.1 newest, then access.log."""
    from helpers import COMBINED_RE, epoch_seconds, manifest

    def days_in(path, tz_s):
        return {time.strftime("%Y%m%d", time.gmtime(epoch_seconds(COMBINED_RE.match(line)) + tz_s))
                for line in path.read_text().splitlines()}

    base = ["--days", "3", "--rate", "0.2", "--seed", "2", "--end", "2026-11-28T12:00:00Z"]
    out = tmp_path / "day"
    code, _, err = run_cli(["generate", *base, "--out", str(out), "--tz", "-0500", "--quiet"], capsys)
    assert code == 0, err
    names = [f["name"] for f in manifest(out)["files"]]
    assert names == ["access.log-20261125", "access.log-20261126", "access.log-20261127", "access.log"]
    for name in names[:-1]:
        assert days_in(out / name, -5 * 3600) == {name.split("-")[1]}
    assert days_in(out / "access.log", -5 * 3600) == {"20261128"}

    out = tmp_path / "size"
    code, _, err = run_cli(["generate", *base, "--out", str(out), "--rotate", "size:1MB", "--quiet"], capsys)
    assert code == 0, err
    records = manifest(out)["files"]
    n = len(records) - 1
    assert n >= 3 and [f["name"] for f in records] == [f"access.log.{k}" for k in range(n, 0, -1)] + ["access.log"]
    assert [f["first"] for f in records] == sorted(f["first"] for f in records)
    assert all(f["bytes"] <= 1_000_000 for f in records)


@pytest.mark.parametrize("quiet, terminal, shown", [(False, True, True), (True, True, False), (False, False, False)],
                         ids=["terminal", "quiet", "pipe"])
def test_progress_bar_only_on_a_terminal_and_not_when_quiet(tmp_path, quiet, terminal, shown):
    """A run draws a progress bar on stderr when stderr is a terminal, none with --quiet or
    when stderr is a pipe; the seed lines come either way, the histogram not with --quiet."""
    import pty

    master, slave = pty.openpty() if terminal else os.pipe()[::-1]
    args = ["generate", "--days", "1", "--rate", "0.5", "--seed", "3", "--end", "2026-11-28T12:00:00Z",
            "--out", str(tmp_path / "o"), *(["--quiet"] if quiet else [])]
    proc = subprocess.Popen([sys.executable, "-m", "synth", *args], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # a pty's reader gets EIO once the writer is gone
            break
        if not chunk:
            break
        seen += chunk
    stdout = proc.communicate(timeout=120)[0].decode()
    os.close(master)
    assert proc.returncode == 0
    assert (b"generating" in seen) is shown, seen[-300:]
    assert stdout.splitlines()[2].startswith("Anomaly Start Time")
    assert any("<- spike" in line for line in stdout.splitlines()) is not quiet  # the histogram
