"""synth fit --check in every format family synth writes: the twin is written in the input's own
format, both logs are profiled the same way, and what a format cannot carry is not judged."""

import datetime as dt
import json

import pytest
from click.testing import CliRunner

import synth
from synth.analysis.fit import fit_log
from synth.analysis.fitprofile import NEEDS, needs
from synth.analysis.logread import read_log
from synth.cli import cli
from synth.run.fitcheck import check_fit, read_options

END = dt.datetime(2026, 11, 28, 0, 0, 0, tzinfo=dt.UTC)

# An Apache LogFormat without a referrer or %b (the body size is %B), with %D; an nginx
# log_format in JSON whose time is $msec and that writes no agent.
LOG_FORMAT = '%a %t "%r" %>s %B "%{User-Agent}i" %D'
NGINX_JSON = ('escape=json {"ip":"$remote_addr","t":"$msec","r":"$request","s":$status,'
              '"b":$body_bytes_sent,"ref":"$http_referer"}')

FAMILIES = {
    # the format keys of the scenario, what the fitted scenario names, the rows not judged
    "apache text": ({"format": "vhost_combined"}, {"format": "vhost_combined"}, set()),
    "nginx text": ({"format": "nginx_combined"}, {"format": "nginx_combined"}, set()),
    "json": ({"format": "ecs_json"}, {"format": "ecs_json"}, set()),
    "LogFormat": ({"log_format": LOG_FORMAT}, {"log_format": LOG_FORMAT}, {"referrer present"}),
}  # an nginx log_format string: test_fit_command_reads_an_nginx_log_format


def _scenario(**keys):
    base = {"name": "t", "days": 0.5, "rate": 0.3, "end": END.isoformat(), "anomalies": []}
    base.update(keys)
    return base


def _reasons(check):
    return {r.figure: r.reason for r in check.rows if r.reason}


@pytest.mark.parametrize("family", FAMILIES)
def test_check_round_trips_in_the_input_format(tmp_path, family):
    keys, named, not_judged = FAMILIES[family]
    synth.generate(_scenario(**keys), seed=3, out_dir=tmp_path, workers=1)
    files = sorted(tmp_path.glob("access.log*"))
    fit = fit_log(files, **{k: v for k, v in keys.items() if k != "format"})
    assert {k: fit.scenario[k] for k in named} == named
    assert read_options(fit)["format"] == keys.get("format")
    check = check_fit(files, fit, seed=2, workers=1)
    # The twin is in the input's format: every one of its lines parses as it.
    assert check.twin.lines == check.twin.profiled > 0 and check.twin.unparsed == 0
    expected = keys.get("format", "custom" if "log_format" in keys else "nginx")
    assert check.twin.log_format == check.input.log_format == expected
    reasons = _reasons(check)
    assert set(reasons) == not_judged, check.lines()
    assert all(r.input is None and r.twin is None and r.ok is None for r in check.rows if r.reason)
    assert check.ok, "\n".join(check.lines())
    judged = {r.figure for r in check.rows if r.ok is not None}
    assert {"lines per covered hour", "status 200", "bytes median", "Zipf slope paths", "top-10 clients share"} <= judged
    # Each row is made of no field (rate and time) or says which it needs: a new row that did
    # not would be judged on a format without its field.
    timeless = {"lines per covered hour", "busiest/quietest hour", "weekday/weekend"}
    for row in check.rows:
        assert (row.figure in timeless) != bool(needs(row.figure)), row.figure
    assert all(set(fields) <= {"method", "status", "target", "bytes", "client", "agent", "referrer"}
               for fields in NEEDS.values())


def test_a_gap_in_a_json_log_is_left_out_of_the_twin(tmp_path):
    """An outage in an ecs_json log: the twin (full traffic) is compared over the covered time,
    its lines in the gap left out as for combined logs."""
    src = tmp_path / "src"
    synth.generate(_scenario(format="ecs_json", days=2, rate=0.07), seed=4, out_dir=src, workers=1)
    gap = (END - dt.timedelta(hours=14)).timestamp() * 1000, (END - dt.timedelta(hours=8)).timestamp() * 1000
    kept = tmp_path / "access.log"
    with open(kept, "wb") as fh:
        for batch in read_log(sorted(src.glob("access.log*")), format="ecs_json"):
            for raw, t in zip(batch.raw.tolist(), batch.t_ms.tolist()):
                if not gap[0] <= t < gap[1]:
                    json.loads(raw)
                    fh.write(raw + b"\n")
    fit = fit_log([kept])
    assert fit.coverage.gaps
    check = check_fit([kept], fit, seed=2, workers=1)
    rate = next(r for r in check.rows if r.figure == "lines per covered hour")
    assert rate.ok, check.lines()
    assert check.twin_lines == pytest.approx(check.input.profiled, rel=0.25)


def test_fit_command_reads_an_nginx_log_format(tmp_path):
    """An nginx log_format string (JSON, time in $msec, no agent) through the command: the twin
    is written in it (its rate is in band only if its lines parse), every judged row is in band,
    and the table says why a row is not judged."""
    synth.generate(_scenario(nginx_log_format=NGINX_JSON), seed=3, out_dir=tmp_path / "log", workers=1)
    runner = CliRunner()
    result = runner.invoke(cli, ["fit", "--check", "--seed", "2", "--nginx-log-format", NGINX_JSON, str(tmp_path / "log")])
    assert result.exit_code == 0, result.output
    rows = {line.split("  ")[0]: line for line in result.output.splitlines()}
    for figure in ("bots, crawlers", "session requests mean", "session requests p90"):
        assert rows[figure].endswith("n/a: no agent in this format"), result.output
    assert rows["referrer present"].endswith(" in"), result.output
    result = runner.invoke(cli, ["fit", "--format", "combined", "--nginx-log-format", NGINX_JSON, str(tmp_path / "log")])
    assert result.exit_code == 2 and "choose one" in result.output
