"""The text of spans of token positions: what a fragment or a phrase shows of a corpus."""

from __future__ import annotations

import numpy as np
import polars as pl

from .corpus import Corpus


def span_texts(corpus: Corpus, docs: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pl.Series:
    """The text of positions ``starts[i]..ends[i]`` (inclusive, within document
    ``docs[i]``) of ``corpus``, one string per span: the source text from the first
    token to the last when the corpus keeps it, else the words joined by spaces."""
    docs = np.asarray(docs, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(ends, dtype=np.int64) - starts + 1
    if docs.size == 0:
        return pl.Series("text", [], dtype=pl.String)
    first = corpus.doc_offsets[docs] + starts
    if corpus._source is not None:
        # The raw text from the span's first token to its last, stopwords and all.
        spans = corpus._source.spans(docs, first, first + lengths - 1)
        return pl.Series("text", spans, dtype=pl.String)
    # Row numbers of every span's tokens, concatenated: a ragged gather.
    begin = np.cumsum(lengths) - lengths
    rows = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(first - begin, lengths)
    words = corpus.vocabulary.to_polars().gather(corpus.token_ids[rows])
    span = np.repeat(np.arange(docs.size), lengths)
    frame = pl.DataFrame({"span": span, "word": words})
    joined = frame.group_by("span", maintain_order=True).agg(pl.col("word").str.join(" "))
    return joined.get_column("word").alias("text")
