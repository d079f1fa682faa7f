"""Coherence over sliding windows: a plain reference of the definition, gensim's
CoherenceModel on fixtures and on real text, and the document NPMI."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attartm
from attartm import scores

EPS = 1e-12


def reference(docs):
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64)
    tokens = np.asarray([w for d in docs for w in d], dtype=np.uint32)
    return SimpleNamespace(doc_offsets=offsets, token_ids=tokens)


def windows_of(doc, window, sliding):
    """The flagged word sets of every window of one document, listed one by one."""
    s = len(doc) if window is None else window
    if len(doc) <= s:
        return [set(doc)]
    flags = set(doc[:s])
    out = [set(flags)]
    for k in range(1, len(doc) - s + 1):
        if sliding == "exact":
            flags = set(doc[k : k + s])
        else:  # gensim: the word leaving the left edge is unflagged, the new one flagged
            flags.discard(doc[k - 1])
            flags.add(doc[k + s - 1])
        out.append(set(flags))
    return out


def ref_coherence(phi, docs, topn, window, measure="c_npmi", sliding="gensim"):
    """Per-topic coherence from the formulas, one window at a time."""
    windows = [w for d in docs for w in windows_of(list(d), window, sliding)]
    n = len(windows)
    top = np.argsort(-phi, axis=0, kind="stable")[:topn].T
    per = []
    for words in top:
        words = [int(w) for w in words]
        if window is not None:
            words = [w for w in words if any(w in win for win in windows)]
        values = []
        for i in range(len(words)):
            for j in range(i + 1, len(words)):
                a, b = words[i], words[j]
                pa = sum(a in win for win in windows) / n
                pb = sum(b in win for win in windows) / n
                pab = sum(a in win and b in win for win in windows) / n
                if window is None:
                    if pab == 0:
                        v = -1.0
                    elif pab == 1:
                        v = 1.0
                    else:
                        v = np.log(pab / (pa * pb)) / -np.log(pab)
                elif measure == "c_npmi":
                    v = np.log((pab + EPS) / (pa * pb)) / -np.log(pab + EPS)
                else:
                    v = np.log((pab + EPS) / (pa * pb))
                values.append(v)
        per.append(np.mean(values) if values else np.nan)
    return np.asarray(per)


@st.composite
def cases(draw):
    n_words = draw(st.integers(4, 12))
    n_topics = draw(st.integers(1, 4))
    topn = draw(st.integers(2, min(5, n_words)))
    docs = draw(
        st.lists(
            st.lists(st.integers(0, n_words - 1), min_size=0, max_size=25), min_size=1, max_size=12
        )
    )
    # Distinct values per column, so the top words are not decided by ties.
    phi = np.stack(
        [draw(st.permutations(np.arange(1, n_words + 1))) for _ in range(n_topics)], axis=1
    ).astype(np.float64)
    return phi / phi.sum(axis=0), docs, topn


@settings(max_examples=150, deadline=None)
@given(
    cases(),
    st.sampled_from([None, 1, 2, 3, 5, 10]),
    st.sampled_from(["c_npmi", "c_uci"]),
    st.sampled_from(["gensim", "exact"]),
)
def test_matches_reference(case, window, measure, sliding):
    phi, docs, topn = case
    if window is None and measure == "c_uci":
        measure = "c_npmi"
    got = scores.coherence(
        phi, reference(docs), measure=measure, window=window, topn=topn, sliding=sliding,
        per_topic=True,
    )  # fmt: skip
    want = ref_coherence(phi, docs, topn, window, measure, sliding)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_document_window_is_npmi():
    rng = np.random.default_rng(0)
    phi = rng.dirichlet(np.full(15, 0.3), size=4).T
    docs = [list(rng.integers(0, 15, size=rng.integers(0, 30))) for _ in range(40)]
    ref = reference(docs)
    assert scores.coherence(phi, ref, window=None, topn=6) == scores.npmi(phi, ref, k=6)
    assert scores.coherence(phi, ref, window=None, topn=6, sliding="exact") == scores.npmi(
        phi, ref, k=6
    )


def test_gensim_unflags_a_word_still_in_the_window():
    """[a b a c] with windows of 3: gensim counts "a" in the first window only."""
    phi = np.array([[0.5], [0.3], [0.2]])
    docs = [[0, 1, 0, 2]]
    gensim = scores.coherence(phi, reference(docs), window=3, topn=2, per_topic=True)
    exact = scores.coherence(
        phi, reference(docs), window=3, topn=2, sliding="exact", per_topic=True
    )
    # Exact: a and b are in both windows, p = 1 each: ln((1 + ε)/1) / −ln(1 + ε) = −1.
    np.testing.assert_allclose(exact, [-1.0])
    # gensim: a only in window 1 (p = ½), b in both, together ½: ln(½/½)/ln 2 = 0.
    np.testing.assert_allclose(gensim, [np.log((0.5 + EPS) / 0.5) / -np.log(0.5 + EPS)])


def test_absent_words_are_left_out_of_windows_and_penalized_in_documents():
    phi = np.array([[0.4], [0.3], [0.2], [0.1]])  # top 3: 0, 1, 2; word 2 never occurs
    docs = [[0, 1, 3], [0, 3], [1]]
    windowed = scores.coherence(phi, reference(docs), window=2, topn=3, per_topic=True)
    pair_only = scores.coherence(phi, reference(docs), window=2, topn=2, per_topic=True)
    np.testing.assert_allclose(windowed, pair_only)
    doc = scores.coherence(phi, reference(docs), window=None, topn=3, per_topic=True)
    assert doc[0] < scores.coherence(phi, reference(docs), window=None, topn=2)
    only_absent = np.array([[0.1], [0.1], [0.5], [0.3]])
    assert np.isnan(scores.coherence(only_absent, reference([[0, 1]]), window=2, topn=2))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"measure": "u_mass"}, "measure"),
        ({"window": 0}, "window"),
        ({"window": 2.5}, "window"),
        ({"window": True}, "window"),
        ({"topn": 1}, "topn"),
        ({"topn": 99}, "topn"),
        ({"sliding": "boolean"}, "sliding"),
    ],
)
def test_errors(kwargs, message):
    phi = np.full((5, 2), 0.2)
    with pytest.raises(ValueError, match=message):
        scores.coherence(phi, reference([[0, 1, 2]]), **{"topn": 2, **kwargs})


# --------------------------------------------------------------------------- gensim

gensim = pytest.importorskip(
    "gensim", reason="gensim is not installed (it is in the test extra: pip install '.[test]')"
)
from gensim.corpora import Dictionary  # noqa: E402
from gensim.models.coherencemodel import CoherenceModel  # noqa: E402


def gensim_coherence(topics, texts, window, measure="c_npmi"):
    model = CoherenceModel(
        topics=topics, texts=texts, dictionary=Dictionary(texts), coherence=measure,
        topn=len(topics[0]), window_size=window, processes=1,
    )  # fmt: skip
    return np.asarray(model.get_coherence_per_topic()), model.get_coherence()


@settings(max_examples=40, deadline=None)
@given(cases(), st.sampled_from([2, 4, 10, 110]), st.sampled_from(["c_npmi", "c_uci"]))
def test_equals_gensim_on_fixtures(case, window, measure):
    phi, docs, topn = case
    names = [f"w{i}" for i in range(phi.shape[0])]
    texts = [[names[w] for w in d] for d in docs]
    top = scores.top_words(phi, topn)
    # gensim needs every topic word in its dictionary, and two of them to score a topic.
    present = {w for d in docs for w in d}
    if not all(sum(int(w) in present for w in row) >= 2 for row in top):
        return
    topics = [[names[w] for w in row] for row in top]
    want_per_topic, want = gensim_coherence(topics, texts, window, measure)
    got = scores.coherence(phi, reference(docs), measure=measure, window=window, topn=topn,
                           per_topic=True)  # fmt: skip
    np.testing.assert_allclose(got, want_per_topic, atol=1e-6)
    assert scores.coherence(
        phi, reference(docs), measure=measure, window=window, topn=topn
    ) == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("window", [10, 110])
def test_equals_gensim_on_newsgroups(newsgroups, window):
    """A model's topics on 1,500 real test posts, scored by gensim and by us."""
    train, test, _ = newsgroups
    model = attartm.ARTM(20, seed=0).fit(train.select(np.arange(3000)), 3, progress_bar=False)
    reference_docs = test.select(np.arange(1500))
    words = model.vocabulary.words
    offsets, tokens = reference_docs.doc_offsets, reference_docs.token_ids
    texts = [[words[w] for w in tokens[a:b]] for a, b in itertools.pairwise(offsets)]
    topics = [[words[w] for w in row] for row in scores.top_words(model.phi, 10)]
    want_per_topic, want = gensim_coherence(topics, texts, window)
    got = scores.coherence(model.phi, reference_docs, window=window, topn=10, per_topic=True)
    np.testing.assert_allclose(got, want_per_topic, atol=1e-6)
    assert scores.coherence(model.phi, reference_docs, window=window) == pytest.approx(
        want, abs=1e-6
    )
