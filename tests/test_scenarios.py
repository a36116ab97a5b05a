"""Scenario files: validation names every problem with its YAML path; built-ins list and show."""

import pytest
import yaml

from synth.cli import main
from synth.generate.scenario import (
    ScenarioError,
    builtin_names,
    builtin_text,
    load_scenario,
    scenario_from_dict,
    to_yaml,
)

# (file text, the exact problems reported)
BROKEN = [
    ("days: -3\n", ["days: must be > 0, got -3"]),
    ("dayz: 7\n", ["dayz: unknown key"]),
    ("rate: fast\n", ["rate: must be a number, got 'fast'"]),
    ("rotate: weekly\n", ["rotate: must be day, hour, none or size:<N>MB, got 'weekly'"]),
    ("tz: '0800'\n", ["tz: must be an offset like +0000 or -0800, got '0800'"]),
    ("end: tomorrow\n", ["end: not an ISO 8601 time: 'tomorrow'"]),
    ("daily: [1, 2]\n", ["daily: must be 24 numbers from 0 to 1000000 (activity by local hour, 0 to 23), not all 0"]),
    ("audience: {'+2500': 1}\n", ["audience.+2500: must be an offset like -0500 or +0530"]),
    ("anomalies: spike\n", ["anomalies: must be a list, got 'spike'"]),
    ("anomalies: [{kind: quake}]\n",
     ["anomalies[0].kind: must be one of spike, dip, error_burst, scan, flood, crowd, bytes, new_agent, latency, "
      "got 'quake'"]),
    ("anomalies:\n  - kind: spike\n  - kind: spike\n  - kind: spike\n    magnitude: 0\n",
     ["anomalies[2].magnitude: must be > 1 for spike, got 0"]),
    ("anomalies: [{kind: dip, magnitude: 1.5}]\n", ["anomalies[0].magnitude: must be < 1 for dip, got 1.5"]),
    ("anomalies: [{kind: error_burst, status: 200}]\n",
     ["anomalies[0].status: must be an HTTP error status from 400 to 599, got 200"]),
    ("anomalies: [{kind: scan, clients: 0, address: nowhere}]\n",
     ["anomalies[0].clients: must be a whole number from 1 to 1000, got 0",
      "anomalies[0].address: must be an IPv4 or IPv6 address, got 'nowhere'"]),
    ("anomalies: [{kind: crowd, referrer: viral}]\n", ["anomalies[0].referrer: must be an http(s) URL, got 'viral'"]),
    ("anomalies: [{kind: spike, start: soon, minuets: 5}]\n",
     ["anomalies[0].start: not an ISO 8601 time: 'soon'", "anomalies[0].minuets: unknown key"]),
    ("anomalies: [{kind: spike, start: +2x}]\n",
     ["anomalies[0].start: must be an ISO 8601 time or an offset like +2d6h30m, got '+2x'"]),
    ("days: 0\nrate: -1\n", ["days: must be > 0, got 0", "rate: must be > 0, got -1"]),
    ("- 1\n- 2\n", ["a scenario must be a mapping of keys, got list"]),
]


@pytest.mark.parametrize("text, problems", BROKEN)
def test_broken_files_report_every_problem(tmp_path, text, problems):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert error.value.lines() == [f"{path}: {p}" for p in problems]


def test_cli_reports_file_problems_exit_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("days: -3\nanomalies: [{kind: dip, magnitude: 2}]\n")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--scenario", str(path), "--out", str(out)])
    err = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2 and not out.exists()
    assert err == [f"synth: {path}: days: must be > 0, got -3",
                   f"synth: {path}: anomalies[0].magnitude: must be < 1 for dip, got 2"]


def test_not_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("days: [1, 2\n")
    with pytest.raises(ScenarioError, match=r"not valid YAML at line 2"):
        load_scenario(path)


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_yaml_round_trips(name):
    """`synth scenarios show` prints YAML that loads into the same scenario, and so does to_yaml."""
    scenario = load_scenario(name)
    assert scenario_from_dict(yaml.safe_load(builtin_text(name)), name=name) == scenario
    assert scenario_from_dict(to_yaml(scenario), name=name) == scenario


def test_scenarios_list_and_show(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["scenarios"])
    listed = capsys.readouterr().out.splitlines()
    assert exit_info.value.code == 0
    assert [line.split()[0] for line in listed][0] == "classic"
    assert sorted(line.split()[0] for line in listed) == sorted(builtin_names())
    assert {"classic", "outage", "errors", "scanner", "flood", "crowd", "exfil", "new-agent", "mixed"} <= set(builtin_names())
    with pytest.raises(SystemExit):
        main(["scenarios", "show", "mixed"])
    assert yaml.safe_load(capsys.readouterr().out)["name"] == "mixed"
    with pytest.raises(SystemExit) as exit_info:
        main(["scenarios", "show", "nope"])
    assert exit_info.value.code == 2 and "nope" in capsys.readouterr().err


def test_cli_options_override_the_scenario(tmp_path):
    """--days and --spike-magnitude win over the file; a spike option on a scenario without one is an error."""
    import synth
    run = synth.generate("classic", seed=1, days=0.2, rate=0.05, spike_magnitude=3, spike_minutes=5,
                         out_dir=tmp_path / "a", end="2026-11-28T12:00:00Z")
    assert run.scenario.days == 0.2 and run.truth["anomalies"][0]["magnitude"] == 3
    with pytest.raises(ScenarioError, match="spike_magnitude: scenario 'outage' has no spike anomaly"):
        synth.generate("outage", seed=1, spike_magnitude=3, out_dir=tmp_path / "b")
