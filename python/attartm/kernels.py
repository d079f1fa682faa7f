"""The raw kernels of the Rust core, over arrays: for research and for building new models.

Every function checks and converts its arguments, runs in Rust with the GIL released, and
returns numpy arrays. Token ids are read in place when they are uint32 (numpy, polars or
any Arrow array).

The E-steps give ñ_wt in one of three ways (``accumulate``): a dense float64[W, T]
matrix (True, the default); only the rows of the words that occur (``"rows"``: a pair of
uint32[U] word ids in increasing order and float64[U, T] rows), which is what a batch of
a large vocabulary touches; or added into a matrix of the caller's (``into=n_wt``,
``weight=w``: n_wt += w · ñ_wt in place), an online update without a W×T ñ_wt of its own.
In place of ñ_wt that call returns how the addition changed n_wt's column sums, a pair of
float64[T] arrays (Δ Σ_w n_wt, Δ Σ_w max(n_wt, 0)), found while the rows are written, so
that a caller keeping n_t of a large n_wt never sums its rows again.

An output larger than this machine's memory raises MemoryError with the size asked,
before anything runs: pass fewer tokens or documents per call. (So does one that the
allocator refuses.) A document may be as long as the memory for its tokens allows: the
attentive E-step works through a long one a block at a time (docs/mathematics.md §3).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _arrays, _core


def _sums(accumulate: Any, into: Any, weight: Any, shape: tuple[int, int]) -> dict[str, Any]:
    """The core's arguments for what becomes of ñ_wt."""
    if into is not None:
        if not (isinstance(accumulate, (bool, np.bool_)) and accumulate):
            raise ValueError("give into= or accumulate=, not both")
        if not (
            isinstance(into, np.ndarray)
            and into.dtype == np.float64
            and into.shape == shape
            and into.flags.c_contiguous
            and into.flags.writeable
        ):
            raise ValueError(
                f"into must be a writable, C-contiguous float64 array of shape {shape} "
                "(a call in another thread that uses it makes it read-only until it ends)"
            )
        weight = _arrays.finite_float("weight", weight)
        return {"accumulate": "into", "into": into, "weight": weight}
    if isinstance(accumulate, (bool, np.bool_)):
        return {"accumulate": "dense" if accumulate else "none"}
    if accumulate == "rows":
        return {"accumulate": "rows"}
    raise ValueError(f'accumulate must be True, False or "rows", not {accumulate!r}')


def artm_estep(
    tokens: Any,
    doc_offsets: Any,
    phi: Any,
    *,
    counts: Any = None,
    doc_passes: int = 10,
    theta_term: Any = None,
    theta_scale: Any = None,
    accumulate: bool | str = True,
    into: np.ndarray | None = None,
    weight: float = 1.0,
    threads: int | None = None,
) -> tuple[np.ndarray, Any]:
    """The classic ARTM E-step (docs/mathematics.md §1) over every document.

    Parameters
    ----------
    tokens : uint32[n]
        Word ids of all documents, concatenated (a token stream or a bag of words).
    doc_offsets : int64[D+1]
        Document d is ``tokens[doc_offsets[d]:doc_offsets[d+1]]``.
    phi : float32[W, T]
        p(w|t), columns summing to 1.
    counts : float32[n], optional
        Occurrence counts of the entries (a bag of words); 1 each when omitted.
    doc_passes : int
        Inner iterations per document.
    theta_term : float32[T], optional
        θ_td ∂R/∂θ_td per topic, added to n_td before θ is normalized.
    theta_scale : float32[T], optional
        A factor per topic that n_td is multiplied by before ``theta_term`` is added (the
        Θ terms proportional to n_td, such as TopicSelectionTheta's).
    accumulate, into, weight
        What becomes of ñ_wt (see the module's documentation).
    threads : int, optional
        Threads to use (all cores when None); results do not depend on it.

    Returns
    -------
    theta : float32[D, T]
        p(t|d) after the last inner iteration.
    n_wt : float64[W, T], (uint32[U], float64[U, T]) or None
        ñ_wt = Σ_d n_dw p_tdw, as ``accumulate`` asks.
    """
    phi = _arrays.matrix("phi", phi)
    t = phi.shape[1]
    return _core.artm_estep(
        _arrays.token_ids("tokens", tokens),
        _arrays.offsets("doc_offsets", doc_offsets),
        phi,
        counts=None if counts is None else _arrays.vector("counts", counts, _len(counts)),
        doc_passes=_arrays.positive_int("doc_passes", doc_passes),
        theta_term=None
        if theta_term is None
        else list(_arrays.vector("theta_term", theta_term, t)),
        theta_scale=None
        if theta_scale is None
        else list(_arrays.vector("theta_scale", theta_scale, t)),
        threads=_arrays.threads(threads),
        **_sums(accumulate, into, weight, phi.shape),
    )


