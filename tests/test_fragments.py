"""Fragments of topics (docs/mathematics.md §9) against the NumPy reference of
tests/fragments_reference.py, on random models and on real text."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attartm

from .fragments_reference import fragments as reference
from .reference import random_documents, random_phi


def assert_matches(model, corpus, frame, topics, k, min_tokens, max_tokens, threshold):
    p = (np.stack(model.transform_tokens(corpus)["p"].to_numpy()) if corpus.n_tokens
         else np.zeros((0, model.n_topics)))  # fmt: skip
    want = reference(p, corpus.doc_offsets, topics, k, min_tokens, max_tokens, threshold)
    ids = corpus.ids.to_list()
    assert frame["id"].to_list() == [ids[f[1]] for f in want]
    assert frame["start"].to_list() == [f[2] for f in want]
    assert frame["end"].to_list() == [f[3] for f in want]
    np.testing.assert_array_equal(frame["score"].to_numpy(), [f[4] for f in want])
    if "topic" in frame.columns:
        assert frame["topic"].to_list() == [f[0] for f in want]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 6),
    min_tokens=st.integers(1, 4),
    extra=st.integers(0, 6),
    threshold=st.sampled_from([0.5, 0.55, 0.7]),
    passes=st.integers(1, 3),
)
def test_fragments_match_the_reference(seed, k, min_tokens, extra, threshold, passes):
    rng = np.random.default_rng(seed)
    n_words, n_topics = 12, int(rng.integers(2, 11))
    phi = random_phi(rng, n_words, n_topics)
    # Peaked rows, so that positions often exceed the threshold.
    phi = phi**3 / (phi**3).sum(axis=0)
    tokens, offsets = random_documents(rng, n_words, max_docs=6, max_len=30)
    words = [f"w{i}" for i in range(n_words)]
    corpus = attartm.Corpus.from_token_ids(tokens, offsets, words)
    model = attartm.AttentiveARTM.from_phi(phi, words, passes=passes, inference_window=3.0)
    max_tokens = min_tokens + extra
    everything = model.fragments(corpus, None, k, min_tokens, max_tokens, threshold=threshold)
    assert_matches(
        model, corpus, everything, list(range(n_topics)), k, min_tokens, max_tokens, threshold
    )
    chosen = [int(t) for t in rng.permutation(n_topics)[: max(1, n_topics // 2)]]
    some = model.fragments(corpus, k=k, min_tokens=min_tokens, max_tokens=max_tokens,
                           topics=chosen, threshold=threshold)  # fmt: skip
    assert_matches(model, corpus, some, chosen, k, min_tokens, max_tokens, threshold)
    one = model.fragments(corpus, chosen[0], k, min_tokens, max_tokens, threshold=threshold)
    assert one.columns == ["id", "start", "end", "score", "text"]
    assert_matches(model, corpus, one, chosen[:1], k, min_tokens, max_tokens, threshold)


def test_fragments_on_real_text_match_the_reference_and_show_their_words():
    frame = pl.read_parquet(attartm.__path__[0] + "/data/demo.parquet").head(60)
    corpus = attartm.Corpus.from_polars(frame, text="text", min_df=2, max_df=0.5)
    model = attartm.AttentiveARTM(8, seed=0, epochs=3, updates_per_epoch=2).fit(corpus)
    found = model.fragments(corpus, k=3, min_tokens=5, max_tokens=40)
    assert found.height > 0
    assert found.columns == ["topic", "rank", "id", "start", "end", "score", "text"]
    assert_matches(model, corpus, found, list(range(8)), 3, 5, 40, 0.5)
    assert (found["score"] > 0).all()
    assert ((found["end"] - found["start"] + 1).is_between(5, 40)).all()
    words = corpus.vocabulary.words
    offsets = corpus.doc_offsets
    index = {v: i for i, v in enumerate(corpus.ids.to_list())}
    for row in found.iter_rows(named=True):
        d = index[row["id"]]
        tokens = corpus.token_ids[offsets[d] + row["start"] : offsets[d] + row["end"] + 1]
        assert row["text"] == " ".join(words[w] for w in tokens)


def test_fragments_do_not_depend_on_the_threads():
    frame = pl.read_parquet(attartm.__path__[0] + "/data/demo.parquet").head(80)
    corpus = attartm.Corpus.from_polars(frame, text="text", min_df=2, max_df=0.5)
    model = attartm.AttentiveARTM(6, seed=1, epochs=2, updates_per_epoch=2).fit(corpus)
    one = model.set_params(threads=1).fragments(corpus, k=4)
    two = model.set_params(threads=2).fragments(corpus, k=4)
    assert one.equals(two)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"topic": 9}, ValueError, "out of range"),
        ({"topic": 1, "topics": [2]}, ValueError, "either topic"),
        ({"topics": [1, 1]}, ValueError, "repeat"),
        ({"topics": []}, ValueError, "empty"),
        ({"topics": "1"}, TypeError, "sequence"),
        ({"topic": 1.5}, TypeError, "int"),
        ({"k": 0}, ValueError, "k"),
        ({"min_tokens": 5, "max_tokens": 4}, ValueError, "max_tokens"),
        ({"threshold": 0.4}, ValueError, "threshold"),
        ({"threshold": 1.0}, ValueError, "threshold"),
    ],
)
def test_bad_arguments_raise_clear_errors(small_corpus, kwargs, error, match):
    model = attartm.AttentiveARTM(3, seed=0, epochs=1, updates_per_epoch=1).fit(small_corpus)
    with pytest.raises(error, match=match):
        model.fragments(small_corpus, **kwargs)


@pytest.mark.parametrize("head", [0.0, 0.3])
def test_long_documents_in_blocks_give_the_same_fragments(head):
    # With and without the document head of inference (a mean over the whole document).
    rng = np.random.default_rng(5)
    n_words, n_topics = 10, 4
    phi = random_phi(rng, n_words, n_topics)
    phi = phi**3 / (phi**3).sum(axis=0)
    tokens, offsets = random_documents(rng, n_words, max_docs=5, max_len=400)
    words = [f"w{i}" for i in range(n_words)]
    corpus = attartm.Corpus.from_token_ids(tokens, offsets, words)
    model = attartm.AttentiveARTM.from_phi(phi, words, inference_window=4.0,
                                           inference_document_weight=head)  # fmt: skip
    gf, gb = model.gammas(corpus, model._inference_window)
    spec = (None, 3, 4, 30, 0.5)
    runs = []
    for long_document in (None, 300, 40):
        found, _ = attartm._core.attentive_estep(
            corpus.token_ids, corpus.doc_offsets, model._phi, model._topic_mass(),
            gamma_forward=gf, gamma_backward=gb, beta=model.beta,
            passes=model._inference_passes, exclude_self=True, output="fragments",
            document_weight=head,
            accumulate="none", long_document=long_document, fragments=spec,
        )  # fmt: skip
        runs.append(found)
    for found in runs[1:]:
        for a, b in zip(runs[0], found):
            np.testing.assert_array_equal(a, b)
    frame = model.fragments(corpus, k=3, min_tokens=4, max_tokens=30)
    assert frame.height == runs[0][0].size > 0
    assert_matches(model, corpus, frame, list(range(n_topics)), 3, 4, 30, 0.5)
