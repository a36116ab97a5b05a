"""Raw blocks of a log file: plain or gzip (told by its first bytes, whatever its name), in
blocks of whole lines of about ``BLOCK_BYTES``, the next one read ahead in a thread. What the
lines mean is logparse's; this module only cuts bytes at newlines.
"""

from __future__ import annotations

import gzip
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BLOCK_BYTES = 16 << 20


class LogReadError(ValueError):
    """A file that cannot be read, or a format that cannot be told or does not fit."""


def _open(path: Path) -> Any:
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        return gzip.open(path, "rb") if gzipped else open(path, "rb")
    except FileNotFoundError:
        raise LogReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LogReadError(f"{path}: is a folder, not a log file") from None
    except OSError as e:
        raise LogReadError(f"{path}: {e.strerror or e}") from None


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def _blocks(path: Path, block_bytes: int, tap: Callable[[bytes], None] | None, start: int,
            stop: int | None) -> Iterator[tuple[bytes, bool]]:
    left = -1 if stop is None else stop - start  # bytes still to read; -1: to the end
    try:
        with _open(path) as fh:
            if start:
                fh.seek(start)
            while left and (block := fh.read(block_bytes if left < 0 else min(block_bytes, left))):
                if not block.endswith(b"\n") and left != len(block):
                    block += fh.readline() if left < 0 else fh.readline(left - len(block))  # the rest of its last line
                left = left if left < 0 else left - len(block)
                if tap is not None:
                    tap(block)
                yield block, block.endswith(b"\n")
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise LogReadError(f"{path}: not a readable gzip file ({e})") from None
    except OSError as e:
        raise LogReadError(f"{path}: {e.strerror or e}") from None


def read_blocks(path: str | Path, block_bytes: int = BLOCK_BYTES, tap: Callable[[bytes], None] | None = None,
                start: int = 0, stop: int | None = None) -> Iterator[tuple[bytes, bool]]:
    """``(block, terminated)``: the file's bytes in blocks of whole lines, each block ending in
    ``\\n`` except perhaps the file's last (``terminated`` False: its last line has no newline).

    The next block is read (and gunzipped) in a thread while the caller works on this one:
    reading and zlib release the GIL, so the second core does that work. ``tap``, when given,
    is called with each block in that thread before the caller gets it (a hash's ``update``:
    hashlib releases the GIL too). ``start`` and ``stop`` read only the bytes ``[start, stop)``
    of the (plain) text: from a block's start, the same blocks as a whole read gives.
    """
    path = Path(path)
    if block_bytes < (1 << 20):
        yield from _blocks(path, block_bytes, tap, start, stop)
        return
    ahead: queue.Queue = queue.Queue(maxsize=1)
    done = object()
    halt = threading.Event()

    def hand(item: object) -> bool:
        """Put ``item`` for the reader; False once the reader has stopped (it never takes it)."""
        while not halt.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in _blocks(path, block_bytes, tap, start, stop):
                if not hand(item):
                    return
            hand(done)
        except BaseException as e:  # handed to the reader, raised there
            hand(e)

    worker = threading.Thread(target=produce, name=f"read {path.name}", daemon=True)
    worker.start()
    try:
        while True:
            item = ahead.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        halt.set()
        worker.join()


def head_lines(path: Path, n: int) -> list[bytes]:
    """The first ``n`` lines of a file (fewer if it has fewer), without their newlines."""
    lines: list[bytes] = []
    for block, _ in read_blocks(path, 1 << 16):
        lines.extend(block.split(b"\n")[:-1] if block.endswith(b"\n") else block.split(b"\n"))
        if len(lines) >= n:
            break
    return lines[:n]


__all__ = ["BLOCK_BYTES", "LogReadError", "is_gzip", "read_blocks", "head_lines"]
