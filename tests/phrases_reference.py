"""Candidate phrases and their scores in plain Python and NumPy, straight from
docs/mathematics.md §10 (dictionaries of token tuples, a loop per occurrence)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

SUBSUMED = 0.9


def sentences(tokens, offsets, boundaries):
    """(start, tokens) of every sentence: a document start or a boundary > 0 opens one."""
    for d in range(len(offsets) - 1):
        a, b = int(offsets[d]), int(offsets[d + 1])
        start = a
        for i in range(a + 1, b + 1):
            if i == b or boundaries[i] > 0:
                yield start, [int(w) for w in tokens[start:i]]
                start = i


def candidates(tokens, offsets, boundaries, min_words, max_words, min_count):
    """{token tuple: [starts]} of the recurring sequences, those subsumed left out."""
    where = defaultdict(list)
    for start, words in sentences(tokens, offsets, boundaries):
        for n in range(min_words, max_words + 2):
            for i in range(len(words) - n + 1):
                where[tuple(words[i : i + n])].append(start + i)
    count = Counter({g: len(s) for g, s in where.items() if len(s) >= min_count})
    kept = {}
    for g, starts in where.items():
        if not (min_words <= len(g) <= max_words) or count[g] == 0:
            continue
        longer = [c for h, c in count.items() if len(h) == len(g) + 1 and g in (h[:-1], h[1:])]
        if max(longer, default=0) < SUBSUMED * count[g]:
            kept[g] = sorted(starts)
    return kept


def topic_scores(kept, p):
    """{g: S_t(g) for every t} with S = m ln(ρ/π), 0 where m = 0."""
    share = p.astype(np.float64).mean(axis=0)
    out = {}
    for g, starts in kept.items():
        m = sum(p[s : s + len(g)].astype(np.float64).mean(axis=0) for s in starts)
        rho = m / len(starts)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[g] = np.where(m > 0, m * np.log(rho / share), 0.0)
    return out
