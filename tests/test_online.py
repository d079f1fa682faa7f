"""Online training that costs the touched rows: sparse ñ_wt rows, ñ_wt added into n_wt,
the incremental update against a plain NumPy loop, Ray's payload, and the fused top-k."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attartm
from attartm import kernels
from attartm.artm import BagOfWords

from . import reference as ref
from .conftest import require_data


def _attentive_args(rng, n: int) -> dict:
    g = rng.uniform(0.05, 1.0, size=n).astype(np.float32)
    return dict(gamma_forward=g, gamma_backward=g[::-1].copy(), beta=0.4, passes=2,
                exclude_self=True)  # fmt: skip


def _all_sums(name: str, tokens, offsets, phi, n_t, rng, **kw):
    """Dense ñ_wt, its rows, and n_wt + 0.5 ñ_wt added in place, from one kernel."""
    if name == "attentive":
        args = _attentive_args(rng, len(tokens))

        def run(**sums):
            return kernels.attentive_run(tokens, offsets, phi, n_t, output="none", **args,
                                         **sums, **kw)[1]  # fmt: skip
    elif name == "artm":

        def run(**sums):
            return kernels.artm_estep(tokens, offsets, phi, doc_passes=3, **sums, **kw)[1]
    else:

        def run(**sums):
            return kernels.thetaless_estep(tokens, offsets, phi, n_t, **sums, **kw)

    dense = run()
    words, rows = run(accumulate="rows")
    # Some entries negative, so that the positive parts of the column sums change apart
    # from the totals.
    base = rng.random(phi.shape) - 0.3
    into = base.copy()
    total, positive = run(into=into, weight=0.5)
    # The call reports how the addition changed the column sums of `into`.
    np.testing.assert_allclose(total, into.sum(axis=0) - base.sum(axis=0), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        positive,
        np.maximum(into, 0).sum(axis=0) - np.maximum(base, 0).sum(axis=0),
        rtol=1e-9, atol=1e-9,
    )  # fmt: skip
    return dense, words, rows, base, into


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_words=st.integers(1, 30),
    n_topics=st.integers(1, 7),
    kernel=st.sampled_from(["attentive", "artm", "thetaless"]),
)
def test_sparse_rows_and_added_sums_equal_the_dense_sums(seed, n_words, n_topics, kernel):
    rng = np.random.default_rng(seed)
    tokens, offsets = ref.random_documents(rng, n_words, max_docs=6, max_len=15)
    phi = ref.random_phi(rng, n_words, n_topics, zeros=0.2)
    n_t = (rng.random(n_topics) * 10).astype(np.float32)
    dense, words, rows, base, into = _all_sums(kernel, tokens, offsets, phi, n_t, rng)
    assert words.dtype == np.uint32 and rows.dtype == np.float64
    np.testing.assert_array_equal(words, np.unique(tokens))
    np.testing.assert_array_equal(rows, dense[words])
    np.testing.assert_allclose(into, base + 0.5 * dense, rtol=1e-12, atol=1e-12)


def test_sparse_rows_on_real_text_and_any_thread_count(newsgroups):
    _, test, _ = newsgroups
    part = test.select(range(300))
    rng = np.random.default_rng(0)
    n_words = len(test.vocabulary)
    phi = ref.random_phi(rng, n_words, 20)
    n_t = np.full(20, 1000.0, dtype=np.float32)
    for kernel in ("attentive", "artm", "thetaless"):
        one = _all_sums(kernel, part.token_ids, part.doc_offsets, phi, n_t,
                        np.random.default_rng(1), threads=1)  # fmt: skip
        two = _all_sums(kernel, part.token_ids, part.doc_offsets, phi, n_t,
                        np.random.default_rng(1), threads=2)  # fmt: skip
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)
        dense, words, rows, _, _ = one
        assert len(words) < n_words / 2  # 300 posts touch a fraction of the vocabulary
        np.testing.assert_array_equal(words, np.unique(part.token_ids))
        np.testing.assert_array_equal(rows, dense[words])
        assert not dense[np.setdiff1d(np.arange(n_words), words)].any()


def test_kernel_sum_arguments_are_checked():
    tokens, offsets = np.array([0, 1], dtype=np.uint32), [0, 2]
    phi = np.full((2, 2), 0.5, dtype=np.float32)
    with pytest.raises(ValueError, match=r'accumulate must be True, False or "rows"'):
        kernels.artm_estep(tokens, offsets, phi, accumulate="sparse")
    with pytest.raises(ValueError, match=r"writable, C-contiguous float64 array of shape"):
        kernels.artm_estep(tokens, offsets, phi, into=np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"give into= or accumulate=, not both"):
        kernels.artm_estep(tokens, offsets, phi, into=np.zeros((2, 2)), accumulate="rows")
    with pytest.raises(ValueError, match=r"weight must be finite"):
        kernels.artm_estep(tokens, offsets, phi, into=np.zeros((2, 2)), weight=float("nan"))


# --- the online update against NumPy ----------------------------------------------


def reference_estep(model, batch: attartm.Corpus, phi: np.ndarray, n_wt: np.ndarray):
    """Dense ñ_wt of a batch with the model's settings, from the public kernels."""
    n_t = n_wt.sum(axis=0)
    n_t = np.ones(len(n_t), np.float32) if n_t.sum() <= 0 else n_t.astype(np.float32)
    if isinstance(model, attartm.AttentiveARTM):
        gf, gb = model.gammas(batch)
        return kernels.attentive_estep(
            batch.token_ids, batch.doc_offsets, phi, n_t, gamma_forward=gf,
            gamma_backward=gb, beta=model.beta, passes=model.passes,
            exclude_self=model.exclude_self, filter=model.filter, reset=model.resets(batch),
            document_weight=model.document_weight, tempering=model.tempering,
            context_prior=model._context_prior_scales,
        )[1]  # fmt: skip
    bow = BagOfWords.of(batch.token_ids, batch.doc_offsets, None)
    if isinstance(model, attartm.ARTM):
        return kernels.artm_estep(bow.words, bow.offsets, phi, counts=bow.counts,
                                  doc_passes=model.doc_passes)[1]  # fmt: skip
    return kernels.thetaless_estep(bow.words, bow.offsets, phi, n_t, variant=model.variant,
                                   counts=bow.counts)  # fmt: skip


