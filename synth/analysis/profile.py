"""The statistical profile of an Apache access log: ours, or anyone's, to compare the two.

``profile_log(paths, minute=None)`` reads Apache ``combined`` or ``common`` lines from one or
more files (plain or gzip, in any order: no figure depends on it) and returns a ``Profile`` of
plain figures. Shares are fractions of the profiled lines (0.25 is 25 %).

    >>> # the week of `synth generate --seed 1 --end 2026-11-28T12:00:00Z`, minute :05 of each hour
    >>> p = profile_log(sorted(Path("output").glob("access.log*")), minute=5)
    >>> p.profiled, round(p.statuses["200"], 3), p.bytes_median, p.session_requests_median
    (21776, 0.861, 17001.0, 4.0)

What each figure measures
-------------------------
lines, unparsed
    Every line read; ``unparsed`` lines are neither combined nor common (blank lines and bad
    dates included). They are counted and left out of every figure, never fatal.
profiled
    The parsed lines the figures are made of: all of them, or with ``minute=M`` only those whose
    minute, as written in ``%t``, is M (a sample like a log that keeps one minute an hour).
methods, statuses
    Share of profiled lines per request method and per status code. A request whose first word
    is not an upper-case token (binary junk, ``-``) counts as method ``(invalid)``.
status_classes
    Share per first digit: ``1xx`` .. ``5xx``, all five always present.
request_classes
    Each request's path (the target without ``?query``, ``#fragment`` or ``;params``, lower
    case, ``scheme://host`` dropped) is exactly one of:
    ``robots`` the path ``/robots.txt`` (not counted in ``other``);
    ``static`` the last segment ends in an asset extension (``STATIC_EXTENSIONS``: css, js,
    images, fonts, audio, video ...);
    ``page`` HTML-like: the path ends in ``/``, its last segment has no extension, or the
    extension is one of ``PAGE_EXTENSIONS`` (html, htm, php, asp, aspx, jsp ...);
    ``other`` the rest: feeds, sitemaps, downloads, ``.json``, ``.txt``, requests without a path.
bytes_median, bytes_p90
    Median and 90th percentile (linear interpolation) of the bytes field over lines that sent
    a body: ``-`` and ``0`` are left out, since Apache's ``%b`` writes ``-`` where ``%B``
    writes 0 (304s, HEADs, empty redirects).
same_size_share
    Among GET requests answered 200 (HEADs have no body), for each target *with* its query
    that has at least two such lines: the lines whose size is that target's most common size,
    summed over targets, over those targets' lines. 1.0 means every page always has one size.
distinct_clients_per_10k
    Distinct client fields (IPv4, IPv6 or host name) per 10,000 profiled lines. It falls as a
    log grows, so compare logs of similar length.
top1_client_share, top10_client_share
    Share of profiled lines sent by the busiest client, and by the ten busiest together.
client_zipf_slope, path_zipf_slope
    Rank the clients (the paths, as in ``request_classes``) by their line count; the slope of
    the least-squares line of log10(count) against log10(rank) over the ranks whose count is
    at least ``ZIPF_MIN_COUNT`` (5), at most the top ``ZIPF_MAX_RANKS`` (1000); a sample drawn
    from p(rank) ~ rank^-s gives about -s. None with fewer than 3 such ranks. The rare tail is
    left out because its counts of 1 and 2 form a flat floor that bends any fit.
bot_share
    Share of combined lines whose agent matches ``BOT_MARKERS`` (case-insensitive
    substrings: bot, crawl, spider, curl, python-requests, uptime, ...), or is ``-`` or empty.
referrer_share
    Share of combined lines whose referrer is not ``-`` and not empty.
sessions, session_requests_mean / _median / _p90
    Lines of one client with one agent, in time order, form a session until a gap of more than
    30 minutes (``SESSION_GAP_SECONDS``); sessions is their count, then the mean, median and
    90th percentile (linear) of lines per session. With ``minute=M`` a session never spans two
    sampled minutes, as the gap between them is at least 59 minutes.
busiest_quietest_hour_ratio, busiest_hour, quietest_hour
    In the log's own clock time (as written, zone not applied), lines are counted per hour;
    the first and the last hour of the log are left out as perhaps partial. For each clock hour
    0-23, the mean count over the whole hours with that clock hour; the ratio is the highest
    mean over the lowest. None when some clock hour has no whole hour or a mean of 0.
weekday_weekend_ratio
    The same for calendar days (clock time as written): first and last day left out, mean lines
    per whole Monday-Friday over mean lines per whole Saturday-Sunday. None without both.

``bot_share``, ``referrer_share`` and the session figures need the referrer and agent fields,
so they are counted over combined lines only, and are None for a log in common format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from synth.analysis.logread import LogReadError, parse_apache_times, read_blocks
from synth.output.manifest import run_files

SESSION_GAP_SECONDS = 30 * 60
ZIPF_MIN_COUNT = 5
ZIPF_MAX_RANKS = 1000
ZIPF_MIN_RANKS = 3
CHUNK_BYTES = 16 << 20

STATIC_EXTENSIONS = frozenset(
    "css js mjs map png jpg jpeg gif webp avif svg ico bmp tif tiff apng cur webmanifest wasm "
    "woff woff2 ttf otf eot mp4 webm ogv mov m4v mp3 ogg oga wav flac m4a aac opus".split())
PAGE_EXTENSIONS = frozenset("html htm xhtml shtml php asp aspx jsp jspx cfm cgi".split())

# Substrings that mark an agent as a program rather than a person at a browser: crawlers,
# feed readers, uptime monitors, scripts' HTTP libraries and vulnerability scanners.
BOT_MARKERS = (
    "bot", "crawl", "spider", "slurp", "archiver", "feed", "fetch", "rss", "subscriber",
    "monitor", "uptime", "pingdom", "statuscake", "site24x7", "check_http", "nagios", "zabbix",
    "curl", "wget", "python-requests", "python-urllib", "aiohttp", "httpx", "go-http-client",
    "java/", "okhttp", "apache-httpclient", "libwww-perl", "scrapy", "headless", "phantomjs",
    "lighthouse", "scan", "zgrab", "nuclei", "censys", "nmap", "facebookexternalhit",
)
BOT_RE = re.compile("|".join(re.escape(marker) for marker in BOT_MARKERS), re.IGNORECASE)

REQUEST_CLASSES = ("static", "page", "robots", "other")
STATIC, PAGE, ROBOTS, OTHER = range(4)
INVALID_METHOD = "(invalid)"
_METHOD_RE = re.compile(r"[A-Z][A-Z_-]*")

# One Apache line: %h %l %u %t "%r" %>s %b, then for combined "%{Referer}i" "%{User-agent}i"
# (further fields after the agent, quoted or bare, such as %D or a host, are allowed and ignored).
# A quoted value may hold backslash escapes (\" \\ \xhh) but no bare quote. Referrer and agent are
# captured *with* their quotes, so a missing field (b"", common format) differs from an empty one.
_QUOTED = rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
LINE_RE = re.compile(
    rb"(\S+) \S+ \S+ "
    rb"\[([0-9]{2}/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4})\] "
    rb'"([^"\\\n]*(?:\\.[^"\\\n]*)*)" ([0-9]{3}) ([0-9]+|-)'
    rb"(?: (" + _QUOTED + rb") (" + _QUOTED + rb")(?: (?:" + _QUOTED + rb'|[^\s"]+))*)?\r?')


class ProfileError(ValueError):
    """Input that cannot be profiled: a missing or unreadable file, or no log line at all."""


@dataclass(frozen=True)
class Profile:
    """Every figure of a log's profile; see the module docstring for what each one measures."""

    files: tuple[str, ...]
    lines: int
    unparsed: int
    first_unparsed: str | None  # "file:line" of the first line that did not parse
    minute: int | None
    profiled: int
    log_format: str  # "combined", "common" or "mixed"
    first_time: str  # %t of the earliest profiled line, as written
    last_time: str
    methods: dict[str, float]
    statuses: dict[str, float]
    status_classes: dict[str, float]
    request_classes: dict[str, float]
    bytes_median: float | None
    bytes_p90: float | None
    same_size_share: float | None
    distinct_clients_per_10k: float
    top1_client_share: float
    top10_client_share: float
    client_zipf_slope: float | None
    path_zipf_slope: float | None
    bot_share: float | None
    referrer_share: float | None
    sessions: int | None
    session_requests_mean: float | None
    session_requests_median: float | None
    session_requests_p90: float | None
    busiest_hour: int | None
    quietest_hour: int | None
    busiest_quietest_hour_ratio: float | None
    weekday_weekend_ratio: float | None

    def as_dict(self) -> dict:
        """Plain JSON-ready data: ``json.dumps(profile.as_dict())``."""
        data = asdict(self)
        data["files"] = list(self.files)
        return data


