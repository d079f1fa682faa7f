"""Fragments of topics in plain NumPy, straight from docs/mathematics.md §9: slow and
obvious on purpose (the maximal segments by their recursive definition, every span of a
segment tried), for the Rust search to match."""

from __future__ import annotations

import numpy as np


def prefix_sums(p_topic: np.ndarray, threshold: float) -> np.ndarray:
    """P_0 = 0, P_{j+1} = P_j + (p_j − c), in float64 and in order."""
    return np.concatenate([[0.0], np.cumsum(p_topic.astype(np.float64) - threshold)])


def maximal_segments(prefix: np.ndarray, a: int = 0, b: int | None = None) -> list[tuple[int, int]]:
    """The best-scoring span of positions a..b−1 (score > 0), then the same recursively
    left and right of it: (start, end) pairs, inclusive, in order."""
    b = len(prefix) - 1 if b is None else b
    best = (0.0, -1, -1)
    for i in range(a, b):
        for j in range(i, b):
            score = prefix[j + 1] - prefix[i]
            if score > best[0]:
                best = (score, i, j)
    if best[1] < 0:
        return []
    _, i, j = best
    return [*maximal_segments(prefix, a, i), (i, j), *maximal_segments(prefix, j + 1, b)]


def best_span(prefix: np.ndarray, a: int, b: int, lo: int, hi: int) -> tuple[int, int, float]:
    """Every span of a..b of lo to hi positions: the best score, ties to the earlier
    start, then the earlier end."""
    spans = [
        (prefix[e + 1] - prefix[s], s, e)
        for s in range(a, b + 1)
        for e in range(s + lo - 1, min(s + hi - 1, b) + 1)
    ]
    score, s, e = min(spans, key=lambda x: (-x[0], x[1], x[2]))
    return s, e, score


def fragments(p, offsets, topics, k, min_tokens, max_tokens, threshold):
    """[(topic, doc, start, end, score)] grouped by topic (in the order given), each
    topic's k best: higher score, then earlier document, start, end."""
    out = []
    for t in topics:
        found = []
        for d in range(len(offsets) - 1):
            column = p[offsets[d] : offsets[d + 1], t]
            prefix = prefix_sums(column, threshold)
            for a, b in maximal_segments(prefix):
                if b - a + 1 >= min_tokens:
                    s, e, score = best_span(prefix, a, b, min_tokens, min(max_tokens, b - a + 1))
                    found.append((t, d, s, e, score))
        found.sort(key=lambda f: (-f[4], f[1], f[2], f[3]))
        out.extend(found[:k])
    return out
