"""The regularizers BigARTM users rely on beyond smoothing and decorrelation
(docs/mathematics.md §8): label regularization, specified sparsing, topic selection and
seed words. Exported from :mod:`attartm.regularizers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ._regularizer import PhiRegularizer, ThetaRegularizer, check_word_weights, word_weights
from .vocabulary import Vocabulary


@dataclass(frozen=True)
class LabelRegularizationPhi(PhiRegularizer):
    """R = τ Σ_w β_w ln Σ_t φ_wt n_t: adds τ β_w p(t|w) to n_wt, with p(t|w) = n_wt /
    Σ_s n_ws over the chosen topics (0 for a word without counts) and β_w = ``weights``
    (1 when omitted). Pulls every word's topics toward those it already has, which is
    what a label modality's Φ needs: BigARTM's LabelRegularizationPhi."""

    weights: Sequence[float] | None = field(default=None)
    row_local: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "weights", word_weights(type(self).__name__, self.weights))

    def check(self, n_words: int, n_topics: int) -> None:
        super().check(n_words, n_topics)
        check_word_weights(type(self).__name__, self.weights, n_words)

    def phi_term(self, phi: np.ndarray, n_wt: np.ndarray, rows: slice | None = None):
        mask = self.mask(phi.shape[1])
        sub = np.maximum(n_wt, 0.0) * mask
        total = sub.sum(axis=1, keepdims=True)
        p = np.divide(sub, total, out=np.zeros_like(sub), where=total > 0)
        if self.weights is not None:
            rows = slice(0, phi.shape[0]) if rows is None else rows
            p *= np.asarray(self.weights[rows])[:, None]
        return self.tau * p

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["weights"] = None if self.weights is None else list(self.weights)
        return d


MODES = ("topics", "words")


@dataclass(frozen=True)
class SpecifiedSparsePhi(PhiRegularizer):
    """Keeps the ``max_elements`` largest n_wt of every topic (``mode="topics"``, a column
    of the modality) or of every word (``mode="words"``, a row over the chosen topics),
    fewer when the largest already hold ``probability_threshold`` of the column's (row's)
    sum, and adds −τ n_wt to the others: τ = 1 zeroes them (BigARTM's SpecifiedSparsePhi;
    not the derivative of an R, a projection onto sparse Φ)."""

    max_elements: int = 20
    mode: str = "topics"
    probability_threshold: float = 0.99

    def __post_init__(self) -> None:
        super().__post_init__()
        k = self.max_elements
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"SpecifiedSparsePhi.max_elements must be an int ≥ 1, not {k!r}")
        object.__setattr__(self, "max_elements", int(k))
        if self.mode not in MODES:
            raise ValueError(f"SpecifiedSparsePhi.mode must be one of {MODES}, not {self.mode!r}")
        threshold = float(self.probability_threshold)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(
                f"SpecifiedSparsePhi.probability_threshold must lie in (0, 1], not {threshold}"
            )
        object.__setattr__(self, "probability_threshold", threshold)

    def phi_term(self, phi: np.ndarray, n_wt: np.ndarray, rows: slice | None = None):
        mask = self.mask(phi.shape[1])
        # Groups are the columns (topics) or the rows (words) of the matrix.
        x = n_wt[:, mask] if self.mode == "topics" else n_wt[:, mask].T
        keep = np.zeros(x.shape, dtype=bool)
        if x.size:
            k = min(self.max_elements, x.shape[0])
            # The largest first, the lower index first among equals.
            order = np.argsort(-x, axis=0, kind="stable")[:k]
            top = np.take_along_axis(x, order, axis=0)
            total = x.sum(axis=0)
            share = np.divide(top.cumsum(axis=0), total, out=np.ones_like(top), where=total > 0)
            # Entry i is kept while the entries before it hold less than the threshold.
            before = np.vstack([np.zeros((1, share.shape[1])), share[:-1]])
            np.put_along_axis(keep, order, before < self.probability_threshold, axis=0)
        term = np.zeros_like(n_wt)
        dropped = np.where(keep, 0.0, -self.tau * x)
        term[:, mask] = dropped if self.mode == "topics" else dropped.T
        return term

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "max_elements": self.max_elements,
            "mode": self.mode,
            "probability_threshold": self.probability_threshold,
        }


@dataclass(frozen=True)
class TopicSelectionTheta(ThetaRegularizer):
    """R = −τ Σ_d Σ_t v_t n_d θ_td with v_t = n/(|T| n_t), n_t = Σ_w n_wt the topic masses
    (over every modality) and n = Σ_t n_t: its term −τ v_t n_td (n_td = n_d θ_td at the
    fixed point) multiplies n_td by 1 − τ v_t, so topics smaller than the mean shrink and,
    for τ > 0, vanish (BigARTM's TopicSelectionTheta; ARTM only). Which topics remain:
    ``model.surviving_topics()``."""

    def theta_scale(self, n_t: np.ndarray) -> np.ndarray | None:
        n_t = np.asarray(n_t, dtype=np.float64)
        n = n_t.sum()
        if n <= 0 or (n_t == n_t[0]).all():
            # Topics of one mass (before the first M-step): nothing to select among.
            return None
        alive = n_t > 0
        value = np.divide(n, n_t.shape[0] * n_t, out=np.zeros_like(n_t), where=alive)
        # A topic without mass stays without: its factor is 0.
        scale = np.where(alive, 1.0 - self.tau * value, 0.0)
        return np.where(self.mask(n_t.shape[0]), scale, 1.0)


@dataclass(frozen=True, init=False)
class SeedWords(PhiRegularizer):
    """Seeded topics: R = τ Σ_t Σ_{w ∈ S_t} n_w ln φ_wt, which adds τ n_w to n_wt for every
    seed word w of topic t (n_w = Σ_s n_ws, the word's count): τ = 1 gives a seeded topic
    as many pseudo-occurrences of each seed word as the corpus has, which pulls the topic
    toward the documents that use its seed words. A word may seed several topics.

    ``seeds`` maps topic indices to seed words of the modality ``modality`` (the text by
    default); every word must be in its vocabulary.
    """

    seeds: tuple[tuple[int, tuple[str, ...]], ...] = ()
    row_local: ClassVar[bool] = False

    def __init__(
        self, seeds: Mapping[int, Sequence[str]], tau: float = 1.0, *, modality: str = "text"
    ) -> None:
        if not isinstance(seeds, Mapping) or not seeds:
            raise TypeError(
                'SeedWords needs a mapping of topic indices to seed words, e.g. {0: ["goal", '
                f'"match"]}}, not {seeds!r}'
            )
        pairs = []
        for topic, words in seeds.items():
            t = int(topic) if isinstance(topic, str) and topic.isdigit() else topic
            if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
                raise TypeError(f"SeedWords: topics must be indices ≥ 0, not {topic!r}")
            if isinstance(words, str) or not all(isinstance(w, str) for w in words) or not words:
                raise TypeError(f"SeedWords: topic {t} needs a list of seed words, not {words!r}")
            pairs.append((int(t), tuple(words)))
        object.__setattr__(self, "seeds", tuple(sorted(pairs)))
        object.__setattr__(self, "tau", tau)
        object.__setattr__(self, "topics", tuple(t for t, _ in self.seeds))
        object.__setattr__(self, "modality", modality)
        self.__post_init__()
        if not isinstance(self.modality, str):
            raise TypeError("SeedWords.modality must name one modality")

    def for_vocabulary(self, vocabulary: Vocabulary) -> _SeedRows:
        rows = []
        for t, words in self.seeds:
            missing = [w for w in words if w not in vocabulary]
            if missing:
                raise ValueError(
                    f"SeedWords: the seed word {missing[0]!r} of topic {t} is not in the "
                    f"{self.modality} vocabulary ({len(vocabulary)} words); check its "
                    "spelling, min_df and max_df, or the stopwords"
                )
            rows.append((t, np.array([vocabulary.index(w) for w in words], dtype=np.int64)))
        return _SeedRows(self.tau, rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "SeedWords",
            "seeds": {str(t): list(words) for t, words in self.seeds},
            "tau": self.tau,
            "modality": self.modality,
        }


class _SeedRows:
    """SeedWords resolved to the rows of one modality: what its M-step term reads."""

    row_local = False

    def __init__(self, tau: float, rows: list[tuple[int, np.ndarray]]) -> None:
        self.tau, self.rows = tau, rows

    def phi_term(self, phi: np.ndarray, n_wt: np.ndarray, rows: slice | None = None):
        term = np.zeros_like(n_wt)
        for t, words in self.rows:
            n_w = n_wt[words].sum(axis=1)
            term[words, t] += self.tau * n_w
        return term
