"""The Elastic side: the offline ingest engine, pipelines, verify and the cluster client.

``synth.elastic.simulate`` is ``POST _ingest/pipeline/_simulate`` run offline. It is imported
when first used: the commands that only write Filebeat's config or talk to a cluster do not
load the ingest engine.

May import: synth.render (line formats and LogFormat, for pipelines and grok), synth.output
(manifests, for verify).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synth.elastic.ingest.simulate import simulate

__all__ = ["simulate"]


def __getattr__(name: str) -> Any:
    if name == "simulate":
        from synth.elastic.ingest.simulate import simulate

        return simulate
    raise AttributeError(f"module 'synth.elastic' has no attribute {name!r}")
