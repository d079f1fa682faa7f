"""Bad input gets a clear Python exception (issue 2, acceptance item 4).

Every test names the exception type and matches a meaningful part of its message. No
input may reach a Rust panic or abort the process: the last section feeds hostile
arrays to ``attartm._core`` directly, in a subprocess, and checks that it survives.
"""

from __future__ import annotations

import ast
import copy
import importlib.metadata
import inspect
import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import attartm
from attartm import (
    ARTM,
    AttentiveARTM,
    Corpus,
    DecorrelatorPhi,
    NotFittedError,
    SmoothSparsePhi,
    SmoothSparseTheta,
    ThetalessARTM,
    _core,
    kernels,
)

MODELS = (ARTM, AttentiveARTM, ThetalessARTM)
REGULARIZERS = (SmoothSparsePhi, SmoothSparseTheta, DecorrelatorPhi)
TEXTS = [
    "football goal team match. The striker scored a goal!",
    "pasta sauce garlic oven. Bake the bread in the oven.",
    "compiler kernel memory code. Debug the kernel code.",
] * 3


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.from_texts(TEXTS)


@pytest.fixture(scope="module")
def fitted(corpus) -> dict[type, attartm.TopicModel]:
    return {cls: cls(2, seed=0).fit(corpus, epochs=1) for cls in MODELS}


@pytest.fixture(scope="module")
def saved(tmp_path_factory, fitted) -> bytes:
    """The bytes of a real saved ARTM model file."""
    path = tmp_path_factory.mktemp("saved") / "model.attartm"
    fitted[ARTM].save(path)
    return path.read_bytes()


def model_id(cls) -> str:
    return cls.__name__


# --- corpus -------------------------------------------------------------------------


def test_empty_list_of_texts():
    with pytest.raises(ValueError, match=r"no documents"):
        Corpus.from_texts([])


@pytest.mark.parametrize(
    "frame",
    [pl.DataFrame({"text": []}, schema={"text": pl.String}), pl.DataFrame({"text": []})],
    ids=["string", "null-dtype"],
)
def test_empty_polars_frame(frame):
    with pytest.raises(ValueError, match=r"no documents \(0 rows\)"):
        Corpus.from_polars(frame)
    with pytest.raises(ValueError, match=r"no documents"):
        Corpus.from_polars(frame.lazy())


def test_empty_parquet_file(tmp_path):
    path = tmp_path / "empty.parquet"
    pl.DataFrame({"text": []}, schema={"text": pl.String}).write_parquet(path)
    with pytest.raises(ValueError, match=r"no documents"):
        Corpus.from_parquet(path)


@pytest.mark.parametrize(
    "texts",
    [["123 456", "!!! ...", ""], ["the a of and", "is it the", "I am"], ["", "   \n\n "]],
    ids=["no-letters", "all-stopwords", "blank"],
)
def test_only_empty_documents(texts):
    with pytest.raises(ValueError, match=r"no tokens left after tokenization"):
        Corpus.from_texts(texts)


def test_only_unknown_words_with_a_given_vocabulary(corpus):
    with pytest.raises(ValueError, match=r"none of the words .* is in the given vocabulary"):
        Corpus.from_texts(["zebra giraffe", "okapi"], vocabulary=corpus.vocabulary)


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["ok text", 5], r"texts\[1\] is int"),
        (["ok text", None], r"texts\[1\] is NoneType \(use '' for an empty document\)"),
        ([b"bytes text"], r"texts\[0\] is bytes"),
    ],
)
def test_non_string_texts(texts, message):
    with pytest.raises(TypeError, match=message):
        Corpus.from_texts(texts)


def test_a_single_string_instead_of_a_list():
    with pytest.raises(TypeError, match=r"not a single str"):
        Corpus.from_texts("one long text")


def test_non_string_text_column():
    with pytest.raises(TypeError, match=r"has dtype Int64, expected String"):
        Corpus.from_polars(pl.DataFrame({"text": [1, 2]}))


def test_missing_text_column(tmp_path):
    frame = pl.DataFrame({"body": ["football goal"], "doc": ["a"]})
    with pytest.raises(ValueError, match=r"text column 'text' not found.*\['body', 'doc'\]"):
        Corpus.from_polars(frame)
    with pytest.raises(ValueError, match=r"text column 'content' not found"):
        Corpus.from_polars(frame.lazy(), text="content")
    with pytest.raises(ValueError, match=r"id column 'key' not found"):
        Corpus.from_polars(frame, text="body", id="key")
    path = tmp_path / "body.parquet"
    frame.write_parquet(path)
    with pytest.raises(ValueError, match=r"text column 'text' not found"):
        Corpus.from_parquet(path)


def test_missing_parquet_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        Corpus.from_parquet(tmp_path / "absent.parquet")
    with pytest.raises(FileNotFoundError, match=r"no parquet file matches"):
        Corpus.from_parquet(str(tmp_path / "*.parquet"))


# --- Corpus.from_token_ids ----------------------------------------------------------


VOCAB = ["alpha", "beta", "gamma", "delta"]


@pytest.mark.parametrize(
    "tokens", [[0, 1, 4], [0, 1, -1], [0, 1, 2**32]], ids=["W", "negative", "2**32"]
)
def test_from_token_ids_outside_the_vocabulary(tokens):
    with pytest.raises(ValueError, match=r"out of range for a vocabulary of 4 words"):
        Corpus.from_token_ids(np.array(tokens, dtype=np.int64), [0, 3], VOCAB)


@pytest.mark.parametrize(
    ("offsets", "message"),
    [
        ([0, 2, 1, 3], r"non-decreasing: doc_offsets\[1\]=2 > doc_offsets\[2\]=1"),
        ([0, -1, 3], "non-decreasing"),
        ([0, 2], r"must end at len\(tokens\)=3, got doc_offsets\[-1\]=2"),
        ([0, 1, 5], r"must end at len\(tokens\)=3, got doc_offsets\[-1\]=5"),
        ([1, 3], "must start at 0"),
        ([0], "needs D \\+ 1 >= 2 entries"),
    ],
    ids=["decreasing", "negative", "short", "past-the-end", "start", "one-entry"],
)
def test_from_token_ids_bad_offsets(offsets, message):
    with pytest.raises(ValueError, match=message):
        Corpus.from_token_ids(np.array([0, 1, 2]), offsets, VOCAB)


