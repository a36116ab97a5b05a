"""Anomaly windows: where each falls, how each kind bends the traffic, what the ground truth says.

A window is placed once per run (from the scenario, or drawn from the seed on whole minutes,
away from the edges of the range). Each kind is a class that may add requests (``extra``) and
may change the requests that fall in its window (``transform``). Both run per generation
block with the block's own generator, so a window's requests do not depend on how the run is
split between files or workers. Whatever a kind needs beyond the normal traffic (a scanner's
address, its word list, the export URLs of an exfiltration) is made once in ``setup``.

Every kind's extra requests start at or after the block they are drawn for; the event
merger relies on it.
"""

from __future__ import annotations

import abc
import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from faker import Faker

from synth.generate import catalog
from synth.generate.addresses import network_in
from synth.generate.browsers import browser_agents
from synth.generate.draws import pick
from synth.generate.pools import GET, HTTP2, HTTP11, PAGE, PROBE, Pools
from synth.generate.scenario import KINDS, AnomalySpec, ScenarioError
from synth.generate.traffic import SESSION_CAP_MS, Events, draw_visits, finish
from synth.render.escape import apache_escape

EDGE_MARGIN_S = 12 * 3600
# History an ML job sees before a drawn window, where the range has room: two days, so that the
# 1-hour population jobs have 48 buckets and a daily pattern before the anomaly comes.
HISTORY_S = 2 * 86400

# What a format's lines tell, in words both sides share: a format lists those it writes
# (synth.render.formats.LineFormat.carries), a job those its fields come from. Each job reads
# the ECS fields named here (its detectors, influencers, datafeed query and aggregations);
# tests/test_jobs_see_formats.py holds both sides to the documents the ingest pipeline makes.
CARRIED = {
    "status": "the status code (%s, read as http.response.status_code)",
    "client": "the client address (%h, read as source.address)",
    "url": "the request line (%r, read as url.original)",
    "agent": "the User-Agent (%{User-agent}i, read as user_agent.original)",
    "body_bytes": "the body size (%b or %B, read as http.response.body.bytes)",
    "bytes_sent": "the bytes sent (%O, read as http.response.bytes)",
    "duration": "a response time (%D or %T, read as event.duration)",
}
JOB_NEEDS: dict[str, frozenset[str]] = {
    "smoke-request-count": frozenset({"status"}),
    "smoke-low-request-rate": frozenset({"status"}),
    "smoke-status-code-rate": frozenset({"status", "client"}),
    "smoke-url-scanning": frozenset({"status", "client", "url"}),
    "smoke-source-request-rate": frozenset({"status", "client"}),
    "smoke-visitor-rate": frozenset({"status", "client"}),
    "smoke-bytes-per-client": frozenset({"status", "client", "body_bytes"}),
    "smoke-bytes-sent-per-client": frozenset({"status", "client", "bytes_sent"}),
    "smoke-rare-agent": frozenset({"status", "client", "agent"}),
    "smoke-response-time": frozenset({"duration"}),
}
ALL_CARRIED = frozenset(CARRIED)


@dataclass(frozen=True)
class Window:
    """One anomaly as placed in the run: [start, end) in epoch seconds."""

    index: int
    spec: AnomalySpec
    start: int
    end: int

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def magnitude(self) -> float:
        return self.spec.magnitude

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60

    @property
    def seconds(self) -> int:
        return self.end - self.start


class Model(Protocol):
    """What a kind needs from the traffic model (events.TrafficModel)."""

    pools: Pools

    def draw_human(self, rng: np.random.Generator, t0: int, t1: int, scale: np.ndarray) -> Events: ...
    def expected_total(self, t0: int, t1: int) -> np.ndarray: ...
    def expected_human(self, t0: int, t1: int) -> np.ndarray: ...
    def expected_visits(self, t0: int, t1: int) -> float: ...
    def client_rate(self, client: int) -> float: ...
    def status_share(self, status: int) -> float: ...
    def median_size(self) -> float: ...
    def busiest_visitor(self) -> int: ...
    def visit_size(self) -> float: ...
    def mean_response_us(self, t0: int | None = None, t1: int | None = None) -> float: ...
    def crawl_rate(self) -> float: ...
    # What the run's lines tell (CARRIED's words): a job is named only if they tell what it reads.
    carries: frozenset[str]


def iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# A window is measurable when what it changes stands out of the counting noise: at least
# MEASURABLE_EVENTS of difference, and three standard deviations of a Poisson count.
MEASURABLE_EVENTS = 10


