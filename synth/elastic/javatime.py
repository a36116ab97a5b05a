"""Dates the way Elasticsearch reads and writes them: java.time patterns and its named formats.

The ``date`` and ``date_index_name`` processors and ``date`` mappings take java.time patterns
(``dd/MMM/yyyy:HH:mm:ss Z``) or named formats (``strict_date_optional_time``, ``epoch_millis``),
joined with ``||``. Elasticsearch builds its pattern formatters with ``Locale.ROOT`` and the
STRICT resolver: month and day names are English, fixed-width fields take exactly their width,
and an impossible date (31 February, second 60) is an error, never rolled over. A pattern is
compiled once into a regex for parsing and a list of printers for formatting.

    >>> fmt = DateFormatter.for_pattern("dd/MMM/yyyy:HH:mm:ss Z")
    >>> fmt.parse("31/Dec/2026:20:00:00 -0800").astimezone(UTC).isoformat()
    '2027-01-01T04:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC
MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_FULL = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
DAYS_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAYS_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Locales whose month and day names are the English ones java.time uses for ROOT.
ENGLISH_LOCALES = {"", "en", "english", "root", "en-us", "en_us", "en-gb", "en_gb"}


class DateFormatError(ValueError):
    """A pattern or format name that cannot be used (a configuration problem)."""


class DateParseError(ValueError):
    """A text that does not match the format (a problem with one document)."""


def java_zone(name: str) -> dt.tzinfo:
    """``ZoneId.of(name)``: ``UTC``, ``Z``, ``+01:00``, ``-0800``, ``UTC+2`` or an IANA id."""
    text = name.strip()
    if text in ("Z", "UTC", "GMT", "UT"):
        return UTC
    m = re.fullmatch(r"(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?", text)
    if m:
        sign = -1 if m[1] == "-" else 1
        seconds = int(m[2]) * 3600 + int(m[3] or 0) * 60 + int(m[4] or 0)
        if seconds > 18 * 3600:
            raise DateFormatError(f"Zone offset not in valid range: {name}")
        return UTC if seconds == 0 else dt.timezone(dt.timedelta(seconds=sign * seconds))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise DateFormatError(f"Unknown time-zone ID: {name}") from None


def check_locale(locale: str) -> None:
    if locale.strip().lower() not in ENGLISH_LOCALES:
        raise DateFormatError(f"locale [{locale}] is not supported here: only English month and day names are")


# -- java.time patterns -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Field:
    letter: str
    count: int


@dataclass(frozen=True)
class _Optional:
    items: tuple


_NUMERIC = set("yuYMLdwHhKkmsS")
_SUPPORTED = set("yuYMLdwHhKkmsSaEZXxV")


def _tokenize(pattern: str) -> list:
    """The pattern as literals (str), fields and optional sections, as DateTimeFormatterBuilder reads it."""
    stack: list[list] = [[]]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch.isascii() and ch.isalpha():
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            if ch not in _SUPPORTED:
                raise DateFormatError(f"Invalid format: [{pattern}]: pattern letter '{ch}' is not supported here")
            stack[-1].append(_Field(ch, j - i))
            i = j
        elif ch == "'":
            j = i + 1
            text = []
            while True:
                if j >= n:
                    raise DateFormatError(f"Invalid format: [{pattern}]: pattern ends with an incomplete string literal")
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            stack[-1].append("".join(text) if text else "'")
            i = j + 1
        elif ch == "[":
            stack.append([])
            i += 1
        elif ch == "]":
            if len(stack) == 1:
                raise DateFormatError(f"Invalid format: [{pattern}]: pattern invalid as it contains ] without previous [")
            items = stack.pop()
            stack[-1].append(_Optional(tuple(items)))
            i += 1
        elif ch in "{}#":
            raise DateFormatError(f"Invalid format: [{pattern}]: pattern includes reserved character: '{ch}'")
        else:
            stack[-1].append(ch)
            i += 1
    while len(stack) > 1:  # an unclosed [ runs to the end of the pattern
        items = stack.pop()
        stack[-1].append(_Optional(tuple(items)))
    return stack[0]


def _names(values: tuple[str, ...]) -> str:
    return "|".join(sorted(values, key=len, reverse=True))


def _field_regex(field: _Field) -> str:
    letter, count = field.letter, field.count
    if letter in "yuY":
        return r"(\d{2})" if count == 2 else rf"([+-]?\d{{{count},19}})"
    if letter in "ML":
        if count >= 4:
            return f"({_names(MONTHS_FULL)})"
        if count == 3:
            return f"({_names(MONTHS_SHORT)})"
    if letter == "S":
        return rf"(\d{{{count}}})"
    if letter in _NUMERIC:
        if count > 2:
            raise DateFormatError(f"Too many pattern letters: {letter}")
        return r"(\d{2})" if count == 2 else r"(\d{1,19})"
    if letter == "a":
        return "(AM|PM|am|pm)"
    if letter == "E":
        return f"({_names(DAYS_FULL)})" if count >= 4 else f"({_names(DAYS_SHORT)})"
    if letter == "Z":
        if count <= 3:
            return r"([+-]\d{4})"
        if count == 5:
            return r"(Z|[+-]\d{2}:\d{2})"
        raise DateFormatError("localized zone offsets (ZZZZ) are not supported here")
    if letter in "Xx":
        zero = "Z|" if letter == "X" else ""
        forms = {1: r"[+-]\d{2}(?:\d{2})?", 2: r"[+-]\d{4}", 3: r"[+-]\d{2}:\d{2}",
                 4: r"[+-]\d{4}(?:\d{2})?", 5: r"[+-]\d{2}:\d{2}(?::\d{2})?"}
        if count not in forms:
            raise DateFormatError(f"Too many pattern letters: {letter}")
        return f"({zero}{forms[count]})"
    if letter == "V":
        if count != 2:
            raise DateFormatError("Pattern letter count must be 2: V")
        return r"(Z|[+-]\d{2}:\d{2}|[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*)"
    raise DateFormatError(f"pattern letter '{letter}' is not supported here")


@lru_cache(maxsize=4096)
def _offset_seconds(text: str) -> int:
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes, seconds = int(digits[0:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if hours > 18 or minutes > 59 or seconds > 59:
        raise DateParseError(f"invalid zone offset [{text}]")
    return sign * (hours * 3600 + minutes * 60 + seconds)


def _reader(field: _Field) -> tuple[str, Callable[[str], object]]:
    """Which parsed value a field sets, and how its text becomes that value."""
    letter, count = field.letter, field.count
    if letter in "yu":
        return "year", (lambda raw: 2000 + int(raw)) if count == 2 else int
    if letter == "Y":  # week-based year (ISO weeks: Monday first, week 1 holds 4 January)
        return "week_year", (lambda raw: 2000 + int(raw)) if count == 2 else int
    if letter == "w":
        return "week", int
    if letter in "ML":
        if count >= 3:
            names = MONTHS_FULL if count >= 4 else MONTHS_SHORT
            return "month", lambda raw: names.index(raw) + 1
        return "month", int
    simple = {"d": "day", "H": "hour", "m": "minute", "s": "second"}
    if letter in simple:
        return simple[letter], int
    if letter == "k":
        return "hour", lambda raw: int(raw) % 24
    if letter in "hK":
        return "hour12", (lambda raw: int(raw) % 12) if letter == "h" else int
    if letter == "S":
        return "micro", lambda raw: int((raw + "000000")[:6])
    if letter == "a":
        return "pm", lambda raw: raw.upper() == "PM"
    if letter == "E":
        days = DAYS_FULL if count >= 4 else DAYS_SHORT
        return "weekday", days.index
    if letter in "ZXx":
        return "offset", _offset_seconds
    return "zone", java_zone


def _printer(field: _Field) -> Callable[[dt.datetime], str]:
    """How a field is written from a datetime."""
    letter, count = field.letter, field.count
    if letter in "yu":
        return (lambda w: f"{w.year % 100:02d}") if count == 2 else (lambda w: str(w.year).zfill(count))
    if letter == "Y":
        return ((lambda w: f"{w.isocalendar()[0] % 100:02d}") if count == 2
                else (lambda w: str(w.isocalendar()[0]).zfill(count)))
    if letter == "w":
        return lambda w: str(w.isocalendar()[1]).zfill(count)
    if letter in "ML" and count >= 3:
        names = MONTHS_FULL if count >= 4 else MONTHS_SHORT
        return lambda w: names[w.month - 1]
    numbers = {"M": "month", "L": "month", "d": "day", "H": "hour", "m": "minute", "s": "second"}
    if letter in numbers:
        attribute = numbers[letter]
        return lambda w: str(getattr(w, attribute)).zfill(count)
    if letter == "k":
        return lambda w: str(w.hour or 24).zfill(count)
    if letter == "h":
        return lambda w: str((w.hour % 12) or 12).zfill(count)
    if letter == "K":
        return lambda w: str(w.hour % 12).zfill(count)
    if letter == "S":
        return lambda w: f"{w.microsecond:06d}000"[:count]
    if letter == "a":
        return lambda w: "PM" if w.hour >= 12 else "AM"
    if letter == "E":
        days = DAYS_FULL if count >= 4 else DAYS_SHORT
        return lambda w: days[w.weekday()]
    if letter == "V":
        return lambda w: getattr(w.tzinfo, "key", None) or _offset_text(w, "X", 5)
    return lambda w: _offset_text(w, letter, count)


class JavaPattern:
    """One java.time pattern, compiled once into a regex and readers (to parse) and into
    printers (to format); optional sections are always printed, as java.time does."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.tokens = _tokenize(pattern)
        self.readers: list[tuple[str, Callable[[str], object]]] = []
        self.printers: list[str | Callable[[dt.datetime], str]] = []
        self.regex = re.compile(self._compile(self.tokens) + r"\Z")
        self.format: Callable[[dt.datetime], str] = _compiled_printer(self.tokens, self.printers)
        self.parse: Callable[..., dt.datetime] = _compiled_parser(self)

    def _compile(self, tokens: tuple | list) -> str:
        parts = []
        for token in tokens:
            if isinstance(token, str):
                parts.append(re.escape(token))
                self.printers.append(token)
            elif isinstance(token, _Optional):
                parts.append(f"(?:{self._compile(token.items)})?")
            else:
                parts.append(_field_regex(token))
                self.readers.append(_reader(token))
                self.printers.append(_printer(token))
        return "".join(parts)

    def parse_fields(self, text: str) -> dict[str, object]:
        m = self.regex.match(text)
        if not m:
            raise DateParseError(f"Text '{text}' could not be parsed with pattern [{self.pattern}]")
        values: dict[str, object] = {}
        for (key, read), raw in zip(self.readers, m.groups()):
            if raw is not None:
                values[key] = read(raw)
        return values


