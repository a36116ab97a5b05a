"""An Elasticsearch ingest pipeline, run offline: the processors synth's pipeline uses, with
Elasticsearch's semantics, so a pipeline can be checked against log lines without a cluster.

A pipeline is the JSON body of ``PUT _ingest/pipeline/<id>`` (or the ``{"<id>": {...}}`` that
``GET _ingest/pipeline/<id>`` returns). Processors known here: ``grok``, ``date``, ``set``,
``remove``, ``rename``, ``convert``, ``user_agent``, ``date_index_name`` and ``fingerprint``,
each with the common options ``tag``, ``description``, ``ignore_failure`` and ``on_failure``.
Anything else (another processor, an ``if`` condition, which is Painless) is refused with a
message naming it, when the pipeline is loaded rather than halfway through a file.

Documents follow IngestDocument: dotted paths address nested objects and create them when
written; ``_index``, ``_id`` and the other metadata fields are kept apart from the source;
``_ingest.timestamp`` is the time the document entered the pipeline. Failure handling follows
CompoundProcessor: ``ignore_failure`` skips a failed processor; a processor's own
``on_failure`` runs and the pipeline goes on; otherwise the pipeline's ``on_failure`` runs and
the pipeline stops there (the document is still indexed); with no handler at all the document
is rejected. Inside a handler ``_ingest.on_failure_message``, ``_processor_type``,
``_processor_tag`` and ``_pipeline`` describe the failure.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import ipaddress
import json
import math
import re
import struct
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from synth.elastic import javatime
from synth.elastic.grok import (
    ECS_MODES,
    Grok,
    GrokError,
    GrokValueError,
    JavaFloat,
    JavaLong,
    builtin_patterns,
    pattern_banks_from,
)
from synth.elastic.useragent import PROPERTIES as UA_PROPERTIES
from synth.elastic.useragent import UserAgentParser

UTC = dt.UTC
METADATA = ("_index", "_id", "_routing", "_version", "_version_type", "_if_seq_no", "_if_primary_term",
            "_dynamic_templates")


class PipelineError(ValueError):
    """A pipeline that cannot be loaded: bad JSON shape, unknown processor, bad option."""


class ProcessorError(Exception):
    """One processor failed on one document; the message is Elasticsearch's."""


@dataclass
class Failure:
    """A processor failure as the on_failure metadata describes it."""

    processor_type: str
    tag: str | None
    message: str
    pipeline: str

    def summary(self) -> str:
        return f"{self.processor_type}: {self.message}"


# -- values as Java sees them ---------------------------------------------------------------------

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


