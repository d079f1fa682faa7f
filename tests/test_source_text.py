"""A corpus that keeps its source text (keep_text=True): the characters of every token in
its text, through select, split and batches, and the fragments' text read from it."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

import attartm

from . import tokenize_reference as ref
from .test_tokenize import ALPHABET

TEXTS = [
    "The Café served crème brûlée. ΟΔΟΣ ΣΟΦΟΣ, İstanbul!\n\nNaïve 日本語 text — ok?",
    "Ünïcode: Мой\u0306 дом. x@cs.cmu.edu (e.g. cats), 3.14 dogs.",
    "",
]


def sigma_folded(word: str) -> str:
    return word.replace("ς", "σ")


def without_final_sigma(pieces: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Pieces with ς read as σ. A span read alone loses what follows it, and lowercasing
    looks there once: Final_Sigma makes Σ a ς when no cased letter follows, and in the text
    one may follow after case-ignorable characters ("aΣ.A" has the word "aσ", its span
    "aΣ" alone gives "aς")."""
    return [(sigma_folded(p), k) for p, k in pieces]


def assert_spans_are_the_tokens(corpus: attartm.Corpus) -> None:
    starts, ends = corpus.char_spans
    texts = corpus.source.to_list()
    words = corpus.vocabulary.words
    offsets = corpus.doc_offsets
    for d, text in enumerate(texts):
        a, b = offsets[d], offsets[d + 1]
        s, e = starts[a:b], ends[a:b]
        assert (s < e).all() and (e[:-1] <= s[1:]).all()
        assert b == a or (s[0] >= 0 and e[-1] <= len(text or ""))
        for i, (x, y) in enumerate(zip(s.tolist(), e.tolist())):
            # The source characters of the token read as exactly that one word.
            word = words[corpus.token_ids[a + i]]
            assert without_final_sigma(ref.pieces(text[x:y])) == [(sigma_folded(word), 0)]


def test_spans_map_back_to_the_source_text():
    corpus = attartm.Corpus.from_texts(TEXTS, keep_text=True, stopwords=True)
    assert corpus.source.to_list() == TEXTS
    assert_spans_are_the_tokens(corpus)
    starts, ends = corpus.char_spans
    first = [TEXTS[0][x:y] for x, y in zip(starts[:4], ends[:4])]
    assert first == ["Café", "served", "crème", "brûlée"]
    plain = attartm.Corpus.from_texts(TEXTS)
    assert plain.source is None and plain.char_spans is None
    np.testing.assert_array_equal(plain.token_ids, corpus.token_ids)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.text(ALPHABET, max_size=60), min_size=1, max_size=5))
def test_random_unicode_spans_are_exact_substrings(texts):
    corpus = attartm.Corpus.from_texts(texts, keep_text=True, stopwords=False, allow_empty=True,
                                       vocabulary=sorted({w for t in texts for w, _ in
                                                          ref.words(t, frozenset())}) or ["a"])  # fmt: skip
    assert_spans_are_the_tokens(corpus)


def test_views_keep_the_source():
    frame = pl.read_parquet(attartm.__path__[0] + "/data/demo.parquet").head(30)
    corpus = attartm.Corpus.from_polars(frame, text="text", keep_text=True, min_df=2)
    picked = corpus.select([5, 2, 9])
    assert picked.source.to_list() == [frame["text"][i] for i in (5, 2, 9)]
    assert_spans_are_the_tokens(picked)
    train, test = corpus.split(0.3, seed=1)
    assert_spans_are_the_tokens(train)
    assert_spans_are_the_tokens(test)
    for batch in corpus.batches(7):
        assert_spans_are_the_tokens(batch)


def test_fragments_show_the_raw_text():
    frame = pl.read_parquet(attartm.__path__[0] + "/data/demo.parquet").head(60)
    corpus = attartm.Corpus.from_polars(frame, text="text", keep_text=True, min_df=2, max_df=0.5)
    model = attartm.AttentiveARTM(6, seed=0, epochs=2, updates_per_epoch=2).fit(corpus)
    found = model.fragments(corpus, k=2, min_tokens=5)
    starts, ends = corpus.char_spans
    index = {v: i for i, v in enumerate(corpus.ids.to_list())}
    for row in found.iter_rows(named=True):
        d = index[row["id"]]
        a = corpus.doc_offsets[d]
        text = frame["text"][d]
        assert row["text"] == text[starts[a + row["start"]] : ends[a + row["end"]]]
