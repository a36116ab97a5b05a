"""The reliability contract, on real processes: a tailer that follows files by inode loses no
line of a stream rotating under it; SIGTERM and SIGINT leave whole lines and a true manifest;
a full disk is one clear line and exit 1; one run per output folder.

Nothing here asserts on time: a loaded machine only makes these tests slower. Each waits for
what it needs to see (a file, a rotation) and for the process, with generous timeouts.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest
from helpers import COMBINED_RE, check_files, manifest, truth

import synth
from synth.output.files import LOCK, OutputError, OutputLock

TIMEOUT = 180


def synth_process(*args, limit=None, **kw):
    """``python -m synth ARGS`` in a session of its own (so a test can signal its whole group, as
    a terminal does), optionally with a file-size limit, as a small disk would impose."""
    def child():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.Popen([sys.executable, "-m", "synth", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=child if limit is not None else None, **kw)


def run_cli(capsys, *args):
    """``synth ARGS`` in this process (where a process of its own proves nothing more): its exit
    status, stdout and stderr."""
    from synth.cli import main
    with pytest.raises(SystemExit) as exited:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def wait_for(what, predicate, proc=None, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"synth ended ({proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.05)


def finish(proc):
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return proc.returncode, out, err


def data_bytes(out):
    return sum(p.stat().st_size for p in out.glob("*access.log*") if p.is_file())


def listed(out):
    try:
        return manifest(out)["files"]
    except (OSError, ValueError):
        return []


def processes_writing(out):
    """Processes still running with ``out`` on their command line (forked workers have the
    parent's), other than zombies."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(out).encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def whole_lines_on_disk(out):
    """Every log file on disk (listed or not) ends on a whole combined line."""
    for path in out.glob("*access.log*"):
        content = path.read_bytes()
        assert content == b"" or content.endswith(b"\n"), path
        assert all(COMBINED_RE.match(line) for line in content.decode("ascii").splitlines()), path


class Tailer:
    """Reads ``access.log*`` as Filebeat's filestream does with native file identity: a file is
    known by its inode and kept open across renames, read to its end again and again, and a
    line counts once its newline has come."""

    def __init__(self, folder):
        self.folder = folder
        self.files = {}  # inode -> open file
        self.names = {}  # inode -> every name it was seen under
        self.lines = {}  # inode -> whole lines read, in order
        self.partial = {}  # inode -> bytes read after its last newline

    def poll(self):
        for path in self.folder.glob("access.log*"):
            try:
                inode = path.stat().st_ino
                if inode not in self.files:
                    fh = open(path, "rb")
                    inode = os.fstat(fh.fileno()).st_ino  # the name may have moved on meanwhile
                    if inode in self.files:
                        fh.close()
                    else:
                        self.files[inode], self.lines[inode], self.partial[inode] = fh, [], b""
                self.names.setdefault(inode, set()).add(path.name)
            except FileNotFoundError:  # renamed between the listing and now: found next time
                continue
        for inode, fh in self.files.items():
            data = fh.read()
            if data:
                *whole, rest = (self.partial[inode] + data).split(b"\n")
                self.lines[inode] += whole
                self.partial[inode] = rest

    def close(self):
        for fh in self.files.values():
            fh.close()


@pytest.mark.parametrize("args", [
    # 1,200 lines a second, spikes of ten times that, a new file every second or less
    ["--rotate", "size:256KB", "--rate", 20, "--speed", 60, "--duration", "150s", "--anomaly-every", "1m",
     "--spike-minutes", 0.5],
    # an hour of log a second: an hourly file every second
    ["--rotate", "hour", "--rate", 1, "--speed", 3600, "--duration", "6h", "--anomaly-every", "2h",
     "--spike-minutes", 20],
], ids=["size", "hour"])
def test_a_tailer_following_inodes_loses_nothing(tmp_path, args):
    """While synth stream writes fast and rotates often, a tailer that follows each file by its
    inode across renames reads exactly the files' lines: none lost, doubled or split; the counts
    are the manifest's."""
    out = tmp_path / "out"
    proc = synth_process("stream", "--out", out, "--seed", 9, *args)
    tailer = Tailer(out)
    deadline = time.monotonic() + TIMEOUT
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if out.exists():
                tailer.poll()
            time.sleep(0.01)
        code, _, err = finish(proc)
        tailer.poll()  # what came after the last look
    finally:
        tailer.close()
    assert code == 0, err
    m = manifest(out)
    check_files(out)
    assert m["complete"] is True and len(m["files"]) >= 5
    by_inode = {os.stat(out / f["name"]).st_ino: f for f in m["files"]}
    assert set(tailer.lines) == set(by_inode)
    for inode, record in by_inode.items():
        assert tailer.partial[inode] == b""
        assert b"".join(line + b"\n" for line in tailer.lines[inode]) == (out / record["name"]).read_bytes()
        assert len(tailer.lines[inode]) == record["lines"]
    assert sum(len(lines) for lines in tailer.lines.values()) == m["lines"]
    # The tailer held files that were renamed while it read them.
    assert sum(1 for names in tailer.names.values() if "access.log" in names and len(names) > 1) >= 3
    assert all(a["complete"] for a in truth(out)["anomalies"]) and len(truth(out)["anomalies"]) >= 2


@pytest.mark.parametrize("signum, to_group", [(signal.SIGTERM, False), (signal.SIGINT, True)], ids=["TERM", "INT"])
def test_a_signal_ends_a_stream_cleanly(tmp_path, signum, to_group):
    """SIGTERM (or Ctrl-C, which a terminal sends to the whole process group) ends a stream: the
    batch in hand is finished, the files hold whole lines, the manifest is complete with the
    true counts, the lock is gone, exit status 0."""
    out = tmp_path / "out"
    proc = synth_process("stream", "--out", out, "--rate", 100, "--speed", 10, "--rotate", "size:256KB")
    wait_for("two rotations", lambda: len(listed(out)) >= 3, proc)
    (os.killpg if to_group else os.kill)(proc.pid, signum)
    code, stdout, err = finish(proc)
    assert code == 0, err
    assert f"stopped by {signal.Signals(signum).name}; wrote" in stdout
    m = manifest(out)
    assert m["complete"] is True and m["lines"] == len(check_files(out).splitlines()) > 0
    assert not (out / LOCK).exists()


def test_a_second_signal_stops_a_stream_at_once(tmp_path):
    """Two signals: the second exits at once (status 128 + its number) without finishing; the
    files still hold whole lines, and the manifest and the labels are still valid JSON."""
    out = tmp_path / "out"
    proc = synth_process("stream", "--out", out, "--rate", 200, "--speed", 10, "--rotate", "size:256KB")
    wait_for("a rotation", lambda: len(listed(out)) >= 2, proc)
    # Stopped, both signals wait; on waking, either can be the first the stream acts on (the
    # kernel may hand each to another thread), and the other ends it at once.
    os.kill(proc.pid, signal.SIGSTOP)
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGTERM)
    os.kill(proc.pid, signal.SIGCONT)
    code, _, err = finish(proc)
    assert code in (128 + signal.SIGINT, 128 + signal.SIGTERM) and "stopped by" not in err, (code, err)
    whole_lines_on_disk(out)
    assert manifest(out)["complete"] is False and isinstance(truth(out)["anomalies"], list)