def unmeasurable(expected: dict[str, Any]) -> str | None:
    """Why a window's expected effect is too small to be told from chance, or None."""
    baseline, during = expected.get("baseline"), expected.get("during")
    if not isinstance(baseline, (int, float)) or not isinstance(during, (int, float)):
        return None
    if abs(during - baseline) >= max(MEASURABLE_EVENTS, 3 * np.sqrt(max(baseline, 1))):
        return None
    return (f"{expected.get('metric', 'events')}: about {during:,.0f} against {baseline:,.0f} usual, "
            f"too few to tell from chance (a higher rate or a longer window)")


def window_problems(specs: tuple[AnomalySpec, ...], start: int, end: int) -> list[tuple[str, str]]:
    """Why anomalies do not fit in [start, end): a start outside it, or too little room to draw one."""
    problems = []
    for i, spec in enumerate(specs):
        duration = int(round(spec.minutes * 60))
        if spec.start is not None or spec.offset is not None:
            w0 = int(spec.start.timestamp()) if spec.start is not None else start + int(spec.offset or 0)
            if w0 < start or w0 + duration > end:
                problems.append((f"anomalies[{i}].start",
                                 f"{iso(w0)} + {spec.minutes:g} minutes is outside the range {iso(start)} to {iso(end)}"))
        else:
            first, last = _drawn_room(duration, start, end)
            if last < first:
                problems.append((f"anomalies[{i}].minutes",
                                 f"{spec.minutes:g} minutes does not fit on whole minutes in the range"))
    return problems


