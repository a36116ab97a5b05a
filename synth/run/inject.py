"""Labelled anomalies inside a user's own access log (``synth inject``).

    >>> run = inject(["/var/log/apache2/access.log", "/var/log/apache2/access.log.1"],
    ...              anomalies=["spike:magnitude=5,minutes=20"], seed=7, out_dir="injected")
    >>> run.truth["anomalies"][0]["kind"], run.added
    ('spike', 2113)

The input is read three times, never changed: once for every line's time (logread's fast
path), once for a sample of the hours the windows fall in (the log's own mix, fully parsed),
and once to copy it. The user's lines are copied byte for byte into files of the same names
and compression; injected lines, rendered in the log's format by synth's renderer from the
log's own clients, paths, agents and referrers, are placed in time order among them (before
the first line whose time, as written, is later; at the end of a file rather than the start
of the next); a dip removes lines; an error burst or a latency rewrites, in place, the status
and size or the response time of lines, leaving every other byte. ``injected.jsonl`` says what
was done to which line, so the injection can be undone exactly.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from faker import Faker

from synth.analysis.logread import (
    LineParser,
    LogReadError,
    is_gzip,
    order_files,
    parse_lines,
    read_blocks,
    read_log,
    reader_columns,
    resolve_format,
)
from synth.generate.anomalies import KIND_CLASSES, Crowd, Kind, NewAgent, Window, iso, place_windows
from synth.generate.model import ANOMALY_STREAM, PLACEMENT_STREAM, seed_stream
from synth.generate.pools import ERROR_SIZE_TABLE
from synth.generate.scenario import AnomalySpec, ScenarioError, load_scenario, scenario_from_dict
from synth.generate.traffic import SESSION_CAP_MS, Events
from synth.output.files import MANIFEST, PER_LINE, TRUTH, FileRecord, Manifest, claim_output, clear_previous, write_json
from synth.render.formats import LineFormat
from synth.render.lines import LineRenderer
from synth.run.generate import check_seed
from synth.run.logmodel import Baseline, LogModel, LogPools

HISTORY_S = 2 * 86400
MIX_CAP = 20_000  # lines of the log parsed to learn its mix
MIN_WINDOW_LINES = 20  # a window with fewer normal lines cannot show a factor
MIN_SHARE_LINES = 200  # nor a share of statuses

# What each kind needs the format to carry.
NEEDS = {"latency": ("duration_us", "a response time (%D or %T)"), "new_agent": ("agent", "a user agent"),
         "crowd": ("referrer", "a referrer"), "bytes": ("bytes", "a response size (%b, %B or %O)"),
         "error_burst": ("status", "a status (%s)"), "scan": ("target", "a request (%r or %U)"),
         "flood": ("client", "a client (%h or %a)")}


class InjectError(ScenarioError):
    """Input or options inject cannot use; names the option or file."""


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

    def summary(self) -> str:
        rate = self.lines_in / self.seconds if self.seconds else 0.0
        return (f"read {self.lines_in:,} lines ({self.unparsed:,} unparsed, kept) in {len(self.files)} "
                f"file{'s' if len(self.files) != 1 else ''}; added {self.added:,}, removed {self.removed:,}, "
                f"rewrote {self.rewritten:,}; {self.seconds:.1f} s, {rate:,.0f} input lines/s; seed {self.seed}")


# --- anomalies asked for ----------------------------------------------------------------------

def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_anomaly(text: str) -> dict[str, Any]:
    """``spike:magnitude=5,minutes=20`` -> ``{"kind": "spike", "magnitude": 5, "minutes": 20}``."""
    kind, _, rest = text.partition(":")
    data: dict[str, Any] = {"kind": kind.strip()}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise InjectError([("--anomaly", f"{text!r}: expected KIND[:key=value,...], got {item!r}")])
        data[key.strip()] = _value(value.strip())
    return data


def anomaly_specs(scenario: str | Path | None, anomalies: Iterable[str | dict[str, Any]]) -> list[AnomalySpec]:
    """The scenario's anomalies, then each ``--anomaly``, checked as a scenario's are."""
    specs: list[AnomalySpec] = []
    if scenario is not None:
        try:
            specs.extend(load_scenario(scenario).anomalies)
        except ScenarioError as e:
            raise InjectError([("--scenario", m) for m in e.lines()]) from None
    asked = [parse_anomaly(a) if isinstance(a, str) else dict(a) for a in anomalies]
    if asked:
        try:
            specs.extend(scenario_from_dict({"anomalies": asked}).anomalies)
        except ScenarioError as e:
            raise InjectError([("--anomaly", msg.replace("anomalies[", "#").replace("]", "", 1))
                               for msg in e.lines()]) from None
    if not specs:
        raise InjectError([("--anomaly", "nothing to inject: give --scenario NAME or --anomaly KIND[:k=v,...]")])
    return specs


def place(specs: list[AnomalySpec], start: int, end: int, seed: int) -> list[Window]:
    """Windows as generate places them, in the log's range; a drawn window leaves the log's
    history before it: two days where the range allows, else half of the spare room."""
    rng = seed_stream(seed, PLACEMENT_STREAM)
    windows = []
    for i, spec in enumerate(specs):
        fixed = spec.start is not None or spec.offset is not None
        duration = int(round(spec.minutes * 60))
        history = 0 if fixed else min(HISTORY_S, max(0, (end - start - duration) // 2))
        try:
            (w,) = place_windows((spec,), start if fixed else start + history, end, rng)
        except ScenarioError as e:
            msg = e.problems[0][1]
            raise InjectError([(f"anomaly {i + 1} ({spec.kind})", msg.replace("the range", "the log's range"))]) from None
        windows.append(replace(w, index=i))
    return windows


# --- kinds the log needs its own way of ---------------------------------------------------------

class LogCrowd(Crowd):
    """A crowd of new visitors through one new referrer: each new client, with a browser agent
    of the log's own visitors, replays a real visit of the log (its requests, in its rhythm),
    landing mostly on one viral page."""

    def setup(self, model: Any, fake: Faker, rng: np.random.Generator) -> None:
        w, pools, mix = self.window, model.pools, model.mix
        pop = pools.population
        url = w.spec.param("referrer") or (
            f"https://www.reddit.com/r/{fake.word()}/comments/{fake.hexify('^^^^^^')}/{fake.slug().replace('-', '_')}/")
        self.referrer = pools.referrers.add(url)
        self.values = [url]
        self.used = {"referrer": url}
        self.usual = model.expected_visits(w.start, w.end)
        n = int(rng.poisson((w.magnitude - 1) * self.usual))
        human = np.isin(mix.client, pop.group_clients[0])
        rows = np.flatnonzero(human) if human.any() else np.arange(len(mix))
        agents = mix.agent[rows[rng.integers(0, len(rows), n)]].tolist()
        addresses = [f"{fake.ipv4_public().rsplit('.', 1)[0]}.{int(rng.integers(1, 255))}" for _ in range(n)]
        self.clients = pop.add_clients(addresses, agents, [0] * n, ["en-US,en;q=0.9"] * n)
        pop.freeze()
        self.starts = np.sort(rng.integers(w.start * 1000, w.end * 1000, n))
        site = pools.site
        viral = int(site.pages[int(rng.integers(0, min(len(site.pages), 50)))])
        self.viral_page = site.targets[viral]
        # Visits of the mix: lines of one client and agent, in time order, within the session cap.
        key = mix.client.astype(np.int64) * (len(pop.agents) + 1) + mix.agent
        order = np.lexsort((mix.t_ms, key))
        key_sorted = key[order]
        firsts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
        bounds = np.r_[firsts, len(order)]
        picks = rng.integers(0, len(firsts), n) if len(firsts) else np.zeros(0, np.int64)
        parts = []
        for i, p in enumerate(picks.tolist()):
            visit = order[bounds[p]:bounds[p + 1]]
            offset = mix.t_ms[visit] - mix.t_ms[visit[0]]
            visit = visit[offset < SESSION_CAP_MS]
            offset = offset[offset < SESSION_CAP_MS]
            target = mix.target[visit].copy()
            referrer = mix.referrer[visit].copy()
            target[0] = viral if rng.random() < 0.85 else target[0]
            referrer[0] = self.referrer
            c = int(self.clients[i])
            parts.append(Events.build(t_ms=self.starts[i] + offset, client=np.full(len(visit), c),
                                      agent=np.full(len(visit), pop.client_agent[c]), target=target,
                                      method=mix.method[visit], proto=mix.proto[visit],
                                      status=mix.status[visit], referrer=referrer))
        self.events = Events.concat(parts)

    def extra(self, model: Any, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        t = self.events.t_ms
        return self.events.take((t >= b0 * 1000) & (t < b1 * 1000))

    def extra_rate(self, model: Any, t0: int, t1: int) -> float:
        return len(self.events) / self.window.seconds


class LogNewAgent(NewAgent):
    """A new crawler; its first request is robots.txt, answered as the log answers it (404 when
    the log has no robots.txt)."""

    def extra(self, model: Any, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        site = model.pools.site
        if site.robots < 0:
            site.robots = site.add("/robots.txt", 3, 0)
            site.freeze()
            self.no_robots = True
        events = super().extra(model, rng, b0, b1)
        if events is not None and getattr(self, "no_robots", False):
            events.status[events.target == site.robots] = 404
        return events


def make_kind(window: Window) -> Kind:
    return {"crowd": LogCrowd, "new_agent": LogNewAgent}.get(window.kind, KIND_CLASSES[window.kind])(window)


# --- the passes ---------------------------------------------------------------------------------

@dataclass
class _Input:
    path: Path
    gz: bool
    t_ms: np.ndarray  # every line's time, 0 where it has none
    parsed: np.ndarray
    terminated: bool  # its last line ends in a newline
    block_lines: list[int]  # lines in each block read_blocks gives


def _plain_size(path: Path, gz: bool) -> int:
    """The file's size as plain text: a gzip member's trailer says it (modulo 4 GiB)."""
    size = path.stat().st_size
    if not gz or size < 18:
        return size
    with open(path, "rb") as fh:
        fh.seek(-4, 2)
        return max(int.from_bytes(fh.read(4), "little"), size)


def _read_times(files: list[Path], fmt_args: dict[str, Any]) -> tuple[list[_Input], list[bytes]]:
    """Every line's time (logread's fast path), and an even sample of about MIX_CAP raw lines
    (every k-th line, k from the input's size) for learning the log's mix."""
    gz = [is_gzip(p) for p in files]
    head = b"".join(next(read_blocks(files[0], 1 << 16), (b"", True))[0].splitlines(keepends=True)[:200])
    mean = max(len(head) / max(head.count(b"\n"), 1), 1.0)
    estimate = sum(_plain_size(p, g) for p, g in zip(files, gz)) / mean
    every = max(1, int(estimate // MIX_CAP) + 1)
    inputs = []
    batches: dict[int, list] = {}
    terminated: dict[int, bool] = {}
    sample: list[bytes] = []
    seen = 0
    for batch in read_log(files, columns=("t_ms",), **fmt_args):
        batches.setdefault(batch.file_index, []).append((batch.t_ms, batch.parsed))
        terminated[batch.file_index] = batch.terminated
        first = (-seen) % every
        data, starts, ends = batch.data, batch.starts, batch.ends
        sample.extend(data[a:b] for a, b in zip(starts[first::every].tolist(), ends[first::every].tolist()))
        seen += len(batch)
    for i, path in enumerate(files):
        parts = batches.get(i, [])
        t = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        ok = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, bool)
        inputs.append(_Input(path, gz[i], t, ok, terminated.get(i, True), [len(p[0]) for p in parts]))
    return inputs, sample


def _hours(w: Window) -> set[int]:
    return {h % 24 for h in range(w.start // 3600, (w.end - 1) // 3600 + 1)}


# --- rewriting a line in place --------------------------------------------------------------------

class _Rewriter:
    """New status and size, or a scaled response time, in a line's own bytes."""

    def __init__(self, fmt: LineFormat, error_sizes: dict[int, int]) -> None:
        self.json = fmt.json
        self.parser = LineParser(fmt)
        self.error_sizes = error_sizes
        self.dash = bool(fmt.logformat and ("%b" in fmt.logformat or "%>b" in fmt.logformat))

    def size_for(self, status: int) -> int:
        return self.error_sizes.get(status, int(ERROR_SIZE_TABLE[status]) if status < 600 else 0)

    def status(self, line: bytes, status: int) -> bytes | None:
        size = self.size_for(status)
        if self.json:
            doc = json.loads(line)
            old = doc["http"]["response"]["status_code"]
            out = line.replace(b'"status_code":%d' % old, b'"status_code":%d' % status, 1)
            out = _json_number(out, b'"bytes":', size)
            if status >= 400:
                out = out.replace(b'"outcome":"success"', b'"outcome":"failure"', 1)
            return out
        spans = self.parser.spans(line)
        if spans is None or "status" not in spans:
            return None
        edits = [(spans["status"], str(status).encode())]
        if "bytes" in spans:
            edits.append((spans["bytes"], b"-" if size == 0 and self.dash else str(size).encode()))
        return _apply(line, edits)

    def latency(self, line: bytes, factor: float) -> bytes | None:
        if self.json:
            return _json_number(line, b'"duration":', None, factor)
        spans = self.parser.spans(line)
        if spans is None or "duration_us" not in spans:
            return None
        a, b = spans["duration_us"]
        return _apply(line, [((a, b), str(int(int(line[a:b]) * factor)).encode())])


def _apply(line: bytes, edits: list[tuple[tuple[int, int], bytes]]) -> bytes:
    out, at = [], 0
    for (a, b), text in sorted(edits):
        out += [line[at:a], text]
        at = b
    out.append(line[at:])
    return b"".join(out)


def _json_number(line: bytes, key: bytes, value: int | None, factor: float = 1.0) -> bytes:
    at = line.find(key)
    if at < 0:
        return line
    a = at + len(key)
    b = a
    while b < len(line) and line[b:b + 1].isdigit():
        b += 1
    new = value if value is not None else int(int(line[a:b]) * factor)
    return line[:a] + str(new).encode() + line[b:]


# --- the whole injection ------------------------------------------------------------------------

def inject(paths: Sequence[str | Path], *, out_dir: str | Path = "injected", scenario: str | Path | None = None,
           anomalies: Iterable[str | dict[str, Any]] = (), format: str | None = None, log_format: str | None = None,
           seed: int | None = None, force: bool = False,
           progress: Callable[[str], None] | None = None) -> InjectRun:
    """Write ``paths`` (a rotated set, in any order) to ``out_dir`` with anomalies injected.

    Raises InjectError (a ScenarioError: ``problems`` name the option) for anything it refuses;
    nothing is written then.
    """
    began = time.perf_counter()
    out = Path(out_dir)
    seed = check_seed(seed)
    say = progress or (lambda text: None)
    try:
        files = order_files(paths)
        if not files:
            raise InjectError([("PATHS", "no input files given")])
        fmt = resolve_format(files, format, log_format)
    except LogReadError as e:
        raise InjectError([("--log-format" if log_format else "--format" if format else "PATHS", str(e))]) from None
    names = [p.name for p in files]
    if len(set(names)) != len(names):
        raise InjectError([("PATHS", "two input files have the same name; the output keeps the names")])
    if any(p.resolve().parent == out.resolve() for p in files):
        raise InjectError([("--out", f"{out} holds the input: the input is never changed in place")])
    specs = anomaly_specs(scenario, anomalies)
    carried = reader_columns(fmt)
    for spec in specs:
        need = NEEDS.get(spec.kind)
        if need and need[0] not in carried:
            raise InjectError([("--anomaly", f"{spec.kind} needs {need[1]} in each line, and the "
                                f"{fmt.name} format has none")])
    fmt_args = {"log_format": fmt.logformat} if fmt.name == "custom" else {"format": fmt.name}

    say("reading times")
    inputs, lines = _read_times(files, fmt_args)
    t_all = np.concatenate([i.t_ms for i in inputs])
    ok_all = np.concatenate([i.parsed for i in inputs])
    if not ok_all.any():
        raise InjectError([("PATHS", f"no line of the input is a {fmt.name} line")])
    start, end = int(t_all[ok_all].min() // 1000), int(t_all[ok_all].max() // 1000) + 1
    windows = place(specs, start, end, seed)
    spans = [(w.start, w.end) for w in windows]
    baseline = Baseline(t_all[ok_all], start, end, spans)
    for w in windows:
        _check_measurable(w, baseline, start, end)

    say("learning the log's mix")
    seconds = t_all // 1000
    columns = parse_lines(fmt, lines)
    if len(lines) and columns["parsed"].mean() < 0.5:
        raise InjectError([("--log-format" if log_format else "--format" if format else "PATHS",
                            f"only {columns['parsed'].mean():.0%} of a sample of the input's lines are "
                            f"{fmt.name} lines: is that the log's format?")])
    in_window = np.zeros(len(columns["parsed"]), bool)
    for w0, w1 in spans:
        in_window |= (columns["t_ms"] >= w0 * 1000) & (columns["t_ms"] < w1 * 1000)
    columns["parsed"] &= ~in_window
    every = max(1, -(-len(t_all) // max(len(lines), 1)))
    hosts = columns["host"][columns["parsed"]] if columns["host"] is not None else np.zeros(0, object)
    host = max(set(hosts.tolist()), key=hosts.tolist().count).decode() if len(hosts) else ""
    log_pools = LogPools(host, fmt.json)
    sample = log_pools.sample(columns)
    pools = log_pools.finish()
    log_pools.set_pages(np.bincount(sample.target, minlength=len(pools.site.targets)))
    error_sizes = _error_sizes(sample)
    sample_hour = (sample.t_ms // 3_600_000) % 24
    models = {}
    for w in windows:
        rows = np.flatnonzero(np.isin(sample_hour, sorted(_hours(w))))
        days = max(1, len({int(t // 86_400_000) for t in sample.t_ms[rows].tolist()}))
        models[w.index] = LogModel(pools, sample.take(rows), days * 3600 * len(_hours(w)), baseline, every)
        _check_mix(w, models[w.index], fmt)

    effects = [make_kind(w) for w in windows]
    rng = seed_stream(seed, ANOMALY_STREAM)
    fake = Faker("en_US")
    fake.seed_instance(int(rng.integers(2**63)))
    for effect in effects:
        effect.setup(models[effect.window.index], fake, rng)
    tz = _zone_of(lines, fmt)
    renderer = LineRenderer(fmt.template, pools, tz)

    say("drawing the anomalies")
    added: list[tuple[int, int, bytes]] = []  # (t_ms, window index, line)
    remove: dict[int, int] = {}
    rewrite: dict[int, tuple[int, str, Any]] = {}
    timing = "duration_us" in carried
    for effect in effects:
        w, model = effect.window, models[effect.window.index]
        wrng = seed_stream(seed, ANOMALY_STREAM, 1 + w.index)
        events = effect.extra(model, wrng, w.start - SESSION_CAP_MS // 1000, w.end + SESSION_CAP_MS // 1000)
        if events is not None and len(events):
            order = np.argsort(events.t_ms, kind="stable")
            events = events.take(order)
            if timing:
                events.duration_us = model.durations(wrng, events)
            body = renderer.render(events)
            for t, line in zip(events.t_ms.tolist(), body.split(b"\n")[:-1]):
                added.append((t, w.index, line))
        inside = np.flatnonzero(ok_all & (seconds >= w.start) & (seconds < w.end))
        if w.kind == "dip":
            lost = inside[wrng.random(len(inside)) >= w.magnitude]
            for i in lost.tolist():
                remove.setdefault(i, w.index)
        elif w.kind == "error_burst":
            hit = inside[wrng.random(len(inside)) < effect.convert]  # type: ignore[attr-defined]
            for i in hit.tolist():
                rewrite.setdefault(i, (w.index, "status", effect.status))  # type: ignore[attr-defined]
        elif w.kind == "latency":
            for i in inside.tolist():
                rewrite.setdefault(i, (w.index, "latency", w.magnitude))
    for i in list(rewrite):
        if i in remove:
            del rewrite[i]

    say("writing")
    lock = claim_output(out, force, "inject")
    try:
        clear_previous(out)
        run = _write(inputs, out, added, remove, rewrite, _Rewriter(fmt, error_sizes), windows)
    finally:
        lock.release()
    truth = {"anomalies": []}
    for effect in effects:
        neighbours = [e for e in effects if e is not effect]
        entry = effect.truth(models[effect.window.index], neighbours)
        entry["injected"] = run.counts.get(effect.window.index, {"added": 0, "removed": 0, "rewritten": 0})
        truth["anomalies"].append(entry)
    write_json(out / TRUTH, truth)
    manifest = Manifest(
        version=__import__("synth").__version__, seed=seed,
        scenario={"name": "inject", "input": [str(p) for p in files], "format": fmt.name,
                  "log_format": fmt.logformat, "anomalies": [_spec_yaml(s) for s in specs]},
        options={"out": str(out), "force": force, "scenario": str(scenario) if scenario else None},
        start=iso(start), end=iso(end), start_ms=start * 1000, end_ms=end * 1000, complete=True,
        lines=sum(f.lines for f in run.records), bytes=sum(f.bytes for f in run.records), files=run.records)
    manifest.save(out)
    result = InjectRun(seed, out, fmt.name, windows, truth, run.records, len(t_all), int((~ok_all).sum()),
                       len(added), len(remove), len(rewrite), time.perf_counter() - began, start, end)
    return result


def _spec_yaml(spec: AnomalySpec) -> dict[str, Any]:
    from synth.generate.scenario import _anomaly_yaml
    return _anomaly_yaml(spec)


def _zone_of(lines: list[bytes], fmt: LineFormat) -> int:
    """The zone offset the log writes (its first line with one), in seconds east of UTC."""
    import re
    for line in lines:
        m = re.search(rb":\d\d:\d\d ([+-])(\d\d)(\d\d)[\]\" ]", line) if not fmt.json else None
        if m:
            return (int(m.group(2)) * 3600 + int(m.group(3)) * 60) * (-1 if m.group(1) == b"-" else 1)
    return 0


def _error_sizes(sample: Any) -> dict[int, int]:
    """The size the log writes for each status other than 200: its most common."""
    out = {}
    for status in set(sample.status.tolist()) - {200}:
        sizes = sample.size[sample.status == status]
        values, counts = np.unique(np.maximum(sizes, 0), return_counts=True)
        out[int(status)] = int(values[np.argmax(counts)])
    return out


def _check_measurable(w: Window, baseline: Baseline, start: int, end: int) -> None:
    """Refuse a window whose normal traffic is too thin to show the kind."""
    normal = baseline.count(w.start, w.end)
    rate = baseline.mean_rate
    need = MIN_SHARE_LINES if w.kind == "error_burst" else MIN_WINDOW_LINES
    if w.kind in ("spike", "dip", "error_burst", "latency") and normal < need:
        raise InjectError([(f"anomaly {w.index + 1} ({w.kind})",
                            f"the log has {rate:.3g} lines/s (about {normal:.0f} expected in the "
                            f"{w.minutes:g}-minute window at {iso(w.start)}); {w.kind} needs at least {need} there to be "
                            f"measurable: a longer window, or a busier log")])


def _check_mix(w: Window, model: LogModel, fmt: LineFormat) -> None:
    if w.kind in ("spike", "flood", "crowd", "new_agent", "bytes") and len(model.mix) == 0:
        raise InjectError([(f"anomaly {w.index + 1} ({w.kind})",
                            f"the log has no {fmt.name} line at the clock hours of the window to draw its traffic from")])
    if w.kind in ("flood", "crowd", "new_agent") and len(model.pools.site.pages) == 0:
        raise InjectError([(f"anomaly {w.index + 1} ({w.kind})", "the log has no page requests to draw from")])


class _OutFile:
    """One output file: plain or gzip as its input was; counts its lines and hashes its bytes."""

    def __init__(self, path: Path, gz: bool):
        self.path, self.gz = path, gz
        self.record = FileRecord(path.name)
        self.digest = hashlib.sha256()
        self.fh: Any = gzip.open(path, "wb", compresslevel=6) if gz else open(path, "wb")
        self.line = 0  # lines written so far: the number of the last one
        self.pending: list[bytes] = []
        self.size = 0
        self.pool = ThreadPoolExecutor(1)
        self.busy: Future | None = None

    def emit(self, chunk: bytes, lines: int) -> None:
        if chunk:
            self.pending.append(chunk)
            self.size += len(chunk)
            if self.size >= 1 << 23:
                self.flush()
        self.record.lines += lines
        self.line += lines

    def _put(self, data: bytes) -> None:
        self.fh.write(data)
        if not self.gz:
            self.digest.update(data)

    def flush(self) -> None:
        data = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
        self.pending, self.size = [], 0
        if data:
            # Writing and hashing release the GIL: done in a thread while the next block is made.
            if self.busy is not None:
                self.busy.result()
            self.busy = self.pool.submit(self._put, data)
            self.record.bytes += len(data)

    def close(self) -> FileRecord:
        self.flush()
        if self.busy is not None:
            self.busy.result()
        self.pool.shutdown()
        self.fh.close()
        if self.gz:
            self.record.bytes = self.path.stat().st_size
            with open(self.path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    self.digest.update(chunk)
        self.record.sha256 = self.digest.hexdigest()
        return self.record


@dataclass
class _Written:
    records: list[FileRecord]
    counts: dict[int, dict[str, int]]


def _write(inputs: list[_Input], out: Path, added: list[tuple[int, int, bytes]], remove: dict[int, int],
           rewrite: dict[int, tuple[int, str, Any]], rewriter: _Rewriter, windows: list[Window]) -> _Written:
    out.mkdir(parents=True, exist_ok=True)
    sizes = [len(i.t_ms) for i in inputs]
    offsets = np.cumsum([0] + sizes)
    t_all = np.concatenate([i.t_ms for i in inputs])
    run_max = np.maximum.accumulate(t_all) if len(t_all) else t_all
    added.sort(key=lambda a: (a[0], a[1]))
    at = np.searchsorted(run_max, np.array([a[0] for a in added], np.int64), side="right")
    # A line that falls between two files goes at the end of the earlier one.
    file_of = np.clip(np.searchsorted(offsets, at, side="right") - 1, 0, len(inputs) - 1)
    at_start = (at == offsets[file_of]) & (file_of > 0)
    file_of[at_start] -= 1
    # Nothing goes after a last line that has no newline: it would have to be given one.
    for f, inp in enumerate(inputs):
        if not inp.terminated and sizes[f]:
            at[file_of == f] = np.minimum(at[file_of == f], offsets[f] + sizes[f] - 1)
    counts: dict[int, dict[str, int]] = {w.index: {"added": 0, "removed": 0, "rewritten": 0} for w in windows}
    ops: list[dict[str, Any]] = []
    records = []
    for f, inp in enumerate(inputs):
        mine = np.flatnonzero(file_of == f)
        local_at = at[mine] - offsets[f]
        o = _OutFile(out / inp.path.name, inp.gz)
        emit = o.emit
        k = 0  # next added line of this file
        first = 0
        g0 = int(offsets[f])
        edits = sorted(i - g0 for i in (*remove, *rewrite) if g0 <= i < g0 + sizes[f])
        e = 0
        for b, (block, terminated) in enumerate(read_blocks(inp.path)):
            n_block = inp.block_lines[b]
            last = first + n_block
            if not (k < len(mine) and local_at[k] < last) and not (e < len(edits) and edits[e] < last):
                emit(block, n_block)
                first = last
                continue
            arr = np.frombuffer(block, np.uint8)
            ends = np.flatnonzero(arr == 10) + 1
            if not terminated:
                ends = np.r_[ends, len(block)]
            starts = np.r_[0, ends[:-1]]
            todo: list[tuple[int, int, int]] = []  # (line in block, 0 add before it | 1 edit it, which)
            while k < len(mine) and local_at[k] < last:
                todo.append((int(local_at[k]) - first, 0, k))
                k += 1
            while e < len(edits) and edits[e] < last:
                todo.append((edits[e] - first, 1, edits[e]))
                e += 1
            todo.sort()
            cursor = 0  # the block's next line not yet written
            for line, what, ref in todo:
                if line > cursor:
                    emit(block[starts[cursor]:starts[line]], line - cursor)
                    cursor = line
                if what == 0:
                    _, windex, text = added[int(mine[ref])]
                    emit(text + b"\n", 1)
                    ops.append({"op": "add", "file": inp.path.name, "line": o.line, "anomaly": _id(windows[windex])})
                    counts[windex]["added"] += 1
                    continue
                raw = block[starts[line]:ends[line]]
                body = raw[:-1] if raw.endswith(b"\n") else raw
                g = ref + g0
                if g in remove:
                    windex = remove[g]
                    ops.append({"op": "remove", "file": inp.path.name, "line": ref + 1,
                                "anomaly": _id(windows[windex]), "text": _text(body)})
                    counts[windex]["removed"] += 1
                else:
                    windex, kind, value = rewrite[g]
                    new = rewriter.status(body, value) if kind == "status" else rewriter.latency(body, value)
                    if new is None or new == body:
                        emit(raw, 1)
                    else:
                        emit(new + raw[len(body):], 1)
                        ops.append({"op": "rewrite", "file": inp.path.name, "line": o.line,
                                    "anomaly": _id(windows[windex]), "text": _text(body)})
                        counts[windex]["rewritten"] += 1
                cursor = line + 1
            if cursor < n_block:
                emit(block[starts[cursor]:], n_block - cursor)
            first = last
        while k < len(mine):  # after the file's last line
            t, windex, text = added[int(mine[k])]
            emit(text + b"\n", 1)
            ops.append({"op": "add", "file": inp.path.name, "line": o.line, "anomaly": _id(windows[windex])})
            counts[windex]["added"] += 1
            k += 1
        record = o.close()
        ts = inp.t_ms[inp.parsed]
        if len(ts):
            record.first, record.last = iso(int(ts.min() // 1000)), iso(int(ts.max() // 1000))
        records.append(record)
    with open(out / PER_LINE, "w", encoding="utf-8") as fh:
        for op in ops:
            fh.write(json.dumps(op) + "\n")
    return _Written(records, counts)


def _id(w: Window) -> str:
    return f"{w.kind}-{w.index + 1}"


def _text(line: bytes) -> str:
    return line.decode("utf-8", "surrogateescape")


__all__ = ["inject", "InjectRun", "InjectError", "parse_anomaly", "anomaly_specs", "place", "PER_LINE", "MANIFEST"]