class _Interner:
    """Distinct values get ids 0, 1, 2 ... in order of first sight."""

    def __init__(self) -> None:
        self.ids: dict = {}

    def add(self, values: Sequence) -> np.ndarray:
        ids = self.ids
        # dict.fromkeys and map run in C; Python touches each distinct value once.
        for value in dict.fromkeys(values):
            if value not in ids:
                ids[value] = len(ids)
        return np.fromiter(map(ids.__getitem__, values), np.int64, count=len(values))

    @property
    def values(self) -> list:
        return list(self.ids)


# The groups of LINE_RE, in order; all but the time are interned.
FIELDS = ("client", "time", "request", "status", "size", "referrer", "agent")
INTERNED = ("client", "request", "status", "size", "referrer", "agent")


@dataclass
class ParsedLog:
    """The parsed lines of all files as columns: ids into ``interners``, then times."""

    files: tuple[str, ...]
    interners: dict[str, _Interner]
    columns: dict[str, np.ndarray]  # INTERNED ids, "written" %t, "local", "utc", "minute"
    lines: int
    unparsed: int
    first_unparsed: str | None


def _expand(paths: list[Path]) -> list[Path]:
    """A run folder stands for its access files, in time order (as synth verify reads it)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = run_files(path)
            if not found:
                raise ProfileError(f"{path}: no access.log* files in this folder")
            out += found
        else:
            out.append(path)
    return out


def profile_log(paths: Iterable[str | Path], minute: int | None = None) -> Profile:
    """The profile of the Apache combined or common lines in ``paths`` (plain or gzip files).

    With ``minute`` (0-59), only lines whose minute as written is ``minute`` are profiled.
    Raises ProfileError for a missing or unreadable file, and when no line is left to profile.
    """
    files = _expand([Path(p) for p in paths])
    if not files:
        raise ProfileError("no file given")
    if minute is not None and not 0 <= minute <= 59:
        raise ProfileError(f"minute must be 0 to 59, not {minute}")
    return profile_parsed(read_parsed(files), minute)


def profile_parsed(log: ParsedLog, minute: int | None = None) -> Profile:
    """The profile of lines already read by ``read_parsed`` (a reader that needs both the
    columns and the profile of a log reads it once)."""
    files = log.files
    names = files[0] if len(files) == 1 else f"the {len(files)} files"
    if log.lines == 0:
        raise ProfileError(f"{names} {'is' if len(files) == 1 else 'are'} empty")
    if len(log.columns["utc"]) == 0:
        raise ProfileError(f"no line of {names} is an Apache combined or common log line "
                           f"(first: {log.first_unparsed})")
    keep = slice(None) if minute is None else log.columns["minute"] == minute
    columns = {name: column[keep] for name, column in log.columns.items()}
    if len(columns["utc"]) == 0:
        raise ProfileError(f"no line of {names} has minute {minute}")
    per_line, method_names = _per_line(log.interners, columns)
    order = np.argsort(per_line["utc"], kind="stable")
    combined = int(per_line["combined"].sum())
    return Profile(
        files=files,
        lines=log.lines,
        unparsed=log.unparsed,
        first_unparsed=log.first_unparsed,
        minute=minute,
        profiled=len(order),
        log_format="combined" if combined == len(order) else "common" if combined == 0 else "mixed",
        first_time=columns["written"][order[0]].decode("ascii"),
        last_time=columns["written"][order[-1]].decode("ascii"),
        **_request_figures(per_line, method_names),
        **_client_figures(per_line),
        **_agent_figures(per_line),
        **_time_figures(per_line["local"]),
    )


# --- reading -------------------------------------------------------------------------------


def read_parsed(paths: list[Path]) -> ParsedLog:
    """Every line of every file through LINE_RE and the date check, into interned columns."""
    interners = {name: _Interner() for name in INTERNED}
    parts: dict[str, list[np.ndarray]] = {name: [] for name in (*INTERNED, "written", "local", "utc", "minute")}
    lines = unparsed = 0
    first_unparsed = None
    fullmatch = LINE_RE.fullmatch
    for path in paths:
        line_number = 0
        for block in _blocks(path):
            rows = block.split(b"\n")
            matches = [fullmatch(row) for row in rows]
            groups = [m.groups(b"") for m in matches if m is not None]  # b"": no such field
            fields = dict(zip(FIELDS, zip(*groups)))
            parsed_at = (np.arange(len(rows)) if len(groups) == len(rows) else
                         np.array([i for i, m in enumerate(matches) if m is not None], np.int64))
            written = np.array(fields.get("time", ()), "S26")
            clock = parse_apache_times(written)
            valid = clock.pop("valid")
            if len(parsed_at) and not valid.all():
                parsed_at = parsed_at[valid]
            if len(parsed_at) < len(rows):
                unparsed += len(rows) - len(parsed_at)
                if first_unparsed is None:
                    bad = np.ones(len(rows), bool)
                    bad[parsed_at] = False
                    first_unparsed = f"{path}:{line_number + int(np.argmax(bad)) + 1}"
            lines += len(rows)
            line_number += len(rows)
            for name in INTERNED:
                parts[name].append(interners[name].add(fields.get(name, ()))[valid])
            parts["written"].append(written[valid])
            for name, column in clock.items():
                parts[name].append(column[valid])
    columns = {name: np.concatenate(arrays) if arrays else np.zeros(0, np.int64) for name, arrays in parts.items()}
    return ParsedLog(tuple(str(p) for p in paths), interners, columns, lines, unparsed, first_unparsed)


def _blocks(path: Path) -> Iterator[bytes]:
    """The file's lines in blocks (logread's reader), each without its last newline."""
    try:
        for block, terminated in read_blocks(path, CHUNK_BYTES):
            yield block[:-1] if terminated else block
    except LogReadError as e:
        raise ProfileError(str(e)) from None




# --- what each line is ---------------------------------------------------------------------


def _per_line(interners: dict[str, _Interner], columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Per-line arrays of what the figures need, each value worked out once per distinct field."""
    requests = [_split_request(r.decode("latin-1")) for r in interners["request"].values]
    methods, targets, paths = _Interner(), _Interner(), _Interner()
    method_of = methods.add([method for method, _, _ in requests])
    target_of = targets.add([target for _, target, _ in requests])
    path_of = paths.add([path for _, _, path in requests])
    kind_of = np.array([_request_class(path) for _, _, path in requests], np.int64)
    agents = interners["agent"].values
    request, agent = columns["request"], columns["agent"]
    lines = {
        "client": columns["client"],
        "agent": agent,
        "method": method_of[request],
        "target": target_of[request],
        "path": path_of[request],
        "kind": kind_of[request],
        "status": np.array([int(s) for s in interners["status"].values], np.int64)[columns["status"]],
        "size": np.array([0 if s == b"-" else int(s) for s in interners["size"].values], np.int64)[columns["size"]],
        "combined": np.array([a != b"" for a in agents], bool)[agent],
        "bot": np.array([_is_bot(a) for a in agents], bool)[agent],
        "referred": np.array([r not in (b"", b'"-"', b'""') for r in interners["referrer"].values],
                             bool)[columns["referrer"]],
        "local": columns["local"],
        "utc": columns["utc"],
    }
    return lines, methods.values


