"""Scenarios: what a run generates, validated once into frozen dataclasses.

A scenario comes from a YAML file, a built-in name, or plain keyword overrides (the CLI's
options). Every problem is reported with the key it concerns, so ``days: -3`` in a file and
``--days -3`` on the command line both name what is wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from synth.generate.anomalies.registry import KINDS, KindSpec
from synth.generate.checks import (
    MAX_LINES,
    SPAN_DAYS,
    Bounds,
    ScenarioError,
    number_problem,
    range_problem,
    time_problem,
)
from synth.generate.shape import Shape, parse_shape, shape_yaml
from synth.generate.zone import Zone, as_zone, normal_zone
from synth.resources import scenarios_dir

# The anomaly kinds a scenario may ask for, as each kind's class declares it.
ANOMALY_KINDS = tuple(KINDS)

# What the numbers of a scenario may be (see synth.generate.checks for the span of times).
DAYS = Bounds(0, SPAN_DAYS, low_open=True)
RATE = Bounds(0, 1e6, low_open=True)
MINUTES = Bounds(0, SPAN_DAYS * 1440, low_open=True)
SHARE = Bounds(0, 1e6, low_open=True)

_SIZE_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3,
               "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


@dataclass(frozen=True)
class Rotation:
    """How closed files are cut: by local day, by local hour, by size, or not at all."""

    kind: str  # "day" | "hour" | "size" | "none"
    max_bytes: int = 0

    @classmethod
    def parse(cls, text: str) -> Rotation:
        # One case rule for every value: Day, HOUR and SIZE:10mb are day, hour and size:10MB.
        value = str(text).strip()
        if value.lower() in ("day", "hour", "none"):
            return cls(value.lower())
        m = re.fullmatch(r"size:(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?", value, re.IGNORECASE)
        if m:
            size = int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").upper()])
            if size < 1024:
                raise ValueError(f"size rotation needs at least 1KB, got {value!r}")
            return cls("size", size)
        raise ValueError(f"must be day, hour, none or size:<N>MB, got {value!r}")

    def __str__(self) -> str:
        return f"size:{self.max_bytes}B" if self.kind == "size" else self.kind

    def text(self) -> str:
        """As a person writes it: ``size:10KB``, ``size:1.5MB``, ``day``."""
        if self.kind != "size":
            return self.kind
        for unit, scale in (("GB", 1000**3), ("MB", 1000**2), ("KB", 1000)):
            if self.max_bytes >= scale:
                return f"size:{self.max_bytes / scale:g}{unit}"
        return f"size:{self.max_bytes}B"


@dataclass(frozen=True)
class AnomalySpec:
    """One anomaly as asked for: its kind, where, how long, how strong, and its kind's parameters.

    ``start`` is a time, or ``offset`` seconds after the start of the range; with neither the
    window is drawn from the seed.
    """

    kind: str
    start: dt.datetime | None = None
    minutes: float = 30.0
    magnitude: float = 10.0
    offset: int | None = None
    params: tuple[tuple[str, Any], ...] = ()

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)


@dataclass(frozen=True)
class Scenario:
    name: str = "classic"
    description: str = "Seven days of a small site with one 30-minute 10x traffic spike."
    days: float = 7.0
    end: dt.datetime | None = None  # None: now, truncated to the second
    rate: float = 2.0  # mean requests per second over the range
    tz: str = "+0000"  # zone of %t: an offset +HHMM or an IANA name; day and hour rotation follow it
    rotate: Rotation = Rotation("day")
    format: str = "combined"
    log_format: str | None = None  # an Apache LogFormat string; wins over format
    nginx_log_format: str | None = None  # an nginx log_format string (escape=... first, optionally)
    messy: float = 0.0  # share of lines that are the junk real servers log (synth/render/messy.py)
    clients: int | None = None  # visitor population; None: sized from the rate
    pages: int = 600  # pages on the site
    ipv6_share: float = 0.2
    bot_share: float = 0.2  # crawlers, feed readers, monitors and scanners
    weekend: float = 0.65  # weekend traffic relative to weekdays
    daily: tuple[float, ...] | None = None  # activity by visitors' local hour; None: the usual curve
    audience: tuple[tuple[int, float], ...] | None = None  # (UTC offset minutes, share); None: catalog
    anomalies: tuple[AnomalySpec, ...] = (AnomalySpec("spike"),)
    shape: Shape = Shape()  # what synth fit measured: weekly curve, status mix, sizes ... (shape.py)
    seed: int | None = None  # the run's seed when no --seed is given
    # The file (or built-in name) it came from, to name it in problems; not part of what it is.
    source: str | None = dataclasses.field(default=None, compare=False)

    @property
    def daily_curve(self) -> np.ndarray:
        from synth.generate.rates import DAILY
        return DAILY if self.daily is None else np.array(self.daily, dtype=np.float64)

    @property
    def zone(self) -> Zone:
        return as_zone(self.tz)

    def replace(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, **changes)


def parse_time(value: Any, now: dt.datetime | None = None) -> dt.datetime:
    """An aware UTC datetime truncated to the second, from an ISO 8601 time (naive means UTC),
    ``now``, or epoch seconds (``1764331200``)."""
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        when = _epoch(value)
    else:
        text = str(value).strip()
        if text.lower() == "now":
            when = now or dt.datetime.now(dt.UTC)
        elif re.fullmatch(r"\d{9,11}(\.\d+)?", text):
            when = _epoch(float(text))
        else:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            try:
                when = dt.datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"must be now, epoch seconds or an ISO 8601 time (UTC when it has no zone), "
                                 f"got {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).replace(microsecond=0)


def _epoch(value: float) -> dt.datetime:
    if not 0 <= value < 253402300800:  # up to the year 9999
        raise ValueError(f"epoch seconds out of range: {value!r}")
    return dt.datetime.fromtimestamp(value, dt.UTC)


class _Fields:
    """Reads one mapping, collecting problems with their key paths instead of stopping at the first."""

    def __init__(self, data: Mapping[str, Any], path: str, problems: list[tuple[str, str]]):
        self.data, self.path, self.problems = data, path, problems
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def problem(self, name: str, message: str) -> None:
        self.problems.append((self.key(name), message))

    def get(self, name: str, default: Any) -> Any:
        self.seen.add(name)
        return self.data.get(name, default)

    def number(self, name: str, default: float | None, bounds: Bounds | None = None, what: str = "", *,
               above: float | None = None, at_least: float | None = None, at_most: float | None = None,
               integer: bool = False) -> Any:
        """The value as a float (an int for whole-number bounds), finite and within ``bounds``
        (or the range ``above``/``at_least`` .. ``at_most`` says); the default, with the problem
        recorded, when it is not."""
        if bounds is None:
            low = above if above is not None else at_least if at_least is not None else -math.inf
            bounds = Bounds(low, at_most if at_most is not None else math.inf, low_open=above is not None,
                            integer=integer)
        value = self.get(name, default)
        if value is None:
            return None
        problem = number_problem(value, bounds, what)
        if problem:
            self.problem(name, problem)
            return default
        return int(value) if bounds.integer else float(value)

    def text(self, name: str, default: str) -> str:
        value = self.get(name, default)
        if not isinstance(value, str):
            self.problem(name, f"must be text, got {value!r}")
            return default
        return value

    def unknown(self) -> None:
        known = sorted(self.seen)
        for name in self.data:
            if name not in self.seen:
                near = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
                hint = f" (did you mean {near[0]}?)" if near else f" (known: {', '.join(known)})"
                self.problems.append((self.key(str(name)), "unknown key" + hint))


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def _duration_seconds(text: str) -> int | None:
    m = _DURATION.fullmatch(text)
    if not m or not any(m.groups()):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def parse_offset(text: str) -> int:
    """``+2d6h30m`` -> seconds after the start of the range."""
    text = text.strip()
    seconds = _duration_seconds(text[1:]) if text.startswith("+") else None
    if seconds is None:
        raise ValueError(f"must be an ISO 8601 time or an offset like +2d6h30m, got {text!r}")
    return seconds


def parse_duration(value: Any) -> int:
    """``1d12h``, ``90m``, ``45s`` or a number of seconds -> whole seconds (>= 0)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0 or value != value or value == float("inf"):
            raise ValueError(f"must be a duration like 30s, 10m, 2h or 1d12h, got {value!r}")
        return int(round(value))
    text = str(value).strip()
    seconds = int(text) if text.isdigit() else _duration_seconds(text)
    if seconds is None:
        raise ValueError(f"must be a duration like 30s, 10m, 2h or 1d12h, got {value!r}")
    return seconds


