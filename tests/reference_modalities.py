"""Plain NumPy references of the E- and M-steps over several modalities (docs/mathematics.md
§7) and of the regularizers of §8, written straight from the formulas: slow and obvious on
purpose.

A document is given as its entries: (row of the stacked Φ, modality index) pairs, one per
occurrence; modality 0 is the text. ``weights[m]`` is τ_m.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import reference as ref
from .reference import norm


def entries(text_tokens, text_offsets, bags, starts):
    """Every document's (row, modality) entries: the text's tokens, then each bag's values
    (``bags``: a list of (modality index, token ids in its vocabulary, offsets))."""
    out = []
    for d in range(len(text_offsets) - 1):
        doc = [(int(w), 0) for w in text_tokens[text_offsets[d] : text_offsets[d + 1]]]
        for m, tokens, offsets in bags:
            doc += [(int(starts[m] + w), m) for w in tokens[offsets[d] : offsets[d + 1]]]
        out.append(doc)
    return out


def artm_estep(docs, weights, phi, doc_passes, theta_term=None, theta_scale=None):
    """§1 and §7.1: n_td = Σ_m τ_m Σ_w n_dw p_tdw, θ_td = norm_t(s_t n_td + r_t); then
    ñ_wt += τ_m n_dw p_tdw."""
    phi = np.asarray(phi, dtype=np.float64)
    n_topics = phi.shape[1]
    term = np.zeros(n_topics) if theta_term is None else np.asarray(theta_term, np.float64)
    scale = np.ones(n_topics) if theta_scale is None else np.asarray(theta_scale, np.float64)
    theta = np.zeros((len(docs), n_topics))
    n_wt = np.zeros(phi.shape)
    for d, doc in enumerate(docs):
        th = np.full(n_topics, 1.0 / n_topics)
        for _ in range(doc_passes):
            n_td = sum((weights[m] * norm(phi[w] * th) for w, m in doc), np.zeros(n_topics))
            th = norm(scale * n_td + term)
        theta[d] = th
        for w, m in doc:
            n_wt[w] += weights[m] * norm(phi[w] * th)
    return theta, n_wt


def topics_given_word(phi, n_t, starts, w):
    """p(t|w) = norm_t(φ_wt n_t^m) with m the modality of row w."""
    m = int(np.searchsorted(starts, w, side="right")) - 1
    return norm(np.asarray(phi[w], np.float64) * np.asarray(n_t[m], np.float64))


def linear_theta(docs, weights, phi, n_t, starts):
    """§7.2: θ_td = Σ_m τ_m Σ_w n_dw p(t|w) / Σ_m τ_m n_dm (uniform for an empty document)."""
    n_topics = np.shape(phi)[1]
    out = np.zeros((len(docs), n_topics))
    for d, doc in enumerate(docs):
        mass = sum(weights[m] for _, m in doc)
        if mass <= 0:
            out[d] = 1.0 / n_topics
            continue
        out[d] = sum(weights[m] * topics_given_word(phi, n_t, starts, w) for w, m in doc) / mass
    return out


def thetaless_estep(docs, weights, phi, n_t, starts, variant="full"):
    """§7.2: the Θ-less E-step of §2 with counts c_dw = τ_m n_dw and p(t|w) of the word's
    modality: p' = p + (p(t|w)/N_d)(n_td/θ_td − Σ_s p(s|w) n_sd/θ_sd), N_d = Σ c_dw."""
    phi = np.asarray(phi, dtype=np.float64)
    n_topics = phi.shape[1]
    theta = linear_theta(docs, weights, phi, n_t, starts)
    n_wt = np.zeros(phi.shape)
    for d, doc in enumerate(docs):
        mass = sum(weights[m] for _, m in doc)
        if mass <= 0:
            continue
        p = [norm(phi[w] * theta[d]) for w, _ in doc]
        n_td = sum((weights[m] * pi for (_, m), pi in zip(doc, p)), np.zeros(n_topics))
        ratio = np.divide(n_td, theta[d], out=np.zeros(n_topics), where=theta[d] > 0)
        for (w, m), pi in zip(doc, p):
            if variant == "full":
                ptw = topics_given_word(phi, n_t, starts, w)
                pi = pi + ptw / mass * (ratio - ptw @ ratio)
            n_wt[w] += weights[m] * pi
    return n_wt


