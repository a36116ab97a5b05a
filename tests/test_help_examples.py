"""Every example in every ``--help`` runs: each is taken from the command's help text and run
in a shell, in a fresh folder, as a user would paste it, with only its lengths shortened (a
week is an hour, a generate's rate 5 lines a second, ten minutes of stream are twenty seconds at speed 30) and a cluster's URL
pointed at the local stand-in (tests/fake_elastic.py), and a server's own logs
(/var/log/nginx/access.log*, prod.log.gz, access.log.1.gz) being a run's files. An example that fails is a broken
promise of the help, whatever the code does."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from fake_elastic import FakeStack

from synth.cli import cli

# The order a newcomer would follow: make a run, then read it, then the rest.
ORDER = ["", "generate", "scenarios", "scenarios show", "pipeline", "verify", "profile", "inject", "fit", "report", "stream", "bench",
         "setup", "score"]


def help_examples() -> list[tuple[str, str]]:
    """(command path, example command line) for every command, in ORDER."""
    found: list[tuple[str, str]] = []

    def walk(command: click.Command, path: str) -> None:
        text = command.help or ""
        if "Example:" in text:
            block = text.split("Example:", 1)[1].strip("\n").split("\n\n", 1)[0]
            lines, pending = [], ""
            for line in block.splitlines():
                line = pending + line.strip()
                if line.endswith("\\"):
                    pending = line[:-1] + " "
                    continue
                pending = ""
                if line:
                    lines.append(line)
            found.extend((path, line) for line in lines)
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), f"{path} {name}".strip())

    walk(cli, "")
    assert set(p for p, _ in found) <= set(ORDER), "a command's examples are missing from ORDER"
    return sorted(found, key=lambda item: ORDER.index(item[0]))


def shortened(line: str, stack: FakeStack, n: int) -> str:
    """The example with run lengths cut to test size and clusters pointed at the stand-in."""
    code = line.split("  #", 1)[0].strip()
    code = re.sub(r"--days \S+", "--days 0.05", code)
    code = re.sub(r"--backfill \S+", "--backfill 1h", code)
    if code.startswith("synth generate"):
        code = re.sub(r"--rate \S+", "--rate 5", code)
    if code.startswith(("synth stream", "synth bench --stream")):
        # A stream starts half an hour before its first line (the visits already under way):
        # at thousands of lines a second that warm-up, not the stream, would be the test's time.
        code = re.sub(r"--rate \S+", "--rate 200", code)
    code = re.sub(r"--duration \S+", "--duration 20s", code)
    code = re.sub(r"--seconds \S+", "--seconds 10", code)
    code = re.sub(r"--lines \S+", "--lines 20000", code)
    code = code.replace("--grade output/messy.jsonl output/", "--grade messy/messy.jsonl messy/")
    # A server's own logs, as the examples of inject and report name them: the run's files.
    code = re.sub(r"/var/log/(nginx|apache2)/access\.log\*", "output/access.log*", code)
    code = code.replace("https://localhost:9200", stack.es_url).replace("http://localhost:5601", stack.kibana_url)
    code = re.sub(r" --ca-certs \S+", "", code)
    words = code.split()
    if words[:2] == ["synth", "generate"] and "--days" not in words:
        code = code.replace("synth generate", "synth generate --days 0.05", 1)
    if words[:2] == ["synth", "stream"]:
        if "--duration" not in words:
            code += " --duration 20s"
        if "--speed" not in words:
            code += " --speed 30"
        code += f" --out stream-{n}"
    if words[:2] == ["synth", "bench"]:
        if "--stream" not in words and "--lines" not in words:
            code += " --lines 20000"
        code += " --repeat 1" if "--stream" not in words else ""
    if words[:1] == ["goaccess"]:
        code += " -o report.html"
    return code


def children_cpu() -> float:
    """CPU seconds of the finished child processes so far (what each example cost)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture(scope="module")
def stack():
    stack = FakeStack().start()
    stack.auth = ("elastic", "s3cret")
    yield stack
    stack.stop()


@pytest.mark.slow
def test_every_help_example_runs(tmp_path, stack):
    """Each example of `synth --help` and of every command's --help exits 0 (a stream too short
    for its scenario's spike streams without it: exit 0 too)."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "SYNTH_ES_PASSWORD": "s3cret",
           "COLUMNS": "100"}
    env.pop("SYNTH_ES", None)
    (tmp_path / "records.json").write_text(json.dumps({"count": 0, "records": []}))
    # What the grading example reads: a messy run of its own and the pipeline to grade.
    subprocess.run("synth generate --days 0.05 --rate 2 --messy 0.02 --seed 1 --out messy && synth pipeline > mine.json && "
                   "cp mine.json my-pipeline.json && echo '{\"docs\": [{\"_source\": {\"message\": \"ok\"}}]}' > docs.json",
                   shell=True, cwd=tmp_path, env=env, check=True, capture_output=True)
    prod = subprocess.run("synth generate --days 0.5 --rate 2 --seed 2 --rotate none --out prod --quiet && "
                          "gzip -c prod/access.log > prod.log.gz", shell=True, cwd=tmp_path, env=env, capture_output=True)
    assert prod.returncode == 0, prod.stderr
    # What fit's example reads: a rotated pair in the current folder, the older one gzipped.
    pair = subprocess.run("synth generate --days 1 --rate 0.5 --end 2026-11-28T12:00:00Z --seed 3 --out rot --quiet && "
                          "mv rot/access.log access.log && gzip -c rot/access.log-20261127 > access.log.1.gz",
                          shell=True, cwd=tmp_path, env=env, capture_output=True)
    assert pair.returncode == 0, pair.stderr
    examples = help_examples()
    assert len(examples) >= 20
    failures = []
    for n, (command, line) in enumerate(examples):
        code = shortened(line, stack, n)
        if "--run output" in code:  # the stand-in holds the run's lines once synth setup looks
            stack.documents = [json.loads((tmp_path / "output" / "manifest.json").read_text())["lines"]]
        began, cpu = time.perf_counter(), children_cpu()
        result = subprocess.run(code, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        print(f"{time.perf_counter() - began:6.1f} s {children_cpu() - cpu:6.1f} s CPU  {code}")
        # Grading exits 1 when something is out: messy lines that fail the pipeline, a figure of
        # a one-day log's twin out of its band. Both are the answer the example asks for.
        graded = result.returncode == 1 and (("--grade" in code and "graded against" in result.stdout)
                                             or ("--check" in code and "figures in band" in result.stdout))
        if result.returncode != 0 and not graded:
            failures.append(f"synth {command} --help: {line!r} (run as {code!r}) exit {result.returncode}: "
                            f"{result.stderr.strip()[-400:]}")
    assert not failures, "\n".join(failures)


def test_examples_are_found_for_every_command():
    """Every command has examples, so the test above holds each one."""
    with_examples = {path for path, _ in help_examples()}
    assert with_examples == set(ORDER)
