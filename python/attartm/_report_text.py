"""A document's text in the report (a part of ``attartm.report``): every token coloured by
its topic, segment starts marked and phrase occurrences underlined; the source text with
its stopwords, punctuation and line breaks when the corpus keeps it, else the tokens."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import numpy as np

from .corpus import Corpus


def document_html(
    doc: Corpus,
    topics: np.ndarray,
    cuts: Sequence[int],
    marked: np.ndarray,
    colour: Callable[[int], str],
) -> str:
    """The HTML of the one document of ``doc``: token i shown in the colour of topic
    ``topics[i]``, a segment mark before every position of ``cuts`` and the tokens of
    ``marked`` underlined as phrases."""
    words = doc.vocabulary.words
    cut = set(cuts)

    def token(i: int, text: str) -> str:
        mark = '<span class="segment"></span>' if i in cut else ""
        topic = int(topics[i])
        return (f'{mark}<span class="tok{" phrase" if marked[i] else ""}" data-topic="{topic}" '
                f'style="background:{colour(topic)}" title="topic {topic}">'
                f"{html.escape(text)}</span>")  # fmt: skip

    spans = doc.char_spans
    if spans is None:
        return '<div class="doc">' + " ".join(
            token(i, words[w]) for i, w in enumerate(doc.token_ids)
        ) + "</div>"  # fmt: skip
    text = doc.source[0] or ""
    starts, ends = (a.tolist() for a in spans)
    parts, at = [], 0
    for i, (a, b) in enumerate(zip(starts, ends)):
        gap = html.escape(text[at:a])
        # The words between two tokens of a phrase belong to it ("bank of america").
        inside = i > 0 and marked[i - 1] and marked[i] and gap
        parts.append(f'<span class="phrase">{gap}</span>' if inside else gap)
        parts.append(token(i, text[a:b]))
        at = b
    parts.append(html.escape(text[at:]))
    return '<div class="doc source">' + "".join(parts) + "</div>"
