"""Processors that steer the document: ``fail``, ``drop``, ``foreach`` and ``pipeline``."""

from __future__ import annotations

from typing import Any

from synth.elastic.ingest.config import Context, Dropped, Options, Processor, build_processor, register
from synth.elastic.ingest.document import IngestDocument, field_path
from synth.elastic.ingest.errors import PipelineError, ProcessorError
from synth.elastic.ingest.mustache import Template
from synth.elastic.ingest.values import java_type

CYCLE = "Cycle detected for pipeline: "


@register
class FailProcessor(Processor):
    kind = "fail"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.message = Template(options.string("message"), "application/json", options.where)

    def execute(self, doc: IngestDocument) -> None:
        raise ProcessorError(self.message.render(doc), "fail_processor_exception")


@register
class DropProcessor(Processor):
    kind = "drop"

    def execute(self, doc: IngestDocument) -> None:
        raise Dropped


@register
class ForEachProcessor(Processor):
    """ForEachProcessor: one processor over each item of a list (``_ingest._value``) or each
    entry of an object (``_ingest._key`` and ``_ingest._value``); the results replace the field."""

    kind = "foreach"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        self.ignore_missing = options.boolean("ignore_missing", False)
        config = options.mapping("processor")
        if len(config) != 1:
            raise options.error("processor", "Must specify exactly one processor type")
        (kind, inner), = config.items()
        try:
            self.processor = build_processor(kind, inner, context, f"{options.path}.processor")
        except PipelineError:
            raise

    def execute(self, doc: IngestDocument) -> None:
        from synth.elastic.ingest import runner
        value = doc.get(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot loop over its elements.")
        if not isinstance(value, list | dict):
            raise ProcessorError(f"field [{self.field.text}] of type [{java_type(value)}] cannot be cast to a list "
                                 f"or map")
        ingest, trace = doc.ingest, doc.trace
        previous_key, previous_value = ingest.get("_key"), ingest.get("_value")
        doc.trace = None
        try:
            if isinstance(value, list):
                items: Any = []
                for item in value:
                    ingest["_value"] = item
                    runner.run([self.processor], doc, doc.ingest.get("pipeline", ""))
                    items.append(ingest.get("_value"))
            else:
                items = {}
                for key, item in list(value.items()):
                    ingest["_key"], ingest["_value"] = key, item
                    runner.run([self.processor], doc, doc.ingest.get("pipeline", ""))
                    new_key = ingest.get("_key")
                    if new_key is not None:
                        items[new_key] = ingest.get("_value")
        except runner.Failed as e:
            raise ProcessorError(e.failure.message, e.failure.es_type) from None
        finally:
            doc.trace = trace
            for key, old in (("_key", previous_key), ("_value", previous_value)):
                if old is None:
                    ingest.pop(key, None)
                else:
                    ingest[key] = old
        doc.set(self.field, items)


@register
class PipelineProcessor(Processor):
    """PipelineProcessor: run another pipeline (``name``, a template) on the document."""

    kind = "pipeline"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.name = Template(options.string("name"), "application/json", options.where)
        self.ignore_missing_pipeline = options.boolean("ignore_missing_pipeline", False)
        self.context = context

    def execute(self, doc: IngestDocument) -> None:
        from synth.elastic.ingest import runner
        name = self.name.render(doc)
        pipeline = self.context.pipeline(name)
        if pipeline is None:
            if self.ignore_missing_pipeline:
                return
            # TrackingResultProcessor (verbose) throws IllegalArgumentException, PipelineProcessor
            # itself IllegalStateException, with the same words.
            raise ProcessorError(f"Pipeline processor configured for non-existent pipeline [{name}]",
                                 "illegal_argument_exception" if doc.trace is not None else "illegal_state_exception")
        if name in doc.running:
            raise ProcessorError(CYCLE + name, "illegal_state_exception")
        if doc.trace is not None:
            # Verbose: a dry run on a copy first, so that a cycle further down is this
            # processor's one error entry, as TrackingResultProcessor reports it.
            try:
                pipeline.execute(doc.copy())
            except runner.Failed as e:
                if e.failure.message.startswith(CYCLE):
                    raise ProcessorError(e.failure.message, "illegal_state_exception") from None
            except Exception:  # noqa: BLE001 (only cycles count in the dry run)
                pass
            doc.trace.append(runner.entry(self, "success"))
        pipeline.execute(doc)
