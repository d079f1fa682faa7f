"""Ctrl-C during fit and fit_online: the model keeps every completed update of Φ."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import attartm
from attartm._interrupt import DeferredInterrupt

from .conftest import synthetic_texts

# A child that trains "forever" (offline EM: one update per epoch), tells the parent after
# each epoch, and on KeyboardInterrupt saves what it kept.
CHILD = r"""
import json, signal, sys, time
import attartm

# As in an interactive session (a child of a background job inherits SIGINT ignored).
signal.signal(signal.SIGINT, signal.default_int_handler)
from tests.conftest import synthetic_texts

corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=400, seed=3))
model = attartm.{cls}(4, seed=1, updates_per_epoch=1, epochs=100_000)

def tell(model, epoch):
    print(json.dumps({{"epoch": epoch}}), flush=True)

try:
    model.{call}
except KeyboardInterrupt as e:
    caught = time.monotonic()
    model.save(sys.argv[1])
    print(json.dumps({{"caught": caught, "message": str(e), "epochs": model.epochs_done_,
                      "updates": model.updates_done_}}), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX signals")
@pytest.mark.parametrize(
    "cls, call",
    [
        ("AttentiveARTM", "fit(corpus, callback=tell, progress_bar=False)"),
        ("ARTM", "fit(corpus, callback=tell, progress_bar=False)"),
    ],
)
def test_sigint_during_fit_keeps_the_completed_epochs(tmp_path, cls, call):
    from pathlib import Path

    root = Path(__file__).parents[1]
    path = tmp_path / "kept.attartm"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD.format(cls=cls, call=call)), str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
    )  # fmt: skip
    try:
        epochs_seen = 0
        while epochs_seen < 3:  # training is under way
            line = child.stdout.readline()
            assert line, child.stderr.read()
            epochs_seen = json.loads(line)["epoch"]
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        lines = [json.loads(x) for x in child.communicate(timeout=120)[0].splitlines()]
    finally:
        child.kill()
    report = lines[-1]
    assert "caught" in report, lines
    print(f"\n{cls}: KeyboardInterrupt {report['caught'] - sent:.3f} s after SIGINT")
    assert child.returncode == 0
    assert "interrupted after" in report["message"]
    # Offline EM: an update is an epoch; every epoch the callback saw is kept.
    assert report["epochs"] == report["updates"] >= epochs_seen
    kept = attartm.load(path)
    np.testing.assert_allclose(kept.phi.sum(axis=0), 1.0, atol=1e-5)
    # The kept model is exactly the model of that many epochs.
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=400, seed=3))
    again = getattr(attartm, cls)(4, seed=1, updates_per_epoch=1, epochs=report["epochs"])
    again.fit(corpus, progress_bar=False)
    np.testing.assert_allclose(kept.phi, again.phi, rtol=1e-6, atol=1e-9)


@pytest.fixture
def interactive_sigint():
    """Python's own SIGINT handler for the test, as in an interactive session (pytest run
    as a background job inherits SIGINT ignored, and then nothing is deferred)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def test_an_interrupt_is_held_until_the_update_ends_and_a_second_one_raises(
    interactive_sigint,
):
    before = signal.getsignal(signal.SIGINT)
    with DeferredInterrupt() as interrupt:
        signal.raise_signal(signal.SIGINT)
        assert interrupt.received  # recorded, not raised
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    # The handler from before is back.
    assert signal.getsignal(signal.SIGINT) is before


def test_an_interrupt_inside_an_undoable_update_raises_at_once(interactive_sigint):
    with DeferredInterrupt() as interrupt:
        with pytest.raises(KeyboardInterrupt), interrupt.undoable():
            signal.raise_signal(signal.SIGINT)
        assert interrupt.received
        with pytest.raises(KeyboardInterrupt):  # and training stops there
            signal.raise_signal(signal.SIGINT)


def test_nothing_is_deferred_where_sigint_is_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with DeferredInterrupt():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def test_fit_online_interrupted_keeps_its_completed_updates(monkeypatch, interactive_sigint):
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=300, seed=5))
    model = attartm.ARTM(3, seed=0)
    calls = {"n": 0}
    update = type(model)._update

    def update_then_interrupt(self, *args):
        update(self, *args)
        calls["n"] += 1
        if calls["n"] == 2:  # Ctrl-C arrives while the second update runs: it is undone
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(type(model), "_update", update_then_interrupt)
    with pytest.raises(KeyboardInterrupt, match="1 updates"):
        model.fit_online(corpus, batch_size=50, epochs=3, progress_bar=False)
    assert model.updates_done_ == 1 and model.epochs_done_ == 0
    monkeypatch.undo()
    again = attartm.ARTM(3, seed=0).fit_online(
        corpus.select(np.arange(50)), batch_size=50, progress_bar=False
    )
    np.testing.assert_allclose(model.phi, again.phi, rtol=1e-6, atol=1e-9)


# A child whose every epoch is one long kernel call (offline EM on 8 M tokens, about a
# second or more per epoch): SIGINT 2 s into fit must not wait for the epoch to end.
def long_corpus() -> attartm.Corpus:
    """8 M random tokens: an epoch of 100 topics takes a second or more."""
    rng = np.random.default_rng(0)
    n_words, n_docs, length = 5000, 40_000, 200
    tokens = rng.integers(0, n_words, n_docs * length).astype(np.uint32)
    words = [f"w{i}" for i in range(n_words)]
    return attartm.Corpus.from_token_ids(tokens, np.arange(n_docs + 1) * length, words)


LONG_CHILD = r"""
import json, signal, sys, time
import attartm

