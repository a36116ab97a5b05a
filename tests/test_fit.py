"""synth fit: the shape keys generate honours, the fitting maths, round trips, gaps, privacy."""

import datetime as dt
import re

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from helpers import COMBINED_RE, all_lines
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import synth
from synth.analysis.fit import coverage, desmooth_daily, fit_log, fit_population, seen_population
from synth.analysis.profile import _request_class, profile_log
from synth.cli import cli
from synth.generate.pools import build_pools, request_kind
from synth.generate.rates import daily_factor
from synth.generate.scenario import ScenarioError, load_scenario, scenario_from_dict, to_yaml
from synth.run.fitcheck import check_fit

END = dt.datetime(2026, 11, 28, 0, 0, 0, tzinfo=dt.UTC)


def _scenario(**keys):
    base = {"name": "t", "days": 1.5, "rate": 0.5, "end": END.isoformat(), "anomalies": []}
    base.update(keys)
    return base


def _lines(out):
    return [COMBINED_RE.match(line) for line in all_lines(out)]


# --- the shape keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("keys, where", [
    ({"weekly": [1, 1, 1]}, "weekly"),
    ({"popularity": 0}, "popularity"),
    ({"sizes": {"page": {"median": -4}}}, "sizes.page.median"),
    ({"sizes": {"video": {"median": 4}}}, "sizes.video"),
    ({"statuses": {"page": {"200": 0.9, "999": 0.1}}}, "statuses.page.999"),
    ({"statuses": {"pages": {"200": 1}}}, "statuses.pages"),
    ({"methods": {"GET": 1, "BREW": 0.1}}, "methods.BREW"),
    ({"referrers": {"search": 0.7, "sites": 0.6}}, "referrers"),
    ({"referrers": {"search": 2}}, "referrers.search"),
    ({"pages_per_visit": 0.5}, "pages_per_visit"),
    ({"mobile_share": 1.5}, "mobile_share"),
    ({"paths": [["no-slash", 10, 1]]}, "paths[0]"),
])
def test_bad_shape_keys_are_named(keys, where):
    """Every shape key is validated, and its problem names the key path."""
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(_scenario(**keys))
    assert [p for p, _ in e.value.problems] == [where]


def test_shape_keys_round_trip_through_yaml():
    """to_yaml writes the shape keys so that scenario_from_dict reads back the same scenario."""
    keys = dict(weekly=[1, 1, 1, 1, 1, 0.5, 0.4], popularity=0.8, assets_per_page=3, pages_per_visit=3,
                sizes={"page": {"median": 20000, "spread": 0.3}, "static": {"median": 900, "spread": 1, "shared": [5, 6]}},
                statuses={"page": {200: 0.9, 404: 0.1}},
                methods={"GET": 0.9, "POST": 0.1}, client_slope=1.1, referrers={"search": 0.3, "sites": 0.1},
                mobile_share=0.6, scanner_share=0.1, paths=[["/a/", 100, 3.0]])
    scenario = scenario_from_dict(_scenario(**keys))
    assert scenario_from_dict(to_yaml(scenario)) == scenario
    assert load_scenario("classic").shape.empty


def test_request_kind_agrees_with_profile():
    """The generator's kind of each target is the request class synth profile gives its path, so a
    fitted status mix per kind lands on the requests the profile counts in that kind."""
    pools = build_pools(np.random.default_rng(1), n_clients=200, ipv6_share=0.2, when=END.date())
    for target, kind in zip(pools.site.targets, pools.site.request_kind.tolist()):
        path = target.split("?", 1)[0].lower()
        assert kind == _request_class(path), target
    assert request_kind("/x/y.PNG?v=1") == _request_class("/x/y.png")


