"""Shape keys: the scenario keys that say what a site's traffic looks like, as ``synth fit`` writes them.

Every key is optional; a scenario without any of them generates exactly what it did before
(the same bytes), because each key only swaps a built-in constant for its value, and the
draws it needs come from streams of their own. ``Shape`` holds them, validated.

    weekly            7 numbers >= 0: traffic Monday .. Sunday (visitors' local days); wins over weekend
    popularity        Zipf exponent of page popularity (default 1.15)
    assets_per_page   mean number of images a page embeds (default 1.75)
    sizes             per kind of path (page, static, other): {median: bytes, spread: lognormal sigma,
                      low_spread: sigma below the median (default spread)};
                      static may add shared: [bytes, ...], the sizes of the shared CSS, JS and favicon;
                      page may add home: bytes, the home page's (monitors poll it); page or other
                      (the kind synth profile classes the feed's path as) may add feed: bytes, the
                      feed's (feed readers poll it)
    statuses          per kind of request (page, static, robots, other): {status: share}
    methods           {GET: share, HEAD: share, ...} over the site's normal traffic
    pages_per_visit   mean page views of a visit (default 2)
    client_slope      Zipf exponent of visitors' activity (default 0.9)
    referrers         {search: share, sites: share} of landings, and internal: share of later
                      page views that carry the previous page as referrer (defaults .46, .14, .96)
    mobile_share      share of visitors on phones and tablets (default: the catalogue's, about .44)
    scanner_share     share of bot requests made by vulnerability scanners (default 0.05)
    browsers          {chrome, safari, firefox, edge, samsung: share} of visitors' browsers
                      (default: the catalogue's market shares)
    systems           {windows, macos, linux, ios, android: share} of visitors' systems
    crawler_addresses [n, ...]: addresses of the busiest crawlers, busiest first (default: 2 to 6
                      each, drawn); crawlers past the list keep theirs
    bots              {crawler, feed, monitor, scanner: share} of bot requests: search and other
                      crawlers, feed readers, uptime monitors, scanners and scripts; wins over
                      scanner_share (give one of them)
    paths             the site's own paths: a list of [path, bytes, weight] (``synth fit --keep-paths``)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol

# Kinds of request, as ``synth profile`` classes them (robots is /robots.txt).
REQUEST_KINDS = ("static", "page", "robots", "other")
SIZE_KINDS = ("page", "static", "other")
# Methods a site's own traffic may use (the renderer's method table starts with these).
METHOD_NAMES = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
MAX_PATHS = 50_000
# Families of visitors' agents and kinds of bot, as synth fit tells them from agents.
BROWSER_FAMILIES = ("chrome", "safari", "firefox", "edge", "samsung")
SYSTEM_FAMILIES = ("windows", "macos", "linux", "ios", "android")
BOT_KINDS = ("crawler", "feed", "monitor", "scanner")


@dataclass(frozen=True)
class Shape:
    weekly: tuple[float, ...] | None = None
    popularity: float | None = None
    assets_per_page: float | None = None
    sizes: tuple[tuple[str, float, float], ...] | None = None  # (kind, median, spread)
    shared_sizes: tuple[int, ...] | None = None  # the shared CSS, JS and favicon (sizes.static.shared)
    home_size: int | None = None  # sizes.page.home
    feed_size: int | None = None  # sizes.other.feed
    low_spreads: tuple[tuple[str, float], ...] | None = None  # sizes.KIND.low_spread
    statuses: tuple[tuple[str, tuple[tuple[int, float], ...]], ...] | None = None
    methods: tuple[tuple[str, float], ...] | None = None
    pages_per_visit: float | None = None
    client_slope: float | None = None
    referrers: tuple[tuple[str, float], ...] | None = None  # search, sites, internal
    mobile_share: float | None = None
    scanner_share: float | None = None
    browsers: tuple[tuple[str, float], ...] | None = None
    systems: tuple[tuple[str, float], ...] | None = None
    bots: tuple[tuple[str, float], ...] | None = None
    crawler_addresses: tuple[int, ...] | None = None
    paths: tuple[tuple[str, int, float], ...] | None = None

    def size(self, kind: str) -> tuple[float, float] | None:
        for name, median, spread in self.sizes or ():
            if name == kind:
                return median, spread
        return None

    def low_spread(self, kind: str) -> float | None:
        """The spread below the median of a kind's sizes, where it differs from its spread."""
        return dict(self.low_spreads or ()).get(kind)

    def referrer(self, name: str, default: float) -> float:
        return dict(self.referrers or ()).get(name, default)

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


