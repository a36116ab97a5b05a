"""The fitting maths of ``synth fit``: the daily curve's knots from hourly means, the size and
Zipf slope of a population from what a sample of it shows, rates per clock hour and weekday
over covered time, and visits (lines of one client and agent until 10 quiet minutes)."""

from __future__ import annotations

import math

import numpy as np

VISIT_GAP_S = 10 * 60  # a visit ends after 10 quiet minutes (synth's think times stay under that)


def desmooth_daily(hourly: np.ndarray) -> np.ndarray:
    """The 24 knots whose curve, linear between the middles of the hours as synth's rates draw
    it, has these hourly means: each hour's mean is knot/8 + 3/4 knot + knot/8 of its neighbours."""
    a = np.zeros((24, 24))
    for h in range(24):
        a[h, h], a[h, (h - 1) % 24], a[h, (h + 1) % 24] = 0.75, 0.125, 0.125
    knots = np.linalg.solve(a, hourly)
    return np.maximum(knots, 0.02 * max(float(hourly.max()), 1e-12))


def seen_population(seen: int, visits: float, slope: float, low: int, high: int) -> int:
    """The population of which ``visits`` draws with Zipf(``slope``) weights show ``seen``
    distinct members: expected distinct = sum(1 - exp(-visits p_i)), solved by bisection."""
    if seen <= 0 or visits <= 0:
        return low
    lo, hi = max(low, seen), high
    # Each population's weights are the first n of the largest one's, elementwise the same
    # whichever length is computed: computed as far as a size asked for needs.
    weights = np.zeros(0)

    def distinct(n: int) -> float:
        nonlocal weights
        if len(weights) < n:
            more = 1.0 / np.arange(len(weights) + 1, n + 1, dtype=np.float64) ** slope
            weights = np.concatenate([weights, more])
        w = weights[:n]
        return float(np.sum(-np.expm1(-visits * w / w.sum())))

    # With weights that do not grow (slope >= 0), the distinct count does not fall as the
    # population grows: the smallest doubling of lo whose count is clearly above seen (far
    # beyond rounding) answers every comparison of a larger size, which is then not computed.
    # Doublings stop at a quarter of hi, where the count of hi itself costs little more.
    above = hi + 1
    n = lo
    while slope >= 0 and 2 * n <= hi // 4:
        n *= 2
        if distinct(n) > seen * (1 + 1e-9):
            above = n
            break

    if above > hi and distinct(hi) <= seen:
        return hi
    while hi - lo > max(1, lo // 200):
        mid = (lo + hi) // 2
        if mid < above and distinct(mid) < seen:
            lo = mid
        else:
            hi = mid
    return int(hi)


def zipf_norm(n: int, slope: float, exact: int = 2000) -> float:
    """sum(i ** -slope for i in 1..n): the first ``exact`` terms summed, the rest as an integral."""
    head = np.arange(1, min(n, exact) + 1, dtype=np.float64) ** -slope
    total = float(head.sum())
    if n > exact:
        a, b = exact + 0.5, n + 0.5
        total += math.log(b / a) if abs(slope - 1) < 1e-9 else (b ** (1 - slope) - a ** (1 - slope)) / (1 - slope)
    return total


TOP_RANKS = (1, 2, 3, 5, 10)


def fit_population(seen: int, visits: float, top: dict[int, float]) -> tuple[float, int]:
    """The activity slope and the size of a visitor population in which ``visits`` Zipf draws
    show ``seen`` distinct visitors, the busiest k of them taking ``top[k]`` of the draws. The
    size fixes how many are seen given the slope; the slope is the one whose top shares fit the
    measured ones best (least squares of their logarithms) given the size; solved in turn."""
    slope = 0.9
    ranks = [k for k in TOP_RANKS if top.get(k, 0) > 0]

    def misfit(s: float, n: int) -> float:
        norm = zipf_norm(n, s)
        return sum((math.log(zipf_norm(min(k, n), s) / norm) - math.log(top[k])) ** 2 for k in ranks)

    for _ in range(8):
        size = seen_population(seen, visits, slope, 10, 5_000_000)
        lo, hi = 0.0, 4.0
        for _ in range(50):  # golden-section search: the misfit has one minimum in the slope
            a, b = hi - 0.618 * (hi - lo), lo + 0.618 * (hi - lo)
            if misfit(a, size) < misfit(b, size):
                hi = b
            else:
                lo = a
        settled = abs((lo + hi) / 2 - slope) < 0.005
        slope = (lo + hi) / 2
        if settled:
            break
    return slope, seen_population(seen, visits, slope, 10, 5_000_000)


def per_hour_rate(local: np.ndarray, covered: np.ndarray, first_hour: int, offset: int) -> np.ndarray:
    """Lines per covered second in each clock hour (0-23, as written); NaN where none is covered.

    The median over the hours of that clock hour where three or more are covered, so that an
    anomaly in the log (a spike, an outage) does not bend the curve; the mean of one or two.
    """
    n = len(covered)
    hour_index = (local - offset) // 3600 - first_hour
    counts = np.bincount(hour_index, minlength=n)[:n].astype(np.float64)
    clock = (np.arange(first_hour, first_hour + n) * 3600 + offset) // 3600 % 24
    out = np.full(24, np.nan)
    for h in range(24):
        seen = (clock == h) & (covered > 0)
        if seen.sum() >= 3:
            out[h] = float(np.median(counts[seen] / covered[seen]))
        elif seen.any():
            out[h] = float(counts[seen].sum() / covered[seen].sum())
    return out


def per_weekday_rate(local: np.ndarray, covered: np.ndarray, first_hour: int, offset: int) -> np.ndarray:
    n = len(covered)
    hour_index = (local - offset) // 3600 - first_hour
    counts = np.bincount(hour_index, minlength=n)[:n].astype(np.float64)
    counts[covered == 0] = 0
    day = ((np.arange(first_hour, first_hour + n) * 3600 + offset) // 86400 + 3) % 7  # 0 is Monday
    seconds = np.bincount(day, weights=covered, minlength=7)
    lines = np.bincount(day, weights=counts, minlength=7)
    hours = np.bincount(day, weights=covered > 0, minlength=7)
    with np.errstate(invalid="ignore", divide="ignore"):
        # A weekday needs most of a day covered: a few hours would carry their clock hours' weight.
        return np.where(hours >= 18, lines / seconds, np.nan)


def fill_circular(values: np.ndarray) -> np.ndarray:
    """NaNs filled from their nearest known neighbours around the circle (linear)."""
    known = np.flatnonzero(~np.isnan(values))
    if len(known) == len(values) or len(known) == 0:
        return values
    n = len(values)
    x = np.concatenate([known - n, known, known + n])
    y = np.tile(values[known], 3)
    return np.interp(np.arange(n), x, y)


def visits_of(client: np.ndarray, agent: np.ndarray, utc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For lines already filtered: the visit number of each line (lines of one client and agent
    until VISIT_GAP_S of quiet), in the order ``order``; returns (order, visit id per sorted line)."""
    key = client * (int(agent.max(initial=0)) + 1) + agent
    order = np.lexsort((utc, key))
    k, t = key[order], utc[order]
    new = np.r_[True, (k[1:] != k[:-1]) | (np.diff(t) > VISIT_GAP_S)]
    return order, np.cumsum(new) - 1


def visit_count(client: np.ndarray, agent: np.ndarray, utc: np.ndarray) -> float:
    """About how many visits these lines are: lines over the mean lines of each client's first
    visit (a busy client's visits run into each other; a visit's length does not depend on who
    makes it, so first visits measure it)."""
    order, visit = visits_of(client, agent, utc)
    sizes = np.bincount(visit)
    c = client[order]
    firsts = np.unique(visit[np.r_[True, c[1:] != c[:-1]]])
    return float(len(client) / max(sizes[firsts].mean(), 1.0))


__all__ = ["desmooth_daily", "seen_population", "zipf_norm", "fit_population", "TOP_RANKS", "per_hour_rate",
           "per_weekday_rate", "fill_circular", "visits_of", "visit_count", "VISIT_GAP_S"]