def _param(f: _Fields, name: str) -> Any:
    """Validate one kind parameter; None when absent or wrong (the problem is recorded)."""
    value = f.get(name, None)
    if value is None:
        return None
    if name == "status":
        if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
            f.problem(name, f"must be an HTTP error status from 400 to 599, got {value!r}")
            return None
    elif name == "clients":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
            f.problem(name, f"must be a whole number from 1 to 1000, got {value!r}")
            return None
    elif name == "address":
        try:
            value = str(ipaddress.ip_address(str(value)))
        except ValueError:
            f.problem(name, f"must be an IPv4 or IPv6 address, got {value!r}")
            return None
    elif name in ("agent", "referrer"):
        if not isinstance(value, str) or not value.strip():
            f.problem(name, f"must be non-empty text, got {value!r}")
            return None
        if name == "referrer" and not re.match(r"https?://[^\s/]+", value):
            f.problem(name, f"must be an http(s) URL, got {value!r}")
            return None
    return value


def _anomaly(data: Any, path: str, problems: list[tuple[str, str]]) -> AnomalySpec | None:
    if not isinstance(data, Mapping):
        problems.append((path, f"must be a mapping with a kind, got {data!r}"))
        return None
    f = _Fields(data, path, problems)
    kind_name = f.get("kind", None)
    if kind_name not in KINDS:
        f.problem("kind", f"must be one of {', '.join(KINDS)}, got {kind_name!r}")
        return None
    kind = KINDS[kind_name]
    start, offset = f.get("start", None), None
    if isinstance(start, str) and start.strip().startswith("+"):
        try:
            offset, start = parse_offset(start), None
        except ValueError as e:
            f.problem("start", str(e))
            start = None
    elif start is not None:
        try:
            start = parse_time(start)
        except ValueError:
            f.problem("start", f"must be an ISO 8601 time (UTC when it has no zone), epoch seconds or an offset "
                               f"like +2d6h30m, got {start!r}")
            start = None
    if isinstance(start, dt.datetime) and (problem := time_problem(start)):
        f.problem("start", problem)
        start = None
    if offset is not None and offset > SPAN_DAYS * 86400:
        f.problem("start", f"an offset of {offset:,} s is longer than any range ({SPAN_DAYS} days)")
        offset = None
    minutes = f.number("minutes", kind.minutes, MINUTES)
    magnitude = f.number("magnitude", kind.magnitude, kind.bounds, f" for {kind_name}")
    params = tuple((name, value) for name in kind.params if (value := _param(f, name)) is not None)
    f.unknown()
    return AnomalySpec(kind_name, start, minutes, float(magnitude), offset, params)


