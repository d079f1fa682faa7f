"""A self-contained HTML report of a fitted model (no network needed to open it): topics
with weighted top words (and top values of every other modality), topic sizes, a 2-D map of
topic similarity, sparsity and coherence per topic, and for chosen documents the text with every token coloured by its topic, the
boundary score along the text and the detected segments (attentive models).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from . import scores
from ._atomic import atomic_write
from ._model import TopicModel
from ._report_passages import occurrences_in, passages_html
from ._report_text import document_html
from .attentive import AttentiveARTM
from .corpus import Corpus

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table.topics { border-collapse: collapse; font-size: 0.85em; }
table.topics td, table.topics th { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left; }
table.topics tr { cursor: pointer; }
table.topics tr.selected { outline: 2px solid #333; }
.swatch { display: inline-block; width: 1em; height: 1em; border-radius: 2px; vertical-align: middle; }
.word { display: inline-block; margin-right: 0.5em; }
.bar { display: inline-block; height: 0.5em; background: #888; vertical-align: middle; margin-left: 2px; }
.doc { line-height: 2em; font-size: 0.9em; }
.doc.source { white-space: pre-wrap; }
.tok { padding: 1px 2px; border-radius: 3px; }
.tok.dim { opacity: 0.25; }
.segment { border-left: 3px solid #333; padding-left: 4px; margin-left: 4px; }
.muted { color: #666; font-size: 0.85em; }
.tok.phrase, span.phrase { text-decoration: underline 2px; font-weight: 600; }
.phrase-chip { display: inline-block; margin: 2px 4px 2px 0; padding: 1px 6px; border-radius: 8px; background: #eee; font-size: 0.85em; }
blockquote.fragment { border-left: 4px solid #888; margin: 4px 0 4px 1em; padding-left: 8px; font-size: 0.85em; }
.passages h3 { font-size: 1em; margin-bottom: 2px; }
"""

SCRIPT = """
document.querySelectorAll('table.topics tr[data-topic]').forEach(function (row) {
  row.addEventListener('click', function () {
    var t = row.getAttribute('data-topic');
    var on = !row.classList.contains('selected');
    document.querySelectorAll('table.topics tr').forEach(function (r) { r.classList.remove('selected'); });
    if (on) { row.classList.add('selected'); }
    document.querySelectorAll('.tok').forEach(function (tok) {
      tok.classList.toggle('dim', on && tok.getAttribute('data-topic') !== t);
    });
  });
});
"""


def colour(t: int, n_topics: int) -> str:
    return f"hsl({round(360 * t / max(n_topics, 1))}, 70%, 72%)"


