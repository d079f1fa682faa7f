"""Russian text: tokenization with Cyrillic letters and Russian stopwords, and training."""

from __future__ import annotations

import re

import polars as pl

import attartm

from .conftest import require_data

CYRILLIC_WORD = re.compile(r"^[а-яё]+$")


def test_russian_literature_tokenizes_and_trains():
    path = require_data("ruslit.parquet")
    frame = pl.read_parquet(path).with_columns(pl.col("text").str.slice(0, 20_000))
    corpus = attartm.Corpus.from_polars(frame, text="text", language="ru", min_df=3, max_df=0.5)
    words = corpus.vocabulary.words
    assert len(words) > 5_000
    for stopword in ("и", "в", "не", "что", "он"):
        assert stopword not in corpus.vocabulary
    assert sum(bool(CYRILLIC_WORD.match(w)) for w in words) / len(words) > 0.97

    for model in (attartm.ARTM(8, seed=0), attartm.AttentiveARTM(8, passes=2, seed=0)):
        model.fit(corpus, epochs=8)
        top = model.topics(k=10)["word"].to_list()
        # A few foreign words (French quotations in Tolstoy) may rank high; topics read Russian.
        assert sum(bool(CYRILLIC_WORD.match(w)) for w in top) / len(top) >= 0.95, top
        assert model.perplexity(corpus) < len(words)
