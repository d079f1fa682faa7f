"""Θ-less ARTM (TARTM, docs/mathematics.md §2): θ is the linear topicization of Φ, never stored."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import kernels
from . import regularizers as _reg
from ._heldout import Evaluation, mixture_loglik
from ._model import TopicModel
from .artm import BagOfWords
from .corpus import Corpus

VARIANTS = ("full", "naive")


class ThetalessARTM(TopicModel):
    """Θ-less ARTM: θ_td = Σ_w (n_dw / n_d) p(t|w) is a function of Φ, so a document needs
    one pass and no Θ is stored; ``transform`` is a single sparse product.

    Parameters
    ----------
    n_topics : int
        Number of topics T.
    variant : {"full", "naive"}
        "full" uses the modified p'_tdw (the exact gradient with θ = θ(Φ)); "naive" uses
        p' = p (ordinary EM with the one-pass E-step).
    epochs, updates_per_epoch, background_topics, regularizers, seed, threads
        As for :class:`attartm.ARTM` (Θ regularizers do not apply: there is no Θ).
    """

    _kind = "thetaless"

    def __init__(
        self,
        n_topics: int,
        variant: str = "full",
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
        self.variant = variant

    def _validated(self) -> dict[str, Any]:
        params = super()._validated()
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {self.variant!r}")
        if any(isinstance(r, _reg.ThetaRegularizer) for r in params["regularizers"]):
            raise ValueError("ThetalessARTM has no Θ: Θ regularizers cannot be used with it")
        return {**params, "variant": self.variant}

    def _prepare(self, corpus: Corpus) -> BagOfWords:
        return BagOfWords.of(corpus.token_ids, corpus.doc_offsets, self.threads)

    def _words_of(self, bow: BagOfWords) -> np.ndarray:
        return bow.words

    def _estep(self, bow: BagOfWords, n_t: np.ndarray, accumulate: bool | str = True,
               into=None, weight: float = 1.0) -> Any:  # fmt: skip
        return kernels._thetaless_estep(
            bow.words, bow.offsets, self._phi, n_t, variant=self.variant, counts=bow.counts,
            accumulate=accumulate, into=into, weight=weight, threads=self.threads,
            checked_phi=True,
        )  # fmt: skip

    def _theta(self, corpus: Corpus) -> np.ndarray:
        return self._linear_theta(corpus.token_ids, corpus.doc_offsets)

    def _loglik(self, corpus: Corpus, ev: Evaluation) -> tuple[float, int]:
        theta = self._linear_theta(ev.observed_tokens, ev.observed_offsets)
        return mixture_loglik(self._phi, theta, ev, self._known_words())
