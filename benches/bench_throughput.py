"""Throughput of every stage on the Wikipedia sample (../shared/data/enwiki_sample), in one
run, written to benches/results/throughput.md and .json:

    python benches/bench_throughput.py [--repeat 3] [--threads 2]

On part-1 (7,683 articles), with an AttentiveARTM of T=100 topics and passes=2 whose
vocabulary is the 50,000 most frequent words of the four parts (min_df=5, max_df=0.5),
trained beforehand by a short online pass over part-1 (not timed):

- ``pl.read_parquet`` of part-1;
- ``Corpus.from_polars(df, text=, vocabulary=model.vocabulary)``;
- the attentive kernel without output, and with the top 3 topics of every token;
- ``attartm tag MODEL part-1.parquet -o out --tokens --top 3`` and
  ``attartm tag MODEL part-1.parquet -o out`` as whole processes (start-up, model
  loading, reading, tokenizing, the kernel and writing);

then the vocabulary pass over the four parts (``Vocabulary.from_parquet``), and streaming
training (vocabulary pass + one online pass, AttentiveARTM T=100, L=1, batches of 1,000)
on 1 and 4 parts, each in a fresh process (bench_streaming.py), with its peak RSS.

In-process rows and whole processes are the best of ``--repeat`` runs; tokens/s counts the
tokens of the corpus (the vocabulary pass: the words it counted, stopwords left out).
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _data import DATA, require
from _fresh import machine as machine_of
from _fresh import measured_in_child, process, run_json

TOPICS = 100
MAX_VOCAB = 50_000


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The shortest wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def in_process(folder: Path, repeat: int, threads: int) -> dict:
    """The rows measured inside one process (a child of the small main process), after
    training the model and saving it to ``folder/model.attartm``."""
    import polars as pl

    import attartm
    from attartm._core import WordCounter
    from attartm._tokenize import stopwords

    files = [str(require(DATA / "enwiki_sample" / f"part-{k}.parquet")) for k in range(4)]
    part = files[1]
    vocab_pass = lambda: attartm.Vocabulary.from_parquet(  # noqa: E731
        files, "text", min_df=5, max_df=0.5, max_vocab=MAX_VOCAB
    )
    model = attartm.AttentiveARTM(TOPICS, passes=2, window=10, threads=threads)
    model.fit_online(
        attartm.Corpus.scan_parquet(part, "text", vocabulary=vocab_pass(), batch_size=1000),
        progress_bar=False,
    )
    model.save(folder / "model.attartm")

    df = pl.read_parquet(part)
    tokenize = lambda: attartm.Corpus.from_polars(df, text="text", vocabulary=model.vocabulary)  # noqa: E731
    corpus = tokenize()
    counter = WordCounter(sorted(stopwords("en")))  # the words the vocabulary pass counts
    for path in files:
        counter.update(pl.read_parquet(path, columns=["text"]).get_column("text"))
    return {
        "articles": df.height,
        "tokens": corpus.n_tokens,
        "counted_words": counter.n_words,
        "read": best_of(lambda: pl.read_parquet(part), repeat),
        "tokenize": best_of(tokenize, repeat),
        "kernel": best_of(lambda: model._run(corpus, "none"), repeat),
        "kernel_top": best_of(lambda: model._run(corpus, "top", top=3), repeat),
        "vocabulary": best_of(vocab_pass, repeat),
    }


def main() -> None:
    args, inside = measured_in_child("bench_throughput.py", __doc__, in_process)
    tmp = args.folder
    n = inside["tokens"]
    rows: list[dict] = []

    def row(name: str, seconds: float, tokens: int | None, **extra) -> None:
        r = {"what": name, "seconds": round(seconds, 3)}
        if tokens is not None:
            r["tokens_per_s"] = round(tokens / seconds)
        r.update(extra)
        rows.append(r)
        print(json.dumps(r), flush=True)

    row("pl.read_parquet (part-1)", inside["read"], None)
    row("Corpus.from_polars(df, text=, vocabulary=model.vocabulary)", inside["tokenize"], n)
    row("attentive kernel, no output (T=100, L=2)", inside["kernel"], n)
    row("attentive kernel, output=top, k=3", inside["kernel_top"], n)

    part = str(require(DATA / "enwiki_sample" / "part-1.parquet"))
    tag = [sys.executable, "-m", "attartm.cli", "tag", str(tmp / "model.attartm"), part, "-o"]
    for extra, name in (
        (["--tokens", "--top", "3"], "attartm tag MODEL part-1.parquet -o out --tokens --top 3"),
        ([], "attartm tag MODEL part-1.parquet -o out"),
    ):
        out = tmp / f"out-{len(extra)}"
        runs = []
        for _ in range(1 + args.repeat):  # the first warms the page cache, not counted
            for f in out.glob("*"):  # a fresh job each time, not a resumed one
                f.unlink()
            runs.append(process([*tag, str(out), *extra]))
        seconds = min(s for s, _ in runs[1:])
        row(name + " (whole process)", seconds, n, peak_rss_mib=round(max(p for _, p in runs)))

    row("Vocabulary.from_parquet (4 parts; words counted)", inside["vocabulary"],
        inside["counted_words"])  # fmt: skip
    for parts in (1, 4):
        r = run_json("bench_streaming.py", "--parts", str(parts), "--threads", str(args.threads))
        row(f"streaming training, {parts} part(s), end to end (fresh process)",
            r["end_to_end_s"], r["tokens"], peak_rss_mib=r["peak_rss_mib"],
            vocabulary_pass_s=r["vocabulary_pass_s"], training_pass_s=r["training_pass_s"])  # fmt: skip

    command = "python benches/bench_throughput.py " + shlex.join(sys.argv[1:])
    machine = machine_of(args)
    lines = [
        f"`{command.strip()}`",
        "",
        f"part-1: {inside['articles']:,} articles, {n:,} tokens; {machine}.",
        "",
        "| what | seconds | tokens/s | peak RSS MiB |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        rate = f"{r['tokens_per_s']:,}" if "tokens_per_s" in r else ""
        lines.append(f"| {r['what']} | {r['seconds']} | {rate} | {r.get('peak_rss_mib', '')} |")
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "throughput.md").write_text("\n".join(lines) + "\n")
    (results / "throughput.json").write_text(
        json.dumps({"command": command.strip(), "machine": machine, "rows": rows}, indent=1) + "\n"
    )
    print("\n".join(lines))
    shutil.rmtree(tmp)  # the model and the tagged parts: hundreds of megabytes


if __name__ == "__main__":
    main()
