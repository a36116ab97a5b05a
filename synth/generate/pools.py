"""Pools built once per run: the site map, the visitors, the bots and the referrers.

Faker makes names, addresses and words here and in the modules these pools use (addresses,
browsers) and nowhere else; the hot path only indexes these tables with numpy arrays. Every string that a log line may carry inside quotes is
escaped as Apache would escape it when the pool is built.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from synth.escape import apache_escape
from synth.generate import catalog
from synth.generate.addresses import address_in, client_addresses, network_in, service_address
from synth.generate.browsers import (
    browser_recipes,
    recipe_text_table,
    recipe_texts,
    release_days,
)
from synth.generate.draws import cdf as _cdf
from synth.generate.draws import pick, zipf_weights
from synth.generate.shape import NO_SHAPE, Shape

if TYPE_CHECKING:
    from faker import Faker  # annotations only: build_pools imports it (importing it is costly)

# The first three are the generator's own; the rest only come from a fitted method mix.
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
GET, HEAD, POST = range(3)
PROTOCOLS = ("HTTP/1.1", "HTTP/2.0")
HTTP11, HTTP2 = range(2)

SLEEP_HOURS = 7  # a visitor's night, from their own sleep hour
SLEEP_REDRAWS = 24  # picks of another visitor for a visit that fell in someone's night
FREQUENT = 5.0  # a visitor this many times as active as the average is a frequent one
MAX_SHARE = 0.002  # no visitor makes more than this share of their group's visits (or 3 visitors' worth)
OFFICE_SHARE = 0.02  # visitors behind an office's (or a proxy's) one address

# What a request target is; it decides the statuses it can get and whether it is static.
PAGE, ASSET, FEED, ROBOTS, SITEMAP, FAVICON, DOWNLOAD, MISSING, NONCANONICAL, PROBE, SEARCH = range(11)

# Body sizes of the site's own error and redirect pages: the same every time, as on a real server.
ERROR_SIZES = {301: 234, 302: 0, 303: 0, 304: 0, 400: 226, 403: 199, 404: 4721, 408: 0, 500: 5189, 502: 412, 503: 5207}
ERROR_SIZE_TABLE = np.zeros(600, np.int64)
ERROR_SIZE_TABLE[400:600] = 196  # Apache's own short error page, for statuses the site has none for
for _status, _size in ERROR_SIZES.items():
    ERROR_SIZE_TABLE[_status] = _size


# Kinds of request as ``synth profile`` classes paths (shape.REQUEST_KINDS, in that order).
STATIC_KIND, PAGE_KIND, ROBOTS_KIND, OTHER_KIND = range(4)
_STATIC_EXTENSIONS = frozenset(
    "css js mjs map png jpg jpeg gif webp avif svg ico bmp tif tiff apng cur webmanifest wasm "
    "woff woff2 ttf otf eot mp4 webm ogv mov m4v mp3 ogg oga wav flac m4a aac opus".split())
_PAGE_EXTENSIONS = frozenset("html htm xhtml shtml php asp aspx jsp jspx cfm cgi".split())


def request_kind(target: str) -> int:
    """STATIC_KIND, PAGE_KIND, ROBOTS_KIND or OTHER_KIND of a target, by the rule ``synth
    profile`` documents (its request classes), so a fitted status mix per kind lands on the
    requests the profile counts in that kind.

    >>> [request_kind(t) for t in ("/", "/a/x.CSS?v=1", "/robots.txt", "/feed.xml", "/about")]
    [1, 0, 2, 3, 1]
    """
    path = target
    for mark in "?#;":
        path = path.split(mark, 1)[0]
    path = path.lower()
    if path == "/robots.txt":
        return ROBOTS_KIND
    if not path.startswith("/"):
        return OTHER_KIND
    last = path.rsplit("/", 1)[1]
    if "." not in last:
        return PAGE_KIND
    extension = last.rsplit(".", 1)[1]
    if extension in _STATIC_EXTENSIONS:
        return STATIC_KIND
    return PAGE_KIND if extension in _PAGE_EXTENSIONS else OTHER_KIND


@dataclass(frozen=True)
class VisitShape:
    """How visits unfold: page views, where landings come from, how often a later view has no
    referrer. The defaults are the generator's own; a fitted scenario's shape keys change them."""

    view_p: float = 0.5  # page views per visit are geometric with this p (mean 1/p)
    search: float = 0.46  # share of landings from a search engine
    social: float = 0.07  # ... from a social site
    other: float = 0.07  # ... from another site
    typed: float = 0.04  # share of later page views without a referrer

    @classmethod
    def from_shape(cls, shape: Shape) -> VisitShape:
        base = cls()
        sites = shape.referrer("sites", base.social + base.other)
        internal = shape.referrer("internal", -1.0)
        return cls(view_p=base.view_p if shape.pages_per_visit is None else 1.0 / shape.pages_per_visit,
                   search=shape.referrer("search", base.search), social=sites / 2, other=sites / 2,
                   typed=base.typed if internal < 0 else 1.0 - internal)


@dataclass
class Site:
    """The site map: every request target with its kind and its size when served with a 200."""

    host: str
    targets: list[str] = field(default_factory=list)  # path[?query], escaped
    kind_list: list[int] = field(default_factory=list)
    size_list: list[int] = field(default_factory=list)
    pages: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    page_cdf: np.ndarray = field(default_factory=lambda: np.zeros(0))
    page_referrer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    page_noncanonical: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    asset_offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    asset_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    shared_assets: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    missing: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    probes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    downloads: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    robots: int = -1
    contact: int = -1  # the page with a form visitors post
    comments: int = -1  # where comment forms post
    sitemap: int = -1
    favicon: int = -1
    touch_icon: int = -1
    feed: int = -1
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    size: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # Every status the site answers with; anomalies add theirs.
    statuses: list[int] = field(default_factory=lambda: [200, *ERROR_SIZES])
    request_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    image_cdf: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def add(self, target: str, kind: int, size: int) -> int:
        self.targets.append(apache_escape(target))
        self.kind_list.append(kind)
        self.size_list.append(int(size))
        return len(self.targets) - 1

    def freeze(self) -> None:
        self.kind = np.array(self.kind_list, dtype=np.int8)
        self.size = np.array(self.size_list, dtype=np.int64)
        self.request_kind = np.array([request_kind(t) for t in self.targets], dtype=np.int8)


@dataclass
class Population:
    """Every client that appears in the log: address, usual agent, time-zone group."""

    addresses: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)  # escaped agent strings
    client_agent_list: list[int] = field(default_factory=list)
    client_agent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    client_proto_list: list[int] = field(default_factory=list)
    client_proto: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    client_languages: list[str] = field(default_factory=list)  # Accept-Language, "-" for bots
    # Human visitors, per audience group: client ids and the cdf of their activity.
    group_clients: list[np.ndarray] = field(default_factory=list)
    group_cdf: list[np.ndarray] = field(default_factory=list)
    group_offsets: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    group_shares: np.ndarray = field(default_factory=lambda: np.zeros(0))
    crawler_clients: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    crawler_cdf: np.ndarray = field(default_factory=lambda: np.zeros(0))
    feed_clients: list[tuple[int, int]] = field(default_factory=list)  # (client, period s)
    monitor_clients: list[tuple[int, int, int]] = field(default_factory=list)  # (client, target, period s)
    monitor_methods: list[int] = field(default_factory=list)
    scanner_agents: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    scanner_clients: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # Browsers follow the date of each line: a visitor's recipe (-1 for the others) gives, in
    # each release period (from the UTC midnight in period_edges_ms on), its agent of the time.
    client_recipe_list: list[int] = field(default_factory=list)
    client_recipe: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    recipe_agents: np.ndarray = field(default_factory=lambda: np.zeros((1, 0), np.int32))
    period_edges_ms: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    preview: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # link-preview bots, per client
    # Visitors who come back often (their cache holds the site), and the local hour each one's
    # night begins (-1: not a person); nobody browses around the clock.
    frequent_list: list[bool] = field(default_factory=list)
    frequent: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    sleep_list: list[int] = field(default_factory=list)
    sleep: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    _agent_ids: dict[str, int] = field(default_factory=dict)

    def agent(self, text: str) -> int:
        escaped = apache_escape(text)
        if escaped not in self._agent_ids:
            self._agent_ids[escaped] = len(self.agents)
            self.agents.append(escaped)
        return self._agent_ids[escaped]

    def add_client(self, address: str, agent_id: int, proto: int = HTTP11) -> int:
        return int(self.add_clients([address], [agent_id], [proto])[0])

    def add_clients(self, addresses: list[str], agent_ids: list[int], protos: list[int],
                    languages: list[str] | None = None) -> np.ndarray:
        """Add clients in bulk; returns their ids."""
        first = len(self.addresses)
        self.addresses.extend(addresses)
        self.client_agent_list.extend(agent_ids)
        self.client_proto_list.extend(protos)
        self.client_languages.extend(languages or ["-"] * len(addresses))
        return np.arange(first, len(self.addresses), dtype=np.int32)

    def browser_clients(self, addresses: list[str], agents: tuple[list[str], np.ndarray],
                        protos: list[int], languages: list[str] | None = None) -> np.ndarray:
        """Add visitors with the agents browser_agents drew for them; returns their ids."""
        texts, which = agents
        ids = np.array([self.agent(t) for t in texts], np.int64)
        return self.add_clients(addresses, ids[which].tolist(), protos,
                                languages or ["en-US,en;q=0.9"] * len(addresses))

    def agents_at(self, client: np.ndarray, t_ms: np.ndarray) -> np.ndarray:
        """Each request's agent: the client's own, or for a visitor its browser as of the date."""
        agent = self.client_agent[client]
        if len(self.period_edges_ms) == 0 or len(client) == 0:
            return agent
        recipe = self.client_recipe[client]
        browser = recipe >= 0
        period = np.searchsorted(self.period_edges_ms, t_ms[browser], side="right")
        agent[browser] = self.recipe_agents[period, recipe[browser]]
        return agent

    def freeze(self) -> None:
        self.client_recipe = np.array(self.client_recipe_list + [-1] * (len(self.addresses) - len(self.client_recipe_list)),
                                      dtype=np.int32)
        self.client_agent = np.array(self.client_agent_list, dtype=np.int32)
        pad = len(self.addresses)
        self.frequent = np.array(self.frequent_list + [False] * (pad - len(self.frequent_list)), bool)
        self.sleep = np.array(self.sleep_list + [-1] * (pad - len(self.sleep_list)), np.int8)
        previews = np.array([any(m in a for m in catalog.LINK_PREVIEWS) for a in self.agents], bool)
        self.preview = previews[self.client_agent] if len(self.agents) else np.zeros(len(self.client_agent), bool)
        self.client_proto = np.array(self.client_proto_list, dtype=np.int8)
        if self.group_clients:
            # All groups in one table: group g's cumulative activity runs from g to g + 1, so one
            # search picks a visitor of any group.
            self._visitors = np.concatenate(self.group_clients)
            self._visitor_cdf = np.concatenate([g + cdf for g, cdf in enumerate(self.group_cdf)])

    def pick_visitors(self, rng: np.random.Generator, groups: np.ndarray,
                      local_hours: np.ndarray | None = None) -> np.ndarray:
        """A visitor for each entry of ``groups``, drawn by activity within that audience group;
        with ``local_hours`` (the visit's hour on the group's clock), one who is awake then."""
        index = np.searchsorted(self._visitor_cdf, groups + rng.random(len(groups)), side="right")
        chosen = self._visitors[np.minimum(index, len(self._visitors) - 1)]
        if local_hours is None or len(self.sleep) == 0:
            return chosen
        for _ in range(SLEEP_REDRAWS):
            night = self.sleep[chosen]
            asleep = np.flatnonzero((night >= 0) & ((local_hours - night) % 24 < SLEEP_HOURS))
            if len(asleep) == 0:
                break
            index = np.searchsorted(self._visitor_cdf, groups[asleep] + rng.random(len(asleep)), side="right")
            chosen[asleep] = self._visitors[np.minimum(index, len(self._visitors) - 1)]
        return chosen


@dataclass
class Referrers:
    """Referrer strings; id 0 is ``-`` (none). Pages link to each other through their full URL."""

    values: list[str] = field(default_factory=lambda: ["-"])
    search_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    search_cdf: np.ndarray = field(default_factory=lambda: np.zeros(0))
    social_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    external_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def add(self, url: str) -> int:
        self.values.append(apache_escape(url))
        return len(self.values) - 1


@dataclass
class Pools:
    site: Site
    population: Population
    referrers: Referrers
    versions: dict[str, int]
    visits: VisitShape = field(default_factory=VisitShape)


def _lognormal_sizes(rng: np.random.Generator, n: int, median: float, sigma: float,
                     low: int, high: int) -> np.ndarray:
    return np.clip(rng.lognormal(np.log(median), sigma, n), low, high).astype(np.int64)


def build_site(fake: Faker, rng: np.random.Generator, *, n_pages: int, when: dt.date,
               referrers: Referrers, shape: Shape = NO_SHAPE) -> Site:
    """A small site: sections of pages, each page with its own images, shared CSS/JS/fonts,
    feeds, robots.txt, a favicon, downloads, and the removed pages that still get links."""
    site = Site(host="www." + fake.domain_name())
    base = f"https://{site.host}"
    version = fake.hexify("^^^^^^^^")
    # Sizes of a build's files are whatever the build made: taken from its hash, never round.
    digest = int(version, 16)
    shared = [
        (f"/static/css/main.{version}.css", 24_000 + 7 * (digest % 6_007)),
        (f"/static/js/app.{version}.js", 96_000 + 13 * ((digest >> 12) % 20_011)),
    ]  # fonts come from a font CDN, not from this server
    site.shared_assets = np.array([site.add(path, ASSET, size) for path, size in shared], np.int32)
    site.robots = site.add("/robots.txt", ROBOTS, 412)
    site.sitemap = site.add("/sitemap.xml", SITEMAP, int(40 * n_pages + 900))
    site.favicon = site.add("/favicon.ico", FAVICON, 15_086)
    site.touch_icon = site.add("/apple-touch-icon.png", MISSING, 0)
    site.feed = site.add("/feed/", FEED, 18_000 + 11 * ((digest >> 20) % 6_133))

    # Pages: the home page, section indexes, then content pages in each section.
    paths: list[str] = ["/", "/about/", "/contact/", "/search/"]
    section_names = [name for _, name in catalog.SECTIONS]
    section_cdf = _cdf(np.array([share for share, _ in catalog.SECTIONS]))
    paths += [f"/{name}/" for name in section_names if name != "search"]
    seen = set(paths)
    while len(paths) < n_pages:
        section = section_names[int(np.searchsorted(section_cdf, rng.random(), side="right"))]
        if section == "blog":
            posted = when - dt.timedelta(days=int(rng.integers(0, 4 * 365)))
            path = f"/blog/{posted.year}/{posted.month:02d}/{fake.slug()}/"
        elif section == "tag":
            path = f"/tag/{fake.word()}/"
        elif section == "search":  # result pages of the site's search box, one per query
            words = fake.words(nb=int(rng.integers(1, 3)))
            path = f"/search/?q={'+'.join(words)}"
        else:
            path = f"/{section}/{fake.slug()}/"
        if path not in seen:
            seen.add(path)
            paths.append(path)
    paths = paths[:n_pages]
    page_size = shape.size("page")
    if page_size is None:
        page_sizes = _lognormal_sizes(rng, len(paths), 14_000, 0.45, 4_000, 120_000)
    else:
        page_sizes = _fitted_sizes(rng, len(paths), *page_size)
    if shape.paths is not None:
        paths, page_sizes, kept_weights = _kept_pages(shape.paths)
    site.pages = np.array([site.add(p, SEARCH if p.startswith("/search/?") else PAGE, s)
                           for p, s in zip(paths, page_sizes)], np.int32)
    site.contact = int(site.pages[min(2, len(site.pages) - 1)])
    site.comments = site.add("/comments/", PAGE, 0)
    # Popularity: the home page first, then a Zipf law over a shuffled catalogue.
    popularity = zipf_weights(len(paths), 1.15 if shape.popularity is None else shape.popularity)
    order = np.concatenate([[0], 1 + rng.permutation(len(paths) - 1)])
    site.page_cdf = _cdf(popularity[np.argsort(order)] if shape.paths is None else kept_weights)
    site.page_referrer = np.array([referrers.add(base + p) for p in paths], np.int32)
    # Links without the trailing slash get a 301 to the canonical page.
    site.page_noncanonical = np.array(
        [site.add(p.rstrip("/"), NONCANONICAL, ERROR_SIZES[301]) if p.endswith("/") and p != "/" else -1
         for p in paths], np.int32)

    # Images of each page: a few, lazily loaded, mostly small.
    images = 1.75 if shape.assets_per_page is None else shape.assets_per_page
    counts = np.where([p.startswith("/search/") for p in paths], 0,
                      np.minimum(rng.poisson(images, len(paths)), 10 if shape.assets_per_page is None else 40))
    offsets = np.zeros(len(paths) + 1, np.int64)
    offsets[1:] = np.cumsum(counts)
    static_size = shape.size("static")
    if static_size is None:
        image_sizes = _lognormal_sizes(rng, int(offsets[-1]), 18_000, 1.0, 900, 900_000)
    else:
        image_sizes = _fitted_sizes(rng, int(offsets[-1]), *static_size)
    if shape.paths is not None:
        ids = _kept_assets(site, rng, shape.paths, int(offsets[-1]))
    else:
        ids = []
        k = 0
        for p, count in zip(paths, counts):
            stem = p.strip("/").replace("/", "-") or "home"
            for j in range(int(count)):
                ext = ("webp", "jpg", "png", "svg")[int(rng.integers(0, 4))]
                ids.append(site.add(f"/media/{stem}-{j + 1}.{ext}", ASSET, int(image_sizes[k])))
                k += 1
    site.asset_offsets = offsets
    site.asset_ids = np.array(ids, np.int32)
    if len(site.asset_ids):  # how often each image is asked for: as often as its page
        site.image_cdf = _cdf(np.repeat(np.diff(site.page_cdf, prepend=0.0), counts) + 1e-12)

    site.downloads = np.array([
        site.add(f"/downloads/{fake.slug()}.{ext}", DOWNLOAD, int(size))
        for ext, size in zip(("pdf", "pdf", "zip", "tar.gz"),
                             _lognormal_sizes(rng, 4, 2_500_000, 0.8, 200_000, 50_000_000))], np.int32)
    site.missing = np.array([site.add(f"/blog/{when.year - 5}/{int(rng.integers(1, 13)):02d}/{fake.slug()}/",
                                      MISSING, 0) for _ in range(max(8, n_pages // 25))], np.int32)
    site.probes = np.array([site.add(p, PROBE, 0) for p in catalog.SCANNER_PATHS], np.int32)
    _fit_fixed_sizes(site, rng, shape)
    site.freeze()
    return site


def _fitted_sizes(rng: np.random.Generator, n: int, median: float, spread: float) -> np.ndarray:
    """Sizes of a fitted kind of path: lognormal, cut where a real server's would hardly go."""
    return _lognormal_sizes(rng, n, median, spread, max(1, int(median / 60)), max(2, int(median * 400)))


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """The standard normal's quantile function (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
         -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
         -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
         4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
    p = np.clip(np.asarray(p, np.float64), 1e-12, 1 - 1e-12)
    out = np.empty_like(p)
    low, high = p < 0.02425, p > 1 - 0.02425
    mid = ~low & ~high
    q = p[mid] - 0.5
    r = q * q
    out[mid] = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    for tail, sign in ((low, 1.0), (high, -1.0)):
        t = np.sqrt(-2 * np.log(p[tail] if sign > 0 else 1 - p[tail]))
        out[tail] = sign * ((((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5])
                            / ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1))
    return out


def stratified_sizes(rng: np.random.Generator, mass: np.ndarray, median: float, spread: float,
                     low_spread: float | None = None) -> np.ndarray:
    """Lognormal sizes for targets requested in proportion to ``mass``, laid so that the sizes of
    the *requests* follow the lognormal whichever targets are popular: in turn, each target takes
    the quantile at the middle of its share of the cumulative mass, in a random order (so that
    what asks for targets evenly, a crawler, sees the same law). ``low_spread`` is the sigma
    below the median (default ``spread``): a law whose two sides differ."""
    n = len(mass)
    if n == 0:
        return np.zeros(0, np.int64)
    m = np.asarray(mass, np.float64)
    m = m / m.sum() if m.sum() > 0 else np.full(n, 1 / n)
    order = rng.permutation(n)
    share = m[order]
    middle = np.cumsum(share) - share / 2
    sizes = np.empty(n, np.int64)
    z = normal_quantile(middle)
    sigma = np.where(z < 0, spread if low_spread is None else low_spread, spread)
    sizes[order] = np.maximum(1, np.round(median * np.exp(sigma * z))).astype(np.int64)
    return sizes


def _fit_fixed_sizes(site: Site, rng: np.random.Generator, shape: Shape) -> None:
    """Fitted sizes. Pages and images take stratified sizes (their requests' sizes follow the
    fitted law); the shared CSS, the JS and the favicon take the sizes of the log's most requested
    static files (``shape.shared_sizes``); the feed and the sitemap are drawn from the fitted size
    of other paths. Drawn last, so nothing else of the site moves."""
    page_mass = np.diff(site.page_cdf, prepend=0.0)
    page_size = shape.size("page")
    if page_size is not None and shape.paths is None:
        # With a home size of its own, the law is laid over the other pages (as fit measures it).
        rest = slice(1, None) if shape.home_size is not None else slice(None)
        for i, size in zip(site.pages[rest].tolist(), stratified_sizes(
                rng, page_mass[rest], *page_size, shape.low_spread("page")).tolist()):
            site.size_list[i] = size
    static_size = shape.size("static")
    if static_size is not None and shape.paths is None and len(site.asset_ids):
        counts = np.diff(site.asset_offsets)
        image_mass = np.repeat(page_mass, counts)
        for i, size in zip(site.asset_ids.tolist(), stratified_sizes(rng, image_mass, *static_size,
                                                                                 shape.low_spread("static")).tolist()):
            site.size_list[i] = size
    for i, size in zip([*site.shared_assets.tolist(), site.favicon], shape.shared_sizes or ()):
        site.size_list[i] = int(size)
    fitted = shape.size("other")
    if fitted is not None:
        for i, size in zip((site.feed, site.sitemap), _fitted_sizes(rng, 2, *fitted)):
            site.size_list[i] = int(size)
    if shape.home_size is not None and shape.paths is None:
        site.size_list[int(site.pages[0])] = shape.home_size
    if shape.feed_size is not None:
        site.size_list[site.feed] = shape.feed_size


def _kept_pages(kept: tuple[tuple[str, int, float], ...]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The kept paths that are pages, busiest first: paths, sizes and weights."""
    pages = sorted((p for p in kept if request_kind(p[0]) == PAGE_KIND), key=lambda p: -p[2])
    if not pages:
        pages = [("/", 0, 1.0)]
    return ([p for p, _, _ in pages], np.array([s for _, s, _ in pages], np.int64),
            np.array([w for _, _, w in pages], np.float64))


