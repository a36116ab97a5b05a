"""``messy.jsonl``: every messy line of a run, its kind, and what the bundled pipeline makes of it.

The generator decides which requests are messy from a hash of each request
(``synth.render.messy.choose``), so the lines are found again by drawing the run's events a
second time (no rendering) and counting lines through the files in the manifest's order.
Each record is one JSON object per line::

    {"file": "access.log", "line": 118, "kind": "tls_handshake", "index": "smoke_event-2026.11.28",
     "parsed": true, "fields": {"http.response.status_code": 400, "source.address": "...", ...}}

and for a line the pipeline cannot read, ``"parsed": false`` and ``"error"``: the message its
``on_failure`` keeps, as ``synth verify --json`` shows it (the index is ``failed-smoke_event``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from synth.generate.model import TrafficModel
from synth.output.names import MESSY
from synth.output.records import FileRecord
from synth.render.messy import KINDS, TRUNCATED, choose

MESSY_FILE = MESSY
# What a record leaves out of a document: what every line has, whatever its kind.
_SKIP = ("event.original", "event.ingested", "log.", "input.", "_id", "user_agent.", "@timestamp", "timestamp",
         "_index", "event.kind")


def flat(doc: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat(value, name + "."))
        else:
            out[name] = value
    return out


def document_fields(doc: dict) -> dict[str, Any]:
    """The fields of a document a messy record shows: what the line's kind changes."""
    return {k: v for k, v in sorted(flat(doc).items())
            if not any(k == s or (s.endswith(".") and k.startswith(s)) for s in _SKIP)}


def messy_lines(model: TrafficModel, t0: int, t1: int, share: float) -> list[tuple[int, str]]:
    """(line index in the run, kind) of every messy line of [t0, t1), in order."""
    found, offset = [], 0
    for events in model.events(t0, t1):
        kinds = choose(events, share)
        for i in np.flatnonzero(kinds >= 0).tolist():
            found.append((offset + i, KINDS[int(kinds[i])].name))
        offset += len(events)
    return found


def cut_last_line(out: Path, record: FileRecord) -> int | None:
    """Cut the file's last line short, as a killed server leaves it; its line number, or None."""
    path = out / record.name
    data = path.read_bytes()
    if not data.endswith(b"\n") or data.count(b"\n") < 2:
        return None
    start = data.rindex(b"\n", 0, len(data) - 1) + 1
    line = data[start:-1]
    kept = data[:start] + line[:max(8, len(line) * 3 // 5)]
    path.write_bytes(kept)
    record.bytes, record.lines = len(kept), kept.count(b"\n")
    record.sha256 = hashlib.sha256(kept).hexdigest()
    return record.lines + 1


def write_messy(out: Path, model: TrafficModel, t0: int, t1: int, share: float, records: list[FileRecord],
                truncate: bool) -> list[dict]:
    """Write messy.jsonl for the run's files (and cut the run's last line short when asked)."""
    from synth.elastic.verify import bundled_pipeline, chunk_lines, plan_chunks, target_index
    wanted: dict[tuple[str, int], str] = {}
    bounds, total = [], 0
    for record in records:
        bounds.append((total, record))
        total += record.lines
    found = messy_lines(model, t0, t1, share)
    k = 0
    for first, record in bounds:
        while k < len(found) and found[k][0] < first + record.lines:
            wanted[(record.name, found[k][0] - first + 1)] = found[k][1]
            k += 1
    if truncate and records:
        number = cut_last_line(out, records[-1])
        if number is not None:
            wanted[(records[-1].name, number)] = TRUNCATED
    pipeline, target = bundled_pipeline(), target_index()
    result = []
    for record in records:
        numbers = {n for (name, n) in wanted if name == record.name}
        if not numbers:
            continue
        path = out / record.name
        for chunk in plan_chunks([path]):
            for number, offset, text in chunk_lines(chunk):
                if number not in numbers:
                    continue
                source = {"message": text, "log": {"offset": offset, "file": {"path": str(path.resolve())}},
                          "input": {"type": "filestream"}}
                outcome = pipeline.run(source, target)
                doc = outcome.doc.source
                entry: dict[str, Any] = {"file": record.name, "line": number, "kind": wanted[(record.name, number)]}
                if outcome.failure is None:
                    entry.update(parsed=True, fields=document_fields(doc))
                else:
                    entry.update(parsed=False, error=flat(doc).get("error.message"))
                result.append(entry)
    with open(out / MESSY_FILE, "w", encoding="utf-8") as fh:
        for entry in result:
            fh.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
    return result


__all__ = ["MESSY_FILE", "document_fields", "write_messy"]
