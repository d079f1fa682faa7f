"""20 Newsgroups, train → test: attartm's models beside BigARTM in one run.

    python benches/bench_20ng.py [--epochs 15] [--topics 50] [--threads 2] [--out benches/results]

Every model trains on the same token ids (train split, min_df=5, max_df=0.5) and is
scored by the same code: held-out perplexity by document completion (docs/mathematics.md §5), Φ
sparsity, topic diversity (top 25), NPMI of the top 10 words over the test documents.
Times are wall-clock per epoch (mean of all epochs); ratios are against BigARTM.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import attartm
from _data import newsgroups
from attartm.peers import BigARTM, TomotopyLDA, bigartm_available, tomotopy_available


def fit_epochs(model, corpus, epochs: int) -> float:
    start = time.perf_counter()
    model.fit(corpus, epochs=epochs, progress_bar=False)
    return (time.perf_counter() - start) / epochs


def throughput(fn, n_tokens: int, repeat: int = 3) -> float:
    best = min(_time(fn) for _ in range(repeat))
    return n_tokens / best


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    t, threads, epochs = args.topics, args.threads, args.epochs

    train, test = newsgroups()
    print(f"train: {train}\ntest:  {test}")
    rows = []

    def record(name: str, model, epoch_s: float) -> None:
        s = model.score(test)
        row = {"model": name, "epoch_ms": 1000 * epoch_s, **s}
        rows.append(row)
        print(
            f"{name:<34} epoch {row['epoch_ms']:7.1f} ms  perplexity {s['perplexity']:8.1f}  "
            f"sparsity {s['sparsity_phi']:.3f}  diversity {s['diversity']:.3f}  npmi {s['npmi']:.3f}",
            flush=True,
        )

    if bigartm_available():
        peer = BigARTM(t, doc_passes=10, threads=threads)
        times = peer.fit(train, epochs)
        record("BigARTM 0.9.2 (doc_passes=10)", peer.to_attartm(), float(np.mean(times)))
    else:
        print("BigARTM is not installed: pip install bigartm==0.9.2 six protobuf==3.20.3")

    if tomotopy_available():
        # Gibbs sampling needs far more sweeps than EM needs epochs: 200 of them.
        lda = TomotopyLDA(t, threads=threads)
        times = lda.fit(train, 200)
        record("tomotopy LDA (Gibbs, 200 sweeps)", lda.to_attartm(), float(np.mean(times)))
    else:
        print("tomotopy is not installed: pip install tomotopy")

    models = {
        "ARTM (doc_passes=10)": attartm.ARTM(t, doc_passes=10, threads=threads),
        "AttentiveARTM L=1": attartm.AttentiveARTM(t, passes=1, window=10, threads=threads),
        "AttentiveARTM L=2": attartm.AttentiveARTM(t, passes=2, window=10, threads=threads),
        "ThetalessARTM full": attartm.ThetalessARTM(t, variant="full", threads=threads),
        "ThetalessARTM naive": attartm.ThetalessARTM(t, variant="naive", threads=threads),
    }
    fitted = {}
    for name, model in models.items():
        record(name, model, fit_epochs(model, train, epochs))
        fitted[name] = model

    base = rows[0]["epoch_ms"] if rows and rows[0]["model"].startswith("BigARTM") else None
    artm_ppl = next(r["perplexity"] for r in rows if r["model"].startswith("ARTM"))
    for r in rows:
        r["time_vs_bigartm"] = r["epoch_ms"] / base if base else float("nan")
        r["perplexity_vs_artm"] = r["perplexity"] / artm_ppl

    attentive = fitted["AttentiveARTM L=1"]
    tagging = {
        "transform_tokens (L=1) tokens/s": throughput(
            lambda: attentive.transform_tokens(test), test.n_tokens
        ),
        "transform_tokens top=3 (L=1) tokens/s": throughput(
            lambda: attentive.transform_tokens(test, top=3), test.n_tokens
        ),
        "transform (L=1, p(t|d)) tokens/s": throughput(
            lambda: attentive.transform(test), test.n_tokens
        ),
        "transform(method='linear') tokens/s": throughput(
            lambda: fitted["ThetalessARTM full"].transform(test, method="linear"), test.n_tokens
        ),
        "ARTM transform tokens/s": throughput(
            lambda: fitted["ARTM (doc_passes=10)"].transform(test), test.n_tokens
        ),
    }
    for k, v in tagging.items():
        print(f"{k:<42} {v / 1e6:8.1f} M")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = (
        f"20 Newsgroups train→test, T={t}, {epochs} epochs, {threads} threads, "
        f"{train.n_tokens:,} train tokens, {test.n_tokens:,} test tokens; "
        f"{platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d')}"
    )
    lines = [
        header,
        "",
        "| model | epoch ms | × BigARTM time | held-out perplexity | × ARTM perplexity | "
        "Φ sparsity | diversity | NPMI | kernel purity |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['epoch_ms']:.0f} | {r['time_vs_bigartm']:.2f} | {r['perplexity']:.0f} | "
            f"{r['perplexity_vs_artm']:.3f} | {r['sparsity_phi']:.3f} | {r['diversity']:.3f} | "
            f"{r['npmi']:.3f} | {r['kernel_purity']:.3f} |"
        )
    lines += ["", "| tagging (test split) | M tokens/s |", "|---|---:|"]
    lines += [f"| {k.replace(' tokens/s', '')} | {v / 1e6:.1f} |" for k, v in tagging.items()]
    (out / "20ng.md").write_text("\n".join(lines) + "\n")
    (out / "20ng.json").write_text(json.dumps({"rows": rows, "tagging": tagging}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