def _daily(f: _Fields) -> tuple[float, ...] | None:
    value = f.get("daily", None)
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 24
            or not all(number_problem(v, Bounds(0, 1e6)) is None for v in value)
            or not any(value)):
        f.problem("daily", "must be 24 numbers from 0 to 1000000 (activity by local hour, 0 to 23), not all 0")
        return None
    return tuple(float(v) for v in value)


def _audience(f: _Fields) -> tuple[tuple[int, float], ...] | None:
    value = f.get("audience", None)
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        f.problem("audience", "must map UTC offsets (\"-0500\") to shares of visitors")
        return None
    groups = []
    for offset, share in value.items():
        m = re.fullmatch(r"([+-])(\d\d)(\d\d)", str(offset))
        if not m or int(m.group(2)) > 14 or int(m.group(3)) > 59:
            f.problem(f"audience.{offset}", "must be an offset like -0500 or +0530")
            continue
        if number_problem(share, SHARE) is not None:
            f.problem(f"audience.{offset}", f"share must be a number > 0 and <= 1000000, got {share!r}")
            continue
        minutes = (int(m.group(2)) * 60 + int(m.group(3))) * (-1 if m.group(1) == "-" else 1)
        groups.append((minutes, float(share)))
    return tuple(groups) or None


def scenario_from_dict(data: Mapping[str, Any], name: str = "custom") -> Scenario:
    """Validate a scenario mapping (as read from YAML) into a Scenario; every problem is reported."""
    scenario, problems = read_scenario(data, name)
    if problems:
        raise ScenarioError(problems)
    return scenario


