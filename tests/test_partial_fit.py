"""Warm start: partial_fit continues batch-online EM, and grows the vocabulary on demand."""

from __future__ import annotations

import numpy as np
import pytest

import attartm
from attartm import Corpus

from .conftest import synthetic_texts

MODELS = [
    lambda **kw: attartm.ARTM(3, doc_passes=4, **kw),
    lambda **kw: attartm.ThetalessARTM(3, **kw),
    lambda **kw: attartm.AttentiveARTM(3, passes=1, **kw),
]
IDS = ["artm", "thetaless", "attentive"]
SCHEDULE = {"tau0": 4.0, "kappa": 0.6}


@pytest.fixture(scope="module")
def batches(small_corpus: Corpus) -> list[Corpus]:
    return list(small_corpus.batches(10))


@pytest.mark.parametrize("make", MODELS, ids=IDS)
def test_partial_fit_one_batch_at_a_time_equals_fit_online(make, batches):
    online = make(seed=1).fit_online(batches, **SCHEDULE)
    warm = make(seed=1)
    for batch in batches:
        warm.partial_fit(batch, **SCHEDULE)
    assert warm.updates_done_ == online.updates_done_ == len(batches)
    np.testing.assert_allclose(warm.phi, online.phi, atol=1e-6)
    np.testing.assert_allclose(warm.n_wt, online.n_wt, rtol=1e-6, atol=1e-6)


def test_partial_fit_in_windows_of_update_every(batches):
    """Calls of two batches each, update_every=2: the windows of one fit_online."""
    online = attartm.ARTM(3, seed=4).fit_online(batches, update_every=2, **SCHEDULE)
    warm = attartm.ARTM(3, seed=4)
    for i in range(0, len(batches), 2):
        warm.partial_fit(batches[i : i + 2], update_every=2, **SCHEDULE)
    np.testing.assert_allclose(warm.phi, online.phi, atol=1e-6)


def test_partial_fit_continues_a_loaded_model(batches, tmp_path):
    online = attartm.ARTM(3, seed=2).fit_online(batches, **SCHEDULE)
    first = attartm.ARTM(3, seed=2).fit_online(batches[:3], **SCHEDULE)
    first.save(tmp_path / "m.attartm")
    loaded = attartm.load(tmp_path / "m.attartm")
    assert loaded.updates_done_ == 3
    loaded.partial_fit(batches[3:], **SCHEDULE)
    assert loaded.updates_done_ == len(batches)
    np.testing.assert_allclose(loaded.phi, online.phi, atol=1e-6)


def test_partial_fit_on_an_unfitted_model_starts_from_the_seed(small_corpus):
    a = attartm.ARTM(3, seed=5).fit_online(small_corpus, batch_size=15, **SCHEDULE)
    b = attartm.ARTM(3, seed=5).partial_fit(small_corpus, batch_size=15, **SCHEDULE)
    assert np.array_equal(a.phi, b.phi)


def test_partial_fit_refuses_another_vocabulary_and_keeps_the_model(batches):
    model = attartm.ARTM(3, seed=0).partial_fit(batches[0])
    phi = model.phi.copy()
    other = Corpus.from_texts(["goal team newword"], stopwords=False)
    with pytest.raises(ValueError, match=r"different vocabulary.*grow_vocabulary=True"):
        model.partial_fit(other)
    assert np.array_equal(model.phi, phi) and model.updates_done_ == 1
    with pytest.raises(ValueError, match=r"partial_fit got no batches"):
        model.partial_fit([])
    with pytest.raises(TypeError, match=r"grow_vocabulary must be True or False"):
        model.partial_fit(batches[0], grow_vocabulary="yes")


@pytest.mark.parametrize("make", MODELS, ids=IDS)
def test_grow_vocabulary_adds_the_words_of_a_later_batch(make):
    """The first batches know sports and cooking; later ones bring computers with their own
    words, which get rows of Φ, then lead a topic of their own."""
    texts = synthetic_texts(n_docs=90, seed=3)
    old = texts[0::3]  # sports, a fifth cooking, first
    new = texts[2::3]  # computers, a fifth sports
    first = Corpus.from_texts(old, stopwords=False)
    later = Corpus.from_texts(new, stopwords=False)
    computers = set(later.vocabulary) - set(first.vocabulary)
    assert {"compiler", "kernel", "software"} <= computers
    model = make(seed=0)
    for _ in range(5):
        model.partial_fit(first, batch_size=20, decay_weight=0.5, apply_weight=1.0)
    assert not computers & set(model.vocabulary)
    w_before = len(model.vocabulary)
    for _ in range(10):
        model.partial_fit(
            later, batch_size=15, decay_weight=0.5, apply_weight=1.0, grow_vocabulary=True
        )
    vocabulary = model.vocabulary
    assert vocabulary.words[:w_before] == first.vocabulary.words  # old ids kept
    assert computers <= set(vocabulary)
    np.testing.assert_allclose(model.phi.sum(axis=0), 1.0, atol=1e-5)
    # The new words carry their share of the counts (four fifths of the later tokens; the
    # first batches' counts have decayed by 0.5^20), and lead a topic.
    rows = [vocabulary.index(w) for w in computers]
    assert model.n_wt[rows].sum() > 0.75 * model.n_wt.sum()
    top = model.topics(5)
    leading = top.group_by("topic").agg(top.get_column("word").is_in(list(computers)).alias("new"))
    assert any(all(flags) for flags in leading.get_column("new").to_list())
    # The grown model transforms documents built on its vocabulary.
    again = Corpus.from_texts(new[:3], vocabulary=vocabulary, stopwords=False)
    assert model.transform(again).height == 3


def test_grow_vocabulary_remaps_a_batch_whose_ids_differ():
    """Same words, other ids: growing nothing, the batch trains as if built on the model's
    vocabulary."""
    texts = synthetic_texts(n_docs=30, seed=1)
    base = Corpus.from_texts(texts, stopwords=False)
    words = base.vocabulary.words
    shuffled = Corpus.from_texts(texts, vocabulary=words[::-1], stopwords=False)
    a = attartm.ARTM(3, seed=0).partial_fit(base).partial_fit(base)
    b = attartm.ARTM(3, seed=0).partial_fit(base).partial_fit(shuffled, grow_vocabulary=True)
    assert b.vocabulary == base.vocabulary
    np.testing.assert_allclose(a.phi, b.phi, atol=1e-6)


def test_grow_vocabulary_refuses_per_word_phi_weights(batches):
    weights = [1.0] * len(batches[0].vocabulary)
    model = attartm.ARTM(3, regularizers=[attartm.SmoothSparsePhi(-0.1, weights=weights)])
    model.partial_fit(batches[0])
    other = Corpus.from_texts(["goal team newword"], stopwords=False)
    with pytest.raises(ValueError, match=r"SmoothSparsePhi.weights has"):
        model.partial_fit(other, grow_vocabulary=True)
    assert "newword" not in model.vocabulary and model.phi.shape[0] == len(weights)
