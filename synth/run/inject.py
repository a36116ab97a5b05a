"""Labelled anomalies inside a user's own access log (``synth inject``).

    >>> run = inject(["/var/log/apache2/access.log", "/var/log/apache2/access.log.1"],
    ...              anomalies=["spike:magnitude=5,minutes=20"], seed=7, out_dir="injected")
    >>> run.truth["anomalies"][0]["kind"], run.added
    ('spike', 2113)

The input is never changed. It is read once whole, for every line's time and a sample of its
lines (the log's own mix, fully parsed); then each output file is written, its untouched
stretches copied as bytes and only the blocks from its first change on read again. The user's lines are copied byte for byte into files of the same names
and compression; injected lines, rendered in the log's format by synth's renderer from the
log's own clients, paths, agents and referrers, are placed in time order among them (before
the first line whose time, as written, is later; at the end of a file rather than the start
of the next); a dip removes lines; an error burst or a latency rewrites, in place, the status
and size or the response time of lines, leaving every other byte. ``injected.jsonl`` says what
was done to which line, so the injection can be undone exactly.

The work is done a module a stage: ``injectread`` (the first pass), ``injectplan`` (the
anomalies asked for, their windows, the log's mix and the edits), ``injectwrite`` (the output
files and ``injected.jsonl``); ``logmodel`` is the log as the model the kinds draw from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.analysis.logread import LogReadError, order_files, reader_columns, resolve_format
from synth.generate.anomalies import Window, iso
from synth.generate.scenario import Rotation
from synth.output.folder import claim_output, clear_previous
from synth.output.manifest import Manifest
from synth.output.names import MANIFEST, PER_LINE, TRUTH
from synth.output.records import FileRecord
from synth.output.writers import write_json
from synth.run.generate import check_seed
from synth.run.injectplan import (
    NEEDS,
    InjectError,
    anomaly_specs,
    check_measurable,
    draw,
    ground_truth,
    learn,
    parse_anomaly,
    place,
    setup_kinds,
    spec_yaml,
)
from synth.run.injectread import read_times, same_window
from synth.run.injectwrite import Rewriter, write, write_ops
from synth.run.injectwrite import rotate as rotate_files
from synth.run.logmodel import Baseline


@dataclass
class InjectRun:
    """What an injection did."""

    seed: int
    out_dir: Path
    format: str
    windows: list[Window]
    truth: dict[str, Any]
    files: list[FileRecord] = field(default_factory=list)
    lines_in: int = 0
    unparsed: int = 0
    added: int = 0
    removed: int = 0
    rewritten: int = 0
    seconds: float = 0.0
    start: int = 0  # the log's range: its first line's second, and one past its last's
    end: int = 0
    inputs: int = 0  # input files

    def summary(self) -> str:
        rate = self.lines_in / self.seconds if self.seconds else 0.0
        return (f"read {self.lines_in:,} lines ({self.unparsed:,} unparsed, kept) in {self.inputs} "
                f"file{'s' if self.inputs != 1 else ''}; added {self.added:,}, removed {self.removed:,}, "
                f"rewrote {self.rewritten:,}; {self.seconds:.1f} s, {rate:,.0f} input lines/s; seed {self.seed}")


def inject(paths: Sequence[str | Path], *, out_dir: str | Path = "injected", scenario: str | Path | None = None,
           anomalies: Iterable[str | dict[str, Any]] = (), format: str | None = None, log_format: str | None = None,
           seed: int | None = None, force: bool = False, rotate: str | None = None,
           progress: Callable[[str], None] | None = None) -> InjectRun:
    """Write ``paths`` (a rotated set, in any order) to ``out_dir`` with anomalies injected.

    Raises InjectError (a ScenarioError: ``problems`` name the option) for anything it refuses;
    nothing is written then.
    """
    began = time.perf_counter()
    out = Path(out_dir)
    seed = check_seed(seed)
    say = progress or (lambda text: None)
    option = "--log-format" if log_format else "--format" if format else "PATHS"
    try:
        files = order_files(paths)
        if not files:
            raise InjectError([("PATHS", "no input files given")])
        fmt = resolve_format(files, format, log_format)
    except LogReadError as e:
        raise InjectError([(option, str(e))]) from None
    names = [p.name for p in files]
    if len(set(names)) != len(names):
        raise InjectError([("PATHS", "two input files have the same name; the output keeps the names")])
    if any(p.resolve().parent == out.resolve() for p in files):
        raise InjectError([("--out", f"{out} holds the input: the input is never changed in place")])
    specs = anomaly_specs(scenario, anomalies)
    try:
        rotation = Rotation.parse(rotate) if rotate is not None else None
    except ValueError as e:
        raise InjectError([("--rotate", str(e))]) from None
    carried = reader_columns(fmt)
    for spec in specs:
        need = NEEDS.get(spec.kind)
        if need and need[0] not in carried:
            raise InjectError([("--anomaly", f"{spec.kind} needs {need[1]} in each line, and the "
                                f"{fmt.name} format has none")])

    say("reading times")
    try:
        inputs, lines, source, every = read_times(files, fmt)
    except LogReadError as e:
        raise InjectError([("PATHS", str(e))]) from None
    t_all = np.concatenate([i.t_ms for i in inputs])
    ok_all = np.concatenate([i.parsed for i in inputs])
    if not ok_all.any():
        raise InjectError([("PATHS", f"no line of the input is a {fmt.name} line")])
    start, end = int(t_all[ok_all].min() // 1000), int(t_all[ok_all].max() // 1000) + 1
    windows = place(specs, start, end, seed)
    baseline = Baseline(t_all[ok_all], start, end, [(w.start, w.end) for w in windows])
    for w in windows:
        check_measurable(w, baseline, start, end)

    say("learning the log's mix")
    mix = learn(fmt, lines, source, every, windows, baseline, option)
    for w in windows:
        if w.kind in ("crowd", "flood"):
            mix.models[w.index].measure_clients(same_window(inputs, fmt, baseline, w, t_all, ok_all), w.seconds)
    effects = setup_kinds(windows, mix, seed)

    say("drawing the anomalies")
    edits = draw(effects, mix, fmt, "duration_us" in carried, seed, t_all, ok_all)

    say("writing")
    lock = claim_output(out, force, "inject")
    try:
        clear_previous(out)
        try:
            run = write(inputs, out, edits, Rewriter(fmt, mix.error_sizes), windows)
            if rotation is not None:
                say("rotating")
                fmt_args = {"log_format": fmt.logformat} if fmt.name == "custom" else {"format": fmt.name}
                run.records = rotate_files(out, run, rotation, mix.tz, fmt_args)
        except LogReadError as e:  # an input changed or went since it was read
            raise InjectError([("PATHS", str(e))]) from None
        write_ops(out / PER_LINE, run.ops)
    finally:
        lock.release()
    labels = ground_truth(effects, mix, run.counts)
    write_json(out / TRUTH, labels)
    manifest = Manifest(
        version=__import__("synth").__version__, seed=seed,
        scenario={"name": "inject", "input": [str(p) for p in files], "format": fmt.name,
                  "log_format": fmt.logformat, "anomalies": [spec_yaml(s) for s in specs]},
        options={"out": str(out), "force": force, "scenario": str(scenario) if scenario else None,
                 "rotate": str(rotation) if rotation else None},
        start=iso(start), end=iso(end), start_ms=start * 1000, end_ms=end * 1000, complete=True,
        lines=sum(f.lines for f in run.records), bytes=sum(f.bytes for f in run.records), files=run.records)
    manifest.save(out)
    return InjectRun(seed, out, fmt.name, windows, labels, run.records, len(t_all),
                     int((~ok_all).sum()), len(edits.added), len(edits.remove), len(edits.rewrite),
                     time.perf_counter() - began, start, end, len(files))


__all__ = ["inject", "InjectRun", "InjectError", "parse_anomaly", "anomaly_specs", "place", "PER_LINE", "MANIFEST"]