def _flat_fields(tokens: tuple | list) -> list:
    """The fields and literals in printing order, optional sections opened."""
    out: list = []
    for token in tokens:
        out.extend(_flat_fields(token.items) if isinstance(token, _Optional) else [token])
    return out


_TWO = tuple(f"{i:02d}" for i in range(100))
_THREE = tuple(f"{i:03d}" for i in range(1000))


def _compiled_printer(tokens: list, printers: list) -> Callable[[dt.datetime], str]:
    """The printers of a pattern as one f-string (two- and three-digit numbers from tables, the
    rest called): what ``"".join(printer(when) ...)`` gives, in one call. Built once per pattern."""
    env: dict[str, object] = {"D2": _TWO, "D3": _THREE, "UTC": UTC}
    lines, pieces = [], []
    for k, (token, printer) in enumerate(zip(_flat_fields(tokens), printers, strict=True)):
        if isinstance(token, str):
            env[f"L{k}"] = token
            pieces.append(f"{{L{k}}}")
            continue
        letter, count = token.letter, token.count
        attribute = {"M": "month", "L": "month", "d": "day", "H": "hour", "m": "minute", "s": "second"}.get(letter)
        if letter in "yu" and count != 2:
            # str(year).zfill(count): the digits alone once there are enough of them
            lines.append(f"    y{k} = str(w.year) if w.year >= {10 ** (count - 1)} else str(w.year).zfill({count})")
            pieces.append(f"{{y{k}}}")
        elif letter in "yu":
            pieces.append("{D2[w.year % 100]}")
        elif letter in "ML" and count >= 3:
            env[f"N{k}"] = MONTHS_FULL if count >= 4 else MONTHS_SHORT
            pieces.append(f"{{N{k}[w.month - 1]}}")
        elif attribute is not None:
            pieces.append(f"{{D2[w.{attribute}]}}" if count == 2 else f"{{w.{attribute}}}")
        elif letter == "S" and count == 3:
            pieces.append("{D3[w.microsecond // 1000]}")
        elif letter == "X" or (letter == "Z" and count == 5):
            env[f"P{k}"] = printer  # a zero offset is written Z
            pieces.append(f"{{'Z' if w.tzinfo is UTC else P{k}(w)}}")
        else:
            env[f"P{k}"] = printer
            pieces.append(f"{{P{k}(w)}}")
    source = "def format(w):\n" + "".join(line + "\n" for line in lines) + "    return f\"" + "".join(pieces) + "\"\n"
    namespace: dict[str, object] = {}
    exec(compile(source, "<date printer>", "exec"), env, namespace)  # noqa: S102 (our own code, from the pattern's fields)
    return namespace["format"]  # type: ignore[return-value]