def _kept_assets(site: Site, rng: np.random.Generator, kept: tuple[tuple[str, int, float], ...], n: int) -> list[int]:
    """Pages embed kept static paths, drawn by how often each was asked for; other kept paths
    (feeds, downloads) join the site as downloads."""
    statics = [p for p in kept if request_kind(p[0]) == STATIC_KIND]
    ids = [site.add(p, ASSET, s) for p, s, _ in statics]
    for path, size, _ in kept:
        if request_kind(path) == OTHER_KIND:
            site.add(path, DOWNLOAD, size)
    if not statics:
        return [int(site.shared_assets[0])] * n
    chosen = pick(rng, _cdf(np.array([w for _, _, w in statics])), n)
    return [ids[i] for i in chosen.tolist()]


def build_population(fake: Faker, rng: np.random.Generator, *, n_clients: int, ipv6_share: float,
                     versions: dict[str, int], audience: tuple[tuple[int, float], ...] = catalog.AUDIENCE,
                     shape: Shape = NO_SHAPE, first: dt.date | None = None) -> Population:
    """Visitors (each with one address and a browser, in a time-zone group, Zipf-active) and bots.

    A visitor's browser is a recipe (family, how far behind) whose agent is that of each line's
    date: from ``first`` (the run's first day) on, a release changes the agents of the lines
    after it, so no line carries a version released after its date.
    """
    pop = Population()
    offsets = np.array([o for o, _ in audience], np.int64)
    shares = np.array([s for _, s in audience], np.float64)
    pop.group_offsets = offsets * 60
    pop.group_shares = shares / shares.sum()
    groups = rng.choice(len(offsets), size=n_clients, p=pop.group_shares)
    recipes, which = browser_recipes(rng, n_clients, shape.mobile_share, shape)
    last = dt.date.fromordinal(versions["day"])
    days = release_days(first or last, last)
    per_period = [recipe_text_table(recipes, catalog.browser_versions(day)) for day in days]
    agents = (recipe_texts(recipes, catalog.browser_versions(days[-1])), which)
    v6 = rng.random(n_clients) < ipv6_share
    # Browsers speak HTTP/2 to an https site; a few visitors sit behind proxies that do not.
    proto = np.where(rng.random(n_clients) < 0.85, HTTP2, HTTP11)
    addresses = client_addresses(fake, rng, offsets[groups], v6)
    # Activity: a Zipf law over visitors in random order, so busy visitors sit in every group;
    # capped, since one person is one person: the busiest clients of a log are bots and offices.
    slope = 0.9 if shape.client_slope is None else shape.client_slope
    activity = zipf_weights(n_clients, slope)[rng.permutation(n_clients)]
    activity = np.minimum(activity, activity.sum() * max(MAX_SHARE, 3.0 / n_clients))
    # Offices and proxies: a few addresses, each shared by many people with their own browsers.
    # Members are dealt to the offices by activity, busiest first and back again, so that
    # offices are alike in size: which office is the busiest address is not left to one draw.
    offices = np.flatnonzero((rng.random(n_clients) < OFFICE_SHARE) & ~v6)
    if len(offices):
        shared_by = offices[rng.integers(0, len(offices), max(1, len(offices) // 25))]
        m = len(shared_by)
        by_activity = offices[np.argsort(-activity[offices], kind="stable")]
        rank = np.arange(len(by_activity))
        deal = np.where((rank // m) % 2 == 0, rank % m, m - 1 - rank % m)
        office_address = [addresses[i] for i in shared_by.tolist()]
        for member, office in zip(by_activity.tolist(), deal.tolist()):
            addresses[member] = office_address[office]
    first_id = len(pop.addresses)
    languages = [catalog.LANGUAGES.get(int(m), "en-US,en;q=0.9") for m in offsets[groups].tolist()]
    pop.browser_clients(addresses, agents, proto.tolist(), languages)
    pop.client_recipe_list = [-1] * first_id + which.tolist()
    pop.recipe_agents = np.array([np.array([pop.agent(t) for t in texts], np.int64)[index] if len(texts) else index
                                  for texts, index in per_period], np.int32).reshape(len(days), len(recipes))
    pop.period_edges_ms = np.array([(day - dt.date(1970, 1, 1)).days * 86_400_000 for day in days[1:]], np.int64)
    pop.frequent_list = [False] * first_id + (activity >= FREQUENT * activity.mean()).tolist()
    # Nights: most sleep from 22:00 to 02:00 on; one in seven keeps other hours (shift work).
    owl = rng.random(n_clients) < 1 / 7
    pop.sleep_list = [-1] * first_id + np.where(owl, rng.integers(0, 24, n_clients),
                                             (22 + rng.integers(0, 5, n_clients)) % 24).tolist()
    for g in range(len(offsets)):
        members = np.flatnonzero(groups == g)
        if members.size == 0:  # a tiny population may leave a group empty: give it one visitor
            members = np.array([int(rng.integers(0, n_clients))])
        pop.group_clients.append((first_id + members).astype(np.int32))
        pop.group_cdf.append(_cdf(activity[members]))

    crawler_ids, crawler_weights = [], []
    since = first or last
    # The shape's crawler_addresses go to the crawlers by their share, busiest first.
    by_share = sorted(range(len(catalog.CRAWLERS)), key=lambda i: -catalog.CRAWLERS[i][0])
    fitted_addresses = dict(zip(by_share, shape.crawler_addresses or ()))
    for index, (share, template, networks) in enumerate(catalog.CRAWLERS):
        text = catalog.agent_of(template, since)
        if text is None:
            continue
        agent_id = pop.agent(text)
        n_addresses = 1 + int(rng.integers(0, 5)) // 2  # a small site sees a crawler from one to three addresses; drawn with or without the key, so later draws stay
        n_addresses = fitted_addresses.get(index, n_addresses)
        for k in range(n_addresses):
            network = networks[k % len(networks)]
            crawler_ids.append(pop.add_client(address_in(network, fake), agent_id))
            crawler_weights.append(share / n_addresses)
    pop.crawler_clients = np.array(crawler_ids, np.int32)
    pop.crawler_cdf = _cdf(np.array(crawler_weights))

    for template, period_minutes in catalog.FEED_READERS:
        agent = catalog.agent_of(template.format(n=int(rng.integers(2, 60)), id=int(rng.integers(1000, 9_999_999))), since)
        address = service_address(agent or "", fake)
        if agent is not None:
            pop.feed_clients.append((pop.add_client(address, pop.agent(agent)), period_minutes * 60))
    scanners = [a for a in (catalog.agent_of(t, since) for t in catalog.SCANNER_AGENTS) if a is not None]
    pop.scanner_agents = np.array([pop.agent(a) for a in scanners], np.int32)
    pop.scanner_clients = np.array([pop.add_client(network_in(catalog.CLOUD_NETWORKS, fake), int(pop.scanner_agents[0]))
                                    for _ in range(200)], np.int32)
    pop.freeze()
    return pop


def build_referrers(fake: Faker, rng: np.random.Generator) -> Referrers:
    refs = Referrers()
    refs.search_ids = np.array([refs.add(url) for _, url in catalog.SEARCH_ENGINES], np.int32)
    refs.search_cdf = _cdf(np.array([share for share, _ in catalog.SEARCH_ENGINES]))
    refs.social_ids = np.array([refs.add(url) for url in catalog.SOCIAL_SITES], np.int32)
    refs.external_ids = np.array(
        [refs.add(f"https://{fake.domain_name()}/{fake.uri_path(deep=int(rng.integers(1, 3)))}/")
         for _ in range(60)], np.int32)
    return refs


def default_clients(rate: float, days: float) -> int:
    """A visitor population that fits the traffic: about one visitor per six visits in the range."""
    visits = rate * days * 86400 / 4.0
    return int(np.clip(visits / 6.0, 200, 60_000))


def build_pools(rng: np.random.Generator, *, n_clients: int, ipv6_share: float,
                when: dt.date, n_pages: int = 600,
                audience: tuple[tuple[int, float], ...] | None = None, shape: Shape = NO_SHAPE,
                first: dt.date | None = None, bot_rate: float | None = None) -> Pools:
    """Every pool of the run, from one generator: the same seed gives the same site and visitors.

    ``bot_rate`` (bot requests per second) sizes the feed readers and monitors to the shape's
    ``bots`` shares; without that key they are synth's own few."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(int(rng.integers(2**63)))
    versions = catalog.browser_versions(when)
    referrers = build_referrers(fake, rng)
    site = build_site(fake, rng, n_pages=n_pages, when=when, referrers=referrers, shape=shape)
    population = build_population(fake, rng, n_clients=n_clients, ipv6_share=ipv6_share, versions=versions,
                                  audience=audience or catalog.AUDIENCE, shape=shape, first=first)
    _add_monitors(population, site, fake, first or when)
    if shape.bots is not None and bot_rate is not None:
        _fit_periodic(population, fake, dict(shape.bots), bot_rate)
    for mix in dict(shape.statuses or ()).values():
        site.statuses.extend(code for code, _ in mix if code not in site.statuses)
    return Pools(site, population, referrers, versions, VisitShape.from_shape(shape))


def _add_monitors(pop: Population, site: Site, fake: Faker, since: dt.date) -> None:
    # Monitors all watch the home page, the one URL every site has.
    home = int(site.pages[0])
    for template, method, period in catalog.MONITORS:
        agent = catalog.agent_of(template, since)
        if agent is None:
            continue
        client = pop.add_client(service_address(agent, fake), pop.agent(agent))
        pop.monitor_clients.append((client, home, period))
        pop.monitor_methods.append(METHODS.index(method))
    pop.freeze()


MAX_COPIES = 500  # of each feed reader or monitor; past that their periods shorten instead


def _fit_periodic(pop: Population, fake: Faker, bots: dict[str, float], bot_rate: float) -> None:
    """Feed readers and monitors at the rates of their ``bots`` shares: each of synth's readers
    (monitors) as many times over as the rate asks, each copy from an address of its own, and
    their periods stretched or shortened by what rounding leaves (a quiet site's one reader polls
    less often). A share of 0 has none."""
    for kind in ("feed", "monitor"):
        target = bots.get(kind, 0.0) * bot_rate
        if kind == "feed":
            schedule = [(c, -1, p) for c, p in pop.feed_clients]
            methods = [-1] * len(schedule)
        else:
            schedule, methods = list(pop.monitor_clients), list(pop.monitor_methods)
        base = sum(1 / p for _, _, p in schedule)
        out: list[tuple[int, int, int]] = []
        out_methods: list[int] = []
        if target > 0 and base > 0:
            copies = int(min(max(1, round(target / base)), MAX_COPIES))
            scale = copies * base / target
            for copy in range(copies):
                for (client, where, period), method in zip(schedule, methods):
                    if copy:
                        agent = int(pop.client_agent_list[client])
                        client = pop.add_client(service_address(pop.agents[agent], fake), agent)
                    out.append((client, where, max(1, int(round(period * scale)))))
                    out_methods.append(method)
        if kind == "feed":
            pop.feed_clients = [(c, p) for c, _, p in out]
        else:
            pop.monitor_clients, pop.monitor_methods = out, out_methods
    pop.freeze()
