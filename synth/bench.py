"""``synth bench``: how fast a run goes from scenario to rotated files, against a raw write.

A week of the classic scenario with the rate set so that it makes about ``lines`` lines,
into a temporary folder; then the same number of bytes, cut from the run's own output,
written raw with large (8 MB) sequential writes to the same folder. Both are timed the same way
(no fsync), several times; the figures are medians.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .run import generate

BENCH_END = dt.datetime(2026, 1, 5, 12, 0, 0, tzinfo=dt.timezone.utc)  # noon: two half days balance two workers
BENCH_DAYS = 7
RAW_BLOCK = 8 << 20  # large writes, small enough not to count in the peak memory measured


@dataclass
class Bench:
    lines: int
    bytes: int
    files: int
    workers: int
    repeat: int
    seconds: float  # median wall time of a whole run, setup included
    lines_per_s: float
    mb_per_s: float
    raw_mb_per_s: float  # median raw write rate of the same bytes
    ratio: float  # mb_per_s / raw_mb_per_s
    peak_rss_mb: float  # the largest resident set of this process or any worker
    runs: list[float] = field(default_factory=list)
    raw_runs: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def lines_text(self) -> list[str]:
        return [
            f"{self.lines:,} lines, {self.bytes / 1e6:,.1f} MB in {self.files} files, {self.workers} workers, "
            f"median of {self.repeat}",
            f"generate:  {self.lines_per_s:>12,.0f} lines/s  {self.mb_per_s:8.1f} MB/s  ({self.seconds:.2f} s)",
            f"raw write: {self.raw_mb_per_s:>30.1f} MB/s",
            f"ratio to raw write: {self.ratio:.2f}",
            f"peak memory: {self.peak_rss_mb:.0f} MB",
        ]


def _raw_write(folder: Path, source: Path, total: int) -> float:
    """Seconds to write ``total`` bytes (cut from ``source``) in 8 MB sequential writes."""
    with open(source, "rb") as fh:
        block = memoryview(fh.read(RAW_BLOCK))
    target = folder / "raw.bin"
    began = time.perf_counter()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        left = total
        while left > 0:
            left -= os.write(fd, block[:left] if left < len(block) else block)
    finally:
        os.close(fd)
    seconds = time.perf_counter() - began
    target.unlink()
    return seconds


def _peak_rss_mb() -> float:
    kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return kb / 1024


def bench(lines: int = 5_000_000, workers: int | None = None, repeat: int = 3, folder: str | None = None,
          progress_factory: Callable[[], Callable[[int], None]] | None = None) -> Bench:
    """Run the benchmark; nothing it writes is left behind."""
    rate = lines / (BENCH_DAYS * 86400)
    times, raw_times = [], []
    run = None
    for _ in range(repeat):
        scratch = Path(tempfile.mkdtemp(prefix="synth-bench-", dir=folder))
        try:
            progress = progress_factory() if progress_factory else None
            began = time.perf_counter()
            run = generate("classic", seed=1, out_dir=scratch / "output", workers=workers, end=BENCH_END,
                           days=BENCH_DAYS, rate=rate, progress=progress)
            times.append(time.perf_counter() - began)
            biggest = max(run.files, key=lambda f: f.bytes)
            raw_times.append(_raw_write(scratch, scratch / "output" / biggest.name, run.bytes))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    assert run is not None
    seconds = statistics.median(times)
    raw_seconds = statistics.median(raw_times)
    mb_per_s = run.bytes / seconds / 1e6
    raw_mb_per_s = run.bytes / raw_seconds / 1e6
    workers_used = workers or len(os.sched_getaffinity(0))
    return Bench(lines=run.lines, bytes=run.bytes, files=len(run.files), workers=workers_used, repeat=repeat,
                 seconds=seconds, lines_per_s=run.lines / seconds, mb_per_s=mb_per_s, raw_mb_per_s=raw_mb_per_s,
                 ratio=mb_per_s / raw_mb_per_s, peak_rss_mb=_peak_rss_mb(), runs=times, raw_runs=raw_times)
