"""How Attentive ARTM reads the other modalities of a document (docs/mathematics.md §7.3).

The text stays a sequence; labels, tags and the like are bags of the whole document. With
S_d = Σ_m τ_m n_dm the weighted count of document d's other values and N_d = τ_text n_d
that of its text tokens, the document's other modalities enter every position's context
with their share μ_d = S_d / (N_d + S_d) of the document's weighted tokens, the share they
have in classic ARTM's θ_d:

    θ_i = (1 − μ_d) θ_i^text + P_d,    P_d = Σ_m τ_m Σ_w n_dw p_tdw / (N_d + S_d),

where p_tdw = norm_t(φ_wt θ̄_td) reads the linear topicization θ̄_d of the text (Θ-less
ARTM's θ, the context-free mean of p(t|w_i)). The document's topic vector is then
θ_d = (1 − μ_d) mean_i p_i + P_d, and the other modalities' statistics are
ñ_wt += τ_m n_dw norm_t(p_tdw^κ) with p_tdw = norm_t(φ_wt θ_td).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from ._bag_of_words import BagOfWords
from ._layout import Layout
from .corpus import Corpus


@dataclass(frozen=True)
class DocumentModalities:
    """A corpus's other modalities as one bag per document (ids of the stacked Φ, counts
    times τ_m), and S_d, each document's weighted count of them."""

    bow: BagOfWords
    mass: np.ndarray

    @classmethod
    def of(
        cls, layout: Layout, corpus: Corpus, exclude: tuple[str, ...], threads: int | None
    ) -> DocumentModalities | None:
        """None when the corpus has no other modality of the model (but ``exclude``)."""
        bags = layout.bags_of(corpus, exclude)
        if not bags:
            return None
        empty = np.zeros(0, dtype=np.uint32)
        offsets = np.zeros(corpus.n_documents + 1, dtype=np.int64)
        bow = BagOfWords.of_modalities(layout, empty, offsets, bags, threads)
        n_docs = corpus.n_documents
        docs = np.repeat(np.arange(n_docs), np.diff(bow.offsets))
        return cls(bow, np.bincount(docs, weights=bow.counts, minlength=n_docs))


@dataclass(frozen=True)
class DocumentPrior:
    """P_d (D×T float32, rows summing to μ_d) and μ_d (float64[D])."""

    vectors: np.ndarray
    share: np.ndarray

    @classmethod
    def of(
        cls,
        modalities: DocumentModalities,
        phi: np.ndarray,
        linear_theta: np.ndarray,
        text_mass: np.ndarray,
        threads: int | None,
    ) -> DocumentPrior:
        """The prior of §7.3 from the text's linear topicization and weighted length."""
        bow = modalities.bow
        n_td, _ = kernels._bags_estep(
            bow.words, bow.offsets, phi, linear_theta, counts=bow.counts, tempering=1.0,
            accumulate=False, into=None, weight=1.0, threads=threads, checked_phi=True,
        )  # fmt: skip
        total = text_mass + modalities.mass
        scale = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
        vectors = (n_td.astype(np.float64) * scale[:, None]).astype(np.float32)
        return cls(vectors, modalities.mass * scale)

    def theta(self, mean_p: np.ndarray) -> np.ndarray:
        """θ_d = (1 − μ_d) mean_i p_i + P_d."""
        out = (1.0 - self.share)[:, None] * mean_p.astype(np.float64) + self.vectors
        return out.astype(np.float32)
