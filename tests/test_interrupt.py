"""Ctrl-C during fit and fit_online: the model keeps every completed update of Φ."""

from __future__ import annotations

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


def test_nothing_is_deferred_where_sigint_is_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with DeferredInterrupt():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def test_fit_online_interrupted_keeps_its_updates(monkeypatch, interactive_sigint):
    corpus = attartm.Corpus.from_texts(synthetic_texts(n_docs=300, seed=5))
    model = attartm.ARTM(3, seed=0)
    calls = {"n": 0}
    update = type(model)._update

    def update_then_interrupt(self, *args):
        update(self, *args)
        calls["n"] += 1
        if calls["n"] == 2:  # Ctrl-C arrives while the second update runs
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(type(model), "_update", update_then_interrupt)
    with pytest.raises(KeyboardInterrupt, match="2 updates"):
        model.fit_online(corpus, batch_size=50, epochs=3, progress_bar=False)
    assert model.updates_done_ == 2 and model.epochs_done_ == 0
    monkeypatch.undo()
    again = attartm.ARTM(3, seed=0).fit_online(
        corpus.select(np.arange(100)), batch_size=50, progress_bar=False
    )
    np.testing.assert_allclose(model.phi, again.phi, rtol=1e-6, atol=1e-9)
