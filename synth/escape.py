"""Apache's escaping of logged values (``ap_escape_logitem``), so no value can break a line.

``"`` and ``\\`` get a backslash; ``\\b \\n \\r \\t \\v`` are written as those two-character
escapes; every other byte that is not printable ASCII is written ``\\xhh``. Values are escaped
once, when a pool is built, never per line.
"""

from __future__ import annotations

_SPECIAL = {0x08: "\\b", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x0B: "\\v", 0x22: '\\"', 0x5C: "\\\\"}
_TABLE = {byte: (_SPECIAL.get(byte) or (chr(byte) if 0x20 <= byte < 0x7F else f"\\x{byte:02x}"))
          for byte in range(256)}


def apache_escape(value: str) -> str:
    """``value`` as Apache writes it in a log: ``a"b`` -> ``a\\"b``, a newline -> ``\\n``.

    Text is first encoded as UTF-8, as Apache sees bytes: ``é`` -> ``\\xc3\\xa9``.
    """
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value
    return "".join(_TABLE[b] for b in value.encode("utf-8"))


def apache_unescape(value: str) -> str:
    """The inverse of apache_escape, for tests and for reading logs back."""
    out = bytearray()
    i = 0
    simple = {"b": 0x08, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B, '"': 0x22, "\\": 0x5C}
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
            if nxt == "x" and i + 3 < len(value) and all(c in "0123456789abcdefABCDEF" for c in value[i + 2:i + 4]):
                out.append(int(value[i + 2:i + 4], 16))
                i += 4
                continue
        out.extend(ch.encode("utf-8"))
        i += 1
    return out.decode("utf-8", errors="surrogateescape")
