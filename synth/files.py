"""Files: the only stage that touches disk. Rotation, naming, the manifest and the ground truth.

Closed files are named the way logrotate names them: ``access.log-YYYYMMDD`` by day
(``dateext``, dated by the day the lines belong to), ``access.log-YYYYMMDDHH`` by hour, and
``access.log.1`` (newest) .. ``access.log.N`` (oldest) by size; the newest lines are always in
``access.log``. The manifest lists the files in time order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import queue
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .scenario import Rotation, ScenarioError

ACTIVE = "access.log"
MANIFEST = "manifest.json"
TRUTH = "anomalies.json"
NEWLINE = 10


@dataclass
class FileRecord:
    name: str
    lines: int = 0
    bytes: int = 0
    sha256: str = ""
    first: str | None = None  # UTC time of the first line
    last: str | None = None


@dataclass(frozen=True)
class Stretch:
    """A file's worth of time: lines with times in [t0, t1) go to ``name``."""

    name: str
    t0: int
    t1: int


def _utc(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_stretches(start: int, end: int, rotation: Rotation, tz_seconds: int) -> list[Stretch]:
    """Files of a time-rotated run, oldest first; size and no rotation give one stretch."""
    if rotation.kind in ("none", "size"):
        return [Stretch(ACTIVE, start, end)]
    period = 86400 if rotation.kind == "day" else 3600
    stamp = "%Y%m%d" if rotation.kind == "day" else "%Y%m%d%H"
    # Boundaries fall on local midnights (or hours) of the zone written in the lines.
    first_boundary = ((start + tz_seconds) // period + 1) * period - tz_seconds
    edges = [start] + list(range(first_boundary, end, period)) + [end]
    stretches = []
    for i, (t0, t1) in enumerate(zip(edges, edges[1:])):
        if i == len(edges) - 2:
            name = ACTIVE
        else:
            local = dt.datetime.fromtimestamp(t0 + tz_seconds, dt.timezone.utc)
            name = f"{ACTIVE}-{local.strftime(stamp)}"
        stretches.append(Stretch(name, t0, t1))
    return stretches


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
    return {f["name"] for f in manifest.get("files", [])} | {MANIFEST, TRUTH}


def check_output(out_dir: Path, force: bool) -> None:
    """Refuse an ``out`` that is not a folder, or that holds files synth did not write.

    Hidden files (``.gitkeep``) are never ours and never in the way. Nothing is written here.
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


def write_json(path: Path, data: Any) -> None:
    """Write JSON so that a reader never sees half a file: a temporary file, then a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class LogFile:
    """One log file being written by a thread of its own, so that writing and hashing overlap
    the rendering of the next chunk (both release the GIL).

    The record counts only what has reached the file whole: if a write fails (a full disk),
    the file is cut back to the end of the last whole chunk and the error is raised on the
    next ``write`` or on ``close``.
    """

    def __init__(self, path: Path, depth: int = 3):
        self.path = path
        self.record = FileRecord(path.name)
        self._hash = hashlib.sha256()
        self._fh = open(path, "wb")
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self.handed = 0  # bytes handed to the thread, written or about to be
        self._thread = threading.Thread(target=self._drain, name=f"write {path.name}", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue
            data, lines, first_s, last_s = item
            try:
                self._fh.write(data)
                self._fh.flush()
            except BaseException as e:  # a full disk, a quota: keep whole lines only
                self._error = e
                self._fh.seek(self.record.bytes)
                self._fh.truncate()
                continue
            self._hash.update(data)
            rec = self.record
            rec.lines += lines
            rec.bytes += len(data)
            if rec.first is None:
                rec.first = _utc(first_s)
            rec.last = _utc(last_s)

    def write(self, data: bytes, lines: int, first_s: int, last_s: int) -> None:
        if self._error is not None:
            raise self._error
        if data:
            self.handed += len(data)
            self._queue.put((data, lines, first_s, last_s))

    def close(self) -> FileRecord:
        self._queue.put(None)
        self._thread.join()
        self._fh.close()
        self.record.sha256 = self._hash.hexdigest()
        if self._error is not None:
            raise self._error
        return self.record


Chunk = tuple[bytes, np.ndarray]  # rendered lines and their UTC seconds


def write_stretch(chunks: Iterator[Chunk], path: Path) -> FileRecord:
    """Write a time stretch's chunks to one file."""
    out = LogFile(path)
    try:
        for data, seconds in chunks:
            out.write(data, len(seconds), int(seconds[0]), int(seconds[-1]))
    finally:
        record = out.close()
    return record


def write_by_size(chunks: Iterator[Chunk], out_dir: Path, max_bytes: int) -> list[FileRecord]:
    """Cut the stream into files of at most ``max_bytes`` (never splitting a line), then name them.

    The count of files is known only at the end, so they are written under part names and
    renamed once the run is whole.
    """
    parts: list[LogFile] = []

    def new_part() -> LogFile:
        parts.append(LogFile(out_dir / f".{ACTIVE}.part{len(parts) + 1:05d}"))
        return parts[-1]

    current = new_part()
    try:
        for data, seconds in chunks:
            ends = np.flatnonzero(np.frombuffer(data, np.uint8) == NEWLINE) + 1  # byte offset after each line
            done = 0  # lines of this chunk already written
            while done < len(seconds):
                base = int(ends[done - 1]) if done else 0
                room = max_bytes - current.handed
                fit = int(np.searchsorted(ends, base + room, side="right")) - done
                if fit <= 0:
                    if current.handed == 0:
                        fit = 1  # a line longer than the limit still gets a file
                    else:
                        current.close()
                        current = new_part()
                        continue
                stop = done + fit
                current.write(data[base:int(ends[stop - 1])], fit, int(seconds[done]), int(seconds[stop - 1]))
                done = stop
    finally:
        current.close()
    # A part is opened only when a line needs it, so no part is empty unless the run is.
    records = [p.record for p in parts]
    names = size_names(len(records))
    for record, name in zip(records, names):
        os.replace(out_dir / record.name, out_dir / name)
        record.name = name
    return records


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

    def save(self, out_dir: Path) -> None:
        data = asdict(self)
        write_json(out_dir / MANIFEST, data)

