"""``synth.generate``: a scenario in, rotated log files, ground truth and a manifest out.

The one place that puts the stages together: scenario -> anomaly windows -> pools -> traffic
model -> events -> lines -> files. Everything that can be wrong with the input is checked
before the first byte is written. A run that cannot finish (a signal, a full disk) leaves
whole lines only and a manifest with the true counts that says ``complete: false``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.generate.anomalies import Window, ground_truth, history_notes, iso, place_windows, window_problems
from synth.generate.checks import MAX_WORKERS, Bounds, check_number, range_problem, time_problem
from synth.generate.model import PLACEMENT_STREAM, POOLS_STREAM, TrafficModel, seed_stream
from synth.generate.pools import Pools, build_pools, default_clients
from synth.generate.scenario import (
    Rotation,
    Scenario,
    ScenarioError,
    check_problems,
    parse_time,
    read_scenario,
    read_scenario_source,
    to_yaml,
)
from synth.generate.traffic import Events
from synth.output.folder import check_output, claim_output, clear_previous
from synth.output.manifest import Manifest
from synth.output.names import ACTIVE, TRUTH
from synth.output.records import FileRecord, WriteError
from synth.output.rotation import Stretch, plan_stretches, shard_stretches
from synth.output.writers import write_by_size, write_json, write_stretch
from synth.render.formats import carried, line_format
from synth.render.lines import FormatError, LineRenderer, layout, needs_timing
from synth.render.messy import MessyRenderer
from synth.run.signals import Interrupted, SetupInterrupted, Stopper, stop_on_signals
from synth.run.workers import Executor, default_workers
from synth.version import __version__

# Keyword overrides that generate() accepts, as scenario keys.
OVERRIDES = ("days", "end", "rate", "tz", "rotate", "format", "log_format", "nginx_log_format", "messy", "clients")
SPIKE_OVERRIDES = {"spike_magnitude": "magnitude", "spike_minutes": "minutes"}
MAX_SEED = 2**63 - 1
WORKERS = Bounds(1, MAX_WORKERS, integer=True)


@dataclass
class Run:
    """What a run did: its seed, range, anomaly windows, files and figures."""

    seed: int
    scenario: Scenario
    start: int
    end: int
    out_dir: Path
    windows: list[Window]
    truth: dict[str, Any]
    files: list[FileRecord] = field(default_factory=list)
    lines: int = 0
    bytes: int = 0
    seconds: float = 0.0
    hour0: int = 0  # the second the histogram's first hour starts at (a whole hour of the log's zone)
    hourly: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    notes: list[str] = field(default_factory=list)  # what the user should know about the run's use


def resolve_scenario(scenario: Scenario | str | Path | dict | None = None, *, now: dt.datetime | None = None,
                     check_range: bool = True, **overrides: Any) -> Scenario:
    """The scenario with keyword overrides applied and everything checked, every problem at once.

    Problems in an override are reported under the override's own name (``days``,
    ``spike_minutes``), so the CLI can name the option the user typed; the others under the
    file's name and the key's path (``my.yaml: anomalies[0].start``). The line format is
    checked, and with ``check_range`` the anomalies' places in the range (ending ``now``
    unless the scenario has an end).
    """
    problems: list[tuple[str, str]]
    if isinstance(scenario, Scenario):
        base, problems = scenario, []
    else:
        base, problems = read_scenario_source(scenario)
    unknown = set(overrides) - set(OVERRIDES) - set(SPIKE_OVERRIDES)
    if unknown:
        raise TypeError(f"unknown overrides: {', '.join(sorted(unknown))}")
    data = to_yaml(base)
    spikes = [i for i, a in enumerate(data["anomalies"]) if a["kind"] == "spike"]
    renamed: dict[str, str] = {}
    given = {name for name, value in overrides.items() if value is not None}
    if {"format", "log_format"} <= given:
        problems.append(("log_format", "give format or log_format, not both"))
    for name, value in overrides.items():
        if value is None:
            continue
        if name in SPIKE_OVERRIDES:
            if not spikes:
                problems.append((name, f"scenario {base.name!r} has no spike anomaly"))
            for i in spikes:
                data["anomalies"][i][SPIKE_OVERRIDES[name]] = value
                renamed[f"anomalies[{i}].{SPIKE_OVERRIDES[name]}"] = name
        else:
            data[name] = value.isoformat() if isinstance(value, dt.datetime) else value
            if name == "log_format":
                data.pop("format", None)
            elif name == "format":
                data.pop("log_format", None)
    resolved, more = read_scenario(data, name=base.name)
    resolved = resolved.replace(source=base.source)
    # Checks of the whole go on where their inputs are sound: a wrong --days says so once,
    # not again as every anomaly that does not fit in it.
    bad = {_root(renamed.get(p, p)) for p, _ in more} | {_root(p.split(": ", 1)[-1]) for p, _ in problems}
    if not bad & {"days", "end", "spike_minutes"}:
        whole = [p for p in check_problems(resolved) if _root(p[0]) not in bad]
        more += whole
        if check_range:
            start, end = time_range(resolved, now)
            said = bad | {p.split(".")[0] for p, _ in whole}
            more += [p for p in window_problems(resolved.anomalies, start, end) if p[0].split(".")[0] not in said]
    if not bad & {"format", "log_format"}:
        try:
            line_format(resolved.format, resolved.log_format)
        except FormatError as e:
            more.append(("log_format" if resolved.log_format else "format", str(e)))
    label = base.source
    for path, message in more:
        path = renamed.get(path, path)
        root = _root(path)
        if label and root not in given and path not in renamed.values():
            path = f"{label}: {path}"
        if (path, message) not in problems:
            problems.append((path, message))
    if problems:
        raise ScenarioError(problems)
    return resolved


def _root(path: str) -> str:
    """The top key of a problem's path: ``anomalies[0].start`` -> ``anomalies``."""
    return path.split(".", 1)[0].split("[", 1)[0]


