"""Worker processes: each makes whole files (or whole time slices) of the run on its own.

The run's model and renderer are built once in the parent; workers are forked after that and
inherit them, so nothing big is pickled. Where every file is written by one worker, the parent
is one of them (N workers are N - 1 forked and the parent), so no process holds memory idle. A
time stretch's bytes depend only on the seed and the stretch (events are drawn per block from
the block's own seed), so any number of workers, one included, writes the same bytes.

A run's stop request (a signal, or a write that failed) reaches every worker through shared
memory: each ends its file at the next chunk, whole, and reports what it wrote.
"""

from __future__ import annotations

import ctypes
import functools
import multiprocessing as mp
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.generate.model import TrafficModel
from synth.generate.traffic import Events
from synth.output.records import FileRecord, WriteError
from synth.output.rotation import Stretch
from synth.output.writers import Chunk, write_stretch
from synth.render.lines import LineRenderer
from synth.run.signals import Stopper, exit_between_lines, orphaned, worker_signals


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
    # In this process while it writes its own share: hands the forked workers more between chunks.
    between_chunks: Callable[[], None] | None = None


_STATE: _State | None = None
# Lines rendered at a time. A chunk costs several times its own bytes while it is joined (the
# join keeps a buffer descriptor of 80 bytes for each of its pieces, five or so per line) and is
# held again in the writer's queue; 5,000 lines (about 1.2 MB) keep that small, and are still
# large writes.
MAX_CHUNK_LINES = 5_000
# Expected lines a worker writes from one pass over the model (see group_stretches).
GROUP_LINES = 200_000


_TERM = {signal.SIGTERM}
Hours = tuple[int, np.ndarray]  # lines per hour of a stretch: the first hour's index, the counts


