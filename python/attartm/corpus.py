"""The tokenized corpus: one polars frame of (doc, token id, boundary level) rows."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from . import _bow
from ._core import WordCounter
from ._paths import parquet_files
from ._tokenize import KIND_PARAGRAPH, resolve_stopwords, text_column
from .vocabulary import Vocabulary

if TYPE_CHECKING:
    from .streaming import ParquetBatches

__all__ = ["Corpus"]

_TOKEN_SCHEMA = {"doc": pl.UInt32, "token": pl.UInt32, "boundary": pl.UInt8}


class Corpus:
    """A tokenized corpus.

    The tokens are stored in one polars DataFrame (:attr:`tokens`) with columns ``doc``
    (UInt32 document index), ``token`` (UInt32 id into :attr:`vocabulary`) and
    ``boundary`` (UInt8: 0 none, 1 the token starts a sentence, 2 it starts a paragraph),
    in document order then position order. Documents are identified by :attr:`ids`.

    Build a corpus with :meth:`from_polars`, :meth:`from_parquet`, :meth:`from_texts`
    or :meth:`from_token_ids`, or from word counts with :meth:`from_bow`,
    :meth:`from_gensim`, :meth:`from_vowpal_wabbit` or :meth:`from_uci`, not with the
    constructor. A corpus built from counts is a bag of words (:attr:`word_order` is False).

    Examples
    --------
    >>> corpus = Corpus.from_texts(["The cat sat. The cat ran!", "A dog."])
    >>> corpus.n_documents, corpus.n_tokens, corpus.vocabulary.words
    (2, 5, ['cat', 'dog', 'ran', 'sat'])
    """

    def __init__(
        self,
        tokens: pl.DataFrame,
        ids: pl.Series,
        vocabulary: Vocabulary,
        *,
        dropped: np.ndarray | None = None,
        word_order: bool = True,
    ) -> None:
        if tokens.schema != pl.Schema(_TOKEN_SCHEMA):
            raise TypeError(
                f"tokens must have the schema {_TOKEN_SCHEMA}, got {dict(tokens.schema)}; "
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

    # --- constructors -------------------------------------------------------------------

    # Bag-of-words inputs (count matrices, gensim, BigARTM's files) live in _bow.
    from_bow = classmethod(_bow.from_bow)
    from_gensim = classmethod(_bow.from_gensim)
    from_vowpal_wabbit = classmethod(_bow.from_vowpal_wabbit)
    from_uci = classmethod(_bow.from_uci)

    @classmethod
    def from_polars(
        cls,
        df: pl.DataFrame | pl.LazyFrame,
        text: str = "text",
        id: str | None = None,
        *,
        language: str = "en",
        min_df: float = 1,
        max_df: float = 1.0,
        max_vocab: int | None = None,
        stopwords: bool | Iterable[str] = True,
        vocabulary: Vocabulary | Sequence[str] | None = None,
        allow_empty: bool = False,
    ) -> Corpus:
        """Tokenize a text column of a polars frame.

        Parameters
        ----------
        df : polars.DataFrame or polars.LazyFrame
            One row per document.
        text : str
            The text column (String; null texts are empty documents).
        id : str, optional
            A column of document ids; default: the row numbers 0..D-1.
        language : {"en", "ru"}
            Selects the built-in stopword list.
        min_df, max_df : int or float
            Keep words found in at least ``min_df`` and at most ``max_df`` documents; an
            int is a document count, a float in [0, 1] a proportion of the documents.
        max_vocab : int, optional
            Keep only the ``max_vocab`` most frequent words (after min_df/max_df).
        stopwords : bool or iterable of str
            True: the built-in list for ``language``; False: none; or your own words.
            Stopwords are removed before the vocabulary (also a given one) applies.
        vocabulary : Vocabulary or list of str, optional
            Use this vocabulary as is (min_df, max_df and max_vocab are then ignored):
            unknown words are dropped and counted in :attr:`dropped`.
        allow_empty : bool
            With a given vocabulary, accept documents none of whose words is known (a
            batch of a larger corpus may be like that); otherwise that is an error.

        Returns
        -------
        Corpus
        """
        if isinstance(df, pl.LazyFrame):
            columns = df.collect_schema().names()
        elif isinstance(df, pl.DataFrame):
            columns = df.columns
        else:
            raise TypeError(
                f"from_polars expects a polars DataFrame or LazyFrame, got {type(df).__name__}; "
                "convert with pl.from_pandas / pl.from_arrow, or use Corpus.from_texts"
            )
        for role, name in (("text", text), ("id", id)):
            if name is not None and name not in columns:
                raise ValueError(
                    f"{role} column {name!r} not found; available columns: {columns}"
                    + (f"; pass {role}=<column name>" if role == "text" else "")
                )
        wanted = [text] if id is None or id == text else [text, id]
        frame = df.select(wanted)
        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        ids = frame.get_column(id) if id is not None else None
        return cls._from_text_series(
            frame.get_column(text),
            ids,
            language=language,
            min_df=min_df,
            max_df=max_df,
            max_vocab=max_vocab,
            stopwords=stopwords,
            vocabulary=vocabulary,
            allow_empty=allow_empty,
        )

    @classmethod
    def from_parquet(
        cls,
        source: str | Path | Sequence[str | Path],
        text: str = "text",
        id: str | None = None,
        **options: Any,
    ) -> Corpus:
        """Tokenize a text column of parquet files.

        Parameters
        ----------
        source : str, Path or list of them
            A file, a directory, or a glob such as ``"data/*.parquet"``.
        text, id, **options
            As in :meth:`from_polars`.

        Returns
        -------
        Corpus
        """
        lf = pl.scan_parquet(parquet_files(source))
        return cls.from_polars(lf, text=text, id=id, **options)

    @classmethod
    def scan_parquet(
        cls,
        source: str | Path | Sequence[str | Path],
        text: str = "text",
        id: str | None = None,
        *,
        vocabulary: Vocabulary,
        batch_size: int = 1000,
        language: str = "en",
        stopwords: bool | Iterable[str] = True,
    ) -> ParquetBatches:
        """Corpus batches of ``batch_size`` documents read lazily from parquet files, for
        corpora larger than memory: pass the result to ``model.fit_online`` (or iterate).

        ``vocabulary`` fixes the token ids (``Vocabulary.from_parquet(...)`` builds one in
        a streaming pass). The next batch is read and tokenized in a background thread
        while the current one is processed; iterating again reads the files again.
        """
        from .streaming import ParquetBatches

        return ParquetBatches(
            source, text, id, vocabulary=vocabulary, batch_size=batch_size,
            language=language, stopwords=stopwords,
        )  # fmt: skip

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str] | pl.Series,
        ids: Sequence[Any] | pl.Series | np.ndarray | None = None,
        **options: Any,
    ) -> Corpus:
        """Tokenize a list of texts.

        Parameters
        ----------
        texts : sequence of str
            One text per document.
        ids : sequence, optional
            Document ids, one per text; default: 0..D-1.
        **options
            As in :meth:`from_polars` (language, min_df, max_df, max_vocab, stopwords,
            vocabulary).

        Returns
        -------
        Corpus
        """
        if isinstance(texts, str):
            raise TypeError("from_texts expects a sequence of texts, not a single str")
        if isinstance(texts, pl.Series):
            series = texts
        else:
            texts = list(texts)
            for i, t in enumerate(texts):
                if not isinstance(t, str):
                    raise TypeError(
                        f"texts must be str; texts[{i}] is {type(t).__name__}"
                        + (" (use '' for an empty document)" if t is None else "")
                    )
            series = pl.Series("text", texts, dtype=pl.String)
        id_series = None
        if ids is not None:
            id_series = ids if isinstance(ids, pl.Series) else pl.Series("id", ids)
            if len(id_series) != len(series):
                raise ValueError(
                    f"got {len(id_series)} ids for {len(series)} texts; pass one id per text"
                )
        return cls._from_text_series(series, id_series, **options)

    @classmethod
    def from_token_ids(
        cls,
        tokens: Any,
        doc_offsets: Any,
        vocabulary: Vocabulary | Sequence[str],
        ids: Sequence[Any] | pl.Series | np.ndarray | None = None,
        boundaries: Any = None,
        *,
        word_order: bool = True,
    ) -> Corpus:
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

        Returns
        -------
        Corpus
        """
        vocab = _as_vocabulary(vocabulary)
        tok = _as_int_array(tokens, "tokens")
        off = _as_int_array(doc_offsets, "doc_offsets")
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
            b = _as_int_array(boundaries, "boundaries")
            if b.shape != tok.shape:
                raise ValueError(
                    f"boundaries must have one level per token: got {b.shape[0]} levels "
                    f"for {tok.shape[0]} tokens"
                )
            if b.size and (b.min() < 0 or b.max() > KIND_PARAGRAPH):
                raise ValueError("boundary levels must be 0 (none), 1 (sentence) or 2 (paragraph)")
            bnd = b.astype(np.uint8)
        n_docs = off.shape[0] - 1
        id_series = _default_ids(n_docs)
        if ids is not None:
            id_series = ids if isinstance(ids, pl.Series) else pl.Series("id", ids)
            if len(id_series) != n_docs:
                raise ValueError(
                    f"got {len(id_series)} ids for {n_docs} documents (len(doc_offsets) - 1)"
                )
        doc = np.repeat(np.arange(n_docs, dtype=np.uint32), steps)
        frame = pl.DataFrame(
            {"doc": doc, "token": tok.astype(np.uint32), "boundary": bnd},
            schema=_TOKEN_SCHEMA,
        )
        return cls(frame, id_series, vocab, word_order=word_order)

    @classmethod
    def _from_text_series(
        cls,
        texts: pl.Series,
        ids: pl.Series | None,
        *,
        language: str = "en",
        min_df: float = 1,
        max_df: float = 1.0,
        max_vocab: int | None = None,
        stopwords: bool | Iterable[str] = True,
        vocabulary: Vocabulary | Sequence[str] | None = None,
        allow_empty: bool = False,
    ) -> Corpus:
        texts = text_column(texts)
        n_docs = len(texts)
        if n_docs == 0:
            raise ValueError("the input has no documents (0 rows); a corpus needs at least one")
        stop = resolve_stopwords(stopwords, language)
        vocab = None if vocabulary is None else _as_vocabulary(vocabulary)
        if vocab is None:
            check_df_arguments(min_df, max_df, max_vocab)
            lo, hi = document_count_limits(min_df, max_df, n_docs)
            counter = WordCounter(sorted(stop))
            counter.update(texts)
            vocab = Vocabulary(counter.most_frequent(lo, hi, max_vocab))

        token_ids, offsets, boundaries, unknown = vocab._tokenizer(stop).tokenize(texts)
        dropped = None if vocabulary is None else unknown
        tokens = pl.DataFrame(
            {
                "doc": np.repeat(np.arange(n_docs, dtype=np.uint32), np.diff(offsets)),
                "token": token_ids,
                "boundary": boundaries,
            },
            schema=_TOKEN_SCHEMA,
        )
        if tokens.height == 0 and not (allow_empty and vocabulary is not None):
            if vocabulary is not None:
                raise ValueError(
                    f"no tokens left: none of the words of the {n_docs} documents is in the "
                    f"given vocabulary of {len(vocab)} words ({int(dropped.sum())} unknown "
                    "words dropped); check the language, the text column and the vocabulary"
                )
            raise ValueError(
                "no tokens left after tokenization and filtering "
                f"(min_df={min_df!r}, max_df={max_df!r}, max_vocab={max_vocab!r}, "
                f"stopwords={_describe_stopwords(stopwords, language)}): lower min_df, raise "
                "max_df or max_vocab, or check that the text column holds text"
            )
        if ids is None:
            ids = _default_ids(n_docs)
        corpus = cls(tokens, ids, vocab, dropped=dropped)
        offsets.flags.writeable = False
        corpus._offsets = offsets
        return corpus

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
            # Rows are sorted by doc, so a binary search finds each document's start.
            offsets = np.searchsorted(doc, np.arange(self.n_documents + 1), side="left")
            offsets = offsets.astype(np.int64)
            offsets.flags.writeable = False
            self._offsets = offsets
        return self._offsets

    @property
    def document_lengths(self) -> np.ndarray:
        """Tokens per document, shape (D,), int64."""
        return np.diff(self.doc_offsets)

    # --- subsets ------------------------------------------------------------------------

    def select(self, indices: Any) -> Corpus:
        """Return the documents at ``indices`` (in that order) as a new corpus.

        Parameters
        ----------
        indices : array-like of int, or boolean mask of length D
            Document indices (negative ones count from the end).

        Returns
        -------
        Corpus
            Same vocabulary.
        """
        idx = self._document_indices(indices)
        offsets = self.doc_offsets
        starts = offsets[idx]
        lengths = offsets[idx + 1] - starts
        new_starts = np.cumsum(lengths) - lengths
        # Row numbers of the selected documents' tokens, concatenated: a ragged gather.
        rows = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(
            starts - new_starts, lengths
        )
        frame = pl.DataFrame(
            {
                "doc": np.repeat(np.arange(idx.shape[0], dtype=np.uint32), lengths),
                "token": self.token_ids[rows],
                "boundary": self.boundaries[rows],
            },
            schema=_TOKEN_SCHEMA,
        )
        dropped = None if self._dropped is None else self._dropped[idx]
        return Corpus(
            frame, self._ids.gather(idx), self._vocabulary, dropped=dropped,
            word_order=self._word_order,
        )  # fmt: skip

    def split(self, test_size: float = 0.2, seed: int | None = 0) -> tuple[Corpus, Corpus]:
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

    def batches(self, batch_size: int) -> Iterator[Corpus]:
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
            yield Corpus(
                frame, self._ids.slice(start, end - start), self._vocabulary, dropped=dropped,
                word_order=self._word_order,
            )  # fmt: skip

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


