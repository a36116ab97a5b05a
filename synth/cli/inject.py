"""synth inject."""

from __future__ import annotations

import sys

import click

from synth.cli.common import OPTION_FOR_KEY, UsageProblem, cli
from synth.generate.scenario import ScenarioError
from synth.run.inject import inject


@cli.command("inject")
@click.argument("paths", nargs=-1, required=True, metavar="LOG...")
@click.option("--scenario", default=None, metavar="NAME|FILE",
              help="Inject the anomalies of this scenario (built-in name or YAML file).")
@click.option("--anomaly", "anomalies", multiple=True, metavar="KIND[:k=v,...]",
              help="An anomaly to inject, e.g. spike:magnitude=5,minutes=20 or scan:start=+2d6h; repeatable.")
@click.option("--format", "format_", default=None, metavar="NAME",
              help="The log's format (a built-in name); default: detected from its first lines.")
@click.option("--log-format", "log_format", default=None, metavar="'STRING'",
              help="The log's Apache LogFormat string, when it is not a built-in format.")
@click.option("--seed", type=int, default=None, help="Same input, same seed, same output. Default: drawn and printed.")
@click.option("--out", "out_dir", default="injected", show_default=True, metavar="DIR", help="Output folder.")
@click.option("--force", is_flag=True, help="Write into a folder that holds files synth did not write.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary line.")
@click.option("--report", "report", is_flag=True, help="Also write report.html in the output folder (see synth report).")
def inject_command(paths: tuple[str, ...], scenario: str | None, anomalies: tuple[str, ...], format_: str | None,
                   log_format: str | None, seed: int | None, out_dir: str, force: bool, quiet: bool,
                   report: bool) -> None:
    """Write a copy of your own access log with labelled anomalies in it.

    LOG... are the files of a rotated set (plain or gzip, in any order, or a folder). Your
    lines are copied byte for byte into files of the same names; injected lines are in the
    log's own format, drawn from its own clients, paths, agents and referrers at that hour,
    and placed in time order. anomalies.json says where and what each anomaly is (expected
    values measured against the log's own baseline), injected.jsonl which lines were added,
    removed or rewritten, manifest.json what was written.

    \b
    Example:
        synth inject /var/log/apache2/access.log* --scenario errors --seed 7 --out injected/
        synth inject prod.log.gz --anomaly spike:magnitude=5,minutes=20 --anomaly scan --out injected/
    """
    say = (lambda text: None) if quiet or not sys.stderr.isatty() else (lambda text: click.echo(f"{text} ...", err=True))
    try:
        run = inject(list(paths), out_dir=out_dir, scenario=scenario, anomalies=anomalies, format=format_,
                     log_format=log_format, seed=seed, force=force, progress=say)
    except ScenarioError as e:
        raise UsageProblem("\n".join(f"{OPTION_FOR_KEY.get(path, path)}: {msg}" if path else msg
                                     for path, msg in e.problems)) from None
    if not quiet:
        for entry in run.truth["anomalies"]:
            expected = entry["expected"]
            done = entry["injected"]
            click.echo(f"{entry['id']:<14} {entry['start']} to {entry['end']}  {expected['metric']}: "
                       f"{expected['baseline']:,} -> {expected['during']:,}  (added {done['added']:,}, removed "
                       f"{done['removed']:,}, rewritten {done['rewritten']:,})")
    click.echo(f"{run.summary()}; wrote {run.out_dir}/")
    if report:
        from synth.cli.generate import write_run_report
        write_run_report(run.out_dir)
