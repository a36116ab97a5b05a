"""``synth bench --verify``: how fast ``synth verify`` checks a run against its ingest pipeline.

A run of the classic scenario as ``synth generate`` makes it with its default options (a week
at 2 requests a second, about 1.2 million lines; ``lines`` scales the rate instead), written
once into a temporary folder and not timed; then ``synth verify`` of that folder, in this
process as the command runs it (the same pipeline, the same worker processes, the same
chunks), several times. The figures are medians, with the CPU time the runs took in all their
processes and the load average of the machine around them: on a machine that others share,
wall time says how busy it was as much as how fast verify is.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synth.elastic.verify import Summary, log_files, pipeline_for_paths, verify_files, verify_workers
from synth.run.bench import BENCH_DAYS, BENCH_END, cpu_model
from synth.run.generate import generate

DEFAULT_RATE = 2.0  # synth generate's default: requests per second


@dataclass
class VerifyBench:
    lines: int
    bytes: int
    files: int
    failed: int
    pipeline: str
    workers: int
    repeat: int
    seconds: float  # median wall time of a verify run
    lines_per_s: float  # lines / seconds
    cpu_seconds: float  # median CPU time of a run, every process of it
    lines_per_cpu_s: float  # lines / cpu_seconds: what one core does, whatever else runs
    runs: list[float] = field(default_factory=list)
    cpu_runs: list[float] = field(default_factory=list)
    cpu: str = ""
    load: list[float] = field(default_factory=list)  # 1-minute load average before and after the runs

    def as_dict(self) -> dict:
        return asdict(self)

    def lines_text(self) -> list[str]:
        load = (f"; load average {self.load[0]:.2f} before, {self.load[1]:.2f} after" if self.load else "")
        return [
            f"verify: {self.lines:,} lines, {self.bytes / 1e6:,.1f} MB in {self.files} files, pipeline "
            f"{self.pipeline}, {self.workers} worker{'s' if self.workers != 1 else ''}, median of {self.repeat}",
            f"machine: {self.cpu}{load}",
            f"verify: {self.lines_per_s:>10,.0f} lines/s  ({self.seconds:.2f} s)",
            f"CPU:    {self.lines_per_cpu_s:>10,.0f} lines per CPU-second  ({self.cpu_seconds:.2f} s of CPU, "
            f"all processes)",
            "runs:   " + ", ".join(f"{s:.2f} s" for s in self.runs),
        ]


def _cpu_now() -> float:
    """CPU time of this process and of its children that have ended (verify's workers, once
    their pool is closed)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def bench_verify(lines: int | None = None, workers: int | None = None, repeat: int = 3, folder: str | None = None,
                 bar: Callable[[int], AbstractContextManager[Callable[[int], None] | None]] | None = None) -> VerifyBench:
    """Time ``synth verify`` of a default run (or of one of about ``lines`` lines) ``repeat``
    times; ``workers`` as verify chooses them by default. ``bar(total_bytes)`` is a context
    manager around each run that gives its progress callback (the command's bar, to measure
    what it costs). Nothing is left behind."""
    rate = DEFAULT_RATE if lines is None else lines / (BENCH_DAYS * 86400)
    scratch = Path(tempfile.mkdtemp(prefix="synth-bench-verify-", dir=folder))
    try:
        out = scratch / "output"
        generate("classic", seed=1, out_dir=out, end=BENCH_END, days=BENCH_DAYS, rate=rate)
        files = log_files([out])
        pipeline = pipeline_for_paths([out])
        total = sum(p.stat().st_size for p in files)
        used = workers or verify_workers(total)
        times, cpu_times = [], []
        summary = Summary()
        before = _load()
        for _ in range(repeat):
            summary = Summary(files=files)
            began, cpu_began = time.perf_counter(), _cpu_now()
            with bar(total) if bar is not None else contextlib.nullcontext() as progress:
                for counts, _text in verify_files(files, pipeline, workers=used, progress=progress):
                    summary.merge(counts)
            times.append(time.perf_counter() - began)
            cpu_times.append(_cpu_now() - cpu_began)
        after = _load()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds, cpu_seconds = statistics.median(times), statistics.median(cpu_times)
    return VerifyBench(lines=summary.lines, bytes=total, files=len(files), failed=summary.failed, pipeline=pipeline.id,
                       workers=used, repeat=repeat, seconds=seconds, lines_per_s=summary.lines / seconds,
                       cpu_seconds=cpu_seconds, lines_per_cpu_s=summary.lines / cpu_seconds if cpu_seconds else 0.0,
                       runs=times, cpu_runs=cpu_times, cpu=cpu_model(),
                       load=[before, after] if before is not None and after is not None else [])
