"""The kernels of several modalities (docs/mathematics.md §7) against NumPy references: the
attentive E-step with a document prior, the E-step of document-level bags, Θ-less ARTM
with a topic mass per modality and classic ARTM with a factor of n_td."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from attartm import kernels

from . import reference as ref
from . import reference_modalities as refm


def _prior(rng, n_docs, n_topics):
    """Rows ≥ 0 summing to a share μ_d in [0, 1] (0 and 1 among them)."""
    rows = rng.random((n_docs, n_topics))
    share = rng.choice([0.0, 0.3, 0.8, 1.0], size=n_docs)
    return (rows / rows.sum(axis=1, keepdims=True) * share[:, None]).astype(np.float32)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_words=st.integers(1, 12),
    n_topics=st.integers(1, 9),
    passes=st.sampled_from([1, 2]),
    exclude_self=st.booleans(),
    filter=st.sampled_from(["p/n_t", "phi"]),
    document_weight=st.sampled_from([0.0, 0.4]),
    tempering=st.sampled_from([1.0, 0.6]),
)
def test_attentive_estep_with_a_document_prior_matches_reference(
    seed, n_words, n_topics, passes, exclude_self, filter, document_weight, tempering
):
    rng = np.random.default_rng(seed)
    tokens, offsets = ref.random_documents(rng, n_words, max_docs=5, max_len=10)
    n, n_docs = tokens.shape[0], offsets.shape[0] - 1
    phi = ref.random_phi(rng, n_words, n_topics, zeros=0.2)
    n_t = (rng.random(n_topics) * 10).astype(np.float32)
    gf = rng.uniform(0.05, 1.0, size=n).astype(np.float32)
    gb = rng.uniform(0.05, 1.0, size=n).astype(np.float32)
    prior = _prior(rng, n_docs, n_topics)
    for output in ("tokens", "loglik"):
        values, n_wt = kernels.attentive_run(
            tokens, offsets, phi, n_t, gamma_forward=gf, gamma_backward=gb, beta=0.4,
            passes=passes, exclude_self=exclude_self, filter=filter,
            document_weight=document_weight, tempering=tempering, document_prior=prior,
            output=output,
        )  # fmt: skip
        p, ref_n_wt, _, _, theta, *_ = ref.attentive_estep(
            tokens, offsets, phi, n_t, gf, gb, 0.4, passes, exclude_self, filter,
            document_weight=document_weight, tempering=tempering, document_prior=prior,
        )  # fmt: skip
        np.testing.assert_allclose(n_wt, ref_n_wt, atol=1e-5)
        if output == "tokens":
            np.testing.assert_allclose(values, p, atol=1e-5)
        elif n:
            with np.errstate(divide="ignore"):  # a zero of Φ gives ln 0 on both sides
                expected = np.log(np.einsum("nt,nt->n", phi[tokens].astype(np.float64), theta))
            np.testing.assert_allclose(values, expected, atol=1e-5)


def test_a_zero_prior_changes_nothing():
    rng = np.random.default_rng(4)
    tokens, offsets = ref.random_documents(rng, 30, max_docs=8, max_len=40)
    phi = ref.random_phi(rng, 30, 6)
    g = np.full(tokens.shape[0], 0.2, dtype=np.float32)
    args = dict(gamma_forward=g, gamma_backward=g, beta=0.5, passes=2, exclude_self=True)
    plain = kernels.attentive_estep(tokens, offsets, phi, np.ones(6), **args)
    zero = np.zeros((offsets.shape[0] - 1, 6), dtype=np.float32)
    with_zero = kernels.attentive_estep(
        tokens, offsets, phi, np.ones(6), document_prior=zero, **args
    )
    np.testing.assert_array_equal(plain[0], with_zero[0])
    np.testing.assert_array_equal(plain[1], with_zero[1])


def _bags(rng, n_docs, n_words):
    lengths = rng.integers(0, 4, size=n_docs)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return rng.integers(0, n_words, size=offsets[-1]).astype(np.uint32), offsets


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_words=st.integers(1, 10),
    n_topics=st.integers(1, 8),
    tempering=st.sampled_from([1.0, 0.7, 0.3]),
)
def test_bags_estep_matches_reference(seed, n_words, n_topics, tempering):
    rng = np.random.default_rng(seed)
    n_docs = int(rng.integers(1, 7))
    words, offsets = _bags(rng, n_docs, n_words)
    counts = rng.choice([1.0, 2.0, 5.0], size=words.shape[0]).astype(np.float32)
    phi = ref.random_phi(rng, n_words, n_topics, zeros=0.3)
    theta = rng.random((n_docs, n_topics)).astype(np.float32)
    theta[rng.random(theta.shape) < 0.3] = 0.0
    n_td, n_wt = kernels.bags_estep(words, offsets, phi, theta, counts=counts, tempering=tempering)
    want_td, want_wt = np.zeros((n_docs, n_topics)), np.zeros((n_words, n_topics))
    for d in range(n_docs):
        for i in range(offsets[d], offsets[d + 1]):
            p = ref.norm(phi[words[i]].astype(np.float64) * theta[d])
            want_td[d] += counts[i] * p
            want_wt[words[i]] += counts[i] * ref.norm(p**tempering)
    np.testing.assert_allclose(n_td, want_td, atol=1e-5)
    np.testing.assert_allclose(n_wt, want_wt, atol=1e-5)


def _modalities(rng, n_docs, sizes):
    """Text tokens and the bags of further modalities over a stacked vocabulary."""
    lengths = rng.integers(0, 8, size=n_docs)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    text = rng.integers(0, sizes[0], size=offsets[-1]).astype(np.uint32)
    bags = [(m, *_bags(rng, n_docs, size)) for m, size in enumerate(sizes) if m > 0]
    return text, offsets, bags


def _stacked_bow(text, offsets, bags, starts, weights):
    """The stacked bag of words with weighted counts, built by hand."""
    docs = refm.entries(text, offsets, bags, starts)
    words, counts, out_offsets = [], [], [0]
    for doc in docs:
        for w in sorted({w for w, _ in doc}):
            m = next(m for v, m in doc if v == w)
            words.append(w)
            counts.append(weights[m] * sum(1 for v, _ in doc if v == w))
        out_offsets.append(len(words))
    return (
        docs,
        np.array(words, dtype=np.uint32),
        np.array(out_offsets, dtype=np.int64),
        np.array(counts, dtype=np.float32),
    )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_topics=st.integers(1, 8),
    variant=st.sampled_from(["full", "naive"]),
)
def test_thetaless_over_modalities_matches_reference(seed, n_topics, variant):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 9)), int(rng.integers(1, 5)), int(rng.integers(1, 5))]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    weights = [1.0, float(rng.choice([0.5, 3.0])), float(rng.choice([1.0, 7.0]))]
    text, offsets, bags = _modalities(rng, int(rng.integers(1, 6)), sizes)
    docs, words, bow_offsets, counts = _stacked_bow(text, offsets, bags, starts, weights)
    phi = np.vstack([ref.random_phi(rng, s, n_topics, zeros=0.2) for s in sizes])
    n_t = (rng.random((3, n_topics)) * 10).astype(np.float32)
    got = kernels.thetaless_estep(words, bow_offsets, phi, n_t, variant=variant, counts=counts,
                                  modality_starts=starts[:-1])  # fmt: skip
    want = refm.thetaless_estep(docs, weights, phi, n_t, starts, variant)
    np.testing.assert_allclose(got, want, atol=1e-5)
    theta = kernels.linear_theta(words, bow_offsets, phi, n_t, counts=counts,
                                 modality_starts=starts[:-1])  # fmt: skip
    np.testing.assert_allclose(theta, refm.linear_theta(docs, weights, phi, n_t, starts), atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_topics=st.integers(1, 8))
def test_artm_over_modalities_with_a_factor_of_n_td_matches_reference(seed, n_topics):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 9)), int(rng.integers(1, 5))]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    weights = [1.0, float(rng.choice([2.0, 10.0]))]
    text, offsets, bags = _modalities(rng, int(rng.integers(1, 6)), sizes)
    docs, words, bow_offsets, counts = _stacked_bow(text, offsets, bags, starts, weights)
    phi = np.vstack([ref.random_phi(rng, s, n_topics, zeros=0.2) for s in sizes])
    scale = rng.choice([0.0, 0.5, 1.0, 1.5], size=n_topics).astype(np.float32)
    theta, n_wt = kernels.artm_estep(words, bow_offsets, phi, counts=counts, doc_passes=4,
                                     theta_scale=scale)  # fmt: skip
    want_theta, want_n_wt = refm.artm_estep(docs, weights, phi, 4, theta_scale=scale)
    np.testing.assert_allclose(theta, want_theta, atol=1e-5)
    np.testing.assert_allclose(n_wt, want_n_wt, rtol=1e-6, atol=1e-5)


def test_new_kernels_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(5)
    n_docs, n_topics = 3000, 12
    words, offsets = _bags(rng, n_docs, 50)
    phi = ref.random_phi(rng, 50, n_topics)
    theta = rng.random((n_docs, n_topics)).astype(np.float32)
    one = kernels.bags_estep(words, offsets, phi, theta, tempering=0.7, threads=1)
    two = kernels.bags_estep(words, offsets, phi, theta, tempering=0.7, threads=2)
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
    tokens, text_offsets = ref.random_documents(rng, 50, max_docs=3000, max_len=60)
    g = np.full(tokens.shape[0], 0.1, dtype=np.float32)
    prior = _prior(rng, text_offsets.shape[0] - 1, n_topics)
    runs = [
        kernels.attentive_estep(
            tokens, text_offsets, phi, np.ones(n_topics), gamma_forward=g, gamma_backward=g,
            beta=0.5, passes=2, exclude_self=True, document_prior=prior, threads=threads,
        )
        for threads in (1, 2)
    ]  # fmt: skip
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
