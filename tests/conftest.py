"""Shared fixtures: small synthetic corpora and the real corpora of ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import attartm

# ATTARTM_DATA points elsewhere when the repository is not checked out beside shared/.
DATA = Path(
    os.environ.get("ATTARTM_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)

GROUPS = {
    "sports": "goal match team player score league coach season stadium referee ball win",
    "cooking": "recipe oven flour sugar butter bake salt pepper onion garlic simmer sauce",
    "computers": "compiler kernel memory processor software code debug server network disk cpu",
}


def synthetic_texts(n_docs: int = 60, length: int = 40, seed: int = 0) -> list[str]:
    """Documents that each mix one or two of three clearly separated word groups."""
    rng = np.random.default_rng(seed)
    words = [g.split() for g in GROUPS.values()]
    texts = []
    for d in range(n_docs):
        main = words[d % 3]
        other = words[(d + 1) % 3]
        tokens = []
        for _ in range(length):
            group = main if rng.random() < 0.8 else other
            tokens.append(group[rng.integers(0, len(group))])
        sentences = [" ".join(tokens[i : i + 8]) + "." for i in range(0, length, 8)]
        texts.append(" ".join(sentences))
    return texts


@pytest.fixture(scope="session")
def small_corpus() -> attartm.Corpus:
    return attartm.Corpus.from_texts(synthetic_texts(), stopwords=False)


def require_data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus not available: {path} (set ATTARTM_DATA to the folder of the corpora)")
    return path


@pytest.fixture(scope="session")
def newsgroups() -> tuple[attartm.Corpus, attartm.Corpus, pl.DataFrame]:
    """20 Newsgroups train and test (train vocabulary, min_df=5, max_df=0.5), test frame."""
    folder = require_data("20newsgroups")
    train_frame = pl.read_parquet(folder / "train.parquet")
    test_frame = pl.read_parquet(folder / "test.parquet")
    train = attartm.Corpus.from_polars(train_frame, text="text", id="id", min_df=5, max_df=0.5)
    test = attartm.Corpus.from_polars(test_frame, text="text", id="id", vocabulary=train.vocabulary)
    return train, test, test_frame
