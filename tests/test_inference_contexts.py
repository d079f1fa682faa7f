"""The inference contexts of AttentiveARTM (docs/mathematics.md §5.1): window, passes and
document-head weight chosen by the document-completion likelihood of training documents,
used by every inference, kept in the model file, and without effect on training."""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attartm
from attartm import _inference
from attartm._heldout import Evaluation

from . import reference as ref


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, math.log(100.0)), st.floats(0.2, 5.0))
def test_best_window_finds_the_maximum_of_a_unimodal_likelihood(peak, width):
    calls = []

    def loglik(h: float) -> float:
        calls.append(h)
        return -(((math.log(h) - peak) / width) ** 2)

    h, value = _inference.best_window(loglik)
    assert value == loglik(h)
    assert 1.0 <= h <= 100.0
    assert abs(math.log(h) - peak) <= 0.02
    assert len(calls) < 40  # the grid and a narrowing search, not a scan


def test_best_window_at_the_ends_of_the_range():
    assert _inference.best_window(lambda h: -h)[0] == 1.0
    assert _inference.best_window(lambda h: h)[0] == 100.0


def test_the_sample_is_bounded_seeded_and_in_corpus_order(small_corpus, monkeypatch):
    assert _inference.sample(small_corpus, 0) is small_corpus  # small: all of it
    monkeypatch.setattr(_inference, "SAMPLE_DOCUMENTS", 10)
    a = _inference.sample(small_corpus, 0)
    b = _inference.sample(small_corpus, 0)
    c = _inference.sample(small_corpus, 1)
    assert a.n_documents == 10 and a.ids.to_list() == b.ids.to_list()
    assert a.ids.to_list() != c.ids.to_list()
    assert a.ids.to_list() == sorted(a.ids.to_list())
    monkeypatch.setattr(_inference, "SAMPLE_TOKENS", 100)
    d = _inference.sample(small_corpus, 0)
    assert 1 <= d.n_documents and d.n_tokens <= 100


def reference_loglik(model, corpus, window: float, passes: int, weight: float = 0.0) -> float:
    """Mean ln Σ_t φ_wt θ_i over the scored tokens of document completion, from the
    NumPy reference of the attentive E-step with γ = 1/window (0 for hidden tokens) and a
    document head of that weight."""
    ev = Evaluation.completion(corpus.token_ids, corpus.doc_offsets, model.seed)
    gamma = np.where(ev.observed_mask, 1.0 / window, 0.0)
    theta = ref.attentive_estep(
        corpus.token_ids, corpus.doc_offsets, model.phi.astype(np.float64), model.n_t,
        gamma, gamma, beta=model.beta, passes=passes, exclude_self=True,
        document_weight=weight,
    )[4]  # fmt: skip
    p = np.einsum("nt,nt->n", model.phi[corpus.token_ids].astype(np.float64), theta)
    keep = ev.scored_mask & (model.n_wt.sum(axis=1) > 0)[corpus.token_ids]
    return float(np.log(p[keep]).mean())


