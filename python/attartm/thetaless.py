"""Θ-less ARTM (TARTM, docs/mathematics.md §2): θ is the linear topicization of Φ, never stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import kernels
from . import regularizers as _reg
from ._bag_of_words import BagOfWords
from ._heldout import Evaluation, mixture_loglik
from ._model import TopicModel
from .corpus import Corpus

VARIANTS = ("full", "naive")


class ThetalessARTM(TopicModel):
    """Θ-less ARTM: θ_td = Σ_w (n_dw / n_d) p(t|w) is a function of Φ, so a document needs
    one pass and no Θ is stored; ``transform`` is a single sparse product. Over several
    modalities θ_d is the τ_m-weighted mean of p(t|w) over every modality's words, each
    p(t|w) read with its modality's n_t (docs/mathematics.md §7).

    Parameters
    ----------
    n_topics : int
        Number of topics T.
    variant : {"full", "naive"}
        "full" uses the modified p'_tdw (the exact gradient with θ = θ(Φ)); "naive" uses
        p' = p (ordinary EM with the one-pass E-step).
    epochs, updates_per_epoch, background_topics, regularizers, modality_weights, seed, threads
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
        modality_weights: Mapping[str, float] | None = None,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        super().__init__(
            n_topics, epochs=epochs, updates_per_epoch=updates_per_epoch,
            background_topics=background_topics, regularizers=regularizers,
            modality_weights=modality_weights, seed=seed, threads=threads,
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
        return self._bag_of_words(corpus)

    def _words_of(self, bow: BagOfWords) -> np.ndarray:
        return bow.words

    def _estep(self, bow: BagOfWords, n_t: np.ndarray, accumulate: bool | str = True,
               into=None, weight: float = 1.0) -> Any:  # fmt: skip
        multimodal = self._layout.multimodal
        n_t = np.atleast_2d(n_t)  # (a Ray task passes the text's T masses alone)
        return kernels._thetaless_estep(
            bow.words, bow.offsets, self._phi, n_t if multimodal else n_t[0],
            variant=self.variant, counts=bow.counts, accumulate=accumulate, into=into,
            weight=weight, threads=self.threads, checked_phi=True,
            modality_starts=self._layout.starts[:-1] if multimodal else None,
        )  # fmt: skip

    def _theta_of(
        self, corpus: Corpus, exclude: tuple[str, ...] = (), text: Evaluation | None = None,
        training: bool = False,
    ) -> np.ndarray:  # fmt: skip
        tokens, offsets = (
            (corpus.token_ids, corpus.doc_offsets)
            if text is None
            else (text.observed_tokens, text.observed_offsets)
        )
        return self._linear_theta(tokens, offsets, self._layout.bags_of(corpus, exclude))

    def _loglik(self, corpus: Corpus, ev: Evaluation) -> tuple[float, int]:
        theta = self._theta_of(corpus, text=ev)
        return mixture_loglik(self._phi, theta, ev, self._known_words())
