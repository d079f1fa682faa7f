"""Fragments and phrases on 20 Newsgroups (issue 15's acceptance 1 and 2), written to
benches/results/passages.md and .json:

    python benches/bench_passages.py [--seed 0] [--models DIR] [--threads 2]

An AttentiveARTM and a classic ARTM of T = 50 topics with the repository's defaults (and
the given seed) are trained on the train split (min_df=5, max_df=0.5; kept in DIR and
reused when there; so is the tomotopy baseline's result, tomotopy-<N>.json). Each seed's
figures go to passages-seed<N>.json; passages.md shows every seed's run there and their
mean.
Each topic's dominant newsgroup is the group with the largest share of the topic's mass
Σ_d n_d p(t|d) over the training documents.

1. Fragments: each topic's top-10 fragments of the test split (``model.fragments``, one
   call for all topics); the share of them from documents of the dominant group,
   averaged over the topics whose dominant group holds ≥ 30% of their mass. Beside it,
   the same figure for classic ARTM's θ_d: the 10 test documents of largest θ_td (their
   best windows lie in those documents).
2. Phrases: ``topic_phrases(train, k=10)`` (and with ``min_words=1``): the topics of which
   at least 5 of the top-10 phrases have two or more words and occur ≥ 5 times, and the
   precision of the phrases: the share of their occurrences in the test split that lie in
   documents of the topic's dominant group. The same for tomotopy's PMI labeler
   (PMIExtractor + FoRelevance, Mei et al. 2007) on a tomotopy LDA of T = 50 trained on
   the same tokens, when tomotopy is importable.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl

import attartm
from _data import DATA, newsgroups, require

RESULTS = Path(__file__).resolve().parent / "results"
TOPICS = 50


def dominant(mass: np.ndarray, groups: np.ndarray, names: np.ndarray):
    """(dominant group, its share) of every topic from per-document masses D×T."""
    by_group = np.stack([mass[groups == g].sum(axis=0) for g in names])
    share = by_group / np.maximum(by_group.sum(axis=0), 1e-300)
    return names[share.argmax(axis=0)], share.max(axis=0)


def trained(path: Path, model, train):
    if path.exists():
        return attartm.load(path)
    start = time.perf_counter()
    model.fit(train, progress_bar=False)
    print(f"trained {path.name} in {time.perf_counter() - start:.0f} s", flush=True)
    model.save(path)
    return model


def fragment_figures(att, art, train, test, g_train, g_test, names):
    dom, share = dominant(att.transform(train).drop("id").to_numpy()
                          * train.document_lengths[:, None], g_train, names)  # fmt: skip
    start = time.perf_counter()
    found = att.fragments(test, k=10)
    seconds = time.perf_counter() - start
    index = {v: i for i, v in enumerate(test.ids.to_list())}
    group = np.array([g_test[index[i]] for i in found["id"].to_list()])
    topic = found["topic"].to_numpy()
    kept = [t for t in range(TOPICS) if share[t] >= 0.3]
    per_topic = {t: float(np.mean(group[topic == t] == dom[t])) if (topic == t).any() else 0.0
                 for t in kept}  # fmt: skip
    dom_a, share_a = dominant(art.transform(train).drop("id").to_numpy()
                              * train.document_lengths[:, None], g_train, names)  # fmt: skip
    theta = art.transform(test).drop("id").to_numpy()
    kept_a = [t for t in range(TOPICS) if share_a[t] >= 0.3]
    per_topic_a = {t: float(np.mean(g_test[np.argsort(-theta[:, t], kind="stable")[:10]]
                                    == dom_a[t])) for t in kept_a}  # fmt: skip
    return {
        "attentive_topics": len(kept),
        "attentive_share": float(np.mean(list(per_topic.values()))),
        "attentive_per_topic": {int(t): v for t, v in per_topic.items()},
        "artm_topics": len(kept_a),
        "artm_share": float(np.mean(list(per_topic_a.values()))),
        "fragments_seconds": seconds,
        "dominant": [str(d) for d in dom],
        "dominant_share": share.tolist(),
    }


def occurrences_by_phrase(corpus, max_words: int = 4) -> dict[tuple[str, ...], list[int]]:
    """The documents of every occurrence of every n-gram (n ≤ max_words) of a corpus."""
    words = corpus.vocabulary.words
    out: dict[tuple[str, ...], list[int]] = defaultdict(list)
    offsets = corpus.doc_offsets
    tokens = [words[w] for w in corpus.token_ids]
    for d in range(corpus.n_documents):
        doc = tokens[offsets[d] : offsets[d + 1]]
        for n in range(1, max_words + 1):
            for i in range(len(doc) - n + 1):
                out[tuple(doc[i : i + n])].append(d)
    return out


def phrase_figures(lists, counts, dom, share, where, g_test):
    """Topics with ≥ 5 of 10 multiword phrases occurring ≥ 5 times, and the precision of
    the phrases against the dominant groups (topics with a dominant share ≥ 0.3)."""
    good, precision = 0, []
    for t, phrases in enumerate(lists):
        multi = [p for p in phrases if len(p.split()) >= 2 and counts.get(p, 0) >= 5]
        good += len(multi) >= 5
        if share[t] >= 0.3:
            hits = [np.mean(g_test[where[tuple(p.split())]] == dom[t])
                    for p in phrases if tuple(p.split()) in where]  # fmt: skip
            precision.append(float(np.mean(hits)) if hits else 0.0)
    return {"topics_ok": int(good), "share_ok": good / len(lists),
            "precision": float(np.mean(precision)), "precision_topics": len(precision)}  # fmt: skip


def tomotopy_labels(train, threads, seed):
    import tomotopy as tp

    words = train.vocabulary.words
    model = tp.LDAModel(k=TOPICS, seed=seed)
    offsets = train.doc_offsets
    ids = train.token_ids
    for d in range(train.n_documents):
        doc = [words[w] for w in ids[offsets[d] : offsets[d + 1]]]
        if doc:
            model.add_doc(doc)
    model.train(0, workers=threads)
    for _ in range(50):
        model.train(20, workers=threads)
    extractor = tp.label.PMIExtractor(min_cf=5, min_df=5, min_len=1, max_len=4, max_cand=20000)
    labeler = tp.label.FoRelevance(model, extractor.extract(model), min_df=5, smoothing=1e-2,
                                   mu=0.25, window_size=50, workers=threads)  # fmt: skip
    lists = [[label for label, _ in labeler.get_topic_labels(t, top_n=10)] for t in range(TOPICS)]
    mass = np.array([doc.get_topic_dist() * len(doc.words) for doc in model.docs])
    kept = np.diff(offsets) > 0
    return lists, mass, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="/tmp/attartm-passages", help="where models are kept")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the models' seed")
    args = parser.parse_args()
    seed = args.seed
    folder = Path(args.models)
    folder.mkdir(parents=True, exist_ok=True)
    train, test = newsgroups()
    g_train = pl.read_parquet(require(DATA / "20newsgroups" / "train.parquet"))["newsgroup"]
    g_test = pl.read_parquet(require(DATA / "20newsgroups" / "test.parquet"))["newsgroup"]
    g_train, g_test = g_train.to_numpy(), g_test.to_numpy()
    names = np.unique(g_train)
    att = trained(folder / f"attentive-{seed}.attartm", attartm.AttentiveARTM(TOPICS, seed=seed),
                  train)  # fmt: skip
    art = trained(folder / f"artm-{seed}.attartm", attartm.ARTM(TOPICS, seed=seed), train)
    att.threads = art.threads = args.threads
    results: dict = {"seed": seed, "contexts": [att._inference_window, att._inference_passes]}
    results["fragments"] = fragment_figures(att, art, train, test, g_train, g_test, names)
    dom = np.array(results["fragments"]["dominant"])
    share = np.array(results["fragments"]["dominant_share"])
    where = {k: np.array(v) for k, v in occurrences_by_phrase(test).items()}
    counts = {" ".join(k): len(v) for k, v in occurrences_by_phrase(train).items()}
    phrases = {}
    for min_words in (2, 1):
        frame = att.topic_phrases(train, k=10, min_words=min_words)
        lists = [frame.filter(pl.col("topic") == t)["phrase"].to_list() for t in range(TOPICS)]
        phrases[f"attentive_min_words_{min_words}"] = phrase_figures(lists, counts, dom, share,
                                                                     where, g_test)  # fmt: skip
        if min_words == 2:
            results["tables"] = {"phrases": lists, "labels": att.topic_labels(train),
                                 "top_words": [[att.vocabulary.words[w] for w in
                                                np.argsort(-att.phi[:, t])[:8]]
                                               for t in range(TOPICS)]}  # fmt: skip
    # The baseline does not depend on attartm's models: kept in DIR per seed and reused.
    baseline = folder / f"tomotopy-{seed}.json"
    if not baseline.exists():
        try:
            lists, mass, kept = tomotopy_labels(train, args.threads, seed)
        except ImportError:
            print("tomotopy is not importable: the PMI baseline is left out")
        else:
            dom_t, share_t = dominant(mass, g_train[kept], names)
            figures = phrase_figures(lists, counts, dom_t, share_t, where, g_test)
            baseline.write_text(json.dumps({"figures": figures, "lists": lists}))
    if baseline.exists():
        kept_baseline = json.loads(baseline.read_text())
        phrases["tomotopy_pmi"] = kept_baseline["figures"]
        results["tables"]["tomotopy"] = kept_baseline["lists"]
    results["phrases"] = phrases
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"passages-seed{seed}.json").write_text(json.dumps(results, indent=1))
    runs = [json.loads(path.read_text()) for path in sorted(RESULTS.glob("passages-seed*.json"))]
    write_markdown(runs, results)
    print((RESULTS / "passages.md").read_text())


def write_markdown(runs: list[dict], results: dict) -> None:
    """passages.md: the figures of every seed's run and their mean, and the table of
    ``results``'s run."""
    seeds = ", ".join(str(r["seed"]) for r in runs)
    lines = [
        "`python benches/bench_passages.py --seed N` (20 Newsgroups, T = 50, the repository's "
        f"defaults; seeds {seeds})",
        "",
        "| fragments from the dominant group (top 10 per topic, test split) | seed | topics "
        "| share |",
        "|---|---:|---:|---:|",
    ]
    for key, name in (("attentive", "AttentiveARTM.fragments"),
                      ("artm", "ARTM θ_d (10 best documents)")):  # fmt: skip
        shares = [r["fragments"][f"{key}_share"] for r in runs]
        for r in runs:
            f = r["fragments"]
            lines.append(f"| {name} | {r['seed']} | {f[f'{key}_topics']} | "
                         f"{f[f'{key}_share']:.3f} |")  # fmt: skip
        lines.append(f"| {name} | mean | | **{np.mean(shares):.3f}** |")
    lines += [
        "",
        "| phrases (top 10 per topic, train split) | seed | topics with ≥ 5 multiword phrases "
        "occurring ≥ 5 times | precision against the dominant group |",
        "|---|---:|---:|---:|",
    ]
    for name in runs[0]["phrases"]:
        for r in runs:
            v = r["phrases"][name]
            lines.append(f"| {name} | {r['seed']} | {v['topics_ok']} / {TOPICS} "
                         f"({v['share_ok']:.0%}) | {v['precision']:.3f} "
                         f"({v['precision_topics']} topics) |")  # fmt: skip
    tables = results["tables"]
    lines += ["", f"Seed {results['seed']}'s topics 0, 5, …, 45 (inference window "
              f"{results['contexts'][0]:.2f}, {results['contexts'][1]} passes):", "",
              "| topic | label | phrases | top words |", "|---|---|---|---|"]  # fmt: skip
    for t in range(0, TOPICS, 5):
        lines.append(f"| {t} | {tables['labels'][t]} | {'; '.join(tables['phrases'][t][:6])} | "
                     f"{' '.join(tables['top_words'][t])} |")  # fmt: skip
    (RESULTS / "passages.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