_DIRECT = ("year", "month", "day", "hour", "minute", "second", "micro", "offset")


def _compiled_parser(pattern: JavaPattern) -> Callable[..., dt.datetime]:
    """``resolve(parse_fields(text), zone, default_year)`` in one generated function, for the
    patterns that set only the plain fields (every one of the formats of access logs): the
    same readers in the same order, the same checks, no dict between them."""
    keys = [key for key, _read in pattern.readers]
    if not set(keys) <= set(_DIRECT):
        return lambda text, zone, default_year=1970: resolve(pattern.parse_fields(text), zone, default_year)
    env: dict[str, object] = {"match": pattern.regex.match, "DateParseError": DateParseError, "datetime": dt.datetime,
                              "fixed_zone": fixed_zone, "pattern": pattern.pattern}
    out = ["def parse(text, zone, default_year=1970):",
           "    m = match(text)",
           "    if not m:",
           "        raise DateParseError(f\"Text '{text}' could not be parsed with pattern [{pattern}]\")",
           "    g = m.groups()",
           "    year, month, day, hour, minute, second, micro, offset = default_year, 1, 1, 0, 0, 0, 0, None"]
    for k, (key, read) in enumerate(pattern.readers):
        env[f"r{k}"] = read
        out += [f"    if g[{k}] is not None:", f"        {key} = r{k}(g[{k}])"]
    out += ["    tz = zone if offset is None else fixed_zone(offset)",
            "    try:",
            "        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute), int(second), "
            "int(micro), tz)",
            "    except ValueError as e:",
            "        raise DateParseError(str(e)) from None"]
    namespace: dict[str, object] = {}
    exec(compile("\n".join(out) + "\n", "<date parser>", "exec"), env, namespace)  # noqa: S102 (our own code)
    return namespace["parse"]  # type: ignore[return-value]


