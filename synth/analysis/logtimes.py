"""Times as access logs write them, to epoch milliseconds: Apache's ``%t`` one at a time or as
whole numpy columns, ``%{format}t`` (strftime), ``%{sec}t``, ``%{msec}t`` and ISO 8601.

    >>> apache_ms("21/Nov/2026:12:00:00 +0100")
    1795258800000
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from synth.render.logformat import Directive

LEAD = 64  # bytes from a line's start looked at for its "[" (an address, identity and user fit)
MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")


def parse_apache_times(written: np.ndarray) -> dict[str, np.ndarray]:
    """Apache ``%t`` values (``21/Nov/2026:12:00:00 +0100``, 26 bytes, dtype S26) to seconds.

    ``local`` counts the clock time as written as if it were UTC (for hours and weekdays);
    ``utc`` applies the zone; ``minute`` as written; ``valid`` is False for a value that is not
    of that shape or a date that does not exist.
    """
    b = written.view(np.uint8).reshape(-1, 26).astype(np.int64)
    digits = (b >= 48) & (b <= 57)
    shape = (digits[:, [0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25]].all(axis=1)
             & (b[:, 2] == 47) & (b[:, 6] == 47) & (b[:, 11] == 58) & (b[:, 14] == 58) & (b[:, 17] == 58)
             & (b[:, 20] == 32) & ((b[:, 21] == 43) | (b[:, 21] == 45)))

    def number(*positions: int) -> np.ndarray:
        value = np.zeros(len(b), np.int64)
        for position in positions:
            value = value * 10 + b[:, position] - ord("0")
        return value

    month = np.full(len(b), -1, np.int64)
    for i, name in enumerate(MONTHS):
        month[(b[:, 3] == name[0]) & (b[:, 4] == name[1]) & (b[:, 5] == name[2])] = i
    day, year = number(0, 1), number(7, 8, 9, 10)
    hour, minute, second = number(12, 13), number(15, 16), number(18, 19)
    months = np.where(shape & (month >= 0), (year - 1970) * 12 + month, 0)
    first_day = months.astype("M8[M]").astype("M8[D]").astype(np.int64)
    month_days = (months + 1).astype("M8[M]").astype("M8[D]").astype(np.int64) - first_day
    local = (first_day + day - 1) * 86400 + hour * 3600 + minute * 60 + second
    offset = (number(22, 23) * 3600 + number(24, 25) * 60) * np.where(b[:, 21] == ord("-"), -1, 1)
    valid = (shape & (month >= 0) & (day >= 1) & (day <= month_days) & (hour < 24) & (minute < 60)
             & (second <= 60) & (number(24, 25) < 60))
    return {"local": local, "utc": local - offset, "minute": minute, "valid": valid}


def strptime_ms(fmt: str, zoned: bool) -> Any:
    def read(text: str) -> int | None:
        try:
            t = dt.datetime.strptime(text, fmt)
        except ValueError:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)  # a time written without its zone is read as UTC
        return int(t.timestamp()) * 1000 + t.microsecond // 1000
    return read


_MONTH_NUMBER = {name.decode(): i + 1 for i, name in enumerate(MONTHS)}
_APACHE_TIME = re.compile(r"(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def apache_ms(text: str) -> int | None:
    """``21/Nov/2026:12:00:00 +0100`` -> epoch ms (one value; parse_apache_times does arrays)."""
    m = _APACHE_TIME.fullmatch(text)
    if m is None or m.group(2) not in _MONTH_NUMBER or int(m.group(9)) >= 60:
        return None
    day, _, year, hour, minute, second, sign, zh, zm = m.groups()
    if int(second) > 60:  # a leap second is :60, never more (as the block reader holds)
        return None
    try:
        t = dt.datetime(int(year), _MONTH_NUMBER[m.group(2)], int(day), int(hour), int(minute),
                        min(int(second), 59), tzinfo=dt.UTC)
    except ValueError:
        return None
    offset = (int(zh) * 3600 + int(zm) * 60) * (-1 if sign == "-" else 1)
    return (int(t.timestamp()) + (int(second) == 60) - offset) * 1000


def iso_ms(text: str) -> int | None:
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return int(t.timestamp()) * 1000 + t.microsecond // 1000


def time_reader(d: Directive) -> Any:
    """A function: a time as written -> epoch ms, or None when it is not a time."""
    if d.arg is None:
        return apache_ms
    arg = d.arg.split(":", 1)[1] if d.arg.startswith(("begin:", "end:")) else d.arg
    if arg == "sec":
        return lambda text: int(text) * 1000 if text.isdigit() else None
    if arg == "msec":
        return lambda text: int(text) if text.isdigit() else None
    return strptime_ms(arg, "%z" in arg)


def block_times(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each line's ``%t`` read where it is the line's first ``[`` and the 26 bytes after it
    (``arr``: the block as uint8; line i is ``arr[starts[i]:ends[i]]``): ``(found, t_ms)``,
    ``found`` False where the line has no such time there (the caller reads those its slow way).

    Nothing here goes through the block byte by byte but the caller's newline search: the
    first ``LEAD`` bytes of each line are taken at once (rows of a sliding window over the
    block) to find its ``[``, then the 27 bytes from there, and each run of lines of one
    second (they write the same 27 bytes) is parsed once.
    """
    n = len(starts)
    t_ms = np.zeros(n, np.int64)
    found = np.zeros(n, bool)
    if n == 0 or len(arr) < LEAD:
        return _block_times_by_search(arr, starts, ends)
    rows = np.minimum(starts, len(arr) - LEAD)  # a line that starts in the last LEAD bytes is read from before it
    offset = (sliding_window_view(arr, LEAD)[rows] == 91).argmax(axis=1)
    pos = rows + offset
    # The first "[" in the window is the line's first where it is at or after the line's start
    # (a window is never moved back but for the block's last LEAD bytes), before its end, and
    # is a "[" at all (argmax is 0 where there is none).
    has = (arr[pos] == 91) & (pos >= starts) & (pos + 27 < ends)
    at = np.flatnonzero(has)
    if len(at) < n:  # lines whose "[" is further in (or absent): found by a search of the block
        rest = np.flatnonzero(~has)
        more, more_t = _block_times_by_search(arr, starts[rest], ends[rest])
        found[rest], t_ms[rest] = more, more_t
    if len(at):
        taken = sliding_window_view(arr, 27)[pos[at] + 1]
        _stamp_times(taken, at, found, t_ms)
    return found, t_ms


