"""What was written to one log file (FileRecord) and the two ways a run's output fails:
a file that cannot be written (WriteError) and a folder that cannot be used (OutputError)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from synth.generate.scenario import ScenarioError


@dataclass
class FileRecord:
    name: str
    lines: int = 0
    bytes: int = 0
    sha256: str = ""
    first: str | None = None  # UTC time of the first line
    last: str | None = None

    def count(self, size: int, lines: int, first_s: int, last_s: int) -> None:
        """Add a batch of whole lines that reached the file."""
        self.lines += lines
        self.bytes += size
        if self.first is None:
            self.first = utc(first_s)
        self.last = utc(last_s)


class WriteError(Exception):
    """A file of the run could not be written (a full disk, a quota, a file-size limit).

    ``records`` describe the run's log files as they are on disk, each holding whole lines.
    """

    def __init__(self, path: str | Path, reason: str, records: Iterable[FileRecord] = ()):
        self.path, self.reason, self.records = str(path), reason, list(records)
        super().__init__(f"cannot write {path}: {reason}")

    @classmethod
    def of(cls, path: str | Path, error: OSError, records: Iterable[FileRecord] = ()) -> WriteError:
        return cls(path, error.strerror or str(error), records)


class OutputError(ScenarioError):
    """The output folder cannot be used; names the ``out`` option."""

    def __init__(self, message: str):
        super().__init__([("out", message)])


def utc(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
