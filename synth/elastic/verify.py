"""``synth verify``: log files through an ingest pipeline, offline, the way Filebeat ships them.

Each line enters the pipeline as Filebeat's filestream input sends it: ``message`` (the line
without its line ending), ``log.offset`` (the byte offset where the line starts in its file),
``log.file.path`` (the file's absolute path) and ``input.type``; the rest of what Filebeat adds
(``agent``, ``host``, ``ecs``, its read-time ``@timestamp``) plays no part in our pipeline and
is left out. The document starts out aimed at ``smoke_event-<today>``, the index the bundled
filebeat.yml names. Empty lines are skipped, as Filebeat skips them; a last line without its
newline is checked too (Filebeat would wait for the newline before shipping it).

The result of a line is the document Elasticsearch would store: its ``_source`` with
``_index`` (date-math names resolved, as indexing does) and ``_id`` on top.

    >>> from synth.verify import verify_paths
    >>> results = list(verify_paths(["output/access.log"]))
    >>> results[0].document["_index"], results[0].document["source"]
    ('smoke_event-2026.11.21', {'address': '66.249.70.211', 'ip': '66.249.70.211'})
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import re
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from synth.elastic.grok import pattern_banks_from
from synth.elastic.ingest import Failure, IngestDocument, Outcome, Pipeline, resolve_index
from synth.output.manifest import run_files
from synth.resources import resource_dir

PIPELINE_FILE = "smoke_event-access.pipeline.json"
TEMPLATE_FILE = "smoke_event.template.json"
LOG_GLOB = "access.log*"


class VerifyError(ValueError):
    """A path that cannot be read as log files."""


def bundled_pipeline(patterns: str | Path | None = None) -> Pipeline:
    """The smoke_event-access pipeline shipped in filebeat/."""
    return Pipeline.load(resource_dir("filebeat") / PIPELINE_FILE, patterns=patterns)


def run_format(paths: Iterable[str | Path]) -> tuple[str | None, str | None, str | None, str]:
    """(format, log_format, nginx_log_format, zone) that the manifest of the folder in ``paths``
    records, or Nones when no path is a folder with a manifest synth wrote (or folders disagree)."""
    found = set()
    for given in paths:
        manifest = Path(given) / "manifest.json"
        if not manifest.is_file():
            manifest = Path(given).parent / "manifest.json"
            if not manifest.is_file():
                continue
        try:
            scenario = json.loads(manifest.read_text(encoding="utf-8")).get("scenario") or {}
            found.add((scenario.get("format"), scenario.get("log_format"), scenario.get("nginx_log_format"),
                       scenario.get("tz") or "+0000"))
        except (OSError, ValueError, AttributeError):
            continue
    return found.pop() if len(found) == 1 else (None, None, None, "+0000")


def pipeline_for_paths(paths: Iterable[str | Path], patterns: str | Path | None = None) -> Pipeline:
    """The pipeline a run's lines are shipped through, by the format its manifest records:
    smoke_event-json for ecs_json, smoke_event-access for the built-in text formats, and for a
    --log-format the pipeline `synth pipeline --log-format` prints. Without a manifest, the
    bundled smoke_event-access."""
    name, log_format, nginx_log_format, tz = run_format(list(paths))
    if name is None and log_format is None and nginx_log_format is None:
        return bundled_pipeline(patterns)
    return pipeline_of(name, log_format, nginx_log_format, tz, patterns)


def pipeline_of(name: str | None, log_format: str | None, nginx_log_format: str | None, tz: str,
                patterns: str | Path | None = None) -> Pipeline:
    """The pipeline lines of this format are shipped through (``pipeline_for_paths``)."""
    from synth.elastic.pipelines import pipeline_file_for
    file, body = pipeline_file_for(name, log_format, tz, nginx_log_format)
    if file is not None:
        return Pipeline.load(resource_dir("filebeat") / file, patterns=patterns)
    banks = pattern_banks_from(patterns) if patterns is not None else None
    return Pipeline(body, "synth pipeline --log-format", banks=banks)


def log_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files to read: each file as given; a folder gives its ``access.log*`` files in time
    order (as its manifest lists them, else by their names)."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = run_files(path, LOG_GLOB)
            if not found:
                raise VerifyError(f"{path}: no {LOG_GLOB} files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise VerifyError(f"{path}: no such file or folder")
    return files


@dataclass(frozen=True)
class Chunk:
    """Whole lines of one file: bytes [start, end), the first of them line number ``first_line``."""

    path: Path
    start: int
    end: int
    first_line: int


def plan_chunks(files: Iterable[Path], chunk_bytes: int = 1 << 20) -> Iterator[Chunk]:
    """Cut files into chunks of about ``chunk_bytes`` that end on a line end, counting lines."""
    for path in files:
        with open(path, "rb") as fh:
            offset, number = 0, 1
            while True:
                data = fh.read(chunk_bytes)
                if not data:
                    break
                if not data.endswith(b"\n"):
                    data += fh.readline()
                yield Chunk(path, offset, offset + len(data), number)
                offset += len(data)
                number += data.count(b"\n")


def chunk_lines(chunk: Chunk) -> Iterator[tuple[int, int, str]]:
    """(line number, byte offset, text) of every non-empty line of a chunk; a line's ending
    (LF or CRLF) is not part of its text, and bytes that are not UTF-8 become U+FFFD."""
    with open(chunk.path, "rb") as fh:
        fh.seek(chunk.start)
        data = fh.read(chunk.end - chunk.start)
    offset, number = chunk.start, chunk.first_line
    if data.isascii():  # one decode for the chunk: a character is a byte, so offsets are lengths
        for text in data.decode("ascii").split("\n"):
            size = len(text) + 1
            if text.endswith("\r"):
                text = text[:-1]
            if text:
                yield number, offset, text
            offset += size
            number += 1
        return
    for raw in data.split(b"\n"):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if line:
            yield number, offset, line.decode("utf-8", errors="replace")
        offset += len(raw) + 1
        number += 1


@dataclass
class LineResult:
    """What the pipeline made of one line."""

    path: Path
    number: int
    document: dict | None  # _index, _id, then _source; None when Elasticsearch would refuse it
    failure: Failure | None = None
    rejected: bool = False

    @property
    def failed(self) -> bool:
        """The pipeline's own failure handling ran, or the document was refused."""
        return self.failure is not None

    def as_json(self) -> dict:
        if self.document is not None:
            return self.document
        assert self.failure is not None
        return {"_index": None, "_id": None,
                "_rejected": {"processor": self.failure.processor_type, "tag": self.failure.tag,
                              "reason": self.failure.message}}


