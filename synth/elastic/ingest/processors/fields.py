"""Processors that move values around: ``set``, ``append``, ``remove``, ``rename`` and
``dot_expander``."""

from __future__ import annotations

import copy
from typing import Any

from synth.elastic.ingest.config import Context, Options, Processor, register
from synth.elastic.ingest.document import MISSING, FieldPath, IngestDocument, append_field, field_path
from synth.elastic.ingest.errors import ProcessorError
from synth.elastic.ingest.mustache import PathTemplate, resolve_value


@register
class SetProcessor(Processor):
    kind = "set"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = PathTemplate(options.string("field"), options.where)
        copy_from = options.optional_string("copy_from")
        has_value = "value" in options.config
        if copy_from is not None and has_value:
            raise options.error("copy_from", "cannot set both `copy_from` and `value` in the same processor")
        media_type = options.string("media_type", "application/json")
        self.copy_from = field_path(copy_from) if copy_from is not None else None
        self.value = None if copy_from is not None else resolve_value(options.raw("value"), media_type, options.where)
        self.override = options.boolean("override", True)
        self.ignore_empty = options.boolean("ignore_empty_value", False)

    def execute(self, doc: IngestDocument) -> None:
        path = self.field.path(doc)
        if not self.override and doc.has(path) and doc.get(path) is not None:
            return
        if self.copy_from is not None:
            if self.ignore_empty and not doc.has(self.copy_from):
                return
            value = copy.deepcopy(doc.get(self.copy_from))
        else:
            assert self.value is not None
            value = self.value(doc)
        if self.ignore_empty and (value is None or value == ""):
            return
        doc.set(path, value)


@register
class AppendProcessor(Processor):
    """AppendProcessor: a missing field becomes a list of the values, a scalar becomes a list
    with the values after it; ``allow_duplicates: false`` adds only values not there yet."""

    kind = "append"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = PathTemplate(options.string("field"), options.where)
        media_type = options.string("media_type", "application/json")
        self.value = resolve_value(options.raw("value"), media_type, options.where)
        self.allow_duplicates = options.boolean("allow_duplicates", True)

    def execute(self, doc: IngestDocument) -> None:
        append_field(doc, self.field.path(doc), self.value(doc), self.allow_duplicates)


@register
class RemoveProcessor(Processor):
    kind = "remove"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        fields = options.raw("field", None)
        keep = options.raw("keep", None)
        if (fields is None) == (keep is None):
            raise options.error("field", "exactly one of [field] and [keep] must be given")
        names = [fields] if isinstance(fields, str) else ([keep] if isinstance(keep, str) else (fields or keep))
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise options.error("field" if fields is not None else "keep", "property isn't a string or a list of strings")
        self.keep = keep is not None
        self.fields = [PathTemplate(n, options.where) for n in names]
        self.ignore_missing = options.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument) -> None:
        if self.keep:
            kept = [p.render(doc) for p in self.fields]
            for name in list(doc.source):
                if not any(k == name or k.startswith(name + ".") for k in kept):
                    del doc.source[name]
            return
        for template in self.fields:
            path = template.path(doc)
            if self.ignore_missing and not doc.has(path):
                continue
            doc.remove(path)


@register
class RenameProcessor(Processor):
    """RenameProcessor: ``field`` and ``target_field`` are templates, rendered, then looked up."""

    kind = "rename"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = PathTemplate(options.string("field"), options.where)
        self.target = PathTemplate(options.string("target_field"), options.where)
        self.ignore_missing = options.boolean("ignore_missing", False)
        self.override = options.boolean("override", False)

    def execute(self, doc: IngestDocument) -> None:
        source = self.field.path_or_none(doc)
        value = doc.find(source) if source is not None else MISSING
        if value is MISSING:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{source.text if source else ''}] doesn't exist")
        assert source is not None
        target = self.target.path(doc)
        if not self.override and doc.has(target):
            raise ProcessorError(f"field [{target.text}] already exists")
        doc.remove(source)
        try:
            doc.set(target, value)
        except ProcessorError:
            doc.set(source, value)  # put it back, as Elasticsearch does
            raise


@register
class DotExpanderProcessor(Processor):
    """DotExpanderProcessor: a top-level key holding dots (``"foo.bar"``) becomes the nested
    field it names; ``*`` expands every such key; where the nested field exists already, the
    values are merged into a list, unless ``override``."""

    kind = "dot_expander"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        name = options.string("field")
        if name != "*":
            if "." not in name:
                raise options.error("field", "field does not contain a dot and is not a wildcard")
            if name.startswith(".") or name.endswith("."):
                raise options.error("field", "Field can't start or end with a dot")
            if ".." in name:
                raise options.error("field", "No space between dots")
        self.name = name
        self.path = options.optional_string("path")
        self.parent = field_path(self.path) if self.path else None
        self.override = options.boolean("override", False)

    def execute(self, doc: IngestDocument) -> None:
        if self.parent is not None:
            holder = doc.get(self.parent)
            if not isinstance(holder, dict):
                raise ProcessorError(f"field [{self.path}] of type [{type(holder).__name__}] cannot be cast to "
                                     f"[java.util.Map]")
        else:
            holder = doc.source
        names = [k for k in list(holder) if "." in k] if self.name == "*" else [self.name]
        for name in names:
            if name in holder:
                self._expand(doc, holder, name)

    def _expand(self, doc: IngestDocument, holder: dict[str, Any], name: str) -> None:
        full = f"{self.path}.{name}" if self.path else name
        path = FieldPath(full, "source", tuple(full.split(".")))
        if doc.has(path):
            value = holder.pop(name)
            if self.override:
                doc.set(path, value)
            else:
                append_field(doc, path, value)
            return
        keys = path.keys
        for k in range(1, len(keys)):
            partial = FieldPath(".".join(keys[:k]), "source", keys[:k])
            if not doc.has(partial):
                break
            if not isinstance(doc.get(partial), dict):
                raise ProcessorError(f"cannot expand [{full}], because [{partial.text}] is not an object field, "
                                     f"but a value field")
        value = holder.pop(name)
        doc.set(path, value)
