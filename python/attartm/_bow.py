"""Bag-of-words inputs: count matrices, gensim corpora and BigARTM's Vowpal Wabbit and UCI
files, as :class:`attartm.Corpus` classmethods.

A bag keeps how often each word occurs in a document, not where: the corpus repeats word
w of document d ``n_dw`` times, in word id order, and is marked ``word_order=False`` so
that AttentiveARTM, which reads word order, refuses it. Classic and Θ-less ARTM depend on
a document only through its counts n_dw (docs/mathematics.md), so they train on a bag as
on the text it came from.

The file readers treat their input as untrusted: they read one line at a time (a line may
be at most ``_MAX_LINE`` bytes), never allocate from a size a header claims, stop once the
tokens would exceed ``max_tokens``, and name the line of the first malformed entry.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from ._bags import bags_from_series, check_name
from ._documents import D
from ._token_ids import from_token_ids
from .vocabulary import Vocabulary, as_vocabulary

if TYPE_CHECKING:
    import scipy.sparse as sp

_MAX_LINE = 64 * 1024 * 1024  # bytes; a longer line is refused, not read whole
_MAX_TOKENS = 1_000_000_000  # default max_tokens of the file readers
_DEFAULT_CLASS = "@default_class"  # BigARTM's name of the text modality


def _sparse() -> Any:
    """scipy.sparse, imported when a bag is built from counts: importing it takes a tenth of
    a second, which every process that imports attartm (`attartm tag`, say) paid before."""
    import scipy.sparse

    return scipy.sparse


def count_matrix(matrix: Any) -> sp.csr_matrix:
    """A document-term matrix (scipy sparse or 2-D array) as CSR with whole, non-negative
    counts (duplicate entries summed)."""
    if not _sparse().issparse(matrix):
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(
                f"a document-term matrix must be two-dimensional, got shape {matrix.shape}"
            )
    matrix = _sparse().csr_matrix(matrix)
    matrix.sum_duplicates()
    data = matrix.data
    if data.dtype.kind not in "biuf":
        raise TypeError(f"the document-term matrix must hold numbers, not {data.dtype}")
    if data.size and (
        not np.isfinite(data).all() or (data < 0).any() or (data != np.round(data)).any()
    ):
        raise ValueError(
            "the document-term matrix must hold whole, non-negative word counts (e.g. from "
            "CountVectorizer), not weights such as TF-IDF"
        )
    return matrix


def from_bow(
    cls: type[D],
    matrix: Any,
    vocabulary: Vocabulary | Sequence[str],
    ids: Sequence[Any] | pl.Series | np.ndarray | None = None,
) -> D:
    """Build a bag-of-words corpus from a document-term count matrix.

    Parameters
    ----------
    matrix : scipy sparse matrix or 2-D array, shape (D, W)
        ``matrix[d, w]`` is how often word w occurs in document d (whole, non-negative
        counts, e.g. from scikit-learn's ``CountVectorizer``).
    vocabulary : Vocabulary or list of str
        The W words of the columns, in column order.
    ids : sequence, optional
        Document ids, one per row; default 0..D-1.

    Returns
    -------
    Corpus
        ``word_order`` is False: a document's tokens stand in column order. ARTM and
        ThetalessARTM train on it; AttentiveARTM refuses it.
    """
    counts = count_matrix(matrix)
    vocab = as_vocabulary(vocabulary)
    if counts.shape[1] != len(vocab):
        raise ValueError(
            f"the document-term matrix has {counts.shape[1]} columns but the vocabulary "
            f"has {len(vocab)} words; pass one word per column"
        )
    if counts.shape[0] == 0:
        raise ValueError("the document-term matrix has no rows; a corpus needs a document")
    n = counts.data.astype(np.int64)
    tokens = np.repeat(counts.indices.astype(np.uint32), n)
    # Row d's entries are indptr[d]:indptr[d+1], so its tokens start at the counts before.
    offsets = np.concatenate([[0], np.cumsum(n)])[counts.indptr]
    return from_token_ids(cls, tokens, offsets, vocab, ids=ids, word_order=False)


def from_gensim(cls: type[D], bow_corpus: Iterable[Iterable[Any]], dictionary: Any) -> D:
    """Build a bag-of-words corpus from gensim's bag-of-words corpus and its dictionary.

    Parameters
    ----------
    bow_corpus : iterable of lists of (word id, count)
        gensim's corpus format, e.g. ``[dictionary.doc2bow(doc) for doc in docs]`` or a
        streamed ``gensim.corpora.MmCorpus``; read once.
    dictionary : gensim.corpora.Dictionary
        Maps the word ids 0..W-1 to words (after ``filter_extremes`` gensim renumbers
        them so; call ``dictionary.compactify()`` if ids have gaps).

    Returns
    -------
    Corpus
        Token ids are gensim's word ids; ``word_order`` is False.
    """
    n_words = len(dictionary)
    try:
        words = [dictionary[i] for i in range(n_words)]
    except KeyError as exc:
        raise ValueError(
            f"the dictionary's word ids are not 0..{n_words - 1} (id {exc} is missing); "
            "call dictionary.compactify() first"
        ) from None
    rows, cols, vals = array("q"), array("q"), array("d")
    n_docs = 0
    for d, document in enumerate(bow_corpus):
        n_docs += 1
        for entry in document:
            try:
                word, count = entry
            except (TypeError, ValueError):
                raise ValueError(
                    f"document {d}: expected (word id, count) pairs, got {entry!r}"
                ) from None
            if not 0 <= int(word) < n_words:
                raise ValueError(
                    f"document {d}: word id {word} is not in the dictionary of {n_words} words"
                )
            rows.append(d)
            cols.append(int(word))
            vals.append(float(count))
    matrix = _sparse().csr_matrix(
        (np.frombuffer(vals), (np.frombuffer(rows, np.int64), np.frombuffer(cols, np.int64))),
        shape=(n_docs, n_words),
    )
    return from_bow(cls, matrix, words)


def from_vowpal_wabbit(
    cls: type[D],
    path: str | Path,
    *,
    modalities: Mapping[str, str] | None = None,
    max_tokens: int = _MAX_TOKENS,
) -> D:
    """Read a bag-of-words corpus in BigARTM's Vowpal Wabbit format.

    One document a line: ``doc_id word word:count ...``; a word without ``:count``
    counts once, counts are whole numbers. ``|name`` starts a section of the class (BigARTM's
    modality) ``name``. The text is the words before any section and those in
    ``|@default_class``; the classes that ``modalities`` names become modalities of the
    corpus, and the other sections are read and skipped. Blank lines are skipped.

    Parameters
    ----------
    path : str or Path
        The file.
    modalities : mapping, optional
        Modality name -> class name in the file, e.g. ``{"label": "@label"}``: each value
        of the class's sections (repeated ``count`` times) goes into the document's bag of
        that modality, which gets a vocabulary of its own (most frequent value first).
    max_tokens : int
        Refuse a file with more tokens (the sum of the counts, every modality's) than
        this, before reading further: the corpus takes about 9 bytes a token.

    Returns
    -------
    Corpus
        Ids are the ``doc_id`` strings; the vocabulary is in order of first occurrence;
        ``word_order`` is False.
    """
    classes = _classes(modalities)
    values: dict[str, list[list[str]]] = {name: [] for name in classes.values()}
    index: dict[str, int] = {}
    ids: list[str] = []
    rows, cols, vals = array("q"), array("q"), array("q")
    total = 0
    for number, line in _lines(path):
        fields = line.split()
        if not fields:
            continue
        if fields[0].startswith("|"):
            raise ValueError(f"{path}, line {number}: the line starts with a section, not a doc id")
        d = len(ids)
        ids.append(fields[0])
        for bag in values.values():
            bag.append([])
        keep, into = True, None
        for field in fields[1:]:
            if field.startswith("|"):
                keep = field[1:] == _DEFAULT_CLASS
                into = values[classes[field[1:]]][d] if field[1:] in classes else None
                continue
            word, sep, count_text = field.rpartition(":")
            if not sep:
                word, count = field, 1
            else:
                count = _whole(count_text, f"{path}, line {number}: count of {word!r}")
            if not word:
                raise ValueError(f"{path}, line {number}: {field!r} has no word before ':'")
            if not keep and into is None:
                continue
            total += count
            if total > max_tokens:
                raise ValueError(
                    f"{path}, line {number}: more than max_tokens={max_tokens:,} tokens; "
                    "pass a larger max_tokens if the file is trusted"
                )
            if into is not None:
                into.extend([word] * count)
                continue
            rows.append(d)
            cols.append(index.setdefault(word, len(index)))
            vals.append(count)
    if not ids:
        raise ValueError(f"{path} holds no documents")
    matrix = _matrix(rows, cols, vals, len(ids), len(index))
    corpus = from_bow(cls, matrix, list(index), ids=pl.Series("id", ids, dtype=pl.String))
    if not values:
        return corpus
    bags = {
        name: bags_from_series(pl.Series(name, lists, dtype=pl.List(pl.String)), name)
        for name, lists in values.items()
    }
    return corpus._with(corpus._tokens, corpus._ids, corpus._dropped, bags)


def _classes(modalities: Mapping[str, str] | None) -> dict[str, str]:
    """Class name in the file -> modality name, checked (``modalities`` maps the other
    way, as ``from_polars``'s maps names to columns)."""
    if modalities is None:
        return {}
    if not isinstance(modalities, Mapping):
        raise TypeError(
            "modalities must map modality names to class names of the file, e.g. "
            f'{{"label": "@label"}}, not {type(modalities).__name__}'
        )
    classes: dict[str, str] = {}
    for name, class_name in modalities.items():
        check_name(name)
        if not isinstance(class_name, str) or not class_name or class_name == _DEFAULT_CLASS:
            raise ValueError(
                f'modality {name!r}: give the class name of its sections (e.g. "@label"), '
                f"not {class_name!r} ({_DEFAULT_CLASS} is the text)"
            )
        if class_name in classes:
            raise ValueError(f"the class {class_name!r} is named by two modalities")
        classes[class_name] = name
    return classes


def from_uci(
    cls: type[D],
    docword: str | Path,
    vocab: str | Path,
    *,
    max_tokens: int = _MAX_TOKENS,
) -> D:
    """Read a corpus in the UCI bag-of-words format (as BigARTM and the UCI repository).

    Parameters
    ----------
    docword : str or Path
        ``docword.txt``: three header lines D (documents), W (words) and NNZ (entries),
        then NNZ lines ``doc word count`` with 1-based doc and word numbers.
    vocab : str or Path
        ``vocab.txt``: the W words, one a line, word 1 first.
    max_tokens : int
        Refuse a file with more tokens (the sum of the counts) than this.

    Returns
    -------
    Corpus
        D documents with ids 1..D (the file's document numbers; a document without
        entries is empty); ``word_order`` is False.
    """
    words = [line.strip() for _, line in _lines(vocab)]
    while words and not words[-1]:
        words.pop()
    for number, word in enumerate(words, 1):
        if not word or len(word.split()) != 1:
            raise ValueError(f"{vocab}, line {number}: expected one word, got {word!r}")
    lines = _lines(docword)
    header = []
    for name in ("D", "W", "NNZ"):
        number, line = next(lines, (len(header) + 1, ""))
        header.append(_whole(line.strip(), f"{docword}, line {number}: header {name}"))
    n_docs, n_words, nnz = header
    if n_words != len(words):
        raise ValueError(f"{docword}: the header says W={n_words}, {vocab} has {len(words)} words")
    if n_docs < 1:
        raise ValueError(f"{docword}: the header says D={n_docs}; a corpus needs a document")
    rows, cols, vals = array("q"), array("q"), array("q")
    total = 0
    for number, line in lines:
        fields = line.split()
        if not fields:
            continue
        where = f"{docword}, line {number}"
        if len(rows) == nnz:
            raise ValueError(f"{where}: more entries than the header's NNZ={nnz}")
        if len(fields) != 3:
            raise ValueError(f"{where}: expected 'doc word count', got {line.strip()!r}")
        doc, word, count = (_whole(f, f"{where}: {name}") for f, name in zip(fields, "dwc"))
        if not 1 <= doc <= n_docs or not 1 <= word <= n_words:
            raise ValueError(
                f"{where}: doc {doc} or word {word} is outside 1..D={n_docs} or 1..W={n_words}"
            )
        total += count
        if total > max_tokens:
            raise ValueError(
                f"{where}: more than max_tokens={max_tokens:,} tokens; pass a larger "
                "max_tokens if the file is trusted"
            )
        rows.append(doc - 1)
        cols.append(word - 1)
        vals.append(count)
    if len(rows) != nnz:
        raise ValueError(f"{docword}: {len(rows)} entries, the header says NNZ={nnz}")
    matrix = _matrix(rows, cols, vals, n_docs, n_words)
    ids = pl.Series("id", np.arange(1, n_docs + 1, dtype=np.uint32))
    return from_bow(cls, matrix, words, ids=ids)


# --- helpers ----------------------------------------------------------------------------


def _lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of every line, each read with a bounded length."""
    with open(path, "rb") as f:
        number = 0
        while line := f.readline(_MAX_LINE + 1):
            number += 1
            if len(line) > _MAX_LINE:
                raise ValueError(f"{path}, line {number}: longer than {_MAX_LINE:,} bytes")
            try:
                yield number, line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not UTF-8 ({exc.reason})") from None


def _whole(text: str, what: str) -> int:
    """A non-negative whole number written in decimal digits."""
    # At most 18 digits: any count fits in int64, and int() never parses a huge string.
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise ValueError(f"{what}: expected a whole non-negative number, got {text!r}")
    return int(text)


def _matrix(rows: array, cols: array, vals: array, n_docs: int, n_words: int) -> sp.csr_matrix:
    """The D×W count matrix of (doc, word, count) triples; repeated pairs add up."""
    return _sparse().csr_matrix(
        (
            np.frombuffer(vals, np.int64),
            (np.frombuffer(rows, np.int64), np.frombuffer(cols, np.int64)),
        ),
        shape=(n_docs, n_words),
    )
