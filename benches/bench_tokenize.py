"""Tokenizing throughput on the Wikipedia sample (../shared/data/enwiki_sample).

Two figures, each the median of ``--repeat`` timed runs:

- tokenize: ``Corpus.from_polars(df, text="text", vocabulary=vocab)`` on part-1 (read
  with ``pl.read_parquet`` beforehand, not timed), with a vocabulary of the 50,000 most
  frequent words of the four parts; tokens/s counts the tokens of the corpus;
- vocabulary: ``Vocabulary.from_parquet`` over the four parts with ``max_vocab=50_000``
  (reading the files included); tokens/s counts the words it counted (stopwords left out).

    python benches/bench_tokenize.py [--repeat 5] [--only tokenize|vocabulary]
"""

from __future__ import annotations

import argparse
import statistics
import time

import polars as pl

import attartm
from _data import DATA, require

MAX_VOCAB = 50_000


def parts() -> list[str]:
    folder = require(DATA / "enwiki_sample")
    return [str(folder / f"part-{i}.parquet") for i in range(4)]


def counted_words(files: list[str]) -> int:
    """The words the vocabulary pass counts (every word but the stopwords)."""
    from attartm._core import WordCounter
    from attartm._tokenize import stopwords

    counter = WordCounter(sorted(stopwords("en")))
    for path in files:
        counter.update(pl.read_parquet(path, columns=["text"]).get_column("text"))
    return counter.n_words


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def report(name: str, n_tokens: int, times: list[float]) -> None:
    median = statistics.median(times)
    print(
        f"{name}: {n_tokens:,} tokens, median {median:.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}) -> {n_tokens / median / 1e6:.1f}M tokens/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["tokenize", "vocabulary"])
    args = parser.parse_args()
    files = parts()

    if args.only != "tokenize":
        times = timed(
            lambda: attartm.Vocabulary.from_parquet(files, max_vocab=MAX_VOCAB), args.repeat
        )
        report("vocabulary pass (4 parts)", counted_words(files), times)

    if args.only != "vocabulary":
        vocab = attartm.Vocabulary.from_parquet(files, max_vocab=MAX_VOCAB)
        df = pl.read_parquet(files[1])
        corpus = attartm.Corpus.from_polars(df, text="text", vocabulary=vocab)
        times = timed(
            lambda: attartm.Corpus.from_polars(df, text="text", vocabulary=vocab), args.repeat
        )
        report("tokenize part-1 (given vocabulary)", corpus.n_tokens, times)


if __name__ == "__main__":
    main()
