"""Corpora larger than memory: corpus batches read, tokenized and handed out one at a
time, the next one prepared in a background thread while the current one is being
processed (``Corpus.scan_parquet``). The vocabulary of such a corpus comes from one
streaming pass, ``Vocabulary.from_parquet``; both read the files through ``_parquet``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Generic

import polars as pl

from . import _arrays
from ._bags import TEXT, modality_vocabularies
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
    vocabulary: Vocabulary | Mapping[str, Vocabulary],
    batch_size: int = 1000,
    language: str = "en",
    stopwords: bool | Iterable[str] = True,
    modalities: Mapping[str, str] | None = None,
) -> ParquetBatches[D]:
    """Corpus batches of ``batch_size`` documents read lazily from parquet files, for
    corpora larger than memory: pass the result to ``model.fit_online`` (or iterate).

    ``vocabulary`` fixes the token ids (``Vocabulary.from_parquet(...)`` builds one in
    a streaming pass). The next batch is read and tokenized in a background thread
    while the current one is processed; iterating again reads the files again.

    ``modalities`` (name -> column of strings or lists of strings, as in
    ``Corpus.from_polars``) adds other modalities; their vocabularies must be fixed too:
    give ``vocabulary`` as a mapping ``{"text": ..., name: ...}``
    (``Vocabulary.from_parquet_values(source, column)`` builds a modality's in a
    streaming pass).
    """
    return ParquetBatches(
        cls, source, text, id, vocabulary=vocabulary, batch_size=batch_size,
        language=language, stopwords=stopwords, modalities=modalities,
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
        vocabulary: Vocabulary | Mapping[str, Vocabulary],
        batch_size: int = 1000,
        language: str = "en",
        stopwords: bool | Iterable[str] = True,
        modalities: Mapping[str, str] | None = None,
    ) -> None:
        text_vocabulary, others = (
            modality_vocabularies(vocabulary)
            if isinstance(vocabulary, (Vocabulary, Mapping))
            else (None, {})
        )
        if text_vocabulary is None:
            raise TypeError(
                "scan_parquet needs a fixed vocabulary (attartm.Vocabulary.from_parquet(...) "
                "or model.vocabulary) so that token ids agree across batches"
            )
        self.modalities = dict(modalities or {})
        missing = [m for m in self.modalities if m not in others]
        if missing:
            raise ValueError(
                f"scan_parquet needs a fixed vocabulary for every modality, and has none for "
                f"{missing}: pass vocabulary={{'text': ..., {missing[0]!r}: "
                f"Vocabulary.from_parquet_values(source, column)}} (or model.vocabularies)"
            )
        self.vocabulary = text_vocabulary
        self.vocabularies = {TEXT: text_vocabulary, **{m: others[m] for m in self.modalities}}
        self.corpus_class = corpus_class
        self.files = parquet_files(source)
        self.text, self.id = text, id
        self.batch_size = _arrays.positive_int("batch_size", batch_size)
        self.language, self.stopwords = language, stopwords

    def __iter__(self) -> Iterator[D]:
        return prefetch(self._corpora(), name="attartm-parquet-reader")

    def _corpora(self) -> Iterator[D]:
        columns = [self.text] if self.id is None else [self.id, self.text]
        columns += [c for c in self.modalities.values() if c not in columns]
        start = 0
        for frame in row_batches(self.files, columns, self.batch_size):
            corpus = self._corpus(frame, start)
            start += frame.height
            # The batch's text: let it go before the next batch is read.
            del frame
            yield corpus

    def _corpus(self, frame: pl.DataFrame, start: int) -> D:
        if self.id is None:
            ids = pl.Series("id", range(start, start + frame.height), dtype=pl.Int64)
            frame = frame.with_columns(ids)
        return from_polars(
            self.corpus_class, frame, text=self.text, id=self.id or "id",
            vocabulary=self.vocabularies, language=self.language, stopwords=self.stopwords,
            allow_empty=True, modalities=self.modalities,
        )  # fmt: skip
