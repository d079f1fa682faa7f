"""The Rust tokenizer against the plain-Python reference (tests/tokenize_reference.py):
random unicode strings, edge cases, every Arrow string layout, every shared corpus; and
the ``artm`` expression namespace in eager, lazy and streaming polars queries."""

from __future__ import annotations

import os
import unicodedata

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attartm
from attartm import _core
from attartm._tokenize import stopwords

from . import tokenize_reference as ref
from .conftest import require_data

EDGE_CASES = [
    "",
    "The Cat sat. A dog ran!\n\nBirds fly? Yes, they do.\n  \nThe end",
    'Version 3.14 works. Mail x@cs.cmu.edu now! He said "stop." Then left',
    "end...",
    "end?!",
    "a.\r\nb",
    "a.\n\r\nb",
    "a.\n \t\r\nb",
    "a\n\n\n\nb",
    "a.)]\"'”’» b",
    "a.x b. c",
    "a.\u2003b. c.\u00a0d.\x1cx",
    "a.\x85b",
    "ΟΔΟΣ ΣΑΣ Σ. ΑΣ' ΣΟΦΟΣ.",
    "abcdefghijklmnopΣ",
    "İstanbul ıI KIRMIZI",
    "Мой\u0306 и\u0306 \u0301x ёЁ",
    "Ǆemal ǅ ǆ",
    "日本語のテキスト。 漢字 😀 emoji👍word",
    "tab\tsep\x0bvert\x0cfeed",
    "ß straße STRASSE ﬁne",
    "\u0130\u0307",
    "...",
    "\n\n",
    "x" * 40 + " " + "y" * 9 + ". Z",
]

# Characters the rules single out, mixed with letters of several scripts.
SPECIAL = list(
    ".!?\"'”’»)] \t\r\n\n\n\x0b\x0c\x85\xa0\u2003\u3000,;:-"
    "aZqÉéΣσςΑİıIiЖжЁё\u0301\u0306\u0307字😀1ǅß"
)
ALPHABET = st.one_of(
    st.sampled_from(SPECIAL),
    # Characters the reference's Unicode version (Python's unicodedata) knows; on newer
    # ones the two sides' tables may differ.
    st.characters(exclude_categories=("Cs", "Cn")),
)


def rust_tokens(texts, vocab, stop, **kwargs):
    series = texts if isinstance(texts, pl.Series) else pl.Series(texts, dtype=pl.String)
    return _core.Tokenizer(vocab, sorted(stop)).tokenize(series, **kwargs)


def check(texts: list[str | None], stop: frozenset[str]) -> None:
    """Identical ids, offsets, boundaries and unknown counts with a vocabulary holding
    every other word (so unknown words hand their boundaries on), and the same counted
    vocabulary."""
    counts = ref.word_counts(texts, stop)
    words = ref.vocabulary(counts, 1, float("inf"))
    vocab = [*words[::2], "neverseen"]
    index = {w: i for i, w in enumerate(vocab)}
    expected = ref.tokenize(texts, index, stop)
    got = rust_tokens(texts, vocab, stop)
    for e, g, what in zip(expected, got, ("ids", "offsets", "boundaries", "unknown")):
        np.testing.assert_array_equal(g, e, err_msg=f"{what} of {texts!r}")
    counter = _core.WordCounter(sorted(stop))
    counter.update(pl.Series(texts, dtype=pl.String))
    assert counter.most_frequent(1, float("inf")) == words
    assert counter.n_words == sum(c for c, _ in counts.values())


def test_edge_cases_match_the_reference():
    check(EDGE_CASES, frozenset())
    check(EDGE_CASES, stopwords("en") | {"σας", "и\u0306"})
    for text in EDGE_CASES:
        check([text], frozenset({"a", "the"}))


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.text(ALPHABET, max_size=60), min_size=1, max_size=6),
    stop=st.sets(st.sampled_from(["a", "b", "the", "ж", "σας"]), max_size=3),
)
def test_random_unicode_matches_the_reference(texts, stop):
    check(texts, frozenset(stop))


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["Word", "ΣΟΦΟΣ", "й", "x", ".", "!", "?", '."', ".\n\n", "\n \n", " ", "\r\n"]
        ),
        max_size=40,
    )
)
def test_random_arrangements_of_markers_match_the_reference(words):
    check(["".join(words), " ".join(words)], frozenset({"x"}))