def test_from_token_ids_wrong_types_and_shapes():
    with pytest.raises(TypeError, match=r"tokens must hold integers, got dtype float64"):
        Corpus.from_token_ids(np.array([0.0, 1.0]), [0, 2], VOCAB)
    with pytest.raises(TypeError, match=r"doc_offsets must hold integers"):
        Corpus.from_token_ids(np.array([0, 1]), np.array([0.0, 2.0]), VOCAB)
    with pytest.raises(ValueError, match=r"tokens must be one-dimensional"):
        Corpus.from_token_ids(np.array([[0, 1]]), [0, 2], VOCAB)
    with pytest.raises(ValueError, match=r"got 3 ids for 1 documents"):
        Corpus.from_token_ids(np.array([0, 1]), [0, 2], VOCAB, ids=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"one level per token"):
        Corpus.from_token_ids(np.array([0, 1]), [0, 2], VOCAB, boundaries=[0])


# --- model parameters ---------------------------------------------------------------


@pytest.mark.parametrize("cls", MODELS, ids=model_id)
@pytest.mark.parametrize(
    ("n_topics", "error", "message"),
    [
        (0, ValueError, "n_topics must be at least 1, but is 0"),
        (-1, ValueError, "n_topics must be at least 1, but is -1"),
        (np.int64(0), ValueError, "n_topics must be at least 1"),
        (2.5, TypeError, r"n_topics must be an integer, not float \(2.5\)"),
        (2.0, TypeError, "n_topics must be an integer, not float"),
        ("5", TypeError, "n_topics must be an integer, not str"),
        (True, TypeError, "n_topics must be an integer, not bool"),
        (None, TypeError, "n_topics must be an integer, not NoneType"),
    ],
)
def test_bad_n_topics(cls, corpus, n_topics, error, message):
    # Parameters are stored as given (scikit-learn's convention) and checked at fit.
    model = cls(n_topics)
    assert model.n_topics is n_topics
    with pytest.raises(error, match=message):
        model.fit(corpus, epochs=1)
    with pytest.raises(error, match=message):
        model.fit_online(corpus)


@pytest.mark.parametrize("cls", MODELS, ids=model_id)
@pytest.mark.parametrize(
    ("epochs", "error", "message"),
    [
        (0, ValueError, "epochs must be at least 1, but is 0"),
        (-3, ValueError, "epochs must be at least 1, but is -3"),
        (1.5, TypeError, "epochs must be an integer, not float"),
        ("2", TypeError, "epochs must be an integer, not str"),
        (True, TypeError, "epochs must be an integer, not bool"),
    ],
)
def test_bad_epochs(cls, corpus, epochs, error, message):
    model = cls(2)
    with pytest.raises(error, match=message):
        model.fit(corpus, epochs=epochs)
    with pytest.raises(error, match=message):
        model.fit_online(corpus, epochs=epochs)
    with pytest.raises(NotFittedError):
        model.phi  # noqa: B018 (nothing was trained)


def test_other_bad_model_parameters(corpus):
    with pytest.raises(ValueError, match=r"doc_passes must be at least 1"):
        ARTM(2, doc_passes=0).fit(corpus, epochs=1)
    with pytest.raises(ValueError, match=r"seed must be at least 0"):
        ARTM(2, seed=-1).fit(corpus, epochs=1)
    with pytest.raises(ValueError, match=r"threads must be at least 1"):
        ARTM(2, threads=0).fit(corpus, epochs=1)
    with pytest.raises(TypeError, match=r"threads must be an integer"):
        ThetalessARTM(2, threads=1.0).fit(corpus, epochs=1)


def test_a_bad_parameter_set_on_a_fitted_model_fails_at_its_next_use(fitted, corpus):
    model = copy.deepcopy(fitted[ARTM]).set_params(doc_passes=0)
    with pytest.raises(ValueError, match=r"doc_passes must be at least 1"):
        model.transform(corpus)
    model.set_params(doc_passes=2, n_topics=5)
    with pytest.raises(NotFittedError, match=r"n_topics is 5 but this ARTM was fitted with 2"):
        model.transform(corpus)


def test_fit_needs_a_corpus(fitted):
    with pytest.raises(TypeError, match=r"expected an attartm.Corpus, not list"):
        ARTM(2).fit(["football goal"])
    with pytest.raises(TypeError, match=r"expected an attartm.Corpus, not DataFrame"):
        fitted[ARTM].transform(pl.DataFrame({"text": ["football"]}))


# --- regularizers -------------------------------------------------------------------


