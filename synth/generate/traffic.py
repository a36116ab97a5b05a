"""Who asks for what, and when: visits, crawls, feed polls, monitor probes and scans as column arrays.

Every function here takes the run's pools, a numpy Generator and the start times of a batch
of sessions, and returns all their requests at once as ``Events`` (unsorted). A session never
lasts longer than ``SESSION_CAP_MS``, which is what lets a time shard be generated alone: it
only has to replay the sessions that began within that cap before it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from synth.generate.draws import pick as _pick
from synth.generate.pools import (
    DOWNLOAD,
    ERROR_SIZE_TABLE,
    GET,
    HEAD,
    HTTP11,
    METHODS,
    MISSING,
    NONCANONICAL,
    PAGE,
    PAGE_KIND,
    POST,
    PROBE,
    SEARCH,
    STATIC_KIND,
    Pools,
    Site,
)
from synth.generate.shape import REQUEST_KINDS, Shape

SESSION_CAP_MS = 30 * 60 * 1000


@dataclass
class Events:
    """Requests as parallel column arrays; one row per log line."""

    t_ms: np.ndarray  # int64, epoch milliseconds
    client: np.ndarray  # int32, index into Population.addresses
    agent: np.ndarray  # int32, index into Population.agents
    target: np.ndarray  # int32, index into Site.targets
    method: np.ndarray  # int8, index into METHODS
    proto: np.ndarray  # int8, index into PROTOCOLS
    status: np.ndarray  # int16
    referrer: np.ndarray  # int32, index into Referrers.values (0 is "-")
    # Microseconds from request to last byte: drawn only when the line format writes them.
    duration_us: np.ndarray | None = None

    DTYPES = {"t_ms": np.int64, "client": np.int32, "agent": np.int32, "target": np.int32,
              "method": np.int8, "proto": np.int8, "status": np.int16, "referrer": np.int32}

    def __len__(self) -> int:
        return len(self.t_ms)

    @classmethod
    def empty(cls) -> Events:
        return cls(**{name: np.zeros(0, dtype) for name, dtype in cls.DTYPES.items()})

    @classmethod
    def build(cls, t_ms: np.ndarray, **columns: np.ndarray | int) -> Events:
        n = len(t_ms)
        columns["t_ms"] = t_ms
        return cls(**{name: column(columns[name], n, dtype) for name, dtype in cls.DTYPES.items()})

    @classmethod
    def concat(cls, parts: list[Events], *, use_up: bool = False) -> Events:
        """The parts one after another. With ``use_up`` the parts are spent: each column of
        theirs is let go once it is copied, so a large draw is never held twice over."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        columns: dict[str, Any] = {f.name: joined_column(parts, f.name, use_up) for f in fields(cls)}
        return cls(**columns)

    def take(self, index: np.ndarray | slice) -> Events:
        # Positions: np.take gathers them faster than indexing does.
        positions = isinstance(index, np.ndarray) and index.dtype.kind in "iu"
        columns: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            columns[f.name] = None if value is None else value.take(index) if positions else value[index]
        return Events(**columns)


def joined_column(parts: list[Events], name: str, use_up: bool = False) -> np.ndarray | None:
    """One column of the parts, one after another (None where they have none); with ``use_up``
    each part's column is let go once copied."""
    if getattr(parts[0], name) is None:
        return None
    joined = np.concatenate([getattr(part, name) for part in parts])
    if use_up:
        for part in parts:
            setattr(part, name, None)
    return joined


def column(value: np.ndarray | int, n: int, dtype: type) -> np.ndarray:
    """A writable column of ``n`` values: a scalar repeated, or an array as ``dtype``."""
    return np.full(n, value, dtype) if np.ndim(value) == 0 else np.asarray(value, dtype)


def _segment_arange(counts: np.ndarray) -> np.ndarray:
    """0..n-1 for each group of ``counts``: [2, 3] -> [0, 1, 0, 1, 2]."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def body_bytes(site_size: np.ndarray, target: np.ndarray, method: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Body bytes of responses: a 200 returns its target's fixed size, any other status that
    status's fixed page, a HEAD nothing. A pure function of the request and status, which is
    what lets a line's request, status and size be formatted once per distinct response."""
    size = np.where(status == 200, site_size[target], ERROR_SIZE_TABLE[status])
    return np.where(method == HEAD, 0, size)