def _split_request(request: str) -> tuple[str, str, str]:
    """``(method, target, path)`` of a request line; the path as ``_request_class`` wants it.

    >>> _split_request("GET /Docs/x.CSS?v=3 HTTP/1.1")
    ('GET', '/Docs/x.CSS?v=3', '/docs/x.css')
    >>> _split_request("-")
    ('(invalid)', '', '')
    """
    words = request.split(" ")
    if not _METHOD_RE.fullmatch(words[0]):
        return INVALID_METHOD, "", ""
    target = words[1] if len(words) > 1 else ""
    path = target
    if "://" in path[:12]:  # absolute form, as sent to proxies: drop scheme and host
        slash = path.find("/", path.find("://") + 3)
        path = path[slash:] if slash >= 0 else "/"
    for mark in "?#;":
        path = path.split(mark, 1)[0]
    return words[0], target, path.lower()


def _request_class(path: str) -> int:
    """STATIC, PAGE, ROBOTS or OTHER for a lower-case path without query.

    >>> [REQUEST_CLASSES[_request_class(p)] for p in ("/", "/about", "/a/x.css", "/robots.txt", "/feed.xml")]
    ['page', 'page', 'static', 'robots', 'other']
    """
    if path == "/robots.txt":
        return ROBOTS
    if not path.startswith("/"):
        return OTHER
    last = path.rsplit("/", 1)[1]
    if "." not in last:
        return PAGE
    extension = last.rsplit(".", 1)[1]
    if extension in STATIC_EXTENSIONS:
        return STATIC
    return PAGE if extension in PAGE_EXTENSIONS else OTHER


