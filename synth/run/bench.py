"""``synth bench``: how fast a run goes from scenario to rotated files, against a raw write.

A week of the classic scenario with the rate set so that it makes about ``lines`` lines,
into a temporary folder; then the same number of bytes, cut from the run's own output,
written raw with large (8 MB) sequential writes to the same folder, twice: once to the disk
(timed until ``fdatasync`` returns, as ``dd conv=fdatasync`` measures what a disk takes) and
once into the page cache only. Everything dirty is written out before each timed step, so
none of them waits on another's data. Several runs; the figures are medians.

``bench_inject`` times ``synth inject`` the same way: a week of a plain combined log with no
anomaly (about ``lines`` lines, written once, untimed), then several injections of it.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import platform
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from synth.run.generate import generate
from synth.run.signals import Interrupted, on_forced_exit

BENCH_END = dt.datetime(2026, 1, 5, 12, 0, 0, tzinfo=dt.UTC)  # noon: two half days balance two workers
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
    raw_mb_per_s: float  # median rate of a raw write of the same bytes to the disk (fdatasync included)
    ratio: float  # mb_per_s / raw_mb_per_s
    cache_mb_per_s: float  # median rate of the same raw write into the page cache only (no fdatasync)
    peak_rss_mb: float  # the largest resident set of this process or any worker
    peak_total_mb: float | None  # the most this process and its workers held together (sampled Pss)
    runs: list[float] = field(default_factory=list)
    raw_runs: list[float] = field(default_factory=list)
    cache_runs: list[float] = field(default_factory=list)
    cpu: str = ""  # the processor's model name and the cores this process may use
    cpu_seconds: float = 0.0  # median CPU time of a run, every process of it (a busy machine's other load excluded)

    def as_dict(self) -> dict:
        return asdict(self)

    def lines_text(self) -> list[str]:
        return [
            f"{self.lines:,} lines, {self.bytes / 1e6:,.1f} MB in {self.files} files, {self.workers} worker{'' if self.workers == 1 else 's'}, "
            f"median of {self.repeat}",
            f"machine:   {self.cpu}",
            f"generate:  {self.lines_per_s:>12,.0f} lines/s  {self.mb_per_s:8.1f} MB/s  ({self.seconds:.2f} s, "
            f"{self.cpu_seconds:.2f} s of CPU)",
            f"raw write: {self.raw_mb_per_s:>30.1f} MB/s  to the disk (fdatasync)",
            f"           {self.cache_mb_per_s:>30.1f} MB/s  into the page cache",
            f"ratio to raw write: {self.ratio:.2f} (to the disk), {self.mb_per_s / self.cache_mb_per_s:.2f} (page cache)",
            f"peak memory: {self.peak_rss_mb:.0f} MB the largest process"
            + (f", {self.peak_total_mb:.0f} MB all processes" if self.peak_total_mb is not None else ""),
        ]


def _raw_write(folder: Path, source: Path, total: int, durable: bool) -> float:
    """Seconds to write ``total`` bytes (cut from ``source``) in 8 MB sequential writes, and
    with ``durable`` until they are on the disk."""
    with open(source, "rb") as fh:
        block = memoryview(fh.read(RAW_BLOCK))
    target = folder / "raw.bin"
    os.sync()
    began = time.perf_counter()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        left = total
        while left > 0:
            left -= os.write(fd, block[:left] if left < len(block) else block)
        if durable:
            os.fdatasync(fd)
    finally:
        os.close(fd)
    seconds = time.perf_counter() - began
    target.unlink()
    return seconds


def cpu_model() -> str:
    """``Intel(R) Xeon(R) Processor, 2 cores``: the processor (from /proc/cpuinfo where there is
    one) and the cores this process may run on."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return f"{name}, {cores} core{'s' if cores != 1 else ''}"


