"""Topic quality against LDA: held-out perplexity and coherence on the test split, means
and standard deviations over seeds, for the default AttentiveARTM and each ablation of
its recipe, beside tomotopy's LDA, BigARTM and classic ARTM on the same token ids.

    python benches/bench_quality.py [--corpora 20ng reuters] [--topics 50 30]
                                    [--seeds 0 1 2] [--threads 2] [--out benches/results]

Every model trains on the whole train split (20 Newsgroups "bydate" train; Reuters-21578
ModApte train), vocabulary min_df=5, max_df=0.5, and is scored on the test split by the
same code: held-out perplexity by document completion, and the coherence of its top-10
words over the test texts: ``npmi`` (document co-occurrence), ``c_npmi_10`` and
``c_npmi_110`` (sliding windows, gensim's c_npmi). The defaults were chosen on a
validation split cut from the training documents (docs/research.md), never on test.
Epoch times are the mean wall time per epoch (LDA: per Gibbs sweep); the ratio to
BigARTM's epoch is taken within the same run. Writes quality.md and quality.json.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np

import attartm
from _data import CORPORA
from attartm.peers import BigARTM, TomotopyLDA, bigartm_available, tomotopy_available

SCORES = ("perplexity", "npmi", "c_npmi_10", "c_npmi_110")
# Each ablation turns one mechanism of the default recipe back to what the model did
# before it (docs/research.md explains each); `context_prior=1` instead adds the prior on
# the contexts of training that was a default from f631838 to 742107d.
ABLATIONS = {
    "inference in the training contexts (inference_window=None, inference_passes=None, "
    "inference_document_weight=None)": {
        "inference_window": None,
        "inference_passes": None,
        "inference_document_weight": None,
    },
    "inference without a document head (inference_document_weight=0)": {
        "inference_document_weight": 0.0,
    },
    "tempering=1 (plain EM)": {"tempering": 1.0},
    "context_prior=1 (a prior of one token on the contexts of training)": {"context_prior": 1.0},
    "updates_per_epoch=1 (offline EM)": {"updates_per_epoch": 1},
    "updates_per_epoch=10": {"updates_per_epoch": 10},
    "epochs=50 (the default before the epoch study, docs/research.md §1.2)": {"epochs": 50},
    "epochs=15": {"epochs": 15},
    "passes=1": {"passes": 1},
    "the old defaults (passes=1, window 10, plain offline EM, 15 epochs, training contexts)": {
        "passes": 1,
        "tempering": 1.0,
        "context_prior": 0.0,
        "updates_per_epoch": 1,
        "epochs": 15,
        "inference_window": None,
        "inference_passes": None,
        "inference_document_weight": None,
    },
}
CHOSEN = {"h": "inference_window_", "L": "inference_passes_", "λ": "inference_document_weight_"}
CLASSIC_EPOCHS = 15
LDA_SWEEPS = 200


def scored(model: attartm.TopicModel, test: attartm.Corpus) -> dict[str, float]:
    phi = model.phi
    return {
        "perplexity": model.perplexity(test),
        "npmi": attartm.scores.coherence(phi, test, window=None),
        "c_npmi_10": attartm.scores.coherence(phi, test, window=10),
        "c_npmi_110": attartm.scores.coherence(phi, test, window=110),
    }


def timed_fit(cls, n_topics: int, train, params: dict) -> tuple[attartm.TopicModel, float, float]:
    """The fitted model, its seconds per epoch and the seconds of choosing its inference
    contexts (AttentiveARTM: made once at the end of fit, docs/mathematics.md §5.1; timed
    apart so that the epoch figure is one pass of training)."""
    model = cls(n_topics, **params)
    inference = {k: v for k, v in model.get_params().items() if k.startswith("inference_")}
    model.set_params(**dict.fromkeys(inference))  # training alone: the same Φ
    start = time.perf_counter()
    model.fit(train, progress_bar=False)
    epoch = (time.perf_counter() - start) / model.epochs
    model.set_params(**inference)
    start = time.perf_counter()
    if "auto" in inference.values():
        model.choose_inference(train)
    return model, epoch, time.perf_counter() - start


def runs(train, test, n_topics: int, seeds, threads: int) -> dict[str, list[dict]]:
    """Every model and seed: scores and epoch seconds."""
    out: dict[str, list[dict]] = {}

    def add(name: str, model, epoch_s: float, choice_s: float = 0.0) -> None:
        row = {**scored(model, test), "epoch_ms": 1000 * epoch_s, "choice_s": choice_s}
        # The inference contexts chosen (AttentiveARTM under "auto"; NaN otherwise).
        for key, attribute in CHOSEN.items():
            value = getattr(model, attribute, None)
            row[key] = math.nan if value is None else float(value)
        out.setdefault(name, []).append(row)
        print(f"  {name:<44} " + "  ".join(f"{k} {v:.4g}" for k, v in row.items()), flush=True)

    for seed in seeds:
        if tomotopy_available():
            lda = TomotopyLDA(n_topics, threads=threads, seed=seed)
            times = lda.fit(train, LDA_SWEEPS)
            add(f"tomotopy LDA ({LDA_SWEEPS} sweeps)", lda.to_attartm(), float(np.mean(times)))
        if bigartm_available():
            peer = BigARTM(n_topics, doc_passes=10, threads=threads, seed=seed)
            times = peer.fit(train, CLASSIC_EPOCHS)
            add("BigARTM 0.9.2", peer.to_attartm(), float(np.mean(times)))
        classic = {"epochs": CLASSIC_EPOCHS, "seed": seed, "threads": threads}
        add("ARTM", *timed_fit(attartm.ARTM, n_topics, train, classic))
        attentive = {"seed": seed, "threads": threads}
        add("AttentiveARTM (defaults)", *timed_fit(attartm.AttentiveARTM, n_topics, train,
                                                   attentive))  # fmt: skip
        for label, change in ABLATIONS.items():
            add(f"AttentiveARTM, {label}",
                *timed_fit(attartm.AttentiveARTM, n_topics, train, {**attentive, **change}))  # fmt: skip
    return out


def summary(results: dict[str, list[dict]]) -> dict[str, dict[str, tuple[float, float]]]:
    def mean_sd(rows: list[dict], key: str) -> tuple[float, float]:
        values = [r[key] for r in rows]
        return float(np.mean(values)), float(np.std(values))

    return {name: {k: mean_sd(rows, k) for k in rows[0]} for name, rows in results.items()}


def table(means: dict[str, dict[str, tuple[float, float]]]) -> list[str]:
    lda = next((v for k, v in means.items() if k.startswith("tomotopy")), None)
    big = means.get("BigARTM 0.9.2")
    lines = [
        "| model | perplexity | × LDA | NPMI (doc) | c_npmi_10 | c_npmi_110 | epoch ms | × BigARTM | inference choice s | chosen h / L' / λ' |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in means.items():
        ratio = m["perplexity"][0] / lda["perplexity"][0] if lda else float("nan")
        speed = m["epoch_ms"][0] / big["epoch_ms"][0] if big else float("nan")
        cells = [f"{m['perplexity'][0]:.0f} ± {m['perplexity'][1]:.0f}", f"{ratio:.3f}"]
        cells += [f"{m[k][0]:.3f} ± {m[k][1]:.3f}" for k in ("npmi", "c_npmi_10", "c_npmi_110")]
        cells += [f"{m['epoch_ms'][0]:.0f}", f"{speed:.2f}", f"{m['choice_s'][0]:.2f}"]
        chosen = [m[key][0] for key in CHOSEN]
        cells.append(" / ".join(f"{v:.2g}" for v in chosen) if math.isfinite(chosen[0]) else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    parser.add_argument("--topics", nargs="+", type=int, default=[50, 30])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()

    defaults = attartm.AttentiveARTM(2).get_params()
    defaults["window"] = defaults["window"] or attartm.AttentiveARTM.DEFAULT_WINDOW
    lines = [
        f"Test-split scores, mean ± sd over seeds {args.seeds}, {args.threads} threads; "
        f"{platform.machine()}, {time.strftime('%Y-%m-%d')}. Produced by "
        "`python benches/bench_quality.py`.",
        "",
        "AttentiveARTM defaults: "
        + ", ".join(f"{k}={defaults[k]!r}" for k in ("passes", "window", "document_weight",
                                                   "tempering", "context_prior",
                                                   "updates_per_epoch", "epochs",
                                                   "inference_window", "inference_passes",
                                                   "inference_document_weight"))
        + f"; ARTM and BigARTM: {CLASSIC_EPOCHS} epochs, doc_passes=10; LDA: tomotopy "
        f"LDAModel (α=0.1, η=0.01), {LDA_SWEEPS} Gibbs sweeps (its epoch is one sweep).",
    ]  # fmt: skip
    everything = {}
    for corpus in args.corpora:
        train, test = CORPORA[corpus]()
        for n_topics in args.topics:
            print(f"{corpus}, T={n_topics}: {train} → {test}", flush=True)
            means = summary(runs(train, test, n_topics, args.seeds, args.threads))
            everything[f"{corpus}/T={n_topics}"] = means
            lines += ["", f"### {corpus}, T={n_topics}", "", *table(means)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.md").write_text("\n".join(lines) + "\n")
    (out / "quality.json").write_text(json.dumps(everything, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
