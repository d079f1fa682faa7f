"""The parameters of Attentive ARTM's E-step (docs/mathematics.md §3) as the kernel takes
them: the context coefficients γ→ and γ← (from a window h, γ = 1/h, or γ itself), token
weights and the reset strengths of sentence and paragraph boundaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _arrays

BOUNDARY_LEVELS = {"sentence": 1, "paragraph": 2}


def plain_weights(weights: Any) -> list[float] | dict[str, float] | None:
    """token_weight as a plain list or dict of floats (checked against the vocabulary at
    fit time)."""
    if weights is None:
        return None
    if isinstance(weights, Mapping):
        return {str(k): float(v) for k, v in weights.items()}
    values = np.asarray(weights, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("token_weight must be one weight per vocabulary word, or a dict")
    return values.tolist()


def coefficient(name: str, window: Any, gamma: Any) -> float | None:
    """γ from either a window h (γ = 1/h) or γ itself; None when neither is given."""
    if gamma is not None and window is not None:
        raise ValueError(f"give either window{name} or gamma{name}, not both")
    if gamma is not None:
        g = _arrays.finite_float(f"gamma{name}", gamma)
        if not 0.0 < g <= 1.0:
            raise ValueError(f"gamma{name} must lie in (0, 1], but is {g}")
        return g
    if window is not None:
        h = _arrays.finite_float(f"window{name}", window)
        if h < 1.0:
            raise ValueError(f"window{name} must be at least 1 token, but is {h}")
        return 1.0 / h
    return None


def boundary_strengths(boundaries: Mapping[str, Any] | None) -> dict[str, float]:
    """The reset strength of every boundary level (0 for those not given)."""
    out = {"sentence": 0.0, "paragraph": 0.0}
    for level, strength in dict(boundaries or {}).items():
        if level not in BOUNDARY_LEVELS:
            known = sorted(BOUNDARY_LEVELS)
            raise ValueError(f"unknown boundary level {level!r}; the corpus records {known}")
        s = _arrays.finite_float(f"boundaries[{level!r}]", strength)
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"boundaries[{level!r}] must lie in [0, 1], but is {s}")
        out[level] = s
    return out