def js_distances(phi: np.ndarray) -> np.ndarray:
    """T×T Jensen–Shannon distances between the columns of Φ (natural log)."""
    p = phi.astype(np.float64) / phi.sum(axis=0, keepdims=True)
    t = p.shape[1]
    out = np.zeros((t, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(p > 0, np.log(p), 0.0)
        for a in range(t):
            m = 0.5 * (p[:, [a]] + p)
            logm = np.where(m > 0, np.log(m), 0.0)
            kl_a = (p[:, [a]] * (logp[:, [a]] - logm)).sum(axis=0)
            kl_b = (p * (logp - logm)).sum(axis=0)
            out[a] = np.sqrt(np.maximum(0.5 * (kl_a + kl_b), 0.0))
    return out


def topic_map(distances: np.ndarray) -> np.ndarray:
    """Classical multidimensional scaling of a distance matrix to 2-D coordinates."""
    t = distances.shape[0]
    if t < 3:
        return np.column_stack([np.arange(t, dtype=float), np.zeros(t)])
    j = np.eye(t) - 1.0 / t
    b = -0.5 * j @ (distances**2) @ j
    values, vectors = np.linalg.eigh(b)
    order = np.argsort(values)[::-1][:2]
    return vectors[:, order] * np.sqrt(np.maximum(values[order], 0.0))


def _svg_map(coords: np.ndarray, sizes: np.ndarray, labels: list[str]) -> str:
    w, h, pad = 640, 420, 40
    span = np.ptp(coords, axis=0)
    span[span == 0] = 1.0
    xy = (coords - coords.min(axis=0)) / span
    parts = [f'<svg id="topic-map" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">',
             f'<rect width="{w}" height="{h}" fill="#fafafa"/>']  # fmt: skip
    for t, ((x, y), size, label) in enumerate(zip(xy, sizes, labels)):
        cx, cy = pad + x * (w - 2 * pad), pad + y * (h - 2 * pad)
        r = 4 + 22 * math.sqrt(size)
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" '
                     f'fill="{colour(t, len(labels))}" fill-opacity="0.8" stroke="#555"/>'
                     f'<text x="{cx:.1f}" y="{cy + 4:.1f}" font-size="10" text-anchor="middle">'
                     f"{t}: {html.escape(label)}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _svg_scores(values: np.ndarray, cuts: Sequence[int]) -> str:
    w, h = 900, 90
    n = max(len(values), 1)
    finite = np.nan_to_num(values, nan=0.0)
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    points = " ".join(
        f"{i * w / n:.1f},{h - 5 - (h - 10) * v / top:.1f}" for i, v in enumerate(finite)
    )
    lines = "".join(f'<line x1="{c * w / n:.1f}" x2="{c * w / n:.1f}" y1="0" y2="{h}" '
                    'stroke="#c00" stroke-dasharray="3,2"/>' for c in cuts)  # fmt: skip
    return (f'<svg class="boundary-score" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">'
            f'<rect width="{w}" height="{h}" fill="#fafafa"/>{lines}'
            f'<polyline points="{points}" fill="none" stroke="#333" stroke-width="1"/></svg>')  # fmt: skip


def _bars(values: list[str], weights: np.ndarray) -> str:
    """Words with bars of their weights (the first one's bar is the longest)."""
    return "".join(
        f'<span class="word">{html.escape(v)}<span class="bar" '
        f'style="width:{60 * w / max(weights[0], 1e-12):.0f}px"></span></span>'
        for v, w in zip(values, weights)
    )


def _modality_tables(model: TopicModel, k: int) -> str:
    """For every modality but the text, each topic's top values with bars of p(w|t)."""
    parts = []
    for name, vocabulary in list(model.vocabularies.items())[1:]:
        phi = model.phi_of(name)
        top = scores.top_words(phi, min(k, phi.shape[0]))
        rows = "".join(
            f'<tr data-topic="{t}"><td><span class="swatch" style="background:'
            f'{colour(t, model.n_topics)}"></span> {t}</td><td>'
            f"{_bars([vocabulary[w] for w in top[t]], phi[top[t], t])}</td></tr>"
            for t in range(model.n_topics)
        )
        parts.append(
            f'<h2>Topics in {html.escape(name)}</h2><p class="muted">The modality\'s weight '
            f"{model.modalities[name]:g}; bars: p({html.escape(name)}|t).</p>"
            f'<table class="topics"><tr><th>topic</th><th>top values</th></tr>{rows}</table>'
        )
    return "".join(parts)


def _token_topics(model: TopicModel, doc: Corpus) -> np.ndarray:
    """The main topic of every token of a one-document corpus."""
    if isinstance(model, AttentiveARTM):
        return np.stack(model.transform_tokens(doc, top=1)["topics"].to_numpy())[:, 0]
    theta = model.transform(doc).drop("id").to_numpy()[0]
    return np.argmax(model.phi[doc.token_ids] * theta, axis=1)


def build(
    model: TopicModel, corpus: Corpus, documents: Sequence[int] = (0, 1, 2), k: int = 10
) -> str:
    """The report's HTML."""
    model._require_fitted()
    corpus = model._check_corpus(corpus)
    phi, n_t = model.phi, model.n_t
    t = model.n_topics
    k = min(k, phi.shape[0])
    top = scores.top_words(phi, k)
    words = model.vocabulary.words
    sizes = n_t / n_t.sum() if n_t.sum() > 0 else np.full(t, 1.0 / t)
    npmi = scores.npmi(phi, corpus, k=max(2, min(10, phi.shape[0])), per_topic=True)
    sparsity = (phi < 1e-12).mean(axis=0)
    background = set(model.background_topics)
    rows = []
    for topic in range(t):
        cells = _bars([words[w] for w in top[topic]], phi[top[topic], topic])
        rows.append(f'<tr data-topic="{topic}"><td><span class="swatch" style="background:'
                    f'{colour(topic, t)}"></span> {topic}{" (background)" if topic in background else ""}</td><td>{sizes[topic]:.1%}</td>'
                    f"<td>{npmi[topic]:.3f}</td><td>{sparsity[topic]:.1%}</td><td>{cells}</td></tr>")  # fmt: skip
    coords = topic_map(js_distances(phi))
    labels = [words[top[i][0]] for i in range(t)]
    passages, doc_phrases = "", None
    if isinstance(model, AttentiveARTM):
        passages, labels = passages_html(model, corpus, lambda topic: colour(topic, t))
        passages = (
            '<h2>Topic phrases and fragments</h2><p class="muted">Each topic\'s label, '
            "its best phrases and its best fragments in this corpus.</p>" + passages
        )
        doc_phrases = model.document_phrases(corpus, k=5)
    docs_html = []
    for d in documents:
        if not 0 <= d < corpus.n_documents:
            raise ValueError(f"document {d} is not in the corpus (it has {corpus.n_documents})")
        doc = corpus.select([d])
        if doc.n_tokens == 0:
            continue
        main = _token_topics(model, doc)
        cuts: list[int] = []
        score_svg = ""
        if isinstance(model, AttentiveARTM):
            seg = model.segments(doc)
            cuts = [s for s in seg["start"].to_list() if s > 0]
            score_svg = _svg_scores(model.boundary_scores(doc), cuts)
        mine: list[str] = []
        if doc_phrases is not None:
            mine = doc_phrases.filter(pl.col("id") == doc.ids[0])["phrase"].to_list()
        text = document_html(doc, main, cuts, occurrences_in(doc, mine), lambda c: colour(c, t))
        listed = "".join(f'<span class="phrase-chip">{html.escape(p)}</span>' for p in mine)
        docs_html.append(f'<h3>{html.escape(str(doc.ids[0]))}</h3>{score_svg}'
                         f'<div class="doc-phrases">{listed}</div>{text}')  # fmt: skip
    # Token weights and regularizers (with their word weights) hold up to W values each.
    long = ("token_weight", "regularizers")
    params = ", ".join(f"{k}={v!r}" for k, v in model.get_params().items() if k not in long)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>attartm report</title>
<style>{STYLE}</style></head><body>
<h1>{type(model).__name__}: {t} topics, {len(words):,} words</h1>
<p class="muted">{html.escape(params)}. Corpus: {corpus.n_documents:,} documents,
{corpus.n_tokens:,} tokens. Click a topic to highlight its tokens.</p>
<h2>Topics</h2>
<table class="topics" id="topic-list"><tr><th>topic</th><th>size</th><th>NPMI</th>
<th>Φ sparsity</th><th>top words (bars: p(w|t))</th></tr>{"".join(rows)}</table>
{_modality_tables(model, k)}
<h2>Topic map</h2>
<p class="muted">Classical scaling of the Jensen–Shannon distances between topics; circle area
is the topic's size.</p>{_svg_map(coords, sizes, labels)}
<h2>Documents</h2>
<p class="muted">{"The source text, every" if corpus.char_spans is not None else "Every"} token coloured by its main topic{" in its context" if isinstance(model, AttentiveARTM) else ""};
{"the line is the boundary score, dashes mark detected segment starts." if isinstance(model, AttentiveARTM) else ""}</p>
{"".join(docs_html)}
{passages}
<script>{SCRIPT}</script>
</body></html>
"""


def write(
    model: TopicModel, corpus: Corpus, path: str | os.PathLike, documents: Sequence[int] = (0, 1, 2)
) -> Path:
    """Writes the report to ``path`` (atomically) and returns the path."""
    page = build(model, corpus, documents)
    atomic_write(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    return Path(path)
