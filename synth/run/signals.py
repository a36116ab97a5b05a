"""Stopping a run: SIGINT and SIGTERM become a request that every writer honours between
chunks, so each file ends on a whole line and the run can say what it wrote; a second signal
exits at once, still between lines. Before the first byte is written (the set-up: pools, the
model, the plan) a signal ends the run at once, with nothing written.

Forked workers ignore SIGINT (a terminal sends it to the whole process group: the parent
decides) and read the request from shared memory. SIGTERM while their parent lives (and has
not begun to end its pool) is a stop request like the parent's own (``kill`` of the process group must not leave the parent waiting
for work a dead worker will never return); once the parent is gone (it dies: the kernel sends
SIGTERM, ``PR_SET_PDEATHSIG``; or a worker sees its parent pid change) a worker exits as soon
as no write is in progress. No worker holds the output folder's lock: it closes its copy.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from synth.output.lock import forget_inherited_locks
from synth.output.writers import WRITE_GUARD

SIGNALS = (signal.SIGINT, signal.SIGTERM)
GUARD_WAIT_S = 5.0  # a write that takes longer than this is stuck: exit anyway
# A handler's exception is lost when the signal lands inside a finaliser (Python prints
# "Exception ignored in ..." and goes on): after a signal in the set-up, an alarm raises it again
# this often until the set-up is left.
RERAISE_S = 0.05


class SetupInterrupted(BaseException):
    """A signal during a run's set-up, before anything was written (a BaseException, like
    KeyboardInterrupt, so that no ``except Exception`` on the way swallows it)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signum)
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
    """A run's stop request, shared with the workers it forks (create it before them).

    While ``setting_up`` (nothing written yet), a signal raises SetupInterrupted at once, and
    again every RERAISE_S until the set-up is left (the first can be lost in a finaliser); it is
    also a stop request, for a set-up that ends before it is raised.
    """

    NOT_A_SIGNAL = -1  # the shared value of a request that no signal made (a failed write)

    def __init__(self) -> None:
        self._shared = mp.get_context("fork").RawValue("i", 0)
        self._ending = mp.get_context("fork").RawValue("i", 0)  # set: SIGTERM ends a worker at once
        self._signal = 0  # the first signal this process received, 0 if none
        self.signals = 0
        self.setting_up = False
        self.workers: list[int] = []  # pids to end on a forced exit
        self.cuts: list[Callable[[], None]] = []  # called on a forced exit: cut half-written lines
        self._alarm: tuple[object, tuple[float, float]] | None = None  # the SIGALRM handler and timer before ours

    @property
    def requested(self) -> bool:
        return self._shared.value != 0

    @property
    def signal(self) -> int:
        """The signal that stopped the run (here or in a worker), 0 if none did."""
        return self._signal or max(0, self._shared.value)

    def request(self, signum: int = NOT_A_SIGNAL) -> None:
        """Ask every writer of the run to stop at its next chunk (a signal, or a failed write)."""
        if self._shared.value <= 0:
            self._shared.value = signum

    @property
    def ending(self) -> bool:
        return self._ending.value != 0

    def end_workers(self) -> None:
        """From now on SIGTERM ends a worker at once (the parent's own way to end its pool)."""
        self._ending.value = 1

    def on_signal(self, signum: int, frame: object = None) -> None:
        self.signals += 1
        if self.signals > 1:
            self.exit_now(signum)
        self._signal = signum
        self.request(signum)
        if self.setting_up:
            self._raise_again_until_caught()
            raise SetupInterrupted(signum)

    def _raise_again_until_caught(self) -> None:
        if threading.current_thread() is not threading.main_thread() or self._alarm is not None:
            return
        self._alarm = (signal.signal(signal.SIGALRM, self._on_alarm),
                       signal.setitimer(signal.ITIMER_REAL, RERAISE_S, RERAISE_S))

    def _on_alarm(self, signum: int, frame: object = None) -> None:
        if self.setting_up:
            raise SetupInterrupted(self._signal)
        self.disarm()

    def leave_setup(self) -> None:
        """The set-up is over (the run is about to claim its folder): a signal from now on is a
        stop request; one that came during the set-up and was lost ends the run here."""
        self.setting_up = False
        self.disarm()
        if self._signal:
            raise SetupInterrupted(self._signal)

    def disarm(self) -> None:
        """Put back the alarm as it was before a signal in the set-up armed ours."""
        if self._alarm is not None:
            handler, (delay, interval) = self._alarm
            self._alarm = None
            signal.setitimer(signal.ITIMER_REAL, delay, interval)
            signal.signal(signal.SIGALRM, handler)  # type: ignore[arg-type]

    def exit_now(self, signum: int) -> NoReturn:
        """Exit at once, between lines: end the workers, wait for a write in progress, cut."""
        self.end_workers()
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
def stop_on_signals(stopper: Stopper, setting_up: bool = False) -> Iterator[Stopper]:
    """While the run writes, SIGINT and SIGTERM ask it to stop; a second one exits at once.
    With ``setting_up``, a signal raises SetupInterrupted until ``stopper.leave_setup()``
    (just before the run claims its folder).

    Only the main thread may set handlers: called from another thread, signals keep their
    usual effect.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stopper
        return
    stopper.setting_up = setting_up
    previous = {s: signal.signal(s, stopper.on_signal) for s in SIGNALS}
    try:
        yield stopper
    finally:
        stopper.setting_up = False
        stopper.disarm()
        for s, handler in previous.items():
            signal.signal(s, handler)


_PARENT = 0  # a worker's parent pid, as it was at the fork
_WORKER_STOPPER: Stopper | None = None
PR_SET_PDEATHSIG = 1


def orphaned() -> bool:
    """In a worker: whether its parent is gone (the worker was handed to another process)."""
    return _PARENT != 0 and os.getppid() != _PARENT


def exit_between_lines(signum: int) -> None:
    """End this worker at once, but not in the middle of a write."""
    WRITE_GUARD.acquire(timeout=GUARD_WAIT_S)
    os._exit(128 + signum)


def _worker_term(signum: int, frame: object) -> None:
    if _WORKER_STOPPER is not None and not _WORKER_STOPPER.ending and not orphaned():
        _WORKER_STOPPER.request(signum)  # the parent ends the run: files whole, manifest true
        return
    exit_between_lines(signum)


def _die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux); elsewhere ``orphaned`` is checked
    at every chunk."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def worker_signals(parent: int = 0, stopper: Stopper | None = None) -> None:
    """A forked worker's set-up: SIGINT is the parent's business; SIGTERM is a stop request
    while the parent lives and an exit between lines once it is gone; the kernel sends SIGTERM
    when the parent dies; the folder's lock is the parent's alone."""
    global _PARENT, _WORKER_STOPPER
    _PARENT, _WORKER_STOPPER = parent, stopper
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_term)
    forget_inherited_locks()
    _die_with_parent()
    if orphaned():  # the parent died before the kernel was asked
        exit_between_lines(signal.SIGTERM)


class Interrupted(Exception):
    """A signal stopped a run before its end: the files hold whole lines, and the manifest the
    true counts with ``complete: false``."""

    def __init__(self, signum: int, lines: int, files: int, written: bool = True):
        self.signum, self.lines, self.files = signum, lines, files
        self.exit_code = 128 + signum
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name}: {lines:,} whole line{'' if lines == 1 else 's'} in "
                         f"{files:,} file{'' if files == 1 else 's'}; manifest.json says the run is incomplete"
                         if written else f"stopped by {name} before anything was written")
