"""The keyword arguments of ``pyLDAvis.prepare``, built from a model's arrays (pyLDAvis
itself is not needed to build them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .corpus import Corpus


def arguments(
    phi: np.ndarray,
    words: Sequence[str],
    theta_of: Callable[[Corpus], np.ndarray],
    corpus: Corpus | Iterable[Corpus],
) -> dict[str, Any]:
    """The keyword arguments of ``pyLDAvis.prepare`` from Φ (W×T), the vocabulary's
    words and ``theta_of(batch)`` (p(t|d) of a batch's documents, D×T), over ``corpus``
    or its batches (read once); see ``TopicModel.to_pyldavis``."""
    batches = [corpus] if isinstance(corpus, Corpus) else corpus
    n_words = len(words)
    thetas, lengths = [], []
    term_frequency = np.zeros(n_words, dtype=np.int64)
    for batch in batches:
        thetas.append(theta_of(batch))
        lengths.append(batch.document_lengths)
        term_frequency += np.bincount(batch.token_ids, minlength=n_words)
    if not thetas:
        raise ValueError("to_pyldavis got no documents")
    topic_term = np.asarray(phi, dtype=np.float64).T
    return {
        "topic_term_dists": topic_term / topic_term.sum(axis=1, keepdims=True),
        "doc_topic_dists": np.vstack(thetas).astype(np.float64),
        "doc_lengths": np.concatenate(lengths),
        "vocab": list(words),
        "term_frequency": term_frequency,
    }