def reference_mstep(regularizers, phi: np.ndarray, n_wt: np.ndarray) -> np.ndarray:
    x = n_wt.copy()
    n_words, n_topics = phi.shape
    for r in regularizers:
        mask = r.mask(n_topics).astype(np.float64)
        if isinstance(r, attartm.SmoothSparsePhi):
            beta = np.ones(n_words) if r.weights is None else np.asarray(r.weights)
            x += r.tau * np.outer(beta, mask)
        elif isinstance(r, attartm.BackgroundPhi):  # τ n_w / |T| pseudo-counts
            x += r.tau * np.outer(n_wt.sum(axis=1) / n_topics, mask)
        else:  # DecorrelatorPhi, in float32 like the model's Φ
            sub = phi * mask.astype(bool)
            x += -r.tau * sub * (sub.sum(axis=1, keepdims=True) - sub)
    out = ref.normalize_columns(x)
    out[out < np.finfo(np.float32).tiny] = 0.0
    return out.astype(np.float32)


def reference_online(make, corpus, batch_size, update_every, weights, epochs=1,
                     regularizers=None):  # fmt: skip
    """n_wt := δ n_wt + α Σ_window ñ_wt, then the M-step, in plain NumPy (with the model's
    regularizers, or ``regularizers`` when given)."""
    model = make()
    regularizers = model.regularizers if regularizers is None else regularizers
    rng = np.random.default_rng(model.seed)
    phi = ref.normalize_columns(rng.random((len(corpus.vocabulary), model.n_topics)))
    phi = phi.astype(np.float32)
    n_wt = np.zeros(phi.shape)
    batches = list(corpus.batches(batch_size))
    windows = [batches[i : i + update_every] for i in range(0, len(batches), update_every)]
    for k, window in enumerate(windows * epochs, start=1):
        pending = sum(reference_estep(model, b, phi, n_wt) for b in window)
        decay, apply = weights(k)
        n_wt = decay * n_wt + apply * pending
        phi = reference_mstep(regularizers, phi, n_wt)
    return phi, n_wt


