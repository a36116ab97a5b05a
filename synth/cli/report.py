"""synth report: a page (or PNG/SVG) of the timeline with every labelled window."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from synth.cli.common import UsageProblem, cli, cluster_records, connection_options, credentials, job_ids


@cli.command("report")
@click.argument("paths", nargs=-1, metavar="[DIR | LOG...]")
@click.option("--truth", default=None, metavar="FILE|DIR",
              help="The ground truth, anomalies.json (default: the run folder's; a folder means its anomalies.json).")
@click.option("--records", "record_files", multiple=True, metavar="FILE", type=click.Path(dir_okay=False),
              help="Saved get-records API responses (JSON) to put on the timeline and grade; repeat for more.")
@connection_options
@click.option("--job", "jobs", multiple=True, metavar="ID",
              help="Jobs to show and grade (repeat, or comma-separated; default: every job in --records). "
                   "Needed with --es.")
@click.option("--min-score", type=click.FloatRange(0, 100), default=25.0, show_default=True, metavar="SCORE",
              help="Least record_score that counts as flagged, as in synth score.")
@click.option("-o", "--output", "output", default=None, metavar="FILE.html|.png|.svg",
              help="Where to write it; the suffix says what (default: DIR/report.html for a run folder, "
                   "else report.html).")
@click.option("--bucket", type=click.Choice(["1m", "5m", "15m", "1h"]), default=None,
              help="Time bucket of the charts (default: the smallest that keeps the range under 2,500 buckets; "
                   "5m for logs without a manifest).")
@click.option("--width", type=click.IntRange(400, 8000), default=1200, show_default=True, metavar="PIXELS",
              help="Width of a PNG or SVG.")
@click.option("--height", type=click.IntRange(200, 20000), default=None, metavar="PIXELS",
              help="Height of a PNG or SVG (default: as the charts need).")
@click.option("--format", "format_", default=None, metavar="NAME",
              help="Line format of the logs (default: the manifest's, else detected).")
@click.option("--log-format", "log_format", default=None, metavar="'STRING'",
              help="Apache LogFormat string of the logs.")
def report_command(paths: tuple[str, ...], truth: str | None, record_files: tuple[str, ...], es_url: str | None,
                   api_key: str | None, user: str | None, password: str | None, ca_certs: str | None,
                   insecure: bool, jobs: tuple[str, ...], min_score: float, output: str | None,
                   bucket: str | None, width: int, height: int | None, format_: str | None,
                   log_format: str | None) -> None:
    """Draw the logs over time with every labelled window: one HTML page that works offline,
    or a PNG or SVG of the same charts.

    The page shows requests per bucket over the whole range stacked by status class, every
    window of the truth shaded and named; for each kind of anomaly, the metric its ML job
    watches, a day around each window and over the whole range; and a table of the windows
    with their expected effect (from anomalies.json) and the effect measured in the lines.
    With ML records (--records, or --es and --job) it also shows their scores on the
    timeline, each window caught (with its delay) or missed, the false alarms, and the
    figures of synth score. Reads a run folder (default: output) or any log files.

    \b
    Example:
        synth report output/ -o report.html
        synth report /var/log/nginx/access.log* --truth injected/anomalies.json -o mine.png
        synth report output/ --records records.json -o graded.svg
    """
    from synth.analysis import report as library
    from synth.analysis.report_data import ReportDataError
    from synth.analysis.score import ScoreError, parse_records

    started = time.perf_counter()
    inputs = [Path(p) for p in paths] or [Path("output")]
    if output is None:
        output = str(inputs[0] / "report.html") if len(inputs) == 1 and inputs[0].is_dir() else "report.html"
    out = Path(output)
    if out.suffix.lower() not in library.SUFFIXES:
        raise UsageProblem(f"-o: {output}: the name must end in .html, .png or .svg")
    if not out.parent.is_dir():
        raise UsageProblem(f"-o: {output}: no such folder {out.parent}")
    if truth is not None and not Path(truth).exists():
        raise UsageProblem(f"--truth: {truth}: no such file")
    if record_files and es_url:
        source = click.get_current_context().get_parameter_source("es_url")
        if source != click.core.ParameterSource.ENVIRONMENT:
            raise UsageProblem("--es, --records: give one of them")
        es_url = None
    ids = job_ids(jobs, "--job") if jobs else []
    if es_url and not ids:
        raise UsageProblem("--job: say which jobs' records to read from --es")
    records: list[Any] | None = None
    if record_files:
        records = []
        for path in record_files:
            try:
                with open(path, encoding="utf-8") as f:
                    records += parse_records(json.load(f), path)
            except FileNotFoundError:
                raise UsageProblem(f"--records: {path}: no such file") from None
            except (OSError, ValueError) as e:
                message = e if isinstance(e, ScoreError) else f"{path}: not JSON ({e})"
                raise UsageProblem(f"--records: {message}") from None
    elif es_url:
        records = cluster_records(es_url, credentials(es_url, api_key, user, password, ca_certs, insecure),
                                  ids, min_score)
    try:
        report = library.build_report(inputs, truth=truth, records=records, jobs=ids or None, min_score=min_score,
                                      bucket=bucket, format=format_, log_format=log_format)
    except (library.ReportError, ReportDataError) as e:
        raise UsageProblem(_option_for(str(e), truth, record_files)) from None
    except ValueError as e:  # the log reader's errors name the file
        raise UsageProblem(str(e)) from None
    try:
        library.write_report(report, out, width=width, height=height)
    except library.ReportError as e:
        raise click.ClickException(str(e)) from None
    click.echo(report_summary(report, out, time.perf_counter() - started))


def _option_for(message: str, truth: str | None, record_files: tuple[str, ...]) -> str:
    if truth is not None and message.startswith(str(Path(truth))):
        return f"--truth: {message}"
    if message.startswith("ML records"):
        return f"--truth: {message}"
    return message


def report_summary(report: Any, out: Path, seconds: float) -> str:
    """One line: what was written, from how many lines, and how long it took."""
    data = report.data
    graded = ""
    if report.grade is not None:
        f = report.grade.figures
        graded = f"; {f['caught']} of {f['windows']} graded windows caught, {f['false_alarms']} false alarms"
    files, windows = len(data.files), len(data.windows)
    return (f"wrote {out} ({out.stat().st_size / 1e6:,.1f} MB): {data.lines:,} lines in {files} file{'s' * (files != 1)}, "
            f"{windows} labelled window{'s' * (windows != 1)}, {data.bucket} buckets{graded}; {seconds:.1f} s")
