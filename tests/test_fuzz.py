"""Fuzzing the public entry points (issue 13, item 6): whatever they are given, they
return or raise a documented exception (ValueError, TypeError); never a panic of the
core (RuntimeError), never an abort.

Inputs are a valid call with one argument replaced by something hostile: arrays of other
dtypes, shapes, orders and values (NaN, infinities, negative, huge), out-of-range ids,
offsets out of order, Arrow arrays with nulls or many chunks, wrong Python types. The
values stay small enough that a call that is accepted ends quickly (``passes`` at most 3,
a few hundred tokens).

In CI each test tries ``ATTARTM_FUZZ_EXAMPLES`` examples (40 by default); a longer run
for developers::

    ATTARTM_FUZZ_EXAMPLES=5000 nice python -m pytest tests/test_fuzz.py \\
        --hypothesis-show-statistics -p no:cacheprovider
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import attartm
from attartm import (
    ARTM,
    AttentiveARTM,
    Corpus,
    DecorrelatorPhi,
    SmoothSparsePhi,
    SmoothSparseTheta,
    ThetalessARTM,
    kernels,
    persistence,
)

from .conftest import synthetic_texts

EXAMPLES = int(os.environ.get("ATTARTM_FUZZ_EXAMPLES", "40"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DOCUMENTED = (ValueError, TypeError)
N_WORDS, N_TOPICS = 7, 3


def outcome(call: Any) -> Any:
    """``call()``'s result, or None when it raised a documented exception; anything else
    (a panic reaches Python as RuntimeError) fails the test."""
    try:
        result = call()
    except DOCUMENTED as e:
        # A library's own subclass (pyarrow's ArrowInvalid is a ValueError) speaks of its
        # internals, not of the argument.
        assert type(e) in DOCUMENTED, f"{type(e).__name__}: {e}"
        assert str(e), f"{type(e).__name__} without a message"
        event(type(e).__name__)
        return None
    event("returned")
    return result


# --- hostile values -----------------------------------------------------------------

DTYPES = [np.uint32, np.int64, np.int32, np.uint8, np.float32, np.float64, np.bool_,
          np.complex64, "U3", object]  # fmt: skip
SPECIAL = [0, 1, -1, 2**31, 2**32, 2**63 - 1, float("nan"), float("inf"), -float("inf"),
           1e30, -1e-30, 0.5]  # fmt: skip


@st.composite
def hostile_array(draw: Any) -> Any:
    """Something array-like that is probably not what the argument wants."""
    kind = draw(st.sampled_from(["numpy", "special", "list", "scalar", "strided", "fortran",
                                 "empty", "arrow-nulls", "arrow-chunks", "polars", "other"]))  # fmt: skip
    if kind == "numpy":
        shape = draw(st.lists(st.integers(0, 6), min_size=0, max_size=3))
        dtype = draw(st.sampled_from(DTYPES))
        if dtype in ("U3", object):
            return np.full(shape, "ab", dtype=dtype)
        raw = draw(st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=4))
        with np.errstate(all="ignore"):
            values = np.resize(np.array(raw, dtype=np.float64), int(np.prod(shape)))
            return values.astype(dtype).reshape(shape)
    if kind == "special":
        return np.array(draw(st.lists(st.sampled_from(SPECIAL), max_size=8)))
    if kind == "list":
        return draw(st.lists(st.one_of(st.integers(-(2**70), 2**70), st.floats(),
                                       st.text(max_size=2), st.none()), max_size=6))  # fmt: skip
    if kind == "scalar":
        return draw(st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text()))
    if kind == "strided":
        return np.arange(12, dtype=np.uint32)[::2]
    if kind == "fortran":
        return np.asfortranarray(np.full((N_WORDS, N_TOPICS), 1 / N_WORDS, dtype=np.float32))
    if kind == "empty":
        return np.zeros((0,) * draw(st.integers(1, 2)), dtype=draw(st.sampled_from(DTYPES[:6])))
    if kind == "arrow-nulls":
        return pa.array([1, None, 2], type=draw(st.sampled_from([pa.uint32(), pa.int64()])))
    if kind == "arrow-chunks":
        return pa.chunked_array([pa.array([i % 9], type=pa.uint32()) for i in range(5)])
    if kind == "polars":
        return pl.Series([0, None, 3], dtype=draw(st.sampled_from([pl.UInt32, pl.Int16])))
    return draw(st.sampled_from([{}, object(), b"bytes", "text", (1, 2), range(3)]))


# --- a valid call of each kernel, then one argument replaced -----------------------


def valid_arguments(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    tokens = rng.integers(0, N_WORDS, n).astype(np.uint32)
    cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(0, 4))))
    offsets = np.concatenate([[0], cuts, [n]]).astype(np.int64)
    phi = rng.random((N_WORDS, N_TOPICS)).astype(np.float32) + 0.01
    phi /= phi.sum(axis=0)
    gammas = rng.uniform(0, 1, n).astype(np.float32)
    return {
        "tokens": tokens,
        "doc_offsets": offsets,
        "phi": phi,
        "n_t": rng.uniform(1, 5, N_TOPICS).astype(np.float32),
        "counts": rng.uniform(0, 3, n).astype(np.float32),
        "gamma_forward": gammas,
        "gamma_backward": gammas[::-1].copy(),
        "reset": (rng.random(n) < 0.2).astype(np.float32),
    }


KERNELS = {
    "artm_estep": (kernels.artm_estep, ["tokens", "doc_offsets", "phi"], ["counts"],
                   {"doc_passes": 3}),
    "attentive_run": (kernels.attentive_run, ["tokens", "doc_offsets", "phi", "n_t"],
                      ["reset"],
                      {"beta": 0.5, "passes": 2, "exclude_self": True}),
    "thetaless_estep": (kernels.thetaless_estep, ["tokens", "doc_offsets", "phi", "n_t"],
                        ["counts"], {}),
    "linear_theta": (kernels.linear_theta, ["tokens", "doc_offsets", "phi", "n_t"],
                     ["counts"], {}),
    "bag_of_words": (kernels.bag_of_words, ["tokens", "doc_offsets"], [], {}),
}  # fmt: skip

# Keyword settings of each kernel and hostile values for them.
SETTINGS = {
    "threads": [0, -1, 1, 2, 1025, 2.0, "2", True],
    "accumulate": [True, False, "rows", "dense", "into", 1, None],
    "weight": [0.0, -1.0, float("nan"), float("inf"), 1e300, "1"],
    "doc_passes": [0, 1, 3, -5, 2.5, None],
    "beta": [-0.1, 1.5, float("nan"), 0.0, 1.0, None],
    "passes": [0, 3, -1, 1.0, True],
    "exclude_self": [False, "yes", None],
    "filter": ["phi", "softmax", None, 3],
    "document_weight": [0.0, 1.0, -0.5, 2.0, float("inf")],
    "tempering": [1.0, 0.5, 0.0, -1.0, 3.0, float("nan")],
    "output": ["none", "tokens", "contexts", "loglik", "doc_mean", "top", "bogus", None],
    "top": [1, 3, 0, -1, 2**40, 1.5],
    "variant": ["full", "naive", "exact", None],
    "into": [np.zeros((N_WORDS, N_TOPICS)), np.zeros((N_TOPICS, N_WORDS)),
             np.zeros((N_WORDS, N_TOPICS), dtype=np.float32),
             np.zeros((N_WORDS, N_TOPICS)).T.copy().T, "into"],
}  # fmt: skip
ACCEPTS = {
    "artm_estep": ["threads", "accumulate", "weight", "doc_passes", "into"],
    "attentive_run": ["threads", "accumulate", "weight", "beta", "passes", "exclude_self",
                      "filter", "document_weight", "tempering", "output", "top", "into"],
    "thetaless_estep": ["threads", "accumulate", "weight", "variant", "into"],
    "linear_theta": ["threads"],
    "bag_of_words": ["threads"],
}  # fmt: skip


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@fuzz
@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_kernels_raise_only_documented_errors(kernel, seed, data):
    fn, positional, optional, fixed = KERNELS[kernel]
    args = valid_arguments(seed)
    kwargs = {name: args[name] for name in optional if data.draw(st.booleans())}
    if kernel == "attentive_run":  # required keywords, hostile like the rest below
        optional = [*optional, "gamma_forward", "gamma_backward"]
        kwargs.update(gamma_forward=args["gamma_forward"], gamma_backward=args["gamma_backward"])
    kwargs.update(fixed)
    for name in data.draw(st.lists(st.sampled_from(ACCEPTS[kernel]), max_size=3, unique=True)):
        kwargs[name] = data.draw(st.sampled_from(SETTINGS[name]))
    if "into" in kwargs and isinstance(kwargs["into"], np.ndarray):
        kwargs["into"] = kwargs["into"].copy()
    positional_values = [args[name] for name in positional]
    # Replace one argument (positional or optional) with a hostile value, or none.
    target = data.draw(st.sampled_from([None, *positional, *optional]))
    if target is not None:
        value = data.draw(hostile_array())
        if target in positional:
            positional_values[positional.index(target)] = value
        else:
            kwargs[target] = value
    # Or break a valid array in the ways the core must check itself.
    elif data.draw(st.booleans()):
        tokens, offsets = positional_values[0], positional_values[1]
        how = data.draw(st.sampled_from(["id", "order", "start", "end", "phi-nan", "phi-neg"]))
        if how == "id":
            tokens[0] = data.draw(st.sampled_from([N_WORDS, 2**32 - 1]))
        elif how == "order" and len(offsets) > 2:
            offsets[1] = offsets[-1] + 1
        elif how == "start":
            offsets[0] = 1
        elif how == "end":
            offsets[-1] += data.draw(st.sampled_from([-1, 1, 2**62]))
        elif how.startswith("phi") and len(positional_values) > 2:
            positional_values[2][0, 0] = np.nan if how == "phi-nan" else -1.0
    outcome(lambda: fn(*positional_values, **kwargs))


# --- constructors and fit ------------------------------------------------------------

PARAMETERS = {
    "n_topics": [1, 3, 0, -1, 2.0, "3", None, True, 10**12],
    "epochs": [1, 0, -1, 1.5, None],
    "updates_per_epoch": [1, 2, 0, 10**9, "1"],
    "seed": [0, -1, 2**64, 2**200, 1.5, None, "0"],
    "threads": [None, 1, 0, -2, 1025, "4", 2.5],
    "regularizers": [(), None, 3, [3], "SmoothSparsePhi"],
    "doc_passes": [1, 0, -1, 2.5],
    "passes": [1, 3, 0, -1, 1.0],
    "beta": [0.0, 1.0, -0.5, 1.5, float("nan"), "0.5"],
    "window": [None, 1.0, 0.5, 0.0, -3.0, float("inf"), 1e9, "10"],
    "gamma": [None, 0.0, 0.5, 1.0, 1.5, -0.1, float("nan")],
    "window_backward": [None, 2.0, -1.0, float("nan")],
    "gamma_backward": [None, 0.3, 2.0],
    "boundaries": [None, {}, {"sentence": 0.5}, {"sentence": 2.0}, {"chapter": 1.0},
                   {"sentence": float("nan")}, [1, 2], "sentence", {"paragraph": "1"}],
    "token_weight": [None, [], [0.5], "heavy", {"goal": 0.5}, {"goal": 7.0},
                     {"goal": float("nan")}, {3: 0.5}, np.zeros(3)],
    "exclude_self": [True, False, None, "no"],
    "filter": ["p/n_t", "phi", "softmax", None],
    "document_weight": [0.0, 0.5, 1.0, -1.0, 2.0, float("nan")],
    "tempering": [1.0, 0.5, 0.0, -1.0, 2.0, float("inf")],
    "variant": ["full", "naive", "exact", 1, None],
}  # fmt: skip
MODELS = {
    ARTM: ["n_topics", "epochs", "updates_per_epoch", "seed", "threads", "regularizers",
           "doc_passes"],
    AttentiveARTM: ["n_topics", "epochs", "updates_per_epoch", "seed", "threads",
                    "regularizers", "passes", "beta", "window", "gamma", "window_backward",
                    "gamma_backward", "boundaries", "token_weight", "exclude_self", "filter",
                    "document_weight", "tempering"],
    ThetalessARTM: ["n_topics", "epochs", "updates_per_epoch", "seed", "threads",
                    "regularizers", "variant"],
}  # fmt: skip
REGULARIZERS = [
    lambda d: SmoothSparsePhi(tau=d(st.sampled_from([0.1, -1.0, float("nan"), "1", None])),
                              topics=d(st.sampled_from([None, [0], [5], [-1], "0", [0.5]])),
                              weights=d(st.sampled_from([None, [1.0] * 30, [float("nan")],
                                                         [[1.0]], "w"]))),
    lambda d: SmoothSparseTheta(tau=d(st.sampled_from([0.5, -0.5, float("inf")]))),
    lambda d: DecorrelatorPhi(tau=d(st.sampled_from([1.0, 1e30, -1.0])),
                              topics=d(st.sampled_from([None, [0, 1], [0, 0], []]))),
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny() -> Corpus:
    return Corpus.from_texts(synthetic_texts(8, length=16), stopwords=False)


@pytest.mark.parametrize("cls", list(MODELS), ids=lambda c: c.__name__)
@fuzz
@given(data=st.data())
def test_constructors_and_fit_raise_only_documented_errors(cls, tiny, data):
    names = data.draw(st.lists(st.sampled_from(MODELS[cls]), min_size=1, max_size=4, unique=True))
    params = {name: data.draw(st.sampled_from(PARAMETERS[name])) for name in names}
    params.setdefault("n_topics", 2)
    # Sizes that are valid but would take long are kept small: this checks errors only.
    if isinstance(params.get("n_topics"), int) and params["n_topics"] > 50:
        params["n_topics"] = 50
    if data.draw(st.booleans()):
        regularizer = outcome(lambda: data.draw(st.sampled_from(REGULARIZERS))(data.draw))
        if regularizer is not None:
            params["regularizers"] = [regularizer]
    model = outcome(lambda: cls(**params))
    if model is None:
        return
    epochs = 1 if isinstance(params.get("updates_per_epoch"), int) else None
    fitted = outcome(lambda: model.fit(tiny, epochs=epochs) if epochs else model.fit(tiny))
    if fitted is not None:
        assert np.isfinite(fitted.phi).all()
        np.testing.assert_allclose(fitted.phi.sum(axis=0), 1, atol=1e-3)


@fuzz
@given(texts=st.lists(st.one_of(st.text(max_size=40), st.none(), st.integers()), max_size=6),
       options=st.fixed_dictionaries({}, optional={
           "stopwords": st.sampled_from([True, False, None, ["the"], "en", 3]),
           "language": st.sampled_from(["en", "ru", "xx", None, 1]),
       }))  # fmt: skip
def test_corpus_from_texts_raises_only_documented_errors(texts, options):
    outcome(lambda: Corpus.from_texts(texts, **options))


@pytest.fixture(scope="module")
def saved(tiny) -> bytes:
    return persistence.dumps(ARTM(2, seed=0).fit(tiny, epochs=1))


@fuzz
@given(data=st.data())
def test_loads_of_mutated_model_bytes_raises_only_value_error(saved, data):
    raw = bytearray(saved)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    try:
        model = persistence.loads(bytes(raw))
    except ValueError:
        return
    # A mutation the loader accepted (a byte of a name or padding, say) is a valid model.
    assert np.isfinite(model.phi).all()


@fuzz
@given(data=st.data())
def test_loads_of_a_rewritten_member_raises_only_value_error(saved, data):
    with zipfile.ZipFile(io.BytesIO(saved)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    name = data.draw(st.sampled_from(sorted(members)))
    body = bytearray(members[name])
    # Mutations near the start hit the headers (zip entries, .npy header, JSON keys).
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, min(len(body) - 1, 200)))
        body[at] = data.draw(st.integers(0, 255))
    members[name] = bytes(body)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for member, content in members.items():
            z.writestr(member, content)
    try:
        attartm.persistence.loads(buf.getvalue())
    except ValueError:
        pass
