"""Which tokens infer the topics and which are scored, for perplexity (docs/mathematics.md §5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Evaluation:
    """Tokens of a corpus split into those that infer θ (observed) and those scored."""

    observed_mask: np.ndarray  # bool[n]
    observed_tokens: np.ndarray  # uint32[n_obs]
    observed_offsets: np.ndarray  # int64[D+1]
    scored_mask: np.ndarray  # bool[n]
    scored_tokens: np.ndarray  # uint32[n_scored]
    scored_docs: np.ndarray  # int64[n_scored]: the document of each scored token

    @classmethod
    def completion(cls, tokens: np.ndarray, offsets: np.ndarray, seed: int) -> Evaluation:
        """Document completion: every other token of each document observed (random
        parity per document), the others scored."""
        doc, position = _positions(tokens, offsets)
        parity = np.random.default_rng(seed).integers(0, 2, size=offsets.shape[0] - 1)
        observed = (position % 2) == parity[doc]
        return cls._of(tokens, offsets, doc, observed, ~observed)

    @classmethod
    def whole(cls, tokens: np.ndarray, offsets: np.ndarray) -> Evaluation:
        """Training perplexity: every token observed and scored."""
        doc, _ = _positions(tokens, offsets)
        every = np.ones(tokens.shape[0], dtype=bool)
        return cls._of(tokens, offsets, doc, every, every)

    @classmethod
    def _of(cls, tokens, offsets, doc, observed, scored) -> Evaluation:
        n_docs = offsets.shape[0] - 1
        obs_offsets = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc[observed], minlength=n_docs), out=obs_offsets[1:])
        return cls(
            observed_mask=observed,
            observed_tokens=np.ascontiguousarray(tokens[observed]),
            observed_offsets=obs_offsets,
            scored_mask=scored,
            scored_tokens=np.ascontiguousarray(tokens[scored]),
            scored_docs=doc[scored],
        )


def _positions(tokens: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    doc = np.repeat(np.arange(offsets.shape[0] - 1, dtype=np.int64), np.diff(offsets))
    return doc, np.arange(tokens.shape[0], dtype=np.int64) - offsets[doc]


def mixture_loglik(
    phi: np.ndarray, theta: np.ndarray, ev: Evaluation, known: np.ndarray
) -> tuple[float, int]:
    """Σ ln Σ_t φ_wt θ_td over the scored tokens whose word is ``known``: (sum, count)."""
    keep = known[ev.scored_tokens]
    return tokens_loglik(phi, theta, ev.scored_tokens[keep], ev.scored_docs[keep])


def tokens_loglik(
    phi: np.ndarray, theta: np.ndarray, tokens: np.ndarray, docs: np.ndarray
) -> tuple[float, int]:
    """Σ ln Σ_t φ_wt θ_td over the (word, document) pairs ``tokens``, ``docs``: (sum, count)."""
    total = 0.0
    step = 1 << 18  # bounded memory: step × T floats at a time
    for start in range(0, tokens.shape[0], step):
        w, d = tokens[start : start + step], docs[start : start + step]
        p = np.einsum("nt,nt->n", phi[w].astype(np.float64), theta[d].astype(np.float64))
        total += float(np.log(np.maximum(p, np.finfo(np.float64).tiny)).sum())
    return total, int(tokens.shape[0])
