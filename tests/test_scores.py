"""Tests of attartm.scores against plain reference implementations written from the definitions."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attartm import scores

TOL = 1e-9


# --------------------------------------------------------------------------- strategies


@st.composite
def phi_matrices(draw, min_words=3, max_words=30, max_topics=6):
    """W×T matrices with Dirichlet columns, some exact zeros, sometimes many ties."""
    n_words = draw(st.integers(min_words, max_words))
    n_topics = draw(st.integers(1, max_topics))
    seed = draw(st.integers(0, 2**32 - 1))
    zero_share = draw(st.sampled_from([0.0, 0.2, 0.5, 0.8]))
    ties = draw(st.booleans())
    rng = np.random.default_rng(seed)
    if ties:  # small integer weights: many equal probabilities and zeros
        raw = rng.integers(0, 4, size=(n_words, n_topics)).astype(np.float64)
    else:
        raw = rng.dirichlet(np.full(n_words, 0.5), size=n_topics).T
    raw[rng.random((n_words, n_topics)) < zero_share] = 0.0
    for t in range(n_topics):  # every topic keeps some mass
        if raw[:, t].sum() == 0:
            raw[rng.integers(n_words), t] = 1.0
    return raw / raw.sum(axis=0)


@st.composite
def reference_corpora(draw, n_words):
    """(doc_offsets, token_ids) with repeated words and some empty documents."""
    n_docs = draw(st.integers(1, 25))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 12, size=n_docs)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # a skewed word distribution so that pairs co-occur often, never, or always
    probs = rng.dirichlet(np.full(n_words, 0.3))
    tokens = rng.choice(n_words, size=int(offsets[-1]), p=probs).astype(np.uint32)
    return offsets, tokens


def corpus(docs):
    """A reference corpus object from a list of lists of word ids."""
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64)
    tokens = np.array([w for d in docs for w in d], dtype=np.uint32)
    return SimpleNamespace(doc_offsets=offsets, token_ids=tokens)


# --------------------------------------------------------------------------- references


def ref_top_words(phi, k):
    n_words, n_topics = phi.shape
    out = []
    for t in range(n_topics):
        ranked = sorted(range(n_words), key=lambda w: (-phi[w, t], w))
        out.append(ranked[:k])
    return np.array(out)


def ref_diversity(phi, k):
    tops = ref_top_words(phi, k)
    distinct = set()
    for row in tops:
        distinct.update(int(w) for w in row)
    return len(distinct) / (k * phi.shape[1])


def ref_js_distance(p, q):
    def kl(a, b):
        return sum(a_i * math.log(a_i / b_i) for a_i, b_i in zip(a, b, strict=True) if a_i > 0)

    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
    return math.sqrt(max(0.0, 0.5 * kl(p, m) + 0.5 * kl(q, m)))


def ref_mean_js(phi):
    n_topics = phi.shape[1]
    distances = [
        ref_js_distance(list(phi[:, t]), list(phi[:, s]))
        for t in range(n_topics)
        for s in range(t + 1, n_topics)
    ]
    return sum(distances) / len(distances)


def ref_npmi_per_topic(phi, docs, k):
    doc_sets = [set(int(w) for w in d) for d in docs]
    n_docs = len(doc_sets)
    tops = ref_top_words(phi, k)
    result = []
    for row in tops:
        values = []
        for i in range(k):
            for j in range(i + 1, k):
                w, v = int(row[i]), int(row[j])
                p_w = sum(w in s for s in doc_sets) / n_docs
                p_v = sum(v in s for s in doc_sets) / n_docs
                p_wv = sum(w in s and v in s for s in doc_sets) / n_docs
                if p_wv == 0:
                    values.append(-1.0)
                elif p_wv == 1:
                    values.append(1.0)
                else:
                    values.append(math.log(p_wv / (p_w * p_v)) / -math.log(p_wv))
        result.append(sum(values) / len(values))
    return np.array(result)


def ref_topics_given_words(phi, n_t):
    n_words, n_topics = phi.shape
    out = np.zeros((n_words, n_topics))
    for w in range(n_words):
        x = [max(phi[w, t] * n_t[t], 0.0) for t in range(n_topics)]
        total = sum(x)
        for t in range(n_topics):
            out[w, t] = x[t] / total if total > 0 else 1.0 / n_topics
    return out


def ref_kernel(phi, n_t, threshold):
    p_tw = ref_topics_given_words(phi, n_t)
    n_words, n_topics = phi.shape
    sizes, purities, contrasts = [], [], []
    for t in range(n_topics):
        kernel = [w for w in range(n_words) if p_tw[w, t] >= threshold]
        sizes.append(len(kernel))
        purities.append(sum(phi[w, t] for w in kernel))
        contrasts.append(sum(p_tw[w, t] for w in kernel) / len(kernel) if kernel else 0.0)
    return sizes, purities, contrasts


def docs_of(offsets, tokens):
    return [list(tokens[offsets[d] : offsets[d + 1]]) for d in range(len(offsets) - 1)]


# --------------------------------------------------------------------------- sparsity


@given(phi_matrices(), st.sampled_from([1e-12, 1e-3, 0.05]))
def test_sparsity_matches_reference(phi, eps):
    expected = sum(1 for x in phi.ravel() if x < eps) / phi.size
    assert scores.sparsity(phi, eps=eps) == pytest.approx(expected, abs=TOL)


def test_sparsity_hand_cases():
    m = np.array([[0.0, 0.5], [1e-13, 0.5], [1.0, 0.0]])
    assert scores.sparsity(m) == pytest.approx(3 / 6)
    assert scores.sparsity(m, eps=0.6) == pytest.approx(5 / 6)
    assert scores.sparsity(np.ones((4, 3))) == 0.0
    assert scores.sparsity(np.zeros((2, 5), dtype=np.float32)) == 1.0


# --------------------------------------------------------------------------- top words / diversity


@given(phi_matrices(), st.integers(1, 30))
def test_top_words_match_reference_with_ties(phi, k):
    k = min(k, phi.shape[0])
    got = scores.top_words(phi, k)
    assert got.shape == (phi.shape[1], k)
    np.testing.assert_array_equal(got, ref_top_words(phi, k))


def test_top_words_ties_broken_by_lower_id():
    phi = np.array([[0.25, 0.0], [0.5, 0.5], [0.25, 0.0], [0.0, 0.5]])
    np.testing.assert_array_equal(scores.top_words(phi, 3), [[1, 0, 2], [1, 3, 0]])
    # float32 input gives the same order
    np.testing.assert_array_equal(
        scores.top_words(phi.astype(np.float32), 3), [[1, 0, 2], [1, 3, 0]]
    )


@given(phi_matrices(), st.integers(1, 30))
def test_topic_diversity_matches_reference(phi, k):
    k = min(k, phi.shape[0])
    assert scores.topic_diversity(phi, k=k) == pytest.approx(ref_diversity(phi, k), abs=TOL)


def test_topic_diversity_hand_cases():
    rng = np.random.default_rng(0)
    col = rng.dirichlet(np.ones(40))
    identical = np.tile(col[:, None], (1, 4))
    assert scores.topic_diversity(identical, k=25) == pytest.approx(1 / 4)
    disjoint = np.zeros((20, 4))
    for t in range(4):
        disjoint[5 * t : 5 * t + 5, t] = np.arange(5, 0, -1) / 15
    assert scores.topic_diversity(disjoint, k=5) == 1.0
    # two topics sharing 1 of their 2 top words: {0, 1} and {1, 2} -> 3 distinct / 4
    half = np.array([[0.5, 0.0], [0.4, 0.6], [0.0, 0.3], [0.1, 0.1]])
    assert scores.topic_diversity(half, k=2) == pytest.approx(3 / 4)


# --------------------------------------------------------------------------- Jensen–Shannon


@settings(max_examples=150)
@given(phi_matrices())
def test_mean_js_distance_matches_reference(phi):
    if phi.shape[1] < 2:
        assert math.isnan(scores.mean_js_distance(phi))
        return
    assert scores.mean_js_distance(phi) == pytest.approx(ref_mean_js(phi), abs=TOL)


def test_mean_js_distance_hand_cases():
    col = np.array([0.5, 0.3, 0.2, 0.0])
    assert scores.mean_js_distance(np.stack([col, col, col], axis=1)) == 0.0
    disjoint = np.array([[0.5, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert scores.mean_js_distance(disjoint) == pytest.approx(math.sqrt(math.log(2)), abs=1e-12)
    # p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4)
    # JSD = ½ ln(4/3) + ½ (½ ln(2/3) + ½ ln 2) = ¾ ln 2 + ... computed by hand:
    jsd = 0.5 * math.log(1 / 0.75) + 0.5 * (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25))
    pq = np.array([[1.0, 0.5], [0.0, 0.5]])
    assert scores.mean_js_distance(pq) == pytest.approx(math.sqrt(jsd), abs=1e-12)
    assert jsd == pytest.approx(1.5 * math.log(2) - 0.75 * math.log(3), abs=1e-12)
    # a single topic has no pairs
    assert math.isnan(scores.mean_js_distance(col[:, None]))
    # columns are normalized like scipy: scaling a topic changes nothing
    assert scores.mean_js_distance(pq * np.array([3.0, 0.5])) == pytest.approx(math.sqrt(jsd))


def test_mean_js_distance_large_matrix_is_symmetric_and_bounded():
    rng = np.random.default_rng(1)
    phi = rng.dirichlet(np.full(2000, 0.05), size=12).T
    d = scores.mean_js_distance(phi)
    assert 0 < d <= math.sqrt(math.log(2)) + 1e-12
    assert scores.mean_js_distance(phi[:, ::-1]) == pytest.approx(d, abs=1e-12)
    assert scores.mean_js_distance(phi.astype(np.float32)) == pytest.approx(d, abs=1e-5)


# --------------------------------------------------------------------------- NPMI


@settings(max_examples=150)
@given(st.data())
def test_npmi_matches_reference(data):
    phi = data.draw(phi_matrices(min_words=3, max_words=15))
    offsets, tokens = data.draw(reference_corpora(phi.shape[0]))
    k = data.draw(st.integers(2, phi.shape[0]))
    ref = SimpleNamespace(doc_offsets=offsets, token_ids=tokens)
    expected = ref_npmi_per_topic(phi, docs_of(offsets, tokens), k)
    got = scores.npmi(phi, ref, k=k, per_topic=True)
    assert got.shape == (phi.shape[1],)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)
    assert scores.npmi(phi, ref, k=k) == pytest.approx(float(expected.mean()), abs=TOL)


def test_npmi_hand_cases():
    # topic 0's top words: 0, 1; topic 1's: 2, 3
    phi = np.array([[0.6, 0.0], [0.4, 0.0], [0.0, 0.7], [0.0, 0.3]])
    # 0 and 1 always together (in half the documents); 2 and 3 never together
    ref = corpus([[0, 1, 1], [0, 1], [2], [3], [2, 2], [3]])
    np.testing.assert_allclose(scores.npmi(phi, ref, k=2, per_topic=True), [1.0, -1.0], atol=1e-12)
    assert scores.npmi(phi, ref, k=2) == pytest.approx(0.0, abs=1e-12)
    # independent: p(0) = p(1) = 1/2, p(0,1) = 1/4 -> NPMI 0
    ref = corpus([[0, 1], [0], [1], []])
    assert scores.npmi(phi[:, :1], ref, k=2) == pytest.approx(0.0, abs=1e-12)
    # p(0) = 3/4, p(1) = 1/2, p(0,1) = 1/2: ln((1/2)/(3/8)) / ln 2 = ln(4/3) / ln 2
    ref = corpus([[0, 1], [0, 1, 0], [0], [2]])
    expected = math.log(4 / 3) / math.log(2)
    assert scores.npmi(phi[:, :1], ref, k=2) == pytest.approx(expected, abs=1e-12)


def test_npmi_edge_cases():
    phi = np.array([[0.6, 0.0], [0.4, 0.0], [0.0, 0.7], [0.0, 0.3]])
    # both words in every document: the limit of perfect co-occurrence, 1
    ref = corpus([[0, 1], [1, 0, 0]])
    assert scores.npmi(phi[:, :1], ref, k=2) == pytest.approx(1.0)
    # words absent from the reference count as never co-occurring
    ref = corpus([[0, 5, 7], [9]])
    assert scores.npmi(phi[:, :1], ref, k=2) == -1.0
    # three top words, one of them never seen: pairs (0,1)=1, (0,2)=-1, (1,2)=-1
    phi3 = np.array([[0.5], [0.3], [0.2]])
    ref = corpus([[0, 1], [1, 0], [], []])
    assert scores.npmi(phi3, ref, k=3) == pytest.approx(-1 / 3)
    # polars-like columns and other integer dtypes are accepted
    ref = SimpleNamespace(doc_offsets=np.array([0, 2, 3], dtype=np.int32), token_ids=[0, 1, 1])
    assert np.isfinite(scores.npmi(phi[:, :1], ref, k=2))


# --------------------------------------------------------------------------- p(t|w) and kernels


@given(phi_matrices(), st.integers(0, 2**32 - 1), st.booleans())
def test_topics_given_words_matches_reference(phi, seed, zero_mass):
    rng = np.random.default_rng(seed)
    n_t = rng.uniform(0.5, 100.0, size=phi.shape[1])
    if zero_mass:
        n_t[0] = 0.0
    got = scores.topics_given_words(phi, n_t)
    np.testing.assert_allclose(got, ref_topics_given_words(phi, n_t), rtol=0, atol=TOL)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)


def test_topics_given_words_hand_case():
    phi = np.array([[0.5, 0.25], [0.5, 0.25], [0.0, 0.5], [0.0, 0.0]])
    n_t = np.array([1.0, 2.0])
    expected = np.array([[0.5, 0.5], [0.5, 0.5], [0.0, 1.0], [0.5, 0.5]])  # last: uniform
    np.testing.assert_allclose(scores.topics_given_words(phi, n_t), expected)
    # negative masses are clipped by norm_t: all mass goes to topic 0
    np.testing.assert_allclose(
        scores.topics_given_words(phi[:2], [1.0, -3.0]), [[1.0, 0.0], [1.0, 0.0]]
    )


@given(phi_matrices(), st.integers(0, 2**32 - 1), st.sampled_from([0.05, 0.1, 0.3, 0.5, 1.0]))
def test_kernel_scores_match_reference(phi, seed, threshold):
    rng = np.random.default_rng(seed)
    n_t = rng.uniform(0.5, 100.0, size=phi.shape[1])
    got = scores.kernel_scores(phi, n_t, threshold=threshold)
    sizes, purities, contrasts = ref_kernel(phi, n_t, threshold)
    np.testing.assert_array_equal(got["kernel_size_per_topic"], sizes)
    np.testing.assert_allclose(got["kernel_purity_per_topic"], purities, rtol=0, atol=TOL)
    np.testing.assert_allclose(got["kernel_contrast_per_topic"], contrasts, rtol=0, atol=TOL)
    assert got["kernel_size"] == pytest.approx(np.mean(sizes), abs=TOL)
    assert got["kernel_purity"] == pytest.approx(np.mean(purities), abs=TOL)
    assert got["kernel_contrast"] == pytest.approx(np.mean(contrasts), abs=TOL)
    assert got["kernel_size_per_topic"].dtype == np.int64
    assert all(
        isinstance(got[key], float) for key in ("kernel_size", "kernel_purity", "kernel_contrast")
    )


def test_kernel_scores_hand_case():
    phi = np.array(
        [
            [0.50, 0.00, 0.00],
            [0.30, 0.10, 0.00],
            [0.20, 0.20, 0.10],
            [0.00, 0.70, 0.00],
            [0.00, 0.00, 0.90],
        ]
    )
    n_t = np.array([1.0, 1.0, 1.0])
    # p(t|w) rows: (1,0,0), (.75,.25,0), (.4,.4,.2), (0,1,0), (0,0,1)
    got = scores.kernel_scores(phi, n_t, threshold=0.3)
    np.testing.assert_array_equal(got["kernel_size_per_topic"], [3, 2, 1])
    np.testing.assert_allclose(got["kernel_purity_per_topic"], [1.0, 0.9, 0.9])
    np.testing.assert_allclose(
        got["kernel_contrast_per_topic"], [(1 + 0.75 + 0.4) / 3, (0.4 + 1) / 2, 1.0]
    )
    assert got["kernel_size"] == pytest.approx(2.0)
    # a threshold nobody reaches: empty kernels, contrast 0
    got = scores.kernel_scores(phi[:3, :1] / phi[:3, :1].sum(), [1.0], threshold=1.0)
    assert got["kernel_size_per_topic"].tolist() == [3]  # T=1: p(t|w) = 1 everywhere
    got = scores.kernel_scores(phi, [1.0, 1.0, 1.0], threshold=1.0)
    np.testing.assert_array_equal(got["kernel_size_per_topic"], [1, 1, 1])
    phi2 = np.array([[0.5, 0.5], [0.5, 0.5]])
    got = scores.kernel_scores(phi2, [1.0, 1.0], threshold=0.9)
    np.testing.assert_array_equal(got["kernel_size_per_topic"], [0, 0])
    np.testing.assert_array_equal(got["kernel_contrast_per_topic"], [0.0, 0.0])
    assert got["kernel_purity"] == 0.0


def test_kernel_scores_uniform_rows_of_unused_words():
    """A word with φ_wt n_t = 0 everywhere has p(t|w) = 1/T (norm_t of docs/mathematics.md)."""
    phi = np.array([[0.6, 0.0], [0.4, 0.0], [0.0, 1.0], [0.0, 0.0]])
    got = scores.kernel_scores(phi, [1.0, 1.0], threshold=0.5)  # 1/T = 0.5 >= threshold
    np.testing.assert_array_equal(got["kernel_size_per_topic"], [3, 2])
    np.testing.assert_allclose(got["kernel_purity_per_topic"], [1.0, 1.0])
    np.testing.assert_allclose(got["kernel_contrast_per_topic"], [2.5 / 3, 0.75])
    got = scores.kernel_scores(phi, [1.0, 1.0], threshold=0.6)  # 1/T < threshold
    np.testing.assert_array_equal(got["kernel_size_per_topic"], [2, 1])


# --------------------------------------------------------------------------- perplexity


def test_perplexity_from_loglik():
    # a uniform model over V words has perplexity V
    assert scores.perplexity_from_loglik(-100 * math.log(50), 100) == pytest.approx(50.0)
    assert scores.perplexity_from_loglik(0.0, 7) == 1.0
    assert scores.perplexity_from_loglik(np.float32(-3.0), np.int64(3)) == pytest.approx(math.e)
    assert scores.perplexity_from_loglik(-1e6, 1) == math.inf
    assert scores.perplexity_from_loglik(-math.inf, 10) == math.inf
    assert isinstance(scores.perplexity_from_loglik(-1.0, 2), float)


# --------------------------------------------------------------------------- validation


GOOD_PHI = np.array([[0.5, 0.2], [0.3, 0.3], [0.2, 0.5]])
GOOD_REF = corpus([[0, 1], [2]])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: scores.sparsity(np.array([])), "empty"),
        (lambda: scores.sparsity(np.array([1.0, np.nan])), "finite"),
        (lambda: scores.sparsity(np.ones(3), eps=0.0), "eps"),
        (lambda: scores.sparsity(np.array(["a", "b"])), "real numbers"),
        (lambda: scores.top_words(GOOD_PHI, 0), "k"),
        (lambda: scores.top_words(GOOD_PHI, 4), "k"),
        (lambda: scores.top_words(GOOD_PHI, 1.5), "integer"),
        (lambda: scores.top_words(GOOD_PHI, True), "integer"),
        (lambda: scores.top_words(GOOD_PHI[:, 0], 1), "2-D"),
        (lambda: scores.top_words(np.zeros((0, 2)), 1), "at least one"),
        (lambda: scores.topic_diversity(GOOD_PHI, k=25), "k"),
        (lambda: scores.topic_diversity(-GOOD_PHI, k=2), "non-negative"),
        (lambda: scores.mean_js_distance(np.array([[0.5, np.inf], [0.5, 0.0]])), "finite"),
        (lambda: scores.mean_js_distance(np.array([[0.5, 0.0], [0.5, 0.0]])), "all-zero"),
        (lambda: scores.npmi(GOOD_PHI, GOOD_REF, k=1), "k"),
        (lambda: scores.npmi(GOOD_PHI, GOOD_REF, k=4), "k"),
        (lambda: scores.npmi(GOOD_PHI, object(), k=2), "doc_offsets"),
        (lambda: scores.npmi(GOOD_PHI, corpus([]), k=2), "at least one document"),
        (
            lambda: scores.npmi(
                GOOD_PHI, SimpleNamespace(doc_offsets=[0, 3], token_ids=[0, 1]), k=2
            ),
            "end at",
        ),
        (
            lambda: scores.npmi(
                GOOD_PHI, SimpleNamespace(doc_offsets=[0, 2], token_ids=[0.0, 1.0]), k=2
            ),
            "integer",
        ),
        (
            lambda: scores.npmi(
                GOOD_PHI, SimpleNamespace(doc_offsets=[0, 2], token_ids=[0, -1]), k=2
            ),
            "non-negative",
        ),
        (lambda: scores.topics_given_words(GOOD_PHI, [1.0]), "n_t"),
        (lambda: scores.topics_given_words(GOOD_PHI, [1.0, np.nan]), "finite"),
        (lambda: scores.kernel_scores(GOOD_PHI, [1.0, 1.0], threshold=0.0), "threshold"),
        (lambda: scores.kernel_scores(GOOD_PHI, [1.0, 1.0], threshold=1.5), "threshold"),
        (lambda: scores.kernel_scores(GOOD_PHI, [[1.0, 1.0]]), "n_t"),
        (lambda: scores.perplexity_from_loglik(-1.0, 0), "n_tokens"),
        (lambda: scores.perplexity_from_loglik(float("nan"), 3), "total_loglik"),
        (lambda: scores.perplexity_from_loglik(-1.0, "3"), "n_tokens"),
    ],
)
def test_input_validation(call, message):
    with pytest.raises(ValueError, match=message):
        call()
