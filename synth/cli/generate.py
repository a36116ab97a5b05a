"""synth generate and synth stream."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

import synth
from synth.cli.common import cli, output_options, problem_from
from synth.elastic.filebeat import held_back_note
from synth.generate.anomalies import iso
from synth.generate.scenario import ScenarioError
from synth.run.report import Progress, histogram_lines, seed_lines


@cli.command()
@click.option("--scenario", "scenario", default=None, metavar="NAME|FILE",
              help="Built-in scenario name or YAML file (default: classic).")
@click.option("--days", type=float, default=None, help="Length of the range in days (default 7).")
@click.option("--end", default=None, metavar="TIME",
              help="End of the range, ISO 8601 (default: now, truncated to the second).")
@click.option("--rate", type=float, default=None,
              help="Mean requests per second over the range (default 2: a small site).")
@click.option("--seed", type=int, default=None, help="Same seed, same end, same bytes. Default: drawn and printed.")
@output_options
@click.option("--spike-magnitude", type=float, default=None, help="Traffic factor inside the spike (default 10).")
@click.option("--spike-minutes", type=float, default=None, help="Length of the spike in minutes (default 30).")
@click.option("--workers", type=int, default=None, help="Worker processes (default: one per core). Same bytes for any number.")
@click.option("--shard", default=None, metavar="K/N", help="Write only shard K of N (whole files), for N machines.")
@click.option("--force", is_flag=True, help="Write into a folder that holds files synth did not write.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no histogram.")
@click.option("--report", "report", is_flag=True, help="Also write report.html in the output folder (see synth report).")
def generate(scenario: str | None, days: float | None, end: str | None, rate: float | None, seed: int | None,
             out_dir: str, rotate: str | None, tz: str | None, format_: str | None, log_format: str | None,
             nginx_log_format: str | None, messy: float | None,
             spike_magnitude: float | None, spike_minutes: float | None, workers: int | None, shard: str | None,
             force: bool, quiet: bool, report: bool) -> None:
    """Write rotated access logs, anomalies.json and manifest.json to the output folder.

    \b
    Example:
        synth generate --days 7 --seed 42
        synth generate --days 1 --rate 50 --rotate hour --spike-magnitude 5
        synth generate --report              # and output/report.html
    """
    overrides: dict[str, Any] = {"days": days, "end": end, "rate": rate, "rotate": rotate, "tz": tz,
                                 "format": format_, "log_format": log_format, "nginx_log_format": nginx_log_format,
                                 "messy": messy, "spike_magnitude": spike_magnitude, "spike_minutes": spike_minutes}
    given = {k for k, v in overrides.items() if v is not None}
    progress = Progress(enabled=not quiet and sys.stderr.isatty())

    def on_start(run: synth.Run, expected: int) -> None:
        for line in seed_lines(run):
            click.echo(line)
        progress.start(expected)

    try:
        with progress:
            run = synth.generate(scenario, seed=seed, out_dir=out_dir, force=force, workers=workers, shard=shard,
                                 progress=progress.advance, on_start=on_start, **overrides)
    except ScenarioError as e:
        raise problem_from(e, given) from None
    click.echo(f"wrote {run.lines:,} lines in {len(run.files)} files ({run.bytes / 1e6:,.1f} MB) "
               f"to {run.out_dir}/ in {run.seconds:.1f} s; seed {run.seed}")
    for note in run.notes:
        click.echo(f"note: {note}")
    held_back = held_back_note((f.name, f.bytes) for f in run.files)
    if held_back:
        click.echo(f"note: {held_back}")
    if not quiet:
        for line in histogram_lines(run, color=sys.stdout.isatty()):
            click.echo(line)
    if report:
        write_run_report(run.out_dir)


def write_run_report(out_dir: Path) -> None:
    """The run's report.html beside its files."""
    import time

    from synth.analysis.report import ReportError, build_report, write_report
    from synth.cli.report import report_summary
    from synth.output.files import REPORT
    started = time.perf_counter()
    if not (Path(out_dir) / "manifest.json").exists():  # a shard of nothing, or a run that wrote no file
        return
    try:
        result = build_report([out_dir])
        path = write_report(result, Path(out_dir) / REPORT)
    except (ReportError, ValueError) as e:
        raise click.ClickException(f"report: {e}") from None
    click.echo(report_summary(result, path, time.perf_counter() - started))


