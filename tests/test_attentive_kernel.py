"""The attentive E-step in Rust against the NumPy reference of docs/mathematics.md §3."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attartm import kernels

from .reference import attentive_estep, random_documents, random_phi


def _gammas(rng, n, zero_share):
    g = rng.uniform(0.05, 1.0, size=n).astype(np.float32)
    g[rng.random(n) < zero_share] = 0.0
    return g


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_words=st.integers(1, 12),
    n_topics=st.integers(1, 9),
    beta=st.sampled_from([0.0, 0.3, 1.0]),
    passes=st.sampled_from([1, 2, 3]),
    exclude_self=st.booleans(),
    filter=st.sampled_from(["p/n_t", "phi"]),
    symmetric=st.booleans(),
    zero_share=st.sampled_from([0.0, 0.3]),
    resets=st.booleans(),
    document_weight=st.sampled_from([0.0, 0.3, 1.0]),
    tempering=st.sampled_from([1.0, 0.7, 0.4]),
)
def test_attentive_estep_matches_reference(
    seed, n_words, n_topics, beta, passes, exclude_self, filter, symmetric, zero_share, resets,
    document_weight, tempering,
):  # fmt: skip
    rng = np.random.default_rng(seed)
    tokens, offsets = random_documents(rng, n_words, max_docs=5, max_len=10)
    n = tokens.shape[0]
    phi = random_phi(rng, n_words, n_topics, zeros=0.2)
    n_t = (rng.random(n_topics) * 10).astype(np.float32)
    gf = _gammas(rng, n, zero_share)
    gb = gf.copy() if symmetric else _gammas(rng, n, zero_share)
    reset = None
    if resets:
        # Sentence and paragraph resets of every strength, full ones included.
        reset = rng.choice([0.0, 0.0, 0.4, 1.0], size=n).astype(np.float32)
    p, n_wt = kernels.attentive_estep(
        tokens, offsets, phi, n_t, gamma_forward=gf, gamma_backward=gb, beta=beta,
        passes=passes, exclude_self=exclude_self, filter=filter, reset=reset,
        document_weight=document_weight, tempering=tempering,
    )  # fmt: skip
    ref = attentive_estep(tokens, offsets, phi, n_t, gf, gb, beta, passes, exclude_self, filter,
                          reset, document_weight, tempering)  # fmt: skip
    np.testing.assert_allclose(p, ref[0], atol=1e-5)
    np.testing.assert_allclose(n_wt, ref[1], atol=1e-5)
    if n:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)

    common = dict(gamma_forward=gf, gamma_backward=gb, beta=beta, passes=passes,
                  exclude_self=exclude_self, filter=filter, reset=reset,
                  document_weight=document_weight, tempering=tempering)  # fmt: skip
    ctx, _ = kernels.attentive_run(
        tokens, offsets, phi, n_t, output="contexts", accumulate=False, **common
    )
    np.testing.assert_allclose(ctx[:, :n_topics], ref[2], atol=1e-5)
    np.testing.assert_allclose(ctx[:, n_topics : 2 * n_topics], ref[3], atol=1e-5)
    np.testing.assert_allclose(ctx[:, 2 * n_topics], ref[5], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ctx[:, 2 * n_topics + 1], ref[6], rtol=1e-4, atol=1e-5)
    ll, none = kernels.attentive_run(
        tokens, offsets, phi, n_t, output="loglik", accumulate=False, **common
    )
    assert none is None
    with np.errstate(divide="ignore"):
        expected_ll = np.log(np.einsum("nt,nt->n", phi[tokens].astype(np.float64), ref[4]))
    # ln p(w_i) of a rare word (p ~ 1e-5, ln p ~ −10) carries the f32 rounding of θ_i's
    # larger entries (the document head takes a position's own p out of the document sum),
    # which is relative to θ_i, not to p: hence a tolerance relative to |ln p| as well.
    np.testing.assert_allclose(ll, expected_ll, rtol=1e-5, atol=1e-5)
    mean, _ = kernels.attentive_run(tokens, offsets, phi, n_t, output="doc_mean", **common)
    for d in range(len(offsets) - 1):
        rows = ref[0][offsets[d] : offsets[d + 1]]
        expected = rows.mean(axis=0) if len(rows) else np.full(n_topics, 1.0 / n_topics)
        np.testing.assert_allclose(mean[d], expected, atol=1e-5)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_topics=st.integers(1, 9),
    prior=st.sampled_from([(0.0, 0.0), (10.0, 10.0), (2.5, 7.0), (40.0, 0.5)]),
    passes=st.sampled_from([1, 2]),
    exclude_self=st.booleans(),
    document_weight=st.sampled_from([0.0, 0.3]),
    resets=st.booleans(),
)
def test_context_prior_matches_reference(seed, n_topics, prior, passes, exclude_self,
                                         document_weight, resets):  # fmt: skip
    """The prior on the contexts of training (docs/mathematics.md §3): the kernel's p and
    ñ_wt equal the reference's when ñ_wt is accumulated; without ñ_wt (inference) the
    prior is not applied."""
    rng = np.random.default_rng(seed)
    tokens, offsets = random_documents(rng, 8, max_docs=5, max_len=12)
    n = tokens.shape[0]
    phi = random_phi(rng, 8, n_topics, zeros=0.2)
    n_t = (rng.random(n_topics) * 10).astype(np.float32)
    gf, gb = _gammas(rng, n, 0.2), _gammas(rng, n, 0.2)
    reset = rng.choice([0.0, 0.4, 1.0], size=n).astype(np.float32) if resets else None
    common = dict(gamma_forward=gf, gamma_backward=gb, beta=0.4, passes=passes,
                  exclude_self=exclude_self, reset=reset, document_weight=document_weight,
                  tempering=0.7)  # fmt: skip
    p, n_wt = kernels.attentive_estep(tokens, offsets, phi, n_t, context_prior=prior, **common)
    ref = attentive_estep(tokens, offsets, phi, n_t, gf, gb, 0.4, passes, exclude_self,
                          "p/n_t", reset, document_weight, 0.7, context_prior=prior)  # fmt: skip
    np.testing.assert_allclose(p, ref[0], atol=1e-5)
    np.testing.assert_allclose(n_wt, ref[1], atol=1e-5)
    if n:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    inferred, none = kernels.attentive_run(tokens, offsets, phi, n_t, context_prior=prior,
                                           accumulate=False, **common)  # fmt: skip
    plain = attentive_estep(tokens, offsets, phi, n_t, gf, gb, 0.4, passes, exclude_self,
                            "p/n_t", reset, document_weight, 0.7)  # fmt: skip
    assert none is None
    np.testing.assert_allclose(inferred, plain[0], atol=1e-5)


def test_a_stronger_context_prior_moves_every_position_toward_uniform():
    """ε_i = 1/(1 + x|F_i| + y|B_i|) grows as x, y shrink (a heavier prior m): the p of
    training approach p(t|w), what a uniform θ gives, position by position."""
    rng = np.random.default_rng(5)
    tokens, offsets = random_documents(rng, 10, max_docs=4, max_len=30)
    phi = random_phi(rng, 10, 6, zeros=0.0)
    n_t = np.ones(6, dtype=np.float32)
    common = dict(gamma_forward=0.2, gamma_backward=0.2, beta=0.5, passes=1,
                  exclude_self=True)  # fmt: skip
    context_free = phi[tokens] / phi[tokens].sum(axis=1, keepdims=True)
    gaps = []
    for prior in [None, (50.0, 50.0), (5.0, 5.0), (0.5, 0.5), (0.0, 0.0)]:
        p, _ = kernels.attentive_estep(tokens, offsets, phi, n_t, context_prior=prior, **common)
        gaps.append(np.abs(p - context_free).sum(axis=1))
    for weaker, stronger in itertools.pairwise(gaps):
        assert (stronger <= weaker + 1e-6).all()
    assert gaps[0].sum() > 0.1
    np.testing.assert_allclose(gaps[-1], 0.0, atol=1e-5)  # ε = 1: θ uniform everywhere


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    forward=st.sampled_from([0.0, 0.1, 0.45, 1.0]),
    backward=st.sampled_from([0.0, 0.25, 1.0]),
    passes=st.sampled_from([1, 2]),
    exclude_self=st.booleans(),
    document_weight=st.sampled_from([0.0, 0.3]),
)
def test_one_gamma_for_every_position(seed, forward, backward, passes, exclude_self,
                                      document_weight):  # fmt: skip
    """A float γ is that value at every position: the same bits as the vector of it, and
    the reference's results."""
    rng = np.random.default_rng(seed)
    tokens, offsets = random_documents(rng, 8, max_docs=5, max_len=12)
    n = tokens.shape[0]
    phi = random_phi(rng, 8, 4, zeros=0.2)
    n_t = (rng.random(4) * 10).astype(np.float32)
    gf, gb = np.full(n, forward, np.float32), np.full(n, backward, np.float32)
    common = dict(beta=0.4, passes=passes, exclude_self=exclude_self,
                  document_weight=document_weight, tempering=0.7)  # fmt: skip
    for output in ("tokens", "top", "doc_mean"):
        each = kernels.attentive_run(tokens, offsets, phi, n_t, gamma_forward=gf,
                                     gamma_backward=gb, output=output, top=2, **common)  # fmt: skip
        one = kernels.attentive_run(tokens, offsets, phi, n_t, gamma_forward=forward,
                                    gamma_backward=backward, output=output, top=2, **common)  # fmt: skip
        for a, b in zip(np.atleast_1d(each[0]), np.atleast_1d(one[0]), strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(each[1], one[1])
    ref = attentive_estep(tokens, offsets, phi, n_t, gf, gb, 0.4, passes, exclude_self, "p/n_t",
                          None, document_weight, 0.7)  # fmt: skip
    p, n_wt = kernels.attentive_estep(tokens, offsets, phi, n_t, gamma_forward=forward,
                                      gamma_backward=backward, **common)  # fmt: skip
    np.testing.assert_allclose(p, ref[0], atol=1e-5)
    np.testing.assert_allclose(n_wt, ref[1], atol=1e-5)


def test_one_token_documents_and_zero_gamma_tokens():
    rng = np.random.default_rng(5)
    phi = random_phi(rng, 6, 3)
    n_t = np.array([3.0, 1.0, 2.0], dtype=np.float32)
    tokens = np.array([4, 2, 2, 5], dtype=np.uint32)
    offsets = np.array([0, 1, 2, 4])
    g = np.array([0.5, 0.5, 0.0, 0.5], dtype=np.float32)
    one, _ = kernels.attentive_estep(tokens, offsets, phi, n_t, gamma_forward=g, gamma_backward=g,
                                     beta=0.5, passes=1, exclude_self=True)  # fmt: skip
    # A lone token sees no context: θ is uniform, so one pass gives norm_t(p(t|w) / n_t),
    # which is φ_w normalized over topics.
    np.testing.assert_allclose(one[0], phi[4] / phi[4].sum(), atol=1e-6)
    p, _ = kernels.attentive_estep(tokens, offsets, phi, n_t, gamma_forward=g, gamma_backward=g,
                                   beta=0.5, passes=2, exclude_self=True)  # fmt: skip
    ref = attentive_estep(tokens, offsets, phi, n_t, g, g, 0.5, 2, True)[0]
    np.testing.assert_allclose(p, ref, atol=1e-6)


@pytest.mark.parametrize("document_weight", [0.0, 0.3])
def test_hidden_token_never_sees_itself(document_weight):
    """A token with γ = 0 leaves every context unchanged, the document head included:
    changing its word changes only its own p, not the others'; and its own p (what
    held-out perplexity reads) does not depend on its word except through φ_w."""
    rng = np.random.default_rng(6)
    phi = random_phi(rng, 10, 4)
    n_t = np.ones(4, dtype=np.float32)
    tokens = rng.integers(0, 10, size=30).astype(np.uint32)
    offsets = [0, 30]
    g = np.full(30, 0.3, dtype=np.float32)
    g[12] = 0.0
    kw = dict(gamma_forward=g, gamma_backward=g, beta=0.5, passes=2, exclude_self=False,
              document_weight=document_weight)  # fmt: skip
    a, _ = kernels.attentive_estep(tokens, offsets, phi, n_t, **kw)
    other = tokens.copy()
    other[12] = (other[12] + 1) % 10
    b, _ = kernels.attentive_estep(other, offsets, phi, n_t, **kw)
    mask = np.arange(30) != 12
    np.testing.assert_array_equal(a[mask], b[mask])
    # θ of the hidden position is the same whatever its word: p ∝ φ_w θ.
    theta_a = a[12] / (phi[tokens[12]] / n_t)
    theta_b = b[12] / (phi[other[12]] / n_t)
    np.testing.assert_allclose(theta_a / theta_a.sum(), theta_b / theta_b.sum(), rtol=1e-5)


def test_attentive_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(7)
    lengths = rng.integers(0, 400, size=300)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.integers(0, 500, size=offsets[-1]).astype(np.uint32)
    phi = random_phi(rng, 500, 10)
    n_t = rng.random(10).astype(np.float32) * 100
    g = np.full(tokens.shape[0], 0.1, dtype=np.float32)
    kw = dict(gamma_forward=g, gamma_backward=g, beta=0.5, passes=2, exclude_self=True)
    p1, n1 = kernels.attentive_estep(tokens, offsets, phi, n_t, threads=1, **kw)
    p2, n2 = kernels.attentive_estep(tokens, offsets, phi, n_t, threads=2, **kw)
    assert np.array_equal(p1, p2)
    assert np.array_equal(n1, n2)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"beta": 1.5}, ValueError, "beta must lie in"),
        ({"beta": float("nan")}, ValueError, "beta must be finite"),
        ({"passes": 0}, ValueError, "passes must be at least 1"),
        ({"gamma_forward": np.full(5, np.nan, dtype=np.float32)}, ValueError, "NaN"),
        ({"gamma_backward": np.full(4, 0.1, dtype=np.float32)}, ValueError, "shape"),
        ({"gamma_forward": np.full(5, 1.5, dtype=np.float32)}, ValueError, r"\[0, 1\]"),
        ({"gamma_forward": 1.5}, ValueError, r"gamma_forward must lie in \[0, 1\], but is 1.5"),
        ({"gamma_backward": float("nan")}, ValueError, "gamma_backward must be finite"),
        ({"gamma_forward": "0.1"}, TypeError, "gamma_forward must be a number"),
        ({"filter": "softmax"}, ValueError, "filter must be"),
        (
            {"tokens": np.array([0, 1, 2, 3, 99], dtype=np.uint32)},
            ValueError,
            "outside the vocabulary",
        ),
        ({"phi": np.full((6, 2), np.nan, dtype=np.float32)}, ValueError, "NaN"),
        ({"n_t": np.ones(3, dtype=np.float32)}, ValueError, "shape"),
        ({"context_prior": (-1.0, 1.0)}, ValueError, "context prior's scales must be finite"),
        ({"context_prior": (1.0, float("inf"))}, ValueError, "context_prior must be finite"),
    ],
)
def test_bad_attentive_arguments_raise(change, error, match):
    args = dict(
        tokens=np.array([0, 1, 2, 3, 4], dtype=np.uint32),
        doc_offsets=[0, 2, 5],
        phi=np.full((6, 2), 1 / 6, dtype=np.float32),
        n_t=np.ones(2, dtype=np.float32),
        gamma_forward=np.full(5, 0.1, dtype=np.float32),
        gamma_backward=np.full(5, 0.1, dtype=np.float32),
        beta=0.5,
        passes=1,
        exclude_self=True,
    )
    args.update(change)
    with pytest.raises(error, match=match):
        kernels.attentive_estep(**args)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_topics=st.sampled_from([7, 8, 63, 64, 65, 100, 127, 128, 129, 200]),
    k=st.integers(1, 6),
    ties=st.booleans(),
)
def test_top_topics_are_the_sorted_token_rows(seed, n_topics, k, ties):
    """output="top" is the k largest of each token's row of output="tokens", best first,
    ties to the lower topic: for rows of every length around the 64-topic halves of the
    selection's candidate masks and past its 128-topic fast path, with and without ties."""
    rng = np.random.default_rng(seed)
    n_words = 30
    tokens, offsets = random_documents(rng, n_words, 6)
    phi = random_phi(rng, n_words, n_topics, zeros=0.1)
    if ties:  # rows of Φ with repeated values give tied probabilities
        phi = np.round(phi * 20) / 20
        phi = (phi + 1e-3) / (phi + 1e-3).sum(axis=0)
    phi = phi.astype(np.float32)
    n_t = np.ones(n_topics, dtype=np.float32)
    g = 0.4
    kw = dict(gamma_forward=g, gamma_backward=g, beta=0.5, passes=2, exclude_self=True,
              accumulate=False)  # fmt: skip
    p, _ = kernels.attentive_run(tokens, offsets, phi, n_t, output="tokens", **kw)
    k = min(k, n_topics)
    (topics, probs), _ = kernels.attentive_run(tokens, offsets, phi, n_t, output="top", top=k,
                                               **kw)  # fmt: skip
    expected = np.argsort(-p, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(topics.astype(np.int64), expected)
    np.testing.assert_array_equal(probs, np.take_along_axis(p, expected, axis=1))
