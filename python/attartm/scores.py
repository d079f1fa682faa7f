"""Topic-quality scores and held-out perplexity (DESIGN §1.4), in pure NumPy.

Conventions
-----------
``phi``
    W×T array; column ``t`` holds p(w|t) (non-negative, columns sum to 1).
``n_t``
    length-T array of topic masses n_t = Σ_w n_wt.
``theta``
    D×T array; row ``d`` holds p(t|d).

Every function checks its inputs and raises :class:`ValueError` with a message
naming the offending argument. Computations are done in float64 whatever the
input dtype. Nothing here loops in Python over words or documents; a few
functions loop over topics (T is small) or over large chunks of documents.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "kernel_scores",
    "mean_js_distance",
    "npmi",
    "perplexity_from_loglik",
    "sparsity",
    "top_words",
    "topic_diversity",
    "topics_given_words",
]

# Entries of the dense document × word incidence block built per chunk in `npmi`
# (float64, so one block takes at most 32 MiB).
_NPMI_CHUNK_ENTRIES = 1 << 22


# --------------------------------------------------------------------------- validation


def _real_array(x: Any, name: str) -> np.ndarray:
    """``x`` as an array of a real numeric dtype (no copy when possible)."""
    arr = np.asarray(x)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")


def _check_phi(phi: Any, name: str = "phi") -> np.ndarray:
    """Validate a W×T matrix of probabilities p(w|t); returns it in its own dtype."""
    arr = _real_array(phi, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D W×T array, got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least one word and one topic, got shape {arr.shape}")
    _check_finite(arr, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative (columns are p(w|t))")
    return arr


def _check_k(k: Any, n_words: int, name: str = "k", minimum: int = 1) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {k!r}")
    k = int(k)
    if k < minimum or k > n_words:
        raise ValueError(
            f"{name} must satisfy {minimum} <= {name} <= W (number of words = {n_words}), got {k}"
        )
    return k


def _check_real_scalar(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {x!r}")
    return float(x)


def _check_n_t(n_t: Any, n_topics: int) -> np.ndarray:
    arr = _real_array(n_t, "n_t")
    if arr.ndim != 1 or arr.shape[0] != n_topics:
        raise ValueError(
            f"n_t must be a 1-D array with one mass per topic (T = {n_topics}), "
            f"got shape {arr.shape}"
        )
    _check_finite(arr, "n_t")
    return arr.astype(np.float64, copy=False)


# --------------------------------------------------------------------------- scores


def sparsity(matrix: Any, eps: float = 1e-12) -> float:
    """Share of the entries of ``matrix`` (e.g. Φ or Θ) that are below ``eps``."""
    arr = _real_array(matrix, "matrix")
    if arr.size == 0:
        raise ValueError("matrix must not be empty")
    _check_finite(arr, "matrix")
    eps = _check_real_scalar(eps, "eps")
    if not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a finite positive number, got {eps}")
    return float(np.count_nonzero(arr < eps)) / arr.size


def top_words(phi: Any, k: int) -> np.ndarray:
    """T×k array of word ids: the k most probable words of each topic.

    Row ``t`` lists word ids by descending p(w|t); ties are broken by the lower
    word id (stable sort of ``-phi``).
    """
    arr = _check_phi(phi)
    k = _check_k(k, arr.shape[0])
    order = np.argsort(-arr, axis=0, kind="stable")  # W×T
    return np.ascontiguousarray(order[:k].T).astype(np.int64, copy=False)


def topic_diversity(phi: Any, k: int = 25) -> float:
    """Unique share of the top-k words over all topics (Dieng et al., 2020).

    Number of distinct word ids among the T top-k lists divided by k·T: 1 when
    no two topics share a top word, 1/T when all topics have the same top words.
    """
    top = top_words(phi, k)
    return float(np.unique(top).size) / top.size


def _kl_terms(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Σ_w p_w ln(p_w / m_w) per column, with 0 ln 0 = 0 (m > 0 wherever p > 0)."""
    pos = p > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(pos, p * np.log(np.where(pos, p, 1.0) / np.where(pos, m, 1.0)), 0.0)
    return terms.sum(axis=0)


