"""Stopping a run: SIGINT and SIGTERM become a request that every writer honours between
chunks, so each file ends on a whole line and the run can say what it wrote; a second signal
exits at once, still between lines.

Forked workers ignore SIGINT (a terminal sends it to the whole process group: the parent
decides) and read the request from shared memory; SIGTERM, the parent's way to end them at
once, makes them exit as soon as no write is in progress.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from synth.output.files import WRITE_GUARD

SIGNALS = (signal.SIGINT, signal.SIGTERM)
GUARD_WAIT_S = 5.0  # a write that takes longer than this is stuck: exit anyway


# Called on a forced exit (a second signal), after the writes are cut: a caller that made a
# scratch folder removes it here, since no ``finally`` runs on the way out.
FORCED_EXIT_HOOKS: list[Callable[[], None]] = []


@contextmanager
def on_forced_exit(hook: Callable[[], None]) -> Iterator[None]:
    """Run ``hook`` if a second signal ends the process at once, while inside this block."""
    FORCED_EXIT_HOOKS.append(hook)
    try:
        yield
    finally:
        FORCED_EXIT_HOOKS.remove(hook)


class Stopper:
    """A run's stop request, shared with the workers it forks (create it before them)."""

    def __init__(self) -> None:
        self._shared = mp.get_context("fork").RawValue("i", 0)
        self.signal = 0  # the first signal received, 0 if none
        self.signals = 0
        self.workers: list[int] = []  # pids to end on a forced exit
        self.cuts: list[Callable[[], None]] = []  # called on a forced exit: cut half-written lines

    @property
    def requested(self) -> bool:
        return self._shared.value != 0

    def request(self) -> None:
        """Ask every writer of the run to stop at its next chunk (a signal, or a failed write)."""
        self._shared.value = 1

    def on_signal(self, signum: int, frame: object = None) -> None:
        self.signals += 1
        if self.signals > 1:
            self.exit_now(signum)
        self.signal = signum
        self.request()

    def exit_now(self, signum: int) -> NoReturn:
        """Exit at once, between lines: end the workers, wait for a write in progress, cut."""
        for pid in self.workers:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        WRITE_GUARD.acquire(timeout=GUARD_WAIT_S)
        for cut in [*self.cuts, *FORCED_EXIT_HOOKS]:
            try:
                cut()
            except OSError:
                pass
        os._exit(128 + signum)


@contextmanager
def stop_on_signals(stopper: Stopper) -> Iterator[Stopper]:
    """While the run writes, SIGINT and SIGTERM ask it to stop; a second one exits at once.

    Only the main thread may set handlers: called from another thread, signals keep their
    usual effect.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stopper
        return
    previous = {s: signal.signal(s, stopper.on_signal) for s in SIGNALS}
    try:
        yield stopper
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _worker_exit(signum: int, frame: object) -> None:
    WRITE_GUARD.acquire(timeout=GUARD_WAIT_S)
    os._exit(128 + signum)


def worker_signals() -> None:
    """A forked worker's signals: SIGINT is the parent's business, SIGTERM ends it between lines."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_exit)


class Interrupted(Exception):
    """A signal stopped a run before its end: the files hold whole lines, and the manifest the
    true counts with ``complete: false``."""

    def __init__(self, signum: int, lines: int, files: int):
        self.signum, self.lines, self.files = signum, lines, files
        self.exit_code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name}: {lines:,} whole line{'' if lines == 1 else 's'} "
                         f"in {files:,} file{'' if files == 1 else 's'}; manifest.json says the run is incomplete")