@pytest.mark.parametrize("reg", REGULARIZERS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("tau", [float("nan"), float("inf"), -float("inf"), np.float32("nan")])
def test_regularizer_tau_must_be_finite(reg, tau):
    with pytest.raises(ValueError, match=rf"{reg.__name__}.tau must be finite, but is -?(nan|inf)"):
        reg(tau)


@pytest.mark.parametrize("reg", REGULARIZERS, ids=lambda r: r.__name__)
def test_regularizer_tau_must_be_a_number(reg):
    with pytest.raises(TypeError, match=rf"{reg.__name__}.tau must be a number, not str"):
        reg("0.1")
    with pytest.raises(TypeError, match=r"must be a number, not NoneType"):
        reg(None)


@pytest.mark.parametrize("reg", REGULARIZERS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("topic", [2, 5, -1])
def test_regularizer_topics_out_of_range_fail_at_fit(reg, topic, corpus):
    # The number of topics is only known to the model, so the check happens at fit time.
    regularizer = reg(0.1, topics=[0, topic])
    assert regularizer.topics == (0, topic)
    with pytest.raises(ValueError, match=rf"{reg.__name__}: topics must be indices in \[0, 2\)"):
        ARTM(2, regularizers=[regularizer]).fit(corpus, epochs=1)


@pytest.mark.parametrize("reg", [SmoothSparsePhi, DecorrelatorPhi], ids=lambda r: r.__name__)
def test_phi_regularizer_topics_out_of_range_other_models(reg, corpus):
    for cls in (AttentiveARTM, ThetalessARTM):
        with pytest.raises(ValueError, match=r"topics must be indices in \[0, 3\)"):
            cls(3, regularizers=[reg(-0.1, topics=[3])]).fit(corpus, epochs=1)


@pytest.mark.parametrize("topic", [1.5, True])
def test_regularizer_topics_must_be_integers(topic):
    with pytest.raises((TypeError, ValueError), match=r"topics"):
        SmoothSparsePhi(0.1, topics=[0, topic])


def test_smooth_sparse_phi_weights(corpus):
    with pytest.raises(ValueError, match=r"weights must be a 1-D array of finite numbers"):
        SmoothSparsePhi(0.1, weights=[1.0, float("nan")])
    with pytest.raises(ValueError, match=r"weights must be a 1-D array of finite numbers"):
        SmoothSparsePhi(0.1, weights=[[1.0, 2.0]])
    n_words = len(corpus.vocabulary)
    with pytest.raises(
        ValueError, match=rf"weights has 2 values, but the vocabulary has {n_words}"
    ):
        ARTM(2, regularizers=[SmoothSparsePhi(0.1, weights=[1.0, 2.0])]).fit(corpus, epochs=1)


def test_regularizers_must_be_regularizers(corpus):
    with pytest.raises(TypeError, match=r"must be attartm regularizers .* not float"):
        ARTM(2, regularizers=[0.1]).fit(corpus, epochs=1)
    # A single regularizer is accepted as well as a sequence.
    model = ARTM(2, regularizers=SmoothSparsePhi(0.1), epochs=1).fit(corpus)
    assert model.regularizers == SmoothSparsePhi(0.1)
    assert model._regularizers == (SmoothSparsePhi(0.1),)


def test_a_failed_fit_leaves_the_model_unfitted(corpus):
    model = ARTM(2, regularizers=[SmoothSparsePhi(0.1, topics=[5])])
    with pytest.raises(ValueError, match=r"topics must be indices"):
        model.fit(corpus, epochs=1)
    with pytest.raises(NotFittedError):
        model.transform(corpus)


# --- fitted state -------------------------------------------------------------------


@pytest.mark.parametrize("cls", MODELS, ids=model_id)
def test_use_before_fit(cls, corpus, tmp_path):
    model = cls(2)
    calls = {
        "transform": lambda: model.transform(corpus),
        "score": lambda: model.score(corpus),
        "perplexity": lambda: model.perplexity(corpus),
        "topics": lambda: model.topics(),
        "save": lambda: model.save(tmp_path / "m.attartm"),
        "phi": lambda: model.phi,
        "n_wt": lambda: model.n_wt,
        "vocabulary": lambda: model.vocabulary,
    }
    if cls is AttentiveARTM:
        calls["transform_tokens"] = lambda: model.transform_tokens(corpus)
        calls["segments"] = lambda: model.segments(corpus)
    for name, call in calls.items():
        with pytest.raises(NotFittedError, match=rf"this {cls.__name__} is not fitted yet") as info:
            call()
        assert isinstance(info.value, ValueError), name
    assert not (tmp_path / "m.attartm").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cls", MODELS, ids=model_id)
def test_corpus_with_another_vocabulary(cls, fitted):
    model = fitted[cls]
    other = Corpus.from_texts(["the cat and the dog", "a mouse"])
    for call in (model.transform, model.score, model.perplexity):
        with pytest.raises(ValueError, match=r"different vocabulary than the model's"):
            call(other)
    # The fix the message proposes works.
    same = Corpus.from_texts(["football goal cat"], vocabulary=model.vocabulary)
    assert same.dropped == 1
    assert model.transform(same).shape == (1, 3)


def test_transform_unknown_method(fitted, corpus):
    with pytest.raises(ValueError, match='method must be "model" or "linear"'):
        fitted[ARTM].transform(corpus, method="fast")


def test_topics_bad_k(fitted):
    with pytest.raises(ValueError, match=r"k must be at least 1"):
        fitted[ARTM].topics(0)


# --- model files --------------------------------------------------------------------


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no model file at .*absent.attartm"):
        attartm.load(tmp_path / "absent.attartm")
    with pytest.raises(FileNotFoundError, match=r"no model file at"):
        attartm.load(tmp_path)  # a folder


def test_load_random_bytes(tmp_path):
    path = tmp_path / "random.attartm"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(ValueError, match=r"random.attartm is not a readable attartm model file"):
        attartm.load(path)


def test_load_empty_file(tmp_path):
    path = tmp_path / "empty.attartm"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"not a readable attartm model file"):
        attartm.load(path)


@pytest.mark.parametrize("fraction", [0.5, 0.1, 0.9, 0.999])
def test_load_truncated_file(tmp_path, saved, fraction):
    path = tmp_path / "cut.attartm"
    path.write_bytes(saved[: int(len(saved) * fraction)])
    with pytest.raises(
        ValueError, match=r"not a readable attartm model file \(corrupt or truncated"
    ):
        attartm.load(path)


def rewrite(saved: bytes, path: Path, **members: bytes | None) -> None:
    """Copies the saved model to ``path``, replacing (or, with None, dropping) members."""
    with zipfile.ZipFile(io.BytesIO(saved)) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            if name not in members:
                dst.writestr(name, src.read(name))
        for name, data in members.items():
            if data is not None:
                dst.writestr(name, data)


def header_of(saved: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(saved)) as z:
        return json.loads(z.read("model.json"))


def test_load_a_zip_that_is_not_a_model(tmp_path, saved):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hello")
    with pytest.raises(ValueError, match=r"not a readable attartm model file: hello.txt: is not"):
        attartm.load(path)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("model.json", json.dumps({"format": "attartm-model"}))
    with pytest.raises(ValueError, match=r"not a readable attartm model file: phi.npy: is missing"):
        attartm.load(path)
    rewrite(saved, path, **{"model.json": json.dumps({"format": "something-else"}).encode()})
    with pytest.raises(ValueError, match=r"other.zip is not an attartm model file: model.json"):
        attartm.load(path)
    rewrite(saved, path, **{"model.json": b"{not json"})
    with pytest.raises(ValueError, match=r"not a readable attartm model file: model.json: is not"):
        attartm.load(path)


def test_load_newer_format_version(tmp_path, saved):
    header = header_of(saved)
    assert header["format_version"] == 1
    header["format_version"] = 2
    path = tmp_path / "newer.attartm"
    rewrite(saved, path, **{"model.json": json.dumps(header).encode()})
    with pytest.raises(ValueError, match=r"format version 2, newer than this attartm reads"):
        attartm.load(path)


def test_load_inconsistent_or_incomplete_files(tmp_path, saved):
    path = tmp_path / "bad.attartm"
    header = header_of(saved)
    header["class"] = "LDA"
    rewrite(saved, path, **{"model.json": json.dumps(header).encode()})
    with pytest.raises(ValueError, match=r"unknown model class 'LDA'"):
        attartm.load(path)

    buf = io.BytesIO()
    np.save(buf, np.ones((3, 3), dtype=np.float32))
    rewrite(saved, path, **{"phi.npy": buf.getvalue()})
    with pytest.raises(
        ValueError, match=r"n_wt.npy: has shape \(17, 2\), but phi.npy has shape \(3, 3\)"
    ):
        attartm.load(path)

    rewrite(saved, path, **{"n_wt.npy": None})
    with pytest.raises(ValueError, match=r"not a readable attartm model file"):
        attartm.load(path)

    buf = io.BytesIO()
    np.save(buf, np.array([{"pickled": True}], dtype=object), allow_pickle=True)
    rewrite(saved, path, **{"phi.npy": buf.getvalue()})
    with pytest.raises(ValueError, match=r"not a readable attartm model file"):
        attartm.load(path)


def corrupt_member(saved: bytes, name: str) -> bytes:
    """Overwrites bytes in the middle of a member's compressed data."""
    with zipfile.ZipFile(io.BytesIO(saved)) as z:
        info = z.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(saved)
    data[start + 2 : start + 10] = b"\xff" * 8
    return bytes(data)


def test_load_file_with_corrupt_array_data(tmp_path, saved):
    path = tmp_path / "corrupt.attartm"
    path.write_bytes(corrupt_member(saved, "phi.npy"))
    with pytest.raises(ValueError, match=r"Bad CRC-32 for file 'phi.npy'"):
        attartm.load(path)


@pytest.mark.parametrize("kind", ["deflate", "method"])
def test_load_file_with_corrupt_zip_internals(tmp_path, saved, kind):
    path = tmp_path / "corrupt.attartm"
    if kind == "deflate":
        data = corrupt_member(saved, "model.json")
    else:  # compression method 99 in the central directory entry of model.json
        data = bytearray(saved)
        central = data.index(b"PK\x01\x02")
        data[central + 10 : central + 12] = (99).to_bytes(2, "little")
        data = bytes(data)
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"not a readable attartm model file"):
        attartm.load(path)


