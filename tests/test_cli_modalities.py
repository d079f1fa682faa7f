"""The command line with modalities: train with --modality and --modality-weight, predict a
label, eval's perplexity of every modality, the report's top values per modality."""

from __future__ import annotations

import json

import polars as pl
import pytest

import attartm

from .test_cli import run, synthetic_frame


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-modalities")
    frame = synthetic_frame().with_columns(
        tags=pl.col("label").map_elements(lambda g: [g[:3], "any"], return_dtype=pl.List(pl.String))
    )
    frame.write_parquet(root / "docs.parquet")
    return root, frame


@pytest.mark.parametrize("online", [False, True])
def test_train_and_predict_a_label(data, tmp_path, capsys, online):
    root, frame = data
    model = tmp_path / "m.attartm"
    code, _, err = run(
        capsys, "train", root / "docs.parquet", "--id", "doc", "-o", model, "--topics", 3,
        "--epochs", 10, "--modality", "label=label", "--modality", "tags=tags",
        "--modality-weight", "label=5", *(["--online", "--batch-size", 20] if online else []),
    )  # fmt: skip
    assert code == 0, err
    loaded = attartm.load(model)
    assert loaded.modalities == {"text": 1.0, "label": 5.0, "tags": 1.0}
    out_path = tmp_path / "predictions.parquet"
    code, _, err = run(
        capsys, "predict", model, root / "docs.parquet", "--id", "doc", "--modality", "label",
        "-k", 2, "-o", out_path,
    )  # fmt: skip
    assert code == 0, err
    predicted = pl.read_parquet(out_path)
    assert predicted.columns == ["id", "rank", "value", "probability"]
    assert predicted.height == 2 * frame.height
    best = predicted.filter(pl.col("rank") == 1).sort("id")
    truth = frame.sort("doc")
    accuracy = (best["value"] == truth["label"]).mean()
    assert accuracy >= (0.9 if not online else 0.6), accuracy


def test_eval_and_report_read_the_modalities(data, tmp_path, capsys):
    root, _ = data
    model = tmp_path / "m.attartm"
    run(capsys, "train", root / "docs.parquet", "-o", model, "--topics", 3, "--epochs", 10,
        "--modality", "label=label", "--modality-weight", "label=5")  # fmt: skip
    code, out, err = run(capsys, "eval", model, root / "docs.parquet", "--modality", "label=label")
    assert code == 0, err
    scores = json.loads(out)
    assert scores["perplexity_text"] == scores["perplexity"]
    assert 1.0 <= scores["perplexity_label"] < 2.0
    page = tmp_path / "report.html"
    code, _, err = run(capsys, "report", model, root / "docs.parquet", "-o", page,
                       "--modality", "label=label")  # fmt: skip
    assert code == 0, err
    html = page.read_text()
    assert "Topics in label" in html and "cooking" in html


def test_bad_modality_options_are_clean_errors(data, tmp_path, capsys):
    root, _ = data
    model = tmp_path / "m.attartm"
    code, _, err = run(capsys, "train", root / "docs.parquet", "-o", model, "--modality-weight",
                       "label")  # fmt: skip
    assert code == 2 and "--modality-weight takes NAME=VALUE" in err
    code, _, err = run(capsys, "train", root / "docs.parquet", "-o", model, "--modality-weight",
                       "label=heavy", "--modality", "label=label")  # fmt: skip
    assert code == 2 and "'heavy' is not a number" in err
    code, _, err = run(capsys, "train", root / "docs.parquet", "-o", model, "--modality",
                       "label=nope")  # fmt: skip
    assert code == 2 and "modality 'label' column 'nope' not found" in err
    run(capsys, "train", root / "docs.parquet", "-o", model, "--topics", 3, "--epochs", 2)
    code, _, err = run(capsys, "predict", model, root / "docs.parquet", "--modality", "label",
                       "-o", tmp_path / "p.parquet")  # fmt: skip
    assert code == 2 and "--modality names one of the model's other modalities" in err
