"""A plain-Python reference of the tokenization rules, slow and obvious on purpose: the
Rust tokenizer (rust/core/src/tokenize) must give the same ids, offsets and boundaries.

The rules, on the lowercased text (Unicode full lowercase with the Final_Sigma rule, as
``str.lower`` does), scanned left to right with leftmost-first alternatives:

- a word is a letter followed by letters and combining marks: ``\\p{L}[\\p{L}\\p{M}]*``;
- a sentence end is a run of ``.!?``, then optional closing quotes or brackets
  ``"'”’»)]``, then a paragraph break, one whitespace character (Unicode White_Space) or
  the end of the text; it is a paragraph marker when a paragraph break follows it;
- a paragraph break is ``\\n[ \\t\\r]*\\n``;
- anything else is skipped.

Stopwords are dropped; with a vocabulary, unknown words are dropped and counted. A kept
word's boundary level is the largest marker kind (1 sentence, 2 paragraph) between the
previous kept word of its document and itself, and 0 for the first kept word of a
document: a dropped word hands its boundary on.

Character classes come from :mod:`unicodedata`, whose Unicode version may be older than
the Rust one's: on characters unassigned in Python's version the two may disagree.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from array import array
from collections.abc import Iterable, Mapping
from functools import cache

import numpy as np

# Unicode White_Space (what a Unicode-aware regex means by \s); str.isspace also counts
# U+001C..U+001F, which are not White_Space.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
CLOSERS = "\"'”’»)]"


def _char_class(wanted: Iterable[str]) -> str:
    """A regex character class of every code point whose general category starts with
    one of ``wanted`` (e.g. "L", "M")."""
    prefixes = tuple(wanted)
    ranges: list[tuple[int, int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)).startswith(prefixes):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    parts = (
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return "[" + "".join(parts) + "]"


@cache
def pattern() -> re.Pattern[str]:
    """The token pattern, one named group per piece kind."""
    para = r"\n[ \t\r]*\n"
    space = "[" + re.escape(WHITE_SPACE) + "]"
    closers = "[" + re.escape(CLOSERS) + "]"
    return re.compile(
        "(?P<word>" + _char_class("L") + _char_class("LM") + "*)"
        r"|(?P<end>[.!?]+" + closers + "*(?:(?P<endpara>" + para + ")|" + space + r"|\Z))"
        r"|(?P<para>" + para + ")"
    )


def pieces(text: str) -> list[tuple[str, int]]:
    """The (piece, kind) pairs of a text: kind 0 a word, 1 a sentence end, 2 a paragraph."""
    out = []
    for m in pattern().finditer(text.lower()):
        if m.group("word") is not None:
            out.append((m.group("word"), 0))
        elif m.group("end") is not None:
            out.append((m.group(), 2 if m.group("endpara") is not None else 1))
        else:
            out.append((m.group(), 2))
    return out


def words(text: str | None, stop: frozenset[str]) -> Iterable[tuple[str, int]]:
    """The words of a text that are not stopwords, each with the largest marker kind
    between the previous such word (or the start of the text) and itself."""
    level = 0
    for piece, kind in pieces(text or ""):
        if kind:
            level = max(level, kind)
        elif piece not in stop:
            yield piece, level
            level = 0


def tokenize(
    texts: Iterable[str | None],
    vocabulary: Mapping[str, int],
    stopwords: Iterable[str] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Token ids (uint32), doc offsets (int64, D+1), boundaries (uint8) and unknown words
    dropped per document (int64); None texts are empty documents."""
    stop = frozenset(stopwords)
    ids: list[int] = []
    bounds: list[int] = []
    offsets = [0]
    dropped = []
    for text in texts:
        level, first, unknown = 0, True, 0
        for word, since in words(text, stop):
            # A dropped word hands its level on: keep the largest since the last kept word.
            level = max(level, since)
            token = vocabulary.get(word)
            if token is None:
                unknown += 1
                continue
            ids.append(token)
            bounds.append(0 if first else level)
            first, level = False, 0
        offsets.append(len(ids))
        dropped.append(unknown)
    return (
        np.array(ids, dtype=np.uint32),
        np.array(offsets, dtype=np.int64),
        np.array(bounds, dtype=np.uint8),
        np.array(dropped, dtype=np.int64),
    )


def word_counts(
    texts: Iterable[str | None], stopwords: Iterable[str] = ()
) -> dict[str, tuple[int, int]]:
    """Word -> (occurrences, documents containing it), stopwords left out."""
    stop = frozenset(stopwords)
    counts: dict[str, list[int]] = {}
    for text in texts:
        seen = set()
        for piece, _ in words(text, stop):
            entry = counts.setdefault(piece, [0, 0])
            entry[0] += 1
            if piece not in seen:
                seen.add(piece)
                entry[1] += 1
    return {w: (c, d) for w, (c, d) in counts.items()}


def vocabulary(
    counts: Mapping[str, tuple[int, int]],
    lo: float,
    hi: float,
    max_vocab: int | None = None,
) -> list[str]:
    """Words with lo <= df <= hi, by count descending then code point order, at most
    max_vocab of them."""
    kept = [(-c, w) for w, (c, d) in counts.items() if lo <= d <= hi]
    kept.sort()
    words = [w for _, w in kept]
    return words if max_vocab is None else words[:max_vocab]


def analyze(
    texts: Iterable[str | None], stopwords: Iterable[str] = ()
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One pass over a corpus with every non-stopword kept, in a compact form for large
    corpora: the words in order of first occurrence; per token its word's number in that
    list (uint32) and its boundary level (uint8); the document offsets (int64); per word
    its occurrences and the documents holding it (int64)."""
    stop = frozenset(stopwords)
    number: dict[str, int] = {}
    counts: list[int] = []
    docs: list[int] = []
    last: list[int] = []
    ids = array("I")
    levels = bytearray()
    offsets = [0]
    for d, text in enumerate(texts):
        first = True
        for piece, level in words(text, stop):
            i = number.setdefault(piece, len(number))
            if i == len(counts):
                counts.append(0)
                docs.append(0)
                last.append(-1)
            counts[i] += 1
            if last[i] != d:
                last[i] = d
                docs[i] += 1
            ids.append(i)
            levels.append(0 if first else level)
            first = False
        offsets.append(len(ids))
    return (
        list(number),
        np.frombuffer(ids, dtype=np.uint32).copy(),
        np.frombuffer(levels, dtype=np.uint8).copy(),
        np.array(offsets, dtype=np.int64),
        np.array(counts, dtype=np.int64),
        np.array(docs, dtype=np.int64),
    )