def bag_of_words(
    tokens: Any, doc_offsets: Any, *, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each document's distinct words (increasing id) and counts: (offsets, words, counts)."""
    return _core.bag_of_words(
        _arrays.token_ids("tokens", tokens),
        _arrays.offsets("doc_offsets", doc_offsets),
        threads=_arrays.threads(threads),
    )


def attentive_estep(
    tokens: Any,
    doc_offsets: Any,
    phi: Any,
    n_t: Any,
    *,
    gamma_forward: Any,
    gamma_backward: Any,
    beta: float,
    passes: int,
    exclude_self: bool,
    filter: str = "p/n_t",
    reset: Any = None,
    document_weight: float = 0.0,
    tempering: float = 1.0,
    document_prior: Any = None,
    context_prior: tuple[float, float] | None = None,
    accumulate: bool | str = True,
    into: np.ndarray | None = None,
    weight: float = 1.0,
    threads: int | None = None,
) -> tuple[np.ndarray, Any]:
    """The localized E-step of Attentive ARTM (docs/mathematics.md §3) over a token stream.

    Parameters
    ----------
    tokens : uint32[n]
        The token stream (documents concatenated, word order kept).
    doc_offsets : int64[D+1]
        Document boundaries: F and B are reset to 0 at every document start and end.
    phi : float32[W, T]
        p(w|t).
    n_t : float32[T]
        Topic masses n_t = Σ_w n_wt (p(t|w) = norm_t(φ_wt n_t)).
    gamma_forward, gamma_backward : float or float32[n]
        Smoothing coefficients γ→_i, γ←_i in [0, 1] (about 1/window; 0: the token never
        enters a context): one float for every position, or one value per position.
    beta : float
        Weight of the left context, in [0, 1].
    passes : int
        Number of passes L ≥ 1.
    exclude_self : bool
        Position i reads F_{i−1} and B_{i+1}, so a token is never part of its own context.
    filter : {"p/n_t", "phi"}
        How the context refines p_i: norm_t(θ_i p_i / n_t) or norm_t(θ_i φ_{w_i t}).
    reset : float32[n], optional
        Reset strength r_i ∈ [0, 1] of a boundary (sentence, paragraph) before position i:
        both contexts carried across it are multiplied by 1 − r_i, so r_i = 1 separates
        the two sides exactly like a document boundary. Independent of γ.
    document_weight : float
        λ ∈ [0, 1]: θ_i = (1 − λ) θ_i^local + λ D_i, D_i the mean p of the document's other
        positions (docs/mathematics.md §3).
    tempering : float
        κ ∈ (0, 1] of tempered EM: ñ_wt accumulates norm_t(p_i^κ) (1: plain EM).
    document_prior : float32[D, T], optional
        The vector P_d of the document's other modalities (rows ≥ 0 summing to μ_d ≤ 1):
        θ_i = (1 − μ_d) θ_i^text + P_d (docs/mathematics.md §7).
    context_prior : (float, float), optional
        (x, y) ≥ 0 of the prior on the text's contexts in training (applied only when ñ_wt
        is accumulated): θ_i = (1 − ε_i) θ_i + ε_i/T with ε_i = 1/(1 + x|F_i| + y|B_i|);
        for windows h→, h← and a prior of m tokens, (x, y) = (h→/m, h←/m)
        (docs/mathematics.md §3).
    accumulate, into, weight
        What becomes of ñ_wt (see the module's documentation).
    threads : int, optional
        Threads to use (all cores when None); results do not depend on it.

    Returns
    -------
    p : float32[n, T]
        p(t|C_i, w_i) after the last pass.
    n_wt : float64[W, T], (uint32[U], float64[U, T]) or None
        Σ of p over the positions of each word, as ``accumulate`` asks.
    """
    return attentive_run(
        tokens, doc_offsets, phi, n_t, gamma_forward=gamma_forward,
        gamma_backward=gamma_backward, beta=beta, passes=passes, exclude_self=exclude_self,
        filter=filter, reset=reset, document_weight=document_weight, tempering=tempering,
        document_prior=document_prior, context_prior=context_prior, output="tokens",
        accumulate=accumulate, into=into, weight=weight, threads=threads,
    )  # fmt: skip


def attentive_run(
    tokens: Any,
    doc_offsets: Any,
    phi: Any,
    n_t: Any,
    *,
    gamma_forward: Any,
    gamma_backward: Any,
    beta: float,
    passes: int,
    exclude_self: bool,
    filter: str = "p/n_t",
    reset: Any = None,
    document_weight: float = 0.0,
    tempering: float = 1.0,
    document_prior: Any = None,
    context_prior: tuple[float, float] | None = None,
    output: str = "tokens",
    top: int = 1,
    accumulate: bool | str = True,
    into: np.ndarray | None = None,
    weight: float = 1.0,
    threads: int | None = None,
) -> tuple[Any, Any]:
    """:func:`attentive_estep` with a choice of per-position output.

    ``output`` is "none", "tokens" (p, n×T), "contexts" (F_i/|F_i| then B_i/|B_i|, n×2T),
    "loglik" (ln Σ_t φ_{w_i t} θ_it, n values), "doc_mean" (mean p_i per document, D×T) or
    "top" (the ``top`` best topics of every position, best first with ties to the lower
    topic: uint16[n, top] and float32[n, top], chosen as each p_i is computed);
    ``accumulate=False`` skips ñ_wt (returned as None).
    """
    return _attentive_run(
        tokens, doc_offsets, _arrays.matrix("phi", phi), n_t, gamma_forward=gamma_forward,
        gamma_backward=gamma_backward, beta=beta, passes=passes, exclude_self=exclude_self,
        filter=filter, reset=reset, document_weight=document_weight, tempering=tempering,
        document_prior=document_prior, context_prior=context_prior, output=output, top=top,
        accumulate=accumulate, into=into, weight=weight, threads=threads, checked_phi=False,
    )  # fmt: skip


def _attentive_run(
    tokens: Any,
    doc_offsets: Any,
    phi: np.ndarray,
    n_t: Any,
    *,
    gamma_forward: Any,
    gamma_backward: Any,
    beta: float,
    passes: int,
    exclude_self: bool,
    filter: str,
    reset: Any,
    document_weight: float,
    tempering: float,
    output: str,
    top: int,
    document_prior: Any = None,
    context_prior: tuple[float, float] | None = None,
    accumulate: bool | str,
    into: np.ndarray | None,
    weight: float,
    threads: int | None,
    checked_phi: bool,
    fragments: tuple | None = None,
) -> tuple[Any, Any]:
    """:func:`attentive_run` for a float32 C-contiguous Φ; ``checked_phi=True`` (a model's
    Φ, checked when it changed) spares the check of every entry. ``output="fragments"``
    with ``fragments=(topics or None, k, min_tokens, max_tokens, threshold)`` and
    ``accumulate=False`` gives the k best fragments of those topics (docs/mathematics.md
    §9) as arrays (topic, doc, start, end, score), grouped by topic, best first."""
    tokens = _arrays.token_ids("tokens", tokens)
    n = _len(tokens)
    t = phi.shape[1]
    # The core checks the ranges of β, the γ, the resets, document_weight and tempering,
    # and the filter's name; here they are only converted (and refused if not finite).
    return _core.attentive_estep(
        tokens,
        _arrays.offsets("doc_offsets", doc_offsets),
        phi,
        _arrays.vector("n_t", n_t, t),
        gamma_forward=_gamma("gamma_forward", gamma_forward, n),
        gamma_backward=_gamma("gamma_backward", gamma_backward, n),
        beta=_arrays.finite_float("beta", beta),
        passes=_arrays.positive_int("passes", passes),
        exclude_self=bool(exclude_self),
        filter=filter,
        reset=None if reset is None else _arrays.vector("reset", reset, n),
        document_weight=_arrays.finite_float("document_weight", document_weight),
        tempering=_arrays.finite_float("tempering", tempering),
        document_prior=None
        if document_prior is None
        else _arrays.matrix("document_prior", document_prior, columns=t),
        context_prior=None
        if context_prior is None
        else tuple(_arrays.finite_float("context_prior", x) for x in context_prior),
        output=output,
        top=min(_arrays.positive_int("top", top), t),
        threads=_arrays.threads(threads),
        checked_phi=checked_phi,
        fragments=fragments,
        **_sums(accumulate, into, weight, phi.shape),
    )


def _gamma(name: str, value: Any, n: int) -> float | np.ndarray:
    """γ of every position: a float when one value holds for all of them (nothing per
    token is then made or read), else a vector of n."""
    if np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        return _arrays.finite_float(name, value)
    return _arrays.vector(name, value, n)


def thetaless_estep(
    tokens: Any,
    doc_offsets: Any,
    phi: Any,
    n_t: Any,
    *,
    variant: str = "full",
    counts: Any = None,
    modality_starts: Any = None,
    accumulate: bool | str = True,
    into: np.ndarray | None = None,
    weight: float = 1.0,
    threads: int | None = None,
) -> Any:
    """The Θ-less E-step (docs/mathematics.md §2): ñ_wt = Σ_d n_dw p'_tdw (float64[W, T], or as
    ``accumulate`` and ``into`` ask: see the module's documentation).

    ``variant="full"`` uses the modified p'_tdw (the exact gradient with θ = θ(Φ));
    ``"naive"`` uses p' = p. With ``modality_starts`` (the first row of Φ of each of M
    modalities, 0 first) ``n_t`` is M×T and p(t|w) reads the n_t of w's modality
    (docs/mathematics.md §7).
    """
    return _thetaless_estep(
        tokens, doc_offsets, _arrays.matrix("phi", phi), n_t, variant=variant, counts=counts,
        accumulate=accumulate, into=into, weight=weight, threads=threads, checked_phi=False,
        modality_starts=modality_starts,
    )  # fmt: skip


def _thetaless_estep(
    tokens: Any,
    doc_offsets: Any,
    phi: np.ndarray,
    n_t: Any,
    *,
    variant: str,
    counts: Any,
    accumulate: bool | str,
    into: np.ndarray | None,
    weight: float,
    threads: int | None,
    checked_phi: bool,
    modality_starts: Any = None,
) -> Any:
    """:func:`thetaless_estep` for a float32 C-contiguous Φ (see :func:`_attentive_run`)."""
    tokens = _arrays.token_ids("tokens", tokens)
    masses, starts = _masses(n_t, modality_starts, phi.shape[1])
    return _core.thetaless_estep(
        tokens,
        _arrays.offsets("doc_offsets", doc_offsets),
        phi,
        masses,
        modality_starts=starts,
        counts=None if counts is None else _arrays.vector("counts", counts, _len(tokens)),
        variant=variant,
        threads=_arrays.threads(threads),
        checked_phi=checked_phi,
        **_sums(accumulate, into, weight, phi.shape),
    )


def linear_theta(
    tokens: Any,
    doc_offsets: Any,
    phi: Any,
    n_t: Any,
    *,
    counts: Any = None,
    modality_starts: Any = None,
    threads: int | None = None,
) -> np.ndarray:
    """θ_td = Σ_w (n_dw / n_d) p(t|w): one sparse product per document (float32[D, T]);
    ``modality_starts`` as in :func:`thetaless_estep`."""
    return _linear_theta(
        tokens, doc_offsets, _arrays.matrix("phi", phi), n_t, counts=counts, threads=threads,
        checked_phi=False, modality_starts=modality_starts,
    )  # fmt: skip


def _linear_theta(
    tokens: Any,
    doc_offsets: Any,
    phi: np.ndarray,
    n_t: Any,
    *,
    counts: Any,
    threads: int | None,
    checked_phi: bool,
    modality_starts: Any = None,
) -> np.ndarray:
    """:func:`linear_theta` for a float32 C-contiguous Φ (see :func:`_attentive_run`)."""
    tokens = _arrays.token_ids("tokens", tokens)
    masses, starts = _masses(n_t, modality_starts, phi.shape[1])
    return _core.linear_theta(
        tokens,
        _arrays.offsets("doc_offsets", doc_offsets),
        phi,
        masses,
        modality_starts=starts,
        counts=None if counts is None else _arrays.vector("counts", counts, _len(tokens)),
        threads=_arrays.threads(threads),
        checked_phi=checked_phi,
    )


def _masses(n_t: Any, modality_starts: Any, t: int) -> tuple[np.ndarray, list[int] | None]:
    """n_t and the modality starts as the core takes them: one vector of T masses, or
    M×T flattened with the M first rows."""
    if modality_starts is None:
        return _arrays.vector("n_t", n_t, t), None
    starts = np.asarray(modality_starts, dtype=np.int64).ravel()
    masses = _arrays.matrix("n_t", np.atleast_2d(n_t), columns=t)
    if masses.shape[0] != starts.shape[0]:
        raise ValueError(
            f"n_t has {masses.shape[0]} rows but modality_starts names {starts.shape[0]} "
            "modalities: give one row of topic masses per modality"
        )
    return masses.ravel(), [int(v) for v in starts]


def bags_estep(
    tokens: Any,
    doc_offsets: Any,
    phi: Any,
    theta: Any,
    *,
    counts: Any = None,
    tempering: float = 1.0,
    accumulate: bool | str = True,
    into: np.ndarray | None = None,
    weight: float = 1.0,
    threads: int | None = None,
) -> tuple[np.ndarray, Any]:
    """The E-step of document-level modalities under a given θ (docs/mathematics.md §7):
    for every entry (w, c_dw), p_tdw = norm_t(φ_wt θ_td); returns n_td = Σ_w c_dw p_tdw
    (float32[D, T]) and ñ_wt = Σ c_dw norm_t(p_tdw^κ) as ``accumulate`` asks (κ =
    ``tempering``; see the module's documentation)."""
    return _bags_estep(
        tokens, doc_offsets, _arrays.matrix("phi", phi), theta, counts=counts,
        tempering=tempering, accumulate=accumulate, into=into, weight=weight, threads=threads,
        checked_phi=False,
    )  # fmt: skip


def _bags_estep(tokens: Any, doc_offsets: Any, phi: np.ndarray, theta: Any, *, counts: Any,
                tempering: float, accumulate: bool | str, into: np.ndarray | None,
                weight: float, threads: int | None,
                checked_phi: bool) -> tuple[np.ndarray, Any]:  # fmt: skip
    """:func:`bags_estep` for a float32 C-contiguous Φ (see :func:`_attentive_run`)."""
    tokens = _arrays.token_ids("tokens", tokens)
    return _core.bags_estep(
        tokens,
        _arrays.offsets("doc_offsets", doc_offsets),
        phi,
        _arrays.matrix("theta", theta, columns=phi.shape[1]),
        counts=None if counts is None else _arrays.vector("counts", counts, _len(tokens)),
        tempering=_arrays.finite_float("tempering", tempering),
        threads=_arrays.threads(threads),
        checked_phi=checked_phi,
        **_sums(accumulate, into, weight, phi.shape),
    )


def _len(values: Any) -> int:
    if hasattr(values, "__len__"):
        return len(values)
    return int(np.asarray(values).shape[0]) if np.ndim(values) else 0
