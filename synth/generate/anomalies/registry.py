"""The registry of anomaly kinds: each kind is declared once, by the class that makes it.

A kind's class (synth.generate.anomalies.kinds) carries a ``KindSpec``: its name, what a
scenario may ask of it (defaults, the meaning and range of its magnitude, its parameters and
their defaults), the field its label names, and the ML jobs that can see it. Defining the
class registers it; the scenario's validation (``synth.generate.scenario.KINDS``), the ground
truth and ``make_effects`` read the registry. Adding a kind is writing its class.
Kind names are part of the contract (anomalies.json, ml/jobs, scenarios).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synth.generate.checks import Bounds

if TYPE_CHECKING:
    from synth.generate.anomalies.base import Kind
    from synth.generate.anomalies.windows import Window


@dataclass(frozen=True)
class KindSpec:
    """An anomaly kind as a scenario may ask for it and as its label names it: defaults, the
    meaning and range of its magnitude, the parameters it takes beyond kind, start, minutes and
    magnitude (with their defaults, None where setup draws one), the field its label's
    ``affected`` names, and the jobs that can catch it, in order of preference (a window names
    the first whose fields the run's format writes)."""

    name: str
    summary: str
    magnitude: float
    magnitude_means: str
    minutes: float
    low: float  # magnitude must be > low (or >= low when low_inclusive)
    most: float  # magnitude must be <= most (< most when high_exclusive)
    jobs: tuple[str, ...]
    high_exclusive: bool = False
    low_inclusive: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    field: str | None = None

    def __hash__(self) -> int:  # a kind is its name (``params`` is a dict)
        return hash(self.name)

    @property
    def bounds(self) -> Bounds:
        return Bounds(self.low, self.most, low_open=not self.low_inclusive, high_open=self.high_exclusive)


# Filled as the kinds' classes are defined, in the order they are (the order messages list them).
KIND_CLASSES: dict[str, type[Kind]] = {}
KINDS: dict[str, KindSpec] = {}


def register(cls: type[Kind]) -> None:
    """Enter a kind's class under the name its KindSpec gives."""
    spec = cls.declared
    if spec.name in KINDS:
        raise ValueError(f"anomaly kind {spec.name!r} is declared twice")
    KINDS[spec.name] = spec
    KIND_CLASSES[spec.name] = cls


def make_effects(windows: list[Window]) -> list[Kind]:
    return [KIND_CLASSES[w.kind](w) for w in windows]
