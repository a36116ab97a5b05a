"""``POST _ingest/pipeline/_simulate``, offline: the same request body pieces, the same answer.

    >>> simulate({"processors": [{"uppercase": {"field": "foo"}}]},
    ...          [{"_index": "index", "_id": "id", "_source": {"foo": "bar"}}])["docs"][0]["doc"]["_source"]
    {'foo': 'BAR'}

The answer is ``{"docs": [...]}`` with, per document, ``{"doc": {"_index", "_id", "_version",
"_source", "_ingest": {"timestamp"}}}``, or
``{"error": {"root_cause", "type", "reason"}}`` when no handler caught a failure, ``null``
where a drop processor ran; with
``verbose`` each document is ``{"processor_results": [...]}``, one entry per processor run
(handlers and the processors of called pipelines included) with its ``processor_type``,
``status`` (``success``, ``error``, ``error_ignored``, ``skipped``, ``dropped``), ``tag``,
``description``, ``if``, ``error`` or ``ignored_error``, and the document after it. A pipeline
Elasticsearch would refuse raises :class:`PipelineError`, whose ``as_json()`` is the HTTP 400
body and whose ``reason`` is Elasticsearch's message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from synth.elastic.ingest.config import Context
from synth.elastic.ingest.document import IngestDocument, snapshot
from synth.elastic.ingest.errors import PipelineError
from synth.elastic.ingest.pipeline import Pipeline

SIMULATE_ID = "_simulate_pipeline"  # the id Elasticsearch gives an inline pipeline
MATCH_ANY = "-3"  # Versions.MATCH_ANY: the _version of a document that names none


def _json(value: Any) -> Any:
    """The answer as JSON would carry it: times as XContent prints a ZonedDateTime."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dt.datetime):
        when = value.astimezone(dt.UTC)
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return value


def _document(given: Any, k: int, timestamp: dt.datetime | None) -> IngestDocument:
    """SimulatePipelineRequest.parseDocs: ``_source`` required, ``_index``/``_id`` default to
    their own names."""
    if not isinstance(given, Mapping):
        raise PipelineError(f"docs[{k}]: a document is an object with [_source]")
    if "_source" not in given:
        raise PipelineError("[_source] required property is missing", f"docs[{k}]", property_name="_source")
    source = given["_source"]
    if not isinstance(source, dict):
        raise PipelineError("[_source] property isn't a map", f"docs[{k}]", property_name="_source")
    meta: dict[str, Any] = {"_index": str(given.get("_index", "_index")), "_id": str(given.get("_id", "_id")),
                            "_version": str(given.get("_version", MATCH_ANY))}
    for key in ("_routing", "_version_type", "_if_seq_no", "_if_primary_term"):
        if key in given:
            meta[key] = str(given[key])
    import copy
    return IngestDocument(copy.deepcopy(source), meta, timestamp)


def simulate(pipeline: Any, docs: Iterable[Any], other_pipelines: Mapping[str, Any] | None = None,
             verbose: bool = False, *, pipeline_id: str = SIMULATE_ID,
             index_settings: Mapping[str, Mapping[str, Any]] | None = None,
             timestamp: dt.datetime | None = None, banks: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """What ``POST _ingest/pipeline/_simulate`` answers for ``pipeline`` (a body) over ``docs``
    (``{"_index", "_id", "_source"}``); ``other_pipelines`` are the stored pipelines by id that
    ``pipeline`` processors call. ``index_settings`` (index -> ``{"final_pipeline": id}``) runs
    a document's final pipeline after it, on the index it ends up in, as indexing does.
    Raises PipelineError where Elasticsearch refuses a pipeline (HTTP 400)."""
    context = Context(banks, bodies=dict(other_pipelines or {}))
    for name in context.bodies:
        try:
            context.pipeline(name)
        except PipelineError as e:
            raise e.located(f"other_pipelines[{name}]", ".") from None
    main = pipeline if isinstance(pipeline, Pipeline) else Pipeline(pipeline, pipeline_id, context=context)
    documents = [_document(given, k, timestamp) for k, given in enumerate(docs)]
    results: list[dict[str, Any] | None] = []
    for doc in documents:
        if verbose:
            doc.trace = []
        outcome = main.run_document(doc)
        if not (outcome.rejected or outcome.dropped) and index_settings:
            outcome = _final_pipeline(outcome, doc, index_settings, context)
        if verbose:
            results.append({"processor_results": _json(doc.trace)})
        elif outcome.dropped:
            results.append(None)  # SimulateDocumentBaseResult: neither a document nor a failure
        elif outcome.rejected:
            assert outcome.failure is not None
            results.append({"error": outcome.failure.as_json()})
        else:
            results.append({"doc": _json(snapshot(doc))})
    return {"docs": results}


def _final_pipeline(outcome: Any, doc: IngestDocument, settings: Mapping[str, Mapping[str, Any]],
                    context: Context) -> Any:
    index = doc.meta.get("_index")
    final = (settings.get(str(index)) or {}).get("final_pipeline")
    if final is None:
        return outcome
    pipeline = context.pipeline(final)
    if pipeline is None:
        raise PipelineError(f"final pipeline [{final}] does not exist")
    return pipeline.run_document(doc)
