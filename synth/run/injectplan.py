"""What an injection will do, planned before a byte is written: the anomalies asked for (a
scenario's, ``--anomaly KIND[:k=v,...]``), their windows in the log's range, the kinds as the
log needs them (a crowd replays the log's own visits, a new crawler finds the log's robots.txt
or its absence), the model each window draws from (the log's own mix at those clock hours),
the checks that refuse what cannot be measured, and the edits themselves: lines to add (in
the log's format, rendered by synth's renderer), lines to remove, lines to rewrite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from faker import Faker

from synth.analysis.logread import parse_lines
from synth.generate.anomalies import KIND_CLASSES, Crowd, Kind, NewAgent, Window, iso, place_windows
from synth.generate.model import ANOMALY_STREAM, PLACEMENT_STREAM, seed_stream
from synth.generate.pools import ERROR_SIZE_TABLE, HEAD
from synth.generate.scenario import AnomalySpec, ScenarioError, load_scenario, scenario_from_dict
from synth.generate.traffic import SESSION_CAP_MS, Events
from synth.render.formats import LineFormat
from synth.render.lines import LineRenderer
from synth.run.logmodel import Baseline, LogModel, LogPools

HISTORY_S = 2 * 86400
MIN_WINDOW_LINES = 20  # a window with fewer normal lines cannot show a factor
MIN_SHARE_LINES = 200  # nor a share of statuses

# What each kind needs the format to carry.
NEEDS = {"latency": ("duration_us", "a response time (%D or %T)"), "new_agent": ("agent", "a user agent"),
         "crowd": ("referrer", "a referrer"), "bytes": ("bytes", "a response size (%b, %B or %O)"),
         "error_burst": ("status", "a status (%s)"), "scan": ("target", "a request (%r or %U)"),
         "flood": ("client", "a client (%h or %a)")}


class InjectError(ScenarioError):
    """Input or options inject cannot use; names the option or file."""


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
        w, pools, mix = self.window, model.pools, model.visits
        pop = pools.population
        url = w.spec.param("referrer") or (
            f"https://www.reddit.com/r/{fake.word()}/comments/{fake.hexify('^^^^^^')}/{fake.slug().replace('-', '_')}/")
        self.referrer = pools.referrers.add(url)
        self.values = [url]
        self.used = {"referrer": url}
        self.usual = model.visitors if model.visitors is not None else model.expected_visits(w.start, w.end)
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



def clock_hours(w: Window) -> set[int]:
    return {h % 24 for h in range(w.start // 3600, (w.end - 1) // 3600 + 1)}



def spec_yaml(spec: AnomalySpec) -> dict[str, Any]:
    from synth.generate.scenario import _anomaly_yaml
    return _anomaly_yaml(spec)


def zone_of(lines: list[bytes], fmt: LineFormat) -> int:
    """The zone offset the log writes (its first line with one), in seconds east of UTC."""
    for line in lines:
        m = re.search(rb":\d\d:\d\d ([+-])(\d\d)(\d\d)[\]\" ]", line) if not fmt.json else None
        if m:
            return (int(m.group(2)) * 3600 + int(m.group(3)) * 60) * (-1 if m.group(1) == b"-" else 1)
    return 0


def use_log_sizes(renderer: LineRenderer, error_sizes: dict[int, int]) -> None:
    """Added lines answered other than 200 get the size the log writes for that status (its
    own 404 page, say), not synth's; a 200 gets its path's size in the log, a HEAD none."""
    table = ERROR_SIZE_TABLE.copy()
    for status, size in error_sizes.items():
        if 0 <= status < len(table):
            table[status] = size
    tables = renderer.tables

    def sizes(keys: np.ndarray) -> np.ndarray:
        target, method, _, status = tables.response_parts(keys)
        size = np.where(status == 200, tables.pools.site.size[target], table[status])
        return np.where(method == HEAD, 0, size)

    tables.sizes = sizes  # type: ignore[method-assign]


def error_sizes(sample: Any) -> dict[int, int]:
    """The size the log writes for each status other than 200: its most common."""
    out = {}
    for status in set(sample.status.tolist()) - {200}:
        sizes = sample.size[sample.status == status]
        values, counts = np.unique(np.maximum(sizes, 0), return_counts=True)
        out[int(status)] = int(values[np.argmax(counts)])
    return out


def check_measurable(w: Window, baseline: Baseline, start: int, end: int) -> None:
    """Refuse a window whose normal traffic is too thin to show the kind."""
    normal = baseline.count(w.start, w.end)
    rate = baseline.mean_rate
    need = MIN_SHARE_LINES if w.kind == "error_burst" else MIN_WINDOW_LINES
    if w.kind in ("spike", "dip", "error_burst", "latency") and normal < need:
        raise InjectError([(f"anomaly {w.index + 1} ({w.kind})",
                            f"the log has {rate:.3g} lines/s (about {normal:.0f} expected in the "
                            f"{w.minutes:g}-minute window at {iso(w.start)}); {w.kind} needs at least {need} there to be "
                            f"measurable: a longer window, or a busier log")])


def check_mix(w: Window, model: LogModel, fmt: LineFormat) -> None:
    if w.kind in ("spike", "flood", "crowd", "new_agent", "bytes") and len(model.mix) == 0:
        raise InjectError([(f"anomaly {w.index + 1} ({w.kind})",
                            f"the log has no {fmt.name} line at the clock hours of the window to draw its traffic from")])
    if w.kind in ("flood", "crowd", "new_agent") and len(model.pools.site.pages) == 0:
        raise InjectError([(f"anomaly {w.index + 1} ({w.kind})", "the log has no page requests to draw from")])



def window_id(w: Window) -> str:
    return f"{w.kind}-{w.index + 1}"



# --- the log's mix, a model per window --------------------------------------------------------

@dataclass
class Mix:
    """What the sample of the log's lines taught: its pools, its sizes for each status, a
    model per window, and the zone the log writes."""

    pools: Any
    error_sizes: dict[int, int]
    models: dict[int, LogModel]
    tz: int


def learn(fmt: LineFormat, lines: list[bytes], source: np.ndarray, every: int, windows: list[Window],
          baseline: Baseline, option: str) -> Mix:
    """The log's mix from a sample of its raw lines (``source``: what each line was sampled
    for), and for each window a model of the lines at its clock hours, outside every window."""
    spans = [(w.start, w.end) for w in windows]
    columns = parse_lines(fmt, lines)
    if len(lines) and columns["parsed"].mean() < 0.5:
        raise InjectError([(option, f"only {columns['parsed'].mean():.0%} of a sample of the input's lines are "
                                    f"{fmt.name} lines: is that the log's format?")])
    in_window = np.zeros(len(columns["parsed"]), bool)
    for w0, w1 in spans:
        in_window |= (columns["t_ms"] >= w0 * 1000) & (columns["t_ms"] < w1 * 1000)
    columns["parsed"] &= ~in_window
    hosts = columns["host"][columns["parsed"]] if columns["host"] is not None else np.zeros(0, object)
    host = max(set(hosts.tolist()), key=hosts.tolist().count).decode() if len(hosts) else ""
    log_pools = LogPools(host, fmt.json)
    sample = log_pools.sample(columns, source)
    pools = log_pools.finish()
    log_pools.set_pages(np.bincount(sample.target, minlength=len(pools.site.targets)))
    sizes = error_sizes(sample)
    sample_hour = (sample.t_ms // 3_600_000) % 24
    models = {}
    for w in windows:
        rows = np.flatnonzero(np.isin(sample_hour, sorted(clock_hours(w))))
        if not (sample.source[rows] & 2).any():  # no run of whole visits at these hours: any run
            rows = np.union1d(rows, np.flatnonzero(sample.source & 2))
        days = max(1, len({int(t // 86_400_000) for t in sample.t_ms[rows].tolist()}))
        models[w.index] = LogModel(pools, sample.take(rows), days * 3600 * len(clock_hours(w)), baseline, every,
                                   fmt.carries)
        check_mix(w, models[w.index], fmt)
    return Mix(pools, sizes, models, zone_of(lines, fmt))


# --- the edits ----------------------------------------------------------------------------------

@dataclass
class Edits:
    """What is done to the log: lines added (time in ms, window index, the line without its
    newline), lines removed and lines rewritten (by their index among all input lines)."""

    added: list[tuple[int, int, bytes]] = field(default_factory=list)
    remove: dict[int, int] = field(default_factory=dict)  # line -> window index
    rewrite: dict[int, tuple[int, str, Any]] = field(default_factory=dict)  # line -> (window, "status"|"latency", value)


def setup_kinds(windows: list[Window], mix: Mix, seed: int) -> list[Kind]:
    """Each window's kind, set up against its model (a crowd's new clients, a flood's visitor)."""
    effects = [make_kind(w) for w in windows]
    rng = seed_stream(seed, ANOMALY_STREAM)
    fake = Faker("en_US")
    fake.seed_instance(int(rng.integers(2**63)))
    for effect in effects:
        effect.setup(mix.models[effect.window.index], fake, rng)
    return effects


