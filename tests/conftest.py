import datetime as dt
import fcntl
import os
import sys
from pathlib import Path

import numpy as np
import pytest

END = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)

# The reference material the project is held against (Elasticsearch's grok pattern files and
# ingest test vectors, Filebeat's reference configuration): ../shared/reference beside the
# checkout. A plain clone has none; tests marked `reference` then skip, except where
# SYNTH_REQUIRE_REFERENCE is set (.ci/run sets it), where its absence is an error.
# SYNTH_REFERENCE names the folder where the checkout is not beside it (a git worktree).
REFERENCE = Path(os.environ.get("SYNTH_REFERENCE")
                 or Path(__file__).resolve().parent.parent.parent / "shared" / "reference")


def pytest_configure(config):
    # The suite starts hundreds of Python processes (synth commands, workers, tools). Where the
    # machine turns bytecode caching off (PYTHONDONTWRITEBYTECODE), each would compile the whole
    # package from source again: cache it, as Python does by default.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    config.addinivalue_line("markers", "reference: compares against ../shared/reference; skipped where it is absent")
    config.addinivalue_line("markers", "slow: takes more than a few seconds; run by .ci/run, left out by -m 'not slow'")


def pytest_collection_modifyitems(config, items):
    if REFERENCE.is_dir():
        return
    if os.environ.get("SYNTH_REQUIRE_REFERENCE"):
        raise pytest.UsageError(f"SYNTH_REQUIRE_REFERENCE is set but {REFERENCE} is missing")
    skip = pytest.mark.skip(reason=f"needs the reference material at {REFERENCE}, absent beside this checkout")
    for item in items:
        if "reference" in item.keywords:
            item.add_marker(skip)


def pytest_xdist_auto_num_workers(config):
    """One worker more than the cores: a third of the suite waits (real-time streams, signals,
    subprocesses), and a spare worker computes meanwhile."""
    return (os.cpu_count() or 1) + 1


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite the golden files under tests/golden from the current code.")


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def tiny_scenario():
    """A few hundred lines: 2.4 hours at 0.05 requests/s with a 10-minute spike."""
    return dict(days=0.1, rate=0.05, spike_minutes=10, end=END)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """The folder of the default run (classic scenario, default options) with a fixed seed and
    end: shared by the tests that hold it to real tools and real sites. Made once per test
    session, whatever the number of xdist workers: the first to need it writes it under a lock
    in the folder all workers share, the others read the finished folder."""
    import synth
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # pytest-of-user/pytest-N: the session's folder, above each worker's
    out = shared / "default-run" / "output"
    out.parent.mkdir(exist_ok=True)
    with open(out.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out.parent / ".done").exists():
            synth.generate(seed=2017, out_dir=out, end=END, force=True)
            (out.parent / ".done").touch()
    return out
