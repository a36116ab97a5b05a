"""``synth fit``: a scenario learned from a log, so that a generated log has the same shape.

``fit_log(paths)`` reads the log (any format synth writes, plain or gzip, any order), measures
its shape over the time it covers, and returns a ``Fit``: the scenario as a mapping (the keys
``synth generate`` reads, see synth/generate/shape.py) and, per key, a note of what was
measured and from how many lines. ``Fit.yaml()`` is the commented scenario file.

Privacy: no address, path, query, referrer or agent string of the input reaches the scenario;
only counts, shares, sizes, statuses and method names do. ``keep_paths=True`` adds the input's
paths (without queries) with their sizes and how often each was asked for, never an address.

Gaps: a log may hold only part of its range (one minute an hour, an outage, a lost rotation).
``coverage()`` tells the covered time from the lines: minutes of the hour that hold lines while
others, expected to, hold none; hours without a line where several were expected. Rates and the
daily and weekly curves are measured over the covered time only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from synth.analysis.logread import LogReadError, order_files, read_log, resolve_format
from synth.analysis.profile import (
    BOT_RE,
    PAGE,
    STATIC,
    ProfileError,
    _read_log,
    _request_class,
    _split_request,
    zipf_slope,
)

KIND_NAMES = ("static", "page", "robots", "other")
VISIT_GAP_S = 10 * 60  # a visit ends after 10 quiet minutes (synth's think times stay under that)
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
SEARCH_HOSTS = re.compile(rb"(^|\.)(google|bing|duckduckgo|yahoo|yandex|baidu|ecosia|qwant|startpage|naver|"
                          rb"seznam|sogou|so|search)\.", re.IGNORECASE)
MOBILE_RE = re.compile(rb"Mobile|Android|iPhone|iPad|iPod", re.IGNORECASE)
BOT_KINDS = (  # (kind, pattern), first match wins; "-" or an empty agent counts as a script
    ("monitor", re.compile(rb"uptime|pingdom|monitor|statuscake|site24x7|check_http|nagios|zabbix", re.I)),
    ("feed reader", re.compile(rb"feed|rss|subscriber|newsblur|netnewswire", re.I)),
    ("scanner", re.compile(rb"zgrab|nuclei|censys|nmap|masscan|scan|leakix|l9", re.I)),
    ("script", re.compile(rb"curl|wget|python|go-http|java/|okhttp|httpclient|libwww|scrapy|aiohttp|httpx|"
                          rb"headless|phantomjs|^-?$", re.I)),
    ("crawler", re.compile(rb".", re.S)),
)
BROWSERS = (("Edge", rb"Edg/|Edge/"), ("Samsung", rb"SamsungBrowser"), ("Firefox", rb"Firefox/|FxiOS"),
            ("Chrome", rb"Chrome/|CriOS"), ("Safari", rb"Safari/"))
SYSTEMS = (("iOS", rb"iPhone|iPad|iPod"), ("Android", rb"Android"), ("Windows", rb"Windows"),
           ("macOS", rb"Macintosh|Mac OS X"), ("Linux", rb"Linux|X11"))
Z90 = 1.2815515655446004  # the 90th percentile of the standard normal


class FitError(ValueError):
    """A log that cannot be fitted: unreadable, or without a line that parses."""


# --- the log as columns ------------------------------------------------------------------------


class _Interner:
    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}

    def add(self, values: Any) -> np.ndarray:
        ids = self.ids
        values = list(values)
        for value in dict.fromkeys(values):
            if value not in ids:
                ids[value] = len(ids)
        return np.fromiter(map(ids.__getitem__, values), np.int64, count=len(values))

    @property
    def values(self) -> list:
        return list(self.ids)


@dataclass
class Columns:
    """The parsed lines of a log: times, and ids into per-field tables of distinct values."""

    files: int
    lines: int
    unparsed: int
    format: str
    utc: np.ndarray  # epoch seconds
    local: np.ndarray  # clock time as written, as if it were UTC
    tz: str  # the offset most lines were written with, +HHMM
    client: np.ndarray
    clients: list[bytes]
    method: np.ndarray
    methods: list[bytes]
    path: np.ndarray  # target without its query
    paths: list[bytes]
    status: np.ndarray
    size: np.ndarray  # body bytes, 0 for none or "-"
    referrer: np.ndarray | None
    referrers: list[bytes]
    agent: np.ndarray | None
    agents: list[bytes]
    path_kind: np.ndarray = field(init=False)
    bot_agent: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.path_kind = np.array([_request_class(p.decode("latin-1").lower()) for p in self.paths] or [0], np.int64)
        self.bot_agent = np.array([_is_bot(a) for a in self.agents] or [False], bool)

    @property
    def kind(self) -> np.ndarray:
        return self.path_kind[self.path]

    @property
    def bot(self) -> np.ndarray:
        return np.zeros(len(self.utc), bool) if self.agent is None else self.bot_agent[self.agent]


def _is_bot(agent: bytes) -> bool:
    return agent in (b"", b"-") or BOT_RE.search(agent.decode("latin-1")) is not None


_OFFSET_RE = re.compile(rb"\d\d:\d\d(?::\d\d(?:\.\d+)?)? ?([+-]\d\d):?(\d\d)\b|\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z")


def _written_offset(raw: list[bytes]) -> str:
    """The zone offset most of these lines write their time with (``+0000`` when none is written)."""
    counts: dict[str, int] = {}
    for line in raw:
        m = _OFFSET_RE.search(line)
        if m:
            text = "+0000" if m.group(1) is None else (m.group(1) + m.group(2)).decode()
            counts[text] = counts.get(text, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else "+0000"


def _offset_seconds(tz: str) -> int:
    return (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 + int(tz[3:5]) * 60)


def read_columns(paths: Iterable[str | Path], format: str | None = None, log_format: str | None = None) -> Columns:
    """Every line of the log into interned columns: combined and common through synth profile's
    reader (a regex per block, fast), any other format through ``synth.analysis.logread``."""
    try:
        files = order_files(paths)
        if not files:
            raise FitError("no file given")
        fmt = resolve_format(files, format, log_format)
        if fmt.name in ("combined", "common") and not log_format:
            return _read_apache(files, fmt.name)
        tables = {name: _Interner() for name in ("client", "method", "path", "referrer", "agent")}
        parts: dict[str, list[np.ndarray]] = {name: [] for name in (*tables, "t_ms", "status", "size")}
        lines = unparsed = 0
        sample: list[bytes] = []
        has: set[str] = set()
        for batch in read_log(files, format, log_format):
            lines += len(batch)
            ok = batch.parsed
            unparsed += int(len(ok) - ok.sum())
            if not ok.any():
                continue
            if len(sample) < 200:
                sample.extend(batch.raw[ok][:200].tolist())
            parts["t_ms"].append(batch.t_ms[ok])
            parts["status"].append(batch.status[ok] if batch.status is not None else np.full(int(ok.sum()), 200))
            size = batch.bytes[ok] if batch.bytes is not None else np.zeros(int(ok.sum()), np.int64)
            parts["size"].append(np.maximum(size, 0))
            for name in ("client", "method", "referrer", "agent"):
                values = getattr(batch, name)
                if values is not None:
                    has.add(name)
                    parts[name].append(tables[name].add(values[ok].tolist()))
            targets = batch.target[ok].tolist() if batch.target is not None else [b""] * int(ok.sum())
            parts["path"].append(tables["path"].add(t.split(b"?", 1)[0] for t in targets))
    except LogReadError as e:
        raise FitError(str(e)) from None
    if lines == 0:
        raise FitError("the log is empty")
    if not parts["t_ms"]:
        raise FitError(f"no line of the log parses as {fmt.name}")
    joined = {name: np.concatenate(p) for name, p in parts.items() if p}
    utc = joined["t_ms"] // 1000
    order = np.argsort(utc, kind="stable")
    tz = _written_offset(sample)

    def column(name: str) -> np.ndarray:
        value = joined.get(name)
        return np.zeros(len(utc), np.int64) if value is None else value[order]

    return Columns(
        files=len(files), lines=lines, unparsed=unparsed, format=fmt.name, utc=utc[order],
        local=utc[order] + _offset_seconds(tz), tz=tz,
        client=column("client"), clients=tables["client"].values or [b"-"],
        method=column("method"), methods=tables["method"].values or [b"GET"],
        path=column("path"), paths=tables["path"].values or [b"/"],
        status=column("status"), size=column("size"),
        referrer=column("referrer") if "referrer" in has else None, referrers=tables["referrer"].values,
        agent=column("agent") if "agent" in has else None, agents=tables["agent"].values)


def _read_apache(files: list[Path], name: str) -> Columns:
    try:
        log = _read_log(files)
    except ProfileError as e:
        raise FitError(str(e)) from None
    if log.lines == 0:
        raise FitError("the log is empty")
    c = log.columns
    if len(c["utc"]) == 0:
        raise FitError(f"no line of the log parses as {name} (first: {log.first_unparsed})")
    order = np.argsort(c["utc"], kind="stable")
    requests = [_split_request(r.decode("latin-1")) for r in log.interners["request"].values]
    methods, paths = _Interner(), _Interner()
    method_of = methods.add([m for m, _, _ in requests])
    path_of = paths.add([t.split("?", 1)[0].encode("latin-1") for _, t, _ in requests])
    agents = [a[1:-1] for a in log.interners["agent"].values]  # captured with their quotes
    combined = any(agents) or any(a == b"" for a in log.interners["agent"].values if len(a) == 2)
    written = c["written"][order]
    tz = _written_offset([b"[" + w + b"]" for w in written[:: max(1, len(written) // 200)][:200]]) \
        if len(written) else "+0000"
    request = c["request"][order]
    return Columns(
        files=len(files), lines=log.lines, unparsed=log.unparsed, format=name,
        utc=c["utc"][order], local=c["utc"][order] + _offset_seconds(tz), tz=tz,
        client=c["client"][order], clients=log.interners["client"].values,
        method=method_of[request], methods=[m.encode() for m in methods.values],
        path=path_of[request], paths=paths.values,
        status=np.array([int(v) for v in log.interners["status"].values], np.int64)[c["status"][order]],
        size=np.array([0 if v == b"-" else int(v) for v in log.interners["size"].values], np.int64)[c["size"][order]],
        referrer=c["referrer"][order] if combined else None,
        referrers=[r[1:-1] for r in log.interners["referrer"].values],
        agent=c["agent"][order] if combined else None, agents=agents)


# --- covered time --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """The time a log covers: its range, the minutes of each hour it samples, its gaps."""

    start: int  # epoch seconds, first line's minute
    end: int  # epoch seconds, after the last line's minute
    minutes: tuple[int, ...]  # minutes of the hour that hold lines (all 60 unless sampled)
    hours: np.ndarray  # per hour from start // 3600: covered seconds
    gaps: tuple[tuple[int, int, float], ...]  # (start, end, lines expected there) of uncovered hours

    @property
    def seconds(self) -> float:
        return float(self.hours.sum())

    @property
    def sampled(self) -> bool:
        return len(self.minutes) < 60


def coverage(utc: np.ndarray, offset: int = 0) -> Coverage:
    """The covered time of lines at ``utc`` (sorted epoch seconds), written at zone ``offset``.

    A sample is told by the minute of the hour: when a few minutes hold nearly every line
    (99.5 %) and the others would hold 20 lines each if the lines were spread evenly, only those
    minutes are covered. A gap is an hour without a line where that clock hour's median over the
    log's other hours would put 5 or more; quieter hours without lines are simply quiet.
    """
    start = int(utc[0]) // 60 * 60
    end = int(utc[-1]) // 60 * 60 + 60
    by_minute = np.bincount((utc // 60) % 60, minlength=60)
    ranked = np.argsort(-by_minute, kind="stable")
    cumulative = np.cumsum(by_minute[ranked])
    k = int(np.searchsorted(cumulative, 0.995 * len(utc))) + 1
    minutes = tuple(range(60))
    if k <= 30 and len(utc) / 60 >= 20:
        minutes = tuple(sorted(int(m) for m in ranked[:k]))
    share = len(minutes) / 60
    first_hour = start // 3600
    n_hours = (end - 1) // 3600 - first_hour + 1
    counts = np.bincount(utc // 3600 - first_hour, minlength=n_hours)
    span = np.full(n_hours, 3600.0)
    span[0] -= start - first_hour * 3600
    span[-1] -= (first_hour + n_hours) * 3600 - end
    span = np.minimum(span, 3600.0) if n_hours > 1 else np.array([float(end - start)])
    if share < 1:
        span = span * share
    clock = (np.arange(first_hour, first_hour + n_hours) * 3600 + offset) // 3600 % 24
    expected = np.zeros(n_hours)
    for h in range(24):
        busy = (clock == h) & (counts > 0)
        if busy.any():
            expected[clock == h] = np.median(counts[busy] / span[busy]) * span[clock == h]
    empty = (counts == 0) & (expected >= 5)
    gaps = []
    i = 0
    while i < n_hours:
        if empty[i]:
            j = i
            while j + 1 < n_hours and empty[j + 1]:
                j += 1
            gaps.append(((first_hour + i) * 3600, (first_hour + j + 1) * 3600, float(expected[i:j + 1].sum())))
            i = j + 1
        else:
            i += 1
    hours = np.where(empty, 0.0, span)
    return Coverage(start, end, minutes, hours, tuple(gaps))


def _describe_coverage(c: Coverage) -> list[str]:
    import datetime as dt

    def when(t: int) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    notes = []
    if c.sampled:
        minutes = ", ".join(f":{m:02d}" for m in c.minutes)
        notes.append(f"lines only in minute{'s' if len(c.minutes) > 1 else ''} {minutes} of each hour: "
                     f"rates fitted over those minutes")
    for a, b, expected in c.gaps:
        notes.append(f"no lines from {when(a)} to {when(b)} ({(b - a) // 3600} h, about {expected:,.0f} "
                     f"expected): left out of the fit")
    total = c.end - c.start
    notes.append(f"covered: {c.seconds / 3600:,.1f} h of the {total / 3600:,.1f} h from the first line to the last")
    return notes


# --- the fitting maths -----------------------------------------------------------------------------


def desmooth_daily(hourly: np.ndarray) -> np.ndarray:
    """The 24 knots whose curve, linear between the middles of the hours as synth's rates draw
    it, has these hourly means: each hour's mean is knot/8 + 3/4 knot + knot/8 of its neighbours."""
    a = np.zeros((24, 24))
    for h in range(24):
        a[h, h], a[h, (h - 1) % 24], a[h, (h + 1) % 24] = 0.75, 0.125, 0.125
    knots = np.linalg.solve(a, hourly)
    return np.maximum(knots, 0.02 * max(float(hourly.max()), 1e-12))


