"""Values as Java sees them: the class names in error messages and ``String.valueOf``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from decimal import Decimal
from typing import Any

from synth.elastic import javatime
from synth.elastic.grok import JavaFloat, JavaLong


def java_type(value: Any) -> str:
    """The Java class Elasticsearch would hold ``value`` as (for error messages)."""
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, JavaLong):
        return "java.lang.Long"
    if isinstance(value, int):
        return "java.lang.Integer" if -2**31 <= value < 2**31 else "java.lang.Long"
    if isinstance(value, JavaFloat):
        return "java.lang.Float"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, dict):
        return "java.util.HashMap"
    if isinstance(value, list):
        return "java.util.ArrayList"
    if isinstance(value, dt.datetime):
        return "java.time.ZonedDateTime"
    return type(value).__name__


def double_text(x: float) -> str:
    """Double.toString: ``1.0``, ``0.001``, ``1.0E7``, ``NaN``, ``Infinity``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return repr(float(x))
    sign, digits, exponent = Decimal(repr(float(x))).normalize().as_tuple()
    text = "".join(map(str, digits))
    assert isinstance(exponent, int)
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{len(text) - 1 + exponent}"


_LAST_TIME: list[Any] = [None, ""]  # the last time written and its text: _ingest.timestamp, line after line


def java_text(value: Any) -> str:
    """``String.valueOf(value)`` as Java prints it (mustache and ``convert`` to string use this)."""
    if type(value) is str:
        return value
    if value is None:
        return "null"
    if isinstance(value, dt.datetime):
        if value is not _LAST_TIME[0]:
            _LAST_TIME[:] = [value, javatime.java_datetime_text(value)]
        return _LAST_TIME[1]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return double_text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_text(v) for v in value) + "]"
    return str(value)


_IP_CACHE: dict[str, bool] = {}


def is_ip(text: str) -> bool:
    """InetAddresses.isInetAddress: an IPv4 dotted quad (no leading zeros) or an IPv6 address."""
    known = _IP_CACHE.get(text)
    if known is None:
        try:
            ipaddress.ip_address(text)
            known = True
        except ValueError:
            known = False
        if len(_IP_CACHE) > 100_000:
            _IP_CACHE.clear()
        _IP_CACHE[text] = known
    return known
