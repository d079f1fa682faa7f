"""Phrases of topics and documents, and topic labels (docs/mathematics.md §10), against
the plain references of tests/phrases_reference.py."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attartm

from .phrases_reference import candidates, topic_scores
from .reference import random_phi


def model_and_corpus(seed: int, n_docs: int = 8, n_words: int = 6):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 25, size=n_docs)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # Few words, so that sequences recur; some sentence starts.
    tokens = rng.integers(0, n_words, size=offsets[-1]).astype(np.uint32)
    boundaries = (rng.random(offsets[-1]) < 0.15).astype(np.uint8)
    words = [f"w{i}" for i in range(n_words)]
    corpus = attartm.Corpus.from_token_ids(tokens, offsets, words, boundaries=boundaries)
    phi = random_phi(rng, n_words, int(rng.integers(2, 6)))
    model = attartm.AttentiveARTM.from_phi(phi, words, inference_window=2.0)
    return model, corpus


def p_of(model, corpus):
    return np.stack(model.transform_tokens(corpus)["p"].to_numpy())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), min_words=st.integers(1, 2), extra=st.integers(0, 2),
       min_count=st.integers(1, 4))  # fmt: skip
def test_topic_phrases_match_the_reference(seed, min_words, extra, min_count):
    model, corpus = model_and_corpus(seed)
    max_words = min_words + extra
    kept = candidates(corpus.token_ids, corpus.doc_offsets, corpus.boundaries, min_words,
                      max_words, min_count)  # fmt: skip
    scores = topic_scores(kept, p_of(model, corpus)) if kept else {}
    got = model.topic_phrases(corpus, k=1000, max_words=max_words, min_words=min_words,
                              min_count=min_count)  # fmt: skip
    words = model.vocabulary.words
    for t in range(model.n_topics):
        want = {" ".join(words[w] for w in g): s[t] for g, s in scores.items() if s[t] > 0}
        mine = got.filter(pl.col("topic") == t)
        assert sorted(mine["phrase"].to_list()) == sorted(want)
        for phrase, score in zip(mine["phrase"], mine["score"]):
            assert score == pytest.approx(want[phrase], rel=1e-9, abs=1e-12)
        assert (np.diff(mine["score"].to_numpy()) <= 0).all()
        assert mine["rank"].to_list() == list(range(1, mine.height + 1))


def test_document_phrases_score_the_document_share():
    model, corpus = model_and_corpus(3, n_docs=12)
    kept = candidates(corpus.token_ids, corpus.doc_offsets, corpus.boundaries, 2, 3, 2)
    p = p_of(model, corpus).astype(np.float64)
    share = p.mean(axis=0)
    offsets = corpus.doc_offsets
    got = model.document_phrases(corpus, k=100, max_words=3, min_count=2)
    words = model.vocabulary.words
    for row in got.iter_rows(named=True):
        d = corpus.ids.to_list().index(row["id"])
        g = tuple(words.index(w) for w in row["phrase"].split())
        starts = kept[g]
        rho = sum(p[s : s + len(g)].mean(axis=0) for s in starts) / len(starts)
        mine = [s for s in starts if offsets[d] <= s < offsets[d + 1]]
        m_d = sum(p[s : s + len(g)].mean(axis=0) for s in mine)
        df = len({int(np.searchsorted(offsets, s, side="right")) - 1 for s in starts})
        with np.errstate(divide="ignore"):
            per_topic = np.where(m_d > 0, m_d * np.log(rho / share), -np.inf)
        want = per_topic.max() * np.log(corpus.n_documents / df)
        assert row["topic"] == int(per_topic.argmax())
        assert row["score"] == pytest.approx(want, rel=1e-9)


def test_phrases_and_labels_on_real_text():
    frame = pl.read_parquet(attartm.__path__[0] + "/data/demo.parquet").head(120)
    corpus = attartm.Corpus.from_polars(frame, text="text", min_df=2, max_df=0.5)
    model = attartm.AttentiveARTM(6, seed=0, epochs=3, updates_per_epoch=2).fit(corpus)
    phrases = model.topic_phrases(corpus, k=5)
    assert phrases.columns == ["topic", "rank", "phrase", "score", "count"]
    assert (phrases["count"] >= 5).all()
    assert (phrases["phrase"].str.count_matches(" ") >= 1).all()
    kept = candidates(corpus.token_ids, corpus.doc_offsets, corpus.boundaries, 2, 4, 5)
    scores = topic_scores(kept, p_of(model, corpus))
    words = corpus.vocabulary.words
    by_text = {" ".join(words[w] for w in g): s for g, s in scores.items()}
    for row in phrases.iter_rows(named=True):
        assert row["score"] == pytest.approx(by_text[row["phrase"]][row["topic"]], rel=1e-9)
    labels = model.topic_labels(corpus)
    assert len(labels) == 6 and len(set(labels)) == 6
    docs = model.document_phrases(corpus, k=3)
    assert docs.columns == ["id", "rank", "phrase", "topic", "score"]
    assert (docs["score"] > 0).all() and docs["rank"].max() <= 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"k": 0}, "k"), ({"max_words": 1}, "max_words"), ({"min_count": 0}, "min_count")],
)
def test_bad_arguments_raise_clear_errors(small_corpus, kwargs, match):
    model = attartm.AttentiveARTM(3, seed=0, epochs=1, updates_per_epoch=1).fit(small_corpus)
    with pytest.raises(ValueError, match=match):
        model.topic_phrases(small_corpus, **kwargs)
