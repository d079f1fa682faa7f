"""Shared loading of benchmark corpora from ../shared/data (never copied into the repo)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import attartm

DATA = Path(
    os.environ.get("ATTARTM_DATA") or Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
)


def require(path: Path) -> Path:
    if not path.exists():
        sys.exit(
            f"benchmark data not found at {path}: it lives in ../shared/data beside the repo (or set ATTARTM_DATA)"
        )
    return path


def newsgroups(min_df: int = 5, max_df: float = 0.5) -> tuple[attartm.Corpus, attartm.Corpus]:
    """20 Newsgroups train and test, tokenized with the train vocabulary."""
    # Imported here: a parent that only starts benchmarks in fresh processes stays small.
    import polars as pl

    import attartm

    folder = require(DATA / "20newsgroups")
    train = attartm.Corpus.from_polars(
        pl.read_parquet(folder / "train.parquet"),
        text="text",
        id="id",
        min_df=min_df,
        max_df=max_df,
    )
    test = attartm.Corpus.from_polars(
        pl.read_parquet(folder / "test.parquet"), text="text", id="id", vocabulary=train.vocabulary
    )
    return train, test


def reuters(min_df: int = 5, max_df: float = 0.5) -> tuple[attartm.Corpus, attartm.Corpus]:
    """Reuters-21578 ModApte (lewissplit TRAIN / TEST with topics_attr YES: 9,603 / 3,299
    articles), title and body as one text, tokenized with the train vocabulary."""
    import polars as pl

    import attartm

    frame = (
        pl.read_parquet(require(DATA / "reuters21578.parquet"))
        .filter(pl.col("topics_attr") == "YES")
        .with_columns(
            text=pl.concat_str(
                [pl.col("title").fill_null(""), pl.col("body").fill_null("")], separator="\n\n"
            )
        )
    )
    train = attartm.Corpus.from_polars(
        frame.filter(pl.col("lewissplit") == "TRAIN"), text="text", id="id",
        min_df=min_df, max_df=max_df,
    )  # fmt: skip
    test = attartm.Corpus.from_polars(
        frame.filter(pl.col("lewissplit") == "TEST"), text="text", id="id",
        vocabulary=train.vocabulary, allow_empty=True,
    )  # fmt: skip
    return train, test


CORPORA = {"20ng": newsgroups, "reuters": reuters}


def validation_split(train: attartm.Corpus, seed: int = 0) -> tuple[attartm.Corpus, attartm.Corpus]:
    """(fit, validation): 20% of the training documents held out for choosing settings;
    the test split is never used for that."""
    return train.split(test_size=0.2, seed=seed)
