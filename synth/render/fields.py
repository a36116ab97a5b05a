"""Every value a line can show, and the column of the events it depends on.

A field is what a template writes with ``{{ e.name }}`` (or ``{{ e.name("arg") }}`` for the
fields that take one, like ``header_in("Accept-Language")``). Each field depends on one key:
the client, the agent, the referrer, the response (target, method, protocol and status
together), the second, the millisecond, the response time; the renderer formats each value of
a key once and only looks it up afterwards. Values are written the way the format's server
escapes them: Apache (``\\"``), nginx (``\\x22``) or JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synth.escape import apache_unescape
from synth.generate.pools import (
    ASSET,
    DOWNLOAD,
    FAVICON,
    FEED,
    METHODS,
    NONCANONICAL,
    PROTOCOLS,
    ROBOTS,
    SITEMAP,
    Pools,
)
from synth.generate.traffic import Events, body_bytes
from synth.generate.zone import Zone, as_zone, offset_text

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
SERVER_PORT = 443  # the site is served over https
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
           400: "Bad Request", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class FieldError(ValueError):
    """A field name or argument no format can use."""


def strings(values: list[str]) -> np.ndarray:
    """A list of str as a numpy object array (never a 2-D array of characters)."""
    pool = np.empty(len(values), dtype=object)
    pool[:] = values
    return pool


@functools.cache
def _clock_table() -> np.ndarray:
    """``HH:MM:SS`` for every second of the day, formatted once a process (a suffix is one add)."""
    return strings([f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)])


def nginx_escape(text: str) -> str:
    """nginx's default log escaping: ``"``, ``\\`` and bytes outside printable ASCII as ``\\xHH``."""
    out = []
    for byte in text.encode("utf-8"):
        out.append(f"\\x{byte:02X}" if byte < 0x20 or byte >= 0x7F or byte in (0x22, 0x5C) else chr(byte))
    return "".join(out)


def json_text(text: str) -> str:
    """The inside of a JSON string holding ``text`` (ASCII only, as every line is)."""
    return json.dumps(text)[1:-1]


@dataclass(frozen=True)
class FieldSpec:
    """A field: the key it depends on, and how key values become text (one, or many at once)."""

    key: str  # client, agent, referrer, response, second, ms, epoch_ms, duration, bytes_in, const
    text: Callable[[Tables, int], str]
    texts: Callable[[Tables, np.ndarray], np.ndarray] | None = None
    # For fields of one width (times): the bytes of many key values at once, a row each, written
    # by offsets into a byte matrix; the renderer prefers it to ``texts``.
    fixed: Callable[[Tables, np.ndarray], np.ndarray] | None = None

    def many(self, tables: Tables, keys: np.ndarray) -> np.ndarray:
        if self.texts is not None:
            return self.texts(tables, keys)
        return strings([self.text(tables, int(k)) for k in keys])


def _many_to_one(many: Callable[[Tables, np.ndarray], np.ndarray]) -> Callable[[Tables, int], str]:
    return lambda t, k: str(many(t, np.array([k], np.int64))[0])


def field(key: str, many: Callable[[Tables, np.ndarray], np.ndarray],
          fixed: Callable[[Tables, np.ndarray], np.ndarray] | None = None) -> FieldSpec:
    return FieldSpec(key, _many_to_one(many), many, fixed)


def constant(text: str) -> FieldSpec:
    return FieldSpec("const", lambda t, k: text)


