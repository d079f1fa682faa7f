"""Vectorized tokenization with polars expressions.

Text is lowercased and split by one regular expression into *pieces*: words (runs of
letters), sentence ends and paragraph breaks. Pieces are exploded into one long frame
(one row per piece, in document then position order) and classified by kind:

- ``KIND_WORD`` (0): a word;
- ``KIND_SENTENCE`` (1): a sentence end (``.``, ``!``, ``?``);
- ``KIND_PARAGRAPH`` (2): a paragraph break (a blank line).

After filtering words (stopwords, vocabulary), each kept word gets a boundary level, the
maximum kind of the markers between the previous kept word of its document and itself; so
a removed word hands its boundary on to the next kept word. Everything is a polars
expression: there is no Python loop over documents.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources

import polars as pl

__all__ = [
    "KIND_PARAGRAPH",
    "KIND_SENTENCE",
    "KIND_WORD",
    "SUPPORTED_LANGUAGES",
    "TOKEN_PATTERN",
    "boundary_levels",
    "pieces",
    "stopwords",
]

KIND_WORD = 0
KIND_SENTENCE = 1
KIND_PARAGRAPH = 2

SUPPORTED_LANGUAGES = ("en", "ru")

_PARAGRAPH = r"\n[ \t\r]*\n"
# A word starts with a letter and may contain combining marks, so decomposed letters
# (e.g. Russian "й" as "и" + U+0306) stay inside the word. A sentence end must be followed
# by whitespace or the end of the text (after optional closing quotes/brackets), so
# "3.14", "e.g", "cs.cmu.edu" do not count; when a paragraph break follows, the marker
# absorbs it, so the marker is then a paragraph marker.
TOKEN_PATTERN = (
    r"\p{L}[\p{L}\p{M}]*"
    r"|[.!?]+[\"'”’»)\]]*(?:" + _PARAGRAPH + r"|\s|$)"
    r"|" + _PARAGRAPH
)


@functools.cache
def stopwords(language: str) -> frozenset[str]:
    """Return the built-in stopword list of a language.

    Parameters
    ----------
    language : {"en", "ru"}
        The language code.

    Returns
    -------
    frozenset of str
        Lowercase stopwords.
    """
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"no built-in stopword list for language={language!r}; supported languages: "
            f"{', '.join(SUPPORTED_LANGUAGES)} (or pass stopwords=False or your own list)"
        )
    text = (
        resources.files("attartm")
        .joinpath("stopwords", f"{language}.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(w for w in (line.strip() for line in text.splitlines()) if w)


def resolve_stopwords(stopwords_: bool | Iterable[str] | None, language: str) -> frozenset[str]:
    """Turn the ``stopwords`` argument of the Corpus constructors into a set of words."""
    if stopwords_ is True:
        return stopwords(language)
    if stopwords_ is False or stopwords_ is None:
        return frozenset()
    if isinstance(stopwords_, str):
        raise TypeError(
            "stopwords must be True, False or an iterable of words, not a str; "
            "to use a built-in list pass stopwords=True and language="
            f"{stopwords_!r}"
        )
    words = list(stopwords_)
    for w in words:
        if not isinstance(w, str):
            raise TypeError(f"stopwords must be strings; got {type(w).__name__} {w!r}")
    # Tokens are lowercased, so a capitalized stopword would never match.
    return frozenset(w.lower() for w in words)


def pieces(texts: pl.Series) -> pl.LazyFrame:
    """Split texts into classified pieces.

    Parameters
    ----------
    texts : polars.Series
        A String Series; null texts are empty documents.

    Returns
    -------
    polars.LazyFrame
        Columns ``doc`` (UInt32, the index of the text), ``piece`` (String: the word, or the
        marker text) and ``kind`` (UInt8, ``KIND_*``), in document then position order.
    """
    piece = pl.col("piece")
    # Every letter sorts after "A" (bytewise), every marker starts with one of ".!?\n",
    # which sort before it: one comparison, much cheaper than slicing out the first char.
    is_marker = piece < "A"
    # A paragraph break ends with "\n" preceded by "\n" or blank space; a sentence end
    # that took a single newline as its whitespace ends with punctuation + "\n".
    is_paragraph = pl.any_horizontal(
        piece.str.ends_with(suffix) for suffix in ("\n\n", " \n", "\t\n", "\r\n")
    )
    return (
        pl.LazyFrame({"text": texts})
        .with_row_index("doc")
        .select(
            "doc",
            pl.col("text").str.to_lowercase().str.extract_all(TOKEN_PATTERN).alias("piece"),
        )
        .explode("piece")
        # Empty and null texts explode to one null row.
        .filter(piece.is_not_null())
        .with_columns(
            kind=pl.when(~is_marker)
            .then(pl.lit(KIND_WORD, pl.UInt8))
            .when(is_paragraph)
            .then(pl.lit(KIND_PARAGRAPH, pl.UInt8))
            .otherwise(pl.lit(KIND_SENTENCE, pl.UInt8))
        )
    )


def boundary_levels(frame: pl.LazyFrame, keep: pl.Expr) -> pl.LazyFrame:
    """Keep the rows selected by ``keep`` and give each a ``boundary`` level.

    Parameters
    ----------
    frame : polars.LazyFrame
        The output of :func:`pieces` (plus any columns), in document then position order.
    keep : polars.Expr
        A boolean expression, true on the word rows to keep (null counts as false).

    Returns
    -------
    polars.LazyFrame
        The kept rows, with a ``boundary`` column (UInt8): 2 if a paragraph break, else 1
        if a sentence end, lies between the previous kept word of the same document and
        this word; else 0. The first kept word of a document has level 0.
    """
    row = pl.col("_row")
    prev = row.shift(1)
    first_in_doc = (pl.col("doc") != pl.col("doc").shift(1)).fill_null(True)
    # Forward-filled row numbers of the last markers: linear scans, no group_by, so this
    # stays cheap on tens of millions of rows.
    return (
        frame.with_row_index("_row")
        .with_columns(
            _last_sentence=pl.when(pl.col("kind") >= KIND_SENTENCE).then(row).forward_fill(),
            _last_paragraph=pl.when(pl.col("kind") == KIND_PARAGRAPH).then(row).forward_fill(),
        )
        .filter(keep.fill_null(False))
        .with_columns(
            boundary=pl.when(first_in_doc)
            .then(pl.lit(0, pl.UInt8))
            .when(pl.col("_last_paragraph") > prev)
            .then(pl.lit(KIND_PARAGRAPH, pl.UInt8))
            .when(pl.col("_last_sentence") > prev)
            .then(pl.lit(KIND_SENTENCE, pl.UInt8))
            .otherwise(pl.lit(0, pl.UInt8))
        )
        .drop("_row", "_last_sentence", "_last_paragraph")
    )
