"""Static facts about web traffic that pools draw from: browsers, bots, referrers, scanner paths.

Data, not code: tuples that ``pools.py`` picks from with the run's random generator. Shares
are rough public figures for a general-audience site (desktop/mobile split, browser market
shares, crawler mix); agent strings are the forms those programs really send.
"""

from __future__ import annotations

import datetime as dt

# Browser families: (share, template). Placeholders: {chrome} {firefox} {safari} {ios}
# {android} {edge_build} {samsung} are filled per client with versions current at the end of
# the run, so a log of 2026 does not show browsers of 2012.
BROWSERS: tuple[tuple[float, str], ...] = (
    (0.25, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36"),
    (0.06, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36 Edg/{chrome}.0.{edge_build}"),
    (0.05, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0"),
    (0.08, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36"),
    (0.07, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} Safari/605.1.15"),
    (0.01, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0"),
    (0.02, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Safari/537.36"),
    (0.02, "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{firefox}.0) Gecko/20100101 Firefox/{firefox}.0"),
    (0.19, "Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} Mobile/15E148 Safari/604.1"),
    (0.02, "Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/{chrome}.0.0.0 Mobile/15E148 Safari/604.1"),
    (0.02, "Mozilla/5.0 (iPad; CPU OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} Mobile/15E148 Safari/604.1"),
    (0.16, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Mobile Safari/537.36"),
    (0.03, "Mozilla/5.0 (Linux; Android {android}; SM-S{samsung_model}B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{samsung}.0 Chrome/{chrome}.0.0.0 Mobile Safari/537.36"),
    (0.02, "Mozilla/5.0 (Android {android}; Mobile; rv:{firefox}.0) Gecko/{firefox}.0 Firefox/{firefox}.0"),
)


# Stable releases as (major version, date), with the cadence after the last: between two
# anchors the majors are spread evenly, which is within a week or two of the real dates.
CHROME_RELEASES = ((1, dt.date(2008, 12, 11)), (10, dt.date(2011, 3, 8)), (94, dt.date(2021, 9, 21)),
                   (142, dt.date(2025, 10, 28)))
FIREFOX_RELEASES = ((3, dt.date(2008, 6, 17)), (4, dt.date(2011, 3, 22)), (94, dt.date(2021, 11, 2)),
                    (145, dt.date(2025, 11, 11)))
CADENCE_DAYS = 28
WINDOWS_10 = dt.date(2015, 7, 29)  # "Windows NT 10.0" from here on
EDGE_CHROMIUM = dt.date(2020, 1, 15)  # "Edg/" (Edge 79)
REDUCED_ANDROID = dt.date(2023, 2, 7)  # Chrome 110 sends "Android 10; K" whatever the phone
FROZEN_MAC = dt.date(2020, 11, 12)  # browsers say "10_15_7" from macOS 11 on
SAMSUNG_INTERNET = ((2016, 4), (2017, 6), (2018, 7), (2019, 9), (2020, 12), (2021, 14), (2022, 17),
                    (2023, 21), (2024, 25), (2025, 28))


def released(releases: tuple[tuple[int, dt.date], ...], when: dt.date) -> int:
    """The newest major version of a browser whose stable release is on or before ``when``
    (0: none yet)."""
    if when < releases[0][1]:
        return 0
    for (v0, d0), (v1, d1) in zip(releases, releases[1:]):
        if when < d1:
            return v0 + int((when - d0).days * (v1 - v0) / (d1 - d0).days)
    v, d = releases[-1]
    return v + (when - d).days // CADENCE_DAYS


def browser_versions(when: dt.date) -> dict[str, int]:
    """Current major versions at ``when``: only what was released by then. Chrome and Firefox
    ship every four weeks (six, before 2021), Safari and iOS once a year in September (iOS 18
    was followed by 26 in 2025), Android once a year."""
    year = when.year - (1 if when.month < 9 else 0)
    apple = 26 + (year - 2025) if year >= 2025 else max(year - 2006, 3)
    return {
        "chrome": released(CHROME_RELEASES, when),
        "firefox": released(FIREFOX_RELEASES, when),
        "safari": apple,
        "ios": apple,
        "android": max(4, when.year - 2009 - (1 if when.month < 9 else 0)),
        "samsung": next((v for y, v in reversed(SAMSUNG_INTERNET) if when.year >= y), 3) + max(0, when.year - 2025),
        # What else changes an agent's text: the thresholds passed (Windows 10, Edge on
        # Chromium, the reduced Android agent, the frozen macOS version) and the year.
        "era": sum(when >= d for d in (WINDOWS_10, EDGE_CHROMIUM, REDUCED_ANDROID, FROZEN_MAC)),
        "year": when.year,
        "day": when.toordinal(),
    }


def chrome_text(major: int) -> str:
    """Chrome's version as its agent writes it: ``142.0.0.0`` since the reduced agent (101),
    the build and patch numbers before."""
    if major >= 101:
        return f"{major}.0.0.0"
    return f"{major}.0.{int(major * 44.5 + 450)}.{80 + major % 7 * 13}"


def mac_version(when: dt.date, sep: str = "_") -> str:
    """The macOS version a browser sends at ``when``: 10_15_7 once frozen, the year's before."""
    if when >= FROZEN_MAC:
        return sep.join(("10", "15", "7"))
    minor = min(15, max(6, when.year - 2004 - (1 if when.month < 10 else 0)))
    return sep.join(("10", str(minor), "5" if minor < 15 else "7"))


def android_device(when: dt.date) -> str:
    """A common phone model of the time, as agents before the reduced one name it."""
    for since, model in ((2021, "SM-G991B"), (2019, "SM-G973F"), (2017, "SM-G950F"), (2015, "SM-G920F")):
        if when.year >= since:
            return model
    return "GT-I9505"


def dated_template(template: str, when: dt.date) -> str | None:
    """A browser template as its agent looked at ``when``, or None if that browser did not
    exist yet (Edge before 2015, Chrome on iOS before 2012...)."""
    if "Windows NT 10.0" in template and when < WINDOWS_10:
        if "Edg/" in template:
            return None
        template = template.replace("Windows NT 10.0; Win64; x64", "Windows NT 6.1; Win64; x64")
    if "Edg/" in template and when < EDGE_CHROMIUM:
        template = template.replace("Chrome/{chrome}.0.0.0 Safari/537.36 Edg/{chrome}.0.{edge_build}",
                                    "Chrome/70.0.3538.102 Safari/537.36 Edge/{edgehtml}")
    if "Android 10; K" in template and when < REDUCED_ANDROID:
        template = template.replace("Android 10; K", "Android {android}; {device}")
    if "SM-S{samsung_model}B" in template and when.year < 2023:
        template = template.replace("SM-S{samsung_model}B", "{device}")
    template = template.replace("{chrome}.0.0.0", "{chrome_full}")
    if "10_15_7" in template:
        template = template.replace("10_15_7", "{mac}")
    if "10.15;" in template:
        template = template.replace("10.15;", "{mac_dot};")
    return template


def fill_browser(template: str, versions: dict[str, int], lag: int, minor: int, model: int, build: int) -> str | None:
    """One browser agent: a template, the versions current on a day, and a client's lag
    behind them (0: up to date) and draws of minor version, phone model and build."""
    when = dt.date.fromordinal(versions["day"])
    dated = dated_template(template, when)
    chrome, firefox = versions["chrome"] - lag, versions["firefox"] - lag
    if dated is None or ("{chrome}" in dated and chrome < 1) or ("{firefox}" in dated and firefox < 3):
        return None
    apple = versions["safari"] - (1 if lag >= 2 else 0)
    return dated.format(
        chrome=chrome, chrome_full=chrome_text(chrome), firefox=firefox, safari=f"{apple}.{minor}", ios=f"{apple}_{minor}",
        android=max(4, versions["android"] - min(lag, 2)), samsung=versions["samsung"] - min(lag, 1),
        samsung_model=("911", "918", "921", "928")[model], edge_build=f"{3400 + 51 * build}.{52 + 13 * build}",
        edgehtml=f"{min(18, 12 + when.year - 2015)}.{17134 + 629 * build}",
        device=android_device(when), mac=mac_version(when), mac_dot=mac_version(when, "."))


# Search-engine crawlers: (share of crawler requests, agent, networks they crawl from).
CRAWLERS: tuple[tuple[float, str, tuple[str, ...]], ...] = (
    (0.30, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ("66.249.64.0/20",)),
    (0.14, "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome}.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ("66.249.64.0/20",)),
    (0.14, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", ("157.55.39.0/24", "207.46.13.0/24", "40.77.167.0/24")),
    (0.06, "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", ("5.255.253.0/24", "95.108.213.0/24")),
    (0.04, "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", ("116.179.32.0/24", "220.181.108.0/24")),
    (0.03, "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", ("20.191.45.0/24",)),
    (0.05, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", ("17.241.208.0/20",)),
    (0.09, "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", ("54.36.148.0/24", "5.39.1.0/24")),
    (0.07, "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", ("185.191.171.0/24",)),
    (0.05, "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", ("20.171.206.0/24",)),
    (0.03, "Mozilla/5.0 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)", ("114.119.128.0/20",)),
    # Link previews, fetched when someone shares a page.
    (0.02, "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", ("69.171.224.0/20", "173.252.64.0/19")),
    (0.02, "Twitterbot/1.0", ("199.16.156.0/22",)),
    (0.01, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", ("54.209.0.0/16",)),
    (0.01, "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", ("35.227.0.0/16",)),
    (0.01, "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", ("108.174.0.0/20",)),
)

# When programs that are not browsers first showed up under these names: a log of an earlier
# date has none of them.
AGENT_SINCE: dict[str, dt.date] = {
    "GPTBot": dt.date(2023, 8, 7), "PetalBot": dt.date(2020, 3, 1), "Applebot": dt.date(2015, 5, 1),
    "DuckDuckBot/1.1": dt.date(2013, 6, 1), "AhrefsBot/7.0": dt.date(2020, 7, 1), "SemrushBot/7": dt.date(2019, 6, 1),
    "Discordbot/2.0": dt.date(2016, 1, 1), "Slackbot-LinkExpanding": dt.date(2014, 6, 1), "Twitterbot": dt.date(2012, 1, 1),
    "Better Stack": dt.date(2022, 6, 1), "UptimeRobot/2.0": dt.date(2015, 1, 1), "inoreader": dt.date(2013, 6, 1),
    "NetNewsWire (RSS Reader": dt.date(2019, 8, 1), "FreshRSS": dt.date(2014, 1, 1), "Tiny Tiny RSS": dt.date(2013, 1, 1),
    "Nuclei": dt.date(2020, 5, 1), "l9scan": dt.date(2021, 6, 1), "CensysInspect": dt.date(2019, 1, 1),
    "zgrab": dt.date(2016, 1, 1), "masscan": dt.date(2014, 1, 1), "Go-http-client": dt.date(2012, 3, 1),
    "Firefox/47.0": dt.date(2016, 6, 7), "Chrome/81.0.4044": dt.date(2020, 4, 7),
    "YandexBot/3.0": dt.date(2011, 1, 1), "bingbot/2.0": dt.date(2010, 10, 1), "Baiduspider/2.0": dt.date(2011, 1, 1),
}
# Versions of tools by year, for the agents that carry one (the last holds from then on).
TOOL_VERSIONS: dict[str, tuple[tuple[int, str], ...]] = {
    "python-requests/2.32.3": ((2015, "2.7.0"), (2016, "2.10.0"), (2017, "2.18.4"), (2018, "2.19.1"), (2019, "2.22.0"),
                               (2020, "2.24.0"), (2021, "2.26.0"), (2022, "2.28.1"), (2023, "2.31.0"), (2024, "2.32.3")),
    "curl/8.5.0": ((2015, "7.43.0"), (2016, "7.50.1"), (2017, "7.55.1"), (2018, "7.61.0"), (2019, "7.66.0"),
                   (2020, "7.72.0"), (2021, "7.79.1"), (2022, "7.86.0"), (2023, "8.4.0"), (2024, "8.5.0")),
    "Tiny Tiny RSS/24.09": ((2013, "1.7.9"), (2016, "16.8"), (2018, "18.12"), (2021, "21.03"), (2024, "24.09")),
    "FreshRSS/1.24.3": ((2014, "0.7.4"), (2016, "1.5.0"), (2018, "1.11.1"), (2020, "1.16.2"), (2022, "1.20.2"),
                        (2024, "1.24.3")),
}


def agent_of(text: str, when: dt.date) -> str | None:
    """A bot's or tool's agent as it was at ``when``: None before it existed, its version of
    the time when it carries one; Googlebot's smartphone agent names the Chrome of the day
    (it has followed Chrome since May 2019, Chrome 41 before)."""
    if any(marker in text and when < since for marker, since in AGENT_SINCE.items()):
        return None
    for current, history in TOOL_VERSIONS.items():
        if current in text:
            version = next((v for year, v in reversed(history) if when.year >= year), history[0][1])
            return text.replace(current, current.split("/")[0] + "/" + version)
    if "{chrome}" in text:
        chrome = released(CHROME_RELEASES, when) - 1 if when >= dt.date(2019, 5, 7) else 41
        return text.replace("{chrome}.0.0.0", chrome_text(chrome)).replace("{chrome}", str(chrome))
    return text


# Agents that fetch a page only to show a preview of a shared link: the page and its image.
LINK_PREVIEWS = ("facebookexternalhit", "Twitterbot", "Slackbot-LinkExpanding", "Discordbot", "LinkedInBot")

# Feed readers poll the site's feed on a fixed period (minutes).
FEED_READERS: tuple[tuple[str, int], ...] = (
    ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; )", 30),
    ("Mozilla/5.0 (compatible; inoreader.com; {n} subscribers)", 15),
    ("NewsBlur Feed Fetcher - {n} subscribers - https://www.newsblur.com/site/{id}/", 60),
    ("Tiny Tiny RSS/24.09 (https://tt-rss.org/)", 30),
    ("FreshRSS/1.24.3 (Linux; https://freshrss.org)", 20),
    ("NetNewsWire (RSS Reader; https://netnewswire.com/)", 60),
)

# Uptime monitors of the home page: (agent, method, period in seconds).
MONITORS: tuple[tuple[str, str, int], ...] = (
    ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "HEAD", 300),
    ("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "GET", 60),
    ("Better Stack Better Uptime Bot Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36", "GET", 180),
)

# Background noise of vulnerability scanners: agents and the paths they probe.
SCANNER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 zgrab/0.x",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "curl/8.5.0",
    "Mozilla/5.0 (l9scan/2.0.0; +https://leakix.net)",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.129 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:47.0) Gecko/20100101 Firefox/47.0",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
)

SCANNER_PATHS: tuple[str, ...] = (
    "/.env", "/.git/config", "/.git/HEAD", "/wp-login.php", "/wp-admin/", "/xmlrpc.php",
    "/wp-content/plugins/revslider/temp/update_extract/", "/phpmyadmin/", "/pma/", "/admin/",
    "/administrator/", "/config.php", "/config.json", "/.aws/credentials", "/server-status",
    "/actuator/health", "/actuator/env", "/api/.env", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci/;stok=/locale", "/boaform/admin/formLogin", "/HNAP1/", "/owa/auth/logon.aspx",
    "/solr/admin/info/system", "/console/", "/manager/html", "/.DS_Store", "/backup.zip", "/backup.sql",
    "/db.sql", "/dump.sql", "/.htpasswd", "/info.php", "/phpinfo.php", "/test.php", "/shell.php",
    "/wp-config.php.bak", "/.vscode/sftp.json", "/sftp-config.json", "/.svn/entries", "/login.action",
    "/index.php?s=/Index/\\think\\app/invokefunction", "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh",
    "/geoserver/web/", "/remote/fgt_lang?lang=/../../../..//////////dev/", "/_ignition/execute-solution",
    "/telescope/requests", "/debug/default/view", "/.well-known/security.txt", "/sitemap.xml.gz",
    "/autodiscover/autodiscover.xml", "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application",
)

# Where visitors come from when they land on the site.
SEARCH_ENGINES: tuple[tuple[float, str], ...] = (
    (0.80, "https://www.google.com/"),
    (0.08, "https://www.bing.com/"),
    (0.05, "https://duckduckgo.com/"),
    (0.03, "https://search.yahoo.com/"),
    (0.02, "https://yandex.ru/"),
    (0.02, "https://www.ecosia.org/"),
)

SOCIAL_SITES: tuple[str, ...] = (
    "https://t.co/", "https://www.facebook.com/", "https://l.facebook.com/", "https://www.reddit.com/",
    "https://news.ycombinator.com/", "https://www.linkedin.com/", "https://out.reddit.com/",
    "https://lobste.rs/", "https://mastodon.social/",
)

# Sections of the site, with how much of the page catalogue they hold.
SECTIONS: tuple[tuple[float, str], ...] = (
    (0.52, "blog"),
    (0.15, "docs"),
    (0.12, "products"),
    (0.09, "tag"),
    (0.08, "news"),
    (0.04, "search"),
)

# Visitors' time zones (UTC offset in minutes, share): a site hosted in Europe with a good part
# of its readers in the Americas and a few in Asia. A worldwide audience flattens the day.
AUDIENCE: tuple[tuple[int, float], ...] = (
    (-480, 0.11), (-360, 0.05), (-300, 0.18), (-180, 0.02), (0, 0.15), (60, 0.32),
    (120, 0.08), (180, 0.03), (330, 0.03), (480, 0.02), (600, 0.01),
)

# Accept-Language a visitor of each offset most likely sends (for header directives).
LANGUAGES: dict[int, str] = {
    -480: "en-US,en;q=0.9", -360: "en-US,en;q=0.9", -300: "en-US,en;q=0.9", -180: "pt-BR,pt;q=0.9,en;q=0.8",
    0: "en-GB,en;q=0.9", 60: "de-DE,de;q=0.9,en;q=0.8", 120: "fr-FR,fr;q=0.9,en;q=0.8",
    180: "ru-RU,ru;q=0.9,en;q=0.8", 330: "en-IN,en;q=0.9,hi;q=0.8", 480: "zh-CN,zh;q=0.9,en;q=0.8",
    600: "en-AU,en;q=0.9",
}


# Where clients come from. Visitors: blocks of consumer ISPs and of the registries' pools
# that hand addresses to them, by region (no reserved, private, documentation, bogon or US
# military space: 6, 7, 11, 21, 22, 26, 28, 29, 30, 33, 55, 214 and 215/8 never appear).
ISP_NETWORKS: dict[str, tuple[str, ...]] = {
    "america": ("73.0.0.0/8", "24.0.0.0/12", "98.192.0.0/10", "99.0.0.0/10", "172.32.0.0/11", "174.192.0.0/10",
                "99.224.0.0/11", "76.0.0.0/11"),
    "latam": ("177.0.0.0/8", "179.0.0.0/8", "187.0.0.0/8", "189.0.0.0/8", "201.0.0.0/8"),
    "europe": ("79.192.0.0/10", "84.128.0.0/10", "87.128.0.0/10", "91.0.0.0/10", "93.192.0.0/10", "90.0.0.0/9",
               "86.192.0.0/11", "92.128.0.0/10", "81.128.0.0/11", "86.128.0.0/11", "83.32.0.0/11", "88.0.0.0/11",
               "78.192.0.0/10", "88.160.0.0/11", "31.0.0.0/8", "46.0.0.0/8", "95.0.0.0/8", "109.0.0.0/8",
               "178.0.0.0/8", "188.0.0.0/8", "217.0.0.0/8"),
    "india": ("117.192.0.0/10", "49.32.0.0/11", "106.192.0.0/11", "157.32.0.0/12"),
    "asia": ("112.0.0.0/8", "114.0.0.0/8", "116.0.0.0/8", "117.0.0.0/10", "119.0.0.0/8", "121.0.0.0/8",
             "123.0.0.0/8", "125.0.0.0/8", "180.0.0.0/8", "183.0.0.0/8", "218.0.0.0/8", "221.0.0.0/8"),
    "oceania": ("101.160.0.0/11", "124.168.0.0/13", "120.144.0.0/12"),
}
# Hosting and cloud providers' blocks: where scanners, scripts and feed fetchers run.
CLOUD_NETWORKS: tuple[str, ...] = (
    "167.99.0.0/16", "159.65.0.0/16", "138.68.0.0/16", "134.209.0.0/16",  # DigitalOcean
    "51.68.0.0/16", "54.36.0.0/16",  # OVH
    "95.216.0.0/15", "116.202.0.0/15", "88.198.0.0/16",  # Hetzner
    "45.33.0.0/17", "172.104.0.0/15",  # Linode
    "3.80.0.0/12", "54.144.0.0/12",  # AWS us-east-1
    "35.184.0.0/13",  # Google Cloud
    "40.112.0.0/13",  # Azure
)
# Services that publish the addresses they come from (their status pages and docs list them).
PUBLISHED_NETWORKS: dict[str, tuple[str, ...]] = {
    "UptimeRobot": ("69.162.124.224/28", "63.143.42.240/28", "216.245.221.80/28", "208.115.199.16/28"),
    "Pingdom": ("185.180.12.64/28", "5.172.196.184/29", "185.152.65.160/28"),
    "Better Stack": ("45.32.128.0/24", "139.180.128.0/24"),
    "Feedly": ("54.172.0.0/15",),
}


def region_of(offset_minutes: int) -> str:
    """The region of an audience group, by its UTC offset."""
    if offset_minutes <= -240:
        return "america"
    if offset_minutes < -60:
        return "latam"
    if offset_minutes <= 180:
        return "europe"
    if offset_minutes < 420:
        return "india"
    return "asia" if offset_minutes < 570 else "oceania"


def published_networks(agent: str) -> tuple[str, ...] | None:
    """The networks a well-known service says it comes from, by a marker in its agent."""
    return next((nets for marker, nets in PUBLISHED_NETWORKS.items() if marker in agent), None)
