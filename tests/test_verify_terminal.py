"""``synth verify`` as a person runs it: a progress bar when stderr is a terminal (and none in a
pipe), Ctrl-C ending the command and its worker processes with one line, and ``--simulate``."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import synth


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "synth", *args]


def _restore_sigint() -> None:
    # A test runner may start children with SIGINT ignored; a user's shell does not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgrp()


@pytest.fixture(scope="module")
def big_run(tmp_path_factory):
    """About 9 MB of combined lines: enough for verify to use two worker processes."""
    out = tmp_path_factory.mktemp("verify") / "output"
    synth.generate(seed=5, out_dir=out, days=1, rate=0.6, end=dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    return out


def test_progress_bar_on_a_terminal_only(tmp_path):
    """stderr a terminal: rich draws the bar there while stdout gets the report; stderr a pipe:
    nothing but the report."""
    out = tmp_path / "output"
    synth.generate(seed=3, out_dir=out, days=0.2, rate=0.2, spike_minutes=10,
                   end=dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    master, slave = pty.openpty()
    proc = subprocess.Popen(_command("verify", str(out)), stdout=subprocess.PIPE, stderr=slave,
                            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
    os.close(slave)
    drawn = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
        elif proc.poll() is not None:
            break
    report = proc.stdout.read().decode()
    proc.wait()
    os.close(master)
    assert proc.returncode == 0 and report.startswith("verified ")
    assert b"verify" in drawn and b"\x1b[" in drawn  # the bar, drawn with terminal escapes
    piped = subprocess.run(_command("verify", str(out)), capture_output=True, text=True)
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("verified ")


@pytest.mark.slow
def test_ctrl_c_ends_verify_and_its_workers_with_one_line(big_run):
    """SIGINT to the process group (what Ctrl-C does) while two workers run: exit status 130,
    'synth: interrupted' and no traceback from any worker, no process left behind."""
    proc = subprocess.Popen(_command("verify", str(big_run)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_restore_sigint)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if children.exists() and len(children.read_text().split()) >= 2:
            break
        time.sleep(0.05)
    workers = children.read_text().split() if children.exists() else []
    assert proc.poll() is None and len(workers) >= 2, "verify ended before its workers were seen"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.decode().strip() == "synth: interrupted"
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_simulate_command(tmp_path):
    """--simulate prints the _simulate answer for DOCS.json (its own pipeline, or --pipeline);
    a pipeline Elasticsearch would refuse is one line naming it, exit 2."""
    docs = {"pipeline": {"processors": [{"uppercase": {"field": "foo"}}]},
            "docs": [{"_index": "index", "_id": "id", "_source": {"foo": "bar"}}, {"_source": {"not_foo": 1}}]}
    body = tmp_path / "docs.json"
    body.write_text(json.dumps(docs))
    done = subprocess.run(_command("verify", "--simulate", str(body)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["docs"][0]["doc"]["_source"] == {"foo": "BAR"}
    assert answer["docs"][1]["error"]["reason"] == "field [foo] not present as part of path [foo]"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"processors": [{"set": {"tag": "fails", "value": "_value"}}]}))
    refused = subprocess.run(_command("verify", "--simulate", str(body), "--pipeline", str(bad)),
                             capture_output=True, text=True)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().endswith("[field] required property is missing")
    assert len(refused.stderr.strip().splitlines()) == 1
    verbose = subprocess.run(_command("verify", "--simulate", str(body), "--verbose"), capture_output=True, text=True)
    assert json.loads(verbose.stdout)["docs"][0]["processor_results"][0]["status"] == "success"
