"""Mustache as ingest renders it (``{{{name}}}``, ``{{name}}`` escaped for the media type),
ValueSource (templates inside lists and objects) and field names that hold a template."""

from __future__ import annotations

import copy
import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from synth.elastic.ingest.document import METADATA, FieldPath, IngestDocument, field_path
from synth.elastic.ingest.errors import PipelineError
from synth.elastic.ingest.values import java_text

_TAG = re.compile(r"\{\{\{\s*(.*?)\s*\}\}\}|\{\{\s*([&#^/!>=]?)\s*(.*?)\s*\}\}", re.S)


def _json_escape(text: str) -> str:
    # Jackson's quoteAsString: quotes, backslashes and control characters.
    return json.dumps(text, ensure_ascii=False)[1:-1]


ESCAPERS: dict[str, Callable[[str], str]] = {
    "application/json": _json_escape,
    "text/plain": lambda text: text,
    "application/x-www-form-urlencoded": lambda text: urllib.parse.quote_plus(text, safe="*"),
}


def _lookup(dotted: str) -> Callable[[IngestDocument], Any]:
    """A mustache name as a reader: ``_ingest.x`` in the ingest metadata, a metadata field, or
    a dotted path through the source; anything missing reads as None (rendered empty)."""
    if dotted in METADATA:
        return lambda doc: doc.meta.get(dotted)
    ingest = dotted.startswith("_ingest.")
    keys = tuple((dotted[len("_ingest."):] if ingest else dotted).split("."))

    def read(doc: IngestDocument) -> Any:
        node: Any = doc.ingest if ingest else doc.source
        for key in keys:
            if type(node) is dict:
                node = node.get(key)
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        return node

    # The same walk unrolled for objects all the way down (a missing key reads as None); a list
    # on the way starts over in read().
    out = ["def fast(doc):", f"    n = doc.{'ingest' if ingest else 'source'}"]
    for key in keys:
        out += ["    if type(n) is not dict:", "        return None if n is None else read(doc)", f"    n = n.get({key!r})"]
    out.append("    return n")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(out) + "\n", "<mustache lookup>", "exec"), {"read": read}, namespace)  # noqa: S102 (our own code)
    return namespace["fast"]


class Template:
    """A mustache template as ingest renders it: ``{{{name}}}`` as is, ``{{name}}`` escaped for
    the media type (JSON by default), dotted names looked up in the document; missing is empty."""

    def __init__(self, text: str, media_type: str = "application/json", where: str = ""):
        self.text = text
        self.parts: list[str | tuple[Callable[[IngestDocument], Any], bool]] = []
        if media_type not in ESCAPERS:
            raise PipelineError(f"[media_type] property does not contain a supported media type [{media_type}]", where,
                                property_name="media_type")
        self.escape = ESCAPERS[media_type]
        pos = 0
        for m in _TAG.finditer(text):
            if m.start() > pos:
                self.parts.append(text[pos:m.start()])
            pos = m.end()
            if m.group(1) is not None:
                self.parts.append((_lookup(m.group(1)), False))
                continue
            sigil, name = m.group(2), m.group(3)
            if sigil == "!":
                continue
            if sigil == "&":
                self.parts.append((_lookup(name), False))
            elif sigil:
                raise PipelineError(f"mustache sections and partials ({{{{{sigil}...}}}}) are not supported here: "
                                    f"{text!r}", where)
            else:
                self.parts.append((_lookup(name), True))
        if pos < len(text):
            self.parts.append(text[pos:])
        self.constant = text if all(isinstance(p, str) for p in self.parts) else None
        self.render: Callable[[IngestDocument], str] = self._compile()

    def _compile(self) -> Callable[[IngestDocument], str]:
        """``render`` as one generated function: each name read, as text (escaped where asked),
        between the constant pieces."""
        if self.constant is not None:
            constant = self.constant
            return lambda doc: constant
        env: dict[str, Any] = {"java_text": java_text, "escape": self.escape}
        out, pieces = ["def render(doc):"], []
        for k, part in enumerate(self.parts):
            if isinstance(part, str):
                env[f"s{k}"] = part
                pieces.append(f"s{k}")
                continue
            env[f"r{k}"] = part[0]
            out += [f"    v{k} = r{k}(doc)",
                    f"    t{k} = '' if v{k} is None else v{k} if type(v{k}) is str else java_text(v{k})"]
            pieces.append(f"escape(t{k})" if part[1] else f"t{k}")
        out.append(f"    return {' + '.join(pieces)}")
        namespace: dict[str, Any] = {}
        exec(compile("\n".join(out) + "\n", "<mustache template>", "exec"), env, namespace)  # noqa: S102 (our own code)
        return namespace["render"]


def resolve_value(value: Any, media_type: str, where: str) -> Callable[[IngestDocument], Any]:
    """ValueSource: strings are templates, lists and objects are resolved item by item."""
    if isinstance(value, str):
        template = Template(value, media_type, where)
        if template.constant is not None:
            return lambda doc: value
        return template.render
    if isinstance(value, list):
        items = [resolve_value(v, media_type, where) for v in value]
        return lambda doc: [item(doc) for item in items]
    if isinstance(value, dict):
        entries = [(resolve_value(k, media_type, where), resolve_value(v, media_type, where))
                   for k, v in value.items()]
        return lambda doc: {k(doc): v(doc) for k, v in entries}
    return lambda doc: copy.deepcopy(value)


class PathTemplate:
    """A field name that may hold a template (``{{{other}}}``): split once when it is constant."""

    def __init__(self, text: str, where: str):
        if not isinstance(text, str):
            raise PipelineError(f"a field name must be a string, got {text!r}", where)
        self.template = Template(text, "application/json", where)
        self.fixed = field_path(text) if self.template.constant is not None else None

    def path(self, doc: IngestDocument) -> FieldPath:
        return self.fixed if self.fixed is not None else field_path(self.template.render(doc))

    def render(self, doc: IngestDocument) -> str:
        return self.template.render(doc)

    def path_or_none(self, doc: IngestDocument) -> FieldPath | None:
        """The path, or None where the name renders empty (``{{missing}}``)."""
        if self.fixed is not None:
            return self.fixed
        text = self.template.render(doc)
        return field_path(text) if text else None

