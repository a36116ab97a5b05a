"""Orchestration: generate, stream, workers, signals, what a run prints, and fit --check's round trip."""
