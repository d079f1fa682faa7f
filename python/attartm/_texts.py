"""Text to tokens: a corpus from a text column of a polars frame, parquet files or a list
of texts, as the ``from_polars``, ``from_parquet`` and ``from_texts`` constructors of
:class:`attartm.Corpus`. The vocabulary is counted from the texts (``min_df``, ``max_df``,
``max_vocab`` and stopwords) or given, and the Rust pass of ``_tokenize`` turns the texts
into token ids, document offsets and boundary levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ._bags import bags_from_series, check_name, modality_vocabularies, values_series
from ._core import WordCounter
from ._document_frequency import check_df_arguments, document_count_limits
from ._documents import TOKEN_SCHEMA, D, default_ids
from ._paths import parquet_files
from ._source import SourceText
from ._tokenize import resolve_stopwords, text_column
from .vocabulary import Vocabulary


def from_polars(
    cls: type[D],
    df: pl.DataFrame | pl.LazyFrame,
    text: str = "text",
    id: str | None = None,
    *,
    language: str = "en",
    min_df: float = 1,
    max_df: float = 1.0,
    max_vocab: int | None = None,
    stopwords: bool | Iterable[str] = True,
    vocabulary: Vocabulary | Sequence[str] | Mapping[str, Vocabulary] | None = None,
    allow_empty: bool = False,
    modalities: Mapping[str, str] | None = None,
    keep_text: bool = False,
) -> D:
    """Tokenize a text column of a polars frame.

    Parameters
    ----------
    df : polars.DataFrame or polars.LazyFrame
        One row per document.
    text : str
        The text column (String; null texts are empty documents).
    id : str, optional
        A column of document ids; default: the row numbers 0..D-1.
    language : {"en", "ru"}
        Selects the built-in stopword list.
    min_df, max_df : int or float
        Keep words found in at least ``min_df`` and at most ``max_df`` documents; an
        int is a document count, a float in [0, 1] a proportion of the documents.
    max_vocab : int, optional
        Keep only the ``max_vocab`` most frequent words (after min_df/max_df).
    stopwords : bool or iterable of str
        True: the built-in list for ``language``; False: none; or your own words.
        Stopwords are removed before the vocabulary (also a given one) applies.
    vocabulary : Vocabulary, list of str or mapping, optional
        Use this vocabulary as is (min_df, max_df and max_vocab are then ignored):
        unknown words are dropped and counted in :attr:`dropped`. A mapping of modality
        names to vocabularies (``model.vocabularies``, ``train.vocabularies``) gives the
        text's (``"text"``) and the other modalities' ones; a modality's values outside
        its vocabulary are dropped.
    allow_empty : bool
        With a given vocabulary, accept documents none of whose words is known (a
        batch of a larger corpus may be like that); otherwise that is an error.
    modalities : mapping of str to str, optional
        Other modalities (BigARTM's class_ids): modality name -> column holding a string
        or a list of strings per document (a label, tags, authors; null: none). Each
        modality gets its own vocabulary (``corpus.vocabularies[name]``, its values most
        frequent first, unless ``vocabulary`` gives one) and is a bag of values per
        document.
    keep_text : bool
        Keep the texts and the characters every token was read from
        (:attr:`~attartm.Corpus.source`, :attr:`~attartm.Corpus.char_spans`), so that
        fragments, phrases and the report show the raw text with its stopwords and
        punctuation.

    Returns
    -------
    Corpus
    """
    if isinstance(df, pl.LazyFrame):
        columns = df.collect_schema().names()
    elif isinstance(df, pl.DataFrame):
        columns = df.columns
    else:
        raise TypeError(
            f"from_polars expects a polars DataFrame or LazyFrame, got {type(df).__name__}; "
            "convert with pl.from_pandas / pl.from_arrow, or use Corpus.from_texts"
        )
    modality_columns = _modality_columns(modalities)
    roles = [("text", text), ("id", id)]
    roles += [(f"modality {m!r}", c) for m, c in modality_columns.items()]
    for role, name in roles:
        if name is not None and name not in columns:
            raise ValueError(
                f"{role} column {name!r} not found; available columns: {columns}"
                + (f"; pass {role}=<column name>" if role == "text" else "")
            )
    wanted = list(dict.fromkeys(c for _, c in roles if c is not None))
    frame = df.select(wanted)
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    ids = frame.get_column(id) if id is not None else None
    return from_text_series(
        cls,
        frame.get_column(text),
        ids,
        modalities={m: frame.get_column(c) for m, c in modality_columns.items()},
        language=language,
        min_df=min_df,
        max_df=max_df,
        max_vocab=max_vocab,
        stopwords=stopwords,
        vocabulary=vocabulary,
        allow_empty=allow_empty,
        keep_text=keep_text,
    )


def _modality_columns(modalities: Any) -> dict[str, str]:
    """The ``modalities`` argument of from_polars, checked: name -> column."""
    if modalities is None:
        return {}
    if not isinstance(modalities, Mapping):
        raise TypeError(
            "modalities must map modality names to columns, e.g. "
            f'{{"label": "category", "tags": "tags"}}, not {type(modalities).__name__}'
        )
    out = {}
    for name, column in modalities.items():
        if not isinstance(column, str):
            raise TypeError(f"modality {name!r}: give the name of a column, not {column!r}")
        out[check_name(name)] = column
    return out


def from_parquet(
    cls: type[D],
    source: str | Path | Sequence[str | Path],
    text: str = "text",
    id: str | None = None,
    **options: Any,
) -> D:
    """Tokenize a text column of parquet files.

    Parameters
    ----------
    source : str, Path or list of them
        A file, a directory, or a glob such as ``"data/*.parquet"``.
    text, id, **options
        As in :meth:`from_polars`.

    Returns
    -------
    Corpus
    """
    lf = pl.scan_parquet(parquet_files(source))
    return from_polars(cls, lf, text=text, id=id, **options)


def from_texts(
    cls: type[D],
    texts: Sequence[str] | pl.Series,
    ids: Sequence[Any] | pl.Series | np.ndarray | None = None,
    modalities: Mapping[str, Sequence[Any] | pl.Series] | None = None,
    **options: Any,
) -> D:
    """Tokenize a list of texts.

    Parameters
    ----------
    texts : sequence of str
        One text per document.
    ids : sequence, optional
        Document ids, one per text; default: 0..D-1.
    modalities : mapping of str to sequence, optional
        Other modalities: name -> one value per text (a str, a list of str, or None).
    **options
        As in :meth:`from_polars` (language, min_df, max_df, max_vocab, stopwords,
        vocabulary).

    Returns
    -------
    Corpus
    """
    if isinstance(texts, str):
        raise TypeError("from_texts expects a sequence of texts, not a single str")
    if isinstance(texts, pl.Series):
        series = texts
    else:
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(
                    f"texts must be str; texts[{i}] is {type(t).__name__}"
                    + (" (use '' for an empty document)" if t is None else "")
                )
        series = pl.Series("text", texts, dtype=pl.String)
    id_series = None
    if ids is not None:
        id_series = ids if isinstance(ids, pl.Series) else pl.Series("id", ids)
        if len(id_series) != len(series):
            raise ValueError(
                f"got {len(id_series)} ids for {len(series)} texts; pass one id per text"
            )
    columns = {}
    if modalities is not None:
        if not isinstance(modalities, Mapping):
            raise TypeError(
                "modalities must map modality names to values, one per text, e.g. "
                '{"label": ["sport", "cooking"]}'
            )
        for name, values in modalities.items():
            column = values_series(name, values)
            if len(column) != len(series):
                raise ValueError(
                    f"modality {name!r} has {len(column)} values for {len(series)} texts; "
                    "give one value (a str, a list of str or None) per text"
                )
            columns[check_name(name)] = column
    return from_text_series(cls, series, id_series, modalities=columns, **options)


def from_text_series(
    cls: type[D],
    texts: pl.Series,
    ids: pl.Series | None,
    *,
    language: str = "en",
    min_df: float = 1,
    max_df: float = 1.0,
    max_vocab: int | None = None,
    stopwords: bool | Iterable[str] = True,
    vocabulary: Vocabulary | Sequence[str] | Mapping[str, Vocabulary] | None = None,
    allow_empty: bool = False,
    modalities: Mapping[str, pl.Series] | None = None,
    keep_text: bool = False,
) -> D:
    """Tokenize a column of texts (what the other constructors of this module end in):
    the vocabulary counted from the texts or given, then the Rust pass of ``_tokenize``;
    the columns of ``modalities`` become bags of values with vocabularies of their own."""
    vocabulary, given = modality_vocabularies(vocabulary)
    texts = text_column(texts)
    n_docs = len(texts)
    if n_docs == 0:
        raise ValueError("the input has no documents (0 rows); a corpus needs at least one")
    stop = resolve_stopwords(stopwords, language)
    vocab = vocabulary
    if vocab is None:
        check_df_arguments(min_df, max_df, max_vocab)
        lo, hi = document_count_limits(min_df, max_df, n_docs)
        counter = WordCounter(sorted(stop))
        counter.update(texts)
        vocab = Vocabulary(counter.most_frequent(lo, hi, max_vocab))

    tokenizer = vocab._tokenizer(stop)
    if keep_text:
        token_ids, offsets, boundaries, unknown, starts, ends = tokenizer.tokenize_spans(texts)
    else:
        token_ids, offsets, boundaries, unknown = tokenizer.tokenize(texts)
    dropped = None if vocabulary is None else unknown
    tokens = pl.DataFrame(
        {
            "doc": np.repeat(np.arange(n_docs, dtype=np.uint32), np.diff(offsets)),
            "token": token_ids,
            "boundary": boundaries,
        },
        schema=TOKEN_SCHEMA,
    )
    if tokens.height == 0 and not (allow_empty and vocabulary is not None):
        if vocabulary is not None:
            raise ValueError(
                f"no tokens left: none of the words of the {n_docs} documents is in the "
                f"given vocabulary of {len(vocab)} words ({int(dropped.sum())} unknown "
                "words dropped); check the language, the text column and the vocabulary"
            )
        raise ValueError(
            "no tokens left after tokenization and filtering "
            f"(min_df={min_df!r}, max_df={max_df!r}, max_vocab={max_vocab!r}, "
            f"stopwords={_describe_stopwords(stopwords, language)}): lower min_df, raise "
            "max_df or max_vocab, or check that the text column holds text"
        )
    if ids is None:
        ids = default_ids(n_docs)
    bags = {m: bags_from_series(v, m, given.get(m)) for m, v in dict(modalities or {}).items()}
    corpus = cls(tokens, ids, vocab, dropped=dropped, modalities=bags)
    offsets.flags.writeable = False
    corpus._offsets = offsets
    if keep_text:
        corpus._source = SourceText(texts.alias("text"), starts, ends)
    return corpus


def _describe_stopwords(stopwords: Any, language: str) -> str:
    """The ``stopwords`` argument in words, for an error message."""
    if stopwords is True:
        return f"True (built-in {language!r} list)"
    if stopwords is False or stopwords is None:
        return "False"
    return "a custom list"