def _offset_text(when: dt.datetime, letter: str, count: int) -> str:
    offset = when.utcoffset() or dt.timedelta(0)
    total = int(offset.total_seconds())
    if total == 0 and (letter == "X" or (letter == "Z" and count == 5)):
        return "Z"
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    if letter == "Z":
        return f"{sign}{hours:02d}:{minutes:02d}" if count == 5 else f"{sign}{hours:02d}{minutes:02d}"
    if count == 1:
        return f"{sign}{hours:02d}" + (f"{minutes:02d}" if minutes else "")
    if count in (2, 4):
        return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if count == 4 and seconds else "")
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if count == 5 and seconds else "")


@cache
def fixed_zone(seconds: int) -> dt.tzinfo:
    return UTC if seconds == 0 else dt.timezone(dt.timedelta(seconds=seconds))


def resolve(values: dict, zone: dt.tzinfo, default_year: int = 1970) -> dt.datetime:
    """Parsed fields as an aware datetime, as Elasticsearch's DateFormatters.from does it.

    A missing date defaults to 1 January of ``default_year``, a missing time to midnight; the
    zone is the parsed offset or zone, else ``zone``. STRICT: impossible values are errors.
    """
    hour = values.get("hour")
    if hour is None and "hour12" in values:
        hour = values["hour12"] + (12 if values.get("pm") else 0)
    year, month, day = values.get("year", default_year), values.get("month", 1), values.get("day", 1)
    week_based = "week_year" in values or "week" in values
    if week_based:
        # A week-based date: the day is the week's first (Monday) unless a day of week is given.
        try:
            date = dt.date.fromisocalendar(int(values.get("week_year", default_year)), int(values.get("week", 1)),
                                           int(values.get("weekday", 0)) + 1)
        except ValueError as e:
            raise DateParseError(str(e)) from None
        year, month, day = date.year, date.month, date.day
    try:
        local = dt.datetime(int(year), int(month), int(day), int(hour or 0),
                            int(values.get("minute", 0)), int(values.get("second", 0)),
                            int(values.get("micro", 0)))
    except ValueError as e:
        raise DateParseError(str(e)) from None
    if not week_based and "weekday" in values and values["weekday"] != local.weekday():
        raise DateParseError("Conflict found: day-of-week does not match the date")
    if "offset" in values:
        return local.replace(tzinfo=fixed_zone(values["offset"]))
    return local.replace(tzinfo=values.get("zone", zone))


