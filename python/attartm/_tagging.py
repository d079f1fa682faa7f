"""Tagging documents with a fitted model, batch by batch: the one implementation behind
``attartm tag`` (one parquet file, or a folder of resumable parts) and
``attartm.ray.tag``.

A tagging job runs as a pipeline of three stages in three threads: the next batch is read
and tokenized while the current one goes through the kernel, while polars compresses and
writes the one before (the reader, the Rust core and polars all release the GIL).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from ._pipeline import prefetch
from .attentive import AttentiveARTM
from .corpus import Corpus

# Tagging output is large (ten rows of two small arrays per hundred tokens) and written
# once: zstd's fastest level compresses it almost as well as the default level at a
# fraction of the time, and column statistics of topic arrays serve no query.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 1,
    "statistics": False,
}

# Documents per pipeline step: enough text to keep every thread of the kernel busy,
# small enough that reading and tokenizing the next step hides behind the current one.
STEP = 1000

K = TypeVar("K")


@dataclass(frozen=True)
class Tagging:
    """What a tagging job writes, and from which columns.

    ``tokens``: per-token topics (``transform_tokens``, attentive models), with only the
    ``top`` best ones when given, the ``token`` column being the word's id instead of the
    word with ``token_ids``; otherwise p(t|d) per document (``transform``). Documents are
    named by the ``id`` column, or by their row number over the whole input.
    """

    model: Any
    text: str = "text"
    id: str | None = None
    tokens: bool = False
    top: int | None = None
    token_ids: bool = False
    language: str = "en"
    stopwords: Any = True

    def __post_init__(self) -> None:
        self.model._require_fitted()
        if self.tokens and not isinstance(self.model, AttentiveARTM):
            raise ValueError("per-token topics need an attentive model (AttentiveARTM)")
        if (self.top is not None or self.token_ids) and not self.tokens:
            raise ValueError("top and token ids apply to per-token topics only (tokens=True)")

    @property
    def columns(self) -> list[str]:
        """The input columns the job reads."""
        return [self.text] if self.id is None or self.id == self.text else [self.id, self.text]

    def corpus(self, frame: pl.DataFrame, start: int = 0) -> Corpus:
        """The batch of documents in ``frame``, whose first row is row ``start`` of the
        input (the id of a document without an id column)."""
        frame = frame.select(self.columns)
        id = self.id
        if id is None:
            id = "id" if self.text != "id" else "_id"
            ids = pl.int_range(start, start + frame.height, dtype=pl.Int64, eager=True)
            frame = frame.with_columns(ids.alias(id))
        return Corpus.from_polars(
            frame, text=self.text, id=id, vocabulary=self.model.vocabulary,
            language=self.language, stopwords=self.stopwords, allow_empty=True,
        )  # fmt: skip

    def tag(self, corpus: Corpus) -> pl.DataFrame:
        """The output rows of one batch."""
        if self.tokens:
            return self.model.transform_tokens(corpus, top=self.top, token_ids=self.token_ids)
        return self.model.transform(corpus)

    def tag_frame(self, frame: pl.DataFrame, start: int = 0) -> pl.DataFrame:
        """Tokenizes and tags one batch at once (no pipeline)."""
        return self.tag(self.corpus(frame, start))

    def stream(
        self, batches: Iterable[tuple[K, pl.DataFrame, int]]
    ) -> Iterator[tuple[K, pl.DataFrame]]:
        """``(key, output)`` of every ``(key, frame, start)`` batch in order, the next
        batches read and tokenized in a background thread while the current one is
        tagged; the key is the caller's (e.g. the part a batch belongs to)."""
        corpora = prefetch(
            ((key, self.corpus(frame, start)) for key, frame, start in batches),
            name="attartm-tag-reader",
        )
        try:
            for key, corpus in corpora:
                yield key, self.tag(corpus)
        finally:
            # Stop the reader now, not when the garbage collector frees a failed batch's
            # traceback: with polars 1.x a reader in collect_batches (remote files) runs a
            # thread that interpreter exit waits for, and it waits for the reader forever.
            corpora.close()


def steps(
    frames: Iterable[tuple[K, pl.DataFrame, int]],
) -> Iterator[tuple[K, pl.DataFrame, int]]:
    """The ``(key, frame, start)`` batches cut into steps of at most ``STEP`` rows, each
    with its key and its first row's number in the input."""
    size = STEP
    for key, frame, start in frames:
        for offset in range(0, frame.height, size):
            yield key, frame.slice(offset, size), start + offset


def write_parquet(path: Any, frames: Iterable[pl.DataFrame]) -> int:
    """Writes consecutive frames of one schema into one parquet file as they come (polars
    compresses and writes a frame while the next one is computed); returns the rows
    written. Raises ValueError when there is no frame."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise ValueError(f"nothing to write to {path}: the input has no documents")
    rows = 0
    failure: list[BaseException] = []

    def source(*_: Any) -> Iterator[pl.DataFrame]:
        # Called by polars with a projection, a predicate, a row limit and a batch size,
        # none of which a full sink asks for.
        nonlocal rows
        try:
            for frame in itertools.chain([first], frames):
                rows += frame.height
                yield frame
        except GeneratorExit:
            raise
        except BaseException as e:
            failure.append(e)
            raise

    from polars.io.plugins import register_io_source

    try:
        register_io_source(source, schema=first.schema).sink_parquet(path, **PARQUET_OPTIONS)
    except Exception:
        # polars 1.x raises a ComputeError that names the source's exception; callers (the
        # CLI's exit code 2 for a ValueError or OSError) need the exception itself, as
        # polars 2 raises it.
        if failure:
            # pop: the list (in this frame, which the traceback holds) must not keep the
            # exception, or the two form a cycle that only the garbage collector frees.
            raise failure.pop() from None
        raise
    return rows
