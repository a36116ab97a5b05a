"""What a run prints: the seed's four lines, an hourly histogram with the anomalies marked,
and a progress bar on stderr. Strings only (and rich's bar); the CLI decides where they go."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

if TYPE_CHECKING:
    from synth.run.generate import Run

BLOCKS = " ▁▂▃▄▅▆▇█"


def _days_text(days: float) -> str:
    return f"{days:g}"


def seed_lines(run: Run) -> list[str]:
    """The lines the original tool printed; users' scripts grep for them."""
    days = _days_text(run.scenario.days)
    lines = [f"creating time series for previous {days} days"]
    if run.windows:
        lines.append(f"creating anomaly time series range within the previous {days} days")
    for anomaly in run.truth["anomalies"]:
        lines.append(f"Anomaly Start Time {anomaly['start']}")
        lines.append(f"Anomaly End Time {anomaly['end']}")
    return lines


def histogram_lines(run: Run, color: bool = False) -> list[str]:
    """Lines per UTC hour as one row of bars per day; hours touched by an anomaly are marked.

        lines per UTC hour (full block = 21,304 or more; anomaly hours marked)
                    00  04  08  12  16  20
        Wed 25 Nov  ▃▃▂▂▂▂▂▃▃▄▄▅▅▅▅▆▆▆█▆▆▅▅▄  <- spike 18:31-19:01 x10
    """
    hourly = run.hourly
    if len(hourly) == 0:
        return []
    marked: dict[int, list[str]] = {}
    for anomaly, window in zip(run.truth["anomalies"], run.windows):
        for hour in range((window.start - run.hour0) // 3600, (window.end - 1 - run.hour0) // 3600 + 1):
            marked.setdefault(hour, []).append(
                f"{anomaly['kind']} {anomaly['start'][11:16]}-{anomaly['end'][11:16]} x{anomaly['magnitude']:g}")
    # Normal hours fill three quarters of a block at most, so the daily rhythm stays visible
    # beside an anomaly ten times as tall; anomaly hours are drawn full and marked.
    normal = [int(c) for i, c in enumerate(hourly) if i not in marked]
    peak = max(1, int(max(normal, default=int(hourly.max())) / 0.75))
    day0 = run.hour0 // 86400 * 86400
    lead = (run.hour0 - day0) // 3600
    lines = [f"lines per UTC hour (full block = {peak:,} or more; anomaly hours marked)",
             " " * 12 + "".join(f"{h:02d}  " for h in range(0, 24, 4)).rstrip()]
    n_days = (lead + len(hourly) - 1) // 24 + 1
    for d in range(n_days):
        cells: list[str] = []
        notes: list[str] = []
        for h in range(24):
            i = d * 24 + h - lead
            if i < 0 or i >= len(hourly):
                cells.append(" ")
                continue
            level = min(len(BLOCKS) - 1, int(round(hourly[i] / peak * (len(BLOCKS) - 1))))
            block = BLOCKS[max(level, 1 if hourly[i] else 0)]
            if i in marked:
                block = f"[bold red]{block}[/]" if color else block
                notes.extend(n for n in marked[i] if n not in notes)
            cells.append(block)
        label = dt.datetime.fromtimestamp(day0 + d * 86400, dt.UTC).strftime("%a %d %b")
        row = f"{label}  {''.join(cells)}"
        if notes:
            row += "  <- " + "; ".join(notes)
        lines.append(_markup(row) if color else row)
    return lines


def _markup(text: str) -> str:
    console = Console(force_terminal=True, width=200, color_system="standard")
    with console.capture() as capture:
        console.print(text, end="", soft_wrap=True)
    return capture.get()


class Progress:
    """A progress bar on stderr for long runs; does nothing when disabled."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bar: RichProgress | None = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, total: int) -> None:
        if not self.enabled:
            return
        self._bar = RichProgress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self._task = self._bar.add_task("lines", total=total)
        self._bar.start()

    def advance(self, lines: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, lines)


class StackProgress:
    """Bars on stderr while ``synth setup --run`` waits: the run's lines arriving in
    Elasticsearch, then each job's datafeed through the run's range. Does nothing when disabled."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bar: RichProgress | None = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> StackProgress:
        if self.enabled:
            self._bar = RichProgress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.fields[note]}"),
                                     console=Console(stderr=True), transient=True)
            self._bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _show(self, name: str, done: float, total: float, note: str) -> None:
        if self._bar is None:
            return
        if name not in self._tasks:
            self._tasks[name] = self._bar.add_task(name, total=total, note=note)
        self._bar.update(self._tasks[name], completed=min(done, total), note=note)

    def documents(self, count: int, total: int) -> None:
        self._show("documents in smoke_event-*", count, total, f"{count:,} of {total:,}")

    def jobs(self, states: dict[str, Any], start_ms: int, end_ms: int) -> None:
        for job_id, state in states.items():
            latest = state.latest_ms if state.latest_ms is not None else start_ms
            done = end_ms - start_ms if state.done else max(0, latest - start_ms)
            self._show(job_id, done, end_ms - start_ms, f"{state.state}, {state.processed:,} documents")
