"""Regularizers R(Φ, Θ) of ARTM.

A Φ regularizer contributes the term φ_wt ∂R/∂φ_wt that the M-step adds to n_wt before it
normalizes the columns; a Θ regularizer contributes θ_td ∂R/∂θ_td, added to n_td inside
the E-step. Every regularizer can be limited to a subset of topics, so that "background"
topics can be smoothed while the others are sparsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from . import _arrays


def _topic_mask(topics: Sequence[int] | None, n_topics: int, owner: str) -> np.ndarray:
    mask = np.zeros(n_topics, dtype=bool)
    if topics is None:
        mask[:] = True
        return mask
    for t in topics:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < n_topics:
            raise ValueError(
                f"{owner}: topics must be indices in [0, {n_topics}), but contains {t!r}"
            )
        mask[t] = True
    return mask


@dataclass(frozen=True)
class Regularizer:
    """Base class: a weight ``tau`` and an optional subset of topics it acts on."""

    tau: float
    topics: Sequence[int] | None = None
    kind: ClassVar[str] = "regularizer"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "tau", _arrays.finite_float(f"{type(self).__name__}.tau", self.tau)
        )
        if self.topics is not None:
            topics = tuple(self.topics)
            for t in topics:
                if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
                    raise TypeError(
                        f"{type(self).__name__}.topics must be topic indices (ints), "
                        f"but contains {t!r}"
                    )
            object.__setattr__(self, "topics", tuple(int(t) for t in topics))

    def mask(self, n_topics: int) -> np.ndarray:
        """Boolean mask of the topics this regularizer acts on."""
        return _topic_mask(self.topics, n_topics, type(self).__name__)

    def to_dict(self) -> dict[str, Any]:
        """Plain description (saved with the model)."""
        return {"type": type(self).__name__, "tau": self.tau, "topics": self.topics}


class PhiRegularizer(Regularizer):
    """A regularizer of Φ: contributes φ_wt ∂R/∂φ_wt to the M-step.

    A subclass implements ``phi_term``. When the term of a row depends only on that row
    of Φ and n_wt, it sets ``row_local = True`` and accepts ``rows``: then the M-step
    passes a block of rows at a time (``phi`` and ``n_wt`` hold rows ``rows`` of the full
    matrices) and never builds a W×T term; otherwise it gets the whole matrices.
    """

    kind: ClassVar[str] = "phi"
    row_local: ClassVar[bool] = False

    def phi_term(
        self, phi: np.ndarray, n_wt: np.ndarray, rows: slice | None = None
    ) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def check(self, n_words: int, n_topics: int) -> None:
        """Raises ValueError unless the regularizer fits a W×T model (before training)."""
        self.mask(n_topics)


class ThetaRegularizer(Regularizer):
    """A regularizer of Θ: contributes θ_td ∂R/∂θ_td (per topic) to the E-step."""

    kind: ClassVar[str] = "theta"

    def theta_term(self, n_topics: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class SmoothSparsePhi(PhiRegularizer):
    """R = τ Σ_t Σ_w β_w ln φ_wt: smooths Φ for τ > 0, sparses it for τ < 0.

    ``weights`` are the per-word β_w (1 for every word when omitted).
    """

    weights: Sequence[float] | None = field(default=None)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=np.float64)
            if w.ndim != 1 or not np.isfinite(w).all():
                raise ValueError("SmoothSparsePhi.weights must be a 1-D array of finite numbers")
            # A tuple keeps the frozen dataclass comparable and hashable.
            object.__setattr__(self, "weights", tuple(w.tolist()))

    row_local: ClassVar[bool] = True

    def check(self, n_words: int, n_topics: int) -> None:
        super().check(n_words, n_topics)
        if self.weights is not None and len(self.weights) != n_words:
            raise ValueError(
                f"SmoothSparsePhi.weights has {len(self.weights)} values, but the vocabulary "
                f"has {n_words} words"
            )

    def phi_term(self, phi: np.ndarray, n_wt: np.ndarray, rows: slice | None = None):
        n_words, n_topics = phi.shape
        if rows is None:
            self.check(n_words, n_topics)
            rows = slice(0, n_words)
        beta = np.ones(n_words) if self.weights is None else np.asarray(self.weights[rows])
        return self.tau * np.outer(beta, self.mask(n_topics).astype(np.float64))

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["weights"] = None if self.weights is None else list(self.weights)
        return d


@dataclass(frozen=True)
class SmoothSparseTheta(ThetaRegularizer):
    """R = τ Σ_d Σ_t ln θ_td: smooths Θ for τ > 0, sparses it for τ < 0."""

    def theta_term(self, n_topics: int) -> np.ndarray:
        return self.tau * self.mask(n_topics).astype(np.float32)


@dataclass(frozen=True)
class DecorrelatorPhi(PhiRegularizer):
    """R = −τ/2 Σ_{t≠s} Σ_w φ_wt φ_ws over the chosen topics: makes topics more distinct."""

    row_local: ClassVar[bool] = True

    def phi_term(self, phi: np.ndarray, n_wt: np.ndarray, rows: slice | None = None):
        mask = self.mask(phi.shape[1])
        sub = phi * mask
        others = sub.sum(axis=1, keepdims=True) - sub
        return -self.tau * sub * others


@dataclass(frozen=True)
class BackgroundPhi(PhiRegularizer):
    """R = τ Σ_{t ∈ topics} Σ_w (n_w/|T|) ln φ_wt: every chosen topic gets τ n_w/|T|
    pseudo-counts of each word w (n_w = Σ_t n_wt its count in the corpus), which pulls it
    toward the corpus's word distribution p(w) = n_w/n: a background topic that absorbs
    common words. Unlike a constant smoothing term the strength scales with the corpus,
    and the topic can never lose its mass (τ = 1 gives it at least a 1/|T| share of
    every word's count)."""

    row_local: ClassVar[bool] = True

    def phi_term(self, phi: np.ndarray, n_wt: np.ndarray, rows: slice | None = None):
        n_topics = phi.shape[1]
        n_w = n_wt.sum(axis=1, keepdims=True)
        return (self.tau / n_topics) * n_w * self.mask(n_topics)


REGULARIZERS: dict[str, type[Regularizer]] = {
    cls.__name__: cls
    for cls in (SmoothSparsePhi, SmoothSparseTheta, DecorrelatorPhi, BackgroundPhi)
}


def from_dict(d: dict[str, Any]) -> Regularizer:
    """Rebuilds a regularizer saved with :meth:`Regularizer.to_dict`."""
    try:
        cls = REGULARIZERS[d["type"]]
    except KeyError as e:
        raise ValueError(f"unknown regularizer in model file: {d.get('type')!r}") from e
    kwargs = {k: v for k, v in d.items() if k != "type"}
    return cls(**kwargs)


def check_all(regularizers: Any) -> tuple[Regularizer, ...]:
    """Validates a sequence of regularizers (as given to a model)."""
    if isinstance(regularizers, Regularizer):
        regularizers = (regularizers,)
    out = tuple(regularizers)
    for r in out:
        if not isinstance(r, (PhiRegularizer, ThetaRegularizer)):
            raise TypeError(
                f"regularizers must be attartm regularizers (SmoothSparsePhi, ...), "
                f"not {type(r).__name__}"
            )
    return out


def phi_term(regularizers: Sequence[Regularizer], phi: np.ndarray, n_wt: np.ndarray):
    """Σ of the Φ terms, or None when there are no Φ regularizers."""
    terms = [r.phi_term(phi, n_wt) for r in regularizers if isinstance(r, PhiRegularizer)]
    return sum(terms[1:], terms[0]) if terms else None


def theta_term(regularizers: Sequence[Regularizer], n_topics: int) -> np.ndarray | None:
    """Σ of the Θ terms per topic, or None when there are no Θ regularizers."""
    terms = [r.theta_term(n_topics) for r in regularizers if isinstance(r, ThetaRegularizer)]
    return sum(terms[1:], terms[0]) if terms else None