REGULARIZED = [
    attartm.SmoothSparsePhi(-0.05, topics=[1, 2]),
    attartm.SmoothSparsePhi(0.02, topics=[0]),
    attartm.DecorrelatorPhi(0.5),
]
MODELS = {
    "artm": lambda **kw: attartm.ARTM(3, doc_passes=4, seed=2, **kw),
    "attentive": lambda **kw: attartm.AttentiveARTM(3, passes=2, window=5, seed=2, **kw),
    "attentive-heads": lambda **kw: attartm.AttentiveARTM(
        3,
        passes=2,
        window=5,
        document_weight=0.3,
        tempering=0.6,
        context_prior=1.0,
        seed=2,
        **kw,
    ),
    "thetaless-full": lambda **kw: attartm.ThetalessARTM(3, variant="full", seed=2, **kw),
    "thetaless-naive": lambda **kw: attartm.ThetalessARTM(3, variant="naive", seed=2, **kw),
}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("regularized", [False, True], ids=["plain", "regularized"])
@pytest.mark.parametrize(
    ("update_every", "schedule"),
    [(1, "tau0"), (2, "tau0"), (1, "weights"), (1, "forget"), (2, "tiny-decay")],
)
def test_online_updates_equal_a_numpy_loop(small_corpus, name, regularized, update_every,
                                           schedule):  # fmt: skip
    def make():
        return MODELS[name](regularizers=REGULARIZED if regularized else ())

    kw = {
        "tau0": dict(tau0=4, kappa=0.6),
        "weights": dict(decay_weight=0.7, apply_weight=1.5),
        # δ = 0: every update forgets the past (n_wt := α ñ_wt).
        "forget": dict(decay_weight=0.0, apply_weight=2.0),
        # The scale of n_wt underflows past 1e-150 and is folded into n_wt.
        "tiny-decay": dict(decay_weight=1e-60, apply_weight=1.0),
    }[schedule]
    tau0, kappa = kw.get("tau0", 1024.0), kw.get("kappa", 0.7)

    def weights(k):
        if "decay_weight" in kw:
            return kw["decay_weight"], kw["apply_weight"]
        rho = (tau0 + k) ** -kappa
        return 1 - rho, rho

    model = make().fit_online(small_corpus, batch_size=12, update_every=update_every,
                              epochs=2, **kw)  # fmt: skip
    phi, n_wt = reference_online(make, small_corpus, 12, update_every, weights, epochs=2)
    np.testing.assert_allclose(model.n_wt, n_wt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.phi, phi, atol=2e-6)
    np.testing.assert_allclose(model.n_t, n_wt.sum(axis=0), rtol=1e-9, atol=1e-9)
    assert not model.phi.flags.writeable and not model.n_wt.flags.writeable


@pytest.mark.parametrize("name", list(MODELS))
def test_offline_fit_with_regularizers_equals_a_numpy_loop(small_corpus, name):
    model = MODELS[name](regularizers=REGULARIZED, updates_per_epoch=1).fit(small_corpus, epochs=3)
    phi, n_wt = reference_online(
        lambda: MODELS[name](regularizers=REGULARIZED, updates_per_epoch=1), small_corpus,
        small_corpus.n_documents, 1, lambda k: (0.0, 1.0), epochs=3,
    )  # fmt: skip
    np.testing.assert_allclose(model.n_wt, n_wt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.phi, phi, atol=2e-6)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("regularized", [False, True], ids=["plain", "regularized"])
