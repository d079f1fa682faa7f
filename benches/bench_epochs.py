"""Epoch times on 20 Newsgroups beside BigARTM's, in one process.

    python benches/bench_epochs.py [--models big,artm,att2,recipe] [--epochs 3] [--rounds 1]

Each model trains on the train split (T=50, 2 threads) for ``--epochs`` epochs per round;
the figure is the best round's mean epoch, as wall seconds and as process CPU seconds
(all threads). CPU seconds stay comparable when the machine is busy, which is how two
builds are compared: run this under each, in alternation. The ratio to BigARTM is printed
when ``big`` is among the models. ``att2`` is plain two-pass AttentiveARTM (offline EM, no
tempering, no prior on the contexts), ``recipe`` AttentiveARTM with its defaults
(tempering κ = 0.7, 50 stepwise updates per epoch). The recipe's fit also chooses its
inference contexts once, at the end (docs/mathematics.md §5.1): that is not part of an
epoch, so the epochs are timed with the training contexts at inference (the same
training) and the choice is timed on its own.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import attartm
from _contexts import CHOSEN_CONTEXTS, TRAINING_CONTEXTS
from _data import newsgroups

T, THREADS = 50, 2
# Models train with inference in the training contexts, so that a fit ends without choosing
# them and an epoch is one pass of training (the choice is timed apart, see choice()).
MODELS = {
    "artm": lambda: attartm.ARTM(T, doc_passes=10, threads=THREADS),
    # Plain two-pass Attentive ARTM: offline EM, no tempering, no prior on the contexts.
    "att2": lambda: attartm.AttentiveARTM(
        T,
        passes=2,
        window=10,
        tempering=1.0,
        context_prior=0.0,
        updates_per_epoch=1,
        threads=THREADS,
        **TRAINING_CONTEXTS,
    ),
    # The defaults (docs/research.md): tempering κ = 0.7, 50 stepwise updates per epoch;
    # the one-off choice of the inference contexts is timed apart (see choice()).
    "recipe": lambda: attartm.AttentiveARTM(T, threads=THREADS, **TRAINING_CONTEXTS),
}


def choice(train: attartm.Corpus) -> float:
    """Seconds of the recipe's choice of its inference contexts, made at the end of fit."""
    model = MODELS["recipe"]().fit(train, epochs=1, progress_bar=False)
    model.set_params(**CHOSEN_CONTEXTS)
    start = time.perf_counter()
    model.choose_inference(train)
    return time.perf_counter() - start


def timed(fit, epochs: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fit()
    return (time.perf_counter() - wall) / epochs, (time.process_time() - cpu) / epochs


def bigartm(train: attartm.Corpus, epochs: int):
    """One round of BigARTM (doc_passes=10) on batches written once."""
    import artm

    from attartm.peers import write_vowpal_wabbit

    folder = Path(tempfile.mkdtemp())
    os.chdir(folder)  # BigARTM writes its logs into the working directory
    write_vowpal_wabbit(train, folder / "corpus.vw")
    batches = artm.BatchVectorizer(
        data_path=str(folder / "corpus.vw"), data_format="vowpal_wabbit",
        target_folder=str(folder / "batches"), batch_size=1000,
    )  # fmt: skip

    def run() -> tuple[float, float]:
        model = artm.ARTM(
            num_topics=T, num_document_passes=10, num_processors=THREADS,
            dictionary=batches.dictionary, seed=0,
        )  # fmt: skip
        return timed(lambda: model.fit_offline(batches, num_collection_passes=epochs), epochs)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="big,artm,att2,recipe")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    train, _ = newsgroups()
    names = args.models.split(",")
    runs = {
        name: bigartm(train, args.epochs)
        if name == "big"
        else lambda name=name: timed(
            lambda: MODELS[name]().fit(train, epochs=args.epochs, progress_bar=False),
            args.epochs,
        )
        for name in names
    }
    best = {name: (float("inf"), float("inf")) for name in names}
    for _ in range(args.rounds):
        for name in names:
            wall, cpu = runs[name]()
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    for name, (wall, cpu) in best.items():
        line = f"{name:<7} epoch wall {1000 * wall:8.1f} ms  cpu {1000 * cpu:8.1f} ms"
        if "big" in best and name != "big":
            big_wall, big_cpu = best["big"]
            line += f"  × BigARTM: wall {wall / big_wall:.3f}, cpu {cpu / big_cpu:.3f}"
        print(line, flush=True)
    if "recipe" in names:
        print(f"recipe: choosing the inference contexts at the end of fit: {choice(train):.2f} s")


if __name__ == "__main__":
    main()
