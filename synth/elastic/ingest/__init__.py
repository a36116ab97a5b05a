"""The offline ingest engine: Elasticsearch ingest pipelines run over documents with
Elasticsearch's semantics, so a pipeline can be checked without a cluster.

    values      Java's view of values (class names in messages, String.valueOf)
    document    IngestDocument: source, metadata, _ingest, dotted paths
    mustache    templates in option values and field names
    painless    the ``if`` conditions (a tokenizer and a recursive-descent parser)
    config      reading options as ConfigurationUtils does; the Processor base; the registry
    processors  the processor types, a family per module
    runner      CompoundProcessor: ignore_failure, on_failure, conditions, the verbose trace
    pipeline    Pipeline: build once, run per document; where a document lands
    simulate    the ``_simulate`` API

It reads only JSON bodies and documents; it imports nothing of the generator.
"""

from synth.elastic.ingest.config import REGISTRY
from synth.elastic.ingest.document import IngestDocument
from synth.elastic.ingest.errors import Failure, PipelineError, ProcessorError
from synth.elastic.ingest.painless import compile_condition
from synth.elastic.ingest.pipeline import Outcome, Pipeline, resolve_index
from synth.elastic.ingest.simulate import simulate
from synth.elastic.ingest.values import is_ip, java_text, java_type


def supported_processors() -> list[str]:
    """The processor types the engine runs, sorted."""
    return sorted(REGISTRY)


__all__ = ["Pipeline", "PipelineError", "ProcessorError", "Failure", "Outcome", "IngestDocument", "resolve_index",
           "is_ip", "java_text", "java_type", "simulate", "compile_condition", "supported_processors"]