@pytest.mark.parametrize("updates", [2, 5])
def test_stepwise_fit_equals_a_numpy_loop(small_corpus, name, regularized, updates):
    """updates_per_epoch U: after each of U batches, n_wt := (1 − 1/U) n_wt + ñ_wt."""

    def make():
        return MODELS[name](regularizers=REGULARIZED if regularized else (),
                            updates_per_epoch=updates)  # fmt: skip

    model = make().fit(small_corpus, epochs=2)
    size = -(-small_corpus.n_documents // updates)
    phi, n_wt = reference_online(make, small_corpus, size, 1, lambda k: (1 - 1 / updates, 1.0),
                                 epochs=2)  # fmt: skip
    np.testing.assert_allclose(model.n_wt, n_wt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.phi, phi, atol=2e-6)
    np.testing.assert_allclose(model.phi.sum(axis=0), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", list(MODELS))
def test_background_topics_equal_a_numpy_loop(small_corpus, name):
    """background_topics adds BackgroundPhi(τ=1) on them, beside the user's regularizers."""

    def make(**kw):
        return MODELS[name](background_topics=[2], updates_per_epoch=3, **kw)

    model = make(regularizers=[attartm.SmoothSparsePhi(-0.05, topics=[0, 1])])
    model.fit(small_corpus, epochs=2)
    regs = [attartm.SmoothSparsePhi(-0.05, topics=[0, 1]), attartm.BackgroundPhi(1.0, topics=[2])]
    size = -(-small_corpus.n_documents // 3)
    phi, n_wt = reference_online(lambda: make(regularizers=regs[:1]), small_corpus, size, 1,
                                 lambda k: (1 - 1 / 3, 1.0), epochs=2, regularizers=regs)  # fmt: skip
    np.testing.assert_allclose(model.n_wt, n_wt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.phi, phi, atol=2e-6)
    # The pseudo-counts reach every word the corpus uses: no zero in the background topic.
    assert model.phi[:, 2].min() > 0


def test_a_regularizer_without_row_blocks_gets_the_whole_matrices(small_corpus):
    class Whole(attartm.regularizers.PhiRegularizer):
        """Pushes every word towards the topic where its total mass is largest."""

        def phi_term(self, phi, n_wt, rows=None):
            assert rows is None and phi.shape == n_wt.shape == (len(small_corpus.vocabulary), 3)
            return self.tau * (n_wt == n_wt.max(axis=1, keepdims=True))

    regs = [Whole(0.3), *REGULARIZED]
    model = attartm.ARTM(3, doc_passes=4, seed=2, regularizers=regs).fit_online(
        small_corpus, batch_size=12, decay_weight=0.5, apply_weight=1.0
    )

    rng = np.random.default_rng(2)
    phi = ref.normalize_columns(rng.random(model.phi.shape)).astype(np.float32)
    n_wt = np.zeros(phi.shape)
    for batch in small_corpus.batches(12):
        n_wt = 0.5 * n_wt + reference_estep(model, batch, phi, n_wt)
        extra = 0.3 * (n_wt == n_wt.max(axis=1, keepdims=True))
        phi = reference_mstep(REGULARIZED, phi, n_wt + extra)
    np.testing.assert_allclose(model.phi, phi, atol=2e-6)


@pytest.mark.parametrize("name", list(MODELS))
def test_online_training_gives_the_same_bits_on_one_and_two_threads(small_corpus, name):
    kw = dict(batch_size=10, update_every=2, tau0=4, kappa=0.6, epochs=2)
    one = MODELS[name](threads=1).fit_online(small_corpus, **kw)
    two = MODELS[name](threads=2).fit_online(small_corpus, **kw)
    assert np.array_equal(one.phi, two.phi)
    assert np.array_equal(one.n_wt, two.n_wt)


def test_online_training_on_real_text_is_thread_independent(newsgroups):
    train, _, _ = newsgroups
    part = train.select(range(600))
    kw = dict(batch_size=200, tau0=4, kappa=0.6)
    make = lambda threads: attartm.AttentiveARTM(20, passes=2, seed=1, threads=threads)  # noqa: E731
    one, two = make(1).fit_online(part, **kw), make(2).fit_online(part, **kw)
    assert np.array_equal(one.phi, two.phi)
    assert np.array_equal(one.n_wt, two.n_wt)
    np.testing.assert_allclose(one.phi.sum(axis=0), 1.0, atol=1e-5)


def test_ray_task_returns_the_touched_rows_only(small_corpus):
    """What a Ray task of attartm.ray.fit_online ships back (called here in process)."""
    from attartm.ray import _batch_n_wt

    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(small_corpus, epochs=2)
    texts = [" ".join(["goal", "match", "team", "recipe"] * 5), "kernel compiler goal"]
    table = pl.DataFrame({"text": texts}).to_arrow()
    spec = attartm.persistence.spec(model)
    options = {"language": "en", "stopwords": True}
    n_t = model._topic_mass()
    words, rows = _batch_n_wt(table, "text", None, list(model.vocabulary.words), spec,
                              model.phi, n_t, options)  # fmt: skip
    batch = attartm.Corpus.from_texts(texts, vocabulary=model.vocabulary)
    expected = np.unique(batch.token_ids)
    np.testing.assert_array_equal(words, expected)
    assert rows.shape == (len(expected), 3) and len(expected) < len(model.vocabulary) / 3
    dense = reference_estep(model, batch, model.phi, model.n_wt)
    np.testing.assert_allclose(rows, dense[expected], rtol=1e-12)


# --- the fused top-k ----------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_topics=st.integers(1, 40),
    k=st.integers(1, 40),
    twins=st.booleans(),
    filter=st.sampled_from(["p/n_t", "phi"]),
)
def test_fused_top_k_equals_a_numpy_argsort(seed, n_topics, k, twins, filter):
    rng = np.random.default_rng(seed)
    tokens, offsets = ref.random_documents(rng, 15, max_docs=4, max_len=20)
    phi = ref.random_phi(rng, 15, n_topics)
    n_t = (rng.random(n_topics) * 10 + 1).astype(np.float32)
    if twins and n_topics > 2:
        # Equal columns give equal probabilities: ties, which go to the lower topic.
        phi[:, n_topics // 2 :] = phi[:, : n_topics - n_topics // 2]
        n_t[n_topics // 2 :] = n_t[: n_topics - n_topics // 2]
    k = min(k, n_topics)
    args = dict(_attentive_args(rng, len(tokens)), filter=filter)
    p, _ = kernels.attentive_run(tokens, offsets, phi, n_t, output="tokens", **args)
    (topics, probs), _ = kernels.attentive_run(tokens, offsets, phi, n_t, output="top", top=k,
                                               accumulate=False, **args)  # fmt: skip
    order = np.argsort(-p, axis=1, kind="stable")[:, :k]
    assert topics.dtype == np.uint16 and probs.dtype == np.float32
    np.testing.assert_array_equal(topics, order)
    np.testing.assert_array_equal(probs, np.take_along_axis(p, order, axis=1))
    if twins and n_topics > 2 and len(tokens):
        assert (p[:, 0] == p[:, n_topics // 2]).all()


@pytest.mark.parametrize(
    ("n_topics", "k", "columns"),
    [(150, 3, "random"), (150, 6, "random"), (130, 12, "random"), (24, 3, "equal"),
     (9, 4, "equal"), (128, 1, "random"), (7, 7, "random")],
)  # fmt: skip
def test_fused_top_k_on_long_rows_large_k_and_all_ties(n_topics, k, columns):
    """The paths besides the common one (T ≤ 128, k ≤ 4, few values near the top):
    longer rows, larger k, and rows whose values are all equal."""
    rng = np.random.default_rng(n_topics + k)
    tokens, offsets = ref.random_documents(rng, 20, max_docs=5, max_len=30)
    phi = ref.random_phi(rng, 20, n_topics)
    if columns == "equal":
        phi[:] = phi[:, :1]
    n_t = np.ones(n_topics, dtype=np.float32)
    args = _attentive_args(rng, len(tokens))
    p, _ = kernels.attentive_run(tokens, offsets, phi, n_t, output="tokens", **args)
    (topics, probs), _ = kernels.attentive_run(tokens, offsets, phi, n_t, output="top", top=k,
                                               accumulate=False, **args)  # fmt: skip
    order = np.argsort(-p, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(topics, order)
    np.testing.assert_array_equal(probs, np.take_along_axis(p, order, axis=1))


def test_fused_top_k_on_real_text_and_threads():
    path = require_data("enwiki_sample", "part-1.parquet")
    frame = pl.read_parquet(path, n_rows=40)
    corpus = attartm.Corpus.from_polars(frame, text="text", min_df=2)
    model = attartm.AttentiveARTM(30, passes=2, seed=0).fit(corpus, epochs=2)
    full = np.stack(model.transform_tokens(corpus)["p"].to_numpy())
    order = np.argsort(-full, axis=1, kind="stable")[:, :3]
    for threads in (1, 2):
        model.threads = threads
        top = model.transform_tokens(corpus, top=3)
        assert top.schema["topics"] == pl.Array(pl.UInt16, 3)
        np.testing.assert_array_equal(np.stack(top["topics"].to_numpy()), order)
        np.testing.assert_array_equal(np.stack(top["probs"].to_numpy()),
                                      np.take_along_axis(full, order, axis=1))  # fmt: skip
