"""``messy.jsonl``: every messy line of a run, its kind, and what the bundled pipeline makes of it.

The generator decides which requests are messy from a hash of each request
(``synth.render.messy.choose``), so the lines are found again by drawing the run's events a
second time (no rendering) and counting lines through the files in the manifest's order. A
stream writes the file as it goes instead (``LiveMessy``), from the lines it has just written.
Each record is one JSON object per line::

    {"file": "access.log", "line": 118, "kind": "tls_handshake", "index": "smoke_event-2026.11.28",
     "parsed": true, "fields": {"http.response.status_code": 400, "source.address": "...", ...}}

and for a line the pipeline cannot read, ``"parsed": false`` and ``"error"``: the message its
``on_failure`` keeps, as ``synth verify --json`` shows it (the index is ``failed-smoke_event``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from synth.generate.model import TrafficModel
from synth.generate.scenario import Scenario
from synth.generate.traffic import Events
from synth.output.live import Placed
from synth.output.names import MESSY
from synth.output.records import FileRecord, WriteError
from synth.output.writers import line_ends, write_whole
from synth.render.messy import KIND_NAMES, TRUNCATED, choose, nginx_scenario

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
    nginx = nginx_scenario(model.scenario.format, model.scenario.nginx_log_format)
    for events in model.events(t0, t1):
        kinds = choose(events, share, nginx)
        for i in np.flatnonzero(kinds >= 0).tolist():
            found.append((offset + i, KIND_NAMES[int(kinds[i])]))
        offset += len(events)
    return found


def cut_last_line(out: Path, record: FileRecord) -> int | None:
    """Cut the file's last line short, as a killed server leaves it; its line number, or None.
    The file is cut in place (only its end is read before the cut; it is read once more for its
    hash)."""
    path = out / record.name
    with open(path, "r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        window = 1 << 16
        while True:
            fh.seek(max(0, size - window))
            tail = fh.read()
            if not tail.endswith(b"\n"):
                return None
            before = tail.rfind(b"\n", 0, len(tail) - 1)
            if before >= 0:
                break
            if window >= size:
                return None  # one line only
            window *= 4
        start = size - len(tail) + before + 1
        line = tail[before + 1:-1]
        fh.truncate(start + max(8, len(line) * 3 // 5))
        fh.seek(0)
        digest = hashlib.sha256()
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
        record.bytes = fh.tell()
    record.lines -= 1
    record.sha256 = digest.hexdigest()
    return record.lines + 1


def _wanted(model: TrafficModel, t0: int, t1: int, share: float,
            records: list[FileRecord]) -> dict[tuple[str, int], str]:
    """(file name, line number) -> kind of every messy line of [t0, t1), written to ``records``."""
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
    return wanted


class Judge:
    """What the run's pipeline makes of one messy line: its messy.jsonl record. The pipeline is
    the one ``synth verify`` ships the run's lines through (``pipeline_of``): the bundled
    smoke_event-access for the built-in text formats (nginx_combined among them), and for a
    ``--log-format`` or ``--nginx-log-format`` the pipeline ``synth pipeline`` prints for it."""

    def __init__(self, scenario: Scenario) -> None:
        from synth.elastic.verify import pipeline_of, target_index
        self.pipeline = _without_agent_details(
            pipeline_of(scenario.format, scenario.log_format, scenario.nginx_log_format, scenario.tz))
        self.target = target_index()
        self._paths: dict[Path, str] = {}

    def entry(self, path: Path, name: str, number: int, offset: int, text: str, kind: str) -> dict[str, Any]:
        if path not in self._paths:
            self._paths[path] = str(path.resolve())
        source = {"message": text, "log": {"offset": offset, "file": {"path": self._paths[path]}},
                  "input": {"type": "filestream"}}
        outcome = self.pipeline.run(source, self.target)
        doc = outcome.doc.source
        entry: dict[str, Any] = {"file": name, "line": number, "kind": kind}
        if outcome.failure is None:
            entry.update(parsed=True, fields=document_fields(doc))
        else:
            entry.update(parsed=False, error=flat(doc).get("error.message"))
        return entry


def _without_agent_details(pipeline: Any) -> Any:
    """The pipeline without its user_agent processors on ``user_agent.original`` with
    ``ignore_missing``: a record leaves out every ``user_agent.*`` field (``_SKIP``), and such a
    processor cannot fail on a grok capture, a string. (Elasticsearch's UserAgentProcessor.execute
    fails only on a missing or null field without ignore_missing, or a value that is not a string:
    ``ingestDocument.getFieldValue(field, String.class, ignoreMissing)``.) Parsing an agent is
    most of what the pipeline costs a line."""
    from synth.elastic.ingest import Pipeline

    def idle(processor: dict) -> bool:
        options = processor.get("user_agent")
        return (len(processor) == 1 and isinstance(options, dict) and options.get("field") == "user_agent.original"
                and options.get("ignore_missing") is True and options.get("target_field", "user_agent") == "user_agent"
                and set(options) <= {"tag", "field", "ignore_missing", "target_field", "description"})

    body = dict(pipeline.body)
    kept = [p for p in body.get("processors", []) if not idle(p)]
    if len(kept) == len(body.get("processors", [])):
        return pipeline
    body["processors"] = kept
    return Pipeline(body, pipeline.id, banks=pipeline.banks)


def _entries(out: Path, records: list[FileRecord], wanted: dict[tuple[str, int], str], judge: Judge) -> list[dict]:
    """The records of the ``wanted`` lines, read from the files, in the files' order: each line
    as ``synth verify`` reads it (``chunk_lines``: without its LF or CRLF, bytes that are not
    UTF-8 as U+FFFD, empty lines skipped), found by the file's line ends."""
    import mmap
    result = []
    for record in records:
        numbers = sorted(n for (name, n) in wanted if name == record.name)
        if not numbers:
            continue
        path = out / record.name
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                continue
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
                for number in numbers:
                    start = int(ends[number - 2]) + 1 if number > 1 else 0
                    end = int(ends[number - 1]) if number <= len(ends) else len(data)
                    if start >= len(data):
                        continue
                    raw = data[start:end]
                    raw = raw[:-1] if raw.endswith(b"\r") else raw
                    if raw:
                        result.append(judge.entry(path, record.name, number, start, raw.decode("utf-8", errors="replace"),
                                                  wanted[(record.name, number)]))
                del ends
    return result


