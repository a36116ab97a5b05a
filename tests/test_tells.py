"""Lines that would give the generator away to a person reading the log: each test reads the
default run (or a run made for the point) the way a sceptical admin would, and pins what a
real server's log shows instead."""

from __future__ import annotations

import collections
import datetime as dt
import ipaddress
import re

import numpy as np
import pytest
from columns import CombinedColumns
from helpers import COMBINED_RE, all_lines
from hypothesis import given, settings
from hypothesis import strategies as st

import synth
from synth.generate import catalog
from synth.generate.pools import build_pools

BOT = re.compile(r"bot|crawl|spider|pingdom|uptime|feed|rss|newsblur|netnewswire|better stack|http-client|"
                 r"python|curl|zgrab|scan|nuclei|censys|masscan|facebookexternalhit", re.I)
# US military /8s, never seen in web logs; Faker's ipv4_public draws from them.
MILITARY = [ipaddress.ip_network(f"{n}.0.0.0/8") for n in (6, 7, 11, 21, 22, 26, 28, 29, 30, 33, 55, 214, 215)]


@pytest.fixture(scope="module")
def log(default_run):
    """Every line of the default run as columns (each line checked to be combined)."""
    return CombinedColumns.read(default_run)


@pytest.fixture(scope="module")
def bot_agents(log):
    """Which of the distinct agents name a bot, by agent code (the regex once per agent, not per line)."""
    return np.array([bool(BOT.search(agent)) for agent in log.agent.values])


@pytest.fixture(scope="module")
def static_paths(log):
    """Which of the distinct request targets are under /static/, by path code."""
    return np.array([path.startswith("/static/") for path in log.path.values])


