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
from helpers import COMBINED_RE, all_lines, epoch_seconds
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
def rows(default_run):
    out = default_run
    parsed = []
    for line in all_lines(out):
        m = COMBINED_RE.match(line)
        parsed.append((m["client"], epoch_seconds(m), m["request"].split(" ")[1], int(m["status"]),
                       m["bytes"], m["agent"]))
    return parsed


@pytest.fixture(scope="module")
def bot_agents(rows):
    """The distinct agents that name a bot (the regex once per agent, not per line)."""
    return {agent for agent in {row[5] for row in rows} if BOT.search(agent)}


@pytest.fixture(scope="module")
def by_client(rows):
    """Each client's rows, in the log's order."""
    grouped: dict[str, list[tuple]] = collections.defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def test_static_sizes_are_not_round(rows):
    """The site's CSS, JS and feed have the sizes a build makes (182,417), not 182,000."""
    sizes = {path.split("?")[0]: int(size) for _, _, path, status, size, _ in rows
             if status == 200 and size != "-" and (path.startswith("/static/") or path == "/feed/")}
    assert len(sizes) >= 3
    assert all(size % 1000 for size in sizes.values()), sizes


def test_busiest_clients_are_bots_and_offices(by_client, bot_agents):
    """The ten busiest addresses are bots, or addresses several browsers share (an office, a
    proxy): a single person does not make the most requests of a site."""
    for client in sorted(by_client, key=lambda c: len(by_client[c]), reverse=True)[:10]:
        agents = {row[5] for row in by_client[client]}
        assert agents & bot_agents or len(agents) >= 3, (client, agents)


def _people(by_client, bot_agents):
    """Human visitors' addresses, busiest first, without those several browsers share (offices)."""
    human = collections.Counter()
    for client, rows in by_client.items():
        if len({row[5] for row in rows}) < 3:
            human[client] = sum(row[5] not in bot_agents for row in rows)
    return [c for c, n in human.most_common() if n]


def test_human_visitors_sleep(by_client, bot_agents):
    """The busiest human visitors are each absent for hours of every day: the hours of the
    day (on a 24-hour clock) in which any one of them made a request cover at most 20."""
    for client in _people(by_client, bot_agents)[:20]:
        per_day: dict[int, set[int]] = collections.defaultdict(set)
        for _, t, *_ in by_client[client]:
            per_day[t // 86400].add(t // 3600 % 24)
        assert max(len(hours) for hours in per_day.values()) <= 20, client


def test_frequent_visitors_revalidate_static_files(by_client, bot_agents):
    """A visitor who comes back daily gets the site's CSS and JS from the cache: among the
    busiest human visitors, 304s outnumber 200s for /static/ files."""
    for client in _people(by_client, bot_agents)[:5]:
        statuses = collections.Counter(s for _, _, p, s, _, _ in by_client[client] if p.startswith("/static/"))
        assert statuses[304] >= statuses[200], (client, statuses)


def test_link_previews_fetch_no_scripts_and_crawlers_no_css_twice(rows, bot_agents):
    """Twitterbot and the other link previews fetch pages and images, never CSS or JS; a
    crawler does not fetch the same stylesheet again within seconds."""
    agents = {a for *_, a in rows}
    preview_agents = {a for a in agents if any(m in a for m in catalog.LINK_PREVIEWS)}
    previews = [(p, a) for _, _, p, _, _, a in rows if a in preview_agents]
    assert previews and not [p for p, _ in previews if p.startswith("/static/")]
    last: dict[tuple[str, str], int] = {}
    for client, t, path, _, _, agent in rows:
        if path.startswith("/static/") and agent in bot_agents:
            key = (client, path)
            assert key not in last or t - last[key] >= 10, (key, t - last[key])
            last[key] = t


def test_client_addresses_are_public_and_never_military(rows):
    """Every client address is a global unicast address outside reserved, documentation,
    bogon and US military space; crawlers come from their operators' networks."""
    for client in {c for c, *_ in rows}:
        address = ipaddress.ip_address(client)
        assert address.is_global and not address.is_multicast, client
        assert not any(address in net for net in MILITARY), client
    networks = {marker: [ipaddress.ip_network(n) for n in nets] for marker, nets in catalog.PUBLISHED_NETWORKS.items()}
    for client, _, _, _, _, agent in rows:
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
    seen = set()
    for line in all_lines(tmp_path):
        m = COMBINED_RE.match(line)
        seen.add((dt.datetime.fromtimestamp(epoch_seconds(m), dt.UTC).date(), m["agent"]))
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