@cli.command("stream")
@click.option("--scenario", "scenario", default=None, metavar="NAME|FILE",
              help="Built-in scenario name or YAML file (default: classic).")
@click.option("--rate", type=float, default=None,
              help="Mean requests per second over the stream's range (default 2): the backfill and "
                   "--duration, or a week.")
@click.option("--speed", type=float, default=1.0, show_default=True,
              help="Log time runs X times as fast as the clock (60: an hour a minute).")
@click.option("--duration", default=None, metavar="DURATION",
              help="Stop after this much log time (30s, 10m, 2h, 1d12h). Default: until Ctrl-C or SIGTERM.")
@click.option("--backfill", default=None, metavar="DURATION",
              help="First write the last DURATION of logs at once, as generate would.")
@click.option("--anomaly-every", "anomaly_every", default=None, metavar="DURATION",
              help="A spike every DURATION of log time, instead of the scenario's anomalies.")
@click.option("--seed", type=int, default=None, help="Same seed, same start, same lines. Default: drawn and printed.")
@output_options
@click.option("--spike-magnitude", type=float, default=None, help="Traffic factor inside each spike (default 10).")
@click.option("--spike-minutes", type=float, default=None, help="Length of each spike in minutes (default 30).")
@click.option("--workers", type=int, default=None, help="Worker processes for the backfill (default: one per core).")
@click.option("--force", is_flag=True, help="Write into a folder that holds files synth did not write.")
def stream_command(scenario: str | None, rate: float | None, speed: float, duration: str | None,
                   backfill: str | None, anomaly_every: str | None, seed: int | None, out_dir: str,
                   rotate: str | None, tz: str | None, format_: str | None, log_format: str | None,
             nginx_log_format: str | None, messy: float | None,
                   spike_magnitude: float | None, spike_minutes: float | None, workers: int | None,
                   force: bool) -> None:
    """Append access logs to the output folder in real time, rotating as logrotate does.

    Lines are written as their second comes (--speed compresses time), one write per batch
    of whole lines; access.log is renamed and a new one created at each day, hour or size
    boundary, so a tailer such as Filebeat never loses a line. anomalies.json gains each
    anomaly as it starts and marks it complete when it ends. Ctrl-C or SIGTERM ends the
    stream: the batch is finished, the manifest marked complete, exit status 0.

    \b
    Example:
        synth stream --rate 50 --rotate size:10MB          # until Ctrl-C
        synth stream --backfill 1d --speed 60 --anomaly-every 2h --spike-minutes 15
        synth stream --duration 10m --rate 5000 --rotate size:50MB
    """
    overrides: dict[str, Any] = {"rate": rate, "rotate": rotate, "tz": tz, "format": format_, "log_format": log_format,
                                 "nginx_log_format": nginx_log_format, "messy": messy,
                                 "spike_magnitude": spike_magnitude, "spike_minutes": spike_minutes}
    given = {k for k, v in overrides.items() if v is not None}

    def on_start(run: synth.StreamRun) -> None:
        backfill_from = f" after a backfill from {iso(run.first)}" if run.first < run.start else ""
        until = "" if duration else "; stop with Ctrl-C"
        click.echo(f"streaming to {run.out_dir}/access.log from {iso(run.start)}{backfill_from}, about "
                   f"{run.rate_now:,.1f} lines per log second, speed {run.speed:g}; seed {run.seed}{until}")

    def on_window(entry: dict, what: str) -> None:
        click.echo(f"Anomaly Start Time {entry['start']}" if what == "start" else f"Anomaly End Time {entry['end']}")

    try:
        run = synth.stream(scenario, seed=seed, out_dir=out_dir, force=force, speed=speed, duration=duration,
                           backfill=backfill, anomaly_every=anomaly_every, workers=workers, on_start=on_start,
                           on_window=on_window, **{k: v for k, v in overrides.items() if v is not None})
    except ScenarioError as e:
        raise problem_from(e, given) from None
    stopped = f"stopped by {signal.Signals(run.stopped_by).name}; " if run.stopped_by else ""
    backfilled = f", {run.backfill_lines:,} of them backfilled," if run.first < run.start else ""
    click.echo(f"{stopped}wrote {run.lines:,} lines{backfilled} in {len(run.files)} files "
               f"({run.bytes / 1e6:,.1f} MB) to {run.out_dir}/ in {run.seconds:.1f} s; seed {run.seed}")