def _double_text(x: float) -> str:
    """Double.toString: ``1.0``, ``0.001``, ``1.0E7``, ``NaN``, ``Infinity``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return repr(float(x))
    sign, digits, exponent = Decimal(repr(float(x))).normalize().as_tuple()
    text = "".join(map(str, digits))
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{len(text) - 1 + int(exponent)}"


def java_text(value: Any) -> str:
    """``String.valueOf(value)`` as Java prints it (mustache and ``convert`` to string use this)."""
    if value is None:
        return "null"
    if type(value) is str:
        return value
    if isinstance(value, dt.datetime):
        return javatime.java_datetime_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _double_text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_text(v) for v in value) + "]"
    if isinstance(value, dt.datetime):
        return javatime.java_datetime_text(value)
    return str(value)


# -- documents ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldPath:
    """A field name split once: which map it lives in and the keys down to it."""

    text: str
    where: str  # "source", "meta" or "ingest"
    keys: tuple[str, ...]


def field_path(text: str) -> FieldPath:
    if not isinstance(text, str) or not text:
        raise ProcessorError("path cannot be null nor empty")
    if text.startswith("_ingest."):
        return FieldPath(text, "ingest", tuple(text[len("_ingest."):].split(".")))
    if text.startswith("_source."):
        return FieldPath(text, "source", tuple(text[len("_source."):].split(".")))
    if text in METADATA:
        return FieldPath(text, "meta", (text,))
    return FieldPath(text, "source", tuple(text.split(".")))


_MISSING = object()


class IngestDocument:
    """A document inside a pipeline: its source, its metadata, and the ingest metadata."""

    __slots__ = ("source", "meta", "ingest")

    def __init__(self, source: dict, meta: dict | None = None, timestamp: dt.datetime | None = None):
        self.source = source
        self.meta = meta if meta is not None else {}
        self.ingest: dict[str, Any] = {"timestamp": timestamp or dt.datetime.now(UTC)}

    def _root(self, path: FieldPath) -> dict:
        return self.source if path.where == "source" else self.meta if path.where == "meta" else self.ingest

    def _find(self, path: FieldPath) -> Any:
        """The value at ``path``, or _MISSING; raises where the path runs into a non-object."""
        node: Any = self.source if path.where == "source" else self._root(path)
        for key in path.keys:
            if type(node) is dict:
                node = node.get(key, _MISSING)
                if node is _MISSING:
                    return _MISSING
            elif isinstance(node, list):
                index = _list_index(key, node, path)
                if index is None:
                    return _MISSING
                node = node[index]
            else:
                raise ProcessorError(f"cannot resolve [{key}] from object of type [{java_type(node)}] "
                                     f"as part of path [{path.text}]")
        return node

    def has(self, path: FieldPath) -> bool:
        try:
            return self._find(path) is not _MISSING
        except ProcessorError:
            return False

    def get(self, path: FieldPath, ignore_missing: bool = False) -> Any:
        value = self._find(path)
        if value is _MISSING:
            if ignore_missing:
                return None
            raise ProcessorError(f"field [{path.keys[-1]}] not present as part of path [{path.text}]")
        return value

    def get_string(self, path: FieldPath, ignore_missing: bool = False) -> str | None:
        value = self.get(path, ignore_missing)
        if value is not None and not isinstance(value, str):
            raise ProcessorError(f"field [{path.text}] of type [{java_type(value)}] cannot be cast to "
                                 f"[java.lang.String]")
        return value

    def set(self, path: FieldPath, value: Any) -> None:
        node: Any = self.source if path.where == "source" else self._root(path)
        keys = path.keys
        for key in keys[:-1]:
            if type(node) is dict:
                child = node.get(key)
                if child is None:
                    child = node[key] = {}
                node = child
            elif isinstance(node, list):
                index = _list_index(key, node, path)
                if index is None:
                    raise ProcessorError(f"[{key}] is out of bounds for array with length [{len(node)}] "
                                         f"as part of path [{path.text}]")
                node = node[index]
            else:
                raise ProcessorError(f"cannot set [{key}] with parent object of type [{java_type(node)}] "
                                     f"as part of path [{path.text}]")
        last = keys[-1]
        if type(node) is dict:
            node[last] = value
        elif isinstance(node, list):
            index = _list_index(last, node, path)
            if index is None:
                raise ProcessorError(f"[{last}] is out of bounds for array with length [{len(node)}] "
                                     f"as part of path [{path.text}]")
            node[index] = value
        else:
            raise ProcessorError(f"cannot set [{last}] with parent object of type [{java_type(node)}] "
                                 f"as part of path [{path.text}]")

    def remove(self, path: FieldPath) -> None:
        parent_path = FieldPath(path.text, path.where, path.keys[:-1])
        parent = self._find(parent_path) if path.keys[:-1] else self._root(path)
        last = path.keys[-1]
        if isinstance(parent, dict) and last in parent:
            del parent[last]
            return
        if isinstance(parent, list):
            index = _list_index(last, parent, path)
            if index is not None:
                del parent[index]
                return
        raise ProcessorError(f"field [{last}] not present as part of path [{path.text}]")


def _put(node: dict, keys: tuple[str, ...], value: Any) -> bool:
    """Set a value through nested objects only; False (nothing written) when the path meets
    anything else, so that IngestDocument.set can give Elasticsearch's answer."""
    for key in keys[:-1]:
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        elif type(child) is not dict:
            return False
        node = child
    node[keys[-1]] = value
    return True


def _list_index(key: str, node: list, path: FieldPath) -> int | None:
    try:
        index = int(key)
    except ValueError:
        raise ProcessorError(f"[{key}] is not an integer, cannot be used as an index as part of path "
                             f"[{path.text}]") from None
    return index if 0 <= index < len(node) else None


# -- mustache ------------------------------------------------------------------------------------

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
    return read


