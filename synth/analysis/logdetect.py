"""Which format wrote a log: detected from its first lines among the built-in formats, or the
one named (``--format``, ``--log-format``).

    >>> detect_format([b'203.0.113.7 - - [27/Nov/2026:21:36:02 +0100] "GET / HTTP/1.1" 200 5 "-" "curl/8.5"'])
    Traceback (most recent call last):
    LogReadError: the first 1 lines fit several formats (combined, nginx_combined) and nothing in them tells which: name one with --format
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from synth.analysis.logblocks import LogReadError, head_lines
from synth.analysis.logparse import LineParser
from synth.render.formats import LineFormat, builtin_format, line_format
from synth.render.lines import FormatError, template_names

DETECT_LINES = 2000


def candidates() -> list[str]:
    """The built-in formats, combined first (the order the renderer lists them in)."""
    return ["combined"] + [n for n in template_names() if n != "combined"]


@cache
def builtin_parser(name: str) -> LineParser:
    """The LineParser of a built-in format, made once."""
    return LineParser(builtin_format(name))


_APACHE_ESCAPE = re.compile(rb'\\["\\]')


def _refuted(name: str, fmt: LineFormat, rows: list[dict[str, Any]], lines: list[bytes]) -> bool:
    """Evidence in parsed lines that a format did not write them, beyond its grok: Apache's
    ``%b`` writes ``-`` for an empty body, never ``0``; nginx writes ``"`` and ``\\`` as
    ``\\x22`` and ``\\x5C``, never ``\\"`` or ``\\\\``."""
    if fmt.logformat and re.search(r"%>?b", fmt.logformat) and any(r["bytes"] == 0 for r in rows):
        return True
    return name.startswith("nginx") and any(_APACHE_ESCAPE.search(line) for line in lines)


def detect_format(lines: Sequence[bytes | str]) -> str:
    """The built-in format (a name from synth.render.formats) that wrote ``lines``.

    A format fits when it parses every non-blank line of the sample (the first DETECT_LINES),
    and nothing in them says another wrote them. Raises LogReadError naming the candidates when
    several fit, or the nearest ones when none does.
    """
    sample = [(line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line).rstrip(b"\r\n")
              for line in list(lines)[:DETECT_LINES]]
    sample = [line for line in sample if line.strip()]
    if not sample:
        raise LogReadError("no lines to tell the format from (the input is empty)")
    fits, near = [], []
    for name in candidates():
        reader = builtin_parser(name)
        fmt = reader.format
        # A format that fails most of the first lines is not read further.
        head = [reader.fields(line) for line in sample[:20]]
        if sum(r is not None for r in head) < len(head) // 2:
            if any(r is not None for r in head):
                near.append((sum(r is not None for r in head), name))
            continue
        rows = head + [reader.fields(line) for line in sample[20:]]
        good = [r for r in rows if r is not None]
        if len(good) == len(sample) and not _refuted(name, fmt, good, sample):
            fits.append(name)
        elif good:
            near.append((len(good), name))
    if len(fits) == 1:
        return fits[0]
    if fits:
        raise LogReadError(f"the first {len(sample):,} lines fit several formats ({', '.join(fits)}) and nothing "
                           "in them tells which: name one with --format")
    if near:
        near.sort(key=lambda p: -p[0])
        best = ", ".join(f"{name} ({count:,} of {len(sample):,} lines)" for count, name in near[:3])
        raise LogReadError(f"no built-in format parses all of the first {len(sample):,} lines; nearest: {best}; "
                           "name the format with --format or --log-format")
    raise LogReadError(f"no built-in format parses any of the first {len(sample):,} lines (candidates: "
                       f"{', '.join(candidates())}); give --log-format with the server's LogFormat")


def detect_files_format(paths: Sequence[Path]) -> str:
    """detect_format on the first lines of the first non-empty file."""
    for path in paths:
        head = head_lines(path, DETECT_LINES)
        if any(line.strip() for line in head):
            try:
                return detect_format(head)
            except LogReadError as e:
                raise LogReadError(f"{path}: {e}") from None
    raise LogReadError("no lines to tell the format from (the input is empty)")


def resolve_format(paths: Sequence[Path], format: str | None = None, log_format: str | None = None,
                   nginx_log_format: str | None = None) -> LineFormat:
    """The format to read ``paths`` with: an nginx log_format or Apache LogFormat string, a
    built-in name, else detected."""
    try:
        if nginx_log_format or log_format or format:
            if format and not (log_format or nginx_log_format) and format not in template_names():
                raise LogReadError(f"unknown format {format!r} (built-in: {', '.join(candidates())})")
            return line_format(format, log_format, nginx_log_format)
    except FormatError as e:
        raise LogReadError(str(e)) from None
    return builtin_format(detect_files_format(paths))


__all__ = ["DETECT_LINES", "candidates", "builtin_parser", "detect_format", "detect_files_format",
           "resolve_format"]
