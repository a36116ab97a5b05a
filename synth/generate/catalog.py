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


def browser_versions(when: dt.date) -> dict[str, int]:
    """Current major versions at ``when``: Chrome and Firefox ship every four weeks,
    Safari and iOS once a year in September, Android once a year."""
    four_weeks = (when - dt.date(2025, 10, 28)).days // 28
    year = when.year - (1 if when.month < 9 else 0)
    return {
        "chrome": 142 + four_weeks,
        "firefox": 145 + four_weeks,
        "safari": 26 + (year - 2025),
        "ios": 26 + (year - 2025),
        "android": 16 + (when.year - 2025),
        "samsung": 29 + (when.year - 2025),
    }


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
