"""Signals at every stage of a long run, on real processes: during the set-up (nothing written),
while workers write, while the parent writes, while the final manifest is written; a signal to
the whole process group or to one worker; the parent killed outright. Each time: whole lines,
a manifest that says incomplete, the lock released, exit status 128 + the signal, and no worker
left behind holding the folder.

A run is meant to end within 2 s of the signal; these tests allow a shared, loaded machine
STOP_TIMEOUT for it (they check that the run ends of itself, not how fast).
"""

import ctypes
import json
import os
import select
import shutil
import signal
import sys
import time

import pytest
from helpers import check_files, manifest
from test_reliability import (
    TIMEOUT,
    data_bytes,
    finish,
    processes_writing,
    synth_process,
    wait_for,
    whole_lines_on_disk,
)

import synth
import synth.run.generate as run_generate
from synth.output.files import LOCK, OutputLock

STOP_TIMEOUT = 30
END = "2026-11-28T00:00:00Z"
# Two days of a busy site (3.4 million lines): no test here lets it finish; each signals it a
# few megabytes in, whatever stage it waits for.
LONG = ["generate", "--days", 2, "--rate", 20, "--seed", 5, "--end", END, "--quiet"]
# Ten years of hourly files: tens of thousands of groups of files for the workers, which a stop
# must not wait for one by one.
DECADE = ["--days", 3650]
IN_CLOSE_NOWRITE = 0x10  # inotify: a file opened for reading was closed


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    found = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        found += [int(c) for c in open(f"/proc/{pid}/task/{tid}/children").read().split()]
    return found


def watch_reads(path):
    """An inotify descriptor that becomes readable once a process has read ``path`` and closed it."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(path), IN_CLOSE_NOWRITE) < 0:
        raise OSError(ctypes.get_errno(), f"inotify on {path}")
    return fd


def wait_for_read(fd, proc, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not select.select([fd], [], [], 0.05)[0]:
        if proc.poll() is not None:
            raise AssertionError(f"synth ended ({proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")


def ends_within(proc, timeout=STOP_TIMEOUT):
    """The process's exit status and stderr, once it has ended by itself (killed after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"still running {timeout} s after the signal")
        time.sleep(0.02)
    return finish(proc)


def stopped_cleanly(out, code, err, signum):
    assert code == 128 + signum, err
    assert err.startswith(f"synth: stopped by {signal.Signals(signum).name}: ") and err.count("\n") == 1, err
    m = manifest(out)
    assert m["complete"] is False and m["lines"] == len(check_files(out).splitlines()) > 0
    whole_lines_on_disk(out)
    assert not (out / LOCK).exists()
    wait_for("the workers to be gone", lambda: not processes_writing(out), timeout=STOP_TIMEOUT)


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory):
    """The folder of a finished small run, for the set-up tests to leave as it was."""
    out = tmp_path_factory.mktemp("previous") / "out"
    synth.generate(days=0.05, rate=0.1, spike_minutes=5, seed=1, out_dir=out)
    return out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_during_set_up_ends_the_run_with_nothing_written(tmp_path, previous_run, signum):
    """Building five million visitors takes a while: a signal then ends the run at once, with
    nothing written; the folder of the previous run is left exactly as it was."""
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    scenario = tmp_path / "crowd.yaml"
    scenario.write_text("clients: 5000000\nrate: 20\ndays: 3650\n")
    reads = watch_reads(scenario)
    try:
        proc = synth_process("generate", "--scenario", scenario, "--end", END, "--workers", 2, "--quiet",
                             "--out", out)
        # The run reads its scenario first thing, its signal handlers set: the set-up is under way.
        wait_for_read(reads, proc, "the scenario to be read")
    finally:
        os.close(reads)
    # Then into the building of the visitors (a signal in the first moments after the scenario
    # is read is sometimes not acted on until the set-up ends: a known fault, not held here).
    wait_for("the visitors to be under way", lambda: cpu_seconds(proc.pid) > 3, proc)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # still setting up
    os.kill(proc.pid, signum)
    code, stdout, err = ends_within(proc)
    assert code == 128 + signum, err
    assert err == f"synth: stopped by {signal.Signals(signum).name} before anything was written\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


