"""synth fit: a scenario learned from a log, and its round trip (--check)."""

from __future__ import annotations

import os

import click

from synth.analysis.fit import FitError, fit_log
from synth.cli.common import UsageProblem, cli


@cli.command("fit")
@click.argument("paths", nargs=-1, required=True, metavar="LOG...")
@click.option("--format", "format_", default=None, metavar="NAME",
              help="The log's format, a built-in name (default: told from its first lines).")
@click.option("--log-format", "log_format", default=None, metavar="'STRING'",
              help="The log's format as the server's Apache LogFormat string.")
@click.option("--nginx-log-format", "nginx_log_format", default=None, metavar="'STRING'",
              help="The log's format as the server's nginx log_format string (escape=... first, if any).")
@click.option("--keep-paths", is_flag=True,
              help="Keep the log's paths (no queries) with their sizes and popularity; never its addresses.")
@click.option("-o", "--out", "out_file", default=None, metavar="FILE",
              help="Write the scenario to FILE (default: standard output).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option("--check", is_flag=True,
              help="Generate the fitted scenario over the log's range and print synth profile's figures of "
                   "both, each in or out of its band; exit 1 if any is out.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=1, show_default=True,
              help="Seed of the twin that --check generates.")
def fit_command(paths: tuple[str, ...], format_: str | None, log_format: str | None, nginx_log_format: str | None,
                keep_paths: bool,
                out_file: str | None, force: bool, check: bool, seed: int) -> None:
    """Write a scenario whose generated log has the shape of LOG... (a twin of the site).

    Reads the logs (plain or gzip, in any order, any format synth writes) and fits: the mean
    rate over the time the log covers (a sample of minutes, outages and lost rotations are
    found and left out), the daily and weekly curves, the status mix per kind of request, the
    site map's shape (pages, popularity, images per page, sizes), methods, bots, referrers,
    visits, the client population and the agents (browsers, systems, mobile share, kinds of
    bot). The scenario's comments say what was measured, from how many lines, and what fell
    back to synth's defaults.

    No address, path, query, referrer or agent of the log reaches the scenario unless
    --keep-paths (paths only, never addresses).

    With --check, the twin is written in the log's own format and both are profiled alike;
    a figure the format cannot carry is shown as n/a with the reason. The table of figures goes to standard output and the scenario is written only
    with -o. Bands: shares +-25 % or 1 point, medians, p90s and session mean +-30 %, Zipf slopes
    +-0.25, hour and weekday ratios +-25 %.

    \b
    Example:
        synth fit /var/log/nginx/access.log* > mysite.yaml
        synth generate --scenario mysite.yaml --days 28 --out twin/
        synth fit --check access.log access.log.1.gz   # the figures of log and twin, each in band or not
    """
    if sum(x is not None for x in (format_, log_format, nginx_log_format)) > 1:
        raise UsageProblem("--format, --log-format and --nginx-log-format: choose one")
    if out_file is not None and os.path.exists(out_file) and not force:
        raise UsageProblem(f"--out: {out_file} exists (--force overwrites it)")
    if out_file is not None and os.path.isdir(out_file):
        raise UsageProblem(f"--out: {out_file} is a folder")
    try:
        fitted = fit_log(paths, format=format_, log_format=log_format, keep_paths=keep_paths,
                         nginx_log_format=nginx_log_format)
        result = None
        if check:
            from synth.run.fitcheck import check_fit  # generates the twin: only --check needs the generator

            result = check_fit(paths, fitted, seed=seed)
    except FitError as e:
        raise UsageProblem(str(e)) from None
    text = fitted.yaml()
    if out_file is not None:
        try:
            with open(out_file, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as e:
            raise UsageProblem(f"--out: {out_file}: {e.strerror or e}") from None
    elif result is None:
        click.echo(text, nl=False)
    if result is not None:
        for line in result.lines():
            click.echo(line)
        if not result.ok:
            raise click.exceptions.Exit(1)