# --- module helpers ---------------------------------------------------------------------


def _default_ids(n_docs: int) -> pl.Series:
    return pl.Series("id", np.arange(n_docs, dtype=np.uint32))


def _as_vocabulary(vocabulary: Vocabulary | Sequence[str]) -> Vocabulary:
    if isinstance(vocabulary, Vocabulary):
        return vocabulary
    if isinstance(vocabulary, str):
        raise TypeError("vocabulary must be a Vocabulary or a list of words, not a str")
    return Vocabulary(vocabulary)


def _as_int_array(values: Any, name: str) -> np.ndarray:
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


def check_df_arguments(min_df: Any, max_df: Any, max_vocab: Any) -> None:
    for name, value in (("min_df", min_df), ("max_df", max_df)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"{name} must be an int (a document count) or a float (a proportion), got {value!r}"
            )
        if isinstance(value, numbers.Integral):
            if value < 0:
                raise ValueError(f"{name}={value} is negative; a document count is >= 0")
        elif not 0.0 <= value <= 1.0:
            raise ValueError(
                f"{name}={value!r}: a float {name} is a proportion of documents in [0, 1]; "
                "pass an int for a document count"
            )
    if isinstance(max_df, numbers.Integral) and max_df < 1:
        raise ValueError(f"max_df={max_df} would remove every word; use max_df >= 1")
    if isinstance(max_df, float) and max_df == 0.0:
        raise ValueError("max_df=0.0 would remove every word; use a proportion in (0, 1]")
    same_kind = isinstance(min_df, numbers.Integral) == isinstance(max_df, numbers.Integral)
    if same_kind and max_df < min_df:
        raise ValueError(
            f"max_df={max_df!r} is smaller than min_df={min_df!r}; no word could be kept"
        )
    if max_vocab is not None and (
        isinstance(max_vocab, bool) or not isinstance(max_vocab, numbers.Integral)
    ):
        raise TypeError(f"max_vocab must be an int or None, got {max_vocab!r}")
    if max_vocab is not None and max_vocab < 1:
        raise ValueError(f"max_vocab={max_vocab} must be >= 1 (or None for no limit)")


def document_count_limits(min_df: float, max_df: float, n_docs: int) -> tuple[float, float]:
    lo = float(min_df) if isinstance(min_df, numbers.Integral) else min_df * n_docs
    hi = float(max_df) if isinstance(max_df, numbers.Integral) else max_df * n_docs
    if hi < lo:
        raise ValueError(
            f"max_df={max_df!r} corresponds to fewer documents ({hi:g}) than "
            f"min_df={min_df!r} ({lo:g}) for {n_docs} documents; no word could be kept"
        )
    return lo, hi


def _describe_stopwords(stopwords: Any, language: str) -> str:
    if stopwords is True:
        return f"True (built-in {language!r} list)"
    if stopwords is False or stopwords is None:
        return "False"
    return "a custom list"