def draw_visits(rng: np.random.Generator, pools: Pools, start_ms: np.ndarray, clients: np.ndarray,
                *, returning_share: float = 0.45, landing: np.ndarray | None = None,
                landing_referrer: np.ndarray | None = None) -> Events:
    """Human visits: a landing page, its assets within a second or two, more pages after think times.

    New visitors fetch every asset of their first page (and the favicon); returning visitors
    revalidate some cached assets (304) and skip the rest; later pages pull only their own images.
    """
    site, refs, shape = pools.site, pools.referrers, pools.visits
    n = len(start_ms)
    if n == 0:
        return Events.empty()
    # A frequent visitor's browser has the site in its cache: every visit of theirs is a return.
    # They are part of the returning share, not added to it: the others return less often, so
    # that assets keep their share of the requests.
    frequent = pools.population.frequent[clients] if len(pools.population.frequent) else np.zeros(n, bool)
    others = max(0.0, returning_share - float(frequent.mean())) / max(1e-9, 1.0 - float(frequent.mean()))
    returning = frequent | (rng.random(n) < others)
    views = np.minimum(rng.geometric(shape.view_p, n), 25)
    session = np.repeat(np.arange(n), views)
    pos = _segment_arange(views)
    n_views = len(session)

    page = _pick(rng, site.page_cdf, n_views)  # index into site.pages
    if landing is not None:
        page[pos == 0] = landing
    gaps = np.clip(rng.lognormal(np.log(30_000), 1.0, n_views), 2_000, 600_000).astype(np.int64)
    gaps[pos == 0] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[np.cumsum(views) - views], views)
    keep = elapsed <= SESSION_CAP_MS - 120_000
    session, pos, page, elapsed = session[keep], pos[keep], page[keep], elapsed[keep]
    t_view = start_ms[session] + elapsed
    client = clients[session]
    is_new = ~returning[session]
    first = pos == 0

    # Where each page view came from: the previous page, or for landings search, social, other sites.
    referrer = np.empty(len(page), np.int32)
    prev_page = np.roll(page, 1)
    referrer[~first] = site.page_referrer[prev_page[~first]]
    typed = (~first) & (rng.random(len(page)) < shape.typed)
    referrer[typed] = 0
    u = rng.random(int(first.sum()))
    came_from = np.zeros(len(u), np.int32)
    to_social, to_other = shape.search + shape.social, shape.search + shape.social + shape.other
    search = u < shape.search
    came_from[search] = refs.search_ids[_pick(rng, refs.search_cdf, int(search.sum()))]
    social = (u >= shape.search) & (u < to_social)
    came_from[social] = refs.social_ids[rng.integers(0, len(refs.social_ids), int(social.sum()))]
    other = (u >= to_social) & (u < to_other)
    came_from[other] = refs.external_ids[rng.integers(0, len(refs.external_ids), int(other.sum()))]
    referrer[first] = came_from if landing_referrer is None else landing_referrer

    target = site.pages[page].copy()
    status = np.full(len(page), 200, np.int16)
    r = rng.random(len(page))
    broken = (~first) & (r < 0.012)
    target[broken] = site.missing[rng.integers(0, len(site.missing), int(broken.sum()))]
    status[broken] = 404
    failed = (r >= 0.012) & (r < 0.0135)
    status[failed] = np.array([500, 502, 503], np.int16)[rng.integers(0, 3, int(failed.sum()))]
    revalidated = first & ~is_new & (r >= 0.5) & (r < 0.56)
    status[revalidated] = 304
    served = (status == 200) | (status == 304)

    # A landing through a link without the trailing slash: first the 301, then the page.
    # The page (and all that follows) moves a little later, so nothing precedes the session start.
    noncanonical = site.page_noncanonical[page]
    redirected = first & (noncanonical >= 0) & (rng.random(len(page)) < 0.05)
    redirects = None
    if redirected.any():
        redirects = dict(t_ms=t_view[redirected].copy(), client=client[redirected],
                         target=noncanonical[redirected], status=np.full(int(redirected.sum()), 301, np.int16),
                         referrer=referrer[redirected])
        delay = np.zeros(n, np.int64)
        delay[session[redirected]] = rng.integers(80, 250, int(redirected.sum()))
        t_view = t_view + delay[session]
    parts = [dict(t_ms=t_view, client=client, target=target, status=status, referrer=referrer)]
    if redirects is not None:
        parts.append(redirects)

    # Shared CSS/JS/fonts on the first page: all of them for new visitors, some 304s for the rest.
    n_shared = len(site.shared_assets)
    landing_views = np.flatnonzero(first & served)
    view = np.repeat(landing_views, n_shared)
    shared = np.tile(site.shared_assets, len(landing_views))
    new_view = is_new[view]
    roll = rng.random(len(view))
    # Hashed static files are cached for long; a returning browser rarely even revalidates them.
    fetch = new_view | (roll < 0.1)
    view, shared, new_view = view[fetch], shared[fetch], new_view[fetch]
    parts.append(dict(t_ms=t_view[view] + rng.integers(40, 900, len(view)), client=client[view],
                      target=shared, status=np.where(new_view, 200, 304).astype(np.int16),
                      referrer=site.page_referrer[page[view]]))
    del view, shared, new_view, roll, fetch  # only the part holds them now: finish_parts lets it go

    # Each page's own images: all on a new visitor's landing, most on later pages, some revalidated.
    served_views = np.flatnonzero(served)
    p = page[served_views]
    counts = site.asset_offsets[p + 1] - site.asset_offsets[p]
    view = np.repeat(served_views, counts)
    image = site.asset_ids[np.repeat(site.asset_offsets[p], counts) + _segment_arange(counts)]
    roll = rng.random(len(view))
    must = first[view] & is_new[view]
    fetch = must | (roll < 0.68)
    status_img = np.where(must | (roll < 0.6), 200, 304).astype(np.int16)
    view, image, status_img = view[fetch], image[fetch], status_img[fetch]
    parts.append(dict(t_ms=t_view[view] + rng.integers(150, 2000, len(view)), client=client[view],
                      target=image, status=status_img, referrer=site.page_referrer[page[view]]))
    del view, image, status_img, roll, must, fetch

    # New visitors' browsers ask for the favicon; some also for an apple-touch-icon the site lacks.
    new_landing = np.flatnonzero(first & is_new & served)
    parts.append(dict(t_ms=t_view[new_landing] + rng.integers(300, 2500, len(new_landing)),
                      client=client[new_landing], target=np.full(len(new_landing), site.favicon, np.int32),
                      status=np.full(len(new_landing), 200, np.int16), referrer=0))
    touch = new_landing[rng.random(len(new_landing)) < 0.12]
    parts.append(dict(t_ms=t_view[touch] + rng.integers(300, 2500, len(touch)), client=client[touch],
                      target=np.full(len(touch), site.touch_icon, np.int32),
                      status=np.full(len(touch), 404, np.int16), referrer=0))

    # A few readers post a comment (or the contact form) a minute or so after reaching a page;
    # the site answers 303, back to the page.
    posted = np.flatnonzero((status == 200) & ~first & (rng.random(len(target)) < 0.01))
    form = np.where(target[posted] == site.contact, site.contact, site.comments).astype(np.int32)
    parts.append(dict(t_ms=t_view[posted] + rng.integers(15_000, 90_000, len(posted)), client=client[posted],
                      target=form, method=POST, status=np.full(len(posted), 303, np.int16),
                      referrer=site.page_referrer[page[posted]]))

    return finish_parts(pools, parts, method=GET)


