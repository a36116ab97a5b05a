"""A default run looks like a real small site's log: every figure of `synth profile` falls in the
band measured on a real public site (sampled figures on the same kind of sample, minute :05)."""

import pytest
from helpers import files_in_order

from synth.analysis.profile import profile_parsed, read_parsed

# figure: (low, high), whole run
WHOLE = {
    ("statuses", "200"): (0.85, 0.95), ("statuses", "304"): (0.02, 0.08), ("statuses", "404"): (0.01, 0.04),
    ("statuses", "301"): (0.005, 0.03), ("status_classes", "5xx"): (0.0, 0.005),
    ("request_classes", "static"): (0.40, 0.65), ("request_classes", "page"): (0.20, 0.40),
    ("request_classes", "robots"): (0.005, 0.03),
    "bytes_median": (3_000, 30_000), "bytes_p90": (30_000, 200_000), "same_size_share": (0.95, 1.0),
    "bot_share": (0.10, 0.35), "referrer_share": (0.40, 0.75),
    "busiest_quietest_hour_ratio": (1.6, 4.0), "weekday_weekend_ratio": (1.2, 1.8),
}
# figure: (low, high), on the lines of minute :05 only
SAMPLED = {
    "top1_client_share": (0.01, 0.10), "top10_client_share": (0.10, 0.35),
    "client_zipf_slope": (-1.2, -0.5), "path_zipf_slope": (-1.4, -0.8),
    "session_requests_mean": (2, 6), "session_requests_median": (1, 3), "session_requests_p90": (4, 12),
}


@pytest.fixture(scope="module")
def profiles(default_run):
    """`synth profile --json` of the whole run, and with `--minute 5`: the figures synth profile
    prints (``as_dict``), both from one read of the run's lines."""
    log = read_parsed(files_in_order(default_run))
    return profile_parsed(log).as_dict(), profile_parsed(log, minute=5).as_dict()


def _value(profile, key):
    return profile[key[0]].get(key[1], 0.0) if isinstance(key, tuple) else profile[key]


@pytest.mark.parametrize("key", list(WHOLE), ids=str)
def test_whole_run_figure_in_band(profiles, key):
    low, high = WHOLE[key]
    assert low <= _value(profiles[0], key) <= high


@pytest.mark.parametrize("key", list(SAMPLED), ids=str)
def test_sampled_figure_in_band(profiles, key):
    low, high = SAMPLED[key]
    assert low <= _value(profiles[1], key) <= high
