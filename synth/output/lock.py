"""The output folder's lock: one run of synth at a time in a folder, held by ``flock`` on
``.synth.lock`` (which names the holder for the message a second run shows)."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from synth.output.names import LOCK
from synth.output.records import OutputError, utc


def _lock_text(command: str) -> str:
    return json.dumps({"pid": os.getpid(), "command": command, "host": socket.gethostname(),
                       "since": utc(int(dt.datetime.now(dt.UTC).timestamp()))}) + "\n"


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
