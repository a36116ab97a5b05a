"""synth: realistic web-server access logs with anomalies whose time and kind are known.

    >>> import synth
    >>> run = synth.generate("classic", seed=7, days=1, out_dir="output", force=True)
    >>> run.truth["anomalies"][0]["start"]      # ground truth, also in output/anomalies.json
"""

__version__ = "0.1.0"

from .profile import Profile, ProfileError, profile_log  # noqa: E402
from .run import Run, generate, resolve_scenario  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["generate", "resolve_scenario", "load_scenario", "Scenario", "ScenarioError", "Run",
           "profile_log", "Profile", "ProfileError", "__version__"]
