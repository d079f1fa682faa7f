"""The three models over several modalities (docs/mathematics.md §7): one epoch of each
against the NumPy references, determinism, prediction, per-modality perplexity, and the
errors of bad modality input."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone

import attartm

from . import reference as ref
from . import reference_modalities as refm
from .conftest import GROUPS, synthetic_texts

LABELS = list(GROUPS)


def frame(n_docs: int = 45, seed: int = 0) -> pl.DataFrame:
    """Synthetic texts whose label is their main word group, with tags of both groups."""
    texts = synthetic_texts(n_docs, length=24, seed=seed)
    return pl.DataFrame(
        {
            "text": texts,
            "label": [LABELS[d % 3] for d in range(n_docs)],
            "tags": [[f"t{d % 3}", f"t{(d + 1) % 3}"] if d % 4 else [] for d in range(n_docs)],
        }
    )


def corpus(df: pl.DataFrame | None = None, **kw) -> attartm.Corpus:
    return attartm.Corpus.from_polars(
        frame() if df is None else df, stopwords=False,
        modalities={"label": "label", "tags": "tags"}, **kw,
    )  # fmt: skip


def initial_phi(c: attartm.Corpus, n_topics: int, seed: int) -> np.ndarray:
    """The stacked initial Φ of a model of seed ``seed``: modality m's block from seed + m."""
    blocks = []
    for m, v in enumerate(c.vocabularies.values()):
        rng = np.random.default_rng(seed + m)
        blocks.append(ref.normalize_columns(rng.random((len(v), n_topics))))
    return np.vstack(blocks).astype(np.float32)


def layout(c: attartm.Corpus):
    """Entries of every document, the starts of the blocks, the text and its bags."""
    sizes = [len(v) for v in c.vocabularies.values()]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    bags = []
    for m, name in enumerate(c.modalities[1:], start=1):
        b = c._bag(name)
        bags.append((m, b.token_ids, b.doc_offsets))
    return starts, bags


WEIGHTS = {"label": 5.0, "tags": 2.0}


def test_one_artm_epoch_over_modalities_matches_reference():
    c = corpus()
    regs = [attartm.SmoothSparsePhi(-0.05, modality="label"), attartm.SmoothSparseTheta(0.2)]
    model = attartm.ARTM(4, doc_passes=3, modality_weights=WEIGHTS, regularizers=regs, seed=5)
    model.fit(c, epochs=1)
    starts, bags = layout(c)
    weights = [1.0, 5.0, 2.0]
    docs = refm.entries(c.token_ids, c.doc_offsets, bags, starts)
    phi0 = initial_phi(c, 4, 5)
    _, n_wt = refm.artm_estep(docs, weights, phi0, 3, theta_term=np.full(4, 0.2))
    term = np.zeros_like(n_wt)
    term[starts[1] : starts[2]] = -0.05
    phi = refm.mstep(n_wt, starts, term)
    np.testing.assert_allclose(model.n_wt, n_wt[: starts[1]], rtol=1e-6, atol=1e-5)
    for m, name in enumerate(c.modalities):
        np.testing.assert_allclose(model.phi_of(name), phi[starts[m] : starts[m + 1]], atol=1e-5)
        np.testing.assert_allclose(model.phi_of(name).sum(axis=0), 1.0, atol=1e-5)
    assert model.modalities == {"text": 1.0, "label": 5.0, "tags": 2.0}


@pytest.mark.parametrize("variant", ["full", "naive"])
def test_one_thetaless_epoch_over_modalities_matches_reference(variant):
    c = corpus()
    model = attartm.ThetalessARTM(4, variant=variant, modality_weights=WEIGHTS, seed=2)
    model.fit(c, epochs=1)
    starts, bags = layout(c)
    docs = refm.entries(c.token_ids, c.doc_offsets, bags, starts)
    # Before the first M-step the topic masses are ones (p(t|w) = φ normalized over t).
    n_wt = refm.thetaless_estep(docs, [1.0, 5.0, 2.0], initial_phi(c, 4, 2), np.ones((3, 4)),
                                starts, variant)  # fmt: skip
    phi = refm.mstep(n_wt, starts)
    for m, name in enumerate(c.modalities):
        np.testing.assert_allclose(model.phi_of(name), phi[starts[m] : starts[m + 1]], atol=1e-5)


