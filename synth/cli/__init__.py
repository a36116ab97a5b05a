"""The ``synth`` command: click only. Parses options, calls the library, prints.

Every error a user can cause comes out as one line on stderr naming the option or key, with
exit status 2; nothing is written before the input has been checked. A run that cannot write
(a full disk) says which file and why, exit status 1; a signal that stops ``generate`` exits
128 + its number; ``stream`` stops on a signal as its normal end, exit status 0.

May import: every part of synth.
"""

from __future__ import annotations

import sys

import click

import synth
from synth.cli.common import UsageProblem, cli


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
