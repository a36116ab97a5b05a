"""``synth fit``: a scenario learned from a log, so that a generated log has the same shape.

``fit_log(paths)`` reads the log (any format synth writes, plain or gzip, any order), measures
its shape over the time it covers, and returns a ``Fit``: the scenario as a mapping (the keys
``synth generate`` reads, see synth/generate/shape.py) and, per key, a note of what was
measured and from how many lines. ``Fit.yaml()`` is the commented scenario file.

Privacy: no address, path, query, referrer or agent string of the input reaches the scenario;
only counts, shares, sizes, statuses and method names do. ``keep_paths=True`` adds the input's
paths (without queries) with their sizes and how often each was asked for, never an address.

Gaps: a log may hold only part of its range (one minute an hour, an outage, a lost rotation).
``coverage()`` tells the covered time from the lines: minutes of the hour that hold lines while
others, expected to, hold none; hours without a line where several were expected. Rates and the
daily and weekly curves are measured over the covered time only.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from synth.analysis.fitagents import (
    BOT_KIND_NAMES,
    BOT_PATTERNS,
    BROWSER_NAMES,
    BROWSER_PATTERNS,
    SYSTEM_NAMES,
    SYSTEM_PATTERNS,
    agent_figures,
    classify,
    count_by,
    mobile_share,
    visitor_agents,
)
from synth.analysis.fitagents import (
    shares as shares_of,
)
from synth.analysis.fitcover import Coverage, coverage, describe_coverage
from synth.analysis.fitmath import (
    TOP_RANKS,
    desmooth_daily,
    fill_circular,
    fit_population,
    per_hour_rate,
    per_weekday_rate,
    seen_population,
    visit_count,
    visits_of,
)
from synth.analysis.fitread import Columns, FitError, offset_seconds, read_columns
from synth.analysis.profile import PAGE, STATIC, zipf_slope

KIND_NAMES = ("static", "page", "robots", "other")
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
SEARCH_HOSTS = re.compile(rb"(^|\.)(google|bing|duckduckgo|yahoo|yandex|baidu|ecosia|qwant|startpage|naver|"
                          rb"seznam|sogou|so|search)\.", re.IGNORECASE)
Z90 = 1.2815515655446004  # the 90th percentile of the standard normal
# Of synth's ten scanner agents, two pass as browsers (an old Chrome and Firefox): a log tells
# only the others' lines as bots, and so does the twin's.
SCANNER_SEEN = 0.8


@dataclass
class Fit:
    """A fitted scenario: its keys, and for each key the note the YAML file carries above it."""

    scenario: dict[str, Any]
    notes: dict[str, list[str]]
    header: list[str]
    coverage: Coverage
    lines: int
    agents: dict[str, tuple[float, bool]] = field(default_factory=dict)  # fitagents.agent_figures

    def yaml(self) -> str:
        """The scenario as a commented YAML file (``synth generate --scenario`` reads it)."""
        out = [f"# {line}" if line else "#" for line in self.header]
        for key, value in self.scenario.items():
            out.append("")
            out.extend(f"# {line}" for line in self.notes.get(key, []))
            if isinstance(value, (dict, list)):
                text = yaml.safe_dump({key: value}, default_flow_style=None, sort_keys=False, width=100)
            else:
                text = f"{key}: " + yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()
            out.append(text.rstrip("\n"))
        for key, lines in self.notes.items():
            if key not in self.scenario:  # what fell back to synth's defaults, and why
                out.append("")
                out.extend(f"# {line}" for line in [key.strip("()") + ":", *lines])
        return "\n".join(out) + "\n"


def _round(value: float, digits: int = 3) -> float:
    if value == 0 or not math.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def _share_map(ids: np.ndarray, names: list, keep: Any = None, floor: float = 0.0005) -> dict:
    counts = np.bincount(ids, minlength=len(names))
    total = counts.sum()
    out = {}
    for i in np.argsort(-counts, kind="stable"):
        share = counts[i] / total if total else 0
        if share < floor or counts[i] == 0:
            break
        name = names[i] if keep is None else keep(names[i])
        if name is not None:
            out[name] = _round(float(share))
    return out


def fit_columns(cols: Columns, keep_paths: bool = False) -> Fit:
    """The fitted scenario of a log read into columns (see the module docstring)."""
    n = len(cols.utc)
    offset = offset_seconds(cols.tz)
    cov = coverage(cols.utc, offset)
    first_hour = cov.start // 3600
    notes: dict[str, list[str]] = {}
    s: dict[str, Any] = {}
    has_agents = cols.agent is not None
    bot = cols.bot
    human = ~bot
    kind = cols.kind
    header = [
        f"Fitted by synth fit from {n:,} lines ({cols.unparsed:,} more did not parse) in {cols.files} "
        f"file{'s' if cols.files != 1 else ''}, format {cols.format}.",
        "No address, path, query, referrer or agent of the log is in this file: only shapes.",
        "Generate its twin:  synth generate --scenario THIS.yaml --days 28 --out twin/",
        "",
        *describe_coverage(cov),
    ]
    s["name"] = "fitted"
    s["description"] = f"The shape of a log of {n:,} lines, fitted by synth fit"
    days = (cov.end - cov.start) / 86400
    s["days"] = _round(max(days, 1 / 1440), 6)
    s["end"] = dt.datetime.fromtimestamp(cov.end, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    notes["days"] = ["the log's range, first line to last (generate --days sets another)"]
    rate = n / max(cov.seconds, 60.0)
    s["rate"] = _round(rate, 4)
    notes["rate"] = [f"{n:,} lines over {cov.seconds / 3600:,.1f} covered hours"]
    s["tz"] = cols.tz
    s["audience"] = {cols.tz: 1}
    notes["tz"] = ["the zone the log's times are written in"]
    notes["audience"] = ["visitors on the log's clock: the daily curve below is per clock hour as written",
                         "(a mix of time zones cannot be told from lines without a map of addresses)"]
    if cols.nginx_log_format is not None:
        s["nginx_log_format"] = cols.nginx_log_format
        notes["nginx_log_format"] = ["the log's own format: the twin is written in it"]
    elif cols.log_format is not None:
        s["log_format"] = cols.log_format
        notes["log_format"] = ["the log's own format: the twin is written in it"]
    elif cols.format != "combined":
        s["format"] = cols.format

    # Daily and weekly curves: human lines (bots are drawn steady) per covered second.
    curve_lines = cols.local[human] if has_agents else cols.local
    hourly = per_hour_rate(curve_lines, cov.hours, first_hour, offset)
    base_bots = 0.0 if has_agents else 0.2 * rate  # without agents, the default bot share is steady
    known = int((~np.isnan(hourly)).sum())
    if known >= 12:
        hourly = np.maximum(fill_circular(hourly) - base_bots, 0.02 * np.nanmax(hourly))
        knots = desmooth_daily(hourly / hourly.max())
        s["daily"] = [_round(v, 3) for v in (knots / knots.max()).tolist()]
        notes["daily"] = [f"activity by clock hour 00-23 (busiest 1), from {int(human.sum()) if has_agents else n:,} "
                          f"{'human ' if has_agents else ''}lines; {24 - known} hours interpolated" if known < 24 else
                          f"activity by clock hour 00-23 (busiest 1), from "
                          f"{int(human.sum()) if has_agents else n:,} {'human ' if has_agents else ''}lines",
                          "knots of synth's curve, linear between the middles of the hours"]
        if not has_agents:
            notes["daily"].append("no agents to tell bots by: the default 20 % steady bot traffic taken out")
    else:
        notes["(daily)"] = [f"only {known} clock hours covered: synth's usual daily curve is used"]
    weekly = per_weekday_rate(curve_lines, cov.hours, first_hour, offset)
    if not np.isnan(weekly[:5]).all() and not np.isnan(weekly[5:]).all():
        week = np.where(np.isnan(weekly[:5]), np.nanmean(weekly[:5]), weekly[:5])
        end = np.where(np.isnan(weekly[5:]), np.nanmean(weekly[5:]), weekly[5:])
        weekly = np.maximum(np.r_[week, end] - base_bots, 1e-3 * np.nanmax(weekly))
        s["weekly"] = [_round(v, 3) for v in (weekly / weekly.max()).tolist()]
        notes["weekly"] = ["traffic Monday to Sunday (busiest 1), per covered hour of each weekday"]
    else:
        notes["(weekly)"] = ["the log does not cover both a weekday and a weekend day: "
                             "synth's default weekend (0.65 of a weekday) is used"]

    # Bots.
    if has_agents:
        assert cols.agent is not None
        bot_share = float(bot.mean())
        kinds = count_by(cols.agent[bot], cols.agents, BOT_PATTERNS)
        seen = shares_of(kinds, BOT_KIND_NAMES)
        # The twin's scanners, two in ten of them passing as browsers, drawn so that it shows
        # the log's share of bots and of scanners among them.
        scanner = seen.get("scanner", 0.0) / (SCANNER_SEEN + (1 - SCANNER_SEEN) * seen.get("scanner", 0.0))
        drawn_bots = bot_share / (1 - (1 - SCANNER_SEEN) * scanner)
        s["bot_share"] = _round(min(drawn_bots, 0.95), 3)
        notes["bot_share"] = [f"{int(bot.sum()):,} lines from bots ({bot_share:.1%}): crawlers, feed readers, "
                              "monitors and scanners by their agents; synth's scanners that pass as browsers "
                              "added" if scanner else f"{int(bot.sum()):,} lines from bots ({bot_share:.1%})"]
        if drawn_bots > 0.95:
            notes["bot_share"].append("capped at 0.95, the most synth generates")
        if bot.any():
            rest = sum(v for k, v in seen.items() if k != "scanner")
            drawn = {k: (scanner if k == "scanner" else (1 - scanner) * v / rest if rest else 0.0) for k, v in seen.items()}
            s["bots"] = {k: _round(v, 3) for k, v in drawn.items()}
            addresses = _crawler_addresses(cols, bot)
            if addresses:
                s["crawler_addresses"] = addresses
                notes["crawler_addresses"] = ["distinct addresses of the busiest crawlers (by agent), busiest first"]
            notes["bots"] = ["bot lines by kind: " + ", ".join(f"{k} {seen[k]:.1%}" for k in BOT_KIND_NAMES)
                             + " (scanners with scripts' HTTP libraries);",
                             "synth sizes its feed readers and monitors to these shares"]
    else:
        notes["(bot_share)"] = ["no agents in this format: bots cannot be told; synth's default (0.2) is used"]

    # Status mix per kind of request, and methods.
    # With bot kinds fitted, feed readers' and monitors' lines keep their own statuses and
    # methods in the twin (304s, HEADs), so the mixes are measured without them.
    normal = ~_periodic_lines(cols, bot) if "bots" in s else np.ones(n, bool)
    method_names = [m.decode("latin-1") for m in cols.methods]
    s["methods"] = _share_map(cols.method[normal], method_names, keep=lambda m: m if m in METHODS else None)
    other_methods = float(np.mean(~np.isin(cols.method, [i for i, m in enumerate(method_names) if m in METHODS])))
    notes["methods"] = ["shares of lines by method" + (f"; {other_methods:.2%} with other methods left out"
                                                         if other_methods else "")
                        + ("; feed readers and monitors left out" if "bots" in s else "")]
    statuses: dict[str, dict[int, float]] = {}
    for k, name in enumerate(KIND_NAMES):
        where = (kind == k) & normal
        if where.sum() >= 20:
            codes, counts = np.unique(cols.status[where], return_counts=True)
            mix = {int(c): _round(float(v / where.sum())) for c, v in zip(codes, counts)
                   if 100 <= c <= 599 and v / where.sum() >= 0.0005}
            if mix:
                statuses[name] = mix
    if statuses:
        s["statuses"] = statuses
        notes["statuses"] = ["status shares per kind of request (static, page, robots.txt, other: as synth "
                             "profile classes paths); kinds with fewer than 20 lines keep synth's own"
                             + ("; feed readers and monitors left out" if "bots" in s else "")]

    # Site map: pages, popularity, assets, sizes.
    page_lines = (kind == PAGE) & (cols.status == 200)
    human_pages = page_lines & human
    distinct_pages = len(np.unique(cols.path[page_lines]))
    distinct_human = len(np.unique(cols.path[human_pages]))
    popularity = zipf_slope(np.bincount(cols.path[human_pages], minlength=len(cols.paths)))
    if popularity is not None:
        s["popularity"] = _round(min(max(-popularity, 0.05), 4.0), 3)
        notes["popularity"] = [f"Zipf exponent of page popularity, from {int(human_pages.sum()):,} page views "
                               f"(synth profile's slope rule)"]
    slope = s.get("popularity", 1.15)
    views = int(human_pages.sum())
    if views >= 200:
        pages = seen_population(distinct_human, float(views), slope, 10, 200_000)
        s["pages"] = int(min(max(pages, distinct_pages, 10), 200_000, max(10, 20 * distinct_pages)))
        notes["pages"] = [f"{distinct_pages:,} distinct pages answered 200; a Zipf({slope:g}) site of "
                          f"{s['pages']:,} pages shows that many in {views:,} views"]
    else:
        notes["pages"] = [f"only {views:,} page views: too few to size the site; synth's 600 pages are used"]
    feeds = np.array([bool(re.search(rb"feed|rss|atom", p, re.I)) for p in cols.paths] or [False], bool)
    shares = np.bincount(kind, minlength=4) / n
    notes.setdefault("pages", []).append("requests: " + ", ".join(f"{name} {share:.1%}" for name, share in zip(KIND_NAMES, shares))
                          + f" (feeds {float(feeds[cols.path].mean()):.1%}); synth's visits, crawls and bots make "
                          "these from the keys below")

    sizes: dict[str, dict[str, Any]] = {}
    polled = {name: found for name, by in (("home", "monitor"), ("feed", "feed"))
              if (found := _polled_size(cols, bot, by) if cols.agent is not None else None) is not None}
    for name, k in (("page", PAGE), ("static", STATIC), ("other", 3)):
        where = (kind == k) & (cols.status == 200) & (cols.size > 0)
        shared: list[int] = []
        if name == "static" and where.any():
            # The three static files asked for most stand for synth's shared CSS, JS and favicon
            # (fetched on landings): they keep their own sizes, the rest is fitted as images.
            ids, counts = np.unique(cols.path[where], return_counts=True)
            busiest = ids[np.argsort(-counts, kind="stable")[:3]]
            # In synth's order: the CSS, the JS, the favicon (by their extensions, else as asked for).
            rank = {b".css": 0, b".js": 1, b".ico": 2}
            busiest = np.array(sorted(busiest.tolist(), key=lambda i: rank.get(
                cols.paths[i][cols.paths[i].rfind(b"."):].lower(), 3)), np.int64)
            shared = [int(np.median(cols.size[where & (cols.path == i)])) for i in busiest]
            where &= ~np.isin(cols.path, busiest)
        if name == "page" and "home" in polled and polled["home"][0] == PAGE:
            # The home page keeps its own size (sizes.page.home): the law is of the other pages,
            # as synth lays it over the pages but the home.
            where &= cols.path != polled["home"][2]
        if where.sum() < 20 or len(np.unique(cols.path[where])) < 3:
            continue
        # Per request, as synth lays sizes out so that its requests' sizes follow the law; the
        # spread above the median from p90, below it from p10 (a few popular files make one side
        # of the requests' law narrower than the other).
        p10, median, p90 = np.percentile(cols.size[where], [10, 50, 90])
        spread = math.log(max(p90, 1) / max(median, 1)) / Z90
        low = math.log(max(median, 1) / max(p10, 1)) / Z90
        sizes[name] = {"median": int(round(median)), "spread": _round(min(max(spread, 0.0), 3.0), 3),
                       "low_spread": _round(min(max(low, 0.0), 3.0), 3)}
        if shared:
            sizes[name]["shared"] = shared
    for single, (path_kind, size, _) in polled.items():
        if KIND_NAMES[path_kind] in sizes:
            sizes[KIND_NAMES[path_kind]][single] = size
    if sizes:
        s["sizes"] = sizes
        notes["sizes"] = ["body bytes of 200s per kind of path: median and lognormal spread over the requests",
                          "(spread above the median from p90, low_spread below it from p10; pages without home);",
                          "shared: the sizes of the three static files asked for most (synth's CSS, JS, favicon);",
                          "home, feed: the size of the path monitors, feed readers poll most"]

    # Visits: requests, pages and assets per visit, referrers.
    if has_agents and human.any():
        assert cols.agent is not None
        _fit_visits(cols, human, kind, cov, s, notes)
    else:
        notes["(visits)"] = ["no agents: visits cannot be told from one another; synth's visits "
                             "(2 pages, 1.75 images a page) are used"]

    # Clients.
    human_clients = cols.client[human]
    distinct = np.unique(human_clients)
    if len(distinct) >= 10:
        v6 = np.array([b":" in c for c in cols.clients], bool)
        s["ipv6_share"] = _round(float(v6[distinct].mean()), 3)
        notes["ipv6_share"] = [f"share of IPv6 among {len(distinct):,} distinct {'human ' if has_agents else ''}"
                               "clients"]
        agent = cols.agent[human] if cols.agent is not None else np.zeros(len(human_clients), np.int64)
        visits = visit_count(human_clients, agent, cols.utc[human])
        counts = np.sort(np.bincount(human_clients))[::-1]
        top_shares = {k: float(counts[:k].sum() / counts.sum()) for k in TOP_RANKS}
        top10 = top_shares[10]
        slope, clients = fit_population(len(distinct), visits, top_shares)
        s["client_slope"] = _round(slope, 3)
        notes["client_slope"] = [f"Zipf exponent of visitors' activity: the busiest of them sends {top_shares[1]:.1%} of "
                                 f"their lines, the ten busiest {top10:.1%}"]
        s["clients"] = int(min(max(clients, 10), 5_000_000, 20 * len(distinct)))
        notes["clients"] = [f"{len(distinct):,} distinct clients seen in about {visits:,.0f} visits; a population of "
                            f"{s['clients']:,} at this slope shows that many"]
        if s["clients"] < clients:
            notes["clients"].append("(capped at 20 times the clients seen)")

    if keep_paths:
        s["paths"] = _kept_paths(cols)
        notes["paths"] = [f"--keep-paths: the log's {len(s['paths']):,} paths (no queries) answered 200, "
                          "with their median size and request count"]
    s["anomalies"] = [{"kind": "spike"}] if days >= 1 else []
    notes["anomalies"] = ["anomalies on top of the fitted traffic, labelled in anomalies.json; add any kind "
                          "of synth's catalogue (synth scenarios shows them)"]
    if days < 1:
        notes["anomalies"].append("none for a range under a day: a longer --days can hold synth's 30-minute spike")
    figures = agent_figures(cols.client, cols.agent, bot, cols.agents) if cols.agent is not None else {}
    return Fit(s, notes, header, cov, n, figures)


def _crawler_addresses(cols: Columns, bot: np.ndarray) -> list[int]:
    """Distinct addresses of each crawler agent with 100 lines or more, busiest first (at most 20)."""
    assert cols.agent is not None
    crawler = np.array([classify(a, BOT_PATTERNS) == "crawler" for a in cols.agents] or [False], bool)
    where = bot & crawler[cols.agent]
    agent, client = cols.agent[where], cols.client[where]
    if len(agent) == 0:
        return []
    width = int(client.max()) + 1
    per_agent = np.bincount(np.unique(agent * width + client) // width, minlength=len(cols.agents))
    lines = np.bincount(agent, minlength=len(cols.agents))
    busiest = [a for a in np.argsort(-lines, kind="stable")[:20].tolist() if lines[a] >= 100]
    return [int(min(per_agent[a], 50)) for a in busiest]


def _periodic_lines(cols: Columns, bot: np.ndarray) -> np.ndarray:
    """The lines of feed readers and monitors: bots that poll on a schedule."""
    assert cols.agent is not None
    polls = np.array([classify(a, BOT_PATTERNS) in ("feed", "monitor") for a in cols.agents] or [False], bool)
    return bot & polls[cols.agent]


def _polled_size(cols: Columns, bot: np.ndarray, kind: str) -> tuple[int, int, int] | None:
    """The kind of the path bots of ``kind`` (monitor, feed) ask for most, its body size
    (median of its 200s) and its path id."""
    assert cols.agent is not None
    of_kind = np.array([classify(a, BOT_PATTERNS) == kind for a in cols.agents] or [False], bool)
    where = bot & of_kind[cols.agent] & (cols.status == 200) & (cols.size > 0)
    if where.sum() < 5:
        return None
    ids, counts = np.unique(cols.path[where], return_counts=True)
    busiest = ids[np.argmax(counts)]
    return int(cols.path_kind[busiest]), int(np.median(cols.size[where & (cols.path == busiest)])), int(busiest)


def _median_by(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The median of ``values`` within each id (one number per id present)."""
    order = np.lexsort((values, ids))
    ids, values = ids[order], values[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    return values[(starts + ends - 1) // 2].astype(np.float64)


def _fit_visits(cols: Columns, human: np.ndarray, kind: np.ndarray, cov: Coverage,
                s: dict[str, Any], notes: dict[str, list[str]]) -> None:
    assert cols.agent is not None
    idx = np.flatnonzero(human)
    order, visit = visits_of(cols.client[idx], cols.agent[idx], cols.utc[idx])
    lines = idx[order]
    n_visits = int(visit[-1]) + 1
    is_page = kind[lines] == PAGE
    is_static = kind[lines] == STATIC
    pages_per = np.bincount(visit, weights=is_page, minlength=n_visits)
    # Each client's first visit: busy clients' visits run into each other, light ones' do not,
    # and the length of a visit does not depend on who makes it.
    client = cols.client[lines]
    first_of_client = np.unique(visit[np.r_[True, client[1:] != client[:-1]]])
    firsts = pages_per[first_of_client]
    with_pages = firsts > 0
    pages_mean = float(firsts[with_pages].mean()) if with_pages.any() else 1.0
    if cov.sampled:
        notes["(pages_per_visit)"] = ["a sampled log cuts visits at the sample's minutes: "
                                      "synth's visits (2 pages) are used"]
    else:
        # Page views per visit beyond the pages synth adds itself (redirects, posts): about 3 %.
        s["pages_per_visit"] = _round(min(max(pages_mean / 1.03, 1.0), 25.0), 3)
        notes["pages_per_visit"] = [f"{n_visits:,} visits (lines of one client and agent until 10 quiet "
                                    f"minutes), {len(lines) / n_visits:.2f} requests each; first visits of "
                                    f"{len(first_of_client):,} clients: {pages_mean:.2f} pages each"]
    static_per_page = float(is_static.sum()) / max(1.0, float(is_page.sum()))
    views = s.get("pages_per_visit", 2.0)
    # synth's visits: new visitors (55 %) fetch 2 shared files, the favicon (and 12 % a touch icon)
    # and every image of their landing page, returning ones 10 % of the shared files; 68 % of
    # the images of each later page. Solved for the mean images per page.
    fixed = 0.55 * 3.12 + 0.45 * 0.2
    per_image = 0.55 + 0.45 * 0.68 + (views - 1) * 0.68
    images = (static_per_page * views * 1.03 - fixed) / per_image
    s["assets_per_page"] = _round(min(max(images, 0.0), 30.0), 3)
    notes["assets_per_page"] = [f"{static_per_page:.2f} static requests per page view; images per page "
                                "solved from synth's visit model (shared files, favicon, caching)"]
    if cols.referrer is not None:
        ref = cols.referrer[lines]
        first = np.r_[True, visit[1:] != visit[:-1]]
        none = np.array([r in (b"", b"-") for r in cols.referrers] or [True], bool)
        hosts = [_host(r) for r in cols.referrers]
        later = ~first & is_page
        own = _own_host(hosts, ref[~first], none)
        search = np.array([bool(SEARCH_HOSTS.search(h)) for h in hosts] or [False], bool)
        landing = ref[first]
        land_none = none[landing]
        land_search = search[landing] & ~land_none
        land_sites = ~land_none & ~land_search & np.array([h != own for h in hosts] or [True], bool)[landing]
        s["referrers"] = {"search": _round(float(land_search.mean()), 3), "sites": _round(float(land_sites.mean()), 3),
                          "internal": _round(float((~none[ref[later]]).mean()) if later.any() else 0.96, 3)}
        notes["referrers"] = [f"of {int(first.sum()):,} landings: from search engines, from other sites (the rest "
                              "none); internal: later page views that name a referrer"]
        first_agent = visitor_agents(cols.client, cols.agent, human)
        s["mobile_share"] = _round(mobile_share(first_agent, cols.agents), 3)
        total = max(1, len(first_agent))
        notes["mobile_share"] = [f"share of {len(first_agent):,} visitors on phones and tablets (each by its first agent)"]
        for key, table, names in (("browsers", BROWSER_PATTERNS, BROWSER_NAMES), ("systems", SYSTEM_PATTERNS, SYSTEM_NAMES)):
            counts = count_by(first_agent, cols.agents, table)
            mix = shares_of(counts, names)
            other = counts.get("other", 0) / total
            if mix:
                s[key] = {k: _round(v, 3) for k, v in sorted(mix.items(), key=lambda p: -p[1]) if v > 0}
                notes[key] = [f"visitors' {key}, each by its first agent" + (f"; {other:.1%} with other {key} left out"
                                                                            if other else "")]


def _host(referrer: bytes) -> bytes:
    m = re.match(rb"[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)", referrer)
    return m.group(1).lower() if m else b""


def _own_host(hosts: list[bytes], later_refs: np.ndarray, none: np.ndarray) -> bytes:
    """The site's own host: the one later requests of visits name most as their referrer."""
    named = later_refs[~none[later_refs]]
    if len(named) == 0:
        return b""
    counts: dict[bytes, int] = {}
    for r, c in zip(*np.unique(named, return_counts=True)):
        counts[hosts[r]] = counts.get(hosts[r], 0) + int(c)
    return max(counts, key=counts.__getitem__)


def _kept_paths(cols: Columns) -> list[list[Any]]:
    """[path, median size, requests] for every path answered 200, busiest first."""
    ok = cols.status == 200
    ids, counts = np.unique(cols.path[ok], return_counts=True)
    sizes = _median_by(cols.path[ok], cols.size[ok])
    out = []
    for i in np.argsort(-counts, kind="stable")[:50_000]:
        path = cols.paths[ids[i]].decode("latin-1")
        if path.startswith("/") and not any(c in path for c in " \t\r\n"):
            out.append([path, int(sizes[i]), int(counts[i])])
    return out or [["/", 0, 1]]


def fit_log(paths: Iterable[str | Path], format: str | None = None, log_format: str | None = None,
            keep_paths: bool = False, nginx_log_format: str | None = None) -> Fit:
    """The fitted scenario of the log in ``paths`` (plain or gzip, any order), read as the
    built-in ``format``, the Apache ``log_format`` or the nginx ``nginx_log_format`` string
    (default: told from the first lines).

    Raises FitError for a log that cannot be read or holds no line of its format.
    """
    return fit_columns(read_columns(paths, format, log_format, nginx_log_format), keep_paths=keep_paths)


__all__ = ["Fit", "FitError", "Coverage", "Columns", "fit_log", "fit_columns", "read_columns", "coverage",
           "desmooth_daily", "seen_population", "fit_population", "visit_count"]
