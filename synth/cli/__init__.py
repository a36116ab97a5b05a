"""The ``synth`` command: click only. Parses options, calls the library, prints.

Every error a user can cause comes out as one line on stderr naming the option or key, with
exit status 2; nothing is written before the input has been checked. A run that cannot write
(a full disk) says which file and why, exit status 1; a signal that stops ``generate`` exits
128 + its number; ``stream`` stops on a signal as its normal end, exit status 0.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import click

import synth
from synth.analysis.profile import ProfileError, profile_lines, profile_log
from synth.elastic.ingest import Pipeline, PipelineError
from synth.elastic.pipelines import bundled_text_pipeline, pipeline_for
from synth.elastic.verify import PIPELINE_FILE, Summary, VerifyError, log_files, verify_files
from synth.generate.anomalies import iso
from synth.generate.scenario import ScenarioError, builtin_scenarios, builtin_text
from synth.render.formats import line_format
from synth.render.lines import FormatError
from synth.resources import resource_dir
from synth.run.report import Progress, histogram_lines, seed_lines

# Scenario keys as the options that set them, so errors name what the user typed.
OPTION_FOR_KEY = {
    "days": "--days", "end": "--end", "rate": "--rate", "seed": "--seed", "out": "--out",
    "rotate": "--rotate", "tz": "--tz", "format": "--format", "log_format": "--log-format", "clients": "--clients",
    "spike_magnitude": "--spike-magnitude", "spike_minutes": "--spike-minutes", "scenario": "--scenario",
    "workers": "--workers", "shard": "--shard", "speed": "--speed", "duration": "--duration",
    "backfill": "--backfill", "anomaly_every": "--anomaly-every",
}
# Options whose values only ever come from the command line: errors always name them.
ALWAYS_OPTIONS = ("out", "seed", "scenario", "workers", "shard", "speed", "duration", "backfill", "anomaly_every")


class UsageProblem(click.ClickException):
    """One line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        for line in self.format_message().splitlines():
            click.echo(f"synth: {line}", err=True)


def problem_from(error: ScenarioError, given: set[str]) -> UsageProblem:
    """A ScenarioError as one line, naming the option when the value came from one."""
    lines = []
    for path, message in error.problems:
        option = OPTION_FOR_KEY.get(path)
        if option and (path in given or path in ALWAYS_OPTIONS):
            lines.append(f"{option}: {message}")
        else:
            lines.append(f"{path}: {message}" if path else message)
    return UsageProblem("\n".join(lines))