def test_fit_chooses_the_contexts_of_the_largest_held_out_likelihood(small_corpus):
    model = attartm.AttentiveARTM(3, window=6, epochs=8, updates_per_epoch=2, seed=1)
    model.fit(small_corpus)
    window, passes = model.inference_window_, model.inference_passes_
    weight = model.inference_document_weight_
    assert 1.0 <= window <= 100.0 and passes in (1, 2, 3, 4)
    assert weight in _inference.DOCUMENT_WEIGHTS
    # The kernel's likelihood over a grid (the kernel is the reference's to 1e-5: below
    # and in test_attentive_kernel.py) is nowhere above that of the chosen contexts.
    ev = Evaluation.completion(small_corpus.token_ids, small_corpus.doc_offsets, model.seed)

    def loglik(h: float, L: int, lam: float) -> float:
        total, n = model._loglik(small_corpus, ev, h, L, lam)
        return total / n

    grid = [1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0, 20.0, 50.0, 100.0]
    values = [
        loglik(h, L, lam) for h in grid for L in (1, 2, 3, 4) for lam in _inference.DOCUMENT_WEIGHTS
    ]
    assert loglik(window, passes, weight) >= max(values) - 1e-4
    best = reference_loglik(model, small_corpus, window, passes, weight)
    # ... and the model's perplexity is that likelihood's (same tokens, same contexts).
    np.testing.assert_allclose(
        math.log(model.perplexity(small_corpus, seed=model.seed)), -best, rtol=1e-5
    )
    # A fixed window: only the passes are chosen; fixed passes: only the window.
    model.set_params(inference_window=4.0)
    chosen = model.choose_inference(small_corpus)
    assert chosen == (4.0, model.inference_passes_, model.inference_document_weight_)
    model.set_params(inference_window="auto", inference_passes=2, inference_document_weight=0.4)
    assert model.choose_inference(small_corpus)[1:] == (2, 0.4)
    assert model._inference_document_weight == 0.4


def test_every_inference_reads_the_inference_window(small_corpus):
    auto = attartm.AttentiveARTM(3, window=6, epochs=5, seed=0).fit(small_corpus)
    fixed = attartm.AttentiveARTM(
        3, window=6, epochs=5, seed=0, inference_window=auto.inference_window_,
        inference_passes=auto.inference_passes_,
        inference_document_weight=auto.inference_document_weight_,
    ).fit(small_corpus)  # fmt: skip
    as_training = dict(inference_window=None, inference_passes=None, inference_document_weight=None)
    training = attartm.AttentiveARTM(3, window=6, epochs=5, seed=0, **as_training)
    training.fit(small_corpus)
    # Training never reads it.
    assert np.array_equal(auto.phi, fixed.phi) and np.array_equal(auto.phi, training.phi)
    assert not hasattr(fixed, "inference_window_") and not hasattr(training, "inference_window_")
    for a, b in ((auto, fixed),):
        assert a.perplexity(small_corpus) == b.perplexity(small_corpus)
        assert a.transform(small_corpus).equals(b.transform(small_corpus))
        assert a.transform_tokens(small_corpus, top=2).equals(
            b.transform_tokens(small_corpus, top=2)
        )
        np.testing.assert_array_equal(a.contexts(small_corpus)[0], b.contexts(small_corpus)[0])
    # inference_window=None is the training window; a number takes effect at once.
    assert training.perplexity(small_corpus) != auto.perplexity(small_corpus)
    training.set_params(inference_window=6.0, inference_passes=2, inference_document_weight=0.0)
    assert training.perplexity(small_corpus) == attartm.AttentiveARTM(
        3, window=6, epochs=5, seed=0, **as_training
    ).fit(small_corpus).perplexity(small_corpus)


def test_online_training_chooses_on_its_last_batch(small_corpus):
    model = attartm.AttentiveARTM(3, window=6, seed=0)
    model.fit_online(small_corpus, batch_size=20, epochs=2)
    chosen = (model.inference_window_, model.inference_passes_, model.inference_document_weight_)
    again = lambda: attartm.AttentiveARTM.from_phi(  # noqa: E731
        model.phi, model.vocabulary, n_wt=model.n_wt, window=6
    )
    assert chosen == again().choose_inference(small_corpus.select(list(range(40, 60))))
    model.partial_fit(small_corpus.select(list(range(20))), batch_size=20)
    chosen = (model.inference_window_, model.inference_passes_, model.inference_document_weight_)
    assert chosen == again().choose_inference(small_corpus.select(list(range(20))))


