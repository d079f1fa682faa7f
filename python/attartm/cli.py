"""The ``attartm`` command line: train, topics, tag, predict, eval, report, fragments,
phrases, sweep and demo."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import polars as pl

from . import _cli_passages, _tagging
from ._atomic import atomic_write
from ._cli_modalities import (
    add_corpus_modalities,
    add_predict_parser,
    modality_columns,
    modality_weights,
)
from ._paths import parquet_files
from ._progress import progress
from ._registry import MODEL_KINDS
from ._tables import is_parquet, read_table
from ._tagging import Tagging, steps, write_parquet
from .artm import ARTM
from .attentive import AttentiveARTM
from .corpus import Corpus
from .persistence import load
from .regularizers import SmoothSparsePhi
from .streaming import row_batches
from .thetaless import ThetalessARTM
from .vocabulary import Vocabulary

MODELS = MODEL_KINDS


def corpus_from_args(
    args: argparse.Namespace, vocabulary=None, *, keep_text: bool = False
) -> Corpus:
    """The input as a corpus, with the modalities of ``--modality``; ``vocabulary`` (a
    model's vocabularies) fixes the token ids, else min_df and max_df choose the words;
    ``keep_text`` keeps the source text (see Corpus.from_polars)."""
    frame = read_table(args.input, args.text, args.id)
    options = {
        "language": args.language,
        "modalities": modality_columns(args),
        "keep_text": keep_text,
    }
    if vocabulary is None:
        options.update(min_df=args.min_df, max_df=args.max_df)
    return Corpus.from_polars(frame, text=args.text, id=args.id, vocabulary=vocabulary, **options)


def format_topics(model, k: int) -> str:
    frame = model.topics(k)
    lines = []
    for (topic,), group in frame.group_by(["topic"], maintain_order=True):
        lines.append(f"topic {topic:>3}: " + " ".join(group["word"].to_list()))
    return "\n".join(lines)


def build_model(args: argparse.Namespace):
    regs = [SmoothSparsePhi(args.sparse_phi)] if args.sparse_phi else []
    common = {
        "n_topics": args.topics,
        "regularizers": regs,
        "seed": args.seed,
        "threads": args.threads,
        "modality_weights": modality_weights(args),
    }
    if args.model == "artm":
        return ARTM(doc_passes=args.doc_passes, **common)
    if args.model == "attentive":
        return AttentiveARTM(passes=args.passes, window=args.window, beta=args.beta, **common)
    return ThetalessARTM(variant=args.variant, **common)


def cmd_train(args: argparse.Namespace) -> int:
    model = build_model(args)
    start = time.perf_counter()
    if args.online and is_parquet(args.input):
        # Larger than memory: a streaming pass for the vocabulary, then batches read lazily.
        vocabulary = Vocabulary.from_parquet(
            args.input, args.text, language=args.language, min_df=args.min_df,
            max_df=args.max_df,
        )  # fmt: skip
        print(f"vocabulary: {len(vocabulary):,} words", file=sys.stderr)
        columns = modality_columns(args)
        vocabularies = {
            "text": vocabulary,
            **{m: Vocabulary.from_parquet_values(args.input, c) for m, c in columns.items()},
        }
        batches = Corpus.scan_parquet(
            args.input, args.text, args.id, vocabulary=vocabularies,
            batch_size=args.batch_size, language=args.language, modalities=columns,
        )  # fmt: skip
        model.fit_online(batches, epochs=args.epochs or 1)
    else:
        corpus = corpus_from_args(args)
        print(f"corpus: {corpus}", file=sys.stderr)
        if args.online:
            model.fit_online(corpus, batch_size=args.batch_size, epochs=args.epochs or 1)
        else:
            model.fit(corpus, epochs=args.epochs)
    print(f"trained in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    model.save(args.output)
    print(format_topics(model, 10))
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    print(format_topics(load(args.model), args.k))
    return 0


def tagging_of(args: argparse.Namespace) -> Tagging:
    if args.top is not None and not args.tokens:
        raise ValueError("--top needs --tokens (the k best topics of every token)")
    if args.token_ids and not args.tokens:
        raise ValueError("--token-ids needs --tokens (it names the tokens of the output)")
    return Tagging(
        load(args.model), text=args.text, id=args.id, tokens=args.tokens, top=args.top,
        token_ids=args.token_ids, language=args.language,
    )  # fmt: skip


def input_frames(args: argparse.Namespace, columns: list[str], rows: int):
    """The input as consecutive frames of about ``rows`` rows: parquet is read lazily,
    other inputs whole."""
    if is_parquet(args.input):
        return row_batches(parquet_files(args.input), columns, rows)
    return [read_table(args.input, args.text, args.id)]


def with_starts(frames):
    """``(frame, start)``: each frame with the input row number of its first row."""
    start = 0
    for frame in frames:
        yield frame, start
        start += frame.height


def cmd_tag(args: argparse.Namespace) -> int:
    job = tagging_of(args)
    out = Path(args.output)
    if out.is_dir() or not out.suffix:
        return tag_in_parts(job, args)
    # One file, written as the batches are tagged: memory holds a few batches, not the
    # input or the output.
    frames = input_frames(args, job.columns, _tagging.STEP)
    batches = steps((None, frame, start) for frame, start in with_starts(frames))
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        rows = write_parquet(tmp, (output for _, output in job.stream(batches)))

    atomic_write(out, write)
    what = f"topics of {rows} tokens" if args.tokens else f"p(t|d) of {rows} documents"
    print(f"wrote {what} to {out}", file=sys.stderr)
    return 0


def tag_in_parts(job: Tagging, args: argparse.Namespace) -> int:
    """Tags parquet input batch by batch into ``OUTPUT/part-NNNNN.parquet``. Each part is
    written atomically, so an interrupted job leaves only whole parts, and running the same
    command again skips the parts already there (without tokenizing them)."""
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    job_record = {
        "model": str(Path(args.model).resolve()),
        # The same path may hold a retrained model: parts of two models must not mix.
        "model_sha256": hashlib.sha256(Path(args.model).read_bytes()).hexdigest(),
        "language": args.language,
        "inputs": parquet_files(args.input),
        "text": args.text,
        "id": args.id,
        "batch_size": args.batch_size,
        "tokens": args.tokens,
        "top": args.top,
    }
    if args.token_ids:  # recorded only when set, so manifests of earlier jobs still match
        job_record["token_ids"] = True
    manifest = out / "_attartm_tag.json"
    if manifest.exists():
        if json.loads(manifest.read_text()) != job_record:
            raise ValueError(
                f"{out} holds parts of a different tagging job (see {manifest}); use another "
                "output folder or delete it"
            )
    else:
        atomic_write(manifest, lambda tmp: tmp.write_text(json.dumps(job_record, indent=1)))
    for stale in out.glob(".part-*.tmp"):  # left by a job killed while writing
        stale.unlink()

    def part_path(k: int) -> Path:
        return out / f"part-{k:05d}.parquet"

    # Parts are cut at multiples of --batch-size rows and tagged in steps of at most STEP
    # documents: every step is a batch of the pipeline, whatever the part size, and
    # carries its part's number through it.
    parts = row_batches(parquet_files(args.input), job.columns, args.batch_size)
    todo = (
        (k, frame, k * args.batch_size)
        for k, frame in enumerate(progress(parts, enabled=None, desc="attartm tag"))
        if not part_path(k).exists()
    )
    written = 0
    for k, tagged in itertools.groupby(job.stream(steps(todo)), key=lambda item: item[0]):
        atomic_write(part_path(k), lambda tmp, t=tagged: write_parquet(tmp, (x for _, x in t)))
        written += 1
    total = sum(1 for _ in out.glob("part-*.parquet"))
    print(f"wrote {written} parts to {out} ({total - written} already there)", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    model = load(args.model)
    corpus = corpus_from_args(args, vocabulary=model.vocabularies)
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
    model = AttentiveARTM(n_topics=args.topics, seed=args.seed)  # the default recipe
    start = time.perf_counter()
    model.fit(corpus, epochs=args.epochs)
    print(
        f"trained AttentiveARTM (defaults) with {args.topics} topics, {model.epochs_done_} "
        f"epochs, in {time.perf_counter() - start:.1f} s\n"
    )
    print(format_topics(model, 10))
    doc = corpus.select([0])
    tags = model.transform_tokens(doc, top=1)
    words = [f"{w}[{t[0]}]" for w, t in zip(tags["token"].to_list(), tags["topics"].to_list())]
    print(f"\nfirst words of {doc.ids[0]!r}, each with its topic in context:")
    print(" ".join(words[:40]))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write

    model = load(args.model)
    # The report colours the source text, stopwords and punctuation included.
    corpus = corpus_from_args(args, vocabulary=model.vocabularies, keep_text=True)
    path = write(model, corpus, args.output, documents=range(min(args.documents, len(corpus))))
    print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from .experiments import SCORES, summarize, sweep

    config = read_toml(args.config)
    data, settings = config.get("data", {}), config.get("sweep", {})
    grid = config.get("grid", {})
    text, id_ = data.get("text", "text"), data.get("id")
    train = Corpus.from_polars(
        read_table(data["train"], text, id_), text=text, id=id_,
        language=data.get("language", "en"), min_df=data.get("min_df", 5),
        max_df=data.get("max_df", 0.5),
    )  # fmt: skip
    test = Corpus.from_polars(read_table(data["test"], text, id_), text=text, id=id_,
                              vocabulary=train.vocabulary)  # fmt: skip
    out = Path(settings.get("out", "sweep-results"))
    table = sweep(
        train, test, settings.get("model", "attentive"), grid,
        n_topics=settings.get("n_topics", 20), epochs=settings.get("epochs", 10),
        seeds=settings.get("seeds", [0, 1, 2]), scores=settings.get("scores", list(SCORES)),
        fixed=config.get("fixed", {}), processes=settings.get("processes"), out=out,
    )  # fmt: skip
    print(summarize(table, list(grid)))
    print(f"wrote {out / 'sweep.parquet'} and plots", file=sys.stderr)
    return 0


def read_toml(path: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as f:
        config = tomllib.load(f)
    if "train" not in config.get("data", {}) or "test" not in config.get("data", {}):
        raise ValueError(f"{path}: the [data] table needs train = ... and test = ... paths")
    return config


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
    add_corpus_modalities(train)
    train.add_argument("-o", "--output", required=True, help="model file to write")
    train.add_argument("--model", default="artm", choices=sorted(MODELS))
    train.add_argument("--topics", type=int, default=20)
    train.add_argument(
        "--epochs", type=int, default=None,
        help="passes over the corpus (default: the model's own, e.g. 50 for attentive; 1 online)",
    )  # fmt: skip
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
    train.add_argument(
        "--modality-weight", action="append", metavar="NAME=WEIGHT",
        help="the weight of a modality (repeatable; default 1), e.g. --modality-weight label=5",
    )  # fmt: skip
    train.add_argument("--online", action="store_true", help="batch-online training")
    train.add_argument("--batch-size", type=int, default=1000)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--threads", type=int, default=None)
    train.set_defaults(run=cmd_train)

    topics = sub.add_parser("topics", help="print the top words of a model's topics")
    topics.add_argument("model")
    topics.add_argument("-k", type=int, default=10)
    topics.set_defaults(run=cmd_topics)

    tag = sub.add_parser(
        "tag", help="write p(t|d) (or token topics) to a .parquet file or a folder of parts"
    )
    tag.add_argument("model")
    corpus_options(tag)
    tag.add_argument("-o", "--output", required=True,
                     help="a file (tags.parquet), or a folder (no suffix): parquet input "
                     "is then tagged batch by batch into resumable parts")  # fmt: skip
    tag.add_argument("--batch-size", type=int, default=10_000, help="documents per part")
    tag.add_argument("--tokens", action="store_true", help="attentive: topics of every token")
    tag.add_argument("--top", type=int, default=None, help="with --tokens: keep the k best")
    tag.add_argument("--token-ids", action="store_true",
                     help="with --tokens: the token column holds word ids, not words")  # fmt: skip
    tag.set_defaults(run=cmd_tag)

    add_predict_parser(sub)

    ev = sub.add_parser("eval", help="print held-out perplexity and topic scores as JSON")
    ev.add_argument("model")
    corpus_options(ev)
    add_corpus_modalities(ev)
    ev.set_defaults(run=cmd_eval)

    report = sub.add_parser("report", help="write a self-contained HTML report of a model")
    report.add_argument("model")
    corpus_options(report)
    add_corpus_modalities(report)
    report.add_argument("-o", "--output", required=True, help="the .html file to write")
    report.add_argument("--documents", type=int, default=3, help="documents to show")
    report.set_defaults(run=cmd_report)
    _cli_passages.add_commands(sub, corpus_options, corpus_from_args)

    sw = sub.add_parser("sweep", help="run a parameter sweep described by a TOML file")
    sw.add_argument("config", help="TOML with [data], [sweep], [grid] (see README)")
    sw.set_defaults(run=cmd_sweep)

    demo = sub.add_parser("demo", help="train on the shipped demo corpus and print topics")
    demo.add_argument("--topics", type=int, default=16)
    demo.add_argument("--epochs", type=int, default=None, help="default: the model's (75)")
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
