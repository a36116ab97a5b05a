"""synth generate and synth stream."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

import synth
from synth.cli.common import check_formats, cli, output_options, plural, problem_from, quiet_option
from synth.elastic.filebeat import held_back_note
from synth.generate.anomalies import iso
from synth.generate.scenario import ScenarioError
from synth.run.report import Progress, histogram_lines, seed_lines, window_table


@cli.command()
@click.option("--scenario", "scenario", default=None, metavar="NAME|FILE",
              help="Built-in scenario name or YAML file (default: classic).")
@click.option("--days", type=float, default=None, help="Length of the range in days (default 7).")
@click.option("--end", default=None, metavar="TIME",
              help="End of the range: now (the default, truncated to the second), epoch seconds, or ISO 8601 "
                   "(2026-11-28T12:00:00+01:00; a time without a zone is UTC).")
@click.option("--rate", type=float, default=None,
              help="Mean requests per second over the range (default 2: a small site).")
@click.option("--seed", type=int, default=None, help="Same seed, same end, same bytes. Default: drawn and printed.")
@output_options
@click.option("--spike-magnitude", type=float, default=None, help="Traffic factor inside the spike (default 10).")
@click.option("--spike-minutes", type=float, default=None, help="Length of the spike in minutes (default 30).")
@click.option("--workers", type=int, default=None, help="Worker processes (default: one per core). Same bytes for any number.")
@click.option("--shard", default=None, metavar="K/N", help="Write only shard K of N (whole files), for N machines.")
@click.option("--force", is_flag=True,
              help="Write into a folder that holds files synth did not write, or past 1,000 size-rotated files.")
@quiet_option
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
    check_formats(format_, log_format)
    progress = Progress(enabled=not quiet and sys.stderr.isatty())

    def on_start(run: synth.Run, expected: int) -> None:
        for line in seed_lines(run)[:None if not quiet else 4]:
            click.echo(line)
        progress.start(expected)

    try:
        with progress:
            run = synth.generate(scenario, seed=seed, out_dir=out_dir, force=force, workers=workers, shard=shard,
                                 progress=progress.advance, on_start=on_start, **overrides)
    except ScenarioError as e:
        raise problem_from(e, given) from None
    click.echo(f"wrote {plural(run.lines, 'line')} in {plural(len(run.files), 'file')} ({run.bytes / 1e6:,.1f} MB) "
               f"to {run.out_dir}/ in {run.seconds:.1f} s; seed {run.seed}")
    for note in run.notes:
        click.echo(f"note: {note}")
    held_back = held_back_note((f.name, f.bytes) for f in run.files)
    if held_back:
        click.echo(f"note: {held_back}")
    warn_unmeasurable(run.truth["anomalies"])
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
    from synth.output.names import REPORT
    started = time.perf_counter()
    if not (Path(out_dir) / "manifest.json").exists():  # a shard of nothing, or a run that wrote no file
        return
    try:
        result = build_report([out_dir])
        path = write_report(result, Path(out_dir) / REPORT)
    except (ReportError, ValueError) as e:
        raise click.ClickException(f"report: {e}") from None
    click.echo(report_summary(result, path, time.perf_counter() - started))


def warn_unmeasurable(anomalies: list[dict]) -> None:
    """One line on stderr for each window too small to find: its label says so too."""
    for a in anomalies:
        if a.get("measurable") is False:
            click.echo(f"synth: warning: {a['id']} is not measurable: {a['too_few']}", err=True)


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
@quiet_option
def stream_command(scenario: str | None, rate: float | None, speed: float, duration: str | None,
                   backfill: str | None, anomaly_every: str | None, seed: int | None, out_dir: str,
                   rotate: str | None, tz: str | None, format_: str | None, log_format: str | None,
             nginx_log_format: str | None, messy: float | None,
                   spike_magnitude: float | None, spike_minutes: float | None, workers: int | None,
                   force: bool, quiet: bool) -> None:
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
    check_formats(format_, log_format)
    seen: list[dict] = []

    def on_start(run: synth.StreamRun) -> None:
        for note in run.notes:
            click.echo(f"synth: {note}", err=True)
        if quiet:
            return
        backfill_from = f" after a backfill from {iso(run.first)}" if run.first < run.start else ""
        until = "" if duration else "; stop with Ctrl-C"
        click.echo(f"streaming to {run.out_dir}/access.log from {iso(run.start)}{backfill_from}, about "
                   f"{run.rate_now:,.1f} lines per log second, speed {run.speed:g}; seed {run.seed}{until}")

    def on_window(entry: dict, what: str) -> None:
        # The seed's two lines for the first window (scripts grep them); the others labelled.
        if what == "start":
            seen.append(entry)
        first = entry is seen[0]
        if first:
            click.echo(f"Anomaly Start Time {entry['start']}" if what == "start" else f"Anomaly End Time {entry['end']}")
        elif not quiet:
            click.echo(f"anomaly {entry['id']} ({entry['kind']} x{entry['magnitude']:g}) "
                       + (f"starts {entry['start']}" if what == "start" else f"ends {entry['end']}"))

    try:
        run = synth.stream(scenario, seed=seed, out_dir=out_dir, force=force, speed=speed, duration=duration,
                           backfill=backfill, anomaly_every=anomaly_every, workers=workers, on_start=on_start,
                           on_window=on_window, **{k: v for k, v in overrides.items() if v is not None})
    except ScenarioError as e:
        raise problem_from(e, given) from None
    stopped = f"stopped by {signal.Signals(run.stopped_by).name}; " if run.stopped_by else ""
    backfilled = f", {run.backfill_lines:,} of them backfilled," if run.first < run.start else ""
    click.echo(f"{stopped}wrote {plural(run.lines, 'line')}{backfilled} in {plural(len(run.files), 'file')} "
               f"({run.bytes / 1e6:,.1f} MB) to {run.out_dir}/ in {run.seconds:.1f} s; seed {run.seed}")
    if len(run.anomalies) > 1 and not quiet:
        for line in window_table(run.anomalies, run.scenario.zone):
            click.echo(line)
    warn_unmeasurable(run.anomalies)