def draw(effects: list[Kind], mix: Mix, fmt: LineFormat, timed: bool, seed: int, t_all: np.ndarray,
         ok_all: np.ndarray) -> Edits:
    """The lines each kind adds, rendered in the log's format (sizes as the log writes them),
    and the input lines it removes or rewrites (``t_all``, ``ok_all``: every input line's time
    and whether it has one)."""
    renderer = LineRenderer(fmt.template, mix.pools, mix.tz)
    use_log_sizes(renderer, mix.error_sizes)
    seconds = t_all // 1000
    edits = Edits()
    added, remove, rewrite = edits.added, edits.remove, edits.rewrite
    for effect in effects:
        w, model = effect.window, mix.models[effect.window.index]
        wrng = seed_stream(seed, ANOMALY_STREAM, 1 + w.index)
        events = effect.extra(model, wrng, w.start - SESSION_CAP_MS // 1000, w.end + SESSION_CAP_MS // 1000)
        if events is not None and len(events):
            order = np.argsort(events.t_ms, kind="stable")
            events = events.take(order)
            if timed:
                events.duration_us = model.durations(wrng, events)
            body = renderer.render(events)
            added.extend(zip(events.t_ms.tolist(), [w.index] * len(events), body.split(b"\n")[:-1]))
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
    return edits


def ground_truth(effects: list[Kind], mix: Mix, counts: dict[int, dict[str, int]]) -> dict[str, list[dict[str, Any]]]:
    """anomalies.json: each window's label, measured against the log's baseline, and what was done."""
    out: dict[str, list[dict[str, Any]]] = {"anomalies": []}
    for effect in effects:
        neighbours = [e for e in effects if e is not effect]
        entry = effect.truth(mix.models[effect.window.index], neighbours)
        entry["injected"] = counts.get(effect.window.index, {"added": 0, "removed": 0, "rewritten": 0})
        out["anomalies"].append(entry)
    return out
