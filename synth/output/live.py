"""The live log of a stream: the growing ``access.log``, rotated as logrotate rotates it
(renamed, then created anew, never copied or truncated)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.generate.scenario import Rotation
from synth.generate.zone import Zone, as_zone
from synth.output.names import ACTIVE, size_names
from synth.output.records import FileRecord, WriteError
from synth.output.rotation import dated_name, next_boundary, unique_name
from synth.output.writers import line_ends, lines_that_fit, write_whole

LIVE_WRITE_BYTES = 256 << 10  # the most one write of a stream holds: a tenth of a second at 10,000 lines/s


@dataclass(frozen=True)
class Placed:
    """Lines ``done`` to ``stop`` of a batch, written to ``record``'s file from line ``first``
    (1-based) at byte ``offset``."""

    record: FileRecord
    first: int
    offset: int
    done: int
    stop: int


class LiveLog:
    """The growing ``access.log`` of a live stream, rotated under its readers' feet.

    Each batch of whole lines is one ``os.write`` per file it reaches, so a reader never finds
    part of a line at the end of the file (Filebeat waits for the newline anyway). Rotation is
    logrotate's, never copytruncate: ``access.log`` is renamed (``access.log-YYYYMMDD`` or
    ``-YYYYMMDDHH`` at local day or hour boundaries; by size the older files move up a number
    and it becomes ``access.log.1``), then a new ``access.log`` is created. A reader that follows
    the file it has open, by inode as Filebeat's filestream does, reads it to its end and finds
    the new one by its name: no line is lost or read twice. The names are those ``generate``
    gives, so a stream's files and a generated run's look alike.
    """

    def __init__(self, out_dir: Path, rotation: Rotation, tz: int | str | Zone, t0: int,
                 closed: Iterable[FileRecord] = (), adopt: FileRecord | None = None):
        self.out_dir, self.rotation, self.zone = out_dir, rotation, as_zone(tz)
        self.path = out_dir / ACTIVE
        self.closed = list(closed)  # oldest first
        self.timed = rotation.kind in ("day", "hour")
        self.period_start = t0
        self.period_end = next_boundary(t0, rotation, self.zone) if self.timed else None
        self.writing = False
        # Told each rotation's renames (old name -> new), after the renames and before the new
        # access.log has a line.
        self.on_rename: Callable[[dict[str, str]], None] | None = None
        if adopt is None:
            self._open(os.O_TRUNC)
        else:
            self._adopt(adopt)

    def _open(self, mode: int) -> None:
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | mode, 0o644)
        except OSError as e:
            raise WriteError.of(self.path, e, self.records()) from None
        self.record, self.size, self._hash = FileRecord(ACTIVE), 0, hashlib.sha256()

    def _adopt(self, record: FileRecord) -> None:
        """Go on writing an ``access.log`` that a backfill wrote (re-read once for its sha256)."""
        self.record, self._hash = record, hashlib.sha256()
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            with open(self.path, "rb") as fh:
                while block := fh.read(1 << 20):
                    self._hash.update(block)
        except OSError as e:
            raise WriteError.of(self.path, e, self.records()) from None
        self.size = record.bytes

    def records(self) -> list[FileRecord]:
        """Every file of the stream as it is on disk now, oldest first (the active one last)."""
        active = getattr(self, "record", None)
        if active is None:
            return list(self.closed)
        active.sha256 = self._hash.hexdigest()
        return self.closed + [active]

    def append(self, data: bytes, seconds: np.ndarray) -> list[Placed]:
        """Write a batch of whole lines (in time order, their UTC ``seconds``), rotating on the way;
        where each part of the batch went, in order."""
        ends = line_ends(data)
        done, n = 0, len(seconds)
        placed: list[Placed] = []
        while done < n:
            if self.timed:
                stop = int(np.searchsorted(seconds, self.period_end or 0, side="left"))
                if stop <= done:
                    self._rotate()
                    continue
            elif self.rotation.kind == "size":
                fit = lines_that_fit(ends, done, self.rotation.max_bytes - self.size)
                if fit <= 0 and self.size > 0:
                    self._rotate()
                    continue
                stop = done + max(fit, 1)  # a line longer than the limit still gets a file
            else:
                stop = n
            # A stream that fell behind catches up in one batch: written in pieces of whole
            # lines, so that a disk that fills up keeps the lines before the one that failed.
            stop = min(stop, done + max(1, lines_that_fit(ends, done, LIVE_WRITE_BYTES)))
            base = int(ends[done - 1]) if done else 0
            placed.append(Placed(self.record, self.record.lines + 1, self.size, done, stop))
            self._write(data[base:int(ends[stop - 1])], stop - done, int(seconds[done]), int(seconds[stop - 1]))
            done = stop
        return placed


    def advance(self, t: int) -> None:
        """Every line before second ``t`` is written: rotate at the day or hour boundaries passed."""
        while self.timed and t >= self.period_end:  # type: ignore[operator]
            self._rotate()

    def _write(self, data: bytes, lines: int, first_s: int, last_s: int) -> None:
        self.writing = True
        try:
            write_whole(self.fd, data, self.size)
        except OSError as e:
            raise WriteError.of(self.path, e, self.records()) from None
        finally:
            self.writing = False
        self.size += len(data)
        self._hash.update(data)
        self.record.count(len(data), lines, first_s, last_s)

    def _rotate(self) -> None:
        self._close_active()
        closed = self.record
        before = [(r, r.name) for r in self.closed + [closed]]
        try:
            if self.timed:
                closed.name = unique_name(dated_name(self.period_start, self.rotation, self.zone),
                                          {c.name for c in self.closed})
                self.period_start = self.period_end  # type: ignore[assignment]
                self.period_end = next_boundary(self.period_start, self.rotation, self.zone)
            else:
                # Oldest first, so that no name is taken when its file moves up.
                for older, name in zip(self.closed, size_names(len(self.closed) + 2)):
                    os.rename(self.out_dir / older.name, self.out_dir / name)
                    older.name = name
                closed.name = f"{ACTIVE}.1"
            os.rename(self.path, self.out_dir / closed.name)
        except OSError as e:
            raise WriteError.of(self.path, e, self.closed + [closed]) from None
        self.closed.append(closed)
        del self.record
        self._open(os.O_EXCL)
        if self.on_rename:
            self.on_rename({old: r.name for r, old in before if r.name != old})

    def _close_active(self) -> None:
        self.record.sha256 = self._hash.hexdigest()
        os.close(self.fd)

    def cut_to_whole(self) -> None:
        """Cut a write interrupted part-way back to its last whole batch (a forced exit)."""
        if self.writing:
            os.ftruncate(self.fd, self.size)

    def close(self) -> list[FileRecord]:
        self._close_active()
        return self.records()
