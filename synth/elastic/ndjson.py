"""Filebeat's ndjson parser, offline: the events filebeat-ndjson.yml would send, for ``synth
verify``-style checks of the documents they become.

Each line is decoded as Filebeat's filestream ``ndjson`` parser does with the options the
config gives: with ``target: ""`` the JSON object's keys go to the event's root; a key Filebeat
sets itself (``@timestamp``, its read time; ``log``; ``input``) is replaced by the JSON's only
with ``overwrite_keys: true``, else the JSON's is dropped; a line that is not a JSON object
keeps its text in ``message`` and, with ``add_error_key: true``, gets ``error.message`` and
``error.type: json`` (Filebeat docs, filestream input, "ndjson" parser).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth.elastic.filebeat import NDJSON_CONFIG_FILE, read_config
from synth.elastic.ingest import Pipeline, resolve_index
from synth.elastic.verify import LineResult, chunk_lines, log_files, plan_chunks, target_index


@dataclass(frozen=True)
class NdjsonOptions:
    target: str | None = None
    overwrite_keys: bool = False
    add_error_key: bool = False

    @classmethod
    def from_config(cls, config: dict) -> NdjsonOptions:
        (inp,) = config["filebeat.inputs"]
        for parser in inp.get("parsers") or []:
            if "ndjson" in parser:
                given = parser["ndjson"] or {}
                return cls(given.get("target"), bool(given.get("overwrite_keys", False)),
                           bool(given.get("add_error_key", False)))
        raise ValueError("the input has no ndjson parser")


def bundled_options() -> NdjsonOptions:
    return NdjsonOptions.from_config(read_config(NDJSON_CONFIG_FILE))


def filebeat_event(text: str, offset: int, path: str, options: NdjsonOptions, read_time: dt.datetime) -> dict:
    """The event Filebeat sends for one line under ``options``."""
    event: dict[str, Any] = {"@timestamp": read_time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                             "log": {"offset": offset, "file": {"path": path}}, "input": {"type": "filestream"}}
    try:
        decoded = json.loads(text)
        if not isinstance(decoded, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        event["message"] = text
        if options.add_error_key:
            event["error"] = {"message": f"Error decoding JSON: {e}", "type": "json"}
        return event
    if options.target:  # under a key of its own
        event[options.target] = decoded
        return event
    for key, value in decoded.items():
        if key not in event or options.overwrite_keys:
            event[key] = value
    return event


def verify_ndjson(paths: Iterable[str | Path], pipeline: Pipeline, options: NdjsonOptions | None = None,
                  read_time: dt.datetime | None = None) -> Iterator[LineResult]:
    """Every non-empty line of ``paths`` as filebeat-ndjson.yml ships it, through ``pipeline``."""
    options = options or bundled_options()
    read_time = read_time or dt.datetime.now(dt.UTC)
    target = target_index(read_time.date())
    for chunk in plan_chunks(log_files(paths)):
        absolute = str(chunk.path.resolve())
        for number, offset, text in chunk_lines(chunk):
            outcome = pipeline.run(filebeat_event(text, offset, absolute, options, read_time), target)
            if outcome.rejected:
                yield LineResult(chunk.path, number, None, outcome.failure, rejected=True)
                continue
            meta = outcome.doc.meta
            yield LineResult(chunk.path, number, {"_index": resolve_index(meta.get("_index")), "_id": meta.get("_id"),
                                                  **outcome.doc.source}, outcome.failure)
