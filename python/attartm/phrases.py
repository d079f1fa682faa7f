"""Phrases of topics and documents, and topic labels (docs/mathematics.md §10): recurring
token sequences scored by how strongly their positions carry a topic under Attentive
ARTM's per-position p(t|C_i, w_i), how often they occur and how specific they are to it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl

from . import _arrays
from ._ngrams import Candidates, candidates
from .corpus import Corpus

#: Tokens per run of the kernel: its n×T output and the prefix sums are held per batch.
BATCH_TOKENS = 100_000


def batches(corpus: Corpus) -> Iterator[tuple[int, int]]:
    """Consecutive document ranges [d0, d1) of about BATCH_TOKENS tokens (at least one
    document each)."""
    offsets = corpus.doc_offsets
    d0 = 0
    while d0 < corpus.n_documents:
        d1 = int(np.searchsorted(offsets, offsets[d0] + BATCH_TOKENS, side="right")) - 1
        d1 = min(max(d1, d0 + 1), corpus.n_documents)
        yield d0, d1
        d0 = d1


def row_sums(index: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the distinct values of ``index``, the first row of each, Σ of its ``rows``)."""
    order = np.argsort(index, kind="stable")
    keys, first = np.unique(index[order], return_index=True)
    return keys, order[first], np.add.reduceat(rows[order], first, axis=0)


class TopicPhrases:
    """The phrases and labels of :class:`attartm.AttentiveARTM` (a part of that class)."""

    def _candidates(self, corpus, max_words, min_words, min_count) -> tuple[Corpus, Candidates]:
        self._require_fitted()  # type: ignore[attr-defined]
        corpus = self._check_corpus(corpus)  # type: ignore[attr-defined]
        max_words = _arrays.positive_int("max_words", max_words)
        min_words = _arrays.positive_int("min_words", min_words)
        if max_words < min_words:
            raise ValueError(f"max_words ({max_words}) must be at least min_words ({min_words})")
        min_count = _arrays.positive_int("min_count", min_count)
        return corpus, candidates(corpus, min_words, max_words, min_count)

    def _occurrences(self, corpus: Corpus, found: Candidates):
        """Per batch of documents: (the occurrences' candidates, their documents, the
        mean p of each occurrence's positions as rows, Σ_i p_i over the batch)."""
        offsets = corpus.doc_offsets
        doc_of = np.repeat(np.arange(corpus.n_documents), corpus.document_lengths)
        for d0, d1 in batches(corpus):
            lo, hi = int(offsets[d0]), int(offsets[d1])
            if hi == lo:
                continue
            part = corpus.select(np.arange(d0, d1))
            # The other modalities of the corpus enter as in transform_tokens.
            prior = self._prior(part)  # type: ignore[attr-defined]
            p = self._run(part, "tokens", prior=prior)[0]  # type: ignore[attr-defined]
            prefix = np.zeros((p.shape[0] + 1, p.shape[1]))
            np.cumsum(p, axis=0, dtype=np.float64, out=prefix[1:])
            a, b = np.searchsorted(found.start, [lo, hi])
            start = found.start[a:b] - lo
            length = found.length[a:b]
            mean = (prefix[start + length] - prefix[start]) / length[:, None]
            yield found.phrase[a:b], doc_of[found.start[a:b]], mean, prefix[-1]

    def _phrase_masses(self, corpus: Corpus, found: Candidates) -> tuple[np.ndarray, np.ndarray]:
        """m (G×T): Σ over each candidate's occurrences of their mean p; π (T): the
        corpus's mean p."""
        mass = np.zeros((found.phrases.height, self.n_topics))  # type: ignore[attr-defined]
        total = np.zeros(self.n_topics)  # type: ignore[attr-defined]
        for phrase, _, mean, p_sum in self._occurrences(corpus, found):
            if phrase.size:
                keys, _, sums = row_sums(phrase, mean)
                mass[keys] += sums
            total += p_sum
        return mass, total / max(corpus.n_tokens, 1)

    @staticmethod
    def _specificity(mass: np.ndarray, counts: np.ndarray, share: np.ndarray) -> np.ndarray:
        """ln(ρ_t(g) / π_t), ρ_t(g) = m_t(g) / c(g) (−inf where m is 0)."""
        rho = mass / counts[:, None]
        with np.errstate(divide="ignore"):
            return np.log(rho) - np.log(np.maximum(share, np.finfo(float).tiny))

    def topic_phrases(
        self,
        corpus: Corpus,
        k: int = 10,
        max_words: int = 4,
        *,
        min_words: int = 2,
        min_count: int = 5,
    ) -> pl.DataFrame:
        """The k phrases that name each topic best in ``corpus``.

        Candidates are the token sequences of ``min_words`` to ``max_words`` words within
        one sentence that occur at least ``min_count`` times (stopwords, removed by the
        corpus, may stand between their words but never at their edges; a candidate
        nearly always inside a longer one is left out). A candidate g scores for topic t

            S_t(g) = m_t(g) · ln(ρ_t(g) / π_t),

        where m_t(g) is the sum over g's occurrences of the mean p(t|C_i, w_i) of their
        positions (how many of its occurrences the topic carries), ρ_t(g) = m_t(g)/c(g)
        its strength (c(g) the occurrences) and π_t the topic's share of all positions:
        the count of the phrase's topical occurrences times their pointwise mutual
        information with the topic (docs/mathematics.md §10). Only positive scores count.

        Returns
        -------
        polars.DataFrame
            ``topic``, ``rank`` (1 = best), ``phrase`` (its words joined by spaces),
            ``score``, ``count`` (occurrences in the corpus).
        """
        k = _arrays.positive_int("k", k)
        corpus, found = self._candidates(corpus, max_words, min_words, min_count)
        mass, share = self._phrase_masses(corpus, found)
        counts = found.phrases["count"].to_numpy()
        with np.errstate(invalid="ignore"):
            scores = np.where(mass > 0, mass * self._specificity(mass, counts, share), 0.0)
        return ranked_phrases(found.phrases, scores, k)

    def document_phrases(
        self,
        corpus: Corpus,
        k: int = 5,
        max_words: int = 4,
        *,
        min_words: int = 2,
        min_count: int = 5,
    ) -> pl.DataFrame:
        """The k phrases that name each document of ``corpus`` best.

        The candidates are those of :meth:`topic_phrases` that the document holds; g
        scores for document d, with its topic t there,

            S_d(g) = max_t m_dt(g) · ln(ρ_t(g) / π_t) · ln(D / df(g)),

        m_dt(g) the sum of the mean p_t of g's occurrences in d, ρ_t and π_t those of the
        corpus, df(g) the documents holding g out of D: the document's share of the
        phrase's topical score, discounted for phrases that many documents use
        (headers, signatures). Two runs of the kernel (the corpus's ρ first).

        Returns
        -------
        polars.DataFrame
            ``id``, ``rank`` (1 = best), ``phrase``, ``topic``, ``score``.
        """
        k = _arrays.positive_int("k", k)
        corpus, found = self._candidates(corpus, max_words, min_words, min_count)
        mass, share = self._phrase_masses(corpus, found)
        table = found.phrases
        specificity = self._specificity(mass, table["count"].to_numpy(), share)
        idf = np.log(corpus.n_documents / table["documents"].to_numpy())
        parts = []
        for phrase, doc, mean, _ in self._occurrences(corpus, found):
            if phrase.size == 0:
                continue
            # Σ of the occurrences' rows per (document, candidate).
            keys, first, sums = row_sums(doc * table.height + phrase, mean)
            g = phrase[first]
            with np.errstate(invalid="ignore"):
                per_topic = np.where(sums > 0, sums * specificity[g], -np.inf)
            topic = per_topic.argmax(axis=1)
            score = per_topic[np.arange(keys.size), topic] * idf[g]
            parts.append(pl.DataFrame({"doc": doc[first], "phrase_id": g, "topic": topic,
                                       "score": score}))  # fmt: skip
        return ranked_documents(corpus, table, parts, k)

    def topic_labels(self, corpus: Corpus, max_words: int = 4, *, min_count: int = 5) -> list[str]:
        """One short name per topic: its best phrase (:meth:`topic_phrases`) that no
        topic with a better best phrase took already, or its most probable word when it
        has none."""
        phrases = self.topic_phrases(corpus, k=10, max_words=max_words, min_count=min_count)
        top_word = [self.vocabulary.words[w] for w in self.phi.argmax(axis=0)]  # type: ignore[attr-defined]
        return labels_from(phrases, top_word)