NO_SHAPE = Shape()


class Fields(Protocol):
    """What the scenario's key reader offers (scenario._Fields)."""

    def get(self, name: str, default: Any) -> Any: ...
    def problem(self, name: str, message: str) -> None: ...
    def number(self, name: str, default: float | None, *, above: float | None = None,
               at_least: float | None = None, at_most: float | None = None, integer: bool = False) -> Any: ...


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
        and value not in (float("inf"), float("-inf"))


def _shares(f: Fields, key: str, value: Any, names: tuple[str, ...] | None,
            parse_name: Any = str) -> tuple[tuple[Any, float], ...] | None:
    """A mapping of names to shares > 0 (normalised to sum 1)."""
    if not isinstance(value, Mapping) or not value:
        f.problem(key, "must map names to shares")
        return None
    pairs = []
    for name, share in value.items():
        try:
            parsed = parse_name(name)
        except ValueError as e:
            f.problem(f"{key}.{name}", str(e))
            continue
        if names is not None and parsed not in names:
            f.problem(f"{key}.{name}", f"must be one of {', '.join(names)}")
            continue
        if not _is_number(share) or share < 0:
            f.problem(f"{key}.{name}", f"share must be a number >= 0, got {share!r}")
            continue
        pairs.append((parsed, float(share)))
    total = sum(s for _, s in pairs)
    if pairs and total <= 0:
        f.problem(key, "shares must not all be 0")
        return None
    return tuple((n, s / total) for n, s in pairs if s > 0) or None


def _status(name: Any) -> int:
    text = str(name)
    if not re.fullmatch(r"[1-5][0-9][0-9]", text):
        raise ValueError(f"must be an HTTP status from 100 to 599, got {name!r}")
    return int(text)


def _weekly(f: Fields) -> tuple[float, ...] | None:
    value = f.get("weekly", None)
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 7 or not all(_is_number(v) and v >= 0 for v in value)
            or not any(value)):
        f.problem("weekly", "must be 7 numbers >= 0 (traffic Monday to Sunday), not all 0")
        return None
    return tuple(float(v) for v in value)


SINGLE_SIZES = {"page": ("home", "feed"), "other": ("feed",), "static": ()}  # single paths of their own size


