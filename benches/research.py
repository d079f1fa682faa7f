"""The research programme of Attentive ARTM: every knob of the model, one at a time around
the defaults, on three corpora, scored on a validation split cut from the training
documents (the test splits are never used here).

    python benches/research.py [--corpora 20ng reuters wiki] [--seeds 0 1 2]
                               [--topics 50] [--out docs/research] [--summarize]
                               [--epoch-study] [--parameters NAME ...]

For each corpus and parameter, ``attartm.experiments.sweep`` trains one AttentiveARTM per
value and seed (the other parameters at their defaults) and scores it after each epoch of
SCORE_EPOCHS and the last: held-out perplexity and the coherences npmi, c_npmi_10 and
c_npmi_110 on the validation documents. The online settings (τ0/κ and δ/α of
``fit_online``) are swept the same way with ``fit_online``. Writes
``OUT/<corpus>.parquet`` (one row per run × epoch × score), ``OUT/<corpus>.png`` (every
score against every parameter, mean ± sd over the seeds) and ``OUT/summary.md`` (the
final-epoch means, the table docs/research.md quotes).
``--parameters`` reruns only the named parameters of PARAMETERS (with a fresh run of the
defaults as their default rows) and replaces their rows in the corpus's existing table,
keeping the others: how a parameter added after a full run joins the programme.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

import attartm
from _data import CORPORA, DATA, require, validation_split
from attartm import experiments

SCORES = ("perplexity", "npmi", "c_npmi_10", "c_npmi_110")
# Every parameter of the programme with the values tried; the others stay at the defaults.
PARAMETERS: dict[str, list] = {
    "passes": [1, 2, 3],
    "window": [3, 5, 20],
    "window_backward": [5.0, 20.0],
    "beta": [0.25, 0.75],
    "boundaries": [
        {"sentence": 1.0, "paragraph": 1.0},
        {"sentence": 0.0, "paragraph": 1.0},
    ],
    "filter": ["p/n_t", "phi"],
    "exclude_self": [True, False],
    "document_weight": [0.0, 0.2],
    "tempering": [0.5, 1.0],
    "updates_per_epoch": [1, 10, 50],
    "inference_window": ["auto", None],
    "inference_passes": ["auto", None],
    "inference_document_weight": ["auto", 0.0],
    "background_topics": [(), (49,)],
    "context_prior": [0.0, 1.0, 2.0, 4.0],
}
# The epochs after which every run is scored, besides the last (the model's `epochs`).
SCORE_EPOCHS = [10, 20, 30, 40]
ONLINE = {
    "τ0=64, κ=0.5": {"tau0": 64.0, "kappa": 0.5},
    "τ0=1024, κ=0.7": {"tau0": 1024.0, "kappa": 0.7},
    "δ=0.5, α=1": {"decay_weight": 0.5, "apply_weight": 1.0},
}


# How the defaults were chosen (docs/research.md §1), in two rounds on the 20 Newsgroups
# validation split. Round 1 (before the inference contexts of docs/mathematics.md §5.1
# existed, so its perplexities were those of the training contexts): a grid over the new
# mechanisms, then more epochs around the best points. Round 2 (inference contexts chosen
# by likelihood, so that the training window and updates are chosen for coherence): the
# updates per epoch and the window around round 1's choice, and κ beside it; round 3 the
# best two of round 2 on more seeds.
SELECTION = {
    1: [
        {"window": w, "tempering": k, "document_weight": dw, "updates_per_epoch": u, "epochs": 30}
        for u in (20, 50) for w in (5, 10) for k in (0.6, 0.7, 0.8, 1.0) for dw in (0.0, 0.2)
    ] + [
        {"window": w, "tempering": 0.7, "document_weight": dw, "updates_per_epoch": 50, "epochs": 50}
        for w in (5, 7, 10) for dw in (0.0, 0.1)
    ] + [
        {"window": w, "tempering": 0.7, "document_weight": 0.0, "updates_per_epoch": 50, "epochs": 60}
        for w in (8, 10)
    ],
    2: [
        {"window": w, "tempering": 0.7, "updates_per_epoch": u, "epochs": 50}
        for u in (5, 10, 20, 50) for w in (7, 10, 15)
    ] + [
        {"window": 10, "tempering": k, "updates_per_epoch": 10, "epochs": 50} for k in (0.6, 0.8)
    ],
    # Round 3: the two best of round 2 on more seeds (--seeds 0 1 2 3 4 5 6 7 8, and with
    # --topics 30 --seeds 0 1 2 3 4 5).
    3: [
        {"window": 10, "tempering": 0.7, "updates_per_epoch": u, "epochs": 50} for u in (10, 50)
    ],
}  # fmt: skip


def selection(fit, val, n_topics: int, seeds, round_: int) -> pl.DataFrame:
    """A round of the selection grid, scored at the last epoch: one row per setting and
    seed."""
    rows = []
    for setting in SELECTION[round_]:
        for seed in seeds:
            model = attartm.AttentiveARTM(n_topics, passes=2, seed=seed, **setting)
            model.fit(fit, progress_bar=False)
            scores = model.score(val)
            rows.append({**setting, "seed": seed, **{s: float(scores[s]) for s in SCORES},
                         "inference_window": getattr(model, "inference_window_", None),
                         "inference_passes": getattr(model, "inference_passes_", None),
                         "inference_document_weight": getattr(
                             model, "inference_document_weight_", None)})  # fmt: skip
            print(rows[-1], flush=True)
    return pl.DataFrame(rows)


def wiki(n_articles: int = 1000) -> tuple[attartm.Corpus, None]:
    """The first ``n_articles`` articles of the Wikipedia sample's part-0."""
    frame = pl.read_parquet(require(DATA / "enwiki_sample" / "part-0.parquet")).head(n_articles)
    return attartm.Corpus.from_polars(frame, text="text", id="id", min_df=5, max_df=0.5), None


