"""The anomaly kinds, one class each: its declaration (synth.generate.anomalies.registry) and
how it bends the traffic: the requests it adds (``extra``) and those it changes (``transform``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from synth.escape import apache_escape
from synth.generate import catalog
from synth.generate.addresses import network_in
from synth.generate.anomalies.base import Kind, Model, in_window, new_addresses, schedule
from synth.generate.anomalies.registry import KindSpec
from synth.generate.anomalies.windows import Window
from synth.generate.browsers import browser_agents
from synth.generate.draws import pick
from synth.generate.pools import GET, HTTP2, HTTP11, PAGE, PROBE
from synth.generate.traffic import SESSION_CAP_MS, Events, draw_visits, finish

if TYPE_CHECKING:
    from faker import Faker  # annotations only: the caller passes its Faker (importing it is costly)


# The most extra requests a spike draws at once. Drawing visits costs several times the bytes
# of the requests kept, and a big site's 10x spike adds hundreds of thousands to a block: drawn
# in pieces of whole minutes, the spike costs about what its requests hold. Below this, one
# piece: small sites' spikes are drawn exactly as they always were.
SPIKE_PIECE_REQUESTS = 100_000


def spike_pieces(t0: int, t1: int, expected: float) -> list[tuple[int, int]]:
    """Seconds [t0, t1) cut into about equal pieces of whole minutes (of seconds, where the
    span is not whole minutes) holding at most SPIKE_PIECE_REQUESTS of ``expected`` each."""
    wanted = max(1, int(np.ceil(expected / SPIKE_PIECE_REQUESTS)))
    unit = 60 if t0 % 60 == 0 and (t1 - t0) % 60 == 0 else 1
    units = (t1 - t0) // unit
    k = min(wanted, units)
    edges = [t0 + unit * (units * i // k) for i in range(k + 1)]
    return list(zip(edges[:-1], edges[1:]))


class Spike(Kind):
    """Total request rate x magnitude inside the window.

    The extra traffic is (magnitude - 1) more copies of the normal traffic, made of visits that
    start up to the session cap before the window and are cut at its edges: inside the window
    the expected rate is exactly magnitude times what it would have been; outside, unchanged.
    """

    declared = KindSpec("spike", "total request rate x magnitude", 10, "factor on the total request rate", 30, 1, 1000,
                        jobs=("smoke-request-count",))

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        w = self.window
        t0, t1 = max(b0, w.start - SESSION_CAP_MS // 1000), min(b1, w.end)
        if t0 >= t1:
            return None
        human = model.expected_human(t0, t1)
        # Bots are steady; their share of the extra traffic is carried by extra visits.
        scale = (w.magnitude - 1.0) * model.expected_total(t0, t1) / np.maximum(human, 1e-12)
        pieces = []
        for a, z in spike_pieces(t0, t1, float((scale * human).sum())):
            events = model.draw_human(rng, a, z, scale[a - t0:z - t0])
            pieces.append(events.take(in_window(events, w)))
            del events
        return Events.concat(pieces, use_up=True)

    def extra_rate(self, model: Model, t0: int, t1: int) -> float:
        return (self.window.magnitude - 1) * float(model.expected_total(t0, t1).mean())

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        w = self.window
        normal = float(model.expected_total(w.start, w.end).sum())
        return {"metric": "requests in the window", "baseline": round((normal + others) * kept),
                "during": round((normal * w.magnitude + others) * kept),
                "extra_events": round(normal * (w.magnitude - 1) * kept)}


class Dip(Kind):
    """Total request rate x magnitude (below 1): each request in the window is lost with
    probability 1 - magnitude, so magnitude 0 is an outage with no lines at all."""

    declared = KindSpec("dip", "total request rate x magnitude (< 1); 0 is an outage", 0.1,
                        "factor on the total request rate", 60, 0, 1, jobs=("smoke-low-request-rate",),
                        high_exclusive=True, low_inclusive=True)

    def transform(self, model: Model, events: Events, rng: np.random.Generator) -> Events:
        lost = in_window(events, self.window) & (rng.random(len(events)) >= self.window.magnitude)
        return events.take(~lost) if lost.any() else events

    def kept_in(self, window: Window) -> float:
        overlap = max(0, min(self.window.end, window.end) - max(self.window.start, window.start))
        return 1.0 - (1.0 - self.window.magnitude) * overlap / window.seconds

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        w = self.window
        baseline = (float(model.expected_total(w.start, w.end).sum()) + others) * kept
        return {"metric": "requests in the window", "baseline": round(baseline),
                "during": round(baseline * w.magnitude), "missing_events": round(baseline * (1 - w.magnitude))}


class ErrorBurst(Kind):
    """The share of one status (503 unless given) rises by the magnitude: requests in the
    window are answered with it with the probability that multiplies its normal share."""

    declared = KindSpec("error_burst", "the share of one status (503 by default) rises by the magnitude", 50,
                        "factor on the normal share of the status (a share under 0.1% counts as 0.1%)", 20, 1, 1000,
                        jobs=("smoke-status-code-rate",), params={"status": 503}, field="http.response.status_code")
    FLOOR = 0.001

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        self.status = int(self.param("status"))
        self.values = [self.status]
        self.used = {"status": self.status}
        if self.status not in model.pools.site.statuses:
            model.pools.site.statuses.append(self.status)
        # A status rarer than 0.1% of requests counts as 0.1%, so that "x magnitude" of a status
        # that hardly ever occurs still makes a burst; the label says so (share_floor, factor).
        self.normal = max(model.status_share(self.status), self.FLOOR)
        self.share = min(1.0, self.normal * self.window.magnitude)
        self.convert = min(1.0, (self.share - model.status_share(self.status)) / (1 - model.status_share(self.status)))

    def transform(self, model: Model, events: Events, rng: np.random.Generator) -> Events:
        hit = in_window(events, self.window) & (rng.random(len(events)) < self.convert)
        events.status[hit] = self.status
        return events

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        w = self.window
        total = (float(model.expected_total(w.start, w.end).sum()) + others) * kept
        usual = model.status_share(self.status)
        return {"metric": f"requests answered {self.status} in the window",
                "baseline": round(total * usual), "during": round(total * self.share),
                "share_baseline": round(usual, 6), "share_during": round(self.share, 6),
                "share_floor": self.FLOOR if usual < self.FLOOR else None,
                "factor": round(self.share / usual, 1) if usual > 0 else None}


class Scan(Kind):
    """One client (or a few) walks a word list of URLs that do not exist, at a steady pace:
    a new URL with every request, nearly all answered 404."""

    declared = KindSpec("scan", "one client (or a few) requests many distinct non-existent URLs, mostly 404", 2,
                        "requests per second from each scanning client", 30, 0, 1000, jobs=("smoke-url-scanning",),
                        params={"clients": 1, "address": None, "agent": None}, field="source.address")
    AGENTS = ("gobuster/3.6", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)", "Fuzz Faster U Fool v2.1.0",
              "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)", "Wfuzz/3.1.0")
    EXTENSIONS = ("", "/", ".php", ".bak", ".old", ".zip", ".sql", ".txt", ".asp", ".jsp", ".tar.gz", ".env", ".json", ".conf")
    FOLDERS = ("", "admin/", "backup/", "old/", "test/", "api/", "tmp/", "wp-content/", "cgi-bin/", "include/", "data/")
    # What directory scanners' word lists hold (dirb's common.txt, SecLists' raft lists): names
    # of admin panels, backups, configs, frameworks' debug pages, not dictionary words.
    WORDS = ("admin", "administrator", "login", "wp-login.php", "wp-admin", "wp-content", "wp-includes", "xmlrpc.php",
             "phpmyadmin", "pma", "myadmin", "mysql", "sql", "db", "database", "dump", "backup", "backups", "bak",
             "old", "new", "test", "tests", "temp", "tmp", "dev", "staging", "beta", "debug", "config", "configuration",
             "conf", "settings", "setup", "install", "installer", "upgrade", "update", ".env", ".git", ".svn", ".hg",
             ".htaccess", ".htpasswd", ".DS_Store", "server-status", "server-info", "phpinfo", "info", "status",
             "health", "actuator", "metrics", "console", "manager", "dashboard", "panel", "cpanel", "webmail",
             "portal", "private", "secret", "secrets", "credentials", "keys", "api", "v1", "v2", "graphql", "swagger",
             "swagger-ui", "api-docs", "openapi.json", "jenkins", "solr", "elmah.axd", "trace.axd", "web.config",
             "cgi-bin", "scripts", "shell", "cmd", "upload", "uploads", "files", "file", "download", "downloads",
             "include", "includes", "inc", "lib", "vendor", "node_modules", "composer.json", "package.json",
             "docker-compose.yml", "Dockerfile", "id_rsa", "users", "user", "account", "accounts", "register",
             "signup", "logout", "auth", "oauth", "sso", "session", "cache", "log", "logs", "error_log", "access_log",
             "stats", "awstats", "webalizer", "editor", "fckeditor", "ckeditor", "tinymce", "filemanager", "site",
             "www", "web", "public", "static", "assets", "media", "images", "img", "js", "css", "data", "export",
             "import", "archive", "archives", "old_site", "demo", "sample", "examples", "readme", "README.md",
             "license.txt", "changelog", "CHANGELOG.md", "crossdomain.xml", "clientaccesspolicy.xml", "sitemap",
             "magento", "joomla", "drupal", "typo3", "umbraco", "laravel", "telescope", "horizon", "_profiler",
             "app_dev.php", "index.php", "default", "home", "main", "root", "system", "sys", "etc", "passwd")

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        w, pools = self.window, model.pools
        n_clients = int(self.param("clients"))
        agent_text = self.param("agent") or self.AGENTS[int(rng.integers(0, len(self.AGENTS)))]
        agent = pools.population.agent(agent_text)
        # Nikto names the test of each request in its agent: (Test:000001), (Test:000002), ...
        self.numbered = "(Test:000001)" in agent_text
        self.agent_text = agent_text
        addresses = new_addresses(fake, n_clients, self.param("address"))
        self.clients = np.array([pools.population.add_client(a, agent, HTTP11) for a in addresses], np.int32)
        self.agent = agent
        self.values = addresses
        self.used = {"clients": n_clients, "address": addresses[0], "agent": agent_text}
        self.rate = w.magnitude
        per_client = int(np.ceil(w.seconds * self.rate)) + 1
        words = self.WORDS
        combos = len(self.FOLDERS) * len(words) * len(self.EXTENSIONS)
        picks = rng.choice(combos, size=min(combos, per_client * n_clients), replace=False)
        folder, rest = np.divmod(picks, len(words) * len(self.EXTENSIONS))
        word, ext = np.divmod(rest, len(self.EXTENSIONS))
        known = {t: i for i, t in enumerate(pools.site.targets)}
        # The well-known paths first (what every scanner asks for), then the list's combinations.
        paths = list(dict.fromkeys([*catalog.SCANNER_PATHS, *(f"/{self.FOLDERS[f]}{words[i]}{self.EXTENSIONS[e]}"
                                                               for f, i, e in zip(folder, word, ext))]))
        self.targets = np.array([known[apache_escape(p)] if apache_escape(p) in known else pools.site.add(p, PROBE, 0)
                                 for p in paths], np.int32)
        if self.numbered:
            n_tests = min(len(self.targets), per_client)
            self.test_agents = np.array([pools.population.agent(agent_text.replace("000001", f"{k + 1:06d}"))
                                         for k in range(n_tests)], np.int32)
        pools.site.freeze()
        pools.population.freeze()

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        k, t = schedule(rng, self.window, self.rate * len(self.clients), b0, b1)
        if len(k) == 0:
            return None
        n = len(self.clients)
        client = self.clients[k % n]
        target = self.targets[k % len(self.targets)]
        roll = rng.random(len(k))
        status = np.where(roll < 0.93, 404, np.where(roll < 0.98, 403, 400)).astype(np.int16)
        agent = self.test_agents[(k // n) % len(self.test_agents)] if self.numbered else self.agent
        return finish(model.pools, dict(t_ms=t, client=client, agent=agent, target=target, status=status),
                      method=GET, proto=HTTP11)

    def extra_rate(self, model: Model, t0: int, t1: int) -> float:
        return self.rate * len(self.clients)

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        per_client = self.window.seconds * self.rate * kept
        return {"metric": "distinct url.original per source.address in the window",
                "baseline": 0, "during": round(per_client), "extra_events": round(per_client * len(self.clients))}


class Flood(Kind):
    """One client's request rate x magnitude: by default the site's most active visitor,
    hammering pages (no assets, no referrer) as a broken script or an impatient scraper does."""

    declared = KindSpec("flood", "one client's request rate x magnitude", 40, "factor on that client's usual request rate",
                        30, 1, 10_000, jobs=("smoke-source-request-rate",), params={"address": None},
                        field="source.address")

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        pop = model.pools.population
        given = self.param("address")
        if given and given in pop.addresses:
            self.client = pop.addresses.index(given)
        elif given:
            self.client = pop.add_client(given, pop.agent("python-requests/2.32.3"), HTTP11)
            pop.freeze()
        else:
            self.client = model.busiest_visitor()
        self.values = [pop.addresses[self.client]]
        self.used = {"address": self.values[0]}
        self.usual = model.client_rate(self.client)
        # A client seen too rarely to have a usual rate floods at the pace of the busiest client,
        # a visitor or a crawler (a person's pace is capped: the busiest clients are bots, and a
        # crawler's busiest hour holds about three times its mean: its crawls come in bursts).
        crawler = 3 * float(np.max(np.diff(pop.crawler_cdf, prepend=0.0))) * model.crawl_rate() if len(pop.crawler_cdf) else 0.0
        self.rate = (self.window.magnitude - 1) * max(self.usual, model.client_rate(model.busiest_visitor()), crawler)

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        w, site = self.window, model.pools.site
        lo, hi = max(b0, w.start), min(b1, w.end)
        if lo >= hi:
            return None
        n = int(rng.poisson(self.rate * (hi - lo)))
        t = np.sort(rng.integers(lo * 1000, hi * 1000, n))
        target = site.pages[pick(rng, site.page_cdf, n)]
        return finish(model.pools, dict(t_ms=t, client=np.full(n, self.client), target=target, status=200),
                      method=GET)

    def extra_rate(self, model: Model, t0: int, t1: int) -> float:
        return self.rate

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        seconds = self.window.seconds * kept
        return {"metric": "requests from source.address in the window", "baseline": round(self.usual * seconds),
                "during": round((self.usual + self.rate) * seconds), "extra_events": round(self.rate * seconds)}


class Crowd(Kind):
    """Visitors never seen before arrive through one new link (a viral post, a botnet's
    referrer): magnitude - 1 times the usual number of visits in the window, each a new client
    landing mostly on one page."""

    declared = KindSpec("crowd", "many clients never seen before arrive, through one new referrer", 4,
                        "factor on the number of distinct visitors", 45, 1, 1000, jobs=("smoke-visitor-rate",),
                        params={"referrer": None}, field="http.request.referrer")

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        w, pools = self.window, model.pools
        url = self.param("referrer") or (
            f"https://www.reddit.com/r/{fake.word()}/comments/{fake.hexify('^^^^^^')}/{fake.slug().replace('-', '_')}/")
        self.referrer = pools.referrers.add(url)
        self.values = [url]
        self.used = {"referrer": url}
        self.usual = model.expected_visits(w.start, w.end)
        n = int(rng.poisson((w.magnitude - 1) * self.usual))
        agents = browser_agents(rng, n, pools.versions)  # the same browser mix as everyone else
        isp = [net for nets in catalog.ISP_NETWORKS.values() for net in nets]
        addresses = [f"{network_in(isp, fake, 24).rsplit('.', 1)[0]}.{int(rng.integers(1, 255))}" for _ in range(n)]
        pop = pools.population
        self.clients = pop.browser_clients(addresses, agents, [HTTP2] * n)
        pop.freeze()
        self.starts = np.sort(rng.integers(w.start * 1000, w.end * 1000, n))
        viral = int(rng.integers(1, len(pools.site.pages)))
        self.landing = np.where(rng.random(n) < 0.85, viral, pick(rng, pools.site.page_cdf, n))
        self.viral_page = pools.site.targets[int(pools.site.pages[viral])]

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        a, z = np.searchsorted(self.starts, [b0 * 1000, b1 * 1000])
        if z <= a:
            return None
        return draw_visits(rng, model.pools, self.starts[a:z], self.clients[a:z], returning_share=0.0,
                           landing=self.landing[a:z], landing_referrer=np.full(z - a, self.referrer))

    def extra_rate(self, model: Model, t0: int, t1: int) -> float:
        return len(self.clients) * model.visit_size() / self.window.seconds

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        return {"metric": "distinct source.address in the window (visits starting in it)",
                "baseline": round(self.usual), "during": round(self.usual + len(self.clients)),
                "new_clients": len(self.clients), "landing": self.viral_page}


class Bytes(Kind):
    """One client pulls far larger responses than anyone: an export endpoint, page after page,
    each response magnitude times the site's median response."""

    declared = KindSpec("bytes", "one client downloads far larger responses than anyone (exfiltration)", 100,
                        "response size as a multiple of the site's median response", 30, 1, 100_000,
                        jobs=("smoke-bytes-per-client", "smoke-bytes-sent-per-client"), params={"address": None},
                        field="source.address")
    EVERY_S = 8.0

    def job_note(self, job: str | None, carries: frozenset[str]) -> str | None:
        if job == "smoke-bytes-sent-per-client":
            return ("the format logs %O (bytes sent, headers included) and no body size: the window's figures "
                    "are body bytes, http.response.bytes holds a little more")
        return None

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        w, pools = self.window, model.pools
        pop = pools.population
        given = self.param("address")
        if given and given in pop.addresses:
            self.client = pop.addresses.index(given)
        elif given:
            self.client = pop.add_client(given, pop.agent("curl/8.5.0"), HTTP11)
        else:  # an ordinary visitor: an insider, not a stranger
            humans = np.concatenate(pop.group_clients)
            self.client = int(humans[rng.integers(0, len(humans))])
        pop.freeze()
        self.values = [pop.addresses[self.client]]
        self.used = {"address": self.values[0]}
        count = int(np.ceil(w.seconds / self.EVERY_S)) + 1
        table = fake.word()
        sizes = (w.magnitude * model.median_size() * rng.lognormal(0, 0.25, count)).astype(np.int64)
        self.targets = np.array([pools.site.add(f"/api/v1/export?table={table}&page={k + 1}", PAGE, int(size))
                                 for k, size in enumerate(sizes)], np.int32)
        pools.site.freeze()
        self.sizes = sizes

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        k, t = schedule(rng, self.window, 1 / self.EVERY_S, b0, b1)
        if len(k) == 0:
            return None
        return finish(model.pools, dict(t_ms=t, client=np.full(len(k), self.client), target=self.targets[k],
                                        status=200), method=GET)

    def extra_rate(self, model: Model, t0: int, t1: int) -> float:
        return 1 / self.EVERY_S

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        count = int(np.ceil(self.window.seconds / self.EVERY_S))
        return {"metric": "http.response.body.bytes from source.address in the window",
                "baseline": round(model.client_rate(self.client) * self.window.seconds * model.median_size()),
                "during": round(int(self.sizes[:count].sum()) * kept), "extra_events": round(count * kept)}