def _cpu_now() -> float:
    """CPU time of this process and of its children that have ended (workers, once joined)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mb() -> float:
    """Where /proc cannot be sampled: the high-water marks the kernel keeps (after an exec,
    they include the parent's, so a bench started from a big process reads high)."""
    kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return kb / 1024


class TreeMemory:
    """The memory of this process and all its descendants, sampled by a thread: the peak of
    their sum, and the largest single process.

    The sum adds up Pss (proportional set size), which shares each page among the processes
    mapping it, so what forked workers share with the parent counts once; the largest process
    is its resident set (Rss). The sampler only makes system calls (no Python locks are held
    across them), so a fork while it runs is safe; after each sample it sleeps 50 times the CPU
    time the sample took: at most 2% of a core. Used as a context manager, several times over,
    it samples only inside each ``with`` and keeps the peaks of all of them.
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self.largest_kb = 0
        self.samples = 0
        self.available = os.path.exists(f"/proc/{os.getpid()}/smaps_rollup")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TreeMemory:
        if self.available:
            self._stop.clear()
            self._thread = threading.Thread(target=self._sample_until_stopped, name="synth-bench-memory", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    @property
    def peak_mb(self) -> float | None:
        return self.peak_kb / 1024 if self.available else None

    @property
    def largest_mb(self) -> float | None:
        return self.largest_kb / 1024 if self.available else None

    def _sample(self) -> None:
        processes = [_rollup(pid) for pid in process_tree(os.getpid())]
        self.peak_kb = max(self.peak_kb, sum(pss for _, pss in processes))
        self.largest_kb = max([self.largest_kb] + [rss for rss, _ in processes])
        self.samples += 1

    def _sample_until_stopped(self) -> None:
        while True:
            began = time.thread_time()
            self._sample()
            if self._stop.wait(max(0.01, 50 * (time.thread_time() - began))):
                break
        self._sample()


def _read(path: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # a worker that has just exited
        return b""
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def _rollup(pid: int) -> tuple[int, int]:
    """(Rss, Pss) of a process in kB; zeros once it has gone."""
    found = {}
    for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith((b"Rss:", b"Pss:")):
            found[line[:3]] = int(line.split()[1])
    return found.get(b"Rss", 0), found.get(b"Pss", 0)


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            todo += [int(child) for child in _read(f"/proc/{pid}/task/{tid}/children").split()]
    return found


def tree_pss_kb(pid: int) -> int:
    """Pss of ``pid`` and every process below it, in kB."""
    return sum(_rollup(p)[1] for p in process_tree(pid))


@contextmanager
def scratch_folder(prefix: str, folder: str | None) -> Iterator[Path]:
    """A temporary folder that is gone afterwards, however the block ends: an error, Ctrl-C
    (the run stops, then this removes it), or a second Ctrl-C that exits at once."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=folder))
    try:
        with on_forced_exit(lambda: shutil.rmtree(scratch, ignore_errors=True)):
            yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def bench(lines: int = 5_000_000, workers: int | None = None, repeat: int = 3, folder: str | None = None,
          progress_factory: Callable[[], Callable[[int], None]] | None = None) -> Bench:
    """Run the benchmark; nothing it writes is left behind."""
    rate = lines / (BENCH_DAYS * 86400)
    times, raw_times, cache_times, cpu_times = [], [], [], []
    run = None
    memory = TreeMemory()  # around each run, not the raw writes
    for _ in range(repeat):
        with scratch_folder("synth-bench-", folder) as scratch:
            progress = progress_factory() if progress_factory else None
            os.sync()
            with memory:
                began, cpu_began = time.perf_counter(), _cpu_now()
                run = generate("classic", seed=1, out_dir=scratch / "output", workers=workers, end=BENCH_END,
                               days=BENCH_DAYS, rate=rate, progress=progress)
                times.append(time.perf_counter() - began)
                cpu_times.append(_cpu_now() - cpu_began)
            biggest = max(run.files, key=lambda f: f.bytes)
            source = scratch / "output" / biggest.name
            raw_times.append(_raw_write(scratch, source, run.bytes, durable=True))
            cache_times.append(_raw_write(scratch, source, run.bytes, durable=False))
    assert run is not None
    seconds = statistics.median(times)
    raw_seconds = statistics.median(raw_times)
    mb_per_s = run.bytes / seconds / 1e6
    raw_mb_per_s = run.bytes / raw_seconds / 1e6
    cache_mb_per_s = run.bytes / statistics.median(cache_times) / 1e6
    workers_used = workers or len(os.sched_getaffinity(0))
    return Bench(lines=run.lines, bytes=run.bytes, files=len(run.files), workers=workers_used, repeat=repeat,
                 seconds=seconds, lines_per_s=run.lines / seconds, mb_per_s=mb_per_s, raw_mb_per_s=raw_mb_per_s,
                 ratio=mb_per_s / raw_mb_per_s, cache_mb_per_s=cache_mb_per_s,
                 peak_rss_mb=memory.largest_mb or _peak_rss_mb(), peak_total_mb=memory.peak_mb, runs=times,
                 raw_runs=raw_times, cache_runs=cache_times, cpu=cpu_model(),
                 cpu_seconds=statistics.median(cpu_times))


# -- synth bench --stream: pacing ---------------------------------------------------------------
# A flat day (no daily or weekly rhythm, no anomalies): the target is the same every second.
FLAT = {"name": "flat", "daily": [1.0] * 24, "weekend": 1.0, "anomalies": []}


@dataclass
class StreamBench:
    rate: float  # the target, lines per second
    seconds: int  # how long the stream ran, in wall seconds (speed 1)
    window: int  # seconds per row of ``windows``
    lines: int
    bytes: int
    files: int
    windows: list[dict] = field(default_factory=list)  # per window: lines written, rate, deviation
    max_deviation_pct: float = 0.0  # largest |written - target| / target over the windows
    minute_max_deviation_pct: float | None = None  # the same over every minute, sliding by a second
    in_own_second_pct: float = 0.0  # lines written within the second of their timestamp
    lag_ms: dict[str, float] = field(default_factory=dict)  # newest line of a batch: write time - its time
    batches: int = 0
    ready_s: float = 0.0  # from the call until set up (pools, model, lock, files)
    start_s: float = 0.0  # from the call to the stream's first second
    cpu_pct: float = 0.0  # CPU time of this process from the first line on, over that wall time

    def as_dict(self) -> dict:
        return asdict(self)

    def lines_text(self) -> list[str]:
        out = [f"stream of {self.rate:,.0f} lines/s for {self.seconds} s, {self.batches:,} writes, "
               f"{self.files} files; each row {self.window} s of wall time"]
        for w in self.windows:
            out.append(f"  {w['from_s']:>4}-{w['to_s']:<4} s {w['lines']:>10,} lines {w['rate']:>11,.1f}/s "
                       f"{w['deviation_pct']:>+7.2f} %")
        total = self.lines / self.seconds
        out.append(f"whole run: {self.lines:,} lines, {total:,.1f}/s ({(total / self.rate - 1) * 100:+.2f} %)")
        out.append(f"largest deviation from the target over a {self.window}-s row: {self.max_deviation_pct:.2f} %")
        if self.minute_max_deviation_pct is not None:
            out.append(f"largest deviation over any minute (sliding by 1 s): {self.minute_max_deviation_pct:.2f} %")
        out.append(f"lines written within the second of their timestamp: {self.in_own_second_pct:.3f} %")
        out.append(f"lag of a write behind its newest line: median {self.lag_ms['median']:.0f} ms, "
                   f"p99 {self.lag_ms['p99']:.0f} ms, max {self.lag_ms['max']:.0f} ms")
        out.append(f"set up in {self.ready_s:.1f} s, first second {self.start_s:.0f} s after the call; "
                   f"CPU {self.cpu_pct:.0f} % of one core while streaming")
        return out


def bench_stream(rate: float = 5000.0, seconds: int = 60, window: int = 10, folder: str | None = None) -> StreamBench:
    """Stream a flat day at ``rate`` for ``seconds`` of real time and measure how evenly lines
    came: per window of wall time, lines written against the target. Nothing is left behind."""
    from synth.run.stream import Batch, StreamRun, stream

    writes: list[tuple[float, int, np.ndarray]] = []
    marks: dict[str, float] = {}

    def on_start(run: StreamRun) -> None:
        marks["ready"] = time.time()

    def on_batch(batch: Batch) -> None:
        marks.setdefault("cpu", time.process_time())
        writes.append((batch.wall, batch.upto_ms, batch.seconds))

    began = time.time()
    with scratch_folder("synth-bench-stream-", folder) as scratch:
        run = stream(FLAT, seed=1, rate=rate, duration=seconds, out_dir=scratch / "output", rotate="size:100MB",
                     on_start=on_start, on_batch=on_batch)
    if run.stopped_by:  # Ctrl-C: a stream's normal end, but no measurement
        raise Interrupted(run.stopped_by, run.lines, len(run.files))
    cpu = time.process_time() - marks["cpu"]
    wall = np.array([w for w, _, _ in writes])
    counts = np.array([len(s) for _, _, s in writes])
    # Lines per wall second since the start, then per window and per sliding minute.
    per_second = np.bincount(np.clip((wall - run.start).astype(np.int64), 0, seconds - 1), weights=counts,
                             minlength=seconds)
    windows = []
    for lo in range(0, seconds, window):
        hi = min(seconds, lo + window)
        n = int(per_second[lo:hi].sum())
        windows.append({"from_s": lo, "to_s": hi, "lines": n, "rate": n / (hi - lo),
                        "deviation_pct": (n / (hi - lo) / rate - 1) * 100})
    minute = None
    if seconds >= 60:
        sums = np.convolve(per_second, np.ones(60), mode="valid")
        minute = float(np.abs(sums / (60 * rate) - 1).max() * 100)
    own = sum(int((s == np.floor(w)).sum()) for w, _, s in writes)
    lag = np.array([w - upto / 1000 for w, upto, _ in writes]) * 1000
    return StreamBench(rate=rate, seconds=seconds, window=window, lines=run.lines, bytes=run.bytes,
                       files=len(run.files), windows=windows,
                       max_deviation_pct=max(abs(w["deviation_pct"]) for w in windows),
                       minute_max_deviation_pct=minute, in_own_second_pct=own / max(1, run.lines) * 100,
                       lag_ms={"median": float(np.median(lag)), "p99": float(np.percentile(lag, 99)),
                               "max": float(lag.max())},
                       batches=len(writes), ready_s=marks["ready"] - began, start_s=run.start - began,
                       cpu_pct=cpu / max(1e-9, wall.max() - wall.min()) * 100)


# -- synth bench --inject: a week of a plain combined log, injected ----------------------------
QUIET = {"name": "quiet", "description": "A week with nothing unusual: the log inject is timed on.", "anomalies": []}


@dataclass
class InjectBench:
    lines: int  # input lines
    bytes: int  # input bytes
    files: int
    anomalies: list[str]
    repeat: int
    seconds: float  # median wall time of a whole injection
    lines_per_s: float  # input lines per second
    mb_per_s: float  # input MB per second
    cpu_seconds: float  # median CPU time of an injection (this process, every thread)
    added: int
    stages: dict[str, float] = field(default_factory=dict)  # median wall seconds of each stage
    runs: list[float] = field(default_factory=list)
    cpu: str = ""
    load: list[float] = field(default_factory=list)  # the machine's load average (1, 5, 15 min) before the runs
    load_after: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def lines_text(self) -> list[str]:
        stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.stages.items())
        return [
            f"{self.lines:,} input lines, {self.bytes / 1e6:,.1f} MB in {self.files} plain combined files; "
            f"{', '.join(self.anomalies)} ({self.added:,} lines added); median of {self.repeat}",
            f"machine:   {self.cpu}; load average {' '.join(f'{x:.2f}' for x in self.load)} before, "
            f"{' '.join(f'{x:.2f}' for x in self.load_after)} after",
            f"inject:    {self.lines_per_s:>12,.0f} input lines/s  {self.mb_per_s:8.1f} MB/s  ({self.seconds:.2f} s, "
            f"{self.cpu_seconds:.2f} s of CPU)",
            f"stages:    {stages}",
            f"runs:      {', '.join(f'{t:.2f}' for t in self.runs)} s",
        ]