LOADERS = {**CORPORA, "wiki": wiki}


def online_runs(fit, val, n_topics: int, seeds, batch_size: int, epochs: int) -> pl.DataFrame:
    """``fit_online`` with each schedule of ONLINE, scored at the end."""
    rows = []
    batches = -(-fit.n_documents // batch_size)
    for label, schedule in ONLINE.items():
        if "decay_weight" in schedule and schedule["decay_weight"] is None:
            schedule = {**schedule, "decay_weight": 1.0 - 1.0 / batches}
        for seed in seeds:
            model = attartm.AttentiveARTM(n_topics, seed=seed, updates_per_epoch=1)
            start = time.perf_counter()
            model.fit_online(fit, batch_size=batch_size, epochs=epochs, progress_bar=False,
                             **schedule)  # fmt: skip
            seconds = time.perf_counter() - start
            scores = model.score(val)
            for name in SCORES:
                rows.append({"parameter": "online", "value": label, "seed": seed,
                             "epoch": epochs, "score": name, "result": float(scores[name]),
                             "seconds": seconds})  # fmt: skip
    return pl.DataFrame(rows)


def reference_runs(fit, val, n_topics: int, seeds) -> pl.DataFrame:
    """The peers the defaults must beat, on the same validation split: tomotopy's LDA
    (200 Gibbs sweeps) and classic ARTM (15 epochs)."""
    from attartm.peers import TomotopyLDA, tomotopy_available

    rows = []

    def add(label: str, model: attartm.TopicModel, seed: int, epochs: int, seconds: float):
        scores = model.score(val)
        for name in SCORES:
            rows.append({"parameter": "reference", "value": label, "seed": seed,
                         "epoch": epochs, "score": name, "result": float(scores[name]),
                         "seconds": seconds})  # fmt: skip

    for seed in seeds:
        if tomotopy_available():
            lda = TomotopyLDA(n_topics, threads=2, seed=seed)
            seconds = float(np.sum(lda.fit(fit, 200)))
            add("tomotopy LDA, 200 sweeps", lda.to_attartm(), seed, 200, seconds)
        classic = attartm.ARTM(n_topics, epochs=15, seed=seed)
        start = time.perf_counter()
        classic.fit(fit, progress_bar=False)
        add("ARTM, 15 epochs", classic, seed, 15, time.perf_counter() - start)
    return pl.DataFrame(rows)


def parameter_runs(
    fit, val, n_topics: int, seeds, parameters=PARAMETERS, with_epochs: bool = True
) -> pl.DataFrame:
    """The defaults once (also as the ``epochs`` rows, ``with_epochs``), then every other
    value of each of ``parameters``."""
    defaults = attartm.AttentiveARTM(n_topics).get_params()
    defaults["window"] = defaults["window"] or attartm.AttentiveARTM.DEFAULT_WINDOW

    def run(grid: dict) -> pl.DataFrame:
        return experiments.sweep(
            fit, val, "attentive", grid, n_topics=n_topics, seeds=seeds, scores=SCORES,
            score_epochs=SCORE_EPOCHS, processes=2,
        )  # fmt: skip

    base = run({})
    # The epochs: the default runs as they were after each scored epoch.
    frames = [
        base.select(
            pl.lit("epochs").alias("parameter"), pl.col("epoch").cast(pl.String).alias("value"),
            "seed", "epoch", "score", pl.col("value").alias("result"), "seconds",
        )
    ] if with_epochs else []  # fmt: skip
    for parameter, values in parameters.items():
        default = defaults[parameter]
        others = [v for v in values if not _same(v, default)]
        print(f"  {parameter}: {others} (default {default!r})", flush=True)
        parts = [(default, base)]
        if others:
            # sweep numbers the runs value by value, seed by seed.
            table = run({parameter: others})
            parts += [(v, table.filter(pl.col("run") // len(seeds) == i))
                      for i, v in enumerate(others)]  # fmt: skip
        for value, part in parts:
            frames.append(part.select(
                pl.lit(parameter).alias("parameter"), pl.lit(str(value)).alias("value"),
                "seed", "epoch", "score", pl.col("value").alias("result"), "seconds",
            ))  # fmt: skip
    return pl.concat(frames)


def _same(a, b) -> bool:
    """Parameter values equal as the model stores them (tuples and lists alike)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return {**{"sentence": 0.0, "paragraph": 0.0}, **a} == {
            **{"sentence": 0.0, "paragraph": 0.0},
            **b,
        }
    return a == b


def _in_order(stats: pl.DataFrame) -> pl.DataFrame:
    """Numeric values in increasing order (the default first otherwise)."""
    numbers = stats["value"].cast(pl.Float64, strict=False)
    return stats.sort(numbers) if numbers.null_count() == 0 else stats


def plot(table: pl.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    last = table.filter(pl.col("epoch") == pl.col("epoch").max().over("parameter", "value", "seed"))
    parameters = last["parameter"].unique(maintain_order=True).to_list()
    fig, axes = plt.subplots(len(parameters), len(SCORES), figsize=(3.2 * len(SCORES),
                             1.9 * len(parameters)), squeeze=False)  # fmt: skip
    for row, parameter in zip(axes, parameters):
        part = last.filter(pl.col("parameter") == parameter)
        for ax, score in zip(row, SCORES):
            stats = _in_order(
                part.filter(pl.col("score") == score)
                .group_by("value", maintain_order=True)
                .agg(mean=pl.col("result").mean(), sd=pl.col("result").std().fill_null(0))
            )
            ax.errorbar(stats["value"].to_list(), stats["mean"].to_list(),
                        yerr=stats["sd"].to_list(), marker="o", capsize=2, linewidth=1,
                        markersize=3)  # fmt: skip
            ax.set_title(f"{score} vs {parameter}", fontsize=7)
            ax.tick_params(labelsize=6)
            for label in ax.get_xticklabels():
                label.set_rotation(20)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def summary(table: pl.DataFrame) -> pl.DataFrame:
    last = table.filter(pl.col("epoch") == pl.col("epoch").max().over("parameter", "value", "seed"))
    return (
        last.group_by("parameter", "value", "score", maintain_order=True)
        .agg(mean=pl.col("result").mean(), sd=pl.col("result").std())
        .pivot("score", index=["parameter", "value"], values=["mean", "sd"])
    )


# The epoch study (docs/research.md §1.2): the defaults trained for 100 epochs, scored after
# 50, 75 and 100, on every corpus at T = 50 and on 20 Newsgroups and Reuters at T = 30.
EPOCH_STUDY = {"epochs": 100, "score_epochs": [50, 75, 100], "topics": {"20ng": [50, 30],
               "reuters": [50, 30], "wiki": [50]}}  # fmt: skip


def epoch_study(corpora, seeds, out: Path) -> None:
    """The defaults for EPOCH_STUDY's epochs on each corpus's validation split, scored after
    each of its score_epochs: OUT/epochs.parquet and a table of mean ± sd."""
    frames = []
    for name in corpora:
        fit, val = validation_split(LOADERS[name]()[0])
        for n_topics in EPOCH_STUDY["topics"][name]:
            table = experiments.sweep(
                fit, val, "attentive", {}, n_topics=n_topics, epochs=EPOCH_STUDY["epochs"],
                score_epochs=EPOCH_STUDY["score_epochs"], seeds=seeds, scores=SCORES,
                processes=2,
            )  # fmt: skip
            frames.append(table.with_columns(pl.lit(name).alias("corpus"),
                                             pl.lit(n_topics).alias("topics")))  # fmt: skip
    table = pl.concat(frames, how="diagonal_relaxed")
    table.write_parquet(out / "epochs.parquet")
    stats = table.group_by("corpus", "topics", "epoch", "score", maintain_order=True).agg(
        pl.col("value").mean().alias("mean"), pl.col("value").std().alias("sd")
    )
    print("| corpus | T | epochs | " + " | ".join(SCORES) + " |")
    for (corpus, topics, epoch), rows in stats.group_by(
        "corpus", "topics", "epoch", maintain_order=True
    ):
        by = {r["score"]: r for r in rows.iter_rows(named=True)}
        cells = [f"{by[s]['mean']:.4g} ± {by[s]['sd']:.2g}" for s in SCORES]
        print(f"| {corpus} | {topics} | {epoch} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--out", default=str(Path(__file__).parents[1] / "docs" / "research"))
    parser.add_argument("--selection", type=int, choices=sorted(SELECTION),
                        help="run a round of the grid the defaults were chosen from (20 Newsgroups)")  # fmt: skip
    parser.add_argument("--epoch-study", action="store_true",
                        help="only the epoch study of docs/research.md §1.2")  # fmt: skip
    parser.add_argument("--summarize", action="store_true",
                        help="only rewrite OUT/summary.md from the tables in OUT")  # fmt: skip
    parser.add_argument("--parameters", nargs="+", choices=list(PARAMETERS),
                        help="rerun only these parameters, into the existing tables")  # fmt: skip
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.selection:
        fit, val = validation_split(LOADERS["20ng"]()[0])
        table = selection(fit, val, args.topics, args.seeds, args.selection)
        table.write_parquet(out / f"selection-{args.selection}.parquet")
        keys = [k for k in SELECTION[args.selection][0]]
        print(table.group_by(keys, maintain_order=True).agg(pl.col(SCORES).mean()))
        return
    if args.epoch_study:
        epoch_study(args.corpora, args.seeds, out)
        return
    if args.summarize:
        write_summary(out, args.seeds, args.topics)
        return
    for name in args.corpora:
        train, _ = LOADERS[name]()
        fit, val = validation_split(train)
        print(f"{name}: fit {fit}, validation {val}", flush=True)
        if args.parameters:
            chosen = {p: PARAMETERS[p] for p in args.parameters}
            old = pl.read_parquet(out / f"{name}.parquet")
            table = pl.concat([
                old.filter(~pl.col("parameter").is_in(list(chosen))),
                parameter_runs(fit, val, args.topics, args.seeds, chosen, with_epochs=False)
                .cast(old.schema),
            ])  # fmt: skip
        else:
            table = pl.concat([
                reference_runs(fit, val, args.topics, args.seeds),
                parameter_runs(fit, val, args.topics, args.seeds),
                online_runs(fit, val, args.topics, args.seeds, batch_size=500, epochs=15),
            ])  # fmt: skip
        table.write_parquet(out / f"{name}.parquet")
        plot(table, out / f"{name}.png", f"{name}: {fit.n_documents} training documents")
        write_summary(out, args.seeds, args.topics)


def write_summary(out: Path, seeds, n_topics: int) -> None:
    """OUT/summary.md from every corpus's table in OUT (a run of some corpora keeps the
    others' results)."""
    md = [f"Validation-split scores at the last epoch, mean (sd) over seeds {seeds}, "
          f"T={n_topics}. Produced by `python benches/research.py`."]  # fmt: skip
    for name in LOADERS:
        if not (out / f"{name}.parquet").exists():
            continue
        stats = summary(pl.read_parquet(out / f"{name}.parquet"))
        md += ["", f"## {name}", "", "| parameter | value | " + " | ".join(SCORES) + " |",
               "|---|---|" + "---:|" * len(SCORES)]  # fmt: skip
        for row in stats.iter_rows(named=True):
            cells = [f"{row[f'mean_{s}']:.4g} ({np.nan_to_num(row[f'sd_{s}']):.2g})"
                     for s in SCORES]  # fmt: skip
            md.append(f"| {row['parameter']} | {row['value']} | " + " | ".join(cells) + " |")
    (out / "summary.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
