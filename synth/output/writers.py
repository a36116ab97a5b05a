"""Writers of whole lines: every write is of whole lines, and a write that fails part-way (a
full disk, a file-size limit) is cut back, so a file only ever holds whole lines.

A generated run's files are written one time stretch each (``write_stretch``) or cut by size
(``write_by_size``); JSON (the manifest, the ground truth) is written by a rename, whole.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import queue
import resource
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from synth.output.names import ACTIVE, size_names
from synth.output.records import FileRecord, WriteError

NEWLINE = 10

# Held around every write of log lines in this process, so that an exit forced by a second
# signal waits for the write in progress and never leaves half a line (see synth.run.signals).
WRITE_GUARD = threading.Lock()


def write_json(path: Path, data: Any) -> None:
    """Write JSON so that a reader never sees half a file: a temporary file, then a rename."""
    write_whole_text(path, [json.dumps(data, indent=2), "\n"])


def write_whole_text(path: Path, pieces: Iterable[str]) -> None:
    """Write text made in pieces so that a reader never sees half a file: a temporary file,
    then a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.writelines(pieces)
        os.replace(tmp, path)
    except OSError as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise WriteError.of(path, e) from None


def _file_size_limit() -> int | None:
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def write_whole(fd: int, data: bytes, size: int) -> None:
    """Add ``data`` (whole lines) to the file of ``fd``, now ``size`` bytes long, or leave it as it was.

    A write that would cross this process's file-size limit is refused before any of it reaches
    the file; one that fails part-way (the disk fills up) is cut back to ``size`` before the
    error is raised. Either way the file keeps whole lines only.
    """
    limit = _file_size_limit()
    if limit is not None and size + len(data) > limit:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
    view = memoryview(data)
    try:
        while view:
            written = os.write(fd, view)
            if written == 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = view[written:]
    except BaseException:
        try:
            os.ftruncate(fd, size)
            os.lseek(fd, size, os.SEEK_SET)
        except OSError:
            pass
        raise


class LogFile:
    """One log file being written, by a thread of its own once it is big enough to matter, so
    that writing and hashing overlap the rendering of the next chunk (both release the GIL).
    A small file (a quiet site's day) is written in the caller's thread: a thread started and
    joined per file would cost more than its writes.

    The record counts only what has reached the file whole: once a write fails (a full disk),
    the file keeps its whole chunks, ``write`` returns False and ``close`` raises WriteError.
    """

    INLINE_BYTES = 1 << 20  # written in the caller's thread until this much was handed

    def __init__(self, path: Path, depth: int = 3):
        self.path = path
        self.record = FileRecord(path.name)
        self.error: BaseException | None = None
        self._hash = hashlib.sha256()
        try:
            self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as e:
            raise WriteError.of(path, e) from None
        self._depth = depth
        self._queue: queue.Queue | None = None
        self.handed = 0  # bytes handed to the thread, written or about to be
        self._thread: threading.Thread | None = None

    def _put(self, item: tuple[bytes, int, int, int]) -> None:
        if self.error is not None:
            return
        data, lines, first_s, last_s = item
        try:
            with WRITE_GUARD:
                write_whole(self._fd, data, self.record.bytes)  # type: ignore[arg-type]
        except Exception as e:
            self.error = e
            return
        self._hash.update(data)
        self.record.count(len(data), lines, first_s, last_s)

    def _drain(self) -> None:
        assert self._queue is not None
        while (item := self._queue.get()) is not None:
            self._put(item)

    def write(self, data: bytes, lines: int, first_s: int, last_s: int) -> bool:
        """Queue whole lines; False once a write has failed (stop feeding, then ``close``)."""
        if self.error is not None:
            return False
        if data:
            self.handed += len(data)
            if self._thread is None and self.handed <= self.INLINE_BYTES:
                self._put((data, lines, first_s, last_s))
                return self.error is None
            if self._thread is None:
                self._queue = queue.Queue(maxsize=self._depth)
                self._thread = threading.Thread(target=self._drain, name=f"write {self.path.name}", daemon=True)
                self._thread.start()
            assert self._queue is not None
            self._queue.put((data, lines, first_s, last_s))
        return True

    def close(self) -> FileRecord:
        if self._fd is not None:
            if self._thread is not None and self._queue is not None:
                self._queue.put(None)
                self._thread.join()
            os.close(self._fd)
            self._fd = None
            self.record.sha256 = self._hash.hexdigest()
        if self.error is not None:
            raise WriteError(self.path, getattr(self.error, "strerror", None) or str(self.error), [self.record])
        return self.record


Chunk = tuple[bytes, np.ndarray]  # rendered lines and their UTC seconds


def write_stretch(chunks: Iterator[Chunk], path: Path) -> FileRecord:
    """Write a time stretch's chunks to one file; on a write error, the WriteError holds its record."""
    out = LogFile(path)
    try:
        for data, seconds in chunks:
            if not out.write(data, len(seconds), int(seconds[0]), int(seconds[-1])):
                break
    finally:
        record = out.close()
    return record


def line_ends(data: bytes) -> np.ndarray:
    """The byte offset just after each line of ``data``."""
    return np.flatnonzero(np.frombuffer(data, np.uint8) == NEWLINE) + 1


def lines_that_fit(ends: np.ndarray, done: int, room: int) -> int:
    """How many lines after the first ``done`` fit in ``room`` bytes."""
    base = int(ends[done - 1]) if done else 0
    return int(np.searchsorted(ends, base + room, side="right")) - done


def write_by_size(chunks: Iterator[Chunk], out_dir: Path, max_bytes: int) -> list[FileRecord]:
    """Cut the stream into files of at most ``max_bytes`` (never splitting a line), then name them.

    The count of files is known only at the end, so they are written under part names and
    renamed once the run is whole, or has stopped: a write error or a stop leaves the parts
    written so far named as the files of a shorter run.
    """
    parts: list[LogFile] = []

    def new_part() -> LogFile:
        parts.append(LogFile(out_dir / f".{ACTIVE}.part{len(parts) + 1:05d}"))
        return parts[-1]

    failed: WriteError | None = None
    current = new_part()
    try:
        for data, seconds in chunks:
            ends = line_ends(data)
            done = 0  # lines of this chunk already written
            while done < len(seconds):
                fit = lines_that_fit(ends, done, max_bytes - current.handed)
                if fit <= 0:
                    if current.handed == 0:
                        fit = 1  # a line longer than the limit still gets a file
                    else:
                        current.close()
                        current = new_part()
                        continue
                stop = done + fit
                base = int(ends[done - 1]) if done else 0
                if not current.write(data[base:int(ends[stop - 1])], fit, int(seconds[done]), int(seconds[stop - 1])):
                    current.close()  # raises the error of the failed write
                done = stop
    except WriteError as e:
        failed = e
    finally:
        for part in parts:
            try:
                part.close()
            except WriteError as e:
                failed = e
        # A part is opened only when a line needs it, so no part is empty unless the run is.
        records = [p.record for p in parts]
        for record, name in zip(records, size_names(len(records))):
            os.replace(out_dir / record.name, out_dir / name)
            record.name = name
    if failed is not None:
        raise WriteError(out_dir / failed.records[0].name if failed.records else failed.path, failed.reason, records)
    return records