def test_generate_honours_shape_keys(tmp_path):
    """Weekly curve, status mix per kind, methods, mobile share and pages per visit reach the lines."""
    keys = dict(days=7, rate=0.2, weekly=[1, 1, 1, 1, 1, 0.25, 0.25], methods={"GET": 0.8, "HEAD": 0.05, "POST": 0.15},
                statuses={"page": {200: 0.7, 404: 0.2, 503: 0.1}}, mobile_share=0.9)
    synth.generate(_scenario(**keys), seed=3, out_dir=tmp_path, workers=1)
    p = profile_log(sorted(tmp_path.glob("access.log*")))
    assert p.weekday_weekend_ratio == pytest.approx(3.2, rel=0.25)  # humans 4x, bots steady
    assert p.methods["GET"] == pytest.approx(0.8, abs=0.02)
    assert p.methods["POST"] == pytest.approx(0.15, abs=0.02)
    lines = _lines(tmp_path)
    kinds: dict[str, int] = {}  # each distinct request classed once
    for m in lines:
        if m["request"] not in kinds:
            kinds[m["request"]] = _request_class(m["request"].split(" ")[1].split("?")[0].lower())
    pages = [m for m in lines if kinds[m["request"]] == 1]
    share_404 = sum(m["status"] == "404" for m in pages) / len(pages)
    assert share_404 == pytest.approx(0.2, abs=0.02)
    assert all(m["status"] in ("200", "404", "503") for m in pages)
    human = {m["client"]: m["agent"] for m in lines if "bot" not in m["agent"].lower()}
    mobile = np.mean([bool(re.search("Mobile|Android|iPhone|iPad", a)) for a in human.values()])
    assert mobile == pytest.approx(0.9, abs=0.06)


# --- the maths ------------------------------------------------------------------------------------


def test_desmoothed_knots_give_the_hourly_means():
    """synth's rates are linear between the middles of the hours; the knots desmooth_daily finds
    make that curve's hourly means the measured ones."""
    target = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 0.9, 0.85, 0.8, 0.8, 0.9,
                       0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.5, 0.4])
    knots = desmooth_daily(target)
    seconds = np.arange(0, 86400, 10)
    means = daily_factor(seconds, knots).reshape(24, -1).mean(axis=1)
    assert np.allclose(means, target, atol=0.002)


def test_population_size_and_slope_are_recovered():
    """Zipf draws of a known population: the solved size and slope come back within 15 % / 0.1."""
    rng = np.random.default_rng(5)
    n, slope, visits = 4000, 1.0, 12_000
    w = 1 / np.arange(1, n + 1) ** slope
    draws = rng.choice(n, size=visits, p=w / w.sum())
    counts = np.sort(np.bincount(draws))[::-1]
    seen = int((counts > 0).sum())
    assert seen_population(seen, visits, slope, 10, 10**6) == pytest.approx(n, rel=0.15)
    fitted_slope, size = fit_population(seen, visits, {k: counts[:k].sum() / visits for k in (1, 2, 3, 5, 10)})
    assert fitted_slope == pytest.approx(slope, abs=0.1)
    assert size == pytest.approx(n, rel=0.3)