def target_index(today: dt.date | None = None) -> str:
    """Where the bundled filebeat.yml sends an event before the pipeline routes it."""
    today = today or dt.datetime.now(dt.UTC).date()
    return f"smoke_event-{today:%Y.%m.%d}"


def chunk_outcomes(chunk: Chunk, pipeline: Pipeline, target: str) -> Iterator[tuple[int, Outcome]]:
    """(line number, what the pipeline made of it) for the lines of one chunk, in order."""
    absolute = str(chunk.path.resolve())
    run = pipeline.run_document
    # One _ingest.timestamp per chunk (a few thousand lines, well under a second), as one bulk
    # request of Filebeat's is ingested at about one time.
    now = dt.datetime.now(dt.UTC)
    for number, offset, text in chunk_lines(chunk):
        source = {"message": text, "log": {"offset": offset, "file": {"path": absolute}},
                  "input": {"type": "filestream"}}
        yield number, run(IngestDocument(source, {"_index": target, "_id": None}, now))


def _result(path: Path, number: int, outcome: Outcome, resolved: dict[str | None, str | None]) -> LineResult:
    if outcome.rejected:
        return LineResult(path, number, None, outcome.failure, rejected=True)
    meta = outcome.doc.meta
    index = meta.get("_index")
    if index not in resolved:
        resolved[index] = resolve_index(index)
    document = {"_index": resolved[index], "_id": meta.get("_id"), **outcome.doc.source}
    return LineResult(path, number, document, outcome.failure)