def mean_js_distance(phi: Any) -> float:
    """Mean Jensen–Shannon distance between the topics (columns of ``phi``).

    For each pair t < s: JSD = ½ KL(φ_t ‖ m) + ½ KL(φ_s ‖ m) with m = ½(φ_t + φ_s),
    natural log, 0 ln 0 = 0; the distance is √JSD (in [0, √ln 2]), as
    ``scipy.spatial.distance.jensenshannon(p, q)``. Like scipy, columns are first
    normalized to sum to 1 (a no-op for a proper Φ). Returns the mean over the
    T(T−1)/2 pairs, or NaN when T = 1 (there are no pairs).
    """
    arr = _check_phi(phi)
    p = arr.astype(np.float64, copy=False)
    sums = p.sum(axis=0)
    if np.any(sums <= 0):
        raise ValueError("every column of phi must have a positive sum (an all-zero topic)")
    p = p / sums
    n_topics = p.shape[1]
    if n_topics < 2:
        return float("nan")
    total = 0.0
    for t in range(n_topics - 1):
        col = p[:, t : t + 1]  # W×1
        rest = p[:, t + 1 :]  # W×(T−t−1)
        m = 0.5 * (col + rest)
        div = 0.5 * (_kl_terms(col, m) + _kl_terms(rest, m))
        total += float(np.sqrt(np.maximum(div, 0.0)).sum())
    return total / (n_topics * (n_topics - 1) / 2)


