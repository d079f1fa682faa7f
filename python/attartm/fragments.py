"""Fragments of topics (docs/mathematics.md §9): the spans of a corpus whose positions
carry a topic most, found in one run of Attentive ARTM's E-step with a streaming top-k.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from . import _arrays
from ._span_text import span_texts
from .corpus import Corpus


def topic_list(topic: Any, topics: Any, n_topics: int) -> tuple[list[int] | None, bool]:
    """(the topics asked for, or None for all; whether one topic was asked for alone)
    from the ``topic`` and ``topics`` arguments, checked."""
    if topic is not None and topics is not None:
        raise ValueError("give either topic (one topic) or topics (a list, None for all)")

    def checked(t: Any) -> int:
        if isinstance(t, bool) or not isinstance(t, numbers.Integral):
            raise TypeError(f"a topic is an int, not {t!r}")
        if not 0 <= int(t) < n_topics:
            raise ValueError(f"topic {t} is out of range for a model of {n_topics} topics")
        return int(t)

    if topic is not None:
        return [checked(topic)], True
    if topics is None:
        return None, False
    if isinstance(topics, (str, bytes)) or not isinstance(topics, Sequence | np.ndarray):
        raise TypeError(f"topics must be a sequence of ints or None, not {topics!r}")
    chosen = [checked(t) for t in topics]
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"topics must not repeat a topic: {chosen}")
    if not chosen:
        raise ValueError("topics is empty: give at least one topic, or None for all")
    return chosen, False


class TopicFragments:
    """The fragments of :class:`attartm.AttentiveARTM` (a part of that class)."""

    def fragments(
        self,
        corpus: Corpus,
        topic: int | None = None,
        k: int = 10,
        min_tokens: int = 10,
        max_tokens: int = 100,
        *,
        topics: Sequence[int] | None = None,
        threshold: float = 0.5,
    ) -> pl.DataFrame:
        """The k spans of ``corpus`` that carry a topic most, across documents, best first.

        A position i counts for topic t by its excess p(t|C_i, w_i) − c (c =
        ``threshold``); a document's candidate spans are its maximal scoring segments of
        that excess (Ruzzo and Tompa: the best-scoring span, then recursively the best
        ones left and right of it) that hold at least ``min_tokens`` positions, each cut
        to its best span of ``min_tokens`` to ``max_tokens`` positions. A span's score is
        its total excess Σ_i (p_ti − c) = n (purity − c): it grows with the topic's mass
        and with its purity, and is positive exactly when the topic holds more than c of
        the span. Every p_ti is read from both sides' contexts (docs/mathematics.md §3,
        §9). One run of the inference kernel finds the fragments of every topic asked for.

        Parameters
        ----------
        corpus : Corpus
            Built on the model's vocabulary.
        topic : int, optional
            One topic: the frame has no ``topic`` column.
        k : int
            Fragments per topic.
        min_tokens, max_tokens : int
            Shortest and longest fragment, in tokens of the corpus.
        topics : sequence of int, optional
            Several topics at once (the default, None with no ``topic``: all of them).
        threshold : float
            c ∈ [0.5, 1): the share of a span the topic must exceed.

        Returns
        -------
        polars.DataFrame
            ``id``, ``start``, ``end`` (inclusive token positions within the document),
            ``score`` and ``text`` (the span's words); for several topics ``topic`` and
            ``rank`` (1 = best) come first, topics in the order asked for.
        """
        self._require_fitted()  # type: ignore[attr-defined]
        corpus = self._check_corpus(corpus)  # type: ignore[attr-defined]
        chosen, single = topic_list(topic, topics, self.n_topics)  # type: ignore[attr-defined]
        k = _arrays.positive_int("k", k)
        min_tokens = _arrays.positive_int("min_tokens", min_tokens)
        max_tokens = _arrays.positive_int("max_tokens", max_tokens)
        if max_tokens < min_tokens:
            raise ValueError(
                f"max_tokens ({max_tokens}) must be at least min_tokens ({min_tokens})"
            )
        threshold = _arrays.finite_float("threshold", threshold)
        if not 0.5 <= threshold < 1.0:
            raise ValueError(f"threshold must lie in [0.5, 1), but is {threshold}")
        spec = (chosen, k, min_tokens, max_tokens, threshold)
        # The other modalities of the corpus enter as in transform_tokens.
        prior = self._prior(corpus)  # type: ignore[attr-defined]
        found, _ = self._run(corpus, "fragments", fragments=spec, prior=prior)  # type: ignore[attr-defined]
        return fragment_frame(corpus, *found, single=single)


def fragment_frame(
    corpus: Corpus,
    topic: np.ndarray,
    doc: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    score: np.ndarray,
    *,
    single: bool,
) -> pl.DataFrame:
    """The frame of fragments found (grouped by topic, best first)."""
    frame = pl.DataFrame(
        {
            "id": corpus.ids.gather(doc) if doc.size else corpus.ids.head(0),
            "start": start.astype(np.int64),
            "end": end.astype(np.int64),
            "score": score.astype(np.float64),
            "text": span_texts(corpus, doc, start, end),
        }
    )
    if single:
        return frame
    topic = pl.Series("topic", topic.astype(np.int64))
    rank = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("topic").alias("rank")
    return frame.with_columns(topic).select("topic", rank, pl.exclude("topic"))
