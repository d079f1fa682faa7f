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