def _mark(marks: list[tuple[str, float]], stage: str) -> None:
    marks.append((stage, time.perf_counter()))


def bench_inject(lines: int = 3_000_000, repeat: int = 3, folder: str | None = None,
                 anomalies: tuple[str, ...] = ("spike",)) -> InjectBench:
    """Inject ``anomalies`` into a week of a plain combined log of about ``lines`` lines,
    ``repeat`` times; nothing it writes is left behind. The input is in the page cache (just
    written), as a log being read a second time is."""
    from synth.run.inject import anomaly_specs, inject

    anomaly_specs(None, anomalies)  # a mistyped anomaly is refused before the log is written
    scratch = Path(tempfile.mkdtemp(prefix="synth-bench-inject-", dir=folder))
    times, cpu_times = [], []
    stages: dict[str, list[float]] = {}
    try:
        source = generate({**QUIET, "days": BENCH_DAYS, "rate": lines / (BENCH_DAYS * 86400)}, seed=1,
                          out_dir=scratch / "input", end=BENCH_END)
        load = list(os.getloadavg())
        run = None
        for i in range(repeat):
            out = scratch / f"out{i}"
            marks: list[tuple[str, float]] = []
            os.sync()
            began, cpu_began = time.perf_counter(), time.process_time()
            run = inject([scratch / "input"], out_dir=out, anomalies=list(anomalies), seed=7,
                         progress=functools.partial(_mark, marks))
            ended = time.perf_counter()
            times.append(ended - began)
            cpu_times.append(time.process_time() - cpu_began)
            marks = [("setup", began), *marks, ("", ended)]
            for (stage, t0), (_, t1) in zip(marks, marks[1:]):
                stages.setdefault(stage, []).append(t1 - t0)
            shutil.rmtree(out)
        load_after = list(os.getloadavg())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert run is not None
    seconds = statistics.median(times)
    return InjectBench(lines=run.lines_in, bytes=source.bytes, files=len(source.files), anomalies=list(anomalies),
                       repeat=repeat, seconds=seconds, lines_per_s=run.lines_in / seconds,
                       mb_per_s=source.bytes / seconds / 1e6, cpu_seconds=statistics.median(cpu_times),
                       added=run.added, stages={k: statistics.median(v) for k, v in stages.items()}, runs=times,
                       cpu=cpu_model(), load=load, load_after=load_after)