def _dumps(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_messy(out: Path, model: TrafficModel, t0: int, t1: int, share: float, records: list[FileRecord],
                truncate: bool) -> list[dict]:
    """Write messy.jsonl for the run's files (and, in an Apache format, cut the run's last line
    short when asked: nginx writes every line whole, its truncated lines are requests cut short)."""
    wanted = _wanted(model, t0, t1, share, records)
    if truncate and records and not nginx_scenario(model.scenario.format, model.scenario.nginx_log_format):
        number = cut_last_line(out, records[-1])
        if number is not None:
            wanted[(records[-1].name, number)] = TRUNCATED
    result = _entries(out, records, wanted, Judge(model.scenario))
    with open(out / MESSY_FILE, "w", encoding="utf-8") as fh:
        for entry in result:
            fh.write(_dumps(entry))
    return result


class LiveMessy:
    """``messy.jsonl`` of a stream, written as the lines are.

    Each batch's records are appended in one write of whole lines, after the batch's lines are
    in the log, so a reader never finds a record whose line is not written yet, nor half a
    record. A record names its file by the name the file has when the record is written; when a
    rotation renames files (``access.log`` to ``access.log-YYYYMMDD`` or ``access.log.1``, and by
    size every older file up a number), the file is replaced whole (a temporary file, then a
    rename, as ``manifest.json`` is) with the new names, right after the renames and before the
    new ``access.log`` has a line. So a record's ``(file, line)`` is never another line: at worst,
    for the moment of a rotation, a name that has just moved; at the end the names are the
    files' final ones, those of ``manifest.json``. A stream never cuts its last line short: it stops
    between lines, so an Apache format has no ``truncated`` record (an nginx one has its requests
    cut short, as any other kind).
    """

    def __init__(self, out: Path, share: float, scenario: Scenario):
        self.out, self.share, self.judge = out, share, Judge(scenario)
        self.nginx = nginx_scenario(scenario.format, scenario.nginx_log_format)
        self.path = out / MESSY_FILE
        self.lines = 0
        self.files: Callable[[], list[FileRecord]] = list  # the log's files, for a WriteError
        self.fd = self._open(os.O_TRUNC)

    def _open(self, mode: int) -> int:
        try:
            return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | mode, 0o644)
        except OSError as e:
            raise WriteError.of(self.path, e, self.files()) from None

    def _append(self, entries: list[dict]) -> None:
        if not entries:
            return
        data = "".join(_dumps(e) for e in entries).encode("utf-8", errors="surrogateescape")
        try:
            write_whole(self.fd, data, os.fstat(self.fd).st_size)
        except OSError as e:
            raise WriteError.of(self.path, e, self.files()) from None
        self.lines += len(entries)

    def backfill(self, model: TrafficModel, t0: int, t1: int, records: list[FileRecord]) -> None:
        """The records of the backfill's lines, [t0, t1), in ``records`` (written by workers)."""
        self._append(_entries(self.out, records, _wanted(model, t0, t1, self.share, records), self.judge))

    def written(self, events: Events, data: bytes, placed: list[Placed]) -> None:
        """``events``' lines, ``data``, went where ``placed`` says."""
        kinds = choose(events, self.share, self.nginx)
        messy = np.flatnonzero(kinds >= 0).tolist()
        if not messy:
            return
        ends = line_ends(data).tolist()
        entries, p = [], 0
        for i in messy:
            while placed[p].stop <= i:
                p += 1
            part = placed[p]
            base = ends[part.done - 1] if part.done else 0
            start = ends[i - 1] if i else 0
            raw = data[start:ends[i] - 1]
            text = (raw[:-1] if raw.endswith(b"\r") else raw).decode("utf-8", errors="replace")
            name = part.record.name
            entries.append(self.judge.entry(self.out / name, name, part.first + i - part.done,
                                            part.offset + start - base, text, KIND_NAMES[int(kinds[i])]))
        self._append(entries)

    def renamed(self, moved: dict[str, str]) -> None:
        """A rotation renamed files (old name -> new): give the records the new names."""
        if not moved or self.lines == 0:
            return
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            with open(self.path, encoding="utf-8", errors="surrogateescape") as src, \
                    open(tmp, "w", encoding="utf-8", errors="surrogateescape") as dst:
                for line in src:
                    entry = json.loads(line)
                    entry["file"] = moved.get(entry["file"], entry["file"])
                    dst.write(_dumps(entry))
            os.replace(tmp, self.path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise WriteError.of(self.path, e, self.files()) from None
        os.close(self.fd)
        self.fd = self._open(0)

    def close(self) -> None:
        os.close(self.fd)


__all__ = ["MESSY_FILE", "LiveMessy", "document_fields", "write_messy"]
