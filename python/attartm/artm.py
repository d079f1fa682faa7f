"""Classic ARTM: BigARTM's algorithm (docs/mathematics.md §1), with the E-step in Rust; over
several modalities, BigARTM's class weights (§7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import _arrays, _core, kernels
from . import regularizers as _reg
from ._bag_of_words import BagOfWords
from ._heldout import Evaluation, mixture_loglik
from ._model import TopicModel
from .corpus import Corpus

__all__ = ["ARTM", "BagOfWords"]


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
        SmoothSparsePhi, SmoothSparseTheta, DecorrelatorPhi, LabelRegularizationPhi,
        SpecifiedSparsePhi, TopicSelectionTheta, SeedWords, each optionally on some topics
        (and a Φ regularizer on some modalities).
    modality_weights : mapping of str to float, optional
        BigARTM's class weights τ_m: the log-likelihood of modality m counts τ_m times
        (its counts n_dw are multiplied by τ_m in the E-step and the M-step), e.g.
        ``{"text": 1.0, "label": 5.0}``. The model learns every modality of the training
        corpus (weight 1 unless named here; 0 leaves a modality out), each with its own
        block of Φ normalized on its own (docs/mathematics.md §7).
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
        modality_weights: Mapping[str, float] | None = None,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        super().__init__(
            n_topics, epochs=epochs, updates_per_epoch=updates_per_epoch,
            background_topics=background_topics, regularizers=regularizers,
            modality_weights=modality_weights, seed=seed, threads=threads,
        )  # fmt: skip
        self.doc_passes = doc_passes

    def _validated(self) -> dict[str, Any]:
        doc_passes = _arrays.positive_int("doc_passes", self.doc_passes)
        return {**super()._validated(), "doc_passes": doc_passes}

    def _prepare(self, corpus: Corpus) -> BagOfWords:
        return self._bag_of_words(corpus)

    def _run(
        self, bow: BagOfWords, accumulate: bool | str = False, into=None, weight: float = 1.0,
        n_t: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Any]:  # fmt: skip
        """The E-step over ``bow``; ``n_t``: the topic masses the update reads (those of
        the model when not given)."""
        term = _reg.theta_term(self._regularizers, self.n_topics)
        # The topic masses of every modality together: the θ counts n_td are theirs.
        if n_t is None and self._n_t is not None:
            n_t = self._n_t * self._scale
        masses = None if n_t is None else np.atleast_2d(n_t).sum(axis=0)
        scale = _reg.theta_scale(self._regularizers, masses)
        return _core.artm_estep(
            bow.words,
            bow.offsets,
            self._phi,
            counts=bow.counts,
            doc_passes=self.doc_passes,
            theta_term=None if term is None else term.tolist(),
            theta_scale=None if scale is None else scale.tolist(),
            threads=self.threads,
            checked_phi=True,
            **kernels._sums(accumulate, into, weight, self._phi.shape),
        )

    def _words_of(self, data: BagOfWords) -> np.ndarray:
        return data.words

    def _estep(self, data: BagOfWords, n_t: np.ndarray, **sums: Any) -> Any:
        return self._run(data, n_t=n_t, **sums)[1]

    def _theta_of(
        self, corpus: Corpus, exclude: tuple[str, ...] = (), text: Evaluation | None = None,
        training: bool = False,
    ) -> np.ndarray:  # fmt: skip
        return self._run(self._bag_of_words(corpus, exclude, text))[0]

    def _loglik(self, corpus: Corpus, ev: Evaluation) -> tuple[float, int]:
        theta = self._theta_of(corpus, text=ev)
        return mixture_loglik(self._phi, theta, ev, self._known_words())
