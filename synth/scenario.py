"""Scenarios: what a run generates, validated once into frozen dataclasses.

A scenario comes from a YAML file, a built-in name, or plain keyword overrides (the CLI's
options). Every problem is reported with the key it concerns, so ``days: -3`` in a file and
``--days -3`` on the command line both name what is wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from .resources import scenarios_dir

ANOMALY_KINDS = ("spike",)

# Defaults for each anomaly kind's magnitude and length.
ANOMALY_DEFAULTS: dict[str, dict[str, float]] = {
    "spike": {"magnitude": 10.0, "minutes": 30.0},
}

_SIZE_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3,
               "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


class ScenarioError(ValueError):
    """A scenario or option is wrong. ``problems`` holds (key path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {msg}" if path else msg for path, msg in problems))

    def lines(self) -> list[str]:
        return [f"{path}: {msg}" if path else msg for path, msg in self.problems]


@dataclass(frozen=True)
class Rotation:
    """How closed files are cut: by local day, by local hour, by size, or not at all."""

    kind: str  # "day" | "hour" | "size" | "none"
    max_bytes: int = 0

    @classmethod
    def parse(cls, text: str) -> "Rotation":
        value = str(text).strip()
        if value in ("day", "hour", "none"):
            return cls(value)
        m = re.fullmatch(r"size:(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?", value, re.IGNORECASE)
        if m:
            size = int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").upper()])
            if size < 1024:
                raise ValueError(f"size rotation needs at least 1KB, got {value!r}")
            return cls("size", size)
        raise ValueError(f"must be day, hour, none or size:<N>MB, got {value!r}")

    def __str__(self) -> str:
        return f"size:{self.max_bytes}B" if self.kind == "size" else self.kind


@dataclass(frozen=True)
class AnomalySpec:
    """One anomaly as asked for: its kind, where (None: drawn from the seed), how long, how strong."""

    kind: str
    start: dt.datetime | None = None
    minutes: float = 30.0
    magnitude: float = 10.0


@dataclass(frozen=True)
class Scenario:
    name: str = "classic"
    description: str = "Seven days of a small site with one 30-minute 10x traffic spike."
    days: float = 7.0
    end: dt.datetime | None = None  # None: now, truncated to the second
    rate: float = 2.0  # mean requests per second over the range
    tz: str = "+0000"  # offset written in %t; day and hour rotation follow it
    rotate: Rotation = Rotation("day")
    format: str = "combined"
    clients: int | None = None  # visitor population; None: sized from the rate
    ipv6_share: float = 0.2
    bot_share: float = 0.2  # crawlers, feed readers, monitors and scanners
    weekend: float = 0.7  # weekend traffic relative to weekdays
    anomalies: tuple[AnomalySpec, ...] = (AnomalySpec("spike"),)

    @property
    def tz_seconds(self) -> int:
        sign = -1 if self.tz[0] == "-" else 1
        return sign * (int(self.tz[1:3]) * 3600 + int(self.tz[3:5]) * 60)

    def replace(self, **changes: Any) -> "Scenario":
        return dataclasses.replace(self, **changes)


def parse_time(value: Any) -> dt.datetime:
    """An ISO 8601 time as an aware UTC datetime truncated to the second; naive means UTC."""
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).replace(microsecond=0)


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

    def number(self, name: str, default: float | None, *, above: float | None = None,
               at_least: float | None = None, at_most: float | None = None,
               integer: bool = False) -> Any:
        value = self.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(name, f"must be a number, got {value!r}")
            return default
        if integer and value != int(value):
            self.problem(name, f"must be a whole number, got {value!r}")
            return default
        if above is not None and not value > above:
            self.problem(name, f"must be > {above:g}, got {value:g}")
        elif at_least is not None and value < at_least:
            self.problem(name, f"must be >= {at_least:g}, got {value:g}")
        elif at_most is not None and value > at_most:
            self.problem(name, f"must be <= {at_most:g}, got {value:g}")
        return int(value) if integer else float(value)

    def text(self, name: str, default: str) -> str:
        value = self.get(name, default)
        if not isinstance(value, str):
            self.problem(name, f"must be text, got {value!r}")
            return default
        return value

    def unknown(self) -> None:
        for name in self.data:
            if name not in self.seen:
                self.problems.append((self.key(str(name)), "unknown key"))