def _is_bot(quoted_agent: bytes) -> bool:
    """True for a bot's agent (captured with its quotes); False for a browser or no field.

    >>> _is_bot(b'"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"'), _is_bot(b'"-"')
    (True, True)
    """
    if quoted_agent == b"":
        return False  # common format: no agent field at all
    agent = quoted_agent[1:-1].decode("latin-1")
    return agent in ("", "-") or BOT_RE.search(agent) is not None


# --- figures -------------------------------------------------------------------------------


def _request_figures(lines: dict[str, np.ndarray], method_names: list[str]) -> dict:
    status, size, kind = lines["status"], lines["size"], lines["kind"]
    codes, code_counts = np.unique(status, return_counts=True)
    body = size[size > 0]
    get_200 = (status == 200) & (lines["method"] == (method_names.index("GET") if "GET" in method_names else -1))
    return {
        "methods": _shares(np.bincount(lines["method"], minlength=len(method_names)), method_names),
        "statuses": _shares(code_counts, [str(c) for c in codes]),
        "status_classes": {f"{d}xx": float(np.mean(status // 100 == d)) for d in range(1, 6)},
        "request_classes": {name: float(np.mean(kind == i)) for i, name in enumerate(REQUEST_CLASSES)},
        "bytes_median": float(np.percentile(body, 50)) if len(body) else None,
        "bytes_p90": float(np.percentile(body, 90)) if len(body) else None,
        "same_size_share": _same_size_share(lines["target"][get_200], size[get_200]),
    }


def _client_figures(lines: dict[str, np.ndarray]) -> dict:
    client_counts = np.bincount(lines["client"])
    ranked = np.sort(client_counts[client_counts > 0])[::-1]
    n = len(lines["client"])
    return {
        "distinct_clients_per_10k": len(ranked) / n * 10_000,
        "top1_client_share": float(ranked[0] / n),
        "top10_client_share": float(ranked[:10].sum() / n),
        "client_zipf_slope": zipf_slope(client_counts),
        "path_zipf_slope": zipf_slope(np.bincount(lines["path"])),
    }


def _agent_figures(lines: dict[str, np.ndarray]) -> dict:
    combined = lines["combined"]
    if not combined.any():
        return dict.fromkeys(("bot_share", "referrer_share", "sessions", "session_requests_mean",
                              "session_requests_median", "session_requests_p90"))
    sizes = _session_sizes(lines["client"][combined], lines["agent"][combined], lines["utc"][combined])
    return {
        "bot_share": float(lines["bot"][combined].mean()),
        "referrer_share": float(lines["referred"][combined].mean()),
        "sessions": len(sizes),
        "session_requests_mean": float(sizes.mean()),
        "session_requests_median": float(np.percentile(sizes, 50)),
        "session_requests_p90": float(np.percentile(sizes, 90)),
    }


def _time_figures(local: np.ndarray) -> dict:
    hour_counts, hours = _whole_periods(local, 3600)
    occurrences = np.bincount(hours % 24, minlength=24)
    hour_means = np.bincount(hours % 24, weights=hour_counts, minlength=24) / np.maximum(occurrences, 1)
    hourly = occurrences.all() and hour_means.min() > 0
    day_counts, days = _whole_periods(local, 86400)
    weekend = (days + 3) % 7 >= 5  # 1970-01-01, day 0, was a Thursday
    weekly = weekend.any() and (~weekend).any() and day_counts[weekend].sum() > 0
    return {
        "busiest_hour": int(np.argmax(hour_means)) if hourly else None,
        "quietest_hour": int(np.argmin(hour_means)) if hourly else None,
        "busiest_quietest_hour_ratio": float(hour_means.max() / hour_means.min()) if hourly else None,
        "weekday_weekend_ratio": float(day_counts[~weekend].mean() / day_counts[weekend].mean()) if weekly else None,
    }


def _whole_periods(local: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """Lines per whole period (hour or day) of the log's clock time, and the periods' numbers
    counted from the epoch. The first and last period that hold a line may be partial: left out.
    """
    index = local // period
    first, last = int(index.min()), int(index.max())
    periods = np.arange(first + 1, last, dtype=np.int64)
    whole = (index > first) & (index < last)
    return np.bincount(index[whole] - first - 1, minlength=len(periods)), periods


def _shares(counts: np.ndarray, names: list[str]) -> dict[str, float]:
    """Each name's share of the total, largest first, ties by name."""
    total = int(counts.sum())
    pairs = sorted(((int(c), name) for c, name in zip(counts, names) if c), key=lambda p: (-p[0], p[1]))
    return {name: count / total for count, name in pairs}


def zipf_slope(counts: np.ndarray) -> float | None:
    """Slope of log10(count) over log10(rank) for the ranks with count >= ZIPF_MIN_COUNT.

    >>> round(zipf_slope(np.array([60, 30, 20, 15, 4, 1])), 3)   # 60/rank, and two too rare
    -1.0
    """
    ranked = np.sort(np.asarray(counts))[::-1]
    ranked = ranked[ranked >= ZIPF_MIN_COUNT][:ZIPF_MAX_RANKS]
    if len(ranked) < ZIPF_MIN_RANKS:
        return None
    ranks = np.arange(1, len(ranked) + 1)
    return float(np.polyfit(np.log10(ranks), np.log10(ranked), 1)[0])


def _same_size_share(target: np.ndarray, size: np.ndarray) -> float | None:
    """Over targets with two or more lines: lines of their target's most common size / lines."""
    if len(target) == 0:
        return None
    sizes, size_id = np.unique(size, return_inverse=True)
    pairs, pair_counts = np.unique(target * len(sizes) + size_id, return_counts=True)
    pair_target = pairs // len(sizes)
    starts = np.flatnonzero(np.r_[True, pair_target[1:] != pair_target[:-1]])
    modal = np.maximum.reduceat(pair_counts, starts)
    total = np.add.reduceat(pair_counts, starts)
    repeated = total >= 2
    return float(modal[repeated].sum() / total[repeated].sum()) if repeated.any() else None


def _session_sizes(client: np.ndarray, agent: np.ndarray, utc: np.ndarray) -> np.ndarray:
    """Lines per session: one client and agent, until a gap of more than SESSION_GAP_SECONDS."""
    key = client * (int(agent.max()) + 1) + agent
    order = np.lexsort((utc, key))
    key, utc = key[order], utc[order]
    starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (np.diff(utc) > SESSION_GAP_SECONDS)])
    return np.diff(np.r_[starts, len(key)])


# --- the readable table --------------------------------------------------------------------


def _percent(share: float | None) -> str:
    if share is None:
        return "n/a"
    return f"{share * 100:.2g} %" if 0 < share < 0.01 else f"{share * 100:.1f} %"


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _bytes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} B ({value / 1000:,.1f} kB)"


def profile_lines(profile: Profile) -> list[str]:
    """The profile as aligned text, one figure a row, for people.

        lines           1,251,248 in 8 files, 0 unparsed; combined format
        ...
        statuses        200 88.6 %  304 5.2 %  404 2.4 %  301 1.6 % ...
    """
    p = profile
    shares = lambda d: "  ".join(f"{k} {_percent(v)}" for k, v in d.items())  # noqa: E731
    agentless = " (common format: no agent)" if p.bot_share is None else ""
    rows = [
        ("lines", f"{p.lines:,} in {len(p.files)} file{'s' if len(p.files) != 1 else ''}, "
                  f"{p.unparsed:,} unparsed" + (f" (first: {p.first_unparsed})" if p.first_unparsed else "")
                  + f"; {p.log_format} format"),
        ("profiled", f"{p.profiled:,} lines" + (f" of minute {p.minute} of each hour" if p.minute is not None else "")
                     + f", {p.first_time} to {p.last_time}"),
        ("methods", shares(p.methods)),
        ("statuses", shares(p.statuses)),
        ("status classes", shares(p.status_classes)),
        ("requests", shares({("robots.txt" if k == "robots" else k): v for k, v in p.request_classes.items()})),
        ("bytes median", _bytes(p.bytes_median)),
        ("bytes p90", _bytes(p.bytes_p90)),
        ("same size per path", f"{_percent(p.same_size_share)} of GET 200s"),
        ("clients per 10k", _number(p.distinct_clients_per_10k, 1)),
        ("top-1 client", _percent(p.top1_client_share)),
        ("top-10 clients", _percent(p.top10_client_share)),
        ("Zipf slope clients", _number(p.client_zipf_slope)),
        ("Zipf slope paths", _number(p.path_zipf_slope)),
        ("bots, crawlers", _percent(p.bot_share) + agentless),
        ("referrer present", _percent(p.referrer_share) + agentless),
        ("sessions", "n/a" + agentless if p.sessions is None else
         f"{p.sessions:,}; requests mean {_number(p.session_requests_mean)}, median "
         f"{_number(p.session_requests_median, 1)}, p90 {_number(p.session_requests_p90, 1)}"),
        ("busiest/quietest h", "n/a (a clock hour without whole hours or lines)" if p.busiest_quietest_hour_ratio is None else
         f"{p.busiest_quietest_hour_ratio:.2f} ({p.busiest_hour:02d}h / {p.quietest_hour:02d}h)"),
        ("weekday/weekend", "n/a (needs a whole weekday and a whole weekend day)"
         if p.weekday_weekend_ratio is None else f"{p.weekday_weekend_ratio:.2f}"),
    ]
    width = max(len(label) for label, _ in rows)
    return [f"{label:<{width}}  {value}" for label, value in rows]


__all__ = ["Profile", "ProfileError", "profile_log", "profile_lines", "zipf_slope", "BOT_MARKERS",
           "STATIC_EXTENSIONS", "PAGE_EXTENSIONS", "SESSION_GAP_SECONDS"]
