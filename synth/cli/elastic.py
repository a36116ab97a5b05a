"""synth setup and synth score: the commands that talk to a cluster."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from synth.cli.common import UsageProblem, cli, cluster_records, connection_options, credentials, job_ids


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
@click.option("--filebeat-key", "key_file", default=None, metavar="FILE",
              help="Write the API key made for Filebeat (id:api_key) to this new file (mode 600) instead of printing it.")
@click.option("--no-security", is_flag=True, help="Make no roles and no API key (a cluster without security).")
@click.option("--dry-run", is_flag=True, help="Print the requests as Kibana Dev Tools console text and send nothing.")
def setup_command(es_url: str | None, api_key: str | None, user: str | None, password: str | None,
                  ca_certs: str | None, insecure: bool, kibana_url: str | None, jobs_text: str | None,
                  run_dir: str | None, reset: bool, timeout: float, key_file: str | None, no_security: bool,
                  dry_run: bool) -> None:
    """Load the ingest pipelines, the index templates, the roles and Filebeat's API key, the ML
    jobs and their datafeeds (and with --kibana the data view smoke_event-*); with --run, run
    the jobs over a generated run.

    Least privilege: the role synth_filebeat_writer (create_doc and create_index on
    smoke_event-* and failed-smoke_event, monitor, read_pipeline) and an API key synth-filebeat
    limited to it, for Filebeat (ELASTICSEARCH_API_KEY); the role synth_ml (manage_ml, read on
    smoke_event-*) for whoever runs the jobs. The key's secret is shown once, when it is made
    (or written to --filebeat-key FILE); a key that exists is left alone.

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
    if key_file is not None and (no_security or dry_run):
        raise UsageProblem("--filebeat-key: not with --no-security or --dry-run (no key is made)")
    from synth.elastic import security
    try:
        security.check_key_file(key_file)
    except elastic.SetupError as e:
        raise UsageProblem(str(e)) from None
    if dry_run:
        requests = elastic.setup_requests(jobs, kibana=kibana_url is not None, security=not no_security)
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
    assert es_url is not None  # credentials() refuses a missing --es
    conflicts: list[Any] = []
    try:
        cluster = elastic.Cluster(es_url, creds)
        kibana = elastic.Kibana(kibana_url, creds) if kibana_url else None
        click.echo(f"Elasticsearch {elastic.server_version(cluster)} at {es_url}")

        made_key = []

        def show(outcome: Any) -> None:
            key = outcome.what.startswith("API key") and outcome.status == "created" and key_file is None
            click.echo(f"  {outcome.status:<9}  {outcome.what}"
                       + (f" ({outcome.detail})" if outcome.status == "kept" or (
                           outcome.what.startswith("API key") and not key) else ""))
            if key:
                made_key.append(outcome.detail)

        outcomes = elastic.apply_setup(cluster, kibana, jobs, on_outcome=show, key_file=key_file,
                                       security=not no_security)
        for secret in made_key:
            click.echo(f"Filebeat's API key, shown this once (Elasticsearch keeps only its hash):\n"
                       f"  export ELASTICSEARCH_API_KEY={secret}")
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
    """The --run half of setup, printed: the library runs the jobs, this shows what they found."""
    from synth.analysis.score import iter_record_rows, table
    from synth.elastic import cluster as elastic
    from synth.run.report import StackProgress
    with StackProgress(enabled=sys.stderr.isatty()) as progress:
        try:
            outcome = elastic.run_jobs(
                cluster, jobs, run, reset, timeout,
                on_documents=lambda n: progress.documents(n, run.lines),
                on_counted=lambda count: click.echo(
                    f"{elastic.INDEX_PATTERN} holds {count:,} documents in {run.start} to {run.end} "
                    f"({run.lines:,} lines in {run.folder})"),
                on_started=lambda: click.echo(f"running {len(jobs)} job{'s' if len(jobs) != 1 else ''} over that range"),
                on_states=lambda s: progress.jobs(s, run.start_ms, run.end_ms))
        except elastic.RunRefused as e:
            for line in e.reasons:
                click.echo(f"synth: {line}", err=True)
            raise click.exceptions.Exit(1) from None
    for spec in jobs:
        state = outcome.states[spec.job_id]
        note = "" if state.processed else ": no documents, is the data in smoke_event-*?"
        click.echo(f"  {spec.job_id}: {state.processed:,} documents, {state.buckets:,} buckets{note}")
    rows: list[tuple[str, ...]] = [("job", "bucket (UTC)", "score", "detector", "entity", "actual", "typical")]
    for spec in jobs:
        rows += list(iter_record_rows(spec.job_id, outcome.records[spec.job_id]))
    click.echo("\ntop anomalies per job, highest record_score first:")
    for line in table(rows) if len(rows) > 1 else []:
        click.echo(line)
    quiet = [spec.job_id for spec in jobs if not outcome.records[spec.job_id]]
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
    if record_files:
        # A job named nowhere is a typo, not a job that found nothing: say so, as any typo.
        from synth.elastic.cluster import load_jobs
        known = {r.job_id for r in records} | {s.job_id for s in load_jobs()} | {
            j for w in truth_data.get("anomalies", []) for j in w.get("jobs", [])}
        unknown = [j for j in ids if j not in known]
        if unknown:
            raise UsageProblem(f"--job: no job {', '.join(unknown)} in the records, ml/jobs or the truth "
                               f"(known: {', '.join(sorted(known))})")
    if not record_files:
        records += cluster_records(es_url, credentials(es_url, api_key, user, password, ca_certs, insecure),
                                   ids, min_score)
    result = grade(records, truth_data, ids, min_score)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for line in result.lines():
            click.echo(line)


