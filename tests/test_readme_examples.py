"""Every example output in the README is what the command prints today.

An example is an indented block whose first line is a command after ``$ ``; the lines after it,
up to the block's end, are what the command prints (stdout, then stderr). The commands run in
README order in one scratch folder, so a later example can read what an earlier one wrote. In the
expected text, a line ``...`` stands for any number of lines, and the figures that move from run
to run on a shared machine (seconds, lines/s, MB/s) are compared as shapes, not values.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

# Figures that depend on the machine and the moment, not on the seed.
MOVING = [
    (re.compile(r"\b\d[\d,]*(\.\d+)? s\b"), "<seconds> s"),
    (re.compile(r"\b\d[\d,]*(\.\d+)? (lines/s|MB/s)"), r"<rate> \2"),
]


def examples(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected lines) for every ``$ `` block of the text, in order."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("    $ "):
            command, expected = line[6:], []
            i += 1
            while i < len(lines) and lines[i].startswith("    ") and not lines[i].startswith("    $ "):
                expected.append(lines[i][4:])
                i += 1
            found.append((command, expected))
            continue
        i += 1
    return found


def normal(line: str) -> str:
    for pattern, shape in MOVING:
        line = pattern.sub(shape, line)
    return line.rstrip()


def matches(expected: list[str], printed: list[str]) -> bool:
    """Line for line after normalising, ``...`` matching any run of lines (none included)."""
    want = [normal(x) for x in expected]
    got = [normal(x) for x in printed]

    def walk(w: int, g: int) -> bool:
        if w == len(want):
            return g == len(got)
        if want[w] == "...":
            return any(walk(w + 1, k) for k in range(g, len(got) + 1))
        return g < len(got) and want[w] == got[g] and walk(w + 1, g + 1)

    return walk(0, 0)


def test_examples_are_found():
    assert examples(README)
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"]) and not matches(["a", "d"], ["a", "b", "d"])
    assert normal("wrote 10 lines in 1 file (0.0 MB) in 2.7 s") == normal("wrote 10 lines in 1 file (0.0 MB) in 12.0 s")


@pytest.mark.slow
def test_readme_examples_print_what_the_readme_says(tmp_path):
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    for command, expected in examples(README):
        argv = shlex.split(command)
        assert argv[0] == "synth", command
        result = subprocess.run([sys.executable, "-m", "synth", *argv[1:]], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=600)
        printed = (result.stdout + result.stderr).splitlines()
        assert matches(expected, printed), f"$ {command}\n--- README\n" + "\n".join(expected) + \
            "\n--- printed\n" + "\n".join(printed)
