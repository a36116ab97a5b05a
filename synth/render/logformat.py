"""Apache's LogFormat language: a format string in, a line template and a grok pattern out.

    %h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\"

Each directive names a field the generator can write (``fields.py``) and the grok that reads
it back into ECS fields; literal text stays literal. The same string therefore gives the lines,
the pattern that parses them, and (``pipelines.py``) an ingest pipeline.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# The directives users write in practice; %{...} takes an argument for i, o, t and T.
SUPPORTED = "h a l u t r m U q H s b B D T v p I O i o %"
_WITH_ARG = {"i", "o", "t", "T"}
_NEEDS_ARG = {"i", "o"}


class LogFormatError(ValueError):
    """A LogFormat string synth cannot write or parse."""


@dataclass(frozen=True)
class Directive:
    code: str  # the letter: h, t, i, ...
    arg: str | None  # the %{...} part
    text: str  # as written, for messages

    @property
    def time(self) -> bool:
        return self.code == "t"


def unescape_config(text: str) -> str:
    """The string as Apache's config parser reads it: ``\\"`` is a quote, ``\\\\`` a backslash,
    ``\\t`` a tab. A newline could only break a line, so it is refused."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "\"\\":
                out.append(nxt)
            elif nxt == "t":
                out.append("\t")
            elif nxt in "nr":
                raise LogFormatError(f"\\{nxt} would break the line in two: a log line is one line")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch in "\r\n":
            raise LogFormatError("a newline would break the line in two: a log line is one line")
        out.append(ch)
        i += 1
    return "".join(out)


def parse(text: str) -> list[str | Directive]:
    """Literal strings and directives, in order. Errors name the directive and where it is."""
    source = unescape_config(text)
    items: list[str | Directive] = []
    literal: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch != "%":
            literal.append(ch)
            i += 1
            continue
        start = i
        i += 1
        if i < len(source) and (source[i] == "!" or source[i].isdigit()):
            j = i
            while j < len(source) and (source[j] in "!," or source[j].isdigit()):
                j += 1
            raise LogFormatError(f"status conditions like {source[start:j + 1]!r} are not supported "
                                 f"(at position {start + 1})")
        while i < len(source) and source[i] in "<>":  # original / final request: one request here
            i += 1
        arg = None
        if i < len(source) and source[i] == "{":
            close = source.find("}", i)
            if close < 0:
                raise LogFormatError(f"unclosed %{{ at position {start + 1}: {source[start:start + 20]!r}")
            arg = source[i + 1:close]
            i = close + 1
        if i >= len(source):
            raise LogFormatError(f"the format ends in the middle of a directive: {source[start:]!r}")
        code = source[i]
        i += 1
        written = source[start:i]
        if arg is not None and code != "t" and any(c in arg for c in '%" '):
            # A header name holds none of these: the brace closed a later directive's %{.
            raise LogFormatError(f"unclosed %{{ at position {start + 1}: {source[start:start + 20]!r}")
        if code == "%":
            literal.append("%")
            continue
        if code not in SUPPORTED.split():
            raise LogFormatError(f"unsupported directive {written} (supported: "
                                 f"{' '.join('%' + c for c in SUPPORTED.split() if c != '%')}, %% and %{{...}}i/o/t)")
        if arg is not None and code not in _WITH_ARG:
            raise LogFormatError(f"{written}: %{code} takes no {{...}} argument")
        if arg is None and code in _NEEDS_ARG:
            raise LogFormatError(f"{written}: %{code} needs a header name, like %{{User-Agent}}{code}")
        if code == "T" and arg not in (None, "s", "ms", "us"):
            raise LogFormatError(f"{written}: the unit of %T is s, ms or us")
        if literal:
            items.append("".join(literal))
            literal = []
        items.append(Directive(code, arg, written))
    if literal:
        items.append("".join(literal))
    if not any(isinstance(item, Directive) and item.time and _full_time(item.arg) for item in items):
        raise LogFormatError("the format has no time: add %t (or a %{...}t with the date and the time)")
    return items


def _time_arg(arg: str) -> str:
    return arg.split(":", 1)[1] if arg.startswith(("begin:", "end:")) else arg


def _full_time(arg: str | None) -> bool:
    """Whether a time directive alone says when an event happened, to the second."""
    if arg is None:
        return True
    arg = _time_arg(arg)
    if arg in ("sec", "msec"):
        return True
    if "%" not in arg:
        return False
    java = strftime_to_java(arg)
    return "yy" in java and "M" in java and "dd" in java and ("HH" in java or "hh" in java) \
        and "mm" in java and "ss" in java


# -- the template --------------------------------------------------------------------------
_FIELD_OF = {"h": "client", "a": "client_ip", "l": "ident", "u": "user", "r": "request", "m": "method",
             "U": "path", "q": "query", "H": "protocol", "s": "status", "b": "bytes", "B": "body_bytes",
             "v": "vhost", "p": "port", "I": "bytes_in", "O": "bytes_out"}