class Template:
    """A mustache template as ingest renders it: ``{{{name}}}`` as is, ``{{name}}`` escaped for
    the media type (JSON by default), dotted names looked up in the document; missing is empty."""

    def __init__(self, text: str, media_type: str = "application/json", where: str = ""):
        self.text = text
        self.parts: list[str | tuple[Callable[[IngestDocument], Any], bool]] = []
        if media_type not in ESCAPERS:
            raise PipelineError(f"{where}: [media_type] must be one of {sorted(ESCAPERS)}, got [{media_type}]")
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
                raise PipelineError(f"{where}: mustache sections and partials ({{{{{sigil}...}}}}) are not "
                                    f"supported here: {text!r}")
            else:
                self.parts.append((_lookup(name), True))
        if pos < len(text):
            self.parts.append(text[pos:])
        self.constant = text if all(isinstance(p, str) for p in self.parts) else None

    def render(self, doc: IngestDocument) -> str:
        if self.constant is not None:
            return self.constant
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = part[0](doc)
                text = "" if value is None else java_text(value)
                out.append(self.escape(text) if part[1] else text)
        return "".join(out)


def _resolve_value(value: Any, media_type: str, where: str) -> Callable[[IngestDocument], Any]:
    """ValueSource: strings are templates, lists and objects are resolved item by item."""
    if isinstance(value, str):
        template = Template(value, media_type, where)
        if template.constant is not None:
            return lambda doc: value
        return template.render
    if isinstance(value, list):
        items = [_resolve_value(v, media_type, where) for v in value]
        return lambda doc: [item(doc) for item in items]
    if isinstance(value, dict):
        entries = [(_resolve_value(k, media_type, where), _resolve_value(v, media_type, where))
                   for k, v in value.items()]
        return lambda doc: {k(doc): v(doc) for k, v in entries}
    return lambda doc: copy.deepcopy(value)


class _PathTemplate:
    """A field name that may hold a template (``{{{other}}}``): split once when it is constant."""

    def __init__(self, text: str, where: str):
        if not isinstance(text, str):
            raise PipelineError(f"{where}: a field name must be a string, got {text!r}")
        self.template = Template(text, "application/json", where)
        self.fixed = field_path(text) if self.template.constant is not None else None

    def path(self, doc: IngestDocument) -> FieldPath:
        return self.fixed if self.fixed is not None else field_path(self.template.render(doc))


# -- configuration ---------------------------------------------------------------------------------

_REQUIRED = object()


class Options:
    """A processor's options, read the way ConfigurationUtils reads them; leftovers are an error."""

    def __init__(self, kind: str, config: Any, where: str):
        if not isinstance(config, dict):
            raise PipelineError(f"{where}: the options of [{kind}] must be an object")
        self.kind, self.config, self.where = kind, dict(config), where
        self.tag = self.optional_string("tag")

    def error(self, key: str, message: str) -> PipelineError:
        return PipelineError(f"{self.where}: [{key}] {message}")

    def raw(self, key: str, default: Any = _REQUIRED) -> Any:
        if key in self.config:
            return self.config.pop(key)
        if default is _REQUIRED:
            raise self.error(key, "required property is missing")
        return default

    def string(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is not None and value is not default and not isinstance(value, str):
            raise self.error(key, f"property isn't a string, but of type [{java_type(value)}]")
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key, None)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default)
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise self.error(key, f"property isn't a boolean, but of type [{java_type(value)}]")
        return value

    def strings(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, "property isn't a list of strings")
        return value

    def finish(self) -> None:
        if self.config:
            raise PipelineError(f"{self.where}: processor [{self.kind}] doesn't support one or more provided "
                                f"configuration parameters {sorted(self.config)}")


@dataclass
class Context:
    """What processors share while a pipeline is built: grok pattern banks and the agent parser."""

    banks: dict[str, dict[str, str]] | None = None  # from --patterns; None: synth's own
    ua_parser: UserAgentParser = field(default_factory=UserAgentParser)

    def bank(self, mode: str) -> dict[str, str]:
        if self.banks is not None:
            return self.banks[mode]
        return builtin_patterns(ecs=mode == "v1")


class Processor:
    """Common options; subclasses read their own and implement ``execute``."""

    kind = ""

    def __init__(self, options: Options, context: Context):
        self.tag = options.tag
        self.description = options.optional_string("description")
        if "if" in options.config:
            raise options.error("if", "is a Painless condition, which synth verify cannot run")
        self.ignore_failure = options.boolean("ignore_failure", False)
        handlers = options.raw("on_failure", None)
        self.on_failure: list[Processor] = []
        if handlers is not None:
            if not isinstance(handlers, list) or not handlers:
                raise options.error("on_failure", "processors list cannot be empty")
            self.on_failure = build_processors(handlers, context, f"{options.where}.on_failure")

    def execute(self, doc: IngestDocument) -> None:
        raise NotImplementedError


