"""Orchestration: generate, stream, inject (its stages injectread, injectplan, injectwrite, and
logmodel), workers, signals, what a run prints, and fit --check's round trip."""
