"""What a fitted model tells about words and documents: its topics, document vectors
(``transform``), the values of another modality it predicts (``predict``), perplexity of
every modality and scores (docs/mathematics.md §5, §7), and pyLDAvis's input. Tables come
back as polars frames, vectors and matrices as numpy arrays.

:class:`ModelEvaluation` is a part of :class:`attartm.TopicModel`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from . import _arrays, _pyldavis, kernels, scores
from ._bag_of_words import BagOfWords
from ._bags import TEXT, Bags
from ._heldout import Evaluation, tokens_loglik
from .corpus import Corpus

#: Documents whose p(w|d) over a modality's vocabulary ``predict`` holds at once.
PREDICT_ROWS = 4096


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

    def topics(self, k: int = 10, modality: str = TEXT) -> pl.DataFrame:
        """The top ``k`` words of every topic: columns topic, rank, word, weight (p(w|t))
        and background (whether the topic is one of ``background_topics``); with
        ``modality``, the top values of another modality (p(value|t))."""
        self._require_fitted()
        phi, vocabulary = self.phi_of(modality), self.vocabularies[modality]
        k = min(_arrays.positive_int("k", k), len(vocabulary))
        top = scores.top_words(phi, k)  # T×k word ids
        words = np.asarray(vocabulary.words, dtype=object)
        weights = np.take_along_axis(phi.T, top, axis=1)
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
        fastest way to vectorize documents with any fitted model. Every modality of the
        model that the corpus has is read.
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        if method == "model":
            theta = self._theta(corpus)
        elif method == "linear":
            bags = self._layout.bags_of(corpus)
            theta = self._linear_theta(corpus.token_ids, corpus.doc_offsets, bags)
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

    def _theta(self, corpus: Corpus) -> np.ndarray:
        return self._theta_of(corpus)

    def _theta_of(
        self, corpus: Corpus, exclude: tuple[str, ...] = (), text: Evaluation | None = None,
        training: bool = False,
    ) -> np.ndarray:  # pragma: no cover  # fmt: skip
        """θ (D×T) inferred from the text (its observed tokens when ``text`` is given) and
        the corpus's other modalities that the model has, but those in ``exclude``;
        ``training``: as training infers it (what another modality is predicted from)."""
        raise NotImplementedError

    def _bag_of_words(
        self, corpus: Corpus, exclude: tuple[str, ...] = (), text: Evaluation | None = None
    ) -> BagOfWords:
        """The documents' bags over every modality read (see :meth:`_theta_of`)."""
        tokens, offsets = (
            (corpus.token_ids, corpus.doc_offsets)
            if text is None
            else (text.observed_tokens, text.observed_offsets)
        )
        bags = self._layout.bags_of(corpus, exclude)
        return BagOfWords.of_modalities(self._layout, tokens, offsets, bags, self.threads)

    def _linear_theta(
        self, tokens: np.ndarray, offsets: np.ndarray, bags: list[tuple[int, Bags]] = ()
    ) -> np.ndarray:
        if not bags:
            return kernels._linear_theta(
                tokens, offsets, self._phi, self._topic_mass(), counts=None,
                threads=self.threads, checked_phi=True,
            )  # fmt: skip
        bow = BagOfWords.of_modalities(self._layout, tokens, offsets, bags, self.threads)
        return kernels._linear_theta(
            bow.words, bow.offsets, self._phi, self._topic_masses(), counts=bow.counts,
            threads=self.threads, checked_phi=True, modality_starts=self._layout.starts[:-1],
        )  # fmt: skip

    def predict(self, corpus: Corpus, modality: str, k: int = 1) -> pl.DataFrame:
        """The ``k`` most probable values of a modality (a label, tags) for every document,
        p(w|d) = Σ_t φ_wt θ_td over the modality's vocabulary, with θ inferred from the
        corpus's other modalities (a test corpus without the label column is predicted
        from its text; the modality's own values, when the corpus has them, are not read).

        Returns a polars frame: ``id``, ``rank`` (1 = best), ``value`` and ``probability``,
        k rows per document (ties: the value of the lower id first).
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        if modality == TEXT:
            raise ValueError(
                'predict names a modality other than "text" (its values are predicted from '
                "the text); for the words of a topic use topics()"
            )
        m = self._layout.index(modality)
        phi = self._phi[self._layout.blocks[m]]
        k = min(_arrays.positive_int("k", k), phi.shape[0])
        theta = self._theta_of(corpus, exclude=(modality,), training=True)
        best = np.empty((theta.shape[0], k), dtype=np.int64)
        probability = np.empty((theta.shape[0], k))
        for start in range(0, theta.shape[0], PREDICT_ROWS):
            p = theta[start : start + PREDICT_ROWS].astype(np.float64) @ phi.T.astype(np.float64)
            top = np.argsort(-p, axis=1, kind="stable")[:, :k]
            best[start : start + PREDICT_ROWS] = top
            probability[start : start + PREDICT_ROWS] = np.take_along_axis(p, top, axis=1)
        values = np.asarray(self._layout.vocabularies[m].words, dtype=object)
        return pl.DataFrame(
            {
                "id": corpus.ids.gather(np.repeat(np.arange(corpus.n_documents), k)),
                "rank": np.tile(np.arange(1, k + 1, dtype=np.int64), corpus.n_documents),
                "value": pl.Series(values[best.ravel()].tolist(), dtype=pl.String),
                "probability": probability.ravel(),
            }
        )

    def _modality_loglik(self, corpus: Corpus, modality: str) -> tuple[float, int]:
        """Σ ln p(w|d) over the values of a modality other than text, θ inferred from the
        corpus's other modalities (the text whole), and how many values were scored."""
        m = self._layout.index(modality)
        bags = corpus._bag(modality)
        theta = self._theta_of(corpus, exclude=(modality,), training=True)
        tokens = bags.token_ids + np.uint32(self._layout.starts[m])
        docs = np.repeat(np.arange(corpus.n_documents), np.diff(bags.doc_offsets))
        keep = self._known_words()[tokens]
        return tokens_loglik(self._phi, theta, tokens[keep], docs[keep])

    def perplexity(
        self, corpus: Corpus, *, heldout: bool = True, seed: int = 0, modality: str = TEXT
    ) -> float:
        """Perplexity exp(−mean ln p(w)) of the corpus's tokens.

        ``heldout=True``: document completion (docs/mathematics.md §5): every other token (random
        parity per document, from ``seed``) infers the topics and the others are scored, so
        no token sees itself. ``heldout=False``: training perplexity: every token infers
        and is scored. Tokens whose word never occurred in training are not counted. The
        corpus's other modalities that the model has are read too.

        ``modality`` names another modality to score instead: each document's values are
        scored with θ inferred from the rest of the document (its whole text and other
        modalities), never from themselves.
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        if modality != TEXT:
            self._layout.index(modality)
            total, n = self._modality_loglik(corpus, modality)
            if n == 0:
                raise ValueError(f"the corpus has no value of the modality {modality!r} to score")
            return math.exp(-total / n)
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

        ``perplexity`` is held-out (document completion), of the text, also as
        ``perplexity_text``; ``perplexity_<m>`` that of every other modality m of the model
        the corpus has (its values predicted from the rest of each document). Coherence of
        the top-10 words
        over ``reference`` (the test corpus when omitted): ``npmi`` from document
        co-occurrence, ``c_npmi_10`` and ``c_npmi_110`` from sliding windows of 10 and 110
        tokens, equal to gensim's ``CoherenceModel(coherence="c_npmi")`` (see
        :func:`attartm.scores.coherence`).
        """
        self._require_fitted()
        test = self._check_corpus(test)
        if reference is not None:
            reference = self._check_corpus(reference)
        theta = self._theta(test)
        phi = self.phi
        out = {"perplexity": self.perplexity(test, seed=seed)}
        if self._layout.multimodal:
            out["perplexity_text"] = out["perplexity"]
            for name in self._layout.names[1:]:
                if name in test.modalities:
                    out[f"perplexity_{name}"] = self.perplexity(test, modality=name)
        out.update({
            "sparsity_phi": scores.sparsity(phi),
            "sparsity_theta": scores.sparsity(theta),
            "diversity": scores.topic_diversity(phi, k=min(25, phi.shape[0])),
            "js_distance": scores.mean_js_distance(phi),
        })  # fmt: skip
        ref = reference if reference is not None else test
        topn = min(10, phi.shape[0])
        out["npmi"] = scores.coherence(phi, ref, window=None, topn=topn, threads=self.threads)
        for window in (10, 110):
            out[f"c_npmi_{window}"] = scores.coherence(
                phi, ref, window=window, topn=topn, threads=self.threads
            )
        kernel = scores.kernel_scores(phi, self.n_t)
        out.update({k: float(v) for k, v in kernel.items() if not k.endswith("_per_topic")})
        if any(type(r).__name__ == "TopicSelectionTheta" for r in self._regularizers):
            out["surviving_topics"] = float(len(self.surviving_topics()))
        return out

    def surviving_topics(self, min_share: float = 1e-3) -> list[int]:
        """The topics that hold at least ``min_share`` of the model's mass Σ_t n_t (over
        every modality, weighted): those that TopicSelectionTheta left alive."""
        self._require_fitted()
        mass = self._n_t.sum(axis=0) * self._scale
        total = mass.sum()
        share = mass / total if total > 0 else np.zeros_like(mass)
        return [int(t) for t in np.flatnonzero(share >= min_share)]