class GrokProcessor(Processor):
    kind = "grok"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        patterns = options.strings("patterns")
        definitions = options.raw("pattern_definitions", None) or {}
        if not isinstance(definitions, dict):
            raise options.error("pattern_definitions", "property isn't a map")
        mode = options.string("ecs_compatibility", "disabled")
        if mode not in ECS_MODES:
            raise options.error("ecs_compatibility", f"unsupported mode '{mode}'")
        self.trace_match = options.boolean("trace_match", False)
        self.ignore_missing = options.boolean("ignore_missing", False)
        bank = {**context.bank(mode), **definitions}
        try:
            self.grok = Grok(bank, patterns, trace_match=self.trace_match)
        except GrokError as e:
            raise options.error("patterns", f"Invalid regex pattern found in: {patterns}. {e}") from None
        self.paths = {c.field: field_path(c.field) for c in self.grok.config}

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get_string(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot process it.")
        try:
            matches = self.grok.captures(value)
        except GrokValueError as e:
            raise ProcessorError(str(e)) from None
        if matches is None:
            raise ProcessorError(f"Provided Grok expressions do not match field value: [{value}]")
        paths = self.paths
        for name, captured in matches.items():
            path = paths[name]
            if path.where != "source" or not _put(doc.source, path.keys, captured):
                doc.set(path, captured)
        if self.trace_match:
            doc.ingest["_grok_match_index"] = str(self.grok.match_index(value))


class DateProcessor(Processor):
    kind = "date"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        self.target = field_path(options.string("target_field", "@timestamp"))
        formats = options.strings("formats")
        zone = options.string("timezone", "UTC")
        locale = options.string("locale", "ENGLISH")
        output = options.string("output_format", javatime.ISO_PRINT)
        if "{{" in zone or "{{" in locale:
            raise options.error("timezone", "templated time zones and locales are not supported here")
        try:
            javatime.check_locale(locale)
            self.zone = javatime.java_zone(zone)
            year = dt.datetime.now(UTC).year  # a date without a year is in the current one
            self.parsers = [javatime.date_processor_parser(f, default_year=year) for f in formats]
            self.printer = javatime.formatter(output)
        except javatime.DateFormatError as e:
            raise options.error("formats", str(e)) from None
        self.cache: dict[str, str] = {}

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get(self.field)
        text = java_text(value)
        result = self.cache.get(text)
        if result is None:
            result = self._convert(text, value)
            if len(self.cache) > 200_000:
                self.cache.clear()
            self.cache[text] = result
        doc.set(self.target, result)

    def _convert(self, text: str, value: Any) -> str:
        if value is not None:
            for parse in self.parsers:
                try:
                    when = parse(text, self.zone)
                    return self.printer.format(when.astimezone(self.zone))
                except (javatime.DateParseError, OverflowError, ValueError):
                    continue
        raise ProcessorError(f"unable to parse date [{text}]")


class SetProcessor(Processor):
    kind = "set"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = _PathTemplate(options.string("field"), options.where)
        copy_from = options.optional_string("copy_from")
        has_value = "value" in options.config
        if copy_from is not None and has_value:
            raise options.error("copy_from", "cannot set both `copy_from` and `value` in the same processor")
        media_type = options.string("media_type", "application/json")
        self.copy_from = field_path(copy_from) if copy_from is not None else None
        self.value = None if copy_from is not None else _resolve_value(options.raw("value"), media_type,
                                                                      options.where)
        self.override = options.boolean("override", True)
        self.ignore_empty = options.boolean("ignore_empty_value", False)

    def execute(self, doc: IngestDocument) -> None:
        path = self.field.path(doc)
        if not self.override and doc.has(path) and doc.get(path) is not None:
            return
        if self.copy_from is not None:
            value = copy.deepcopy(doc.get(self.copy_from))
        else:
            assert self.value is not None
            value = self.value(doc)
        if self.ignore_empty and (value is None or value == ""):
            return
        doc.set(path, value)


class RemoveProcessor(Processor):
    kind = "remove"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        fields = options.raw("field", None)
        keep = options.raw("keep", None)
        if (fields is None) == (keep is None):
            raise options.error("field", "exactly one of [field] and [keep] must be given")
        names = [fields] if isinstance(fields, str) else (fields or keep)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise options.error("field" if fields is not None else "keep", "property isn't a string or a list of strings")
        self.keep = keep is not None
        self.fields = [_PathTemplate(n, options.where) for n in names]
        self.ignore_missing = options.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument) -> None:
        if self.keep:
            kept = [p.path(doc).text for p in self.fields]
            for name in list(doc.source):
                if not any(k == name or k.startswith(name + ".") for k in kept):
                    del doc.source[name]
            return
        for template in self.fields:
            path = template.path(doc)
            if self.ignore_missing and not doc.has(path):
                continue
            doc.remove(path)


