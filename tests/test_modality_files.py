"""Models of several modalities on disk and in streams: the model file keeps every
modality, its weight, vocabulary and regularizers; fit_online streams parquet with a
list-of-strings column."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import polars as pl
import pytest

import attartm

from .test_modality_models import corpus, frame

REGULARIZERS = [
    attartm.SmoothSparsePhi(-0.01, modality="label"),
    attartm.DecorrelatorPhi(0.1, modality=["text", "tags"]),
    attartm.LabelRegularizationPhi(0.5, modality="label"),
    attartm.SeedWords({0: ["goal", "match"], 2: ["kernel"]}, 0.5),
]
MODELS = {
    "artm": lambda **kw: attartm.ARTM(
        3, **{"regularizers": [*REGULARIZERS, attartm.TopicSelectionTheta(0.05)], **kw}
    ),
    # The exact gradient of the full variant can make counts negative, which a model file
    # does not hold (persistence refuses them): the naive variant here.
    "thetaless": lambda **kw: attartm.ThetalessARTM(
        3, variant="naive", **{"regularizers": REGULARIZERS, **kw}
    ),
    "attentive": lambda **kw: attartm.AttentiveARTM(
        3, window=5, epochs=3, updates_per_epoch=2, **{"regularizers": REGULARIZERS, **kw}
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_a_model_of_several_modalities_round_trips(name, tmp_path):
    c = corpus()
    model = MODELS[name](modality_weights={"label": 4.0, "tags": 0.5}, seed=2).fit(c, epochs=3)
    path = tmp_path / "model.attartm"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        header = json.loads(z.read("model.json"))
    assert header["format_version"] == 2
    assert [m["name"] for m in header["modalities"]] == ["label", "tags"]
    loaded = attartm.load(path)
    assert type(loaded) is type(model)
    assert loaded.modalities == {"text": 1.0, "label": 4.0, "tags": 0.5}
    assert loaded.vocabularies == model.vocabularies
    assert list(loaded.regularizers) == list(model.regularizers)
    assert loaded.modality_weights == model.modality_weights
    for m in c.modalities:
        assert np.array_equal(loaded.phi_of(m), model.phi_of(m))
    assert loaded.predict(c, "label", k=2).equals(model.predict(c, "label", k=2))
    assert loaded.transform(c).equals(model.transform(c))
    # Training goes on from the loaded state as from the saved one.
    a = model.partial_fit(c, batch_size=20)
    b = loaded.partial_fit(c, batch_size=20)
    for m in c.modalities:
        assert np.array_equal(a.phi_of(m), b.phi_of(m))


def test_a_text_only_file_is_still_format_version_1(tmp_path):
    c = attartm.Corpus.from_polars(frame(), stopwords=False)
    attartm.ARTM(3, seed=0).fit(c, epochs=2).save(tmp_path / "m.attartm")
    with zipfile.ZipFile(tmp_path / "m.attartm") as z:
        header = json.loads(z.read("model.json"))
    assert header["format_version"] == 1 and "modalities" not in header
    assert "modality_weights" not in header["params"]


@pytest.mark.parametrize("name", ["artm", "attentive"])
def test_fit_online_streams_parquet_with_a_list_column(name, tmp_path):
    df = frame(60, seed=3).with_columns(pl.Series("id", range(60)))
    for part in range(3):
        df.slice(20 * part, 20).write_parquet(tmp_path / f"part-{part}.parquet")
    whole = corpus(df, id="id")
    vocabulary = {
        "text": whole.vocabulary,
        "tags": attartm.Vocabulary.from_parquet_values(tmp_path, "tags"),
    }
    assert vocabulary["tags"] == whole.vocabularies["tags"]
    batches = attartm.Corpus.scan_parquet(
        tmp_path, "text", "id", vocabulary=vocabulary, batch_size=15, stopwords=False,
        modalities={"tags": "tags"},
    )  # fmt: skip
    make = MODELS[name]
    params = {"modality_weights": {"tags": 3.0}, "seed": 1, "regularizers": REGULARIZERS[1:2]}
    streamed = make(**params).fit_online(batches, epochs=2)
    in_memory = make(**params).fit_online(whole.without("label"), batch_size=15, epochs=2)
    assert streamed.modalities == {"text": 1.0, "tags": 3.0}
    for m in ("text", "tags"):
        assert np.array_equal(streamed.phi_of(m), in_memory.phi_of(m))
    np.testing.assert_allclose(streamed.phi_of("tags").sum(axis=0), 1.0, atol=1e-5)
