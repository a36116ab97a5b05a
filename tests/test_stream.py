"""synth.stream in one process, on a simulated clock: when each line is written, rotation,
backfill, live anomalies, the manifest, and bad input. (Real time, signals, full disks and
concurrent runs are in test_reliability.py.)"""

import datetime as dt
import json
import math
import os
import re
import signal

import numpy as np
import pytest
from helpers import check_files, files_in_order, line_times, manifest, truth

import synth
from synth.run.stream import TICK_S, startup_seconds

QUIET = {"anomalies": []}
T0 = 1795000000.37  # the simulated clock's start: 2026-11-18T11:06:40.37Z


class SimClock:
    """Wall-clock time that passes only when the stream sleeps, and sometimes late."""

    def __init__(self, t=T0, late=None):
        self.t, self.late, self.sleeps = t, late, 0

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.sleeps += 1
        self.t += seconds + (self.late(self.sleeps) if self.late else 0.0)


def run_stream(out, clock=None, batches=None, **kw):
    kw.setdefault("seed", 3)
    kw.setdefault("rate", 20)
    scenario = kw.pop("scenario", QUIET)
    on_batch = batches.append if batches is not None else None
    return synth.stream(scenario, out_dir=out, clock=clock or SimClock(), on_batch=on_batch, **kw)


def test_each_line_is_written_in_its_own_second(tmp_path):
    """At speed 1 every line's timestamp is the clock's second when it is written; the stream
    starts on the second it announced and ends after exactly its duration."""
    batches = []
    run = run_stream(tmp_path, batches=batches, duration="90s")
    assert run.start == int(T0) + startup_seconds(20)
    assert sum(len(b.seconds) for b in batches) == run.lines > 1000
    for batch in batches:
        assert (batch.seconds == math.floor(batch.wall)).all()
    data = check_files(tmp_path)
    assert line_times(data) == np.concatenate([b.seconds for b in batches]).tolist()
    assert min(line_times(data)) >= run.start and max(line_times(data)) < run.start + 90
    m = manifest(tmp_path)
    assert m["complete"] is True and m["end_ms"] == (run.start + 90) * 1000 and m["options"]["mode"] == "stream"


def test_speed_compresses_log_time(tmp_path):
    """At speed 60 a minute of log passes each second: a line is written at most a tick
    before its time, and no line of a later second is written early."""
    batches = []
    run = run_stream(tmp_path, batches=batches, duration="30m", speed=60, rate=2)
    for batch in batches:
        log_now = run.start + (batch.wall - run.start) * 60
        assert (batch.seconds <= math.floor(log_now)).all()
        assert (batch.seconds >= log_now - TICK_S * 60 - 1).all()
    assert check_files(tmp_path) and manifest(tmp_path)["end_ms"] == (run.start + 1800) * 1000


def test_pacing_never_changes_the_lines(tmp_path):
    """A clock that runs late at random (a loaded machine) changes when lines are written,
    never which: the same seed and start write the same bytes."""
    rng = np.random.default_rng(5)
    on_time = run_stream(tmp_path / "a", duration="10m", speed=10)
    late = run_stream(tmp_path / "b", SimClock(late=lambda i: float(rng.exponential(0.3))), duration="10m", speed=10)
    assert on_time.lines == late.lines
    assert check_files(tmp_path / "a") == check_files(tmp_path / "b")


@pytest.mark.parametrize("rotate, tz, backfill, rate", [("hour", "+0530", "6h", 0.5), ("day", "-0800", "3d", 0.1),
                                                        ("size:256KB", "+0000", "12h", 0.5)])
