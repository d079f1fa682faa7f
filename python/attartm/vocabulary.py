"""An ordered vocabulary: token id = position in the word list."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import overload

import polars as pl

from . import _arrays
from ._core import Tokenizer, WordCounter
from ._document_frequency import check_df_arguments, document_count_limits
from ._parquet import file_chunks
from ._paths import parquet_files
from ._pipeline import prefetch
from ._tokenize import resolve_stopwords

# Text per batch of the streaming vocabulary pass at most: large enough that the per-batch
# merge of counts is paid rarely, small enough that two batches of long documents (the one
# counted, the one read meanwhile) stay a small part of the pass's memory.
BATCH_BYTES = 32 << 20

__all__ = ["Vocabulary", "as_vocabulary"]


class Vocabulary:
    """An ordered list of unique words; a word's token id is its index.

    Parameters
    ----------
    words : sequence of str
        The words, in id order. They must be unique.

    Examples
    --------
    >>> vocab = Vocabulary(["space", "god", "car"])
    >>> vocab.index("god"), vocab[2], "car" in vocab, len(vocab)
    (1, 'car', True, 3)
    """

    __slots__ = ("_hash", "_index", "_tokenizers", "_words")

    def __init__(self, words: Iterable[str]) -> None:
        if isinstance(words, str):
            raise TypeError("Vocabulary expects a sequence of words, not a single str")
        if isinstance(words, pl.Series):
            words = words.to_list()
        words = list(words)
        for i, w in enumerate(words):
            if not isinstance(w, str):
                raise TypeError(f"vocabulary words must be str; word {i} is {type(w).__name__}")
        index = {w: i for i, w in enumerate(words)}
        if len(index) != len(words):
            dup = next(w for w, n in Counter(words).items() if n > 1)
            raise ValueError(
                f"vocabulary words must be unique; {dup!r} occurs more than once "
                f"({len(words) - len(index)} duplicate(s) in total)"
            )
        self._words: list[str] = words
        self._index: dict[str, int] = index
        self._tokenizers: dict[frozenset[str], Tokenizer] = {}
        self._hash: int | None = None

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_counts(cls, counts: Mapping[str, int] | pl.DataFrame) -> Vocabulary:
        """Build a vocabulary ordered by descending count, then alphabetically.

        Parameters
        ----------
        counts : mapping or polars.DataFrame
            Word -> count, or a frame with columns ``word`` (str) and ``count`` (int).

        Returns
        -------
        Vocabulary
        """
        if isinstance(counts, pl.DataFrame):
            missing = {"word", "count"} - set(counts.columns)
            if missing:
                raise ValueError(
                    f"counts frame needs columns 'word' and 'count'; missing {sorted(missing)}"
                )
            frame = counts.select("word", "count")
        else:
            frame = pl.DataFrame(
                {"word": list(counts.keys()), "count": list(counts.values())},
                schema={"word": pl.String, "count": pl.Int64},
            )
        # Byte-wise string order equals Python's code point order, so ties break the same
        # way everywhere and the ids are deterministic.
        words = frame.sort(["count", "word"], descending=[True, False])["word"]
        return cls(words.to_list())

    @classmethod
    def from_parquet(
        cls,
        source: str | os.PathLike | Sequence[str | os.PathLike],
        text: str = "text",
        *,
        language: str = "en",
        min_df: float = 1,
        max_df: float = 1.0,
        max_vocab: int | None = None,
        stopwords: bool | Iterable[str] = True,
        batch_size: int = 10_000,
    ) -> Vocabulary:
        """The vocabulary of parquet files (a path, folder, glob or list), built in one
        streaming pass; the same words in the same order as
        ``Corpus.from_parquet(...).vocabulary``, whatever the batch size.

        Per batch of at most ``batch_size`` documents (and about 32 MiB of text, read as
        a slice of its file), each word's count and document frequency are added into
        running totals whose size is the number of distinct words, never the corpus size.
        The next batch is read in a background thread while the current one is counted.
        The batches are the reader's as they come (counting needs no fixed batch size), and
        large ones: the per-batch work of merging counts is then paid rarely, while memory
        holds the texts of two batches besides the totals.
        """
        check_df_arguments(min_df, max_df, max_vocab)
        batch_size = _arrays.positive_int("batch_size", batch_size)
        counter = WordCounter(sorted(resolve_stopwords(stopwords, language)))
        chunks = file_chunks(parquet_files(source), [text], batch_size, max_bytes=BATCH_BYTES)
        for frame in prefetch(chunks, name="attartm-vocabulary-reader"):
            texts = frame.get_column(text)
            if texts.dtype != pl.String:
                raise TypeError(
                    f"the text column {text!r} has dtype {texts.dtype}, expected String"
                )
            counter.update(texts)
        n_docs = counter.n_documents
        if n_docs == 0:
            raise ValueError("the parquet files hold no documents (0 rows)")
        lo, hi = document_count_limits(min_df, max_df, n_docs)
        words = counter.most_frequent(lo, hi, max_vocab)
        if not words:
            raise ValueError(
                f"no word passes min_df={min_df!r}, max_df={max_df!r} over {n_docs} documents"
            )
        return cls(words)

    @classmethod
    def from_parquet_values(
        cls, source: str | os.PathLike | Sequence[str | os.PathLike], column: str
    ) -> Vocabulary:
        """The vocabulary of a modality stored in parquet files (a column of strings or of
        lists of strings: labels, tags), most frequent value first, counted in a
        streaming pass that holds one count per distinct value: the vocabulary
        ``Corpus.from_parquet(..., modalities={name: column})`` gives that modality."""
        lf = pl.scan_parquet(parquet_files(source))
        names = lf.collect_schema().names()
        if column not in names:
            raise ValueError(f"column {column!r} not found; available columns: {names}")
        dtype = lf.collect_schema()[column]
        values = pl.col(column)
        if isinstance(dtype, (pl.List, pl.Array)):
            values = values.explode()
        counts = (
            lf.select(values.cast(pl.String).alias("word"))
            .drop_nulls()
            .group_by("word")
            .agg(count=pl.len())
            .collect(engine="streaming")
        )
        return cls.from_counts(counts)

    @classmethod
    def from_tokens(cls, tokens: Iterable[str] | pl.Series) -> Vocabulary:
        """Build a vocabulary from a stream of tokens, most frequent first.

        Parameters
        ----------
        tokens : iterable of str or polars.Series
            Tokens (already normalized); every occurrence counts once.

        Returns
        -------
        Vocabulary
        """
        series = tokens if isinstance(tokens, pl.Series) else pl.Series(list(tokens))
        if series.len() == 0:
            return cls([])
        counts = series.cast(pl.String).drop_nulls().rename("word").value_counts(name="count")
        return cls.from_counts(counts)

    # --- sequence protocol --------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._words)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        return self._words[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def index(self, word: str) -> int:
        """Return the token id of ``word``.

        Raises
        ------
        KeyError
            If the word is not in the vocabulary.
        """
        try:
            return self._index[word]
        except KeyError:
            raise KeyError(
                f"{word!r} is not in the vocabulary ({len(self)} words); "
                "words are lowercased letter runs, check spelling and case"
            ) from None

    def get(self, word: str, default: int | None = None) -> int | None:
        """Return the token id of ``word``, or ``default`` if it is unknown."""
        return self._index.get(word, default)

    @property
    def words(self) -> list[str]:
        """The words in id order (a copy)."""
        return list(self._words)

    def to_polars(self) -> pl.Series:
        """The words as a polars String Series named ``word`` (index = token id)."""
        return pl.Series("word", self._words, dtype=pl.String)

    def _tokenizer(self, stopwords: frozenset[str]) -> Tokenizer:
        """The Rust tokenizer of this vocabulary and stopword set, built once (its hash
        table is what turns words into ids); a stopword is dropped even if it is a word."""
        tokenizer = self._tokenizers.get(stopwords)
        if tokenizer is None:
            tokenizer = Tokenizer(self._words, sorted(stopwords))
            self._tokenizers[stopwords] = tokenizer
        return tokenizer

    # --- comparison and display ---------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self is other or self._words == other._words

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._words))
        return self._hash

    def __repr__(self) -> str:
        head = ", ".join(repr(w) for w in self._words[:5])
        more = ", ..." if len(self) > 5 else ""
        return f"Vocabulary({len(self)} words: [{head}{more}])"

    def __reduce__(self) -> tuple[type[Vocabulary], tuple[Sequence[str]]]:
        return (Vocabulary, (self._words,))


def as_vocabulary(vocabulary: Vocabulary | Iterable[str]) -> Vocabulary:
    """A ``vocabulary`` argument: a Vocabulary as it is, a list of words made one."""
    if isinstance(vocabulary, Vocabulary):
        return vocabulary
    if isinstance(vocabulary, str):
        raise TypeError("vocabulary must be a Vocabulary or a list of words, not a str")
    return Vocabulary(vocabulary)
