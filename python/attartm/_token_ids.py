"""Array inputs: a corpus from token ids and document offsets (text tokenized
elsewhere), as :meth:`attartm.Corpus.from_token_ids`; the bag-of-words inputs of ``_bow``
build their corpora through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from ._bags import bags_from_arrays, check_name
from ._documents import TOKEN_SCHEMA, D, default_ids
from ._tokenize import KIND_PARAGRAPH
from .vocabulary import Vocabulary, as_vocabulary


def from_token_ids(
    cls: type[D],
    tokens: Any,
    doc_offsets: Any,
    vocabulary: Vocabulary | Sequence[str],
    ids: Sequence[Any] | pl.Series | np.ndarray | None = None,
    boundaries: Any = None,
    *,
    word_order: bool = True,
    modalities: Mapping[str, tuple[Any, Any, Vocabulary | Sequence[str]]] | None = None,
) -> D:
    """Build a corpus from token id arrays (already tokenized text).

    Parameters
    ----------
    tokens : array-like of int, shape (N,)
        Token ids in ``[0, len(vocabulary))``, documents concatenated.
    doc_offsets : array-like of int, shape (D + 1,)
        Document d is ``tokens[doc_offsets[d]:doc_offsets[d + 1]]``; starts at 0,
        non-decreasing, ends at N.
    vocabulary : Vocabulary or list of str
    ids : sequence, optional
        Document ids; default 0..D-1.
    boundaries : array-like of int, shape (N,), optional
        Boundary levels 0/1/2 per token; default all 0.
    word_order : bool
        False if the tokens of a document stand in no meaningful order (a bag of
        words); AttentiveARTM then refuses the corpus.
    modalities : mapping, optional
        Other modalities: name -> ``(token_ids, doc_offsets, vocabulary)``, the values
        of every document as ids into the modality's own vocabulary, cut by D + 1
        offsets like the text's.

    Returns
    -------
    Corpus
    """
    vocab = as_vocabulary(vocabulary)
    tok = _int_array(tokens, "tokens")
    off = _int_array(doc_offsets, "doc_offsets")
    if off.shape[0] < 2:
        raise ValueError(
            f"doc_offsets needs D + 1 >= 2 entries (a corpus needs at least one "
            f"document), got {off.shape[0]}"
        )
    if off[0] != 0:
        raise ValueError(f"doc_offsets must start at 0, got doc_offsets[0]={off[0]}")
    steps = np.diff(off)
    if (steps < 0).any():
        i = int(np.flatnonzero(steps < 0)[0])
        raise ValueError(
            f"doc_offsets must be non-decreasing: doc_offsets[{i}]={off[i]} > "
            f"doc_offsets[{i + 1}]={off[i + 1]}"
        )
    if off[-1] != tok.shape[0]:
        raise ValueError(
            f"doc_offsets must end at len(tokens)={tok.shape[0]}, got doc_offsets[-1]={off[-1]}"
        )
    if tok.size:
        bad = (tok < 0) | (tok >= len(vocab))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"token id {tok[i]} at position {i} is out of range for a vocabulary "
                f"of {len(vocab)} words (ids must be in [0, {len(vocab)}))"
            )
    if boundaries is None:
        bnd = np.zeros(tok.shape[0], dtype=np.uint8)
    else:
        b = _int_array(boundaries, "boundaries")
        if b.shape != tok.shape:
            raise ValueError(
                f"boundaries must have one level per token: got {b.shape[0]} levels "
                f"for {tok.shape[0]} tokens"
            )
        if b.size and (b.min() < 0 or b.max() > KIND_PARAGRAPH):
            raise ValueError("boundary levels must be 0 (none), 1 (sentence) or 2 (paragraph)")
        bnd = b.astype(np.uint8)
    n_docs = off.shape[0] - 1
    id_series = default_ids(n_docs)
    if ids is not None:
        id_series = ids if isinstance(ids, pl.Series) else pl.Series("id", ids)
        if len(id_series) != n_docs:
            raise ValueError(
                f"got {len(id_series)} ids for {n_docs} documents (len(doc_offsets) - 1)"
            )
    doc = np.repeat(np.arange(n_docs, dtype=np.uint32), steps)
    frame = pl.DataFrame(
        {"doc": doc, "token": tok.astype(np.uint32), "boundary": bnd},
        schema=TOKEN_SCHEMA,
    )
    if modalities is not None and not isinstance(modalities, Mapping):
        raise TypeError("modalities must map names to (token_ids, doc_offsets, vocabulary)")
    bags = {
        check_name(m): bags_from_arrays(m, spec, n_docs) for m, spec in (modalities or {}).items()
    }
    return cls(frame, id_series, vocab, word_order=word_order, modalities=bags)


def _int_array(values: Any, name: str) -> np.ndarray:
    """A 1-D array of integers (an empty one of any dtype as int64)."""
    if isinstance(values, pl.Series):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr
