"""Tests of tokenization, Vocabulary and Corpus."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attartm._tokenize import stopwords
from attartm.corpus import Corpus
from attartm.vocabulary import Vocabulary

from .conftest import DATA

NEWSGROUPS_TRAIN = DATA / "20newsgroups" / "train.parquet"
DEMO = Path(__file__).parents[1] / "python" / "attartm" / "data" / "demo.parquet"


def tokens_of(corpus: Corpus, doc: int = 0) -> list[tuple[str, int]]:
    """(word, boundary) pairs of one document."""
    lo, hi = corpus.doc_offsets[doc], corpus.doc_offsets[doc + 1]
    words = [corpus.vocabulary[int(t)] for t in corpus.token_ids[lo:hi]]
    return list(zip(words, corpus.boundaries[lo:hi].tolist(), strict=True))


# --- tokenization ---------------------------------------------------------------------


def test_tokens_and_boundary_levels_of_a_small_text():
    text = "The Cat sat. A dog ran!\n\nBirds fly? Yes, they do.\n  \nThe end"
    corpus = Corpus.from_texts([text])
    assert tokens_of(corpus) == [
        ("cat", 0),  # first token of the document: level 0
        ("sat", 0),
        ("dog", 1),  # "a" is a stopword: it hands its sentence start on to "dog"
        ("ran", 0),
        ("birds", 2),  # paragraph break (a blank line)
        ("fly", 0),
        ("yes", 1),
        ("end", 2),  # blank line with spaces; "the" hands the paragraph start on
    ]


def test_paragraph_wins_over_sentence_and_boundaries_stay_in_their_document():
    corpus = Corpus.from_texts(["alpha beta.\n\nThe gamma!", "delta epsilon"])
    assert tokens_of(corpus, 0) == [("alpha", 0), ("beta", 0), ("gamma", 2)]
    # The "!" ending document 0 must not leak into document 1.
    assert tokens_of(corpus, 1) == [("delta", 0), ("epsilon", 0)]


def test_sentence_end_needs_whitespace_after_it():
    text = 'Version 3.14 works. Mail x@cs.cmu.edu now! He said "stop." Then left'
    corpus = Corpus.from_texts([text], stopwords=False)
    assert tokens_of(corpus) == [
        ("version", 0),
        ("works", 0),  # "3.14" is not a sentence end
        ("mail", 1),
        ("x", 0),
        ("cs", 0),
        ("cmu", 0),
        ("edu", 0),
        ("now", 0),
        ("he", 1),
        ("said", 0),
        ("stop", 0),
        ("then", 1),  # '."' followed by a space ends the sentence
        ("left", 0),
    ]


def test_stopword_options():
    text = ["The Quick brown fox and the lazy dog"]
    assert [w for w, _ in tokens_of(Corpus.from_texts(text))] == [
        "quick",
        "brown",
        "fox",
        "lazy",
        "dog",
    ]
    assert len(Corpus.from_texts(text, stopwords=False).token_ids) == 8
    # Custom stopwords are lowercased, since tokens are.
    custom = Corpus.from_texts(text, stopwords=["QUICK", "Lazy"])
    assert [w for w, _ in tokens_of(custom)] == ["the", "brown", "fox", "and", "the", "dog"]


def test_russian_text_and_stopwords():
    text = "Мой дядя самых честных правил, когда не в шутку занемог. Он уважать себя заставил!"
    corpus = Corpus.from_texts([text], language="ru")
    assert tokens_of(corpus) == [
        ("дядя", 0),
        ("самых", 0),
        ("честных", 0),
        ("правил", 0),
        ("шутку", 0),
        ("занемог", 0),
        ("уважать", 1),  # "он" is a stopword and hands on the sentence start
        ("заставил", 0),
    ]
    # Combining marks stay inside words: "й" written as "и" + U+0306.
    assert Corpus.from_texts(["и\u0306од"], language="ru").vocabulary.words == ["и\u0306од"]


def test_builtin_stopword_lists():
    en, ru = stopwords("en"), stopwords("ru")
    assert 180 <= len(en) <= 320 and 150 <= len(ru) <= 400
    assert {"the", "and", "of", "not", "would"} <= en
    assert {"и", "в", "не", "что", "который"} <= ru
    assert "god" not in en and "space" not in en
    assert all(w == w.lower() and w.isalpha() for w in en | ru)
    with pytest.raises(ValueError, match="supported languages: en, ru"):
        stopwords("de")
    with pytest.raises(ValueError, match="supported languages: en, ru"):
        Corpus.from_texts(["Der Hund"], language="de")
    assert Corpus.from_texts(["Der Hund"], language="de", stopwords=False).n_tokens == 2


# Separators between generated words, with the boundary level each one implies.
SEPARATORS = {
    " ": 0,
    ", ": 0,
    ".": 0,
    ". ": 1,
    "! ": 1,
    "?\n": 1,
    "\n\n": 2,
    ".\n\n": 2,
    ". \n \n": 2,
}
WORDS = ["the", "a", "cat", "dog", "sun", "is"]


@settings(max_examples=150, deadline=None)
@given(
    docs=st.lists(
        st.lists(
            st.tuples(st.sampled_from(WORDS), st.sampled_from(sorted(SEPARATORS))), max_size=12
        ),
        min_size=1,
        max_size=5,
    )
)
def test_boundaries_match_a_reference_implementation(docs):
    texts = ["".join(w + s for w, s in doc) for doc in docs]
    if not any(w not in stopwords("en") for doc in docs for w, _ in doc):
        with pytest.raises(ValueError, match="no tokens left"):
            Corpus.from_texts(texts)
        return
    corpus = Corpus.from_texts(texts)
    for d, doc in enumerate(docs):
        expected, level, first = [], 0, True
        for word, sep in doc:
            if word not in stopwords("en"):
                expected.append((word, 0 if first else level))
                level, first = 0, False
            level = max(level, SEPARATORS[sep])
        assert tokens_of(corpus, d) == expected


# --- vocabulary -----------------------------------------------------------------------


def test_vocabulary_protocol():
    vocab = Vocabulary(["space", "god", "car"])
    assert len(vocab) == 3 and vocab[1] == "god" and list(vocab) == ["space", "god", "car"]
    assert "car" in vocab and "bike" not in vocab
    assert vocab.index("car") == 2 and vocab.words == ["space", "god", "car"]
    with pytest.raises(KeyError, match="'bike' is not in the vocabulary"):
        vocab.index("bike")
    with pytest.raises(ValueError, match="'god' occurs more than once"):
        Vocabulary(["god", "space", "god"])
    with pytest.raises(TypeError, match="word 1 is int"):
        Vocabulary(["god", 3])
    assert vocab == Vocabulary(["space", "god", "car"]) and vocab != Vocabulary(["god"])
    assert hash(vocab) == hash(Vocabulary(["space", "god", "car"]))
    assert repr(vocab) == "Vocabulary(3 words: ['space', 'god', 'car'])"
    series = vocab.to_polars()
    assert series.name == "word" and series.to_list() == ["space", "god", "car"]
    codes = pl.Series(["car", "bike", "space"]).cast(vocab._enum_dtype(), strict=False)
    assert codes.to_physical().cast(pl.UInt32).to_list() == [2, None, 0]


def test_vocabulary_order_is_by_frequency_then_alphabetical():
    corpus = Corpus.from_texts(["pear apple kiwi apple", "kiwi fig apple", "banana"])
    assert corpus.vocabulary.words == ["apple", "kiwi", "banana", "fig", "pear"]
    assert Vocabulary.from_counts({"b": 2, "c": 5, "a": 2}).words == ["c", "a", "b"]
    assert Vocabulary.from_tokens(["y", "x", "y"]).words == ["y", "x"]


def test_min_df_max_df_max_vocab():
    texts = [
        "common rare pair",
        "common pair pair",
        "common mid",
        "common mid",
        "common mid solo",
    ]
    build = lambda **kw: set(Corpus.from_texts(texts, **kw).vocabulary)  # noqa: E731
    everything = {"common", "rare", "pair", "mid", "solo"}
    assert build() == everything
    assert build(min_df=2) == {"common", "pair", "mid"}
    assert build(min_df=0.5) == {"common", "mid"}  # at least 2.5 documents
    assert build(max_df=4) == everything - {"common"}
    assert build(max_df=0.6) == everything - {"common"}  # at most 3 documents
    assert build(min_df=2, max_df=3) == {"pair", "mid"}
    # max_vocab keeps the most frequent words (common 5, pair 3, mid 3: mid < pair).
    assert Corpus.from_texts(texts, max_vocab=2).vocabulary.words == ["common", "mid"]
    corpus = Corpus.from_texts(texts, min_df=3)
    # Documents that lose every token are kept, with equal offsets.
    assert corpus.n_documents == 5
    assert corpus.document_lengths.tolist() == [1, 1, 2, 2, 2]


def test_given_vocabulary_maps_unknown_words_out_and_keeps_ids_stable():
    train = Corpus.from_texts(["red green blue", "green blue", "blue"])
    assert train.vocabulary.words == ["blue", "green", "red"] and train.dropped == 0
    a = Corpus.from_texts(["green cyan. The red", "magenta"], vocabulary=train.vocabulary)
    assert a.vocabulary == train.vocabulary
    assert tokens_of(a, 0) == [("green", 0), ("red", 1)]  # "cyan" dropped, "the" a stopword
    assert a.document_lengths.tolist() == [2, 0]
    assert a.dropped == 2  # cyan, magenta; stopwords are not counted
    b = Corpus.from_texts(["blue red yellow"], vocabulary=["blue", "green", "red"])
    assert b.token_ids.tolist() == [0, 2] and b.dropped == 1
    # The same word has the same id in both corpora.
    pairs = pl.concat([a.to_polars(), b.to_polars()]).select("token", "token_id").unique()
    assert all(train.vocabulary.index(w) == i for w, i in pairs.iter_rows())
    # min_df etc. are ignored with a given vocabulary.
    assert Corpus.from_texts(["red"], vocabulary=train.vocabulary, min_df=5).n_tokens == 1
    with pytest.raises(ValueError, match=r"none of the words .* given vocabulary of 3 words"):
        Corpus.from_texts(["purple"], vocabulary=train.vocabulary)


def test_dropped_follows_subsets():
    vocab = Vocabulary(["alpha", "beta"])
    corpus = Corpus.from_texts(["alpha xx yy", "beta zz", "alpha"], vocabulary=vocab)
    assert corpus.dropped == 3
    assert corpus.select([1, 2]).dropped == 1
    assert [batch.dropped for batch in corpus.batches(2)] == [3, 0]


# --- arrays and from_token_ids --------------------------------------------------------


def test_arrays_and_repr():
    corpus = Corpus.from_texts(["one two. three", "", "two two"], ids=["x", "y", "z"])
    assert corpus.token_ids.dtype == np.uint32 and not corpus.token_ids.flags.writeable
    assert corpus.boundaries.dtype == np.uint8 and corpus.boundaries.tolist() == [0, 0, 1, 0, 0]
    assert corpus.doc_offsets.dtype == np.int64
    assert corpus.doc_offsets.tolist() == [0, 3, 3, 5]
    assert corpus.document_lengths.tolist() == [3, 0, 2]
    assert corpus.ids.to_list() == ["x", "y", "z"] and len(corpus) == 3
    assert corpus.tokens.schema == pl.Schema(
        {"doc": pl.UInt32, "token": pl.UInt32, "boundary": pl.UInt8}
    )
    assert repr(corpus) == "Corpus(3 documents, 5 tokens, vocabulary of 3 words)"
    assert Corpus.from_texts(["a b", "c"], stopwords=False).ids.to_list() == [0, 1]
    # Corpora travel to worker processes (Ray) by pickle.
    copy = pickle.loads(pickle.dumps(corpus))
    assert copy.vocabulary == corpus.vocabulary and copy.ids.to_list() == ["x", "y", "z"]
    assert copy.token_ids.tolist() == corpus.token_ids.tolist()


@settings(max_examples=100, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 6), min_size=1, max_size=8),
    vocab_size=st.integers(1, 10),
    data=st.data(),
)
def test_from_token_ids_round_trip(lengths, vocab_size, data):
    n = sum(lengths)
    tokens = data.draw(st.lists(st.integers(0, vocab_size - 1), min_size=n, max_size=n))
    levels = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    vocab = Vocabulary([f"w{i}" for i in range(vocab_size)])
    corpus = Corpus.from_token_ids(
        np.array(tokens, dtype=np.int64), offsets, vocab, boundaries=levels
    )
    assert corpus.token_ids.tolist() == tokens
    assert corpus.boundaries.tolist() == levels
    assert corpus.doc_offsets.tolist() == offsets.tolist()
    again = Corpus.from_token_ids(
        pl.Series(corpus.token_ids), corpus.doc_offsets, corpus.vocabulary.words, ids=corpus.ids
    )
    assert again.token_ids.tolist() == tokens and again.n_documents == len(lengths)
    assert again.boundaries.tolist() == [0] * n


def test_from_token_ids_errors():
    vocab = Vocabulary(["a", "b", "c"])
    with pytest.raises(
        ValueError, match=r"non-decreasing: doc_offsets\[1\]=3 > doc_offsets\[2\]=2"
    ):
        Corpus.from_token_ids([0, 1, 2], [0, 3, 2, 3], vocab)
    with pytest.raises(ValueError, match=r"token id 7 at position 1 .* vocabulary of 3 words"):
        Corpus.from_token_ids([0, 7, 2], [0, 3], vocab)
    with pytest.raises(ValueError, match=r"end at len\(tokens\)=3, got doc_offsets\[-1\]=2"):
        Corpus.from_token_ids([0, 1, 2], [0, 2], vocab)
    with pytest.raises(ValueError, match="must start at 0"):
        Corpus.from_token_ids([0, 1, 2], [1, 3], vocab)
    with pytest.raises(ValueError, match="at least one"):
        Corpus.from_token_ids([], [0], vocab)
    with pytest.raises(TypeError, match="must hold integers"):
        Corpus.from_token_ids([0.5, 1.0], [0, 2], vocab)
    with pytest.raises(ValueError, match="one level per token"):
        Corpus.from_token_ids([0, 1], [0, 2], vocab, boundaries=[0])


# --- subsets --------------------------------------------------------------------------


@pytest.fixture
def numbered() -> Corpus:
    words = [f"w{i}" for i in range(10)]
    texts = [" ".join(words[: i % 7]) for i in range(23)]
    return Corpus.from_texts(texts, ids=[f"d{i}" for i in range(23)], stopwords=False)


def test_split(numbered):
    train, test = numbered.split(test_size=0.2, seed=3)
    assert (train.n_documents, test.n_documents) == (18, 5)
    train_ids, test_ids = set(train.ids.to_list()), set(test.ids.to_list())
    assert not train_ids & test_ids and train_ids | test_ids == set(numbered.ids.to_list())
    assert train.vocabulary is numbered.vocabulary is test.vocabulary
    assert train.n_tokens + test.n_tokens == numbered.n_tokens
    again = numbered.split(test_size=0.2, seed=3)[1]
    assert again.ids.to_list() == test.ids.to_list()
    assert numbered.split(test_size=0.2, seed=4)[1].ids.to_list() != test.ids.to_list()
    assert numbered.split(test_size=7)[1].n_documents == 7
    with pytest.raises(ValueError, match="proportion in"):
        numbered.split(test_size=1.5)
    with pytest.raises(ValueError, match="both parts need"):
        numbered.split(test_size=23)


def test_select(numbered):
    sub = numbered.select([5, 0, 5, -1])
    assert sub.ids.to_list() == ["d5", "d0", "d5", "d22"]
    for new, old in enumerate([5, 0, 5, 22]):
        assert tokens_of(sub, new) == tokens_of(numbered, old)
    assert sub.doc_offsets.tolist() == [0, 5, 5, 10, 11]
    mask = np.arange(23) % 2 == 1
    assert numbered.select(mask).ids.to_list() == [f"d{i}" for i in range(1, 23, 2)]
    with pytest.raises(IndexError, match="out of range for a corpus of 23"):
        numbered.select([23])


def test_batches_cover_all_documents(numbered):
    batches = list(numbered.batches(5))
    assert [b.n_documents for b in batches] == [5, 5, 5, 5, 3]
    assert pl.concat([b.ids for b in batches]).to_list() == numbered.ids.to_list()
    assert np.concatenate([b.token_ids for b in batches]).tolist() == numbered.token_ids.tolist()
    assert all(b.doc_offsets[0] == 0 and b.tokens["doc"].max() < 5 for b in batches)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        next(numbered.batches(0))


def test_bag_of_words_matches_counter():
    texts = ["apple banana apple. cherry", "banana banana", "", "cherry apple date"]
    corpus = Corpus.from_texts(texts, ids=[10, 20, 30, 40])
    bow = corpus.bag_of_words()
    assert bow.columns == ["id", "token_id", "token", "count"]
    expected = Counter(corpus.to_polars().select("id", "token").iter_rows())
    assert {(i, t): c for i, _, t, c in bow.iter_rows()} == dict(expected)
    assert bow.select("id", "token_id").rows() == sorted(bow.select("id", "token_id").rows())
    long = corpus.to_polars()
    assert long.columns == ["id", "position", "token", "token_id", "boundary"]
    assert long.filter(pl.col("id") == 40)["position"].to_list() == [0, 1, 2]


# --- inputs and errors ----------------------------------------------------------------


def test_from_polars_and_from_parquet(tmp_path):
    df = pl.DataFrame({"key": ["a", "b", "c"], "body": ["space shuttle", "god", None]})
    corpus = Corpus.from_polars(df, text="body", id="key")
    assert corpus.ids.to_list() == ["a", "b", "c"] and corpus.document_lengths.tolist() == [2, 1, 0]
    lazy = Corpus.from_polars(df.lazy(), text="body")
    assert lazy.token_ids.tolist() == corpus.token_ids.tolist()
    df.head(2).write_parquet(tmp_path / "part-0.parquet")
    df.tail(1).write_parquet(tmp_path / "part-1.parquet")
    from_files = Corpus.from_parquet(tmp_path / "part-*.parquet", text="body", id="key")
    assert from_files.ids.to_list() == ["a", "b", "c"]
    assert from_files.token_ids.tolist() == corpus.token_ids.tolist()
    single = Corpus.from_parquet(str(tmp_path / "part-0.parquet"), text="body")
    assert single.n_documents == 2
    with pytest.raises(FileNotFoundError, match="no parquet file matches"):
        Corpus.from_parquet(tmp_path / "nothing-*.parquet")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Corpus.from_parquet(tmp_path / "missing.parquet")


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: Corpus.from_texts([]), ValueError, "no documents"),
        (
            lambda: Corpus.from_polars(pl.DataFrame({"text": []}, schema={"text": pl.String})),
            ValueError,
            "no documents",
        ),
        (
            lambda: Corpus.from_texts(["the and of", ""]),
            ValueError,
            r"no tokens left after tokenization and filtering \(min_df=1, max_df=1.0.*lower min_df",
        ),
        (
            lambda: Corpus.from_texts(["a b", "c d"], stopwords=False, min_df=2),
            ValueError,
            "no tokens left.*min_df=2",
        ),
        (lambda: Corpus.from_texts(["ok", 3]), TypeError, r"texts\[1\] is int"),
        (lambda: Corpus.from_texts(["ok", None]), TypeError, r"texts\[1\] is NoneType"),
        (lambda: Corpus.from_texts("just one string"), TypeError, "not a single str"),
        (
            lambda: Corpus.from_polars(pl.DataFrame({"text": [1, 2]})),
            TypeError,
            "has dtype Int64, expected String",
        ),
        (
            lambda: Corpus.from_polars(pl.DataFrame({"body": ["x"], "n": [1]})),
            ValueError,
            r"text column 'text' not found; available columns: \['body', 'n'\]",
        ),
        (
            lambda: Corpus.from_polars(pl.DataFrame({"text": ["x"]}), id="key"),
            ValueError,
            "id column 'key' not found",
        ),
        (lambda: Corpus.from_texts(["x"], min_df=-1), ValueError, "min_df=-1 is negative"),
        (lambda: Corpus.from_texts(["x"], min_df=1.5), ValueError, "proportion of documents"),
        (
            lambda: Corpus.from_texts(["x"], min_df=0.5, max_df=0.2),
            ValueError,
            "max_df=0.2 is smaller than min_df=0.5",
        ),
        (
            lambda: Corpus.from_texts(["x"] * 10, min_df=5, max_df=0.3),
            ValueError,
            r"max_df=0.3 corresponds to fewer documents \(3\) than min_df=5",
        ),
        (lambda: Corpus.from_texts(["x"], max_df=0), ValueError, "would remove every word"),
        (lambda: Corpus.from_texts(["x"], min_df=True), TypeError, "min_df must be an int"),
        (lambda: Corpus.from_texts(["x"], max_vocab=0), ValueError, "max_vocab=0 must be >= 1"),
        (lambda: Corpus.from_texts(["x"], stopwords="en"), TypeError, "not a str"),
        (lambda: Corpus.from_texts(["x", "y"], ids=[1]), ValueError, "got 1 ids for 2 texts"),
        (lambda: Corpus.from_polars({"text": ["x"]}), TypeError, "polars DataFrame"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- real corpora ---------------------------------------------------------------------


def test_20newsgroups_train():
    if not NEWSGROUPS_TRAIN.exists():
        pytest.skip(f"shared data not found at {NEWSGROUPS_TRAIN.resolve()}")
    corpus = Corpus.from_parquet(NEWSGROUPS_TRAIN, id="id", min_df=5, max_df=0.5)
    assert corpus.n_documents == 11_314
    assert 1_000_000 < corpus.n_tokens < 3_000_000
    assert 10_000 < len(corpus.vocabulary) < 40_000
    for word in ("god", "space", "windows", "car", "hockey", "encryption"):
        assert word in corpus.vocabulary
    assert not {"the", "and", "of"} & set(corpus.vocabulary)
    levels = np.bincount(corpus.boundaries, minlength=3) / corpus.n_tokens
    assert 0.03 < levels[1] < 0.3 and 0.01 < levels[2] < 0.2
    assert (corpus.boundaries[corpus.doc_offsets[:-1][corpus.document_lengths > 0]] == 0).all()
    # The first post: "...Cambridge. UK.\nSupersedes: ...\nLines: 290\n\nArchive-name: ..."
    first = tokens_of(corpus, 0)
    assert ("supersedes", 1) in first[:45] and ("archive", 2) in first[:45]


def test_demo_corpus():
    if not DEMO.exists():
        pytest.skip(f"demo corpus not built at {DEMO}; run tools/make_demo_corpus.py")
    demo = pl.read_parquet(DEMO)
    assert demo.columns == ["id", "title", "url", "text"] and demo.height == 2000
    corpus = Corpus.from_polars(demo, id="id", min_df=3)
    assert {"war", "language", "city", "music"} <= set(corpus.vocabulary)
    assert (corpus.boundaries == 2).sum() > 1000  # paragraphs are separated by blank lines
    assert DEMO.stat().st_size < 3_000_000
