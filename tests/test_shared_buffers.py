"""Arrays shared between Python threads and the core (issue 13, item 3).

The core reads its inputs with the GIL released. The binding copies small writable
inputs and makes larger ones read-only for the duration of the call (see
rust/python/src/buffers.rs); the model hands out read-only views of its arrays.
"""

from __future__ import annotations

import threading

import numpy as np
import polars as pl
import pytest

from attartm import AttentiveARTM, Corpus, kernels

# Above the binding's COPY_BYTES (1 MiB), so that Φ is read in place, frozen for the call.
N_WORDS, N_TOPICS = 3000, 100


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    rng = np.random.default_rng(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = np.array(
        ["wo" + letters[i // 676] + letters[i // 26 % 26] + letters[i % 26] for i in range(N_WORDS)]
    )
    # Every word at least once, so that the vocabulary (and Φ) has N_WORDS rows.
    order = rng.permutation(np.concatenate([np.arange(N_WORDS), rng.integers(0, N_WORDS, 9000)]))
    texts = [" ".join(words[order[i : i + 120]]) for i in range(0, len(order), 120)]
    return Corpus.from_texts(texts, stopwords=False)


@pytest.fixture(scope="module")
def model(corpus) -> AttentiveARTM:
    model = AttentiveARTM(N_TOPICS, seed=0, threads=2).fit(corpus, epochs=1)
    assert model.phi.nbytes > 1 << 20
    return model


def run_in_threads(n: int, work) -> list:
    """``work(i)`` on ``n`` threads started together; their results, or the first error."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as e:  # re-raised below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_eight_threads_on_one_model_get_the_serial_results(model, corpus):
    expected = {
        "transform": model.transform(corpus),
        "tokens": model.transform_tokens(corpus),
        "top": model.transform_tokens(corpus, top=3, token_ids=True),
    }
    calls = list(expected)

    def work(i: int) -> list[tuple[str, pl.DataFrame]]:
        out = []
        for round in range(3):
            what = calls[(i + round) % len(calls)]
            if what == "transform":
                out.append((what, model.transform(corpus)))
            elif what == "tokens":
                out.append((what, model.transform_tokens(corpus)))
            else:
                out.append((what, model.transform_tokens(corpus, top=3, token_ids=True)))
        return out

    results = run_in_threads(8, work)
    assert sum(len(r) for r in results) == 24
    for r in results:
        for what, frame in r:
            assert frame.equals(expected[what]), what
    # Every call has ended: the model's arrays are writable inside, read-only outside.
    assert model._phi.flags.writeable and model._n_wt.flags.writeable
    assert not model.phi.flags.writeable and not model.n_wt.flags.writeable


def test_phi_and_n_wt_are_read_only_views(model):
    before = model.phi.copy()
    for array in (model.phi, model.n_wt):
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 5.0
    np.testing.assert_array_equal(model.phi, before)


def big_inputs(model) -> tuple[np.ndarray, np.ndarray]:
    """Writable token ids above COPY_BYTES (read in place, frozen) and their offsets."""
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, N_WORDS, 800_000).astype(np.uint32)
    assert tokens.nbytes > 2 << 20 and tokens.flags.writeable
    offsets = np.arange(0, len(tokens) + 1, 1000, dtype=np.int64)
    return tokens, offsets


def linear(model, tokens, offsets) -> np.ndarray:
    return kernels.linear_theta(tokens, offsets, model._phi, model._topic_mass(), threads=1)


def test_threads_share_a_large_writable_input_and_its_flags_come_back(model):
    tokens, offsets = big_inputs(model)
    view = tokens[: len(tokens) // 2]  # a view: its base is frozen along with it
    expected = linear(model, tokens, offsets)
    results = run_in_threads(8, lambda i: linear(model, tokens, offsets))
    for r in results:
        np.testing.assert_array_equal(r, expected)
    assert tokens.flags.writeable and view.flags.writeable and offsets.flags.writeable
    tokens[0] = 1  # writable again once the calls ended
    # An array its owner made read-only stays read-only.
    frozen = tokens.copy()
    frozen.flags.writeable = False
    run_in_threads(4, lambda i: linear(model, frozen, offsets))
    assert not frozen.flags.writeable


def test_a_view_is_read_in_place_with_its_base_kept_from_writes(model):
    tokens, offsets = big_inputs(model)
    half = len(tokens) // 2
    view = tokens[:half]
    expected = linear(model, view.copy(), offsets[offsets <= half])
    stop = threading.Event()
    outcomes = {"refused": 0, "written": 0}

    def writer() -> None:
        # Writes the value already there through the base: harmless to the result, but
        # refused whenever a call is reading the view.
        while not stop.is_set():
            try:
                tokens[1] = tokens[1]
                outcomes["written"] += 1
            except ValueError as e:
                assert "read-only" in str(e)
                outcomes["refused"] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(20):
            np.testing.assert_array_equal(linear(model, view, offsets[offsets <= half]), expected)
    finally:
        stop.set()
        thread.join()
    assert tokens.flags.writeable and view.flags.writeable
    # The calls release the GIL for their whole run, so the writer runs during them.
    assert outcomes["refused"] > 0, outcomes


def test_an_output_array_written_by_threads_at_once_gets_every_sum(model, corpus):
    # Each call holds `into` for writing, read-only to Python meanwhile: a second call is
    # refused rather than racing with the first, so the threads take turns.
    args = (corpus.token_ids, corpus.doc_offsets, model._phi)
    expected = kernels.artm_estep(*args, threads=1)[1]
    into = np.zeros((N_WORDS, N_TOPICS))

    def work(i: int) -> int:
        done = 0
        while done < 2:
            try:
                kernels.artm_estep(*args, into=into, threads=1)
                done += 1
            except ValueError as e:
                assert "another thread that uses it" in str(e), e
        return done

    assert run_in_threads(4, work) == [2] * 4
    assert into.flags.writeable
    np.testing.assert_allclose(into, 8 * expected, rtol=1e-9)