class Tables:
    """The run's pools as fields read them, plus the zone offset written in the lines.

    A response key numbers every (target, method, protocol, status) the run can write; the
    request line, the status, the sizes and the response headers are all functions of it.
    """

    def __init__(self, pools: Pools, tz: int | str | Zone):
        self.pools = pools
        self.zone = as_zone(tz)
        self.n_methods, self.n_protos = len(METHODS), len(PROTOCOLS)
        self.statuses = np.array(pools.site.statuses, np.int64)
        self.status_slot = np.full(600, -1, np.int64)
        self.status_slot[self.statuses] = np.arange(len(self.statuses))
        self._clocks: dict[str, np.ndarray] = {}

    # -- keys -------------------------------------------------------------------------------
    def response_key(self, events: Events) -> np.ndarray:
        request = (events.target.astype(np.int64) * self.n_methods + events.method) * self.n_protos + events.proto
        return request * len(self.statuses) + self.status_slot[events.status]

    def response_parts(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(target, method, proto, status) of response keys."""
        request, slot = np.divmod(keys, len(self.statuses))
        rest, proto = np.divmod(request, self.n_protos)
        target, method = np.divmod(rest, self.n_methods)
        return target, method, proto, self.statuses[slot]

    def key_count(self, key: str) -> int:
        pools = self.pools
        return {"client": len(pools.population.addresses), "agent": len(pools.population.agents),
                "referrer": len(pools.referrers.values), "ms": 1000,
                "response": len(pools.site.targets) * self.n_methods * self.n_protos * len(self.statuses)}[key]

    def request_bytes(self, events: Events) -> np.ndarray:
        """%I: the request line and headers a browser sends (Host, User-Agent, Referer, Accept...)."""
        if not hasattr(self, "_agent_len"):
            self._agent_len = np.array([len(a) for a in self.pools.population.agents], np.int64)
            self._referrer_len = np.array([0] + [len(r) + 11 for r in self.pools.referrers.values[1:]], np.int64)
            self._target_len = np.array([len(t) for t in self.pools.site.targets], np.int64)
        host = len(self.pools.site.host) + 8
        line = self._target_len[events.target] + 4 + 10  # method, spaces, protocol, CRLF
        return line + host + self._agent_len[events.agent] + 14 + self._referrer_len[events.referrer] + 190

    # -- responses ---------------------------------------------------------------------------
    def _targets(self, keys: np.ndarray) -> list[str]:
        targets = self.pools.site.targets
        return [targets[t] for t in self.response_parts(keys)[0].tolist()]

    def request_texts(self, keys: np.ndarray) -> np.ndarray:
        target, method, proto, _ = self.response_parts(keys)
        targets = self.pools.site.targets
        return strings([f"{METHODS[m]} {targets[t]} {PROTOCOLS[p]}"
                        for t, m, p in zip(target.tolist(), method.tolist(), proto.tolist())])

    def method_texts(self, keys: np.ndarray) -> np.ndarray:
        return strings([METHODS[m] for m in self.response_parts(keys)[1].tolist()])

    def protocol_texts(self, keys: np.ndarray) -> np.ndarray:
        return strings([PROTOCOLS[p] for p in self.response_parts(keys)[2].tolist()])

    def version_texts(self, keys: np.ndarray) -> np.ndarray:
        return strings([PROTOCOLS[p].split("/")[1] for p in self.response_parts(keys)[2].tolist()])

    def path_texts(self, keys: np.ndarray) -> np.ndarray:
        return strings([t.split("?", 1)[0] for t in self._targets(keys)])

    def query_texts(self, keys: np.ndarray) -> np.ndarray:
        """%q: ``?`` and the query string, or nothing."""
        return strings([("?" + t.split("?", 1)[1]) if "?" in t else "" for t in self._targets(keys)])

    def status_texts(self, keys: np.ndarray) -> np.ndarray:
        return strings([str(s) for s in self.response_parts(keys)[3].tolist()])

    def sizes(self, keys: np.ndarray) -> np.ndarray:
        target, method, _, status = self.response_parts(keys)
        return body_bytes(self.pools.site.size, target, method, status)

    def bytes_texts(self, keys: np.ndarray) -> np.ndarray:
        """%b: the body size, ``-`` for none."""
        return strings([str(n) if n else "-" for n in self.sizes(keys).tolist()])

    def body_bytes_texts(self, keys: np.ndarray) -> np.ndarray:
        """%B (and nginx's $body_bytes_sent): the body size, 0 for none."""
        return strings([str(n) for n in self.sizes(keys).tolist()])

    def content_types(self, keys: np.ndarray) -> list[str]:
        target, method, _, status = self.response_parts(keys)
        kinds = self.pools.site.kind
        targets = self.pools.site.targets
        out = []
        for t, s in zip(target.tolist(), status.tolist()):
            if s in (204, 304) or (300 <= s < 400 and s != 301):
                out.append("-")
            elif s >= 300:
                out.append("text/html; charset=iso-8859-1" if s == 301 else "text/html; charset=UTF-8")
            else:
                out.append(_content_type(targets[t].split("?", 1)[0], int(kinds[t])))
        return out

    def response_header_bytes(self, keys: np.ndarray) -> np.ndarray:
        """Bytes of a response's status line and headers (Date, Server, type, length, caching)."""
        _, _, proto, status = self.response_parts(keys)
        types = self.content_types(keys)
        return np.array([header_bytes(s, c) for s, c in zip(status.tolist(), types)], np.int64) + \
            np.where(proto == 0, 0, -8)

    def bytes_out_texts(self, keys: np.ndarray) -> np.ndarray:
        """%O: everything sent, headers included."""
        return strings([str(n) for n in (self.sizes(keys) + self.response_header_bytes(keys)).tolist()])

    def header_out_texts(self, name: str, keys: np.ndarray) -> np.ndarray:
        """%{Header}o for the headers the site sends; ``-`` for any other."""
        lower = name.lower()
        if lower == "content-type":
            return strings(self.content_types(keys))
        if lower == "content-length":
            return strings([str(n) if n else "-" for n in self.sizes(keys).tolist()])
        target, _, _, status = self.response_parts(keys)
        targets, kinds = self.pools.site.targets, self.pools.site.kind
        base = f"https://{self.pools.site.host}"
        if lower == "location":
            return strings([base + targets[t] + "/" if s == 301 and kinds[t] == NONCANONICAL
                            else base + targets[t] if 300 <= s < 400 and s != 304 else "-"
                            for t, s in zip(target.tolist(), status.tolist())])
        if lower == "cache-control":
            return strings(["public, max-age=31536000, immutable" if s in (200, 304) and kinds[t] == ASSET
                            else "no-cache" if s == 200 else "-"
                            for t, s in zip(target.tolist(), status.tolist())])
        return strings(["-"] * len(keys))

    # -- times ---------------------------------------------------------------------------------
    def _dates(self, days: np.ndarray) -> tuple[int, list[dt.date]]:
        first = int(days.min())
        return first, [dt.date.fromordinal(_EPOCH_ORDINAL + d) for d in range(first, int(days.max()) + 1)]

    def local_parts(self, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.divmod(seconds + self.zone.offsets(seconds), 86400)

    def clock_texts(self, seconds_of_day: np.ndarray, suffix: str) -> np.ndarray:
        """``HH:MM:SS`` and ``suffix`` for seconds of the day, from a table made once per suffix."""
        if suffix not in self._clocks:
            self._clocks[suffix] = _clock_table() + suffix if suffix else _clock_table()
        return self._clocks[suffix][seconds_of_day]

    def _stamps(self, seconds: np.ndarray, open_: str, close: str) -> np.ndarray:
        """``{open_}dd/Mon/yyyy:HH:MM:SS +zzzz{close}``: the offset is each second's own, so a
        zone's daylight-saving change shows in the lines from the second it happens."""
        offsets = self.zone.offsets(seconds)
        day, second_of_day = np.divmod(seconds + offsets, 86400)
        first, dates = self._dates(day)
        prefixes = strings([f"{open_}{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:" for d in dates])[day - first]
        if self.zone.fixed or len(seconds) == 0 or int(offsets.min()) == int(offsets.max()):
            offset = int(offsets[0]) if len(seconds) else self.zone.offset(0)
            return prefixes + self.clock_texts(second_of_day, f" {offset_text(offset)}{close}")
        out = np.empty(len(seconds), dtype=object)
        for offset in np.unique(offsets).tolist():
            at = offsets == offset
            out[at] = prefixes[at] + self.clock_texts(second_of_day[at], f" {offset_text(offset)}{close}")
        return out

    def time_local_texts(self, seconds: np.ndarray) -> np.ndarray:
        """``28/Nov/2026:12:57:57 +0000``: Apache's %t without brackets, nginx's $time_local."""
        return self._stamps(seconds, "", "")

    def time_texts(self, seconds: np.ndarray) -> np.ndarray:
        """Apache's %t: ``[28/Nov/2026:12:57:57 +0000]`` in the log's zone."""
        return self._stamps(seconds, "[", "]")

    def iso_second_texts(self, seconds: np.ndarray) -> np.ndarray:
        """``2026-11-28T12:57:57`` in UTC, for JSON documents (milliseconds follow)."""
        day, second_of_day = np.divmod(seconds, 86400)
        first, dates = self._dates(day)
        prefixes = strings([f"{d.isoformat()}T" for d in dates])
        return prefixes[day - first] + self.clock_texts(second_of_day, "")

    def _day_rows(self, days: np.ndarray, text: Callable[[dt.date], str]) -> np.ndarray:
        """A byte row per day (``text`` of each distinct day, all of one width), one per value."""
        first, dates = self._dates(days)
        table = np.frombuffer("".join(text(d) for d in dates).encode("ascii"), np.uint8)
        return table.reshape(len(dates), -1)[days - first]

    def _clock_rows(self, seconds_of_day: np.ndarray) -> np.ndarray:
        """``HH:MM:SS`` as bytes, a row per value, by digit arithmetic."""
        out = np.empty((len(seconds_of_day), 8), np.uint8)
        hours, rest = np.divmod(seconds_of_day, 3600)
        minutes, secs = np.divmod(rest, 60)
        for col, value in ((0, hours), (3, minutes), (6, secs)):
            tens, ones = np.divmod(value, 10)
            out[:, col] = tens + 48
            out[:, col + 1] = ones + 48
        out[:, 2] = out[:, 5] = ord(":")
        return out

    def time_rows(self, seconds: np.ndarray, open_: str, close: str, zone: bool = True) -> np.ndarray:
        """``{open_}28/Nov/2026:12:57:57 +0000{close}`` as bytes, a row per second (the log's zone)."""
        offsets = self.zone.offsets(seconds) if zone else np.zeros(len(seconds), np.int64)
        day, second_of_day = np.divmod(seconds + offsets, 86400)
        prefix = self._day_rows(day, lambda d: f"{open_}{d.day:02d}/{MONTHS[d.month - 1]}/{d.year:04d}:")
        # Each second's own offset, so a daylight-saving change shows from the second it happens.
        distinct, which = np.unique(offsets, return_inverse=True)
        suffixes = [f" {offset_text(int(o))}{close}" if zone else close for o in distinct.tolist()]
        table = np.frombuffer("".join(suffixes).encode("ascii"), np.uint8).reshape(len(distinct), -1)
        tail = table[which.ravel()]
        return np.concatenate([prefix, self._clock_rows(second_of_day), tail], axis=1)

    def iso_second_rows(self, seconds: np.ndarray) -> np.ndarray:
        """``2026-11-28T12:57:57`` in UTC as bytes, a row per second."""
        day, second_of_day = np.divmod(seconds, 86400)
        prefix = self._day_rows(day, lambda d: f"{d.isoformat()}T")
        return np.concatenate([prefix, self._clock_rows(second_of_day)], axis=1)


def header_bytes(status: int, content_type: str) -> int:
    """Bytes of an HTTP/1.1 response's status line and headers (Date, Server, type, length,
    caching) for ``status`` and ``content_type`` ("-" for none)."""
    reason = REASONS.get(status, "")
    return 17 + len(reason) + 37 + 16 + (0 if content_type == "-" else 16 + len(content_type)) + 60


def _content_type(path: str, kind: int) -> str:
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    types = {"css": "text/css", "js": "text/javascript", "png": "image/png", "jpg": "image/jpeg",
             "webp": "image/webp", "svg": "image/svg+xml", "ico": "image/x-icon", "woff2": "font/woff2",
             "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip", "txt": "text/plain",
             "xml": "application/xml"}
    if kind == ROBOTS:
        return "text/plain"
    if kind == FEED:
        return "application/rss+xml; charset=UTF-8"
    if kind == SITEMAP:
        return "application/xml"
    if kind in (ASSET, FAVICON, DOWNLOAD) and ext in types:
        return types[ext]
    return types.get(ext, "text/html; charset=UTF-8")


def _pool(values: Callable[[Pools], list[str]], convert: Callable[[str], str] | None = None):
    def many(t: Tables, keys: np.ndarray) -> np.ndarray:
        pool = values(t.pools)
        if convert is None:
            return strings([pool[k] for k in keys.tolist()])
        return strings([convert(apache_unescape(pool[k])) for k in keys.tolist()])
    return many


def _addresses(p: Pools) -> list[str]:
    return p.population.addresses


def _agents(p: Pools) -> list[str]:
    return p.population.agents


def _referrers(p: Pools) -> list[str]:
    return p.referrers.values


def _referrer_member(t: Tables, keys: np.ndarray) -> np.ndarray:
    """``,"referrer":"..."`` for JSON documents, nothing when there was none."""
    values = t.pools.referrers.values
    return strings(["" if k == 0 else f',"referrer":"{json_text(apache_unescape(values[k]))}"' for k in keys.tolist()])


def _query_member(t: Tables, keys: np.ndarray) -> np.ndarray:
    return strings([f',"query":"{json_text(apache_unescape(q[1:]))}"' if q else "" for q in t.query_texts(keys)])


def _json_of(many: Callable[[Tables, np.ndarray], np.ndarray]) -> Callable[[Tables, np.ndarray], np.ndarray]:
    return lambda t, keys: strings([json_text(apache_unescape(v)) for v in many(t, keys).tolist()])


def _nginx_of(many: Callable[[Tables, np.ndarray], np.ndarray]) -> Callable[[Tables, np.ndarray], np.ndarray]:
    return lambda t, keys: strings([nginx_escape(apache_unescape(v)) for v in many(t, keys).tolist()])


def _languages(t: Tables, keys: np.ndarray) -> np.ndarray:
    languages = t.pools.population.client_languages
    return strings([languages[k] for k in keys.tolist()])


def _ints(scale: float, digits: int = 0) -> Callable[[Tables, np.ndarray], np.ndarray]:
    if digits:
        return lambda t, keys: strings([f"{int(v * scale) % 10 ** digits:0{digits}d}" for v in keys.tolist()])
    return lambda t, keys: strings([str(int(v * scale)) for v in keys.tolist()])


def _outcome(t: Tables, keys: np.ndarray) -> np.ndarray:
    return strings(["failure" if s >= 400 else "success" for s in t.response_parts(keys)[3].tolist()])


# Fields without an argument.
FIELDS: dict[str, FieldSpec] = {
    # Who asked.
    "client": field("client", _pool(_addresses)),  # %h (no host name lookups: the address)
    "client_ip": field("client", _pool(_addresses)),  # %a
    "ident": constant("-"),  # %l
    "user": constant("-"),  # %u
    # When.
    "time": field("second", lambda t, s: t.time_texts(s), lambda t, s: t.time_rows(s, "[", "]")),  # %t
    "time_local": field("second", lambda t, s: t.time_local_texts(s),
                        lambda t, s: t.time_rows(s, "", "")),  # nginx $time_local
    "iso_second": field("second", lambda t, s: t.iso_second_texts(s), lambda t, s: t.iso_second_rows(s)),
    "millis": field("ms", _ints(1, 3)),
    # What was asked, and what came back.
    "request": field("response", Tables.request_texts),  # %r
    "method": field("response", Tables.method_texts),  # %m
    "path": field("response", Tables.path_texts),  # %U
    "query": field("response", Tables.query_texts),  # %q
    "protocol": field("response", Tables.protocol_texts),  # %H
    "http_version": field("response", Tables.version_texts),
    "status": field("response", Tables.status_texts),  # %>s, %s
    "bytes": field("response", Tables.bytes_texts),  # %b
    "body_bytes": field("response", Tables.body_bytes_texts),  # %B, nginx $body_bytes_sent
    "bytes_out": field("response", Tables.bytes_out_texts),  # %O
    "bytes_in": field("bytes_in", lambda t, values: strings([str(v) for v in values.tolist()])),  # %I
    "outcome": field("response", _outcome),
    # How long it took.
    "duration_us": field("duration", _ints(1)),  # %D
    "duration_ms": field("duration", _ints(1 / 1000)),  # %{ms}T
    "duration_s": field("duration", _ints(1 / 1_000_000)),  # %T
    "duration_ns": field("duration", _ints(1000)),  # ECS event.duration
    # The site.
    "vhost": FieldSpec("const", lambda t, k: t.pools.site.host),  # %v
    "port": constant(str(SERVER_PORT)),  # %p
    # Headers the client sent, as Apache writes them.
    "referer": field("referrer", _pool(_referrers)),  # %{Referer}i
    "agent": field("agent", _pool(_agents)),  # %{User-agent}i
    # The same values as nginx writes them.
    "request_nginx": field("response", _nginx_of(Tables.request_texts)),
    "referer_nginx": field("referrer", _pool(_referrers, nginx_escape)),
    "agent_nginx": field("agent", _pool(_agents, nginx_escape)),
    # The same values inside JSON strings.
    "agent_json": field("agent", _pool(_agents, json_text)),
    "target_json": field("response", _json_of(lambda t, keys: strings(t._targets(keys)))),
    "path_json": field("response", _json_of(Tables.path_texts)),
    "query_json_member": field("response", _query_member),
    "referer_json_member": field("referrer", _referrer_member),
}

# Fields that take an argument: a header's name, a time format, a cookie, a status condition.
PARAMETRIC = ("header_in", "header_out", "time_format", "cookie", "env", "note", "trailer_in", "trailer_out",
              "only", "nginx")


def header_in(name: str) -> FieldSpec:
    """%{Name}i: a request header as the client sent it; ``-`` for headers our clients do not send."""
    lower = name.lower()
    if lower == "referer":
        return FIELDS["referer"]
    if lower == "user-agent":
        return FIELDS["agent"]
    if lower == "host":
        return FIELDS["vhost"]
    if lower == "accept-language":
        return field("client", _languages)
    if lower == "accept-encoding":
        return constant("gzip, deflate, br")
    if lower == "cookie":
        from synth.render.server_fields import cookie_header
        return field("client", cookie_header)
    return constant("-")


def header_out(name: str) -> FieldSpec:
    """%{Name}o: a response header the site sent; ``-`` for others."""
    return field("response", lambda t, keys: t.header_out_texts(name, keys))


def time_format(fmt: str) -> FieldSpec:
    """%{format}t: ``sec``, ``msec``, ``usec``, ``msec_frac``, ``usec_frac``, or a strftime format;
    ``begin:`` (the request's time) or ``end:`` (when its response was done) in front."""
    from synth.render.server_fields import time_field
    return time_field(fmt)


def field_spec(name: str, arg: str | None = None) -> FieldSpec:
    """The field a template names, with its argument for the parametric ones."""
    from synth.render import server_fields
    if name in PARAMETRIC:
        if arg is None:
            raise FieldError(f"e.{name} needs an argument, like e.{name}(\"...\")")
        if name == "header_in":
            return header_in(arg)
        if name == "header_out":
            return header_out(arg)
        return server_fields.PARAMETRIC[name](arg)
    spec = FIELDS.get(name) or server_fields.FIELDS.get(name)
    if spec is None:
        known = [*FIELDS, *server_fields.FIELDS, *PARAMETRIC]
        raise FieldError(f"template field e.{name} is unknown (known: {', '.join(known)})")
    if arg is not None:
        raise FieldError(f"e.{name} takes no argument")
    return spec


def needs_durations(spec: FieldSpec) -> bool:
    """Whether a field writes response times (so the events must carry them)."""
    from synth.render.server_fields import TIMED_KEYS
    return spec.key in TIMED_KEYS or (spec.key.startswith("if:") and spec.key.rsplit(":", 1)[1] in TIMED_KEYS)


POOLED_KEYS = ("client", "agent", "referrer", "response", "ms")


def key_column(key: str, events: Events, tables: Tables) -> np.ndarray:
    """The integer column a key reads from the events."""
    if key == "client":
        return events.client
    if key == "agent":
        return events.agent
    if key == "referrer":
        return events.referrer
    if key == "response":
        return tables.response_key(events)
    if key == "second":
        return events.t_ms // 1000
    if key == "ms":
        return events.t_ms % 1000
    if key == "epoch_ms":
        return events.t_ms
    if key == "duration":
        if events.duration_us is None:
            raise FieldError("this format writes response times, but the events have none")
        return events.duration_us
    if key == "bytes_in":
        return tables.request_bytes(events)
    from synth.render.server_fields import key_column as server_key_column
    return server_key_column(key, events, tables)
