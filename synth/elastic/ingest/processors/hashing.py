"""Processors that hash: ``fingerprint`` (FingerprintProcessor: MD5, SHA-1, SHA-256, SHA-512 or
MurmurHash3 over the fields, depth first, salted) and ``community_id`` (the Community ID v1
flow hash of Corelight's specification)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import struct
from binascii import b2a_base64
from dataclasses import dataclass
from typing import Any

from synth.elastic.grok import JavaFloat, JavaLong
from synth.elastic.ingest.config import Context, Options, Processor, register
from synth.elastic.ingest.document import IngestDocument, field_path
from synth.elastic.ingest.errors import ProcessorError
from synth.elastic.ingest.values import java_type

_MASK = (1 << 64) - 1


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MASK


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _MASK
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _MASK
    return k ^ (k >> 33)


def murmur3_128(data: bytes, seed: int = 0) -> bytes:
    """MurmurHash3 x64 128 (Elasticsearch's MurmurHash3.hash128 / Murmur3Hasher), as h1 then h2,
    each big-endian (Numbers.longToBytes)."""
    c1, c2 = 0x87C37B91114253D5, 0x4CF5AD432745937F
    h1 = h2 = seed & _MASK
    blocks = len(data) // 16
    for k in range(blocks):
        k1, k2 = struct.unpack_from("<QQ", data, k * 16)
        k1 = (_rotl((k1 * c1) & _MASK, 31) * c2) & _MASK
        h1 ^= k1
        h1 = (_rotl(h1, 27) + h2) & _MASK
        h1 = (h1 * 5 + 0x52DCE729) & _MASK
        k2 = (_rotl((k2 * c2) & _MASK, 33) * c1) & _MASK
        h2 ^= k2
        h2 = (_rotl(h2, 31) + h1) & _MASK
        h2 = (h2 * 5 + 0x38495AB5) & _MASK
    tail = data[blocks * 16:]
    k1 = k2 = 0
    for i in range(len(tail) - 1, 7, -1):
        k2 ^= tail[i] << ((i - 8) * 8)
    if len(tail) > 8:
        k2 = (_rotl((k2 * c2) & _MASK, 33) * c1) & _MASK
        h2 ^= k2
    for i in range(min(len(tail), 8) - 1, -1, -1):
        k1 ^= tail[i] << (i * 8)
    if tail:
        k1 = (_rotl((k1 * c1) & _MASK, 31) * c2) & _MASK
        h1 ^= k1
    h1 ^= len(data)
    h2 ^= len(data)
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    h1, h2 = _fmix(h1), _fmix(h2)
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    return struct.pack(">QQ", h1, h2)


class _Murmur3:
    """A hashlib-like object over murmur3_128 (Murmur3Hasher buffers until the digest)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def update(self, data: bytes) -> None:
        self.parts.append(data)

    def digest(self) -> bytes:
        return murmur3_128(b"".join(self.parts))


_DIGESTS: dict[str, Any] = {"MD5": hashlib.md5, "SHA-1": hashlib.sha1, "SHA-256": hashlib.sha256, "SHA-512": hashlib.sha512,
            "MurmurHash3": _Murmur3}


_INT, _LONG = struct.Struct("<i"), struct.Struct("<q")


def fingerprint_bytes(value: Any) -> bytes:
    """FingerprintProcessor.toBytes: how each kind of value enters the hash."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bool):
        return b"\x01" if value else b"\x02"
    if isinstance(value, int):
        if isinstance(value, JavaLong) or not -2**31 <= value < 2**31:
            return struct.pack("<q", value)
        return struct.pack("<i", value)
    if isinstance(value, JavaFloat):
        return struct.pack("<f", value)
    if isinstance(value, float):
        return struct.pack("<d", value)
    if isinstance(value, dt.datetime):
        zone = "Z" if value.utcoffset() == dt.timedelta(0) else str(value.tzinfo)
        offset = int((value.utcoffset() or dt.timedelta(0)).total_seconds())
        return struct.pack("<8i", value.year, value.month, value.day, value.hour, value.minute, value.second,
                           value.microsecond * 1000, offset) + zone.encode()
    if value is None:
        return b""
    raise ProcessorError(f"cannot convert object of type [{java_type(value)}] to bytes")



@dataclass
class _Entry:
    key: str
    value: Any


@register
class FingerprintProcessor(Processor):
    kind = "fingerprint"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        fields = options.strings("fields")
        if not fields:
            raise options.error("fields", "must specify at least one field")
        self.fields = [field_path(f) for f in sorted(fields)]
        self.reversed_fields = self.fields[::-1]
        self.target = field_path(options.string("target_field", "fingerprint"))
        salt = options.string("salt", "")
        self.salt = salt.encode("utf-8") if salt.strip() else b""
        method = options.string("method", "SHA-1")
        if method not in _DIGESTS:
            raise options.error("method", f"[{method}] must be one of the supported hash methods "
                                          f"[{', '.join(_DIGESTS)}]")
        self.digest = _DIGESTS[method]
        self.ignore_missing = options.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument) -> None:
        stack: list[Any] = []
        get = doc.get
        for path in self.reversed_fields:  # the last missing field in sorted order is the one named
            value = get(path, True)
            if value is None:
                if self.ignore_missing:
                    continue
                raise ProcessorError(f"missing field [{path.text}] when calculating fingerprint")
            stack.append(value)
        if not stack:
            return
        parts: list[bytes] | None = []
        for value in reversed(stack):  # scalars only (a line, its offset): one update
            kind = type(value)
            if kind is str:
                parts.append(value.encode("utf-8"))  # type: ignore[union-attr]
            elif kind is int:
                parts.append(_INT.pack(value) if -2**31 <= value < 2**31 else _LONG.pack(value))  # type: ignore[union-attr]
            elif isinstance(value, list | dict):
                parts = None
                break
            else:
                parts.append(fingerprint_bytes(value))  # type: ignore[union-attr]
        hasher: Any = self.digest()
        if parts is not None:
            hasher.update(self.salt + b"\x00" + b"\x00".join(parts))
            doc.set(self.target, b2a_base64(hasher.digest(), newline=False).decode("ascii"))
            return
        hasher.update(self.salt)
        update = hasher.update
        # Depth first, in sorted order: lists item by item, objects entry by entry (key, then value).
        while stack:
            value = stack.pop()
            if type(value) is str:
                update(b"\x00" + value.encode("utf-8"))
            elif isinstance(value, list):
                stack.extend(reversed(value))
            elif isinstance(value, dict):
                stack.extend(reversed([_Entry(k, value[k]) for k in sorted(value)]))
            elif isinstance(value, _Entry):
                update(b"\x00")
                update(fingerprint_bytes(value.key))
                stack.append(value.value)
            else:
                update(b"\x00" + fingerprint_bytes(value))
        doc.set(self.target, base64.b64encode(hasher.digest()).decode("ascii"))


# Community ID v1: ICMP types and their "port" pairs (one-way types have none and keep their order).
_ICMP4 = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
_ICMP6 = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 144: 145, 145: 144}
_TRANSPORTS = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "ipv6-icmp": 58, "icmpv6": 58, "eigrp": 88,
               "ospf": 89, "pim": 103, "sctp": 132}


@register
class CommunityIdProcessor(Processor):
    """CommunityIdProcessor: ``1:`` + base64(SHA-1(seed, the lower endpoint first, protocol, ports))."""

    kind = "community_id"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        read = options.string
        self.source_ip, self.source_port = field_path(read("source_ip", "source.ip")), field_path(read("source_port", "source.port"))
        self.destination_ip = field_path(read("destination_ip", "destination.ip"))
        self.destination_port = field_path(read("destination_port", "destination.port"))
        self.iana = field_path(read("iana_number", "network.iana_number"))
        self.transport = field_path(read("transport", "network.transport"))
        self.icmp_type, self.icmp_code = field_path(read("icmp_type", "icmp.type")), field_path(read("icmp_code", "icmp.code"))
        self.target = field_path(read("target_field", "network.community_id"))
        seed = options.raw("seed", 0)
        try:
            self.seed = int(seed)
        except (TypeError, ValueError):
            raise options.error("seed", "seed must be a number") from None
        if not 0 <= self.seed <= 65535:
            raise options.error("seed", "must be a value between 0 and 65535")
        self.ignore_missing = options.boolean("ignore_missing", True)

    def _number(self, doc: IngestDocument, path: Any, what: str) -> int | None:
        value = doc.get(path, True)
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ProcessorError(f"unable to parse {what} [{value}]") from None

    def execute(self, doc: IngestDocument) -> None:
        source, destination = doc.get(self.source_ip, True), doc.get(self.destination_ip, True)
        if source is None or destination is None:
            if self.ignore_missing:
                return
            raise ProcessorError("ip addresses are required for community_id")
        try:
            src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
        except ValueError as e:
            raise ProcessorError(str(e)) from None
        protocol = self._number(doc, self.iana, "IANA number")
        if protocol is None:
            transport = doc.get(self.transport, True)
            if transport is None:
                if self.ignore_missing:
                    return
                raise ProcessorError("transport protocol is required for community_id")
            protocol = _TRANSPORTS.get(str(transport).lower())
            if protocol is None:
                try:
                    protocol = int(transport)
                except ValueError:
                    raise ProcessorError(f"could not convert string [{transport}] to transport protocol") from None
        if protocol in (1, 58):
            icmp_type, icmp_code = self._number(doc, self.icmp_type, "ICMP type"), self._number(doc, self.icmp_code, "ICMP code")
            if icmp_type is None:
                if self.ignore_missing:
                    return
                raise ProcessorError("ICMP type is required for community_id")
            pairs = _ICMP4 if protocol == 1 else _ICMP6
            sport: int | None = icmp_type
            dport: int | None = pairs.get(icmp_type, icmp_code or 0)
            one_way = icmp_type not in pairs
        else:
            sport, dport = self._number(doc, self.source_port, "port"), self._number(doc, self.destination_port, "port")
            if protocol in (6, 17, 132) and (sport is None or dport is None):
                if self.ignore_missing:
                    return
                raise ProcessorError("source and destination ports are required for community_id")
            one_way = False
        a, b = src.packed, dst.packed
        ports = sport is not None and dport is not None
        if not one_way and (a, sport or 0) > (b, dport or 0):
            a, b, sport, dport = b, a, dport, sport
        data = struct.pack(">H", self.seed) + a + b + struct.pack(">BB", protocol, 0)
        if ports:
            data += struct.pack(">HH", sport, dport)
        doc.set(self.target, "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"))
