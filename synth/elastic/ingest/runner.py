"""Running a list of processors over a document as CompoundProcessor does, and the verbose
trace that ``_simulate?verbose=true`` prints (TrackingResultProcessor).

A failed processor: with ``ignore_failure`` it is skipped; with its own ``on_failure`` the
handlers run with ``_ingest.on_failure_*`` describing the failure and the list goes on;
otherwise the failure leaves the list (:class:`Failed`), for the pipeline's ``on_failure`` or
the caller. A false ``if`` skips the processor; an ``if`` that throws fails the list itself,
outside the processor's own handling (ConditionalProcessor wraps the processor and its
handlers)."""

from __future__ import annotations

from typing import Any

from synth.elastic.ingest.config import Dropped, Processor
from synth.elastic.ingest.document import IngestDocument, snapshot
from synth.elastic.ingest.errors import Failure, ProcessorError
from synth.elastic.ingest.painless import ConditionError

_FAILURE_KEYS = ("on_failure_message", "on_failure_processor_type", "on_failure_processor_tag", "on_failure_pipeline")


class Failed(Exception):  # noqa: N818 (carries a Failure out of a list of processors)
    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure


def entry(processor: Processor, status: str, doc: IngestDocument | None = None, failure: Failure | None = None,
          condition: bool | None = None) -> dict[str, Any]:
    """One processor_results item (SimulateProcessorResult.toXContent): type, status,
    description, tag, the condition and its result, the error, the document after it."""
    out: dict[str, Any] = {"processor_type": processor.kind, "status": status}
    if processor.description is not None:
        out["description"] = processor.description
    if processor.tag is not None:
        out["tag"] = processor.tag
    if condition is not None:
        out["if"] = {"condition": processor.condition_text, "result": condition}
    if failure is not None:
        if doc is not None:
            out["ignored_error"] = {"error": failure.as_json()}
        else:
            out["error"] = failure.as_json()
    if doc is not None:
        out["doc"] = snapshot(doc)
    return out


def with_failure_metadata(doc: IngestDocument, failure: Failure, handlers: list[Processor], pipeline: str) -> None:
    """Run ``handlers`` with the failure described in ``_ingest``; the description goes after."""
    ingest = doc.ingest
    saved = {k: ingest.get(k) for k in _FAILURE_KEYS}
    ingest.update(on_failure_message=failure.message, on_failure_processor_type=failure.processor_type,
                  on_failure_processor_tag=failure.tag, on_failure_pipeline=failure.pipeline)
    try:
        run(handlers, doc, pipeline)
    finally:
        for key, value in saved.items():
            if value is None:
                ingest.pop(key, None)
            else:
                ingest[key] = value


def run(processors: list[Processor], doc: IngestDocument, pipeline: str) -> None:
    """``processors`` over ``doc``; raises :class:`Failed` or :class:`Dropped`."""
    if doc.trace is not None:
        run_traced(processors, doc, pipeline)
        return
    # Untraced (every document of ``synth verify``): the same steps as run_traced without the
    # trace, and no Failure built for a failure that ignore_failure drops anyway.
    for processor in processors:
        condition = processor.condition
        if condition is not None:
            try:
                if not condition(doc.ctx()):
                    continue
            except ConditionError:
                raise Failed(Failure(processor.kind, processor.tag, "runtime error", pipeline,
                                     "script_exception")) from None
        try:
            processor.execute(doc)
            continue
        except ProcessorError as e:
            if processor.ignore_failure:
                continue
            failure = Failure(processor.kind, processor.tag, str(e), pipeline, e.es_type)
        except Failed as e:  # from a pipeline the processor called
            if processor.ignore_failure:
                continue
            failure = e.failure
        if not processor.on_failure:
            raise Failed(failure)
        with_failure_metadata(doc, failure, processor.on_failure, pipeline)


def run_traced(processors: list[Processor], doc: IngestDocument, pipeline: str) -> None:
    """``run`` for verbose simulate: every processor run leaves an entry in ``doc.trace``."""
    for processor in processors:
        trace = doc.trace
        condition = None
        if processor.condition is not None:
            try:
                condition = processor.condition(doc.ctx())
            except ConditionError:
                failure = Failure(processor.kind, processor.tag, "runtime error", pipeline, "script_exception")
                if trace is not None:
                    trace.append(entry(processor, "error", failure=failure))
                raise Failed(failure) from None
            if not condition:
                if trace is not None:
                    trace.append(entry(processor, "skipped", condition=False))
                continue
        try:
            processor.execute(doc)
        except ProcessorError as e:
            failure = Failure(processor.kind, processor.tag, str(e), pipeline, e.es_type)
            if trace is not None:
                ignored = processor.ignore_failure
                trace.append(entry(processor, "error_ignored" if ignored else "error", doc if ignored else None,
                                   failure, condition))
        except Failed as e:  # from a pipeline the processor called: its own failure, traced there
            failure = e.failure
        except Dropped:
            if trace is not None:
                trace.append(entry(processor, "dropped", condition=condition))
            raise
        else:
            if trace is not None and processor.kind != "pipeline":
                trace.append(entry(processor, "success", doc, condition=condition))
            continue
        if processor.ignore_failure:
            continue
        if not processor.on_failure:
            raise Failed(failure)
        with_failure_metadata(doc, failure, processor.on_failure, pipeline)
