"""The classic ARTM E-step in Rust against the NumPy reference of docs/mathematics.md §1."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attartm import kernels

from .reference import artm_estep, random_documents, random_phi


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_words=st.integers(1, 15),
    n_topics=st.integers(1, 11),
    doc_passes=st.integers(1, 12),
    zeros=st.sampled_from([0.0, 0.3]),
    with_counts=st.booleans(),
    with_term=st.booleans(),
)
def test_artm_estep_matches_reference(
    seed, n_words, n_topics, doc_passes, zeros, with_counts, with_term
):
    rng = np.random.default_rng(seed)
    tokens, offsets = random_documents(rng, n_words)
    phi = random_phi(rng, n_words, n_topics, zeros)
    counts = rng.integers(1, 5, size=tokens.shape[0]).astype(np.float32) if with_counts else None
    term = (rng.random(n_topics) - 0.5).astype(np.float32) if with_term else None
    theta, n_wt = kernels.artm_estep(
        tokens, offsets, phi, counts=counts, doc_passes=doc_passes, theta_term=term
    )
    ref_theta, ref_n_wt = artm_estep(tokens, offsets, phi, counts, doc_passes, term)
    np.testing.assert_allclose(theta, ref_theta, atol=1e-5)
    # ñ_wt reaches ~100 here, summed in float32 within a chunk: relative error ~1e-7 each.
    np.testing.assert_allclose(n_wt, ref_n_wt, rtol=1e-6, atol=1e-5)


def test_theta_rows_and_n_wt_mass():
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 40, size=500).astype(np.uint32)
    offsets = np.array([0, 100, 100, 350, 500], dtype=np.int64)
    theta, n_wt = kernels.artm_estep(tokens, offsets, random_phi(rng, 40, 7))
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-6)
    # Every token hands out exactly one unit of mass over topics.
    assert n_wt.sum() == pytest.approx(500, rel=1e-6)
    np.testing.assert_allclose(n_wt.sum(axis=1), np.bincount(tokens, minlength=40), atol=1e-4)


def test_bag_of_words_gives_the_same_result_as_the_token_stream():
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, 30, size=400).astype(np.uint32)
    offsets = np.array([0, 50, 51, 200, 400], dtype=np.int64)
    phi = random_phi(rng, 30, 5)
    bow_offsets, words, counts = kernels.bag_of_words(tokens, offsets)
    assert np.all(np.diff(bow_offsets) <= np.diff(offsets))
    theta_a, n_wt_a = kernels.artm_estep(tokens, offsets, phi)
    theta_b, n_wt_b = kernels.artm_estep(words, bow_offsets, phi, counts=counts)
    np.testing.assert_allclose(theta_a, theta_b, atol=1e-5)
    np.testing.assert_allclose(n_wt_a, n_wt_b, atol=1e-4)


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(3)
    # Enough documents for many chunks, so both threads really work.
    lengths = rng.integers(0, 300, size=800)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.integers(0, 2000, size=offsets[-1]).astype(np.uint32)
    phi = random_phi(rng, 2000, 20)
    theta1, n_wt1 = kernels.artm_estep(tokens, offsets, phi, threads=1)
    theta2, n_wt2 = kernels.artm_estep(tokens, offsets, phi, threads=2)
    assert np.array_equal(theta1, theta2)
    assert np.array_equal(n_wt1, n_wt2)


def test_polars_and_pyarrow_token_ids_are_read_in_place():
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(4)
    tokens = rng.integers(0, 20, size=300).astype(np.uint32)
    offsets = np.array([0, 120, 300], dtype=np.int64)
    phi = random_phi(rng, 20, 4)
    expected = kernels.artm_estep(tokens, offsets, phi)
    for tok in (
        pl.Series(tokens),
        pa.array(tokens),
        pa.chunked_array([tokens[:100], tokens[100:]]),
    ):
        got = kernels.artm_estep(tok, offsets, phi)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize(
    ("tokens", "offsets", "match"),
    [
        ([0, 1, 2], [0, 2, 1, 3], "non-decreasing"),
        ([0, 1, 2], [0, 2], "must end at the number of tokens"),
        ([0, 1, 9], [0, 3], "outside the vocabulary"),
        ([0, 1, 2], [1, 3], "must start at 0"),
        ([0, 1, 2], [], "D\\+1"),
    ],
)
def test_bad_documents_raise_value_error(tokens, offsets, match):
    phi = np.full((5, 2), 0.2, dtype=np.float32)
    with pytest.raises(ValueError, match=match):
        kernels.artm_estep(np.array(tokens, dtype=np.uint32), offsets, phi)


def test_bad_phi_and_parameters_raise():
    tokens = np.array([0, 1], dtype=np.uint32)
    offsets = [0, 2]
    phi = np.full((3, 2), 0.5, dtype=np.float32)
    bad = phi.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        kernels.artm_estep(tokens, offsets, bad)
    with pytest.raises(ValueError, match="2-D"):
        kernels.artm_estep(tokens, offsets, phi[0])
    with pytest.raises(ValueError, match="doc_passes must be at least 1"):
        kernels.artm_estep(tokens, offsets, phi, doc_passes=0)
    with pytest.raises(TypeError, match="integer token ids"):
        kernels.artm_estep(np.array([0.5, 1.0]), offsets, phi)
    with pytest.raises(ValueError, match="ids in"):
        kernels.artm_estep(np.array([-1, 1]), offsets, phi)
    with pytest.raises(ValueError, match="threads must be at least 1"):
        kernels.artm_estep(tokens, offsets, phi, threads=0)
