"""The two kinds of failure: a pipeline Elasticsearch would refuse at ``PUT``, and a processor
failing on one document. Both carry Elasticsearch's exception type and reason, so that
``simulate`` can answer in Elasticsearch's words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class PipelineError(ValueError):
    """A pipeline that cannot be loaded (``PUT _ingest/pipeline`` answers 400).

    ``reason`` is Elasticsearch's message (``[field] required property is missing``); ``str()``
    puts where it is in front (``processors[0] (set): ...``) for a person reading one line.
    """

    def __init__(self, reason: str, where: str = "", *, processor_type: str | None = None,
                 tag: str | None = None, property_name: str | None = None, es_type: str = "parse_exception"):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason, self.where = reason, where
        self.processor_type, self.tag, self.property_name, self.es_type = processor_type, tag, property_name, es_type

    def located(self, where: str, separator: str = ": ") -> PipelineError:
        """The same error with a location (a file, ``other_pipelines[x]``) in front of its own."""
        inner = f"{where}{separator}{self.where}" if self.where else where
        return PipelineError(self.reason, inner, processor_type=self.processor_type,
                             tag=self.tag, property_name=self.property_name, es_type=self.es_type)

    def cause(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.es_type, "reason": self.reason}
        # ConfigurationUtils.newConfigurationException adds these as metadata headers.
        for key, value in (("processor_type", self.processor_type), ("processor_tag", self.tag),
                           ("property_name", self.property_name)):
            if value is not None:
                out[key] = value
        return out

    def as_json(self) -> dict[str, Any]:
        """The body of Elasticsearch's HTTP 400 answer."""
        return {"error": {"root_cause": [self.cause()], **self.cause()}, "status": 400}


class ProcessorError(Exception):
    """One processor failed on one document; the message and ``es_type`` are Elasticsearch's."""

    def __init__(self, message: str, es_type: str = "illegal_argument_exception"):
        super().__init__(message)
        self.es_type = es_type


@dataclass
class Failure:
    """A processor failure as the on_failure metadata describes it."""

    processor_type: str
    tag: str | None
    message: str
    pipeline: str
    es_type: str = "illegal_argument_exception"

    def summary(self) -> str:
        return f"{self.processor_type}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        """The ``error`` object of a simulate answer (ElasticsearchException.generateFailureXContent)."""
        cause = {"type": self.es_type, "reason": self.message}
        return {"root_cause": [dict(cause)], **cause}
