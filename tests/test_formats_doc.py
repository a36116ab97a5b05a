"""docs/formats.md's examples print what the page says, and its pipeline is the one it shows."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_readme_examples import examples, matches

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "formats.md").read_text()


def _mine() -> str:
    """The pipeline the exercise writes into mine.json: the indented block after its mention."""
    block = PAGE.split("into `mine.json`:\n\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(line[4:] for line in block.splitlines())


@pytest.mark.slow
def test_formats_page_examples_print_what_it_says(tmp_path):
    (tmp_path / "mine.json").write_text(_mine())
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    found = examples(PAGE)
    assert len(found) >= 4
    for command, expected in found:
        argv = shlex.split(command)
        assert argv[0] == "synth", command
        result = subprocess.run([sys.executable, "-m", "synth", *argv[1:]], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=600)
        printed = (result.stdout + result.stderr).splitlines()
        assert matches(expected, printed), f"$ {command}\n--- page\n" + "\n".join(expected) + \
            "\n--- printed\n" + "\n".join(printed)
    record = PAGE.split("holds a record per messy line, for instance\n\n", 1)[1].split("\n", 1)[0].strip()
    assert record in (tmp_path / "output" / "messy.jsonl").read_text().splitlines()