def seen_population(seen: int, visits: float, slope: float, low: int, high: int) -> int:
    """The population of which ``visits`` draws with Zipf(``slope``) weights show ``seen``
    distinct members: expected distinct = sum(1 - exp(-visits p_i)), solved by bisection."""
    if seen <= 0 or visits <= 0:
        return low

    def distinct(n: int) -> float:
        w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** slope
        return float(np.sum(-np.expm1(-visits * w / w.sum())))

    lo, hi = max(low, seen), high
    if distinct(hi) <= seen:
        return hi
    while hi - lo > max(1, lo // 200):
        mid = (lo + hi) // 2
        if distinct(mid) < seen:
            lo = mid
        else:
            hi = mid
    return int(hi)


def zipf_norm(n: int, slope: float, exact: int = 2000) -> float:
    """sum(i ** -slope for i in 1..n): the first ``exact`` terms summed, the rest as an integral."""
    head = np.arange(1, min(n, exact) + 1, dtype=np.float64) ** -slope
    total = float(head.sum())
    if n > exact:
        a, b = exact + 0.5, n + 0.5
        total += math.log(b / a) if abs(slope - 1) < 1e-9 else (b ** (1 - slope) - a ** (1 - slope)) / (1 - slope)
    return total


TOP_RANKS = (1, 2, 3, 5, 10)


def fit_population(seen: int, visits: float, top: dict[int, float]) -> tuple[float, int]:
    """The activity slope and the size of a visitor population in which ``visits`` Zipf draws
    show ``seen`` distinct visitors, the busiest k of them taking ``top[k]`` of the draws. The
    size fixes how many are seen given the slope; the slope is the one whose top shares fit the
    measured ones best (least squares of their logarithms) given the size; solved in turn."""
    slope = 0.9
    ranks = [k for k in TOP_RANKS if top.get(k, 0) > 0]

    def misfit(s: float, n: int) -> float:
        norm = zipf_norm(n, s)
        return sum((math.log(zipf_norm(min(k, n), s) / norm) - math.log(top[k])) ** 2 for k in ranks)

    for _ in range(8):
        size = seen_population(seen, visits, slope, 10, 5_000_000)
        lo, hi = 0.0, 4.0
        for _ in range(50):  # golden-section search: the misfit has one minimum in the slope
            a, b = hi - 0.618 * (hi - lo), lo + 0.618 * (hi - lo)
            if misfit(a, size) < misfit(b, size):
                hi = b
            else:
                lo = a
        settled = abs((lo + hi) / 2 - slope) < 0.005
        slope = (lo + hi) / 2
        if settled:
            break
    return slope, seen_population(seen, visits, slope, 10, 5_000_000)


def _per_hour_rate(local: np.ndarray, covered: np.ndarray, first_hour: int, offset: int) -> np.ndarray:
    """Lines per covered second in each clock hour (0-23, as written); NaN where none is covered.

    The median over the hours of that clock hour where three or more are covered, so that an
    anomaly in the log (a spike, an outage) does not bend the curve; the mean of one or two.
    """
    n = len(covered)
    hour_index = (local - offset) // 3600 - first_hour
    counts = np.bincount(hour_index, minlength=n)[:n].astype(np.float64)
    clock = (np.arange(first_hour, first_hour + n) * 3600 + offset) // 3600 % 24
    out = np.full(24, np.nan)
    for h in range(24):
        seen = (clock == h) & (covered > 0)
        if seen.sum() >= 3:
            out[h] = float(np.median(counts[seen] / covered[seen]))
        elif seen.any():
            out[h] = float(counts[seen].sum() / covered[seen].sum())
    return out


def _per_weekday_rate(local: np.ndarray, covered: np.ndarray, first_hour: int, offset: int) -> np.ndarray:
    n = len(covered)
    hour_index = (local - offset) // 3600 - first_hour
    counts = np.bincount(hour_index, minlength=n)[:n].astype(np.float64)
    counts[covered == 0] = 0
    day = ((np.arange(first_hour, first_hour + n) * 3600 + offset) // 86400 + 3) % 7  # 0 is Monday
    seconds = np.bincount(day, weights=covered, minlength=7)
    lines = np.bincount(day, weights=counts, minlength=7)
    hours = np.bincount(day, weights=covered > 0, minlength=7)
    with np.errstate(invalid="ignore", divide="ignore"):
        # A weekday needs most of a day covered: a few hours would carry their clock hours' weight.
        return np.where(hours >= 18, lines / seconds, np.nan)


def _fill_circular(values: np.ndarray) -> np.ndarray:
    """NaNs filled from their nearest known neighbours around the circle (linear)."""
    known = np.flatnonzero(~np.isnan(values))
    if len(known) == len(values) or len(known) == 0:
        return values
    n = len(values)
    x = np.concatenate([known - n, known, known + n])
    y = np.tile(values[known], 3)
    return np.interp(np.arange(n), x, y)


def _visits(client: np.ndarray, agent: np.ndarray, utc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For lines already filtered: the visit number of each line (lines of one client and agent
    until VISIT_GAP_S of quiet), in the order ``order``; returns (order, visit id per sorted line)."""
    key = client * (int(agent.max(initial=0)) + 1) + agent
    order = np.lexsort((utc, key))
    k, t = key[order], utc[order]
    new = np.r_[True, (k[1:] != k[:-1]) | (np.diff(t) > VISIT_GAP_S)]
    return order, np.cumsum(new) - 1


def visit_count(client: np.ndarray, agent: np.ndarray, utc: np.ndarray) -> float:
    """About how many visits these lines are: lines over the mean lines of each client's first
    visit (a busy client's visits run into each other; a visit's length does not depend on who
    makes it, so first visits measure it)."""
    order, visit = _visits(client, agent, utc)
    sizes = np.bincount(visit)
    c = client[order]
    firsts = np.unique(visit[np.r_[True, c[1:] != c[:-1]]])
    return float(len(client) / max(sizes[firsts].mean(), 1.0))


def _classify(agent: bytes, table: tuple[tuple[str, bytes], ...]) -> str:
    for name, pattern in table:
        if re.search(pattern, agent):
            return name
    return "other"


@dataclass
class Fit:
    """A fitted scenario: its keys, and for each key the note the YAML file carries above it."""

    scenario: dict[str, Any]
    notes: dict[str, list[str]]
    header: list[str]
    coverage: Coverage
    lines: int

    def yaml(self) -> str:
        """The scenario as a commented YAML file (``synth generate --scenario`` reads it)."""
        out = [f"# {line}" if line else "#" for line in self.header]
        for key, value in self.scenario.items():
            out.append("")
            out.extend(f"# {line}" for line in self.notes.get(key, []))
            if isinstance(value, (dict, list)):
                text = yaml.safe_dump({key: value}, default_flow_style=None, sort_keys=False, width=100)
            else:
                text = f"{key}: " + yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()
            out.append(text.rstrip("\n"))
        for key, lines in self.notes.items():
            if key not in self.scenario:  # what fell back to synth's defaults, and why
                out.append("")
                out.extend(f"# {line}" for line in [key.strip("()") + ":", *lines])
        return "\n".join(out) + "\n"


def _round(value: float, digits: int = 3) -> float:
    if value == 0 or not math.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def _share_map(ids: np.ndarray, names: list, keep: Any = None, floor: float = 0.0005) -> dict:
    counts = np.bincount(ids, minlength=len(names))
    total = counts.sum()
    out = {}
    for i in np.argsort(-counts, kind="stable"):
        share = counts[i] / total if total else 0
        if share < floor or counts[i] == 0:
            break
        name = names[i] if keep is None else keep(names[i])
        if name is not None:
            out[name] = _round(float(share))
    return out


def fit_columns(cols: Columns, keep_paths: bool = False) -> Fit:
    """The fitted scenario of a log read into columns (see the module docstring)."""
    n = len(cols.utc)
    offset = _offset_seconds(cols.tz)
    cov = coverage(cols.utc, offset)
    first_hour = cov.start // 3600
    notes: dict[str, list[str]] = {}
    s: dict[str, Any] = {}
    has_agents = cols.agent is not None
    bot = cols.bot
    human = ~bot
    kind = cols.kind
    header = [
        f"Fitted by synth fit from {n:,} lines ({cols.unparsed:,} more did not parse) in {cols.files} "
        f"file{'s' if cols.files != 1 else ''}, format {cols.format}.",
        "No address, path, query, referrer or agent of the log is in this file: only shapes.",
        "Generate its twin:  synth generate --scenario THIS.yaml --days 28 --out twin/",
        "",
        *_describe_coverage(cov),
    ]
    s["name"] = "fitted"
    s["description"] = f"The shape of a log of {n:,} lines, fitted by synth fit"
    days = (cov.end - cov.start) / 86400
    s["days"] = _round(max(days, 1 / 1440), 6)
    import datetime as dt
    s["end"] = dt.datetime.fromtimestamp(cov.end, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    notes["days"] = ["the log's range, first line to last (generate --days sets another)"]
    rate = n / max(cov.seconds, 60.0)
    s["rate"] = _round(rate, 4)
    notes["rate"] = [f"{n:,} lines over {cov.seconds / 3600:,.1f} covered hours"]
    s["tz"] = cols.tz
    s["audience"] = {cols.tz: 1}
    notes["tz"] = ["the zone the log's times are written in"]
    notes["audience"] = ["visitors on the log's clock: the daily curve below is per clock hour as written",
                         "(a mix of time zones cannot be told from lines without a map of addresses)"]
    if cols.format not in ("combined",):
        s["format"] = cols.format

    # Daily and weekly curves: human lines (bots are drawn steady) per covered second.
    curve_lines = cols.local[human] if has_agents else cols.local
    hourly = _per_hour_rate(curve_lines, cov.hours, first_hour, offset)
    base_bots = 0.0 if has_agents else 0.2 * rate  # without agents, the default bot share is steady
    known = int((~np.isnan(hourly)).sum())
    if known >= 12:
        hourly = np.maximum(_fill_circular(hourly) - base_bots, 0.02 * np.nanmax(hourly))
        knots = desmooth_daily(hourly / hourly.max())
        s["daily"] = [_round(v, 3) for v in (knots / knots.max()).tolist()]
        notes["daily"] = [f"activity by clock hour 00-23 (busiest 1), from {int(human.sum()) if has_agents else n:,} "
                          f"{'human ' if has_agents else ''}lines; {24 - known} hours interpolated" if known < 24 else
                          f"activity by clock hour 00-23 (busiest 1), from "
                          f"{int(human.sum()) if has_agents else n:,} {'human ' if has_agents else ''}lines",
                          "knots of synth's curve, linear between the middles of the hours"]
        if not has_agents:
            notes["daily"].append("no agents to tell bots by: the default 20 % steady bot traffic taken out")
    else:
        notes["(daily)"] = [f"only {known} clock hours covered: synth's usual daily curve is used"]
    weekly = _per_weekday_rate(curve_lines, cov.hours, first_hour, offset)
    if not np.isnan(weekly[:5]).all() and not np.isnan(weekly[5:]).all():
        week = np.where(np.isnan(weekly[:5]), np.nanmean(weekly[:5]), weekly[:5])
        end = np.where(np.isnan(weekly[5:]), np.nanmean(weekly[5:]), weekly[5:])
        weekly = np.maximum(np.r_[week, end] - base_bots, 1e-3 * np.nanmax(weekly))
        s["weekly"] = [_round(v, 3) for v in (weekly / weekly.max()).tolist()]
        notes["weekly"] = ["traffic Monday to Sunday (busiest 1), per covered hour of each weekday"]
    else:
        notes["(weekly)"] = ["the log does not cover both a weekday and a weekend day: "
                             "synth's default weekend (0.65 of a weekday) is used"]

    # Bots.
    if has_agents:
        assert cols.agent is not None
        bot_share = float(bot.mean())
        s["bot_share"] = _round(min(bot_share, 0.95), 3)
        kinds: dict[str, int] = {}
        bot_agents = np.bincount(cols.agent[bot], minlength=len(cols.agents))
        for a in np.flatnonzero(bot_agents):
            name = _classify(cols.agents[a], tuple((k, p.pattern) for k, p in BOT_KINDS))
            kinds[name] = kinds.get(name, 0) + int(bot_agents[a])
        total_bots = max(1, int(bot.sum()))
        notes["bot_share"] = [f"{int(bot.sum()):,} lines from bots ({bot_share:.1%}); by kind: " + ", ".join(
            f"{k} {v / total_bots:.1%}" for k, v in sorted(kinds.items(), key=lambda p: -p[1]))]
        if bot_share > 0.95:
            notes["bot_share"].append("capped at 0.95, the most synth generates")
        if bot.any():
            s["scanner_share"] = _round((kinds.get("scanner", 0) + kinds.get("script", 0)) / total_bots, 3)
            notes["scanner_share"] = ["share of bot lines from scanners and scripts; synth draws the rest as "
                                      "crawlers, feed readers and monitors of its own catalogue"]
    else:
        notes["(bot_share)"] = ["no agents in this format: bots cannot be told; synth's default (0.2) is used"]

    # Status mix per kind of request, and methods.
    method_names = [m.decode("latin-1") for m in cols.methods]
    s["methods"] = _share_map(cols.method, method_names, keep=lambda m: m if m in METHODS else None)
    other_methods = float(np.mean(~np.isin(cols.method, [i for i, m in enumerate(method_names) if m in METHODS])))
    notes["methods"] = ["shares of lines by method" + (f"; {other_methods:.2%} with other methods left out"
                                                         if other_methods else "")]
    statuses: dict[str, dict[int, float]] = {}
    for k, name in enumerate(KIND_NAMES):
        where = kind == k
        if where.sum() >= 20:
            codes, counts = np.unique(cols.status[where], return_counts=True)
            mix = {int(c): _round(float(v / where.sum())) for c, v in zip(codes, counts)
                   if 100 <= c <= 599 and v / where.sum() >= 0.0005}
            if mix:
                statuses[name] = mix
    if statuses:
        s["statuses"] = statuses
        notes["statuses"] = ["status shares per kind of request (static, page, robots.txt, other: as synth "
                             "profile classes paths); kinds with fewer than 20 lines keep synth's own"]

    # Site map: pages, popularity, assets, sizes.
    page_lines = (kind == PAGE) & (cols.status == 200)
    human_pages = page_lines & human
    distinct_pages = len(np.unique(cols.path[page_lines]))
    distinct_human = len(np.unique(cols.path[human_pages]))
    popularity = zipf_slope(np.bincount(cols.path[human_pages], minlength=len(cols.paths)))
    if popularity is not None:
        s["popularity"] = _round(min(max(-popularity, 0.05), 4.0), 3)
        notes["popularity"] = [f"Zipf exponent of page popularity, from {int(human_pages.sum()):,} page views "
                               f"(synth profile's slope rule)"]
    slope = s.get("popularity", 1.15)
    views = int(human_pages.sum())
    if views >= 200:
        pages = seen_population(distinct_human, float(views), slope, 10, 200_000)
        s["pages"] = int(min(max(pages, distinct_pages, 10), 200_000, max(10, 20 * distinct_pages)))
        notes["pages"] = [f"{distinct_pages:,} distinct pages answered 200; a Zipf({slope:g}) site of "
                          f"{s['pages']:,} pages shows that many in {views:,} views"]
    else:
        notes["pages"] = [f"only {views:,} page views: too few to size the site; synth's 600 pages are used"]
    feeds = np.array([bool(re.search(rb"feed|rss|atom", p, re.I)) for p in cols.paths] or [False], bool)
    shares = np.bincount(kind, minlength=4) / n
    notes.setdefault("pages", []).append("requests: " + ", ".join(f"{name} {share:.1%}" for name, share in zip(KIND_NAMES, shares))
                          + f" (feeds {float(feeds[cols.path].mean()):.1%}); synth's visits, crawls and bots make "
                          "these from the keys below")

    sizes: dict[str, dict[str, Any]] = {}
    for name, k in (("page", PAGE), ("static", STATIC), ("other", 3)):
        where = (kind == k) & (cols.status == 200) & (cols.size > 0)
        shared: list[int] = []
        if name == "static" and where.any():
            # The three static files asked for most stand for synth's shared CSS, JS and favicon
            # (fetched on landings): they keep their own sizes, the rest is fitted as images.
            ids, counts = np.unique(cols.path[where], return_counts=True)
            busiest = ids[np.argsort(-counts, kind="stable")[:3]]
            shared = [int(np.median(cols.size[where & (cols.path == i)])) for i in busiest]
            where &= ~np.isin(cols.path, busiest)
        if where.sum() < 20 or len(np.unique(cols.path[where])) < 3:
            continue
        # Per request, as synth lays sizes out so that its requests' sizes follow the law.
        median, p90 = np.percentile(cols.size[where], [50, 90])
        spread = math.log(max(p90, 1) / max(median, 1)) / Z90
        sizes[name] = {"median": int(round(median)), "spread": _round(min(max(spread, 0.0), 3.0), 3)}
        if shared:
            sizes[name]["shared"] = shared
    if sizes:
        s["sizes"] = sizes
        notes["sizes"] = ["body bytes of 200s per kind of path: median and lognormal spread over the requests;",
                          "shared: the sizes of the three static files asked for most (synth's CSS, JS, favicon)"]

    # Visits: requests, pages and assets per visit, referrers.
    if has_agents and human.any():
        assert cols.agent is not None
        _fit_visits(cols, human, kind, cov, s, notes)
    else:
        notes["(visits)"] = ["no agents: visits cannot be told from one another; synth's visits "
                             "(2 pages, 1.6 images a page) are used"]

    # Clients.
    human_clients = cols.client[human]
    distinct = np.unique(human_clients)
    if len(distinct) >= 10:
        v6 = np.array([b":" in c for c in cols.clients], bool)
        s["ipv6_share"] = _round(float(v6[distinct].mean()), 3)
        notes["ipv6_share"] = [f"share of IPv6 among {len(distinct):,} distinct {'human ' if has_agents else ''}"
                               "clients"]
        agent = cols.agent[human] if cols.agent is not None else np.zeros(len(human_clients), np.int64)
        visits = visit_count(human_clients, agent, cols.utc[human])
        counts = np.sort(np.bincount(human_clients))[::-1]
        top_shares = {k: float(counts[:k].sum() / counts.sum()) for k in TOP_RANKS}
        top10 = top_shares[10]
        slope, clients = fit_population(len(distinct), visits, top_shares)
        s["client_slope"] = _round(slope, 3)
        notes["client_slope"] = [f"Zipf exponent of visitors' activity: the busiest of them sends {top_shares[1]:.1%} of "
                                 f"their lines, the ten busiest {top10:.1%}"]
        s["clients"] = int(min(max(clients, 10), 5_000_000, 20 * len(distinct)))
        notes["clients"] = [f"{len(distinct):,} distinct clients seen in about {visits:,.0f} visits; a population of "
                            f"{s['clients']:,} at this slope shows that many"]
        if s["clients"] < clients:
            notes["clients"].append("(capped at 20 times the clients seen)")

    if keep_paths:
        s["paths"] = _kept_paths(cols)
        notes["paths"] = [f"--keep-paths: the log's {len(s['paths']):,} paths (no queries) answered 200, "
                          "with their median size and request count"]
    s["anomalies"] = [{"kind": "spike"}] if days >= 1 else []
    notes["anomalies"] = ["anomalies on top of the fitted traffic, labelled in anomalies.json; add any kind "
                          "of synth's catalogue (synth scenarios shows them)"]
    if days < 1:
        notes["anomalies"].append("none for a range under a day: a longer --days can hold synth's 30-minute spike")
    return Fit(s, notes, header, cov, n)


def _median_by(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The median of ``values`` within each id (one number per id present)."""
    order = np.lexsort((values, ids))
    ids, values = ids[order], values[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    return values[(starts + ends - 1) // 2].astype(np.float64)


def _fit_visits(cols: Columns, human: np.ndarray, kind: np.ndarray, cov: Coverage,
                s: dict[str, Any], notes: dict[str, list[str]]) -> None:
    assert cols.agent is not None
    idx = np.flatnonzero(human)
    order, visit = _visits(cols.client[idx], cols.agent[idx], cols.utc[idx])
    lines = idx[order]
    n_visits = int(visit[-1]) + 1
    is_page = kind[lines] == PAGE
    is_static = kind[lines] == STATIC
    pages_per = np.bincount(visit, weights=is_page, minlength=n_visits)
    # Each client's first visit: busy clients' visits run into each other, light ones' do not,
    # and the length of a visit does not depend on who makes it.
    client = cols.client[lines]
    first_of_client = np.unique(visit[np.r_[True, client[1:] != client[:-1]]])
    firsts = pages_per[first_of_client]
    with_pages = firsts > 0
    pages_mean = float(firsts[with_pages].mean()) if with_pages.any() else 1.0
    if cov.sampled:
        notes["(pages_per_visit)"] = ["a sampled log cuts visits at the sample's minutes: "
                                      "synth's visits (2 pages) are used"]
    else:
        # Page views per visit beyond the pages synth adds itself (redirects, posts): about 3 %.
        s["pages_per_visit"] = _round(min(max(pages_mean / 1.03, 1.0), 25.0), 3)
        notes["pages_per_visit"] = [f"{n_visits:,} visits (lines of one client and agent until 10 quiet "
                                    f"minutes), {len(lines) / n_visits:.2f} requests each; first visits of "
                                    f"{len(first_of_client):,} clients: {pages_mean:.2f} pages each"]
    static_per_page = float(is_static.sum()) / max(1.0, float(is_page.sum()))
    views = s.get("pages_per_visit", 2.0)
    # synth's visits: new visitors (55 %) fetch 2 shared files, the favicon (and 12 % a touch icon)
    # and every image of their landing page, returning ones 10 % of the shared files; 68 % of
    # the images of each later page. Solved for the mean images per page.
    fixed = 0.55 * 3.12 + 0.45 * 0.2
    per_image = 0.55 + 0.45 * 0.68 + (views - 1) * 0.68
    images = (static_per_page * views * 1.03 - fixed) / per_image
    s["assets_per_page"] = _round(min(max(images, 0.0), 30.0), 3)
    notes["assets_per_page"] = [f"{static_per_page:.2f} static requests per page view; images per page "
                                "solved from synth's visit model (shared files, favicon, caching)"]
    if cols.referrer is not None:
        ref = cols.referrer[lines]
        first = np.r_[True, visit[1:] != visit[:-1]]
        none = np.array([r in (b"", b"-") for r in cols.referrers] or [True], bool)
        hosts = [_host(r) for r in cols.referrers]
        later = ~first & is_page
        own = _own_host(hosts, ref[~first], none)
        search = np.array([bool(SEARCH_HOSTS.search(h)) for h in hosts] or [False], bool)
        landing = ref[first]
        land_none = none[landing]
        land_search = search[landing] & ~land_none
        land_sites = ~land_none & ~land_search & np.array([h != own for h in hosts] or [True], bool)[landing]
        s["referrers"] = {"search": _round(float(land_search.mean()), 3), "sites": _round(float(land_sites.mean()), 3),
                          "internal": _round(float((~none[ref[later]]).mean()) if later.any() else 0.96, 3)}
        notes["referrers"] = [f"of {int(first.sum()):,} landings: from search engines, from other sites (the rest "
                              "none); internal: later page views that name a referrer"]
        mobile = np.array([bool(MOBILE_RE.search(a)) for a in cols.agents] or [False], bool)
        first_agent = cols.agent[lines[np.r_[True, cols.client[lines][1:] != cols.client[lines][:-1]]]]
        s["mobile_share"] = _round(float(mobile[first_agent].mean()), 3)
        browsers: dict[str, int] = {}
        systems: dict[str, int] = {}
        for a in first_agent.tolist():
            agent = cols.agents[a]
            b, o = _classify(agent, BROWSERS), _classify(agent, SYSTEMS)
            browsers[b] = browsers.get(b, 0) + 1
            systems[o] = systems.get(o, 0) + 1
        total = max(1, len(first_agent))
        notes["mobile_share"] = [
            f"share of {len(first_agent):,} visitors on phones and tablets; synth draws its own browsers at this share",
            "browsers: " + ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(browsers.items(), key=lambda p: -p[1])),
            "systems: " + ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(systems.items(), key=lambda p: -p[1]))]


def _host(referrer: bytes) -> bytes:
    m = re.match(rb"[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)", referrer)
    return m.group(1).lower() if m else b""


def _own_host(hosts: list[bytes], later_refs: np.ndarray, none: np.ndarray) -> bytes:
    """The site's own host: the one later requests of visits name most as their referrer."""
    named = later_refs[~none[later_refs]]
    if len(named) == 0:
        return b""
    counts: dict[bytes, int] = {}
    for r, c in zip(*np.unique(named, return_counts=True)):
        counts[hosts[r]] = counts.get(hosts[r], 0) + int(c)
    return max(counts, key=counts.__getitem__)


def _kept_paths(cols: Columns) -> list[list[Any]]:
    """[path, median size, requests] for every path answered 200, busiest first."""
    ok = cols.status == 200
    ids, counts = np.unique(cols.path[ok], return_counts=True)
    sizes = _median_by(cols.path[ok], cols.size[ok])
    out = []
    for i in np.argsort(-counts, kind="stable")[:50_000]:
        path = cols.paths[ids[i]].decode("latin-1")
        if path.startswith("/") and not any(c in path for c in " \t\r\n"):
            out.append([path, int(sizes[i]), int(counts[i])])
    return out or [["/", 0, 1]]


def fit_log(paths: Iterable[str | Path], format: str | None = None, log_format: str | None = None,
            keep_paths: bool = False) -> Fit:
    """The fitted scenario of the log in ``paths`` (plain or gzip, any order).

    Raises FitError for a log that cannot be read or holds no line of its format.
    """
    return fit_columns(read_columns(paths, format, log_format), keep_paths=keep_paths)


__all__ = ["Fit", "FitError", "Coverage", "Columns", "fit_log", "fit_columns", "read_columns", "coverage",
           "desmooth_daily", "seen_population"]
