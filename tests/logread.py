"""Parsed lines of a run as numpy columns, for measuring what an ML job would see.

Independent of the generator's code: one strict regex over the whole text (combined, or
combined with the response time of combined_timing), and the times turned into UTC epoch
seconds with arithmetic on whole columns, so a million lines read back in a couple of seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from helpers import COMBINED_RE, MONTHS, all_bytes

# COMBINED_RE's line, anchored per line over a whole text, with combined_timing's %D optional.
# The time is captured whole: its pieces sit at fixed offsets, read as columns of digits.
_WHOLE_TIME = COMBINED_RE.pattern[:-1].replace(r"\[", r"\[(?P<time>", 1).replace(r"\] ", r")\] ", 1)
for _piece in ("day", "mon", "year", "hour", "minute", "second", "tz"):
    _WHOLE_TIME = _WHOLE_TIME.replace(f"(?P<{_piece}>", "(?:")
LINE_RE = re.compile("(?m)" + _WHOLE_TIME + r"(?: (?P<duration>\d+))?$")
GROUPS = list(LINE_RE.groupindex)
MONTH_NUMBER = {m.encode() if isinstance(m, str) else m: n for m, n in MONTHS.items()}
TIME_WIDTH = len("27/Nov/2026:21:36:02 +0100")
# A month name's three letters as one number, sorted, and the month each stands for.
_MONTH_KEYS, _MONTH_VALUES = map(np.array, zip(*sorted(
    (int.from_bytes(m.encode(), "big"), n) for m, n in MONTHS.items())))


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates, for whole columns (H. Hinnant's)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def epoch_times(times: tuple[str, ...]) -> np.ndarray:
    """UTC epoch seconds from %t's text (``27/Nov/2026:21:36:02 +0100``) as a column, the zone
    offset applied: the digits at their fixed offsets, taken from one block of bytes."""
    chars = np.frombuffer("".join(times).encode("ascii"), np.uint8).reshape(len(times), TIME_WIDTH).astype(np.int64)

    def number(first: int, width: int) -> np.ndarray:
        value = np.zeros(len(times), np.int64)
        for i in range(first, first + width):
            value = value * 10 + chars[:, i] - ord("0")
        return value

    month_key = (chars[:, 3] << 16) | (chars[:, 4] << 8) | chars[:, 5]
    m = _MONTH_VALUES[np.searchsorted(_MONTH_KEYS, month_key)]
    sign = np.where(chars[:, 21] == ord("-"), -1, 1)
    local = days_from_civil(number(7, 4), m, number(0, 2)) * 86400 + number(12, 2) * 3600 + number(15, 2) * 60 \
        + number(18, 2)
    return local - sign * (number(22, 2) * 3600 + number(24, 2) * 60)


@dataclass
class Parsed:
    t: np.ndarray  # UTC epoch seconds
    client: np.ndarray  # object: address text
    url: np.ndarray  # object: request target
    status: np.ndarray  # int
    size: np.ndarray  # int, 0 for "-"
    referrer: np.ndarray  # object
    agent: np.ndarray  # object
    duration: np.ndarray  # int, microseconds (0 without a timing format)

    @classmethod
    def read(cls, out: Path) -> Parsed:
        return cls.parse(all_bytes(out).decode("ascii"))

    @classmethod
    def parse(cls, text: str) -> Parsed:
        rows = LINE_RE.findall(text)
        assert len(rows) == text.count("\n"), "a line is not combined (or combined_timing)"
        cols = dict(zip(GROUPS, zip(*rows))) if rows else {g: () for g in GROUPS}
        t = epoch_times(cols["time"])
        url = [r.split(" ")[1] if " " in r else r for r in cols["request"]]
        size = np.array([0 if b == "-" else int(b) for b in cols["bytes"]], np.int64)
        duration = np.array([int(x) if x else 0 for x in cols["duration"]], np.int64)
        return cls(t, np.array(cols["client"], object), np.array(url, object),
                   np.array(cols["status"], dtype=np.int64) if rows else np.zeros(0, np.int64), size,
                   np.array(cols["referer"], object), np.array(cols["agent"], object), duration)

    def take(self, mask: np.ndarray) -> Parsed:
        return Parsed(*(getattr(self, f)[mask] for f in ("t", "client", "url", "status", "size", "referrer", "agent",
                                                          "duration")))
