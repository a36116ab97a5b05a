"""strftime(3) as Apache's ``%{format}t`` writes it (C locale), and the same format read back.

Apache formats ``%{format}t`` with ``apr_strftime``, which hands the format to the C library's
``strftime`` in the server's (C) locale: English names, ``%c`` as ``Sun Nov 29 12:57:57 2026``.
Every conversion glibc documents is written here by our own code (no locale, no process time
zone), with the regex that matches it and, where java.time can read it, the pattern
Elasticsearch's date processor takes.

    >>> import datetime as dt
    >>> when = dt.datetime(2026, 11, 29, 12, 57, 57, tzinfo=dt.timezone.utc)
    >>> format_time("%d/%b/%Y:%T %z", when)
    '29/Nov/2026:12:57:57 +0000'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


class StrftimeError(ValueError):
    """A conversion strftime does not have."""


def _zone(when: dt.datetime) -> str:
    offset = when.utcoffset() or dt.timedelta(0)
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _zone_name(when: dt.datetime) -> str:
    # A fixed offset has no name of its own; glibc writes the abbreviation TZ gives, and a
    # server run with TZ=UTC writes UTC.
    return "UTC" if not when.utcoffset() else _zone(when)


def _week_sunday(when: dt.datetime) -> int:  # %U
    yday = when.timetuple().tm_yday - 1
    return (yday + 7 - (when.isoweekday() % 7)) // 7


def _week_monday(when: dt.datetime) -> int:  # %W
    yday = when.timetuple().tm_yday - 1
    return (yday + 7 - when.weekday()) // 7


def _hour12(when: dt.datetime) -> int:
    return (when.hour + 11) % 12 + 1


@dataclass(frozen=True)
class Conversion:
    write: Callable[[dt.datetime], str]
    regex: str
    java: str | None  # how java.time reads it; None when it cannot (or, for the space-padded
    # numbers, when our offline engine cannot: java.time's pad modifier ``ppd`` is not in it)


D2, D3, D4 = "\\d{2}", "\\d{3}", "\\d{4}"
SPACED = "[ \\d]\\d"  # a number padded with a space to two places
_MON = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"

CONVERSIONS: dict[str, Conversion] = {
    "a": Conversion(lambda w: DAYS[w.weekday()][:3], _DAY, "EEE"),
    "A": Conversion(lambda w: DAYS[w.weekday()], "[A-Z][a-z]+day", "EEEE"),
    "b": Conversion(lambda w: MONTHS[w.month - 1][:3], _MON, "MMM"),
    "h": Conversion(lambda w: MONTHS[w.month - 1][:3], _MON, "MMM"),
    "B": Conversion(lambda w: MONTHS[w.month - 1], "[A-Z][a-z]+", "MMMM"),
    "c": Conversion(lambda w: f"{DAYS[w.weekday()][:3]} {MONTHS[w.month - 1][:3]} {w.day:2d} "
                              f"{w.hour:02d}:{w.minute:02d}:{w.second:02d} {w.year}",
                    f"{_DAY} {_MON} {SPACED} {D2}:{D2}:{D2} {D4}", None),
    "C": Conversion(lambda w: f"{w.year // 100:02d}", D2, None),
    "d": Conversion(lambda w: f"{w.day:02d}", D2, "dd"),
    "D": Conversion(lambda w: f"{w.month:02d}/{w.day:02d}/{w.year % 100:02d}", f"{D2}/{D2}/{D2}", "MM/dd/yy"),
    "e": Conversion(lambda w: f"{w.day:2d}", SPACED, None),
    "F": Conversion(lambda w: f"{w.year:04d}-{w.month:02d}-{w.day:02d}", f"{D4}-{D2}-{D2}", "yyyy-MM-dd"),
    "g": Conversion(lambda w: f"{w.isocalendar()[0] % 100:02d}", D2, None),
    "G": Conversion(lambda w: f"{w.isocalendar()[0]:04d}", D4, None),
    "H": Conversion(lambda w: f"{w.hour:02d}", D2, "HH"),
    "I": Conversion(lambda w: f"{_hour12(w):02d}", D2, "hh"),
    "j": Conversion(lambda w: f"{w.timetuple().tm_yday:03d}", D3, "DDD"),
    "k": Conversion(lambda w: f"{w.hour:2d}", SPACED, None),
    "l": Conversion(lambda w: f"{_hour12(w):2d}", SPACED, None),
    "m": Conversion(lambda w: f"{w.month:02d}", D2, "MM"),
    "M": Conversion(lambda w: f"{w.minute:02d}", D2, "mm"),
    "n": Conversion(lambda w: "\n", "\\n", None),
    "p": Conversion(lambda w: "AM" if w.hour < 12 else "PM", "[AP]M", "a"),
    "P": Conversion(lambda w: "am" if w.hour < 12 else "pm", "[ap]m", None),
    "r": Conversion(lambda w: f"{_hour12(w):02d}:{w.minute:02d}:{w.second:02d} {'AM' if w.hour < 12 else 'PM'}",
                    f"{D2}:{D2}:{D2} [AP]M", "hh:mm:ss a"),
    "R": Conversion(lambda w: f"{w.hour:02d}:{w.minute:02d}", f"{D2}:{D2}", "HH:mm"),
    "s": Conversion(lambda w: str(int(w.timestamp())), "\\d+", None),
    "S": Conversion(lambda w: f"{w.second:02d}", D2, "ss"),
    "t": Conversion(lambda w: "\t", "\\t", None),
    "T": Conversion(lambda w: f"{w.hour:02d}:{w.minute:02d}:{w.second:02d}", f"{D2}:{D2}:{D2}", "HH:mm:ss"),
    "u": Conversion(lambda w: str(w.isoweekday()), "[1-7]", None),
    "U": Conversion(lambda w: f"{_week_sunday(w):02d}", D2, None),
    "V": Conversion(lambda w: f"{w.isocalendar()[1]:02d}", D2, None),
    "w": Conversion(lambda w: str(w.isoweekday() % 7), "[0-6]", None),
    "W": Conversion(lambda w: f"{_week_monday(w):02d}", D2, None),
    "x": Conversion(lambda w: f"{w.month:02d}/{w.day:02d}/{w.year % 100:02d}", f"{D2}/{D2}/{D2}", "MM/dd/yy"),
    "X": Conversion(lambda w: f"{w.hour:02d}:{w.minute:02d}:{w.second:02d}", f"{D2}:{D2}:{D2}", "HH:mm:ss"),
    "y": Conversion(lambda w: f"{w.year % 100:02d}", D2, "yy"),
    "Y": Conversion(lambda w: str(w.year), D4, "yyyy"),
    "z": Conversion(_zone, "[+-]\\d{4}", "Z"),
    "Z": Conversion(_zone_name, "(?:UTC|[+-]\\d{4})", None),
    "%": Conversion(lambda w: "%", "%", None),
}
# glibc's E and O modifiers ask for the locale's alternative forms; in the C locale they are
# the plain ones (%Ec is %c, %Oy is %y).
_MODIFIED = {"E": "cCxXyY", "O": "deHImMSuUVwWy"}


def pieces(fmt: str) -> list[Conversion | str]:
    """The format as conversions and literal text, in order."""
    out: list[Conversion | str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] != "%":
            out.append(fmt[i])
            i += 1
            continue
        if i + 1 >= len(fmt):
            raise StrftimeError(f"the time format {fmt!r} ends in a lone %")
        code = fmt[i + 1]
        if code in _MODIFIED and i + 2 < len(fmt) and fmt[i + 2] in _MODIFIED[code]:
            code = fmt[i + 2]
            i += 1
        if code not in CONVERSIONS:
            raise StrftimeError(f"strftime has no %{code} (in the time format {fmt!r}; it has "
                                f"{' '.join('%' + c for c in CONVERSIONS)}, with E and O modifiers)")
        out.append(CONVERSIONS[code])
        i += 2
    return out


def format_time(fmt: str, when: dt.datetime) -> str:
    """``when`` (aware, in the log's zone) written with a strftime format."""
    return "".join(p if isinstance(p, str) else p.write(when) for p in pieces(fmt))


def _quote(text: str) -> str:
    return "".join(f"'{c}'" if c.isalpha() else "''" if c == "'" else c for c in text)


def to_java(fmt: str) -> str | None:
    """The java.time pattern that reads the format, or None where java.time cannot."""
    java = []
    for piece in pieces(fmt):
        if isinstance(piece, str):
            java.append(_quote(piece))
        elif piece.java is None:
            if piece.regex == "%":
                java.append("%")
                continue
            return None
        else:
            java.append(piece.java)
    return "".join(java)


def regex(fmt: str, literal: Callable[[str], str]) -> str:
    """The regex that matches the format's output; ``literal`` escapes literal text."""
    return "".join(literal(p) if isinstance(p, str) else p.regex for p in pieces(fmt))