def verify_chunk(chunk: Chunk, pipeline: Pipeline, target: str,
                 resolved: dict[str | None, str | None] | None = None) -> Iterator[LineResult]:
    """The lines of one chunk through ``pipeline``, in order."""
    resolved = {} if resolved is None else resolved
    for number, outcome in chunk_outcomes(chunk, pipeline, target):
        yield _result(chunk.path, number, outcome, resolved)


def verify_paths(paths: Iterable[str | Path], pipeline: Pipeline | None = None,
                 today: dt.date | None = None) -> Iterator[LineResult]:
    """Every non-empty line of ``paths`` through ``pipeline`` (default: the bundled one), in order."""
    pipeline = pipeline or bundled_pipeline()
    target = target_index(today)
    resolved: dict[str | None, str | None] = {}
    for chunk in plan_chunks(log_files(paths)):
        yield from verify_chunk(chunk, pipeline, target, resolved)


_CLOSES = re.compile(r"[\s,.;:)]*$|[\s,.;:)]+[A-Za-z]")


def error_type(message: str) -> str:
    """A failure message with every bracketed value (a field's value, the line itself with any
    brackets and quotes of its own) as ``[...]``: what is left is the kind of error, the same
    for every line it happens to. A value ends at the first ``]`` followed by the message's end
    or by a word of the message; a value that never ends hides the rest."""
    out, i = [], 0
    while i < len(message):
        if message[i] != "[":
            out.append(message[i])
            i += 1
            continue
        j = i + 1
        while j < len(message) and not (message[j] == "]" and _CLOSES.match(message, j + 1)):
            j += 1
        out.append("[...]")
        i = j + 1
    text = "".join(out)
    return text if len(text) <= 160 else text[:157] + "..."


def reason_of(failure: Failure) -> str:
    """A failure as a reason to count: the processor (and its tag) and the kind of error."""
    where = failure.processor_type + (f" (tag {failure.tag})" if failure.tag else "")
    return f"{where}: {error_type(failure.message)}"


@dataclass
class Summary:
    """Counts over a verify run: lines, parsed, failed, and per reason a count and the first line."""

    files: list[Path] = field(default_factory=list)
    lines: int = 0
    failed: int = 0
    rejected: int = 0
    reasons: dict[str, list] = field(default_factory=dict)  # reason -> [count, path, line number]

    def add(self, result: LineResult) -> None:
        self.lines += 1
        if result.failure is not None:
            self.failed += 1
            self.rejected += result.rejected
            reason = reason_of(result.failure)
            entry = self.reasons.setdefault(reason, [0, result.path, result.number])
            entry[0] += 1

    def merge(self, other: Summary) -> None:
        """Add the counts of a later stretch of lines (first lines stay the earliest)."""
        self.lines += other.lines
        self.failed += other.failed
        self.rejected += other.rejected
        for reason, (count, path, number) in other.reasons.items():
            entry = self.reasons.setdefault(reason, [0, path, number])
            entry[0] += count

    @property
    def parsed(self) -> int:
        return self.lines - self.failed

    def report(self, pipeline_id: str, seconds: float) -> list[str]:
        rate = f", {self.lines / seconds:,.0f} lines/s" if seconds >= 0.5 else ""
        files = f"{len(self.files)} file" + ("s" if len(self.files) != 1 else "")
        out = [f"verified {self.lines:,} lines in {files} with pipeline {pipeline_id}: "
               f"{self.parsed:,} parsed, {self.failed:,} failed ({seconds:.1f} s{rate})"]
        if self.rejected:
            out.append(f"{self.rejected:,} of the failed lines would be refused by Elasticsearch "
                       f"(the pipeline has no on_failure for them)")
        for reason, (count, path, number) in sorted(self.reasons.items(), key=lambda kv: -kv[1][0]):
            out.append(f"  {count:,} x {reason}  (first: {path} line {number})")
        return out


