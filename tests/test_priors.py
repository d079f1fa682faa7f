"""The regularizers of docs/mathematics.md §8 (label regularization, specified sparsing,
topic selection, seed words) and SmoothSparsePhi on one modality, against NumPy
references: their terms alone, and one update of a model that uses them all."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attartm
from attartm.vocabulary import Vocabulary

from . import reference as ref
from . import reference_modalities as refm
from .test_modality_models import corpus, layout


def _counts(rng, n_words, n_topics):
    n_wt = rng.random((n_words, n_topics)) * 10
    n_wt[rng.random(n_wt.shape) < 0.3] = 0.0
    # Ties, which the order must break by index.
    n_wt[rng.random(n_wt.shape) < 0.2] = 2.0
    return n_wt


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_words=st.integers(1, 12),
    n_topics=st.integers(1, 7),
    some_topics=st.booleans(),
)
def test_label_regularization_matches_reference(seed, n_words, n_topics, some_topics):
    rng = np.random.default_rng(seed)
    n_wt = _counts(rng, n_words, n_topics)
    topics = sorted({0, n_topics - 1}) if some_topics else None
    weights = rng.random(n_words).tolist()
    r = attartm.LabelRegularizationPhi(0.7, topics=topics, weights=weights)
    phi = ref.normalize_columns(n_wt + 1)
    got = r.phi_term(phi, n_wt)
    np.testing.assert_allclose(got, refm.label_regularization(n_wt, 0.7, topics, weights))
    # Row blocks read their rows of the weights.
    block = r.phi_term(phi[1:], n_wt[1:], slice(1, n_words))
    np.testing.assert_allclose(block, got[1:])


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_words=st.integers(1, 12),
    n_topics=st.integers(1, 7),
    max_elements=st.integers(1, 6),
    mode=st.sampled_from(["topics", "words"]),
    threshold=st.sampled_from([1.0, 0.9, 0.5]),
    some_topics=st.booleans(),
)
def test_specified_sparse_matches_reference(
    seed, n_words, n_topics, max_elements, mode, threshold, some_topics
):
    rng = np.random.default_rng(seed)
    n_wt = _counts(rng, n_words, n_topics)
    topics = sorted({0, n_topics - 1}) if some_topics else None
    r = attartm.SpecifiedSparsePhi(
        1.5, topics=topics, max_elements=max_elements, mode=mode, probability_threshold=threshold
    )
    want = refm.specified_sparse(n_wt, 1.5, max_elements, mode, threshold, topics)
    np.testing.assert_allclose(r.phi_term(ref.normalize_columns(n_wt + 1), n_wt), want)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_topics=st.integers(1, 7), tau=st.sampled_from([0.3, 2.0]))
def test_topic_selection_and_seed_words_match_reference(seed, n_topics, tau):
    rng = np.random.default_rng(seed)
    n_t = rng.random(n_topics) * 5
    n_t[rng.random(n_topics) < 0.3] = 0.0
    scale = attartm.TopicSelectionTheta(tau).theta_scale(n_t)
    if n_t.sum() > 0 and (n_t != n_t[0]).any():
        np.testing.assert_allclose(scale, refm.topic_selection_scale(n_t, tau))
    else:  # no masses, or all equal: nothing to select among
        assert scale is None
    vocabulary = Vocabulary(["goal", "match", "oven", "cpu"])
    seeds = {0: ["goal", "match", "goal"], n_topics - 1: ["oven", "goal"]}
    n_wt = _counts(rng, 4, n_topics)
    term = attartm.SeedWords(seeds, tau).for_vocabulary(vocabulary).phi_term(None, n_wt)
    rows = {t: [vocabulary.index(w) for w in words] for t, words in seeds.items()}
    np.testing.assert_allclose(term, refm.seed_words(n_wt, rows, tau))


def test_one_update_with_every_regularizer_matches_reference():
    c = corpus()
    starts, bags = layout(c)
    rng = np.random.default_rng(8)
    n_topics, weights = 4, [1.0, 5.0, 2.0]
    sizes = np.diff(starts)
    n_wt0 = rng.random((starts[-1], n_topics)) * 20
    blocks = [
        ref.normalize_columns(n_wt0[a:b]).astype(np.float32) for a, b in itertools.pairwise(starts)
    ]
    names = list(c.modalities)
    regularizers = [
        attartm.SmoothSparsePhi(-0.05, modality="tags"),
        attartm.LabelRegularizationPhi(2.0, modality="label"),
        attartm.SpecifiedSparsePhi(1.0, max_elements=6, modality="text"),
        attartm.SeedWords({1: ["goal", "team"], 3: ["oven"]}, 0.5),
        attartm.TopicSelectionTheta(0.3),
    ]
    model = attartm.ARTM.from_phi(
        blocks[0], c.vocabulary, n_wt=n_wt0[: sizes[0]], doc_passes=3, seed=0,
        modalities={n: (b, c.vocabularies[n], n_wt0[a:e]) for n, b, a, e in
                    zip(names[1:], blocks[1:], starts[1:], starts[2:])},
        modality_weights={"label": 5.0, "tags": 2.0}, regularizers=regularizers,
    )  # fmt: skip
    model.partial_fit(c, batch_size=c.n_documents, decay_weight=0.0, apply_weight=1.0)
    phi0 = np.vstack(blocks)
    # The E-step: topic selection reads the topic masses of every modality together.
    scale = refm.topic_selection_scale(n_wt0.sum(axis=0), 0.3)
    docs = refm.entries(c.token_ids, c.doc_offsets, bags, starts)
    _, n_wt = refm.artm_estep(docs, weights, phi0, 3, theta_scale=scale)
    # The M-step: every Φ term on its own modality's rows.
    term = np.zeros_like(n_wt)
    term[starts[2] :] += -0.05
    term[starts[1] : starts[2]] += refm.label_regularization(n_wt[starts[1] : starts[2]], 2.0)
    term[: starts[1]] += refm.specified_sparse(n_wt[: starts[1]], 1.0, 6)
    seeds = {1: [c.vocabulary.index("goal"), c.vocabulary.index("team")],
             3: [c.vocabulary.index("oven")]}  # fmt: skip
    term[: starts[1]] += refm.seed_words(n_wt[: starts[1]], seeds, 0.5)
    phi = refm.mstep(n_wt, starts, term)
    for m, name in enumerate(names):
        np.testing.assert_allclose(model.phi_of(name), phi[starts[m] : starts[m + 1]], atol=1e-5)


def test_topic_selection_leaves_topics_out_and_says_which_survive():
    c = corpus()
    plain = attartm.ARTM(8, seed=0).fit(c, epochs=20)
    selected = attartm.ARTM(8, seed=0, regularizers=[attartm.TopicSelectionTheta(0.3)])
    selected.fit(c, epochs=20)
    assert len(plain.surviving_topics()) == 8
    survivors = selected.surviving_topics()
    assert len(survivors) == 3  # the three word groups of the corpus
    assert selected.score(c)["surviving_topics"] == len(survivors)


def test_seed_words_pull_their_topics():
    c = corpus()
    seeds = {2: ["goal", "match", "team"], 0: ["oven", "flour", "sugar"]}
    model = attartm.ARTM(3, seed=0, regularizers=[attartm.SeedWords(seeds, 1.0)]).fit(c, epochs=10)
    top = model.topics(k=6)
    for t, words in seeds.items():
        assert set(words) <= set(top.filter(top["topic"] == t)["word"].to_list())


def test_bad_regularizers_say_what_is_wrong():
    c = corpus()
    with pytest.raises(ValueError, match="the seed word 'gool' of topic 0 is not in the text"):
        attartm.ARTM(3, regularizers=[attartm.SeedWords({0: ["gool"]}, 1.0)]).fit(c)
    with pytest.raises(TypeError, match="SeedWords needs a mapping of topic indices"):
        attartm.SeedWords(["goal"], 1.0)
    with pytest.raises(ValueError, match="topics must be indices in \\[0, 3\\)"):
        attartm.ARTM(3, regularizers=[attartm.SeedWords({5: ["goal"]}, 1.0)]).fit(c)
    with pytest.raises(ValueError, match="mode must be one of"):
        attartm.SpecifiedSparsePhi(1.0, mode="rows")
    with pytest.raises(ValueError, match="max_elements must be an int"):
        attartm.SpecifiedSparsePhi(1.0, max_elements=0)
    with pytest.raises(ValueError, match="weights has 2 values, but the vocabulary has 3"):
        attartm.ARTM(3, regularizers=[attartm.LabelRegularizationPhi(1.0, weights=[1, 2],
                                                                     modality="label")]).fit(c)  # fmt: skip
    for model in (attartm.ThetalessARTM, attartm.AttentiveARTM):
        with pytest.raises(ValueError, match="Θ regularizers"):
            model(3, regularizers=[attartm.TopicSelectionTheta(0.1)]).fit(c)