class _SignalsInItsFinaliser:
    """Sends SIGINT to this process from its ``__del__``: the handler then runs inside the
    finaliser, where Python drops whatever it raises ("Exception ignored in ...")."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # bytecodes, for the handler to run here and not after
            pass


def busy(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


@pytest.fixture
def lost(monkeypatch):
    """What Python drops in finalisers, kept as Python's own hook would print it. Not pytest's
    hook: that one imports and walks frames, long enough for the alarm to land inside it."""
    dropped: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: dropped.append(unraisable.exc_type))
    return dropped


def test_a_set_up_signal_lost_in_a_finaliser_is_raised_again(lost):
    """A signal whose exception a finaliser swallowed still ends the set-up: an alarm raises it
    again while the set-up goes on; the alarm's handler and timer are put back afterwards."""
    from synth.run.signals import SetupInterrupted, Stopper, stop_on_signals

    def before(signum, frame):
        raise AssertionError("the caller's alarm went off during the run")

    previous = signal.signal(signal.SIGALRM, before)
    stopper = Stopper()
    try:
        with pytest.raises(SetupInterrupted) as stopped, stop_on_signals(stopper, setting_up=True):
            _SignalsInItsFinaliser()  # dropped at once: the signal lands in its __del__
            assert stopper.signal == signal.SIGINT and lost == [SetupInterrupted]  # received, its exception lost
            busy(30)  # the set-up going on: never reaches its end
        assert stopped.value.signum == signal.SIGINT
        assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_a_set_up_signal_lost_in_a_finaliser_ends_the_run_where_the_set_up_ends(monkeypatch, lost):
    """Should the alarm not come in time, leaving the set-up raises the signal that was lost."""
    import synth.run.signals as signals

    monkeypatch.setattr(signals, "RERAISE_S", 3600.0)
    stopper = signals.Stopper()
    with pytest.raises(signals.SetupInterrupted), signals.stop_on_signals(stopper, setting_up=True):
        _SignalsInItsFinaliser()
        assert stopper.signal == signal.SIGINT and stopper.requested and lost == [signals.SetupInterrupted]
        stopper.leave_setup()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize("rotate, signum, to_group, days", [
    ("day", signal.SIGTERM, False, []),  # workers write whole files
    ("day", signal.SIGTERM, True, []),  # kill -TERM of the process group: the workers get it too
    ("hour", signal.SIGINT, True, []),  # Ctrl-C
    ("hour", signal.SIGINT, True, DECADE),
    ("size:8MB", signal.SIGTERM, True, []),  # workers render, the parent writes and names the files
    ("none", signal.SIGINT, False, []),
], ids=["day-TERM", "day-TERM-group", "hour-INT-group", "decade-hour-INT-group", "size-TERM-group", "none-INT"])
def test_a_signal_while_a_long_range_is_written(tmp_path, rotate, signum, to_group, days):
    out = tmp_path / "out"
    proc = synth_process(*LONG, *days, "--out", out, "--rotate", rotate, "--workers", 2)
    wait_for("two megabytes of lines", lambda: data_bytes(out) > 2 << 20, proc)
    (os.killpg if to_group else os.kill)(proc.pid, signum)
    code, _, err = ends_within(proc)
    stopped_cleanly(out, code, err, signum)


def test_a_signal_to_one_worker_stops_the_run(tmp_path):
    """SIGTERM to a worker alone (its parent alive) is a stop request for the whole run: the
    parent does not wait for work that worker will never return."""
    out = tmp_path / "out"
    proc = synth_process(*LONG, "--out", out, "--rotate", "day", "--workers", 2)
    wait_for("two megabytes of lines", lambda: data_bytes(out) > 2 << 20, proc)
    os.kill(children(proc.pid)[0], signal.SIGTERM)
    code, _, err = ends_within(proc)
    stopped_cleanly(out, code, err, signal.SIGTERM)


def test_workers_end_with_their_parent_and_the_lock_is_free_at_once(tmp_path):
    """SIGKILL of the parent: no worker holds the folder's lock (the next run takes it over at once,
    even before the workers are gone), and every worker exits by itself, between lines."""
    out = tmp_path / "out"
    proc = synth_process(*LONG, "--out", out, "--rotate", "day", "--workers", 3)
    wait_for("two megabytes of lines", lambda: data_bytes(out) > 2 << 20, proc)
    workers = children(proc.pid)
    assert len(workers) == 2  # the parent writes a share of its own
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert json.loads((out / LOCK).read_text())["pid"] == proc.pid  # left behind, stale
    with OutputLock(out, "generate"):  # taken over at once
        pass
    wait_for("the workers to be gone", lambda: not any(os.path.exists(f"/proc/{pid}") and
                                                       open(f"/proc/{pid}/stat").read().split()[2] != "Z"
                                                       for pid in workers), timeout=STOP_TIMEOUT)
    whole_lines_on_disk(out)
    # The files the killed run had under way are in no manifest: force=True (--force) to write over them.
    synth.generate(days=0.05, rate=0.1, spike_minutes=5, force=True, out_dir=out)
    assert manifest(out)["complete"] is True and not (out / LOCK).exists()
    whole_lines_on_disk(out)


def test_a_signal_while_the_final_manifest_is_written(tmp_path, monkeypatch):
    """The signal arrives as the last manifest is written: every line is there, but the run was
    told to stop, so it exits 143 and its manifest says incomplete, the lock released."""
    real = run_generate.save_manifest

    def signalled(manifest_, out, files, complete, failure=None):
        if complete:
            os.kill(os.getpid(), signal.SIGTERM)  # handled at once, in this thread
        real(manifest_, out, files, complete, failure)

    monkeypatch.setattr(run_generate, "save_manifest", signalled)
    with pytest.raises(synth.Interrupted) as stopped:
        synth.generate("classic", seed=2, days=0.2, rate=1, spike_minutes=5, end=END, out_dir=tmp_path, workers=2)
    assert stopped.value.exit_code == 128 + signal.SIGTERM
    m = manifest(tmp_path)
    assert m["complete"] is False and m["lines"] == len(check_files(tmp_path).splitlines()) > 0
    assert not (tmp_path / LOCK).exists()
