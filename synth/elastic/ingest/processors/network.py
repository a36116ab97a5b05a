"""Processors for web and network fields: ``user_agent``, ``uri_parts`` and ``network_direction``."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import Any

from synth.elastic.ingest.config import Context, Options, Processor, register
from synth.elastic.ingest.document import IngestDocument, field_path
from synth.elastic.ingest.errors import ProcessorError
from synth.elastic.ingest.mustache import Template
from synth.elastic.useragent import PROPERTIES as UA_PROPERTIES


@register
class UserAgentProcessor(Processor):
    kind = "user_agent"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        self.target = field_path(options.string("target_field", "user_agent"))
        properties = options.strings("properties", list(UA_PROPERTIES))
        unknown = [p for p in properties if p.lower() not in UA_PROPERTIES]
        if unknown:
            raise options.error("properties", f"illegal property value [{unknown[0]}]. valid values are "
                                              f"[NAME, OS, DEVICE, ORIGINAL, VERSION]")
        self.properties = tuple(p for p in UA_PROPERTIES if p in {q.lower() for q in properties})
        if options.string("regex_file", None) is not None:
            raise options.error("regex_file", "custom regex files are not supported here")
        if options.boolean("extract_device_type", False):
            raise options.error("extract_device_type", "device types (beta) are not supported here")
        options.raw("ecs", None)  # accepted and ignored by Elasticsearch 8
        self.ignore_missing = options.boolean("ignore_missing", False)
        self.parser = context.ua_parser

    def execute(self, doc: IngestDocument) -> None:
        agent = doc.get_string(self.field, self.ignore_missing)
        if agent is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot parse user-agent.")
        doc.set(self.target, self.parser.parse(agent, self.properties))



# java.net.URI refuses these outside an escape (RFC 2396 "unwise" and control characters).
_URI_ILLEGAL = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]|%(?![0-9A-Fa-f]{2})")
_URL_PROTOCOLS = ("http", "https", "ftp", "file", "jar")


def uri_parts(text: str) -> dict[str, Any]:
    """UriPartsProcessor.apply: java.net.URI's parts (decoded), falling back to java.net.URL
    (raw) for text URI refuses; ``domain`` and ``scheme`` are always there, maybe null."""
    decode: Any = urllib.parse.unquote
    if _URI_ILLEGAL.search(text) or text.startswith(":"):
        scheme = text.split(":", 1)[0].lower() if ":" in text else ""
        if scheme not in _URL_PROTOCOLS:
            raise ProcessorError(f"unable to parse URI [{text}]")
        decode = str  # URL's getters are raw
    m = re.fullmatch(r"(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", text, re.S)
    if m is None:
        raise ProcessorError(f"unable to parse URI [{text}]")
    scheme, authority, path, query, fragment = m.groups()
    parts: dict[str, Any] = {}
    user_info = host = None
    port = -1
    if authority is not None:
        if "@" in authority:
            user_info, authority = authority.rsplit("@", 1)
        hostport = re.fullmatch(r"(\[[^\]]*\]|[^:]*)(?::(\d*))?", authority)
        if hostport is None:
            raise ProcessorError(f"unable to parse URI [{text}]")
        host = hostport.group(1) or None
        if hostport.group(2):
            port = int(hostport.group(2))
    parts["domain"] = host
    if fragment is not None:
        parts["fragment"] = decode(fragment)
    opaque = scheme is not None and authority is None and not path.startswith("/")
    if not opaque:
        path = decode(path)
        parts["path"] = path
        last = path[path.rfind("/"):] if "/" in path else None
        if last is not None and "." in last:
            parts["extension"] = last[last.rfind(".") + 1:]
    if port != -1:
        parts["port"] = port
    if query is not None and not opaque:
        parts["query"] = decode(query)
    parts["scheme"] = scheme
    if user_info is not None:
        user_info = decode(user_info)
        parts["user_info"] = user_info
        if ":" in user_info:
            name, _, password = user_info.partition(":")
            parts["username"], parts["password"] = name, password
    return parts


@register
class UriPartsProcessor(Processor):
    kind = "uri_parts"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field_name = options.string("field")
        self.field = field_path(self.field_name)
        self.target_name = options.string("target_field", "url")
        self.target = field_path(self.target_name)
        self.remove_if_successful = options.boolean("remove_if_successful", False)
        self.keep_original = options.boolean("keep_original", True)
        self.ignore_missing = options.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get_string(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot parse URI.")
        parts = uri_parts(value)
        if self.keep_original:
            parts["original"] = value
        if self.remove_if_successful and self.target_name != self.field_name:
            doc.remove(self.field)
        doc.set(self.target, parts)


def _named_network(name: str) -> Any:
    """NetworkDirectionProcessor's named ranges, as tests on an address."""
    tests = {
        "loopback": lambda ip: ip.is_loopback,
        "unicast": lambda ip: not ip.is_multicast and str(ip) != "255.255.255.255",
        "global_unicast": lambda ip: (not ip.is_multicast and str(ip) != "255.255.255.255" and not ip.is_loopback
                                      and not ip.is_unspecified and not ip.is_link_local),
        "multicast": lambda ip: ip.is_multicast,
        "interface_local_multicast": lambda ip: ip.version == 6 and ip in ipaddress.ip_network("ff01::/16"),
        "link_local_unicast": lambda ip: ip.is_link_local,
        "link_local_multicast": lambda ip: ip in (ipaddress.ip_network("224.0.0.0/24") if ip.version == 4
                                                  else ipaddress.ip_network("ff02::/16")),
        "link_local": lambda ip: ip.is_link_local or ip in (ipaddress.ip_network("224.0.0.0/24") if ip.version == 4
                                                            else ipaddress.ip_network("ff02::/16")),
        "private": lambda ip: (any(ip in ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12",
                                                                             "192.168.0.0/16"))
                               if ip.version == 4 else ip in ipaddress.ip_network("fc00::/7")),
        "unspecified": lambda ip: ip.is_unspecified,
    }
    tests["public"] = lambda ip: not any(tests[n](ip) for n in ("loopback", "unspecified", "link_local", "multicast",
                                                                 "private")) and str(ip) != "255.255.255.255"
    return tests.get(name)