signal.signal(signal.SIGINT, signal.default_int_handler)
from tests.test_interrupt import long_corpus

corpus = long_corpus()
model = attartm.ARTM(100, seed=1, updates_per_epoch=1, epochs=100_000, threads={threads})
ends = []

def tell(model, epoch):
    ends.append(time.monotonic())
    print(json.dumps({{"end": ends[-1]}}), flush=True)

print(json.dumps({{"started": time.monotonic()}}), flush=True)
try:
    model.fit(corpus, progress_bar=False, callback=tell)
except KeyboardInterrupt as e:
    caught = time.monotonic()
    model.save(sys.argv[1])
    print(json.dumps({{"caught": caught, "message": str(e), "epochs": model.epochs_done_,
                      "ends": ends}}), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX signals")
@pytest.mark.parametrize("threads", [1, None])
def test_sigint_inside_a_long_epoch_answers_inside_the_epoch(tmp_path, threads):
    from pathlib import Path

    root = Path(__file__).parents[1]
    path = tmp_path / "kept.attartm"
    code = textwrap.dedent(LONG_CHILD.format(threads=threads))
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
    )  # fmt: skip
    try:
        line = child.stdout.readline()
        assert line, child.stderr.read()
        started = json.loads(line)["started"]
        # 2 s into fit, and inside an epoch after the first (so that there is one to keep).
        first = json.loads(child.stdout.readline())["end"]
        time.sleep(max(0.0, started + 2.0 - time.monotonic(), first + 0.3 - time.monotonic()))
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err
    report = json.loads(out.splitlines()[-1])
    latency = report["caught"] - sent
    ends = report["ends"]
    epoch = max((b - a for a, b in itertools.pairwise(ends)), default=ends[0] - started)
    print(
        f"\nthreads={threads}: KeyboardInterrupt {latency:.3f} s after SIGINT, {epoch:.2f} s epochs"
    )
    # Answered inside the epoch, not at its end: the kernels look for the signal between
    # chunks. (A bound relative to the epoch measured in the same run holds on a busy
    # machine too; on a quiet one the latency is 0.004-0.011 s, README "Command line".)
    assert latency < epoch / 2
    assert "interrupted after" in report["message"]
    # The epochs completed before the signal, and only those, are kept.
    assert report["epochs"] == sum(end < sent for end in report["ends"])
    kept = attartm.load(path)
    np.testing.assert_allclose(kept.phi.sum(axis=0), 1.0, atol=1e-5)
    if report["epochs"]:
        again = attartm.ARTM(100, seed=1, updates_per_epoch=1, epochs=report["epochs"])
        again.fit(long_corpus(), progress_bar=False)
        np.testing.assert_array_equal(kept.phi, again.phi)


def test_a_failing_update_leaves_the_previous_partial_fit_model(monkeypatch):
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=300, seed=5))
    model = attartm.ARTM(3, seed=0).partial_fit(corpus.select(np.arange(100)))
    phi, n_wt = model.phi.copy(), model._n_wt.copy()
    done = model.updates_done_
    estep = type(model)._estep
    calls = {"n": 0}

    def fail_on_the_second_batch(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return estep(self, *args, **kwargs)

    monkeypatch.setattr(type(model), "_estep", fail_on_the_second_batch)
    with pytest.raises(RuntimeError, match="boom"):
        model.partial_fit(corpus.select(np.arange(100, 300)), batch_size=100)
    monkeypatch.undo()
    # The first batch of the failed call is kept; its second one left no trace.
    assert model.updates_done_ == done + 1
    again = attartm.ARTM(3, seed=0).partial_fit(corpus.select(np.arange(100)))
    again.partial_fit(corpus.select(np.arange(100, 200)), batch_size=100)
    np.testing.assert_array_equal(model.phi, again.phi)
    np.testing.assert_array_equal(model._n_wt, again._n_wt)
    assert not np.array_equal(model.phi, phi) or not np.array_equal(model._n_wt, n_wt)
    model.transform(corpus)  # still usable


def test_a_failing_callback_keeps_the_completed_epochs():
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=200, seed=5))

    def fail_in_epoch_3(model, epoch):
        if epoch == 3:
            raise RuntimeError("boom")

    model = attartm.ARTM(3, seed=0, updates_per_epoch=4)
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(corpus, epochs=10, callback=fail_in_epoch_3, progress_bar=False)
    assert model.epochs_done_ == 3 and model.updates_done_ == 12
    again = attartm.ARTM(3, seed=0, updates_per_epoch=4).fit(corpus, epochs=3, progress_bar=False)
    np.testing.assert_array_equal(model.phi, again.phi)