# Two days of a busy site: far more than a test lets it write before its signal.
GENERATE = ["generate", "--days", 2, "--rate", 20, "--seed", 5, "--end", "2026-11-28T00:00:00Z", "--quiet"]
# Slow enough that every file is written a chunk at a time (an hour of lines, at most 5,000)
# and each chunk fits under the file-size limit below: the last file opens with the spike, whose
# first 5,000 lines are 1.27 MB, and a smaller limit would leave it and the whole run empty
# whenever it failed before the other worker had written a chunk.
SLOW = ["generate", "--days", 2, "--rate", 0.5, "--seed", 5, "--end", "2026-11-28T00:00:00Z", "--quiet"]
LIMIT = 2 << 20


@pytest.mark.parametrize("rotate, workers, signum, to_group", [
    ("hour", 2, signal.SIGTERM, False),  # workers write whole files
    ("size:32MB", 2, signal.SIGINT, True),  # workers render slices, the parent writes and names them
    ("none", 1, signal.SIGINT, False),  # one process does it all
])
def test_a_signal_stops_generate_with_whole_lines(tmp_path, rotate, workers, signum, to_group):
    """SIGTERM or SIGINT mid-generate: every worker stops at its next chunk and none is left
    running; the files hold whole lines, the manifest lists them as they are on disk with
    complete: false; one line on stderr, exit status 128 + the signal's number."""
    out = tmp_path / "out"
    proc = synth_process(*GENERATE, "--out", out, "--rotate", rotate, "--workers", workers)
    wait_for("a megabyte of lines", lambda: data_bytes(out) > 1 << 20, proc)
    (os.killpg if to_group else os.kill)(proc.pid, signum)
    code, _, err = finish(proc)
    assert code == 128 + signum, err
    assert err.startswith(f"synth: stopped by {signal.Signals(signum).name}: ") and err.count("\n") == 1, err
    m = manifest(out)
    assert m["complete"] is False and m["lines"] == len(check_files(out).splitlines()) > 0
    assert not (out / LOCK).exists()
    wait_for("the workers to be gone", lambda: not processes_writing(out), timeout=30)


