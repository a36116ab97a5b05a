"""The README's test command works in a plain clone: no ../shared beside it, a venv of its own.

The clone is of the committed HEAD (what CI and a newcomer get), into a folder with nothing
beside it. Every test file must collect there (the reference-marked tests skip with their
reason), and a documented subset runs green with ``-m 'not slow'``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# What runs in the clone besides collecting everything: quick files that cover the CLI, the
# bytes, the packaging data and the reference skips.
SUBSET = ["tests/test_docs.py", "tests/test_golden.py", "tests/test_grok.py", "tests/test_scenarios.py"]


def readme_test_command() -> str:
    match = re.search(r"^    (python3 -m venv \.venv .*pytest.*)$", README, re.M)
    assert match, "the README gives no one-line test command that makes its venv"
    return match.group(1)


@pytest.mark.slow
def test_readme_test_command_in_a_plain_clone(tmp_path):
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout to clone")
    clone = tmp_path / "alone" / "synth"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    assert not (clone.parent.parent / "shared").exists()
    command = readme_test_command()
    # The README's command, with the subset and the marker appended to its pytest.
    command = command.replace("pytest", f"pytest -q -m 'not slow' -p no:cacheprovider {' '.join(SUBSET)}", 1)
    collect = ". .venv/bin/activate && pytest -q --collect-only -p no:cacheprovider -n 0"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "SYNTH_", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "venv" not in p)
    # pip byte-compiles every dependency it installs (a third of its CPU time here), which
    # nothing this test holds depends on: the clone's own processes compile what they import.
    env["PIP_COMPILE"] = "0"
    result = subprocess.run(["bash", "-c", f"{command} && {collect}"], cwd=clone, env=env, capture_output=True,
                            text=True, timeout=1200)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"\d+ passed", output) and " failed" not in output, output[-4000:]
    assert "skipped" in output  # the reference-marked tests of the subset skip there
