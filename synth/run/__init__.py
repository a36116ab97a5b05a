"""Orchestration: generate, stream, workers, signals and what a run prints."""
