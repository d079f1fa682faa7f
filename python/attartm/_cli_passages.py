"""The ``attartm fragments`` and ``attartm phrases`` commands: the passages of topics in
a corpus and the phrases that name them (a part of ``attartm.cli``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl

from ._atomic import atomic_write
from .attentive import AttentiveARTM
from .corpus import Corpus
from .persistence import load

#: Characters of a fragment's text printed per line (the whole text goes to -o).
SHOWN = 160


def attentive_model(path: str) -> AttentiveARTM:
    model = load(path)
    if not isinstance(model, AttentiveARTM):
        raise ValueError(
            f"{path} holds a {type(model).__name__}: fragments and phrases read the "
            "per-position topics of an AttentiveARTM"
        )
    return model


def write_or_print(frame: pl.DataFrame, output: str | None, lines: Callable) -> None:
    """Writes ``frame`` to ``output`` (.parquet or .csv), or prints ``lines(frame)``."""
    if output is None:
        for line in lines(frame):
            print(line)
        return
    out = Path(output)
    if out.suffix not in (".parquet", ".csv"):
        raise ValueError(f"-o must name a .parquet or .csv file, not {output!r}")
    write = frame.write_parquet if out.suffix == ".parquet" else frame.write_csv
    atomic_write(out, lambda tmp: write(tmp))
    print(f"wrote {frame.height} rows to {out}", file=sys.stderr)


def fragment_lines(frame: pl.DataFrame):
    for row in frame.iter_rows(named=True):
        head = f"topic {row['topic']:>3} #{row['rank']:<3}" if "topic" in row else ""
        # The source text, on one line.
        text = " ".join(row["text"].split())
        text = text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
        yield (
            f"{head}{row['id']!s:>10} [{row['start']}..{row['end']}] "
            f"score {row['score']:7.2f}  {text}"
        )


def phrase_lines(frame: pl.DataFrame):
    for topic, rows in frame.group_by("topic", maintain_order=True):
        phrases = "; ".join(rows["phrase"].to_list())
        yield f"topic {topic[0]:>3}: {phrases}"


def cmd_fragments(args: argparse.Namespace, corpus_of: Callable[..., Corpus]) -> int:
    model = attentive_model(args.model)
    # The fragments' text is the source text, stopwords and punctuation included.
    corpus = corpus_of(args, vocabulary=model.vocabulary, keep_text=True)
    frame = model.fragments(
        corpus, args.topic, args.k, args.min_tokens, args.max_tokens, threshold=args.threshold
    )
    write_or_print(frame, args.output, fragment_lines)
    return 0


def cmd_phrases(args: argparse.Namespace, corpus_of: Callable[..., Corpus]) -> int:
    model = attentive_model(args.model)
    corpus = corpus_of(args, vocabulary=model.vocabulary)
    frame = model.topic_phrases(corpus, args.k, args.max_words)
    write_or_print(frame, args.output, phrase_lines)
    return 0


def add_commands(
    sub: argparse._SubParsersAction,
    corpus_options: Callable[[argparse.ArgumentParser], None],
    corpus_of: Callable[..., Corpus],
) -> None:
    """Adds ``fragments`` and ``phrases`` to the command line's subcommands."""
    fragments = sub.add_parser("fragments", help="the passages of a corpus that carry a topic most")
    fragments.add_argument("model")
    corpus_options(fragments)
    fragments.add_argument("--topic", type=int, default=None, help="one topic (default: all)")
    fragments.add_argument("-k", type=int, default=10, help="fragments per topic")
    fragments.add_argument("--min-tokens", type=int, default=10)
    fragments.add_argument("--max-tokens", type=int, default=100)
    fragments.add_argument("--threshold", type=float, default=0.5, help="c in [0.5, 1)")
    fragments.add_argument("-o", "--output", default=None, help=".parquet or .csv to write")
    fragments.set_defaults(run=lambda args: cmd_fragments(args, corpus_of))

    phrases = sub.add_parser("phrases", help="the phrases of every topic in a corpus")
    phrases.add_argument("model")
    corpus_options(phrases)
    phrases.add_argument("-k", type=int, default=10, help="phrases per topic")
    phrases.add_argument("--max-words", type=int, default=4)
    phrases.add_argument("-o", "--output", default=None, help=".parquet or .csv to write")
    phrases.set_defaults(run=lambda args: cmd_phrases(args, corpus_of))