def test_rotation_only_cuts(tmp_path, rotate, tz, backfill, rate):
    """Rotated files, in the manifest's order, are byte for byte the unrotated stream; time
    rotation cuts at local hours or days, named as generate names them; size rotation keeps
    every closed file within the limit, access.log.1 the newest."""
    spec = dict(duration="3h", speed=600, rate=rate, tz=tz, backfill=backfill)
    run_stream(tmp_path / "whole", rotate="none", **spec)
    run = run_stream(tmp_path / "cut", rotate=rotate, **spec)
    whole = check_files(tmp_path / "whole")
    assert check_files(tmp_path / "cut") == whole
    files = manifest(tmp_path / "cut")["files"]
    names = [f["name"] for f in files]
    assert names[-1] == "access.log" and len(names) > 3
    offset = (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 + int(tz[3:5]) * 60)
    # The cut files are the whole stream's bytes in order, each as many lines as the manifest
    # says (check_files): a file's line times are its stretch of the whole stream's.
    times = np.array(line_times(whole))
    edges = np.cumsum([0] + [f["lines"] for f in files])
    for i, (name, path) in enumerate(zip(names[:-1], files_in_order(tmp_path / "cut"))):
        if rotate.startswith("size"):
            assert path.stat().st_size <= 256 * 1024
            continue
        local = times[edges[i]:edges[i + 1]] + offset
        period, stamp = (3600, "%Y%m%d%H") if rotate == "hour" else (86400, "%Y%m%d")
        assert len(set(local // period)) == 1
        assert name == "access.log-" + dt.datetime.fromtimestamp(int(local[0]), dt.UTC).strftime(stamp)
    if rotate.startswith("size"):
        assert names[:-1] == [f"access.log.{n}" for n in range(len(names) - 1, 0, -1)]
    assert run.backfill_lines == int((times < run.start).sum()) > 0


def test_backfill_then_live_is_one_stream(tmp_path):
    """A backfill's closed files (written by worker processes, as generate writes them), the
    catch-up of the current day and the live part continue one another; any number of
    workers writes the same bytes."""
    spec = dict(duration="20m", speed=120, rate=0.1, backfill="2d12h")
    run = run_stream(tmp_path / "one", workers=1, **spec)
    data = check_files(tmp_path / "one")
    times = np.array(line_times(data))
    assert run.first == run.start - 216000 and times.min() >= run.first
    assert (times >= run.start).any() and (times < run.start).sum() == run.backfill_lines
    assert [f["name"] for f in manifest(tmp_path / "one")["files"]] == [
        "access.log-20261115", "access.log-20261116", "access.log-20261117", "access.log"]
    run_stream(tmp_path / "two", workers=2, **spec)
    assert check_files(tmp_path / "two") == data


def test_anomalies_arrive_live(tmp_path):
    """anomalies.json gains each spike as the stream reaches its start, complete: false, and
    marks it complete at its end; it and the manifest are valid JSON whenever they are read.
    Inside a spike, lines come at ten times the rate of the minutes around it."""
    seen = []

    def on_window(entry, what):
        windows = truth(tmp_path)["anomalies"]
        assert manifest(tmp_path)["complete"] is False
        seen.append((what, entry["id"], [(w["id"], w["complete"]) for w in windows]))

    run = run_stream(tmp_path, duration="1h", speed=300, rate=10, anomaly_every="20m", spike_minutes=5,
                     on_window=on_window)
    assert seen == [
        ("start", "spike-1", [("spike-1", False)]),
        ("end", "spike-1", [("spike-1", True)]),
        ("start", "spike-2", [("spike-1", True), ("spike-2", False)]),
        ("end", "spike-2", [("spike-1", True), ("spike-2", True)]),
    ]  # a third would end after the stream: it is never placed
    windows = truth(tmp_path)["anomalies"]
    assert [w["start_ms"] // 1000 - run.start for w in windows] == [1200, 2400]
    times = np.array(line_times(check_files(tmp_path)))
    for w in windows:
        s0, s1 = w["start_ms"] // 1000, w["end_ms"] // 1000
        inside = ((times >= s0) & (times < s1)).sum()
        around = ((times >= s0 - 600) & (times < s0)).sum() + ((times >= s1) & (times < s1 + 600)).sum()
        assert inside / 300 == pytest.approx(10 * around / 1200, rel=0.2)
        assert inside == pytest.approx(w["expected"]["during"], rel=0.15)


def test_scenario_anomalies_start_relative_to_the_stream(tmp_path):
    """A scenario's anomalies with offsets start that long after the stream's start. SIGTERM
    stops the stream after the batch in hand: the manifest is complete with the true counts,
    and a window it stopped inside stays incomplete and says where the stream stopped."""
    scenario = {"anomalies": [{"kind": "scan", "start": "+5m", "minutes": 10},
                              {"kind": "error_burst", "start": "+20m", "minutes": 30}]}
    sent = []

    def stop_at_half_an_hour(batch):
        if batch.upto_ms >= (start + 1800) * 1000 and not sent:
            sent.append(batch.upto_ms)
            os.kill(os.getpid(), signal.SIGTERM)

    start = int(T0) + startup_seconds(5)
    run = synth.stream(scenario, seed=3, rate=5, speed=300, out_dir=tmp_path / "s", clock=SimClock(),
                       on_batch=stop_at_half_an_hour)
    assert run.start == start and run.stopped_by == signal.SIGTERM
    scan, burst = truth(tmp_path / "s")["anomalies"]
    assert scan["start_ms"] == (start + 300) * 1000 and scan["complete"] is True
    assert burst["start_ms"] == (start + 1200) * 1000 and burst["complete"] is False
    assert burst["stopped_ms"] == run.end_ms == manifest(tmp_path / "s")["end_ms"] == sent[0]
    text = check_files(tmp_path / "s").decode()
    assert manifest(tmp_path / "s")["complete"] is True
    assert text.count(scan["affected"]["values"][0]) == pytest.approx(scan["expected"]["during"], rel=0.05)


def test_an_endless_stream_places_spikes_as_it_goes(tmp_path):
    """Without a duration the spikes are placed as the stream comes near them, and spikes
    long over are let go: after two hundred spikes the model holds only the few ahead."""
    from synth.generate.scenario import AnomalySpec
    from synth.run.generate import prepare, resolve_scenario
    from synth.run.stream import Feed, LiveTruth, SpikeTrain

    scenario = resolve_scenario(QUIET, rate=0.05)
    start = 1795000000
    _, _, model, _ = prepare(scenario, 1, start, start + 7 * 86400, [])
    train = SpikeTrain(AnomalySpec("spike", minutes=1), start + 600, 600, None)
    live = LiveTruth(tmp_path, model, [], train, None)
    feed = Feed(model.events(start, start + 10**9, before_block=live.before_block))
    spikes = 200
    end_ms = (start + spikes * 600) * 1000
    list(feed.take(end_ms))
    live.reach(end_ms)
    assert len(live.entries) == spikes - 1 and all(e["complete"] for e in live.entries)
    assert 0 < len(model.effects) <= (model.block_s + 1800) // 600 + 2  # a block and a session cap ahead


def test_stream_options_are_checked_before_anything_is_written(tmp_path):
    """Each bad option is a ScenarioError naming it, and the folder is never created."""
    out = tmp_path / "never"
    bad = [({"speed": 0}, "speed"), ({"duration": "ten minutes"}, "duration"), ({"backfill": "-1h"}, "backfill"),
           ({"anomaly_every": "10m", "spike_minutes": 15}, "anomaly_every"), ({"duration": "0s"}, "duration"),
           ({"anomaly_every": "10m", "spike_magnitude": 0.5}, "spike_magnitude"), ({"rotate": "weekly"}, "rotate"),
           ({"workers": 0}, "workers")]
    for options, name in bad:
        with pytest.raises(synth.ScenarioError) as info:
            run_stream(out, **options)
        assert info.value.problems[0][0] == name, info.value.problems
        assert not out.exists()
    with pytest.raises(TypeError):
        run_stream(out, days=3)


def test_cli_stream_bad_option_is_one_line_exit_2(tmp_path, capsys):
    from synth.cli import main
    for args, option in [(["--speed", "-2"], "--speed"), (["--duration", "soon"], "--duration"),
                         (["--anomaly-every", "5m"], "--anomaly-every")]:
        with pytest.raises(SystemExit) as info:
            main(["stream", "--out", str(tmp_path / "x"), *args])
        err = capsys.readouterr().err
        assert info.value.code == 2 and len(err.strip().splitlines()) == 1 and option in err, err
        assert not (tmp_path / "x").exists()


def test_a_stream_too_short_for_its_anomalies_streams_without_them_and_says_so(tmp_path, capsys):
    """`synth stream --duration 10m` of classic (a 30-minute spike) streams without the spike,
    and says so in one line naming the flags that add spikes that fit; anomalies.json is empty."""
    run = run_stream(tmp_path / "lib", scenario="classic", duration="20m", rate=2)
    assert run.anomalies == [] and len(run.notes) == 1
    assert "too short for spike (30 minutes)" in run.notes[0] and "--anomaly-every" in run.notes[0]
    assert json.loads((tmp_path / "lib" / "anomalies.json").read_text()) == {"anomalies": []}
    from synth.cli import main
    with pytest.raises(SystemExit) as exit_info:
        main(["stream", "--duration", "2m", "--speed", "120", "--rate", "5", "--out", str(tmp_path / "cli"),
              "--seed", "1", "--quiet"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 0
    assert captured.err.splitlines() == [
        "synth: a 2m stream is too short for spike (30 minutes) of scenario classic: streaming without it "
        "(--anomaly-every with --spike-minutes adds spikes that fit)"]
    assert len(captured.out.splitlines()) == 1 and captured.out.startswith("wrote ")


# What each messy kind's line shows, whatever else it holds (synth/render/messy.py).
MESSY_SHAPES = {
    "empty_request": rb'\] "-" 408 - ', "tls_handshake": rb'"\\x16\\x03\\x01', "ssh_handshake": rb'"SSH-2\.0-',
    "scanner_sql": rb"UNION|OR|SLEEP", "scanner_xss": rb"<(script|svg)", "scanner_jndi": rb"\$\{jndi:",
    "absolute_uri": rb'"GET http://', "connect": rb'"CONNECT ', "dash_header": rb'"-" "-"$',
    "raw_space": rb'"GET /[^"]* [^"]* HTTP/1\.1" 400 ', "raw_quote": rb'\\"onmouseover', "non_utf8": rb"\\x[c-f][0-9a-f]",
    "http09": rb'"GET /" 200 ', "long_url": rb'" 414 ', "hostname": rb"^\S+\.(net|de|jp) ",
}


def _messy_records(out):
    return [json.loads(line) for line in (out / "messy.jsonl").read_bytes().splitlines()]


@pytest.mark.parametrize("rotate, backfill", [("size:128KB", "2h"), ("hour", "3h")])
def test_stream_messy_jsonl_follows_rotation(tmp_path, rotate, backfill):
    """stream --messy writes messy.jsonl as it goes: after every batch it is whole JSON lines,
    each naming a file in the folder by its name at that moment and a line already written
    there; at the end every record points at a messy line of its kind, in the file it ended up
    in after the rotations, and the records are exactly the lines that differ from the same
    stream without messy lines (none missing, none twice), backfill and live part alike."""
    spec = dict(duration="1h", speed=600, rate=2, backfill=backfill, rotate=rotate)
    out = tmp_path / "messy"
    seen = []
    # A file is known by what it holds: (inode, size, mtime) stay with it when it is renamed, and
    # change when it is written. A record that pointed at a messy line of its kind still does
    # while its file's identity is the same, so each is looked at again only once that changes.
    parsed, checked = {}, set()

    def check_now(batch):
        records = []
        for line in (out / "messy.jsonl").read_bytes().splitlines():
            if line not in parsed:
                parsed[line] = json.loads(line)
            records.append(parsed[line])
        identities, contents = {}, {}
        for r in records:
            if r["file"] not in identities:
                st = (out / r["file"]).stat()
                identities[r["file"]] = (st.st_ino, st.st_size, st.st_mtime_ns)
            key = (identities[r["file"]], r["line"], r["kind"])
            if key in checked:
                continue
            if r["file"] not in contents:
                contents[r["file"]] = (out / r["file"]).read_bytes().split(b"\n")
            lines = contents[r["file"]]
            assert r["line"] < len(lines) and re.search(MESSY_SHAPES[r["kind"]], lines[r["line"] - 1]), r
            checked.add(key)
        seen.append(len(records))

    run = synth.stream(QUIET, seed=3, out_dir=out, clock=SimClock(), on_batch=check_now, messy=0.05, **spec)
    clean = synth.stream(QUIET, seed=3, out_dir=tmp_path / "clean", clock=SimClock(), **spec)
    names = [f["name"] for f in manifest(out)["files"]]
    assert len(names) > 3 and seen[-1] > seen[0] and seen == sorted(seen)
    records = _messy_records(out)
    lines = {name: (out / name).read_bytes().split(b"\n")[:-1] for name in names}
    for r in records:
        assert re.search(MESSY_SHAPES[r["kind"]], lines[r["file"]][r["line"] - 1]), r
    where = [(name, n) for name in names for n in range(1, len(lines[name]) + 1)]
    marked = {(r["file"], r["line"]) for r in records}
    assert len(marked) == len(records) and marked <= set(where)
    messy_lines = [line for name in names for line in lines[name]]
    clean_lines = check_files(tmp_path / "clean").split(b"\n")[:-1]
    assert len(messy_lines) == len(clean_lines) == run.lines == clean.lines
    differ = {where[i] for i, (a, b) in enumerate(zip(messy_lines, clean_lines)) if a != b}
    assert differ <= marked and all(r["kind"] == "dash_header" for r in records if (r["file"], r["line"]) not in differ)
    first_live = run.backfill_lines
    assert any(where.index((r["file"], r["line"])) < first_live for r in records[:5])
    assert {r["kind"] for r in records} >= {"empty_request", "tls_handshake", "scanner_sql"}
