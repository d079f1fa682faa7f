"""Segments from peaks of the boundary score (docs/mathematics.md §3), on synthetic and real text."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import attartm
from attartm.segments import peaks

from .conftest import require_data


def test_peaks_are_greedy_separated_and_bounded():
    scores = np.array([0, 1, 9, 1, 0, 0, 8, 7, 0, 5, 0], dtype=np.float32)
    # Cuts are the first position of a new segment, i.e. score index + 1.
    assert peaks(scores, min_length=1, threshold=4.5) == [3, 7, 8, 10]
    assert peaks(scores, min_length=3, threshold=4.5) == [3, 7]
    assert peaks(scores, min_length=3, threshold=4.5, max_cuts=1) == [3]
    assert peaks(scores, min_length=1, threshold=10) == []


def test_segments_cover_every_document(small_corpus):
    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(small_corpus, epochs=10)
    seg = model.segments(small_corpus, min_length=5, threshold=0.0)
    lengths = dict(zip(small_corpus.ids.to_list(), small_corpus.document_lengths.tolist()))
    for (doc,), part in seg.group_by(["id"], maintain_order=True):
        starts, ends = part["start"].to_list(), part["end"].to_list()
        assert starts[0] == 0 and ends[-1] == lengths[doc] - 1
        assert all(e + 1 == s for e, s in zip(ends[:-1], starts[1:]))
        assert all(e - s + 1 >= 5 for s, e in zip(starts, ends))
    topics = seg.select(model.topic_names).to_numpy()
    np.testing.assert_allclose(topics.sum(axis=1), 1.0, atol=1e-5)
    assert (seg["topic"].to_numpy() == topics.argmax(axis=1)).all()


def test_segment_topic_is_the_mean_of_the_two_contexts(small_corpus):
    model = attartm.AttentiveARTM(3, seed=0).fit(small_corpus, epochs=3)
    v = model.segment_topic(small_corpus, 2, 5, 20)
    left, right = model.contexts(small_corpus.select([2]))
    expected = 0.5 * (left[20] + right[5])
    np.testing.assert_allclose(v, expected / expected.sum(), atol=1e-6)
    with pytest.raises(ValueError, match="start <= end"):
        model.segment_topic(small_corpus, 2, 20, 5)


def test_spliced_posts_are_cut_within_20_tokens_of_the_splice():
    """200 documents spliced from the bodies of two test posts of different newsgroups: the
    detected boundary lies within 20 tokens of the splice in at least 80% of them."""
    folder = require_data("20newsgroups")
    body = pl.col("text").str.splitn("\n\n", 2).struct.field("field_1").fill_null("").alias("text")
    train_frame = pl.read_parquet(folder / "train.parquet").with_columns(body)
    test_frame = pl.read_parquet(folder / "test.parquet").with_columns(body)
    train = attartm.Corpus.from_polars(train_frame, text="text", id="id", min_df=5, max_df=0.5)
    test = attartm.Corpus.from_polars(test_frame, text="text", id="id", vocabulary=train.vocabulary)
    model = attartm.AttentiveARTM(50, passes=3, window=10, seed=0).fit(train, epochs=20)

    rng = np.random.default_rng(0)
    groups = test_frame["newsgroup"].to_numpy()
    long_enough = np.flatnonzero(test.document_lengths >= 60)
    pieces, offsets, splice = [], [0], []
    while len(splice) < 200:
        a, b = rng.choice(long_enough, 2, replace=False)
        if groups[a] == groups[b]:
            continue
        first = test.token_ids[test.doc_offsets[a] : test.doc_offsets[a + 1]][
            : rng.integers(60, 200)
        ]
        second = test.token_ids[test.doc_offsets[b] : test.doc_offsets[b + 1]][
            : rng.integers(60, 200)
        ]
        pieces += [first, second]
        offsets.append(offsets[-1] + len(first) + len(second))
        splice.append(len(first))
    spliced = attartm.Corpus.from_token_ids(
        np.concatenate(pieces), np.array(offsets), train.vocabulary
    )

    seg = model.segments(spliced, min_length=20, threshold=0.0, max_segments=2)
    cuts = seg.filter(pl.col("start") > 0)
    found = dict(zip(cuts["id"].to_list(), cuts["start"].to_list()))
    hits = np.array([abs(found.get(d, -1000) - splice[d]) <= 20 for d in range(200)])
    assert hits.mean() >= 0.8, f"only {hits.mean():.0%} of the splices found within 20 tokens"