def test_a_signal_during_a_backfill_stops_it_like_generate(tmp_path):
    """A signal while a stream's backfill is written by worker processes stops it as it stops
    generate (the files of the past are not all there): whole lines, complete: false, 143."""
    out = tmp_path / "out"
    proc = synth_process("stream", "--out", out, "--backfill", "2d", "--rate", 20, "--rotate", "hour",
                         "--workers", 2)
    wait_for("a megabyte of lines", lambda: data_bytes(out) > 1 << 20, proc)
    os.kill(proc.pid, signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 128 + signal.SIGTERM and err.startswith("synth: stopped by SIGTERM: "), err
    assert manifest(out)["complete"] is False and manifest(out)["lines"] == len(check_files(out).splitlines())
    wait_for("the workers to be gone", lambda: not processes_writing(out), timeout=30)


def test_a_second_signal_stops_generate_at_once(tmp_path):
    """A second signal ends generate and its workers at once, still between lines."""
    out = tmp_path / "out"
    proc = synth_process(*GENERATE, "--out", out, "--rotate", "hour", "--workers", 2)
    wait_for("a megabyte of lines", lambda: data_bytes(out) > 1 << 20, proc)
    os.kill(proc.pid, signal.SIGSTOP)  # the workers go on writing meanwhile
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGTERM)
    os.kill(proc.pid, signal.SIGCONT)
    code, _, err = finish(proc)
    # Both arrive at once: the kernel may hand each to another thread, so either can be the
    # first the run acts on. The second ends it at once (128 + its number), without the summary
    # of a run that stopped.
    assert code in (128 + signal.SIGINT, 128 + signal.SIGTERM) and "stopped by" not in err, (code, err)
    wait_for("the workers to be gone", lambda: not processes_writing(out), timeout=30)
    whole_lines_on_disk(out)


@pytest.mark.parametrize("command", [
    [*SLOW, "--rotate", "day", "--workers", 2],
    [*SLOW, "--rotate", "size:4MB", "--workers", 2],
    ["stream", "--rate", 200, "--speed", 10, "--duration", "1h", "--rotate", "none"],
], ids=["generate-day", "generate-size", "stream"])
def test_a_full_disk_is_one_clear_line_and_exit_1(tmp_path, command):
    """Writing past a file-size limit (what a small disk does to a run): one line naming the
    file and the reason, exit status 1; the files hold whole lines only, and the manifest the
    true counts with complete: false."""
    out = tmp_path / "out"
    code, _, err = finish(synth_process(*command, "--out", out, limit=LIMIT))
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith(f"synth: cannot write {out}/access.log"), err
    assert err.rstrip().endswith(": File too large"), err
    m = manifest(out)
    assert m["complete"] is False
    data = check_files(out)
    assert m["lines"] == len(data.splitlines()) > 0
    assert all(f["bytes"] <= LIMIT for f in m["files"])
    assert not (out / LOCK).exists()


