"""The report's passages (a part of ``attartm.report``): every topic's label, phrases and
best fragments, and the positions of a document's phrases to highlight."""

from __future__ import annotations

import html

import numpy as np
import polars as pl

from ._ngrams import sentence_breaks
from .attentive import AttentiveARTM
from .corpus import Corpus
from .phrases import labels_from

#: Phrases and fragments shown per topic, and characters of a fragment shown.
PHRASES = 6
FRAGMENTS = 2
SHOWN = 400


def passages_html(model: AttentiveARTM, corpus: Corpus, colour) -> tuple[str, list[str]]:
    """A section with every topic's label, phrases and best fragments, and the labels."""
    phrases = model.topic_phrases(corpus, k=10)
    labels = labels_from(phrases, [model.vocabulary.words[w] for w in model.phi.argmax(axis=0)])
    phrases = phrases.filter(pl.col("rank") <= PHRASES)
    fragments = model.fragments(corpus, k=FRAGMENTS)
    rows = []
    for t in range(model.n_topics):
        mine = phrases.filter(pl.col("topic") == t)["phrase"].to_list()
        chips = "".join(f'<span class="phrase-chip">{html.escape(p)}</span>' for p in mine)
        found = fragments.filter(pl.col("topic") == t)
        quotes = "".join(
            f'<blockquote class="fragment" data-topic="{t}" style="border-color:{colour(t)}">'
            f"{html.escape(_clip(text))}"
            f'<span class="muted"> — {html.escape(str(i))}, tokens {s}–{e}, score {v:.1f}'
            "</span></blockquote>"
            for i, s, e, v, text in found.select("id", "start", "end", "score", "text").rows()
        )
        rows.append(
            f'<div class="passages" data-topic="{t}"><h3><span class="swatch" style="background:'
            f'{colour(t)}"></span> {t}: <span class="label">{html.escape(labels[t])}</span></h3>'
            f'<div class="phrases">{chips or "<span class=muted>no phrase</span>"}</div>'
            f"{quotes}</div>"
        )
    return "".join(rows), labels


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def occurrences_in(doc: Corpus, phrases: list[str]) -> np.ndarray:
    """A mask of the positions of ``doc`` inside an occurrence of any of ``phrases`` (token
    sequences joined by spaces) within one sentence."""
    words = doc.vocabulary.words
    tokens = [words[w] for w in doc.token_ids]
    breaks = sentence_breaks(doc)
    mask = np.zeros(len(tokens), dtype=bool)
    for phrase in phrases:
        target = phrase.split()
        n = len(target)
        for i in range(len(tokens) - n + 1):
            if tokens[i : i + n] == target and breaks[i + n - 1] == breaks[i]:
                mask[i : i + n] = True
    return mask
