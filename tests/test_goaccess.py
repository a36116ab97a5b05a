"""goaccess, a real log analyser, reads a default run without a single failed line, and sees the
browsers, systems, referrers and crawlers a real small site has."""

import json
import os
import shutil
import subprocess

import pytest
from columns import CombinedColumns
from helpers import files_in_order, manifest


@pytest.fixture(scope="module")
def report(default_run, tmp_path_factory):
    assert shutil.which("goaccess"), "goaccess is not installed (.ci/run installs it)"
    out = default_run
    path = tmp_path_factory.mktemp("goaccess") / "report.json"
    # Every line is still parsed and counted (general); only the panels no test reads are not built.
    unread = ["VISITORS", "REQUESTS", "REQUESTS_STATIC", "NOT_FOUND", "HOSTS", "VISIT_TIMES", "VIRTUAL_HOSTS",
              "REFERRERS", "KEYPHRASES", "REMOTE_USER", "CACHE_STATUS", "GEO_LOCATION", "MIME_TYPE", "TLS_TYPE"]
    subprocess.run(["goaccess", *map(str, files_in_order(out)), "--log-format=COMBINED", "--no-progress",
                    *(f"--ignore-panel={panel}" for panel in unread), "-o", str(path)], check=True, capture_output=True,
                   env={**os.environ, "TZ": "UTC"})  # a zone set: glibc stats no /etc/localtime per line
    return out, json.loads(path.read_text())


def test_goaccess_parses_default_run(report):
    """Zero failed lines; its request count, bandwidth and log size equal ours."""
    out, data = report
    general = data["general"]
    log = CombinedColumns.read(out)  # every line a combined line, its %b read
    assert general["failed_requests"] == 0
    assert general["total_requests"] == general["valid_requests"] == manifest(out)["lines"] == log.data.count(b"\n")
    assert len(log.size) == log.data.count(b"\n")
    assert general["log_size"] == manifest(out)["bytes"] == len(log.data)
    assert general["bandwidth"] == int(log.size[log.size >= 0].sum())


def _shares(data, panel):
    total = data["general"]["valid_requests"]
    return {row["data"]: row["hits"]["count"] / total for row in data[panel]["data"]}


# (panel, entry, lowest share, highest share): what a general-audience site shows.
PLAUSIBLE = [
    ("browsers", "Chrome", 0.30, 0.65), ("browsers", "Safari", 0.10, 0.35), ("browsers", "Firefox", 0.02, 0.15),
    ("browsers", "Edge", 0.01, 0.10), ("browsers", "Crawlers", 0.05, 0.30),
    ("os", "Windows", 0.15, 0.45), ("os", "Android", 0.08, 0.35), ("os", "iOS", 0.08, 0.30),
    ("os", "Macintosh", 0.04, 0.25), ("os", "Linux", 0.005, 0.08), ("os", "Crawlers", 0.05, 0.30),
]


@pytest.mark.parametrize("panel, entry, low, high", PLAUSIBLE)
def test_goaccess_sees_a_plausible_audience(report, panel, entry, low, high):
    _, data = report
    assert low <= _shares(data, panel).get(entry, 0.0) <= high


def test_goaccess_sees_referrers_and_statuses(report):
    """Internal navigation is the top referrer, then search engines; most responses are 2xx."""
    out, data = report
    sites = _shares(data, "referring_sites")
    ranked = sorted(sites, key=sites.get, reverse=True)
    assert ranked[0].startswith("www.") and "google" not in ranked[0]  # the site itself
    assert ranked[1] == "www.google.com"
    assert {"www.bing.com", "duckduckgo.com"} <= set(sites)
    statuses = _shares(data, "status_codes")
    assert statuses["2xx Success"] > 0.85 and 0.01 < statuses["4xx Client Errors"] < 0.05