class RenameProcessor(Processor):
    kind = "rename"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = _PathTemplate(options.string("field"), options.where)
        self.target = _PathTemplate(options.string("target_field"), options.where)
        self.ignore_missing = options.boolean("ignore_missing", False)
        self.override = options.boolean("override", False)

    def execute(self, doc: IngestDocument) -> None:
        source, target = self.field.path(doc), self.target.path(doc)
        if not doc.has(source):
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{source.text}] doesn't exist")
        if doc.has(target) and not self.override:
            raise ProcessorError(f"field [{target.text}] already exists")
        value = doc.get(source)
        doc.remove(source)
        try:
            doc.set(target, value)
        except ProcessorError:
            doc.set(source, value)  # put it back, as Elasticsearch does
            raise


def _convert_integer(bits: int, name: str) -> Callable[[Any], int]:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    kind = JavaLong if bits == 64 else int

    def convert(value: Any) -> int:
        text = java_text(value)
        try:
            if re.fullmatch(r"-?0x[0-9a-fA-F]+", text):
                number = int(text, 16)
            elif re.fullmatch(r"[+-]?[0-9]+", text):
                number = int(text)
            else:
                raise ValueError
            if not low <= number <= high:
                raise ValueError
        except ValueError:
            raise ProcessorError(f"unable to convert [{text}] to {name}") from None
        return kind(number)
    return convert


def _convert_float(single: bool) -> Callable[[Any], float]:
    from synth.elastic.grok import _java_double, _java_float

    def convert(value: Any) -> float:
        text = java_text(value)
        try:
            return _java_float(text) if single else _java_double(text)
        except GrokValueError:
            raise ProcessorError(f"unable to convert [{text}] to {'float' if single else 'double'}") from None
    return convert


def _convert_boolean(value: Any) -> bool:
    text = java_text(value)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise ProcessorError(f"[{text}] is not a boolean value, cannot convert to boolean")


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


def _convert_ip(value: Any) -> str:
    text = java_text(value)
    if is_ip(text):
        return text
    raise ProcessorError(f"[{text}] is not a valid ip address")


def _convert_auto(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    for convert in (_convert_boolean, CONVERSIONS["integer"], CONVERSIONS["long"], CONVERSIONS["float"],
                    CONVERSIONS["double"]):
        try:
            return convert(value)
        except ProcessorError:
            continue
    return value


CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "integer": _convert_integer(32, "integer"), "long": _convert_integer(64, "long"),
    "float": _convert_float(True), "double": _convert_float(False), "boolean": _convert_boolean,
    "ip": _convert_ip, "string": java_text,
}
CONVERSIONS["auto"] = _convert_auto


class ConvertProcessor(Processor):
    kind = "convert"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        name = options.string("field")
        self.field = field_path(name)
        self.target = field_path(options.string("target_field", name))
        kind = options.string("type")
        if kind not in CONVERSIONS:
            raise options.error("type", f"type [{kind}] not supported, cannot convert field.")
        self.type_name = kind
        self.convert = CONVERSIONS[kind]
        self.ignore_missing = options.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"Field [{self.field.text}] is null, cannot be converted to type [{self.type_name}]")
        converted = [self.convert(v) for v in value] if isinstance(value, list) else self.convert(value)
        doc.set(self.target, converted)


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


_ROUNDINGS = ("y", "M", "w", "d", "h", "H", "m", "s")


