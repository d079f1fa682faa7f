"""scikit-learn pipelines: :class:`TopicTransformer` turns texts or a document-term matrix
into topic vectors p(t|d) with any attartm model.

Needs scikit-learn (``pip install scikit-learn``); ``import attartm`` does not.

    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> pipe = Pipeline([("topics", TopicTransformer(attartm.ARTM(20))),
    ...                  ("clf", LogisticRegression())])
    >>> GridSearchCV(pipe, {"topics__model__n_topics": [10, 20]}).fit(texts, labels)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._bow import count_matrix
from ._model import TopicModel
from .attentive import AttentiveARTM
from .corpus import Corpus
from .vocabulary import Vocabulary


def _is_matrix(x: Any) -> bool:
    return sp.issparse(x) or (isinstance(x, np.ndarray) and x.ndim == 2)


def _texts(x: Any) -> list[str] | pl.Series:
    """Raw texts as from_texts takes them: a polars Series as it is, anything else
    (a list, a pandas Series, a 1-D numpy array) as a list."""
    if isinstance(x, pl.Series):
        return x
    if isinstance(x, str):
        raise TypeError("expected a sequence of texts, not a single str")
    return x.tolist() if hasattr(x, "tolist") else list(x)


class TopicTransformer(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer around an attartm model: ``fit`` trains a clone of
    ``model`` (kept as ``model_``), ``transform`` returns p(t|d), a dense
    (n_documents × T) numpy array.

    Parameters
    ----------
    model : attartm.ARTM, ThetalessARTM or AttentiveARTM
        The model to train; its parameters are reached as ``model__<name>`` (e.g.
        ``topics__model__n_topics`` in a grid search over a pipeline step ``topics``).
    corpus_options : mapping, optional
        Options of :meth:`attartm.Corpus.from_texts` (language, min_df, max_df, max_vocab,
        stopwords) for raw texts.
    method : {"model", "linear"}
        How ``transform`` infers p(t|d) (see :meth:`attartm.TopicModel.transform`).

    ``fit`` and ``transform`` take raw texts (a list of str, a polars or pandas Series) or
    a document-term count matrix (scipy sparse or a 2-D numpy array, e.g. from
    ``CountVectorizer``); with a matrix, ``fit(X, feature_names=...)`` names its columns
    (``vectorizer.get_feature_names_out()``; default: the column numbers), which only
    changes how ``model_.topics()`` reads. AttentiveARTM reads word order, which a
    document-term matrix does not keep, so it takes raw texts only.
    """

    def __init__(
        self,
        model: TopicModel,
        corpus_options: Mapping[str, Any] | None = None,
        method: str = "model",
    ) -> None:
        self.model = model
        self.corpus_options = corpus_options
        self.method = method

    def _corpus(self, x: Any, vocabulary: Vocabulary | None, feature_names: Any = None):
        if _is_matrix(x):
            if isinstance(self.model, AttentiveARTM):
                raise ValueError(
                    "AttentiveARTM reads word order, which a document-term matrix does not "
                    "keep: give the TopicTransformer the raw texts"
                )
            matrix = count_matrix(x)
            if vocabulary is None:
                names = range(matrix.shape[1]) if feature_names is None else feature_names
                vocabulary = Vocabulary([str(name) for name in names])
            if matrix.shape[1] != len(vocabulary):
                raise ValueError(
                    f"the document-term matrix has {matrix.shape[1]} columns, but "
                    f"{'the model was fitted on' if self._fitted() else 'feature_names has'} "
                    f"{len(vocabulary)} words"
                )
            return Corpus.from_bow(matrix, vocabulary)
        if feature_names is not None:
            raise ValueError("feature_names goes with a document-term matrix, not with texts")
        options = dict(self.corpus_options or {})
        if vocabulary is not None:
            options["vocabulary"] = vocabulary
        return Corpus.from_texts(_texts(x), **options)

    def _fitted(self) -> bool:
        return hasattr(self, "model_")

    def fit(self, X: Any, y: Any = None, feature_names: Sequence[str] | None = None):
        """Trains a clone of ``model`` on ``X`` (``y`` is ignored). Returns ``self``."""
        if not isinstance(self.model, TopicModel):
            raise TypeError(
                f"model must be an attartm model (ARTM, ThetalessARTM, AttentiveARTM), "
                f"not {type(self.model).__name__}"
            )
        if self.method not in ("model", "linear"):
            raise ValueError(f'method must be "model" or "linear", not {self.method!r}')
        corpus = self._corpus(X, None, feature_names)
        self.model_ = clone(self.model).fit(corpus)
        if _is_matrix(X):
            self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """p(t|d) of every document of ``X``: a (n_documents × T) float array."""
        check_is_fitted(self, "model_")
        corpus = self._corpus(X, self.model_.vocabulary)
        frame = self.model_.transform(corpus, method=self.method)
        return frame.select(self.model_.topic_names).to_numpy()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The topic names (``topic_t``, ``background_t``) of the output columns."""
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.topic_names, dtype=object)