@pytest.mark.parametrize("filter", ["p/n_t", "phi"])
def test_one_attentive_epoch_over_modalities_matches_reference(filter):
    c = corpus()
    model = attartm.AttentiveARTM(
        4, passes=2, window=4, beta=0.4, filter=filter, tempering=0.7, context_prior=1.0,
        updates_per_epoch=1, modality_weights={"text": 2.0, "label": 5.0, "tags": 2.0}, seed=3,
    )  # fmt: skip
    model.fit(c, epochs=1)
    starts, bags = layout(c)
    other_docs = refm.entries(np.zeros(0, np.uint32), np.zeros(c.n_documents + 1, np.int64),
                              bags, starts)  # fmt: skip
    g = np.full(c.n_tokens, 0.25, dtype=np.float32)
    n_wt, _, _ = refm.attentive_estep(
        c.token_ids, c.doc_offsets, other_docs, [2.0, 5.0, 2.0], initial_phi(c, 4, 3),
        np.ones(4), g, g, 0.4, 2, True, filter, tempering=0.7,
        context_prior=(4.0, 4.0),  # (h→/m, h←/m): window 4, prior m = 1
    )  # fmt: skip
    phi = refm.mstep(n_wt, starts)
    np.testing.assert_allclose(model.n_wt, n_wt[: starts[1]], atol=1e-5)
    for m, name in enumerate(c.modalities):
        np.testing.assert_allclose(model.phi_of(name), phi[starts[m] : starts[m + 1]], atol=1e-5)


