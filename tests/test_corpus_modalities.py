"""Corpora of several modalities: every constructor, the vocabularies, and the subsets and
batches that keep every modality."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import attartm

FRAME = pl.DataFrame(
    {
        "id": ["a", "b", "c", "d"],
        "text": ["cats chase mice.", "dogs chase cats", "mice eat cheese", None],
        "category": ["pets", "pets", None, "food"],
        "tags": [["fur", "claws"], [], ["cheese", "fur", "fur"], None],
    }
)


def corpus(**kw) -> attartm.Corpus:
    return attartm.Corpus.from_polars(
        FRAME, text="text", id="id", stopwords=False,
        modalities={"label": "category", "tags": "tags"}, **kw,
    )  # fmt: skip


def test_every_modality_has_its_own_vocabulary_and_bags():
    c = corpus()
    assert c.modalities == ("text", "label", "tags")
    assert c.vocabularies["text"] == c.vocabulary
    assert c.vocabularies["label"].words == ["pets", "food"]  # most frequent first
    assert c.vocabularies["tags"].words == ["fur", "cheese", "claws"]
    tags = c.values("tags")
    assert tags["id"].to_list() == ["a", "a", "c", "c", "c"]
    assert sorted(tags.filter(pl.col("id") == "c")["token"].to_list()) == ["cheese", "fur", "fur"]
    assert c.values("label")["token"].to_list() == ["pets", "pets", "food"]
    assert c.n_tokens == 9  # the text's tokens only
    assert "label: 3 values of 2" in repr(c)


def test_a_given_vocabulary_mapping_fixes_every_modality():
    train = corpus()
    frame = pl.DataFrame({"text": ["cats"], "category": ["cars"], "tags": [["fur", "new"]]})
    test = attartm.Corpus.from_polars(
        frame, stopwords=False, modalities={"label": "category", "tags": "tags"},
        vocabulary=train.vocabularies,
    )  # fmt: skip
    assert test.vocabularies == train.vocabularies
    assert test.values("label").height == 0  # "cars" is not a label of the vocabulary
    assert test.values("tags")["token"].to_list() == ["fur"]


@pytest.mark.parametrize("build", ["texts", "token_ids", "parquet"])
def test_the_other_constructors_read_modalities(build, tmp_path):
    if build == "texts":
        c = attartm.Corpus.from_texts(
            ["cats chase mice", "dogs bark"], stopwords=False,
            modalities={"label": ["pets", ["pets", "noise"]]},
        )  # fmt: skip
    elif build == "token_ids":
        c = attartm.Corpus.from_token_ids(
            [0, 1, 2, 3], [0, 3, 4], ["cats", "chase", "mice", "bark"],
            modalities={"label": ([0, 0, 1], [0, 1, 3], ["pets", "noise"])},
        )  # fmt: skip
    else:
        pl.DataFrame(
            {"text": ["cats chase mice", "dogs bark"], "labels": [["pets"], ["pets", "noise"]]}
        ).write_parquet(tmp_path / "x.parquet")
        c = attartm.Corpus.from_parquet(
            tmp_path / "x.parquet", stopwords=False, modalities={"label": "labels"}
        )
    labels = c.values("label")
    assert labels["token"].to_list() == ["pets", "pets", "noise"]
    assert labels["id"].to_list() == [0, 1, 1]


def test_select_split_batches_and_without_keep_the_modalities():
    c = corpus()
    picked = c.select([2, 0])
    assert picked.ids.to_list() == ["c", "a"]
    assert picked.values("tags")["id"].to_list() == ["c", "c", "c", "a", "a"]
    assert picked.values("label")["token"].to_list() == ["pets"]
    train, test = c.split(test_size=2, seed=1)
    assert sorted(train.ids.to_list() + test.ids.to_list()) == ["a", "b", "c", "d"]
    for part in (train, test):
        assert part.modalities == c.modalities and part.vocabularies == c.vocabularies
    values = pl.concat([b.values("tags") for b in c.batches(3)])
    assert values.equals(c.values("tags"))
    assert c.without("tags").modalities == ("text", "label")


def test_streaming_batches_carry_a_list_column(tmp_path):
    FRAME.write_parquet(tmp_path / "x.parquet")
    whole = corpus()
    vocabulary = {
        "text": whole.vocabulary,
        "tags": attartm.Vocabulary.from_parquet_values(tmp_path / "x.parquet", "tags"),
    }
    assert vocabulary["tags"] == whole.vocabularies["tags"]
    batches = list(
        attartm.Corpus.scan_parquet(
            tmp_path / "x.parquet", "text", "id", vocabulary=vocabulary, batch_size=3,
            stopwords=False, modalities={"tags": "tags"},
        )
    )  # fmt: skip
    assert [b.n_documents for b in batches] == [3, 1]
    assert pl.concat([b.values("tags") for b in batches]).equals(whole.values("tags"))


def test_vowpal_wabbit_classes_become_modalities(tmp_path):
    path = tmp_path / "corpus.vw"
    path.write_text(
        "a cats chase:2 |@label pets |@tags fur claws:2 |author x\n"
        "b |@default_class dogs |@tags cheese\n"
        "c mice |@label food |@label pets\n"
    )
    c = attartm.Corpus.from_vowpal_wabbit(path, modalities={"label": "@label", "tags": "@tags"})
    assert c.modalities == ("text", "label", "tags") and not c.word_order
    assert c.vocabulary.words == ["cats", "chase", "dogs", "mice"]
    assert c.vocabularies["label"].words == ["pets", "food"]
    assert c.values("label").group_by("id", maintain_order=True).agg("token").rows() == [
        ("a", ["pets"]),
        ("c", ["food", "pets"]),
    ]
    assert c.values("tags")["token"].to_list() == ["fur", "claws", "claws", "cheese"]
    assert c.values("tags")["id"].to_list() == ["a", "a", "a", "b"]
    # Without modalities=, the text alone, as before.
    assert attartm.Corpus.from_vowpal_wabbit(path).modalities == ("text",)
    with pytest.raises(ValueError, match="give the class name of its sections"):
        attartm.Corpus.from_vowpal_wabbit(path, modalities={"label": "@default_class"})
    with pytest.raises(ValueError, match='the modality "text" is the corpus'):
        attartm.Corpus.from_vowpal_wabbit(path, modalities={"text": "@label"})
    with pytest.raises(TypeError, match="modalities must map modality names to class names"):
        attartm.Corpus.from_vowpal_wabbit(path, modalities=["@label"])
    with pytest.raises(ValueError, match="more than max_tokens=5 tokens"):
        attartm.Corpus.from_vowpal_wabbit(path, modalities={"tags": "@tags"}, max_tokens=5)


def test_bad_modalities_say_what_is_wrong():
    with pytest.raises(ValueError, match="modality 'label' column 'nope' not found"):
        attartm.Corpus.from_polars(FRAME, modalities={"label": "nope"})
    with pytest.raises(ValueError, match='the modality "text" is the corpus'):
        attartm.Corpus.from_polars(FRAME, modalities={"text": "category"})
    with pytest.raises(TypeError, match="modalities must map modality names to columns"):
        attartm.Corpus.from_polars(FRAME, modalities=["category"])
    with pytest.raises(ValueError, match="has 1 values for 2 texts"):
        attartm.Corpus.from_texts(["a b", "c d"], modalities={"label": ["x"]})
    with pytest.raises(ValueError, match="the corpus has no modality 'tag'"):
        corpus().values("tag")
    with pytest.raises(ValueError, match="needs a fixed vocabulary for every modality"):
        attartm.Corpus.scan_parquet(
            "x.parquet", vocabulary=corpus().vocabulary, modalities={"tags": "tags"}
        )
    with pytest.raises(TypeError, match="lists of"):
        attartm.Corpus.from_polars(
            pl.DataFrame({"text": ["cats"], "t": [[["x"]]]}), modalities={"t": "t"}
        )
    with pytest.raises(ValueError, match="token ids must lie in"):
        attartm.Corpus.from_token_ids(
            [0], [0, 1], ["a"], modalities={"label": ([3], [0, 1], ["x"])}
        )
    assert np.array_equal(corpus().select([0]).token_ids, corpus().token_ids[:3])
