"""Bag-of-words inputs (count matrices, gensim, Vowpal Wabbit, UCI) and the pyLDAvis output."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

import attartm
from attartm import ARTM, AttentiveARTM, Corpus, ThetalessARTM

from .conftest import synthetic_texts

MODELS = [ARTM, ThetalessARTM, AttentiveARTM]


@pytest.fixture(scope="module")
def texts_corpus() -> Corpus:
    return Corpus.from_texts(synthetic_texts(n_docs=24, length=24, seed=3), stopwords=False)


def count_matrix(corpus: Corpus) -> sp.csr_matrix:
    """The D×W counts of a corpus, computed from its tokens."""
    doc = np.repeat(np.arange(corpus.n_documents), corpus.document_lengths)
    ones = np.ones(corpus.n_tokens, dtype=np.int64)
    shape = (corpus.n_documents, len(corpus.vocabulary))
    return sp.csr_matrix((ones, (doc, corpus.token_ids)), shape=shape)


def bag(corpus: Corpus) -> set[tuple[int, str, int]]:
    """(document position, word, count) of every distinct word of every document."""
    frame = corpus.bag_of_words()
    position = {d: i for i, d in enumerate(corpus.ids.to_list())}
    return {
        (position[d], w, c)
        for d, w, c in zip(frame["id"].to_list(), frame["token"].to_list(), frame["count"])
    }


def tokenized(corpus: Corpus) -> list[list[str]]:
    words = corpus.vocabulary.words
    tokens, offsets = corpus.token_ids, corpus.doc_offsets
    return [[words[t] for t in tokens[a:b]] for a, b in pairwise(offsets)]


# --- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("dense", [False, True])
def test_from_bow_gives_the_bag_of_words_of_the_texts(texts_corpus, dense):
    matrix = count_matrix(texts_corpus)
    bow = Corpus.from_bow(matrix.toarray() if dense else matrix, texts_corpus.vocabulary.words)
    assert bow.bag_of_words().equals(texts_corpus.bag_of_words())
    assert bow.vocabulary == texts_corpus.vocabulary
    assert not bow.word_order and texts_corpus.word_order


def test_from_gensim_gives_the_bag_of_words_of_the_texts(texts_corpus):
    gensim = pytest.importorskip("gensim")
    docs = tokenized(texts_corpus)
    dictionary = gensim.corpora.Dictionary(docs)
    bow = Corpus.from_gensim([dictionary.doc2bow(doc) for doc in docs], dictionary)
    assert bag(bow) == bag(texts_corpus)
    assert bow.vocabulary.words == [dictionary[i] for i in range(len(dictionary))]
    assert not bow.word_order


def test_from_vowpal_wabbit_gives_the_bag_of_words_of_the_texts(texts_corpus, tmp_path):
    path = tmp_path / "corpus.vw"
    lines = []
    for d, doc in enumerate(tokenized(texts_corpus)):
        words, counts = np.unique(doc, return_counts=True)
        entries = [w if c == 1 else f"{w}:{c}" for w, c in zip(words, counts)]
        # Other modalities are skipped; an explicit default class section is kept.
        lines.append(f"doc{d} {' '.join(entries[:3])} |author someone:2 |@default_class "
                     f"{' '.join(entries[3:])}")  # fmt: skip
    path.write_text("\n".join(lines) + "\n\n")
    bow = Corpus.from_vowpal_wabbit(path)
    assert bag(bow) == bag(texts_corpus)
    assert bow.ids.to_list() == [f"doc{d}" for d in range(texts_corpus.n_documents)]
    assert "someone" not in bow.vocabulary and not bow.word_order


def write_uci(corpus: Corpus, directory: Path) -> tuple[Path, Path]:
    matrix = count_matrix(corpus).tocoo()
    docword, vocab = directory / "docword.txt", directory / "vocab.txt"
    entries = [f"{d + 1} {w + 1} {c}" for d, w, c in zip(matrix.row, matrix.col, matrix.data)]
    header = [str(matrix.shape[0]), str(matrix.shape[1]), str(len(entries))]
    docword.write_text("\n".join(header + entries) + "\n")
    vocab.write_text("\n".join(corpus.vocabulary.words) + "\n")
    return docword, vocab


def test_from_uci_gives_the_bag_of_words_of_the_texts(texts_corpus, tmp_path):
    bow = Corpus.from_uci(*write_uci(texts_corpus, tmp_path))
    assert bow.vocabulary == texts_corpus.vocabulary
    assert bow.ids.to_list() == list(range(1, texts_corpus.n_documents + 1))
    assert bag(bow) == bag(texts_corpus) and not bow.word_order


def test_the_bag_flag_survives_select_split_and_batches(texts_corpus):
    bow = Corpus.from_bow(count_matrix(texts_corpus), texts_corpus.vocabulary)
    parts = [bow.select([2, 0]), *bow.split(0.25), *bow.batches(5)]
    assert not any(part.word_order for part in parts)
    assert all(part.word_order for part in texts_corpus.split(0.25))


def test_transformer_and_from_bow_share_one_conversion(texts_corpus):
    from attartm import _bow, sklearn

    assert sklearn.count_matrix is _bow.count_matrix


# --- training ---------------------------------------------------------------------------


@pytest.mark.parametrize("model_class", [ARTM, ThetalessARTM])
def test_a_model_trained_on_a_matrix_equals_one_trained_on_the_tokens(texts_corpus, model_class):
    bow = Corpus.from_bow(count_matrix(texts_corpus), texts_corpus.vocabulary)
    # The bag holds each document's tokens in word id order, the text in its own order:
    # a model that reads only counts must not see the difference.
    assert not np.array_equal(bow.token_ids, texts_corpus.token_ids)
    from_tokens = model_class(3, seed=1, epochs=8).fit(texts_corpus)
    from_matrix = model_class(3, seed=1, epochs=8).fit(bow)
    np.testing.assert_allclose(from_matrix.phi, from_tokens.phi, atol=1e-6)
    theta = from_matrix.transform(bow).drop("id").to_numpy()
    expected = from_tokens.transform(texts_corpus).drop("id").to_numpy()
    np.testing.assert_allclose(theta, expected, atol=1e-6)


def test_attentive_artm_refuses_a_bag_of_words(texts_corpus):
    bow = Corpus.from_bow(count_matrix(texts_corpus), texts_corpus.vocabulary)
    with pytest.raises(ValueError, match="word order"):
        AttentiveARTM(3, epochs=1).fit(bow)
    with pytest.raises(ValueError, match="word order"):
        AttentiveARTM(3, epochs=1).fit_online(bow, batch_size=10)
    fitted = AttentiveARTM(3, epochs=1, seed=0).fit(texts_corpus)
    with pytest.raises(ValueError, match="bag of words"):
        fitted.transform(bow.select([0]))


# --- malformed input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("d1 a b:2\nd2 a:x\n", 2),
        ("d1 a\n\nd3 b:1.5\n", 3),
        ("d1 a\n|author x\n", 2),
        ("d1 :3\n", 1),
        ("d1 a:99999999999999999999999\n", 1),
    ],
)
def test_malformed_vowpal_wabbit_names_the_line(tmp_path, text, line):
    path = tmp_path / "bad.vw"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"line {line}\\b"):
        Corpus.from_vowpal_wabbit(path)


@pytest.mark.parametrize(
    ("docword", "line"),
    [
        ("2\n2\n2\n1 1 3\n2 x 1\n", 5),
        ("2\n2\n2\n1 1 3\n3 1 1\n", 5),
        ("2\n2\n1\n1 1 3\n2 1 1\n", 5),
        ("2\n2\n2\n1 1\n", 4),
        ("2\nW\n2\n", 2),
        ("2\n2\n2\n1 1 -3\n", 4),
    ],
)
def test_malformed_uci_names_the_line(tmp_path, docword, line):
    (tmp_path / "docword.txt").write_text(docword)
    (tmp_path / "vocab.txt").write_text("alpha\nbeta\n")
    with pytest.raises(ValueError, match=f"line {line}\\b"):
        Corpus.from_uci(tmp_path / "docword.txt", tmp_path / "vocab.txt")


def test_uci_entry_count_and_vocabulary_size_must_match_the_header(tmp_path):
    (tmp_path / "vocab.txt").write_text("alpha\nbeta\n")
    docword = tmp_path / "docword.txt"
    docword.write_text("2\n2\n3\n1 1 3\n2 1 1\n")
    with pytest.raises(ValueError, match="NNZ=3"):
        Corpus.from_uci(docword, tmp_path / "vocab.txt")
    docword.write_text("2\n3\n1\n1 1 3\n")
    with pytest.raises(ValueError, match="W=3"):
        Corpus.from_uci(docword, tmp_path / "vocab.txt")


def test_file_readers_stop_at_max_tokens(tmp_path):
    path = tmp_path / "big.vw"
    path.write_text("d1 a:5\nd2 b:999999999999\n")
    with pytest.raises(ValueError, match="line 2: more than max_tokens"):
        Corpus.from_vowpal_wabbit(path, max_tokens=1000)


def test_from_bow_refuses_weights_and_mismatched_vocabularies():
    with pytest.raises(ValueError, match="whole, non-negative"):
        Corpus.from_bow(np.array([[0.5, 1.0]]), ["a", "b"])
    with pytest.raises(ValueError, match="2 columns but the vocabulary has 3"):
        Corpus.from_bow(np.array([[1, 1]]), ["a", "b", "c"])


# --- pyLDAvis ---------------------------------------------------------------------------


@pytest.mark.parametrize("model_class", MODELS)
def test_to_pyldavis_gives_the_arguments_of_prepare(texts_corpus, model_class):
    model = model_class(3, seed=0, epochs=3).fit(texts_corpus)
    kwargs = model.to_pyldavis(texts_corpus)
    n_docs, n_words = texts_corpus.n_documents, len(texts_corpus.vocabulary)
    assert kwargs["topic_term_dists"].shape == (3, n_words)
    assert kwargs["doc_topic_dists"].shape == (n_docs, 3)
    np.testing.assert_allclose(kwargs["topic_term_dists"].sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(kwargs["doc_lengths"], texts_corpus.document_lengths)
    assert kwargs["vocab"] == texts_corpus.vocabulary.words
    assert kwargs["term_frequency"].sum() == texts_corpus.n_tokens
    # Batches give the same arguments as the whole corpus.
    batched = model.to_pyldavis(texts_corpus.batches(7))
    assert batched.pop("vocab") == kwargs.pop("vocab")
    for name, value in kwargs.items():
        np.testing.assert_allclose(batched[name], value, atol=1e-6)


def test_pyldavis_prepare_runs_on_the_arguments(texts_corpus):
    try:
        import pyLDAvis
    except ImportError:
        pytest.skip("pyLDAvis is not installed (pip install pyLDAvis)")
    model = ARTM(3, seed=0, epochs=3).fit(texts_corpus)
    data = pyLDAvis.prepare(**model.to_pyldavis(texts_corpus), sort_topics=False)
    assert len(data.topic_coordinates) == 3
    assert isinstance(pl.from_pandas(data.topic_info), pl.DataFrame)
    assert attartm.__version__
