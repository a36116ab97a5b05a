"""The Elastic side: the offline ingest engine, pipelines, verify and the cluster client.

``synth.elastic.simulate`` is ``POST _ingest/pipeline/_simulate`` run offline.
"""

from synth.elastic.ingest.simulate import simulate

__all__ = ["simulate"]