# -- in parallel -----------------------------------------------------------------------------------

_WORKER: dict = {}


def _start_worker(pipeline: Pipeline | tuple, target: str) -> None:
    if isinstance(pipeline, tuple):  # in a new process: build it from its body
        body, pipeline_id, banks = pipeline
        pipeline = Pipeline(body, pipeline_id, banks=banks)
    _WORKER.update(pipeline=pipeline, target=target, resolved={})


def _start_pool_worker(pipeline: Pipeline | tuple, target: str) -> None:
    # Ctrl-C reaches the whole process group: the parent answers it (and ends the pool), a
    # worker must not die of it on its own with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _start_worker(pipeline, target)


def _verify_chunk(job: tuple[Chunk, bool]) -> tuple[Summary, str]:
    """One chunk in a worker: its counts, and its documents as JSON lines when asked."""
    chunk, as_json = job
    summary, lines, resolved = Summary(), [], _WORKER["resolved"]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    for number, outcome in chunk_outcomes(chunk, _WORKER["pipeline"], _WORKER["target"]):
        count += 1
        if as_json or outcome.failure is not None:
            result = _result(chunk.path, number, outcome, resolved)
            if outcome.failure is not None:
                summary.add(result)
                summary.lines -= 1  # counted below, with the lines that passed
            if as_json:
                lines.append(dumps(result.as_json()))
    summary.lines += count
    return summary, "".join(line + "\n" for line in lines)


def verify_workers(total_bytes: int) -> int:
    """How many processes ``synth verify`` runs for ``total_bytes`` of logs: one per core, but
    one per 4 MB at most (a small file is done before a second process would have started)."""
    return min(os.cpu_count() or 1, 1 + total_bytes // (4 << 20))


def verify_files(files: list[Path], pipeline: Pipeline, *, as_json: bool = False, workers: int = 1,
                 today: dt.date | None = None,
                 progress: Callable[[int], None] | None = None) -> Iterator[tuple[Summary, str]]:
    """The counts (and JSON lines) of ``files``, chunk by chunk in file order, with ``workers``
    processes each running its own copy of the pipeline. The documents are the same whatever
    the number of workers (bar ``event.ingested``, the time each document was processed).
    ``progress`` is told the bytes of each chunk as its results come."""
    target = target_index(today)
    sizes: deque[int] = deque()  # the bytes of the chunks handed out, in order (imap keeps it)

    def jobs() -> Iterator[tuple[Chunk, bool]]:
        for chunk in plan_chunks(files):
            sizes.append(chunk.end - chunk.start)
            yield chunk, as_json

    def reported(results: Iterator[tuple[Summary, str]]) -> Iterator[tuple[Summary, str]]:
        for result in results:
            done = sizes.popleft()
            if progress is not None:
                progress(done)
            yield result

    _start_worker(pipeline, target)
    if workers <= 1:
        yield from reported(map(_verify_chunk, jobs()))
        return
    fork = "fork" in mp.get_all_start_methods()
    pending = jobs()
    if fork:
        # The first chunk here, before the workers fork: they start with what it warmed (the
        # user-agent rules compiled, the agents and times seen), not each on its own.
        first = next(pending, None)
        if first is None:
            return
        yield from reported(iter([_verify_chunk(first)]))
        pipeline = _WORKER["pipeline"]
    context = mp.get_context("fork" if fork else "spawn")
    # Forked workers share the built pipeline (its compiled patterns and caches); spawned ones
    # build it again from its body.
    built: Pipeline | tuple = pipeline if fork else (pipeline.body, pipeline.id, pipeline.banks)
    with context.Pool(workers, initializer=_start_pool_worker, initargs=(built, target)) as pool:
        yield from reported(pool.imap(_verify_chunk, pending))