def test_every_arrow_string_layout_and_nulls():
    texts = ["The cat. Dog!", None, "", "a much longer text than twelve bytes. cat cat", "dog"]
    stop = frozenset({"the"})
    vocab = ["cat", "dog", "much"]
    expected = ref.tokenize(texts, {w: i for i, w in enumerate(vocab)}, stop)
    for arrow_type in (pa.string(), pa.large_string(), pa.string_view()):
        arr = pa.array(texts, type=arrow_type)
        chunked = pa.chunked_array([arr.slice(0, 2), arr.slice(2)])
        for data in (arr, chunked, arr.slice(0)):
            got = rust_tokens(data, vocab, stop)
            for e, g in zip(expected, got):
                np.testing.assert_array_equal(g, e, err_msg=str(arrow_type))
    sliced = pa.array(texts, type=pa.string_view()).slice(1, 3)
    got = rust_tokens(sliced, vocab, stop)
    np.testing.assert_array_equal(got[1], [0, 0, 0, 3])
    for nulls in (pl.Series([None, None], dtype=pl.String), pa.nulls(2)):
        np.testing.assert_array_equal(rust_tokens(nulls, vocab, stop)[1], [0, 0, 0])
    corpus = attartm.Corpus.from_polars(
        pl.DataFrame({"text": [None, None]}), vocabulary=vocab, allow_empty=True
    )
    assert corpus.n_documents == 2 and corpus.n_tokens == 0


def test_bad_inputs_raise_clear_errors():
    tokenizer = _core.Tokenizer(["a"], [])
    with pytest.raises(TypeError, match="must hold strings"):
        tokenizer.tokenize(pl.Series([1, 2]))
    with pytest.raises(TypeError, match="polars Series of strings"):
        tokenizer.tokenize(["a", "b"])
    with pytest.raises(ValueError, match="occurs more than once"):
        _core.Tokenizer(["a", "b", "a"], [])
    with pytest.raises(ValueError, match="threads"):
        tokenizer.tokenize(pl.Series(["a"]), threads=0)
    invalid = pa.Array.from_buffers(
        pa.binary(), 1, [None, pa.py_buffer(np.array([0, 2], np.int32)), pa.py_buffer(b"a\xff")]
    ).view(pa.string())
    with pytest.raises(ValueError, match="text 0 is not valid UTF-8"):
        tokenizer.tokenize(invalid)


def test_results_do_not_depend_on_the_thread_count():
    texts = pl.Series(
        [f"Word{i % 97} alpha. Beta {'x ' * (i % 300)}!\n\nGamma" for i in range(4000)]
    )
    vocab = ["alpha", "beta", "gamma", "x"]
    one = rust_tokens(texts, vocab, frozenset(), threads=1)
    three = rust_tokens(texts, vocab, frozenset(), threads=3)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)


def test_reference_rules_on_unicode_versions():
    # The reference's letter class is Python's; guard that it is the general category.
    assert unicodedata.category("ǅ") == "Lt" and ref.pieces("ǅx") == [("ǆx", 0)]


# --- every shared corpus ----------------------------------------------------------------

# The Wikipedia parts take minutes each against the plain-Python reference: by default a
# fixed sample of their articles is checked; ATTARTM_FULL_CORPORA=1 checks them whole.
FULL_CORPORA = os.environ.get("ATTARTM_FULL_CORPORA", "") not in ("", "0")
SAMPLED = 1500

CORPORA = [
    ("20newsgroups/train.parquet", "text", "en"),
    ("20newsgroups/test.parquet", "text", "en"),
    ("reuters21578.parquet", "body", "en"),
    ("ruslit.parquet", "text", "ru"),
    *((f"enwiki_sample/part-{i}.parquet", "text", "en") for i in range(4)),
]


