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
from dataclasses import field as dataclass_field

from synth.render import strftime

# Every directive of mod_log_config and mod_logio in Apache 2.4
# (https://httpd.apache.org/docs/2.4/mod/mod_log_config.html#formats, and mod_logio.html for
# %I %O %S): the code, and what its {...} argument may be. None: takes none; "any": a name
# (header, cookie, variable, note); a tuple: those words, or none.
_ARGS: dict[str, object] = {
    "a": ("c",), "A": None, "b": None, "B": None, "C": "any", "D": None, "e": "any", "f": None,
    "h": ("c",), "H": None, "i": "any", "k": None, "l": None, "L": ("c",), "m": None, "n": "any",
    "o": "any", "p": ("canonical", "local", "remote"), "P": ("pid", "tid", "hextid"), "q": None,
    "r": None, "R": None, "s": None, "t": "time", "T": ("s", "ms", "us"), "u": None, "U": None,
    "v": None, "V": None, "X": None, "I": None, "O": None, "S": None, "^ti": "any", "^to": "any",
}
_NEEDS_ARG = {"C", "e", "i", "n", "o", "^ti", "^to"}
SUPPORTED = " ".join(["%" + code for code in _ARGS] + ["%%"])
TIME_TOKENS = ("sec", "msec", "usec", "msec_frac", "usec_frac")


class LogFormatError(ValueError):
    """A LogFormat string synth cannot write or parse."""


@dataclass(frozen=True)
class Directive:
    code: str  # the letter: h, t, i, ... (or ^ti, ^to)
    arg: str | None  # the %{...} part
    text: str  # as written, for messages
    conditions: tuple[int, ...] = ()  # %400,501{User-agent}i: written only for these statuses
    negate: bool = False  # %!200i: written for every status but these

    @property
    def time(self) -> bool:
        return self.code == "t"

    def satisfied(self, status: int) -> bool:
        """Whether Apache writes the value for a response of ``status`` (else ``-``)."""
        if not self.conditions:
            return True
        return (status in self.conditions) != self.negate


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
        conditions: list[int] = []
        negate = False
        # Modifiers, in any order as Apache's parser takes them: < or >, and a status list.
        while i < len(source) and (source[i] in "<>!," or source[i].isdigit()):
            if source[i] == "!":
                negate = True
                i += 1
            elif source[i].isdigit():
                j = i
                while j < len(source) and source[j].isdigit():
                    j += 1
                status = int(source[i:j])
                if not 100 <= status <= 599:
                    raise LogFormatError(f"{source[start:j]}: {status} is not an HTTP status (at position {start + 1})")
                conditions.append(status)
                i = j
            else:
                i += 1  # < (original request) and > (final): one request here, no internal redirects
        arg = None
        if i < len(source) and source[i] == "{":
            close = source.find("}", i)
            if close < 0:
                raise LogFormatError(f"unclosed %{{ at position {start + 1}: {source[start:start + 20]!r}")
            arg = source[i + 1:close]
            i = close + 1
        if i >= len(source):
            raise LogFormatError(f"the format ends in the middle of a directive: {source[start:]!r}")
        code = source[i:i + 3] if source[i] == "^" else source[i]
        i += len(code)
        written = source[start:i]
        if arg is not None and code != "t" and any(c in arg for c in '%" '):
            # A header name holds none of these: the brace closed a later directive's %{.
            raise LogFormatError(f"unclosed %{{ at position {start + 1}: {source[start:start + 20]!r}")
        if code == "%":
            literal.append("%")
            continue
        if code not in _ARGS:
            raise LogFormatError(f"unsupported directive {written} (Apache 2.4 has {SUPPORTED})")
        allowed = _ARGS[code]
        if arg is not None and allowed is None:
            raise LogFormatError(f"{written}: %{code} takes no {{...}} argument")
        if arg is None and code in _NEEDS_ARG:
            raise LogFormatError(f"{written}: %{code} needs a name, like %{{User-Agent}}{code}")
        if arg is not None and isinstance(allowed, tuple) and arg not in allowed:
            raise LogFormatError(f"{written}: the argument of %{code} is one of {', '.join(allowed)}")
        if code == "t" and arg is not None:
            _check_time_arg(arg, written)
        if conditions and len(conditions) != len(set(conditions)):
            conditions = sorted(set(conditions))
        if negate and not conditions:
            raise LogFormatError(f"{written}: ! needs a status list after it, like %!200{{Referer}}i")
        if literal:
            items.append("".join(literal))
            literal = []
        items.append(Directive(code, arg, written, tuple(conditions), negate))
    if literal:
        items.append("".join(literal))
    if not any(isinstance(item, Directive) and item.time and not item.conditions and _full_time(item.arg)
               for item in items):
        raise LogFormatError("the format has no time: add %t (or a %{...}t with the date and the time)")
    return items


