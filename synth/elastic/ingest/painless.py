"""Painless conditions (a processor's ``if``), the subset Elastic's own integration pipelines use.

    >>> condition = compile_condition("ctx.http?.response?.status_code >= 500 && !ctx.tags?.contains('ok')")
    >>> condition({"http": {"response": {"status_code": 503}}})
    True

What is understood: field access ``ctx.a.b`` and null-safe ``ctx.a?.b``, brackets ``ctx['a']``
and ``list[0]``; ``==``, ``!=``, ``<``, ``>``, ``<=``, ``>=``, ``&&``, ``||``, ``!``, unary
``-``, parentheses; string (single or double quotes), integer, decimal, boolean and ``null``
literals; ``instanceof`` with a Java type name; and the methods ``startsWith``, ``endsWith``,
``contains``, ``equals``, ``equalsIgnoreCase``, ``isEmpty``, ``length``, ``size``,
``toLowerCase``, ``toUpperCase`` and ``trim``. The text is tokenized and parsed by recursive
descent once, when the pipeline loads, into closures over the document; anything else
(assignments, statements, other methods, regexes, lambdas) raises :class:`Unsupported`.

At run time the rules are Painless's: ``==`` compares values (numbers across their types,
``1 == 1.0``), a field of a missing object is a null-pointer error unless reached with ``?.``,
``&&``/``||``/``!`` take booleans only, and the whole condition must be a boolean. Such errors
raise :class:`ConditionError`, which the pipeline reports as Elasticsearch does
(``script_exception``, ``runtime error``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synth.elastic.grok import JavaFloat, JavaLong

Evaluator = Callable[[dict], Any]


class Unsupported(ValueError):
    """Text outside the supported subset (or not Painless at all)."""


class ConditionError(Exception):
    """A condition that fails while it runs on one document (Painless throws)."""


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "name", "op", "end"
    text: str
    value: Any = None


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[lLfFdD]?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\?\.|===|!==|==|!=|<=|>=|&&|\|\||[<>!().\[\],-])
""", re.X)

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise Unsupported(f"unexpected character {text[pos]!r}")
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        piece = m.group()
        if kind == "space":
            continue
        if kind == "num":
            body = piece.rstrip("lLfFdD")
            is_float = any(c in body for c in ".eE") or piece[-1] in "fFdD"
            value: Any = float(body) if is_float else int(body)
            if piece[-1] in "lL":
                value = JavaLong(value)
            elif piece[-1] in "fF":
                value = JavaFloat(value)
            tokens.append(Token("num", piece, value))
        elif kind == "str":
            raw = piece[1:-1]
            value = re.sub(r"\\(.)", lambda e: _ESCAPES.get(e.group(1), "\\" + e.group(1)), raw)
            tokens.append(Token("str", piece, value))
        else:
            tokens.append(Token(kind, piece))
    tokens.append(Token("end", ""))
    return tokens


# -- values at run time ---------------------------------------------------------------------------

