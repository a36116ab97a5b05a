"""The package imports what a command needs and no more: ``synth --version`` no numpy,
``synth verify`` not the generator, ``synth generate`` not the ingest engine. And the public
names of ``synth``, imported when first used, are what they were."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "faker", "jinja2", "synth.generate.model", "synth.run.generate", "synth.elastic.ingest",
         "synth.analysis.logread", "synth.analysis.fit", "elasticsearch", "vl_convert")


def modules_after(command: str | None) -> set[str]:
    """The heavy modules loaded once the root group has looked ``command`` up, in a new interpreter."""
    code = ("import json, sys\nfrom synth.cli import cli\n"
            + (f"cli.get_command(None, {command!r})\n" if command else "")
            + f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(("command", "absent"), [
    (None, HEAVY),  # synth --help's group and synth --version
    ("verify", ("faker", "synth.generate.model", "synth.run.generate", "synth.analysis.logread", "elasticsearch")),
    ("generate", ("synth.elastic.ingest", "synth.analysis.logread", "synth.analysis.fit", "elasticsearch")),
    ("fit", ("synth.generate.model", "synth.run.generate", "synth.elastic.ingest", "elasticsearch")),
    ("setup", ("numpy", "faker", "synth.generate.model", "synth.elastic.ingest")),
])
def test_a_command_imports_only_what_it_needs(command, absent):
    loaded = modules_after(command)
    assert not loaded & set(absent), (command, sorted(loaded & set(absent)))


def test_the_public_names_resolve_and_generate_stays_the_function():
    import synth.generate.scenario  # sets the attribute ``generate`` of the package to the subpackage
    from synth.run.generate import generate
    from synth.run.stream import stream

    assert synth.generate is generate
    assert synth.stream is stream
    for name in synth.__all__:
        assert getattr(synth, name) is not None, name
    assert set(synth.__all__) <= set(dir(synth))
    with pytest.raises(AttributeError):
        synth.no_such_name  # noqa: B018


def test_every_command_is_found_where_the_root_group_looks():
    """Every command a module of synth.cli registers is named in COMMAND_MODULES, with the
    module that defines it (a command missing there would be missing from synth --help)."""
    import importlib
    import pkgutil

    import synth.cli
    from synth.cli.common import COMMAND_MODULES, cli

    for module in pkgutil.iter_modules(synth.cli.__path__):
        importlib.import_module(f"synth.cli.{module.name}")
    assert set(cli.commands) == set(COMMAND_MODULES)
    for name, command in cli.commands.items():
        assert command.callback is not None and command.callback.__module__ == COMMAND_MODULES[name], name