def test_save_into_a_missing_folder(tmp_path, fitted):
    target = tmp_path / "no" / "such" / "folder" / "model.attartm"
    with pytest.raises(FileNotFoundError, match=r"the folder .*folder does not exist"):
        fitted[ARTM].save(target)
    assert not (tmp_path / "no").exists()


# --- fit_online ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", MODELS, ids=model_id)
def test_fit_online_bad_arguments(cls, corpus):
    model = cls(2)
    with pytest.raises(ValueError, match=r"batch_size must be at least 1, but is 0"):
        model.fit_online(corpus, batch_size=0)
    with pytest.raises(TypeError, match=r"batch_size must be an integer"):
        model.fit_online(corpus, batch_size=2.5)
    with pytest.raises(ValueError, match=r"update_every must be at least 1"):
        model.fit_online(corpus, update_every=0)
    with pytest.raises(ValueError, match=r"give both decay_weight and apply_weight, or neither"):
        model.fit_online(corpus, decay_weight=0.5)
    with pytest.raises(ValueError, match=r"give both decay_weight and apply_weight, or neither"):
        model.fit_online(corpus, apply_weight=0.5)
    with pytest.raises(ValueError, match=r"decay_weight must be finite"):
        model.fit_online(corpus, decay_weight=float("nan"), apply_weight=0.5)
    with pytest.raises(ValueError, match=r"tau0 must be greater than -1"):
        model.fit_online(corpus, tau0=-2.0)
    with pytest.raises(ValueError, match=r"kappa must be finite"):
        model.fit_online(corpus, kappa=float("inf"))


@pytest.mark.parametrize("batches", [[], (), iter([])], ids=["list", "tuple", "iterator"])
def test_fit_online_empty_iterable(batches):
    with pytest.raises(ValueError, match=r"fit_online got no batches"):
        ARTM(2).fit_online(batches)


def test_fit_online_batches_must_be_corpora():
    with pytest.raises(TypeError, match=r"expected an attartm.Corpus, not str"):
        ARTM(2).fit_online(["football goal"])


def test_fit_online_bad_batches(corpus):
    batches = list(corpus.batches(3))
    with pytest.raises(ValueError, match=r"epochs > 1 needs a Corpus or a re-iterable"):
        ARTM(2).fit_online(iter(batches), epochs=2)
    other = Corpus.from_texts(["cat dog mouse", "dog bird"])
    with pytest.raises(ValueError, match=r"different vocabulary"):
        ARTM(2).fit_online([batches[0], other])


