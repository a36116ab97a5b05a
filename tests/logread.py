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
LINE_RE = re.compile("(?m)" + COMBINED_RE.pattern[:-1] + r"(?: (?P<duration>\d+))?$")
GROUPS = list(LINE_RE.groupindex)
MONTH_NUMBER = {m.encode() if isinstance(m, str) else m: n for m, n in MONTHS.items()}


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates, for whole columns (H. Hinnant's)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def epoch_columns(day, mon, year, hour, minute, second, tz) -> np.ndarray:
    """UTC epoch seconds from the %t pieces as columns of text, the zone offset applied."""
    ints = [np.array(c, dtype=np.int64) if len(c) else np.zeros(0, np.int64) for c in (day, year, hour, minute, second)]
    d, y, h, mi, s = ints
    m = np.array([MONTHS[x] for x in mon], np.int64)
    tz_text = np.array(tz, dtype="U5")
    sign = np.where(np.char.startswith(tz_text, "-"), -1, 1) if len(tz_text) else np.zeros(0, np.int64)
    off_h = np.array([int(x[1:3]) for x in tz], np.int64)
    off_m = np.array([int(x[3:5]) for x in tz], np.int64)
    local = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + s
    return local - sign * (off_h * 3600 + off_m * 60)


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
        t = epoch_columns(cols["day"], cols["mon"], cols["year"], cols["hour"], cols["minute"], cols["second"],
                          cols["tz"])
        url = [r.split(" ")[1] if " " in r else r for r in cols["request"]]
        size = np.array([0 if b == "-" else int(b) for b in cols["bytes"]], np.int64)
        duration = np.array([int(x) if x else 0 for x in cols["duration"]], np.int64)
        return cls(t, np.array(cols["client"], object), np.array(url, object),
                   np.array(cols["status"], dtype=np.int64) if rows else np.zeros(0, np.int64), size,
                   np.array(cols["referer"], object), np.array(cols["agent"], object), duration)

    def take(self, mask: np.ndarray) -> Parsed:
        return Parsed(*(getattr(self, f)[mask] for f in ("t", "client", "url", "status", "size", "referrer", "agent",
                                                          "duration")))
