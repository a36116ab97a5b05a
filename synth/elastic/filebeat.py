"""What Filebeat 9 does with a run's files before it reads a line: file identity by fingerprint.

Filebeat 9's filestream input knows a file by the SHA-256 of its bytes
``[offset, offset + length)`` (``prospector.scanner.fingerprint``): two files whose hashed bytes
are the same are one file to it, and the second is skipped with "points to an already known
ingest target ... Skipping"; a file smaller than ``offset + length`` gets no identity and is not
read until it grows (a closed, rotated file never does). Both rules are in elastic/beats
``filebeat/input/filestream/fscanner.go`` (``toFileDescriptor``, ``checkFingerprintSize``,
``errFileTooSmall``; the length may not be below ``sha256.BlockSize``, 64).

    >>> fingerprint_range()
    (0, 256)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from synth.resources import resource_dir

CONFIG_FILE = "filebeat.yml"
NDJSON_CONFIG_FILE = "filebeat-ndjson.yml"
MIN_FINGERPRINT = 64  # sha256.BlockSize, MinFingerprintSize in fscanner.go
DEFAULT_FINGERPRINT = 1024  # DefaultFingerprintSize in fscanner.go


def read_config(name: str = CONFIG_FILE) -> dict:
    """A bundled Filebeat configuration (filebeat/NAME) as YAML."""
    return yaml.safe_load((resource_dir("filebeat") / name).read_text(encoding="utf-8"))


@functools.cache
def fingerprint_range(name: str = CONFIG_FILE) -> tuple[int, int]:
    """(offset, length) of the fingerprint the bundled config's input sets (Filebeat's defaults
    where it sets none)."""
    (inp,) = read_config(name)["filebeat.inputs"]
    offset = int(inp.get("prospector.scanner.fingerprint.offset", 0))
    length = int(inp.get("prospector.scanner.fingerprint.length", DEFAULT_FINGERPRINT))
    return offset, length


@dataclass(frozen=True)
class Identity:
    """What Filebeat 9 makes of one file: the bytes it hashes, or None when it holds it back."""

    path: Path
    size: int
    hashed: bytes | None

    @property
    def held_back(self) -> bool:
        return self.hashed is None


def identities(paths: Iterable[str | Path], offset: int | None = None, length: int | None = None) -> list[Identity]:
    """Each file's fingerprint bytes under the bundled config (or the ``offset``/``length`` given)."""
    if offset is None or length is None:
        offset, length = fingerprint_range()
    out = []
    for given in paths:
        path = Path(given)
        size = path.stat().st_size
        if size < offset + length:
            out.append(Identity(path, size, None))
            continue
        with open(path, "rb") as fh:
            fh.seek(offset)
            out.append(Identity(path, size, fh.read(length)))
    return out


def shared_fingerprints(found: list[Identity]) -> list[list[Path]]:
    """Groups of files Filebeat 9 would take for one file (all but the first are never read)."""
    groups: dict[bytes, list[Path]] = {}
    for identity in found:
        if identity.hashed is not None:
            groups.setdefault(identity.hashed, []).append(identity.path)
    return [paths for paths in groups.values() if len(paths) > 1]


def held_back_note(names_and_sizes: Iterable[tuple[str, int]]) -> str | None:
    """One line naming the files shorter than the fingerprint, or None when there are none."""
    offset, length = fingerprint_range()
    need = offset + length
    small = [name for name, size in names_and_sizes if size < need]
    if not small:
        return None
    shown = ", ".join(small[:5]) + (f" and {len(small) - 5} more" if len(small) > 5 else "")
    return (f"Filebeat 9 holds back {len(small)} file{'s' if len(small) != 1 else ''} shorter than its {need}-byte "
            f"fingerprint (prospector.scanner.fingerprint in filebeat/{CONFIG_FILE}) until they grow, which a "
            f"closed file never does: {shown}")