_DURATION_OF = {None: "duration_s", "s": "duration_s", "ms": "duration_ms", "us": "duration_us"}


def template_expression(d: Directive) -> str:
    """The template expression that writes a directive: ``e.client``, ``e.header_in("Accept")``."""
    if d.code in _FIELD_OF:
        return f"e.{_FIELD_OF[d.code]}"
    if d.code == "t":
        return "e.time" if d.arg is None else f"e.time_format({json.dumps(d.arg)})"
    if d.code == "D":
        return "e.duration_us"
    if d.code == "T":
        return f"e.{_DURATION_OF[d.arg]}"
    if d.code == "i":
        lower = d.arg.lower()
        if lower == "referer":
            return "e.referer"
        if lower == "user-agent":
            return "e.agent"
        return f"e.header_in({json.dumps(d.arg)})"
    return f"e.header_out({json.dumps(d.arg)})"


def template_source(text: str) -> str:
    """A Jinja2 line template equivalent to a LogFormat string."""
    body = []
    for item in parse(text):
        if isinstance(item, Directive):
            body.append("{{ " + template_expression(item) + " }}")
        elif any(mark in item for mark in ("{{", "{%", "{#", "}}", "%}", "#}")):
            body.append("{% raw %}" + item + "{% endraw %}")
        else:
            body.append(item)
    return "{% for e in events %}" + "".join(body) + "\n{% endfor -%}"


# -- the grok pattern ---------------------------------------------------------------------
# Pieces follow Elasticsearch's own ECS httpd patterns wherever a directive appears there.
_GROK = {
    "h": "%{IPORHOST:source.address}",
    "l": "(?:-|%{HTTPDUSER:apache.access.user.identity})",
    "u": "(?:-|%{HTTPDUSER:user.name})",
    "r": "(?:%{WORD:http.request.method} %{NOTSPACE:url.original}(?: HTTP/%{NUMBER:http.version})?|%{DATA})",
    "m": "%{WORD:http.request.method}",
    "U": "%{URIPATH:url.path}",
    "q": "(?:\\?%{QUERY:url.query})?",
    "H": "HTTP/%{NUMBER:http.version}",
    "s": "(?:-|%{INT:http.response.status_code:int})",
    "b": "(?:-|%{INT:http.response.body.bytes:long})",
    "B": "%{INT:http.response.body.bytes:long}",
    "D": "%{INT:apache.access.response_time:long}",
    "v": "%{IPORHOST:url.domain}",
    "p": "%{POSINT:url.port:long}",
    "I": "%{INT:http.request.bytes:long}",
    "O": "%{INT:http.response.bytes:long}",
}
_DURATION_FIELD = {None: "apache.access.response_time_s", "s": "apache.access.response_time_s",
                   "ms": "apache.access.response_time_ms", "us": "apache.access.response_time"}
# Patterns a generated pipeline defines itself (the others are Elasticsearch's built-ins).
EXTRA_PATTERNS = {"QUERY": "[^\\s\"]*"}

_STRFTIME = {
    "Y": ("\\d{4}", "yyyy"), "y": ("\\d{2}", "yy"), "m": ("\\d{2}", "MM"), "d": ("\\d{2}", "dd"),
    "H": ("\\d{2}", "HH"), "I": ("\\d{2}", "hh"), "M": ("\\d{2}", "mm"), "S": ("\\d{2}", "ss"),
    "j": ("\\d{3}", "DDD"), "b": ("[A-Z][a-z]{2}", "MMM"), "h": ("[A-Z][a-z]{2}", "MMM"),
    "B": ("[A-Z][a-z]+", "MMMM"), "a": ("[A-Z][a-z]{2}", "EEE"), "A": ("[A-Z][a-z]+", "EEEE"),
    "p": ("[AP]M", "a"), "z": ("[+-]\\d{4}", "Z"), "%": ("%", "%"),
    "T": ("\\d{2}:\\d{2}:\\d{2}", "HH:mm:ss"), "F": ("\\d{4}-\\d{2}-\\d{2}", "yyyy-MM-dd"),
    "R": ("\\d{2}:\\d{2}", "HH:mm"), "D": ("\\d{2}/\\d{2}/\\d{2}", "MM/dd/yy"),
}


