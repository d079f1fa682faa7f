"""Outputs that could never be allocated raise MemoryError naming the size (issue 13,
item 4) before the core runs, instead of aborting the process when the allocation fails.

The inputs are small (a million tokens, Φ of one word); the outputs they ask for are
terabytes, more than any machine this runs on. An output within the machine's memory
that the allocator still refuses is a MemoryError too (a child process under a limit on
its address space shows it).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from attartm import kernels

N, T = 10**6, 10**6


@pytest.fixture(scope="module")
def inputs() -> dict[str, np.ndarray]:
    return {
        "tokens": np.zeros(N, dtype=np.uint32),
        "phi": np.ones((1, T), dtype=np.float32),  # one word: every column sums to 1
        "n_t": np.ones(T, dtype=np.float32),
        "gamma": np.full(N, 0.1, dtype=np.float32),
    }


def attentive(inputs, offsets, **kw):
    g = inputs["gamma"]
    return kernels.attentive_run(
        inputs["tokens"], offsets, inputs["phi"], inputs["n_t"], gamma_forward=g,
        gamma_backward=g, beta=0.5, passes=1, exclude_self=True, accumulate=False, **kw,
    )  # fmt: skip


SHORT_DOCUMENTS = np.arange(0, N + 1, 1000, dtype=np.int64)


def test_a_token_output_larger_than_memory_raises_memory_error(inputs):
    with pytest.raises(
        MemoryError,
        match=r'the output "tokens" \(tokens × topics\) would take 4000000000000 bytes '
        r"\(1000000×1000000 values of 4 bytes\), more than this machine's memory \(\d+ "
        r"bytes\); pass fewer tokens or documents per call",
    ):
        attentive(inputs, SHORT_DOCUMENTS, output="tokens")


def test_a_contexts_output_larger_than_memory_raises_memory_error(inputs):
    with pytest.raises(
        MemoryError, match=r'"contexts" .* would take 8000008000000 bytes \(1000000×2000002'
    ):
        attentive(inputs, SHORT_DOCUMENTS, output="contexts")


def test_theta_larger_than_memory_raises_memory_error(inputs):
    every_token_a_document = np.arange(N + 1, dtype=np.int64)
    args = (inputs["tokens"], every_token_a_document, inputs["phi"])
    match = r"θ \(documents × topics\) would take 4000000000000 bytes"
    with pytest.raises(MemoryError, match=match):
        kernels.artm_estep(*args, accumulate=False, doc_passes=1)
    with pytest.raises(MemoryError, match=match):
        kernels.linear_theta(*args, inputs["n_t"])


def test_offsets_past_the_tokens_are_a_value_error_not_a_memory_error(inputs):
    # The longest document is measured within the tokens: lying offsets are the core's
    # ValueError, whatever they claim.
    g = inputs["gamma"][:10]
    with pytest.raises(ValueError, match="offsets"):
        kernels.attentive_run(
            inputs["tokens"][:10], np.array([0, 2**62], dtype=np.int64), np.ones((1, 3), np.float32),
            np.ones(3, np.float32), gamma_forward=g, gamma_backward=g, beta=0.5, passes=1,
            exclude_self=True, output="none", accumulate=False,
        )  # fmt: skip


REFUSED = textwrap.dedent(
    """
    import resource
    import numpy as np
    from attartm import kernels

    n, t = 1_000_000, 1_000  # the output "tokens": 4 GB
    g = np.full(n, 0.1, dtype=np.float32)
    args = (np.zeros(n, np.uint32), [0, n], np.ones((1, t), np.float32), np.ones(t, np.float32))
    status = [line for line in open("/proc/self/status") if line.startswith("VmSize")]
    size = int(status[0].split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + (1 << 30), resource.RLIM_INFINITY))
    try:
        kernels.attentive_run(
            *args, gamma_forward=g, gamma_backward=g, beta=0.5, passes=1, exclude_self=True,
            output="tokens", accumulate=False,
        )
    except MemoryError as e:
        print(e)
    """
)


def test_an_output_the_allocator_refuses_is_a_memory_error_not_an_abort():
    done = subprocess.run(
        [sys.executable, "-c", REFUSED], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "the output of the attentive E-step would take 4000000000 bytes (1000000×1000 values "
        "of 4 bytes), which could not be allocated"
    )
