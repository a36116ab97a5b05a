"""Processors that take a text apart: ``grok``, ``dissect``, ``kv``, ``csv`` and ``json``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from synth.elastic.grok import ECS_MODES, Grok, GrokError, GrokValueError
from synth.elastic.ingest.config import Context, Options, Processor, register
from synth.elastic.ingest.document import FieldPath, IngestDocument, append_field, field_path
from synth.elastic.ingest.errors import PipelineError, ProcessorError
from synth.elastic.ingest.javaregex import java_regex, java_split
from synth.elastic.ingest.mustache import PathTemplate
from synth.elastic.ingest.values import java_text


def compile_writer(plan: list[tuple[FieldPath, Any, int, tuple[int, ...]]]) -> Callable[[tuple, dict, IngestDocument], None]:
    """One pattern's captures as a function of the match's groups that writes them into the
    source: every value read and converted first (a conversion error writes nothing), then each
    set through nested objects, created where missing; a path that meets anything but an object
    goes through IngestDocument.set for Elasticsearch's answer. Generated once per pattern: this
    is the hot loop of ``synth verify``."""
    env: dict[str, Any] = {}
    out = ["def write(values, source, doc):"]
    for k, (_path, convert, first, others) in enumerate(plan):
        out.append(f"    v{k} = values[{first}]")
        indent = "    "
        for group in others:  # several groups feed this field: the first that took part counts
            out += [f"{indent}if v{k} is None:", f"{indent}    v{k} = values[{group}]"]
            indent += "    "
        if convert is not None:
            env[f"c{k}"] = convert
            out += [f"    if v{k} is not None:", f"        v{k} = c{k}(v{k})"]
    for k, (path, _convert, _first, _others) in enumerate(plan):
        env[f"p{k}"] = path
        out.append(f"    if v{k} is not None:")
        if path.where != "source":
            out.append(f"        doc.set(p{k}, v{k})")
            continue
        out += _nested_write(path.keys, k, "        ", "source")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(out), "<grok writer>", "exec"), env, namespace)  # noqa: S102 (our own code, from field names)
    return namespace["write"]


def _nested_write(keys: tuple[str, ...], k: int, indent: str, node: str, depth: int = 0) -> list[str]:
    if len(keys) == 1:
        return [f"{indent}{node}[{keys[0]!r}] = v{k}"]
    child = f"n{depth}"
    return [f"{indent}{child} = {node}.get({keys[0]!r})",
            f"{indent}if {child} is None:",
            f"{indent}    {child} = {node}[{keys[0]!r}] = {{}}",
            f"{indent}if type({child}) is dict:",
            *_nested_write(keys[1:], k, indent + "    ", child, depth + 1),
            f"{indent}else:",
            f"{indent}    doc.set(p{k}, v{k})"]


@register
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
            raise options.error("patterns", f"Invalid regex pattern found in: [{', '.join(patterns)}]. {e}") from None
        self.paths = {c.field: field_path(c.field) for c in self.grok.config}
        self.writers: dict[int, Callable[[tuple, dict, IngestDocument], None]] = {}  # per pattern's readers

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get_string(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot process it.")
        matched = self.grok.match(value)
        if matched is None:
            raise ProcessorError(f"Provided Grok expressions do not match field value: [{value}]")
        values, readers = matched
        write = self.writers.get(id(readers))
        if write is None:
            write = self.writers[id(readers)] = compile_writer([(self.paths[field], convert, first, others)
                                                                for field, convert, first, others in readers])
        try:
            write(values, doc.source, doc)
        except GrokValueError as e:
            raise ProcessorError(str(e)) from None
        if self.trace_match:
            doc.ingest["_grok_match_index"] = str(self.grok.match_index(value))




class _DissectKey:
    """DissectKey: a name and its modifier (``+`` append, ``+x/N`` append in order, ``*``/``&``
    reference, ``?`` named skip, empty name skip) and ``->`` (skip repeated delimiters)."""

    __slots__ = ("modifier", "name", "skip", "padding", "order")

    def __init__(self, key: str):
        modifiers = re.findall(r"[/+*&?]", key)
        if len(modifiers) > 1 and modifiers[:2] != ["+", "/"]:
            raise PipelineError(f"Unable to parse key: {key} Reason: multiple modifiers are not allowed.",
                                es_type="key_parse")
        self.modifier = "/" if modifiers[:2] == ["+", "/"] else (modifiers[0] if modifiers else "")
        self.order = 0
        if self.modifier == "":
            m = re.fullmatch(r"(.*?)(->)?", key, re.S)
        elif self.modifier == "/":
            m = re.search(r"[+](.*?)(/)([0-9]+)(->)?$", key, re.S)
        else:
            m = re.search(r"([+*&?])(.*?)(->)?$", key, re.S)
        if m is None:
            raise PipelineError(f"Unable to parse key: {key} Reason: The key name could not be determined",
                                es_type="key_parse")
        if self.modifier == "":
            self.name, self.padding = m.group(1), m.group(2) is not None
        elif self.modifier == "/":
            self.name, self.order, self.padding = m.group(1), int(m.group(3)), m.group(4) is not None
        else:
            self.name, self.padding = m.group(2), m.group(3) is not None
        self.skip = self.modifier == "?" or (self.modifier == "" and not self.name)
        if not self.name and not self.skip:
            raise PipelineError(f"Unable to parse key: {key} Reason: The key name could not be determined",
                                es_type="key_parse")


class Dissect:
    """DissectParser: keys and the delimiters after them, matched left to right, all or nothing."""

    def __init__(self, pattern: str, append_separator: str = ""):
        self.pattern, self.separator = pattern, append_separator
        leading = re.findall(r"^(.*?)%\{", pattern, re.S)
        self.leading = leading[-1] if leading else ""
        pairs = [(_DissectKey(m.group(1)), m.group(2)) for m in
                 re.finditer(r"%\{([^}]*?)\}(.+?(?=%\{)|.*$)", pattern[len(self.leading):], re.S)]
        results = {k.name for k, _ in pairs if not k.skip}
        if not pairs or not results:
            raise PipelineError(f"Unable to parse pattern: {pattern} Reason: Unable to find any keys or delimiters.",
                                es_type="pattern_parse")
        appended = {k.name for k, _ in pairs if k.modifier in "+/" and k.modifier}
        for key, _ in pairs:
            if key.modifier == "" and key.name in appended:
                key.modifier = "+"  # a plain key named like an appended one takes part in the append
        references: dict[str, list[_DissectKey]] = {}
        for key, _ in pairs:
            if key.modifier in ("*", "&"):
                references.setdefault(key.name, []).append(key)
        for keys in references.values():
            if len(keys) != 2:
                raise PipelineError(f"Unable to parse pattern: {pattern} Reason: Found invalid key/reference "
                                    f"associations: '{','.join(k.name for k in keys)}' Please ensure each '*<key>' "
                                    f"is matched with a matching '&<key>", es_type="pattern_parse")
        self.pairs = pairs
        self.result_count = len(results)

    def parse(self, text: str) -> dict[str, str] | None:
        matches: list[tuple[_DissectKey, str]] = []
        if len(text) > len(self.leading) and text.startswith(self.leading):
            pairs = iter(self.pairs)
            key, delimiter = next(pairs)
            i = start = len(self.leading)
            n = len(text)
            done = False
            while i < n and not done:
                if delimiter and text.startswith(delimiter, i):
                    matches.append((key, text[start:i]))
                    i += len(delimiter)
                    while i < n and text.startswith(delimiter, i):  # consecutive delimiters
                        i += len(delimiter)
                        if not key.padding:
                            nxt = next(pairs, None)
                            if nxt is None:
                                break
                            key = nxt[0]
                            matches.append((key, ""))
                    nxt = next(pairs, None)
                    if nxt is None:
                        done = True
                        break
                    key, delimiter = nxt
                    start = i
                else:
                    i += 1
            if len(matches) != len(self.pairs) and not delimiter:
                matches.append((key, text[start:]))
        if len(matches) != len(self.pairs):
            return None
        results: dict[str, str] = {}
        appends: dict[str, list[tuple[int, int, str]]] = {}
        refs: dict[str, list[str | None]] = {}
        implicit = -1000
        for key, value in matches:
            if key.skip:
                continue
            if key.modifier == "":
                results[key.name] = value
            elif key.modifier in "+/":
                order = key.order if key.modifier == "/" else implicit
                implicit += key.modifier == "+"
                entries = appends.setdefault(key.name, [])
                entries.append((order, len(entries), value))
            else:
                ref = refs.setdefault(key.name, [None, None])
                ref[0 if key.modifier == "*" else 1] = value
        for name_value in refs.values():
            results[str(name_value[0])] = name_value[1]  # type: ignore[assignment]
        for name, entries in appends.items():
            results[name] = self.separator.join(v for _, _, v in sorted(entries))
        return results if len(results) == self.result_count else None


@register
class DissectProcessor(Processor):
    kind = "dissect"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        pattern = options.string("pattern")
        self.append_separator = options.string("append_separator", "")
        self.ignore_missing = options.boolean("ignore_missing", False)
        try:
            self.dissect = Dissect(pattern, self.append_separator)
        except PipelineError as e:
            raise PipelineError(e.reason, options.where, processor_type=self.kind, tag=self.tag,
                                es_type=e.es_type) from None
        self.paths: dict[str, Any] = {}

    def execute(self, doc: IngestDocument) -> None:
        text = doc.get_string(self.field, self.ignore_missing)
        if text is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot process it.")
        results = self.dissect.parse(text)
        if results is None:
            raise ProcessorError(f"Unable to find match for dissect pattern: {self.dissect.pattern} against source: "
                                 f"{text}", "find_match")
        for name, value in results.items():
            path = self.paths.get(name)
            if path is None:
                path = self.paths[name] = field_path(name)
            doc.set(path, value)


_STRIP_BRACKETS = re.compile(r"(^[\(\[<\"'])|([\]\)>\"']$)")


@register
class KeyValueProcessor(Processor):
    """KeyValueProcessor: split into fields by ``field_split``, each into key and value by
    ``value_split`` (both Java regexes), keys filtered, trimmed and prefixed."""

    kind = "kv"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = PathTemplate(options.string("field"), options.where)
        target = options.optional_string("target_field")
        self.target = PathTemplate(target, options.where) if target else None
        field_split, value_split = options.string("field_split"), options.string("value_split")
        trim_key, trim_value = options.optional_string("trim_key"), options.optional_string("trim_value")
        self.prefix = options.optional_string("prefix") or ""
        self.strip_brackets = options.boolean("strip_brackets", False)
        include, exclude = options.strings("include_keys", None), options.strings("exclude_keys", None)
        self.include = set(include) if include is not None else None
        self.exclude = set(exclude) if exclude is not None else None
        self.ignore_missing = options.boolean("ignore_missing", False)
        self.value_split_text = value_split
        try:
            self.field_split = java_regex(field_split)
            self.value_split = java_regex(value_split)
            self.trim_key = java_regex(f"(^([{trim_key}]+))|([{trim_key}]+$)") if trim_key else None
            self.trim_value = java_regex(f"(^([{trim_value}]+))|([{trim_value}]+$)") if trim_value else None
        except re.error as e:
            raise options.error("field_split", f"invalid regex: {e}") from None

    def execute(self, doc: IngestDocument) -> None:
        path = self.field.path_or_none(doc)
        if path is None or not doc.has(path):
            if self.ignore_missing:
                return
            if path is None:
                raise ProcessorError("field path cannot be null nor empty")
            raise ProcessorError(f"field [{path.text}] doesn't exist")
        value = doc.get_string(path)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{path.text}] is null, cannot extract key-value pairs.")
        prefix = self.prefix
        if self.target is not None:
            target = self.target.render(doc)
            if target:
                prefix = f"{target}.{prefix}"
        for part in java_split(self.field_split, value, 0):
            kv = java_split(self.value_split, part, 2)
            if len(kv) != 2:
                raise ProcessorError(f"field [{path.text}] does not contain value_split [{self.value_split_text}]")
            key = self.trim_key.sub("", kv[0]) if self.trim_key is not None else kv[0]
            if (self.include is not None and key not in self.include) or (self.exclude is not None and key in self.exclude):
                continue
            item = _STRIP_BRACKETS.sub("", kv[1]) if self.strip_brackets else kv[1]
            if self.trim_value is not None:
                item = self.trim_value.sub("", item)
            target_path = field_path(prefix + key)
            if doc.has(target_path):
                append_field(doc, target_path, item)
            else:
                doc.set(target_path, item)


def _csv_fields(line: str, quote: str, separator: str, trim: bool, count: int) -> list[str | None]:
    """CsvParser: RFC 4180 fields (quotes doubled inside quotes), at most ``count`` of them."""
    out: list[str | None] = []
    i, n = 0, len(line)
    while len(out) < count:
        while trim and i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] == quote:
            i += 1
            piece = []
            while True:
                end = line.find(quote, i)
                if end < 0:
                    raise ProcessorError("Unmatched quote")
                piece.append(line[i:end])
                if end + 1 < n and line[end + 1] == quote:
                    piece.append(quote)
                    i = end + 2
                    continue
                i = end + 1
                break
            out.append("".join(piece))
            while i < n and line[i] in " \t":
                i += 1
            if i < n and line[i] != separator:
                raise ProcessorError(f"character '{line[i]}' after quoted field at {i}")
            if i >= n:
                break
            i += 1
            if i >= n:
                out.append("")
                break
            continue
        end = i
        while end < n and line[end] != separator:
            if line[end] in "\n\r" or line[end] == quote:
                raise ProcessorError(f"Illegal character inside unquoted field at {end}")
            end += 1
        value = line[i:end]
        if trim:
            value = value.rstrip(" \t")
        out.append(value)
        if end >= n:
            break
        i = end + 1
        if i >= n and len(out) < count:
            out.append("")
            break
    return out


@register
class CsvProcessor(Processor):
    kind = "csv"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        self.quote = options.string("quote", '"')
        if len(self.quote) != 1:
            raise PipelineError("quote has to be single character like \" or '", options.where,
                                processor_type=self.kind, tag=self.tag, es_type="illegal_argument_exception")
        self.separator = options.string("separator", ",")
        if len(self.separator) != 1:
            raise PipelineError("separator has to be single character like , or ;", options.where,
                                processor_type=self.kind, tag=self.tag, es_type="illegal_argument_exception")
        self.trim = options.boolean("trim", False)
        self.ignore_missing = options.boolean("ignore_missing", False)
        targets = options.strings("target_fields")
        if not targets:
            raise PipelineError("target fields list can't be empty", options.where, processor_type=self.kind,
                                tag=self.tag, es_type="illegal_argument_exception")
        self.targets = [field_path(t) for t in targets]
        self.empty_value = options.raw("empty_value", None)

    def execute(self, doc: IngestDocument) -> None:
        line = doc.get_string(self.field, self.ignore_missing)
        if line is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot process it.")
        for path, value in zip(self.targets, _csv_fields(line, self.quote, self.separator, self.trim,
                                                         len(self.targets)), strict=False):
            if value:
                doc.set(path, value)
            elif self.empty_value is not None:
                doc.set(path, self.empty_value)


def _parse_json(text: str, allow_duplicates: bool, strict: bool) -> Any:
    """JsonProcessor.apply: one JSON value from the text; with strict parsing nothing may follow."""
    def unique(pairs: list[tuple[str, Any]]) -> dict:
        if not allow_duplicates:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise ProcessorError(f"com.fasterxml.jackson.core.JsonParseException: Duplicate field '{key}'")
                seen.add(key)
        return dict(pairs)
    decoder = json.JSONDecoder(object_pairs_hook=unique)
    stripped = text.lstrip(" \t\r\n")
    try:
        value, end = decoder.raw_decode(stripped)
    except json.JSONDecodeError as e:
        raise ProcessorError(f"com.fasterxml.jackson.core.JsonParseException: {e.msg}") from None
    if strict and stripped[end:].strip(" \t\r\n"):
        raise ProcessorError(f"The input {text} is not valid JSON and the strict_json_parsing parameter is true")
    return value


def _recursive_merge(target: dict, source: dict) -> None:
    for key, value in source.items():
        if isinstance(target.get(key), dict) and isinstance(value, dict):
            _recursive_merge(target[key], value)
        else:
            target[key] = value


@register
class JsonProcessor(Processor):
    """JsonProcessor: a JSON text decoded into ``target_field`` (default: in place), or into the
    document's root with ``add_to_root``.

    With ``add_to_root`` Elasticsearch reads the field as one literal top-level key
    (``ctx.get(field)``), not as a dotted path, on every release before the fix of
    elastic/elasticsearch#135170 (PR #135479, backported to 8.18, 8.19, 9.0 and 9.1): so
    ``"field": "event.original"`` finds nothing, and the processor fails with ``cannot add
    non-map fields to root of document``. This engine does the same, so a pipeline that
    depends on the fix fails here as it fails on most clusters. ``add_to_root_conflict_strategy``
    ``replace`` (default) puts each top-level key of the decoded object in place of what is
    there; ``merge`` merges objects recursively.
    """

    kind = "json"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field_name = options.string("field")
        self.field = field_path(self.field_name)
        target = options.optional_string("target_field")
        self.add_to_root = options.boolean("add_to_root", False)
        self.allow_duplicate_keys = options.boolean("allow_duplicate_keys", False)
        strategy = options.optional_string("add_to_root_conflict_strategy")
        if strategy is not None and strategy.lower() not in ("replace", "merge"):
            raise options.error("add_to_root_conflict_strategy",
                                f"conflict strategy [{strategy}] not supported, cannot convert field.")
        if self.add_to_root and target is not None:
            raise options.error("target_field", "Cannot set a target field while also setting `add_to_root` to true")
        if not self.add_to_root and strategy is not None:
            raise options.error("add_to_root_conflict_strategy",
                                "Cannot set `add_to_root_conflict_strategy` if `add_to_root` is false")
        self.merge = (strategy or "replace").lower() == "merge"
        self.strict = options.boolean("strict_json_parsing", True)
        self.target = field_path(target) if target is not None else self.field

    def execute(self, doc: IngestDocument) -> None:
        if self.add_to_root:
            raw = doc.source.get(self.field_name, doc.meta.get(self.field_name))
            value = _parse_json("null" if raw is None else java_text(raw), self.allow_duplicate_keys, self.strict)
            if not isinstance(value, dict):
                raise ProcessorError("cannot add non-map fields to root of document")
            if self.merge:
                _recursive_merge(doc.source, value)
            else:
                doc.source.update(value)
            return
        raw = doc.get(self.field)
        doc.set(self.target, _parse_json("null" if raw is None else java_text(raw), self.allow_duplicate_keys,
                                         self.strict))
