"""The ``attartm`` command line, driven in-process through ``attartm.cli.main``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import attartm
from attartm import cli

GROUPS = {
    "sports": "football soccer basketball tennis player team coach goal match league score "
    "stadium referee tournament championship athlete olympic sprint marathon medal striker "
    "keeper defender pitch season playoff trophy fans whistle penalty dribble racket court "
    "inning pitcher batter hockey rugby cricket umpire",
    "cooking": "recipe garlic onion butter flour oven bake roast sauce pasta tomato basil "
    "pepper salt sugar whisk skillet simmer boil fry dough yeast bread cheese cream lemon "
    "vinegar olive spinach carrot potato chicken beef soup stew grill kitchen chef spoon knife",
    "computers": "computer software hardware processor memory keyboard monitor laptop server "
    "network router database compiler kernel python linux windows program code debug "
    "algorithm cache disk storage cloud browser internet pixel graphics driver binary "
    "encryption password firmware module terminal script variable function library",
}
WORDS = {group: words.split() for group, words in GROUPS.items()}
GROUP_OF = {word: group for group, words in WORDS.items() for word in words}
N_DOCS = 60


def synthetic_frame(seed: int = 0) -> pl.DataFrame:
    """60 documents of 30 words, each from one of three disjoint groups of 40 words."""
    rng = np.random.default_rng(seed)
    labels = [list(WORDS)[d % 3] for d in range(N_DOCS)]
    texts = []
    for label in labels:
        words = rng.choice(WORDS[label], size=30)
        texts.append(" ".join(words[:15]) + ". " + " ".join(words[15:]) + ".")
    return pl.DataFrame(
        {"doc": [f"doc{d:02d}" for d in range(N_DOCS)], "text": texts, "label": labels}
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """The same corpus as parquet, as csv and as a folder of .txt files."""
    root = tmp_path_factory.mktemp("cli-data")
    frame = synthetic_frame()
    frame.write_parquet(root / "docs.parquet")
    frame.write_csv(root / "docs.csv")
    folder = root / "texts"
    folder.mkdir()
    for doc, text in zip(frame["doc"], frame["text"], strict=True):
        (folder / f"{doc}.txt").write_text(text, encoding="utf-8")
    (folder / "README.md").write_text("not a document", encoding="utf-8")
    return {
        "parquet": root / "docs.parquet",
        "csv": root / "docs.csv",
        "txt": folder,
        "frame": frame,
        "root": root,
    }


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def topic_lines(out: str) -> list[list[str]]:
    """The words of every 'topic  N: w1 w2 ...' line."""
    lines = [line for line in out.splitlines() if line.startswith("topic")]
    return [line.split(":", 1)[1].split() for line in lines]


def topic_groups(model) -> list[str]:
    """The word group of each topic, asserting its top-10 words are (nearly) pure."""
    frame = model.topics(10)
    groups = []
    for t in range(model.n_topics):
        words = frame.filter(pl.col("topic") == t)["word"].to_list()
        group, count = Counter(GROUP_OF[w] for w in words).most_common(1)[0]
        assert count >= 8, (t, words)
        groups.append(group)
    return groups


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory) -> tuple[Path, str, str]:
    """`attartm train` of an ARTM on the parquet file: (model path, stdout, stderr)."""
    path = tmp_path_factory.mktemp("cli-model") / "model.attartm"
    code, out, err = _run_captured(
        ["train", data["parquet"], "--id", "doc", "-o", path, "--topics", 3, "--epochs", 10]
    )
    assert code == 0, err
    return path, out, err


def _run_captured(argv) -> tuple[int, str, str]:
    """``run`` for module-scoped fixtures, which cannot use the function-scoped capsys."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


# --- train, topics, tag, eval -------------------------------------------------------


