"""Anomalies: the kinds (one class each, declared once in the registry), where each window
falls, how each kind bends the traffic, and what the ground truth says.

Modules: registry (KindSpec, KINDS, KIND_CLASSES), kinds (the nine kinds), base (the Kind
every kind extends, its label), windows (placement), jobs (what the ML jobs read). They import
synth.generate's pools, traffic and catalog, never synth.generate.scenario (which reads the
registry to validate a scenario's anomalies).
"""

from synth.generate.anomalies.base import MEASURABLE_EVENTS, Kind, Model, ground_truth, unmeasurable
from synth.generate.anomalies.jobs import ALL_CARRIED, CARRIED, JOB_NEEDS, choose_job

# Importing the kinds defines their classes, which registers them.
from synth.generate.anomalies.kinds import Bytes, Crowd, Dip, ErrorBurst, Flood, Latency, NewAgent, Scan, Spike
from synth.generate.anomalies.registry import KIND_CLASSES, KINDS, KindSpec, make_effects
from synth.generate.anomalies.windows import (
    EDGE_MARGIN_S,
    HISTORY_S,
    Window,
    history_notes,
    iso,
    place_windows,
    window_problems,
)

__all__ = ["Window", "Kind", "Model", "KIND_CLASSES", "KINDS", "KindSpec", "CARRIED", "JOB_NEEDS", "ALL_CARRIED",
           "choose_job", "history_notes", "place_windows", "make_effects", "ground_truth", "iso", "window_problems",
           "unmeasurable", "EDGE_MARGIN_S", "HISTORY_S", "MEASURABLE_EVENTS",
           "Spike", "Dip", "ErrorBurst", "Scan", "Flood", "Crowd", "Bytes", "NewAgent", "Latency"]