# -- named formats and ``||`` -------------------------------------------------------------------

_ISO_LENIENT = re.compile(
    r"([+-]?\d{4,9})(?:-(\d{1,2})(?:-(\d{1,2})(?:T(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,9}))?)?)?)?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?\Z")
_ISO_STRICT = re.compile(
    r"([+-]?\d{4,9})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?\Z")


def _iso_parser(regex: re.Pattern) -> Callable[..., dt.datetime]:
    def parse(text: str, zone: dt.tzinfo, default_year: int = 1970) -> dt.datetime:
        m = regex.match(text)
        if not m:
            raise DateParseError(f"failed to parse date field [{text}] with format [strict_date_optional_time]")
        year, month, day, hour, minute, second, fraction, offset = m.groups()
        # resolve() of these fields, without the dict: the offset is read first, then the
        # date is checked.
        micro = int((fraction + "000000")[:6]) if fraction else 0
        seconds = _offset_seconds(offset) if offset else None
        tz = zone if seconds is None else fixed_zone(seconds)
        try:
            return dt.datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                               int(second or 0), micro, tz)
        except ValueError as e:
            raise DateParseError(str(e)) from None
    return parse


def _epoch(scale: int) -> Callable[..., dt.datetime]:
    def parse(text: str, zone: dt.tzinfo, default_year: int = 1970) -> dt.datetime:
        if not re.fullmatch(r"-?\d+(?:\.\d+)?", text):
            raise DateParseError(f"failed to parse date field [{text}] as epoch")
        micros = int(Decimal(text) * (1_000_000 // scale))
        try:
            return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=micros)
        except OverflowError:
            raise DateParseError(f"date [{text}] is out of range") from None
    return parse


ISO_PRINT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
_NAMED: dict[str, tuple[Callable[..., dt.datetime], str]] = {
    "strict_date_optional_time": (_iso_parser(_ISO_STRICT), ISO_PRINT),
    "strict_date_optional_time_nanos": (_iso_parser(_ISO_STRICT), ISO_PRINT),
    "date_optional_time": (_iso_parser(_ISO_LENIENT), ISO_PRINT),
    "iso8601": (_iso_parser(_ISO_LENIENT), ISO_PRINT),
    "epoch_millis": (_epoch(1000), "epoch_millis"),
    "epoch_second": (_epoch(1), "epoch_second"),
}


class DateFormatter:
    """``DateFormatter.forPattern``: one or more formats joined by ``||``, tried in order."""

    def __init__(self, spec: str):
        self.spec = spec
        self.parsers: list[Callable[..., dt.datetime]] = []
        self.printer: Callable[[dt.datetime], str] | None = None
        for part in spec.split("||"):
            name = part.strip()
            if name.lower() in _NAMED or name in _NAMED:
                parse, printer = _NAMED[name.lower()]
                self.parsers.append(parse)
                self.printer = self.printer or _named_printer(printer)
            elif re.fullmatch(r"[a-z]+(?:_[a-z]+)+", name):
                raise DateFormatError(f"the named date format [{name}] is not supported here")
            else:
                pattern = JavaPattern(name)
                self.parsers.append(pattern.parse)
                self.printer = self.printer or pattern.format
        if not self.parsers:
            raise DateFormatError(f"Invalid format: [{spec}]")

    @classmethod
    def for_pattern(cls, spec: str) -> DateFormatter:
        return cls(spec)

    def parse(self, text: str, zone: dt.tzinfo = UTC, default_year: int = 1970) -> dt.datetime:
        """The first format that reads ``text``; a text without a zone is in ``zone``, one without
        a year in ``default_year``."""
        error: Exception | None = None
        for parse in self.parsers:
            try:
                return parse(text, zone, default_year)
            except DateParseError as e:
                error = error or e
        raise DateParseError(f"failed to parse date field [{text}] with format [{self.spec}]") from error

    def format(self, when: dt.datetime) -> str:
        assert self.printer is not None
        return self.printer(when)


@lru_cache(maxsize=256)
def formatter(spec: str) -> DateFormatter:
    """A DateFormatter per spec, built once (building one compiles its patterns)."""
    return DateFormatter(spec)


def _named_printer(kind: str) -> Callable[[dt.datetime], str]:
    if kind == "epoch_millis":
        return lambda when: str(int(when.timestamp() * 1000))
    if kind == "epoch_second":
        return lambda when: str(int(when.timestamp()))
    return JavaPattern(kind).format


# -- the date processor's formats ----------------------------------------------------------------

def _tai64n(text: str, zone: dt.tzinfo, default_year: int = 1970) -> dt.datetime:
    hexa = text[1:] if text.startswith("@") else text
    if not re.fullmatch(r"[0-9a-fA-F]{24}", hexa):
        raise DateParseError(f"[{text}] is not a TAI64N label")
    # DateFormat.TAI64N: the label's seconds (2^62 taken off by skipping the first digit) less
    # the 10 s TAI was ahead of UTC in 1972, and the nanoseconds cut to milliseconds.
    seconds = int(hexa[1:16], 16)
    millis = seconds * 1000 - 10_000 + int(hexa[16:], 16) // 1_000_000
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=millis)