def labels_from(phrases: pl.DataFrame, top_word: list[str]) -> list[str]:
    """Topic labels from ``topic_phrases``'s frame: topics in decreasing order of their
    best phrase's score each take their best phrase not taken yet (else ``top_word``)."""
    labels = list(top_word)
    order = phrases.filter(pl.col("rank") == 1).sort("score", descending=True)["topic"]
    used: set[str] = set()
    for t in order.to_list():
        options = phrases.filter(pl.col("topic") == t)["phrase"].to_list()
        label = next((p for p in options if p not in used), None)
        if label is not None:
            labels[t] = label
            used.add(label)
    return labels


def ranked_phrases(table: pl.DataFrame, scores: np.ndarray, k: int) -> pl.DataFrame:
    """The k best positive scores of every topic (column of ``scores``), best first
    (ties: the more frequent candidate, then the lower index)."""
    rows = []
    for t in range(scores.shape[1]):
        column = scores[:, t]
        best = np.lexsort((np.arange(column.size), -column))[:k]
        best = best[column[best] > 0]
        rows.append(pl.DataFrame({"topic": np.full(best.size, t, np.int64), "phrase_id": best,
                                  "score": column[best]}))  # fmt: skip
    frame = pl.concat(rows) if rows else pl.DataFrame(schema={"topic": pl.Int64})
    names = table.select(pl.col("phrase").alias("phrase_id"), pl.col("text").alias("phrase"),
                         "count")  # fmt: skip
    return (
        frame.join(names, on="phrase_id", how="left", maintain_order="left")
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("topic"))
        .select("topic", "rank", "phrase", "score", "count")
    )


def ranked_documents(corpus: Corpus, table: pl.DataFrame, parts: list, k: int) -> pl.DataFrame:
    """The k best phrases of every document from its (doc, phrase_id, topic, score) rows."""
    schema = {"id": corpus.ids.dtype, "rank": pl.Int64, "phrase": pl.String,
              "topic": pl.Int64, "score": pl.Float64}  # fmt: skip
    if not parts:
        return pl.DataFrame(schema=schema)
    names = table.select(pl.col("phrase").alias("phrase_id"), pl.col("text").alias("phrase"))
    best = (
        pl.concat(parts)
        .filter(pl.col("score") > 0)
        .sort(["doc", "score", "phrase_id"], descending=[False, True, False])
        .group_by("doc", maintain_order=True)
        .head(k)
        .join(names, on="phrase_id", how="left", maintain_order="left")
    )
    return best.select(
        corpus.ids.gather(best["doc"]),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("doc").alias("rank"),
        "phrase",
        pl.col("topic").cast(pl.Int64),
        "score",
    )
