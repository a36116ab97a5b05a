"""java.util.regex as far as ingest options use it: compile a Java regex, ``String.split``
and ``Matcher.replaceAll`` replacements (``$1``, ``${name}``, ``\\$``)."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=256)
def java_regex(expr: str) -> re.Pattern:
    """A Java regex as Python's re reads it: the syntax ingest options use is the same (\\d, \\w
    and \\s are ASCII in Java unless asked otherwise, so they are here)."""
    return re.compile(re.sub(r"\(\?<(?![=!])", "(?P<", expr), re.ASCII)


def java_split(regex: re.Pattern, text: str, limit: int = 0) -> list[str]:
    """``String.split(regex, limit)``: no empty leading piece from a zero-width match at the
    start; with limit 0 trailing empty pieces go; with limit n > 0 at most n pieces."""
    parts: list[str] = []
    pos = 0
    matched = False
    for m in regex.finditer(text):
        if limit > 0 and len(parts) == limit - 1:
            break
        if m.end() == 0:
            continue
        if m.start() == m.end() and m.start() >= len(text):
            break
        matched = True
        parts.append(text[pos:m.start()])
        pos = m.end()
    if not matched:
        return [text]
    parts.append(text[pos:])
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def java_replacement(replacement: str) -> str:
    """A Java replacement string (``$1``, ``${name}``, ``\\x`` for a literal x) for ``re.sub``."""
    out = []
    i = 0
    while i < len(replacement):
        c = replacement[i]
        if c == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif c == "$":
            m = re.match(r"\$(?:\{([A-Za-z][A-Za-z0-9]*)\}|(\d))", replacement[i:])
            if m is None:
                raise ValueError("Illegal group reference")
            out.append(f"\\g<{m.group(1) or m.group(2)}>")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)
