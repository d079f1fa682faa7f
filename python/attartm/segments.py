"""Cutting documents into topically homogeneous segments from their context vectors."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl


def peaks(
    scores: np.ndarray, min_length: int, threshold: float, max_cuts: int | None = None
) -> list[int]:
    """Cut points (the first position of a new segment) at the highest scores ≥ threshold,
    greedily, keeping every segment at least ``min_length`` tokens long; at most
    ``max_cuts`` of them."""
    n = scores.shape[0] + 1  # positions in the document; scores[i] is between i and i + 1
    chosen: list[int] = []
    for i in np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable"):
        if not scores[i] >= threshold:
            break
        cut = int(i) + 1  # the first position of the new segment
        if cut < min_length or n - cut < min_length:
            continue
        if all(abs(cut - c) >= min_length for c in chosen):
            chosen.append(cut)
            if max_cuts is not None and len(chosen) >= max_cuts:
                break
    return sorted(chosen)


def find_segments(
    ids: pl.Series,
    offsets: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    between: np.ndarray,
    min_length: int,
    threshold: float,
    topic_names: list[str],
    max_cuts: int | None = None,
) -> pl.DataFrame:
    """Segments of every document from ``between`` (scores between positions i and i+1,
    n−1 values over the whole stream) and the normalized contexts."""
    rows: dict[str, list] = {"doc": [], "start": [], "end": []}
    vectors = []
    for d in range(offsets.shape[0] - 1):
        a, b = int(offsets[d]), int(offsets[d + 1])
        if b == a:
            continue
        scores = between[a : b - 1]
        cuts = [0, *peaks(scores, min_length, threshold, max_cuts), b - a]
        for s, e in itertools.pairwise(cuts):
            v = 0.5 * (left[a + e - 1].astype(np.float64) + right[a + s])
            total = v.sum()
            vectors.append(v / total if total > 0 else np.full(v.shape, 1.0 / v.shape[0]))
            rows["doc"].append(d)
            rows["start"].append(s)
            rows["end"].append(e - 1)
    topics = np.asarray(vectors).reshape(-1, len(topic_names))
    frame = pl.DataFrame(
        {
            "id": ids.gather(rows["doc"]) if rows["doc"] else ids.head(0),
            "start": np.asarray(rows["start"], dtype=np.int64),
            "end": np.asarray(rows["end"], dtype=np.int64),
            "topic": topics.argmax(axis=1).astype(np.int64)
            if len(topics)
            else np.zeros(0, np.int64),
            "weight": topics.max(axis=1) if len(topics) else np.zeros(0),
        }
    )
    return pl.concat([frame, pl.DataFrame(topics, schema=topic_names)], how="horizontal")


def evidence_scores(left, right, n_left, n_right) -> np.ndarray:
    """Boundary scores between i and i+1 weighted by √(n_F n_B / (n_F + n_B))."""
    nl, nr = n_left[:-1].astype(np.float64), n_right[1:].astype(np.float64)
    weight = np.sqrt(np.divide(nl * nr, nl + nr, out=np.zeros_like(nl), where=nl + nr > 0))
    return np.abs(left[:-1] - right[1:]).sum(axis=1) * weight


def between_positions(offsets: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Scores between consecutive positions of a token stream with document ``offsets``
    as float32[n], NaN after each document's end."""
    out = np.full(int(offsets[-1]), np.nan, dtype=np.float32)
    out[:-1] = values
    ends = offsets[1:] - 1
    out[ends[ends >= 0]] = np.nan
    return out