def _agents_of(log, clients):
    """Each client's distinct agent codes."""
    pairs = np.unique(log.client.codes * len(log.agent.values) + log.agent.codes)
    wanted = np.isin(pairs // len(log.agent.values), clients)
    agents: dict[int, set[int]] = {int(c): set() for c in clients}
    for pair in pairs[wanted].tolist():
        agents[pair // len(log.agent.values)].add(pair % len(log.agent.values))
    return agents


def test_static_sizes_are_not_round(log):
    """The site's CSS, JS and feed have the sizes a build makes (182,417), not 182,000."""
    wanted = np.array([path.startswith("/static/") or path == "/feed/" for path in log.path.values])
    lines = np.flatnonzero((log.status == 200) & (log.size >= 0) & wanted[log.path.codes])
    sizes = {log.path.values[code].split("?")[0]: size
             for code, size in zip(log.path.codes[lines].tolist(), log.size[lines].tolist())}
    assert len(sizes) >= 3
    assert all(size % 1000 for size in sizes.values()), sizes


def test_busiest_clients_are_bots_and_offices(log, bot_agents):
    """The ten busiest addresses are bots, or addresses several browsers share (an office, a
    proxy): a single person does not make the most requests of a site."""
    busiest = np.argsort(-np.bincount(log.client.codes), kind="stable")[:10]  # ties: first seen first
    for client, agents in _agents_of(log, busiest).items():
        assert bot_agents[list(agents)].any() or len(agents) >= 3, (log.client.values[client],
                                                                      [log.agent.values[a] for a in agents])


def _people(log, bot_agents):
    """Human visitors' client codes, busiest first, without those several browsers share (offices)."""
    n_agents = len(log.agent.values)
    pairs = np.unique(log.client.codes * n_agents + log.agent.codes)
    distinct = np.bincount(pairs // n_agents, minlength=len(log.client.values))
    human = np.bincount(log.client.codes, weights=~bot_agents[log.agent.codes], minlength=len(log.client.values))
    order = np.argsort(-human, kind="stable")  # ties: first seen first, as Counter.most_common
    return [c for c in order.tolist() if distinct[c] < 3 and human[c] > 0]


def test_human_visitors_sleep(log, bot_agents):
    """The busiest human visitors are each absent for hours of every day: the hours of the
    day (on a 24-hour clock) in which any one of them made a request cover at most 20."""
    people = _people(log, bot_agents)[:20]
    lines = np.flatnonzero(np.isin(log.client.codes, people))
    t = log.t[lines]
    hours = np.unique(np.c_[log.client.codes[lines], t // 86400, t // 3600 % 24], axis=0)  # (client, day, hour)
    days, hours_per_day = np.unique(hours[:, :2], axis=0, return_counts=True)
    for (client, _), n in zip(days.tolist(), hours_per_day.tolist()):
        assert n <= 20, log.client.values[client]


def test_frequent_visitors_revalidate_static_files(log, bot_agents, static_paths):
    """A visitor who comes back daily gets the site's CSS and JS from the cache: among the
    busiest human visitors, 304s outnumber 200s for /static/ files."""
    for client in _people(log, bot_agents)[:5]:
        statuses = collections.Counter(log.status[(log.client.codes == client) & static_paths[log.path.codes]].tolist())
        assert statuses[304] >= statuses[200], (log.client.values[client], statuses)


def test_link_previews_fetch_no_scripts_and_crawlers_no_css_twice(log, bot_agents, static_paths):
    """Twitterbot and the other link previews fetch pages and images, never CSS or JS; a
    crawler does not fetch the same stylesheet again within seconds."""
    previewer = np.array([any(m in a for m in catalog.LINK_PREVIEWS) for a in log.agent.values])
    previews = previewer[log.agent.codes]
    assert previews.any() and not (previews & static_paths[log.path.codes]).any()
    lines = np.flatnonzero(static_paths[log.path.codes] & bot_agents[log.agent.codes])
    key = log.client.codes[lines] * len(log.path.values) + log.path.codes[lines]
    order = np.argsort(key, kind="stable")  # each (client, path)'s fetches in the log's order
    key, t = key[order], log.t[lines][order]
    again = np.flatnonzero(key[1:] == key[:-1])
    gaps = t[again + 1] - t[again]
    too_soon = again[gaps < 10]
    assert not len(too_soon), [(log.client.values[key[i] // len(log.path.values)],
                                log.path.values[key[i] % len(log.path.values)], int(t[i + 1] - t[i]))
                               for i in too_soon[:5].tolist()]


def test_client_addresses_are_public_and_never_military(log):
    """Every client address is a global unicast address outside reserved, documentation,
    bogon and US military space; crawlers come from their operators' networks."""
    for client in log.client.values:
        address = ipaddress.ip_address(client)
        assert address.is_global and not address.is_multicast, client
        assert not any(address in net for net in MILITARY), client
    networks = {marker: [ipaddress.ip_network(n) for n in nets] for marker, nets in catalog.PUBLISHED_NETWORKS.items()}
    n_agents = len(log.agent.values)
    for pair in np.unique(log.client.codes * n_agents + log.agent.codes).tolist():
        client, agent = log.client.values[pair // n_agents], log.agent.values[pair % n_agents]
        for marker, nets in networks.items():
            if marker in agent:
                assert any(ipaddress.ip_address(client) in n for n in nets), (client, agent)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_pool_addresses_are_global_for_any_seed(seed):
    """For any seed, the visitor and bot pools hold only global addresses, none military."""
    pools = build_pools(np.random.default_rng(seed), n_clients=400, ipv6_share=0.2, when=dt.date(2026, 11, 28))
    for text in pools.population.addresses:
        address = ipaddress.ip_address(text)
        assert address.is_global, text
        assert address.version == 6 or not any(address in net for net in MILITARY), text


def test_a_scan_asks_for_what_scanners_look_for(tmp_path):
    """A scan walks a scanner's word list (/wp-login.php, /.env, /.git/config, /phpmyadmin/,
    /cgi-bin/, /actuator/health, /vendor/phpunit/..., /xmlrpc.php, /server-status), and
    Nikto's agent numbers its tests: (Test:000001), (Test:000002), ..."""
    scenario = {"days": 1, "rate": 0.2, "anomalies": [
        {"kind": "scan", "minutes": 10, "magnitude": 2, "agent": "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)"}]}
    run = synth.generate(scenario, seed=5, out_dir=tmp_path, end="2026-11-28T12:00:00Z")
    address = run.truth["anomalies"][0]["affected"]["values"][0]
    lines = [COMBINED_RE.match(line) for line in all_lines(tmp_path)]
    scan = [m for m in lines if m["client"] == address]
    paths = [m["request"].split(" ")[1] for m in scan]
    for wanted in ("/wp-login.php", "/.env", "/.git/config", "/phpmyadmin/", "/actuator/health", "/xmlrpc.php",
                   "/server-status"):
        assert wanted in paths
    assert any(p.startswith("/cgi-bin/") for p in paths) and any(p.startswith("/vendor/phpunit/") for p in paths)
    tests = [int(re.search(r"\(Test:(\d{6})\)", m["agent"])[1]) for m in scan]
    assert tests[:5] == [1, 2, 3, 4, 5] and len(set(tests)) == len(tests)


@pytest.mark.parametrize("end", ["2015-06-01", "2019-06-01", "2026-11-28"])
def test_agents_are_of_each_lines_date(tmp_path, end):
    """No line carries a browser released after its own date: Chrome, Firefox, iOS majors at
    most those released by then; no Windows 10 before July 2015, no Edg/ before 2020, no GPTBot
    before August 2023."""
    synth.generate("classic", seed=3, days=30, rate=0.05, out_dir=tmp_path, end=f"{end}T12:00:00Z", rotate="none")
    log = CombinedColumns.read(tmp_path)
    n_agents = len(log.agent.values)
    seen = {(dt.date(1970, 1, 1) + dt.timedelta(days=pair // n_agents), log.agent.values[pair % n_agents])
            for pair in np.unique(log.t // 86400 * n_agents + log.agent.codes).tolist()}
    for day, agent in seen:
        for name, releases in (("Chrome/", catalog.CHROME_RELEASES), ("Firefox/", catalog.FIREFOX_RELEASES)):
            found = re.search(re.escape(name) + r"(\d+)\.", agent)
            if found:
                assert int(found[1]) <= catalog.released(releases, day), (day, agent)
        ios = re.search(r"OS (\d+)_\d+ like Mac OS X", agent)
        if ios:
            assert int(ios[1]) <= catalog.browser_versions(day)["ios"], (day, agent)
        if day < catalog.WINDOWS_10:
            assert "Windows NT 10.0" not in agent, (day, agent)
        if day < catalog.EDGE_CHROMIUM:
            assert "Edg/" not in agent
        if day < dt.date(2023, 8, 7):
            assert "GPTBot" not in agent


def test_versions_move_with_the_date():
    """The version mix follows the date: a month later, Chrome's current major is newer and
    no visitor's agent is older than the oldest of the month before."""
    before, after = catalog.browser_versions(dt.date(2026, 1, 5)), catalog.browser_versions(dt.date(2026, 2, 9))
    assert after["chrome"] > before["chrome"] and after["firefox"] > before["firefox"]
    assert catalog.released(catalog.CHROME_RELEASES, dt.date(2008, 12, 1)) == 0
    assert catalog.released(catalog.CHROME_RELEASES, dt.date(2025, 10, 28)) == 142