def _sizes(f: Fields) -> tuple[tuple[tuple[str, float, float], ...] | None, tuple[int, ...] | None, dict[str, int],
                              tuple[tuple[str, float], ...] | None]:
    value = f.get("sizes", None)
    shared = None
    single: dict[str, int] = {}
    lows: list[tuple[str, float]] = []
    if value is None:
        return None, None, single, None
    if not isinstance(value, Mapping) or not value:
        f.problem("sizes", f"must map kinds of path ({', '.join(SIZE_KINDS)}) to {{median, spread}}")
        return None, None, single, None
    out = []
    for kind, spec in value.items():
        key = f"sizes.{kind}"
        if kind not in SIZE_KINDS:
            f.problem(key, f"must be one of {', '.join(SIZE_KINDS)}")
            continue
        extra = {*(("shared",) if kind == "static" else ()), *SINGLE_SIZES[kind]}
        if not isinstance(spec, Mapping) or "median" not in spec or set(spec) - {"median", "spread", "low_spread", *extra}:
            f.problem(key, "must be {median: bytes, spread: number, low_spread: number" + "".join(
                f", {e}: bytes" if e != "shared" else ", shared: [bytes, ...]" for e in sorted(extra)) + "}")
            continue
        for single_name in SINGLE_SIZES[kind]:
            if single_name not in spec:
                continue
            if not _is_number(spec[single_name]) or not 0 <= spec[single_name] <= 1e9:
                f.problem(f"{key}.{single_name}", f"must be a number of bytes from 0 to 1e9, got {spec[single_name]!r}")
            elif single_name in single:
                f.problem(f"{key}.{single_name}", "the feed's size is given twice (under page and other)")
            else:
                single[single_name] = int(spec[single_name])
        if "shared" in spec:
            given = spec["shared"]
            if (not isinstance(given, list) or not 1 <= len(given) <= 3
                    or not all(_is_number(v) and 0 <= v <= 1e9 for v in given)):
                f.problem(f"{key}.shared", f"must be one to three sizes in bytes, got {given!r}")
            else:
                shared = tuple(int(v) for v in given)
        median, spread = spec["median"], spec.get("spread", 0.5)
        if not _is_number(median) or not 1 <= median <= 1e9:
            f.problem(f"{key}.median", f"must be a number of bytes from 1 to 1e9, got {median!r}")
            continue
        if not _is_number(spread) or not 0 <= spread <= 3:
            f.problem(f"{key}.spread", f"must be a number from 0 to 3, got {spread!r}")
            continue
        if "low_spread" in spec:
            low = spec["low_spread"]
            if not _is_number(low) or not 0 <= low <= 3:
                f.problem(f"{key}.low_spread", f"must be a number from 0 to 3, got {low!r}")
                continue
            lows.append((str(kind), float(low)))
        out.append((str(kind), float(median), float(spread)))
    return tuple(out) or None, shared, single, tuple(lows) or None


def _statuses(f: Fields) -> tuple[tuple[str, tuple[tuple[int, float], ...]], ...] | None:
    value = f.get("statuses", None)
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        f.problem("statuses", f"must map kinds of request ({', '.join(REQUEST_KINDS)}) to status shares")
        return None
    out = []
    for kind, mix in value.items():
        if kind not in REQUEST_KINDS:
            f.problem(f"statuses.{kind}", f"must be one of {', '.join(REQUEST_KINDS)}")
            continue
        shares = _shares(f, f"statuses.{kind}", mix, None, _status)
        if shares:
            out.append((str(kind), shares))
    return tuple(out) or None


def _referrers(f: Fields) -> tuple[tuple[str, float], ...] | None:
    value = f.get("referrers", None)
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value or set(value) - {"search", "sites", "internal"}:
        f.problem("referrers", "must be {search: share, sites: share, internal: share}")
        return None
    out = []
    for name, share in value.items():
        if not _is_number(share) or not 0 <= share <= 1:
            f.problem(f"referrers.{name}", f"must be a share from 0 to 1, got {share!r}")
            continue
        out.append((str(name), float(share)))
    if dict(out).get("search", 0) + dict(out).get("sites", 0) > 1:
        f.problem("referrers", "search and sites together must be at most 1 (the rest of landings have none)")
    return tuple(out)


def _paths(f: Fields) -> tuple[tuple[str, int, float], ...] | None:
    value = f.get("paths", None)
    if value is None:
        return None
    if not isinstance(value, list) or not value or len(value) > MAX_PATHS:
        f.problem("paths", f"must be a list of 1 to {MAX_PATHS:,} [path, bytes, weight] entries")
        return None
    out = []
    for i, entry in enumerate(value):
        if (not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str)
                or not entry[0].startswith("/") or any(c in entry[0] for c in " \t\r\n")
                or not _is_number(entry[1]) or entry[1] < 0 or not _is_number(entry[2]) or entry[2] <= 0):
            f.problem(f"paths[{i}]", f"must be [/path, bytes >= 0, weight > 0], got {entry!r}")
            continue
        out.append((entry[0], int(entry[1]), float(entry[2])))
    return tuple(out) or None


def _family_shares(f: Fields, key: str, names: tuple[str, ...]) -> tuple[tuple[str, float], ...] | None:
    """A mapping of some of ``names`` to shares (normalised); names left out have none."""
    value = f.get(key, None)
    if value is None:
        return None
    shares = _shares(f, key, value, names)
    if shares is None:
        return None
    return tuple(sorted(shares, key=lambda p: names.index(p[0])))


