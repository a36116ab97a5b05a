"""Worker processes: each makes whole files (or whole time slices) of the run on its own.

The run's model and renderer are built once in the parent; workers are forked after that and
inherit them, so nothing big is pickled. A time stretch's bytes depend only on the seed and
the stretch (events are drawn per block from the block's own seed), so any number of workers,
one included, writes the same bytes.

A run's stop request (a signal, or a write that failed) reaches every worker through shared
memory: each ends its file at the next chunk, whole, and reports what it wrote.
"""

from __future__ import annotations

import ctypes
import functools
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.generate.model import TrafficModel
from synth.output.files import Chunk, FileRecord, Stretch, WriteError, write_stretch
from synth.render.lines import LineRenderer
from synth.run.signals import Stopper, worker_signals


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library, if it is glibc (loaded once)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse rather than hand big blocks back at once.

    Every chunk allocates and frees buffers of several megabytes; by default glibc maps each
    one fresh and unmaps it on free, so the kernel zeroes new pages for every chunk (a third
    of the system time of a run). Kept, the same pages serve chunk after chunk.
    """
    libc = _glibc()
    if libc is not None:
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 256 << 20)
        libc.mallopt(m_trim_threshold, 512 << 20)


def hand_back_freed_memory() -> None:
    """Return the freed memory glibc keeps to the system: before workers are forked (each would
    start with the parent's leftovers from building the model) and when a run ends (a process
    that runs again, as ``synth bench`` does, would otherwise carry each run's into the next)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class _State:
    """What every worker needs, set in the parent before the fork."""

    model: TrafficModel
    renderer: LineRenderer
    hour0: int
    hours: int
    counter: mp.sharedctypes.Synchronized | None
    progress: Callable[[int], None] | None
    stopper: Stopper


_STATE: _State | None = None
# Lines rendered at a time. A chunk costs several times its own bytes while it is joined (the
# join keeps a buffer descriptor of 80 bytes for each of its pieces, five or so per line) and is
# held again in the writer's queue; 5,000 lines (about 1.2 MB) keep that small, and are still
# large writes.
MAX_CHUNK_LINES = 5_000


def _chunks(t0: int, t1: int, hourly: np.ndarray) -> Iterator[Chunk]:
    """Rendered chunks of [t0, t1), counting lines per hour and reporting progress."""
    state = _STATE
    assert state is not None
    if state.stopper.requested:
        return
    for block in state.model.events(t0, t1):
        if state.stopper.requested:
            return
        # A block inside a spike holds ten times the usual requests: render it in pieces, so
        # memory stays flat whatever the anomalies.
        for first in range(0, len(block), MAX_CHUNK_LINES):
            events = block.take(slice(first, first + MAX_CHUNK_LINES)) if len(block) > MAX_CHUNK_LINES else block
            seconds = events.t_ms // 1000
            hourly += np.bincount((seconds - state.hour0) // 3600, minlength=state.hours)[:state.hours]
            yield state.renderer.render(events), seconds
            if state.counter is not None:
                with state.counter.get_lock():
                    state.counter.value += len(events)
            elif state.progress is not None:
                state.progress(len(events))


Failure = tuple[str, str]  # the file that could not be written, and why


def _write_file(stretch: Stretch, out_dir: Path) -> tuple[FileRecord | None, np.ndarray, Failure | None]:
    """Write one file; a stop leaves it shorter (or unwritten), a write error is reported, not raised."""
    state = _STATE
    assert state is not None
    hourly = np.zeros(state.hours, np.int64)
    if state.stopper.requested:
        return None, hourly, None
    try:
        return write_stretch(_chunks(stretch.t0, stretch.t1, hourly), out_dir / stretch.name), hourly, None
    except WriteError as e:
        return (e.records[0] if e.records else None), hourly, (e.path, e.reason)


def _render_slice(t0: int, t1: int) -> tuple[list[Chunk], np.ndarray]:
    hourly = np.zeros(_STATE.hours, np.int64)  # type: ignore[union-attr]
    return list(_chunks(t0, t1, hourly)), hourly


class Executor:
    """Runs a run's work on ``workers`` processes (or in this one, for a single worker)."""

    POLL_S = 0.2

    def __init__(self, model: TrafficModel, renderer: LineRenderer, hour0: int, hours: int, workers: int,
                 progress: Callable[[int], None] | None = None, stopper: Stopper | None = None):
        global _STATE
        self.workers = max(1, workers)
        self.progress = progress
        self.hourly = np.zeros(hours, np.int64)
        self.stopper = stopper or Stopper()
        keep_freed_memory()
        ctx = mp.get_context("fork")
        counter = ctx.Value("q", 0) if self.workers > 1 else None
        _STATE = _State(model, renderer, hour0, hours, counter, progress, self.stopper)
        self._seen = 0
        hand_back_freed_memory()
        # Forked now, before any thread of ours starts: workers inherit the model as built.
        self.pool = ctx.Pool(self.workers, initializer=worker_signals) if self.workers > 1 else None
        if self.pool is not None:
            # Pool keeps its processes in _pool; a forced exit ends them by pid.
            self.stopper.workers = [p.pid for p in self.pool._pool]  # type: ignore[attr-defined]

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        global _STATE
        if self.pool is not None:
            self.pool.terminate() if exc[0] else self.pool.close()
            self.pool.join()
            self.stopper.workers = []
        _STATE = None
        hand_back_freed_memory()

    def _report(self) -> None:
        counter = _STATE.counter if _STATE else None
        if counter is not None and self.progress is not None:
            value = counter.value
            if value > self._seen:
                self.progress(value - self._seen)
                self._seen = value

    def _wait(self, result: mp.pool.AsyncResult):
        while not result.ready():
            result.wait(self.POLL_S)
            self._report()
        self._report()
        return result.get()

    def write_files(self, stretches: list[Stretch], out_dir: Path,
                    expected: Callable[[Stretch], float]) -> list[FileRecord]:
        """Write each stretch to its own file; records come back in the stretches' order.

        After a stop request, files end early (or are not begun) and only those on disk are
        listed. If a write fails, the other workers stop too, and WriteError carries the
        records of every file on disk.
        """
        results: dict[int, tuple] = {}

        def collect(i: int, result: tuple) -> None:
            results[i] = result
            if result[2] is not None:
                self.stopper.request()  # the disk is full for the others too

        if self.pool is None:
            for i, stretch in enumerate(stretches):
                collect(i, _write_file(stretch, out_dir))
        else:
            # Biggest files first, so no worker is left with a long one at the end.
            order = sorted(range(len(stretches)), key=lambda i: -expected(stretches[i]))
            pending = {i: self.pool.apply_async(_write_file, (stretches[i], out_dir)) for i in order}
            while pending:
                for i in [i for i, result in pending.items() if result.ready()]:
                    collect(i, pending.pop(i).get())
                if pending:
                    next(iter(pending.values())).wait(self.POLL_S)
                self._report()
        records, failure = [], None
        for i in sorted(results):
            record, hourly, failed = results[i]
            self.hourly += hourly
            if record is not None:
                records.append(record)
            failure = failure or failed
        if failure is not None:
            path, reason = failure
            raise WriteError(path, reason, records)
        return records

    def slices(self, bounds: list[tuple[int, int]]) -> Iterator[Chunk]:
        """Rendered chunks of consecutive time slices, in order, a few slices ahead at most.

        A stop request ends the stream of chunks: what was yielded is a whole prefix of the run.
        """
        if self.pool is None:
            for t0, t1 in bounds:
                hourly = np.zeros(len(self.hourly), np.int64)
                yield from _chunks(t0, t1, hourly)
                self.hourly += hourly
            return
        queue: deque = deque()
        upcoming = iter(bounds)
        for t0, t1 in upcoming:
            queue.append(self.pool.apply_async(_render_slice, (t0, t1)))
            if len(queue) >= 2 * self.workers:
                break
        while queue:
            chunks, hourly = self._wait(queue.popleft())
            if self.stopper.requested:  # a slice cut short: nothing after it may follow
                return
            nxt = next(upcoming, None)
            if nxt is not None:
                queue.append(self.pool.apply_async(_render_slice, nxt))
            self.hourly += hourly
            for chunk in chunks:
                if self.stopper.requested:
                    return
                yield chunk
