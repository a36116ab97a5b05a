"""The limits every number and time of a run must keep, and the checks that say which one broke.

Each numeric option and scenario value is finite and inside a stated range, and every time
lies in the span the whole pipeline carries: from 1970-01-01T00:00:00Z (the epoch: block and
file numbers, epoch milliseconds and the ingest side's dates all count from it) up to
2100-01-01T00:00:00Z (the end of a range is exclusive, so the last line is at most
2099-12-31T23:59:59Z; Apache's ``%t`` and the ECS ``@timestamp`` both write four-digit years).

The checks are plain functions: ``number_problem`` and ``time_problem`` return the message (or
None), ``check_number`` and ``check_time`` raise a ScenarioError naming the option or YAML path,
so every command (generate, stream, inject, fit, bench) refuses the same values the same way.

>>> number_problem(float("inf"), Bounds(0, 47482, low_open=True))
'must be a finite number > 0 and <= 47,482, got inf'
>>> number_problem(1e9, Bounds(0, 47482, low_open=True))
'must be <= 47,482, got 1e+09'
>>> time_problem(dt.datetime(1900, 1, 1, tzinfo=dt.UTC))
'1900-01-01T00:00:00Z is outside the times synth writes, 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z'
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

EARLIEST = 0  # 1970-01-01T00:00:00Z, epoch seconds
LATEST = 4_102_444_800  # 2100-01-01T00:00:00Z, epoch seconds (exclusive)
SPAN_DAYS = (LATEST - EARLIEST) // 86400  # 47,482 days: the longest range there is
MAX_WORKERS = 256  # processes a run may fork
MAX_LINES = 10_000_000_000  # rate x range: about 2.5 TB of combined lines


class ScenarioError(ValueError):
    """A scenario or option is wrong. ``problems`` holds (key path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {msg}" if path else msg for path, msg in problems))

    def lines(self) -> list[str]:
        return [f"{path}: {msg}" if path else msg for path, msg in self.problems]


def _g(value: float) -> str:
    return f"{value:,.10g}"


@dataclass(frozen=True)
class Bounds:
    """A closed (or open at either end) range of finite numbers, optionally whole ones."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def low_text(self) -> str:
        return f"{'>' if self.low_open else '>='} {_g(self.low)}"

    def high_text(self) -> str:
        return f"{'<' if self.high_open else '<='} {_g(self.high)}"

    def describe(self) -> str:
        ends = [text for text, end in ((self.low_text(), self.low), (self.high_text(), self.high))
                if math.isfinite(end)]
        return " and ".join(ends)

    def above_low(self, value: float) -> bool:
        return value > self.low if self.low_open else value >= self.low

    def below_high(self, value: float) -> bool:
        return value < self.high if self.high_open else value <= self.high


def is_number(value: Any) -> bool:
    """An int or a float (bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_problem(value: Any, bounds: Bounds, what: str = "") -> str | None:
    """Why ``value`` is not a number within ``bounds``, or None when it is; ``what`` ends the
    message (``" for spike"``)."""
    if not is_number(value):
        return f"must be a number, got {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        ends = bounds.describe()
        return f"must be a finite number{' ' + ends if ends else ''}{what}, got {value!r}"
    if bounds.integer and value != int(value):
        return f"must be a whole number, got {value!r}"
    if not bounds.above_low(value):
        return f"must be {bounds.low_text()}{what}, got {_g(value)}"
    if not bounds.below_high(value):
        return f"must be {bounds.high_text()}{what}, got {_g(value)}"
    return None


def check_number(path: str, value: Any, bounds: Bounds) -> float:
    """``value`` as a float (an int for whole-number bounds); ScenarioError naming ``path`` otherwise."""
    problem = number_problem(value, bounds)
    if problem:
        raise ScenarioError([(path, problem)])
    return int(value) if bounds.integer else float(value)


def iso_z(seconds: float) -> str:
    """Epoch seconds as ``2026-11-28T12:00:00Z``, for any value a message may show."""
    try:
        return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{seconds:g} s from the epoch"


SPAN_TEXT = f"{iso_z(EARLIEST)} to {iso_z(LATEST)}"


def time_problem(when: dt.datetime) -> str | None:
    """Why a time is outside the span synth writes, or None."""
    seconds = when.timestamp()
    if EARLIEST <= seconds <= LATEST:
        return None
    return f"{when.isoformat().replace('+00:00', 'Z')} is outside the times synth writes, {SPAN_TEXT}"


def check_time(path: str, when: dt.datetime) -> dt.datetime:
    problem = time_problem(when)
    if problem:
        raise ScenarioError([(path, problem)])
    return when


def range_problem(start: float, end: float) -> str | None:
    """Why [start, end) in epoch seconds does not fit in the span, or None."""
    if EARLIEST <= start and end <= LATEST:
        return None
    return (f"the range {iso_z(start)} to {iso_z(end)} leaves the times synth writes, {SPAN_TEXT}; "
            "a later end or fewer days")


__all__ = ["Bounds", "ScenarioError", "check_number", "check_time", "number_problem", "time_problem",
           "range_problem", "is_number", "EARLIEST", "LATEST", "SPAN_DAYS", "MAX_LINES", "iso_z"]
