"""Grading a pipeline against a run's messy lines: per kind, how many lines it parses, beside
what the bundled pipeline does (``messy.jsonl``, written by ``synth generate --messy`` or ``synth stream --messy``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from synth.elastic.verify import LineResult


class GradeError(ValueError):
    """A truth file that cannot be read."""


def read_truth(path: str | Path) -> list[dict]:
    """The records of a messy.jsonl (a folder means its messy.jsonl)."""
    path = Path(path)
    if path.is_dir():
        path = path / "messy.jsonl"
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as e:
        raise GradeError(f"{path}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise GradeError(f"{path}: not JSON lines ({e.msg} at line {e.lineno})") from None


@dataclass
class KindGrade:
    lines: int = 0
    parsed: int = 0  # by the pipeline under test
    bundled: int = 0  # by the bundled pipeline, as messy.jsonl says
    first_failed: tuple[str, int] | None = field(default=None)


def grade(results: Iterable[LineResult], truth: list[dict]) -> dict[str, KindGrade]:
    """Per kind: lines, parsed by the pipeline that made ``results``, and by the bundled one."""
    wanted = {(r["file"], r["line"]): r for r in truth}
    grades: dict[str, KindGrade] = {}
    for result in results:
        record = wanted.get((result.path.name, result.number))
        if record is None:
            continue
        g = grades.setdefault(record["kind"], KindGrade())
        g.lines += 1
        g.bundled += bool(record["parsed"])
        if result.failure is None:
            g.parsed += 1
        elif g.first_failed is None:
            g.first_failed = (result.path.name, result.number)
    return grades


def grade_lines(grades: dict[str, KindGrade]) -> list[str]:
    rows = [("kind", "lines", "parsed", "bundled parses", "first failed")]
    for kind, g in sorted(grades.items(), key=lambda kv: -kv[1].lines):
        first = f"{g.first_failed[0]} line {g.first_failed[1]}" if g.first_failed else "-"
        rows.append((kind, f"{g.lines:,}", f"{g.parsed:,}", f"{g.bundled:,}", first))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return ["  " + "  ".join(c.ljust(w) if i in (0, 4) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
            .rstrip() for r in rows]
