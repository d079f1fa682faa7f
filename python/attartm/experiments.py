"""The research programme of attentive ARTM as a command: parameter sweeps with every score
tracked per epoch, and side-by-side model comparisons.

    table = sweep(train, test, model="attentive",
                  grid={"passes": [1, 2, 3], "window": [5, 10, 20], "exclude_self": [True, False]},
                  epochs=10, seeds=(0, 1, 2), out="sweep-results")

writes ``sweep.parquet`` (one row per run × epoch × score) and plots of every score
against each parameter (seed spread as error bars) and against the epoch.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from . import _arrays
from ._model import TopicModel
from ._registry import MODEL_KINDS
from .artm import ARTM
from .attentive import AttentiveARTM
from .corpus import Corpus
from .thetaless import ThetalessARTM

MODELS: dict[str, type[TopicModel]] = MODEL_KINDS
SCORES = (
    "perplexity", "sparsity_phi", "diversity", "js_distance", "npmi", "c_npmi_10",
    "c_npmi_110", "kernel_purity",
)  # fmt: skip

# Corpora of the worker processes, sent once per process (not once per run).
_DATA: dict[str, Corpus] = {}


def _init_worker(train: Corpus, test: Corpus) -> None:
    _DATA["train"], _DATA["test"] = train, test


def _run(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One run: fit with the given parameters, scoring after the chosen epochs."""
    train, test = _DATA["train"], _DATA["test"]
    cls = MODELS[spec["model"]]
    model = cls(n_topics=spec["n_topics"], seed=spec["seed"], threads=spec["threads"],
                **spec["params"])  # fmt: skip
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()

    epochs = model.epochs if spec["epochs"] is None else spec["epochs"]
    chosen = spec["score_epochs"]

    def track(m: TopicModel, epoch: int) -> None:
        if chosen is not None and epoch not in chosen and epoch != epochs:
            return
        elapsed = time.perf_counter() - started
        # What fit settles at its end (AttentiveARTM's inference contexts), settled for
        # this epoch's model too, so that every scored epoch is scored as a fitted model is.
        m._after_training(train)
        scores = m.score(test)
        for name in spec["scores"]:
            rows.append({"run": spec["run"], "epoch": epoch, "score": name,
                         "value": float(scores[name]), "seconds": elapsed})  # fmt: skip

    model.fit(train, epochs=epochs, progress_bar=False, callback=track)
    return rows