def test_train_on_parquet(trained):
    path, out, err = trained
    assert "corpus: Corpus(60 documents, 1,800 tokens" in err
    model = attartm.load(path)
    assert isinstance(model, attartm.ARTM)
    assert model.n_topics == 3
    assert len(model.vocabulary) > 100  # min_df=5, max_df=0.5 keep nearly all 120 words
    # The printed topics are the model's, and each is one word group.
    printed = topic_lines(out)
    assert len(printed) == 3
    assert printed == [
        model.topics(10).filter(pl.col("topic") == t)["word"].to_list() for t in range(3)
    ]
    assert sorted(topic_groups(model)) == ["computers", "cooking", "sports"]


def test_topics(trained, capsys):
    path, _, _ = trained
    code, out, _ = run(capsys, "topics", path, "-k", 5)
    assert code == 0
    lines = topic_lines(out)
    assert len(lines) == 3
    assert all(len(words) == 5 for words in lines)
    model = attartm.load(path)
    for t, words in enumerate(lines):
        assert words == model.topics(5).filter(pl.col("topic") == t)["word"].to_list()


def test_tag(trained, data, tmp_path, capsys):
    path, _, _ = trained
    output = tmp_path / "tags.parquet"
    code, _, err = run(capsys, "tag", path, data["parquet"], "--id", "doc", "-o", output)
    assert code == 0, err
    assert "wrote p(t|d) of 60 documents" in err
    tags = pl.read_parquet(output)
    assert tags.columns == ["id", "topic_0", "topic_1", "topic_2"]
    assert tags["id"].to_list() == data["frame"]["doc"].to_list()
    theta = tags.drop("id").to_numpy()
    assert theta.shape == (N_DOCS, 3)
    assert (theta >= 0).all()
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-5)
    # Every document's main topic is its word group.
    groups = topic_groups(attartm.load(path))
    predicted = [groups[t] for t in theta.argmax(axis=1)]
    assert predicted == data["frame"]["label"].to_list()
    assert [p.name for p in tmp_path.iterdir()] == ["tags.parquet"]  # no temporary file


def test_eval(trained, data, capsys):
    path, _, _ = trained
    code, out, err = run(capsys, "eval", path, data["parquet"])
    assert code == 0, err
    scores = json.loads(out)  # stdout is exactly one JSON document
    for key in ("perplexity", "sparsity_phi", "sparsity_theta", "diversity", "npmi"):
        assert key in scores
        assert np.isfinite(scores[key])
    model = attartm.load(path)
    # Three topics of 40 equiprobable words each: held-out perplexity is near 40, far
    # below the vocabulary size a topic-less model would get.
    assert 20 < scores["perplexity"] < 80 < len(model.vocabulary)
    assert scores["diversity"] == pytest.approx(1.0)
    assert 0 <= scores["sparsity_phi"] <= 1


def test_train_on_csv_and_txt_folder_matches_parquet(trained, data, tmp_path, capsys):
    reference = attartm.load(trained[0])
    for source in ("csv", "txt"):
        path = tmp_path / f"{source}.attartm"
        id_column = "doc" if source == "csv" else "id"
        code, out, err = run(
            capsys, "train", data[source], "--id", id_column, "-o", path,
            "--topics", 3, "--epochs", 10,
        )  # fmt: skip
        assert code == 0, err
        assert len(topic_lines(out)) == 3
        model = attartm.load(path)
        # The same texts in the same order, the same seed: the very same model.
        assert model.vocabulary == reference.vocabulary
        np.testing.assert_array_equal(model.phi, reference.phi)


def test_tag_a_txt_folder_uses_file_names_as_ids(trained, data, tmp_path, capsys):
    output = tmp_path / "tags.parquet"
    code, _, err = run(capsys, "tag", trained[0], data["txt"], "--id", "id", "-o", output)
    assert code == 0, err
    tags = pl.read_parquet(output)
    assert tags["id"].to_list() == data["frame"]["doc"].to_list()


