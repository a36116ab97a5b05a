"""goaccess, a real log analyser, reads a default run without a single failed line."""

import json
import shutil
import subprocess

import synth

from helpers import COMBINED_RE, all_lines, files_in_order, manifest
from conftest import END


def test_goaccess_parses_default_run(tmp_path):
    """Default scenario and options (7 days): goaccess --log-format=COMBINED fails no line, and
    its request count, bandwidth and log size equal ours."""
    assert shutil.which("goaccess"), "goaccess is not installed (.ci/run installs it)"
    out = tmp_path / "output"
    run = synth.generate(seed=2017, out_dir=out, end=END)
    report = tmp_path / "report.json"
    subprocess.run(["goaccess", *map(str, files_in_order(out)), "--log-format=COMBINED", "--no-progress",
                    "-o", str(report)], check=True, capture_output=True)
    general = json.loads(report.read_text())["general"]
    assert general["failed_requests"] == 0
    assert general["total_requests"] == general["valid_requests"] == run.lines == manifest(out)["lines"]
    assert general["log_size"] == run.bytes
    sizes = (COMBINED_RE.match(line)["bytes"] for line in all_lines(out))
    bandwidth = sum(int(b) for b in sizes if b != "-")
    assert general["bandwidth"] == bandwidth