def _crawler_addresses(f: Fields) -> tuple[int, ...] | None:
    value = f.get("crawler_addresses", None)
    if value is None:
        return None
    if (not isinstance(value, list) or not 1 <= len(value) <= 100
            or not all(_is_number(v) and v == int(v) and 1 <= v <= 50 for v in value)):
        f.problem("crawler_addresses", f"must be a list of 1 to 100 whole numbers from 1 to 50, got {value!r}")
        return None
    return tuple(int(v) for v in value)


def parse_shape(f: Fields) -> Shape:
    """Read the shape keys from a scenario mapping; problems go to ``f``."""
    methods = f.get("methods", None)
    sizes, shared, single, lows = _sizes(f)
    bots = _family_shares(f, "bots", BOT_KINDS)
    if bots is not None and f.get("scanner_share", None) is not None:
        f.problem("scanner_share", "give bots (its scanner share) or scanner_share, not both")
    return Shape(
        weekly=_weekly(f),
        popularity=f.number("popularity", None, above=0, at_most=4),
        assets_per_page=f.number("assets_per_page", None, at_least=0, at_most=30),
        sizes=sizes,
        low_spreads=lows,
        shared_sizes=shared,
        home_size=single.get("home"),
        feed_size=single.get("feed"),
        statuses=_statuses(f),
        methods=None if methods is None else _shares(f, "methods", methods, METHOD_NAMES),
        pages_per_visit=f.number("pages_per_visit", None, at_least=1, at_most=25),
        client_slope=f.number("client_slope", None, at_least=0, at_most=4),
        referrers=_referrers(f),
        mobile_share=f.number("mobile_share", None, at_least=0, at_most=1),
        scanner_share=f.number("scanner_share", None, at_least=0, at_most=1),
        browsers=_family_shares(f, "browsers", BROWSER_FAMILIES),
        systems=_family_shares(f, "systems", SYSTEM_FAMILIES),
        bots=bots,
        crawler_addresses=_crawler_addresses(f),
        paths=_paths(f),
    )


def shape_yaml(shape: Shape) -> dict[str, Any]:
    """The keys a YAML file holds for ``shape`` (only those set); parse_shape reads them back."""
    data: dict[str, Any] = {}
    for name in ("popularity", "assets_per_page", "pages_per_visit", "client_slope", "mobile_share",
                 "scanner_share"):
        if getattr(shape, name) is not None:
            data[name] = getattr(shape, name)
    if shape.weekly is not None:
        data["weekly"] = list(shape.weekly)
    if shape.sizes is not None:
        data["sizes"] = {kind: {"median": median, "spread": spread} for kind, median, spread in shape.sizes}
        for kind, low in shape.low_spreads or ():
            data["sizes"][kind]["low_spread"] = low
        if shape.shared_sizes is not None and "static" in data["sizes"]:
            data["sizes"]["static"]["shared"] = list(shape.shared_sizes)
        if shape.home_size is not None and "page" in data["sizes"]:
            data["sizes"]["page"]["home"] = shape.home_size
        kinds = [k for k in ("other", "page") if k in data["sizes"]]
        if shape.feed_size is not None and kinds:
            data["sizes"][kinds[0]]["feed"] = shape.feed_size
    if shape.statuses is not None:
        data["statuses"] = {kind: {code: share for code, share in mix} for kind, mix in shape.statuses}
    if shape.methods is not None:
        data["methods"] = dict(shape.methods)
    if shape.referrers is not None:
        data["referrers"] = dict(shape.referrers)
    if shape.crawler_addresses is not None:
        data["crawler_addresses"] = list(shape.crawler_addresses)
    for name in ("browsers", "systems", "bots"):
        if getattr(shape, name) is not None:
            data[name] = dict(getattr(shape, name))
    if shape.paths is not None:
        data["paths"] = [list(p) for p in shape.paths]
    return data


__all__ = ["Shape", "NO_SHAPE", "parse_shape", "shape_yaml", "REQUEST_KINDS", "SIZE_KINDS", "METHOD_NAMES",
           "BROWSER_FAMILIES", "SYSTEM_FAMILIES", "BOT_KINDS"]
