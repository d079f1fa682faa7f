"""Long documents (issue 13, item 4): the attentive E-step works through a long document a
block at a time (docs/mathematics.md §3, "Long documents": in one pass more than 4,096
tokens; with more, rows of more than 16 MiB), with the results of the whole document and
memory that does not grow with its length.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from attartm import _core

from .reference import random_phi

WHOLE = 2**62  # no document is that long: every one runs whole
BLOCKS = 4_096  # the 30,000-token document of `stream` runs in blocks of 256 positions


@pytest.fixture(scope="module")
def stream():
    """A 30,000-token document between short ones, and its coefficients."""
    rng = np.random.default_rng(3)
    lengths = [17, 30_000, 0, 250, 5_000]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = int(offsets[-1])
    tokens = rng.integers(0, 400, size=n).astype(np.uint32)
    gf = rng.uniform(0.02, 0.5, size=n).astype(np.float32)
    gf[rng.random(n) < 0.1] = 0.0
    gb = rng.uniform(0.02, 0.5, size=n).astype(np.float32)
    reset = rng.choice([0.0, 0.0, 0.0, 0.5, 1.0], size=n).astype(np.float32)
    phi = random_phi(rng, 400, 20)
    n_t = (rng.random(20) * 1000).astype(np.float32)
    return tokens, offsets, phi, n_t, gf, gb, reset


OPTIONS = [
    dict(passes=1, exclude_self=True, filter="p/n_t", document_weight=0.0, tempering=1.0),
    dict(passes=2, exclude_self=True, filter="p/n_t", tempering=0.7, context_prior=(10.0, 10.0)),
    dict(passes=2, exclude_self=False, filter="phi", document_weight=0.3, tempering=1.0),
    dict(passes=3, exclude_self=True, filter="phi", document_weight=0.1, tempering=0.5),
]
# The other modalities' document prior (§7.3), of mass 0.5 on every document of `stream`.
_PRIOR = np.random.default_rng(5).random((5, 20))
OPTIONS.append(
    dict(
        passes=2,
        exclude_self=True,
        filter="p/n_t",
        document_weight=0.2,
        tempering=0.7,
        context_prior=(4.0, 25.0),
        document_prior=(0.5 * _PRIOR / _PRIOR.sum(axis=1, keepdims=True)).astype(np.float32),
    )
)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("resets", [False, True])
def test_a_long_document_gives_the_results_of_the_whole_document(stream, options, resets):
    tokens, offsets, phi, n_t, gf, gb, reset = stream

    def run(long_document, output, accumulate="none"):
        return _core.attentive_estep(
            tokens, offsets, phi, n_t, gamma_forward=gf, gamma_backward=gb, beta=0.4,
            reset=reset if resets else None, output=output, top=3, accumulate=accumulate,
            long_document=long_document, **options,
        )  # fmt: skip

    for output in ["tokens", "contexts", "loglik", "doc_mean", "top", "none"]:
        accumulate = "dense" if output in ("tokens", "none") else "none"
        whole = run(WHOLE, output, accumulate)
        # In blocks, and as the core's default cuts it (in one pass, blocks; in more,
        # whole, as its rows take less than 16 MiB).
        for long_document in (BLOCKS, None):
            blocked = run(long_document, output, accumulate)
            for a, b in zip(blocked, whole):
                if isinstance(a, tuple):
                    for x, y in zip(a, b):
                        np.testing.assert_array_equal(x, y)
                else:
                    np.testing.assert_array_equal(a, b)
    p, _ = run(None, "tokens")
    mean, _ = run(None, "doc_mean")
    # p(t|d) sums p in f64 a piece at a time: it is the mean of the rows to float32
    # precision however long the document.
    for d in range(len(offsets) - 1):
        rows = p[offsets[d] : offsets[d + 1]].astype(np.float64)
        if len(rows):
            np.testing.assert_allclose(mean[d], rows.mean(axis=0), rtol=1e-6, atol=1e-7)


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import attartm

    def peak():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024

    n, t, w = int(sys.argv[1]), 50, 2000
    rng = np.random.default_rng(0)
    corpus = attartm.Corpus.from_token_ids(
        rng.integers(0, w, size=n, dtype=np.uint32), np.array([0, n]),
        [f"w{i}" for i in range(w)],
    )
    model = attartm.AttentiveARTM(t, inference_window=None, inference_passes=None,
                                  inference_document_weight=None)
    model.fit(corpus, epochs=1, progress_bar=False)
    theta = model.transform(corpus).drop("id").to_numpy()
    assert theta.shape == (1, t) and abs(theta.sum() - 1) < 1e-4, theta
    print(peak())
    """
)


def test_a_20m_token_document_fits_in_2_gb():
    """One epoch of fit and a transform of a single 20M-token document at T = 50 peak
    under 2 GB of resident memory (the E-step's scratch once held p of every position:
    4.5 GB). The peak is the child's own VmHWM: its ru_maxrss would include what the
    parent had before the fork."""
    n = 20_000_000
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONSAFEPATH": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    peak = int(done.stdout.split()[-1])
    assert peak < 2 << 30, f"peak RSS {peak / 2**20:.0f} MiB"


SIGINT_CHILD = textwrap.dedent(
    """
    import json, signal, time
    import numpy as np
    from attartm import _core

    # As in an interactive session (a child of a background job inherits SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    n, t = 10_000_000, 50
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 1000, size=n, dtype=np.uint32)
    phi = rng.random((1000, t)).astype(np.float32)
    phi /= phi.sum(axis=0)
    g = np.full(n, 0.1, dtype=np.float32)
    print(json.dumps({"started": time.monotonic()}), flush=True)
    try:
        for _ in range(100):  # seconds per call: one document, three passes
            _core.attentive_estep(
                tokens, np.array([0, n]), phi, np.ones(t, np.float32), gamma_forward=g,
                gamma_backward=g, beta=0.5, passes=3, exclude_self=True, output="none",
            )
    except KeyboardInterrupt:
        print(json.dumps({"caught": time.monotonic()}), flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX signals")
def test_sigint_inside_one_long_document_answers_within_a_second():
    """The kernels look for Ctrl-C between chunks, and a single document is one chunk:
    a long one also looks between its blocks."""
    child = subprocess.Popen(
        [sys.executable, "-c", SIGINT_CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        line = child.stdout.readline()
        assert line, child.stderr.read()
        time.sleep(1.0)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out = child.communicate(timeout=120)[0]
    finally:
        child.kill()
    report = json.loads(out.splitlines()[-1])
    assert "caught" in report, out
    assert report["caught"] - sent < 1.0