def time_range(scenario: Scenario, now: dt.datetime | None = None) -> tuple[int, int]:
    """[start, end) in epoch seconds: ``days`` before the scenario's end (default: now), inside
    the span of times synth writes (ScenarioError naming ``days`` or ``end`` otherwise)."""
    end = scenario.end or parse_time(now or dt.datetime.now(dt.UTC))
    problem = time_problem(end)
    if problem:
        raise ScenarioError([("end", problem)])
    end_s = int(end.timestamp())
    start = end_s - int(round(scenario.days * 86400))
    problem = range_problem(start, end_s)
    if problem:
        raise ScenarioError([("days", problem)])
    return start, end_s


def check_seed(seed: int | None, scenario: Scenario | None = None) -> int:
    """The run's seed: the one given, else the scenario's, else one drawn."""
    if seed is None and scenario is not None:
        seed = scenario.seed
    if seed is None:
        return secrets.randbelow(MAX_SEED)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ScenarioError([("seed", f"must be a whole number from 0 to {MAX_SEED}, got {seed!r}")])
    return seed


def check_workers(workers: int | None) -> None:
    if workers is not None:
        check_number("workers", workers, WORKERS)


def prepare(scenario: Scenario, seed: int, start: int, end: int,
            windows: list[Window] | None = None) -> tuple[list[Window], Pools, TrafficModel, LineRenderer]:
    """Everything a run needs before it writes: windows, pools, the traffic model and the renderer.

    The scenario's anomalies are placed in [start, end) unless ``windows`` are given (a live
    stream places them from its own start, after its backfill).
    """
    try:
        template = line_format(scenario.format, scenario.log_format, scenario.nginx_log_format).template
        items = layout(template)
        timing = needs_timing(items)
    except FormatError as e:
        key = "nginx_log_format" if scenario.nginx_log_format else "log_format" if scenario.log_format else "format"
        raise ScenarioError([(key, str(e))]) from None
    if windows is None:
        windows = place_windows(scenario.anomalies, start, end, seed_stream(seed, PLACEMENT_STREAM))
    n_clients = scenario.clients or default_clients(scenario.rate, scenario.days)
    when = dt.datetime.fromtimestamp(end, dt.UTC).date()
    pools = build_pools(seed_stream(seed, POOLS_STREAM), n_clients=n_clients, ipv6_share=scenario.ipv6_share,
                        when=when, n_pages=scenario.pages, audience=scenario.audience, shape=scenario.shape,
                        first=dt.datetime.fromtimestamp(start, dt.UTC).date(),
                        bot_rate=scenario.rate * scenario.bot_share)
    model = TrafficModel(scenario, start, end, seed, pools, windows, timing=timing, carries=carried(items))
    # Built after the model: anomalies add clients, agents and URLs to the pools.
    renderer = LineRenderer(template, pools, scenario.zone)
    if scenario.messy:
        renderer = MessyRenderer(renderer, scenario.messy, pools)  # type: ignore[assignment]
    return windows, pools, model, renderer


MAX_SIZE_FILES = 1000  # size rotation past this many files asks for force=True (--force)