def _time_arg(arg: str) -> str:
    return arg.split(":", 1)[1] if arg.startswith(("begin:", "end:")) else arg


def _check_time_arg(arg: str, written: str) -> None:
    """Apache's rule: a token (sec, msec, ...) stands alone; anything else is strftime."""
    fmt = _time_arg(arg)
    if fmt in TIME_TOKENS:
        return
    if "%" not in fmt:
        raise LogFormatError(f"{written}: a time format is one of {', '.join(TIME_TOKENS)} or a strftime format")
    try:
        parts = strftime.pieces(fmt)
    except strftime.StrftimeError as e:
        raise LogFormatError(f"{written}: {e}") from None
    if any(p is strftime.CONVERSIONS["n"] for p in parts):
        raise LogFormatError(f"{written}: %n would break the line in two: a log line is one line")


def _full_time(arg: str | None) -> bool:
    """Whether a time directive alone says when an event happened, to the second, in a form the
    date processor reads."""
    if arg is None:
        return True
    arg = _time_arg(arg)
    if arg in ("sec", "msec"):
        return True
    if "%" not in arg:
        return False
    java = strftime.to_java(arg)
    if java is None:
        return False
    bare = re.sub(r"'[^']*'", "", java)
    return "yy" in bare and "M" in bare and ("dd" in bare or "DDD" in bare) \
        and ("HH" in bare or ("hh" in bare and "a" in bare)) and "mm" in bare and "ss" in bare


def strftime_to_java(fmt: str) -> str:
    """The java.time pattern (Elasticsearch's date processor) of a strftime format."""
    java = strftime.to_java(fmt)
    if java is None:
        raise LogFormatError(f"the time format {fmt!r} holds a conversion java.time cannot read")
    return java


# -- the template --------------------------------------------------------------------------
# Directive -> the field that writes it (fields.py), by code, then by code and argument.
_FIELD_OF = {"h": "client", "a": "client_ip", "A": "server_ip", "l": "ident", "u": "user", "r": "request",
             "m": "method", "U": "path", "q": "query", "H": "protocol", "s": "status", "b": "bytes",
             "B": "body_bytes", "v": "vhost", "V": "server_name", "p": "port", "I": "bytes_in", "O": "bytes_out",
             "S": "bytes_total", "D": "duration_us", "f": "filename", "k": "keepalive", "L": "log_id",
             "P": "pid", "R": "handler", "X": "conn_status"}
_FIELD_WITH_ARG = {("a", "c"): "client_ip", ("h", "c"): "client", ("L", "c"): "connection_log_id",
                   ("p", "canonical"): "port", ("p", "local"): "port", ("p", "remote"): "remote_port",
                   ("P", "pid"): "pid", ("P", "tid"): "tid", ("P", "hextid"): "hextid",
                   ("T", "s"): "duration_s", ("T", "ms"): "duration_ms", ("T", "us"): "duration_us"}
_PARAMETRIC_OF = {"i": "header_in", "o": "header_out", "C": "cookie", "e": "env", "n": "note",
                  "^ti": "trailer_in", "^to": "trailer_out", "t": "time_format"}


def field_of(d: Directive) -> tuple[str, str | None]:
    """The field (name, argument) that writes a directive, its status condition left aside."""
    if d.code == "T" and d.arg is None:
        return "duration_s", None
    if d.code == "t" and d.arg is None:
        return "time", None
    if d.code == "i" and d.arg is not None:
        lower = d.arg.lower()
        if lower == "referer":
            return "referer", None
        if lower == "user-agent":
            return "agent", None
    if d.arg is not None and (d.code, d.arg) in _FIELD_WITH_ARG:
        return _FIELD_WITH_ARG[(d.code, d.arg)], None
    if d.code in _PARAMETRIC_OF:
        return _PARAMETRIC_OF[d.code], d.arg
    return _FIELD_OF[d.code], None