def add_then_fail(monkeypatch, model, failing_call: int, seen: dict) -> None:
    """Makes call ``failing_call`` of ``model``'s E-step add its sums into n_wt and then
    raise; ``seen`` gets, before every call, the scale it starts from ("scale"), and at the
    failing one n_wt's raw array before it ("before") and whether the E-step changed it
    ("changed")."""
    estep = type(model)._estep
    calls = itertools.count(1)

    def patched(self, *args, **kwargs):
        # n_wt = scale · _n_wt; the last update that completes leaves the scale that the
        # failing one starts from.
        if next(calls) < failing_call:
            seen["scale"] = self._scale
            return estep(self, *args, **kwargs)
        seen["before"] = self._n_wt.copy()
        estep(self, *args, **kwargs)
        seen["changed"] = not np.array_equal(self._n_wt, seen["before"])
        raise RuntimeError("boom")

    monkeypatch.setattr(type(model), "_estep", patched)


def test_an_update_undone_in_the_middle_leaves_offline_em_intact(monkeypatch):
    """An E-step that fails after part of its sums entered n_wt (U = 1: the decay to 0
    already replaced n_wt) leaves the model of the epochs before it, bit for bit."""
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=200, seed=5))
    model = attartm.ARTM(3, seed=0, updates_per_epoch=1)
    add_then_fail(monkeypatch, model, 3, {})
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(corpus, epochs=5, progress_bar=False)
    monkeypatch.undo()
    assert model.epochs_done_ == 2
    again = attartm.ARTM(3, seed=0, updates_per_epoch=1).fit(corpus, epochs=2, progress_bar=False)
    np.testing.assert_array_equal(model.phi, again.phi)
    np.testing.assert_array_equal(model._n_wt, again._n_wt)


def test_a_stepwise_update_undone_after_its_rows_changed_restores_them(monkeypatch):
    """Stepwise EM (U = 4) keeps the rows an update touches in a buffer that the loop
    reuses; an E-step that fails after adding into n_wt leaves the n_wt of the updates
    before it, bit for bit."""
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=200, seed=5))
    model = attartm.ARTM(3, seed=0, updates_per_epoch=4)
    seen: dict = {}
    add_then_fail(monkeypatch, model, 6, seen)
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(corpus, epochs=3, progress_bar=False)
    assert seen["changed"]  # the failed E-step had written into n_wt
    assert model.updates_done_ == 5
    # The model after the failure is synced: its scale folded into _n_wt.
    np.testing.assert_array_equal(model._n_wt, seen["before"] * seen["scale"])


def test_saved_rows_reuse_one_buffer():
    from attartm._mstep import SavedRows

    saved = SavedRows()
    big = saved.rows(5, 4)
    small = saved.rows(2, 4)
    assert big.shape == (5, 4) and small.shape == (2, 4)
    assert np.shares_memory(big, small)  # the same buffer, no new memory
    assert saved.rows(2, 3).shape == (2, 3)  # another T: a buffer of its own


@pytest.mark.parametrize("stale", ["all", "some", "none"])
def test_current_saves_the_rows_it_is_given(stale):
    """``_current(words, save_into=)`` copies the rows ``words`` of n_wt exactly whether
    all of them, some or none are stale, refreshes exactly the stale ones and leaves every
    other row of Φ as it was."""
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=200, seed=5))
    model = attartm.ARTM(3, seed=0, updates_per_epoch=4).fit(corpus, epochs=2, progress_bar=False)
    rng = np.random.default_rng(1)
    model._n_wt[:] = rng.random(model._n_wt.shape)
    model._positive[0] = np.maximum(model._n_wt, 0).sum(axis=0)
    words = np.flatnonzero(rng.random(model._n_wt.shape[0]) < 0.6).astype(np.uint32)
    model._stamp[:] = model._version
    if stale == "all":
        model._stamp[words] = model._version - 1
    elif stale == "some":
        model._stamp[words[::2]] = model._version - 1
    phi = model._phi.copy()
    expected = model._n_wt / model._positive[0]
    refreshed = words[model._stamp[words] != model._version]
    saved = np.full((len(words), 3), np.nan)
    model._current(words, save_into=saved)
    np.testing.assert_array_equal(saved, model._n_wt[words])
    np.testing.assert_array_equal(model._phi[refreshed], expected[refreshed].astype(np.float32))
    untouched = np.setdiff1d(np.arange(len(phi)), refreshed)
    np.testing.assert_array_equal(model._phi[untouched], phi[untouched])
    assert (model._stamp[words] == model._version).all()


def test_an_update_outside_updating_is_refused():
    """The E-steps of an update read the rows of Φ that ``_updating`` brings up to date on
    entering; an ``add`` run without it could read stale rows, so it raises instead."""
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=60, seed=5))
    model = attartm.ARTM(3, seed=0).fit(corpus, epochs=1, progress_bar=False)
    n_wt = model._n_wt.copy()
    _, add = model._estep_into([model._prepare(corpus)])
    with pytest.raises(RuntimeError, match=r"inside MStep\._updating"):
        add(1.0)
    np.testing.assert_array_equal(model._n_wt, n_wt)