MAX_SEED = 2**63 - 1


def read_scenario(data: Mapping[str, Any], name: str = "custom") -> tuple[Scenario, list[tuple[str, str]]]:
    """A scenario mapping read as far as it goes: the Scenario (defaults where a value is wrong)
    and every problem found, so later checks can add theirs and all are said at once."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        return Scenario(), [("", f"a scenario must be a mapping of keys, got {type(data).__name__}")]
    base = Scenario()
    f = _Fields(data, "", problems)
    values: dict[str, Any] = {"name": f.text("name", name), "description": f.text("description", "")}
    values["days"] = f.number("days", base.days, DAYS)
    end = f.get("end", None)
    if isinstance(end, str) and end.strip().lower() == "now":
        end = None  # the default: now, when the run starts
    if end is not None:
        try:
            end = parse_time(end)
        except ValueError as e:
            f.problem("end", str(e))
            end = None
    if end is not None and (problem := time_problem(end)):
        f.problem("end", problem)
        end = None
    values["end"] = end
    values["rate"] = f.number("rate", base.rate, RATE)
    try:
        values["tz"] = normal_zone(f.get("tz", base.tz))
    except ValueError as e:
        f.problem("tz", str(e))
        values["tz"] = base.tz
    try:
        values["rotate"] = Rotation.parse(f.get("rotate", "day"))
    except ValueError as e:
        f.problem("rotate", str(e))
        values["rotate"] = base.rotate
    values["format"] = f.text("format", base.format)
    log_format = f.get("log_format", None)
    if log_format is not None and (not isinstance(log_format, str) or not log_format.strip()):
        f.problem("log_format", f"must be an Apache LogFormat string, got {log_format!r}")
        log_format = None
    values["log_format"] = log_format
    if log_format is not None and "format" in data:
        f.problem("log_format", "give format or log_format, not both")
    nginx = f.get("nginx_log_format", None)
    if nginx is not None and (not isinstance(nginx, str) or not nginx.strip()):
        f.problem("nginx_log_format", f"must be an nginx log_format string, got {nginx!r}")
        nginx = None
    if nginx is not None and log_format is not None:
        f.problem("nginx_log_format", "give log_format or nginx_log_format, not both")
    values["nginx_log_format"] = nginx
    values["messy"] = f.number("messy", base.messy, at_least=0, at_most=0.5)
    values["clients"] = f.number("clients", None, at_least=10, at_most=5_000_000, integer=True)
    values["pages"] = f.number("pages", base.pages, at_least=10, at_most=200_000, integer=True)
    values["ipv6_share"] = f.number("ipv6_share", base.ipv6_share, at_least=0, at_most=1)
    values["bot_share"] = f.number("bot_share", base.bot_share, at_least=0, at_most=0.95)
    values["weekend"] = f.number("weekend", base.weekend, above=0, at_most=5)
    values["daily"] = _daily(f)
    values["audience"] = _audience(f)
    values["shape"] = parse_shape(f)
    raw = f.get("anomalies", [])
    anomalies: list[AnomalySpec] = []
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        f.problem("anomalies", f"must be a list, got {raw!r}")
    else:
        for i, item in enumerate(raw):
            spec = _anomaly(item, f"anomalies[{i}]", problems)
            if spec is not None:
                anomalies.append(spec)
    values["anomalies"] = tuple(anomalies)
    seed = f.get("seed", None)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED):
        f.problem("seed", f"must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
        seed = None
    values["seed"] = seed
    f.unknown()
    return Scenario(**values), problems


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, except that times stay text: parse_time reads them, so ``end:
    2026-13-45`` is reported under its key instead of failing inside the YAML reader."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def builtin_names() -> list[str]:
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml"))


def builtin_text(name: str) -> str:
    """The YAML of a built-in scenario, comments included: a file to copy and edit."""
    if name not in builtin_names():
        raise ScenarioError([("scenario", f"no built-in scenario named {name!r} (built-in: {', '.join(builtin_names())})")])
    return (scenarios_dir() / f"{name}.yaml").read_text(encoding="utf-8")


def builtin_scenarios() -> list[Scenario]:
    """Every built-in scenario, classic first."""
    names = builtin_names()
    return [load_scenario(n) for n in (["classic"] + [n for n in names if n != "classic"])]


class _UniqueKeyLoader(_Loader):
    """The safe loader with times kept as text (_Loader), refusing a key given twice in one mapping (PyYAML keeps the last
    silently): each repeat is recorded with its line, and all are reported together."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.repeats: list[tuple[str, str]] = []
        self.paths: dict[int, str] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                line = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: construct_mapping says so itself
                continue
            if line != key_node.start_mark.line + 1:
                self.repeats.append((str(key), f"duplicate key (lines {line} and {key_node.start_mark.line + 1})"))
        return super().construct_mapping(node, deep=deep)