class DateIndexNameProcessor(Processor):
    kind = "date_index_name"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        zone_name = options.string("timezone", "UTC")
        locale = options.string("locale", "ENGLISH")
        formats = options.strings("date_formats", ["yyyy-MM-dd'T'HH:mm:ss.SSSXX"])
        self.prefix = Template(options.string("index_name_prefix", ""), "text/plain", options.where)
        self.rounding = Template(options.string("date_rounding"), "text/plain", options.where)
        self.name_format = Template(options.string("index_name_format", "yyyy-MM-dd"), "text/plain", options.where)
        try:
            javatime.check_locale(locale)
            self.zone = javatime.java_zone(zone_name)
            year = dt.datetime.now(UTC).year
            self.parsers = [javatime.date_processor_parser(f, default_year=year) for f in formats]
        except javatime.DateFormatError as e:
            raise options.error("date_formats", str(e)) from None
        if self.rounding.constant is not None and self.rounding.constant not in _ROUNDINGS:
            raise options.error("date_rounding", f"must be one of {list(_ROUNDINGS)}")
        self.zone_text = "UTC" if self.zone is UTC else str(getattr(self.zone, "key", zone_name))
        self.cache: dict[tuple[str, str, str, str], str] = {}

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get(self.field)
        text = java_text(value)
        key = (text, self.prefix.render(doc), self.rounding.render(doc), self.name_format.render(doc))
        name = self.cache.get(key)
        if name is None:
            name = self._name(value, *key)
            if len(self.cache) > 200_000:
                self.cache.clear()
            self.cache[key] = name
        doc.meta["_index"] = name

    def _name(self, value: Any, text: str, prefix: str, rounding: str, name_format: str) -> str:
        when = None
        for parse in self.parsers:
            try:
                when = parse(text, self.zone)
                break
            except (javatime.DateParseError, ValueError, OverflowError):
                continue
        if when is None or value is None:
            raise ProcessorError(f"unable to parse date [{text}]")
        try:
            formatted = javatime.formatter(name_format).format(when.astimezone(self.zone))
        except javatime.DateFormatError as e:
            raise ProcessorError(str(e)) from None
        return f"<{prefix}{{{formatted}||/{rounding}{{{name_format}|{self.zone_text}}}}}>"


_DIGESTS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512"}


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


class FingerprintProcessor(Processor):
    kind = "fingerprint"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        fields = options.strings("fields")
        if not fields:
            raise options.error("fields", "must specify at least one field")
        self.fields = [field_path(f) for f in sorted(fields)]
        self.target = field_path(options.string("target_field", "fingerprint"))
        salt = options.string("salt", "")
        self.salt = salt.encode("utf-8") if salt.strip() else b""
        method = options.string("method", "SHA-1")
        if method not in _DIGESTS:
            raise options.error("method", f"[{method}] must be one of the supported hash methods "
                                          f"[{', '.join(_DIGESTS)}] (MurmurHash3 is not supported here)")
        self.digest = getattr(hashlib, _DIGESTS[method])
        self.ignore_missing = options.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument) -> None:
        hasher = self.digest()
        hasher.update(self.salt)
        stack: list[Any] = []
        for path in reversed(self.fields):
            value = doc.get(path, ignore_missing=True)
            if value is None:
                if self.ignore_missing:
                    continue
                raise ProcessorError(f"missing field [{path.text}] when calculating fingerprint")
            stack.append(value)
        if not stack:
            return
        update = hasher.update
        # Depth first, in sorted order: lists item by item, objects entry by entry (key, then value).
        while stack:
            value = stack.pop()
            if isinstance(value, list):
                stack.extend(reversed(value))
            elif isinstance(value, dict):
                stack.extend(reversed([_Entry(k, value[k]) for k in sorted(value)]))
            elif isinstance(value, _Entry):
                hasher.update(b"\x00")
                hasher.update(fingerprint_bytes(value.key))
                stack.append(value.value)
            elif type(value) is str:
                update(b"\x00" + value.encode("utf-8"))
            else:
                update(b"\x00" + fingerprint_bytes(value))
        doc.set(self.target, base64.b64encode(hasher.digest()).decode("ascii"))


class JsonProcessor(Processor):
    """Elasticsearch's json processor: a JSON text parsed into a field, or into the document's
    root (``add_to_root``, top-level keys replacing what is there, the default strategy)."""

    kind = "json"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        target = options.optional_string("target_field")
        self.add_to_root = options.boolean("add_to_root", False)
        if self.add_to_root and target is not None:
            raise options.error("target_field", "Cannot set a target field while also setting `add_to_root` to true")
        strategy = options.string("add_to_root_conflict_strategy", "replace")
        if strategy != "replace":
            raise options.error("add_to_root_conflict_strategy", "synth verify runs the replace strategy only")
        self.target = field_path(target) if target is not None else self.field
        self.allow_duplicate_keys = options.boolean("allow_duplicate_keys", False)
        options.boolean("strict_json_parsing", True)

    def execute(self, doc: IngestDocument) -> None:
        text = doc.get_string(self.field)

        def unique(pairs: list[tuple[str, Any]]) -> dict:
            keys = [k for k, _ in pairs]
            if not self.allow_duplicate_keys and len(keys) != len(set(keys)):
                raise ProcessorError(f"Duplicate field '{next(k for k in keys if keys.count(k) > 1)}'")
            return dict(pairs)
        try:
            value = json.loads(text, object_pairs_hook=unique)
        except json.JSONDecodeError as e:
            raise ProcessorError(f"com.fasterxml.jackson.core.JsonParseException: {e.msg}") from None
        if not self.add_to_root:
            doc.set(self.target, value)
            return
        if not isinstance(value, dict):
            raise ProcessorError("cannot add non-map fields to root of document")
        doc.source.update(value)


