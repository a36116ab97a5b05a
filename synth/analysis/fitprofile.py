"""``synth profile``'s figures of a log read by ``synth fit``'s reader (any format synth writes).

``synth profile`` reads combined and common lines only. ``--check`` compares a log in any other
format (ecs_json, nginx_combined, vhost_combined, a custom Apache LogFormat or nginx log_format)
with its twin written in the same format, so both are read by ``synth.analysis.fitread`` into
columns and measured here by ``synth.analysis.profile``'s own rules (the same figure functions:
request classes, sizes over lines with a body, same size per target with its query, Zipf
slopes, sessions of one client and agent, whole hours and days of the clock as written).

What a format does not write has no figure: ``missing`` names, for each figure of the
``--check`` table, the field it needs, so a format without it shows the row as not judged with
the reason ("no agent in this format").
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from synth.analysis.fitread import Columns, offset_seconds
from synth.analysis.profile import (
    _METHOD_RE,
    INVALID_METHOD,
    Profile,
    _agent_figures,
    _client_figures,
    _Interner,
    _request_class,
    _request_figures,
    _split_request,
    _time_figures,
)

# Fields (logread's column names) each figure of the --check table needs, by the figure's name
# or the first word of it; a format without one of them cannot carry the figure.
NEEDS: dict[str, tuple[str, ...]] = {
    "method": ("method",),
    "status": ("status",),
    "status class": ("status",),
    "requests": ("target",),
    "bytes median": ("bytes",),
    "bytes p90": ("bytes",),
    "same size per path": ("bytes", "target", "status", "method"),
    "clients per 10k lines": ("client",),
    "top-1 client share": ("client",),
    "top-10 clients share": ("client",),
    "Zipf slope clients": ("client",),
    "Zipf slope paths": ("target",),
    "bots, crawlers": ("agent",),
    "bots": ("agent",),
    "browser": ("agent", "client"),
    "system": ("agent", "client"),
    "visitors": ("agent", "client"),
    "referrer present": ("referrer",),
    "session requests": ("client", "agent"),
}


def needs(figure: str) -> tuple[str, ...]:
    """The fields a figure of the --check table is made of (none for rate and time figures).

    >>> needs("status 404"), needs("session requests p90"), needs("weekday/weekend")
    (('status',), ('client', 'agent'), ())
    """
    for key in sorted(NEEDS, key=len, reverse=True):
        if figure == key or figure.startswith(key + " "):
            return NEEDS[key]
    return ()


def missing(figure: str, carries: frozenset[str]) -> str | None:
    """Why a format that writes ``carries`` has no such figure, or None when it has."""
    lacking = [name for name in needs(figure) if name not in carries]
    return f"no {' or '.join(lacking)} in this format" if lacking else None


def _written(utc: int, tz: str) -> str:
    zone = dt.timezone(dt.timedelta(seconds=offset_seconds(tz)))
    return dt.datetime.fromtimestamp(utc, zone).strftime("%d/%b/%Y:%H:%M:%S %z")


def profile_columns(cols: Columns, keep: np.ndarray | None = None) -> Profile:
    """``synth profile``'s figures of ``cols`` (only the lines ``keep`` marks, when given).

    Figures a format does not write come out None (agents, referrers, sizes) or, for those
    ``Profile`` always holds, as measured on the reader's stand-ins; the table marks them with
    ``missing``.
    """
    keep = np.ones(len(cols.utc), bool) if keep is None else keep
    if not keep.any():
        raise ValueError("no line to profile")
    method_names = [m.decode("latin-1") for m in cols.methods]
    methods = _Interner()
    method_of = methods.add([m if _METHOD_RE.fullmatch(m) else INVALID_METHOD for m in method_names])
    paths = _Interner()
    lowered = [_split_request("GET " + t.decode("latin-1"))[2] for t in cols.targets]
    path_of = paths.add(lowered)
    kind_of = np.array([_request_class(p) for p in paths.values] or [0], np.int64)
    n = int(keep.sum())
    has_agent = cols.agent is not None
    agent = cols.agent[keep] if cols.agent is not None else np.zeros(n, np.int64)
    referrer = cols.referrer[keep] if cols.referrer is not None else np.zeros(n, np.int64)
    referred = np.array([r not in (b"", b"-") for r in cols.referrers] or [False], bool)
    target = cols.target[keep]
    lines = {
        "client": cols.client[keep],
        "agent": agent,
        "method": method_of[cols.method[keep]],
        "target": target,
        "path": path_of[target],
        "kind": kind_of[path_of[target]],
        "status": cols.status[keep],
        "size": cols.size[keep],
        "combined": np.full(n, has_agent),
        "bot": cols.bot[keep],
        "referred": referred[referrer],
        "local": cols.local[keep],
        "utc": cols.utc[keep],
    }
    figures = {**_request_figures(lines, methods.values), **_client_figures(lines),
               **_agent_figures(lines), **_time_figures(lines["local"])}
    if "bytes" not in cols.carries:
        figures.update(bytes_median=None, bytes_p90=None, same_size_share=None)
    # synth profile counts referrers over combined lines; a format may write referrers and no agent.
    figures["referrer_share"] = float(lines["referred"].mean()) if "referrer" in cols.carries else None
    utc = lines["utc"]
    return Profile(
        files=(), lines=cols.lines, unparsed=cols.unparsed, first_unparsed=None, minute=None, profiled=n,
        log_format=cols.format, first_time=_written(int(utc.min()), cols.tz),
        last_time=_written(int(utc.max()), cols.tz), **figures)


__all__ = ["NEEDS", "missing", "needs", "profile_columns"]
