"""Peers trained on exactly our token ids, so that their models are scored by our code:
BigARTM 0.9.2 (classic ARTM in C++).

BigARTM is optional: ``pip install bigartm==0.9.2 six protobuf==3.20.3``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from .artm import ARTM
from .corpus import Corpus
from .kernels import bag_of_words


def bigartm_available() -> bool:
    try:
        import artm  # noqa: F401
    except Exception:
        return False
    return True


def write_vowpal_wabbit(corpus: Corpus, path: Path) -> None:
    """The corpus's bags of words as Vowpal Wabbit lines (BigARTM's fast C++ parser)."""
    vocab = np.asarray(corpus.vocabulary.words, dtype=object)
    offsets, words, counts = bag_of_words(corpus.token_ids, corpus.doc_offsets)
    with path.open("w") as f:
        for d in range(corpus.n_documents):
            a, b = offsets[d], offsets[d + 1]
            items = " ".join(f"{vocab[w]}:{int(c)}" for w, c in zip(words[a:b], counts[a:b]))
            f.write(f"doc{d} |@default_class {items}\n")


class BigARTM:
    """Trains BigARTM offline on a corpus and hands back its Φ in our vocabulary order."""

    def __init__(self, n_topics: int, doc_passes: int, threads: int, seed: int = 0) -> None:
        self.n_topics, self.doc_passes, self.threads, self.seed = (
            n_topics,
            doc_passes,
            threads,
            seed,
        )

    def fit(self, corpus: Corpus, epochs: int) -> list[float]:
        """Returns the wall time of every epoch (collection pass)."""
        self._tmp = tempfile.TemporaryDirectory()
        folder = Path(self._tmp.name)
        # BigARTM writes its log files into the working directory: keep them out of the repo.
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            return self._fit_in(folder, corpus, epochs)
        finally:
            os.chdir(cwd)

    def _fit_in(self, folder: Path, corpus: Corpus, epochs: int) -> list[float]:
        import artm

        write_vowpal_wabbit(corpus, folder / "corpus.vw")
        bv = artm.BatchVectorizer(
            data_path=str(folder / "corpus.vw"), data_format="vowpal_wabbit",
            target_folder=str(folder / "batches"), batch_size=1000,
        )  # fmt: skip
        self.model = artm.ARTM(
            num_topics=self.n_topics, num_document_passes=self.doc_passes,
            num_processors=self.threads, dictionary=bv.dictionary, seed=self.seed,
        )  # fmt: skip
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            self.model.fit_offline(bv, num_collection_passes=1)
            times.append(time.perf_counter() - start)
        self.vocabulary = corpus.vocabulary
        return times

    def to_attartm(self) -> ARTM:
        """Our ARTM with BigARTM's Φ and n_wt, so both are scored by the same code."""
        words = self.vocabulary.words
        phi = self.model.get_phi()
        n_wt = self.model.get_phi(model_name=self.model.model_nwt)
        index = [w if isinstance(w, str) else w[1] for w in phi.index]
        phi.index = index
        n_wt.index = [w if isinstance(w, str) else w[1] for w in n_wt.index]
        phi = phi.reindex(words).fillna(0.0).to_numpy(dtype=np.float32)
        n_wt = n_wt.reindex(words).fillna(0.0).to_numpy(dtype=np.float64)
        return ARTM.from_phi(phi, self.vocabulary, n_wt=n_wt, doc_passes=self.doc_passes)


def tomotopy_available() -> bool:
    try:
        import tomotopy  # noqa: F401
    except Exception:
        return False
    return True


class TomotopyLDA:
    """LDA by collapsed Gibbs sampling (tomotopy) on our token ids, one epoch = one sweep
    over the corpus; its Φ is handed back in our vocabulary order for our scorers."""

    def __init__(self, n_topics: int, threads: int, seed: int = 0) -> None:
        self.n_topics, self.threads, self.seed = n_topics, threads, seed

    def fit(self, corpus: Corpus, epochs: int) -> list[float]:
        """Returns the wall time of every epoch (Gibbs iteration)."""
        import tomotopy

        words = corpus.vocabulary.words
        self.model = tomotopy.LDAModel(k=self.n_topics, seed=self.seed)
        offsets, tokens = corpus.doc_offsets, corpus.token_ids
        for d in range(corpus.n_documents):
            doc = [words[w] for w in tokens[offsets[d] : offsets[d + 1]]]
            if doc:
                self.model.add_doc(doc)
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            self.model.train(1, workers=self.threads)
            times.append(time.perf_counter() - start)
        self.vocabulary = corpus.vocabulary
        return times

    def to_attartm(self) -> ARTM:
        """Our ARTM with LDA's Φ (and n_wt = φ_wt n_t), scored by the same code."""
        index = {w: i for i, w in enumerate(self.vocabulary.words)}
        rows = [index[w] for w in self.model.used_vocabs]
        phi = np.zeros((len(self.vocabulary), self.n_topics), dtype=np.float32)
        for t in range(self.n_topics):
            phi[rows, t] = self.model.get_topic_word_dist(t)
        sizes = np.asarray(self.model.get_count_by_topics(), dtype=np.float64)
        return ARTM.from_phi(phi, self.vocabulary, n_wt=phi.astype(np.float64) * sizes)