def _unix(text: str, zone: dt.tzinfo, default_year: int = 1970) -> dt.datetime:
    try:
        return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=round(float(text) * 1_000_000))
    except (ValueError, OverflowError):
        raise DateParseError(f"[{text}] is not a UNIX time") from None


def date_processor_parser(fmt: str, default_year: int = 1970) -> Callable[[str, dt.tzinfo], dt.datetime]:
    """One entry of the ``formats`` of the date processors (``DateFormat.fromString``): ``ISO8601``,
    ``UNIX``, ``UNIX_MS``, ``TAI64N`` or a java.time pattern; a date without a year is in ``default_year``."""
    special = {"ISO8601": _NAMED["iso8601"][0], "UNIX": _unix, "UNIX_MS": _epoch(1000), "TAI64N": _tai64n}
    parse = special[fmt] if fmt in special else formatter(fmt).parse
    return lambda text, zone: parse(text, zone, default_year)


def java_datetime_text(when: dt.datetime) -> str:
    """``ZonedDateTime.toString()`` for a UTC time, as mustache writes ``_ingest.timestamp``.

    java.time drops zero seconds and fractions and prints the fraction in groups of three:
    ``2026-11-28T12:00Z``, ``2026-11-28T12:00:05.120Z``.
    """
    text = when.replace(tzinfo=None).isoformat()  # ...T12:00:05 or ...T12:00:05.120000
    micro = when.microsecond
    if micro:
        return (text[:-3] if micro % 1000 == 0 else text) + "Z"
    return (text[:-3] if when.second == 0 else text) + "Z"