def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    """Painless ``==`` on def values: numbers by value across types, else ``equals``."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _boolean(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ConditionError(f"cannot cast {_java_name(value)} to boolean ({what})")
    return value


def _java_name(value: Any) -> str:
    from synth.elastic.ingest.values import java_type
    return "null" if value is None else java_type(value)


_INSTANCE: dict[str, Callable[[Any], bool]] = {
    "Object": lambda v: v is not None,
    "String": lambda v: isinstance(v, str),
    "CharSequence": lambda v: isinstance(v, str),
    "Map": lambda v: isinstance(v, dict),
    "HashMap": lambda v: isinstance(v, dict),
    "List": lambda v: isinstance(v, list),
    "ArrayList": lambda v: isinstance(v, list),
    "Collection": lambda v: isinstance(v, list),
    "Boolean": lambda v: isinstance(v, bool),
    "Number": _is_number,
    "Integer": lambda v: _is_number(v) and isinstance(v, int) and _java_name(v) == "java.lang.Integer",
    "Long": lambda v: _is_number(v) and isinstance(v, int) and _java_name(v) == "java.lang.Long",
    "Double": lambda v: _is_number(v) and isinstance(v, float) and _java_name(v) == "java.lang.Double",
    "Float": lambda v: _is_number(v) and isinstance(v, float) and _java_name(v) == "java.lang.Float",
}


def _need(value: Any, kinds: tuple[type, ...], method: str) -> None:
    if value is None:
        raise ConditionError(f"null pointer: cannot call {method}() on null")
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise ConditionError(f"dynamic method [{_java_name(value)}, {method}] not found")


def _method_string(name: str, op: Callable[..., Any], arity: int) -> Callable[..., Any]:
    def call(receiver: Any, *args: Any) -> Any:
        _need(receiver, (str,), name)
        if name != "equals" and any(not isinstance(a, str) for a in args):
            raise ConditionError(f"{name}() takes a String")
        return op(receiver, *args)
    call.arity = arity  # type: ignore[attr-defined]
    return call


def _contains(receiver: Any, item: Any) -> bool:
    _need(receiver, (str, list), "contains")
    if isinstance(receiver, str):
        if not isinstance(item, str):
            raise ConditionError("contains() on a String takes a String")
        return item in receiver
    return any(_equal(x, item) for x in receiver)


def _is_empty(receiver: Any) -> bool:
    _need(receiver, (str, list, dict), "isEmpty")
    return len(receiver) == 0


def _size(receiver: Any) -> int:
    _need(receiver, (list, dict), "size")
    return len(receiver)


def _length(receiver: Any) -> int:
    _need(receiver, (str,), "length")
    return len(receiver)


def _equals_ignore_case(receiver: Any, other: Any) -> bool:
    _need(receiver, (str,), "equalsIgnoreCase")
    return isinstance(other, str) and receiver.lower() == other.lower()


def _equals(receiver: Any, other: Any) -> bool:
    if receiver is None:
        raise ConditionError("null pointer: cannot call equals() on null")
    if _is_number(receiver) or _is_number(other):  # Integer.equals(Long) is false
        return _java_name(receiver) == _java_name(other) and receiver == other
    return _equal(receiver, other)


METHODS: dict[str, tuple[int, Callable[..., Any]]] = {
    "startsWith": (1, _method_string("startsWith", lambda s, p: s.startswith(p), 1)),
    "endsWith": (1, _method_string("endsWith", lambda s, p: s.endswith(p), 1)),
    "equalsIgnoreCase": (1, lambda s, o: _equals_ignore_case(s, o)),
    "toLowerCase": (0, _method_string("toLowerCase", str.lower, 0)),
    "toUpperCase": (0, _method_string("toUpperCase", str.upper, 0)),
    "trim": (0, _method_string("trim", lambda s: s.strip(" \t\n\r\x0b\x0c\x00"), 0)),
    "contains": (1, _contains),
    "equals": (1, _equals),
    "isEmpty": (0, _is_empty),
    "length": (0, _length),
    "size": (0, _size),
}


def _member(receiver: Any, name: str, null_safe: bool) -> Any:
    if receiver is None:
        if null_safe:
            return None
        raise ConditionError(f"null pointer: cannot access [{name}] of null")
    if isinstance(receiver, dict):
        return receiver.get(name)
    if isinstance(receiver, list) and name == "length":
        return len(receiver)
    raise ConditionError(f"dynamic getter [{_java_name(receiver)}, {name}] not found")


def _index(receiver: Any, key: Any) -> Any:
    if receiver is None:
        raise ConditionError("null pointer: cannot index null")
    if isinstance(receiver, dict):
        return receiver.get(key)
    if isinstance(receiver, list):
        if not isinstance(key, int) or isinstance(key, bool):
            raise ConditionError("a list index must be an integer")
        if not -len(receiver) <= key < len(receiver):
            raise ConditionError(f"Index {key} out of bounds for length {len(receiver)}")
        return receiver[key]
    raise ConditionError(f"cannot index {_java_name(receiver)}")


def _compare(op: str) -> Callable[[Any, Any], bool]:
    import operator
    fn = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}[op]

    def compare(a: Any, b: Any) -> bool:
        if not (_is_number(a) and _is_number(b)):
            raise ConditionError(f"cannot compare {_java_name(a)} {op} {_java_name(b)}")
        return bool(fn(a, b))
    return compare


# -- the parser --------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def accept(self, *ops: str) -> str | None:
        token = self.peek()
        if token.kind in ("op", "name") and token.text in ops:
            self.pos += 1
            return token.text
        return None

    def expect(self, op: str) -> None:
        if self.accept(op) is None:
            raise Unsupported(f"expected {op!r} at {self.peek().text or 'the end'!r}")

    def parse(self) -> Evaluator:
        node = self.or_()
        if self.peek().kind != "end":
            raise Unsupported(f"unexpected {self.peek().text!r}")
        return node

    def or_(self) -> Evaluator:
        left = self.and_()
        while self.accept("||"):
            right = self.and_()
            left = (lambda a, b: lambda ctx: _boolean(a(ctx), "||") or _boolean(b(ctx), "||"))(left, right)
        return left

    def and_(self) -> Evaluator:
        left = self.equality()
        while self.accept("&&"):
            right = self.equality()
            left = (lambda a, b: lambda ctx: _boolean(a(ctx), "&&") and _boolean(b(ctx), "&&"))(left, right)
        return left

    def equality(self) -> Evaluator:
        left = self.relation()
        while True:
            op = self.accept("==", "!=", "===", "!==")
            if op is None:
                return left
            right = self.relation()
            if op == "==":
                left = (lambda a, b: lambda ctx: _equal(a(ctx), b(ctx)))(left, right)
            elif op == "!=":
                left = (lambda a, b: lambda ctx: not _equal(a(ctx), b(ctx)))(left, right)
            elif op == "===":
                left = (lambda a, b: lambda ctx: a(ctx) is b(ctx) or _identical(a(ctx), b(ctx)))(left, right)
            else:
                left = (lambda a, b: lambda ctx: not (a(ctx) is b(ctx) or _identical(a(ctx), b(ctx))))(left, right)

    def relation(self) -> Evaluator:
        left = self.unary()
        while True:
            op = self.accept("<", ">", "<=", ">=", "instanceof")
            if op is None:
                return left
            if op == "instanceof":
                name = self.take()
                if name.kind != "name" or name.text not in _INSTANCE:
                    raise Unsupported(f"instanceof {name.text!r}")
                test = _INSTANCE[name.text]
                left = (lambda a, t: lambda ctx: t(a(ctx)))(left, test)
            else:
                right = self.unary()
                left = (lambda a, b, c: lambda ctx: c(a(ctx), b(ctx)))(left, right, _compare(op))

    def unary(self) -> Evaluator:
        if self.accept("!"):
            inner = self.unary()
            return lambda ctx: not _boolean(inner(ctx), "!")
        if self.accept("-"):
            inner = self.unary()

            def negate(ctx: dict) -> Any:
                value = inner(ctx)
                if not _is_number(value):
                    raise ConditionError(f"cannot negate {_java_name(value)}")
                return -value
            return negate
        return self.postfix()

    def postfix(self) -> Evaluator:
        node = self.primary()
        while True:
            op = self.accept(".", "?.", "[")
            if op is None:
                return node
            if op == "[":
                key = self.or_()
                self.expect("]")
                node = (lambda r, k: lambda ctx: _index(r(ctx), k(ctx)))(node, key)
                continue
            name = self.take()
            if name.kind != "name":
                raise Unsupported(f"expected a name after {op!r}")
            null_safe = op == "?."
            if self.accept("("):
                node = self.call(node, name.text, null_safe)
            else:
                node = (lambda r, n, s: lambda ctx: _member(r(ctx), n, s))(node, name.text, null_safe)

    def call(self, receiver: Evaluator, name: str, null_safe: bool) -> Evaluator:
        if name not in METHODS:
            raise Unsupported(f"the method {name}()")
        arity, method = METHODS[name]
        args: list[Evaluator] = []
        if not self.accept(")"):
            args.append(self.or_())
            while self.accept(","):
                args.append(self.or_())
            self.expect(")")
        if len(args) != arity:
            raise Unsupported(f"{name}() takes {arity} argument{'s' if arity != 1 else ''}")

        def invoke(ctx: dict) -> Any:
            target = receiver(ctx)
            if target is None and null_safe:
                return None
            return method(target, *(a(ctx) for a in args))
        return invoke

    def primary(self) -> Evaluator:
        token = self.take()
        if token.kind in ("num", "str"):
            value = token.value
            return lambda ctx: value
        if token.kind == "name":
            if token.text == "true":
                return lambda ctx: True
            if token.text == "false":
                return lambda ctx: False
            if token.text == "null":
                return lambda ctx: None
            if token.text == "ctx":
                return lambda ctx: ctx
            raise Unsupported(f"the name {token.text!r}")
        if token.kind == "op" and token.text == "(":
            inner = self.or_()
            self.expect(")")
            return inner
        raise Unsupported(f"unexpected {token.text or 'end'!r}")


def _identical(a: Any, b: Any) -> bool:
    # Reference equality: Java's small boxed numbers and interned strings are the same object.
    return type(a) is type(b) and isinstance(a, str | bool | int) and a == b


def compile_condition(text: str) -> Callable[[dict], bool]:
    """``text`` parsed once into a function of ``ctx`` (the document's source and metadata)
    that returns the condition's boolean; raises :class:`Unsupported` for anything outside
    the subset, :class:`ConditionError` (when called) where Painless would throw."""
    if not isinstance(text, str) or not text.strip():
        raise Unsupported("an empty condition")
    node = _Parser(text).parse()

    def condition(ctx: dict) -> bool:
        result = node(ctx)
        if not isinstance(result, bool):
            raise ConditionError(f"the condition gave {_java_name(result)}, not a boolean")
        return result
    return condition