def condition_text(d: Directive) -> str:
    """``400,501`` or ``!200``: the status list as the ``only`` field takes it."""
    return ("!" if d.negate else "") + ",".join(str(c) for c in d.conditions)


def directive_field(d: Directive) -> tuple[str, str | None]:
    """The field that writes a directive, with its condition: ``("only", "400,501|agent|")``."""
    name, arg = field_of(d)
    if d.conditions:
        return "only", f"{condition_text(d)}|{name}|{'' if arg is None else arg}"
    return name, arg


def template_expression(d: Directive) -> str:
    """The template expression that writes a directive: ``e.client``, ``e.header_in("Accept")``."""
    name, arg = directive_field(d)
    return f"e.{name}" if arg is None else f"e.{name}({json.dumps(arg)})"


def template_source(text: str) -> str:
    """A Jinja2 line template equivalent to a LogFormat string."""
    body = []
    for item in parse(text):
        if isinstance(item, Directive):
            body.append("{{ " + template_expression(item) + " }}")
        else:
            body.append(raw_text(item))
    return "{% for e in events %}" + "".join(body) + "\n{% endfor -%}"


def raw_text(text: str) -> str:
    """Literal text in a Jinja2 template."""
    if any(mark in text for mark in ("{{", "{%", "{#", "}}", "%}", "#}")):
        return "{% raw %}" + text + "{% endraw %}"
    return text


# -- the grok pattern ---------------------------------------------------------------------
# Pieces follow Elasticsearch's own ECS httpd patterns wherever a directive appears there;
# where ECS has a field the piece fills it, else a field under apache.access.
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
    "V": "%{IPORHOST:destination.domain}",
    "p": "%{POSINT:url.port:long}",
    "I": "%{INT:http.request.bytes:long}",
    "O": "%{INT:http.response.bytes:long}",
    "S": "%{INT:network.bytes:long}",
    "A": "%{IP:destination.ip}",
    "f": "(?:-|%{NOTSPACE:file.path})",
    "k": "%{INT:apache.access.keepalive_requests:long}",
    "L": "(?:-|%{NOTSPACE:apache.access.log_id})",
    "P": "%{POSINT:process.pid:long}",
    "R": "(?:-|%{NOTSPACE:apache.access.handler})",
    "X": "%{CONNSTATUS:apache.access.connection_status}",
}
_GROK_WITH_ARG = {
    ("L", "c"): "(?:-|%{NOTSPACE:apache.access.connection_log_id})",
    ("p", "canonical"): "%{POSINT:url.port:long}",
    ("p", "local"): "%{POSINT:destination.port:long}",
    ("p", "remote"): "%{POSINT:source.port:long}",
    ("P", "pid"): "%{POSINT:process.pid:long}",
    ("P", "tid"): "%{INT:process.thread.id:long}",
    ("P", "hextid"): "%{WORD:apache.access.thread_hex}",
    ("h", "c"): "%{IPORHOST:client.address}",
    ("a", "c"): "%{IP:client.ip}",
}
_NAMED_UNDER = {"C": "apache.access.cookies.", "e": "apache.access.env.", "n": "apache.access.notes.",
                "^ti": "apache.access.trailers_in.", "^to": "apache.access.trailers_out."}
_DURATION_FIELD = {None: "apache.access.response_time_s", "s": "apache.access.response_time_s",
                   "ms": "apache.access.response_time_ms", "us": "apache.access.response_time"}
# Patterns a generated pipeline defines itself (the others are Elasticsearch's built-ins).
EXTRA_PATTERNS = {"QUERY": "[^\\s\"]*", "CONNSTATUS": "[X+-]"}


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
    labels: dict[str, str] = dataclass_field(default_factory=dict)  # field -> the template field it reads

    @property
    def zoned(self) -> bool:
        """Whether the time read carries its zone (else the pipeline must be told the zone)."""
        return all(f in ("UNIX", "UNIX_MS") or "Z" in f.replace("'Z'", "") for f in self.date_formats)