def test_train_online(data, tmp_path, capsys):
    path = tmp_path / "online.attartm"
    code, out, err = run(
        capsys, "train", data["parquet"], "-o", path, "--topics", 3, "--epochs", 3,
        "--online", "--batch-size", 10, "--sparse-phi", -0.01,
    )  # fmt: skip
    assert code == 0, err
    assert len(topic_lines(out)) == 3
    model = attartm.load(path)
    assert model.n_topics == 3
    assert [r.to_dict()["tau"] for r in model.regularizers] == [-0.01]
    np.testing.assert_allclose(model.phi.sum(axis=0), 1.0, rtol=1e-5)


def test_train_attentive(data, tmp_path, capsys):
    path = tmp_path / "attentive.attartm"
    code, out, err = run(
        capsys, "train", data["parquet"], "-o", path, "--model", "attentive",
        "--topics", 3, "--epochs", 3, "--passes", 1, "--window", 8, "--beta", 0.4,
    )  # fmt: skip
    assert code == 0, err
    assert len(topic_lines(out)) == 3
    model = attartm.load(path)
    assert isinstance(model, attartm.AttentiveARTM)
    assert (model.passes, model.window, model.beta) == (1, 8, 0.4)
    # Tagging works with the attentive model too.
    tags_path = tmp_path / "tags.parquet"
    code, _, err = run(capsys, "tag", path, data["parquet"], "-o", tags_path)
    assert code == 0, err
    theta = pl.read_parquet(tags_path).drop("id").to_numpy()
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-5)


def test_train_thetaless(data, tmp_path, capsys):
    path = tmp_path / "thetaless.attartm"
    code, out, err = run(
        capsys, "train", data["parquet"], "-o", path, "--model", "thetaless",
        "--variant", "naive", "--topics", 3, "--epochs", 10,
    )  # fmt: skip
    assert code == 0, err
    model = attartm.load(path)
    assert isinstance(model, attartm.ThetalessARTM)
    assert model.variant == "naive"
    assert sorted(topic_groups(model)) == ["computers", "cooking", "sports"]
    code, out, _ = run(capsys, "eval", path, data["parquet"])
    assert code == 0
    assert json.loads(out)["perplexity"] < 80


# --- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.parquet", "no parquet file matches"),
        ("missing.csv", "no such file"),
        ("*.parquet", "no parquet file matches"),
    ],
)
def test_missing_input_file(tmp_path, capsys, name, message):
    code, out, err = run(capsys, "train", tmp_path / name, "-o", tmp_path / "m.attartm")
    assert code == 2
    assert out == ""
    assert err.startswith("attartm train: error: ")
    assert message in err and name in err
    assert not (tmp_path / "m.attartm").exists()


def test_folder_without_txt_files(tmp_path, capsys):
    code, _, err = run(capsys, "train", tmp_path, "-o", tmp_path / "m.attartm")
    assert code == 2
    assert "attartm train: error:" in err and "no .txt files" in err


def test_errors_of_other_commands(trained, data, tmp_path, capsys):
    code, _, err = run(capsys, "topics", tmp_path / "absent.attartm")
    assert (code, err.split(":")[0]) == (2, "attartm topics")
    assert "no model file" in err
    garbage = tmp_path / "garbage.attartm"
    garbage.write_bytes(b"\x00" * 100)
    code, _, err = run(capsys, "eval", garbage, data["parquet"])
    assert code == 2 and "attartm eval: error:" in err and "not a readable" in err
    code, _, err = run(
        capsys, "tag", trained[0], data["parquet"], "-o", tmp_path / "no" / "tags.parquet"
    )
    assert code == 2 and "attartm tag: error:" in err and "does not exist" in err


def test_bad_training_options(data, tmp_path, capsys):
    output = tmp_path / "m.attartm"
    code, _, err = run(capsys, "train", data["parquet"], "-o", output, "--topics", 0)
    assert code == 2 and "n_topics must be at least 1" in err
    code, _, err = run(capsys, "train", data["parquet"], "-o", output, "--epochs", 0)
    assert code == 2 and "epochs must be at least 1" in err
    code, _, err = run(capsys, "train", data["parquet"], "-o", output, "--text", "body")
    assert code == 2 and "text column 'body' not found" in err
    code, _, err = run(capsys, "train", data["parquet"], "-o", tmp_path / "no" / "m.attartm")
    assert code == 2 and "does not exist" in err
    assert list(tmp_path.iterdir()) == []


