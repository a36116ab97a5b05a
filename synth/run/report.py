"""What a run prints: the seed's four lines, an hourly histogram with the anomalies marked,
and a progress bar on stderr. Strings only (and rich's bar); the CLI decides where they go."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from synth.generate.zone import Zone

if TYPE_CHECKING:
    from synth.run.generate import Run

BLOCKS = " ▁▂▃▄▅▆▇█"


def _days_text(days: float) -> str:
    return f"{days:g}"


def plural(n: float, one: str, many: str | None = None) -> str:
    """``1 file``, ``31,532 files``, ``0 lines``: the count with thousands separators, and the
    noun in the number it takes."""
    number = f"{n:,}" if isinstance(n, int) else f"{n:,g}"
    return f"{number} {one if n == 1 else (many or one + 's')}"


def seed_lines(run: Run) -> list[str]:
    """The lines the original tool printed (users' scripts grep for them): the range, and the
    first anomaly's start and end. With more than one anomaly, a table of every window follows."""
    days = _days_text(run.scenario.days)
    lines = [f"creating time series for previous {days} days"]
    anomalies = run.truth["anomalies"]
    if run.windows:
        lines.append(f"creating anomaly time series range within the previous {days} days")
    if anomalies:
        lines.append(f"Anomaly Start Time {anomalies[0]['start']}")
        lines.append(f"Anomaly End Time {anomalies[0]['end']}")
    if len(anomalies) > 1:
        lines += window_table(anomalies, run.scenario.zone)
    return lines


def window_table(anomalies: list[dict[str, Any]], zone: Zone) -> list[str]:
    """Every anomaly window, labelled: kind, start and end in UTC and in the log's zone, magnitude."""
    local = not (zone.fixed and zone.offset(0) == 0)
    head = ["#", "kind", "start (UTC)", "end (UTC)"] + ([f"start ({zone.name})"] if local else []) + ["minutes", "magnitude"]
    rows = [head]
    for k, a in enumerate(anomalies, 1):
        start_s, end_s = a["start_ms"] // 1000, a["end_ms"] // 1000
        row = [str(k), a["kind"], a["start"], a["end"]]
        if local:
            row.append(zone.local(start_s).strftime("%Y-%m-%d %H:%M ") + zone.text(start_s))
        row += [f"{(end_s - start_s) / 60:g}", f"{a['magnitude']:g}"]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    title = f"{plural(len(anomalies), 'anomaly window')}:"
    return [title] + ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def histogram_lines(run: Run, color: bool = False) -> list[str]:
    """Lines per hour as one row of bars per day, in the zone the files are written in;
    hours touched by an anomaly are marked (times in that zone too).

        lines per UTC hour (full block = 21,304 or more; anomaly hours marked)
                    00  04  08  12  16  20
        Wed 25 Nov  ▃▃▂▂▂▂▂▃▃▄▄▅▅▅▅▆▆▆█▆▆▅▅▄  <- spike 18:31-19:01 x10
    """
    hourly = run.hourly
    if len(hourly) == 0:
        return []
    zone = run.scenario.zone
    marked: dict[int, list[str]] = {}
    for anomaly, window in zip(run.truth["anomalies"], run.windows):
        span = f"{zone.local(window.start):%H:%M}-{zone.local(window.end):%H:%M}"
        for hour in range((window.start - run.hour0) // 3600, (window.end - 1 - run.hour0) // 3600 + 1):
            marked.setdefault(hour, []).append(f"{anomaly['kind']} {span} x{anomaly['magnitude']:g}")
    # Normal hours fill three quarters of a block at most, so the daily rhythm stays visible
    # beside an anomaly ten times as tall; anomaly hours are drawn full and marked.
    normal = [int(c) for i, c in enumerate(hourly) if i not in marked]
    peak = max(1, int(max(normal, default=int(hourly.max())) / 0.75))
    # Each hour's place on the local clock: the day row and the hour column. The autumn hour
    # that repeats shares its cell (the mean of the two is drawn); the spring hour skipped is blank.
    cells: dict[tuple[dt.date, int], list[int]] = {}
    for i in range(len(hourly)):
        when = zone.local(run.hour0 + i * 3600)
        cells.setdefault((when.date(), when.hour), []).append(i)
    days = sorted({d for d, _ in cells})
    utc = zone.fixed and zone.offset(0) == 0
    what = "UTC hour" if utc else f"hour, {zone.name}" if not zone.fixed else f"hour at {zone.name}"
    lines = [f"lines per {what} (full block = {peak:,} or more; anomaly hours marked)",
             " " * 12 + "".join(f"{h:02d}  " for h in range(0, 24, 4)).rstrip()]
    for day in days:
        row_cells: list[str] = []
        notes: list[str] = []
        for h in range(24):
            found = cells.get((day, h))
            if not found:
                row_cells.append(" ")
                continue
            count = sum(int(hourly[i]) for i in found) / len(found)
            level = min(len(BLOCKS) - 1, int(round(count / peak * (len(BLOCKS) - 1))))
            block = BLOCKS[max(level, 1 if count else 0)]
            hit = [i for i in found if i in marked]
            if hit:
                block = f"[bold red]{block}[/]" if color else block
                for i in hit:
                    notes.extend(n for n in marked[i] if n not in notes)
            row_cells.append(block)
        row = f"{day:%a %d %b}  {''.join(row_cells)}"
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
