"""Training and inference of the three models against NumPy references and invariants."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

import attartm
from attartm import kernels

from . import reference as ref

MODELS = [
    lambda **kw: attartm.ARTM(4, doc_passes=5, **kw),
    lambda **kw: attartm.AttentiveARTM(4, passes=2, window=5, **kw),
    lambda **kw: attartm.ThetalessARTM(4, variant="full", **kw),
    lambda **kw: attartm.ThetalessARTM(4, variant="naive", **kw),
]
IDS = ["artm", "attentive", "thetaless-full", "thetaless-naive"]


def initial_phi(n_words: int, n_topics: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ref.normalize_columns(rng.random((n_words, n_topics))).astype(np.float32)


@pytest.mark.parametrize("make", MODELS, ids=IDS)
def test_phi_columns_sum_to_one_and_threads_do_not_matter(make, small_corpus):
    one = make(threads=1).fit(small_corpus, epochs=4)
    two = make(threads=2).fit(small_corpus, epochs=4)
    np.testing.assert_allclose(one.phi.sum(axis=0), 1.0, atol=1e-5)
    assert np.array_equal(one.phi, two.phi)
    assert np.array_equal(one.n_wt, two.n_wt)
    theta = one.transform(small_corpus).drop("id").to_numpy()
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("make", MODELS, ids=IDS)
def test_seed_reproduces_the_model(make, small_corpus):
    a = make(seed=3).fit(small_corpus, epochs=2)
    b = make(seed=3).fit(small_corpus, epochs=2)
    c = make(seed=4).fit(small_corpus, epochs=2)
    assert np.array_equal(a.phi, b.phi)
    assert not np.allclose(a.phi, c.phi)


def test_models_separate_the_three_word_groups(small_corpus):
    """Each synthetic word group ends up as the top words of its own topic."""
    from .conftest import GROUPS

    for model in (
        attartm.ARTM(3, seed=1),
        attartm.AttentiveARTM(3, passes=2, seed=1),
        attartm.ThetalessARTM(3, seed=1),
    ):
        model.fit(small_corpus, epochs=30)
        tops = model.topics(k=5).group_by("topic", maintain_order=True).agg("word")["word"]
        found = {next(g for g, ws in GROUPS.items() if set(top) <= set(ws.split())) for top in tops}
        assert found == set(GROUPS), (model, tops.to_list())


def test_one_artm_epoch_with_regularizers_matches_reference(small_corpus):
    regs = [
        attartm.SmoothSparsePhi(-0.2, topics=[1, 2]),
        attartm.SmoothSparsePhi(0.5, topics=[0]),
        attartm.SmoothSparseTheta(-0.1, topics=[3]),
        attartm.DecorrelatorPhi(2.0),
    ]
    model = attartm.ARTM(4, doc_passes=3, regularizers=regs, seed=5).fit(small_corpus, epochs=1)
    phi0 = initial_phi(len(small_corpus.vocabulary), 4, seed=5)
    theta_term = np.array([0, 0, 0, -0.1])
    _, n_wt = ref.artm_estep(
        small_corpus.token_ids, small_corpus.doc_offsets, phi0, None, 3, theta_term
    )
    r = np.zeros_like(n_wt)
    r[:, [1, 2]] += -0.2
    r[:, [0]] += 0.5
    p = phi0.astype(np.float64)
    r += -2.0 * p * (p.sum(axis=1, keepdims=True) - p)
    np.testing.assert_allclose(model.n_wt, n_wt, atol=1e-4)
    np.testing.assert_allclose(model.phi, ref.normalize_columns(n_wt + r), atol=1e-5)


def test_sparsing_theta_makes_theta_sparser(small_corpus):
    plain = attartm.ARTM(4, seed=0).fit(small_corpus, epochs=10)
    sparse = attartm.ARTM(4, seed=0, regularizers=[attartm.SmoothSparseTheta(-2.0)]).fit(
        small_corpus, epochs=10
    )
    theta = lambda m: m.transform(small_corpus).drop("id").to_numpy()  # noqa: E731
    assert (theta(sparse) < 1e-6).mean() > (theta(plain) < 1e-6).mean() + 0.2


def test_fit_online_matches_a_numpy_loop(small_corpus):
    model = attartm.ARTM(3, doc_passes=4, seed=2).fit_online(
        small_corpus, batch_size=16, update_every=2, tau0=8, kappa=0.6
    )
    phi = initial_phi(len(small_corpus.vocabulary), 3, seed=2)
    n_wt = np.zeros(phi.shape)
    pending, waiting, k = None, 0, 0
    batches = list(small_corpus.batches(16))
    for i, batch in enumerate(batches):
        _, nb = ref.artm_estep(batch.token_ids, batch.doc_offsets, phi, None, 4)
        pending = nb if pending is None else pending + nb
        waiting += 1
        if waiting == 2 or i == len(batches) - 1:
            k += 1
            rho = (8 + k) ** -0.6
            n_wt = (1 - rho) * n_wt + rho * pending
            phi = ref.normalize_columns(n_wt).astype(np.float32)
            pending, waiting = None, 0
    np.testing.assert_allclose(model.phi, phi, atol=1e-5)


def test_online_batches_cut_differently_give_the_same_model(small_corpus):
    """ñ is summed over update_every batches, so 2 batches of 10 = 1 batch of 20."""
    kw = dict(decay_weight=0.5, apply_weight=1.0)
    for make in MODELS:
        a = make(seed=1).fit_online(small_corpus, batch_size=10, update_every=2, **kw)
        b = make(seed=1).fit_online(small_corpus, batch_size=20, update_every=1, **kw)
        np.testing.assert_allclose(a.phi, b.phi, atol=1e-5)
        np.testing.assert_allclose(a.n_wt, b.n_wt, rtol=1e-5, atol=1e-4)


def test_fit_online_accepts_an_iterable_of_batches(small_corpus):
    a = attartm.ARTM(3, seed=0).fit_online(
        small_corpus, batch_size=25, decay_weight=1, apply_weight=1
    )
    b = attartm.ARTM(3, seed=0).fit_online(
        iter(list(small_corpus.batches(25))), decay_weight=1, apply_weight=1
    )
    assert np.array_equal(a.phi, b.phi)


def test_artm_heldout_perplexity_matches_reference(small_corpus):
    model = attartm.ARTM(3, doc_passes=5, seed=0).fit(small_corpus, epochs=5)
    tokens, offsets = small_corpus.token_ids, small_corpus.doc_offsets
    rng = np.random.default_rng(7)
    parity = rng.integers(0, 2, size=len(offsets) - 1)
    total, count = 0.0, 0
    for d in range(len(offsets) - 1):
        doc = tokens[offsets[d] : offsets[d + 1]]
        observed, hidden = doc[parity[d] :: 2], doc[1 - parity[d] :: 2]
        theta, _ = ref.artm_estep(observed, np.array([0, len(observed)]), model.phi, None, 5)
        for w in hidden:
            total += math.log(model.phi[w].astype(np.float64) @ theta[0])
            count += 1
    assert model.perplexity(small_corpus, seed=7) == pytest.approx(
        math.exp(-total / count), rel=1e-5
    )


def test_attentive_heldout_perplexity_never_lets_a_token_see_itself(small_corpus):
    # Inference in the training contexts (tests/test_inference_contexts.py: chosen ones).
    model = attartm.AttentiveARTM(3, passes=2, window=4, seed=0, inference_window=None,
                                  inference_passes=None, inference_document_weight=None,
                                  ).fit(small_corpus, epochs=3)  # fmt: skip
    tokens, offsets = small_corpus.token_ids, small_corpus.doc_offsets
    parity = np.random.default_rng(3).integers(0, 2, size=len(offsets) - 1)
    doc = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    position = np.arange(len(tokens)) - offsets[doc]
    hidden = (position % 2) != parity[doc]
    gf, gb = model.gammas(small_corpus)
    gf[hidden] = 0
    gb[hidden] = 0
    theta = ref.attentive_estep(tokens, offsets, model.phi, model.n_t, gf, gb, 0.5, 2, True)[4]
    p = np.einsum("nt,nt->n", model.phi[tokens].astype(np.float64), theta)
    expected = math.exp(-np.log(p[hidden]).mean())
    assert model.perplexity(small_corpus, seed=3) == pytest.approx(expected, rel=1e-5)


def test_linear_transform_is_the_linear_topicization(small_corpus):
    model = attartm.ARTM(4, seed=0).fit(small_corpus, epochs=3)
    linear = model.transform(small_corpus, method="linear").drop("id").to_numpy()
    expected = ref.linear_theta(
        small_corpus.token_ids, small_corpus.doc_offsets, model.phi, model.n_t
    )
    np.testing.assert_allclose(linear, expected, atol=1e-5)
    with pytest.raises(ValueError, match="method must be"):
        model.transform(small_corpus, method="magic")


def test_attentive_token_outputs_are_consistent(small_corpus):
    model = attartm.AttentiveARTM(4, passes=2, seed=0).fit(small_corpus, epochs=3)
    full = model.transform_tokens(small_corpus)
    assert full.columns == ["id", "position", "token", "p"]
    p = np.stack(full["p"].to_numpy())
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    top = model.transform_tokens(small_corpus, top=2)
    topics = np.stack(top["topics"].to_numpy()).astype(np.int64)
    probs = np.stack(top["probs"].to_numpy())
    np.testing.assert_array_equal(topics, np.argsort(-p, axis=1, kind="stable")[:, :2])
    np.testing.assert_array_equal(probs, np.take_along_axis(p, topics, axis=1))
    # p(t|d) is the mean of p_i over the document.
    theta = model.transform(small_corpus).drop("id").to_numpy()
    doc = np.repeat(np.arange(small_corpus.n_documents), small_corpus.document_lengths)
    means = np.stack([p[doc == d].mean(axis=0) for d in range(small_corpus.n_documents)])
    np.testing.assert_allclose(theta, means, atol=1e-5)
    words = small_corpus.to_polars()["token"].to_list()
    assert full["token"].to_list() == words


def test_attentive_contexts_and_boundary_scores(small_corpus):
    model = attartm.AttentiveARTM(4, passes=1, seed=0).fit(small_corpus, epochs=2)
    left, right = model.contexts(small_corpus)
    np.testing.assert_allclose(left.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(right.sum(axis=1), 1.0, atol=1e-5)
    scores = model.boundary_scores(small_corpus)
    ends = small_corpus.doc_offsets[1:] - 1
    assert np.isnan(scores[ends]).all()
    inner = np.delete(np.arange(small_corpus.n_tokens), ends)
    np.testing.assert_allclose(
        scores[inner], np.abs(left[inner] - right[inner + 1]).sum(axis=1), atol=1e-6
    )


def test_a_full_sentence_reset_is_a_document_boundary(small_corpus):
    """boundaries={"sentence": 1.0} gives every sentence exactly what it would get as a
    document of its own, whatever the token weights and hidden tokens do to γ."""
    starts = np.flatnonzero(small_corpus.boundaries >= 1)
    assert starts.size > 0
    trained = attartm.AttentiveARTM(3, passes=2, seed=0).fit(small_corpus, epochs=3)
    word = small_corpus.vocabulary.words[0]
    kw = dict(passes=2, window=4, token_weight={word: 0.0})
    joined = attartm.AttentiveARTM.from_phi(trained.phi, small_corpus.vocabulary, n_wt=trained.n_wt,
                                            boundaries={"sentence": 1.0}, **kw)  # fmt: skip
    plain = attartm.AttentiveARTM.from_phi(trained.phi, small_corpus.vocabulary, n_wt=trained.n_wt,
                                           **kw)  # fmt: skip
    resets = joined.resets(small_corpus)
    assert set(np.flatnonzero(resets == 1.0)) == set(starts) and resets.sum() == starts.size
    cuts = np.union1d(small_corpus.doc_offsets, starts)
    sentences = attartm.Corpus.from_token_ids(small_corpus.token_ids, cuts, small_corpus.vocabulary)
    a = np.stack(joined.transform_tokens(small_corpus)["p"].to_numpy())
    b = np.stack(plain.transform_tokens(sentences)["p"].to_numpy())
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(joined.contexts(small_corpus)[0], plain.contexts(sentences)[0],
                               atol=1e-6)  # fmt: skip


def test_token_weight_zero_keeps_words_out_of_every_context(small_corpus):
    word = small_corpus.vocabulary.words[0]
    model = attartm.AttentiveARTM(3, token_weight={word: 0.0}, seed=0)
    model.fit(small_corpus, epochs=1)
    gf, gb = model.gammas(small_corpus)
    mask = small_corpus.token_ids == 0
    assert mask.any() and (gf[mask] == 0).all() and (gb[mask] == 0).all()
    assert (gf[~mask] > 0).all()


def test_score_reports_every_metric(small_corpus):
    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(small_corpus, epochs=5)
    s = model.score(small_corpus)
    for key in (
        "perplexity",
        "sparsity_phi",
        "sparsity_theta",
        "diversity",
        "js_distance",
        "npmi",
        "kernel_size",
        "kernel_purity",
        "kernel_contrast",
    ):
        assert key in s and np.isfinite(s[key]), key
    assert 1 < s["perplexity"] < len(small_corpus.vocabulary)
    assert s["npmi"] > 0.0  # the word groups really co-occur


def test_from_phi_scores_a_foreign_model(small_corpus):
    trained = attartm.ARTM(3, seed=0).fit(small_corpus, epochs=5)
    clone = attartm.ARTM.from_phi(trained.phi, small_corpus.vocabulary, n_wt=trained.n_wt)
    assert clone.perplexity(small_corpus) == pytest.approx(trained.perplexity(small_corpus))


def test_kernels_match_reference_on_real_text(newsgroups):
    train, _, _ = newsgroups
    part = train.select(range(12))
    rng = np.random.default_rng(0)
    phi = ref.random_phi(rng, len(train.vocabulary), 6)
    theta, n_wt = kernels.artm_estep(part.token_ids, part.doc_offsets, phi, doc_passes=4)
    r_theta, r_n_wt = ref.artm_estep(part.token_ids, part.doc_offsets, phi, None, 4)
    np.testing.assert_allclose(theta, r_theta, atol=1e-5)
    np.testing.assert_allclose(n_wt, r_n_wt, rtol=1e-5, atol=1e-5)
    n_t = rng.random(6).astype(np.float32) * 100
    model = attartm.AttentiveARTM(6, window=8, window_backward=3, boundaries={"sentence": 0.5})
    model._vocabulary = train.vocabulary
    gf, gb = model.gammas(part)
    reset = model.resets(part)
    assert reset is not None and (reset == 0.5).sum() > 10
    p, n_wt = kernels.attentive_estep(part.token_ids, part.doc_offsets, phi, n_t, gamma_forward=gf,
                                      gamma_backward=gb, beta=0.3, passes=2, exclude_self=True,
                                      reset=reset)  # fmt: skip
    r = ref.attentive_estep(part.token_ids, part.doc_offsets, phi, n_t, gf, gb, 0.3, 2, True,
                            reset=reset)  # fmt: skip
    np.testing.assert_allclose(p, r[0], atol=1e-5)
    np.testing.assert_allclose(n_wt, r[1], rtol=1e-5, atol=1e-5)
    got = kernels.thetaless_estep(part.token_ids, part.doc_offsets, phi, n_t, variant="full")
    expected = ref.thetaless_estep(part.token_ids, part.doc_offsets, phi, n_t, "full")
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_training_perplexity_matches_reference(small_corpus):
    tokens, offsets = small_corpus.token_ids, small_corpus.doc_offsets
    artm = attartm.ARTM(3, doc_passes=5, seed=0).fit(small_corpus, epochs=5)
    theta, _ = ref.artm_estep(tokens, offsets, artm.phi, None, 5)
    doc = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    p = np.einsum("nt,nt->n", artm.phi[tokens].astype(np.float64), theta[doc])
    assert artm.perplexity(small_corpus, heldout=False) == pytest.approx(
        math.exp(-np.log(p).mean()), rel=1e-5
    )
    tl = attartm.ThetalessARTM(3, seed=0).fit(small_corpus, epochs=5)
    theta = ref.linear_theta(tokens, offsets, tl.phi, tl.n_t)
    p = np.einsum("nt,nt->n", tl.phi[tokens].astype(np.float64), theta[doc])
    assert tl.perplexity(small_corpus, heldout=False) == pytest.approx(
        math.exp(-np.log(p).mean()), rel=1e-5
    )
    # Held-out perplexity is never better than the training one on the same documents.
    assert artm.perplexity(small_corpus) > artm.perplexity(small_corpus, heldout=False)


def test_thetaless_heldout_perplexity_matches_reference(small_corpus):
    model = attartm.ThetalessARTM(3, seed=0).fit(small_corpus, epochs=5)
    tokens, offsets = small_corpus.token_ids, small_corpus.doc_offsets
    parity = np.random.default_rng(5).integers(0, 2, size=len(offsets) - 1)
    total, count = 0.0, 0
    for d in range(len(offsets) - 1):
        doc = tokens[offsets[d] : offsets[d + 1]]
        observed, hidden = doc[parity[d] :: 2], doc[1 - parity[d] :: 2]
        theta = ref.linear_theta(observed, np.array([0, len(observed)]), model.phi, model.n_t)
        for w in hidden:
            total += math.log(model.phi[w].astype(np.float64) @ theta[0])
            count += 1
    assert model.perplexity(small_corpus, seed=5) == pytest.approx(
        math.exp(-total / count), rel=1e-5
    )


def test_subnormal_probabilities_never_turn_into_nan():
    phi = np.array([[3e-45, 0.0], [1.0, 1.0]], dtype=np.float32)
    tokens, offsets = np.array([0, 1], dtype=np.uint32), [0, 2]
    theta, n_wt = kernels.artm_estep(tokens, offsets, phi)
    assert np.isfinite(theta).all() and np.isfinite(n_wt).all()
    assert np.isfinite(kernels.thetaless_estep(tokens, offsets, phi, [1.0, 1.0])).all()
    g = np.full(2, 0.5, dtype=np.float32)
    kw = dict(gamma_forward=g, gamma_backward=g, beta=0.5, passes=2, exclude_self=True)
    p, n_wt = kernels.attentive_estep(tokens, offsets, phi, [1e-39, 1.0], **kw)
    assert np.isfinite(p).all() and np.isfinite(n_wt).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    (topics, probs), _ = kernels.attentive_run(tokens, offsets, phi, [1e-39, 1.0], output="top",
                                               top=2, accumulate=False, **kw)  # fmt: skip
    assert set(topics.ravel()) <= {0, 1} and np.isfinite(probs).all()


def test_one_shot_iterator_with_several_epochs_fails_before_training(small_corpus):
    model = attartm.ARTM(3)
    with pytest.raises(ValueError, match="re-iterable"):
        model.fit_online(iter(list(small_corpus.batches(20))), epochs=2)
    assert model._phi is None


def test_score_refuses_a_reference_with_another_vocabulary(small_corpus):
    model = attartm.ARTM(3).fit(small_corpus, epochs=2)
    other = attartm.Corpus.from_texts(["zebra yak quokka", "yak zebra"], stopwords=False)
    with pytest.raises(ValueError, match="different vocabulary"):
        model.score(small_corpus, reference=other)


def test_numpy_and_polars_parameters_save_as_plain_numbers(small_corpus, tmp_path):
    import polars as pl

    word = small_corpus.vocabulary.words[1]
    model = attartm.AttentiveARTM(
        np.int64(3), passes=np.int64(2), window=np.int64(6), beta=np.float32(0.25),
        token_weight={word: np.float32(0.0)}, boundaries={"sentence": np.float64(0.5)},
    ).fit(small_corpus, epochs=2)  # fmt: skip
    model.save(tmp_path / "m.attartm")
    loaded = attartm.load(tmp_path / "m.attartm")
    assert loaded._validated() == model._validated()
    weights = pl.Series(np.linspace(0, 1, len(small_corpus.vocabulary)))
    attartm.AttentiveARTM(3, token_weight=weights).fit(small_corpus, epochs=1).save(tmp_path / "w")


def test_background_topics_are_marked_and_checked(small_corpus):
    model = attartm.AttentiveARTM(4, background_topics=[3, 1], epochs=2, updates_per_epoch=2)
    assert model.background_topics == [3, 1] and model._background_topics == (1, 3)
    model.fit(small_corpus)
    top = model.topics(3)
    assert top.filter(pl.col("background"))["topic"].unique().sort().to_list() == [1, 3]
    assert model.transform(small_corpus).columns == [
        "id",
        "topic_0",
        "background_1",
        "topic_2",
        "background_3",
    ]
    # Saved (and so reloaded) as a plain list.
    saved = attartm.ARTM(4, background_topics=(2,))._validated()["background_topics"]
    assert saved == [2]
    for bad, message in [([4], "distinct indices"), ([1, 1], "distinct"), ([0, 1, 2, 3], "every"),
                         (3, "sequence"), (["a"], "background_topics")]:  # fmt: skip
        with pytest.raises((ValueError, TypeError), match=message):
            attartm.ARTM(4, background_topics=bad).fit(small_corpus, epochs=1)
