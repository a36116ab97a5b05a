"""Draws shared by the pools and the traffic: cumulative weights, picks by them, Zipf laws."""

from __future__ import annotations

import numpy as np


def cdf(weights: np.ndarray) -> np.ndarray:
    """The cumulative share of ``weights``, ending at exactly 1."""
    total = np.cumsum(weights, dtype=np.float64)
    return total / total[-1]


def pick(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with the probabilities whose cumulative sum is ``cdf``."""
    return np.searchsorted(cdf, rng.random(n), side="right")


def zipf_weights(n: int, exponent: float) -> np.ndarray:
    return 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
