"""Document completion (DESIGN 1.4): the observed and hidden halves of test documents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Completion:
    """Every other token of each document observed (random parity), the rest hidden."""

    observed_mask: np.ndarray  # bool[n]: True where a token is observed
    observed_tokens: np.ndarray  # uint32[n_obs]
    observed_offsets: np.ndarray  # int64[D+1]
    hidden_tokens: np.ndarray  # uint32[n_hidden]
    hidden_docs: np.ndarray  # int64[n_hidden]: the document of each hidden token

    @classmethod
    def split(cls, tokens: np.ndarray, offsets: np.ndarray, seed: int) -> Completion:
        n_docs = offsets.shape[0] - 1
        lengths = np.diff(offsets)
        doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        position = np.arange(tokens.shape[0], dtype=np.int64) - offsets[doc]
        parity = np.random.default_rng(seed).integers(0, 2, size=n_docs)
        observed = (position % 2) == parity[doc]
        obs_counts = np.bincount(doc[observed], minlength=n_docs)
        obs_offsets = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(obs_counts, out=obs_offsets[1:])
        return cls(
            observed_mask=observed,
            observed_tokens=np.ascontiguousarray(tokens[observed]),
            observed_offsets=obs_offsets,
            hidden_tokens=np.ascontiguousarray(tokens[~observed]),
            hidden_docs=doc[~observed],
        )


def mixture_loglik(
    phi: np.ndarray, theta: np.ndarray, tokens: np.ndarray, docs: np.ndarray, known: np.ndarray
) -> tuple[float, int]:
    """Σ ln Σ_t φ_wt θ_td over the tokens whose word is ``known``; returns (sum, count)."""
    keep = known[tokens]
    tokens, docs = tokens[keep], docs[keep]
    total = 0.0
    step = 1 << 18  # bounded memory: step × T floats at a time
    for start in range(0, tokens.shape[0], step):
        w, d = tokens[start : start + step], docs[start : start + step]
        p = np.einsum("nt,nt->n", phi[w].astype(np.float64), theta[d].astype(np.float64))
        total += float(np.log(np.maximum(p, np.finfo(np.float64).tiny)).sum())
    return total, int(tokens.shape[0])