def test_usage_errors_exit_with_code_2(capsys):
    for argv in ([], ["train"], ["train", "x.parquet", "-o", "m", "--model", "lda"]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2
    assert "usage: attartm" in capsys.readouterr().err


def test_output_onto_a_folder_is_a_clean_error(data, tmp_path, capsys):
    code, _, err = run(capsys, "train", data["parquet"], "-o", tmp_path, "--epochs", 1)
    assert code == 2 and "attartm train: error:" in err


def test_tag_output_respects_the_umask(trained, data, tmp_path, capsys):
    old = os.umask(0o022)
    try:
        code, _, _ = run(capsys, "tag", trained[0], data["parquet"], "-o", tmp_path / "t.pq")
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE((tmp_path / "t.pq").stat().st_mode) == 0o644


# --- demo and the console script ----------------------------------------------------


def test_demo(capsys):
    code, out, _ = run(capsys, "demo", "--epochs", 2, "--topics", 5)
    assert code == 0
    assert "demo corpus: Corpus(2,000 documents" in out
    lines = topic_lines(out)
    assert len(lines) == 5
    assert all(len(words) == 10 for words in lines)
    assert all(word.isalpha() and word.islower() for words in lines for word in words)


def test_console_script_help():
    exe = shutil.which("attartm")
    assert exe is not None, "the attartm console script is not installed"
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: attartm")
    for command in ("train", "topics", "tag", "eval", "demo"):
        assert command in proc.stdout
    proc = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "usage: attartm" in proc.stderr


def test_module_entry_point_runs_main():
    proc = subprocess.run(
        [sys.executable, "-m", "attartm.cli", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--topics" in proc.stdout and "--model" in proc.stdout


# --- fragments, phrases ---------------------------------------------------------------


def test_fragments_and_phrases_commands(data, trained, tmp_path, capsys):
    frame = pl.read_parquet(data["parquet"])
    corpus = attartm.Corpus.from_polars(frame, text="text", id="doc", min_df=5, max_df=0.5)
    model = attartm.AttentiveARTM(3, seed=0, epochs=4, updates_per_epoch=2).fit(corpus)
    path = tmp_path / "attentive.attartm"
    model.save(path)
    code, out, _ = run(capsys, "fragments", path, data["parquet"], "--id", "doc", "--topic", 1,
                       "-k", 4, "--min-tokens", 5)  # fmt: skip
    assert code == 0
    want = model.fragments(corpus, 1, 4, min_tokens=5)
    assert len(out.splitlines()) == want.height > 0
    for line, (i, s, e) in zip(out.splitlines(), want.select("id", "start", "end").rows()):
        assert f"{i} [{s}..{e}]" in line
    code, _, err = run(capsys, "fragments", path, data["parquet"], "--id", "doc", "-k", 3,
                       "-o", tmp_path / "f.parquet")  # fmt: skip
    assert code == 0 and "wrote" in err
    # The text of the fragments written is the source text of their tokens.
    source = attartm.Corpus.from_polars(frame, text="text", id="doc", keep_text=True,
                                        vocabulary=model.vocabulary)  # fmt: skip
    assert pl.read_parquet(tmp_path / "f.parquet").equals(model.fragments(source, k=3))
    assert (model.fragments(source, k=3)["text"] != model.fragments(corpus, k=3)["text"]).any()
    code, out, _ = run(capsys, "phrases", path, data["parquet"], "--id", "doc", "-k", 3)
    phrases = model.topic_phrases(corpus, k=3)
    assert code == 0 and len(out.splitlines()) == phrases["topic"].n_unique()
    code, _, err = run(capsys, "fragments", trained[0], data["parquet"])
    assert code == 2 and "AttentiveARTM" in err
