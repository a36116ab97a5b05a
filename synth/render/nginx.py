"""nginx's ``log_format``: a format string in, a line template and a grok pattern out.

    escape=default '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent'

The string is what follows the format's name in ``log_format name [escape=...] string ...;``
(http://nginx.org/en/docs/http/ngx_http_log_module.html#log_format): an optional
``escape=default|json|none``, then the text, as one string or as nginx's quoted pieces
(``'$remote_addr - ' '"$request"'``). Each variable is written as nginx writes it:

- ``escape=default``: ``"``, ``\\`` and bytes below 32 or above 126 as ``\\xHH``; a variable with
  no value as ``-``;
- ``escape=json``: what a JSON string allows (``\\"``, ``\\\\``, ``\\n``, ``\\u0001``; bytes of 128
  and up as they are); a variable with no value as the empty string;
- ``escape=none``: the value as it is, ``-`` for none. nginx would write a newline too; synth
  writes control bytes as ``\\xHH`` even here, so that every line stays one line.

``$upstream_*`` variables list every upstream a request went to: ``, `` between servers tried
in turn, `` : `` across an internal redirect (X-Accel-Redirect), as nginx does.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synth.escape import apache_unescape
from synth.generate.pools import DOWNLOAD, FEED, PAGE, SEARCH
from synth.render.connections import mix
from synth.render.fields import FIELDS, FieldSpec, Tables, field, header_in, header_out, strings
from synth.render.logformat import GrokPlan, raw_text, regex_literal

ESCAPES = ("default", "json", "none")
WORKERS = 2  # worker_processes auto on two cores
UPSTREAMS = ("10.0.1.11:9000", "10.0.1.12:9000")  # PHP-FPM pools behind the site
STORAGE = "10.0.2.20:80"  # where X-Accel-Redirect sends downloads


class NginxFormatError(ValueError):
    """A log_format string synth cannot write or parse."""


@dataclass(frozen=True)
class Variable:
    name: str
    text: str  # as written: $name or ${name}


@dataclass(frozen=True)
class NginxFormat:
    escape: str
    items: tuple[str | Variable, ...]
    source: str


def escape_value(raw: str, mode: str) -> str:
    """A value as nginx writes it in ``mode`` (``-``, or ``""`` in json, for no value)."""
    if raw == "":
        return "" if mode == "json" else "-"
    if mode == "default":
        data = raw.encode("utf-8", errors="surrogateescape")
        if data.isascii() and raw.isprintable() and '"' not in raw and "\\" not in raw:
            return raw
        return "".join(f"\\x{b:02X}" if b < 0x20 or b > 0x7E or b in (0x22, 0x5C) else chr(b) for b in data)
    out = []
    for ch in raw:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8: nginx writes it raw; we cannot
            out.append(f"\\u{code - 0xDC00:04x}" if mode == "json" else f"\\x{code - 0xDC00:02X}")
        elif mode == "json" and ch in '"\\':
            out.append("\\" + ch)
        elif code < 0x20 or code == 0x7F:
            if mode == "json":
                out.append(_JSON_CONTROL.get(code, f"\\u{code:04x}"))
            else:
                out.append(f"\\x{code:02X}")
        else:
            out.append(ch)
    return "".join(out)


_JSON_CONTROL = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x08: "\\b", 0x0C: "\\f"}


def parse(text: str) -> NginxFormat:
    """The escape mode and the literal text and variables of a log_format string, in order."""
    source = text.strip()
    escape = "default"
    m = re.match(r"escape=(\S+)\s*", source)
    if m:
        escape = m.group(1)
        if escape not in ESCAPES:
            raise NginxFormatError(f"escape={escape}: nginx's escape is one of {', '.join(ESCAPES)}")
        source = source[m.end():]
    if source[:1] in ("'", '"'):
        pieces = re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", source)
        rest = re.sub(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", "", source).strip()
        if rest:
            raise NginxFormatError(f"text outside the quoted pieces: {rest[:30]!r}")
        source = "".join(a or b for a, b in pieces)
        source = re.sub(r"\\(.)", lambda mm: mm.group(1), source)
    if "\n" in source or "\r" in source:
        raise NginxFormatError("a newline would break the line in two: a log line is one line")
    items: list[str | Variable] = []
    literal: list[str] = []
    i = 0
    while i < len(source):
        if source[i] != "$":
            literal.append(source[i])
            i += 1
            continue
        braced = source.startswith("${", i)
        if braced:
            close = source.find("}", i)
            if close < 0:
                raise NginxFormatError(f"unclosed ${{ at position {i + 1}")
            name, end = source[i + 2:close], close + 1
        else:
            mm = re.match(r"[A-Za-z0-9_]+", source[i + 1:])
            if not mm:
                raise NginxFormatError(f"a $ without a variable name at position {i + 1}")
            name, end = mm.group(0), i + 1 + mm.end()
        lower = name.lower()
        if lower not in VARIABLES and not lower.startswith(("http_", "sent_http_")):
            raise NginxFormatError(f"unknown variable ${name} (known: {', '.join('$' + v for v in VARIABLES)}, "
                                   f"$http_NAME, $sent_http_NAME)")
        if literal:
            items.append("".join(literal))
            literal = []
        items.append(Variable(lower, source[i:end]))
        i = end
    if literal:
        items.append("".join(literal))
    if not any(isinstance(v, Variable) and v.name in TIME_VARIABLES for v in items):
        raise NginxFormatError("the format has no time: add $time_local, $time_iso8601 or $msec")
    return NginxFormat(escape, tuple(items), text)


# -- values ------------------------------------------------------------------------------------
def _apache(spec: FieldSpec) -> Callable[[Tables, np.ndarray], np.ndarray]:
    """The raw value behind an Apache-escaped field, ``""`` where Apache writes ``-`` for none."""
    def many(t: Tables, keys: np.ndarray) -> np.ndarray:
        texts = spec.many(t, keys) if spec.key != "const" else [spec.text(t, 0)] * len(keys)
        return strings(["" if v == "-" else apache_unescape(v) for v in list(texts)])
    return many


def _iso_local(t: Tables, seconds: np.ndarray) -> np.ndarray:
    import datetime as dt
    zone = t.zone.tzinfo()
    return strings([dt.datetime.fromtimestamp(s, zone).isoformat() for s in seconds.tolist()])


def _targets(t: Tables, keys: np.ndarray) -> list[str]:
    return [apache_unescape(x) for x in t._targets(keys)]


def _uri(t: Tables, keys: np.ndarray) -> np.ndarray:
    """$uri: the path, percent-decoded as nginx normalises it."""
    return strings([urllib.parse.unquote(x.split("?", 1)[0], errors="surrogateescape") for x in _targets(t, keys)])


def _args(t: Tables, keys: np.ndarray) -> np.ndarray:
    return strings([x.split("?", 1)[1] if "?" in x else "" for x in _targets(t, keys)])


def _seconds3(values: np.ndarray, scale: int = 1) -> list[str]:
    return [f"{v // 1000}.{v % 1000:03d}" for v in (values // scale).tolist()]


def _upstream(part: str) -> Callable[[Tables, np.ndarray], np.ndarray]:
    """$upstream_addr, _status, _response_time, _connect_time, _header_time of (response, time) keys."""
    def many(t: Tables, keys: np.ndarray) -> np.ndarray:
        response, duration_us = keys >> 24, keys & ((1 << 24) - 1)
        target, _, _, status = t.response_parts(response)
        kinds = t.pools.site.kind[target]
        out = []
        for kind, s, us, h in zip(kinds.tolist(), status.tolist(), duration_us.tolist(),
                                  mix(response, duration_us).tolist()):
            ms = max(us // 1000, 1)
            first = UPSTREAMS[h % 2]
            if kind in (PAGE, SEARCH, FEED) and s in (502, 504):  # the first server failed, the next too
                hops = [(first, s, 0, 0, 0), (UPSTREAMS[1 - h % 2], s, 1, 0, max(ms - 1, 1))]
                joiner = ", "
            elif kind in (PAGE, SEARCH, FEED) and s < 500:
                hops = [(first, s, 0, max(ms - 2, 0), max(ms - 1, 0))]
                joiner = ", "
            elif kind == DOWNLOAD and s == 200:  # the app answers X-Accel-Redirect, storage sends the file
                hops = [(first, s, 0, 2, 3), (STORAGE, 200, 0, 1, max(ms - 4, 1))]
                joiner = " : "
            else:
                out.append("")
                continue
            column = {"addr": [a for a, *_ in hops], "status": [str(x[1]) for x in hops],
                      "connect_time": _seconds3(np.array([x[2] for x in hops])),
                      "header_time": _seconds3(np.array([x[3] for x in hops])),
                      "response_time": _seconds3(np.array([x[4] for x in hops]))}[part]
            out.append(joiner.join(column))
        return strings(out)
    return many


def _server(name: str) -> FieldSpec:
    from synth.render import server_fields
    return server_fields.FIELDS[name]


def _nginx_pids(t: Tables, conns: np.ndarray) -> np.ndarray:
    base = 900 + int(mix(np.array([len(t.pools.site.host) * 104729]))[0] % 50000)
    return strings([str(base + c % WORKERS) for c in conns.tolist()])


def _gzip_ratios(t: Tables, keys: np.ndarray) -> np.ndarray:
    from synth.render.server_fields import note
    percents = note("ratio").many(t, keys)
    return strings(["" if p == "-" else f"{100 / int(p):.2f}" for p in list(percents)])


def _texts(spec: FieldSpec) -> Callable[[Tables, np.ndarray], np.ndarray]:
    return lambda t, keys: spec.many(t, keys)


def _env(name: str) -> FieldSpec:
    from synth.render.server_fields import env
    return env(name)


# Variable -> (key, raw values of key values). Raw: not yet escaped; "" for no value.
def _variables() -> dict[str, tuple[str, Callable[[Tables, np.ndarray], np.ndarray]]]:
    def of(name: str) -> tuple[str, Callable]:
        spec = FIELDS[name]
        return spec.key, _apache(spec)

    return {
        "remote_addr": of("client"),
        "remote_user": ("const", lambda t, k: strings([""] * len(k))),
        "time_local": ("second", lambda t, s: t.time_local_texts(s)),
        "time_iso8601": ("second", _iso_local),
        "msec": ("epoch_ms", lambda t, ms: strings(_seconds3(ms))),
        "request": of("request"),
        "request_method": of("method"),
        "request_uri": ("response", lambda t, k: strings(_targets(t, k))),
        "uri": ("response", _uri),
        "args": ("response", _args),
        "query_string": ("response", _args),
        "server_protocol": of("protocol"),
        "scheme": ("const", lambda t, k: strings(["https"] * len(k))),
        "host": ("const", lambda t, k: strings([t.pools.site.host] * len(k))),
        "server_name": ("const", lambda t, k: strings([t.pools.site.host] * len(k))),
        "server_port": ("const", lambda t, k: strings(["443"] * len(k))),
        "status": of("status"),
        "body_bytes_sent": of("body_bytes"),
        "bytes_sent": of("bytes_out"),
        "request_length": of("bytes_in"),
        "request_time": ("duration", lambda t, us: strings(_seconds3(us, 1000))),
        "upstream_addr": ("resp_dur", _upstream("addr")),
        "upstream_status": ("resp_dur", _upstream("status")),
        "upstream_response_time": ("resp_dur", _upstream("response_time")),
        "upstream_connect_time": ("resp_dur", _upstream("connect_time")),
        "upstream_header_time": ("resp_dur", _upstream("header_time")),
        "http_referer": of("referer"),
        "http_user_agent": of("agent"),
        "http_x_forwarded_for": ("const", lambda t, k: strings([""] * len(k))),
        "connection": ("connection", lambda t, c: strings([str(1 + v % 9_000_000) for v in c.tolist()])),
        "connection_requests": ("keepalive", lambda t, k: strings([str(v + 1) for v in k.tolist()])),
        "pid": ("connection", _nginx_pids),
        "pipe": ("const", lambda t, k: strings(["."] * len(k))),
        "ssl_protocol": (_env("SSL_PROTOCOL").key, _texts(_env("SSL_PROTOCOL"))),
        "ssl_cipher": (_env("SSL_CIPHER").key, _texts(_env("SSL_CIPHER"))),
        "gzip_ratio": ("response", _gzip_ratios),
        "request_id": ("request", lambda t, k: strings([f"{a:016x}{b:016x}" for a, b in
                                                        zip(mix(k).tolist(), mix(k, k).tolist())])),
        "remote_port": ("connection", lambda t, c: _server("remote_port").many(t, c)),
        "server_addr": ("const", lambda t, k: strings(["203.0.113.10"] * len(k))),
    }


VARIABLES = (
    "remote_addr", "remote_user", "time_local", "time_iso8601", "msec", "request", "request_method", "request_uri",
    "uri", "args", "query_string", "server_protocol", "scheme", "host", "server_name", "server_port", "status",
    "body_bytes_sent", "bytes_sent", "request_length", "request_time", "upstream_addr", "upstream_status",
    "upstream_response_time", "upstream_connect_time", "upstream_header_time", "http_referer", "http_user_agent",
    "http_x_forwarded_for", "connection", "connection_requests", "pid", "pipe", "ssl_protocol", "ssl_cipher",
    "gzip_ratio", "request_id", "remote_port", "server_addr")
TIME_VARIABLES = ("time_local", "time_iso8601", "msec")
_TABLE: dict[str, tuple[str, Callable]] = {}


def _raw(name: str) -> tuple[str, Callable[[Tables, np.ndarray], np.ndarray]]:
    if not _TABLE:
        _TABLE.update(_variables())
    if name in _TABLE:
        return _TABLE[name]
    if name.startswith("sent_http_"):
        spec = header_out(name[len("sent_http_"):].replace("_", "-"))
    else:
        spec = header_in(name[len("http_"):].replace("_", "-"))
    return spec.key, _apache(spec)


def variable_field(arg: str) -> FieldSpec:
    """The field ``e.nginx("MODE|name")``: variable ``name`` escaped as ``escape=MODE`` does."""
    mode, name = arg.split("|", 1)
    key, raw = _raw(name)

    def many(t: Tables, keys: np.ndarray) -> np.ndarray:
        return strings([escape_value(v, mode) for v in list(raw(t, keys))])

    if key == "const":
        return FieldSpec("const", lambda t, k: str(many(t, np.zeros(1, np.int64))[0]))
    return field(key, many)


def template_source(fmt: NginxFormat) -> str:
    """A Jinja2 line template equivalent to a log_format string."""
    body = [f'{{{{ e.nginx("{fmt.escape}|{item.name}") }}}}' if isinstance(item, Variable) else raw_text(item)
            for item in fmt.items]
    return "{% for e in events %}" + "".join(body) + "\n{% endfor -%}"


# -- the grok pattern ------------------------------------------------------------------------
_GROK = {
    "remote_addr": "%{IPORHOST:source.address}",
    "remote_user": "%{DATA:user.name}",
    "request": "(?:%{WORD:http.request.method} %{NOTSPACE:url.original}(?: HTTP/%{NUMBER:http.version})?|%{DATA})",
    "request_method": "%{WORD:http.request.method}",
    "request_uri": "%{NOTSPACE:url.original}",
    "uri": "%{DATA:url.path}",
    "args": "%{NOTSPACE:url.query}",
    "query_string": "%{NOTSPACE:url.query}",
    "server_protocol": "HTTP/%{NUMBER:http.version}",
    "scheme": "%{WORD:url.scheme}",
    "host": "%{IPORHOST:url.domain}",
    "server_name": "%{IPORHOST:destination.domain}",
    "server_port": "%{POSINT:url.port:long}",
    "status": "%{INT:http.response.status_code:int}",
    "body_bytes_sent": "%{INT:http.response.body.bytes:long}",
    "bytes_sent": "%{INT:http.response.bytes:long}",
    "request_length": "%{INT:http.request.bytes:long}",
    "request_time": "%{NUMBER:nginx.access.request_time:float}",
    "upstream_addr": "%{DATA:nginx.access.upstream.address}",
    "upstream_status": "%{DATA:nginx.access.upstream.status}",
    "upstream_response_time": "%{DATA:nginx.access.upstream.response_time}",
    "upstream_connect_time": "%{DATA:nginx.access.upstream.connect_time}",
    "upstream_header_time": "%{DATA:nginx.access.upstream.header_time}",
    "http_referer": "%{DATA:http.request.referrer}",
    "http_user_agent": "%{DATA:user_agent.original}",
    "http_x_forwarded_for": "%{DATA:nginx.access.remote_ip_list}",
    "connection": "%{INT:nginx.access.connection:long}",
    "connection_requests": "%{INT:nginx.access.connection_requests:long}",
    "pid": "%{INT:process.pid:long}",
    "pipe": "%{NOTSPACE:nginx.access.pipe}",
    "ssl_protocol": "%{NOTSPACE:nginx.access.ssl_protocol}",
    "ssl_cipher": "%{NOTSPACE:tls.cipher}",
    "gzip_ratio": "%{NUMBER:nginx.access.gzip_ratio:float}",
    "request_id": "%{WORD:http.request.id}",
    "remote_port": "%{POSINT:source.port:long}",
    "server_addr": "%{IP:destination.ip}",
}
# Values that are never empty: no "-" alternative.
_ALWAYS = {"remote_addr", "request", "request_method", "request_uri", "server_protocol", "scheme", "host",
           "server_name", "server_port", "status", "body_bytes_sent", "bytes_sent", "request_length", "request_time",
           "connection", "connection_requests", "pid", "pipe", "ssl_protocol", "ssl_cipher", "request_id",
           "remote_port", "server_addr", "uri", "time_local", "time_iso8601", "msec"}


def _field_part(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def variable_grok(name: str, mode: str) -> str:
    if name in _GROK:
        piece = _GROK[name]
    elif name.startswith("sent_http_"):
        header = name[len("sent_http_"):]
        target = "http.response.mime_type" if header == "content_type" else f"http.response.headers.{_field_part(header)}"
        piece = f"%{{DATA:{target}}}"
    else:
        piece = f"%{{DATA:http.request.headers.{_field_part(name[len('http_'):])}}}"
    if name in _ALWAYS:
        return piece
    # No value: "-", or in json the empty string (matched by looking at the closing quote, so
    # that no empty field is captured).
    return f"(?:(?=\")|{piece})" if mode == "json" else f"(?:-|{piece})"


def grok_plan(fmt: NginxFormat) -> GrokPlan:
    """The anchored grok pattern that parses lines of a log_format into ECS fields."""
    pieces, fields, labels = [], {}, {}
    date_field: str | None = None
    date_formats: tuple[str, ...] = ()
    for item in fmt.items:
        if isinstance(item, str):
            pieces.append(regex_literal(item))
            continue
        label = f'nginx("{fmt.escape}|{item.name}")'
        if item.name in TIME_VARIABLES:
            grok, java = {"time_local": ("%{HTTPDATE:timestamp}", "dd/MMM/yyyy:HH:mm:ss Z"),
                          "time_iso8601": ("%{NGINXISOTIME:timestamp}", "yyyy-MM-dd'T'HH:mm:ssXXX"),
                          "msec": ("%{NUMBER:timestamp}", "UNIX")}[item.name]
            if date_field is None:
                date_field, date_formats = "timestamp", (java,)
                fields["timestamp"], labels["timestamp"] = item.text, label
                pieces.append(grok)
            else:
                pieces.append(re.sub(r"%\{(\w+):[\w.@]+\}", r"%{\1}", grok))
            continue
        piece = variable_grok(item.name, fmt.escape)

        def once(m: re.Match, item: Variable = item, label: str = label) -> str:
            if m.group(2) in fields:
                return "%{" + m.group(1) + "}"
            fields[m.group(2)], labels[m.group(2)] = item.text, label
            return m.group(0)

        pieces.append(re.sub(r"%\{(\w+):([\w.@]+)(?::\w+)?\}", once, piece))
    definitions = {"NGINXISOTIME": ISO_TIME} if "NGINXISOTIME" in "".join(pieces) else {}
    return GrokPlan("^" + "".join(pieces) + "$", date_field, date_formats, fields, definitions, labels)


ISO_TIME = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:Z|[+-]\\d{2}:\\d{2})"
