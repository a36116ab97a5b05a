"""synth fit's agent keys: browsers, systems and bot kinds reach generate, and come back from a fit."""

import datetime as dt
import re
from collections import Counter

import numpy as np
import pytest
from helpers import COMBINED_RE, all_lines

import synth
from synth.analysis.fit import fit_log
from synth.generate import catalog
from synth.generate.browsers import browser_family, browser_shares, browser_system
from synth.generate.pools import stratified_sizes
from synth.generate.scenario import ScenarioError, scenario_from_dict, to_yaml
from synth.generate.shape import NO_SHAPE, Shape
from synth.run.fitcheck import check_fit

END = dt.datetime(2026, 11, 28, 0, 0, 0, tzinfo=dt.UTC)
BROWSERS = {"chrome": 0.3, "safari": 0.1, "firefox": 0.4, "edge": 0.15, "samsung": 0.05}
BOTS = {"crawler": 0.5, "feed": 0.25, "monitor": 0.1, "scanner": 0.15}


def _scenario(**keys):
    base = {"name": "t", "days": 1.5, "rate": 0.5, "end": END.isoformat(), "anomalies": []}
    base.update(keys)
    return base


@pytest.mark.parametrize("keys, where", [
    ({"browsers": {"opera": 1}}, "browsers.opera"),
    ({"browsers": {"chrome": -1}}, "browsers.chrome"),
    ({"browsers": {"chrome": 0}}, "browsers"),
    ({"systems": {"beos": 1}}, "systems.beos"),
    ({"bots": {"crawler": 1, "poller": 1}}, "bots.poller"),
    ({"bots": {"crawler": 1}, "scanner_share": 0.1}, "scanner_share"),
    ({"sizes": {"page": {"median": 10, "home": -1}}}, "sizes.page.home"),
    ({"crawler_addresses": [2, 0.5]}, "crawler_addresses"),
    ({"sizes": {"page": {"median": 10, "low_spread": 5}}}, "sizes.page.low_spread"),
    ({"sizes": {"static": {"median": 10, "home": 5}}}, "sizes.static"),
    ({"sizes": {"page": {"median": 10, "feed": 5}, "other": {"median": 10, "feed": 6}}}, "sizes.other.feed"),
])
def test_bad_agent_keys_are_named(keys, where):
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(_scenario(**keys))
    assert [p for p, _ in e.value.problems] == [where]


def test_agent_keys_round_trip_through_yaml():
    keys = dict(browsers=BROWSERS, systems={"windows": 0.5, "ios": 0.5}, bots=BOTS, crawler_addresses=[2, 5, 1],
                sizes={"page": {"median": 9000, "spread": 0.3, "low_spread": 0.6, "home": 12345}, "other": {"median": 50, "feed": 777}})
    scenario = scenario_from_dict(_scenario(**keys))
    assert dict(scenario.shape.browsers) == pytest.approx(BROWSERS)
    assert (scenario.shape.home_size, scenario.shape.feed_size) == (12345, 777)
    assert scenario.shape.low_spread("page") == 0.6 and scenario.shape.low_spread("other") is None
    assert scenario_from_dict(to_yaml(scenario)) == scenario


def test_a_law_with_two_spreads_gives_the_requests_both_tails():
    """stratified_sizes with low_spread: the requests' p10 follows the spread below the median,
    the p90 the one above, whichever targets are popular; without it, one spread for both."""
    rng = np.random.default_rng(3)
    mass = 1 / np.arange(1, 3001) ** 1.1
    for low in (None, 0.3, 1.0):
        sizes = stratified_sizes(rng, mass, 20_000, 0.5, low)
        order = np.argsort(sizes)
        cum = np.cumsum(mass[order]) / mass.sum()
        p10, p50, p90 = (sizes[order][np.searchsorted(cum, q)] for q in (0.1, 0.5, 0.9))
        assert p50 == pytest.approx(20_000, rel=0.05)
        assert np.log(p90 / p50) / 1.2816 == pytest.approx(0.5, abs=0.05)
        assert np.log(p50 / p10) / 1.2816 == pytest.approx(0.5 if low is None else low, abs=0.05)


def test_browser_shares_without_keys_are_the_catalogue():
    """No key: the catalogue's shares, untouched (the default scenario's bytes hang on them)."""
    assert browser_shares().tolist() == [s for s, _ in catalog.BROWSERS]
    mobile = browser_shares(0.7)
    assert browser_shares(0.7, NO_SHAPE).tolist() == mobile.tolist()