def test_coverage_finds_a_sample_and_an_outage():
    """Lines only in minute :05 are a sample; an empty stretch where lines were expected is a gap."""
    rng = np.random.default_rng(2)
    start = int(END.timestamp()) - 3 * 86400
    t = np.sort(start + rng.integers(0, 3 * 86400, 200_000))
    outage = (t >= start + 86400) & (t < start + 86400 + 5 * 3600)
    c = coverage(t[~outage])
    assert c.minutes == tuple(range(60))
    assert [(a - start, b - start) for a, b, _ in c.gaps] == [(86400, 86400 + 5 * 3600)]
    assert c.seconds == pytest.approx(3 * 86400 - 5 * 3600, abs=120)
    sampled = coverage(t[(t // 60) % 60 == 5])
    assert sampled.minutes == (5,) and not sampled.gaps
    assert sampled.seconds == pytest.approx(3 * 86400 / 60, rel=0.02)


def test_a_quiet_log_has_no_gaps():
    """A log of 0.01 lines a second has many empty hours; none of them is a gap."""
    rng = np.random.default_rng(3)
    start = int(END.timestamp()) - 7 * 86400
    t = np.sort(start + rng.integers(0, 7 * 86400, 6000))
    c = coverage(t)
    assert not c.gaps and not c.sampled


# --- round trips ----------------------------------------------------------------------------------


def _peaked(hour: int) -> list[float]:
    distance = np.minimum(np.abs(np.arange(24) - hour), 24 - np.abs(np.arange(24) - hour))
    return (0.15 + np.exp(-distance ** 2 / 8.0)).round(3).tolist()


def _near(fitted, drawn, share=False, rel=None, absolute=None):
    if share:
        return abs(fitted - drawn) <= max(0.25 * drawn, 0.01)
    if rel is not None:
        return abs(fitted - drawn) <= rel * drawn
    return abs(fitted - drawn) <= absolute


@pytest.mark.slow
@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a whole round trip
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rate=st.floats(0.3, 0.9), peak=st.integers(0, 23), bots=st.floats(0.05, 0.45),
       missing=st.floats(0.01, 0.12), slope=st.floats(0.7, 1.4), ipv6=st.floats(0.0, 0.7),
       pages=st.floats(1.5, 4.0))
def test_round_trip_recovers_the_knobs(tmp_path_factory, rate, peak, bots, missing, slope, ipv6, pages):
    """generate -> fit: the fitted knobs are the drawn ones within the bands, and --check passes.

    The visitors sit in one time zone, as the fit models them (a log does not tell a mix of
    zones; synth's default audience of eleven zones, each with its own activity law, makes the
    busiest visitor's share a point or two lower than one law over everyone would)."""
    out = tmp_path_factory.mktemp("rt")
    keys = dict(rate=rate, daily=_peaked(peak), bot_share=bots, ipv6_share=ipv6, popularity=slope, audience={"+0000": 1},
                pages_per_visit=pages, statuses={"page": {200: round(1 - missing - 0.01, 4), 404: missing, 500: 0.01}})
    synth.generate(_scenario(**keys), seed=11, out_dir=out, workers=1)
    fit = fit_log(sorted(out.glob("access.log*")))
    s = fit.scenario
    assert _near(s["rate"], rate, rel=0.25)
    busiest = int(np.argmax(s["daily"]))
    assert min(abs(busiest - peak), 24 - abs(busiest - peak)) <= 2  # a day and a half: hours seen once or twice
    assert _near(s["bot_share"], bots, share=True)
    assert _near(s["statuses"]["page"][404], missing, share=True)
    assert _near(s["popularity"], slope, absolute=0.25)
    assert _near(s["ipv6_share"], ipv6, share=True)
    assert _near(s["pages_per_visit"], pages, rel=0.3)
    check = check_fit(sorted(out.glob("access.log*")), fit, seed=2, workers=1)
    assert check.ok, "\n".join(check.lines())


def test_common_log_says_what_it_cannot_measure(tmp_path):
    """A log without agents or referrers: bots, visits, referrers and agents fall back to the
    defaults, and the scenario's comments say so; the rest is fitted and --check runs."""
    out = tmp_path / "common"
    synth.generate(_scenario(rate=0.4, format="common"), seed=4, out_dir=out, workers=1)
    files = sorted(out.glob("access.log*"))
    fit = fit_log(files)
    text = fit.yaml()
    assert "no agents in this format: bots cannot be told" in text
    assert "no agents: visits cannot be told" in text
    for key in ("bot_share", "referrers", "mobile_share", "pages_per_visit"):
        assert key not in fit.scenario
    assert fit.scenario["format"] == "common"
    assert fit.scenario["rate"] == pytest.approx(0.4, rel=0.25)
    check = check_fit(files, fit, workers=1)
    judged = {r.figure: r for r in check.rows}
    assert judged["bots, crawlers"].ok is None and judged["status 200"].ok


def test_any_format_synth_writes_is_read(tmp_path):
    """A format other than combined and common is read through synth.analysis.logread (its
    --check: tests/test_fit_formats.py)."""
    out = tmp_path / "timing"
    synth.generate(_scenario(rate=0.3, format="combined_timing"), seed=5, out_dir=out, workers=1)
    fit = fit_log(sorted(out.glob("access.log*")))
    assert fit.scenario["format"] == "combined_timing"
    assert fit.scenario["rate"] == pytest.approx(0.3, rel=0.25)
    assert 0 < fit.scenario["bot_share"] < 0.4
    scenario_from_dict(yaml.safe_load(fit.yaml()))


# --- privacy --------------------------------------------------------------------------------------


def _disguised_log(tmp_path):
    """A synth log with every address, path, referrer and agent replaced by a value of its own
    that nothing in synth could write: what is found of these later came from the input."""
    out = tmp_path / "src"
    synth.generate(_scenario(rate=0.5, mobile_share=0.5), seed=6, out_dir=out, workers=1)
    names: dict[str, str] = {}

    def secret(kind, value):
        key = f"{kind}:{value}"
        if key not in names:
            i = len(names)
            if kind == "client":
                names[key] = f"2001:db8:5ec::{i:x}" if ":" in value else f"198.18.{i // 250}.{i % 250 + 1}"
            elif kind == "path":
                ext = value.rsplit(".", 1)[1] if "." in value.rsplit("/", 1)[-1] else ""
                names[key] = f"/zq{i}secretpath/" if not ext else f"/zq{i}secretpath.{ext}"
            elif kind == "agent":
                names[key] = f"Zqbot{i}secret/1.0" if "bot" in value.lower() or value == "-" else (
                    f"Mozilla/5.0 (Zq{i}secret; Mobile)" if "Mobile" in value else f"Mozilla/5.0 (Zq{i}secret)")
            else:
                names[key] = "-" if value == "-" else f"https://zq{i}secret.example/"
        return names[key]

    lines = []
    for m in _lines(out):
        method, target, proto = m["request"].split(" ")
        lines.append(f'{secret("client", m["client"])} - - [{m["day"]}/{m["mon"]}/{m["year"]}:{m["hour"]}:{m["minute"]}:'
                     f'{m["second"]} {m["tz"]}] "{method} {secret("path", target.split("?")[0])} {proto}" {m["status"]} '
                     f'{m["bytes"]} "{secret("referrer", m["referer"])}" "{secret("agent", m["agent"])}"')
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    return log, {v for k, v in names.items() if v != "-"}


def test_no_address_path_or_agent_reaches_the_scenario_or_the_twin(tmp_path):
    """Without --keep-paths, nothing of the input's addresses, paths, referrers or agents is in the
    fitted scenario or in the lines of its twin; with it, paths are kept and addresses still not."""
    log, secrets = _disguised_log(tmp_path)
    text = fit_log([log]).yaml()
    assert "zq" not in text.lower() and "198.18." not in text and "2001:db8" not in text
    twin = tmp_path / "twin"
    synth.generate(yaml.safe_load(text), seed=1, out_dir=twin, workers=1)
    found = set()
    for m in _lines(twin):
        found |= {m["client"], m["request"].split(" ")[1], m["referer"], m["agent"]} & secrets
    assert not found
    kept = fit_log([log], keep_paths=True).yaml()
    assert "secretpath" in kept
    assert "198.18." not in kept and "2001:db8" not in kept and "Zqbot" not in kept


# --- the command ----------------------------------------------------------------------------------


def test_fit_command(tmp_path):
    """synth fit writes a scenario generate reads; bad input is one line and exit 2."""
    out = tmp_path / "src"
    synth.generate(_scenario(rate=0.3), seed=2, out_dir=out, workers=1)
    runner = CliRunner()
    result = runner.invoke(cli, ["fit", *map(str, sorted(out.glob("access.log*")))])
    assert result.exit_code == 0, result.output
    assert load_scenario_text(result.output).rate == pytest.approx(0.3, rel=0.25)
    target = tmp_path / "fitted.yaml"
    target.write_text("mine")
    result = runner.invoke(cli, ["fit", "-o", str(target), str(out / "access.log")])
    assert result.exit_code == 2 and "--force" in result.output and target.read_text() == "mine"
    result = runner.invoke(cli, ["fit", str(tmp_path / "nope.log")])
    assert result.exit_code == 2 and "nope.log" in result.output
    result = runner.invoke(cli, ["fit", "--format", "common", "--log-format", "%h", str(out / "access.log")])
    assert result.exit_code == 2 and "choose one" in result.output


def load_scenario_text(text):
    return scenario_from_dict(yaml.safe_load(text))
