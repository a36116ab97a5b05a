"""synth: realistic web-server access logs with anomalies whose time and kind are known.

    >>> import synth
    >>> run = synth.generate("classic", seed=7, days=1, out_dir="output", force=True)
    >>> run.truth["anomalies"][0]["start"]      # ground truth, also in output/anomalies.json
    >>> live = synth.stream("classic", duration="10m", speed=60, anomaly_every="5m", spike_minutes=2)

The package is a subpackage per part of the data flow; imports run one way:

    cli -> run -> generate, render, output        elastic and analysis read files and formats,
                                                  never the generator's internals

``synth.generate`` the function shadows the subpackage of that name as an attribute of
``synth``; import its modules by their full names (``from synth.generate.scenario import ...``).
"""

from synth.analysis.fit import Fit, FitError
from synth.analysis.fit import fit_log as fit
from synth.analysis.profile import Profile, ProfileError, profile_log
from synth.generate.scenario import Scenario, ScenarioError, load_scenario
from synth.output.records import WriteError
from synth.run.generate import Run, generate, resolve_scenario
from synth.run.signals import Interrupted
from synth.run.stream import StreamRun, stream
from synth.version import __version__

__all__ = ["generate", "stream", "resolve_scenario", "load_scenario", "Scenario", "ScenarioError", "Run",
           "StreamRun", "WriteError", "Interrupted", "fit", "Fit", "FitError", "profile_log", "Profile", "ProfileError", "__version__"]
