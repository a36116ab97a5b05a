"""What ``synth fit`` tells from agents: the kind of each bot, and visitors' browsers and systems.

The names are those of the scenario keys ``bots``, ``browsers`` and ``systems``
(synth/generate/shape.py), so that a fitted mix is one ``synth generate`` draws.

    bots      crawler (search engines, SEO and AI crawlers, link previews), feed (feed
              readers), monitor (uptime checks), scanner (vulnerability scanners and scripts'
              HTTP libraries; an agent of "-" or none)
    browsers  chrome, safari, firefox, edge, samsung
    systems   windows, macos, linux, ios, android
"""

from __future__ import annotations

import re

import numpy as np

# (kind, pattern), first match wins: a monitor or feed reader may call itself a bot, a crawler
# may name the HTTP library it is built on (LinkedInBot names Apache-HttpClient).
BOT_PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("monitor", re.compile(rb"uptime|pingdom|monitor|statuscake|site24x7|check_http|nagios|zabbix", re.I)),
    ("feed", re.compile(rb"feed|rss|subscriber|newsblur|netnewswire", re.I)),
    ("scanner", re.compile(rb"zgrab|nuclei|censys|nmap|masscan|scan|leakix|l9", re.I)),
    ("crawler", re.compile(rb"bot\b|bot/|crawl|spider|slurp|archiver|externalhit|\+https?://", re.I)),
    ("scanner", re.compile(rb"curl|wget|python|go-http|java/|okhttp|httpclient|libwww|scrapy|aiohttp|httpx|"
                           rb"headless|phantomjs|^-?$", re.I)),
    ("crawler", re.compile(rb".", re.S)),
)
BROWSER_PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("edge", re.compile(rb"Edg/|Edge/|EdgA/|EdgiOS/")), ("samsung", re.compile(rb"SamsungBrowser")),
    ("firefox", re.compile(rb"Firefox/|FxiOS")), ("chrome", re.compile(rb"Chrome/|CriOS")),
    ("safari", re.compile(rb"Safari/")))
SYSTEM_PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("ios", re.compile(rb"iPhone|iPad|iPod")), ("android", re.compile(rb"Android")),
    ("windows", re.compile(rb"Windows")), ("macos", re.compile(rb"Macintosh|Mac OS X")),
    ("linux", re.compile(rb"Linux|X11")))
MOBILE_RE = re.compile(rb"Mobile|Android|iPhone|iPad|iPod", re.IGNORECASE)
BOT_KIND_NAMES = ("crawler", "feed", "monitor", "scanner")
BROWSER_NAMES = tuple(name for name, _ in BROWSER_PATTERNS)
SYSTEM_NAMES = tuple(name for name, _ in SYSTEM_PATTERNS)


def classify(agent: bytes, table: tuple[tuple[str, re.Pattern[bytes]], ...]) -> str:
    """The first name of ``table`` whose pattern ``agent`` matches ("other" for none)."""
    for name, pattern in table:
        if pattern.search(agent):
            return name
    return "other"


def count_by(ids: np.ndarray, agents: list[bytes], table: tuple[tuple[str, re.Pattern[bytes]], ...]) -> dict[str, int]:
    """How many of ``ids`` (indices into ``agents``) fall under each name of ``table``."""
    counts = np.bincount(ids, minlength=len(agents))
    out: dict[str, int] = {}
    for a in np.flatnonzero(counts).tolist():
        name = classify(agents[a], table)
        out[name] = out.get(name, 0) + int(counts[a])
    return out


def shares(counts: dict[str, int], names: tuple[str, ...]) -> dict[str, float]:
    """The shares of ``names`` among the counts of those names (others left out); empty for none."""
    total = sum(counts.get(n, 0) for n in names)
    return {n: counts.get(n, 0) / total for n in names} if total else {}


def mobile_share(ids: np.ndarray, agents: list[bytes]) -> float:
    mobile = np.array([bool(MOBILE_RE.search(a)) for a in agents] or [False], bool)
    return float(mobile[ids].mean()) if len(ids) else 0.0


def visitor_agents(client: np.ndarray, agent: np.ndarray, human: np.ndarray) -> np.ndarray:
    """Each human client's first agent (lines in time order): one agent per visitor."""
    _, first = np.unique(client[human], return_index=True)
    return agent[human][np.sort(first)]


FEW_BOT_LINES = 1000  # bot kinds' shares from fewer lines than this are not judged (scanners come in bursts)
FEW_VISITORS = 200  # nor browsers', systems' and mobile shares from fewer visitors


def agent_figures(client: np.ndarray, agent: np.ndarray, bot: np.ndarray,
                  agents: list[bytes]) -> dict[str, tuple[float, bool]]:
    """The agent figures of a log, as ``synth fit --check`` compares them: each kind's share of
    bot lines ("bots crawler" ...), each browser's and system's share of visitors and the
    share of visitors on phones and tablets (a visitor is a human client, by its first agent).
    Each with whether it rests on enough lines (FEW_BOT_LINES) or visitors (FEW_VISITORS) of its
    own to be judged: a share of a few dozen lines or visitors is mostly chance."""
    out: dict[str, tuple[float, bool]] = {}
    kinds = count_by(agent[bot], agents, BOT_PATTERNS)
    for name, share in shares(kinds, BOT_KIND_NAMES).items():
        out[f"bots {name}"] = (share, kinds.get(name, 0) >= FEW_BOT_LINES)
    first = visitor_agents(client, agent, ~bot)
    for key, table, names in (("browser", BROWSER_PATTERNS, BROWSER_NAMES), ("system", SYSTEM_PATTERNS, SYSTEM_NAMES)):
        counts = count_by(first, agents, table)
        for name, share in shares(counts, names).items():
            out[f"{key} {name}"] = (share, counts.get(name, 0) >= FEW_VISITORS)
    if len(first):
        mobile = mobile_share(first, agents)
        out["visitors on mobile"] = (mobile, min(mobile, 1 - mobile) * len(first) >= FEW_VISITORS)
    return out


__all__ = ["visitor_agents", "agent_figures", "BOT_PATTERNS", "BROWSER_PATTERNS", "SYSTEM_PATTERNS", "BOT_KIND_NAMES", "BROWSER_NAMES",
           "SYSTEM_NAMES", "classify", "count_by", "shares", "mobile_share"]
