"""scikit-learn conventions of the models and the TopicTransformer adapter (issue 12)."""

from __future__ import annotations

import inspect

import numpy as np
import polars as pl
import pytest

import attartm
from attartm import (
    ARTM,
    AttentiveARTM,
    DecorrelatorPhi,
    NotFittedError,
    SmoothSparsePhi,
    SmoothSparseTheta,
    ThetalessARTM,
)

from .conftest import synthetic_texts

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from attartm.sklearn import TopicTransformer  # noqa: E402


def models() -> list[attartm.TopicModel]:
    """One model of every class, with regularizers and parameters off their defaults."""
    phi_regs = [SmoothSparsePhi(-0.05, topics=[1, 2]), DecorrelatorPhi(0.1)]
    return [
        ARTM(3, doc_passes=4, epochs=3, regularizers=[*phi_regs, SmoothSparseTheta(-0.1)]),
        ThetalessARTM(3, variant="naive", epochs=3, regularizers=phi_regs, seed=2),
        AttentiveARTM(
            3,
            window=4,
            boundaries={"sentence": 0.5},
            token_weight={"goal": 0.5},
            background_topics=[2],
            epochs=3,
            updates_per_epoch=2,
            regularizers=phi_regs,
        ),
    ]


MODEL_IDS = ["ARTM", "ThetalessARTM", "AttentiveARTM"]


@pytest.mark.parametrize("index", range(3), ids=MODEL_IDS)
def test_get_params_are_the_constructor_arguments_as_given(index):
    model = models()[index]
    params = model.get_params(deep=True)
    names = [p for p in inspect.signature(type(model).__init__).parameters if p != "self"]
    assert list(params) == names
    assert params["regularizers"] is model.regularizers
    assert "regularizers" in params and len(params["regularizers"]) >= 2


@pytest.mark.parametrize("index", range(3), ids=MODEL_IDS)
def test_clone_gives_an_equal_unfitted_model(index, small_corpus):
    model = models()[index].fit(small_corpus)
    copy = clone(model)
    assert type(copy) is type(model)
    assert copy.get_params() == model.get_params()
    # The regularizers are copied, not shared.
    assert copy.regularizers == model.regularizers
    assert copy.regularizers is not model.regularizers
    assert all(a is not b for a, b in zip(copy.regularizers, model.regularizers))
    with pytest.raises(NotFittedError):
        copy.phi  # noqa: B018
    assert model.phi.shape == (len(small_corpus.vocabulary), 3)
    # The clone trains to the very same model.
    np.testing.assert_array_equal(copy.fit(small_corpus).phi, model.phi)


def test_set_params_returns_the_model_and_refuses_unknown_names():
    model = ARTM(3)
    assert model.set_params(n_topics=4, doc_passes=2) is model
    assert (model.n_topics, model.doc_passes) == (4, 2)
    with pytest.raises(ValueError, match=r"ARTM has no parameter 'n_topic'; its parameters are"):
        model.set_params(n_topic=5)


def test_set_params_then_fit_uses_the_new_values(small_corpus):
    model = ARTM(3, epochs=3).fit(small_corpus)
    model.set_params(n_topics=5).fit(small_corpus)
    assert model.phi.shape == (len(small_corpus.vocabulary), 5)
    assert model.transform(small_corpus).columns[1:] == [f"topic_{t}" for t in range(5)]

    attentive = AttentiveARTM(3, window=3, epochs=3, updates_per_epoch=2)
    narrow = attentive.fit(small_corpus).phi.copy()
    wide = attentive.set_params(window=30).fit(small_corpus).phi
    assert not np.allclose(narrow, wide)
    fresh = AttentiveARTM(3, window=30, epochs=3, updates_per_epoch=2).fit(small_corpus)
    np.testing.assert_array_equal(wide, fresh.phi)


@pytest.mark.parametrize("index", range(3), ids=MODEL_IDS)
def test_fit_transform_is_fit_then_transform(index, small_corpus):
    one = models()[index].fit_transform(small_corpus)
    other = models()[index].fit(small_corpus).transform(small_corpus)
    assert one.equals(other)
    assert one.shape == (small_corpus.n_documents, 4)


@pytest.mark.parametrize("index", range(3), ids=MODEL_IDS)
def test_components_is_phi_transposed_without_a_copy(index, small_corpus):
    model = models()[index].fit(small_corpus)
    assert model.components_.shape == (3, len(small_corpus.vocabulary))
    np.testing.assert_array_equal(model.components_, model.phi.T)
    assert np.shares_memory(model.components_, model._phi)
    assert model.n_features_in_ == len(small_corpus.vocabulary)
    with pytest.raises(NotFittedError):
        clone(model).components_  # noqa: B018


# --- TopicTransformer ---------------------------------------------------------------


