"""The Elastic side: the offline ingest engine, pipelines, verify and the cluster client."""
