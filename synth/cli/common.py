"""What every command shares: the one-line usage error, the option groups, the root group."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

import click

import synth
from synth.generate.checks import Bounds, ScenarioError, number_problem

# Scenario keys as the options that set them, so errors name what the user typed.
OPTION_FOR_KEY = {
    "days": "--days", "end": "--end", "rate": "--rate", "seed": "--seed", "out": "--out",
    "rotate": "--rotate", "tz": "--tz", "format": "--format", "log_format": "--log-format",
    "nginx_log_format": "--nginx-log-format", "messy": "--messy",
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


class Number(click.ParamType):
    """A number option checked against stated bounds: finite, in range, whole where it must be
    (click's FloatRange lets ``inf`` and ``nan`` through)."""

    def __init__(self, bounds: Bounds):
        self.bounds = bounds
        self.name = "integer" if bounds.integer else "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                value = int(value) if self.bounds.integer else float(value)
            except ValueError:
                self.fail(f"must be {'a whole number' if self.bounds.integer else 'a number'}, got {value!r}",
                          param, ctx)
        problem = number_problem(value, self.bounds)
        if problem:
            self.fail(problem, param, ctx)
        return int(value) if self.bounds.integer else float(value)


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


def check_formats(format_: str | None, log_format: str | None) -> None:
    """--format and --log-format each name the line format: one of them, on every command."""
    if format_ is not None and log_format is not None:
        raise UsageProblem("--format, --log-format: give one of them")


def plural(n: float, one: str, many: str | None = None) -> str:
    from synth.run.report import plural as _plural
    return _plural(n, one, many)


def quiet_option(command: Callable) -> Callable:
    """--quiet, the same on every command that has it: the closing summary line and errors only."""
    return click.option("--quiet", "-q", is_flag=True,
                        help="Print only what scripts read (the seed's lines and the closing summary): "
                             "no progress bar, histogram or table.")(command)


def output_options(command: Callable) -> Callable:
    """--out, --rotate, --tz, --format and --log-format: where and how lines are written."""
    options = [
        click.option("--out", "out_dir", default="output", show_default=True, metavar="DIR", help="Output folder."),
        click.option("--rotate", default=None, metavar="day|hour|none|size:100MB",
                     help="How closed files are cut (default day)."),
        click.option("--tz", default=None, metavar="ZONE",
                     help="Zone of the times written: +0530, +05:30, Z, UTC, or a name like Europe/Paris "
                          "(daylight saving followed; default +0000)."),
        click.option("--format", "format_", default=None, metavar="NAME",
                     help="Line format: combined (default), common, vhost_combined, combined_timing, nginx_combined, "
                          "ecs_json."),
        click.option("--log-format", "log_format", default=None, metavar="'STRING'",
                     help="Any Apache LogFormat string, e.g. '%h %l %u %t \"%r\" %>s %b %D'."),
        click.option("--nginx-log-format", "nginx_log_format", default=None, metavar="'STRING'",
                     help="An nginx log_format string, e.g. 'escape=json {\"ip\":\"$remote_addr\",...}'."),
        click.option("--messy", type=float, default=None, metavar="SHARE",
                     help="Share of lines that are the junk real servers log (default 0); listed in messy.jsonl."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


# Each command, and the module of synth.cli that defines it.
COMMAND_MODULES = {
    "generate": "synth.cli.generate", "stream": "synth.cli.generate", "scenarios": "synth.cli.scenarios",
    "pipeline": "synth.cli.logs", "verify": "synth.cli.logs", "profile": "synth.cli.logs",
    "inject": "synth.cli.inject", "fit": "synth.cli.fit", "report": "synth.cli.report",
    "bench": "synth.cli.bench", "setup": "synth.cli.elastic", "score": "synth.cli.elastic",
}


class CommandGroup(click.Group):
    """The root group: a command's module is imported when the command is asked for, so
    ``synth verify`` does not import the generator and ``synth generate`` not the ingest engine."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(COMMAND_MODULES[cmd_name])  # its decorators register it
        return self.commands.get(cmd_name)


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(synth.__version__, prog_name="synth")
def cli() -> None:
    """Realistic web-server access logs with anomalies whose time and kind are known.

    \b
    Example:
        synth generate                 # 7 days of Apache logs with a 10x spike in output/
        synth verify output/           # every line through the ingest pipeline, offline
        goaccess output/access.log* --log-format=COMBINED
    """



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


def cluster_records(es_url: str | None, creds: Any, ids: list[str], min_score: float) -> list[Any]:
    """The ML records of the jobs ``ids`` from the cluster, as synth score reads them (one line
    and exit 1 for a cluster error, exit 2 for a job it does not know)."""
    from synth.analysis.score import ScoreError, parse_records
    from synth.elastic import cluster as elastic
    if es_url is None:  # credentials() refuses it first; this keeps the type honest
        raise UsageProblem("--es: give Elasticsearch's URL")
    records: list[Any] = []
    try:
        cluster = elastic.Cluster(es_url, creds)
        for job in ids:
            if cluster.send(elastic.Request("GET", f"/_ml/anomaly_detectors/{job}"), missing_ok=True) is None:
                raise UsageProblem(f"--job: no job {job} in {es_url}")
            records += parse_records({"records": elastic.fetch_records(cluster, job, min_score)}, job)
    except (elastic.ElasticError, ScoreError) as e:
        raise click.ClickException(str(e)) from None
    except elastic.SetupError as e:
        raise UsageProblem(str(e)) from None
    return records

