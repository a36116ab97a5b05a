"""A pipeline, built once from its JSON body (``PUT _ingest/pipeline/<id>``), and run over
documents as IngestService runs it: ``_ingest.pipeline`` names the pipeline while it runs, a
pipeline already running for the document is a cycle, a failure no processor handles runs the
pipeline's ``on_failure`` and stops there (the document is still indexed), and with no handler
at all the document is refused. Also where a document lands (date-math index names)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth.elastic import javatime
from synth.elastic.grok import GrokError, pattern_banks_from
from synth.elastic.ingest import processors as _processors  # noqa: F401 (registers every processor type)
from synth.elastic.ingest import runner
from synth.elastic.ingest.config import Context, Dropped, build_processors
from synth.elastic.ingest.document import IngestDocument
from synth.elastic.ingest.errors import Failure, PipelineError
from synth.elastic.ingest.processors.convert import ConvertProcessor
from synth.elastic.ingest.processors.dates import DateProcessor
from synth.elastic.ingest.processors.fields import RenameProcessor, SetProcessor
from synth.elastic.ingest.processors.network import UserAgentProcessor
from synth.elastic.ingest.processors.parse import GrokProcessor

UTC = dt.UTC
PIPELINE_KEYS = ("description", "processors", "on_failure", "version", "_meta", "deprecated",
                 "field_access_pattern", "created_date", "modified_date", "created_date_millis",
                 "modified_date_millis")


@dataclass
class Outcome:
    """What a pipeline did to one document."""

    doc: IngestDocument
    failure: Failure | None = None  # handled by the pipeline's on_failure, or the reason it was refused
    rejected: bool = False  # no handler: Elasticsearch refuses the document
    dropped: bool = False  # a drop processor ran: nothing is indexed


class Pipeline:
    """A pipeline body, built once; ``run`` takes a source and returns what ingest makes of it."""

    def __init__(self, body: Any, pipeline_id: str = "pipeline", *, banks: dict[str, dict[str, str]] | None = None,
                 context: Context | None = None):
        if not isinstance(body, dict):
            raise PipelineError("a pipeline is a JSON object with a [processors] list")
        if "processors" not in body and len(body) == 1 and isinstance(next(iter(body.values())), dict):
            # GET _ingest/pipeline/<id> answers {"<id>": {...}}
            (pipeline_id, body), = body.items()
        body = dict(body)
        self.body, self.banks = copy.deepcopy(body), banks  # enough to build it again elsewhere
        unknown = [k for k in body if k not in PIPELINE_KEYS]
        if unknown:
            raise PipelineError(f"pipeline [{pipeline_id}] doesn't support one or more provided configuration "
                                f"parameters [{', '.join(unknown)}]")
        if "processors" not in body:
            raise PipelineError("[processors] required property is missing", property_name="processors")
        self.id = pipeline_id
        self.description = body.get("description")
        self.context = context if context is not None else Context(banks)
        self.processors = build_processors(body["processors"], self.context, "processors")
        handlers = body.get("on_failure")
        if handlers is not None and not handlers:
            raise PipelineError(f"pipeline [{pipeline_id}] cannot have an empty on_failure option defined")
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
            raise e.located(str(path)) from None

    def execute(self, doc: IngestDocument, handled: list[Failure] | None = None) -> None:
        """IngestDocument.executePipeline: run on ``doc``; raises runner.Failed (nothing handled
        the failure) or Dropped. A failure the pipeline's on_failure handled goes in ``handled``."""
        running, ingest = doc.running, doc.ingest
        running.append(self.id)
        previous = ingest.get("pipeline")
        ingest["pipeline"] = self.id
        try:
            try:
                runner.run(self.processors, doc, self.id)
            except runner.Failed as failed:
                if not self.on_failure:
                    raise
                if handled is not None:
                    handled.append(failed.failure)
                runner.with_failure_metadata(doc, failed.failure, self.on_failure, self.id)
        finally:
            running.pop()
            if previous is None:
                ingest.pop("pipeline", None)
            else:
                ingest["pipeline"] = previous

    def run(self, source: dict, index: str | None = None, doc_id: str | None = None,
            timestamp: dt.datetime | None = None, *, meta: dict | None = None) -> Outcome:
        doc = IngestDocument(source, meta if meta is not None else {"_index": index, "_id": doc_id}, timestamp)
        return self.run_document(doc)

    def run_document(self, doc: IngestDocument) -> Outcome:
        # The failure a pipeline's on_failure handled is reported too (verify counts it).
        handled: list[Failure] = []
        try:
            self.execute(doc, handled)
        except runner.Failed as failed:
            return Outcome(doc, failed.failure, rejected=True)
        except Dropped:
            return Outcome(doc, dropped=True)
        return Outcome(doc, handled[0] if handled else None)

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
