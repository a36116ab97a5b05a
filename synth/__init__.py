"""synth: realistic web-server access logs with anomalies whose time and kind are known.

    >>> import synth
    >>> run = synth.generate("classic", seed=7, days=1, out_dir="output", force=True)
    >>> run.truth["anomalies"][0]["start"]      # ground truth, also in output/anomalies.json
    >>> live = synth.stream("classic", duration="10m", speed=60, anomaly_every="5m", spike_minutes=2)
"""

__version__ = "0.1.0"

from .control import Interrupted  # noqa: E402
from .files import WriteError  # noqa: E402
from .profile import Profile, ProfileError, profile_log  # noqa: E402
from .run import Run, generate, resolve_scenario  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from .stream import StreamRun, stream  # noqa: E402  (the function; the module is synth.stream in sys.modules)

__all__ = ["generate", "stream", "resolve_scenario", "load_scenario", "Scenario", "ScenarioError", "Run",
           "StreamRun", "WriteError", "Interrupted", "profile_log", "Profile", "ProfileError", "__version__"]
