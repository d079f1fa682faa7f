"""Peers trained on exactly our token ids, so that their models are scored by our code:
BigARTM 0.9.2 (classic ARTM in C++), also over modalities (its class_ids).

BigARTM is optional: ``pip install bigartm==0.9.2 six protobuf==3.20.3``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

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


#: BigARTM's class_id of our text modality; another modality m is "@m".
TEXT_CLASS = "@default_class"


def class_id(modality: str) -> str:
    return TEXT_CLASS if modality == "text" else f"@{modality}"


def write_vowpal_wabbit(corpus: Corpus, path: Path, modalities: Sequence[str] = ()) -> None:
    """The corpus's bags of words as Vowpal Wabbit lines (BigARTM's fast C++ parser), with
    a section ``|@m value:count ...`` for each of ``modalities`` (other than the text)."""
    sections = [(TEXT_CLASS, corpus.vocabulary.words, corpus.token_ids, corpus.doc_offsets)]
    for m in modalities:
        bag = corpus._bag(m)
        sections.append((class_id(m), bag.vocabulary.words, bag.token_ids, bag.doc_offsets))
    bags = [
        (name, np.asarray(words, dtype=object), *bag_of_words(tokens, offsets))
        for name, words, tokens, offsets in sections
    ]
    with path.open("w") as f:
        for d in range(corpus.n_documents):
            line = [f"doc{d}"]
            for name, vocab, offsets, words, counts in bags:
                a, b = offsets[d], offsets[d + 1]
                items = " ".join(f"{vocab[w]}:{int(c)}" for w, c in zip(words[a:b], counts[a:b]))
                line.append(f"|{name} {items}")
            f.write(" ".join(line) + "\n")


class BigARTM:
    """Trains BigARTM offline on a corpus and hands back its Φ in our vocabulary order.

    ``modality_weights`` (as for our models: ``{"label": 5.0}``, the text 1 unless given)
    become BigARTM's class_ids with those weights; every modality named is read from the
    corpus. Without it, the text alone."""

    def __init__(
        self,
        n_topics: int,
        doc_passes: int,
        threads: int,
        seed: int = 0,
        modality_weights: Mapping[str, float] | None = None,
    ) -> None:
        self.n_topics, self.doc_passes, self.threads, self.seed = (
            n_topics,
            doc_passes,
            threads,
            seed,
        )
        self.modality_weights = {"text": 1.0, **(modality_weights or {})}
        self.others = [m for m in self.modality_weights if m != "text"]

    def fit(self, corpus: Corpus, epochs: int) -> list[float]:
        """Returns the wall time of every epoch (collection pass)."""
        self._tmp = tempfile.TemporaryDirectory()
        self._folder = Path(self._tmp.name)
        with self._inside():
            return self._fit_in(self._folder, corpus, epochs)

    @contextlib.contextmanager
    def _inside(self) -> Iterator[None]:
        """BigARTM writes its log files into the working directory: keep them out of the
        repo, in the model's temporary folder."""
        cwd = os.getcwd()
        os.chdir(self._folder)
        try:
            yield
        finally:
            os.chdir(cwd)

    def _fit_in(self, folder: Path, corpus: Corpus, epochs: int) -> list[float]:
        import artm

        bv = self._batches(corpus, folder, "corpus", self.others)
        class_ids = {class_id(m): float(w) for m, w in self.modality_weights.items()}
        self.model = artm.ARTM(
            num_topics=self.n_topics, num_document_passes=self.doc_passes,
            num_processors=self.threads, dictionary=bv.dictionary, seed=self.seed,
            class_ids=class_ids,
        )  # fmt: skip
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            self.model.fit_offline(bv, num_collection_passes=1)
            times.append(time.perf_counter() - start)
        self.vocabulary = corpus.vocabulary
        return times

    @staticmethod
    def _batches(corpus: Corpus, folder: Path, name: str, modalities: Sequence[str]) -> Any:
        import artm

        write_vowpal_wabbit(corpus, folder / f"{name}.vw", modalities)
        return artm.BatchVectorizer(
            data_path=str(folder / f"{name}.vw"), data_format="vowpal_wabbit",
            target_folder=str(folder / f"{name}_batches"), batch_size=1000,
        )  # fmt: skip

    def predict(self, corpus: Corpus, modality: str) -> np.ndarray:
        """The most probable value of ``modality`` for every document of ``corpus``, by
        BigARTM's own inference from the text (``transform(predict_class_id=...)``)."""
        with self._inside():
            bv = self._batches(corpus, self._folder, "predict", ())
            p = self.model.transform(batch_vectorizer=bv, predict_class_id=class_id(modality))
        # Rows are the modality's values, columns the documents: item ids, which BigARTM
        # numbers from 0 in the order of the lines.
        if sorted(p.columns) != list(range(corpus.n_documents)):
            raise RuntimeError("BigARTM's item ids are not the documents' line numbers")
        best = p.idxmax(axis=0)
        return np.array([best[d] for d in range(corpus.n_documents)], dtype=object)

    def to_attartm(self) -> ARTM:
        """Our ARTM with BigARTM's Φ and n_wt of the text, so both are scored by the same
        code."""
        words = self.vocabulary.words
        phi = self.model.get_phi(class_ids=[TEXT_CLASS])
        n_wt = self.model.get_phi(model_name=self.model.model_nwt, class_ids=[TEXT_CLASS])
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
