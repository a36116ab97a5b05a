"""The manifest: what made a run (seed, scenario, options, versions) and its files in time
order, which readers of a run folder follow (``run_files``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from synth.output.names import ACTIVE, MANIFEST, file_order
from synth.output.records import FileRecord
from synth.output.writers import write_whole_text


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
        write_whole_text(out_dir / MANIFEST, self.json_pieces())

    def json_pieces(self) -> Iterator[str]:
        """The text ``json.dumps(asdict(self), indent=2)`` and a newline, a file record at a time:
        ten years of hourly files are 87,600 records, whose dicts and tokens made at once would
        take hundreds of megabytes."""
        data = asdict(replace(self, files=[]))
        data["files"] = _FILES
        head, _, tail = json.dumps(data, indent=2).rpartition(json.dumps(_FILES))  # after any scenario text
        yield head
        if not self.files:
            yield "[]"
        else:
            yield "[\n"
            for k, record in enumerate(self.files):
                yield (",\n" if k else "") + _record_json(record)
            yield "\n  ]"
        yield tail
        yield "\n"


_FILES = "\x00files\x00"  # stands for the records in the rest of the manifest's text


def _record_json(record: FileRecord) -> str:
    """A file record as json.dumps(indent=2) writes it inside the manifest's list (its values are
    strings, numbers and null, each encoded by json)."""
    items = ",\n".join(f"      {json.dumps(f.name)}: {json.dumps(getattr(record, f.name))}" for f in fields(record))
    return f"    {{\n{items}\n    }}"