def _changes(words: np.ndarray) -> np.ndarray:
    """Rows (of uint64 words) that differ from the row before them; the first row does."""
    new = np.empty(len(words), bool)
    new[0] = True
    differ = words[1:] != words[:-1]
    np.logical_or(differ[:, 0] | differ[:, 1], differ[:, 2] | differ[:, 3], out=new[1:])  # faster than any(axis=1)
    return new


# The 27 bytes "dd/Mon/yyyy:HH:MM:SS +zzzz]" in four little-endian words: which bits of each are
# the stamp, and which are its day and zone (all but HH:MM:SS, bytes 12 to 19).
_ALL = (1 << 64) - 1
_STAMP_BITS = np.array([_ALL, _ALL, _ALL, (1 << 24) - 1], np.uint64)
_DAY_ZONE_BITS = np.array([_ALL, (1 << 32) - 1, _ALL ^ ((1 << 32) - 1), (1 << 24) - 1], np.uint64)


def _stamp_times(taken: np.ndarray, at: np.ndarray, found: np.ndarray, t_ms: np.ndarray) -> None:
    """Lines ``at`` whose 27 bytes after their "[" are ``taken`` (rows of uint8): ``found``
    and ``t_ms`` set where the row is a time and "]".

    Each run of equal rows (the lines of one second) is read once, and of those, the date and
    zone (``dd/Mon/yyyy:`` and `` +zzzz]``) once for each run of the same day: the time of
    day is arithmetic on its six digits. What is valid is what parse_apache_times says.
    """
    padded = np.zeros((len(taken), 32), np.uint8)
    padded[:, :27] = taken
    words = padded.view(np.uint64)
    new = _changes(words & _STAMP_BITS)
    at_head = np.flatnonzero(new)
    heads = padded[at_head]
    new_day = _changes(words[at_head] & _DAY_ZONE_BITS)
    midnight = heads[new_day, :26].copy()
    midnight[:, 12:20] = np.frombuffer(b"00:00:00", np.uint8)
    days = parse_apache_times(midnight.view("S26").ravel())
    day_of = np.cumsum(new_day) - 1
    digits = heads[:, [12, 13, 15, 16, 18, 19]].astype(np.int64) - 48
    hour, minute, second = digits[:, 0] * 10 + digits[:, 1], digits[:, 2] * 10 + digits[:, 3], digits[:, 4] * 10 + digits[:, 5]
    valid = (days["valid"][day_of] & ((digits >= 0) & (digits <= 9)).all(axis=1) & (heads[:, 14] == 58)
             & (heads[:, 17] == 58) & (hour < 24) & (minute < 60) & (second <= 60) & (heads[:, 26] == 93))
    utc_ms = (days["utc"][day_of] + hour * 3600 + minute * 60 + second) * 1000
    run = np.cumsum(new) - 1
    good = valid[run]
    t_ms[at[good]] = utc_ms[run][good]
    found[at[good]] = True


