"""The container of a tokenized corpus and its views: one polars frame of (doc, token id,
boundary level) rows with the document ids and the vocabulary, and the bags of the other
modalities (``_bags``) when it has any; subsets of documents
(:meth:`~Documents.select`, :meth:`~Documents.split`, :meth:`~Documents.batches`) and
frames of tokens and word counts.

:class:`attartm.Corpus` adds the constructors (text, arrays, bags of words) to this
class; they live in their own modules (``_texts``, ``_token_ids``, ``_bow``), which
build the subclass they are called on through this class's constructor.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import numpy as np
import polars as pl

from ._bags import TEXT, Bags, check_name, document_offsets, ragged_rows
from ._source import SourceText
from .vocabulary import Vocabulary

TOKEN_SCHEMA = {"doc": pl.UInt32, "token": pl.UInt32, "boundary": pl.UInt8}

#: A Documents class or subclass (``Corpus``): what a constructor or a view returns.
D = TypeVar("D", bound="Documents")


def default_ids(n_docs: int) -> pl.Series:
    """The document ids 0..D-1 of a corpus given none."""
    return pl.Series("id", np.arange(n_docs, dtype=np.uint32))


class Documents:
    """The tokens, document ids and vocabulary of a corpus, with its subsets and views
    (see :class:`attartm.Corpus`, which is what to build and use)."""

    def __init__(
        self,
        tokens: pl.DataFrame,
        ids: pl.Series,
        vocabulary: Vocabulary,
        *,
        dropped: np.ndarray | None = None,
        word_order: bool = True,
        modalities: Mapping[str, Bags] | None = None,
    ) -> None:
        if tokens.schema != pl.Schema(TOKEN_SCHEMA):
            raise TypeError(
                f"tokens must have the schema {TOKEN_SCHEMA}, got {dict(tokens.schema)}; "
                "use Corpus.from_token_ids to build a corpus from arrays"
            )
        if len(ids) == 0:
            raise ValueError("a corpus needs at least one document")
        # One chunk per column, so token_ids/boundaries are zero-copy numpy views.
        self._tokens = tokens.rechunk()
        self._ids = ids.alias("id")
        self._vocabulary = vocabulary
        self._dropped = dropped
        self._offsets: np.ndarray | None = None
        self._word_order = bool(word_order)
        self._bags: dict[str, Bags] = {}
        for name, bags in dict(modalities or {}).items():
            check_name(name)
            if not isinstance(bags, Bags) or bags.n_documents != len(ids):
                raise ValueError(
                    f"modality {name!r} must hold the bags of the corpus's {len(ids)} documents"
                )
            self._bags[name] = bags
        #: The source text, for a corpus built with keep_text=True (see ``_source``).
        self._source: SourceText | None = None

    # --- properties ---------------------------------------------------------------------

    @property
    def tokens(self) -> pl.DataFrame:
        """The token frame: ``doc`` (UInt32), ``token`` (UInt32), ``boundary`` (UInt8)."""
        return self._tokens

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary; token ids index into it."""
        return self._vocabulary

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities: ``"text"`` (the tokens), then the others in the order given."""
        return (TEXT, *self._bags)

    @property
    def vocabularies(self) -> dict[str, Vocabulary]:
        """The vocabulary of every modality by name (``"text"``: :attr:`vocabulary`)."""
        return {TEXT: self._vocabulary, **{m: b.vocabulary for m, b in self._bags.items()}}

    def values(self, modality: str) -> pl.DataFrame:
        """The values of a modality other than text, one row per value: ``id``, ``token``
        (the value) and ``token_id`` (its id in ``vocabularies[modality]``)."""
        return self._bag(modality).to_polars(self._ids)

    def _bag(self, modality: str) -> Bags:
        if modality not in self._bags:
            raise ValueError(
                f"the corpus has no modality {modality!r}; its modalities are "
                f"{list(self.modalities)}"
                + ("" if modality != TEXT else " (the text's tokens are token_ids)")
            )
        return self._bags[modality]

    def without(self: D, *modalities: str) -> D:
        """The corpus without the given modalities (not "text"): what a model infers from
        when, say, a test corpus's labels are to be predicted rather than read."""
        for m in modalities:
            self._bag(m)
        kept = {m: b for m, b in self._bags.items() if m not in modalities}
        return self._with(self._tokens, self._ids, self._dropped, kept)

    def _with(
        self: D, tokens, ids, dropped, bags: Mapping[str, Bags], source: SourceText | None = None
    ) -> D:
        """A corpus of these tokens, ids and bags; ``source`` is their source text (the
        corpus's own when the tokens are its own)."""
        corpus = type(self)(
            tokens, ids, self._vocabulary, dropped=dropped, word_order=self._word_order,
            modalities=bags,
        )  # fmt: skip
        if tokens is self._tokens:
            corpus._offsets = self._offsets
            corpus._source = self._source
        else:
            corpus._source = source
        return corpus

    @property
    def ids(self) -> pl.Series:
        """The document ids (a polars Series named ``id``, one per document)."""
        return self._ids

    @property
    def dropped(self) -> int:
        """Tokens dropped because they are not in a given vocabulary (0 otherwise)."""
        return 0 if self._dropped is None else int(self._dropped.sum())

    @property
    def word_order(self) -> bool:
        """Whether the tokens of a document stand in text order; False for a bag of words
        (built from counts), whose tokens are in an arbitrary order."""
        return self._word_order

    @property
    def source(self) -> pl.Series | None:
        """The documents' texts, when the corpus was built with ``keep_text=True``
        (else None)."""
        return None if self._source is None else self._source.texts

    @property
    def char_spans(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(starts, ends), int64[N] each, when the corpus keeps its source text: token i
        was read from ``source[doc][starts[i]:ends[i]]`` (Python string indices; the
        token is that text lowercased). None otherwise."""
        return None if self._source is None else (self._source.starts, self._source.ends)

    @property
    def n_documents(self) -> int:
        """The number of documents D (documents without tokens included)."""
        return len(self._ids)

    @property
    def n_tokens(self) -> int:
        """The number of tokens N."""
        return self._tokens.height

    def __len__(self) -> int:
        return self.n_documents

    @property
    def token_ids(self) -> np.ndarray:
        """Token ids, shape (N,), uint32: a read-only view of the ``token`` column."""
        return self._tokens.get_column("token").to_numpy()

    @property
    def boundaries(self) -> np.ndarray:
        """Boundary levels, shape (N,), uint8: 0 none, 1 sentence start, 2 paragraph start."""
        return self._tokens.get_column("boundary").to_numpy()

    @property
    def doc_offsets(self) -> np.ndarray:
        """Document start offsets, shape (D + 1,), int64; document d is ``[o[d], o[d+1])``."""
        if self._offsets is None:
            doc = self._tokens.get_column("doc").to_numpy()
            self._offsets = document_offsets(doc, self.n_documents)
        return self._offsets

    @property
    def document_lengths(self) -> np.ndarray:
        """Tokens per document, shape (D,), int64."""
        return np.diff(self.doc_offsets)

    # --- subsets ------------------------------------------------------------------------

    def select(self: D, indices: Any) -> D:
        """Return the documents at ``indices`` (in that order) as a new corpus.

        Parameters
        ----------
        indices : array-like of int, or boolean mask of length D
            Document indices (negative ones count from the end).

        Returns
        -------
        Corpus
            Same vocabularies, every modality kept.
        """
        idx = self._document_indices(indices)
        rows, lengths = ragged_rows(self.doc_offsets, idx)
        frame = pl.DataFrame(
            {
                "doc": np.repeat(np.arange(idx.shape[0], dtype=np.uint32), lengths),
                "token": self.token_ids[rows],
                "boundary": self.boundaries[rows],
            },
            schema=TOKEN_SCHEMA,
        )
        dropped = None if self._dropped is None else self._dropped[idx]
        bags = {m: b.select(idx) for m, b in self._bags.items()}
        source = None if self._source is None else self._source.select(idx, rows)
        return self._with(frame, self._ids.gather(idx), dropped, bags, source)

    def split(self: D, test_size: float = 0.2, seed: int | None = 0) -> tuple[D, D]:
        """Split the documents at random into a train and a test corpus.

        Parameters
        ----------
        test_size : float or int
            A proportion in (0, 1) (rounded up to whole documents) or a document count.
        seed : int, optional
            The random seed; the same seed gives the same split.

        Returns
        -------
        (Corpus, Corpus)
            Train and test; each keeps the original document order and the vocabulary.
        """
        n = self.n_documents
        if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
            raise TypeError(f"test_size must be a float or an int, got {test_size!r}")
        if isinstance(test_size, numbers.Integral):
            n_test = int(test_size)
        else:
            if not 0.0 < test_size < 1.0:
                raise ValueError(
                    f"test_size={test_size!r}: a float test_size is a proportion in (0, 1)"
                )
            n_test = math.ceil(test_size * n)
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"test_size={test_size!r} gives {n_test} test documents out of {n}; both "
                "parts need at least one document"
            )
        order = np.random.default_rng(seed).permutation(n)
        return self.select(np.sort(order[n_test:])), self.select(np.sort(order[:n_test]))

    def batches(self: D, batch_size: int) -> Iterator[D]:
        """Yield consecutive batches of ``batch_size`` documents (the last may be smaller).

        Parameters
        ----------
        batch_size : int
            Documents per batch.

        Yields
        ------
        Corpus
            Same vocabulary.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        offsets = self.doc_offsets
        n = self.n_documents
        for start in range(0, n, batch_size):
            end = min(start + batch_size, n)
            lo, hi = int(offsets[start]), int(offsets[end])
            frame = self._tokens.slice(lo, hi - lo).with_columns(
                pl.col("doc") - pl.lit(start, pl.UInt32)
            )
            dropped = None if self._dropped is None else self._dropped[start:end]
            bags = {m: b.slice(start, end) for m, b in self._bags.items()}
            source = (
                None if self._source is None else self._source.slice(start, end - start, lo, hi)
            )
            yield self._with(frame, self._ids.slice(start, end - start), dropped, bags, source)

    # --- views --------------------------------------------------------------------------

    def to_polars(self) -> pl.DataFrame:
        """One row per token.

        Returns
        -------
        polars.DataFrame
            Columns ``id``, ``position`` (UInt32, within the document), ``token`` (String),
            ``token_id`` (UInt32), ``boundary`` (UInt8).
        """
        lengths = self.document_lengths
        position = np.arange(self.n_tokens, dtype=np.int64) - np.repeat(
            self.doc_offsets[:-1], lengths
        )
        token_id = self._tokens.get_column("token")
        return pl.DataFrame(
            {
                "id": self._ids.gather(self._tokens.get_column("doc")),
                "position": pl.Series(position, dtype=pl.UInt32),
                "token": self._vocabulary.to_polars().gather(token_id),
                "token_id": token_id,
                "boundary": self._tokens.get_column("boundary"),
            }
        )

    def bag_of_words(self) -> pl.DataFrame:
        """Word counts per document.

        Returns
        -------
        polars.DataFrame
            Columns ``id``, ``token_id`` (UInt32), ``token`` (String), ``count`` (UInt32);
            one row per distinct word of each document, sorted by document then token id.
        """
        counts = (
            self._tokens.lazy()
            .group_by("doc", "token")
            .agg(count=pl.len().cast(pl.UInt32))
            .sort("doc", "token")
            .collect()
        )
        return pl.DataFrame(
            {
                "id": self._ids.gather(counts.get_column("doc")),
                "token_id": counts.get_column("token"),
                "token": self._vocabulary.to_polars().gather(counts.get_column("token")),
                "count": counts.get_column("count"),
            }
        )

    def __repr__(self) -> str:
        return (
            f"Corpus({self.n_documents:,} documents, {self.n_tokens:,} tokens, "
            f"vocabulary of {len(self._vocabulary):,} words"
            + ("" if self._word_order else ", bag of words")
            + "".join(
                f", {m}: {b.n_tokens:,} values of {len(b.vocabulary):,}"
                for m, b in self._bags.items()
            )
            + ")"
        )

    # --- helpers ------------------------------------------------------------------------

    def _document_indices(self, indices: Any) -> np.ndarray:
        if isinstance(indices, pl.Series):
            indices = indices.to_numpy()
        idx = np.asarray(indices)
        n = self.n_documents
        if idx.dtype == np.bool_:
            if idx.shape != (n,):
                raise ValueError(
                    f"a boolean mask must have one entry per document ({n}), got shape {idx.shape}"
                )
            idx = np.flatnonzero(idx)
        elif idx.ndim == 0:
            raise TypeError("select expects a sequence of document indices, not a scalar")
        elif idx.size == 0:
            idx = idx.astype(np.int64)
        elif not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"document indices must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.int64).ravel()
        if idx.size == 0:
            raise ValueError("select got no documents; a corpus needs at least one")
        out = (idx < -n) | (idx >= n)
        if out.any():
            raise IndexError(
                f"document index {idx[np.flatnonzero(out)[0]]} is out of range for a corpus "
                f"of {n} documents"
            )
        return np.where(idx < 0, idx + n, idx)
