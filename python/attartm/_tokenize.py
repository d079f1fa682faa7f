"""Tokenization: the rules live in the Rust core (``rust/core/src/tokenize``), which reads
a text column's Arrow buffers in place and, in one parallel pass, lowercases, splits into
words and sentence/paragraph markers, drops stopwords, maps words to ids and writes token
ids, document offsets and boundary levels (or counts words for a vocabulary). This module
holds what surrounds that pass: stopword lists, and turning a polars column into what the
pass reads.

Boundary levels (one per kept token): ``KIND_WORD`` (0) none, ``KIND_SENTENCE`` (1) a
sentence end, ``KIND_PARAGRAPH`` (2) a paragraph break lies between the previous kept word
of the document and this one; a removed word hands its boundary on to the next kept word.
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
    "resolve_stopwords",
    "stopwords",
    "text_column",
]

KIND_WORD = 0
KIND_SENTENCE = 1
KIND_PARAGRAPH = 2

SUPPORTED_LANGUAGES = ("en", "ru")

TEXT_DTYPES = (pl.String, pl.Categorical, pl.Enum, pl.Null)


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


def text_column(texts: pl.Series) -> pl.Series:
    """The texts as a String Series the Rust pass reads in place (null: an empty text).

    Raises
    ------
    TypeError
        If the Series does not hold text.
    """
    if texts.dtype not in TEXT_DTYPES:
        raise TypeError(
            f"the text column {texts.name!r} has dtype {texts.dtype}, expected String; "
            f"cast it with pl.col({texts.name!r}).cast(pl.String) if that is intended"
        )
    return texts if texts.dtype == pl.String else texts.cast(pl.String)