def _name_part(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "_"


def directive_grok(d: Directive, codes: set[str]) -> tuple[str, dict[str, str]]:
    """The grok piece of a (non-time) directive, and the pattern definitions it needs."""
    definitions: dict[str, str] = {}
    if d.arg is not None and (d.code, d.arg) in _GROK_WITH_ARG:
        piece = _GROK_WITH_ARG[(d.code, d.arg)]
    elif d.code == "a":
        piece = "%{IP:source.ip}" if "h" in codes else "%{IP:source.address}"
    elif d.code == "T":
        piece = f"%{{INT:{_DURATION_FIELD[d.arg]}:long}}"
    elif d.code == "i":
        piece = f"(?:-|%{{DATA:{_request_header_field(d.arg or '')}}})"
    elif d.code == "o":
        piece = f"(?:-|%{{DATA:{_response_header_field(d.arg or '')}}})"
    elif d.code in _NAMED_UNDER:
        piece = f"(?:-|%{{DATA:{_NAMED_UNDER[d.code]}{_name_part(d.arg or '')}}})"
    else:
        piece = _GROK[d.code]
    for name in re.findall(r"%\{(\w+)", piece):
        if name in EXTRA_PATTERNS:
            definitions[name] = EXTRA_PATTERNS[name]
    if d.conditions and not piece.startswith("(?:-|"):
        piece = f"(?:-|{piece})"
    return piece, definitions


def grok_plan(text: str) -> GrokPlan:
    """The anchored grok pattern that parses lines of a LogFormat into ECS fields."""
    items = parse(text)
    codes = {item.code for item in items if isinstance(item, Directive) and item.arg is None}
    pieces, fields, labels = [], {}, {}
    definitions: dict[str, str] = {}
    date_field: str | None = None
    date_formats: tuple[str, ...] = ()

    def capture(piece: str, directive: Directive) -> str:
        # A field already captured is matched again but not captured twice.
        def once(m: re.Match) -> str:
            if m.group(2) in fields:
                return "%{" + m.group(1) + "}"
            fields[m.group(2)] = directive.text
            labels[m.group(2)] = field_label(*directive_field(directive))
            return m.group(0)
        return re.sub(r"%\{(\w+):([\w.@]+)(?::\w+)?\}", once, piece)

    for item in items:
        if isinstance(item, str):
            pieces.append(regex_literal(item))
            continue
        d = item
        if d.code == "t":
            piece, field, formats = _time_grok(d, definitions)
            if field and date_field is None and not d.conditions:
                date_field, date_formats = field, formats
                fields[field] = d.text
                labels[field] = field_label(*directive_field(d))
            elif field:  # a second time: matched, not read
                piece = re.sub(r"%\{(\w+):[\w.@]+\}", r"%{\1}", piece)
            pieces.append(f"(?:-|{piece})" if d.conditions else piece)
            continue
        piece, needed = directive_grok(d, codes)
        definitions.update(needed)
        pieces.append(capture(piece, d))
    return GrokPlan("^" + "".join(pieces) + "$", date_field, date_formats, fields, definitions, labels)


def field_label(name: str, arg: str | None = None) -> str:
    """How LineRenderer.field_values names a field: ``agent``, ``header_in("Host")``."""
    return name if arg is None else f'{name}("{arg}")'


def _request_header_field(name: str) -> str:
    lower = name.lower()
    if lower == "referer":
        return "http.request.referrer"
    if lower == "user-agent":
        return "user_agent.original"
    return "http.request.headers." + _name_part(lower)


def _response_header_field(name: str) -> str:
    lower = name.lower()
    if lower == "content-type":
        return "http.response.mime_type"
    return "http.response.headers." + _name_part(lower)


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
    regex = strftime.regex(arg, regex_literal)
    name = f"LOGTIME{sum(1 for k in definitions if k.startswith('LOGTIME')) + 1}"
    definitions[name] = regex
    if not _full_time(arg):
        return f"%{{{name}}}", None, ()
    return f"%{{{name}:timestamp}}", "timestamp", (strftime_to_java(arg),)