# --- AttentiveARTM ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"beta": -0.1}, ValueError, r"beta must lie in \[0, 1\], but is -0.1"),
        ({"beta": 1.5}, ValueError, r"beta must lie in \[0, 1\], but is 1.5"),
        ({"beta": float("nan")}, ValueError, "beta must be finite"),
        ({"window": 0}, ValueError, "window must be at least 1 token, but is 0"),
        ({"window": -3}, ValueError, "window must be at least 1 token"),
        ({"window": 0.5}, ValueError, "window must be at least 1 token"),
        ({"window": float("inf")}, ValueError, "window must be finite"),
        ({"window_backward": 0}, ValueError, "window_backward must be at least 1 token"),
        ({"gamma": 0.0}, ValueError, r"gamma must lie in \(0, 1\]"),
        ({"gamma": 1.5}, ValueError, r"gamma must lie in \(0, 1\]"),
        ({"gamma_backward": -0.1}, ValueError, r"gamma_backward must lie in \(0, 1\]"),
        ({"passes": 0}, ValueError, "passes must be at least 1, but is 0"),
        ({"passes": 1.5}, TypeError, "passes must be an integer"),
        ({"window": 5, "gamma": 0.2}, ValueError, "give either window or gamma, not both"),
        (
            {"window_backward": 5, "gamma_backward": 0.2},
            ValueError,
            "give either window_backward or gamma_backward, not both",
        ),
        ({"boundaries": {"chapter": 1.0}}, ValueError, "unknown boundary level 'chapter'"),
        ({"boundaries": {"sentence": 2.0}}, ValueError, r"boundaries\['sentence'\] must lie in"),
        ({"boundaries": {"paragraph": float("nan")}}, ValueError, "must be finite"),
        ({"filter": "softmax"}, ValueError, 'filter must be "p/n_t" or "phi"'),
    ],
)
def test_attentive_bad_parameters(corpus, kwargs, error, message):
    with pytest.raises(error, match=message):
        AttentiveARTM(2, **kwargs).fit(corpus, epochs=1)


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ("too-high", r"token_weight values must lie in \[0, 1\]"),
        ("negative", r"token_weight values must lie in \[0, 1\]"),
        ({"football": 1.5}, r"token_weight values must lie in \[0, 1\]"),
        ({"football": -0.5}, r"token_weight values must lie in \[0, 1\]"),
        ({"football": float("nan")}, r"token_weight values must lie in \[0, 1\]"),
        ([0.5, 0.5, 0.5], r"token_weight must have shape \(W,\), but has shape \(3,\)"),
        ("nan", "token_weight contains NaN or infinite values"),
    ],
)
def test_attentive_bad_token_weight(corpus, weight, message):
    # token_weight is checked against the vocabulary, i.e. when the model is fitted.
    n_words = len(corpus.vocabulary)
    weight = (
        {
            "too-high": np.full(n_words, 2.0),
            "negative": np.full(n_words, -1.0),
            "nan": np.full(n_words, np.nan),
        }.get(weight, weight)
        if isinstance(weight, str)
        else weight
    )
    model = AttentiveARTM(2, token_weight=weight)
    with pytest.raises(ValueError, match=message.replace("W", str(n_words))):
        model.fit(corpus, epochs=1)


def test_attentive_good_token_weight_is_accepted(corpus):
    model = AttentiveARTM(2, token_weight={"football": 0.0, "unknown-word": 0.5})
    assert model.fit(corpus, epochs=1).phi.shape == (len(corpus.vocabulary), 2)


def test_attentive_token_outputs_bad_arguments(fitted, corpus):
    model = fitted[AttentiveARTM]
    with pytest.raises(ValueError, match=r"top must be at least 1"):
        model.transform_tokens(corpus, top=0)
    with pytest.raises(ValueError, match=r"min_length must be at least 1"):
        model.segments(corpus, min_length=0)
    with pytest.raises(ValueError, match=r"document must be in \[0, 9\)"):
        model.segment_topic(corpus, 9, 0, 0)
    with pytest.raises(ValueError, match=r"need 0 <= start <= end"):
        model.segment_topic(corpus, 0, 2, 1)


# --- ThetalessARTM ------------------------------------------------------------------


def test_thetaless_unknown_variant(corpus):
    with pytest.raises(
        ValueError, match=r"variant must be one of \('full', 'naive'\), not 'fancy'"
    ):
        ThetalessARTM(2, variant="fancy").fit(corpus, epochs=1)


def test_thetaless_refuses_theta_regularizers(corpus):
    with pytest.raises(ValueError, match=r"no Θ: Θ regularizers cannot be used"):
        ThetalessARTM(2, regularizers=[SmoothSparsePhi(0.1), SmoothSparseTheta(-0.1)]).fit(corpus)
    model = ThetalessARTM(2, regularizers=[SmoothSparsePhi(0.1)]).fit(corpus, epochs=1)
    assert len(model.regularizers) == 1


# --- kernels ------------------------------------------------------------------------

W, T = 6, 3
TOKENS = np.array([0, 1, 2, 3, 4, 5, 0, 1], dtype=np.uint32)
OFFSETS = np.array([0, 3, 8], dtype=np.int64)


def good_phi() -> np.ndarray:
    phi = np.random.default_rng(0).random((W, T)).astype(np.float32)
    return phi / phi.sum(axis=0)


def run_kernel(name, tokens=TOKENS, offsets=OFFSETS, phi=None, **kwargs):
    phi = good_phi() if phi is None else phi
    t = phi.shape[1] if np.ndim(phi) == 2 else 1
    n = len(tokens) if np.ndim(tokens) else 0
    n_t = kwargs.pop("n_t", np.ones(t, dtype=np.float32))
    if name == "artm_estep":
        return kernels.artm_estep(tokens, offsets, phi, doc_passes=2, **kwargs)
    if name == "attentive_estep":
        gamma = np.full(max(n, 0), 0.2, dtype=np.float32)
        options = {"gamma_forward": gamma, "gamma_backward": gamma, "beta": 0.5, "passes": 1}
        options.update(kwargs)
        return kernels.attentive_estep(tokens, offsets, phi, n_t, exclude_self=True, **options)
    if name == "thetaless_estep":
        return kernels.thetaless_estep(tokens, offsets, phi, n_t, **kwargs)
    if name == "linear_theta":
        return kernels.linear_theta(tokens, offsets, phi, n_t, **kwargs)
    raise AssertionError(name)


KERNELS = ["artm_estep", "attentive_estep", "thetaless_estep", "linear_theta"]


@pytest.mark.parametrize("name", KERNELS)
def test_kernels_accept_good_input(name):
    # The control for every error test below: the same arrays, unharmed, work.
    out = run_kernel(name)
    first = out[0] if isinstance(out, tuple) else out
    assert np.isfinite(first).all()
    assert first.shape in {(2, T), (8, T), (W, T)}


@pytest.mark.parametrize("name", KERNELS)
@pytest.mark.parametrize("bad", [W, W + 100, 2**32 - 1])
def test_kernels_token_ids_outside_the_vocabulary(name, bad):
    tokens = TOKENS.copy()
    tokens[7] = bad
    with pytest.raises(
        ValueError, match=rf"token id {bad} at position 7 is outside the vocabulary"
    ):
        run_kernel(name, tokens=tokens)


@pytest.mark.parametrize("name", KERNELS)
def test_kernels_negative_token_ids(name):
    with pytest.raises(ValueError, match=r"tokens must hold ids in \[0, 2\*\*32\)"):
        run_kernel(name, tokens=np.array([0, 1, 2, 3, 4, 5, 0, -1]))