def finish(pools: Pools, part: dict, *, method: int, proto: np.ndarray | int | None = None) -> Events:
    """Complete a batch of requests with the client's agent and protocol."""
    return finish_parts(pools, [part], method=method, proto=proto)


def finish_parts(pools: Pools, parts: list[dict], *, method: int, proto: np.ndarray | int | None = None) -> Events:
    """Complete batches of requests with their clients' agents and protocols, as one batch in
    the order given: each column is filled once, rather than built per batch and joined."""
    sizes = [len(part["client"]) for part in parts]
    n = sum(sizes)

    def joined(name: str, default: Any, dtype: type) -> np.ndarray:
        # Each batch's column is let go once copied: a spike's block holds a quarter of a
        # million requests, and the batches and the joined columns need not all be held at once.
        if len(parts) == 1:
            return column(parts[0].pop(name, default), n, dtype)
        out: np.ndarray = np.empty(n, dtype)
        at = 0
        for part, size in zip(parts, sizes):
            out[at:at + size] = part.pop(name, default)
            at += size
        return out

    t_ms = joined("t_ms", None, np.int64)
    client = joined("client", None, np.int32)
    given = ["agent" in part for part in parts]
    assert all(given) or not any(given), "agents are given for every batch or for none"
    agent = joined("agent", None, np.int32) if all(given) else pools.population.agents_at(client, t_ms)
    return Events(t_ms=t_ms, client=client, agent=np.asarray(agent, np.int32), target=joined("target", None, np.int32),
                  method=joined("method", method, np.int8),
                  proto=pools.population.client_proto[client] if proto is None else column(proto, n, np.int8),
                  status=joined("status", None, np.int16), referrer=joined("referrer", 0, np.int32))


