"""Input against twin: ``synth profile`` figures of two logs side by side, each in or out of its band.

The bands (synth fit's contract):

    shares                  within +-25 % of the input's value (relative) or +-1 percentage point,
                            whichever is wider
    medians, p90s           within +-30 % (bytes; lines per session; clients per 10k lines)
    session mean            within +-30 %
    Zipf slopes             within +-0.25
    hour and weekday ratios within +-25 % (busiest/quietest hour, weekday/weekend)
    rate                    within +-25 % (lines per covered hour)

A figure the input has and the twin has not is out of band; one the input has not (a common
log has no agents) is shown as n/a and not judged, with the reason where the format cannot
carry it ("n/a: no agent in this format"); an agent figure of the input that rests on
too few lines or visitors to tell (fitagents.FEW_BOT_LINES, FEW_VISITORS) is shown as few and
not judged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from synth.analysis.profile import Profile

SHOWN_SHARE = 0.005  # methods and statuses under 0.5 % on both sides are not rows of their own


@dataclass(frozen=True)
class Row:
    figure: str
    band: str  # "share", "relative 30 %", ...
    input: float | None
    twin: float | None
    ok: bool | None  # None: not judged
    few: bool = False  # not judged: the input's figure rests on too few lines to tell
    reason: str = ""  # not judged: why neither log has the figure ("no agent in this format")

    @property
    def verdict(self) -> str:
        if self.reason:
            return f"n/a: {self.reason}"
        return "few" if self.few else "n/a" if self.ok is None else "in" if self.ok else "OUT"


def _judge(kind: str, a: float | None, b: float | None) -> bool | None:
    if a is None:
        return None
    if b is None:
        return False
    if kind == "share":
        return abs(b - a) <= max(0.25 * abs(a), 0.01) + 1e-12
    if kind == "zipf":
        return abs(b - a) <= 0.25 + 1e-12
    tolerance = {"rel30": 0.30, "rel25": 0.25}[kind]
    return abs(b - a) <= tolerance * abs(a) + 1e-12


BAND_TEXT = {"share": "+-25 % or 1 pt", "zipf": "+-0.25", "rel30": "+-30 %", "rel25": "+-25 %"}


def compare(a: Profile, b: Profile, rate: tuple[float, float] | None = None,
            agents: tuple[dict[str, tuple[float, bool]], dict[str, tuple[float, bool]]] | None = None) -> list[Row]:
    """The rows of the table: ``a`` is the input's profile, ``b`` the twin's; ``rate`` the lines
    per covered hour of each, when known; ``agents`` the agent figures of each
    (synth.analysis.fitagents.agent_figures: bot kinds, browsers, systems, mobile visitors); those
    of the input that rest on a few lines or visitors are shown and not judged."""
    rows: list[Row] = []

    def add(figure: str, kind: str, x: float | None, y: float | None) -> None:
        rows.append(Row(figure, BAND_TEXT[kind], x, y, _judge(kind, x, y)))

    if rate is not None:
        add("lines per covered hour", "rel25", *rate)
    for group, x, y in (("method", a.methods, b.methods), ("status", a.statuses, b.statuses)):
        for name in sorted(set(x) | set(y), key=lambda k: -max(x.get(k, 0), y.get(k, 0))):
            if max(x.get(name, 0), y.get(name, 0)) >= SHOWN_SHARE:
                add(f"{group} {name}", "share", x.get(name, 0.0), y.get(name, 0.0))
    for name in ("2xx", "3xx", "4xx", "5xx"):
        add(f"status class {name}", "share", a.status_classes[name], b.status_classes[name])
    for name in ("static", "page", "robots", "other"):
        add(f"requests {name}", "share", a.request_classes[name], b.request_classes[name])
    add("bytes median", "rel30", a.bytes_median, b.bytes_median)
    add("bytes p90", "rel30", a.bytes_p90, b.bytes_p90)
    add("same size per path", "share", a.same_size_share, b.same_size_share)
    add("clients per 10k lines", "rel30", a.distinct_clients_per_10k, b.distinct_clients_per_10k)
    add("top-1 client share", "share", a.top1_client_share, b.top1_client_share)
    add("top-10 clients share", "share", a.top10_client_share, b.top10_client_share)
    add("Zipf slope clients", "zipf", a.client_zipf_slope, b.client_zipf_slope)
    add("Zipf slope paths", "zipf", a.path_zipf_slope, b.path_zipf_slope)
    add("bots, crawlers", "share", a.bot_share, b.bot_share)
    if agents is not None:
        given, made = agents
        for name in [*given, *(k for k in made if k not in given)]:
            a_share, enough = given.get(name, (0.0, False))
            b_share = made.get(name, (0.0, False))[0]
            if max(a_share, b_share) >= SHOWN_SHARE:
                if enough:
                    add(name, "share", a_share, b_share)
                else:
                    rows.append(Row(name, BAND_TEXT["share"], a_share, b_share, None, few=True))
    add("referrer present", "share", a.referrer_share, b.referrer_share)
    add("session requests mean", "rel30", a.session_requests_mean, b.session_requests_mean)
    add("session requests median", "rel30", a.session_requests_median, b.session_requests_median)
    add("session requests p90", "rel30", a.session_requests_p90, b.session_requests_p90)
    add("busiest/quietest hour", "rel25", a.busiest_quietest_hour_ratio, b.busiest_quietest_hour_ratio)
    add("weekday/weekend", "rel25", a.weekday_weekend_ratio, b.weekday_weekend_ratio)
    return rows


def unjudged(rows: list[Row], why: Callable[[str], str | None]) -> list[Row]:
    """The rows, with those ``why`` gives a reason for (a figure the format cannot carry) shown
    as not judged, with it."""
    out = []
    for row in rows:
        reason = why(row.figure)
        out.append(row if reason is None else dataclasses.replace(row, input=None, twin=None, ok=None, few=False, reason=reason))
    return out


def _value(row: Row, value: float | None) -> str:
    if value is None:
        return "n/a"
    if row.band == BAND_TEXT["share"]:
        return f"{value * 100:.2f} %" if value < 0.1 else f"{value * 100:.1f} %"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def table_lines(rows: list[Row]) -> list[str]:
    """The rows as an aligned table, for people."""
    cells = [("figure", "input", "twin", "band", "")] + [
        (r.figure, _value(r, r.input), _value(r, r.twin), r.band, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    out = []
    for c in cells:
        out.append(f"{c[0]:<{widths[0]}}  {c[1]:>{widths[1]}}  {c[2]:>{widths[2]}}  {c[3]:<{widths[3]}}  {c[4]}".rstrip())
    judged = [r for r in rows if r.ok is not None]
    out.append(f"{sum(r.ok for r in judged if r.ok)} of {len(judged)} figures in band"
               + (f"; out: {', '.join(r.figure for r in judged if not r.ok)}" if not all(r.ok for r in judged) else ""))
    return out


__all__ = ["Row", "compare", "table_lines", "unjudged", "BAND_TEXT"]