def labelled(n_docs: int = 90) -> tuple[list[str], np.ndarray]:
    """Synthetic documents whose label is their main word group (see conftest)."""
    return synthetic_texts(n_docs, seed=1), np.arange(n_docs) % 3


def test_transformer_exposes_the_model_parameters_and_clones():
    transformer = TopicTransformer(ARTM(4, regularizers=[SmoothSparsePhi(-0.1)]))
    params = transformer.get_params(deep=True)
    assert params["model__n_topics"] == 4
    assert params["model__regularizers"] == [SmoothSparsePhi(-0.1)]
    copy = clone(transformer.set_params(model__n_topics=6))
    assert copy.model.n_topics == 6 and copy.model is not transformer.model


def test_transformer_on_texts_returns_topic_vectors():
    texts, labels = labelled(30)
    transformer = TopicTransformer(ARTM(3, epochs=10), corpus_options={"stopwords": False})
    theta = transformer.fit_transform(texts)
    assert isinstance(theta, np.ndarray) and theta.shape == (30, 3)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-5)
    # The wrapped model is left untouched; the fitted clone is model_.
    with pytest.raises(NotFittedError):
        transformer.model.phi  # noqa: B018
    # Each label's documents share their main topic.
    main = theta.argmax(axis=1)
    assert all(len(set(main[labels == k])) == 1 for k in range(3))
    assert len(set(main)) == 3
    np.testing.assert_array_equal(transformer.transform(texts), theta)
    # polars and pandas Series give the same vectors.
    np.testing.assert_array_equal(transformer.transform(pl.Series(texts)), theta)
    pd = pytest.importorskip("pandas")
    np.testing.assert_array_equal(transformer.transform(pd.Series(texts)), theta)
    assert list(transformer.get_feature_names_out()) == ["topic_0", "topic_1", "topic_2"]


def test_a_document_term_matrix_becomes_the_same_bag_of_words():
    texts, _ = labelled(12)
    vectorizer = CountVectorizer()
    matrix = vectorizer.fit_transform([*texts, ""])
    vocabulary = attartm.Vocabulary(vectorizer.get_feature_names_out())
    corpus = attartm.Corpus.from_bow(matrix, vocabulary)
    assert corpus.n_documents == 13 and corpus.n_tokens == matrix.sum()
    offsets, tokens = corpus.doc_offsets, corpus.token_ids
    for d in range(13):
        counts = np.bincount(tokens[offsets[d] : offsets[d + 1]], minlength=len(vocabulary))
        np.testing.assert_array_equal(counts, matrix[d].toarray().ravel())


def test_transformer_on_a_matrix_with_feature_names():
    texts, labels = labelled(30)
    vectorizer = CountVectorizer()
    matrix = vectorizer.fit_transform(texts)
    transformer = TopicTransformer(ThetalessARTM(3, epochs=20))
    transformer.fit(matrix, feature_names=vectorizer.get_feature_names_out())
    assert transformer.n_features_in_ == matrix.shape[1]
    top = transformer.model_.topics(3)
    assert set(top["word"]) <= set(vectorizer.get_feature_names_out())
    theta = transformer.transform(matrix)
    assert theta.shape == (30, 3)
    main = theta.argmax(axis=1)
    assert all(len(set(main[labels == k])) == 1 for k in range(3))
    np.testing.assert_array_equal(transformer.transform(matrix.toarray()), theta)
    with pytest.raises(ValueError, match=r"has 5 columns, but the model was fitted on"):
        transformer.transform(matrix[:, :5])
    with pytest.raises(ValueError, match=r"whole, non-negative word counts"):
        transformer.fit(matrix * 0.5)


def test_attentive_transformer_refuses_a_matrix():
    texts, _ = labelled(9)
    matrix = CountVectorizer().fit_transform(texts)
    with pytest.raises(ValueError, match=r"AttentiveARTM reads word order"):
        TopicTransformer(AttentiveARTM(3)).fit(matrix)


@pytest.mark.parametrize("vectorize", [False, True], ids=["texts", "CountVectorizer"])
def test_pipeline_grid_search_over_the_number_of_topics(vectorize):
    texts, labels = labelled()
    steps = [("vectorizer", CountVectorizer())] if vectorize else []
    pipe = Pipeline(
        [
            *steps,
            ("topics", TopicTransformer(ARTM(20, epochs=10, threads=1))),
            ("clf", LogisticRegression()),
        ]
    )
    search = GridSearchCV(pipe, {"topics__model__n_topics": [1, 3]}, cv=3).fit(texts, labels)
    # One topic carries no information about the label; three topics recover it.
    assert search.best_params_ == {"topics__model__n_topics": 3}
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > 0.95 and scores[0] < 0.5
    assert search.best_estimator_.named_steps["topics"].model_.n_topics == 3
    assert search.predict(texts[:6]).tolist() == labels[:6].tolist()
