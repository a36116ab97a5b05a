"""synth profile, synth verify and synth pipeline: commands that read logs or describe formats."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from synth.cli.common import UsageProblem, cli
from synth.elastic.grok import GrokError, pattern_banks_from
from synth.elastic.ingest import Pipeline, PipelineError, simulate
from synth.elastic.ingest.simulate import SIMULATE_ID
from synth.elastic.pipelines import bundled_text_pipeline, pipeline_for
from synth.elastic.verify import (
    PIPELINE_FILE,
    Summary,
    VerifyError,
    log_files,
    pipeline_for_paths,
    verify_files,
    verify_workers,
)
from synth.generate.zone import normal_zone
from synth.render.formats import line_format
from synth.render.lines import FormatError
from synth.resources import resource_dir


@cli.command("profile")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure (shares as fractions).")
@click.option("--minute", type=click.IntRange(0, 59), default=None, metavar="M",
              help="Profile only lines whose minute, as written, is M (a sample of one minute an hour).")
def profile_command(paths: tuple[str, ...], as_json: bool, minute: int | None) -> None:
    """Print the statistical profile of Apache combined or common access logs.

    Reads the PATHs (plain or gzip files; a run folder means its access files in time order,
    as synth verify reads it) and measures, over the lines that parse (the others are
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
        synth profile output/
        synth profile --minute 5 --json output/access.log*
    """
    from synth.analysis.profile import (  # the log readers: for this command only
        ProfileError,
        profile_lines,
        profile_log,
    )

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
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True,
              help="Write each line's document (_index, _id and _source) as one JSON object per line.")
@click.option("--pipeline", "pipeline_file", default=None, metavar="FILE",
              help="Ingest pipeline JSON to run (default: the one for the format the run's manifest.json "
                   "records, smoke_event-json for ecs_json; else the bundled smoke_event-access).")
@click.option("--patterns", "patterns_dir", default=None, metavar="DIR",
              help="Grok pattern files in Elasticsearch's format (default: synth's own definitions).")
@click.option("--log-format", "log_format", default=None, metavar="'STRING'",
              help="Check with the pipeline `synth pipeline --log-format STRING` prints.")
@click.option("--nginx-log-format", "nginx_log_format", default=None, metavar="'STRING'",
              help="Check with the pipeline `synth pipeline --nginx-log-format STRING` prints.")
@click.option("--tz", default="+0000", show_default=True, metavar="ZONE",
              help="With --log-format: zone of times written without one (+05:30, UTC, Europe/Paris).")
@click.option("--grade", "grade_file", default=None, metavar="MESSY.JSONL|DIR",
              help="Grade the pipeline on the messy lines of a `generate --messy` or `stream --messy` run: per kind, lines parsed.")
@click.option("--simulate", "simulate_file", default=None, metavar="DOCS.json",
              help="Instead of log files: documents as POST _ingest/pipeline/_simulate takes them "
                   "({\"docs\": [{\"_index\", \"_id\", \"_source\"}]}); prints what _simulate answers.")
@click.option("--verbose", "verbose", is_flag=True, help="With --simulate: each processor's result (?verbose=true).")
def verify(paths: tuple[str, ...], as_json: bool, pipeline_file: str | None, patterns_dir: str | None,
           log_format: str | None, nginx_log_format: str | None, tz: str, grade_file: str | None,
           simulate_file: str | None, verbose: bool) -> None:
    """Run log files through the ingest pipeline offline, as Elasticsearch would.

    A folder means its access.log* files; the pipeline is the one for the format its
    manifest.json records (smoke_event-json for ecs_json). Prints lines, parsed and failed, and
    per failing processor and kind of error a count and the first line; exits 1 if any line
    failed. On a terminal a progress bar runs on stderr.

    With --simulate, runs the documents of DOCS.json and prints the answer of
    POST _ingest/pipeline/_simulate, to compare with a cluster's (a "pipeline" in DOCS.json is
    used when --pipeline is not given).

    \b
    Example:
        synth verify output/
        synth verify --json output/access.log | head -1
        synth pipeline --format combined > combined.json; synth verify --pipeline combined.json output/
        synth verify --pipeline mine.json --grade output/messy.jsonl output/
        synth verify --simulate docs.json --pipeline my-pipeline.json
    """
    if pipeline_file is not None and not os.path.isfile(pipeline_file):
        raise UsageProblem(f"--pipeline: {pipeline_file}: no such file")
    if sum(x is not None for x in (pipeline_file, log_format, nginx_log_format)) > 1:
        raise UsageProblem("--pipeline, --log-format and --nginx-log-format: choose one")
    if simulate_file is not None:
        if paths or as_json or grade_file or log_format or nginx_log_format:
            raise UsageProblem("--simulate reads documents, not log files: give no PATH, --json, --grade or "
                               "--log-format")
        _simulate(simulate_file, pipeline_file, patterns_dir, verbose)
        return
    if verbose:
        raise UsageProblem("--verbose: only with --simulate")
    if not paths:
        raise UsageProblem("PATH: give one or more log files or folders (or --simulate DOCS.json)")
    try:
        tz = normal_zone(tz)
    except ValueError as e:
        raise UsageProblem(f"--tz: {e}") from None
    try:
        if log_format or nginx_log_format:
            body = pipeline_for(line_format(None, log_format, nginx_log_format), tz)
            pipeline = Pipeline(body, "smoke_event-access")
        elif pipeline_file is not None:
            pipeline = Pipeline.load(pipeline_file, patterns=patterns_dir)
        else:
            pipeline = pipeline_for_paths(paths, patterns=patterns_dir)
        files = log_files(paths)
    except FormatError as e:
        raise UsageProblem(f"{'--nginx-log-format' if nginx_log_format else '--log-format'}: {e}") from None
    except (VerifyError, PipelineError) as e:
        raise UsageProblem(str(e)) from None
    summary = Summary(files=files)
    began = time.perf_counter()
    if grade_file is not None:
        from synth.elastic.grade import GradeError, grade, grade_lines, read_truth
        from synth.elastic.verify import verify_paths
        try:
            truth = read_truth(grade_file)
        except GradeError as e:
            raise UsageProblem(f"--grade: {e}") from None
        results = []
        for result in verify_paths(files, pipeline):
            summary.add(result)
            results.append(result)
        click.echo(summary.report(pipeline.id, time.perf_counter() - began)[0])
        click.echo(f"graded against {grade_file} ({len(truth):,} messy lines):")
        for line in grade_lines(grade(results, truth)):
            click.echo(line)
        raise click.exceptions.Exit(1 if summary.failed else 0)
    out = sys.stdout
    total = sum(p.stat().st_size for p in files)
    workers = verify_workers(total)
    try:
        with verify_progress_bar(total) as advance:
            for counts, text in verify_files(files, pipeline, as_json=as_json, workers=workers, progress=advance):
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


@contextlib.contextmanager
def verify_progress_bar(total: int, always: bool = False) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over ``total`` bytes on stderr when it is a terminal, or ``always``
    (else nothing)."""
    if not (always or sys.stderr.isatty()) or total <= 0:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("verify"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verify", total=total)
        yield lambda done: bar.advance(task, done)


def _simulate(simulate_file: str, pipeline_file: str | None, patterns_dir: str | None, verbose: bool) -> None:
    """``verify --simulate``: the documents of a _simulate body through a pipeline, the answer printed."""
    try:
        request = json.loads(Path(simulate_file).read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageProblem(f"--simulate: {simulate_file}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise UsageProblem(f"--simulate: {simulate_file}: not valid JSON ({e.msg} at line {e.lineno}, "
                           f"column {e.colno})") from None
    docs = request.get("docs") if isinstance(request, dict) else request
    if not isinstance(docs, list):
        raise UsageProblem(f"--simulate: {simulate_file}: a _simulate body has a [docs] list")
    try:
        if pipeline_file is not None:
            pipeline: Any = Pipeline.load(pipeline_file, patterns=patterns_dir)
        elif isinstance(request, dict) and "pipeline" in request:
            pipeline = Pipeline(request["pipeline"], SIMULATE_ID,
                                banks=pattern_banks_from(patterns_dir) if patterns_dir else None)
        else:
            pipeline = Pipeline.load(resource_dir("filebeat") / PIPELINE_FILE, patterns=patterns_dir)
        answer = simulate(pipeline, docs, verbose=verbose)
    except PipelineError as e:
        raise UsageProblem(f"{'--pipeline' if pipeline_file else '--simulate'}: {e}") from None
    except (GrokError, OSError) as e:
        raise UsageProblem(f"--patterns: {e}") from None
    click.echo(json.dumps(answer, indent=2, ensure_ascii=False))


@cli.command("pipeline")
@click.option("--format", "format_", default=None, metavar="NAME", help="A built-in format (default combined).")
@click.option("--log-format", "log_format", default=None, metavar="'STRING'", help="An Apache LogFormat string.")
@click.option("--nginx-log-format", "nginx_log_format", default=None, metavar="'STRING'",
              help="An nginx log_format string (escape=default|json|none first, if any).")
@click.option("--tz", default="+0000", show_default=True, metavar="ZONE",
              help="Zone of times written without one (strftime formats without %z): the values "
                   "synth generate --tz takes (+05:30, UTC, Europe/Paris).")
@click.option("--bundled", is_flag=True, help="The bundled pipeline: every built-in text format, combined first.")
def pipeline_command(format_: str | None, log_format: str | None, nginx_log_format: str | None, tz: str,
                     bundled: bool) -> None:
    """Print the ingest pipeline (JSON) that reads a line format into ECS fields.

    The grok pattern comes from the format's LogFormat; around it, the same steps as the bundled
    pipeline (raw line kept, document id, source.ip, @timestamp, user agent, daily index, and
    failed lines kept in failed-smoke_event). Load it with PUT _ingest/pipeline/<name>.

    \b
    Example:
        synth pipeline --format vhost_combined
        synth pipeline --log-format '%h %l %u %t \"%r\" %>s %b %D' > my-pipeline.json
        synth generate --log-format '%h %l %u %t \"%r\" %>s %b %D' --out timed
        synth verify --pipeline my-pipeline.json timed/
    """
    if sum(x is not None for x in (format_, log_format, nginx_log_format)) + bundled > 1:
        named = (("--format", format_), ("--log-format", log_format), ("--nginx-log-format", nginx_log_format),
                 ("--bundled", bundled or None))
        raise UsageProblem(f"{', '.join(n for n, v in named if v is not None)}: give one of them")
    try:
        tz = normal_zone(tz)
    except ValueError as e:
        raise UsageProblem(f"--tz: {e}") from None
    try:
        if bundled:
            pipeline = bundled_text_pipeline()
        else:
            pipeline = pipeline_for(line_format(format_, log_format, nginx_log_format), tz)
    except FormatError as e:
        option = "--nginx-log-format" if nginx_log_format else "--log-format" if log_format else "--format"
        raise UsageProblem(f"{option}: {e}") from None
    click.echo(json.dumps(pipeline, indent=2))


