"""Topic-quality scores and held-out perplexity (docs/mathematics.md), in NumPy; the
window counts of coherence come from the Rust core.

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

from . import _arrays, _core

__all__ = [
    "coherence",
    "kernel_scores",
    "mean_js_distance",
    "npmi",
    "perplexity_from_loglik",
    "sparsity",
    "top_words",
    "topic_diversity",
    "topics_given_words",
]


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


# gensim's ε in its log-ratio confirmation measures (direct_confirmation_measure.EPSILON).
_GENSIM_EPSILON = 1e-12
COHERENCE_MEASURES = ("c_npmi", "c_uci")


def coherence(
    phi: Any,
    reference: Any,
    *,
    measure: str = "c_npmi",
    window: int | None = 10,
    topn: int = 10,
    sliding: str = "gensim",
    per_topic: bool = False,
    threads: int | None = None,
) -> float | np.ndarray:
    """Coherence of the top-``topn`` words of every topic over a reference corpus.

    ``reference`` is any object with ``doc_offsets`` (D+1 integers) and ``token_ids``
    (word ids of ``phi``'s rows), e.g. an ``attartm.Corpus``; its token order matters for
    sliding windows. Counts come from one pass over the tokens in Rust.

    Windows: with ``window=s`` every document is cut into the n − s + 1 windows of s
    consecutive tokens (a document of at most s tokens, even an empty one, is one window),
    and N is the number of windows; with ``window=None`` each document is one window
    (document co-occurrence). c(w) counts the windows holding w, c(w, v) those holding
    both. ``sliding="gensim"`` follows gensim's ``WordOccurrenceAccumulator`` exactly: as
    the window moves on, the word leaving at its left edge is no longer counted in it even
    if it occurs again inside; ``"exact"`` counts true boolean windows.

    Measures, with p(w) = c(w)/N, p(w, v) = c(w, v)/N and ε = 10⁻¹²:

    * ``"c_npmi"`` with a window: NPMI(w, v) = ln((p(w,v) + ε) / (p(w) p(v))) /
      (−ln(p(w,v) + ε)), gensim's ``CoherenceModel(coherence="c_npmi")``;
      with ``window=None``: ln(p(w,v) / (p(w) p(v))) / (−ln p(w,v)), −1 when
      p(w,v) = 0 and 1 when p(w,v) = 1 (the document NPMI of :func:`npmi`).
    * ``"c_uci"``: PMI(w, v) = ln((p(w,v) + ε) / (p(w) p(v))), gensim's "c_uci".

    A topic's coherence is the mean over the pairs of its top-``topn`` words (gensim
    averages the ordered pairs, the same value). A top word that never occurs in the
    reference: with ``window=None`` its pairs score −1 (no co-occurrence); with a window
    it is left out of its topic, as gensim's ``CoherenceModel`` leaves it out with a
    dictionary built from the reference texts (a topic left with fewer than two words
    scores NaN). The result is the mean over the topics that have a score, or the
    length-T array of per-topic coherences when ``per_topic`` is true. Requires topn ≥ 2.
    """
    arr = _check_phi(phi)
    topn = _check_k(topn, arr.shape[0], name="topn", minimum=2)
    if measure not in COHERENCE_MEASURES:
        raise ValueError(f"measure must be one of {COHERENCE_MEASURES}, not {measure!r}")
    if window is not None:
        if isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 1:
            raise ValueError(f"window must be a positive number of tokens or None, not {window!r}")
        window = int(window)
    if sliding not in ("gensim", "exact"):
        raise ValueError(f'sliding must be "gensim" or "exact", not {sliding!r}')
    offsets, tokens = _reference_arrays(reference)

    top = top_words(arr, topn)  # T×topn
    words, cols = np.unique(top, return_inverse=True)
    cols = cols.reshape(top.shape)
    iu, ju = np.triu_indices(topn, 1)
    pair_a = np.minimum(cols[:, iu], cols[:, ju]).ravel()
    pair_b = np.maximum(cols[:, iu], cols[:, ju]).ravel()
    # Each distinct pair is counted once, however many topics share it.
    unique_pairs, pair_of = np.unique(pair_a * words.size + pair_b, return_inverse=True)
    flat = np.stack([unique_pairs // words.size, unique_pairs % words.size], axis=1)
    n_vocabulary = max(arr.shape[0], int(tokens.max()) + 1 if tokens.size else 0)
    n_windows, occurrences, together = _core.window_counts(
        np.ascontiguousarray(tokens, dtype=np.uint32),
        offsets,
        words.astype(np.uint32),
        np.ascontiguousarray(flat.ravel(), dtype=np.uint32),
        n_vocabulary=n_vocabulary,
        window=window,
        sliding=sliding,
        threads=_arrays.threads(threads),
    )
    n = float(n_windows)
    p_w = occurrences.astype(np.float64) / n
    p_a, p_b = p_w[flat[:, 0]], p_w[flat[:, 1]]
    p_ab = together.astype(np.float64) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "c_npmi" and window is None:
            score = np.log(p_ab / (p_a * p_b)) / -np.log(p_ab)
            score = np.where(p_ab == 0, -1.0, score)
            score = np.where(together == n_windows, 1.0, score)
        elif measure == "c_npmi":
            eps = _GENSIM_EPSILON
            score = np.log((p_ab + eps) / (p_a * p_b)) / -np.log(p_ab + eps)
        else:
            score = np.log((p_ab + _GENSIM_EPSILON) / (p_a * p_b))
    pair_scores = score[pair_of].reshape(top.shape[0], iu.size)
    if window is None:
        per = pair_scores.mean(axis=1)
        return per if per_topic else float(per.mean())
    # gensim leaves out topic words missing from a dictionary built on the reference texts.
    present = occurrences[cols] > 0  # T×topn
    counted = present[:, iu] & present[:, ju]
    n_counted = counted.sum(axis=1)
    with np.errstate(invalid="ignore"):
        per = np.where(counted, pair_scores, 0.0).sum(axis=1) / n_counted
    if per_topic:
        return per
    return float(np.nanmean(per)) if np.isfinite(per).any() else float("nan")


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
    Requires k >= 2. The same as ``coherence(phi, reference, window=None, topn=k)``.
    """
    k = _check_k(k, _check_phi(phi).shape[0], minimum=2)
    return coherence(phi, reference, window=None, topn=k, per_topic=per_topic)


def topics_given_words(phi: Any, n_t: Any) -> np.ndarray:
    """W×T matrix p(t|w) = norm_t(φ_wt n_t) (docs/mathematics.md, notation).

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

    Note: p(t|w) follows the definition of docs/mathematics.md, so a word with φ_wt n_t = 0 in
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
