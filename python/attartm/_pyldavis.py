"""The keyword arguments of ``pyLDAvis.prepare`` for a fitted model (attached to every
model as ``to_pyldavis``); pyLDAvis itself is not needed to build them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from .corpus import Corpus

if TYPE_CHECKING:
    from ._model import TopicModel


def to_pyldavis(model: TopicModel, corpus: Corpus | Iterable[Corpus]) -> dict[str, Any]:
    """The keyword arguments of ``pyLDAvis.prepare`` for this model on ``corpus``.

    Parameters
    ----------
    corpus : Corpus or iterable of Corpus
        The documents to show, built with the model's vocabulary; or batches of them
        (e.g. ``Corpus.scan_parquet(...)``), read once, for a corpus larger than memory.

    Returns
    -------
    dict
        ``topic_term_dists`` (T×W, p(w|t)), ``doc_topic_dists`` (D×T, p(t|d) as
        ``transform`` infers it), ``doc_lengths`` (D), ``vocab`` (W words) and
        ``term_frequency`` (W, each word's count in ``corpus``): numpy arrays and a list.
        Use as ``pyLDAvis.prepare(**model.to_pyldavis(corpus))``.
    """
    model._require_fitted()
    batches = [corpus] if isinstance(corpus, Corpus) else corpus
    n_words = len(model.vocabulary)
    thetas, lengths = [], []
    term_frequency = np.zeros(n_words, dtype=np.int64)
    for batch in batches:
        theta = model.transform(batch).select(model.topic_names).to_numpy()
        thetas.append(theta)
        lengths.append(batch.document_lengths)
        term_frequency += np.bincount(batch.token_ids, minlength=n_words)
    if not thetas:
        raise ValueError("to_pyldavis got no documents")
    phi = np.asarray(model.phi, dtype=np.float64).T
    return {
        "topic_term_dists": phi / phi.sum(axis=1, keepdims=True),
        "doc_topic_dists": np.vstack(thetas).astype(np.float64),
        "doc_lengths": np.concatenate(lengths),
        "vocab": list(model.vocabulary.words),
        "term_frequency": term_frequency,
    }