def expected_files(scenario: Scenario, model: TrafficModel, renderer: LineRenderer, lines: int) -> int:
    """About how many files size rotation cuts: the lines' bytes, measured on a sample of the
    run's own lines, over the size."""
    if scenario.rotate.kind != "size" or lines == 0:
        return 1
    sample = Events.empty()
    for b in range(model.start // model.block_s, model.end // model.block_s + 1):
        sample = model.draw_block(b)
        if len(sample) >= 200 or b - model.start // model.block_s > 50:
            break
    n = min(len(sample), 2000)
    per_line = len(renderer.render(sample.take(np.argsort(sample.t_ms, kind="stable")[:n]))) / n if n else 200.0
    return int(lines * min(per_line, 2000.0) // scenario.rotate.max_bytes) + 1


def check_file_count(scenario: Scenario, model: TrafficModel, renderer: LineRenderer, lines: int, force: bool) -> None:
    files = expected_files(scenario, model, renderer, lines)
    if files > MAX_SIZE_FILES and not force:
        raise ScenarioError([("rotate", f"{scenario.rotate.text()} would cut about {files:,} files "
                                        f"(more than {MAX_SIZE_FILES:,}): a larger size, or --force to write them")])


def expected_lines(model: TrafficModel, truth: dict[str, Any]) -> int:
    """About how many lines the run will write (for the progress bar)."""
    normal = model.rates.mean_total() * (model.end - model.start)
    extra = sum(a["expected"].get("extra_events", 0) for a in truth["anomalies"])
    return int(normal + extra)


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"2/3"`` -> (2, 3): this machine makes the second of three shards."""
    if text is None or isinstance(text, tuple):
        return text
    parts = str(text).split("/")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        k, n = int(parts[0]), int(parts[1])
        if 1 <= k <= n:
            return k, n
    raise ScenarioError([("shard", f"must be K/N with 1 <= K <= N, like 2/3, got {text!r}")])


def plan_work(scenario: Scenario, model: TrafficModel, start: int, end: int,
              shard: tuple[int, int] | None) -> tuple[list[Stretch], list[tuple[int, int]]]:
    """What this run writes: whole files (time rotation), or time slices of one stream.

    A shard is a contiguous part of the run: whole files for day and hour rotation (balanced
    by expected lines), a part of the range otherwise. Shards never change the bytes.
    """
    rotation = scenario.rotate
    if shard is not None and rotation.kind == "size":
        raise ScenarioError([("shard", "size rotation numbers files across the whole run; "
                                       "use --rotate day, hour or none with --shard")])
    if rotation.kind in ("day", "hour"):
        stretches = plan_stretches(start, end, rotation, scenario.zone)
        if shard is not None:
            stretches = shard_stretches(stretches, [expected_in(model, s.t0, s.t1) for s in stretches], *shard)
        return stretches, []
    if shard is not None:
        k, n = shard
        edges = [start + (end - start) * i // n for i in range(n + 1)]
        start, end = edges[k - 1], edges[k]
    # Slices of a few hundred thousand lines: enough work per worker, little memory each.
    step = model.block_s * max(1, int(200_000 / max(scenario.rate, 1e-9) / model.block_s))
    first = (start // step + 1) * step
    edges = [start] + list(range(first, end, step)) + [end]
    return [], [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


def expected_in(model: TrafficModel, t0: int, t1: int) -> float:
    return model.expected_count(t0, t1)


def write_planned(executor: Executor, rotation: Rotation, stretches: list[Stretch], slices: list[tuple[int, int]],
                  out: Path, model: TrafficModel) -> list[FileRecord]:
    """Write the files plan_work() planned. A stop request ends them early, whole; on a write
    error, WriteError carries the records of the files on disk."""
    if rotation.kind in ("day", "hour"):
        return executor.write_files(stretches, out, lambda s: expected_in(model, s.t0, s.t1))
    if rotation.kind == "size":
        return write_by_size(executor.slices(slices), out, rotation.max_bytes)
    return [write_stretch(executor.slices(slices), out / ACTIVE)]


def save_manifest(manifest: Manifest, out: Path, files: list[FileRecord], complete: bool,
                  failure: WriteError | None = None) -> None:
    """The manifest as the files are on disk. When the run already failed to write, a manifest
    that cannot be written either is not a second error: the one on disk says incomplete."""
    manifest.files, manifest.complete = files, complete
    manifest.lines, manifest.bytes = sum(f.lines for f in files), sum(f.bytes for f in files)
    try:
        manifest.save(out)
    except WriteError:
        if failure is None:
            raise


def generate(scenario: Scenario | str | Path | dict | None = None, *, seed: int | None = None,
             out_dir: str | Path = "output", force: bool = False, now: dt.datetime | None = None,
             workers: int | None = None, shard: str | tuple[int, int] | None = None,
             progress: Callable[[int], None] | None = None,
             on_start: Callable[[Run, int], None] | None = None, **overrides: Any) -> Run:
    """Write the access logs of a scenario, its ground truth and a manifest to ``out_dir``.

    ``workers`` processes (default: one per core) each write whole files; the bytes are the
    same for any number. ``shard="2/3"`` writes only the second of three parts of the run.

    >>> run = generate("classic", seed=7, days=1, rate=0.5, out_dir="/tmp/synth-doc", force=True)
    >>> run.truth["anomalies"][0]["kind"]
    'spike'
    """
    began = time.perf_counter()
    stopper = Stopper()
    try:
        # Until the folder is claimed nothing is written: a signal ends the run at once.
        with stop_on_signals(stopper, setting_up=True):
            resolved = resolve_scenario(scenario, now=now, **overrides)
            seed = check_seed(seed, resolved)
            shard = parse_shard(shard)
            check_workers(workers)
            out = Path(out_dir)
            check_output(out, force)  # again under the lock below; now, so that a wrong folder is said at once
            start, end = time_range(resolved, now)
            windows, pools, model, renderer = prepare(resolved, seed, start, end)
            truth = ground_truth(model.effects, model)
            check_file_count(resolved, model, renderer, expected_lines(model, truth), force)
            stretches, slices = plan_work(resolved, model, start, end, shard)
            hour0 = start - (start + resolved.zone.offset(start)) % 3600  # hours of the files' clock
            hours = (end - 1 - hour0) // 3600 + 1
            run = Run(seed, resolved, start, end, out, windows, truth, hour0=hour0,
                      notes=history_notes(windows, start))
            stopper.leave_setup()
            with claim_output(out, force, "generate"), \
                    Executor(model, renderer, hour0, hours, workers or default_workers(), progress, stopper,
                             parent_works=resolved.rotate.kind in ("day", "hour")) as executor:
                if stopper.requested:  # a signal while the folder was claimed and the workers forked
                    raise SetupInterrupted(stopper.signal)
                manifest, failure = _write_run(run, executor, model, stretches, slices, shard, force, stopper,
                                               on_start)
    except SetupInterrupted as e:
        raise Interrupted(e.signum, 0, 0, written=False) from None
    run.lines, run.bytes = manifest.lines, manifest.bytes
    run.seconds = time.perf_counter() - began
    if failure is not None:
        raise failure
    if stopper.signal:
        raise Interrupted(stopper.signal, run.lines, len(run.files))
    return run


def _write_run(run: Run, executor: Executor, model: TrafficModel, stretches: list[Stretch],
               slices: list[tuple[int, int]], shard: tuple[int, int] | None, force: bool, stopper: Stopper,
               on_start: Callable[[Run, int], None] | None) -> tuple[Manifest, WriteError | None]:
    """The writing part of generate(), in the claimed folder: the manifest, the ground truth, the
    files, the manifest again with the files as they are on disk."""
    out, resolved, start, end, truth = run.out_dir, run.scenario, run.start, run.end, run.truth
    if on_start:
        todo = sum(expected_in(model, s.t0, s.t1) for s in stretches) + sum(expected_in(model, a, b) for a, b in slices)
        on_start(run, int(todo) if shard else expected_lines(model, truth))
    clear_previous(out)
    manifest = Manifest(version=__version__, seed=run.seed, scenario=to_yaml(resolved),
                        options={"out": str(out), "force": force, "workers": executor.workers,
                                 "shard": f"{shard[0]}/{shard[1]}" if shard else None},
                        start=iso(start), end=iso(end), start_ms=start * 1000, end_ms=end * 1000)
    manifest.save(out)
    write_json(out / TRUTH, truth)
    failure: WriteError | None = None
    try:
        run.files = write_planned(executor, resolved.rotate, stretches, slices, out, model)
    except WriteError as e:
        failure, run.files = e, e.records
    run.hourly = executor.hourly
    if resolved.messy and failure is None:
        from synth.run.messy import write_messy
        t0 = min([s.t0 for s in stretches] + [a for a, _ in slices])
        t1 = max([s.t1 for s in stretches] + [b for _, b in slices])
        # The run's last line is cut where the run ends: in the shard that holds its end, so
        # that the shards together stay the whole run.
        write_messy(out, model, t0, t1, resolved.messy, run.files, truncate=not stopper.requested and t1 == run.end)
    save_manifest(manifest, out, run.files, complete=failure is None and not stopper.requested, failure=failure)
    if stopper.signal and manifest.complete:
        # The signal came while the manifest was written: the run exits 128 + n, so the manifest
        # must not say the run finished as asked.
        save_manifest(manifest, out, run.files, complete=False)
    return manifest, failure