def test_from_phi_reads_the_training_window_until_chosen(small_corpus):
    fitted = attartm.AttentiveARTM(3, window=6, epochs=3).fit(small_corpus)
    model = attartm.AttentiveARTM.from_phi(fitted.phi, fitted.vocabulary, n_wt=fitted.n_wt,
                                           window=6)  # fmt: skip
    assert not hasattr(model, "inference_window_")
    before = model.perplexity(small_corpus)
    fitted.set_params(inference_window=None, inference_passes=None, inference_document_weight=None)
    assert before == fitted.perplexity(small_corpus)
    model.choose_inference(small_corpus)
    assert model.perplexity(small_corpus) <= before


def test_the_window_is_saved_with_the_model(small_corpus, tmp_path):
    model = attartm.AttentiveARTM(3, window=6, epochs=3).fit(small_corpus)
    model.save(tmp_path / "m.attartm")
    loaded = attartm.load(tmp_path / "m.attartm")
    assert loaded.inference_window_ == model.inference_window_
    assert loaded.inference_passes_ == model.inference_passes_
    assert loaded.inference_document_weight_ == model.inference_document_weight_
    assert loaded.perplexity(small_corpus) == model.perplexity(small_corpus)
    # A file of an earlier version has no "settled" field: the training windows.
    old = tmp_path / "old.attartm"
    with zipfile.ZipFile(tmp_path / "m.attartm") as z, zipfile.ZipFile(old, "w") as out:
        for item in z.infolist():
            data = z.read(item)
            if item.filename == "model.json":
                header = json.loads(data)
                del header["settled"]
                data = json.dumps(header).encode()
            out.writestr(item, data)
    old_model = attartm.load(old)
    assert not hasattr(old_model, "inference_window_")
    assert not hasattr(old_model, "inference_passes_")
    assert not hasattr(old_model, "inference_document_weight_")


@pytest.mark.parametrize(
    ("name", "value"),
    [("inference_window", "automatic"), ("inference_window", 0.5),
     ("inference_window", float("nan")), ("inference_window", [3]),
     ("inference_passes", "many"), ("inference_passes", 0), ("inference_passes", 1.5),
     ("inference_document_weight", "heavy"), ("inference_document_weight", 1.5),
     ("inference_document_weight", float("nan"))],
)  # fmt: skip
def test_bad_inference_settings_are_refused_at_fit(small_corpus, name, value):
    model = attartm.AttentiveARTM(3, **{name: value})
    with pytest.raises((ValueError, TypeError), match=name):
        model.fit(small_corpus, epochs=1)


def test_the_document_head_of_inference_is_its_own(small_corpus):
    """Training reads ``document_weight``; inference reads its own weight, and with it
    the held-out likelihood is the reference's (the head averages observed positions
    only: a hidden word never reaches another position's context)."""
    model = attartm.AttentiveARTM(
        3, window=6, epochs=4, seed=0, inference_window=3.0, inference_passes=2,
        inference_document_weight=0.3,
    ).fit(small_corpus)  # fmt: skip
    plain = attartm.AttentiveARTM(
        3, window=6, epochs=4, seed=0, inference_window=3.0, inference_passes=2,
        inference_document_weight=0.0,
    ).fit(small_corpus)  # fmt: skip
    assert np.array_equal(model.phi, plain.phi)
    expected = reference_loglik(model, small_corpus, 3.0, 2, 0.3)
    np.testing.assert_allclose(
        math.log(model.perplexity(small_corpus, seed=model.seed)), -expected, rtol=1e-5
    )
    assert model.perplexity(small_corpus) != plain.perplexity(small_corpus)


def test_an_unscorable_sample_keeps_the_training_windows():
    # One-token documents whose completion parity (from the seed) observes every token:
    # nothing is scored, so nothing can choose a window.
    seed = next(s for s in range(1000) if not np.random.default_rng(s).integers(0, 2, size=3).any())
    corpus = attartm.Corpus.from_texts(["alpha", "beta", "gamma"], stopwords=False)
    model = attartm.AttentiveARTM(2, epochs=2, seed=seed).fit(corpus)
    assert not hasattr(model, "inference_window_")
    with pytest.raises(ValueError, match="no token to score"):
        model.choose_inference(corpus)
