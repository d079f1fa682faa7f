"""Warm start: carrying a fitted model's state into ``partial_fit``, and growing its
vocabulary when a batch brings words it lacks (docs/mathematics.md §4)."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from .corpus import Corpus
from .vocabulary import Vocabulary

# The buffers _grown allocated (by id, while they live): only their spare rows are known
# to be untouched zeros.
_ROOMS: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def resume(model: Any) -> None:
    """Restores the training bookkeeping that a fitted state (one left by a fit, or a
    loaded model) does not keep: ``_positive`` = Σ_w max(n_wt, 0) (see
    ``TopicModel._reset_counts``)."""
    if model._positive is None:
        everything = np.arange(model._n_wt.shape[0], dtype=np.uint32)
        model._positive = model._block_sums(everything)[1]


def adopt(model: Any, batch: Corpus, grow: bool) -> Corpus:
    """``batch`` with token ids into the model's vocabulary. A batch built on another
    vocabulary is re-mapped when ``grow`` is set, the words the model lacks appended to it
    first (:func:`grow_rows`); without ``grow`` it is refused, as ``fit_online`` does."""
    vocabulary: Vocabulary = model._vocabulary
    if batch.vocabulary == vocabulary:
        return batch
    if not grow:
        raise ValueError(
            "the batch was built with a different vocabulary than the model's; build it with "
            "vocabulary=model.vocabulary, or pass grow_vocabulary=True to add its new words"
        )
    if model._layout.multimodal:
        raise ValueError(
            "grow_vocabulary grows the vocabulary of a text-only model; a model of several "
            "modalities needs batches built with vocabulary=model.vocabularies"
        )
    # Only the words the batch uses: its vocabulary may be a large shared one.
    used = np.unique(batch.token_ids)
    words = batch.vocabulary.words
    new = [words[i] for i in used if words[i] not in vocabulary]
    if new:
        grow_rows(model, new)
        vocabulary = model._vocabulary
    ids = np.zeros(len(words), dtype=np.uint32)
    ids[used] = [vocabulary.index(words[i]) for i in used]
    tokens = batch.tokens.with_columns(token=ids[batch.token_ids])
    return Corpus(tokens, batch.ids, vocabulary, dropped=batch._dropped)


def grow_rows(model: Any, words: list[str]) -> None:
    """Appends ``words`` to the model's vocabulary with rows n_wt = 0 and φ = 0
    (docs/mathematics.md §4): Φ's columns keep summing to 1, and the E-step reads a zero
    row as no evidence (norm_t of zeros is uniform) until the M-step gives it counts."""
    n_words = len(model._vocabulary) + len(words)
    for r in model._phi_regularizers():
        r.check(n_words, model.n_topics)
    vocabulary, before = Vocabulary([*model._vocabulary.words, *words]), model._vocabulary
    weights = getattr(model, "_word_weights", None)
    if weights is not None:
        # token_weight given per word cannot cover the new words: say so before any change.
        model._vocabulary = vocabulary
        try:
            weights()
        finally:
            model._vocabulary = before
    model._phi = _grown(model._phi, n_words)
    model._n_wt = _grown(model._n_wt, n_words)
    stamp = np.full(n_words, model._version, dtype=np.int64)
    stamp[: model._stamp.shape[0]] = model._stamp
    model._stamp = stamp
    model._vocabulary = vocabulary


def _grown(a: np.ndarray, n_rows: int) -> np.ndarray:
    """``a`` (C-contiguous, rows × T) with zero rows appended up to ``n_rows``: a view of
    the first rows of a buffer with room to spare, so that a stream adding a few words per
    batch copies the matrix only when the room doubles, not at every batch."""
    base = a.base
    if (
        base is not None
        and _ROOMS.get(id(base)) is base
        and base.ctypes.data == a.ctypes.data
        and base.shape[0] >= n_rows
    ):
        # A room of ours: rows past ``a`` were never written, still the zeros they began as.
        return base[:n_rows]
    # Zero pages cost no memory until written, so the spare room is free until used.
    room = np.zeros((max(n_rows, 2 * a.shape[0]), a.shape[1]), dtype=a.dtype)
    room[: a.shape[0]] = a
    _ROOMS[id(room)] = room
    return room[:n_rows]
