"""What every regularizer R(Φ, Θ) of ARTM is: a weight τ, the topics it acts on and, for
a Φ regularizer, the modalities whose rows it acts on. The regularizers themselves are in
``regularizers`` (smoothing, decorrelation, background) and ``_priors`` (labels,
specified sparsing, topic selection, seed words).

A Φ regularizer contributes the term φ_wt ∂R/∂φ_wt that the M-step adds to n_wt before
it normalizes the columns of each modality; a Θ regularizer contributes θ_td ∂R/∂θ_td,
added to n_td inside the E-step (or, for a term proportional to n_td, a factor of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from . import _arrays
from .vocabulary import Vocabulary


def word_weights(owner: str, weights: Any) -> tuple[float, ...] | None:
    """Per-word weights β_w as a tuple of floats (which keeps a frozen dataclass comparable
    and hashable), checked: a 1-D array of finite numbers, or None."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or not np.isfinite(w).all():
        raise ValueError(f"{owner}.weights must be a 1-D array of finite numbers")
    return tuple(w.tolist())


def check_word_weights(owner: str, weights: Sequence[float] | None, n_words: int) -> None:
    if weights is not None and len(weights) != n_words:
        raise ValueError(
            f"{owner}.weights has {len(weights)} values, but the vocabulary has {n_words} "
            "words (with several modalities, give modality= to name theirs)"
        )


def topic_mask(topics: Sequence[int] | None, n_topics: int, owner: str) -> np.ndarray:
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
        return topic_mask(self.topics, n_topics, type(self).__name__)

    def to_dict(self) -> dict[str, Any]:
        """Plain description (saved with the model)."""
        return {"type": type(self).__name__, "tau": self.tau, "topics": self.topics}


@dataclass(frozen=True)
class PhiRegularizer(Regularizer):
    """A regularizer of Φ: contributes φ_wt ∂R/∂φ_wt to the M-step.

    ``modality`` names the modalities whose rows it acts on (a name or a sequence of
    names; None, the default: every modality of the model). A subclass implements
    ``phi_term``, which the M-step calls with one modality's rows at a time. When the term
    of a row depends only on that row of Φ and n_wt, it sets ``row_local = True`` and
    accepts ``rows``: then the M-step passes a block of rows at a time (``phi`` and
    ``n_wt`` hold rows ``rows`` of the modality's matrices) and never builds a W×T term;
    otherwise it gets the modality's whole matrices.
    """

    modality: str | Sequence[str] | None = field(default=None, kw_only=True)
    kind: ClassVar[str] = "phi"
    row_local: ClassVar[bool] = False

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        if self.modality is not None:
            names = (self.modality,) if isinstance(self.modality, str) else tuple(self.modality)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise TypeError(
                    f"{owner}.modality must be a modality name, a sequence of names or None "
                    f"(every modality), not {self.modality!r}"
                )
            object.__setattr__(self, "modality", names[0] if len(names) == 1 else names)

    @property
    def modalities(self) -> tuple[str, ...] | None:
        """The modalities it acts on (None: every one)."""
        m = self.modality
        return None if m is None else ((m,) if isinstance(m, str) else tuple(m))

    def acts_on(self, modality: str) -> bool:
        return self.modalities is None or modality in self.modalities

    def check_modalities(self, names: Sequence[str]) -> None:
        """ValueError when it names a modality the model does not have."""
        missing = [m for m in self.modalities or () if m not in names]
        if missing:
            raise ValueError(
                f"{type(self).__name__} acts on the modality {missing[0]!r}, which the model "
                f"does not have (its modalities: {list(names)})"
            )

    def for_vocabulary(self, vocabulary: Vocabulary) -> PhiRegularizer:
        """The regularizer as it acts on a modality of this vocabulary (one that names
        words resolves them to rows here; ValueError for a word it lacks)."""
        return self

    def phi_term(
        self, phi: np.ndarray, n_wt: np.ndarray, rows: slice | None = None
    ) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def check(self, n_words: int, n_topics: int) -> None:
        """Raises ValueError unless the regularizer fits a W×T block of Φ (before training)."""
        self.mask(n_topics)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        if self.modality is not None:  # files without it read as "every modality"
            d["modality"] = self.modality if isinstance(self.modality, str) else list(self.modality)
        return d


class ThetaRegularizer(Regularizer):
    """A regularizer of Θ: contributes θ_td ∂R/∂θ_td (per topic) to the E-step, as a
    constant term (``theta_term``) or a factor of n_td (``theta_scale``)."""

    kind: ClassVar[str] = "theta"

    def theta_term(self, n_topics: int) -> np.ndarray | None:  # pragma: no cover
        return None

    def theta_scale(self, n_t: np.ndarray) -> np.ndarray | None:
        """A factor per topic for n_td, given the topic masses n_t (None: none)."""
        return None
