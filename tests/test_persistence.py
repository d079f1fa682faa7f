"""Saving and loading models: an exact round trip, a portable zip without pickle, and
atomic writes (issue 2: "one portable file, no pickle, with a format version and the
vocabulary; writing is atomic")."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

import attartm
from attartm import (
    ARTM,
    AttentiveARTM,
    Corpus,
    DecorrelatorPhi,
    SmoothSparsePhi,
    SmoothSparseTheta,
    ThetalessARTM,
    persistence,
)

TEXTS = [
    "Football goal team match. The striker scored a late goal!\n\nThe coach was happy.",
    "Pasta sauce garlic oven. Bake the bread.\n\nAdd salt, pepper and butter to the sauce.",
    "Compiler kernel memory code. Debug the kernel!\n\nThe server runs the compiler.",
    "The team won the match. Garlic bread after the game? The coach cooked pasta.",
] * 4


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.from_texts(TEXTS)


def phi_regularizers(n_words: int) -> list:
    return [
        SmoothSparsePhi(-0.05, topics=[1, 2], weights=np.linspace(0.5, 1.5, n_words)),
        SmoothSparsePhi(0.02, topics=[0]),
        DecorrelatorPhi(0.3, topics=[0, 1, 2]),
    ]


def build(kind: str, corpus: Corpus):
    n_words = len(corpus.vocabulary)
    regs = phi_regularizers(n_words)
    if kind == "artm":
        model = ARTM(3, doc_passes=4, regularizers=[*regs, SmoothSparseTheta(-0.1, topics=[2])])
    elif kind == "attentive":
        model = AttentiveARTM(
            3,
            passes=2,
            beta=0.3,
            window=5,
            window_backward=20,
            boundaries={"sentence": 1.0},
            token_weight={"goal": 0.5, "sauce": 0.0, "not-a-word": 0.25},
            filter="phi",
            exclude_self=False,
            regularizers=regs,
            seed=7,
        )
    else:
        model = ThetalessARTM(3, variant="naive", regularizers=regs, seed=3)
    return model.fit(corpus, epochs=3)


KINDS = ["artm", "attentive", "thetaless"]


@pytest.fixture(scope="module", params=KINDS)
def trained(request, corpus):
    return build(request.param, corpus)


@pytest.fixture
def reloaded(trained, tmp_path):
    path = tmp_path / "model.attartm"
    trained.save(path)
    return attartm.load(path)


def test_round_trip_restores_the_class_and_parameters(trained, reloaded):
    assert type(reloaded) is type(trained)
    # The saved parameters are the checked ones, in plain types.
    assert reloaded._validated() == trained._validated()
    assert repr(reloaded) == repr(persistence.build(persistence.spec(trained)))
    assert reloaded.n_topics == 3


def test_round_trip_of_the_attentive_parameters(corpus, tmp_path):
    model = build("attentive", corpus)
    model.save(tmp_path / "a.attartm")
    loaded = attartm.load(tmp_path / "a.attartm")
    assert loaded.passes == 2
    assert loaded.beta == 0.3
    assert loaded.window == 5 and loaded.gamma is None
    assert loaded.window_backward == 20 and loaded.gamma_backward is None
    assert loaded.boundaries == {"sentence": 1.0, "paragraph": 0.0}
    assert loaded.token_weight == {"goal": 0.5, "sauce": 0.0, "not-a-word": 0.25}
    assert loaded.filter == "phi"
    assert loaded.exclude_self is False
    # The derived smoothing coefficients, hence the E-step, are the same.
    for a, b in zip(loaded.gammas(corpus), model.gammas(corpus), strict=True):
        np.testing.assert_array_equal(a, b)
    gf, _ = loaded.gammas(corpus)
    assert gf[corpus.token_ids == corpus.vocabulary.index("sauce")].max() == 0.0


def test_round_trip_of_the_thetaless_variant(corpus, tmp_path):
    model = build("thetaless", corpus)
    model.save(tmp_path / "t.attartm")
    assert attartm.load(tmp_path / "t.attartm").variant == "naive"


def test_round_trip_restores_phi_n_wt_and_vocabulary_exactly(trained, reloaded):
    assert reloaded.phi.dtype == np.float32 and reloaded.phi.flags.c_contiguous
    assert reloaded.n_wt.dtype == np.float64
    np.testing.assert_array_equal(reloaded.phi, trained.phi)
    np.testing.assert_array_equal(reloaded.n_wt, trained.n_wt)
    np.testing.assert_array_equal(reloaded.n_t, trained.n_t)
    assert reloaded.vocabulary == trained.vocabulary
    assert reloaded.vocabulary.words == trained.vocabulary.words
    # A trained model, not a fresh one: the columns of phi are distributions with mass.
    np.testing.assert_allclose(reloaded.phi.sum(axis=0), 1.0, rtol=1e-5)
    assert (reloaded.n_t > 0).all()


def test_round_trip_restores_the_regularizers(trained, reloaded):
    assert [type(r) for r in reloaded.regularizers] == [type(r) for r in trained.regularizers]
    assert [r.to_dict() for r in reloaded.regularizers] == [
        r.to_dict() for r in trained.regularizers
    ]
    first = reloaded.regularizers[0]
    assert isinstance(first, SmoothSparsePhi)
    assert first.tau == -0.05 and first.topics == (1, 2)
    np.testing.assert_array_equal(first.weights, trained.regularizers[0].weights)
    if isinstance(trained, ARTM):
        assert reloaded.regularizers[-1] == SmoothSparseTheta(-0.1, topics=(2,))


def test_regularizers_with_weights_compare_equal(trained, reloaded):
    assert reloaded.regularizers == trained.regularizers


def test_loaded_model_transforms_exactly_like_the_original(trained, reloaded, corpus):
    expected = trained.transform(corpus)
    got = reloaded.transform(corpus)
    assert got.equals(expected)
    assert got.columns == ["id", "topic_0", "topic_1", "topic_2"]
    assert got.height == corpus.n_documents
    assert reloaded.transform(corpus, method="linear").equals(
        trained.transform(corpus, method="linear")
    )
    assert reloaded.topics(5).equals(trained.topics(5))
    assert reloaded.perplexity(corpus) == trained.perplexity(corpus)


def test_loaded_model_accepts_a_corpus_built_on_its_vocabulary(trained, reloaded):
    new = Corpus.from_texts(
        ["The striker scored a goal", "Garlic sauce and a new word"],
        vocabulary=reloaded.vocabulary,
    )
    assert new.dropped == 2  # "new", "word"
    assert reloaded.transform(new).equals(trained.transform(new))


def test_attentive_token_outputs_survive_the_round_trip(corpus, tmp_path):
    model = build("attentive", corpus)
    model.save(tmp_path / "a.attartm")
    loaded = attartm.load(tmp_path / "a.attartm")
    assert loaded.transform_tokens(corpus).equals(model.transform_tokens(corpus))
    assert loaded.transform_tokens(corpus, top=2).equals(model.transform_tokens(corpus, top=2))


def test_the_file_is_a_zip_of_json_and_npy_without_pickle(trained, tmp_path):
    path = tmp_path / "model.attartm"
    trained.save(path)
    assert zipfile.is_zipfile(path)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        names = sorted(z.namelist())
        assert names == ["model.json", "n_wt.npy", "phi.npy"]
        header = json.loads(z.read("model.json").decode("utf-8"))
        arrays = {}
        for name in names:
            if name.endswith(".npy"):
                arrays[name] = np.load(io.BytesIO(z.read(name)), allow_pickle=False)
    assert header["format"] == "attartm-model"
    assert header["format_version"] == persistence.FORMAT_VERSION == 1
    assert header["class"] == type(trained).__name__
    assert header["vocabulary"] == trained.vocabulary.words
    # Machine settings (threads) are not part of the model: neither saved nor loaded.
    params = {k: v for k, v in trained._validated().items() if k not in ("threads", "regularizers")}
    assert header["params"] == json.loads(json.dumps(params))
    assert [r["type"] for r in header["regularizers"]] == [
        type(r).__name__ for r in trained.regularizers
    ]
    for array in arrays.values():
        assert array.dtype != object
    assert arrays["phi.npy"].dtype == np.float32
    np.testing.assert_array_equal(arrays["phi.npy"], trained.phi)
    np.testing.assert_array_equal(arrays["n_wt.npy"], trained.n_wt)


def test_arrays_are_stored_and_deflated_files_still_load(trained, tmp_path):
    path = tmp_path / "model.attartm"
    trained.save(path)
    with zipfile.ZipFile(path) as z:
        kinds = {i.filename: i.compress_type for i in z.infolist()}
        members = {name: z.read(name) for name in kinds}
    assert kinds == {"model.json": zipfile.ZIP_DEFLATED, "phi.npy": zipfile.ZIP_STORED,
                     "n_wt.npy": zipfile.ZIP_STORED}  # fmt: skip
    # Files of earlier versions deflated every member.
    older = tmp_path / "older.attartm"
    with zipfile.ZipFile(older, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    loaded = attartm.load(older)
    np.testing.assert_array_equal(loaded.phi, trained.phi)
    np.testing.assert_array_equal(loaded.n_wt, trained.n_wt)


def test_round_trip_of_a_russian_vocabulary(tmp_path):
    texts = [
        "Мороз и солнце; день чудесный! Ещё ты дремлешь, друг прелестный.",
        "Пора, красавица, проснись: открой сомкнуты негой взоры.",
        "Вечор, ты помнишь, вьюга злилась, на мутном небе мгла носилась.",
    ] * 3
    corpus = Corpus.from_texts(texts, language="ru")
    model = ARTM(2).fit(corpus, epochs=2)
    model.save(tmp_path / "ru.attartm")
    loaded = attartm.load(tmp_path / "ru.attartm")
    assert loaded.vocabulary == model.vocabulary
    assert "мороз" in loaded.vocabulary
    assert loaded.transform(corpus).equals(model.transform(corpus))


def test_model_from_phi_round_trip(tmp_path):
    phi = np.array([[0.5, 0.1], [0.3, 0.1], [0.2, 0.8]], dtype=np.float32)
    model = ThetalessARTM.from_phi(phi, ["alpha", "beta", "gamma"], variant="naive")
    model.save(str(tmp_path / "from_phi.attartm"))  # a str path works as well as a Path
    loaded = attartm.load(str(tmp_path / "from_phi.attartm"))
    np.testing.assert_array_equal(loaded.phi, phi)
    assert loaded.vocabulary.words == ["alpha", "beta", "gamma"]
    assert loaded.variant == "naive"


def test_saving_over_an_existing_file_replaces_it(corpus, tmp_path):
    path = tmp_path / "model.attartm"
    first = ARTM(2, seed=1).fit(corpus, epochs=1)
    second = ThetalessARTM(4, seed=2).fit(corpus, epochs=1)
    first.save(path)
    second.save(path)
    loaded = attartm.load(path)
    assert isinstance(loaded, ThetalessARTM) and loaded.n_topics == 4
    np.testing.assert_array_equal(loaded.phi, second.phi)
    assert [p.name for p in tmp_path.iterdir()] == ["model.attartm"]


# --- atomic writes ------------------------------------------------------------------


@pytest.fixture
def existing(corpus, tmp_path) -> tuple[Path, bytes]:
    """A folder holding one saved model; returns its path and bytes."""
    path = tmp_path / "model.attartm"
    ARTM(2, seed=5).fit(corpus, epochs=1).save(path)
    return path, path.read_bytes()


def assert_untouched(path: Path, original: bytes) -> None:
    assert path.read_bytes() == original
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert attartm.load(path).n_topics == 2


def test_a_failed_rename_leaves_the_old_file_intact(existing, corpus, monkeypatch):
    path, original = existing
    calls = []

    def failing_replace(src, dst):
        calls.append((Path(src), Path(dst)))
        assert Path(src).exists() and Path(src).parent == path.parent  # written beside it
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(persistence.os, "replace", failing_replace)
    with pytest.raises(OSError, match=r"disk full \(simulated\)"):
        ARTM(3, seed=6).fit(corpus, epochs=1).save(path)
    monkeypatch.undo()
    assert len(calls) == 1 and calls[0][1] == path
    assert_untouched(path, original)


@pytest.mark.parametrize("error", [OSError("no space left"), KeyboardInterrupt()])
def test_a_failure_in_the_middle_of_writing_leaves_the_old_file_intact(
    existing, corpus, monkeypatch, error
):
    path, original = existing
    model = ThetalessARTM(3, seed=6).fit(corpus, epochs=1)
    real_save = np.save
    saved_arrays = []

    def failing_save(file, arr, *args, **kwargs):
        if saved_arrays:  # the first array is written, the second one fails
            raise error
        saved_arrays.append(arr.shape)
        return real_save(file, arr, *args, **kwargs)

    monkeypatch.setattr(persistence.np, "save", failing_save)
    with pytest.raises(type(error)):
        model.save(path)
    monkeypatch.undo()
    assert saved_arrays == [model.phi.shape]
    assert_untouched(path, original)


def test_a_failed_first_save_leaves_nothing_behind(corpus, tmp_path, monkeypatch):
    model = ARTM(2).fit(corpus, epochs=1)

    def failing_replace(src, dst):
        raise PermissionError("read-only folder (simulated)")

    monkeypatch.setattr(persistence.os, "replace", failing_replace)
    with pytest.raises(PermissionError, match="simulated"):
        model.save(tmp_path / "new.attartm")
    assert list(tmp_path.iterdir()) == []


def test_saving_onto_a_folder_fails_without_leftovers(corpus, tmp_path):
    target = tmp_path / "folder"
    target.mkdir()
    with pytest.raises(OSError, match=r"[Ii]s a directory"):
        ARTM(2).fit(corpus, epochs=1).save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["folder"]
    assert list(target.iterdir()) == []


def test_saved_file_respects_the_umask(corpus, tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "model.attartm"
        ARTM(2).fit(corpus, epochs=1).save(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