def _anomaly(data: Any, path: str, problems: list[tuple[str, str]]) -> AnomalySpec | None:
    if not isinstance(data, Mapping):
        problems.append((path, f"must be a mapping with a kind, got {data!r}"))
        return None
    f = _Fields(data, path, problems)
    kind = f.get("kind", None)
    if kind not in ANOMALY_KINDS:
        f.problem("kind", f"must be one of {', '.join(ANOMALY_KINDS)}, got {kind!r}")
        f.unknown()
        return None
    defaults = ANOMALY_DEFAULTS[kind]
    start = f.get("start", None)
    if start is not None:
        try:
            start = parse_time(start)
        except ValueError as e:
            f.problem("start", str(e))
            start = None
    minutes = f.number("minutes", defaults["minutes"], above=0)
    magnitude = f.number("magnitude", defaults["magnitude"], above=1)
    f.unknown()
    return AnomalySpec(kind, start, minutes, magnitude)


def scenario_from_dict(data: Mapping[str, Any], name: str = "custom") -> Scenario:
    """Validate a scenario mapping (as read from YAML) into a Scenario; every problem is reported."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise ScenarioError([("", f"a scenario must be a mapping of keys, got {type(data).__name__}")])
    base = Scenario()
    f = _Fields(data, "", problems)
    values: dict[str, Any] = {"name": f.text("name", name), "description": f.text("description", "")}
    values["days"] = f.number("days", base.days, above=0)
    end = f.get("end", None)
    if end is not None:
        try:
            end = parse_time(end)
        except ValueError as e:
            f.problem("end", str(e))
            end = None
    values["end"] = end
    values["rate"] = f.number("rate", base.rate, above=0, at_most=1e6)
    tz = f.get("tz", base.tz)
    if not isinstance(tz, str) or not re.fullmatch(r"[+-](0\d|1[0-4])[0-5]\d", tz):
        f.problem("tz", f"must be an offset like +0000 or -0800, got {tz!r}")
        tz = base.tz
    values["tz"] = tz
    try:
        values["rotate"] = Rotation.parse(f.get("rotate", "day"))
    except ValueError as e:
        f.problem("rotate", str(e))
        values["rotate"] = base.rotate
    values["format"] = f.text("format", base.format)
    values["clients"] = f.number("clients", None, at_least=10, at_most=5_000_000, integer=True)
    values["ipv6_share"] = f.number("ipv6_share", base.ipv6_share, at_least=0, at_most=1)
    values["bot_share"] = f.number("bot_share", base.bot_share, at_least=0, at_most=0.5)
    values["weekend"] = f.number("weekend", base.weekend, above=0, at_most=5)
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
    f.unknown()
    if problems:
        raise ScenarioError(problems)
    return Scenario(**values)


def builtin_names() -> list[str]:
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml"))


def load_scenario(source: str | Path | Mapping[str, Any] | None = None) -> Scenario:
    """A Scenario from a built-in name, a YAML file path or a mapping; None gives ``classic``."""
    if source is None:
        source = "classic"
    if isinstance(source, Mapping):
        return scenario_from_dict(source)
    text_source = str(source)
    path = Path(text_source)
    if not path.suffix and text_source in builtin_names():
        path = scenarios_dir() / f"{text_source}.yaml"
    if not path.is_file():
        known = ", ".join(builtin_names())
        raise ScenarioError([("scenario", f"no built-in scenario or file named {text_source!r} (built-in: {known})")])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError([(str(path), f"not valid YAML{where}: {getattr(e, 'problem', e)}")]) from None
    return scenario_from_dict(data if data is not None else {}, name=path.stem)


def check_scenario(scenario: Scenario) -> None:
    """Problems that concern the scenario as a whole (after CLI overrides were applied)."""
    problems = []
    range_minutes = scenario.days * 24 * 60
    for i, spec in enumerate(scenario.anomalies):
        if spec.minutes >= range_minutes:
            problems.append((f"anomalies[{i}].minutes",
                             f"{spec.minutes:g} minutes does not fit in a range of {range_minutes:g} minutes"))
    if round(scenario.days * 86400) < 60:
        problems.append(("days", f"the range must be at least one minute, got {scenario.days:g} days"))
    if problems:
        raise ScenarioError(problems)


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
    }
    if scenario.end is not None:
        data["end"] = scenario.end.strftime("%Y-%m-%dT%H:%M:%SZ")
    if scenario.clients is not None:
        data["clients"] = scenario.clients
    data["anomalies"] = [
        {k: v for k, v in (("kind", a.kind),
                           ("start", a.start.strftime("%Y-%m-%dT%H:%M:%SZ") if a.start else None),
                           ("minutes", a.minutes), ("magnitude", a.magnitude)) if v is not None}
        for a in scenario.anomalies
    ]
    return data


__all__ = ["Scenario", "AnomalySpec", "Rotation", "ScenarioError", "load_scenario",
           "scenario_from_dict", "check_scenario", "parse_time", "builtin_names", "to_yaml",
           "ANOMALY_KINDS"]
