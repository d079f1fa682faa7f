"""The other modalities of a corpus (BigARTM's class_ids): labels, tags, authors, each a
bag of values per document with a vocabulary of its own (docs/mathematics.md §7).

A :class:`Bags` holds one modality: a frame of (doc, token id) rows in document order, no
positions. :func:`bags_from_series` reads a column of strings or lists of strings, and
:func:`check_name` the name a modality is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from .vocabulary import Vocabulary, as_vocabulary

BAG_SCHEMA = {"doc": pl.UInt32, "token": pl.UInt32}
#: The name of the text modality (the corpus's token stream).
TEXT = "text"


def check_name(name: Any) -> str:
    """A modality name: a non-empty str other than "text" (the corpus's own tokens)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"modality names must be non-empty strings, not {name!r}")
    if name == TEXT:
        raise ValueError(
            'the modality "text" is the corpus\'s text; name the other modalities otherwise '
            '(e.g. modalities={"label": "category"})'
        )
    return name


def document_offsets(doc: np.ndarray, n_documents: int) -> np.ndarray:
    """The D + 1 offsets of rows sorted by their document ``doc`` (read-only int64): a
    binary search finds each document's first row."""
    offsets = np.searchsorted(doc, np.arange(n_documents + 1), side="left").astype(np.int64)
    offsets.flags.writeable = False
    return offsets


def ragged_rows(offsets: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of documents ``idx`` (in that order) of a frame cut by ``offsets``, and
    their lengths: a ragged gather without a loop over documents."""
    starts = offsets[idx]
    lengths = offsets[idx + 1] - starts
    new_starts = np.cumsum(lengths) - lengths
    rows = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - new_starts, lengths)
    return rows, lengths


class Bags:
    """One modality of a corpus: every document's bag of values as token ids into
    ``vocabulary``, in document order (a document may have none, or a value twice)."""

    def __init__(
        self,
        tokens: pl.DataFrame,
        vocabulary: Vocabulary,
        n_documents: int,
        dropped: int = 0,
    ) -> None:
        if tokens.schema != pl.Schema(BAG_SCHEMA):
            raise TypeError(f"bags must have the schema {BAG_SCHEMA}, got {dict(tokens.schema)}")
        self.tokens = tokens.rechunk()
        self.vocabulary = vocabulary
        self.n_documents = n_documents
        self.dropped = dropped
        self._offsets: np.ndarray | None = None

    @property
    def token_ids(self) -> np.ndarray:
        """Token ids into the modality's vocabulary, uint32, documents concatenated."""
        return self.tokens.get_column("token").to_numpy()

    @property
    def doc_offsets(self) -> np.ndarray:
        """int64[D + 1]: document d's values are ``token_ids[o[d]:o[d+1]]``."""
        if self._offsets is None:
            doc = self.tokens.get_column("doc").to_numpy()
            self._offsets = document_offsets(doc, self.n_documents)
        return self._offsets

    @property
    def n_tokens(self) -> int:
        return self.tokens.height

    def select(self, idx: np.ndarray) -> Bags:
        """The bags of documents ``idx`` (checked indices), in that order."""
        rows, lengths = ragged_rows(self.doc_offsets, idx)
        frame = pl.DataFrame(
            {
                "doc": np.repeat(np.arange(idx.shape[0], dtype=np.uint32), lengths),
                "token": self.token_ids[rows],
            },
            schema=BAG_SCHEMA,
        )
        return Bags(frame, self.vocabulary, int(idx.shape[0]))

    def slice(self, start: int, end: int) -> Bags:
        """The bags of documents start..end (exclusive)."""
        lo, hi = int(self.doc_offsets[start]), int(self.doc_offsets[end])
        frame = self.tokens.slice(lo, hi - lo).with_columns(
            pl.col("doc") - pl.lit(start, pl.UInt32)
        )
        return Bags(frame, self.vocabulary, end - start)

    def to_polars(self, ids: pl.Series) -> pl.DataFrame:
        """One row per value: ``id``, ``token`` (the value), ``token_id``."""
        token_id = self.tokens.get_column("token")
        return pl.DataFrame(
            {
                "id": ids.gather(self.tokens.get_column("doc")),
                "token": self.vocabulary.to_polars().gather(token_id),
                "token_id": token_id,
            }
        )


def values_column(series: pl.Series, name: str) -> pl.Series:
    """A modality's column as List(String): a string per document becomes a list of one,
    a null an empty list; numbers and categories become their text."""
    dtype = series.dtype
    if isinstance(dtype, (pl.List, pl.Array)):
        inner = dtype.inner
        if isinstance(inner, (pl.List, pl.Array, pl.Struct)):
            raise TypeError(
                f"modality {name!r}: the column holds lists of {inner}; give a string or a "
                "list of strings per document"
            )
        out = series.cast(pl.List(pl.String))
    elif isinstance(dtype, pl.Struct) or dtype == pl.Object:
        raise TypeError(
            f"modality {name!r}: the column has dtype {dtype}; give a string or a list of "
            "strings per document"
        )
    else:
        strings = series.cast(pl.String).to_frame("value")
        out = strings.select(pl.concat_list("value")).to_series()
    return out.fill_null([]).list.drop_nulls()


def values_series(name: str, values: Any) -> pl.Series:
    """One value per document (a str, a list of str or None) as a polars column."""
    if isinstance(values, pl.Series):
        return values
    values = list(values)
    if any(isinstance(v, (list, tuple)) for v in values):
        values = [[v] if isinstance(v, str) else ([] if v is None else list(v)) for v in values]
        return pl.Series(name, values, dtype=pl.List(pl.String))
    return pl.Series(name, values)


def bags_from_series(series: pl.Series, name: str, vocabulary: Vocabulary | None = None) -> Bags:
    """A modality from a column (strings or lists of strings, one entry per document).

    Without ``vocabulary`` every value that occurs is a word, most frequent first; with
    one, values it lacks are dropped (counted in ``dropped``)."""
    values = values_column(series, name)
    n_docs = len(values)
    lengths = values.list.len().to_numpy().astype(np.int64)
    flat = values.explode().drop_nulls() if int(lengths.sum()) else pl.Series([], dtype=pl.String)
    if vocabulary is None:
        vocabulary = Vocabulary.from_tokens(flat)
    ids = flat.replace_strict(
        vocabulary.to_polars(), pl.Series(np.arange(len(vocabulary), dtype=np.uint32)),
        default=None, return_dtype=pl.UInt32,
    )  # fmt: skip
    doc = np.repeat(np.arange(n_docs, dtype=np.uint32), lengths)
    known = ids.is_not_null().to_numpy()
    frame = pl.DataFrame(
        {"doc": doc[known], "token": ids.filter(pl.Series(known)).to_numpy()},
        schema=BAG_SCHEMA,
    )
    return Bags(frame, vocabulary, n_docs, dropped=int((~known).sum()))


def bags_from_arrays(name: str, spec: Any, n_documents: int) -> Bags:
    """A modality given as arrays: ``(token_ids, doc_offsets, vocabulary)``, the ids into
    the vocabulary, documents cut by the D + 1 offsets like the text's."""
    if not (isinstance(spec, tuple) and len(spec) == 3):
        raise TypeError(
            f"modality {name!r}: give a (token_ids, doc_offsets, vocabulary) tuple, not "
            f"{type(spec).__name__}"
        )
    tokens, offsets, vocabulary = spec
    vocabulary = as_vocabulary(vocabulary)
    tok = np.asarray(tokens)
    off = np.asarray(offsets)
    if tok.ndim != 1 or off.ndim != 1 or (tok.size and not np.issubdtype(tok.dtype, np.integer)):
        raise TypeError(f"modality {name!r}: token_ids and doc_offsets must be 1-D integer arrays")
    off = off.astype(np.int64)
    if off.shape[0] != n_documents + 1 or off[0] != 0 or off[-1] != tok.shape[0]:
        raise ValueError(
            f"modality {name!r}: doc_offsets must hold D + 1 = {n_documents + 1} values from 0 "
            f"to len(token_ids) = {tok.shape[0]}, got {off.shape[0]} values"
        )
    if (np.diff(off) < 0).any():
        raise ValueError(f"modality {name!r}: doc_offsets must be non-decreasing")
    if tok.size and (tok.min() < 0 or tok.max() >= len(vocabulary)):
        raise ValueError(
            f"modality {name!r}: token ids must lie in [0, {len(vocabulary)}) (its vocabulary)"
        )
    frame = pl.DataFrame(
        {
            "doc": np.repeat(np.arange(n_documents, dtype=np.uint32), np.diff(off)),
            "token": tok.astype(np.uint32),
        },
        schema=BAG_SCHEMA,
    )
    return Bags(frame, vocabulary, n_documents)


def modality_vocabularies(
    vocabulary: Any,
) -> tuple[Vocabulary | None, dict[str, Vocabulary]]:
    """A ``vocabulary`` argument split into the text's (or None) and the other modalities'
    ones: a Vocabulary or list of words is the text's; a mapping (``model.vocabularies``,
    ``corpus.vocabularies``) names them all, "text" among them."""
    if vocabulary is None:
        return None, {}
    if isinstance(vocabulary, Mapping):
        text = vocabulary.get(TEXT)
        others = {
            check_name(name): as_vocabulary(v) for name, v in vocabulary.items() if name != TEXT
        }
        return (None if text is None else as_vocabulary(text)), others
    return as_vocabulary(vocabulary), {}
