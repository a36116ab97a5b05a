"""Time zones: the zone a log is written in, as a fixed offset or an IANA name.

``--tz`` takes ``+0530``, ``+05:30``, ``-08``, ``Z``, ``UTC`` or an IANA name
(``Europe/Paris``, ``America/New_York``, read from the system's zone database through
``zoneinfo``). A named zone's offset changes at its daylight-saving transitions, and every
piece that writes local time asks this module for the offset of each second: the ``%t``
stamp, day and hour rotation, the histogram. Time order is always UTC order, so the hour
that repeats in autumn holds its lines in the order they happened.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import lru_cache

import numpy as np

_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)?")


def offset_text(seconds: int) -> str:
    """``+0530`` for 19,800 seconds: the form Apache's %t writes."""
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def normal_zone(value: object) -> str:
    """The canonical text of a zone: ``+HHMM`` for offsets (``Z`` and ``UTC`` are ``+0000``),
    the IANA name as the database spells it otherwise. Raises ValueError for anything else."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be an offset like +0000, +05:30 or -08, or a zone name like Europe/Paris, got {value!r}")
    text = value.strip()
    if text.upper() in ("Z", "UTC", "GMT"):
        return "+0000"
    m = _OFFSET.fullmatch(text)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise ValueError(f"must be an offset from -1400 to +1400, got {value!r}")
        return offset_text((-1 if m.group(1) == "-" else 1) * (hours * 3600 + minutes * 60))
    if "/" in text or text.isalpha():
        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            near = _near_zone(text)
            hint = f" (did you mean {near}?)" if near else ""
            raise ValueError(f"no time zone named {text!r}{hint}") from None
        return text
    raise ValueError(f"must be an offset like +0000, +05:30 or -08, or a zone name like Europe/Paris, got {value!r}")


def _near_zone(text: str) -> str | None:
    import difflib
    names = {n.lower(): n for n in zoneinfo.available_timezones()}
    found = difflib.get_close_matches(text.lower(), list(names), n=1, cutoff=0.75)
    return names[found[0]] if found else None


class Zone:
    """Offsets of one zone for any UTC second; fixed zones answer at once, named ones from
    their transitions, found once per hour of the range asked about and kept."""

    def __init__(self, name: str):
        self.name = normal_zone(name)
        self.fixed = self.name[0] in "+-"
        self._info = None if self.fixed else zoneinfo.ZoneInfo(self.name)
        self._fixed_offset = _fixed_seconds(self.name) if self.fixed else 0
        self._hours: dict[int, int] = {}  # offset at the start of each UTC hour looked at
        self._inside: dict[int, tuple[int, int]] = {}  # hour -> (transition second, offset after)

    def __repr__(self) -> str:
        return f"Zone({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Zone) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def _at(self, t: int) -> int:
        assert self._info is not None
        when = dt.datetime.fromtimestamp(t, dt.UTC).astimezone(self._info)
        return int(when.utcoffset().total_seconds())  # type: ignore[union-attr]

    def _hour(self, h: int) -> int:
        if h not in self._hours:
            self._hours[h] = self._at(h * 3600)
        return self._hours[h]

    def offset(self, t: int) -> int:
        """Seconds east of UTC at UTC second ``t``."""
        if self.fixed:
            return self._fixed_offset
        return self._info_offset(int(t))

    def _info_offset(self, t: int) -> int:
        h = t // 3600
        before, after = self._hour(h), self._hour(h + 1)
        if before == after:
            return before
        if h not in self._inside:  # a transition inside this hour: find its second
            lo, hi = h * 3600, h * 3600 + 3600
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if self._at(mid) == before else (lo, mid)
            self._inside[h] = (hi, after)
        at, offset_after = self._inside[h]
        return offset_after if t >= at else before

    def transitions(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """(UTC second, offset from then on) of every change in [lo, hi), oldest first."""
        if self.fixed or hi <= lo:
            return []
        found = []
        for h in range(lo // 3600, (hi - 1) // 3600 + 1):
            if self._hour(h) != self._hour(h + 1):
                self._info_offset(h * 3600)
                at, after = self._inside[h]
                if lo <= at < hi:
                    found.append((at, after))
        return found

    def offsets(self, seconds: np.ndarray) -> np.ndarray:
        """The offset of each UTC second in ``seconds`` (any order)."""
        seconds = np.asarray(seconds, np.int64)
        if self.fixed or seconds.size == 0:
            return np.full(seconds.shape, self._fixed_offset, np.int64)
        lo, hi = int(seconds.min()), int(seconds.max()) + 1
        changes = self.transitions(lo, hi)
        values = np.array([self.offset(lo)] + [o for _, o in changes], np.int64)
        edges = np.array([t for t, _ in changes], np.int64)
        return values[np.searchsorted(edges, seconds, side="right")]

    def dst(self, seconds: np.ndarray) -> np.ndarray:
        """How far each second's offset is ahead of the zone's standard offset (0 for fixed zones)."""
        if self.fixed or np.size(seconds) == 0:
            return np.zeros(np.shape(seconds), np.int64)
        if not hasattr(self, "_standard"):
            self._standard = self.standard_offset(int(np.min(seconds)))
        return self.offsets(seconds) - self._standard

    def standard_offset(self, near: int) -> int:
        """The zone's standard (winter) offset in the year around ``near``: the smaller of its offsets."""
        if self.fixed:
            return self._fixed_offset
        year = 365 * 86400
        return min(self.offset(near - year // 2 + k * year // 12) for k in range(12))

    def text(self, t: int) -> str:
        """``+0200``: the offset at UTC second ``t`` as %t writes it."""
        return offset_text(self.offset(t))

    def local(self, t: int) -> dt.datetime:
        """UTC second ``t`` as a naive local date and time."""
        return dt.datetime.fromtimestamp(t + self.offset(t), dt.UTC).replace(tzinfo=None)

    def tzinfo(self, t: int = 0) -> dt.tzinfo:
        if self._info is not None:
            return self._info
        return dt.timezone(dt.timedelta(seconds=self._fixed_offset))


def _fixed_seconds(text: str) -> int:
    sign = -1 if text[0] == "-" else 1
    return sign * (int(text[1:3]) * 3600 + int(text[3:5]) * 60)


@lru_cache(maxsize=64)
def zone(name: str | int | Zone) -> Zone:
    """The Zone of a name (or of seconds east of UTC, or a Zone itself)."""
    if isinstance(name, Zone):
        return name
    if isinstance(name, int):
        return Zone(offset_text(name))
    return Zone(name)


def as_zone(value: str | int | Zone) -> Zone:
    return value if isinstance(value, Zone) else zone(value)


__all__ = ["Zone", "zone", "as_zone", "normal_zone", "offset_text"]
