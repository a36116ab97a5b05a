"""Reading our output back, independently of the generator's own code."""

from __future__ import annotations

import calendar
import json
import re
from pathlib import Path

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}

# Apache combined, strictly: every quoted value may hold escaped characters but no bare quote.
COMBINED_RE = re.compile(
    r'^(?P<client>[0-9a-f.:]+) (?P<ident>-) (?P<user>-) '
    r'\[(?P<day>\d{2})/(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/(?P<year>\d{4}):'
    r'(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2}) (?P<tz>[+-]\d{4})\] '
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>[1-5]\d\d) (?P<bytes>[1-9]\d*|-) '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)"$')
PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def truth(out: Path) -> dict:
    return json.loads((out / "anomalies.json").read_text())


def files_in_order(out: Path) -> list[Path]:
    return [out / f["name"] for f in manifest(out)["files"]]


def all_bytes(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in files_in_order(out))


def all_lines(out: Path) -> list[str]:
    return all_bytes(out).decode("ascii").splitlines()


def epoch_seconds(m: re.Match) -> int:
    """UTC epoch seconds of a parsed line's %t, its zone offset applied."""
    local = calendar.timegm((int(m["year"]), MONTHS[m["mon"]], int(m["day"]),
                             int(m["hour"]), int(m["minute"]), int(m["second"])))
    tz = m["tz"]
    offset = (int(tz[1:3]) * 3600 + int(tz[3:5]) * 60) * (-1 if tz[0] == "-" else 1)
    return local - offset


_TIME_RE = re.compile(rb"\[(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")


def line_times(data: bytes) -> list[int]:
    """UTC epoch seconds of every line in a block of log bytes (fast: the time field only)."""
    out = []
    for d, mon, y, h, mi, s, tz in _TIME_RE.findall(data):
        local = calendar.timegm((int(y), MONTHS[mon.decode()], int(d), int(h), int(mi), int(s)))
        offset = (int(tz[1:3]) * 3600 + int(tz[3:5]) * 60) * (-1 if tz[:1] == b"-" else 1)
        out.append(local - offset)
    return out
