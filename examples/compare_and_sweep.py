"""Reproduces the 20 Newsgroups comparison and a short sweep, writing tables and plots.

    python examples/compare_and_sweep.py [--out examples/results] [--epochs 15]

1. ARTM vs ThetalessARTM vs AttentiveARTM (and BigARTM when installed): one table.
2. A short sweep of AttentiveARTM over passes L ∈ {1, 2} × window ∈ {5, 20}, 2 seeds:
   sweep.parquet (one row per run × epoch × score) and plots of every score.
Reads ../shared/data/20newsgroups (not part of the repository).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

import attartm
from attartm import experiments

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "20newsgroups"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--topics", type=int, default=50)
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"20 Newsgroups not found at {DATA} (it lives in ../shared/data)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    train = attartm.Corpus.from_parquet(DATA / "train.parquet", text="text", id="id",
                                        min_df=5, max_df=0.5)  # fmt: skip
    test = attartm.Corpus.from_parquet(DATA / "test.parquet", text="text", id="id",
                                       vocabulary=train.vocabulary)  # fmt: skip
    print(f"train: {train}\ntest:  {test}")

    t = args.topics
    table = experiments.compare(
        train, test, epochs=args.epochs, n_topics=t,
        models={
            "ARTM": attartm.ARTM(t),
            "ThetalessARTM": attartm.ThetalessARTM(t),
            "AttentiveARTM L=1": attartm.AttentiveARTM(t, passes=1),
            "AttentiveARTM L=2": attartm.AttentiveARTM(t, passes=2),
        },
    )  # fmt: skip
    with pl.Config(tbl_rows=20, tbl_cols=20, tbl_width_chars=200):
        print(table)
    table.write_csv(out / "compare_20ng.csv")

    sweep = experiments.sweep(
        train, test, "attentive", {"passes": [1, 2], "window": [5, 20]},
        n_topics=t, epochs=5, seeds=(0, 1), out=out / "short_sweep",
    )  # fmt: skip
    with pl.Config(tbl_rows=40):
        print(experiments.summarize(sweep, ["passes", "window"]))
    print(f"tables and plots in {out}")


if __name__ == "__main__":
    main()