def sweep(
    train: Corpus,
    test: Corpus,
    model: str = "attentive",
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    n_topics: int = 20,
    epochs: int | None = None,
    score_epochs: Iterable[int] | None = None,
    seeds: Iterable[int] = (0, 1, 2),
    scores: Sequence[str] = SCORES,
    fixed: Mapping[str, Any] | None = None,
    processes: int | None = None,
    out: str | os.PathLike | None = None,
) -> pl.DataFrame:
    """Trains one model per grid point and seed, scoring on ``test`` after every epoch
    (or after the epochs in ``score_epochs``, and always after the last).

    Parameters
    ----------
    train, test : Corpus
        Built with one vocabulary (``vocabulary=train.vocabulary`` for the test corpus).
    model : {"artm", "attentive", "thetaless"}
    grid : mapping of parameter name to the values to try
        Every combination is a run (e.g. ``{"passes": [1, 2], "window": [5, 10]}``).
    fixed : mapping, optional
        Parameters shared by every run.
    epochs : int, optional
        Epochs of every run; default: each model's own ``epochs``.
    score_epochs : iterable of int, optional
        The epochs after which to score (scoring costs more than an epoch); default: all.
    processes : int, optional
        Runs in parallel processes (default: one per core, each on one thread).
    out : path, optional
        A folder for ``sweep.parquet`` and the plots (needs matplotlib).

    Returns
    -------
    polars.DataFrame
        One row per run × epoch × score: run, model, seed, the grid parameters, epoch,
        score, value, seconds (training time up to that epoch).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, not {model!r}")
    if not isinstance(train, Corpus) or not isinstance(test, Corpus):
        raise TypeError("train and test must be attartm.Corpus objects")
    if train.vocabulary != test.vocabulary:
        raise ValueError("build the test corpus with vocabulary=train.vocabulary")
    unknown = [s for s in scores if s not in _score_names()]
    if unknown:
        raise ValueError(f"unknown scores {unknown}; choose from {sorted(_score_names())}")
    grid = dict(grid or {})
    seeds = [_arrays.positive_int("seed", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("give at least one seed")
    epochs = None if epochs is None else _arrays.positive_int("epochs", epochs)
    if score_epochs is not None:
        score_epochs = sorted({_arrays.positive_int("score_epochs", e) for e in score_epochs})
    names = list(grid)
    points = [dict(zip(names, values)) for values in itertools.product(*grid.values())]
    cores = os.cpu_count() or 1
    processes = min(processes or cores, len(points) * len(seeds))
    specs, runs = [], []
    for point in points:
        params = {**dict(fixed or {}), **point}
        MODELS[model](n_topics=n_topics, **params)  # fail early on a bad parameter
        for seed in seeds:
            run = len(specs)
            specs.append({"run": run, "model": model, "n_topics": n_topics, "seed": seed,
                          "params": params, "epochs": epochs, "score_epochs": score_epochs,
                          "scores": list(scores),
                          "threads": 1 if processes > 1 else None})  # fmt: skip
            runs.append({"run": run, "model": model, "seed": seed, **point})
    if processes > 1:
        # "spawn": a forked child would inherit a Rust thread pool without its threads.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(processes, mp_context=context, initializer=_init_worker,
                                 initargs=(train, test)) as pool:  # fmt: skip
            results = list(pool.map(_run, specs))
    else:
        _init_worker(train, test)
        results = [_run(spec) for spec in specs]
    table = pl.DataFrame(runs).join(
        pl.DataFrame([row for rows in results for row in rows]), on="run", how="inner"
    )
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        table.write_parquet(folder / "sweep.parquet")
        plot_sweep(table, names, folder)
    return table


def _score_names() -> set[str]:
    return {
        "perplexity", "sparsity_phi", "sparsity_theta", "diversity", "js_distance", "npmi",
        "c_npmi_10", "c_npmi_110", "kernel_size", "kernel_purity", "kernel_contrast",
    }  # fmt: skip


def summarize(table: pl.DataFrame, parameters: Sequence[str]) -> pl.DataFrame:
    """Final-epoch scores per grid point: mean and standard deviation over the seeds."""
    last = table.filter(pl.col("epoch") == pl.col("epoch").max().over("run"))
    return (
        last.group_by([*parameters, "score"], maintain_order=True)
        .agg(mean=pl.col("value").mean(), std=pl.col("value").std(), seeds=pl.len())
        .sort([*parameters, "score"])
    )


def plot_sweep(table: pl.DataFrame, parameters: Sequence[str], folder: Path) -> list[Path]:
    """One PNG per parameter: every score (final epoch) against it, one line per setting of
    the other parameters, mean ± std over the seeds; and one PNG of every score against the
    epoch. Perplexity is drawn on a log scale."""
    plt = _pyplot()
    written = []
    scores = table["score"].unique(maintain_order=True).to_list()
    last = table.filter(pl.col("epoch") == pl.col("epoch").max().over("run"))
    for parameter in parameters:
        others = [p for p in parameters if p != parameter]
        fig, axes = plt.subplots(1, len(scores), figsize=(3.4 * len(scores), 3.2), squeeze=False)
        for ax, score in zip(axes[0], scores):
            stats = (
                last.filter(pl.col("score") == score)
                .group_by([*others, parameter])
                .agg(mean=pl.col("value").mean(), std=pl.col("value").std().fill_null(0))
                .sort([*others, parameter])
            )
            series = stats.group_by(others, maintain_order=True) if others else [((), stats)]
            for key, line in series:
                name = ", ".join(f"{p}={v}" for p, v in zip(others, key))
                x = [str(v) for v in line[parameter].to_list()]
                ax.errorbar(x, line["mean"].to_list(), yerr=line["std"].to_list(), marker="o",
                            capsize=2, linewidth=1, markersize=3, label=name or None)  # fmt: skip
            _style(ax, score, parameter)
        if others:
            axes[0][-1].legend(fontsize=5, loc="best")
        fig.tight_layout()
        path = folder / f"score_vs_{parameter}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    fig, axes = plt.subplots(1, len(scores), figsize=(3.4 * len(scores), 3.2), squeeze=False)
    label = list(parameters)
    for ax, score in zip(axes[0], scores):
        part = table.filter(pl.col("score") == score)
        curves = part.group_by([*label, "epoch"]).agg(pl.col("value").mean()).sort("epoch")
        for key, curve in curves.group_by(label, maintain_order=True) if label else [((), curves)]:
            name = ", ".join(f"{p}={v}" for p, v in zip(label, key))
            ax.plot(curve["epoch"].to_list(), curve["value"].to_list(), linewidth=1,
                    label=name or None)  # fmt: skip
        _style(ax, score, "epoch")
    if label:
        axes[0][-1].legend(fontsize=4, loc="best")
    fig.tight_layout()
    path = folder / "score_vs_epoch.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def _style(ax: Any, score: str, xlabel: str) -> None:
    ax.set_title(score)
    ax.set_xlabel(xlabel)
    if score == "perplexity":
        ax.set_yscale("log")


def compare(
    train: Corpus,
    test: Corpus,
    models: Mapping[str, TopicModel] | None = None,
    *,
    epochs: int = 10,
    n_topics: int = 20,
    peers: bool = True,
) -> pl.DataFrame:
    """ARTM vs ThetalessARTM vs AttentiveARTM (and BigARTM and tomotopy's LDA when
    installed) on one corpus: one row per model with its mean epoch time (for LDA: per
    Gibbs sweep, of 20 × epochs sweeps) and every score on ``test``."""
    epochs = _arrays.positive_int("epochs", epochs)
    if models is None:
        models = {
            "ARTM": ARTM(n_topics),
            "ThetalessARTM": ThetalessARTM(n_topics),
            "AttentiveARTM L=2": AttentiveARTM(n_topics, passes=2),
        }
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(train, epochs=epochs, progress_bar=False)
        rows.append({"model": name, "epoch_ms": 1000 * (time.perf_counter() - start) / epochs,
                     **model.score(test)})  # fmt: skip
    if peers:
        from .peers import BigARTM, TomotopyLDA, bigartm_available, tomotopy_available

        threads = os.cpu_count() or 1
        others = []
        if bigartm_available():
            others.append(("BigARTM", BigARTM(n_topics, doc_passes=10, threads=threads), epochs))
        if tomotopy_available():
            # Gibbs sampling needs far more sweeps than EM needs epochs.
            others.append(("tomotopy LDA", TomotopyLDA(n_topics, threads=threads), 20 * epochs))
        for name, peer, sweeps in others:
            times = peer.fit(train, sweeps)
            rows.append({"model": name, "epoch_ms": 1000 * sum(times) / len(times),
                         **peer.to_attartm().score(test)})  # fmt: skip
    return pl.DataFrame(rows)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError('plots need matplotlib: pip install "attartm[research]"') from e
    return plt