def _is_internal(networks: list[str], address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ProcessorError(f"'{address}' is not an IP string literal.") from None
    for network in networks:
        test = _named_network(network)
        if test is not None:
            if test(ip):
                return True
            continue
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            raise ProcessorError(f"'{network}' is not an IP string literal.") from None
    return False


@register
class NetworkDirectionProcessor(Processor):
    """NetworkDirectionProcessor: ``internal``, ``outbound``, ``inbound`` or ``external`` from
    whether the source and destination addresses are in the internal networks."""

    kind = "network_direction"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.source = field_path(options.string("source_ip", "source.ip"))
        self.destination = field_path(options.string("destination_ip", "destination.ip"))
        self.target = field_path(options.string("target_field", "network.direction"))
        networks = options.strings("internal_networks", None)
        networks_field = options.optional_string("internal_networks_field")
        if networks is None and networks_field is None:
            raise options.error("internal_networks", "and [internal_networks_field] cannot both be null")
        if networks is not None and networks_field is not None:
            raise options.error("internal_networks", "and [internal_networks_field] cannot both be used in the "
                                                     "same processor")
        self.networks = [Template(n, "text/plain", options.where) for n in networks] if networks is not None else None
        self.networks_field = field_path(networks_field) if networks_field is not None else None
        self.ignore_missing = options.boolean("ignore_missing", True)

    def execute(self, doc: IngestDocument) -> None:
        if self.networks_field is not None:
            networks = doc.get(self.networks_field, self.ignore_missing)
            if networks is None:
                return
        else:
            assert self.networks is not None
            networks = [n.render(doc) for n in self.networks]
        source = doc.get_string(self.source, self.ignore_missing)
        if source is None:
            return
        destination = doc.get_string(self.destination, self.ignore_missing)
        if destination is None:
            return
        inside, to_inside = _is_internal(networks, source), _is_internal(networks, destination)
        direction = ("internal" if to_inside else "outbound") if inside else ("inbound" if to_inside else "external")
        doc.set(self.target, direction)
