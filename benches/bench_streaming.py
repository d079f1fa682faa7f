"""One streaming online pass of AttentiveARTM over the Wikipedia sample (../shared/data/
enwiki_sample, 4 parquet parts, 65M words), on the first 1, 2 or 4 parts:

    python benches/bench_streaming.py --parts 1        # or 2, 4; prints one JSON line
    python benches/bench_streaming.py --all            # runs 1, 2, 4 in fresh processes

The vocabulary comes from one streaming pass (Vocabulary.from_parquet, capped at
--max-vocab words so that Φ has the same size for every corpus size); then the corpus is
read, tokenized and trained on batch by batch (Corpus.scan_parquet + fit_online), never
held in memory whole. At its end a fit chooses the contexts of inference on its last
batch (docs/mathematics.md §5.1); that choice is timed apart from the online pass (the
model trains with inference_*=None, then makes the same choice on the same batch), and
the end-to-end time includes it. Peak RSS is the process's maximum resident set
(getrusage).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import attartm
from _contexts import CHOSEN_CONTEXTS, TRAINING_CONTEXTS
from _data import DATA, require
from _fresh import run_json


def run(parts: int, topics: int, max_vocab: int, batch_size: int, threads: int) -> dict:
    files = [str(require(DATA / "enwiki_sample" / f"part-{k}.parquet")) for k in range(parts)]
    first = start = time.perf_counter()
    vocabulary = attartm.Vocabulary.from_parquet(files, "text", min_df=5, max_df=0.5,
                                                 max_vocab=max_vocab)  # fmt: skip
    vocab_s = time.perf_counter() - start
    batches = attartm.Corpus.scan_parquet(files, "text", vocabulary=vocabulary,
                                          batch_size=batch_size)  # fmt: skip
    tokens = 0
    last: list[attartm.Corpus] = []

    def counted():
        nonlocal tokens
        for batch in batches:
            tokens += batch.n_tokens
            last[:] = [batch]
            yield batch

    model = attartm.AttentiveARTM(topics, passes=1, window=10, threads=threads,
                                  **TRAINING_CONTEXTS)  # fmt: skip
    start = time.perf_counter()
    model.fit_online(counted(), progress_bar=False)
    train_s = time.perf_counter() - start
    # What fit_online with the default "auto" contexts does after its last update.
    model.set_params(**CHOSEN_CONTEXTS)
    start = time.perf_counter()
    model.choose_inference(last[0])
    choice_s = time.perf_counter() - start
    total_s = time.perf_counter() - first
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB
    return {
        "parts": parts,
        "vocabulary_words": len(vocabulary),
        "tokens": tokens,
        "vocabulary_pass_s": round(vocab_s, 1),
        "training_pass_s": round(train_s, 1),
        "inference_choice_s": round(choice_s, 1),
        "vocabulary_and_online_pass_s": round(vocab_s + train_s, 1),
        "end_to_end_s": round(total_s, 1),
        "tokens_per_s": round(tokens / train_s),
        "peak_rss_mib": round(rss),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", type=int, default=1)
    parser.add_argument("--all", action="store_true", help="1, 2 and 4 parts, fresh processes")
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--max-vocab", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not args.all:
        print(json.dumps(run(args.parts, args.topics, args.max_vocab, args.batch_size,
                             args.threads)))  # fmt: skip
        return
    rows = []
    for parts in (1, 2, 4):
        rows.append(run_json("bench_streaming.py", "--parts", str(parts)))
        print(json.dumps(rows[-1]), flush=True)
    lines = ["| parts | tokens | vocabulary pass s | training pass s | inference choice s | "
             "tokens/s | peak RSS MiB |", "|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['parts']} | {r['tokens']:,} | {r['vocabulary_pass_s']} | "
                     f"{r['training_pass_s']} | {r['inference_choice_s']} | "
                     f"{r['tokens_per_s']:,} | {r['peak_rss_mib']} |")  # fmt: skip
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "streaming.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
