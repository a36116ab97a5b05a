"""``synth.stream``: an access log that grows in real time, rotated under its readers' feet.

Time. The stream's log time starts at ``start``, a whole second a moment after the call (the
moment synth needs to build its pools and draw the first half hour of sessions, so the first
line is not late), and runs ``speed`` times as fast as the clock:
``log(w) = start + (w - start) * speed`` at wall-clock time ``w``. With speed 1, a line's
timestamp is the second in which it is written.

Pacing. Events come from the same traffic model as ``generate`` (the same seed and start
give the same lines), drawn a block ahead and held. Every tick (TICK_S of wall time) the
lines whose time has come are rendered and appended in one write: those before ``log(now)``,
and those of the current second that fall before the next tick, never a line of a later
second. So the rate written over any stretch is the rate of the lines' own times, and a line
is written within its second unless the machine falls behind (then it is written late, never
lost).

Durations (``duration``, ``backfill``, ``anomaly_every``) are log time: at speed 60,
``duration="1d"`` takes 24 minutes.

The rate. ``rate`` is a mean over the range, as in ``generate``: over the backfill and the
duration, or, for a stream without an end, over the backfill and a week after the start (the
day and the week repeat, so every later week has the same mean). Within it, traffic follows
the time of day and the day of the week.

Anomalies happen live: the scenario's list, with ``+2h`` offsets counted from the start, or
a spike every ``anomaly_every``. ``anomalies.json`` gains each window as it starts
(``complete: false``) and marks it complete when it ends; ``manifest.json`` follows the
files every few seconds and at each rotation. Both are replaced whole (a temporary file,
then a rename), so they are valid JSON at every moment.

Stopping. At the end of ``duration``, or on SIGINT or SIGTERM, the current batch is
finished, the files closed and the manifest marked complete with the true counts. A second
signal exits at once, between lines. A write error leaves whole lines and a manifest that
says incomplete, and raises WriteError.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.generate.anomalies import Kind, Window, iso, place_windows, window_problems
from synth.generate.checks import SPAN_DAYS, Bounds, check_number, number_problem, range_problem
from synth.generate.model import PLACEMENT_STREAM, TrafficModel, seed_stream
from synth.generate.scenario import (
    KINDS,
    MINUTES,
    AnomalySpec,
    Scenario,
    ScenarioError,
    format_offset,
    parse_duration,
    to_yaml,
)
from synth.generate.traffic import SESSION_CAP_MS, Events
from synth.output.folder import check_output, claim_output, clear_previous
from synth.output.live import LiveLog
from synth.output.manifest import Manifest
from synth.output.names import TRUTH
from synth.output.records import FileRecord, WriteError
from synth.output.writers import write_by_size, write_json
from synth.render.lines import LineRenderer
from synth.run.generate import (
    SPIKE_OVERRIDES,
    check_seed,
    check_workers,
    expected_in,
    plan_work,
    prepare,
    resolve_scenario,
    save_manifest,
)
from synth.run.messy import LiveMessy
from synth.run.signals import Interrupted, SetupInterrupted, Stopper, stop_on_signals
from synth.run.workers import Executor, default_workers
from synth.version import __version__

TICK_S = 0.1  # wall time between writes
MANIFEST_EVERY_S = 2.0  # wall time between manifest updates (rotations and windows update it too)
WEEK = 7 * 86400  # the rate's range for a stream without an end
BATCH_LINES = 50_000  # a catch-up (after a backfill, or a slow moment) is written in pieces this big
FAR = 100 * 365 * 86400
# Drawing the half hour of sessions before the start (whose visits are still going on at
# the start) runs at one to two million events a second on an idle core; the start is set far
# enough ahead for it, and the pools, to be done on a busy machine too.
DRAW_RATE = 700_000
SPEED = Bounds(0, 1e6, low_open=True)
STREAM_OPTIONS = ("rate", "tz", "rotate", "format", "log_format", "nginx_log_format", "messy", "clients",
                  *SPIKE_OVERRIDES)


class Clock:
    """Wall-clock time and sleep. A test or a simulation can pass its own."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class Batch:
    """One write of the stream, as ``on_batch`` sees it."""

    wall: float  # clock time just after the write
    upto_ms: int  # every line before this log time (epoch ms) is written
    seconds: np.ndarray  # each line's UTC second, in order