def _strftime(fmt: str) -> list[tuple[str, str] | str]:
    """A strftime format as (regex, java) pieces and literal strings."""
    out: list[tuple[str, str] | str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code not in _STRFTIME:
                raise LogFormatError(f"strftime %{code} in a time format is not supported "
                                     f"(supported: {' '.join('%' + c for c in _STRFTIME)})")
            out.append(_STRFTIME[code])
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return out


def strftime_to_java(fmt: str) -> str:
    """The java.time pattern (Elasticsearch's date processor) of a strftime format."""
    java = []
    for piece in _strftime(fmt):
        if isinstance(piece, tuple):
            java.append(piece[1])
        elif piece.isalpha() or piece == "'":
            java.append("''" if piece == "'" else f"'{piece}'")
        else:
            java.append(piece)
    return "".join(java)


def regex_literal(text: str) -> str:
    """Literal text as a grok (regex) piece: metacharacters escaped, nothing else."""
    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text)


@dataclass(frozen=True)
class GrokPlan:
    pattern: str  # anchored at both ends
    date_field: str | None  # the field holding the event time, and how to read it
    date_formats: tuple[str, ...]
    fields: dict[str, str]  # ECS field -> directive, for the checks
    definitions: dict[str, str]  # patterns the pipeline must define (beyond Elasticsearch's)

    @property
    def zoned(self) -> bool:
        """Whether the time read carries its zone (else the pipeline must be told the zone)."""
        return all(f in ("UNIX", "UNIX_MS") or "Z" in f.replace("'Z'", "") for f in self.date_formats)


def grok_plan(text: str) -> GrokPlan:
    """The anchored grok pattern that parses lines of a LogFormat into ECS fields."""
    items = parse(text)
    codes = {item.code for item in items if isinstance(item, Directive)}
    pieces, fields = [], {}
    definitions: dict[str, str] = {}
    date_field, date_formats = None, ()

    def capture(piece: str, directive: Directive) -> str:
        # A field already captured is matched again but not captured twice.
        for name in re.findall(r"%\{\w+:([\w.@]+)", piece):
            if name in fields:
                return re.sub(r"%\{(\w+):[\w.@]+(?::\w+)?\}", r"%{\1}", piece)
        for name in re.findall(r"%\{\w+:([\w.@]+)", piece):
            fields[name] = directive.text
        return piece

    for item in items:
        if isinstance(item, str):
            pieces.append(regex_literal(item))
            continue
        d = item
        if d.code == "t":
            piece, field, formats = _time_grok(d, definitions)
            if field and date_field is None:
                date_field, date_formats = field, formats
                fields[field] = d.text
            elif field:  # a second time: matched, not read
                piece = re.sub(r"%\{(\w+):[\w.@]+\}", r"%{\1}", piece)
            pieces.append(piece)
        elif d.code == "a":
            pieces.append(capture("%{IP:source.ip}" if "h" in codes else "%{IP:source.address}", d))
        elif d.code == "T":
            pieces.append(capture(f"%{{INT:{_DURATION_FIELD[d.arg]}:long}}", d))
        elif d.code == "i":
            pieces.append(capture(f"(?:-|%{{DATA:{_request_header_field(d.arg)}}})", d))
        elif d.code == "o":
            pieces.append(capture(f"(?:-|%{{DATA:{_response_header_field(d.arg)}}})", d))
        else:
            pieces.append(capture(_GROK[d.code], d))
            if d.code == "q":
                definitions["QUERY"] = EXTRA_PATTERNS["QUERY"]
    return GrokPlan("^" + "".join(pieces) + "$", date_field, date_formats, fields, definitions)


def _request_header_field(name: str) -> str:
    lower = name.lower()
    if lower == "referer":
        return "http.request.referrer"
    if lower == "user-agent":
        return "user_agent.original"
    return "http.request.headers." + re.sub(r"[^a-z0-9]+", "_", lower).strip("_")


def _response_header_field(name: str) -> str:
    lower = name.lower()
    if lower == "content-type":
        return "http.response.mime_type"
    return "http.response.headers." + re.sub(r"[^a-z0-9]+", "_", lower).strip("_")


def _time_grok(d: Directive, definitions: dict[str, str]) -> tuple[str, str | None, tuple[str, ...]]:
    """(grok piece, the field it captures or None, date processor formats) of a time directive;
    a strftime format becomes a pattern of its own, added to ``definitions``."""
    if d.arg is None:
        return "\\[%{HTTPDATE:timestamp}\\]", "timestamp", ("dd/MMM/yyyy:HH:mm:ss Z",)
    arg = _time_arg(d.arg)
    if arg == "sec":
        return "%{INT:timestamp}", "timestamp", ("UNIX",)
    if arg == "msec":
        return "%{INT:timestamp}", "timestamp", ("UNIX_MS",)
    if arg in ("usec", "msec_frac", "usec_frac"):
        return "\\d+", None, ()
    regex = "".join(p[0] if isinstance(p, tuple) else regex_literal(p) for p in _strftime(arg))
    name = f"LOGTIME{len(definitions) + 1}"
    definitions[name] = regex
    if not _full_time(arg):
        return f"%{{{name}}}", None, ()
    return f"%{{{name}:timestamp}}", "timestamp", (strftime_to_java(arg),)
