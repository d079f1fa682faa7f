"""Candidate phrases of a corpus (docs/mathematics.md §10): the contiguous token sequences
of one sentence that recur, with every occurrence.

A corpus keeps the words that survive stopword removal and its vocabulary, so a
candidate's words may stand around stopwords in the source text ("bank of america" is the
candidate ``bank america``): stopwords are never at a candidate's edges. A candidate that
nearly always occurs inside one longer candidate (in at least ``SUBSUMED`` of its
occurrences) is left out in favour of the longer one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .corpus import Corpus

#: A candidate is dropped when one candidate a word longer that contains it occurs at
#: least this share of its count: it then says nothing the longer one does not.
SUBSUMED = 0.9


@dataclass(frozen=True)
class Candidates:
    """Recurring token sequences of a corpus and where they occur.

    ``phrases`` has one row per candidate: ``phrase`` (its index), ``words`` (its
    number of tokens), ``count`` (occurrences in the corpus), ``documents`` (documents
    holding it) and ``text`` (its tokens joined by spaces). ``start`` and ``length`` give
    every occurrence (its first position in the corpus's token stream and its number of
    tokens), in order of ``start``, and ``phrase`` the candidate of each.
    """

    phrases: pl.DataFrame
    phrase: np.ndarray
    start: np.ndarray
    length: np.ndarray


def sentence_breaks(corpus: Corpus) -> np.ndarray:
    """B with B[i] = the number of document or sentence starts at positions 1..i: a span
    i..j lies within one sentence exactly when B[j] == B[i]."""
    n = corpus.n_tokens
    starts = corpus.boundaries > 0
    firsts = corpus.doc_offsets[:-1]
    starts[firsts[firsts < n]] = True
    starts[0] = False
    return np.cumsum(starts, dtype=np.int64)


def ngrams(corpus: Corpus, n: int, breaks: np.ndarray) -> pl.DataFrame:
    """Every n-token sequence within one sentence: its start and its token ids w0…."""
    ids = corpus.token_ids
    last = corpus.n_tokens - n + 1
    if last <= 0:
        return pl.DataFrame({"start": np.zeros(0, np.int64), **{f"w{j}": [] for j in range(n)}})
    start = np.arange(last, dtype=np.int64)
    start = start[breaks[start + n - 1] == breaks[start]]
    return pl.DataFrame({"start": start, **{f"w{j}": ids[start + j] for j in range(n)}})


def candidates(corpus: Corpus, min_words: int, max_words: int, min_count: int) -> Candidates:
    """The candidates of ``min_words`` to ``max_words`` tokens occurring at least
    ``min_count`` times, those subsumed by a longer one left out."""
    breaks = sentence_breaks(corpus)
    doc = np.repeat(np.arange(corpus.n_documents, dtype=np.int64), corpus.document_lengths)
    kept: dict[int, pl.DataFrame] = {}  # n -> occurrences (start, key columns)
    counts: dict[int, pl.DataFrame] = {}  # n -> key columns, count
    # One word past max_words, to find the candidates a longer one subsumes.
    for n in range(min_words, max_words + 2):
        keys = [f"w{j}" for j in range(n)]
        grams = ngrams(corpus, n, breaks)
        count = grams.group_by(keys).agg(count=pl.len()).filter(pl.col("count") >= min_count)
        counts[n] = count
        if n <= max_words:
            kept[n] = grams.join(count.select(keys), on=keys, how="semi")
    frames = []
    for n, occurrences in kept.items():
        keys = [f"w{j}" for j in range(n)]
        count = counts[n]
        longer = counts[n + 1]
        # The count of the most frequent one-word extension, to the right and to the left.
        for side, shift in (("right", 0), ("left", 1)):
            extension = longer.select(
                *[pl.col(f"w{j + shift}").alias(f"w{j}") for j in range(n)], "count"
            ).group_by(keys).agg(pl.col("count").max().alias(side))  # fmt: skip
            count = count.join(extension, on=keys, how="left")
        count = count.filter(
            pl.max_horizontal(pl.col("right").fill_null(0), pl.col("left").fill_null(0))
            < SUBSUMED * pl.col("count")
        ).drop("right", "left")
        occurrences = occurrences.join(count.select(keys), on=keys, how="semi")
        packed = occurrences.select(
            "start", key=pl.concat_list(keys).cast(pl.List(pl.UInt32)), words=pl.lit(n)
        )
        frames.append(packed)
    if not frames:
        return empty()
    occ = pl.concat(frames)
    occ = occ.with_columns(doc=pl.Series("doc", doc[occ["start"].to_numpy()]))
    table = (
        occ.group_by("key", maintain_order=False)
        .agg(
            words=pl.first("words"),
            count=pl.len(),
            documents=pl.col("doc").n_unique(),
        )
        .sort("count", "key", descending=[True, False])
        .with_row_index("phrase")
        .with_columns(pl.col("phrase").cast(pl.Int64))
    )
    occ = occ.join(table.select("key", "phrase"), on="key").sort("start", "words")
    vocabulary = np.asarray(corpus.vocabulary.words, dtype=object)
    words = [" ".join(vocabulary[key]) for key in table["key"].to_list()]
    phrases = table.select(
        "phrase", pl.col("words").cast(pl.Int64), pl.col("count").cast(pl.Int64),
        pl.col("documents").cast(pl.Int64), text=pl.Series(words, dtype=pl.String),
    )  # fmt: skip
    return Candidates(
        phrases,
        occ["phrase"].to_numpy(),
        occ["start"].to_numpy().astype(np.int64),
        occ["words"].to_numpy().astype(np.int64),
    )


def empty() -> Candidates:
    """No candidate."""
    schema = {"phrase": pl.Int64, "words": pl.Int64, "count": pl.Int64,
              "documents": pl.Int64, "text": pl.String}  # fmt: skip
    none = np.zeros(0, np.int64)
    return Candidates(pl.DataFrame(schema=schema), none, none, none)