def _read_yaml(text: str) -> tuple[Any, list[tuple[str, str]]]:
    loader = _UniqueKeyLoader(text)
    try:
        return loader.get_single_data(), loader.repeats
    finally:
        loader.dispose()


def load_scenario(source: str | Path | Mapping[str, Any] | None = None) -> Scenario:
    """A Scenario from a built-in name, a YAML file path or a mapping; None gives ``classic``."""
    scenario, problems = read_scenario_source(source)
    if problems:
        raise ScenarioError(problems)
    return scenario


def read_scenario_source(source: str | Path | Mapping[str, Any] | None = None
                         ) -> tuple[Scenario, list[tuple[str, str]]]:
    """load_scenario without raising: the scenario as far as it reads, and every problem, each
    named with the file it is in (``my.yaml: anomalies[2].magnitude``)."""
    if source is None:
        source = "classic"
    if isinstance(source, Mapping):
        return read_scenario(source)
    text_source = str(source)
    path = Path(text_source)
    if not path.suffix and text_source in builtin_names():
        path = scenarios_dir() / f"{text_source}.yaml"
    if not path.is_file():
        known = ", ".join(builtin_names())
        raise ScenarioError([("scenario", f"no built-in scenario or file named {text_source!r} (built-in: {known})")])
    label = path.stem if path.parent == scenarios_dir() else str(path)
    try:
        data, repeats = _read_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError([(label, f"not valid YAML{where}: {getattr(e, 'problem', e)}")]) from None
    except ValueError as e:  # an explicitly tagged value that is not one (!!timestamp 2026-13-45)
        raise ScenarioError([(label, f"not valid YAML: {e}")]) from None
    scenario, problems = read_scenario(data if data is not None else {}, name=path.stem)
    # Name the file, so "anomalies[2].magnitude: ..." says where it is.
    return scenario.replace(source=label), [(f"{label}: {key}" if key else label, msg)
                                            for key, msg in repeats + problems]