def _reference_arrays(reference: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated (doc_offsets int64 D+1, token_ids int64) of a reference corpus."""
    try:
        offsets_raw = reference.doc_offsets
        tokens_raw = reference.token_ids
    except AttributeError:
        raise ValueError(
            "reference must have attributes doc_offsets (int, D+1) and token_ids "
            f"(an attartm.Corpus has them); got {type(reference).__name__}"
        ) from None
    offsets = np.asarray(offsets_raw)
    tokens = np.asarray(tokens_raw)
    for arr, name in ((offsets, "doc_offsets"), (tokens, "token_ids")):
        if arr.ndim != 1 or arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(
                f"reference.{name} must be a 1-D integer array, "
                f"got dtype {arr.dtype} and shape {arr.shape}"
            )
    if offsets.shape[0] < 2:
        raise ValueError("reference must contain at least one document (len(doc_offsets) >= 2)")
    offsets = offsets.astype(np.int64, copy=False)
    if offsets[0] != 0 or np.any(np.diff(offsets) < 0) or offsets[-1] != tokens.shape[0]:
        raise ValueError(
            "reference.doc_offsets must start at 0, be non-decreasing and end at "
            f"len(token_ids) = {tokens.shape[0]}"
        )
    if tokens.size and tokens.min() < 0:
        raise ValueError("reference.token_ids must be non-negative word ids")
    return offsets, tokens


def _cooccurrence(offsets: np.ndarray, tokens: np.ndarray, words: np.ndarray) -> np.ndarray:
    """U×U matrix of the number of documents containing both words[i] and words[j].

    ``words`` is sorted and unique; the diagonal holds document frequencies.
    A word repeated in a document counts once.
    """
    n_words = words.shape[0]
    n_docs = offsets.shape[0] - 1
    col = np.searchsorted(words, tokens)
    col = np.minimum(col, n_words - 1)
    keep = np.flatnonzero(words[col] == tokens)  # positions of tokens that are one of `words`
    col = col[keep]
    doc = np.searchsorted(offsets, keep, side="right") - 1  # sorted, since keep is
    counts = np.zeros((n_words, n_words), dtype=np.float64)
    docs_per_chunk = max(1, _NPMI_CHUNK_ENTRIES // n_words)
    for d0 in range(0, n_docs, docs_per_chunk):
        d1 = min(n_docs, d0 + docs_per_chunk)
        lo, hi = np.searchsorted(doc, [d0, d1])
        if lo == hi:
            continue
        block = np.zeros((d1 - d0, n_words), dtype=np.float64)
        block[doc[lo:hi] - d0, col[lo:hi]] = 1.0  # repeated (doc, word) pairs set 1 once
        counts += block.T @ block  # exact: sums of 0/1 in float64
    return counts


def npmi(phi: Any, reference: Any, k: int = 10, per_topic: bool = False) -> float | np.ndarray:
    """NPMI coherence of the top-k words of each topic, from document co-occurrence.

    ``reference`` is any object with ``doc_offsets`` (D+1 integers) and
    ``token_ids`` (word ids, same vocabulary as ``phi``), e.g. an
    ``attartm.Corpus``. A word repeated in a document counts once; empty
    documents count in D; ids that are not top words are ignored.

    p(w) = share of the D documents containing w, p(w,v) = share containing both,
    NPMI(w,v) = ln(p(w,v) / (p(w) p(v))) / (−ln p(w,v)), defined as −1 when
    p(w,v) = 0 and as 1 when p(w,v) = 1 (both words are in every document, the
    limit of perfect co-occurrence). A topic's coherence is the mean NPMI over
    the k(k−1)/2 pairs of its top-k words; the result is the mean over topics,
    or the length-T array of per-topic coherences when ``per_topic`` is true.
    Requires k >= 2.
    """
    arr = _check_phi(phi)
    k = _check_k(k, arr.shape[0], minimum=2)
    offsets, tokens = _reference_arrays(reference)
    n_docs = offsets.shape[0] - 1

    top = top_words(arr, k)  # T×k
    words, cols = np.unique(top, return_inverse=True)
    cols = cols.reshape(top.shape)
    counts = _cooccurrence(offsets, tokens, words)  # U×U

    df = np.diag(counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_w = df / n_docs
        p_wv = counts / n_docs
        pmi = np.log(p_wv / np.multiply.outer(p_w, p_w))
        score = pmi / -np.log(p_wv)
    score = np.where(counts == 0, -1.0, score)
    score = np.where(counts == n_docs, 1.0, score)

    iu, ju = np.triu_indices(k, 1)
    pairs = score[cols[:, iu], cols[:, ju]]  # T×(k(k−1)/2)
    coherence = pairs.mean(axis=1)
    if per_topic:
        return coherence
    return float(coherence.mean())


def topics_given_words(phi: Any, n_t: Any) -> np.ndarray:
    """W×T matrix p(t|w) = norm_t(φ_wt n_t) (DESIGN §1).

    norm_t(x) = max(x, 0) / Σ_s max(x_s, 0), and the uniform 1/T when that sum
    is 0 (a word with φ_wt n_t = 0 in every topic gets a uniform row).
    """
    arr = _check_phi(phi)
    masses = _check_n_t(n_t, arr.shape[1])
    x = np.maximum(arr.astype(np.float64, copy=False) * masses, 0.0)
    row_sums = x.sum(axis=1, keepdims=True)
    zero = row_sums[:, 0] <= 0
    out = np.divide(x, row_sums, out=np.zeros_like(x), where=row_sums > 0)
    out[zero] = 1.0 / arr.shape[1]
    return out


def kernel_scores(phi: Any, n_t: Any, threshold: float = 0.1) -> dict[str, Any]:
    """Kernel size, purity and contrast of each topic (BigARTM's TopicKernel score).

    With p(t|w) from :func:`topics_given_words`, the kernel of topic t is
    {w : p(t|w) >= threshold}; size = |kernel|, purity = Σ_{w ∈ kernel} p(w|t),
    contrast = mean of p(t|w) over the kernel (0 for an empty kernel).

    Note: p(t|w) follows the DESIGN definition, so a word with φ_wt n_t = 0 in
    every topic has the uniform p(t|w) = 1/T and enters every kernel when
    1/T >= threshold (it adds to size and contrast, not to purity unless some
    topic has n_t = 0). BigARTM skips such words instead.

    Returns a dict with float means over topics ``kernel_size``,
    ``kernel_purity``, ``kernel_contrast`` and the length-T arrays
    ``kernel_size_per_topic`` (int64), ``kernel_purity_per_topic``,
    ``kernel_contrast_per_topic`` (float64).
    """
    arr = _check_phi(phi)
    threshold = _check_real_scalar(threshold, "threshold")
    if not (0.0 < threshold <= 1.0):
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    p_tw = topics_given_words(arr, n_t)  # validates n_t
    in_kernel = p_tw >= threshold  # W×T
    size = in_kernel.sum(axis=0).astype(np.int64)
    purity = np.where(in_kernel, arr.astype(np.float64, copy=False), 0.0).sum(axis=0)
    contrast_sum = np.where(in_kernel, p_tw, 0.0).sum(axis=0)
    contrast = np.divide(contrast_sum, size, out=np.zeros_like(contrast_sum), where=size > 0)
    return {
        "kernel_size": float(size.mean()),
        "kernel_purity": float(purity.mean()),
        "kernel_contrast": float(contrast.mean()),
        "kernel_size_per_topic": size,
        "kernel_purity_per_topic": purity,
        "kernel_contrast_per_topic": contrast,
    }


def perplexity_from_loglik(total_loglik: float, n_tokens: float) -> float:
    """Perplexity exp(−total_loglik / n_tokens) of held-out tokens.

    ``total_loglik`` is the sum of the natural-log likelihoods of the n_tokens
    hidden tokens; −inf (a token of probability 0) gives an infinite perplexity.
    """
    total = _check_real_scalar(total_loglik, "total_loglik")
    n = _check_real_scalar(n_tokens, "n_tokens")
    if math.isnan(total) or total == math.inf:
        raise ValueError(f"total_loglik must be finite or -inf, got {total}")
    if not math.isfinite(n) or n <= 0:
        raise ValueError(f"n_tokens must be a finite positive number, got {n_tokens!r}")
    try:
        return math.exp(-total / n)
    except OverflowError:
        return math.inf
