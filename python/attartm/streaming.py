"""Corpora larger than memory: a vocabulary from one streaming pass over parquet files, and
corpus batches read, tokenized and handed out one at a time, the next one prepared in a
background thread while the current one is being processed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

import polars as pl

from . import _arrays
from ._core import WordCounter
from ._paths import parquet_files
from ._pipeline import prefetch
from ._tokenize import resolve_stopwords
from .corpus import Corpus, check_df_arguments, document_count_limits
from .vocabulary import Vocabulary


def file_chunks(files: list[str], columns: list[str], chunk_size: int) -> Iterator[pl.DataFrame]:
    """The rows of the files in order, as frames of at most ``chunk_size`` rows.

    The files are scanned one after the other: a reader cannot hold less than one row group
    of a file, and scanning them together lets it read ahead into several files, so memory
    would grow with the number of files.
    """
    for path in files:
        lf = pl.scan_parquet(path)
        names = lf.collect_schema().names()
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"column(s) {missing} not in the parquet file {path}; it has {names}")
        yield from lf.select(columns).collect_batches(chunk_size=chunk_size)


def row_batches(files: list[str], columns: list[str], batch_size: int) -> Iterator[pl.DataFrame]:
    """Consecutive frames of exactly ``batch_size`` rows (the last may be shorter), read
    lazily from the files in order (see :func:`file_chunks`)."""
    buffer: list[pl.DataFrame] = []
    held = 0
    for chunk in file_chunks(files, columns, batch_size):
        buffer.append(chunk)
        held += chunk.height
        while held >= batch_size:
            frame = pl.concat(buffer)
            yield frame.head(batch_size)
            rest = frame.slice(batch_size)
            buffer, held = ([rest] if rest.height else []), rest.height
    if held:
        yield pl.concat(buffer)


def vocabulary_from_parquet(
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
    """A vocabulary from one streaming pass: per batch of at most ``batch_size`` documents,
    each word's count and document frequency are added into running totals whose size is
    the number of distinct words, never the corpus size. Filtering and order are those of
    ``Corpus.from_polars``, whatever the batch size.

    The next batch is read in a background thread while the current one is counted. The
    batches are the reader's chunks as they come (counting needs no fixed batch size), and
    large ones by default: the per-batch work of merging counts is then paid rarely, and
    memory holds the texts of two batches besides the totals.
    """
    check_df_arguments(min_df, max_df, max_vocab)
    batch_size = _arrays.positive_int("batch_size", batch_size)
    counter = WordCounter(sorted(resolve_stopwords(stopwords, language)))
    chunks = file_chunks(parquet_files(source), [text], batch_size)
    for frame in prefetch(chunks, name="attartm-vocabulary-reader"):
        texts = frame.get_column(text)
        if texts.dtype != pl.String:
            raise TypeError(f"the text column {text!r} has dtype {texts.dtype}, expected String")
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
    return Vocabulary(words)


class ParquetBatches:
    """Corpus batches of ``batch_size`` documents read lazily from parquet files.

    Iterating reads and tokenizes the next batch in a background thread while the caller
    works on the current one (polars and the Rust core both release the GIL, so the two
    overlap). Re-iterable: every iteration reads the files again, so ``fit_online`` can run
    several epochs over it. Memory holds at most two batches.
    """

    def __init__(
        self,
        source: str | os.PathLike | Sequence[str | os.PathLike],
        text: str = "text",
        id: str | None = None,
        *,
        vocabulary: Vocabulary,
        batch_size: int = 1000,
        language: str = "en",
        stopwords: bool | Iterable[str] = True,
    ) -> None:
        if not isinstance(vocabulary, Vocabulary):
            raise TypeError(
                "scan_parquet needs a fixed vocabulary (attartm.Vocabulary.from_parquet(...) "
                "or model.vocabulary) so that token ids agree across batches"
            )
        self.files = parquet_files(source)
        self.text, self.id = text, id
        self.vocabulary = vocabulary
        self.batch_size = _arrays.positive_int("batch_size", batch_size)
        self.language, self.stopwords = language, stopwords

    def __iter__(self) -> Iterator[Corpus]:
        return prefetch(self._corpora(), name="attartm-parquet-reader")

    def _corpora(self) -> Iterator[Corpus]:
        columns = [self.text] if self.id is None else [self.id, self.text]
        start = 0
        for frame in row_batches(self.files, columns, self.batch_size):
            yield self._corpus(frame, start)
            start += frame.height

    def _corpus(self, frame: pl.DataFrame, start: int) -> Corpus:
        if self.id is None:
            ids = pl.Series("id", range(start, start + frame.height), dtype=pl.Int64)
            frame = frame.with_columns(ids)
        return Corpus.from_polars(
            frame, text=self.text, id=self.id or "id", vocabulary=self.vocabulary,
            language=self.language, stopwords=self.stopwords, allow_empty=True,
        )  # fmt: skip
