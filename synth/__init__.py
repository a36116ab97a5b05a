"""synth: realistic web-server access logs with anomalies whose time and kind are known.

    >>> import synth
    >>> run = synth.generate("classic", seed=7, days=1, out_dir="output", force=True)
    >>> run.truth["anomalies"][0]["start"]      # ground truth, also in output/anomalies.json
    >>> live = synth.stream("classic", duration="10m", speed=60, anomaly_every="5m", spike_minutes=2)

The package is a subpackage per part of the data flow; imports run one way:

    cli -> run -> generate, render, output        elastic and analysis read files and formats,
                                                  never the generator's internals

The public names below are imported when first used, so that ``synth --help`` and a command
that needs only part of the package do not pay for all of it (numpy, Faker and the ingest
engine take most of a second to import). ``synth.generate`` the function shadows the
subpackage of that name as an attribute of ``synth``; import its modules by their full names
(``from synth.generate.scenario import ...``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from synth.version import __version__

if TYPE_CHECKING:
    from synth.analysis.fit import Fit, FitError
    from synth.analysis.fit import fit_log as fit
    from synth.analysis.profile import Profile, ProfileError, profile_log
    from synth.generate.scenario import Scenario, ScenarioError, load_scenario
    from synth.output.records import WriteError
    from synth.run.generate import Run, generate, resolve_scenario
    from synth.run.signals import Interrupted
    from synth.run.stream import StreamRun, stream

# Each public name: the module that defines it, and its name there.
_PUBLIC = {
    "generate": ("synth.run.generate", "generate"),
    "resolve_scenario": ("synth.run.generate", "resolve_scenario"),
    "Run": ("synth.run.generate", "Run"),
    "stream": ("synth.run.stream", "stream"),
    "StreamRun": ("synth.run.stream", "StreamRun"),
    "load_scenario": ("synth.generate.scenario", "load_scenario"),
    "Scenario": ("synth.generate.scenario", "Scenario"),
    "ScenarioError": ("synth.generate.scenario", "ScenarioError"),
    "WriteError": ("synth.output.records", "WriteError"),
    "Interrupted": ("synth.run.signals", "Interrupted"),
    "fit": ("synth.analysis.fit", "fit_log"),
    "Fit": ("synth.analysis.fit", "Fit"),
    "FitError": ("synth.analysis.fit", "FitError"),
    "profile_log": ("synth.analysis.profile", "profile_log"),
    "Profile": ("synth.analysis.profile", "Profile"),
    "ProfileError": ("synth.analysis.profile", "ProfileError"),
}

__all__ = ["generate", "stream", "resolve_scenario", "load_scenario", "Scenario", "ScenarioError", "Run",
           "StreamRun", "WriteError", "Interrupted", "fit", "Fit", "FitError", "profile_log", "Profile", "ProfileError",
           "__version__"]


def _public(name: str) -> Any:
    module, attribute = _PUBLIC[name]
    return getattr(importlib.import_module(module), attribute)


class _Package(types.ModuleType):
    """The package's module: ``generate`` is the function, whatever the import system sets.

    Importing ``synth.generate.scenario`` makes the import system set ``synth.generate`` to the
    subpackage; a property on the module's class comes before the module's own attributes, so
    the name stays the function."""

    @property
    def generate(self) -> Any:
        return _public("generate")

    @generate.setter
    def generate(self, subpackage: types.ModuleType) -> None:
        pass  # the subpackage stays reachable by its full name in sys.modules

    def __getattr__(self, name: str) -> Any:
        if name not in _PUBLIC:
            raise AttributeError(f"module 'synth' has no attribute {name!r}")
        value = _public(name)
        setattr(self, name, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *__all__})


sys.modules[__name__].__class__ = _Package
