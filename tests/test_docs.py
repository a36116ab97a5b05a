"""Every command has help text and is shown in the README, and the README's commands are true."""

from pathlib import Path

import click

from synth.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands(group, prefix=()):
    """Every command under ``group``, asked for as ``synth --help`` asks (the root group imports
    a command's module only when the command is asked for)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def _command(name):
    return cli.get_command(click.Context(cli), name)


def test_every_command_has_help_and_is_in_the_readme():
    for path, command in _commands(cli):
        assert command.help and command.help.strip(), path
        assert f"synth {' '.join(path)}" in README, f"README does not show `synth {' '.join(path)}`"


def test_every_generate_option_is_in_the_readme():
    for param in _command("generate").params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert opt in README, opt


def test_every_stream_option_is_in_its_readme_section():
    section = README.split("## Stream in real time")[1].split("\n## ")[0]
    for param in _command("stream").params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert f"`{opt}" in section, opt


def test_readme_gives_the_two_commands():
    assert "    python3 -m venv .venv && . .venv/bin/activate && pip install -e . && synth generate\n" in README
    assert "    python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest\n" in README


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    command = "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest"
    assert command in README and f"\n{command}\n" in ci
