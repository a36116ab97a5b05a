"""Orchestration: generate, stream, inject (its stages injectread, injectplan, injectwrite, and
logmodel), workers, signals, what a run prints, fit --check's round trip and bench.

May import: synth.generate, synth.render, synth.output, synth.elastic, synth.analysis.
"""
