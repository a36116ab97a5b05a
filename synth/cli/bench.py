"""synth bench."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from synth.cli.common import Number, UsageProblem, cli
from synth.generate.checks import MAX_WORKERS, Bounds, ScenarioError
from synth.run.report import Progress


@cli.command("bench")
@click.option("--lines", type=Number(Bounds(1000, 10**9, integer=True)), default=None,
              help="About how many lines each run makes (default 5,000,000), or with --inject reads (default 3,000,000).")
@click.option("--workers", type=Number(Bounds(1, MAX_WORKERS, integer=True)), default=None, help="Worker processes (default: one per core).")
@click.option("--repeat", type=Number(Bounds(1, 100, integer=True)), default=3, show_default=True, help="Runs; figures are medians.")
@click.option("--dir", "folder", default=None, metavar="DIR", help="Where to write (default: the system's temp folder).")
@click.option("--progress", is_flag=True, help="Draw the progress bar on stderr, to measure what it costs.")
@click.option("--stream", "live", is_flag=True,
              help="Measure synth stream's pacing instead: lines per window of wall time against --rate.")
@click.option("--rate", type=Number(Bounds(1, 1e6)), default=5000, show_default=True,
              help="With --stream: the target, lines per second.")
@click.option("--seconds", type=Number(Bounds(10, 86400, integer=True)), default=60, show_default=True,
              help="With --stream: how long to stream.")
@click.option("--inject", "injecting", is_flag=True,
              help="Measure synth inject instead: a week of a plain combined log, injected --repeat times.")
@click.option("--anomaly", "anomalies", multiple=True, metavar="KIND[:k=v,...]",
              help="With --inject: the anomalies injected (default: spike); repeatable.")
@click.option("--verify", "verify", is_flag=True,
              help="Measure synth verify instead: lines/s over a default run of synth generate (or one of "
                   "--lines lines), with the bundled pipeline.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every figure.")
def bench_command(lines: int | None, workers: int | None, repeat: int, folder: str | None, progress: bool, live: bool,
                  rate: float, seconds: int, injecting: bool, anomalies: tuple[str, ...], verify: bool,
                  as_json: bool) -> None:
    """Time generation end to end (lines/s, MB/s, peak memory) against a raw write of the same bytes.

    With --stream, stream a day without rhythm at --rate for --seconds of real time and show
    how evenly the lines came: per 10 seconds and per sliding minute against the target, the
    share written within their own second, and how late writes were.

    With --inject, write a week of a plain combined log without anomalies (untimed), then time
    synth inject on it: input lines/s and MB/s, CPU time, each stage, and the machine's load.

    With --verify, write a default run once (a week, about 1.2 million lines; --lines scales
    it) and time synth verify of it: lines/s, CPU time of all its processes, the machine's
    load average before and after.

    \b
    Example:
        synth bench --workers 2
        synth bench --lines 200000 --json
        synth bench --stream --rate 5000 --seconds 120
        synth bench --inject --lines 3000000 --repeat 5
        synth bench --verify --repeat 3
    """
    if live + injecting + verify > 1:
        raise UsageProblem("--stream, --inject and --verify: choose one")
    from synth.run.bench import bench, bench_inject, bench_stream

    made = lines or 5_000_000

    def bar() -> Callable[[int], None]:
        shown = Progress(enabled=True)
        shown.start(made)
        return shown.advance

    from synth.run.signals import Interrupted
    try:
        if verify:
            from synth.cli.logs import verify_progress_bar
            from synth.run.bench_verify import bench_verify
            result: Any = bench_verify(lines=lines, workers=workers, repeat=repeat, folder=folder,
                                       bar=(lambda total: verify_progress_bar(total, always=True)) if progress else None)
        elif live:
            result = bench_stream(rate=rate, seconds=seconds, folder=folder)
        elif injecting:
            try:
                result = bench_inject(lines=lines or 3_000_000, repeat=repeat, folder=folder,
                                      anomalies=anomalies or ("spike",))
            except ScenarioError as e:
                raise UsageProblem("\n".join(f"{path}: {msg}" if path else msg for path, msg in e.problems)) from None
        else:
            result = bench(lines=made, workers=workers, repeat=repeat, folder=folder,
                           progress_factory=bar if progress else None)
    except Interrupted:  # its scratch folder is gone: nothing to say about a run's files
        raise click.exceptions.Abort() from None
    if as_json:
        click.echo(json.dumps(result.as_dict()))
    else:
        for line in result.lines_text():
            click.echo(line)