def _drawn_room(duration: int, start: int, end: int) -> tuple[int, int]:
    """The first and last whole minute a drawn window of ``duration`` may start on."""
    margin = min(EDGE_MARGIN_S, max(0, (end - start - duration) // 4))
    before = HISTORY_S if end - start - duration - margin >= HISTORY_S + 60 else margin
    return -(-(start + before) // 60) * 60, (end - margin - duration) // 60 * 60


def place_windows(specs: tuple[AnomalySpec, ...], start: int, end: int,
                  rng: np.random.Generator) -> list[Window]:
    """Place each anomaly: at its time or offset, or on a whole minute drawn from ``rng``.

    A drawn window starts at least two days into the range and ends at least 12 hours before
    its end, where the range has room for that; in shorter ranges, it keeps clear of the first
    and last 12 hours (of a quarter of the spare room each, where even that does not fit), so
    the ML job has data on both sides. ``history_notes`` says when a window has less than two
    days before it.
    """
    problems = window_problems(specs, start, end)
    if problems:
        raise ScenarioError(problems)
    windows = []
    for i, spec in enumerate(specs):
        duration = int(round(spec.minutes * 60))
        if spec.start is not None or spec.offset is not None:
            w0 = int(spec.start.timestamp()) if spec.start is not None else start + int(spec.offset or 0)
        else:
            first, last = _drawn_room(duration, start, end)
            w0 = first + 60 * int(rng.integers(0, (last - first) // 60 + 1))
        windows.append(Window(i, spec, w0, w0 + duration))
    return windows


def history_notes(windows: list[Window], start: int) -> list[str]:
    """A line for the windows that have less than two days of the range before them."""
    short = [w for w in windows if w.start - start < HISTORY_S]
    if not short:
        return []
    least = min(w.start - start for w in short) / 86400
    names = ", ".join(f"{w.kind}-{w.index + 1}" for w in short)
    return [f"{names} start{'s' if len(short) == 1 else ''} {least:.2g} days into the range: the bundled ML jobs "
            f"learn the daily pattern from about two days of history before an anomaly (with --days 3 or more, "
            f"drawn anomalies leave two days)"]


def _inside(events: Events, window: Window) -> np.ndarray:
    return (events.t_ms >= window.start * 1000) & (events.t_ms < window.end * 1000)


def _schedule(rng: np.random.Generator, window: Window, per_second: float, b0: int, b1: int) -> tuple[np.ndarray, np.ndarray]:
    """A steady program's requests that fall in block [b0, b1): their numbers k (0, 1, ... from
    the window's start) and times; request k is due at start + k/rate, a little late at random."""
    lo, hi = max(b0, window.start), min(b1, window.end)
    if lo >= hi:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first = int(np.ceil((lo - window.start) * per_second))
    last = int(np.ceil((hi - window.start) * per_second))  # exclusive
    k = np.arange(first, last, dtype=np.int64)
    due = window.start * 1000 + np.ceil(k * 1000 / per_second).astype(np.int64)
    late = (rng.random(len(k)) * 800 / per_second).astype(np.int64)
    return k, np.minimum(due + late, window.end * 1000 - 1)


def _new_addresses(fake: Faker, n: int, given: str | None) -> list[str]:
    if given:
        return [given] + [str(ipaddress.ip_address(given) + i) for i in range(1, n)]
    return [network_in(catalog.CLOUD_NETWORKS, fake) for _ in range(n)]


def choose_job(candidates: tuple[str, ...], carries: frozenset[str]) -> tuple[list[str], str | None]:
    """The first of ``candidates`` whose fields the format's lines carry, or none and why."""
    for job in candidates:
        if JOB_NEEDS[job] <= carries:
            return [job], None
    if not candidates:
        return [], None
    missing = sorted(JOB_NEEDS[candidates[0]] - carries, key=list(CARRIED).index)
    jobs = " or ".join(candidates)
    return [], (f"the format's lines do not carry {', '.join(CARRIED[m] for m in missing)}, which {jobs} "
                f"{'read' if len(candidates) > 1 else 'reads'}: no bundled job can see this window")


class Kind(abc.ABC):
    """A kind of anomaly: by default, nothing added and nothing changed. ``jobs`` are the jobs
    that can catch it, in order of preference: a window names the first whose fields the run's
    format writes."""

    jobs: tuple[str, ...] = ()
    field: str | None = None

    def __init__(self, window: Window):
        self.window = window
        self.values: list[Any] = []
        self.used: dict[str, Any] = {}  # the parameters as setup resolved them, defaults included

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        """Make what the window needs beyond normal traffic (clients, agents, URLs); most
        kinds need nothing."""
        return None

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        return None

    def transform(self, model: Model, events: Events, rng: np.random.Generator) -> Events:
        return events

    def extra_rate(self, model: Model, t0: int, t1: int) -> float:
        """Requests this window adds per second, on average over [t0, t1) within it."""
        return 0.0

    def extra_in(self, model: Model, window: Window) -> float:
        """Requests this window adds inside another window (where they overlap)."""
        lo, hi = max(self.window.start, window.start), min(self.window.end, window.end)
        return self.extra_rate(model, lo, hi) * (hi - lo) if hi > lo else 0.0

    def kept_in(self, window: Window) -> float:
        """The share of requests this window lets through in another window (dips lose some)."""
        return 1.0

    @abc.abstractmethod
    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        """The watched metric in the window: its normal expected value and the anomalous one.

        ``others`` is what overlapping windows add to the traffic here; ``kept`` the share of
        requests that overlapping dips let through.
        """

    def job_note(self, job: str | None, carries: frozenset[str]) -> str | None:
        """Anything the user should know about how the chosen job sees this window."""
        return None

    def truth(self, model: Model, neighbours: list[Kind]) -> dict[str, Any]:
        w = self.window
        kind = KINDS[w.kind]
        carries = getattr(model, "carries", ALL_CARRIED)
        jobs, why = choose_job(self.jobs, carries)
        label: dict[str, Any] = {
            "id": f"{w.kind}-{w.index + 1}",
            "kind": w.kind,
            "start": iso(w.start),
            "end": iso(w.end),
            "start_ms": w.start * 1000,
            "end_ms": w.end * 1000,
            "minutes": w.minutes,
            "magnitude": w.magnitude,
            "magnitude_means": kind.magnitude_means,
            "params": {**dict(w.spec.params), **self.used},
            "affected": {"field": self.field, "values": self.values},
            "expected": self.expected(model, sum(n.extra_in(model, w) for n in neighbours),
                                      float(np.prod([n.kept_in(w) for n in neighbours]))),
            "jobs": jobs,
            "jobs_note": why or self.job_note(jobs[0] if jobs else None, carries),
        }
        too_few = unmeasurable(label["expected"])
        if too_few:
            label["measurable"] = False
            label["too_few"] = too_few
        return label


class Spike(Kind):
    """Total request rate x magnitude inside the window.

    The extra traffic is (magnitude - 1) more copies of the normal traffic, made of visits that
    start up to the session cap before the window and are cut at its edges: inside the window
    the expected rate is exactly magnitude times what it would have been; outside, unchanged.
    """

    jobs = ("smoke-request-count",)

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        w = self.window
        t0, t1 = max(b0, w.start - SESSION_CAP_MS // 1000), min(b1, w.end)
        if t0 >= t1:
            return None
        human = model.expected_human(t0, t1)
        # Bots are steady; their share of the extra traffic is carried by extra visits.
        scale = (w.magnitude - 1.0) * model.expected_total(t0, t1) / np.maximum(human, 1e-12)
        events = model.draw_human(rng, t0, t1, scale)
        return events.take(_inside(events, w))

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

    jobs = ("smoke-low-request-rate",)

    def transform(self, model: Model, events: Events, rng: np.random.Generator) -> Events:
        lost = _inside(events, self.window) & (rng.random(len(events)) >= self.window.magnitude)
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

    jobs = ("smoke-status-code-rate",)
    field = "http.response.status_code"
    FLOOR = 0.001

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        self.status = int(self.window.spec.param("status", 503))
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
        hit = _inside(events, self.window) & (rng.random(len(events)) < self.convert)
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

    jobs = ("smoke-url-scanning",)
    field = "source.address"
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
        n_clients = int(w.spec.param("clients", 1))
        agent_text = w.spec.param("agent") or self.AGENTS[int(rng.integers(0, len(self.AGENTS)))]
        agent = pools.population.agent(agent_text)
        # Nikto names the test of each request in its agent: (Test:000001), (Test:000002), ...
        self.numbered = "(Test:000001)" in agent_text
        self.agent_text = agent_text
        addresses = _new_addresses(fake, n_clients, w.spec.param("address"))
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
        k, t = _schedule(rng, self.window, self.rate * len(self.clients), b0, b1)
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

    jobs = ("smoke-source-request-rate",)
    field = "source.address"

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        pop = model.pools.population
        given = self.window.spec.param("address")
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

    jobs = ("smoke-visitor-rate",)
    field = "http.request.referrer"

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        w, pools = self.window, model.pools
        url = w.spec.param("referrer") or (
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

    jobs = ("smoke-bytes-per-client", "smoke-bytes-sent-per-client")
    field = "source.address"
    EVERY_S = 8.0

    def job_note(self, job: str | None, carries: frozenset[str]) -> str | None:
        if job == "smoke-bytes-sent-per-client":
            return ("the format logs %O (bytes sent, headers included) and no body size: the window's figures "
                    "are body bytes, http.response.bytes holds a little more")
        return None

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        w, pools = self.window, model.pools
        pop = pools.population
        given = w.spec.param("address")
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
        k, t = _schedule(rng, self.window, 1 / self.EVERY_S, b0, b1)
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

    jobs = ("smoke-rare-agent",)
    field = "user_agent.original"

    def setup(self, model: Model, fake: Faker, rng: np.random.Generator) -> None:
        w, pools = self.window, model.pools
        pop = pools.population
        text = w.spec.param("agent") or (
            f"Mozilla/5.0 (compatible; {fake.word().capitalize()}{('Bot', 'Spider', 'Crawler')[int(rng.integers(0, 3))]}"
            f"/{int(rng.integers(1, 4))}.{int(rng.integers(0, 10))}; +https://{fake.domain_name()}/bot.html)")
        self.agent = pop.agent(text)
        self.values = [text]
        n = int(w.spec.param("clients", 1))
        self.used = {"agent": text, "clients": n}
        self.clients = np.array([pop.add_client(a, self.agent, HTTP11) for a in _new_addresses(fake, n, None)], np.int32)
        pop.freeze()

    def extra(self, model: Model, rng: np.random.Generator, b0: int, b1: int) -> Events | None:
        site = model.pools.site
        k, t = _schedule(rng, self.window, self.window.magnitude / 60, b0, b1)
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

    jobs = ("smoke-response-time",)
    field = "event.duration"

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
            inside = _inside(events, self.window)
            events.duration_us[inside] = (events.duration_us[inside] * self.window.magnitude).astype(np.int64)
        return events

    def expected(self, model: Model, others: float, kept: float) -> dict[str, Any]:
        return {"metric": "mean event.duration (nanoseconds) in the window",
                "baseline": round(self.usual_us * 1000), "during": round(self.usual_us * 1000 * self.window.magnitude)}


KIND_CLASSES: dict[str, type[Kind]] = {
    "spike": Spike, "dip": Dip, "error_burst": ErrorBurst, "scan": Scan, "flood": Flood,
    "crowd": Crowd, "bytes": Bytes, "new_agent": NewAgent, "latency": Latency,
}


def make_effects(windows: list[Window]) -> list[Kind]:
    return [KIND_CLASSES[w.kind](w) for w in windows]


def ground_truth(effects: list[Kind], model: Model) -> dict[str, Any]:
    """The content of anomalies.json: every window with kind, times, magnitude, targets, effect, jobs."""
    return {"anomalies": [effect.truth(model, [e for e in effects if e is not effect]) for effect in effects]}


__all__ = ["Window", "Kind", "KIND_CLASSES", "CARRIED", "JOB_NEEDS", "choose_job", "history_notes", "place_windows",
           "make_effects", "ground_truth", "iso", "window_problems", "unmeasurable"]