def attentive_estep(text_tokens, text_offsets, docs, weights, phi, n_t, gf, gb, beta, passes,
                    exclude_self, filter="p/n_t", tempering=1.0, context_prior=None):  # fmt: skip
    """§7.3: P_d = Σ_m τ_m Σ_w n_dw norm_t(φ_wt θ̄_td) / (N_d + S_d) with θ̄_d the text's
    linear topicization, S_d = Σ_m τ_m n_dm over the other modalities and N_d = τ_0 n_d;
    the text's E-step of §3 with θ_i = (1 − μ_d) θ_i + P_d; θ_d = (1 − μ_d) mean_i p_i +
    P_d; the other modalities' ñ_wt += τ_m n_dw norm_t(p_tdw^κ), p_tdw = norm_t(φ_wt θ_td).
    ``docs`` are the entries of the other modalities only. Returns (ñ_wt, θ_d, p_i)."""
    phi = np.asarray(phi, dtype=np.float64)
    n_docs, n_topics = len(docs), phi.shape[1]
    theta_bar = ref.linear_theta(text_tokens, text_offsets, phi, n_t)
    prior = np.zeros((n_docs, n_topics))
    share = np.zeros(n_docs)
    for d, doc in enumerate(docs):
        others = sum(weights[m] for _, m in doc)
        total = weights[0] * (text_offsets[d + 1] - text_offsets[d]) + others
        if total > 0 and doc:
            prior[d] = sum(weights[m] * norm(phi[w] * theta_bar[d]) for w, m in doc) / total
            share[d] = others / total
    p, n_wt, *_ = ref.attentive_estep(
        text_tokens, text_offsets, phi, n_t, gf, gb, beta, passes, exclude_self, filter,
        tempering=tempering, document_prior=prior, context_prior=context_prior,
    )  # fmt: skip
    n_wt = weights[0] * n_wt
    theta = np.zeros((n_docs, n_topics))
    for d in range(n_docs):
        a, b = text_offsets[d], text_offsets[d + 1]
        mean = p[a:b].mean(axis=0) if b > a else np.full(n_topics, 1.0 / n_topics)
        theta[d] = (1 - share[d]) * mean + prior[d]
        for w, m in docs[d]:
            n_wt[w] += weights[m] * norm(norm(phi[w] * theta[d]) ** tempering)
    return n_wt, theta, p


def mstep(n_wt, starts, term=None):
    """§7: φ = norm_w(n_wt + φ ∂R/∂φ) within every modality's block of rows."""
    x = np.asarray(n_wt, dtype=np.float64) + (0.0 if term is None else term)
    out = np.zeros_like(x)
    for a, b in itertools.pairwise(starts):
        out[a:b] = ref.normalize_columns(x[a:b])
    return out


# ---------------------------------------------------------------- regularizers (§8)
def label_regularization(n_wt, tau, topics=None, weights=None):
    """τ β_w n_wt / Σ_{s ∈ topics} n_ws on the chosen topics (0 for a row without counts)."""
    n_wt = np.asarray(n_wt, dtype=np.float64)
    out = np.zeros_like(n_wt)
    chosen = range(n_wt.shape[1]) if topics is None else topics
    for w in range(n_wt.shape[0]):
        total = sum(max(n_wt[w, t], 0.0) for t in chosen)
        beta = 1.0 if weights is None else weights[w]
        for t in chosen:
            if total > 0:
                out[w, t] = tau * beta * max(n_wt[w, t], 0.0) / total
    return out


def specified_sparse(n_wt, tau, max_elements, mode="topics", threshold=0.99, topics=None):
    """−τ n_wt on every entry but the kept ones: per topic (column) or per word (row over
    the chosen topics), the largest entries (the lower index first among equals), at most
    max_elements, taken while those before hold less than the threshold of the sum."""
    n_wt = np.asarray(n_wt, dtype=np.float64)
    chosen = list(range(n_wt.shape[1])) if topics is None else list(topics)
    out = np.zeros_like(n_wt)
    if mode == "topics":
        groups = [[(w, t) for w in range(n_wt.shape[0])] for t in chosen]
    else:
        groups = [[(w, t) for t in chosen] for w in range(n_wt.shape[0])]
    for group in groups:
        values = [n_wt[i] for i in group]
        total = sum(values)
        order = sorted(range(len(group)), key=lambda i: (-values[i], i))
        kept, held = set(), 0.0
        for i in order[:max_elements]:
            if total > 0 and held / total >= threshold:
                break
            kept.add(i)
            held += values[i]
        for i, entry in enumerate(group):
            if i not in kept:
                out[entry] = -tau * n_wt[entry]
    return out


def topic_selection_scale(n_t, tau):
    """The factor of n_td: 1 − τ n/(|T| n_t) (0 for a topic without mass); topics of one
    mass have none to select among (the regularizer then leaves n_td as it is)."""
    n_t = np.asarray(n_t, dtype=np.float64)
    n = n_t.sum()
    return np.array([1 - tau * n / (len(n_t) * v) if v > 0 else 0.0 for v in n_t])


def seed_words(n_wt, seeds, tau):
    """τ n_w on (w, t) for every seed row w of topic t (``seeds``: topic -> rows)."""
    n_wt = np.asarray(n_wt, dtype=np.float64)
    out = np.zeros_like(n_wt)
    for t, rows in seeds.items():
        for w in set(rows):
            out[w, t] += tau * n_wt[w].sum()
    return out
