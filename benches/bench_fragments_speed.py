"""Speed of the fragments of every topic at once (issue 15's acceptance 3), written to
benches/results/fragments_speed.md and .json:

    python benches/bench_fragments_speed.py [--repeat 3] [--threads 2]

The model: an AttentiveARTM of T = 100 topics with the repository's defaults (its
inference window and passes chosen by ``fit_online`` at its end), whose vocabulary is
the 50,000 most frequent words of the four parts of enwiki_sample (min_df=5, max_df=0.5),
trained by one online pass over part-0 (not timed). Timed on part-1, which the model has
not seen, the best of ``--repeat`` runs:

- end to end from the corpus file: ``pl.read_parquet``, ``Corpus.from_polars(df, text=,
  vocabulary=model.vocabulary)`` and ``model.fragments(corpus, k=10)`` (all topics, one
  run of the kernel), the acceptance figure;
- the same with ``keep_text=True`` (the fragments' text read from the source);
- ``model.fragments`` alone on the tokenized corpus, and the kernel without output (the
  same contexts) for comparison;
- ``attartm fragments MODEL part-1.parquet -k 10 -o out.parquet`` as a whole process.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import time
from pathlib import Path

from _data import DATA, require
from _fresh import machine as machine_of
from _fresh import measured_in_child, process
from bench_throughput import MAX_VOCAB, best_of

TOPICS = 100
K = 10


def timed(fn, repeat: int) -> tuple[float, float]:
    """(the shortest wall time of ``repeat`` calls, the mean CPU time of the process's
    threads per call). On a loaded machine the wall time is a lower bound of the speed,
    and CPU time / threads estimates the wall time the same work takes on idle cores."""
    cpu = time.process_time()
    wall = best_of(fn, repeat)
    return wall, (time.process_time() - cpu) / repeat


def in_process(folder: Path, repeat: int, threads: int) -> dict:
    """The rows measured inside one process, after training the model and saving it to
    ``folder/model.attartm``."""
    import polars as pl

    import attartm

    files = [str(require(DATA / "enwiki_sample" / f"part-{k}.parquet")) for k in range(4)]
    vocabulary = attartm.Vocabulary.from_parquet(
        files, "text", min_df=5, max_df=0.5, max_vocab=MAX_VOCAB
    )
    model = attartm.AttentiveARTM(TOPICS, seed=0, threads=threads)
    start = time.perf_counter()
    model.fit_online(
        attartm.Corpus.scan_parquet(files[0], "text", vocabulary=vocabulary, batch_size=1000),
        progress_bar=False,
    )
    trained = time.perf_counter() - start
    model.save(folder / "model.attartm")

    def end_to_end(keep_text: bool = False) -> pl.DataFrame:
        df = pl.read_parquet(files[1])
        corpus = attartm.Corpus.from_polars(
            df, text="text", vocabulary=model.vocabulary, keep_text=keep_text
        )
        return model.fragments(corpus, k=K)

    corpus = attartm.Corpus.from_polars(
        pl.read_parquet(files[1]), text="text", vocabulary=model.vocabulary
    )
    found = end_to_end()
    return {
        "articles": corpus.n_documents,
        "tokens": corpus.n_tokens,
        "training_s": trained,
        "contexts": [model._inference_window, model._inference_passes],
        "fragments": found.height,
        "end_to_end": timed(end_to_end, repeat),
        "end_to_end_text": timed(lambda: end_to_end(True), repeat),
        "fragments_only": timed(lambda: model.fragments(corpus, k=K), repeat),
        "kernel": timed(lambda: model._run(corpus, "none"), repeat),
    }


def main() -> None:
    args, inside = measured_in_child("bench_fragments_speed.py", __doc__, in_process)
    tmp = args.folder
    n = inside["tokens"]
    window, passes = inside["contexts"]
    rows = [
        ("read_parquet + Corpus.from_polars + fragments(k=10), all topics", inside["end_to_end"]),
        ("the same, keep_text=True", inside["end_to_end_text"]),
        ("fragments(corpus, k=10) alone", inside["fragments_only"]),
        (f"attentive kernel, no output (L={passes})", inside["kernel"]),
    ]
    part = str(require(DATA / "enwiki_sample" / "part-1.parquet"))
    command = [sys.executable, "-m", "attartm.cli", "fragments", str(tmp / "model.attartm"),
               part, "-k", str(K), "-o", str(tmp / "out.parquet")]  # fmt: skip
    runs = [process(command) for _ in range(1 + args.repeat)]  # the first warms the cache
    cli = min(s for s, _ in runs[1:])
    rows.append(("attartm fragments MODEL part-1.parquet -k 10 -o out.parquet (whole "
                 "process, keep_text)", (cli, None)))  # fmt: skip
    machine = machine_of(args)
    lines = [
        "`python benches/bench_fragments_speed.py " + shlex.join(sys.argv[1:]) + "`",
        "",
        f"part-1: {inside['articles']:,} articles, {n:,} tokens; T = {TOPICS}, inference "
        f"window {window:.2f}, {passes} passes (chosen by fit_online); {inside['fragments']} "
        f"fragments found (k = {K} for each of {TOPICS} topics: a topic without a span of "
        f"≥ 10 tokens it holds the majority of has fewer); {machine}.",
        "",
        "The wall time is the best of the runs; CPU s is the mean CPU time of the process "
        f"per run, and CPU s / {args.threads} the wall time the same work would take on "
        f"{args.threads} idle cores (perfect scaling assumed), whose tokens/s is the last "
        "column: an estimate, not a measurement.",
        "",
        "| what | wall s | tokens/s (wall) | CPU s | tokens/s at CPU s / threads |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {what} | {wall:.3f} | {n / wall:,.0f} | "
            + ("| |" if cpu is None else f"{cpu:.3f} | {n * args.threads / cpu:,.0f} |")
            for what, (wall, cpu) in rows
        ),
    ]
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "fragments_speed.md").write_text("\n".join(lines) + "\n")
    record = {"machine": machine, "inside": inside, "cli_s": cli}
    (results / "fragments_speed.json").write_text(json.dumps(record, indent=1) + "\n")
    print("\n".join(lines))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