def _hours_of(t0: int, t1: int) -> Hours:
    """Zero counts for the hours [t0, t1) touches (indices from the run's first hour)."""
    state = _STATE
    assert state is not None
    first = (t0 - state.hour0) // 3600
    return first, np.zeros(max(0, (t1 - 1 - state.hour0) // 3600 + 1 - first), np.int64)


class _Blocks:
    """The events of consecutive stretches from one pass over the model: each block is drawn
    once, whichever stretch (file) its requests fall in."""

    def __init__(self, t0: int, t1: int):
        assert _STATE is not None
        self._blocks = _STATE.model.events(t0, t1)
        self._held: Events | None = None
        self._lo = t0 * 1000

    def until(self, t1: int) -> Iterator[Events]:
        """The events from the previous call's ``t1`` up to second ``t1``, in time order (what a
        stretch cut short left unread is skipped)."""
        lo, limit = self._lo, t1 * 1000
        self._lo = limit
        while True:
            events = self._held if self._held is not None else next(self._blocks, None)
            self._held = None
            if events is None:
                return
            if len(events) and int(events.t_ms[0]) < lo:
                events = events.take(slice(int(np.searchsorted(events.t_ms, lo)), None))
            if len(events) and int(events.t_ms[-1]) >= limit:
                cut = int(np.searchsorted(events.t_ms, limit))
                self._held = events.take(slice(cut, None))
                if cut:
                    yield events.take(slice(0, cut))
                return
            yield events
            del events  # before the next block is drawn (a spike's block is large)


def _chunks(blocks: Iterator[Events], hours: Hours) -> Iterator[Chunk]:
    """Rendered chunks of a stretch's events, counting lines per hour and reporting progress."""
    state = _STATE
    assert state is not None
    first, hourly = hours
    if state.stopper.requested:
        return
    for block in blocks:
        if state.stopper.requested:
            return
        if orphaned():  # the parent is gone: nobody will list this file
            exit_between_lines(signal.SIGTERM)
        # A block inside a spike holds ten times the usual requests: render it in pieces, so
        # memory stays flat whatever the anomalies.
        for at in range(0, len(block), MAX_CHUNK_LINES):
            events = block.take(slice(at, at + MAX_CHUNK_LINES)) if len(block) > MAX_CHUNK_LINES else block
            seconds = events.t_ms // 1000
            hourly += np.bincount((seconds - state.hour0) // 3600 - first, minlength=len(hourly))[:len(hourly)]
            yield state.renderer.render(events), seconds
            if state.counter is not None:
                # A worker never ends holding the counter's lock (the parent and the other
                # workers would wait for it forever): SIGTERM waits until it is released.
                signal.pthread_sigmask(signal.SIG_BLOCK, _TERM)
                with state.counter.get_lock():
                    state.counter.value += len(events)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _TERM)
            elif state.progress is not None:
                state.progress(len(events))
            if state.between_chunks is not None:
                state.between_chunks()
            del events
        del block  # let the block go before the next is drawn


Failure = tuple[str, str]  # the file that could not be written, and why
Written = tuple[FileRecord | None, Hours, Failure | None]


def _write_files(stretches: list[Stretch], out_dir: Path) -> list[Written]:
    """Write consecutive stretches, a file each, from one pass over their events. A stop leaves
    the file in progress shorter and the rest unwritten; a write error is reported, not raised,
    and ends the group."""
    state = _STATE
    assert state is not None
    blocks = _Blocks(stretches[0].t0, stretches[-1].t1)
    results: list[Written] = []
    failed = False
    for stretch in stretches:
        hours = _hours_of(stretch.t0, stretch.t1)
        if state.stopper.requested or failed:
            results.append((None, hours, None))
            continue
        try:
            record = write_stretch(_chunks(blocks.until(stretch.t1), hours), out_dir / stretch.name)
            results.append((record, hours, None))
        except WriteError as e:
            results.append(((e.records[0] if e.records else None), hours, (e.path, e.reason)))
            failed = True
    return results


def _render_slice(t0: int, t1: int) -> tuple[list[Chunk], Hours]:
    assert _STATE is not None
    hours = _hours_of(t0, t1)
    return list(_chunks(_STATE.model.events(t0, t1), hours)), hours


def group_stretches(weights: list[float], workers: int) -> list[list[int]]:
    """Consecutive stretches in groups of about GROUP_LINES expected lines (fewer with several
    workers, so each has a few groups to take): a year of a quiet site's days is a handful of
    passes over the model, not one pass (and one replay of the blocks before it) per day."""
    target = GROUP_LINES if workers == 1 else min(GROUP_LINES, sum(weights) / (4 * workers))
    groups: list[list[int]] = [[]]
    total = 0.0
    for i, weight in enumerate(weights):
        if groups[-1] and total + weight / 2 > target:
            groups.append([])
            total = 0.0
        groups[-1].append(i)
        total += weight
    return [g for g in groups if g]


class Executor:
    """Runs a run's work on ``workers`` processes (or in this one, for a single worker).

    When files are written a stretch each (``write_files``), this process is one of the
    workers: it forks one fewer and writes groups of files itself between looking at the
    others' results, so no process sits idle holding memory of its own. For ``slices`` it
    writes what the forked workers render, and forks all of them.
    """

    POLL_S = 0.2

    def __init__(self, model: TrafficModel, renderer: LineRenderer, hour0: int, hours: int, workers: int,
                 progress: Callable[[int], None] | None = None, stopper: Stopper | None = None,
                 parent_works: bool = False):
        global _STATE
        self.workers = max(1, workers)
        self.parent_works = parent_works and self.workers > 1
        self.forked = self.workers - 1 if self.parent_works else self.workers
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
        self.pool = (ctx.Pool(self.forked, initializer=worker_signals, initargs=(os.getpid(), self.stopper))
                     if self.workers > 1 else None)
        if self.pool is not None:
            # Pool keeps its processes in _pool; a forced exit ends them by pid.
            self.stopper.workers = [p.pid for p in self.pool._pool]  # type: ignore[attr-defined]

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        global _STATE
        if self.pool is not None:
            if exc[0]:
                self.stopper.end_workers()  # terminate() ends the workers with SIGTERM
                self.pool.terminate()
            else:
                self.pool.close()
            self.pool.join()
            self.stopper.workers = []
        _STATE = None
        hand_back_freed_memory()

    def _report(self) -> None:
        counter = _STATE.counter if _STATE else None
        if counter is not None and self.progress is not None:
            value = counter.get_obj().value  # read without the lock: only workers add to it
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
        results: dict[int, tuple[FileRecord | None, Failure | None]] = {}

        def collect(group: list[int], written: list[Written]) -> None:
            for i, (record, hours, failed) in zip(group, written):
                self._add_hours(hours)  # now, rather than keep every file's hours to the end
                results[i] = record, failed
                if failed is not None:
                    self.stopper.request()  # the disk is full for the others too

        weights = [expected(s) for s in stretches]
        groups = group_stretches(weights, self.workers)
        if self.pool is None:
            for group in groups:
                collect(group, _write_files([stretches[i] for i in group], out_dir))
        else:
            # Biggest groups first, so no worker is left with a long one at the end; a few in
            # flight per worker, so that a stop leaves the rest unstarted rather than queued (ten
            # years of hourly files are tens of thousands of groups, each a round trip to a worker).
            # While this process writes a share of its own it hands out work between its chunks,
            # so one group each is enough, and none waits queued at the end.
            order = deque(sorted(range(len(groups)), key=lambda g: -sum(weights[i] for i in groups[g])))
            pending: dict[int, mp.pool.AsyncResult] = {}
            pool = self.pool
            in_flight = self.forked if self.parent_works else 2 * self.forked

            def hand_out() -> None:
                for g in [g for g, result in pending.items() if result.ready()]:
                    collect(groups[g], pending.pop(g).get())
                while order and len(pending) < in_flight and not self.stopper.requested:
                    g = order.popleft()
                    pending[g] = pool.apply_async(_write_files, ([stretches[i] for i in groups[g]], out_dir))
                self._report()

            assert _STATE is not None
            if self.parent_works:
                _STATE.between_chunks = hand_out  # called in this process's own groups only
            try:
                while order or pending:
                    hand_out()
                    if self.stopper.requested:
                        while order:
                            g = order.popleft()
                            collect(groups[g], [(None, _hours_of(stretches[i].t0, stretches[i].t1), None)
                                                for i in groups[g]])
                    if self.parent_works and order:
                        # This process's share: the next group, written here.
                        g = order.popleft()
                        collect(groups[g], _write_files([stretches[i] for i in groups[g]], out_dir))
                    elif pending:
                        next(iter(pending.values())).wait(self.POLL_S)
            finally:
                _STATE.between_chunks = None
        records, failure = [], None
        for i in sorted(results):
            record, failed = results[i]
            if record is not None:
                records.append(record)
            failure = failure or failed
        if failure is not None:
            path, reason = failure
            raise WriteError(path, reason, records)
        return records

    def _add_hours(self, hours: Hours) -> None:
        first, counts = hours
        self.hourly[first:first + len(counts)] += counts

    def slices(self, bounds: list[tuple[int, int]]) -> Iterator[Chunk]:
        """Rendered chunks of consecutive time slices, in order, a few slices ahead at most.

        A stop request ends the stream of chunks: what was yielded is a whole prefix of the run.
        """
        if self.pool is None:
            for t0, t1 in bounds:
                hours = _hours_of(t0, t1)
                yield from _chunks(_STATE.model.events(t0, t1), hours)  # type: ignore[union-attr]
                self._add_hours(hours)
            return
        queue: deque = deque()
        upcoming = iter(bounds)
        for t0, t1 in upcoming:
            queue.append(self.pool.apply_async(_render_slice, (t0, t1)))
            if len(queue) >= 2 * self.workers:
                break
        while queue:
            chunks, hours = self._wait(queue.popleft())
            if self.stopper.requested:  # a slice cut short: nothing after it may follow
                return
            nxt = next(upcoming, None)
            if nxt is not None:
                queue.append(self.pool.apply_async(_render_slice, nxt))
            self._add_hours(hours)
            for chunk in chunks:
                if self.stopper.requested:
                    return
                yield chunk
