"""BigARTM as a peer over modalities (benches/bench_modalities.py): the Vowpal Wabbit lines
it reads carry every modality as a class section, and, when bigartm is installed, it
trains with our class weights and predicts a label from the text."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import attartm
from attartm.peers import BigARTM, bigartm_available, write_vowpal_wabbit

from .test_modality_models import corpus, frame


def test_vowpal_wabbit_lines_carry_every_modality(tmp_path):
    c = corpus()
    path = tmp_path / "corpus.vw"
    write_vowpal_wabbit(c, path, ["label", "tags"])
    lines = path.read_text().splitlines()
    assert len(lines) == c.n_documents
    for d, line in enumerate(lines):
        name, text, label, tags = line.split("|")
        assert name == f"doc{d} " and text.split()[0] == "@default_class"
        for section, modality in ((label, "label"), (tags, "tags")):
            head, *items = section.split()
            assert head == f"@{modality}"
            values = c.values(modality).filter(pl.col("id") == c.ids[d])["token"].to_list()
            counted = {v: values.count(v) for v in values}
            assert dict(item.split(":") for item in items) == {
                v: str(n) for v, n in counted.items()
            }
    # Our reader gives back every modality's bags.
    bow = attartm.Corpus.from_vowpal_wabbit(path, modalities={"label": "@label", "tags": "@tags"})
    assert bow.bag_of_words()["count"].sum() == c.n_tokens
    assert set(bow.vocabulary.words) == set(c.vocabulary.words)
    for m in ("label", "tags"):
        read, written = bow.values(m), c.values(m).with_columns(id=pl.format("doc{}", "id"))
        key = ["id", "token"]
        assert read.select(key).sort(key).equals(written.select(key).sort(key))


def test_bigartm_trains_with_class_weights_and_predicts_the_label():
    if not bigartm_available():
        pytest.skip("bigartm is not installed (an optional peer: pip install bigartm==0.9.2)")
    train = corpus(frame(60, seed=1))
    test_frame = frame(30, seed=2)
    test = attartm.Corpus.from_polars(test_frame, stopwords=False, vocabulary=train.vocabularies)
    peer = BigARTM(3, doc_passes=10, threads=1, modality_weights={"label": 10.0})
    assert len(peer.fit(train, 15)) == 15
    predicted = peer.predict(test, "label")
    assert (predicted == test_frame["label"].to_numpy()).mean() >= 0.9
    model = peer.to_attartm()
    assert model.vocabulary == train.vocabulary
    np.testing.assert_allclose(model.phi.sum(axis=0), 1.0, atol=1e-5)