MODELS = {
    "artm": lambda **kw: attartm.ARTM(3, doc_passes=4, **kw),
    "thetaless": lambda **kw: attartm.ThetalessARTM(3, **kw),
    "attentive": lambda **kw: attartm.AttentiveARTM(
        3, passes=2, window=5, epochs=4, updates_per_epoch=3, **kw
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_models_over_modalities_do_not_depend_on_the_thread_count(name):
    c = corpus()
    one = MODELS[name](modality_weights=WEIGHTS, threads=1, seed=1).fit(c, epochs=4)
    two = MODELS[name](modality_weights=WEIGHTS, threads=2, seed=1).fit(c, epochs=4)
    for m in c.modalities:
        assert np.array_equal(one.phi_of(m), two.phi_of(m))
    assert np.array_equal(one.predict(c, "label", k=2), two.predict(c, "label", k=2))


@pytest.mark.parametrize("name", MODELS)
def test_a_modality_of_weight_zero_is_left_out(name):
    c = corpus()
    text_only = attartm.Corpus.from_polars(frame(), stopwords=False)
    a = MODELS[name](seed=4, modality_weights={"label": 0, "tags": 0}).fit(c, epochs=3)
    b = MODELS[name](seed=4).fit(text_only, epochs=3)
    assert a.modalities == {"text": 1.0}
    assert np.array_equal(a.phi, b.phi)


@pytest.mark.parametrize("name", MODELS)
def test_labels_are_predicted_from_the_text(name):
    train = corpus(frame(60, seed=1))
    test_frame = frame(30, seed=2)
    test = attartm.Corpus.from_polars(test_frame, stopwords=False, vocabulary=train.vocabularies)
    model = MODELS[name](modality_weights={"label": 10.0}, seed=0).fit(train, epochs=15)
    predicted = model.predict(test, "label", k=3)
    assert predicted.columns == ["id", "rank", "value", "probability"]
    assert predicted.height == 3 * test.n_documents
    best = predicted.filter(pl.col("rank") == 1)
    accuracy = (best["value"].to_numpy() == test_frame["label"].to_numpy()).mean()
    assert accuracy >= 0.9, accuracy
    p = predicted["probability"].to_numpy().reshape(-1, 3)
    assert (np.diff(p, axis=1) <= 0).all() and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    # A test corpus with the labels: they are read by transform, never by predict (which
    # reads the other modalities there are).
    labelled = corpus(test_frame, vocabulary=train.vocabularies)
    assert model.predict(labelled.without("tags"), "label", k=3).equals(predicted)
    scores = model.score(labelled)
    assert scores["perplexity"] == scores["perplexity_text"]
    assert 1.0 <= scores["perplexity_label"] < 1.5
    assert scores["perplexity_tags"] == model.perplexity(labelled, modality="tags")


def test_attentive_inference_contexts_are_chosen_on_the_text_and_read_with_modalities():
    c = corpus()
    model = attartm.AttentiveARTM(3, window=5, epochs=4, updates_per_epoch=2, seed=0)
    model.set_params(modality_weights=WEIGHTS).fit(c)
    chosen = (model.inference_window_, model.inference_passes_, model.inference_document_weight_)
    assert chosen[0] is not None and chosen[1] in (1, 2, 3, 4)
    # The choice reads the text alone: the other modalities of the corpus change nothing.
    assert model.choose_inference(c) == chosen
    assert model.choose_inference(c.without("label", "tags")) == chosen
    # transform reads the chosen contexts beside the other modalities: fixing the same
    # contexts gives the same θ, other contexts another.
    same = clone(model).set_params(
        inference_window=chosen[0], inference_passes=chosen[1], inference_document_weight=chosen[2]
    )
    other = clone(model).set_params(
        inference_window=50.0, inference_passes=1, inference_document_weight=0.0
    )
    same.fit(c)
    other.fit(c)
    assert model.transform(c).equals(same.transform(c))
    assert not model.transform(c).equals(other.transform(c))
    assert model.predict(c, "label", k=2).equals(same.predict(c, "label", k=2))


def test_transform_reads_every_modality_present():
    train = corpus(frame(60, seed=1))
    model = attartm.ARTM(3, modality_weights={"label": 10.0}, seed=0).fit(train, epochs=10)
    with_labels = model.transform(train).drop("id").to_numpy()
    without = model.transform(train.without("label", "tags")).drop("id").to_numpy()
    assert not np.allclose(with_labels, without)
    linear = model.transform(train, method="linear").drop("id").to_numpy()
    np.testing.assert_allclose(linear.sum(axis=1), 1.0, atol=1e-5)


def test_topics_of_another_modality_and_sklearn_conventions():
    c = corpus()
    model = attartm.ARTM(3, modality_weights={"label": 10.0}, seed=0)
    assert clone(model).get_params()["modality_weights"] == {"label": 10.0}
    model.fit(c, epochs=10)
    top = model.topics(k=1, modality="label")
    assert sorted(top["word"].to_list()) == sorted(LABELS)
    assert model.vocabularies["label"] == c.vocabularies["label"]


def test_bad_modality_input_says_what_is_wrong():
    c = corpus()
    with pytest.raises(ValueError, match=r"modality_weights\['label'\] must be at least 0"):
        attartm.ARTM(3, modality_weights={"label": -1}).fit(c)
    with pytest.raises(TypeError, match="modality_weights must map modality names"):
        attartm.ARTM(3, modality_weights=[1.0]).fit(c)
    with pytest.raises(ValueError, match="names \\['author'\\], which the corpus does not have"):
        attartm.ARTM(3, modality_weights={"author": 1.0}).fit(c)
    with pytest.raises(ValueError, match="acts on the modality 'labels', which the model"):
        attartm.ARTM(3, regularizers=[attartm.SmoothSparsePhi(1.0, modality="labels")]).fit(c)
    model = attartm.ARTM(3, seed=0).fit(c, epochs=2)
    with pytest.raises(ValueError, match="the model has no modality 'author'"):
        model.predict(c, "author")
    with pytest.raises(ValueError, match='predict names a modality other than "text"'):
        model.predict(c, "text")
    other = attartm.Corpus.from_polars(
        frame().with_columns(pl.col("label").str.to_uppercase()), stopwords=False,
        modalities={"label": "label"}, vocabulary=c.vocabulary,
    )  # fmt: skip
    with pytest.raises(ValueError, match="modality 'label' has a different vocabulary"):
        model.transform(other)
    with pytest.raises(ValueError, match="grow_vocabulary grows the vocabulary of a text-only"):
        model.partial_fit(attartm.Corpus.from_texts(["new words here"]), grow_vocabulary=True)


def test_a_column_without_mass_in_a_modality_is_uniform_over_that_modality():
    """Refreshing rows of Φ (the lazy M-step of stepwise training) normalizes every
    modality's block on its own (docs/mathematics.md §7): a topic without positive mass in
    a modality gets 1/(that modality's words) there, as the whole-block M-step gives it."""
    model = attartm.ARTM(3, seed=0, updates_per_epoch=3).fit(corpus(), epochs=2, progress_bar=False)
    label = model._layout.blocks[1]
    n_wt = model._n_wt
    n_wt[label, 0] = 0.0
    everything = np.arange(n_wt.shape[0], dtype=np.uint32)
    model._positive = model._block_sums(everything)[1]
    model._version += 1
    model._current()
    phi = model._phi.astype(np.float64)
    n_label = label.stop - label.start
    np.testing.assert_array_equal(model._phi[label, 0], np.float32(1.0 / n_label))
    for block in model._layout.blocks:
        np.testing.assert_allclose(phi[block].sum(axis=0), 1.0, rtol=1e-5)
