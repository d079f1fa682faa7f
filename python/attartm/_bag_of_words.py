"""Documents as the classic and Θ-less E-steps read them: each document's distinct words
and their counts, the words of every modality in the ids of the stacked Φ and their
counts times the modality's weight (docs/mathematics.md §7, BigARTM's class weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _core
from ._bags import Bags
from ._layout import Layout


@dataclass(frozen=True)
class BagOfWords:
    """Each document's distinct words and their (weighted) counts."""

    offsets: np.ndarray
    words: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, tokens: np.ndarray, offsets: np.ndarray, threads: int | None) -> BagOfWords:
        return cls(*_core.bag_of_words(tokens, offsets, threads=threads))

    @classmethod
    def of_modalities(
        cls,
        layout: Layout,
        tokens: np.ndarray,
        offsets: np.ndarray,
        bags: list[tuple[int, Bags]],
        threads: int | None,
    ) -> BagOfWords:
        """The text ``tokens`` cut by ``offsets`` and the ``bags`` of other modalities
        (with their index in ``layout``) as one bag per document, counts times τ_m."""
        if bags:
            starts = layout.starts
            n_docs = offsets.shape[0] - 1
            lengths = np.diff(offsets)
            docs = [np.repeat(np.arange(n_docs), lengths)]
            ids = [np.asarray(tokens, dtype=np.uint32)]
            for m, bag in bags:
                bag_lengths = np.diff(bag.doc_offsets)
                lengths = lengths + bag_lengths
                docs.append(np.repeat(np.arange(n_docs), bag_lengths))
                ids.append(bag.token_ids + np.uint32(starts[m]))
            # Grouped by document (the bag of words orders each document's words itself).
            order = np.argsort(np.concatenate(docs), kind="stable")
            tokens = np.concatenate(ids)[order]
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        bow = cls.of(tokens, offsets, threads)
        weights = np.asarray(layout.weights, dtype=np.float32)
        if (weights == 1.0).all():
            return bow
        counts = bow.counts * weights[layout.modality_of(bow.words)]
        return cls(bow.offsets, bow.words, counts.astype(np.float32))
