"""The ``attartm`` command line: train, topics, tag, eval and demo."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import polars as pl

from ._atomic import atomic_write
from .artm import ARTM
from .attentive import AttentiveARTM
from .corpus import Corpus
from .persistence import load
from .regularizers import SmoothSparsePhi
from .thetaless import ThetalessARTM

MODELS = {"artm": ARTM, "attentive": AttentiveARTM, "thetaless": ThetalessARTM}


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
    return Corpus.from_polars(frame, text=args.text, id=args.id, vocabulary=vocabulary, **options)


def format_topics(model, k: int) -> str:
    frame = model.topics(k)
    lines = []
    for (topic,), group in frame.group_by(["topic"], maintain_order=True):
        lines.append(f"topic {topic:>3}: " + " ".join(group["word"].to_list()))
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    corpus = corpus_from_args(args)
    print(f"corpus: {corpus}", file=sys.stderr)
    regs = [SmoothSparsePhi(args.sparse_phi)] if args.sparse_phi else []
    common = {
        "n_topics": args.topics,
        "regularizers": regs,
        "seed": args.seed,
        "threads": args.threads,
    }
    if args.model == "artm":
        model = ARTM(doc_passes=args.doc_passes, **common)
    elif args.model == "attentive":
        model = AttentiveARTM(passes=args.passes, window=args.window, beta=args.beta, **common)
    else:
        model = ThetalessARTM(variant=args.variant, **common)
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
    atomic_write(args.output, frame.write_parquet)
    print(f"wrote p(t|d) of {frame.height} documents to {args.output}", file=sys.stderr)
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
    print(
        f"demo corpus: {corpus}\n(Wikipedia introductions, CC BY-SA 3.0; see attartm/data/NOTICE)"
    )
    model = AttentiveARTM(
        n_topics=args.topics, passes=2, window=10, regularizers=[SmoothSparsePhi(-0.05)],
        seed=args.seed,
    )  # fmt: skip
    start = time.perf_counter()
    model.fit(corpus, epochs=args.epochs)
    print(
        f"trained AttentiveARTM (L=2, window 10) with {args.topics} topics, {args.epochs} "
        f"epochs, in {time.perf_counter() - start:.1f} s\n"
    )
    print(format_topics(model, 10))
    doc = corpus.select([0])
    tags = model.transform_tokens(doc, top=1)
    words = [f"{w}[{t[0]}]" for w, t in zip(tags["token"].to_list(), tags["topics"].to_list())]
    print(f"\nfirst words of {doc.ids[0]!r}, each with its topic in context:")
    print(" ".join(words[:40]))
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
    train.add_argument("--doc-passes", type=int, default=10, help="ARTM: inner iterations")
    train.add_argument("--passes", type=int, default=2, help="attentive: passes L")
    train.add_argument("--window", type=float, default=10, help="attentive: context window")
    train.add_argument("--beta", type=float, default=0.5, help="attentive: left-context weight")
    train.add_argument(
        "--variant", default="full", choices=["full", "naive"], help="thetaless: E-step variant"
    )
    train.add_argument(
        "--sparse-phi", type=float, default=0.0, help="τ of SmoothSparsePhi (negative sparses)"
    )
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
    demo.add_argument("--topics", type=int, default=16)
    demo.add_argument("--epochs", type=int, default=40)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (e.g. `attartm topics m | head`): not an error of ours.
        sys.stderr.close()
        return 0
    except (ValueError, TypeError, OSError) as e:
        print(f"attartm {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
