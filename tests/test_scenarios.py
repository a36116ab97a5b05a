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
    ("dayz: 7\n", ["dayz: unknown key (did you mean days?)"]),
    ("rate: fast\n", ["rate: must be a number, got 'fast'"]),
    ("rotate: weekly\n", ["rotate: must be day, hour, none or size:<N>MB, got 'weekly'"]),
    ("tz: '0800'\n", ["tz: must be an offset like +0000, +05:30 or -08, or a zone name like Europe/Paris, got '0800'"]),
    ("tz: Europe/Pariss\n", ["tz: no time zone named 'Europe/Pariss' (did you mean Europe/Paris?)"]),
    ("end: tomorrow\n", ["end: must be now, epoch seconds or an ISO 8601 time (UTC when it has no zone), got 'tomorrow'"]),
    ("seed: -1\n", ["seed: must be a whole number from 0 to 9223372036854775807, got -1"]),
    ("days: 7\nrate: 3\ndays: 8\n", ["days: duplicate key (lines 1 and 3)"]),
    ("anomalies:\n  - kind: spike\n    minutes: 5\n    minutes: 6\n", ["minutes: duplicate key (lines 3 and 4)"]),
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
     ["anomalies[0].start: must be an ISO 8601 time (UTC when it has no zone), epoch seconds or an offset like "
      "+2d6h30m, got 'soon'", "anomalies[0].minuets: unknown key (did you mean minutes?)"]),
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


def test_every_problem_in_one_pass_with_the_file_name(tmp_path, capsys):
    """A start outside the range and an unknown format are said with the other problems, each
    with the file and its path, in one run: not one at a time as each is fixed."""
    path = tmp_path / "many.yaml"
    path.write_text("rate: -1\nformat: nope\nend: 2026-11-28T12:00:00Z\ndays: 1\n"
                    "anomalies: [{kind: spike, start: 2026-12-25T00:00:00Z}, {kind: dip, magnitude: 3}]\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--scenario", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2 and not (tmp_path / "out").exists()
    assert err[0] == f"synth: {path}: rate: must be > 0, got -1"
    assert err[1] == f"synth: {path}: anomalies[1].magnitude: must be < 1 for dip, got 3"
    assert err[2].startswith(f"synth: {path}: anomalies[0].start: 2026-12-25T00:00:00Z + 30 minutes is outside the range")
    assert err[3].startswith(f"synth: {path}: format: ") and "nope" in err[3]
    assert len(err) == 4


def test_format_and_log_format_together_are_refused(tmp_path, capsys):
    """--format and --log-format name two formats: refused, as synth pipeline refuses them."""
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--format", "ecs_json", "--log-format", "%h %t", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2 and not (tmp_path / "out").exists()
    assert err == ["synth: --format, --log-format: give one of them"]
    path = tmp_path / "both.yaml"
    path.write_text("format: ecs_json\nlog_format: '%h %t'\n")
    with pytest.raises(ScenarioError, match="log_format: give format or log_format, not both"):
        load_scenario(path)


def test_a_scenario_may_hold_its_seed(tmp_path):
    """`seed:` in a file is the run's seed; --seed wins over it."""
    import synth
    path = tmp_path / "seeded.yaml"
    path.write_text("seed: 4242\ndays: 0.1\nrate: 0.2\nanomalies: []\n")
    run = synth.generate(str(path), out_dir=tmp_path / "a", end="2026-11-28T12:00:00Z")
    assert run.seed == 4242 and run.scenario.seed == 4242
    again = synth.generate(str(path), seed=7, out_dir=tmp_path / "b", end="2026-11-28T12:00:00Z")
    assert again.seed == 7
    assert (tmp_path / "a" / "access.log").read_bytes() != (tmp_path / "b" / "access.log").read_bytes()