@dataclass
class _Entry:
    key: str
    value: Any


PROCESSORS: dict[str, type[Processor]] = {p.kind: p for p in (
    GrokProcessor, DateProcessor, SetProcessor, RemoveProcessor, RenameProcessor, ConvertProcessor,
    UserAgentProcessor, DateIndexNameProcessor, FingerprintProcessor, JsonProcessor)}


def build_processors(configs: Any, context: Context, where: str) -> list[Processor]:
    if not isinstance(configs, list):
        raise PipelineError(f"{where}: must be a list of processors")
    built = []
    for k, config in enumerate(configs):
        here = f"{where}[{k}]"
        if not isinstance(config, dict) or len(config) != 1:
            raise PipelineError(f"{here}: a processor is an object with exactly one key, its type")
        (kind, options), = config.items()
        cls = PROCESSORS.get(kind)
        if cls is None:
            raise PipelineError(f"{here}: synth verify does not know the processor type [{kind}] "
                                f"(it runs {', '.join(sorted(PROCESSORS))})")
        tag = options.get("tag") if isinstance(options, dict) else None
        reader = Options(kind, options, f"{here} ({kind}" + (f" {tag!r})" if tag else ")"))
        processor = cls(reader, context)
        reader.finish()
        built.append(processor)
    return built


# -- running ----------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What a pipeline did to one document."""

    doc: IngestDocument
    failure: Failure | None = None  # handled by the pipeline's on_failure, or the reason it was rejected
    rejected: bool = False  # no handler: Elasticsearch refuses the document


class _Failed(Exception):
    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure


def _with_failure_metadata(doc: IngestDocument, failure: Failure, handlers: list[Processor], pipeline: str) -> None:
    saved = {k: doc.ingest.get(k) for k in ("on_failure_message", "on_failure_processor_type",
                                              "on_failure_processor_tag", "on_failure_pipeline")}
    doc.ingest.update(on_failure_message=failure.message, on_failure_processor_type=failure.processor_type,
                      on_failure_processor_tag=failure.tag, on_failure_pipeline=failure.pipeline)
    try:
        _run(handlers, doc, pipeline)
    finally:
        for key, value in saved.items():
            if value is None:
                doc.ingest.pop(key, None)
            else:
                doc.ingest[key] = value


def _run(processors: list[Processor], doc: IngestDocument, pipeline: str) -> None:
    for processor in processors:
        try:
            processor.execute(doc)
        except ProcessorError as e:
            if processor.ignore_failure:
                continue
            failure = Failure(processor.kind, processor.tag, str(e), pipeline)
            if not processor.on_failure:
                raise _Failed(failure) from None
            _with_failure_metadata(doc, failure, processor.on_failure, pipeline)