class NewAgent(Kind):
    """A user agent never seen before (a new crawler, a scraper) makes a burst of requests:
    robots.txt first, then pages at a steady pace."""

    declared = KindSpec("new_agent", "a user agent never seen before makes a burst of requests", 60,
                        "requests per minute with the new agent", 20, 0, 100_000, jobs=("smoke-rare-agent",),
                        params={"agent": None, "clients": 1}, field="user_agent.original")

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        pools = model.pools
        pop = pools.population
        text = self.param("agent") or (
            f"Mozilla/5.0 (compatible; {fake.word().capitalize()}{('Bot', 'Spider', 'Crawler')[int(rng.integers(0, 3))]}"
            f"/{int(rng.integers(1, 4))}.{int(rng.integers(0, 10))}; +https://{fake.domain_name()}/bot.html)")
        self.agent = pop.agent(text)
        self.values = [text]
        n = int(self.param("clients"))
        self.used = {"agent": text, "clients": n}
        self.clients = np.array([pop.add_client(a, self.agent, HTTP11) for a in new_addresses(fake, n, None)], np.int32)
        pop.freeze()

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        site = model.pools.site
        k, t = schedule(rng, self.window, self.window.magnitude / 60, b0, b1)
        if len(k) == 0:
            return None
        target = site.pages[rng.integers(0, len(site.pages), len(k))]
        target[k == 0] = site.robots
        return finish(model.pools, dict(t_ms=t, client=self.clients[k % len(self.clients)], agent=self.agent,
                                        target=target, status=200), method=GET)

    def extra_rate(self, model: Model, t0: int, t1: int) -> float:
        return self.window.magnitude / 60

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        count = self.window.magnitude * self.window.minutes * kept
        return {"metric": "requests with user_agent.original in the window", "baseline": 0,
                "during": round(count), "extra_events": round(count)}


