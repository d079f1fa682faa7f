"""Classic ARTM: BigARTM's algorithm (docs/mathematics.md §1), with the E-step in Rust."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _arrays, _core, kernels
from . import regularizers as _reg
from ._heldout import Evaluation, mixture_loglik
from ._model import TopicModel
from .corpus import Corpus


@dataclass(frozen=True)
class BagOfWords:
    """Each document's distinct words and their counts (what the classic E-step reads)."""

    offsets: np.ndarray
    words: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, tokens: np.ndarray, offsets: np.ndarray, threads: int | None) -> BagOfWords:
        return cls(*_core.bag_of_words(tokens, offsets, threads=threads))


class ARTM(TopicModel):
    """Classic ARTM: every document has its own θ_d, inferred by ``doc_passes`` inner
    iterations of the E-step; Φ is regularized by ``regularizers`` in the M-step.

    Parameters
    ----------
    n_topics : int
        Number of topics T.
    doc_passes : int
        Inner iterations of the E-step per document (BigARTM's num_document_passes).
    epochs : int
        Passes over the corpus that ``fit`` makes by default.
    updates_per_epoch : int
        1 (default): offline EM, BigARTM's fit_offline; more: stepwise EM, Φ updated after
        each of this many batches of a pass (docs/mathematics.md §4).
    background_topics : sequence of int
        Topics that absorb common words: each gets n_w/|T| pseudo-counts of every word w
        (:class:`attartm.BackgroundPhi` with τ = 1), and ``topics()``, ``transform()`` and
        the report mark them (columns ``background_t``).
    regularizers : sequence of Regularizer
        SmoothSparsePhi, SmoothSparseTheta, DecorrelatorPhi, each optionally on some topics.
    seed : int
        Seed of the random initial Φ; the same seed gives the same model on any thread count.
    threads : int, optional
        Threads of the E-step (all cores when None).
    """

    _kind = "artm"

    def __init__(
        self,
        n_topics: int,
        doc_passes: int = 10,
        epochs: int = 10,
        updates_per_epoch: int = 1,
        background_topics: Iterable[int] = (),
        regularizers: Iterable[_reg.Regularizer] = (),
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        super().__init__(
            n_topics, epochs=epochs, updates_per_epoch=updates_per_epoch,
            background_topics=background_topics,
            regularizers=regularizers, seed=seed, threads=threads,
        )  # fmt: skip
        self.doc_passes = doc_passes

    def _validated(self) -> dict[str, Any]:
        doc_passes = _arrays.positive_int("doc_passes", self.doc_passes)
        return {**super()._validated(), "doc_passes": doc_passes}

    def _prepare(self, corpus: Corpus) -> BagOfWords:
        return BagOfWords.of(corpus.token_ids, corpus.doc_offsets, self.threads)

    def _run(
        self, bow: BagOfWords, accumulate: bool | str = False, into=None, weight: float = 1.0
    ) -> tuple[np.ndarray, Any]:
        term = _reg.theta_term(self._regularizers, self.n_topics)
        return _core.artm_estep(
            bow.words,
            bow.offsets,
            self._phi,
            counts=bow.counts,
            doc_passes=self.doc_passes,
            theta_term=None if term is None else term.tolist(),
            threads=self.threads,
            checked_phi=True,
            **kernels._sums(accumulate, into, weight, self._phi.shape),
        )

    def _words_of(self, data: BagOfWords) -> np.ndarray:
        return data.words

    def _estep(self, data: BagOfWords, n_t: np.ndarray, **sums: Any) -> Any:
        return self._run(data, **sums)[1]

    def _theta(self, corpus: Corpus) -> np.ndarray:
        return self._run(self._prepare(corpus))[0]

    def _loglik(self, corpus: Corpus, ev: Evaluation) -> tuple[float, int]:
        bow = BagOfWords.of(ev.observed_tokens, ev.observed_offsets, self.threads)
        theta = self._run(bow)[0]
        return mixture_loglik(self._phi, theta, ev, self._known_words())
