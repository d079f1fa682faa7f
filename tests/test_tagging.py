"""`attartm tag` through its pipeline (read and tokenize ahead, kernel, streamed parquet
writing) equals the unpipelined transform/transform_tokens row for row, into one file
and into a folder of parts, also when resumed."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import attartm
from attartm import _tagging
from attartm.cli import main

from .conftest import synthetic_texts

N_DOCS = 47


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tagging")
    texts = synthetic_texts(N_DOCS, seed=3)
    texts[5] = ""  # a document without tokens
    texts[20] = "unknownword only"
    frame = pl.DataFrame({"doc": [f"d{i}" for i in range(N_DOCS)], "text": texts})
    frame.head(30).write_parquet(tmp / "in-0.parquet")
    frame.tail(N_DOCS - 30).write_parquet(tmp / "in-1.parquet")
    corpus = attartm.Corpus.from_polars(frame, text="text", id="doc")
    model = attartm.AttentiveARTM(3, passes=2, seed=0).fit(corpus, epochs=4)
    model.save(tmp / "model.attartm")
    return tmp, model, corpus


@pytest.fixture(autouse=True)
def small_steps(monkeypatch):
    # Several pipeline steps per part and per file, and steps across file boundaries.
    monkeypatch.setattr(_tagging, "STEP", 7)


OUTPUTS = {
    "theta": ([], lambda m, c: m.transform(c)),
    "top": (["--tokens", "--top", "2"], lambda m, c: m.transform_tokens(c, top=2)),
    "ids": (
        ["--tokens", "--top", "2", "--token-ids"],
        lambda m, c: m.transform_tokens(c, top=2, token_ids=True),
    ),
    "full": (["--tokens", "--token-ids"], lambda m, c: m.transform_tokens(c, token_ids=True)),
}


def tag(tmp, output, options, *extra):
    args = ["tag", str(tmp / "model.attartm"), str(tmp / "in-*.parquet"), "-o", str(output)]
    assert main([*args, *options, *extra]) == 0


def read_folder(folder) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in sorted(folder.glob("part-*.parquet"))])


@pytest.mark.parametrize("what", sorted(OUTPUTS))
def test_one_file_equals_transform(job, tmp_path, what):
    tmp, model, corpus = job
    options, expected = OUTPUTS[what]
    tag(tmp, tmp_path / "tags.parquet", [*options, "--id", "doc"])
    got = pl.read_parquet(tmp_path / "tags.parquet")
    assert got.equals(expected(model, corpus))


@pytest.mark.parametrize("what", sorted(OUTPUTS))
def test_parts_equal_transform_and_resume(job, tmp_path, what):
    tmp, model, corpus = job
    options, expected = OUTPUTS[what]
    folder = tmp_path / "parts"
    tag(tmp, folder, [*options, "--id", "doc"], "--batch-size", "10")
    assert len(list(folder.glob("part-*.parquet"))) == 5
    whole = read_folder(folder)
    assert whole.equals(expected(model, corpus))
    # A lost part is written again, the same as before; the others are kept.
    (folder / "part-00002.parquet").unlink()
    kept = (folder / "part-00003.parquet").stat().st_mtime_ns
    tag(tmp, folder, [*options, "--id", "doc"], "--batch-size", "10")
    assert read_folder(folder).equals(whole)
    assert (folder / "part-00003.parquet").stat().st_mtime_ns == kept


def test_row_numbers_name_documents_across_steps_and_parts(job, tmp_path):
    tmp, model, corpus = job
    tag(tmp, tmp_path / "one.parquet", ["--tokens", "--top", "1"])
    tag(tmp, tmp_path / "parts", ["--tokens", "--top", "1"], "--batch-size", "10")
    one = pl.read_parquet(tmp_path / "one.parquet")
    expected = model.transform_tokens(corpus, top=1)
    assert one.drop("id").equals(expected.drop("id"))
    numbers = {f"d{i}": i for i in range(N_DOCS)}
    assert one["id"].to_list() == [numbers[d] for d in expected["id"]]
    assert read_folder(tmp_path / "parts").equals(one)


def test_pipeline_errors_leave_no_file(job, tmp_path, monkeypatch, capsys):
    tmp, model, _ = job
    calls = []

    def failing(self, corpus):
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("kernel failed")
        return model.transform(corpus)

    monkeypatch.setattr(_tagging.Tagging, "tag", failing)
    args = ["tag", str(tmp / "model.attartm"), str(tmp / "in-*.parquet"), "-o"]
    assert main([*args, str(tmp_path / "t.parquet")]) == 2
    assert "kernel failed" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_options_need_tokens(job, tmp_path, capsys):
    tmp, _, _ = job
    args = ["tag", str(tmp / "model.attartm"), str(tmp / "in-0.parquet"), "-o"]
    assert main([*args, str(tmp_path / "t.parquet"), "--token-ids"]) == 2
    assert "--token-ids needs --tokens" in capsys.readouterr().err


def test_token_ids_are_vocabulary_ids(job):
    _, model, corpus = job
    ids = model.transform_tokens(corpus, token_ids=True)
    words = model.transform_tokens(corpus)
    assert ids["token"].dtype == pl.UInt32
    vocab = np.asarray(model.vocabulary.words)
    assert vocab[ids["token"].to_numpy()].tolist() == words["token"].to_list()
