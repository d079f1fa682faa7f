"""The Θ-less E-step and the linear topicization against the NumPy reference of docs/mathematics.md §2."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from attartm import kernels

from .reference import linear_theta, random_documents, random_phi, thetaless_estep


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_words=st.integers(1, 15),
    n_topics=st.integers(1, 8),
    variant=st.sampled_from(["full", "naive"]),
    with_counts=st.booleans(),
)
def test_thetaless_estep_matches_reference(seed, n_words, n_topics, variant, with_counts):
    rng = np.random.default_rng(seed)
    tokens, offsets = random_documents(rng, n_words)
    phi = random_phi(rng, n_words, n_topics, zeros=0.2)
    n_t = (rng.random(n_topics) * 5).astype(np.float32)
    counts = rng.integers(1, 4, size=tokens.shape[0]).astype(np.float32) if with_counts else None
    got = kernels.thetaless_estep(tokens, offsets, phi, n_t, variant=variant, counts=counts)
    ref = thetaless_estep(tokens, offsets, phi, n_t, variant, counts)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    theta = kernels.linear_theta(tokens, offsets, phi, n_t)
    np.testing.assert_allclose(theta, linear_theta(tokens, offsets, phi, n_t), atol=1e-6)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-5)


def _loglik(phi, n_t, tokens, offsets):
    """L(Φ) = Σ_d Σ_w n_dw ln Σ_t φ_wt θ_td(Φ) with θ the linear topicization, n_t fixed."""
    theta = linear_theta(tokens, offsets, phi, n_t)
    total = 0.0
    for d in range(len(offsets) - 1):
        for w in tokens[offsets[d] : offsets[d + 1]]:
            total += np.log(phi[w] @ theta[d])
    return total


def test_full_variant_is_the_gradient_of_the_loglikelihood():
    """With θ = θ(Φ), ñ_wt of the full variant equals φ_wt ∂L/∂φ_wt (n_t held fixed)."""
    rng = np.random.default_rng(11)
    tokens, offsets = random_documents(rng, 6, max_docs=4, max_len=8)
    phi = random_phi(rng, 6, 3).astype(np.float64)
    n_t = np.array([2.0, 1.0, 3.0])
    got = kernels.thetaless_estep(tokens, offsets, phi, n_t, variant="full")
    eps = 1e-6
    grad = np.zeros_like(phi)
    for w in range(phi.shape[0]):
        for t in range(phi.shape[1]):
            up, down = phi.copy(), phi.copy()
            up[w, t] += eps
            down[w, t] -= eps
            grad[w, t] = (
                _loglik(up, n_t, tokens, offsets) - _loglik(down, n_t, tokens, offsets)
            ) / (2 * eps)
    np.testing.assert_allclose(got, phi * grad, atol=2e-4)
    naive = kernels.thetaless_estep(tokens, offsets, phi, n_t, variant="naive")
    assert not np.allclose(naive, phi * grad, atol=1e-3)  # the naive step is not the gradient
