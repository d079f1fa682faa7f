"""The ``attartm`` command line: train, topics, tag, eval and demo."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import polars as pl

from .artm import ARTM
from .corpus import Corpus
from .persistence import load
from .regularizers import SmoothSparsePhi

MODELS = {"artm": ARTM}


def read_table(path: str, text: str, id: str | None) -> pl.DataFrame:
    """Reads parquet (a file or glob), csv, or a folder of .txt files into a frame."""
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"{path} is a folder with no .txt files")
        return pl.DataFrame(
            {"id": [f.stem for f in files], text: [f.read_text(encoding="utf-8") for f in files]}
        )
    if p.suffix == ".csv":
        if not p.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        return pl.read_csv(p)
    files = sorted(p.parent.glob(p.name)) if any(c in p.name for c in "*?[") else [p]
    if not files or not all(f.is_file() for f in files):
        raise FileNotFoundError(f"no parquet file matches {path}")
    return pl.read_parquet(files)


def corpus_from_args(args: argparse.Namespace, vocabulary=None) -> Corpus:
    frame = read_table(args.input, args.text, args.id)
    options = {"language": args.language}
    if vocabulary is None:
        options.update(min_df=args.min_df, max_df=args.max_df)
    return Corpus.from_polars(
        frame, text=args.text, id=args.id, vocabulary=vocabulary, **options
    )


def format_topics(model, k: int) -> str:
    frame = model.topics(k)
    lines = []
    for (topic,), group in frame.group_by(["topic"], maintain_order=True):
        lines.append(f"topic {topic:>3}: " + " ".join(group["word"].to_list()))
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    corpus = corpus_from_args(args)
    print(f"corpus: {corpus}", file=sys.stderr)
    cls = MODELS[args.model]
    regs = [SmoothSparsePhi(args.sparse_phi)] if args.sparse_phi else []
    model = cls(n_topics=args.topics, regularizers=regs, seed=args.seed, threads=args.threads)
    start = time.perf_counter()
    if args.online:
        model.fit_online(corpus, batch_size=args.batch_size, epochs=args.epochs)
    else:
        model.fit(corpus, epochs=args.epochs)
    print(f"trained in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    model.save(args.output)
    print(format_topics(model, 10))
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    print(format_topics(load(args.model), args.k))
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    model = load(args.model)
    corpus = corpus_from_args(args, vocabulary=model.vocabulary)
    frame = model.transform(corpus)
    out = Path(args.output)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"the output folder {out.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        frame.write_parquet(tmp)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    print(f"wrote p(t|d) of {frame.height} documents to {out}", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    model = load(args.model)
    corpus = corpus_from_args(args, vocabulary=model.vocabulary)
    print(json.dumps(model.score(corpus), indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    source = resources.files("attartm") / "data" / "demo.parquet"
    with resources.as_file(source) as path:
        frame = pl.read_parquet(path)
    corpus = Corpus.from_polars(frame, text="text", id="title", min_df=5, max_df=0.3)
    print(f"demo corpus: {corpus} (Wikipedia introductions, CC BY-SA; see NOTICE)")
    model = ARTM(n_topics=args.topics, regularizers=[SmoothSparsePhi(-0.05)], seed=args.seed)
    start = time.perf_counter()
    model.fit(corpus, epochs=args.epochs)
    print(f"trained ARTM with {args.topics} topics, {args.epochs} epochs, in "
          f"{time.perf_counter() - start:.1f} s\n")
    print(format_topics(model, 10))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attartm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def corpus_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("input", help="parquet file or glob, .csv file, or folder of .txt files")
        p.add_argument("--text", default="text", help="text column (default: text)")
        p.add_argument("--id", default=None, help="document id column (default: row number)")
        p.add_argument("--language", default="en", choices=["en", "ru"])

    train = sub.add_parser("train", help="train a model and save it")
    corpus_options(train)
    train.add_argument("-o", "--output", required=True, help="model file to write")
    train.add_argument("--model", default="artm", choices=sorted(MODELS))
    train.add_argument("--topics", type=int, default=20)
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--min-df", type=int, default=5)
    train.add_argument("--max-df", type=float, default=0.5)
    train.add_argument("--sparse-phi", type=float, default=0.0,
                       help="τ of SmoothSparsePhi (negative sparses)")
    train.add_argument("--online", action="store_true", help="batch-online training")
    train.add_argument("--batch-size", type=int, default=1000)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--threads", type=int, default=None)
    train.set_defaults(run=cmd_train)

    topics = sub.add_parser("topics", help="print the top words of a model's topics")
    topics.add_argument("model")
    topics.add_argument("-k", type=int, default=10)
    topics.set_defaults(run=cmd_topics)

    tag = sub.add_parser("tag", help="write p(t|d) of every document to parquet")
    tag.add_argument("model")
    corpus_options(tag)
    tag.add_argument("-o", "--output", required=True)
    tag.set_defaults(run=cmd_tag)

    ev = sub.add_parser("eval", help="print held-out perplexity and topic scores as JSON")
    ev.add_argument("model")
    corpus_options(ev)
    ev.set_defaults(run=cmd_eval)

    demo = sub.add_parser("demo", help="train on the shipped demo corpus and print topics")
    demo.add_argument("--topics", type=int, default=12)
    demo.add_argument("--epochs", type=int, default=15)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"attartm {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
