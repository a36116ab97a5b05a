"""synth scenarios and synth scenarios show."""

from __future__ import annotations

import click

from synth.cli.common import UsageProblem, cli
from synth.generate.scenario import ScenarioError, builtin_scenarios, builtin_text


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