def test_a_second_run_on_a_busy_folder_is_refused(tmp_path, capsys):
    """While a stream writes to a folder, a generate or another stream there is refused: one
    line naming the folder and the running stream, exit status 2; the stream goes on unharmed."""
    out = tmp_path / "out"
    proc = synth_process("stream", "--out", out, "--rate", 50, "--rotate", "none", "--speed", 10)
    wait_for("the stream to write", lambda: listed(out) and listed(out)[0]["lines"] > 0, proc)
    for command in (GENERATE, ["stream", "--rate", 5]):
        code, _, err = run_cli(capsys, *command, "--out", out)
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith(f"synth: --out: {out} is in use by synth stream (pid {proc.pid}, "), err
    os.kill(proc.pid, signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 0, err
    assert [f["name"] for f in manifest(out)["files"]] == ["access.log"]
    check_files(out)


def test_a_held_folder_is_refused_in_process_too(tmp_path):
    """The lock is the kernel's: held by this process, another claim from it is refused too,
    before anything is written; released, the folder is free."""
    out = tmp_path / "out"
    out.mkdir()
    with OutputLock(out, "stream"):
        with pytest.raises(OutputError, match=rf"in use by synth stream \(pid {os.getpid()}, "):
            synth.generate(out_dir=out, days=0.05, rate=0.1, spike_minutes=5)
        assert sorted(p.name for p in out.iterdir()) == [LOCK]
    assert list(out.iterdir()) == []
    synth.generate(out_dir=out, days=0.05, rate=0.1, spike_minutes=5)
    assert not (out / LOCK).exists() and (out / "access.log").exists()


def test_a_stale_lock_is_taken_over(tmp_path):
    """A lock file left by a process that died, or naming a pid since given to another process,
    holds nothing: the next run takes it over, and removes it at its end."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    for pid in (dead.pid, 1):
        out = tmp_path / f"out{pid}"
        out.mkdir()
        (out / LOCK).write_text(json.dumps({"pid": pid, "command": "generate", "since": "2026-01-01T00:00:00Z"}))
        run = synth.generate(out_dir=out, days=0.05, rate=0.1, spike_minutes=5)
        assert run.lines > 0 and not (out / LOCK).exists()
        check_files(out)


def test_bench_stream_figures_agree(tmp_path, capsys):
    """`synth bench --stream --json`: the figures agree with each other (no timing asserted)."""
    code, stdout, err = run_cli(capsys, "bench", "--stream", "--rate", 300, "--seconds", 10, "--dir", tmp_path, "--json")
    assert code == 0, err
    bench = json.loads(stdout)
    assert bench["rate"] == 300 and bench["seconds"] == 10 and bench["lines"] > 0
    assert sum(w["lines"] for w in bench["windows"]) == bench["lines"]
    for w in bench["windows"]:
        assert w["rate"] == pytest.approx(w["lines"] / (w["to_s"] - w["from_s"]))
        assert w["deviation_pct"] == pytest.approx((w["rate"] / 300 - 1) * 100)
    assert bench["max_deviation_pct"] == pytest.approx(max(abs(w["deviation_pct"]) for w in bench["windows"]))
    assert 0 <= bench["in_own_second_pct"] <= 100 and bench["batches"] > 0
    assert bench["lag_ms"]["median"] <= bench["lag_ms"]["p99"] <= bench["lag_ms"]["max"]
    assert list(tmp_path.iterdir()) == []  # nothing left behind


@pytest.mark.slow
@pytest.mark.parametrize("args, twice", [(["--lines", 2_000_000, "--repeat", 1], False),
                                          (["--lines", 2_000_000, "--repeat", 1], True),
                                          (["--stream", "--seconds", 60, "--rate", 500], False)],
                         ids=["ctrl-c", "ctrl-c-twice", "stream"])
def test_ctrl_c_during_bench_removes_its_scratch_folder(tmp_path, args, twice):
    """Ctrl-C (SIGINT to the whole group, as a terminal sends it) while synth bench writes: its
    temporary folder is gone, even when a second Ctrl-C exits at once; one line, exit 130."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = synth_process("bench", *args, "--dir", scratch)
    wait_for("the bench to write", lambda: any(scratch.rglob("access.log*")), proc)
    os.killpg(proc.pid, signal.SIGINT)
    if twice:
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert list(scratch.iterdir()) == []
    # A second Ctrl-C that comes as the first one's exit is under way ends the process by
    # the signal itself (-2): the folder is gone all the same.
    assert proc.returncode in ((130, -signal.SIGINT) if twice else (130,)), err
    assert err in ("", "synth: interrupted\n"), err
