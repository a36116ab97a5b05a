"""Grok as Elasticsearch's ingest ``grok`` processor does it, on Python's ``re``.

Elasticsearch expands ``%{NAME:field:type}`` references textually, repeatedly replacing the
first reference with ``(?<NAME:field:type>definition)`` (or ``(?:definition)`` when it names no
field), and compiles the result with Joni (Oniguruma, Ruby syntax). Several patterns become one
alternation ``(?:p1)|(?:p2)``, searched once: the leftmost match wins, and at one position the
first pattern. A capture's group name is split on ``:``: the second part is the field, a third
part its type (``int``, ``long``, ``float``, ``double``, ``boolean``; anything else is a string).
Where one field is captured by several groups, the first group that took part in the match
gives the value; groups that matched nothing set nothing.

What Python's ``re`` spells differently is translated once, at compile time: named groups get
legal names (``g0``, ``g1`` ... mapped back to their field), POSIX classes such as
``[[:alnum:]]`` become ASCII ranges, an inline ``(?i)`` becomes a group scoped to the end of its
enclosing group, Ruby's ``m`` flag becomes Python's ``s``, and ``^``/``$`` match at line ends as
in Ruby. Atomic groups and possessive quantifiers need Python 3.11.

    >>> grok = Grok(builtin_patterns(ecs=True), ["%{IP:source.ip} %{INT:n:int}"])
    >>> grok.captures("10.0.0.1 42")
    {'source.ip': '10.0.0.1', 'n': 42}
"""

from __future__ import annotations

import re
import struct
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ECS_MODES = ("disabled", "v1")

# Elasticsearch's reference syntax: %{PATTERN}, %{PATTERN:field}, %{PATTERN:field:type}, and an
# inline definition after "=" that it parses but ignores. The pattern name class [A-z0-9] is
# kept as it is there (it also admits [ \ ] ^ _ `).
_REFERENCE = re.compile(r"%\{(?P<name>(?P<pattern>[A-z0-9]+)(?::(?P<subname>[a-zA-Z0-9@\[\]_:.-]+))?)"
                        r"(?:=(?P<definition>[^{}]+))?\}")
_MAX_EXPANSIONS = 100_000

# Elasticsearch reads the pattern files of a mode in this order; a later NAME replaces an earlier.
ES_FILE_ORDER = ("aws", "bacula", "bind", "bro", "exim", "firewalls", "grok-patterns", "haproxy", "httpd", "java",
                 "junos", "linux-syslog", "maven", "mcollective-patterns", "mcollective", "mongodb", "nagios",
                 "postgresql", "rails", "redis", "ruby", "squid", "zeek")

_POSIX = {"alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "digit": "0-9", "xdigit": "0-9a-fA-F", "upper": "A-Z",
          "lower": "a-z", "space": r"\s", "blank": r" \t", "word": r"\w", "cntrl": r"\x00-\x1f\x7f",
          "print": r"\x20-\x7e", "graph": r"\x21-\x7e", "punct": r"!-/:-@\[-`{-~"}


class GrokError(ValueError):
    """A pattern that cannot be compiled, or a reference to a pattern that does not exist."""


class GrokValueError(ValueError):
    """A captured value that its type cannot hold (``%{WORD:n:int}`` on ``abc``)."""


class JavaLong(int):
    """An integer Elasticsearch holds as a Long (a ``:long`` capture), whatever its size."""


class JavaFloat(float):
    """A number Elasticsearch holds as a Float (a ``:float`` capture), already rounded to 32 bits."""


# -- pattern files --------------------------------------------------------------------------------

def read_patterns(text: str, into: dict[str, str] | None = None) -> dict[str, str]:
    """NAME -> definition from one file in Elasticsearch's format: ``#`` comments and blank lines
    skipped, leading space trimmed, split at the first run of whitespace; later NAMEs win."""
    bank = {} if into is None else into
    for line in text.splitlines():
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(r"\s+", line, maxsplit=1)
        if len(parts) == 2:
            bank[parts[0]] = parts[1]
    return bank


