"""20 Newsgroups with the newsgroup as a label modality: ARTM and AttentiveARTM beside
BigARTM with the same class weights, in one run (issue 11, acceptance item 2).

    python benches/bench_modalities.py [--topics 40] [--label-weight 150] [--epochs 15]
        [--seeds 0] [--threads 2] [--out benches/results]

Every model trains on the same token ids (train split, min_df=5, max_df=0.5) with the
newsgroup as a modality "label" of weight ``--label-weight`` beside the text's 1
(BigARTM: class_ids {"@default_class": 1, "@label": weight}), for the same number of
epochs. On the test split each predicts the newsgroup from the text alone (ours:
``model.predict(test, "label")``; BigARTM: ``transform(predict_class_id="@label")``), and
accuracy is the share of documents whose top value is their newsgroup. Perplexity of the
text (document completion, docs/mathematics.md §5) and NPMI of the top 10 words over the
test documents are our scorers for every model (BigARTM's Φ of the text handed to them);
the label's perplexity (its values predicted from the text) is ours only. Times are wall-clock seconds of the whole training
and of the prediction.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl

import attartm
from _data import DATA, require
from attartm.peers import BigARTM, bigartm_available

T = TypeVar("T")


def corpora() -> tuple[attartm.Corpus, attartm.Corpus, np.ndarray]:
    """Train and test with the label modality (test in the train vocabularies), and the
    test newsgroups."""
    folder = require(DATA / "20newsgroups")
    train_frame = pl.read_parquet(folder / "train.parquet")
    test_frame = pl.read_parquet(folder / "test.parquet")
    labels = {"label": "newsgroup"}
    train = attartm.Corpus.from_polars(
        train_frame, text="text", id="id", min_df=5, max_df=0.5, modalities=labels
    )
    test = attartm.Corpus.from_polars(
        test_frame, text="text", id="id", vocabulary=train.vocabularies, modalities=labels
    )
    return train, test, test_frame["newsgroup"].to_numpy()


def timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--topics", type=int, default=40)
    parser.add_argument("--label-weight", type=float, default=150.0)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    t, epochs, threads = args.topics, args.epochs, args.threads
    weights = {"label": args.label_weight}

    train, test, truth = corpora()
    text_only = test.without("label")
    print(f"train: {train}\ntest:  {test}", flush=True)
    rows = []

    def record(
        name: str,
        seed: int,
        predicted: np.ndarray,
        fit_s: float,
        predict_s: float,
        model: attartm.TopicModel,
    ) -> None:
        # The text's perplexity from the text alone (the labels, of weight 150, would
        # otherwise set most of θ); the label's from the text.
        s = model.score(text_only)
        labelled = "label" in model.modalities
        row = {
            "model": name,
            "seed": seed,
            "accuracy": float(np.mean(predicted == truth)),
            "perplexity_text": s["perplexity"],
            "perplexity_label": model.perplexity(test, modality="label") if labelled else None,
            "npmi": s["npmi"],
            "fit_s": fit_s,
            "predict_s": predict_s,
        }
        rows.append(row)
        print(
            f"{name:<16} seed {seed}  accuracy {row['accuracy']:.4f}  "
            f"perplexity {row['perplexity_text']:8.1f}  npmi {row['npmi']:.3f}  "
            f"fit {fit_s:6.1f} s  predict {predict_s:5.1f} s",
            flush=True,
        )

    for seed in args.seeds:
        if bigartm_available():
            peer = BigARTM(t, doc_passes=10, threads=threads, seed=seed, modality_weights=weights)
            _, fit_s = timed(peer.fit, train, epochs)
            predicted, predict_s = timed(peer.predict, text_only, "label")
            record("BigARTM 0.9.2", seed, predicted, fit_s, predict_s, peer.to_attartm())
        else:
            print("BigARTM is not installed: pip install bigartm==0.9.2 six protobuf==3.20.3")
        ours = {
            "ARTM": attartm.ARTM(t, modality_weights=weights, seed=seed, threads=threads),
            "AttentiveARTM": attartm.AttentiveARTM(
                t, modality_weights=weights, seed=seed, threads=threads
            ),
        }
        for name, model in ours.items():
            _, fit_s = timed(model.fit, train, epochs=epochs, progress_bar=False)
            best, predict_s = timed(model.predict, text_only, "label")
            record(name, seed, best["value"].to_numpy(), fit_s, predict_s, model)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "topics": t,
        "label_weight": args.label_weight,
        "epochs": epochs,
        "seeds": args.seeds,
        "threads": threads,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    (out / "modalities.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (out / "modalities.md").write_text(markdown(rows, meta))
    print(markdown(rows, meta))


def markdown(rows: list[dict], meta: dict) -> str:
    """One line per model: the mean over seeds (± the spread when there are several)."""
    frame = pl.DataFrame(rows)

    def cell(values: pl.Series, fmt: str) -> str:
        values = values.drop_nulls()
        if values.len() == 0:
            return "—"
        mean = format(values.mean(), fmt)
        return mean if values.len() == 1 else f"{mean} ± {format(values.std(), fmt)}"

    lines = [
        f"20 Newsgroups, the newsgroup as a label modality: T = {meta['topics']}, label weight "
        f"{meta['label_weight']:g} (text 1), {meta['epochs']} epochs, seeds {meta['seeds']}, "
        f"{meta['threads']} threads ({meta['machine']}). Command: `python "
        f"benches/bench_modalities.py --topics {meta['topics']} --label-weight "
        f"{meta['label_weight']:g} --epochs {meta['epochs']} --seeds "
        f"{' '.join(map(str, meta['seeds']))} --threads {meta['threads']}`.",
        "",
        "| model | test accuracy | text perplexity | label perplexity | NPMI (doc) | fit s | "
        "predict s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(frame["model"].to_list()):
        g = frame.filter(pl.col("model") == name)
        lines.append(
            f"| {name} | {cell(g['accuracy'], '.4f')} | {cell(g['perplexity_text'], '.0f')} | "
            f"{cell(g['perplexity_label'], '.3f')} | {cell(g['npmi'], '.3f')} | "
            f"{cell(g['fit_s'], '.1f')} | {cell(g['predict_s'], '.1f')} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