def test_browser_shares_meet_families_systems_and_mobile_at_once():
    shape = Shape(browsers=tuple(BROWSERS.items()), systems=(("windows", 0.4), ("macos", 0.1), ("linux", 0.05),
                                                           ("ios", 0.15), ("android", 0.3)))
    w = browser_shares(0.45, shape)
    families = np.array([browser_family(t) for _, t in catalog.BROWSERS])
    systems = np.array([browser_system(t) for _, t in catalog.BROWSERS])
    for name, share in BROWSERS.items():
        assert w[families == name].sum() == pytest.approx(share, abs=0.01)
    assert w[systems == "android"].sum() == pytest.approx(0.3, abs=0.01)
    assert w[np.isin(systems, ["ios", "android"])].sum() == pytest.approx(0.45, abs=0.01)


def _family(agent: str) -> str:
    # Told independently of synth's own tables: the token each browser writes last.
    for name, mark in (("edge", "Edg/"), ("samsung", "SamsungBrowser/"), ("firefox", "Firefox/"),
                       ("chrome", "Chrome/"), ("chrome", "CriOS/"), ("safari", "Safari/")):
        if mark in agent:
            return name
    return "other"


def test_generate_honours_browsers_and_bot_kinds(tmp_path):
    keys = dict(rate=0.6, bot_share=0.3, browsers=BROWSERS, bots=BOTS, audience={"+0000": 1})
    synth.generate(_scenario(**keys), seed=4, out_dir=tmp_path, workers=1)
    lines = [COMBINED_RE.match(line) for line in all_lines(tmp_path)]
    visitors: dict[str, str] = {}
    kinds: Counter[str] = Counter()
    for m in lines:
        agent = m["agent"]
        if re.search(r"Feedly|inoreader|NewsBlur|Tiny Tiny RSS|FreshRSS|NetNewsWire", agent):
            kinds["feed"] += 1
        elif re.search(r"UptimeRobot|Pingdom|Better Uptime", agent):
            kinds["monitor"] += 1
        elif m["request"].split(" ")[1] in {p for p in catalog.SCANNER_PATHS} or \
                re.search(r"zgrab|python-requests|Go-http-client|curl/|l9scan|Censys|Nuclei|masscan", agent):
            kinds["scanner"] += 1
        elif re.search(r"bot|externalhit|facebook|LinkedIn", agent, re.I):
            kinds["crawler"] += 1
        else:
            visitors.setdefault(m["client"], agent)
    bots = sum(kinds.values())
    assert bots / len(lines) == pytest.approx(0.3, abs=0.03)
    for name, share in BOTS.items():
        assert kinds[name] / bots == pytest.approx(share, rel=0.25, abs=0.01), (name, kinds)
    families = Counter(_family(a) for a in visitors.values())
    for name, share in BROWSERS.items():
        assert families[name] / len(visitors) == pytest.approx(share, rel=0.25, abs=0.015), (name, families)


def test_fit_recovers_a_skewed_agent_and_bot_mix_and_the_twin_shows_it(tmp_path):
    """generate (skewed browsers and bots) -> fit -> the keys come back, and --check's agent rows
    (bot kinds, browsers, systems, mobile visitors) of the twin are in band."""
    keys = dict(days=2, rate=0.8, bot_share=0.3, browsers=BROWSERS, bots=BOTS, audience={"+0000": 1})
    synth.generate(_scenario(**keys), seed=5, out_dir=tmp_path, workers=1)
    files = sorted(tmp_path.glob("access.log*"))
    fit = fit_log(files)
    s = fit.scenario
    for name, share in BROWSERS.items():
        assert s["browsers"][name] == pytest.approx(share, rel=0.25, abs=0.01)
    for name, share in BOTS.items():
        assert s["bots"][name] == pytest.approx(share, rel=0.25, abs=0.01)
    assert s["bot_share"] == pytest.approx(0.3, rel=0.25)
    assert "scanner_share" not in s
    check = check_fit(files, fit, seed=2, workers=1)
    table = "\n".join(check.lines())
    agent_rows = [r for r in check.rows if r.figure.split(" ")[0] in ("bots", "browser", "system", "visitors")]
    names = {r.figure for r in agent_rows}
    assert {f"browser {b}" for b in BROWSERS} <= names and {f"bots {b}" for b in BOTS} <= names
    assert all(r.ok for r in agent_rows if not r.few), table
    assert sum(not r.few for r in agent_rows) >= 12, table
    # Every other figure is in band too, the body sizes' median and p90 with them (the law of
    # each kind has a spread on each side of its median, and the home page keeps its own size).
    assert check.ok, table
    assert s["sizes"]["page"]["home"] and 0 < s["sizes"]["static"]["spread"] < s["sizes"]["static"]["low_spread"]