@dataclass
class StreamRun:
    """What a stream did: its seed, times, anomaly windows, files and figures."""

    seed: int
    scenario: Scenario
    start: int  # log time of the live part's start (epoch seconds)
    first: int  # start of the backfill (= start without one)
    speed: float
    out_dir: Path
    rate_now: float = 0.0  # expected lines per log second at the start
    end_ms: int = 0  # every line before this log time is written
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    lines: int = 0
    bytes: int = 0
    backfill_lines: int = 0  # lines from before the start (the backfill)
    seconds: float = 0.0
    stopped_by: int = 0  # the signal that ended it, 0 if its duration did
    notes: list[str] = field(default_factory=list)  # what the stream did otherwise than asked, and why


@dataclass(frozen=True)
class SpikeTrain:
    """A spike every ``every`` seconds of log time from ``first``: the windows of a stream that
    may never end, placed as the stream comes near them."""

    spec: AnomalySpec
    first: int
    every: int
    until: int | None  # the stream's end: a spike must end by then

    def window(self, k: int) -> Window:
        w0 = self.first + k * self.every
        return Window(k, self.spec, w0, w0 + int(round(self.spec.minutes * 60)))

    def fits(self, window: Window) -> bool:
        return self.until is None or window.end <= self.until


class LiveTruth:
    """``anomalies.json`` of a stream: each window is written when the stream reaches its
    start, ``complete: false``, and completed when it reaches its end."""

    def __init__(self, out: Path, model: TrafficModel, windows: list[Window], train: SpikeTrain | None,
                 on_window: Callable[[dict[str, Any], str], None] | None):
        self.out, self.model, self.train, self.on_window = out, model, train, on_window
        self.upcoming = sorted(windows, key=lambda w: (w.start, w.index))  # not started yet
        self.effects: dict[Window, Kind] = {e.window: e for e in model.effects}  # the model lets spikes go
        self.placed = 0  # windows of the train handed to the model
        self.running: list[tuple[Window, dict[str, Any]]] = []
        self.entries: list[dict[str, Any]] = []

    def save(self) -> None:
        write_json(self.out / TRUTH, {"anomalies": self.entries})

    def before_block(self, b: int) -> None:
        """Give the model the spikes that block ``b`` can reach (sessions start up to the
        session cap before a spike and are cut at its start), and forget those long over."""
        if self.train is None:
            return
        block_s = self.model.block_s
        reach = (b + 1) * block_s + SESSION_CAP_MS // 1000
        new = []
        while (w := self.train.window(self.placed)).start < reach and self.train.fits(w):
            new.append(w)
            self.placed += 1
        if new:
            self.effects.update((e.window, e) for e in self.model.add_windows(new))
            self.upcoming += new
        self.model.retire_windows(b * block_s)

    def reach(self, upto_ms: int) -> None:
        """The stream is about to write every line before ``upto_ms``: start and end windows."""
        news = []
        while self.upcoming and self.upcoming[0].start * 1000 < upto_ms:
            window = self.upcoming.pop(0)
            effect = self.effects.pop(window)
            entry = dict(effect.truth(self.model, [e for e in self.model.effects if e is not effect]), complete=False)
            self.entries.append(entry)
            self.running.append((window, entry))
            news.append((entry, "start"))
        for window, entry in list(self.running):
            if window.end * 1000 <= upto_ms:
                entry["complete"] = True
                self.running.remove((window, entry))
                news.append((entry, "end"))
        if news:
            self.save()
        for entry, what in news if self.on_window else ():
            self.on_window(entry, what)  # type: ignore[misc]

    def stop(self, upto_ms: int) -> None:
        """The stream ended inside these windows: say where."""
        for _, entry in self.running:
            entry["stopped"] = iso(upto_ms // 1000)
            entry["stopped_ms"] = upto_ms
        if self.running:
            self.save()


class Feed:
    """Events drawn ahead a block at a time, handed out in time order up to a given time."""

    def __init__(self, blocks: Iterator[Events]):
        self.blocks = blocks
        self.held = Events.empty()
        self.done = False

    def take(self, upto_ms: int) -> Iterator[Events]:
        """Every held or future event before ``upto_ms``, in pieces of about BATCH_LINES that
        never split a millisecond (so a stop between pieces leaves a clean cut in time)."""
        while True:
            while not self.done and (len(self.held) == 0 or self.held.t_ms[-1] < upto_ms):
                block = next(self.blocks, None)
                if block is None:
                    self.done = True
                else:
                    self.held = Events.concat([self.held, block])
            n = int(np.searchsorted(self.held.t_ms, upto_ms))
            if n == 0:
                return
            if n > BATCH_LINES:
                n = int(np.searchsorted(self.held.t_ms, self.held.t_ms[BATCH_LINES - 1], side="right"))
            piece, self.held = self.held.take(slice(0, n)), self.held.take(slice(n, None))
            yield piece


def _duration(name: str, value: Any, minimum: int) -> int | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise ScenarioError([(name, str(e))]) from None
    if seconds < minimum:
        raise ScenarioError([(name, f"must be at least {minimum} s, got {value!r}")])
    if seconds > SPAN_DAYS * 86400:
        raise ScenarioError([(name, f"must be at most {SPAN_DAYS} days, got {value!r}")])
    return seconds


def _speed(value: Any) -> float:
    return check_number("speed", value, SPEED)


def _train(scenario: Scenario, every: int, start: int, until: int | None, spike: dict[str, Any]) -> SpikeTrain:
    """Spikes as the scenario's first spike (or the default), as changed by the spike options."""
    base = next((a for a in scenario.anomalies if a.kind == "spike"), None)
    kind = KINDS["spike"]
    spec = AnomalySpec("spike", minutes=base.minutes if base else kind.minutes,
                       magnitude=base.magnitude if base else kind.magnitude)
    problems = []
    for name, key in SPIKE_OVERRIDES.items():
        value = spike.get(name)
        if value is None:
            continue
        problem = number_problem(value, kind.bounds if key == "magnitude" else MINUTES)
        if problem:
            problems.append((name, problem))
        else:
            spec = AnomalySpec("spike", minutes=float(value) if key == "minutes" else spec.minutes,
                               magnitude=float(value) if key == "magnitude" else spec.magnitude)
    if problems:
        raise ScenarioError(problems)
    if spec.minutes * 60 >= every:
        raise ScenarioError([("anomaly_every", f"{every} s leaves no normal traffic between spikes of "
                                               f"{spec.minutes:g} minutes; make it longer")])
    return SpikeTrain(spec, start + every, every, until)


def _place(scenario: Scenario, seed: int, start: int, horizon: int, bounded: bool) -> tuple[list[Window], list[str]]:
    """The scenario's windows in the stream's range. A stream with a duration too short for
    some of them streams without those (the rest keep their places), and says which."""
    specs = scenario.anomalies
    misfits = {int(path.split("]")[0].split("[")[1]) for path, _ in window_problems(specs, start, horizon)}
    if not misfits or not bounded:
        return place_windows(specs, start, horizon, seed_stream(seed, PLACEMENT_STREAM)), []
    kept = tuple(a for i, a in enumerate(specs) if i not in misfits)
    dropped = [specs[i] for i in sorted(misfits)]
    what = ", ".join(f"{a.kind} ({a.minutes:g} minutes)" for a in dropped)
    length = format_offset(horizon - start)[1:]
    note = (f"a {length} stream is too short for {what} of scenario {scenario.name}: streaming without "
            f"{'it' if len(dropped) == 1 else 'them'} (--anomaly-every with --spike-minutes adds spikes that fit)")
    return place_windows(kept, start, horizon, seed_stream(seed, PLACEMENT_STREAM)), [note]


def startup_seconds(rate: float) -> int:
    """Wall seconds to allow for setting up before the first line (pools, the first blocks)."""
    return 1 + math.ceil(rate * SESSION_CAP_MS / 1000 / DRAW_RATE)


def _backfill(model: TrafficModel, renderer: LineRenderer, scenario: Scenario, out: Path, first: int, start: int,
              workers: int, stopper: Stopper) -> tuple[list[FileRecord], int, FileRecord | None]:
    """The backfill's closed files, written as generate writes them (by worker processes).

    Returns their records, the log time the live ``access.log`` begins at (the current day or
    hour's lines are written by the stream itself, which goes on appending to that file), and,
    for size rotation, the record of the ``access.log`` the backfill ended with.
    """
    rotation = scenario.rotate
    if first == start or rotation.kind == "none":
        return [], first, None
    stretches, slices = plan_work(scenario, model, first, start, None)
    closed = stretches[:-1]
    if rotation.kind in ("day", "hour") and not closed:
        return [], stretches[-1].t0, None
    hour0 = first // 3600 * 3600
    with Executor(model, renderer, hour0, (start - 1 - hour0) // 3600 + 1, workers, None, stopper,
                  parent_works=rotation.kind in ("day", "hour")) as executor:
        if rotation.kind in ("day", "hour"):
            return executor.write_files(closed, out, lambda s: expected_in(model, s.t0, s.t1)), stretches[-1].t0, None
        records = write_by_size(executor.slices(slices), out, rotation.max_bytes)
    return records[:-1], start, records[-1]


def stream(scenario: Scenario | str | Path | dict | None = None, *, seed: int | None = None,
           out_dir: str | Path = "output", force: bool = False, speed: float = 1.0, duration: Any = None,
           backfill: Any = None, anomaly_every: Any = None, workers: int | None = None, clock: Clock | None = None,
           on_start: Callable[[StreamRun], None] | None = None,
           on_window: Callable[[dict[str, Any], str], None] | None = None,
           on_batch: Callable[[Batch], None] | None = None, **overrides: Any) -> StreamRun:
    """Append a scenario's access log to ``out_dir/access.log`` in real time, rotating as logrotate does.

    ``duration``, ``backfill`` and ``anomaly_every`` are log time: seconds, or text like
    ``"90s"``, ``"10m"``, ``"1d12h"``. Without ``duration`` the stream runs until SIGINT or
    SIGTERM (then it returns normally, ``stopped_by`` set). ``on_window(entry, "start"|"end")``
    sees each anomaly window as it starts and ends; ``on_batch`` each write.

    >>> run = stream("classic", seed=7, rate=50, speed=60, duration="5m", anomaly_every="2m",
    ...              spike_minutes=1, out_dir="/tmp/synth-stream-doc", force=True)
    >>> [a["complete"] for a in run.anomalies]
    [True, True]
    """
    stopper = Stopper()
    # Until the folder is claimed nothing is written: a signal ends the stream at once.
    with stop_on_signals(stopper, setting_up=True):
        try:
            return _stream(stopper, scenario, seed, out_dir, force, speed, duration, backfill, anomaly_every,
                           workers, clock, on_start, on_window, on_batch, overrides)
        except SetupInterrupted as e:
            raise Interrupted(e.signum, 0, 0, written=False) from None


def _stream(stopper: Stopper, scenario: Scenario | str | Path | dict | None, seed: int | None, out_dir: str | Path,
            force: bool, speed: float, duration: Any, backfill: Any, anomaly_every: Any, workers: int | None,
            clock: Clock | None, on_start: Callable[[StreamRun], None] | None,
            on_window: Callable[[dict[str, Any], str], None] | None, on_batch: Callable[[Batch], None] | None,
            overrides: dict[str, Any]) -> StreamRun:
    began = time.perf_counter()
    clock = clock or Clock()
    unknown = set(overrides) - set(STREAM_OPTIONS)
    if unknown:
        raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
    speed = _speed(speed)
    duration_s = _duration("duration", duration, 1)
    backfill_s = _duration("backfill", backfill, 0) or 0
    every_s = _duration("anomaly_every", anomaly_every, 60)
    spike = {k: overrides.pop(k) for k in SPIKE_OVERRIDES if k in overrides} if every_s else {}
    resolved = resolve_scenario(scenario, check_range=False, **overrides)
    seed = check_seed(seed, resolved)
    check_workers(workers)
    out = Path(out_dir)
    check_output(out, force)  # again under the lock below; now, so that a wrong folder is said at once

    start = int(clock.now()) + startup_seconds(resolved.rate)
    first = start - backfill_s
    until = start + duration_s if duration_s else None
    horizon = until or start + WEEK
    problem = range_problem(first, horizon)
    if problem:
        raise ScenarioError([("backfill" if first < 0 else "duration", problem)])
    train = _train(resolved, every_s, start, until, spike) if every_s else None
    windows, notes = ([], []) if train else _place(resolved, seed, start, horizon, until is not None)
    model_scenario = resolved.replace(days=(horizon - first) / 86400, end=None)
    _, _, model, renderer = prepare(model_scenario, seed, first, horizon, windows)
    run = StreamRun(seed, resolved, start, first, speed, out, rate_now=float(model.expected_total(start, start + 60).mean()),
                    notes=notes)

    stopper.leave_setup()
    with claim_output(out, force, "stream"):
        if stopper.requested:  # a signal while the folder was claimed
            raise SetupInterrupted(stopper.signal)
        clear_previous(out)
        manifest = Manifest(version=__version__, seed=seed, scenario=to_yaml(model_scenario),
                            options={"out": str(out), "force": force, "mode": "stream", "speed": speed,
                                     "duration": duration_s, "backfill": backfill_s, "anomaly_every": every_s,
                                     "workers": workers or default_workers()},
                            start=iso(first), end=iso(first), start_ms=first * 1000, end_ms=first * 1000)
        manifest.save(out)
        truth = LiveTruth(out, model, windows, train, on_window)
        truth.save()
        try:
            closed, t0, adopt = _backfill(model, renderer, resolved, out, first, start,
                                          workers or default_workers(), stopper)
        except WriteError as e:
            save_manifest(manifest, out, e.records, complete=False, failure=e)
            raise
        backfilled = closed + ([adopt] if adopt else [])
        if stopper.requested:  # stopped while the backfill's files were written side by side
            save_manifest(manifest, out, backfilled, complete=False)
            raise Interrupted(stopper.signal, manifest.lines, len(backfilled))
        run.backfill_lines = sum(f.lines for f in backfilled)  # the rest comes as the live file catches up
        messy = None
        if resolved.messy:
            try:
                messy = LiveMessy(out, resolved.messy, resolved)
                messy.files = lambda: list(backfilled)
                messy.backfill(model, first, t0, backfilled)
            except WriteError as e:
                save_manifest(manifest, out, backfilled, complete=False, failure=e)
                raise
        live = LiveLog(out, resolved.rotate, resolved.zone, t0, closed, adopt)
        stopper.cuts.append(live.cut_to_whole)
        if messy:
            messy.files, live.on_rename = live.records, messy.renamed
        if on_start:
            on_start(run)
        failure = None
        try:
            _run(model, renderer, live, messy, truth, manifest, run, clock, stopper, t0, until, on_batch)
        except WriteError as e:
            failure = e
        finally:
            if messy:
                messy.close()
        files = live.close() if failure is None else failure.records
        truth.stop(run.end_ms)
        manifest.end, manifest.end_ms = iso(-(-run.end_ms // 1000)), run.end_ms
        save_manifest(manifest, out, files, complete=failure is None, failure=failure)
        run.files, run.lines, run.bytes = files, manifest.lines, manifest.bytes
        run.anomalies = truth.entries
        run.stopped_by = stopper.signal
    run.seconds = time.perf_counter() - began
    if failure is not None:
        raise failure
    return run


def _run(model: TrafficModel, renderer: LineRenderer, live: LiveLog, messy: LiveMessy | None, truth: LiveTruth,
         manifest: Manifest, run: StreamRun, clock: Clock, stopper: Stopper, t0: int, until: int | None,
         on_batch: Callable[[Batch], None] | None) -> None:
    """The live loop: every tick, write what is due; rotate; keep the manifest current."""
    feed = Feed(model.events(t0, until or t0 + FAR, before_block=truth.before_block))
    start, speed = run.start, run.speed
    run.end_ms = t0 * 1000
    saved_at, next_tick = clock.now(), clock.now()
    while True:
        now = clock.now()
        log_now = start + (now - start) * speed
        upto = min(log_now + TICK_S * speed, math.floor(log_now) + 1)
        if until is not None:
            upto = min(upto, until)
        upto_ms = max(run.end_ms, int(upto * 1000))
        truth.reach(upto_ms)
        closed = len(live.closed)
        for events in feed.take(upto_ms):
            seconds = events.t_ms // 1000
            data = renderer.render(events)
            placed = live.append(data, seconds)
            if messy:
                messy.written(events, data, placed)
            if seconds[0] < start:
                run.backfill_lines += int(np.searchsorted(seconds, start))
            run.end_ms = int(events.t_ms[-1]) + 1
            if on_batch:
                on_batch(Batch(clock.now(), run.end_ms, seconds))
            if stopper.requested:  # a catch-up comes in pieces: stop after this one
                break
        else:
            run.end_ms = upto_ms
        truth.reach(run.end_ms)  # windows placed while this batch's blocks were drawn
        if stopper.requested or (until is not None and run.end_ms >= until * 1000):
            return
        live.advance(run.end_ms // 1000)
        if len(live.closed) != closed or clock.now() - saved_at >= MANIFEST_EVERY_S:
            manifest.end, manifest.end_ms = iso(run.end_ms // 1000), run.end_ms
            save_manifest(manifest, run.out_dir, live.records(), complete=False)
            saved_at = clock.now()
        next_tick += TICK_S
        delay = next_tick - clock.now()
        if delay > 0:
            clock.sleep(delay)
        else:
            next_tick = clock.now()  # behind: the next tick writes all that is due, no faster ticks
