"""Documents inside a pipeline, as IngestDocument holds them: the source, the metadata fields
(``_index``, ``_id`` ...) kept apart, and the ingest metadata (``_ingest.timestamp``). Dotted
paths walk nested objects (numeric keys index lists) and create objects when written."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from synth.elastic.ingest.errors import ProcessorError
from synth.elastic.ingest.values import java_type

UTC = dt.UTC
METADATA = ("_index", "_id", "_routing", "_version", "_version_type", "_if_seq_no", "_if_primary_term",
            "_dynamic_templates")

@dataclass(frozen=True)
class FieldPath:
    """A field name split once: which map it lives in and the keys down to it."""

    text: str
    where: str  # "source", "meta" or "ingest"
    keys: tuple[str, ...]
    parent: tuple[str, ...] = field(init=False, repr=False, compare=False)  # the keys but the last

    def __post_init__(self) -> None:
        object.__setattr__(self, "parent", self.keys[:-1])


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


MISSING = object()


class IngestDocument:
    """A document inside a pipeline: its source, its metadata, and the ingest metadata."""

    __slots__ = ("source", "meta", "ingest", "trace", "running")

    def __init__(self, source: dict, meta: dict | None = None, timestamp: dt.datetime | None = None):
        self.source = source
        self.meta = meta if meta is not None else {}
        self.ingest: dict[str, Any] = {"timestamp": timestamp or dt.datetime.now(UTC)}
        self.trace: list[dict] | None = None  # verbose simulate: one entry per processor run
        self.running: list[str] = []  # ids of the pipelines running (IngestDocument.executedPipelines)

    def copy(self) -> IngestDocument:
        """A deep copy (``new IngestDocument(other)``), not traced."""
        twin = IngestDocument(copy.deepcopy(self.source), copy.deepcopy(self.meta))
        twin.ingest = copy.deepcopy(self.ingest)
        twin.running = list(self.running)
        return twin

    def ctx(self) -> dict:
        """What a Painless condition sees as ``ctx``: the source with the metadata fields."""
        view = dict(self.source)
        for key, value in self.meta.items():
            if value is not None:
                view[key] = value
        return view

    def _root(self, path: FieldPath) -> dict:
        where = path.where
        return self.source if where == "source" else self.meta if where == "meta" else self.ingest

    def _walk(self, node: Any, keys: tuple[str, ...], path: FieldPath) -> Any:
        """The value ``keys`` lead to from ``node``, or MISSING; raises where they run into a
        non-object."""
        for key in keys:
            if type(node) is dict:
                node = node.get(key, MISSING)
                if node is MISSING:
                    return MISSING
            elif isinstance(node, list):
                index = list_index(key, node, path)
                if index is None:
                    return MISSING
                node = node[index]
            else:
                raise ProcessorError(f"cannot resolve [{key}] from object of type [{java_type(node)}] "
                                     f"as part of path [{path.text}]")
        return node

    def _find(self, path: FieldPath) -> Any:
        """The value at ``path``, or MISSING; raises where the path runs into a non-object."""
        node: Any = self.source if path.where == "source" else self._root(path)
        keys = path.keys
        # Nested objects all the way (nearly every access): no call further down.
        if len(keys) == 1:
            if type(node) is dict:
                return node.get(keys[0], MISSING)
        elif len(keys) == 2:
            if type(node) is dict:
                child = node.get(keys[0], MISSING)
                if type(child) is dict:
                    return child.get(keys[1], MISSING)
                if child is MISSING:
                    return MISSING
        return self._walk(node, keys, path)

    def find(self, path: FieldPath) -> Any:
        """The value at ``path``, or MISSING (also where the path runs into a non-object)."""
        try:
            return self._find(path)
        except ProcessorError:
            return MISSING

    def has(self, path: FieldPath) -> bool:
        try:
            return self._find(path) is not MISSING
        except ProcessorError:
            return False

    def get(self, path: FieldPath, ignore_missing: bool = False) -> Any:
        value = self._find(path)
        if value is MISSING:
            if ignore_missing:
                return None
            raise ProcessorError(f"field [{path.keys[-1]}] not present as part of path [{path.text}]")
        return value

    def get_string(self, path: FieldPath, ignore_missing: bool = False) -> str | None:
        value = self.get(path, ignore_missing)
        if value is not None and type(value) is not str and not isinstance(value, str):
            raise ProcessorError(f"field [{path.text}] of type [{java_type(value)}] cannot be cast to "
                                 f"[java.lang.String]")
        return value

    def set(self, path: FieldPath, value: Any) -> None:
        node: Any = self.source if path.where == "source" else self._root(path)
        keys = path.keys
        if len(keys) > 1:
            for key in path.parent:
                if type(node) is dict:
                    child = node.get(key)
                    if child is None:
                        child = node[key] = {}
                    node = child
                elif isinstance(node, list):
                    index = list_index(key, node, path)
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
            index = list_index(last, node, path)
            if index is None:
                raise ProcessorError(f"[{last}] is out of bounds for array with length [{len(node)}] "
                                     f"as part of path [{path.text}]")
            node[index] = value
        else:
            raise ProcessorError(f"cannot set [{last}] with parent object of type [{java_type(node)}] "
                                 f"as part of path [{path.text}]")

    def remove(self, path: FieldPath) -> None:
        root = self._root(path)
        parent = self._walk(root, path.parent, path) if path.parent else root
        last = path.keys[-1]
        if isinstance(parent, dict) and last in parent:
            del parent[last]
            return
        if isinstance(parent, list):
            index = list_index(last, parent, path)
            if index is not None:
                del parent[index]
                return
        raise ProcessorError(f"field [{last}] not present as part of path [{path.text}]")


def put(node: dict, keys: tuple[str, ...], value: Any) -> bool:
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


def list_index(key: str, node: list, path: FieldPath) -> int | None:
    try:
        index = int(key)
    except ValueError:
        raise ProcessorError(f"[{key}] is not an integer, cannot be used as an index as part of path "
                             f"[{path.text}]") from None
    return index if 0 <= index < len(node) else None



def append_values(existing: Any, value: Any, allow_duplicates: bool = True) -> Any:
    """IngestDocument.appendValues: a scalar becomes a list; a list value adds its items."""
    items = value if isinstance(value, list) else [value]
    target = existing if isinstance(existing, list) else [existing]
    if allow_duplicates:
        target.extend(items)
        return target
    added = False
    for item in items:
        if item not in target:
            target.append(item)
            added = True
    return target if added else existing


def append_field(doc: IngestDocument, path: FieldPath, value: Any, allow_duplicates: bool = True) -> None:
    """IngestDocument.appendFieldValue: a missing field becomes a list of the values."""
    if doc.has(path):
        current = doc.get(path)
        updated = append_values(current, value, allow_duplicates)
        if updated is not current:
            doc.set(path, updated)
        return
    items = list(value) if isinstance(value, list) else [value]
    if not allow_duplicates:
        items = [v for k, v in enumerate(items) if v not in items[:k]]
    doc.set(path, items)


def snapshot(doc: IngestDocument) -> dict[str, Any]:
    """The document as simulate prints it (WriteableIngestDocument): metadata fields that are
    set, as strings, then ``_source`` and ``_ingest``."""
    out: dict[str, Any] = {}
    for key in METADATA:
        value = doc.meta.get(key)
        if value is not None:
            out[key] = value if isinstance(value, str | dict | list) else str(value)
    out["_source"] = copy.deepcopy(doc.source)
    ingest = {}
    for key, value in doc.ingest.items():
        ingest[key] = value
    out["_ingest"] = copy.deepcopy(ingest)
    return out