def _block_times_by_search(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """block_times for lines whose "[" is far in: every "[" of the block found, the first of each line taken."""
    n = len(starts)
    brackets = np.flatnonzero(arr == 91)
    t_ms = np.zeros(n, np.int64)
    found = np.zeros(n, bool)
    if len(brackets) and n:
        k = np.searchsorted(brackets, starts)
        has = k < len(brackets)
        pos = np.where(has, brackets[np.minimum(k, len(brackets) - 1)], 0)
        has &= pos + 27 < ends
        at = np.flatnonzero(has)
        if len(at):
            _stamp_times(arr[pos[at, None] + np.arange(1, 28)], at, found, t_ms)
    return found, t_ms


# ecs_json as synth writes it: each line opens with its @timestamp, UTC to the millisecond.
JSON_STAMP_LEAD = b'{"@timestamp":"'
_JSON_STAMP_BYTES = len(JSON_STAMP_LEAD) + 26  # and "yyyy-MM-ddTHH:mm:ss.SSSZ", its quote, a "," or "}"


def json_block_times(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """block_times for JSON lines: each line's time read where the line opens with
    ``{"@timestamp":"yyyy-MM-ddTHH:mm:ss.SSSZ"`` (then ``,`` or ``}``), as iso_ms reads it:
    ``(found, t_ms)``, ``found`` False for any other line (the caller reads those its slow way,
    as for a time before 1970, where iso_ms rounds a negative time's milliseconds its own way).
    """
    n = len(starts)
    t_ms = np.zeros(n, np.int64)
    found = np.zeros(n, bool)
    fits = np.flatnonzero(ends - starts >= _JSON_STAMP_BYTES)
    if not len(fits):
        return found, t_ms
    b = arr[starts[fits, None] + np.arange(_JSON_STAMP_BYTES)].astype(np.int64)
    lead = len(JSON_STAMP_LEAD)
    shape = (b[:, :lead] == np.frombuffer(JSON_STAMP_LEAD, np.uint8)).all(axis=1)
    s = b[:, lead:]
    digits = (s >= 48) & (s <= 57)
    shape &= (digits[:, [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]].all(axis=1)
              & (s[:, 4] == 45) & (s[:, 7] == 45) & (s[:, 10] == 84) & (s[:, 13] == 58) & (s[:, 16] == 58)
              & (s[:, 19] == 46) & (s[:, 23] == 90) & (s[:, 24] == 34) & ((s[:, 25] == 44) | (s[:, 25] == 125)))

    def number(*positions: int) -> np.ndarray:
        value = np.zeros(len(s), np.int64)
        for position in positions:
            value = value * 10 + s[:, position] - 48
        return value

    year, month, day = number(0, 1, 2, 3), number(5, 6), number(8, 9)
    hour, minute, second, milli = number(11, 12), number(14, 15), number(17, 18), number(20, 21, 22)
    months = np.where(shape & (month >= 1) & (month <= 12) & (year >= 1970), (year - 1970) * 12 + month - 1, 0)
    first_day = months.astype("M8[M]").astype("M8[D]").astype(np.int64)
    month_days = (months + 1).astype("M8[M]").astype("M8[D]").astype(np.int64) - first_day
    valid = (shape & (year >= 1970) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
             & (hour < 24) & (minute < 60) & (second < 60))
    t = ((first_day + day - 1) * 86400 + hour * 3600 + minute * 60 + second) * 1000 + milli
    t_ms[fits[valid]] = t[valid]
    found[fits[valid]] = True
    return found, t_ms


__all__ = ["MONTHS", "parse_apache_times", "apache_ms", "iso_ms", "strptime_ms", "time_reader",
           "block_times", "json_block_times"]
