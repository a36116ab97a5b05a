"""Files: the only stage that touches disk. Rotation, naming, the manifest and the ground truth.

Closed files are named the way logrotate names them: ``access.log-YYYYMMDD`` by day
(``dateext``, dated by the day the lines belong to), ``access.log-YYYYMMDDHH`` by hour, and
``access.log.1`` (newest) .. ``access.log.N`` (oldest) by size; the newest lines are always in
``access.log``. The manifest lists the files in time order.

Every write is of whole lines, and a write that fails part-way (a full disk, a file-size
limit) is cut back, so a file only ever holds whole lines. A live stream's ``access.log`` is
rotated as logrotate rotates it: renamed, then created anew, never copied or truncated.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import queue
import resource
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.generate.scenario import Rotation, ScenarioError
from synth.generate.zone import Zone, as_zone

ACTIVE = "access.log"
MANIFEST = "manifest.json"
TRUTH = "anomalies.json"
REPORT = "report.html"  # synth generate --report, or synth report DIR
PER_LINE = "injected.jsonl"  # synth inject: what was done to which line
MESSY = "messy.jsonl"  # the labelled messy lines of a run with messy > 0 (synth.run.messy)
LOCK = ".synth.lock"
NEWLINE = 10

# Held around every write of log lines in this process, so that an exit forced by a second
# signal waits for the write in progress and never leaves half a line (see control.py).
WRITE_GUARD = threading.Lock()


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
            self.first = _utc(first_s)
        self.last = _utc(last_s)


@dataclass(frozen=True)
class Stretch:
    """A file's worth of time: lines with times in [t0, t1) go to ``name``."""

    name: str
    t0: int
    t1: int


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


