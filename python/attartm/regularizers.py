"""Regularizers R(Φ, Θ) of ARTM (docs/mathematics.md, "Regularizers" and §8).

A Φ regularizer contributes the term φ_wt ∂R/∂φ_wt that the M-step adds to n_wt before it
normalizes the columns of each modality; a Θ regularizer contributes θ_td ∂R/∂θ_td, added
to n_td inside the E-step. Every regularizer can be limited to a subset of topics, so that
"background" topics can be smoothed while the others are sparsed, and a Φ regularizer to
some modalities (``modality=``). The smoothing, decorrelating and background ones are
here; label regularization, specified sparsing, topic selection and seed words are in
``_priors`` and exported from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ._priors import LabelRegularizationPhi, SeedWords, SpecifiedSparsePhi, TopicSelectionTheta
from ._regularizer import (
    PhiRegularizer,
    Regularizer,
    ThetaRegularizer,
    check_word_weights,
    word_weights,
)

__all__ = [
    "BackgroundPhi",
    "DecorrelatorPhi",
    "LabelRegularizationPhi",
    "PhiRegularizer",
    "Regularizer",
    "SeedWords",
    "SmoothSparsePhi",
    "SmoothSparseTheta",
    "SpecifiedSparsePhi",
    "ThetaRegularizer",
    "TopicSelectionTheta",
]


@dataclass(frozen=True)
class SmoothSparsePhi(PhiRegularizer):
    """R = τ Σ_t Σ_w β_w ln φ_wt: smooths Φ for τ > 0, sparses it for τ < 0.

    ``weights`` are the per-word β_w (1 for every word when omitted); ``modality=`` limits
    it to some modalities (every one by default; weights need a single modality).
    """

    weights: Sequence[float] | None = field(default=None)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "weights", word_weights("SmoothSparsePhi", self.weights))

    row_local: ClassVar[bool] = True

    def check(self, n_words: int, n_topics: int) -> None:
        super().check(n_words, n_topics)
        check_word_weights("SmoothSparsePhi", self.weights, n_words)

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
    for cls in (
        SmoothSparsePhi, SmoothSparseTheta, DecorrelatorPhi, BackgroundPhi,
        LabelRegularizationPhi, SpecifiedSparsePhi, TopicSelectionTheta, SeedWords,
    )
}  # fmt: skip


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
    terms = [r.phi_term(phi, n_wt) for r in regularizers if not isinstance(r, ThetaRegularizer)]
    return sum(terms[1:], terms[0]) if terms else None


def theta_term(regularizers: Sequence[Regularizer], n_topics: int) -> np.ndarray | None:
    """Σ of the Θ terms per topic, or None when no Θ regularizer has one."""
    terms = [r.theta_term(n_topics) for r in regularizers if isinstance(r, ThetaRegularizer)]
    terms = [t for t in terms if t is not None]
    return sum(terms[1:], terms[0]) if terms else None


def theta_scale(regularizers: Sequence[Regularizer], n_t: np.ndarray | None) -> np.ndarray | None:
    """The factor of n_td per topic that the Θ terms proportional to n_td make together
    (1 + Σ of their coefficients), or None when none has one. ``n_t``: the topic masses
    (None where they are not known, which such a term cannot do without)."""
    proportional = [r for r in regularizers if isinstance(r, TopicSelectionTheta)]
    if not proportional:
        return None
    if n_t is None:
        raise ValueError(
            "TopicSelectionTheta reads the model's topic masses, which this E-step does not "
            "have (a Ray task's); train with fit or fit_online in one process"
        )
    scales = [r.theta_scale(n_t) for r in proportional]
    scales = [s - 1.0 for s in scales if s is not None]
    return None if not scales else (1.0 + sum(scales)).astype(np.float32)
