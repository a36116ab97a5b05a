"""The base of every anomaly kind: what it may do to the traffic (by default nothing), the
model it reads, the label it writes in the ground truth, and the helpers kinds share.

Both ``extra`` and ``transform`` run per generation block with the block's own generator, so
a window's requests do not depend on how the run is split between files or workers. Whatever
a kind needs beyond the normal traffic (a scanner's address, its word list, the export URLs of
an exfiltration) is made once in ``setup``. Every kind's extra requests start at or after the
block they are drawn for; the event merger relies on it.
"""

from __future__ import annotations

import abc
import ipaddress
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from synth.generate import catalog
from synth.generate.addresses import network_in
from synth.generate.anomalies.jobs import ALL_CARRIED, choose_job
from synth.generate.anomalies.registry import KindSpec, register
from synth.generate.anomalies.windows import Window, iso
from synth.generate.pools import Pools
from synth.generate.traffic import Events

if TYPE_CHECKING:
    from faker import Faker  # annotations only: the caller passes its Faker (importing it is costly)


class Model(Protocol):
    """What a kind needs from the traffic model (events.TrafficModel)."""

    pools: Pools

    def draw_human(self, rng: np.random.Generator, t0: int, t1: int, scale: np.ndarray) -> Events: ...
    def expected_total(self, t0: int, t1: int) -> np.ndarray: ...
    def expected_human(self, t0: int, t1: int) -> np.ndarray: ...
    def expected_visits(self, t0: int, t1: int) -> float: ...
    def client_rate(self, client: int) -> float: ...
    def status_share(self, status: int) -> float: ...
    def median_size(self) -> float: ...
    def busiest_visitor(self) -> int: ...
    def visit_size(self) -> float: ...
    def mean_response_us(self, t0: int | None = None, t1: int | None = None) -> float: ...
    def crawl_rate(self) -> float: ...
    # What the run's lines tell (CARRIED's words): a job is named only if they tell what it reads.
    carries: frozenset[str]



# A window is measurable when what it changes stands out of the counting noise: at least
# MEASURABLE_EVENTS of difference, and three standard deviations of a Poisson count.
MEASURABLE_EVENTS = 10


def unmeasurable(expected: dict[str, Any]) -> str | None:
    """Why a window's expected effect is too small to be told from chance, or None."""
    baseline, during = expected.get("baseline"), expected.get("during")
    if not isinstance(baseline, (int, float)) or not isinstance(during, (int, float)):
        return None
    if abs(during - baseline) >= max(MEASURABLE_EVENTS, 3 * np.sqrt(max(baseline, 1))):
        return None
    return (f"{expected.get('metric', 'events')}: about {during:,.0f} against {baseline:,.0f} usual, "
            f"too few to tell from chance (a higher rate or a longer window)")


def in_window(events: Events, window: Window) -> np.ndarray:
    return (events.t_ms >= window.start * 1000) & (events.t_ms < window.end * 1000)


def schedule(rng: np.random.Generator, window: Window, per_second: float, b0: int, b1: int) -> tuple[np.ndarray, np.ndarray]:
    """A steady program's requests that fall in block [b0, b1): their numbers k (0, 1, ... from
    the window's start) and times; request k is due at start + k/rate, a little late at random."""
    lo, hi = max(b0, window.start), min(b1, window.end)
    if lo >= hi:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first = int(np.ceil((lo - window.start) * per_second))
    last = int(np.ceil((hi - window.start) * per_second))  # exclusive
    k = np.arange(first, last, dtype=np.int64)
    due = window.start * 1000 + np.ceil(k * 1000 / per_second).astype(np.int64)
    late = (rng.random(len(k)) * 800 / per_second).astype(np.int64)
    return k, np.minimum(due + late, window.end * 1000 - 1)


def new_addresses(fake: Faker, n: int, given: str | None) -> list[str]:
    if given:
        return [given] + [str(ipaddress.ip_address(given) + i) for i in range(1, n)]
    return [network_in(catalog.CLOUD_NETWORKS, fake) for _ in range(n)]


class Kind(abc.ABC):
    """A kind of anomaly: by default, nothing added and nothing changed. A subclass that sets
    ``declared`` (its KindSpec) is a kind: defining it registers it."""

    declared: ClassVar[KindSpec]  # the kind's declaration, in the registry under its name
    jobs: ClassVar[tuple[str, ...]] = ()  # both from ``declared``
    field: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "declared" in cls.__dict__:
            cls.jobs, cls.field = cls.declared.jobs, cls.declared.field
            register(cls)

    def __init__(self, window: Window):
        self.window = window
        self.values: list[Any] = []
        self.used: dict[str, Any] = {}  # the parameters as setup resolved them, defaults included

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        """Make what the window needs beyond normal traffic (clients, agents, URLs); most
        kinds need nothing."""
        return None

    def param(self, name: str) -> Any:
        """A parameter of the window as the scenario gave it, else the kind's default."""
        return self.window.spec.param(name, self.declared.params[name])

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        return None

    def transform(self, model: Model, events: Events, rng: np.random.Generator) -> Events:
        return events

    def extra_rate(self, model: Model, t0: int, t1: int) -> float:
        """Requests this window adds per second, on average over [t0, t1) within it."""
        return 0.0

    def extra_in(self, model: Model, window: Window) -> float:
        """Requests this window adds inside another window (where they overlap)."""
        lo, hi = max(self.window.start, window.start), min(self.window.end, window.end)
        return self.extra_rate(model, lo, hi) * (hi - lo) if hi > lo else 0.0

    def kept_in(self, window: Window) -> float:
        """The share of requests this window lets through in another window (dips lose some)."""
        return 1.0

    @abc.abstractmethod
    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        """The watched metric in the window: its normal expected value and the anomalous one.

        ``others`` is what overlapping windows add to the traffic here; ``kept`` the share of
        requests that overlapping dips let through.
        """

    def job_note(self, job: str | None, carries: frozenset[str]) -> str | None:
        """Anything the user should know about how the chosen job sees this window."""
        return None

    def truth(self, model: Model, neighbours: list[Kind]) -> dict[str, Any]:
        w = self.window
        carries = getattr(model, "carries", ALL_CARRIED)
        jobs, why = choose_job(self.jobs, carries)
        label: dict[str, Any] = {
            "id": f"{w.kind}-{w.index + 1}",
            "kind": w.kind,
            "start": iso(w.start),
            "end": iso(w.end),
            "start_ms": w.start * 1000,
            "end_ms": w.end * 1000,
            "minutes": w.minutes,
            "magnitude": w.magnitude,
            "magnitude_means": self.declared.magnitude_means,
            "params": {**dict(w.spec.params), **self.used},
            "affected": {"field": self.field, "values": self.values},
            "expected": self.expected(model, sum(n.extra_in(model, w) for n in neighbours),
                                      float(np.prod([n.kept_in(w) for n in neighbours]))),
            "jobs": jobs,
            "jobs_note": why or self.job_note(jobs[0] if jobs else None, carries),
        }
        too_few = unmeasurable(label["expected"])
        if too_few:
            label["measurable"] = False
            label["too_few"] = too_few
        return label


def ground_truth(effects: list[Kind], model: Model) -> dict[str, Any]:
    """The content of anomalies.json: every window with kind, times, magnitude, targets, effect, jobs."""
    return {"anomalies": [effect.truth(model, [e for e in effects if e is not effect]) for effect in effects]}