@pytest.mark.parametrize("name", [*KERNELS, "bag_of_words"])
@pytest.mark.parametrize(
    ("offsets", "message"),
    [
        ([0, 5, 3, 8], r"non-decreasing, but offset 2 \(3\) is below offset 1 \(5\)"),
        ([0, -3, 8], "must be non-decreasing"),
        ([0, 3, 7], r"must end at the number of tokens \(8\), but ends at 7"),
        ([0, 3, 9], r"must end at the number of tokens \(8\), but ends at 9"),
        ([0, 3, 2**40], "must end at the number of tokens"),
        ([1, 3, 8], "must start at 0, but starts at 1"),
        ([-2, 3, 8], "must start at 0"),
        (np.zeros(0, dtype=np.int64), "it is empty"),
    ],
    ids=["decreasing", "negative", "short", "past-end", "huge", "start", "neg-start", "empty"],
)
def test_kernels_bad_offsets(name, offsets, message):
    offsets = np.asarray(offsets, dtype=np.int64)
    with pytest.raises(ValueError, match=message):
        if name == "bag_of_words":
            kernels.bag_of_words(TOKENS, offsets)
        else:
            run_kernel(name, offsets=offsets)


@pytest.mark.parametrize("name", KERNELS)
def test_kernels_offsets_of_the_wrong_type(name):
    with pytest.raises(TypeError, match=r"doc_offsets must hold integers, not float64"):
        run_kernel(name, offsets=np.array([0.0, 3.0, 8.0]))
    with pytest.raises(ValueError, match=r"doc_offsets must be 1-D \(D\+1 offsets\)"):
        run_kernel(name, offsets=OFFSETS.reshape(1, 3))


@pytest.mark.parametrize("name", KERNELS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_kernels_phi_with_nan_or_inf(name, value):
    phi = good_phi()
    phi[2, 1] = value
    with pytest.raises(ValueError, match=r"phi contains NaN or infinite values"):
        run_kernel(name, phi=phi)


@pytest.mark.parametrize("name", KERNELS)
def test_kernels_bad_phi_shapes(name):
    with pytest.raises(ValueError, match=r"phi must be non-negative"):
        run_kernel(name, phi=-good_phi())
    with pytest.raises(ValueError, match=r"phi must be 2-D, but has shape \(6,\)"):
        run_kernel(name, phi=good_phi()[:, 0])
    with pytest.raises(ValueError, match=r"the number of topics must be at least 1"):
        run_kernel(name, phi=np.zeros((W, 0), dtype=np.float32))
    with pytest.raises(TypeError, match=r"phi must hold numbers"):
        run_kernel(name, phi=np.full((W, T), "x"))


@pytest.mark.parametrize("name", [*KERNELS, "bag_of_words"])
def test_kernels_wrong_token_dtypes_and_shapes(name):
    call = (
        (lambda tokens: kernels.bag_of_words(tokens, OFFSETS))
        if name == "bag_of_words"
        else (lambda tokens: run_kernel(name, tokens=tokens))
    )
    with pytest.raises(TypeError, match=r"tokens must hold integer token ids, not float64"):
        call(TOKENS.astype(np.float64))
    with pytest.raises(TypeError, match=r"tokens must hold integer token ids, not float64"):
        call(pl.Series(TOKENS.astype(np.float64)))
    with pytest.raises(TypeError, match=r"tokens must hold integer token ids"):
        call(np.array(["a"] * 8))
    for tokens in (TOKENS.reshape(2, 4), TOKENS.astype(np.int64).reshape(2, 4)):
        with pytest.raises(ValueError, match=r"tokens must be 1-D, but has shape \(2, 4\)"):
            call(tokens)


@pytest.mark.parametrize("side", ["gamma_forward", "gamma_backward"])
def test_attentive_kernel_bad_gamma(side):
    with pytest.raises(ValueError, match=rf"{side} must have shape \(8,\), but has shape \(7,\)"):
        run_kernel("attentive_estep", **{side: np.full(7, 0.1, dtype=np.float32)})
    with pytest.raises(ValueError, match=rf"{side} must have shape \(8,\)"):
        run_kernel("attentive_estep", **{side: np.full((2, 4), 0.1, dtype=np.float32)})
    values = np.full(8, 0.1, dtype=np.float32)
    values[3] = np.nan
    with pytest.raises(ValueError, match=rf"{side} contains NaN or infinite values"):
        run_kernel("attentive_estep", **{side: values})
    values[3] = 1.5
    with pytest.raises(ValueError, match=rf"{side} must lie in \[0, 1\]"):
        run_kernel("attentive_estep", **{side: values})
    values[3] = -0.5
    with pytest.raises(ValueError, match=rf"{side} must lie in \[0, 1\]"):
        run_kernel("attentive_estep", **{side: values})


def test_attentive_kernel_bad_scalars():
    with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\], but is 2$"):
        run_kernel("attentive_estep", beta=2.0)
    with pytest.raises(ValueError, match=r"beta must be finite"):
        run_kernel("attentive_estep", beta=float("nan"))
    with pytest.raises(ValueError, match=r"passes must be at least 1"):
        run_kernel("attentive_estep", passes=0)
    with pytest.raises(ValueError, match='filter must be "p/n_t" or "phi"'):
        run_kernel("attentive_estep", filter="none")
    with pytest.raises(ValueError, match=r"n_t must be non-negative"):
        run_kernel("attentive_estep", n_t=-np.ones(T, dtype=np.float32))
    gamma = np.full(8, 0.2, dtype=np.float32)
    with pytest.raises(ValueError, match='unknown output "everything"'):
        kernels.attentive_run(
            TOKENS, OFFSETS, good_phi(), np.ones(T), gamma_forward=gamma,
            gamma_backward=gamma, beta=0.5, passes=1, exclude_self=True, output="everything",
        )  # fmt: skip


@pytest.mark.parametrize("name", ["attentive_estep", "thetaless_estep", "linear_theta"])
def test_kernels_bad_topic_masses(name):
    with pytest.raises(ValueError, match=r"n_t must have shape \(3,\), but has shape \(2,\)"):
        run_kernel(name, n_t=np.ones(2, dtype=np.float32))
    with pytest.raises(ValueError, match=r"n_t contains NaN or infinite values"):
        run_kernel(name, n_t=np.array([1.0, np.nan, 1.0]))


@pytest.mark.parametrize("name", ["artm_estep", "thetaless_estep", "linear_theta"])
def test_kernels_bad_counts(name):
    with pytest.raises(ValueError, match=r"counts"):
        run_kernel(name, counts=np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"counts contains NaN or infinite values"):
        run_kernel(name, counts=np.array([1.0] * 7 + [np.nan]))
    with pytest.raises(ValueError, match=r"counts must be finite and non-negative.*counts\[7\]"):
        run_kernel(name, counts=np.array([1.0] * 7 + [-1.0]))