def _utc(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rotation_period(rotation: Rotation) -> tuple[int, str]:
    """Seconds per file and the date stamp of its name, for day and hour rotation."""
    return (86400, "%Y%m%d") if rotation.kind == "day" else (3600, "%Y%m%d%H")


def next_boundary(t: int, rotation: Rotation, tz: int | str | Zone) -> int:
    """The first local midnight (or hour) after ``t``, in the zone written in the lines.

    In a zone with daylight-saving time the local clock jumps: a boundary the clock skips
    (spring) is the moment of the jump, and the hour that repeats in autumn is a file of its
    own, so every file holds one stretch of the clock as it was written, in UTC order.
    """
    zone = as_zone(tz)
    period, _ = rotation_period(rotation)
    while True:
        offset = zone.offset(t)
        found = ((t + offset) // period + 1) * period - offset
        changes = [] if zone.fixed else zone.transitions(t + 1, found + 1)
        if not changes:
            return found
        at, after = changes[0]
        crossed = (at + after) // period != (at - 1 + offset) // period
        if at == found or crossed or (rotation.kind == "hour" and after < offset):
            return at
        t = at  # the clock moved within the day: the boundary is on the new clock


def dated_name(t0: int, rotation: Rotation, tz: int | str | Zone) -> str:
    """``access.log-YYYYMMDD`` (or ``-YYYYMMDDHH``) of the local day (hour) holding ``t0``."""
    local = as_zone(tz).local(t0)
    return f"{ACTIVE}-{local.strftime(rotation_period(rotation)[1])}"


def unique_name(name: str, taken: Collection[str]) -> str:
    """The autumn hour that repeats gives a second file of the same local hour:
    ``access.log-2026102502`` then ``access.log-2026102502.1``, in time and name order."""
    if name not in taken:
        return name
    k = 1
    while f"{name}.{k}" in taken:
        k += 1
    return f"{name}.{k}"


def plan_stretches(start: int, end: int, rotation: Rotation, tz: int | str | Zone) -> list[Stretch]:
    """Files of a time-rotated run, oldest first; size and no rotation give one stretch."""
    if rotation.kind in ("none", "size"):
        return [Stretch(ACTIVE, start, end)]
    zone = as_zone(tz)
    edges = [start]
    while True:
        edge = next_boundary(edges[-1], rotation, zone)
        if edge >= end:
            break
        edges.append(edge)
    edges.append(end)
    last = len(edges) - 2
    names: list[str] = []
    taken: set[str] = set()  # a set: ten years of hours are 87,600 names
    for i, t0 in enumerate(edges[:-1]):
        names.append(ACTIVE if i == last else unique_name(dated_name(t0, rotation, zone), taken))
        taken.add(names[-1])
    return [Stretch(name, t0, t1) for name, t0, t1 in zip(names, edges, edges[1:])]


def file_order(name: str) -> tuple[int, int, str]:
    """A sort key that puts a run's files in time order by their names alone: dated files
    (``access.log-YYYYMMDD[HH][.k]``) oldest first, then size-rotated ones from the highest
    number (oldest) down, then ``access.log`` (gzip suffixes ignored)."""
    base = name[:-3] if name.endswith(".gz") else name
    if base.startswith(f"{ACTIVE}-"):
        return 0, 0, base
    rest = base[len(ACTIVE) + 1:] if base.startswith(f"{ACTIVE}.") else ""
    if rest.isdigit():
        return 1, -int(rest), base
    return (2, 0, base) if base == ACTIVE else (0, 0, base)


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


def shard_stretches(stretches: list[Stretch], weights: list[float], k: int, n: int) -> list[Stretch]:
    """The k-th of n contiguous groups of files, cut so that the heaviest group is as light as
    possible (the linear partition problem); with fewer files than shards, one file each."""
    m = len(stretches)
    if m <= n:
        return stretches[k - 1:k]
    if m > 400:  # many small files (a year of hours): cutting at k/n of the weight is as good
        total = sum(weights) or 1.0
        cumulative, group = 0.0, []
        for stretch, weight in zip(stretches, weights):
            if k - 1 <= (cumulative + weight / 2) / total * n < k:
                group.append(stretch)
            cumulative += weight
        return group
    prefix = [0.0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    # best[j][i]: the lightest heaviest group splitting the first i files into j groups.
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    cut = [[0] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for j in range(1, n + 1):
        for i in range(j, m + 1):
            for h in range(j - 1, i):
                cost = max(best[j - 1][h], prefix[i] - prefix[h])
                if cost < best[j][i]:
                    best[j][i], cut[j][i] = cost, h
    bounds, i = [], m
    for j in range(n, 0, -1):
        bounds.append((cut[j][i], i))
        i = cut[j][i]
    lo, hi = bounds[::-1][k - 1]
    return stretches[lo:hi]


def size_names(count: int) -> list[str]:
    """Names of ``count`` size-rotated files, oldest first: access.log.N .. access.log.1, access.log."""
    return [f"{ACTIVE}.{count - 1 - i}" for i in range(count - 1)] + [ACTIVE]


class OutputError(ScenarioError):
    """The output folder cannot be used; names the ``out`` option."""

    def __init__(self, message: str):
        super().__init__([("out", message)])


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def ours(out_dir: Path) -> set[str]:
    """Names in ``out_dir`` that an earlier run of synth wrote (from its manifest)."""
    manifest = read_manifest(out_dir)
    if not manifest or manifest.get("generator") != "synth":
        return set()
    return {f["name"] for f in manifest.get("files", [])} | {MANIFEST, TRUTH, PER_LINE, MESSY, REPORT}


def check_output(out_dir: Path, force: bool) -> None:
    """Refuse an ``out`` that is not a folder, that another run of synth is writing to, or that
    holds files synth did not write.

    Hidden files (``.gitkeep``, our lock) are never ours and never in the way. Nothing is
    written here.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} exists and is not a folder")
    if not out_dir.exists():
        parent = out_dir.parent if str(out_dir.parent) else Path(".")
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise OutputError(f"cannot create {out_dir}: {parent} is not a writable folder")
        return
    if not os.access(out_dir, os.W_OK):
        raise OutputError(f"{out_dir} is not writable")
    holder = lock_holder(out_dir)
    if holder is not None:
        raise OutputError(busy_message(out_dir, holder))
    check_foreign(out_dir, force)


def check_foreign(out_dir: Path, force: bool) -> None:
    """Refuse a folder that holds files synth did not write (unless ``force``)."""
    if force:
        return
    known = ours(out_dir)
    foreign = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith(".") and p.name not in known)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OutputError(f"{out_dir} holds files synth did not write ({shown}); "
                          "use --force to write there anyway, or choose another folder")


def clear_previous(out_dir: Path, keep: Iterable[str] = ()) -> None:
    """Remove the files of an earlier run of ours, so no stale file is left beside the new ones."""
    keep = set(keep)
    for name in ours(out_dir) - keep - {MANIFEST, TRUTH}:
        path = out_dir / name
        if path.is_file():
            path.unlink()




def _lock_text(command: str) -> str:
    return json.dumps({"pid": os.getpid(), "command": command, "host": socket.gethostname(),
                       "since": _utc(int(dt.datetime.now(dt.UTC).timestamp()))}) + "\n"


def _read_lock(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def lock_holder(out_dir: Path) -> dict[str, Any] | None:
    """What the lock file says about the run that holds ``out_dir`` now, or None if none does."""
    try:
        fd = os.open(out_dir / LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_lock(fd)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def busy_message(out_dir: Path, holder: dict[str, Any]) -> str:
    who = ", ".join(f"{k} {holder[k]}" for k in ("pid", "host", "since") if holder.get(k) is not None)
    what = f"synth {holder['command']}" if holder.get("command") else "another run of synth"
    return (f"{out_dir} is in use by {what}{f' ({who})' if who else ''}; "
            "wait for it to end, stop it, or choose another folder")


_HELD_LOCKS: set[int] = set()  # descriptors of the output locks this process holds


def forget_inherited_locks() -> None:
    """In a forked child: close the descriptors of its parent's output locks. ``flock`` belongs
    to the open file, which a fork shares, so a child that kept it would hold the folder after
    its parent died."""
    for fd in list(_HELD_LOCKS):
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


class OutputLock:
    """One run of synth at a time in an output folder.

    ``.synth.lock`` names the holder (pid, command, host, start) for the message a second run
    shows; what counts is the kernel's ``flock`` on it, which dies with its process. So a lock
    file left by a dead run, or naming a pid since reused, holds nothing and is taken over.
    The file is hidden: the ownership check and Filebeat's ``access.log*`` never see it.
    """

    TRIES = 5  # a check_output() probe holds the lock for microseconds: try again before refusing

    def __init__(self, out_dir: Path, command: str):
        self.out_dir, self.command = out_dir, command
        self.path = out_dir / LOCK
        self.fd: int | None = None

    def acquire(self) -> OutputLock:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(self.TRIES):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_lock(fd)
                os.close(fd)
                if attempt == self.TRIES - 1:
                    raise OutputError(busy_message(self.out_dir, holder)) from None
                time.sleep(0.01)
                continue
            # The holder may have removed the file between our open and our flock: then the
            # lock we hold is on a file nobody else will ever open, so start again.
            try:
                current = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                os.ftruncate(fd, 0)
                os.pwrite(fd, _lock_text(self.command).encode(), 0)
                self.fd = fd
                _HELD_LOCKS.add(fd)
                return self
            os.close(fd)
        raise OutputError(f"cannot lock {self.path}: it keeps changing")

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                self.path.unlink()
        except OSError:
            pass
        _HELD_LOCKS.discard(self.fd)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire() if self.fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()


def claim_output(out_dir: Path, force: bool, command: str) -> OutputLock:
    """Lock the output folder for this run, then check it again under the lock (check_output)."""
    check_output(out_dir, force)
    lock = OutputLock(out_dir, command).acquire()
    try:
        check_foreign(out_dir, force)
    except BaseException:
        lock.release()
        raise
    return lock


def write_json(path: Path, data: Any) -> None:
    """Write JSON so that a reader never sees half a file: a temporary file, then a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
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

