"""The manifest: what made a run (seed, scenario, options, versions) and its files in time
order, which readers of a run folder follow (``run_files``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from synth.output.names import ACTIVE, MANIFEST, file_order
from synth.output.records import FileRecord
from synth.output.writers import write_json


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_files(folder: Path, pattern: str = f"{ACTIVE}*") -> list[Path]:
    """A run folder's access files in time order: as its manifest lists them, else by name."""
    found = sorted((p for p in folder.glob(pattern) if p.is_file()), key=lambda p: file_order(p.name))
    manifest = folder / MANIFEST
    if manifest.is_file():
        try:
            names = [f["name"] for f in json.loads(manifest.read_text())["files"]]
            rank = {name: k for k, name in enumerate(names)}
            found.sort(key=lambda p: (rank.get(p.name, len(rank)), file_order(p.name)))
        except (ValueError, KeyError, TypeError):
            pass
    return found


def versions_used() -> dict[str, str]:
    """The versions of what reaches the bytes: synth, Python, numpy and Faker."""
    import platform

    import faker
    import numpy

    from synth.version import __version__
    return {"synth": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "faker": faker.VERSION}


@dataclass
class Manifest:
    version: str
    seed: int
    scenario: dict[str, Any]
    options: dict[str, Any]
    start: str
    end: str
    start_ms: int
    end_ms: int
    complete: bool = False
    lines: int = 0
    bytes: int = 0
    files: list[FileRecord] = field(default_factory=list)
    generator: str = "synth"
    # What made the bytes: the same seed gives the same bytes only with the same versions.
    made_with: dict[str, str] = field(default_factory=lambda: versions_used())

    def save(self, out_dir: Path) -> None:
        data = asdict(self)
        write_json(out_dir / MANIFEST, data)
