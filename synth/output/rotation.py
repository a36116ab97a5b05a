"""Rotation planning: which stretch of time each file of a run holds and what it is called.

Day and hour rotation cut at the local midnights (hours) of the zone written in the lines,
daylight-saving jumps included; size rotation is cut while writing (synth.output.writers).
Shards of a run are contiguous groups of these files, balanced by their expected weight.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from synth.generate.scenario import Rotation
from synth.generate.zone import Zone, as_zone
from synth.output.names import ACTIVE


@dataclass(frozen=True)
class Stretch:
    """A file's worth of time: lines with times in [t0, t1) go to ``name``."""

    name: str
    t0: int
    t1: int


def rotation_period(rotation: Rotation) -> tuple[int, str]:
    """Seconds per file and the date stamp of its name, for day and hour rotation."""
    return (86400, "%Y%m%d") if rotation.kind == "day" else (3600, "%Y%m%d%H")


def next_boundary(t: int, rotation: Rotation, tz: int | str | Zone) -> int:
    """The first local midnight (or hour) after ``t``, in the zone written in the lines.

    In a zone with daylight-saving time the local clock jumps: a boundary the clock skips
    (spring) is the moment of the jump, and the hour that repeats in autumn is a file of its
    own, so every file holds one stretch of the clock as it was written, in UTC order.
    """
    zone = as_zone(tz)
    period, _ = rotation_period(rotation)
    while True:
        offset = zone.offset(t)
        found = ((t + offset) // period + 1) * period - offset
        changes = [] if zone.fixed else zone.transitions(t + 1, found + 1)
        if not changes:
            return found
        at, after = changes[0]
        crossed = (at + after) // period != (at - 1 + offset) // period
        if at == found or crossed or (rotation.kind == "hour" and after < offset):
            return at
        t = at  # the clock moved within the day: the boundary is on the new clock


def dated_name(t0: int, rotation: Rotation, tz: int | str | Zone) -> str:
    """``access.log-YYYYMMDD`` (or ``-YYYYMMDDHH``) of the local day (hour) holding ``t0``."""
    local = as_zone(tz).local(t0)
    return f"{ACTIVE}-{local.strftime(rotation_period(rotation)[1])}"


def unique_name(name: str, taken: Collection[str]) -> str:
    """The autumn hour that repeats gives a second file of the same local hour:
    ``access.log-2026102502`` then ``access.log-2026102502.1``, in time and name order."""
    if name not in taken:
        return name
    k = 1
    while f"{name}.{k}" in taken:
        k += 1
    return f"{name}.{k}"


def plan_stretches(start: int, end: int, rotation: Rotation, tz: int | str | Zone) -> list[Stretch]:
    """Files of a time-rotated run, oldest first; size and no rotation give one stretch."""
    if rotation.kind in ("none", "size"):
        return [Stretch(ACTIVE, start, end)]
    zone = as_zone(tz)
    edges = [start]
    while True:
        edge = next_boundary(edges[-1], rotation, zone)
        if edge >= end:
            break
        edges.append(edge)
    edges.append(end)
    last = len(edges) - 2
    names: list[str] = []
    taken: set[str] = set()  # a set: ten years of hours are 87,600 names
    for i, t0 in enumerate(edges[:-1]):
        names.append(ACTIVE if i == last else unique_name(dated_name(t0, rotation, zone), taken))
        taken.add(names[-1])
    return [Stretch(name, t0, t1) for name, t0, t1 in zip(names, edges, edges[1:])]


def shard_stretches(stretches: list[Stretch], weights: list[float], k: int, n: int) -> list[Stretch]:
    """The k-th of n contiguous groups of files, cut so that the heaviest group is as light as
    possible (the linear partition problem); with fewer files than shards, one file each."""
    m = len(stretches)
    if m <= n:
        return stretches[k - 1:k]
    if m > 400:  # many small files (a year of hours): cutting at k/n of the weight is as good
        total = sum(weights) or 1.0
        cumulative, group = 0.0, []
        for stretch, weight in zip(stretches, weights):
            if k - 1 <= (cumulative + weight / 2) / total * n < k:
                group.append(stretch)
            cumulative += weight
        return group
    prefix = [0.0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    # best[j][i]: the lightest heaviest group splitting the first i files into j groups.
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    cut = [[0] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for j in range(1, n + 1):
        for i in range(j, m + 1):
            for h in range(j - 1, i):
                cost = max(best[j - 1][h], prefix[i] - prefix[h])
                if cost < best[j][i]:
                    best[j][i], cut[j][i] = cost, h
    bounds, i = [], m
    for j in range(n, 0, -1):
        bounds.append((cut[j][i], i))
        i = cut[j][i]
    lo, hi = bounds[::-1][k - 1]
    return stretches[lo:hi]