def test_other_kernel_arguments():
    with pytest.raises(ValueError, match=r"doc_passes must be at least 1"):
        kernels.artm_estep(TOKENS, OFFSETS, good_phi(), doc_passes=0)
    with pytest.raises(ValueError, match=r"theta_term must have shape \(3,\)"):
        kernels.artm_estep(TOKENS, OFFSETS, good_phi(), theta_term=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"theta_term contains NaN"):
        kernels.artm_estep(TOKENS, OFFSETS, good_phi(), theta_term=[0.1, np.nan, 0.2])
    with pytest.raises(ValueError, match='variant must be "full" or "naive", not "exact"'):
        run_kernel("thetaless_estep", variant="exact")
    for name in KERNELS:
        with pytest.raises(ValueError, match=r"threads must be at least 1"):
            run_kernel(name, threads=0)


# --- the compiled core never panics or aborts ----------------------------------------

HOSTILE = r"""
import json, sys
import numpy as np
from attartm import _core

phi = np.full((4, 3), 0.25, np.float32)
tok = np.array([0, 1, 2, 3, 0], np.uint32)
off = np.array([0, 2, 5], np.int64)
n_t = np.ones(3, np.float32)
g = np.full(5, 0.2, np.float32)

def artm(tokens=tok, offsets=off, p=phi, **kw):
    return _core.artm_estep(tokens, offsets, p, **kw)
def bow(tokens=tok, offsets=off, p=phi, **kw):
    return _core.bag_of_words(tokens, offsets, **kw)
def attentive(tokens=tok, offsets=off, p=phi, nt=n_t, gf=g, gb=g, **kw):
    options = dict(beta=0.5, passes=1, exclude_self=True)
    options.update(kw)
    return _core.attentive_estep(tokens, offsets, p, nt, gamma_forward=gf, gamma_backward=gb,
                                 **options)
def thetaless(tokens=tok, offsets=off, p=phi, nt=n_t, **kw):
    return _core.thetaless_estep(tokens, offsets, p, nt, **kw)
def linear(tokens=tok, offsets=off, p=phi, nt=n_t, **kw):
    return _core.linear_theta(tokens, offsets, p, nt, **kw)

ALL = {"artm": artm, "bow": bow, "attentive": attentive, "thetaless": thetaless,
       "linear": linear}
WITH_PHI = ["artm", "attentive", "thetaless", "linear"]
cases = []
def case(label, names, **kw):
    for name in names:
        cases.append((f"{name}:{label}", ALL[name], kw))

case("huge-token", WITH_PHI, tokens=np.array([0, 1, 2, 3, 2**32 - 1], np.uint32))
case("offsets-past-end", ALL, offsets=np.array([0, 2, 50], np.int64))
case("offsets-past-end-mid", ALL, offsets=np.array([0, 2**62, 5], np.int64))
case("negative-offsets", ALL, offsets=np.array([0, -2, 5], np.int64))
case("negative-start", ALL, offsets=np.array([-5, 0, 5], np.int64))
case("empty-offsets", ALL, offsets=np.zeros(0, np.int64))
case("offsets-int32", ALL, offsets=np.array([0, 2, 5], np.int32))
case("offsets-2d", ALL, offsets=np.array([[0, 2, 5]], np.int64))
case("offsets-strided", ALL, offsets=np.array([0, 9, 2, 9, 5, 9], np.int64)[::2])
case("tokens-strided", ALL, tokens=np.zeros(10, np.uint32)[::2])
case("tokens-int64", ALL, tokens=tok.astype(np.int64))
case("tokens-2d", ALL, tokens=tok.reshape(5, 1))
case("tokens-list", ALL, tokens=[0, 1, 2, 3, 0])
case("tokens-none", ALL, tokens=None)
case("zero-column-phi", ["artm"], p=np.zeros((4, 0), np.float32))
case("zero-column-phi", ["attentive", "thetaless", "linear"],
     p=np.zeros((4, 0), np.float32), nt=np.zeros(0, np.float32))
case("zero-row-phi", WITH_PHI, p=np.zeros((0, 3), np.float32))
case("phi-float64", WITH_PHI, p=phi.astype(np.float64))
case("phi-1d", WITH_PHI, p=np.full(12, 0.25, np.float32))
case("phi-nan", WITH_PHI, p=np.full((4, 3), np.nan, np.float32))
case("phi-negative", WITH_PHI, p=-phi)
case("threads-0", ALL, threads=0)
case("threads-negative", ALL, threads=-1)
case("counts-short", ["artm", "thetaless", "linear"], counts=np.ones(2, np.float32))
case("counts-long", ["artm", "thetaless", "linear"], counts=np.ones(50, np.float32))
case("counts-nan", ["artm", "thetaless", "linear"],
     counts=np.array([1, 1, np.nan, 1, 1], np.float32))
case("counts-float64", ["artm", "thetaless", "linear"], counts=np.ones(5))
case("n_t-nan", ["attentive", "thetaless", "linear"], nt=np.full(3, np.nan, np.float32))
case("n_t-negative", ["attentive"], nt=-n_t)
case("gamma-short", ["attentive"], gf=np.ones(2, np.float32))
case("gamma-long", ["attentive"], gb=np.ones(50, np.float32))
case("gamma-nan", ["attentive"], gb=np.full(5, np.nan, np.float32))
case("gamma-big", ["attentive"], gf=np.full(5, 7.0, np.float32))
case("gamma-float64", ["attentive"], gf=np.full(5, 0.2))
case("beta-nan", ["attentive"], beta=float("nan"))
case("beta-big", ["attentive"], beta=5.0)
case("passes-0", ["attentive"], passes=0)
case("passes-negative", ["attentive"], passes=-1)
case("top-0", ["attentive"], output="top", top=0)
case("output-unknown", ["attentive"], output="everything")
case("filter-unknown", ["attentive"], filter="softmax")
case("doc-passes-0", ["artm"], doc_passes=0)
case("doc-passes-negative", ["artm"], doc_passes=-1)
case("theta-term-short", ["artm"], theta_term=[0.1])
case("theta-term-nan", ["artm"], theta_term=[float("nan")] * 3)
case("variant-unknown", ["thetaless"], variant="exact")

results = {}
for label, fn, kw in cases:
    try:
        fn(**kw)
        results[label] = "no error"
    except Exception as e:
        results[label] = type(e).__name__
results["control"] = [type(fn()).__name__ for fn in ALL.values()]
print(json.dumps(results))
"""


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_hostile_input_to_the_core_never_aborts_the_process():
    proc = run_python(HOSTILE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "panicked" not in proc.stderr, proc.stderr[-3000:]
    results = json.loads(proc.stdout)
    assert results.pop("control") == ["tuple", "tuple", "tuple", "ndarray", "ndarray"]
    assert len(results) > 100
    # bag_of_words has no vocabulary, so a huge id is fine there; every other case must
    # fail with a plain argument error (a panic would surface as RuntimeError).
    allowed = {"ValueError", "TypeError", "OverflowError"}
    bad = {label: kind for label, kind in results.items() if kind not in allowed}
    assert bad == {}
    # OverflowError only where a negative number meets an unsigned argument (pyo3's own
    # conversion refuses it); everything else is a ValueError or a TypeError.
    overflow = {label for label, kind in results.items() if kind == "OverflowError"}
    assert all(label.endswith("-negative") for label in overflow), overflow
    assert results["attentive:top-0"] == "ValueError"
    assert results["artm:tokens-2d"] == "ValueError"
    assert results["linear:offsets-past-end"] == "ValueError"


@pytest.mark.parametrize("top", [4, 2**40])
def test_core_attentive_top_larger_than_the_topics(top):
    proc = run_python(
        f"""
        import numpy as np
        from attartm import _core
        g = np.full(5, 0.2, np.float32)
        try:
            _core.attentive_estep(
                np.array([0, 1, 2, 3, 0], np.uint32), np.array([0, 2, 5]),
                np.full((4, 3), 0.25, np.float32), np.ones(3, np.float32), gamma_forward=g,
                gamma_backward=g, beta=0.5, passes=1, exclude_self=True, output="top",
                top={top})
        except ValueError as e:
            print("ValueError", e)
        """
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ValueError")


@pytest.mark.parametrize("name", ["thetaless_estep", "linear_theta", "attentive_estep"])
@pytest.mark.parametrize("length", [1, 10])
def test_core_topic_masses_of_the_wrong_length(name, length):
    phi = np.full((4, 3), 0.25, np.float32)
    tokens, offsets = np.array([0, 1, 2, 3, 0], np.uint32), np.array([0, 2, 5])
    n_t = np.ones(length, np.float32)
    extra = {}
    if name == "attentive_estep":
        g = np.full(5, 0.2, np.float32)
        extra = {"gamma_forward": g, "gamma_backward": g, "beta": 0.5, "passes": 1,
                 "exclude_self": True}  # fmt: skip
    with pytest.raises(ValueError, match=r"n_t"):
        getattr(_core, name)(tokens, offsets, phi, n_t, **extra)


def test_core_fortran_ordered_phi_is_refused_or_read_correctly():
    phi = np.random.default_rng(0).random((4, 3)).astype(np.float32)
    phi /= phi.sum(axis=0)
    tokens, offsets = np.array([0, 1, 2, 3, 0], np.uint32), np.array([0, 2, 5])
    n_t = np.ones(3, np.float32)
    expected = _core.linear_theta(tokens, offsets, phi, n_t)
    try:
        got = _core.linear_theta(tokens, offsets, np.asfortranarray(phi), n_t)
    except ValueError as e:
        assert "contiguous" in str(e)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_core_two_dimensional_tokens_message():
    with pytest.raises(ValueError, match=r"1-D"):
        _core.linear_theta(
            np.zeros((5, 1), np.uint32), np.array([0, 5]), np.ones((1, 1), np.float32),
            np.ones(1, np.float32),
        )  # fmt: skip


def test_kernels_wrapper_reads_fortran_ordered_phi_correctly():
    # attartm.kernels copies phi to C order, so the wrappers are not affected by the bug
    # above: a Fortran-ordered phi gives exactly the results of the C-ordered one.
    phi = good_phi()
    fortran = np.asfortranarray(phi)
    for name in KERNELS:
        expected, got = run_kernel(name, phi=phi), run_kernel(name, phi=fortran)
        if not isinstance(expected, tuple):
            expected, got = (expected,), (got,)
        for x, y in zip(expected, got, strict=True):
            np.testing.assert_array_equal(x, y)


def test_core_stubs_match_the_compiled_module():
    stub = Path(attartm.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text(encoding="utf-8"))
    functions = {}
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            functions.setdefault(node.name, []).append(node)
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            classes[node.name] = node
    public = {n for n in dir(_core) if not n.startswith("_")}
    assert set(functions) | set(classes) == public
    for name, node in classes.items():  # public methods: the same names, then signatures
        cls = getattr(_core, name)
        methods = [m for m in node.body if isinstance(m, ast.FunctionDef)]
        public_methods = {m.name for m in methods if not m.name.startswith("_")}
        assert public_methods == {m for m in dir(cls) if not m.startswith("_")}, name
        for m in methods:
            if m.name in public_methods and not m.decorator_list:
                functions[f"{name}.{m.name}"] = [m]
    assert any(
        isinstance(n, ast.AnnAssign) and getattr(n.target, "id", None) == "__version__"
        for n in tree.body
    )
    assert _core.__version__ == importlib.metadata.version("attartm")
    for name, defs in functions.items():
        owner, _, attr = name.rpartition(".")
        runtime = inspect.signature(getattr(getattr(_core, owner) if owner else _core, attr))
        for node in defs:  # every overload has the runtime's parameters and defaults
            args = node.args
            names = [a.arg for a in args.args] + [a.arg for a in args.kwonlyargs]
            assert names == list(runtime.parameters), name
            assert [a.arg for a in args.kwonlyargs] == [
                p.name for p in runtime.parameters.values() if p.kind is p.KEYWORD_ONLY
            ], name
            for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                expected = runtime.parameters[arg.arg].default
                if default is not None:
                    assert ast.literal_eval(default) == expected, (name, arg.arg)
                elif expected is not inspect.Parameter.empty:
                    # Only an overload that narrows a Literal may drop the default.
                    assert arg.arg == "output", (name, arg.arg)