class Pipeline:
    """A pipeline body, built once; ``run`` takes a source and returns what ingest makes of it."""

    def __init__(self, body: Any, pipeline_id: str = "pipeline", *, banks: dict[str, dict[str, str]] | None = None):
        if not isinstance(body, dict):
            raise PipelineError("a pipeline is a JSON object with a [processors] list")
        if "processors" not in body and len(body) == 1:
            # GET _ingest/pipeline/<id> answers {"<id>": {...}}
            (pipeline_id, body), = body.items()
            if not isinstance(body, dict):
                raise PipelineError("a pipeline is a JSON object with a [processors] list")
        body = dict(body)
        self.body, self.banks = copy.deepcopy(body), banks  # enough to build it again elsewhere
        unknown = set(body) - {"description", "processors", "on_failure", "version", "_meta", "deprecated"}
        if unknown:
            raise PipelineError(f"pipeline [{pipeline_id}] doesn't support one or more provided configuration "
                                f"parameters {sorted(unknown)}")
        if "processors" not in body:
            raise PipelineError("[processors] required property is missing")
        self.id = pipeline_id
        self.description = body.get("description")
        self.context = Context(banks)
        self.processors = build_processors(body["processors"], self.context, "processors")
        handlers = body.get("on_failure")
        if handlers is not None and not handlers:
            raise PipelineError("on_failure: pipeline on_failure processors list cannot be empty")
        self.on_failure = build_processors(handlers, self.context, "on_failure") if handlers else []

    @classmethod
    def load(cls, path: str | Path, *, patterns: str | Path | None = None) -> Pipeline:
        """A pipeline from a JSON file; its id is the file name without ``.json`` (and ``.pipeline``)."""
        path = Path(path)
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise PipelineError(f"{path}: {e.strerror or e}") from None
        except json.JSONDecodeError as e:
            raise PipelineError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
        name = re.sub(r"(\.pipeline)?\.json$", "", path.name)
        banks = None
        if patterns is not None:
            try:
                banks = pattern_banks_from(patterns)
            except (GrokError, OSError) as e:
                raise PipelineError(f"--patterns: {e}") from None
        try:
            return cls(body, name, banks=banks)
        except PipelineError as e:
            raise PipelineError(f"{path}: {e}") from None

    def run(self, source: dict, index: str | None = None, doc_id: str | None = None,
            timestamp: dt.datetime | None = None) -> Outcome:
        doc = IngestDocument(source, {"_index": index, "_id": doc_id}, timestamp)
        try:
            _run(self.processors, doc, self.id)
        except _Failed as failed:
            if not self.on_failure:
                return Outcome(doc, failed.failure, rejected=True)
            try:
                _with_failure_metadata(doc, failed.failure, self.on_failure, self.id)
            except _Failed as again:
                return Outcome(doc, again.failure, rejected=True)
            return Outcome(doc, failed.failure)
        return Outcome(doc)

    def declared_fields(self) -> dict[str, str]:
        """Field -> kind for what the processors (not the failure handlers) may write: grok
        captures with their types, and the targets of date, set, convert and user_agent."""
        fields: dict[str, str] = {}
        for p in self.processors:
            if isinstance(p, GrokProcessor):
                fields.update(p.grok.declared())
            elif isinstance(p, DateProcessor):
                fields[p.target.text] = "DATE"
            elif isinstance(p, ConvertProcessor):
                fields[p.target.text] = p.type_name.upper()
            elif isinstance(p, SetProcessor) and p.field.fixed is not None:
                fields[p.field.fixed.text] = "SET"
            elif isinstance(p, RenameProcessor) and p.target.fixed is not None:
                fields[p.target.fixed.text] = "RENAME"
            elif isinstance(p, UserAgentProcessor):
                base = p.target.text
                for sub in ("original", "name", "version", "os.name", "os.version", "os.full", "device.name"):
                    fields[f"{base}.{sub}"] = "STRING"
        return fields


# -- where a document lands ----------------------------------------------------------------------

_DATE_MATH = re.compile(r"<(?P<prefix>[^{}]*)\{(?P<date>[^{}|]*?)(?:\|\|/(?P<round>[yMwdhHms]))?"
                        r"(?:\{(?P<format>[^{}|]*)(?:\|(?P<zone>[^{}]*))?\})?\}(?P<suffix>[^{}]*)>")


def resolve_index(name: str | None, now: dt.datetime | None = None) -> str | None:
    """A date-math index name as Elasticsearch resolves it when it indexes the document:
    ``<smoke_event-{2026.11.28||/d{yyyy.MM.dd|UTC}}>`` -> ``smoke_event-2026.11.28``."""
    if not name or not name.startswith("<"):
        return name
    m = _DATE_MATH.fullmatch(name)
    if m is None:
        return name
    fmt = m.group("format") or "yyyy.MM.dd"
    zone = javatime.java_zone(m.group("zone")) if m.group("zone") else UTC
    formatter = javatime.formatter(fmt)
    date = m.group("date")
    if date.startswith("now"):
        when = (now or dt.datetime.now(UTC)).astimezone(zone)
        when = _round_down(when, date[3:].lstrip("/")) if date.startswith("now/") else when
    else:
        when = formatter.parse(date, zone)
    if m.group("round"):
        when = _round_down(when.astimezone(zone), m.group("round"))
    return f"{m.group('prefix')}{formatter.format(when.astimezone(zone))}{m.group('suffix')}"


def _round_down(when: dt.datetime, unit: str) -> dt.datetime:
    if unit == "y":
        return when.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "M":
        return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        start = when - dt.timedelta(days=when.weekday())
        return start.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit in "hH":
        return when.replace(minute=0, second=0, microsecond=0)
    if unit == "m":
        return when.replace(second=0, microsecond=0)
    if unit == "s":
        return when.replace(microsecond=0)
    return when