def output_options(command: Callable) -> Callable:
    """--out, --rotate, --tz, --format and --log-format: where and how lines are written."""
    options = [
        click.option("--out", "out_dir", default="output", show_default=True, metavar="DIR", help="Output folder."),
        click.option("--rotate", default=None, metavar="day|hour|none|size:100MB",
                     help="How closed files are cut (default day)."),
        click.option("--tz", default=None, metavar="+HHMM", help="Zone offset written in %t (default +0000)."),
        click.option("--format", "format_", default=None, metavar="NAME",
                     help="Line format: combined (default), common, vhost_combined, combined_timing, nginx_combined, "
                          "ecs_json."),
        click.option("--log-format", "log_format", default=None, metavar="'STRING'",
                     help="Any Apache LogFormat string, e.g. '%h %l %u %t \"%r\" %>s %b %D'."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(synth.__version__, prog_name="synth")
def cli() -> None:
    """Realistic web-server access logs with anomalies whose time and kind are known.

    \b
    Example:
        synth generate                 # 7 days of Apache logs with a 10x spike in output/
        synth verify output/           # every line through the ingest pipeline, offline
        goaccess output/access.log* --log-format=COMBINED
    """


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
def generate(scenario: str | None, days: float | None, end: str | None, rate: float | None, seed: int | None,
             out_dir: str, rotate: str | None, tz: str | None, format_: str | None, log_format: str | None,
             spike_magnitude: float | None, spike_minutes: float | None, workers: int | None, shard: str | None,
             force: bool, quiet: bool) -> None:
    """Write rotated access logs, anomalies.json and manifest.json to the output folder.

    \b
    Example:
        synth generate --days 7 --seed 42
        synth generate --days 1 --rate 50 --rotate hour --spike-magnitude 5
    """
    overrides = {"days": days, "end": end, "rate": rate, "rotate": rotate, "tz": tz, "format": format_,
                 "log_format": log_format,
                 "spike_magnitude": spike_magnitude, "spike_minutes": spike_minutes}
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
    if not quiet:
        for line in histogram_lines(run, color=sys.stdout.isatty()):
            click.echo(line)


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
    overrides = {"rate": rate, "rotate": rotate, "tz": tz, "format": format_, "log_format": log_format,
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


@cli.group(invoke_without_command=True)
@click.pass_context
def scenarios(ctx: click.Context) -> None:
    """List the built-in scenarios, one line each: name and what it shows.

    \b
    Example:
        synth scenarios
        synth scenarios show mixed > my.yaml   # edit, then: synth generate --scenario my.yaml
    """
    if ctx.invoked_subcommand is None:
        listed = builtin_scenarios()
        width = max(len(s.name) for s in listed)
        for scenario in listed:
            click.echo(f"{scenario.name:<{width}}  {scenario.description}")


@scenarios.command("show")
@click.argument("name")
def scenarios_show(name: str) -> None:
    """Print a built-in scenario as YAML, ready to copy and edit.

    \b
    Example:
        synth scenarios show classic
    """
    try:
        click.echo(builtin_text(name), nl=False)
    except ScenarioError as e:
        raise UsageProblem(e.lines()[0].replace("scenario: ", "", 1)) from None


@cli.command("bench")
@click.option("--lines", type=click.IntRange(min=1000), default=5_000_000, show_default=True,
              help="About how many lines each run makes.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per core).")
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True, help="Runs; figures are medians.")
@click.option("--dir", "folder", default=None, metavar="DIR", help="Where to write (default: the system's temp folder).")
@click.option("--progress", is_flag=True, help="Draw the progress bar on stderr, to measure what it costs.")
@click.option("--stream", "live", is_flag=True,
              help="Measure synth stream's pacing instead: lines per window of wall time against --rate.")
@click.option("--rate", type=click.FloatRange(min=1), default=5000, show_default=True,
              help="With --stream: the target, lines per second.")
@click.option("--seconds", type=click.IntRange(min=10), default=60, show_default=True,
              help="With --stream: how long to stream.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every figure.")
def bench_command(lines: int, workers: int | None, repeat: int, folder: str | None, progress: bool, live: bool,
                  rate: float, seconds: int, as_json: bool) -> None:
    """Time generation end to end (lines/s, MB/s, peak memory) against a raw write of the same bytes.

    With --stream, stream a day without rhythm at --rate for --seconds of real time and show
    how evenly the lines came: per 10 seconds and per sliding minute against the target, the
    share written within their own second, and how late writes were.

    \b
    Example:
        synth bench --workers 2
        synth bench --lines 200000 --json
        synth bench --stream --rate 5000 --seconds 120
    """
    from synth.analysis.bench import bench, bench_stream

    def bar() -> Callable[[int], None]:
        shown = Progress(enabled=True)
        shown.start(lines)
        return shown.advance

    if live:
        result: Any = bench_stream(rate=rate, seconds=seconds, folder=folder)
    else:
        result = bench(lines=lines, workers=workers, repeat=repeat, folder=folder,
                       progress_factory=bar if progress else None)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
    else:
        for line in result.lines_text():
            click.echo(line)


@cli.command("profile")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure (shares as fractions).")
@click.option("--minute", type=click.IntRange(0, 59), default=None, metavar="M",
              help="Profile only lines whose minute, as written, is M (a sample of one minute an hour).")
def profile_command(paths: tuple[str, ...], as_json: bool, minute: int | None) -> None:
    """Print the statistical profile of Apache combined or common access logs.

    Reads the PATHs (plain or gzip) and measures, over the lines that parse (the others are
    counted as unparsed): shares of methods, statuses and request kinds; body sizes; how
    concentrated clients and paths are; bots, referrers, sessions; hourly and weekly rhythm.

    \b
    Definitions (shares are of the profiled lines):
      requests      robots = /robots.txt; static = path ends in an asset extension (css js png
                    woff mp4 ...); page = ends in /, has no extension or .html .php .asp(x) .jsp;
                    other = the rest (feeds, xml, json, downloads, junk)
      bytes         median and p90 over lines with a body (%b not - and not 0)
      same size     GET 200s: per target (with query) seen twice or more, lines with its most
                    common size / lines
      clients       distinct per 10,000 lines; share of the busiest 1 and 10
      Zipf slope    least-squares slope of log10(count) on log10(rank), ranks with count >= 5,
                    top 1000 (clients; paths without query)
      bots          agent matches a bot marker (bot crawl spider curl python-requests uptime
                    scan ...) or is - or empty
      referrer      referrer is not - and not empty
      sessions      lines of one client and agent until a gap of more than 30 minutes
      hour ratio    mean lines per clock hour (0-23, clock as written) over whole hours, the
                    log's first and last hour left out; busiest over quietest
      weekday ratio mean lines per whole Monday-Friday over per whole Saturday-Sunday, the
                    log's first and last day left out
    Bots, referrer and sessions count combined lines only: n/a (null) for common format.

    \b
    Example:
        synth profile output/access.log*
        synth profile --minute 5 --json /var/log/apache2/access.log*.gz
    """
    try:
        profile = profile_log(paths, minute=minute)
    except ProfileError as e:
        raise UsageProblem(str(e)) from None
    if as_json:
        click.echo(json.dumps(profile.as_dict(), indent=2))
    else:
        for line in profile_lines(profile):
            click.echo(line)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True,
              help="Write each line's document (_index, _id and _source) as one JSON object per line.")
@click.option("--pipeline", "pipeline_file", default=None, metavar="FILE",
              help="Ingest pipeline JSON to run (default: the bundled smoke_event-access).")
@click.option("--patterns", "patterns_dir", default=None, metavar="DIR",
              help="Grok pattern files in Elasticsearch's format (default: synth's own definitions).")
def verify(paths: tuple[str, ...], as_json: bool, pipeline_file: str | None, patterns_dir: str | None) -> None:
    """Run log files through the ingest pipeline offline, as Elasticsearch would.

    A folder means its access.log* files. Prints lines, parsed and failed, and per failing
    reason a count and the first line; exits 1 if any line failed.

    \b
    Example:
        synth verify output/
        synth verify --json output/access.log | head -1
        synth verify --pipeline my-pipeline.json --patterns grok/ my.log
    """
    if pipeline_file is not None and not os.path.isfile(pipeline_file):
        raise UsageProblem(f"--pipeline: {pipeline_file}: no such file")
    try:
        files = log_files(paths)
        pipeline = Pipeline.load(pipeline_file or resource_dir("filebeat") / PIPELINE_FILE, patterns=patterns_dir)
    except (VerifyError, PipelineError) as e:
        raise UsageProblem(str(e)) from None
    summary = Summary(files=files)
    began = time.perf_counter()
    out = sys.stdout
    workers = min(os.cpu_count() or 1, 1 + sum(p.stat().st_size for p in files) // (4 << 20))
    try:
        for counts, text in verify_files(files, pipeline, as_json=as_json, workers=workers):
            summary.merge(counts)
            if text:
                out.write(text)
        out.flush()
    except BrokenPipeError:  # the reader stopped early (| head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        raise click.exceptions.Exit(0) from None
    if not as_json:
        for line in summary.report(pipeline.id, time.perf_counter() - began):
            click.echo(line)
    if summary.failed:
        raise click.exceptions.Exit(1)


@cli.command("pipeline")
@click.option("--format", "format_", default=None, metavar="NAME", help="A built-in format (default combined).")
@click.option("--log-format", "log_format", default=None, metavar="'STRING'", help="An Apache LogFormat string.")
@click.option("--tz", default="+0000", show_default=True, metavar="+HHMM",
              help="Zone of times written without one (strftime formats without %z).")
@click.option("--bundled", is_flag=True, help="The bundled pipeline: every built-in text format, combined first.")
def pipeline_command(format_: str | None, log_format: str | None, tz: str, bundled: bool) -> None:
    """Print the ingest pipeline (JSON) that reads a line format into ECS fields.

    The grok pattern comes from the format's LogFormat; around it, the same steps as the bundled
    pipeline (raw line kept, document id, source.ip, @timestamp, user agent, daily index, and
    failed lines kept in failed-smoke_event). Load it with PUT _ingest/pipeline/<name>.

    \b
    Example:
        synth pipeline --log-format '%h %l %u %t \"%r\" %>s %b %D' > my-pipeline.json
        synth pipeline --format vhost_combined
        synth verify --pipeline my-pipeline.json output/access.log
    """
    if sum(x is not None for x in (format_, log_format)) + bundled > 1:
        raise UsageProblem("--format, --log-format and --bundled: choose one")
    if not re.fullmatch(r"[+-](0\d|1[0-4])[0-5]\d", tz):
        raise UsageProblem(f"--tz: must be an offset like +0000 or -0800, got {tz!r}")
    try:
        if bundled:
            pipeline = bundled_text_pipeline()
        else:
            pipeline = pipeline_for(line_format(format_, log_format), tz)
    except FormatError as e:
        raise UsageProblem(f"{'--log-format' if log_format else '--format'}: {e}") from None
    click.echo(json.dumps(pipeline, indent=2))


def connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--es and its credentials and TLS options, shared by setup and score."""
    options = [
        click.option("--es", "es_url", default=None, metavar="URL", envvar="SYNTH_ES",
                     help="Elasticsearch, e.g. https://localhost:9200 (env SYNTH_ES)."),
        click.option("--api-key", default=None, metavar="KEY", envvar="SYNTH_ES_API_KEY",
                     help="An encoded API key (env SYNTH_ES_API_KEY)."),
        click.option("--user", default=None, metavar="USER", envvar="SYNTH_ES_USER",
                     help="Basic authentication user, e.g. elastic (env SYNTH_ES_USER)."),
        click.option("--password", default=None, metavar="PASSWORD", envvar="SYNTH_ES_PASSWORD",
                     help="Its password (env SYNTH_ES_PASSWORD; asked for on a terminal when missing)."),
        click.option("--ca-certs", default=None, metavar="FILE", envvar="SYNTH_ES_CA_CERTS",
                     type=click.Path(exists=True, dir_okay=False),
                     help="The CA certificate that signed the cluster's (env SYNTH_ES_CA_CERTS)."),
        click.option("--insecure", is_flag=True, help="Do not verify the cluster's TLS certificate."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def credentials(es_url: str | None, api_key: str | None, user: str | None, password: str | None,
                ca_certs: str | None, insecure: bool, kibana_url: str | None = None) -> Any:
    """Check the connection options (each problem is one line, exit 2) and bundle them."""
    from synth.elastic.cluster import Credentials
    if es_url is None:
        raise UsageProblem("--es: give Elasticsearch's URL, e.g. --es https://localhost:9200 (or set SYNTH_ES)")
    for option, url in (("--es", es_url), ("--kibana", kibana_url)):
        if url is not None and not url.startswith(("http://", "https://")):
            raise UsageProblem(f"{option}: {url}: must start with http:// or https://")
    if api_key and user:
        raise UsageProblem("--api-key, --user: give one of them")
    if password is not None and user is None:
        raise UsageProblem("--password: only with --user")
    if ca_certs and insecure:
        raise UsageProblem("--ca-certs, --insecure: give one of them")
    if (ca_certs or insecure) and not any(u and u.startswith("https://") for u in (es_url, kibana_url)):
        raise UsageProblem(f"{'--ca-certs' if ca_certs else '--insecure'}: only for https:// URLs")
    if user is not None and password is None:
        if not sys.stdin.isatty():
            raise UsageProblem("--password: needed with --user (or set SYNTH_ES_PASSWORD)")
        password = click.prompt(f"password for {user}", hide_input=True, err=True)
    return Credentials(api_key=api_key, user=user, password=password, ca_certs=ca_certs, verify=not insecure)


def job_ids(values: tuple[str, ...] | str, option: str) -> list[str]:
    """Job ids given comma-separated, repeated, or both."""
    texts = [values] if isinstance(values, str) else list(values)
    ids = [i.strip() for text in texts for i in text.split(",") if i.strip()]
    if not ids:
        raise UsageProblem(f"{option}: give job ids, comma-separated")
    return ids


@cli.command("setup")
@connection_options
@click.option("--kibana", "kibana_url", default=None, metavar="URL", envvar="SYNTH_KIBANA",
              help="Kibana, e.g. http://localhost:5601: also make the data view smoke_event-* (env SYNTH_KIBANA).")
@click.option("--jobs", "jobs_text", default=None, metavar="ID,...", help="Only these jobs of ml/jobs (default: all).")
@click.option("--run", "run_dir", default=None, metavar="OUTPUT_DIR",
              help="Then run the jobs over the time range of this synth generate folder and show their top anomalies.")
@click.option("--reset", is_flag=True, help="With --run: clear the results of jobs that have already run, and run them again.")
@click.option("--timeout", type=click.FloatRange(min=1), default=3600.0, show_default=True, metavar="SECONDS",
              help="With --run: how long to wait for the jobs.")
@click.option("--dry-run", is_flag=True, help="Print the requests as Kibana Dev Tools console text and send nothing.")
def setup_command(es_url: str | None, api_key: str | None, user: str | None, password: str | None,
                  ca_certs: str | None, insecure: bool, kibana_url: str | None, jobs_text: str | None,
                  run_dir: str | None, reset: bool, timeout: float, dry_run: bool) -> None:
    """Load the ingest pipeline, the index template, the ML jobs and their datafeeds (and with
    --kibana the data view smoke_event-*); with --run, run the jobs over a generated run.

    Idempotent: what exists and matches is left as it is; a pipeline, template or datafeed that
    differs is updated; a job that exists with another definition is reported (exit 1) and
    left alone. --run waits until smoke_event-* holds the run's lines, opens each job, starts
    its datafeed over the run's range (start inclusive, end exclusive: the datafeed stops and
    closes its job itself), waits for them, then prints each job's top anomalies. A job that
    has already analysed data is refused unless --reset. Connection and credential problems
    are one line, exit 1. Needs the client: pip install 'synth-logs[es]' (not for --dry-run).

    \b
    Example:
        synth setup --dry-run --run output          # paste into Kibana Dev Tools
        synth setup --es https://localhost:9200 --user elastic --ca-certs ca.crt \\
                    --kibana http://localhost:5601 --run output
    """
    from synth.elastic import cluster as elastic
    try:
        jobs = elastic.load_jobs(job_ids(jobs_text, "--jobs") if jobs_text is not None else None)
        run = elastic.read_run(run_dir) if run_dir is not None else None
    except elastic.SetupError as e:
        raise UsageProblem(str(e)) from None
    if reset and run is None:
        raise UsageProblem("--reset: only with --run")
    if dry_run:
        requests = elastic.setup_requests(jobs, kibana=kibana_url is not None)
        click.echo("# synth setup: paste into Kibana Dev Tools (Console) and run each request in turn")
        if run is not None:
            requests += elastic.run_requests(jobs, run)
        click.echo(elastic.console_text(requests), nl=False)
        if run is not None:
            click.echo("\n# when GET _ml/datafeeds/<id>/_stats says stopped, the top anomalies of each job:")
            for spec in jobs:
                click.echo(f"# GET {elastic.records_path(spec.job_id, size=5).lstrip('/')}")
        return
    creds = credentials(es_url, api_key, user, password, ca_certs, insecure, kibana_url)
    conflicts: list[Any] = []
    try:
        cluster = elastic.Cluster(es_url, creds)
        kibana = elastic.Kibana(kibana_url, creds) if kibana_url else None
        click.echo(f"Elasticsearch {elastic.server_version(cluster)} at {es_url}")

        def show(outcome: Any) -> None:
            click.echo(f"  {outcome.status:<9}  {outcome.what}"
                       + (f" ({outcome.detail})" if outcome.status == "kept" else ""))

        outcomes = elastic.apply_setup(cluster, kibana, jobs, on_outcome=show)
        conflicts = [o for o in outcomes if o.conflict]
        for outcome in conflicts:
            click.echo(f"synth: {outcome.detail}", err=True)
        if run is not None:
            blocked = {o.what.split(" ", 1)[1] for o in conflicts}
            runnable = [s for s in jobs if s.job_id not in blocked and s.datafeed_id not in blocked]
            if runnable:
                run_jobs(cluster, runnable, run, reset, timeout, es_url)
    except elastic.ElasticError as e:
        raise click.ClickException(str(e)) from None
    except elastic.SetupError as e:
        raise UsageProblem(str(e)) from None
    if conflicts:
        raise click.exceptions.Exit(1)


def run_jobs(cluster: Any, jobs: list[Any], run: Any, reset: bool, timeout: float, es_url: str) -> None:
    """The --run half of setup: wait for the documents, run the jobs, show their top anomalies."""
    from synth.analysis.score import table
    from synth.elastic import cluster as elastic
    from synth.run.report import StackProgress
    refused = elastic.check_before_run(cluster, jobs, reset)
    if refused:
        for line in refused:
            click.echo(f"synth: {line}", err=True)
        raise click.exceptions.Exit(1)
    with StackProgress(enabled=sys.stderr.isatty()) as progress:
        count = elastic.wait_for_documents(cluster, run, on_count=lambda n: progress.documents(n, run.lines))
        click.echo(f"{elastic.INDEX_PATTERN} holds {count:,} documents in {run.start} to {run.end} "
                   f"({run.lines:,} lines in {run.folder})")
        elastic.start_jobs(cluster, jobs, run)
        click.echo(f"running {len(jobs)} job{'s' if len(jobs) != 1 else ''} over that range")
        states = elastic.wait_for_jobs(cluster, jobs, timeout,
                                       on_states=lambda s: progress.jobs(s, run.start_ms, run.end_ms))
    for spec in jobs:
        state = states[spec.job_id]
        note = "" if state.processed else ": no documents, is the data in smoke_event-*?"
        click.echo(f"  {spec.job_id}: {state.processed:,} documents, {state.buckets:,} buckets{note}")
    rows = [("job", "bucket (UTC)", "score", "detector", "entity", "actual", "typical")]
    quiet = []
    for spec in jobs:
        records = elastic.top_records(cluster, spec.job_id)
        rows += list(elastic.iter_record_rows(spec.job_id, records))
        if not records:
            quiet.append(spec.job_id)
    click.echo("\ntop anomalies per job, highest record_score first:")
    for line in table(rows) if len(rows) > 1 else []:
        click.echo(line)
    if quiet:
        click.echo(f"no anomalies: {', '.join(quiet)}")
    truth = os.path.join(run.folder, "anomalies.json")
    click.echo(f"\ngrade them against the truth: synth score --es {es_url} --job {','.join(s.job_id for s in jobs)} "
               f"--truth {truth}")


@cli.command("score")
@connection_options
@click.option("--records", "record_files", multiple=True, metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="A saved get-records API response (JSON) instead of --es; repeat for more.")
@click.option("--job", "jobs", multiple=True, required=True, metavar="ID",
              help="A job to grade (repeat, or comma-separated).")
@click.option("--truth", default="output/anomalies.json", show_default=True, metavar="FILE|DIR",
              help="The ground truth (a folder means its anomalies.json).")
@click.option("--min-score", type=click.FloatRange(0, 100), default=25.0, show_default=True, metavar="SCORE",
              help="Least record_score that counts as flagged (25 is Kibana's 'minor').")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every window, false alarm and figure.")
def score_command(es_url: str | None, api_key: str | None, user: str | None, password: str | None,
                  ca_certs: str | None, insecure: bool, record_files: tuple[str, ...], jobs: tuple[str, ...],
                  truth: str, min_score: float, as_json: bool) -> None:
    """Grade ML anomaly records against the labelled windows of anomalies.json.

    Records are read from the cluster (--es) or from saved API responses (--records). A record
    counts when its record_score is at least --min-score and it is not interim; its bucket is
    [timestamp, timestamp + bucket_span). A window is caught when a counting record of a job in
    its "jobs" has a bucket overlapping it; delay is that first bucket's start minus the
    window's start (0 if earlier); score is the highest record_score there. A false alarm is
    one (job, bucket) whose counting records overlap no window at all. precision = caught /
    (caught + false alarms), recall = caught / windows, F1, and a NAB-style score: 100 for
    every window flagged from its start and no false alarm, 0 for flagging nothing (see the
    README for the formula).

    \b
    Example:
        synth score --es https://localhost:9200 --user elastic --job smoke-request-count
        synth score --records records.json --job smoke-request-count --truth output/ --json
    """
    from synth.analysis.score import ScoreError, grade, parse_records, truth_windows
    ids = job_ids(jobs, "--job")
    truth_path = os.path.join(truth, "anomalies.json") if os.path.isdir(truth) else truth
    if not os.path.isfile(truth_path):
        raise UsageProblem(f"--truth: {truth_path}: no such file")
    try:
        with open(truth_path, encoding="utf-8") as f:
            truth_data = json.load(f)
        truth_windows(truth_data, truth_path)
    except (OSError, ValueError) as e:
        raise UsageProblem(f"--truth: {e if isinstance(e, ScoreError) else f'{truth_path}: not JSON ({e})'}") from None
    if record_files and es_url:
        source = click.get_current_context().get_parameter_source("es_url")
        if source != click.core.ParameterSource.ENVIRONMENT:
            raise UsageProblem("--es, --records: give one of them")
        es_url = None  # SYNTH_ES set for setup does not stand in the way of saved records
    if not record_files and not es_url:
        raise UsageProblem("--es or --records: say where the records are")
    records = []
    for path in record_files:
        try:
            with open(path, encoding="utf-8") as f:
                records += parse_records(json.load(f), path)
        except (OSError, ValueError) as e:
            raise UsageProblem(f"--records: {e if isinstance(e, ScoreError) else f'{path}: not JSON ({e})'}") from None
    if not record_files:
        from synth.elastic import cluster as elastic
        creds = credentials(es_url, api_key, user, password, ca_certs, insecure)
        try:
            cluster = elastic.Cluster(es_url, creds)
            for job in ids:
                records += parse_records({"records": elastic.fetch_records(cluster, job, min_score)}, job)
        except (elastic.ElasticError, ScoreError) as e:
            raise click.ClickException(str(e)) from None
        except elastic.SetupError as e:
            raise UsageProblem(str(e)) from None
    result = grade(records, truth_data, ids, min_score)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for line in result.lines():
            click.echo(line)


def main(argv: list[str] | None = None) -> None:
    """Entry point: click without its multi-line usage errors."""
    try:
        code = cli.main(args=argv, prog_name="synth", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("synth: interrupted", err=True)
        sys.exit(130)
    except synth.WriteError as e:
        click.echo(f"synth: {e}", err=True)
        sys.exit(1)
    except synth.Interrupted as e:
        click.echo(f"synth: {e}", err=True)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        if isinstance(e, UsageProblem):
            e.show()
        else:
            click.echo(f"synth: {e.format_message()}", err=True)
        sys.exit(2 if isinstance(e, click.UsageError) else e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["cli", "main"]