def load_pattern_dir(folder: str | Path) -> dict[str, str]:
    """Every pattern file in ``folder``: Elasticsearch's own file names in its order, then the rest by name."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    order = {name: i for i, name in enumerate(ES_FILE_ORDER)}
    files.sort(key=lambda p: (order.get(p.name, len(order)), p.name))
    bank: dict[str, str] = {}
    for path in files:
        read_patterns(path.read_text(encoding="utf-8"), bank)
    return bank


def pattern_banks_from(folder: str | Path) -> dict[str, dict[str, str]]:
    """The banks for ``ecs_compatibility`` disabled and v1 from a folder: its ``legacy/`` and
    ``ecs-v1/`` subfolders when it has them (Elasticsearch's layout), else its files for both."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GrokError(f"{folder}: not a folder of grok pattern files")
    legacy, ecs = folder / "legacy", folder / "ecs-v1"
    if legacy.is_dir() or ecs.is_dir():
        return {"disabled": load_pattern_dir(legacy) if legacy.is_dir() else {},
                "v1": load_pattern_dir(ecs) if ecs.is_dir() else {}}
    bank = load_pattern_dir(folder)
    if not bank:
        raise GrokError(f"{folder}: no grok pattern definitions found")
    return {"disabled": bank, "v1": bank}


def builtin_patterns(ecs: bool) -> dict[str, str]:
    """synth's own definitions of the patterns its pipeline and the httpd patterns need."""
    from synth.elastic.grok_patterns import bank
    return bank(ecs)


# -- expansion ------------------------------------------------------------------------------------

def check_circular(bank: dict[str, str]) -> None:
    """Refuse a bank in which a pattern refers back to itself, directly or through others."""
    def refs(definition: str) -> list[str]:
        return [m.group("pattern") for m in _REFERENCE.finditer(definition)]

    state: dict[str, int] = {}  # 1 while visiting, 2 when done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in bank:
            return
        if state.get(name) == 1:
            loop = path[path.index(name):] + [name]
            raise GrokError(f"circular reference in pattern [{name}] via patterns [{'=>'.join(loop)}]")
        state[name] = 1
        for other in refs(bank[name]):
            visit(other, path + [name])
        state[name] = 2

    for name in bank:
        visit(name, [])


def expand(bank: dict[str, str], expression: str) -> str:
    """A grok expression as the Oniguruma-style regex Elasticsearch builds from it."""
    done: list[str] = []
    for _ in range(_MAX_EXPANSIONS):
        m = _REFERENCE.search(expression)
        if m is None:
            done.append(expression)
            return "".join(done)
        name = m.group("pattern")
        definition = bank.get(name)
        if definition is None:
            raise GrokError(f"Unable to find pattern [{name}] in Grok's pattern dictionary")
        if m.group("subname") is not None:
            part = f"(?<{m.group('name')}>{definition})"
        else:
            part = f"(?:{definition})"
        done.append(expression[:m.start()])
        expression = part + expression[m.end():]
    raise GrokError("Can not convert grok patterns to regular expression")


# -- Oniguruma -> Python re ---------------------------------------------------------------------

def _char_class(expr: str, i: int) -> tuple[str, int]:
    """Translate the character class starting at ``expr[i] == '['``; return it and the index after it."""
    out = ["["]
    j = i + 1
    if j < len(expr) and expr[j] == "^":
        out.append("^")
        j += 1
    if j < len(expr) and expr[j] == "]":
        out.append(r"\]")
        j += 1
    while j < len(expr):
        c = expr[j]
        if c == "\\" and j + 1 < len(expr):
            nxt = expr[j + 1]
            out.append("0-9a-fA-F" if nxt == "h" else expr[j:j + 2])
            j += 2
        elif c == "[":
            posix = re.match(r"\[:(\^?)([a-z]+):\]", expr[j:])
            if posix:
                if posix.group(1) or posix.group(2) not in _POSIX:
                    raise GrokError(f"the POSIX class [{posix.group(0)}] is not supported here")
                out.append(_POSIX[posix.group(2)])
                j += posix.end()
            else:  # Oniguruma's nested class is a union: flatten a plain one
                inner, end = _char_class(expr, j)
                if inner.startswith("[^"):
                    raise GrokError("negated nested character classes are not supported here")
                out.append(inner[1:-1])
                j = end
        elif c == "&" and expr.startswith("&&", j):
            raise GrokError("character class intersection (&&) is not supported here")
        elif c == "]":
            out.append("]")
            return "".join(out), j + 1
        else:
            out.append(c)
            j += 1
    raise GrokError(f"premature end of char-class: {expr[i:]}")


_INLINE_FLAGS = re.compile(r"\(\?([imx]*)(?:-([imx]*))?(\)|:)")


def _python_flags(on: str, off: str) -> str:
    # Ruby's "m" is dot-matches-newline, Python's "s".
    on, off = on.replace("m", "s"), off.replace("m", "s")
    return on + (f"-{off}" if off else "")


ATOMIC_GROUPS = sys.version_info >= (3, 11)


def translate(expr: str, atomic: bool = ATOMIC_GROUPS) -> tuple[str, list[str]]:
    """An Oniguruma (Ruby syntax) regex as a Python one; returns it and the raw names of its
    named groups, in order (group ``g{k}`` is the k-th name). Without ``atomic`` (Python before
    3.11) an atomic group ``(?>X)`` is written ``(?:(?=(?P<aK>X))(?P=aK))``: the lookahead takes X
    once and the backreference consumes exactly that, so nothing can backtrack into it."""
    names: list[str] = []
    out: list[str] = []
    numbered = re.search(r"\\[1-9]", expr) is not None
    # Per open group: closers still owed (an inline (?i) opens a scope that ends with its
    # group) and the text that closes the group itself.
    stack: list[list] = [[0, ""]]
    atoms = 0
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c == "\\":
            nxt = expr[i + 1] if i + 1 < n else ""
            if nxt == "h":
                out.append("[0-9a-fA-F]")
            elif nxt == "H":
                out.append("[^0-9a-fA-F]")
            elif nxt == "z":
                out.append(r"\Z")
            elif nxt == "Z":
                out.append(r"(?=\n?\Z)")
            elif nxt == "k" and expr.startswith("<", i + 2):
                end = expr.index(">", i)
                raw = expr[i + 3:end]
                if raw not in names:
                    raise GrokError(f"undefined name <{raw}> reference")
                out.append(f"(?P=g{names.index(raw)})")
                i = end + 1
                continue
            else:
                out.append(expr[i:i + 2])
            i += 2
        elif c == "[":
            text, i = _char_class(expr, i)
            out.append(text)
        elif c == "(":
            named = re.match(r"\(\?(?:<(?![=!])([^>]+)>|'([^']+)')", expr[i:])
            flags = _INLINE_FLAGS.match(expr, i)
            if named:
                names.append(named.group(1) or named.group(2))
                out.append(f"(?P<g{len(names) - 1}>")
                stack.append([0, ")"])
                i += named.end()
            elif expr.startswith("(?#", i):
                i = expr.index(")", i) + 1
            elif flags and (flags.group(1) or flags.group(2)):
                out.append(f"(?{_python_flags(flags.group(1), flags.group(2) or '')}:")
                if flags.group(3) == ")":
                    stack[-1][0] += 1
                else:
                    stack.append([0, ")"])
                i = flags.end()
            elif expr.startswith("(?>", i) and not atomic:
                out.append(f"(?:(?=(?P<a{atoms}>")
                stack.append([0, f"))(?P=a{atoms}))"])
                atoms += 1
                i += 3
            elif expr.startswith("(?", i):
                out.append("(?")
                stack.append([0, ")"])
                i += 2
            else:
                # Only named groups are ever read: plain groups need not capture (faster).
                out.append("(" if numbered else "(?:")
                stack.append([0, ")"])
                i += 1
        elif c == ")":
            if len(stack) == 1:
                raise GrokError(f"unmatched close parenthesis in {expr!r}")
            closers, close = stack.pop()
            out.append(")" * closers + close)
            i += 1
        else:
            out.append(c)
            i += 1
    if len(stack) != 1:
        raise GrokError(f"end pattern with unmatched parenthesis in {expr!r}")
    out.append(")" * stack[0][0])
    return "".join(out), names


# -- lazy "any" without backtracking -------------------------------------------------------------

_META = set("\\.^$*+?{}[]()|")
_QUANTIFIER = set("*+?{")
_PLAIN_GROUPS = ("(?:", "(?P<", "(")  # groups whose closing sets at most a capture, tests nothing
_ANY_FLAGS = re.compile(r"\(\?[aiLmsux-]+[:)]")


def _group_opener(source: str, i: int) -> str:
    """The kind of group opening at ``source[i] == '('``: one of _PLAIN_GROUPS, or its first
    three characters for any other (lookaround, atomic, conditional, flags)."""
    if source.startswith("(?:", i):
        return "(?:"
    if source.startswith("(?P<", i):
        return "(?P<"
    if source.startswith("(?", i):
        return source[i:i + 3]
    return "("


def _literal_at(source: str, j: int) -> tuple[str, int] | None:
    """The one character a plain literal at ``source[j]`` matches (not quantified) and the
    index after it, or None for anything else."""
    if j >= len(source):
        return None
    c = source[j]
    if c == "\\":
        if j + 1 >= len(source) or source[j + 1].isalnum() or source[j + 1] == "\n":
            return None  # a class (\d), an assertion (\b), a newline, a backreference ...
        c, end = source[j + 1], j + 2
    elif c in _META or c == "\n":
        return None
    else:
        end = j + 1
    if end < len(source) and source[end] in _QUANTIFIER:
        return None
    return c, end


def _continuation(source: str, j: int, open_groups: list[str]) -> tuple[str, str | None]:
    """What must follow a lazy ``.*?`` that ends at ``source[j]``: ("end", None) when only plain
    group closings and literals stand between it and ``$``; ("char", c) when the next thing it
    must meet, past plain group closings, is the literal ``c``; ("other", None) otherwise."""
    depth = len(open_groups)
    first: str | None = None
    while j < len(source):
        if source[j] == ")":
            if depth == 0 or open_groups[depth - 1] not in _PLAIN_GROUPS:
                break
            if j + 1 < len(source) and source[j + 1] in _QUANTIFIER:
                break
            depth -= 1
            j += 1
            continue
        if source[j] == "$":
            return "end", None
        literal = _literal_at(source, j)
        if literal is None:
            break
        first = literal[0] if first is None else first
        j = literal[1]
    return ("char", first) if first is not None else ("other", None)


def without_lazy_backtracking(source: str) -> str:
    """``source`` (a Python regex compiled with MULTILINE, without DOTALL) with each lazy
    ``.*?`` that can be written without trying every end position one by one rewritten so; the
    regex matches the same texts with the same groups.

    Grok's ``DATA`` is ``.*?``; Joni (Elasticsearch's engine) and Python's ``re`` both try its
    end positions from the shortest up, and Python's does it a character at a time. ``.`` never
    crosses a line end, so the positions it can try are those from where it starts to the first
    line end. Two cases are rewritten, only where no inline flag (``s``, ``x``, ``i`` ...) is set:

    - ``.*?`` followed (past plain group closings such as the capture's own) by literals and
      then ``$``: the only end position that can succeed is the line end less those literals,
      whichever order the positions are tried in; ``.*`` takes it first.
    - ``.*?`` followed by a literal character ``c``: only a position holding ``c`` can go on, so
      ``[^c\n]*+(?:c[^c\n]*+)*?`` tries exactly those positions (and the line end), in the same
      order, without stopping at the others.
    """
    if not ATOMIC_GROUPS or _ANY_FLAGS.search(source):
        return source
    out: list[str] = []
    groups: list[str] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            out.append(source[i:i + 2])
            i += 2
        elif c == "[":
            j = i + 1
            if j < n and source[j] == "^":
                j += 1
            if j < n and source[j] == "]":
                j += 1
            while j < n and source[j] != "]":
                j += 2 if source[j] == "\\" else 1
            out.append(source[i:j + 1])
            i = j + 1
        elif c == "(":
            kind = _group_opener(source, i)
            groups.append(kind)
            out.append("(")
            i += 1
        elif c == ")":
            if groups:
                groups.pop()
            out.append(")")
            i += 1
        elif source.startswith(".*?", i) and (i + 3 >= n or source[i + 3] not in "+?"):
            found, char = _continuation(source, i + 3, groups)
            if found == "end":
                out.append(".*")
            elif found == "char" and char is not None:
                inside = "\\" + char if char in "]\\^-[" else char
                out.append(f"[^{inside}\\n]*+(?:{re.escape(char)}[^{inside}\\n]*+)*?")
            else:
                out.append(".*?")
            i += 3
        else:
            out.append(c)
            i += 1
    return "".join(out)


# -- captures -------------------------------------------------------------------------------------

def _java_int(bits: int) -> Callable[[str], int]:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    kind = JavaLong if bits == 64 else int

    def parse(text: str) -> int:
        if not (text.isascii() and (text.isdigit() or re.fullmatch(r"[+-][0-9]+", text))):
            raise GrokValueError(f'For input string: "{text}"')
        value = int(text)
        if not low <= value <= high:
            raise GrokValueError(f'For input string: "{text}"')
        return value if kind is int else kind(value)
    return parse


_JAVA_FLOAT = re.compile(r"\s*[+-]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)\s*")


def java_double(text: str) -> float:
    if not _JAVA_FLOAT.fullmatch(text):
        raise GrokValueError(f'For input string: "{text}"')
    return float(text.strip().rstrip("fFdD"))


def java_float(text: str) -> float:
    value = java_double(text)
    # The nearest 32-bit float, written back as the shortest decimal that names it (Float.toString).
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        short = float(f"{single:.{digits}g}")
        if struct.unpack("f", struct.pack("f", short))[0] == single:
            return JavaFloat(short)
    return JavaFloat(single)


CAPTURE_TYPES: dict[str, Callable[[str], object]] = {
    "string": str, "int": _java_int(32), "long": _java_int(64), "float": java_float, "double": java_double,
    "boolean": lambda text: text.lower() == "true",
}
TYPE_NAMES = {"string": "STRING", "int": "INTEGER", "long": "LONG", "float": "FLOAT", "double": "DOUBLE",
              "boolean": "BOOLEAN"}


@dataclass(frozen=True)
class Capture:
    """One field a compiled expression can set: its name, its type, and the groups that feed it."""

    field: str
    type: str  # a key of CAPTURE_TYPES
    groups: tuple[int, ...]


def capture_of(raw: str) -> tuple[str, str]:
    """``IPORHOST:source.address`` -> (``source.address``, string); ``INT:n:int`` -> (``n``, int)."""
    parts = raw.split(":")
    field = parts[1] if len(parts) >= 2 else parts[0]
    kind = parts[2] if len(parts) == 3 and parts[2] in CAPTURE_TYPES else "string"
    return field, kind


_ALT = "__synth_pattern_"


def _within(first: int, others: tuple[int, ...], start: int, end: int) -> tuple[int | None, tuple[int, ...]]:
    """A reader's groups (0-based) that lie inside pattern group ``start`` (1-based) .. ``end``."""
    inside = [g for g in (first, *others) if start <= g < end - 1]
    return (inside[0], tuple(inside[1:])) if inside else (None, ())


class Grok:
    """One or more grok expressions compiled into one regex, as the grok processor does."""

    def __init__(self, bank: dict[str, str], patterns: Iterable[str], *, trace_match: bool = False,
                 atomic: bool = ATOMIC_GROUPS):
        self.patterns = list(patterns)
        if not self.patterns:
            raise GrokError("List of patterns must not be empty")
        check_circular(bank)
        if len(self.patterns) == 1:
            combined = self.patterns[0]
        else:
            combined = "|".join(f"(?:{p})" for p in self.patterns)
        self.expression = expand(bank, combined)
        # Each pattern in a group of its own (a name no capture can have), so that a match says
        # which pattern matched and only that pattern's captures are read.
        marked = self.expression
        numbered = re.search(r"\\[1-9]", self.expression) is not None
        if len(self.patterns) > 1 and not numbered:
            marked = "|".join(f"(?<{_ALT}{k}>{expand(bank, p)})" for k, p in enumerate(self.patterns))
        source, names = translate(marked, atomic)
        source = without_lazy_backtracking(source)
        try:
            self.regex = re.compile(source, re.MULTILINE)
        except (re.error, RecursionError, OverflowError) as e:
            raise GrokError(str(e)) from None
        groups: dict[str, list[int]] = {}
        starts: list[int] = []
        for k, raw in enumerate(names):
            if raw.startswith(_ALT):
                starts.append(self.regex.groupindex[f"g{k}"])
                continue
            groups.setdefault(raw, []).append(self.regex.groupindex[f"g{k}"])
        self.config = [Capture(*capture_of(raw), tuple(numbers)) for raw, numbers in groups.items()]
        # (field, converter or None for strings, first group's index, the other groups' indexes)
        self._readers = [(c.field, None if c.type == "string" else CAPTURE_TYPES[c.type], c.groups[0] - 1,
                          tuple(n - 1 for n in c.groups[1:])) for c in self.config]
        # Per pattern: its group's index (0-based) and the readers of the groups inside it.
        bounds = starts + [self.regex.groups + 1]
        self.alternatives: list[tuple[int, list[tuple[str, Callable[[str], object] | None, int, tuple[int, ...]]]]] = []
        for k, start in enumerate(starts):
            inside = [(field, convert, *_within(first, others, start, bounds[k + 1]))
                      for field, convert, first, others in self._readers]
            self.alternatives.append((start - 1, [(f, c, a, b) for f, c, a, b in inside if a is not None]))
        # To tell which pattern matched (trace_match), each is compiled alone too.
        self._alone = ([re.compile(without_lazy_backtracking(translate(expand(bank, p), atomic)[0]), re.MULTILINE) for p in self.patterns]
                       if trace_match and len(self.patterns) > 1 else None)

    def match(self, text: str) -> tuple[tuple, list] | None:
        """The groups of the first match in ``text`` and the readers of the pattern that matched
        (field, converter or None, first group, other groups), or None when none matches."""
        m = self.regex.search(text)
        if m is None:
            return None
        values = m.groups()
        for start, readers in self.alternatives:
            if values[start] is not None:
                return values, readers
        return values, self._readers

    def captures(self, text: str) -> dict[str, object] | None:
        """Field -> value for the first match in ``text``, or None when no pattern matches."""
        matched = self.match(text)
        if matched is None:
            return None
        values, readers = matched
        result: dict[str, object] = {}
        for field, convert, first, others in readers:
            value = values[first]
            if value is None:
                # Several groups feed this field: the first that took part in the match counts.
                value = next((values[p] for p in others if values[p] is not None), None)
                if value is None:
                    continue
            result[field] = value if convert is None else convert(value)
        return result

    def match_index(self, text: str) -> int:
        """Which of the patterns matched (for ``trace_match``): the one whose match starts first."""
        if self._alone is None:
            return 0
        starts = [(m.start(), k) for k, r in enumerate(self._alone) if (m := r.search(text))]
        return min(starts)[1] if starts else -1

    def declared(self) -> dict[str, str]:
        """Every field the expression can capture, with its Elasticsearch type name."""
        return {c.field: TYPE_NAMES[c.type] for c in self.config}
