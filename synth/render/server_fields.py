"""The fields of the server side of a request: its address, processes, connections, cookies,
environment, notes, handler, file, log ids, and Apache's status conditions.

Each value fits the traffic: the server's address and port are those of the site, a
connection (``connections.py``) is served by one thread of one child and comes from one
client port, cookies and environment variables come from a small set a PHP site behind
Apache with TLS has, and ``%S`` is ``%I`` plus ``%O``.
"""

from __future__ import annotations

import base64
import datetime as dt

import numpy as np

from synth.generate.pools import FEED, PAGE, SEARCH
from synth.generate.traffic import Events
from synth.render import strftime
from synth.render.connections import STATUS_TEXT, Connections, child_pids, find_connections, mix, thread_ids
from synth.render.fields import SERVER_PORT, FieldError, FieldSpec, Tables, constant, field, strings

SERVER_ADDRESS = "203.0.113.10"  # %A: the address the site is served on (TEST-NET-3)
DOCUMENT_ROOT = "/var/www/html"
PHP_HANDLER = "proxy-server"  # %R of pages handed to PHP-FPM by mod_proxy_fcgi
# The statuses whose requests leave a line in the error log, so %L names them.
ERROR_LOGGED = (400, 403, 405, 408, 413, 414)
# Environment variables mod_ssl and core set for every request of an https site.
_TLS = (("TLSv1.3", "TLS_AES_256_GCM_SHA384"), ("TLSv1.3", "TLS_AES_128_GCM_SHA256"),
        ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"))


def connections_of(tables: Tables, events: Events) -> Connections:
    """The chunk's connections, found once however many fields read them."""
    cached = getattr(tables, "_connections", None)
    if cached is not None and cached[0] is events:
        return cached[1]
    found = find_connections(events, tables.pools.site.kind)
    tables._connections = (events, found)  # type: ignore[attr-defined]
    return found


def request_ids(events: Events) -> np.ndarray:
    """A number per request (the same for the same request), its status in the low 10 bits."""
    h = mix(events.t_ms, events.client, events.target, events.agent, events.method)
    return (h & ~np.int64(1023)) | events.status.astype(np.int64)


def key_column(key: str, events: Events, tables: Tables) -> np.ndarray:
    """The columns of the keys this module adds (see fields.key_column)."""
    if key == "connection":
        return connections_of(tables, events).conn
    if key == "keepalive":
        return connections_of(tables, events).keepalive
    if key == "conn_status":
        return connections_of(tables, events).status.astype(np.int64)
    if key == "request":
        return request_ids(events)
    if key == "conn_request":
        return (connections_of(tables, events).conn & ~np.int64(1023)) | events.status.astype(np.int64)
    if key == "transfer":
        unique, inverse = np.unique(tables.response_key(events), return_inverse=True)
        sent = tables.sizes(unique) + tables.response_header_bytes(unique)
        return tables.request_bytes(events) + sent[inverse]
    if key == "resp_dur":  # a response and its time, for nginx's $upstream_* variables
        if events.duration_us is None:
            raise FieldError("this format writes upstream times, but the events have no response times")
        return (tables.response_key(events) << 24) | np.minimum(events.duration_us, (1 << 24) - 1)
    if key in ("epoch_us", "end_us", "end_second"):
        begin = events.t_ms * 1000
        if key == "epoch_us":
            return begin
        if events.duration_us is None:
            raise FieldError("this format writes when requests ended, but the events have no response times")
        end = begin + events.duration_us
        return end if key == "end_us" else end // 1_000_000
    if key.startswith("if:"):
        _, conditions, inner = key.split(":", 2)
        met = satisfied(conditions, events.status)
        values = np.zeros(len(events), np.int64) if inner == "const" else key_column_any(inner, events, tables)
        return values * 2 + met
    raise KeyError(key)


def key_column_any(key: str, events: Events, tables: Tables) -> np.ndarray:
    from synth.render.fields import key_column as base
    return base(key, events, tables)


def satisfied(conditions: str, status: np.ndarray) -> np.ndarray:
    """Apache's status condition (``400,501`` or ``!200``) per response: 1 where the value is written."""
    negate = conditions.startswith("!")
    codes = [int(c) for c in conditions.lstrip("!").split(",") if c]
    inside = np.isin(status, codes)
    return (~inside if negate else inside).astype(np.int64)


def _b64(values: np.ndarray, length: int) -> np.ndarray:
    """Ids in mod_unique_id's alphabet (base64 with ``@`` and ``-``), 18 bytes: 24 characters."""
    out = []
    for a, b in zip(mix(values).tolist(), mix(values, values).tolist()):
        raw = int(a).to_bytes(8, "big") + (int(b) << 17).to_bytes(10, "big")
        out.append(base64.b64encode(raw, b"@-").decode()[:length])
    return strings(out)


def _pids(t: Tables, conns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pids = np.array(child_pids(t.pools.site.host), np.int64)
    child = (conns >> 8) % len(pids)
    return pids[child], (conns >> 16) % 25


def _pid_texts(t: Tables, conns: np.ndarray) -> np.ndarray:
    return strings([str(p) for p in _pids(t, conns)[0].tolist()])


def _tids(t: Tables, conns: np.ndarray) -> list[int]:
    pids, threads = _pids(t, conns)
    return [thread_ids(p)[k] for p, k in zip(pids.tolist(), threads.tolist())]


def _remote_ports(t: Tables, conns: np.ndarray) -> np.ndarray:
    # Linux's ephemeral range, net.ipv4.ip_local_port_range = 32768 60999.
    return strings([str(32768 + c % 28232) for c in conns.tolist()])


def _log_ids(t: Tables, keys: np.ndarray) -> np.ndarray:
    status = keys & 1023
    logged = (status >= 500) | np.isin(status, ERROR_LOGGED)
    ids = _b64(keys >> 10, 14)
    return strings([i if w else "-" for i, w in zip(ids.tolist(), logged.tolist())])


def _targets_of(t: Tables, keys: np.ndarray) -> tuple[list[str], list[int], list[int]]:
    target, _, _, status = t.response_parts(keys)
    site = t.pools.site
    return [site.targets[k] for k in target.tolist()], [int(site.kind[k]) for k in target.tolist()], status.tolist()


def _filenames(t: Tables, keys: np.ndarray) -> np.ndarray:
    """%f: the file the URL maps to under the document root (index.php for a folder)."""
    targets, kinds, _ = _targets_of(t, keys)
    out = []
    for target, kind in zip(targets, kinds):
        path = target.split("?", 1)[0]
        if kind in (PAGE, SEARCH, FEED) or path.endswith("/"):
            out.append(DOCUMENT_ROOT + "/index.php")
        else:
            out.append(DOCUMENT_ROOT + path)
    return strings(out)


def _handlers(t: Tables, keys: np.ndarray) -> np.ndarray:
    targets, kinds, statuses = _targets_of(t, keys)
    return strings([PHP_HANDLER if kind in (PAGE, SEARCH, FEED) and s < 300 else "-"
                    for kind, s in zip(kinds, statuses)])


def _ratios(t: Tables, keys: np.ndarray) -> np.ndarray:
    """mod_deflate's ratio note (DeflateFilterNote ratio): output as a percentage of input."""
    targets, kinds, statuses = _targets_of(t, keys)
    sizes = t.sizes(keys).tolist()
    out = []
    for target, kind, s, size in zip(targets, kinds, statuses, sizes):
        compressible = kind in (PAGE, SEARCH, FEED) or target.split("?", 1)[0].endswith((".css", ".js", ".svg"))
        out.append(str(18 + (len(target) * 7 + size) % 17) if s == 200 and size and compressible else "-")
    return strings(out)


def _bytes_texts(t: Tables, values: np.ndarray) -> np.ndarray:
    return strings([str(v) for v in values.tolist()])


def _has_cookies(t: Tables, clients: np.ndarray) -> list[bool]:
    languages = t.pools.population.client_languages
    # Bots carry none; a visitor's first visit has none yet (a third of visitors).
    return [languages[c] != "-" and int(h) % 3 != 0
            for c, h in zip(clients.tolist(), mix(clients, np.full(len(clients), 17)).tolist())]


def _cookie_values(name: str, t: Tables, clients: np.ndarray) -> list[str]:
    lower = name.lower()
    hashes = mix(clients, np.full(len(clients), 23)).tolist()
    has = _has_cookies(t, clients)
    out = []
    for h, c, present in zip(hashes, clients.tolist(), has):
        if not present:
            out.append("-")
        elif lower == "phpsessid":
            out.append(f"{h:016x}{(h * 2654435761) % (1 << 40):010x}"[:26])
        elif lower == "_ga":
            out.append(f"GA1.1.{100000000 + h % 900000000}.{1700000000 + (h >> 20) % 90000000}")
        elif lower == "cookieconsent_status":
            out.append("allow" if h % 4 else "dismiss")
        elif lower == "lang":
            out.append(t.pools.population.client_languages[c].split(",")[0].split("-")[0])
        else:
            out.append("-")
    return out


COOKIES = ("PHPSESSID", "_ga", "cookieconsent_status", "lang")


def cookie(name: str) -> FieldSpec:
    """%{name}C: a cookie the site sets (PHPSESSID, _ga, cookieconsent_status, lang), per client."""
    return field("client", lambda t, clients: strings(_cookie_values(name, t, clients)))


def cookie_header(t: Tables, clients: np.ndarray) -> np.ndarray:
    """%{Cookie}i: every cookie the client holds, as the browser sends them."""
    columns = {name: _cookie_values(name, t, clients) for name in COOKIES}
    out = []
    for i in range(len(clients)):
        pairs = [f"{name}={columns[name][i]}" for name in COOKIES if columns[name][i] != "-"]
        out.append("; ".join(pairs) if pairs else "-")
    return strings(out)


def env(name: str) -> FieldSpec:
    """%{name}e: what core, mod_ssl and mod_unique_id set; ``-`` for others."""
    upper = name.upper()
    if upper == "HTTPS":
        return constant("on")
    if upper in ("SSL_PROTOCOL", "SSL_CIPHER"):
        which = 0 if upper == "SSL_PROTOCOL" else 1
        return field("client", lambda t, c: strings([_TLS[h % len(_TLS)][which] for h in
                                                     mix(c, np.full(len(c), 5)).tolist()]))
    if upper == "UNIQUE_ID":
        return field("request", lambda t, keys: _b64(keys >> 10, 24))
    if upper == "REMOTE_ADDR":
        from synth.render.fields import FIELDS
        return FIELDS["client"]
    if upper in ("SERVER_NAME", "HTTP_HOST"):
        return FieldSpec("const", lambda t, k: t.pools.site.host)
    if upper == "SERVER_ADDR":
        return constant(SERVER_ADDRESS)
    if upper == "SERVER_PORT":
        return constant(str(SERVER_PORT))
    if upper == "DOCUMENT_ROOT":
        return constant(DOCUMENT_ROOT)
    return constant("-")


def note(name: str) -> FieldSpec:
    """%{name}n: mod_deflate's ``ratio``; ``-`` for others."""
    if name.lower() == "ratio":
        return field("response", _ratios)
    return constant("-")


def trailer(name: str) -> FieldSpec:
    """%{name}^ti and ^to: browsers and this site send no trailers."""
    return constant("-")


def only(spec: str) -> FieldSpec:
    """A field written only for some statuses: ``400,501|agent|`` or ``!200|header_in|Referer``."""
    from synth.render.fields import field_spec
    conditions, name, arg = spec.split("|", 2)
    inner = field_spec(name, arg or None)

    def texts(t: Tables, keys: np.ndarray) -> np.ndarray:
        met = (keys & 1).astype(bool)
        out = np.full(len(keys), "-", dtype=object)
        if met.any():
            out[met] = inner.many(t, keys[met] >> 1) if inner.key != "const" else inner.text(t, 0)
        return out

    return field(f"if:{conditions}:{inner.key}", texts)


def time_field(fmt: str) -> FieldSpec:
    """%{format}t: ``sec``, ``msec``, ``usec``, ``msec_frac``, ``usec_frac`` or strftime; with
    ``end:`` the time the response was done (the request's time plus its response time)."""
    end = fmt.startswith("end:")
    if fmt.startswith(("begin:", "end:")):
        fmt = fmt.split(":", 1)[1]
    us_key = "end_us" if end else "epoch_us"
    tokens = {"sec": lambda us: us // 1_000_000, "msec": lambda us: us // 1000, "usec": lambda us: us}
    if fmt in tokens:
        convert = tokens[fmt]
        return field(us_key, lambda t, us: strings([str(v) for v in convert(us).tolist()]))
    if fmt == "msec_frac":
        return field(us_key, lambda t, us: strings([f"{v:03d}" for v in ((us // 1000) % 1000).tolist()]))
    if fmt == "usec_frac":
        return field(us_key, lambda t, us: strings([f"{v:06d}" for v in (us % 1_000_000).tolist()]))
    if "%" not in fmt:
        raise FieldError(f"time format {fmt!r} has no strftime directive")
    strftime.pieces(fmt)  # a bad conversion is an error now, not at the first line
    return field("end_second" if end else "second", lambda t, s: strftime_texts(t, fmt, s))


def strftime_texts(t: Tables, fmt: str, seconds: np.ndarray) -> np.ndarray:
    zone = t.zone.tzinfo()  # a named zone's offset (and %Z) is each second's own
    return strings([strftime.format_time(fmt, dt.datetime.fromtimestamp(s, zone)) for s in seconds.tolist()])


FIELDS: dict[str, FieldSpec] = {
    "server_ip": constant(SERVER_ADDRESS),  # %A
    "server_name": FieldSpec("const", lambda t, k: t.pools.site.host),  # %V
    "filename": field("response", _filenames),  # %f
    "handler": field("response", _handlers),  # %R
    "keepalive": field("keepalive", _bytes_texts),  # %k
    "conn_status": field("conn_status", lambda t, v: strings([STATUS_TEXT[s] for s in v.tolist()])),  # %X
    "pid": field("connection", _pid_texts),  # %P, %{pid}P
    "tid": field("connection", lambda t, c: strings([str(x) for x in _tids(t, c)])),  # %{tid}P
    "hextid": field("connection", lambda t, c: strings([f"{x:x}" for x in _tids(t, c)])),  # %{hextid}P
    "remote_port": field("connection", _remote_ports),  # %{remote}p
    "log_id": field("request", _log_ids),  # %L
    "connection_log_id": field("conn_request", _log_ids),  # %{c}L
    "bytes_total": field("transfer", _bytes_texts),  # %S
}
def nginx_variable(arg: str) -> FieldSpec:
    """``e.nginx("MODE|name")``: an nginx variable as log_format escape=MODE writes it."""
    from synth.render.nginx import variable_field
    return variable_field(arg)


PARAMETRIC = {"cookie": cookie, "env": env, "note": note, "trailer_in": trailer, "trailer_out": trailer,
              "only": only, "time_format": time_field, "nginx": nginx_variable}
TIMED_KEYS = ("duration", "end_us", "end_second", "resp_dur")