@pytest.mark.parametrize(("path", "column", "language"), CORPORA, ids=[c[0] for c in CORPORA])
def test_shared_corpus_matches_the_reference(path, column, language):
    """Identical vocabulary, ids, offsets and boundaries to the reference on a real
    corpus (a sample of each Wikipedia part unless ATTARTM_FULL_CORPORA=1): once with
    every word kept, once with a 5,000-word vocabulary (unknown words
    dropped, their boundaries handed on, their counts per document)."""
    frame = pl.read_parquet(require_data(*path.split("/")), columns=[column])
    if path.startswith("enwiki_sample/") and not FULL_CORPORA:
        rows = np.random.default_rng(0).choice(frame.height, SAMPLED, replace=False)
        frame = frame[np.sort(rows)]
    texts = frame.get_column(column)
    stop = stopwords(language)
    words, first_ids, levels, offsets, counts, docs = ref.analyze(texts.to_list(), stop)

    # The reference vocabulary: count descending, then code point order.
    order = sorted(range(len(words)), key=lambda i: (-counts[i], words[i]))
    rank = np.empty(len(order), dtype=np.uint32)
    rank[order] = np.arange(len(order), dtype=np.uint32)
    ids = rank[first_ids]

    corpus = attartm.Corpus.from_polars(frame, text=column, language=language)
    assert corpus.vocabulary.words == [words[i] for i in order]
    np.testing.assert_array_equal(corpus.doc_offsets, offsets)
    np.testing.assert_array_equal(corpus.token_ids, ids)
    np.testing.assert_array_equal(corpus.boundaries, levels)

    # A smaller vocabulary: a kept token's level is the largest level since the previous
    # kept token of its document, 0 for the first kept token of a document.
    small = attartm.Vocabulary(corpus.vocabulary.words[:5000])
    kept = np.flatnonzero(ids < 5000)
    doc_of = np.searchsorted(offsets, np.arange(len(ids)), side="right") - 1
    starts = np.concatenate([[0], kept[:-1] + 1]) if len(kept) else kept
    small_levels = np.maximum.reduceat(levels, starts)[: len(kept)] if len(kept) else levels[:0]
    first_in_doc = np.ones(len(kept), dtype=bool)
    first_in_doc[1:] = doc_of[kept][1:] != doc_of[kept][:-1]
    small_levels = np.where(first_in_doc, 0, small_levels)
    got = attartm.Corpus.from_polars(
        frame, text=column, language=language, vocabulary=small, allow_empty=True
    )
    np.testing.assert_array_equal(got.token_ids, ids[kept])
    np.testing.assert_array_equal(got.boundaries, small_levels)
    np.testing.assert_array_equal(
        got.doc_offsets, np.searchsorted(kept, offsets, side="left").astype(np.int64)
    )
    dropped = np.bincount(doc_of[ids >= 5000], minlength=len(texts))
    np.testing.assert_array_equal(got._dropped, dropped)
    assert docs.sum() >= len(words)


# --- the polars expression namespace ----------------------------------------------------


@pytest.fixture(scope="module")
def fitted() -> tuple[attartm.ARTM, list[str]]:
    texts = [
        "The goal of the match. The team won the league!",
        "Bake the flour and sugar. Salt the sauce.",
        "The compiler and the kernel. Debug the server code.",
    ] * 10
    model = attartm.ARTM(3, seed=0)
    model.fit(attartm.Corpus.from_texts(texts), epochs=5)
    return model, texts


def test_token_ids_expression_eager_lazy_streaming(fitted):
    model, texts = fitted
    vocab = model.vocabulary
    frame = pl.DataFrame({"text": [*texts[:3], None, "", "unknown words only"]})
    corpus = attartm.Corpus._from_text_series(
        frame["text"], None, vocabulary=vocab, allow_empty=True
    )
    expected = [
        corpus.token_ids[corpus.doc_offsets[d] : corpus.doc_offsets[d + 1]].tolist()
        for d in range(frame.height)
    ]
    expected[3] = None
    expr = pl.col("text").artm.token_ids(vocab)
    eager = frame.with_columns(ids=expr)
    assert eager.schema["ids"] == pl.List(pl.UInt32)
    assert eager["ids"].to_list() == expected
    lazy = frame.lazy().with_columns(ids=expr)
    assert lazy.collect()["ids"].to_list() == expected
    assert lazy.collect(engine="streaming")["ids"].to_list() == expected
    # Inside a larger query: filter, then tokenize, then explode.
    exploded = (
        frame.lazy()
        .filter(pl.col("text").str.len_chars() > 0)
        .select(pl.col("text").artm.token_ids(vocab.words, stopwords=False).alias("ids"))
        .explode("ids")
        .collect(engine="streaming")
    )
    assert exploded["ids"].dtype == pl.UInt32


def test_topics_expression_matches_transform(fitted):
    model, texts = fitted
    frame = pl.DataFrame({"text": [*texts[:3], None, "zzz"]})
    theta = frame.lazy().select(pl.col("text").artm.topics(model)).collect(engine="streaming")
    assert theta.schema["text"] == pl.Array(pl.Float32, 3)
    corpus = attartm.Corpus.from_texts(
        [t or "" for t in frame["text"]], vocabulary=model.vocabulary, allow_empty=True
    )
    expected = model.transform(corpus).drop("id").to_numpy()
    got = theta["text"]
    assert got[3] is None
    rows = [0, 1, 2, 4]
    np.testing.assert_allclose(np.stack([got[i].to_numpy() for i in rows]), expected[rows])
    assert theta.height == frame.height
    eager = frame.with_columns(theta=pl.col("text").artm.topics(model))["theta"]
    np.testing.assert_allclose(eager[0].to_numpy(), expected[0])
