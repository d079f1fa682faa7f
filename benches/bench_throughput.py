"""Throughput of every stage on the Wikipedia sample (../shared/data/enwiki_sample), in one
run, written to benches/results/throughput.md and .json:

    python benches/bench_throughput.py [--repeat 3] [--threads 2]

On part-1 (7,683 articles), with an AttentiveARTM of T=100 topics and passes=2 whose
vocabulary is the 50,000 most frequent words of the four parts (min_df=5, max_df=0.5),
trained beforehand by a short online pass over part-1 (not timed), whose inference reads
the training contexts (two passes, window 10):

- ``pl.read_parquet`` of part-1;
- ``Corpus.from_polars(df, text=, vocabulary=model.vocabulary)``;
- the attentive kernel without output, and with the top 3 topics of every token; and
  without output under the inference contexts the defaults would choose on part-1;
- ``attartm tag MODEL part-1.parquet -o out --tokens --top 3`` and
  ``attartm tag MODEL part-1.parquet -o out`` as whole processes (start-up, model
  loading, reading, tokenizing, the kernel and writing);

then the vocabulary pass over the four parts (``Vocabulary.from_parquet``), and streaming
training (vocabulary pass + one online pass, AttentiveARTM T=100, L=1, batches of 1,000)
on 1 and 4 parts, each in a fresh process (bench_streaming.py), with its peak RSS, and on
1 part at T=300, whose peak RSS less that at T=100 gives the bytes per Φ entry; and the 1-
and 4-part runs again with polars' allocator returning freed pages to the system at once
(``_RJEM_MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0`` in the child's environment), which
shows how much of the 4-part peak is freed memory that the allocator still holds.

In-process rows and whole processes are the best of ``--repeat`` runs; the streaming rows
are the medians (time and peak RSS) of ``--repeat`` fresh processes each; tokens/s counts the
tokens of the corpus (the vocabulary pass: the words it counted, stopwords left out).
"""

from __future__ import annotations

import json
import shlex
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _contexts import CHOSEN_CONTEXTS, TRAINING_CONTEXTS
from _data import DATA, require
from _fresh import machine as machine_of
from _fresh import measured_in_child, process, run_json

TOPICS = 100
# jemalloc's options (polars' allocator reads them from this variable when it starts) for
# freed pages to go back to the system at once: a diagnostic of the peak RSS, see below.
IMMEDIATE_RETURN = "dirty_decay_ms:0,muzzy_decay_ms:0"
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
    # The model of issue 10: T = 100, L = 2 in training and in inference (the training
    # contexts: no inference contexts are chosen, so every kernel row below runs two passes
    # of window 10). The row "contexts chosen by likelihood" times the kernel with the
    # contexts the defaults would choose (docs/mathematics.md §5.1).
    model = attartm.AttentiveARTM(TOPICS, passes=2, window=10, threads=threads,
                                  **TRAINING_CONTEXTS)  # fmt: skip
    model.fit_online(
        attartm.Corpus.scan_parquet(part, "text", vocabulary=vocab_pass(), batch_size=1000),
        progress_bar=False,
    )
    model.save(folder / "model.attartm")

    df = pl.read_parquet(part)
    tokenize = lambda: attartm.Corpus.from_polars(df, text="text", vocabulary=model.vocabulary)  # noqa: E731
    corpus = tokenize()
    # The same model with the inference contexts the defaults choose (on part-1's documents).
    chosen = attartm.load(folder / "model.attartm")
    chosen.set_params(**CHOSEN_CONTEXTS)
    chosen.choose_inference(corpus)
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
        "kernel_chosen": best_of(lambda: chosen._run(corpus, "none"), repeat),
        "chosen": f"window {chosen.inference_window_:.2f}, {chosen.inference_passes_} passes, "
        f"document weight {chosen.inference_document_weight_:g}",
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
    row("attentive kernel, output=top, k=3 (T=100, L=2)", inside["kernel_top"], n)
    row(f"attentive kernel, no output, contexts chosen by likelihood ({inside['chosen']})",
        inside["kernel_chosen"], n)  # fmt: skip

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

    # Streaming runs are fresh processes, ``--repeat`` of each, reported by their medians:
    # a process's peak RSS moves by up to 100 MiB between identical runs (polars' allocator
    # hands freed pages back to the system lazily, so when they count depends on timing).
    def streaming_runs(parts: int, topics: int = TOPICS, env: dict | None = None) -> dict:
        options = ["--parts", str(parts), "--topics", str(topics), "--threads", str(args.threads)]
        runs = [run_json("bench_streaming.py", *options, env=env) for _ in range(args.repeat)]
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "parts"}
        peaks = sorted(r["peak_rss_mib"] for r in runs)
        median["rss_note"] = f"peak RSS median of {len(runs)} runs, range {peaks[0]}–{peaks[-1]}"
        return median

    streaming: dict[int, dict] = {}
    for parts in (1, 4):
        r = streaming_runs(parts)
        extra = {k: r[k] for k in ("vocabulary_pass_s", "training_pass_s", "inference_choice_s")}
        row(f"streaming training, {parts} part(s): vocabulary pass + online pass (fresh "
            f"processes; {r['rss_note']})", r["vocabulary_and_online_pass_s"], r["tokens"],
            peak_rss_mib=r["peak_rss_mib"], **extra)  # fmt: skip
        row(f"streaming training, {parts} part(s), the same + choosing the inference contexts",
            r["end_to_end_s"], r["tokens"])  # fmt: skip
        streaming[parts] = r
    # The model's bytes per Φ entry: the peak RSS of the same 1-part run at T = 300 less
    # that at T = 100, over the 200 × W entries of Φ the extra topics add.
    r = streaming_runs(1, 3 * TOPICS)
    entries = 2 * TOPICS * int(r["vocabulary_words"])
    per_entry = (r["peak_rss_mib"] - streaming[1]["peak_rss_mib"]) * 2**20 / entries
    row(f"streaming training, 1 part, T={3 * TOPICS} ({r['rss_note']}): peak RSS − that at "
        f"T={TOPICS}, per Φ entry added ({entries:,}): {per_entry:.1f} bytes",
        r["end_to_end_s"], r["tokens"], peak_rss_mib=r["peak_rss_mib"],
        bytes_per_phi_entry=round(per_entry, 1))  # fmt: skip

    # Where the growth of the peak from 1 to 4 parts comes from: the same runs with polars'
    # allocator (jemalloc) handing freed pages back at once instead of after its decay time.
    peaks = {}
    for parts in (1, 4):
        r = streaming_runs(parts, env={"_RJEM_MALLOC_CONF": IMMEDIATE_RETURN})
        peaks[parts] = r["peak_rss_mib"]
        row(f"streaming training, {parts} part(s), polars' allocator returning freed pages at "
            f"once (_RJEM_MALLOC_CONF={IMMEDIATE_RETURN}; {r['rss_note']})",
            r["vocabulary_and_online_pass_s"], r["tokens"], peak_rss_mib=r["peak_rss_mib"])  # fmt: skip
    rows[-1]["rss_4_over_1"] = round(peaks[4] / peaks[1], 3)
    rows[-1]["rss_4_over_1_default"] = round(
        streaming[4]["peak_rss_mib"] / streaming[1]["peak_rss_mib"], 3
    )

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
