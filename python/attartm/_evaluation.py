"""What a fitted model tells about words and documents: its topics, document vectors
(``transform``), perplexity and scores (docs/mathematics.md §5), and pyLDAvis's input.
Tables come back as polars frames, vectors and matrices as numpy arrays.

:class:`ModelEvaluation` is a part of :class:`attartm.TopicModel`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from . import _arrays, _pyldavis, kernels, scores
from ._heldout import Evaluation
from .corpus import Corpus


class ModelEvaluation:
    """Topics, transform, perplexity and scores of a fitted model."""

    def to_pyldavis(self, corpus: Corpus | Iterable[Corpus]) -> dict[str, Any]:
        """The keyword arguments of ``pyLDAvis.prepare`` for this model on ``corpus``.

        Parameters
        ----------
        corpus : Corpus or iterable of Corpus
            The documents to show, built with the model's vocabulary; or batches of them
            (e.g. ``Corpus.scan_parquet(...)``), read once, for a corpus larger than memory.

        Returns
        -------
        dict
            ``topic_term_dists`` (T×W, p(w|t)), ``doc_topic_dists`` (D×T, p(t|d) as
            ``transform`` infers it), ``doc_lengths`` (D), ``vocab`` (W words) and
            ``term_frequency`` (W, each word's count in ``corpus``): numpy arrays and a list.
            Use as ``pyLDAvis.prepare(**model.to_pyldavis(corpus))``.
        """
        self._require_fitted()
        return _pyldavis.arguments(
            self.phi, self._vocabulary.words,
            lambda batch: self.transform(batch).select(self.topic_names).to_numpy(), corpus,
        )  # fmt: skip

    def topics(self, k: int = 10) -> pl.DataFrame:
        """The top ``k`` words of every topic: columns topic, rank, word, weight (p(w|t))
        and background (whether the topic is one of ``background_topics``)."""
        self._require_fitted()
        k = min(_arrays.positive_int("k", k), len(self._vocabulary))
        top = scores.top_words(self._phi, k)  # T×k word ids
        words = np.asarray(self._vocabulary.words, dtype=object)
        weights = np.take_along_axis(self._phi.T, top, axis=1)
        topic = np.repeat(np.arange(self.n_topics, dtype=np.int64), k)
        return pl.DataFrame(
            {
                "topic": topic,
                "rank": np.tile(np.arange(1, k + 1, dtype=np.int64), self.n_topics),
                "word": words[top.ravel()].tolist(),
                "weight": weights.ravel().astype(np.float64),
                "background": np.isin(topic, self._background_topics),
            }
        )

    def transform(self, corpus: Corpus, method: str = "model") -> pl.DataFrame:
        """p(t|d) of every document: a polars frame with ``id`` and one column per topic.

        ``method="model"`` infers θ the model's own way; ``method="linear"`` uses the
        one-pass linear topicization θ_td = Σ_w (n_dw / n_d) p(t|w) of Θ-less ARTM, the
        fastest way to vectorize documents with any fitted model.
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        if method == "model":
            theta = self._theta(corpus)
        elif method == "linear":
            theta = self._linear_theta(corpus.token_ids, corpus.doc_offsets)
        else:
            raise ValueError(f'method must be "model" or "linear", not {method!r}')
        frame = pl.DataFrame(theta, schema=self.topic_names)
        return frame.insert_column(0, corpus.ids.alias("id"))

    def fit_transform(self, corpus: Corpus, method: str = "model", **fit_args: Any) -> pl.DataFrame:
        """``fit(corpus, **fit_args)``, then ``transform(corpus, method)``."""
        return self.fit(corpus, **fit_args).transform(corpus, method)

    def _known_words(self) -> np.ndarray:
        """Words seen in training (n_w > 0): the only ones a perplexity counts."""
        return self._n_wt.sum(axis=1) > 0

    def _linear_theta(self, tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        return kernels._linear_theta(
            tokens, offsets, self._phi, self._topic_mass(), counts=None, threads=self.threads,
            checked_phi=True,
        )  # fmt: skip

    def perplexity(self, corpus: Corpus, *, heldout: bool = True, seed: int = 0) -> float:
        """Perplexity exp(−mean ln p(w)) of the corpus's tokens.

        ``heldout=True``: document completion (docs/mathematics.md §5): every other token (random
        parity per document, from ``seed``) infers the topics and the others are scored, so
        no token sees itself. ``heldout=False``: training perplexity: every token infers
        and is scored. Tokens whose word never occurred in training are not counted.
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        tokens, offsets = corpus.token_ids, corpus.doc_offsets
        ev = (
            Evaluation.completion(tokens, offsets, seed)
            if heldout
            else Evaluation.whole(tokens, offsets)
        )
        total, n = self._loglik(corpus, ev)
        if n == 0:
            raise ValueError("the corpus has no token to evaluate (all documents too short?)")
        return math.exp(-total / n)

    def score(
        self, test: Corpus, reference: Corpus | None = None, *, seed: int = 0
    ) -> dict[str, float]:
        """All scores of docs/mathematics.md on a test corpus.

        ``perplexity`` is held-out (document completion). Coherence of the top-10 words
        over ``reference`` (the test corpus when omitted): ``npmi`` from document
        co-occurrence, ``c_npmi_10`` and ``c_npmi_110`` from sliding windows of 10 and 110
        tokens, equal to gensim's ``CoherenceModel(coherence="c_npmi")`` (see
        :func:`attartm.scores.coherence`).
        """
        self._require_fitted()
        test = self._check_corpus(test)
        if reference is not None:
            reference = self._check_corpus(reference)
        phi = self._phi
        theta = self._theta(test)
        out = {
            "perplexity": self.perplexity(test, seed=seed),
            "sparsity_phi": scores.sparsity(phi),
            "sparsity_theta": scores.sparsity(theta),
            "diversity": scores.topic_diversity(phi, k=min(25, phi.shape[0])),
            "js_distance": scores.mean_js_distance(phi),
        }
        ref = reference if reference is not None else test
        topn = min(10, phi.shape[0])
        out["npmi"] = scores.coherence(phi, ref, window=None, topn=topn, threads=self.threads)
        for window in (10, 110):
            out[f"c_npmi_{window}"] = scores.coherence(
                phi, ref, window=window, topn=topn, threads=self.threads
            )
        kernel = scores.kernel_scores(phi, self.n_t)
        out.update({k: float(v) for k, v in kernel.items() if not k.endswith("_per_topic")})
        return out