def check_scenario(scenario: Scenario) -> None:
    """Problems that concern the scenario as a whole (after CLI overrides were applied)."""
    problems = check_problems(scenario)
    if problems:
        raise ScenarioError(problems)


def check_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """check_scenario's problems, as a list."""
    problems = []
    range_minutes = scenario.days * 24 * 60
    for i, spec in enumerate(scenario.anomalies):
        if spec.minutes >= range_minutes:
            problems.append((f"anomalies[{i}].minutes",
                             f"{spec.minutes:g} minutes does not fit in a range of {range_minutes:g} minutes "
                             f"(a longer --days, or a shorter anomaly)"))
    if round(scenario.days * 86400) < 60:
        problems.append(("days", f"the range must be at least one minute, got {scenario.days:g} days"))
    elif scenario.rate * scenario.days * 86400 > MAX_LINES:
        problems.append(("rate", f"{scenario.rate:g} requests a second for {scenario.days:g} days is about "
                                 f"{scenario.rate * scenario.days * 86400:,.0f} lines; at most {MAX_LINES:,} "
                                 "(fewer --days or a lower --rate)"))
    if scenario.end is not None:
        end = int(scenario.end.timestamp())
        problem = range_problem(end - round(scenario.days * 86400), end)
        if problem:
            problems.append(("days", problem))
    return problems


def to_yaml(scenario: Scenario) -> dict[str, Any]:
    """The scenario as the mapping a YAML file would hold (round-trips through scenario_from_dict)."""
    data: dict[str, Any] = {
        "name": scenario.name,
        "description": scenario.description,
        "days": scenario.days,
        "rate": scenario.rate,
        "tz": scenario.tz,
        "rotate": str(scenario.rotate),
        "format": scenario.format,
        "ipv6_share": scenario.ipv6_share,
        "bot_share": scenario.bot_share,
        "weekend": scenario.weekend,
        "pages": scenario.pages,
    }
    if scenario.daily is not None:
        data["daily"] = list(scenario.daily)
    if scenario.audience is not None:
        data["audience"] = {f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}{abs(m) % 60:02d}": share
                            for m, share in scenario.audience}
    if scenario.log_format is not None:  # a LogFormat string is the format: not both
        del data["format"]
        data["log_format"] = scenario.log_format
    if scenario.nginx_log_format is not None:
        data["nginx_log_format"] = scenario.nginx_log_format
    if scenario.messy:
        data["messy"] = scenario.messy
    if scenario.end is not None:
        data["end"] = scenario.end.strftime("%Y-%m-%dT%H:%M:%SZ")
    if scenario.clients is not None:
        data["clients"] = scenario.clients
    data.update(shape_yaml(scenario.shape))
    if scenario.seed is not None:
        data["seed"] = scenario.seed
    data["anomalies"] = [_anomaly_yaml(a) for a in scenario.anomalies]
    return data


def _anomaly_yaml(spec: AnomalySpec) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": spec.kind}
    if spec.start is not None:
        data["start"] = spec.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif spec.offset is not None:
        data["start"] = format_offset(spec.offset)
    data["minutes"] = spec.minutes
    data["magnitude"] = spec.magnitude
    data.update(spec.params)
    return data


def format_offset(seconds: int) -> str:
    """Seconds after the start of the range as ``+2d6h30m`` (the inverse of parse_offset)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")) if v)
    return "+" + (text or "0s")


__all__ = ["Scenario", "AnomalySpec", "Rotation", "ScenarioError", "load_scenario", "KindSpec", "KINDS",
           "scenario_from_dict", "check_scenario", "check_problems", "parse_time", "parse_offset", "parse_duration", "builtin_names",
           "to_yaml", "ANOMALY_KINDS", "read_scenario", "read_scenario_source"]
