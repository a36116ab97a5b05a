"""Reading the input of an injection, never changing it: every line's time in one pass (the
vectorised ``%t`` where the format allows it), with an even sample of raw lines to learn the
log's mix from, each block's lines and bytes (where the writer may cut and copy), and for a
plain file the running sha256 at each block's end (what an untouched stretch of the output
hashes to); later, the raw lines at chosen places.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.analysis.logread import BLOCK_BYTES, LineParser, is_gzip, parse_lines, read_blocks
from synth.generate.anomalies import Window
from synth.render.formats import LineFormat
from synth.run.logmodel import Baseline

MIX_CAP = 20_000  # lines of the log parsed to learn its mix
MIX_RUN = 1_000  # taken in runs of consecutive lines
TIMES = frozenset({"t_ms"})


class _Digests:
    """A tap for read_blocks: the sha256 of a file's bytes, and its state at each block's end."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.states = [self.hash.copy()]  # states[b]: the hash of blocks [0, b)

    def __call__(self, block: bytes) -> None:
        self.hash.update(block)
        self.states.append(self.hash.copy())


@dataclass
class Input:
    """One input file as the first pass saw it."""

    path: Path
    gz: bool
    t_ms: np.ndarray  # every line's time, 0 where it has none
    parsed: np.ndarray
    terminated: bool  # its last line ends in a newline
    block_lines: list[int]  # lines in each block read_blocks gives
    block_bytes: list[int] = field(default_factory=list)  # the blocks' sizes (as plain text)
    digests: list[Any] | None = None  # plain files: the sha256 of blocks [0, b), for each b
    block_size: int = BLOCK_BYTES  # what read_blocks was asked for: read again, the same blocks

    @property
    def block_offsets(self) -> np.ndarray:
        """Where each block starts in the plain text, and (last) the text's size."""
        return np.cumsum([0, *self.block_bytes])


def plain_size(path: Path, gz: bool) -> int:
    """The file's size as plain text: a gzip member's trailer says it (modulo 4 GiB)."""
    size = path.stat().st_size
    if not gz or size < 18:
        return size
    with open(path, "rb") as fh:
        fh.seek(-4, 2)
        return max(int.from_bytes(fh.read(4), "little"), size)


def read_times(files: list[Path], fmt: LineFormat, block_bytes: int | None = None
               ) -> tuple[list[Input], list[bytes], np.ndarray, int]:
    """Every line's time (logread's fast path), and an even sample of about MIX_CAP raw lines
    (runs of MIX_RUN lines, one run in every k, k from the input's size) for learning the log's
    mix: ``(inputs, sample, what each sampled line was taken for, k)``. Blocks are of
    ``block_bytes`` (default: logread's BLOCK_BYTES); the output does not depend on it."""
    block_bytes = block_bytes or BLOCK_BYTES
    gz = [is_gzip(p) for p in files]
    head = b"".join(next(read_blocks(files[0], 1 << 16), (b"", True))[0].splitlines(keepends=True)[:200])
    mean = max(len(head) / max(head.count(b"\n"), 1), 1.0)
    estimate = sum(plain_size(p, g) for p, g in zip(files, gz)) / mean
    every = max(1, int(2 * estimate // MIX_CAP) + 1)
    parser = LineParser(fmt)
    source: list[np.ndarray] = []
    inputs = []
    sample: list[bytes] = []
    seen = 0
    for index, path in enumerate(files):
        digests = None if gz[index] else _Digests()
        times: list[np.ndarray] = []
        parsed: list[np.ndarray] = []
        lines: list[int] = []
        sizes: list[int] = []
        terminated = True
        for block, terminated in read_blocks(path, block_bytes, tap=digests):
            batch = parser.batch(path, index, block, terminated, 1 + sum(lines), TIMES)
            times.append(batch.t_ms)
            parsed.append(batch.parsed)
            lines.append(len(batch))
            sizes.append(len(block))
            # Every k-th line (for rates and shares), and runs of MIX_RUN consecutive lines, one run
            # in every k (whole visits stay whole).
            number = np.arange(seen, seen + len(batch))
            flags = (number % every == 0) * 1 + ((number // MIX_RUN) % every == 0) * 2
            keep = np.flatnonzero(flags)
            data, starts, ends = batch.data, batch.starts[keep].tolist(), batch.ends[keep].tolist()
            sample.extend(data[a:b] for a, b in zip(starts, ends))
            source.append(flags[keep])
            seen += len(batch)
        t = np.concatenate(times) if times else np.zeros(0, np.int64)
        ok = np.concatenate(parsed) if parsed else np.zeros(0, bool)
        inputs.append(Input(path, gz[index], t, ok, terminated, lines, sizes,
                            digests.states if digests is not None else None, block_bytes))
    return inputs, sample, np.concatenate(source) if source else np.zeros(0, np.int64), every


def lines_at(inputs: list[Input], wanted: np.ndarray) -> list[bytes]:
    """The raw lines at global line indexes ``wanted`` (sorted), reading only the blocks that hold them."""
    out: list[bytes] = []
    offset = 0
    for inp in inputs:
        n = len(inp.t_ms)
        mine = wanted[(wanted >= offset) & (wanted < offset + n)] - offset
        first = 0
        for b, (block, _) in enumerate(read_blocks(inp.path, inp.block_size) if len(mine) else ()):
            count = inp.block_lines[b]
            here = mine[(mine >= first) & (mine < first + count)] - first
            if len(here):
                arr = np.frombuffer(block, np.uint8)
                ends = np.r_[np.flatnonzero(arr == 10), len(block)][:count]
                starts = np.r_[0, ends[:-1] + 1]
                out.extend(block[starts[i]:ends[i]] for i in here.tolist())
            first += count
            if first > mine[-1]:
                break
        offset += n
    return out


def same_window(inputs: list[Input], fmt: LineFormat, baseline: Baseline, w: Window,
                t_all: np.ndarray, ok_all: np.ndarray) -> list[list[bytes]]:
    """The clients of the window's clock time on (up to three of) the other days of the log,
    one list a day, read from the lines themselves."""
    days = []
    for k in baseline.days(w.start, w.end)[:3]:
        lo, hi = (w.start + k * 86400) * 1000, (w.end + k * 86400) * 1000
        columns = parse_lines(fmt, lines_at(inputs, np.flatnonzero(ok_all & (t_all >= lo) & (t_all < hi))))
        if columns["client"] is not None:
            days.append(columns["client"][columns["parsed"]].tolist())
    return days


__all__ = ["Input", "MIX_CAP", "MIX_RUN", "read_times", "lines_at", "same_window", "plain_size"]
