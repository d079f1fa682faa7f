"""Corpora larger than memory: corpus batches read, tokenized and handed out one at a
time, the next one prepared in a background thread while the current one is being
processed (``Corpus.scan_parquet``). The vocabulary of such a corpus comes from one
streaming pass, ``Vocabulary.from_parquet``; both read the files through ``_parquet``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic

import polars as pl

from . import _arrays
from ._documents import D
from ._parquet import file_chunks, row_batches
from ._paths import parquet_files
from ._pipeline import prefetch
from ._texts import from_polars
from .vocabulary import Vocabulary

# Where they were first defined; the command line and users read them from here.
__all__ = ["ParquetBatches", "file_chunks", "row_batches", "scan_parquet"]


def scan_parquet(
    cls: type[D],
    source: str | os.PathLike | Sequence[str | os.PathLike],
    text: str = "text",
    id: str | None = None,
    *,
    vocabulary: Vocabulary,
    batch_size: int = 1000,
    language: str = "en",
    stopwords: bool | Iterable[str] = True,
) -> ParquetBatches[D]:
    """Corpus batches of ``batch_size`` documents read lazily from parquet files, for
    corpora larger than memory: pass the result to ``model.fit_online`` (or iterate).

    ``vocabulary`` fixes the token ids (``Vocabulary.from_parquet(...)`` builds one in
    a streaming pass). The next batch is read and tokenized in a background thread
    while the current one is processed; iterating again reads the files again.
    """
    return ParquetBatches(
        cls, source, text, id, vocabulary=vocabulary, batch_size=batch_size,
        language=language, stopwords=stopwords,
    )  # fmt: skip


class ParquetBatches(Generic[D]):
    """Corpus batches of ``batch_size`` documents read lazily from parquet files.

    Iterating reads and tokenizes the next batch in a background thread while the caller
    works on the current one (polars and the Rust core both release the GIL, so the two
    overlap). Re-iterable: every iteration reads the files again, so ``fit_online`` can run
    several epochs over it. Memory holds at most two batches.
    """

    def __init__(
        self,
        corpus_class: type[D],
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
        self.corpus_class = corpus_class
        self.files = parquet_files(source)
        self.text, self.id = text, id
        self.vocabulary = vocabulary
        self.batch_size = _arrays.positive_int("batch_size", batch_size)
        self.language, self.stopwords = language, stopwords

    def __iter__(self) -> Iterator[D]:
        return prefetch(self._corpora(), name="attartm-parquet-reader")

    def _corpora(self) -> Iterator[D]:
        columns = [self.text] if self.id is None else [self.id, self.text]
        start = 0
        for frame in row_batches(self.files, columns, self.batch_size):
            yield self._corpus(frame, start)
            start += frame.height

    def _corpus(self, frame: pl.DataFrame, start: int) -> D:
        if self.id is None:
            ids = pl.Series("id", range(start, start + frame.height), dtype=pl.Int64)
            frame = frame.with_columns(ids)
        return from_polars(
            self.corpus_class, frame, text=self.text, id=self.id or "id",
            vocabulary=self.vocabulary, language=self.language, stopwords=self.stopwords,
            allow_empty=True,
        )  # fmt: skip
