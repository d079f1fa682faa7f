"""The ``artm`` namespace on polars expressions: tokenizing and topic inference that run
inside the user's own polars queries, eager, lazy or streaming.

Importing :mod:`attartm` registers it::

    lf.with_columns(
        tokens=pl.col("text").artm.token_ids(vocabulary),
        theta=pl.col("text").artm.topics(model),
    )

Each batch of texts that polars hands over goes through the Rust tokenizer in one pass
(Arrow buffers read in place); both functions work row by row, so polars may split the
column into batches freely, as the streaming engine does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ._tokenize import resolve_stopwords, text_column
from .corpus import Corpus
from .vocabulary import Vocabulary, as_vocabulary

if TYPE_CHECKING:
    from ._model import TopicModel

__all__ = ["ArtmExpr"]


def _keep_nulls(texts: pl.Series, result: pl.Series) -> pl.Series:
    """``result`` with null wherever the text is null."""
    if not texts.has_nulls():
        return result
    return (
        pl.DataFrame({"text": texts, "result": result})
        .select(pl.when(pl.col("text").is_not_null()).then(pl.col("result")))
        .to_series()
    )


@pl.api.register_expr_namespace("artm")
class ArtmExpr:
    """attartm functions on a text expression: ``pl.col("text").artm.<function>``."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def token_ids(
        self,
        vocabulary: Vocabulary | Sequence[str],
        *,
        language: str = "en",
        stopwords: bool | Iterable[str] = True,
    ) -> pl.Expr:
        """The token ids of each text, as a ``List(UInt32)`` column.

        Parameters
        ----------
        vocabulary : Vocabulary or list of str
            Word i gets id i; unknown words are dropped.
        language : {"en", "ru"}
            Selects the built-in stopword list.
        stopwords : bool or iterable of str
            True: the built-in list for ``language``; False: none; or your own words.

        Returns
        -------
        polars.Expr
            One list of ids per text, in text order (null for a null text).
        """
        vocab = as_vocabulary(vocabulary)
        tokenizer = vocab._tokenizer(resolve_stopwords(stopwords, language))

        def run(texts: pl.Series) -> pl.Series:
            column = text_column(texts)
            lists = pl.Series(tokenizer.token_lists(column)).cast(pl.List(pl.UInt32))
            return _keep_nulls(column, lists.alias(texts.name))

        return self._expr.map_batches(run, return_dtype=pl.List(pl.UInt32), is_elementwise=True)

    def topics(
        self,
        model: TopicModel,
        *,
        language: str = "en",
        stopwords: bool | Iterable[str] = True,
    ) -> pl.Expr:
        """p(t|d) of each text under a fitted model, as an ``Array(Float32, T)`` column.

        The texts are tokenized with the model's vocabulary (unknown words dropped) and
        their topics inferred the model's own way, as ``model.transform(corpus)`` does.

        Parameters
        ----------
        model : TopicModel
            A fitted model.
        language, stopwords
            As in :meth:`token_ids`; use the options the model's corpus was built with.

        Returns
        -------
        polars.Expr
            One vector of T topic probabilities per text (null for a null text).
        """
        model._require_fitted()
        vocab, n_topics = model.vocabulary, model.n_topics
        stop = resolve_stopwords(stopwords, language)
        dtype = pl.Array(pl.Float32, n_topics)

        def run(texts: pl.Series) -> pl.Series:
            column = text_column(texts)
            if len(column) == 0:
                return pl.Series(texts.name, [], dtype=dtype)
            corpus = Corpus._from_text_series(
                column, None, vocabulary=vocab, stopwords=stop, allow_empty=True
            )
            theta = np.ascontiguousarray(model._theta(corpus), dtype=np.float32)
            result = pl.Series(texts.name, theta).cast(dtype)
            return _keep_nulls(column, result)

        return self._expr.map_batches(run, return_dtype=dtype, is_elementwise=True)