class Latency(Kind):
    """Every response in the window takes magnitude times longer: a slow database, a saturated
    upstream. Only formats that write response times (%D, %T) show it."""

    declared = KindSpec("latency", "responses take magnitude times longer (a format with response times shows it)", 8,
                        "factor on response times", 30, 1, 1000, jobs=("smoke-response-time",), field="event.duration")

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        # The usual time of the window's own traffic: its mix of visitors, crawlers and scanners,
        # at its load (pages take longer when the site is busy).
        self.usual_us = model.mean_response_us(self.window.start, self.window.end)

    def job_note(self, job: str | None, carries: frozenset[str]) -> str | None:
        if job and "duration_seconds_only" in carries:
            return ("the format logs whole seconds (%T): responses under a second log 0, so the job sees only "
                    "windows that push responses past a second")
        return None

    def transform(self, model: Model, events: Events, rng: np.random.Generator) -> Events:
        if events.duration_us is not None:
            inside = in_window(events, self.window)
            events.duration_us[inside] = (events.duration_us[inside] * self.window.magnitude).astype(np.int64)
        return events

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        return {"metric": "mean event.duration (nanoseconds) in the window",
                "baseline": round(self.usual_us * 1000), "during": round(self.usual_us * 1000 * self.window.magnitude)}
