"""Plain NumPy references written straight from the formulas of docs/mathematics.md.

Slow and obvious on purpose: the Rust kernels must match them.
"""

from __future__ import annotations

import numpy as np


def norm(x: np.ndarray) -> np.ndarray:
    """norm_t: max(x, 0) / Σ max(x, 0), uniform when the sum is 0."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    s = x.sum()
    return x / s if s > 0 else np.full(x.shape, 1.0 / x.shape[0])


def artm_estep(tokens, offsets, phi, counts=None, doc_passes=10, theta_term=None):
    """docs/mathematics.md §1: per document θ starts uniform; doc_passes times
    p_tdw = norm_t(φ_wt θ_td), n_td = Σ_w n_dw p_tdw, θ_td = norm_t(n_td + term_t);
    then ñ_wt += n_dw p_tdw with the final θ."""
    phi = np.asarray(phi, dtype=np.float64)
    n_words, n_topics = phi.shape
    counts = np.ones(len(tokens)) if counts is None else np.asarray(counts, dtype=np.float64)
    term = np.zeros(n_topics) if theta_term is None else np.asarray(theta_term, dtype=np.float64)
    n_docs = len(offsets) - 1
    theta = np.zeros((n_docs, n_topics))
    n_wt = np.zeros((n_words, n_topics))
    for d in range(n_docs):
        words = tokens[offsets[d] : offsets[d + 1]]
        c = counts[offsets[d] : offsets[d + 1]]
        th = np.full(n_topics, 1.0 / n_topics)
        for _ in range(doc_passes):
            n_td = np.zeros(n_topics)
            for w, n in zip(words, c):
                n_td += n * norm(phi[w] * th)
            th = norm(n_td + term)
        theta[d] = th
        for w, n in zip(words, c):
            n_wt[w] += n * norm(phi[w] * th)
    return theta, n_wt


def normalize_columns(x: np.ndarray) -> np.ndarray:
    """norm_w of every column."""
    return np.stack([norm(col) for col in np.asarray(x, dtype=np.float64).T], axis=1)


def random_phi(rng: np.random.Generator, n_words: int, n_topics: int, zeros: float = 0.0):
    """A random Φ with columns summing to 1 (some entries exactly 0 when zeros > 0)."""
    phi = rng.random((n_words, n_topics))
    phi[rng.random(phi.shape) < zeros] = 0.0
    return normalize_columns(phi).astype(np.float32)


def random_documents(rng: np.random.Generator, n_words: int, max_docs: int = 6, max_len: int = 12):
    """Random token ids and offsets, including empty and one-token documents."""
    lengths = rng.integers(0, max_len + 1, size=rng.integers(1, max_docs + 1))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.integers(0, n_words, size=offsets[-1]).astype(np.uint32)
    return tokens, offsets


def topics_given_words(phi, n_t):
    """p(t|w) = norm_t(φ_wt n_t), row by row."""
    return np.stack(
        [norm(row * np.asarray(n_t, dtype=np.float64)) for row in np.asarray(phi, dtype=np.float64)]
    )


def _unit(x):
    s = x.sum()
    return x / s if s > 0 else None


def attentive_estep(
    tokens, offsets, phi, n_t, gf, gb, beta, passes, exclude_self, filter="p/n_t", reset=None,
    document_weight=0.0, tempering=1.0, document_prior=None, context_prior=None,
):  # fmt: skip
    """docs/mathematics.md §3, position by position. Returns (p, n_wt, left, right, theta, n_left,
    n_right) where left/right are the normalized inclusive F_i, B_i of the last pass (0 where
    empty), theta the context θ_i of the last pass and n_left/n_right the effective number
    of tokens (Σw)²/Σw² of the weights w that F_i and B_i give the positions. With
    ``document_prior`` (D×T, rows P_d summing to μ_d), θ_i = (1 − μ_d) θ_i + P_d (§7.3).
    With ``context_prior`` (x, y), the text's θ_i (before P_d) is (1 − ε_i) θ_i + ε_i/T,
    ε_i = 1/(1 + x|F_i| + y|B_i|), for the F_i and B_i that position i reads (§3)."""
    phi = np.asarray(phi, dtype=np.float64)
    n_t = np.asarray(n_t, dtype=np.float64)
    n_words, n_topics = phi.shape
    ptw = topics_given_words(phi, n_t)
    n = len(tokens)
    keep = np.ones(n) if reset is None else 1.0 - np.asarray(reset, dtype=np.float64)
    p = np.array([ptw[w] for w in tokens]).reshape(n, n_topics)
    left_out = np.zeros((n, n_topics))
    right_out = np.zeros((n, n_topics))
    theta_out = np.zeros((n, n_topics))
    n_left, n_right = np.zeros(n), np.zeros(n)
    for d in range(len(offsets) - 1):
        a, b = offsets[d], offsets[d + 1]
        for i in range(a, b):
            # Weight of position k in F_i: γ_k Π_{k<m≤i} (1 − γ_m); in B_i the mirror image.
            g, k = np.asarray(gf[a : i + 1], dtype=np.float64), keep[a : i + 1]
            wl = g * np.append(np.cumprod(((1 - g[1:]) * k[1:])[::-1])[::-1], 1.0)
            g, k = np.asarray(gb[i:b], dtype=np.float64), keep[i:b]
            wr = g * np.concatenate([[1.0], np.cumprod((1 - g[:-1]) * k[1:])])
            for w, out in ((wl, n_left), (wr, n_right)):
                out[i] = w.sum() ** 2 / (w**2).sum() if (w**2).sum() > 0 else 0.0
    for _ in range(passes):
        new_p = p.copy()
        for d in range(len(offsets) - 1):
            a, b = offsets[d], offsets[d + 1]
            # Fin[k] = the faded state position a+k reads from the left; F[k] = F_{a+k}.
            Fin = np.zeros((b - a, n_topics))
            F = np.zeros((b - a, n_topics))
            state = np.zeros(n_topics)
            for k, i in enumerate(range(a, b)):
                Fin[k] = keep[i] * state
                F[k] = state = gf[i] * p[i] + (1 - gf[i]) * Fin[k]
            Bin = np.zeros((b - a, n_topics))
            B = np.zeros((b - a, n_topics))
            state = np.zeros(n_topics)
            for k in reversed(range(b - a)):
                i = a + k
                Bin[k] = (keep[i + 1] if i + 1 < b else 1.0) * state
                B[k] = state = gb[i] * p[i] + (1 - gb[i]) * Bin[k]
            for k, i in enumerate(range(a, b)):
                left = Fin[k] if exclude_self else F[k]
                right = Bin[k] if exclude_self else B[k]
                ul, ur = _unit(left), _unit(right)
                if ul is not None and ur is not None:
                    theta = beta * ul + (1 - beta) * ur
                elif ul is not None:
                    theta = ul
                elif ur is not None:
                    theta = ur
                else:
                    theta = np.full(n_topics, 1.0 / n_topics)
                # The document head: the mean p of the document's other positions that
                # enter contexts (γ→ > 0 or γ← > 0).
                counted = (np.asarray(gf[a:b]) > 0) | (np.asarray(gb[a:b]) > 0)
                own = bool(counted[k]) and exclude_self
                others = int(counted.sum()) - int(own)
                if document_weight > 0 and others > 0:
                    total = p[a:b][counted].sum(axis=0) - (p[i] if own else 0.0)
                    doc = total / others
                    if ul is None and ur is None:
                        theta = doc
                    else:
                        theta = (1 - document_weight) * theta + document_weight * doc
                if context_prior is not None:
                    x, y = context_prior
                    e = 1.0 / (1.0 + x * left.sum() + y * right.sum())
                    theta = (1 - e) * theta + e / n_topics
                if document_prior is not None:
                    prior = np.asarray(document_prior[d], dtype=np.float64)
                    theta = max(0.0, 1 - prior.sum()) * theta + prior
                theta_out[i] = theta
                lf, rb = _unit(F[k]), _unit(B[k])
                left_out[i] = 0 if lf is None else lf
                right_out[i] = 0 if rb is None else rb
                if filter == "p/n_t":
                    inv = np.divide(1.0, n_t, out=np.zeros_like(n_t), where=n_t > 0)
                    new_p[i] = norm(theta * p[i] * inv)
                else:
                    new_p[i] = norm(theta * phi[tokens[i]])
        p = new_p
    n_wt = np.zeros((n_words, n_topics))
    for i, w in enumerate(tokens):
        n_wt[w] += norm(p[i] ** tempering)  # tempered EM; κ = 1 adds p_i itself
    return p, n_wt, left_out, right_out, theta_out, n_left, n_right


def thetaless_estep(tokens, offsets, phi, n_t, variant="full", counts=None):
    """docs/mathematics.md §2: θ_td = Σ_w (n_dw/n_d) φ'_tw; p_tdw = norm_t(φ_wt θ_td);
    p' = p + (φ'_tw/n_d)(n_td/θ_td − Σ_s φ'_sw n_sd/θ_sd); ñ_wt = Σ_d n_dw p'_tdw."""
    phi = np.asarray(phi, dtype=np.float64)
    n_words, n_topics = phi.shape
    ptw = topics_given_words(phi, n_t)
    counts = np.ones(len(tokens)) if counts is None else np.asarray(counts, dtype=np.float64)
    n_wt = np.zeros((n_words, n_topics))
    for d in range(len(offsets) - 1):
        words = tokens[offsets[d] : offsets[d + 1]]
        c = counts[offsets[d] : offsets[d + 1]]
        n_d = c.sum()
        if n_d <= 0:
            continue
        theta = sum(cw * ptw[w] for w, cw in zip(words, c)) / n_d
        p = {i: norm(phi[w] * theta) for i, w in enumerate(words)}
        n_td = sum(cw * p[i] for i, cw in enumerate(c))
        ratio = np.divide(n_td, theta, out=np.zeros(n_topics), where=theta > 0)
        for i, (w, cw) in enumerate(zip(words, c)):
            pp = p[i]
            if variant == "full":
                pp = pp + ptw[w] / n_d * (ratio - ptw[w] @ ratio)
            n_wt[w] += cw * pp
    return n_wt


def linear_theta(tokens, offsets, phi, n_t):
    ptw = topics_given_words(phi, n_t)
    n_topics = ptw.shape[1]
    out = np.zeros((len(offsets) - 1, n_topics))
    for d in range(len(offsets) - 1):
        words = tokens[offsets[d] : offsets[d + 1]]
        out[d] = ptw[words].mean(axis=0) if len(words) else np.full(n_topics, 1.0 / n_topics)
    return out