def draw_crawls(rng: np.random.Generator, pools: Pools, start_ms: np.ndarray) -> Events:
    """Search-engine crawls: robots.txt first, then pages at a steady pace, no assets, no referrer.

    Crawlers visit the whole site rather than what is popular, and still request pages that
    were removed (404) or moved (301) long ago.
    """
    site, pop = pools.site, pools.population
    n = len(start_ms)
    if n == 0:
        return Events.empty()
    crawler = pop.crawler_clients[_pick(rng, pop.crawler_cdf, n)]
    pace = rng.uniform(8_000, 45_000, n)
    pages = np.minimum(rng.geometric(1 / 8, n), (SESSION_CAP_MS // pace).astype(np.int64))
    robots_first = rng.random(n) < 0.9
    count = pages + robots_first
    crawl = np.repeat(np.arange(n), count)
    step = _segment_arange(count)
    t = start_ms[crawl] + (step * pace[crawl]).astype(np.int64) + rng.integers(0, 400, len(crawl))
    target = site.pages[rng.integers(0, len(site.pages), len(crawl))]
    status = np.full(len(crawl), 200, np.int16)
    r = rng.random(len(crawl))
    gone = r < 0.04
    target[gone] = site.missing[rng.integers(0, len(site.missing), int(gone.sum()))]
    status[gone] = 404
    moved = (r >= 0.04) & (r < 0.07)
    old_links = site.page_noncanonical[site.page_noncanonical >= 0]
    moved_targets = old_links[rng.integers(0, len(old_links), int(moved.sum()))]
    target[moved] = moved_targets
    status[moved] = 301
    extra = (r >= 0.07) & (r < 0.10)
    target[extra] = np.array([site.sitemap, site.feed, site.favicon], np.int32)[rng.integers(0, 3, int(extra.sum()))]
    unchanged = (r >= 0.10) & (r < 0.16)
    status[unchanged] = 304
    first = robots_first[crawl] & (step == 0)
    target[first] = site.robots
    status[first] = 200
    page_requests = dict(t_ms=t, client=crawler[crawl], target=target, status=status)

    # Rendering: for some pages served, one or two of its assets (its images, or the shared ones).
    # Each target's place in site.pages (len(site.pages) for other targets), by a table over the
    # site's targets: a binary search per request costs several times more.
    page_at = np.full(len(site.targets), len(site.pages), np.int64)
    page_at[site.pages] = np.arange(len(site.pages))
    page_of = page_at[target]
    is_page = page_of < len(site.pages)
    # A crawler keeps what it fetched: the site's CSS and JS at most once a crawl (on its first
    # rendered page), never the same file twice for one page. Link previews (Twitterbot,
    # facebookexternalhit, ...) read the page's tags and fetch its image, never scripts or styles.
    rendered = np.flatnonzero(is_page & (status == 200) & (rng.random(len(target)) < 0.45))
    wanted = rng.integers(1, 3, len(rendered))
    first_render = np.zeros(len(rendered), bool)
    first_render[np.unique(crawl[rendered], return_index=True)[1]] = True
    which = np.repeat(rendered, wanted)
    nth = _segment_arange(wanted)
    p = page_of[which]
    own = site.asset_offsets[p + 1] - site.asset_offsets[p]
    pick_own = (own > 0) & (rng.random(len(which)) < 0.7)
    shared_at = np.repeat(rng.integers(0, len(site.shared_assets), len(rendered)), wanted) + nth
    asset = site.shared_assets[shared_at % len(site.shared_assets)]
    own_at = np.repeat((rng.random(len(rendered)) * 1000).astype(np.int64), wanted) + nth
    own_index = site.asset_offsets[p] + own_at % np.maximum(own, 1)
    client = crawler[crawl][which]
    preview = pop.preview[client]
    first_page = np.repeat(first_render, wanted)
    # Most crawls find the stylesheet and script in their own cache: few fetch them at all.
    first_page &= np.repeat(rng.random(len(rendered)) < 0.3, wanted)
    use_own = (own > 0) & (pick_own | preview | ~first_page)
    asset[use_own] = site.asset_ids[own_index[use_own]]
    keep = (use_own & (nth < own)) | (~use_own & first_page & ~preview)
    keep &= ~(preview & (nth > 0))
    which, asset, client = which[keep], asset[keep], client[keep]
    when = t[which] + rng.integers(500, 4000, len(which))
    # One crawler's crawls of a block overlap: it still fetches each shared file once in them.
    shared = np.isin(asset, site.shared_assets)
    pair = client.astype(np.int64) * len(site.targets) + asset
    by_time = np.argsort(when, kind="stable")
    _, first_of = np.unique(pair[by_time], return_index=True)
    again = np.ones(len(pair), bool)
    again[by_time[first_of]] = False
    keep = ~(shared & again)
    which, asset, client, when = which[keep], asset[keep], client[keep], when[keep]
    return finish_parts(pools, [page_requests, dict(t_ms=when, client=client, target=asset, status=200)], method=GET)


def draw_scans(rng: np.random.Generator, pools: Pools, start_ms: np.ndarray,
               addresses: np.ndarray) -> Events:
    """Vulnerability-scanner noise: a burst of probes for well-known weak spots, nearly all 404."""
    site, pop = pools.site, pools.population
    n = len(start_ms)
    if n == 0:
        return Events.empty()
    probes = np.minimum(rng.geometric(1 / 12, n), 80)
    scan = np.repeat(np.arange(n), probes)
    step = _segment_arange(probes)
    t = start_ms[scan] + step * rng.integers(150, 1500, n)[scan]
    client = addresses[rng.integers(0, len(addresses), n)][scan]
    agent = pop.scanner_agents[rng.integers(0, len(pop.scanner_agents), n)][scan]
    target = site.probes[rng.integers(0, len(site.probes), len(scan))]
    status = np.full(len(scan), 404, np.int16)
    home = (step == 0) & (rng.random(len(scan)) < 0.5)
    target[home] = site.pages[0]
    status[home] = 200
    forbidden = rng.random(len(scan)) < 0.05
    status[forbidden & ~home] = 403
    return finish(pools, dict(t_ms=t, client=client, agent=agent, target=target, status=status),
                   method=GET, proto=HTTP11)


def reshape(rng: np.random.Generator, pools: Pools, events: Events, shape: Shape) -> Events:
    """The site's normal requests with a fitted method mix and status mix per kind of request.

    Each request's method is drawn from ``shape.methods``, and its status from the mix of its
    kind (``shape.statuses``); its size follows (a 200 its target's size, another status that
    status's page, a HEAD none), as for every request.
    """
    n = len(events)
    if n == 0:
        return events
    if shape.methods is not None:
        names, shares = zip(*shape.methods)
        ids = np.array([METHODS.index(m) for m in names], np.int8)
        events.method = ids[_pick(rng, _cdf(shares), n)]
    if shape.statuses is not None:
        site = pools.site
        kind = site.request_kind[events.target]
        for name, mix in shape.statuses:
            where = np.flatnonzero(kind == REQUEST_KINDS.index(name))
            codes, shares = zip(*mix)
            events.status[where] = np.array(codes, np.int16)[_pick(rng, _cdf(shares), len(where))]
        _fit_targets(rng, site, events)
    return events


def _fit_targets(rng: np.random.Generator, site: Site, events: Events) -> None:
    """Targets that agree with a redrawn status: a page answered 404 becomes a removed page, one
    answered 301 its link without the trailing slash; a removed or moved page, or a scanner's
    probe, answered with a success becomes a page of the site (a missing file, an image)."""
    target, status = events.target, events.status
    target_kind = site.kind[target]
    page = np.isin(target_kind, (PAGE, SEARCH)) & (site.request_kind[target] == PAGE_KIND)
    fake = np.isin(target_kind, (MISSING, NONCANONICAL, PROBE))
    ok = (status < 300) | (status == 304)
    gone = np.flatnonzero(page & ((status == 404) | (status == 410)))
    target[gone] = site.missing[rng.integers(0, len(site.missing), len(gone))]
    moved = np.flatnonzero(page & ((status == 301) | (status == 308)))
    if len(moved):
        index = np.minimum(np.searchsorted(site.pages, target[moved]), len(site.pages) - 1)
        link = np.where(site.pages[index] == target[moved], site.page_noncanonical[index], -1)
        target[moved[link >= 0]] = link[link >= 0]
    served = np.flatnonzero(fake & ok)
    if len(served):
        static = site.request_kind[target[served]] == STATIC_KIND
        if len(site.asset_ids):  # an image, as often as its page is asked for
            target[served[static]] = site.asset_ids[_pick(rng, site.image_cdf, int(static.sum()))]
        else:
            target[served[static]] = site.shared_assets[rng.integers(0, len(site.shared_assets), int(static.sum()))]
        rest = served[~static]
        target[rest] = site.pages[_pick(rng, site.page_cdf, len(rest))]


def _cdf(shares: tuple[float, ...]) -> np.ndarray:
    cdf = np.cumsum(np.array(shares, np.float64))
    return cdf / cdf[-1]


def draw_periodic(rng: np.random.Generator, pools: Pools, t0_ms: int, t1_ms: int) -> Events:
    """Feed readers and uptime monitors: each on its own fixed period, phase fixed per client.

    Feeds mostly answer 304 (the reader's copy is current); monitors HEAD or GET the home page.
    """
    site, pop = pools.site, pools.population
    parts = []
    schedule = [(client, site.feed, period, GET) for client, period in pop.feed_clients]
    schedule += [(client, target, period, method)
                 for (client, target, period), method in zip(pop.monitor_clients, pop.monitor_methods)]
    for client, target, period, method in schedule:
        period_ms = period * 1000
        phase = (client * 7_919_000) % period_ms  # fixed per client, whatever the block
        first = t0_ms + (phase - t0_ms) % period_ms
        times = np.arange(first, t1_ms, period_ms, dtype=np.int64)
        if len(times) == 0:
            continue
        jitter = rng.integers(0, 900, len(times))
        is_feed = target == site.feed
        status = np.where(rng.random(len(times)) < 0.8, 304, 200) if is_feed else 200
        parts.append(dict(t_ms=np.minimum(times + jitter, t1_ms - 1), client=np.full(len(times), client),
                          target=target, status=status, method=method))
    return finish_parts(pools, parts, method=GET, proto=HTTP11) if parts else Events.empty()




# Server time of a response by what was asked (median ms, spread), before the transfer, for
# static, page, search, post, not modified, redirect, missing and probe requests.
_SERVER_MS = np.array([0.6, 60.0, 250.0, 120.0, 0.3, 2.0, 3.0, 1.0])
_SPREAD = np.array([0.7, 0.55, 0.5, 0.5, 0.5, 0.5, 0.6, 0.5])
_ERROR_MS = {500: 200.0, 502: 50.0, 503: 5.0, 504: 60_000.0}


def response_times(rng: np.random.Generator, pools: Pools, events: Events, load: np.ndarray) -> np.ndarray:
    """Microseconds from request to last byte, as Apache's %D measures them.

    Server time depends on what is asked (pages are built, static files sent, 304s only
    checked), pages get slower as load (expected requests now / on average) rises, and the
    body takes its size over the client's bandwidth.
    """
    site = pools.site
    kind = site.kind[events.target]
    status = events.status
    category = np.zeros(len(events), np.int64)  # static
    category[(kind == PAGE) | (kind == DOWNLOAD)] = 1
    category[kind == SEARCH] = 2
    category[kind == PROBE] = 7
    category[events.method == POST] = 3
    category[(status >= 300) & (status < 400)] = 5
    category[status == 304] = 4
    category[(status >= 400) & (status < 500)] = 6
    median, spread = _SERVER_MS[category], _SPREAD[category]
    for code, ms in _ERROR_MS.items():
        median = np.where(status == code, ms, median)
    built = (category >= 1) & (category <= 3)
    median = np.where(built, median * (1.0 + 0.8 * np.maximum(load - 1.0, 0.0)), median)
    server_ms = median * np.exp(spread * rng.standard_normal(len(events)))
    size = body_bytes(site.size, events.target, events.method, status)
    bandwidth = 8e6 * np.exp(0.8 * rng.standard_normal(len(events)))  # bytes per second
    return (server_ms * 1000 + size / bandwidth * 1e6).astype(np.int64) + 1
