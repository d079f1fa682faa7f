"""The fitted state of a model and its views: Φ and n_wt (one matrix whose rows are the
words of every modality, ``_layout``), the text's block as ``phi``, another modality's as
``phi_of``, the vocabularies, and a fitted model made from a given Φ (``from_phi``).

:class:`FittedState` is a part of :class:`attartm.TopicModel`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import _arrays
from ._bags import TEXT
from ._layout import Layout
from ._mstep import normalize_columns
from .vocabulary import Vocabulary, as_vocabulary


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit``."""


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


class FittedState:
    """Φ, n_wt and the modalities of a fitted model, and their views."""

    _layout: Layout | None = None

    @property
    def _vocabulary(self) -> Vocabulary | None:
        """The text's vocabulary (rows 0..W of Φ)."""
        return None if self._layout is None else self._layout.vocabularies[0]

    @_vocabulary.setter
    def _vocabulary(self, vocabulary: Vocabulary | None) -> None:
        # What a text-only model's vocabulary is set to (a grown one, or a Ray task's).
        if vocabulary is None:
            self._layout = None
        elif self._layout is not None and self._layout.multimodal:
            raise ValueError("a model of several modalities cannot take a new text vocabulary")
        else:
            weight = (self._modality_weights or {}).get(TEXT, 1.0)
            self._layout = Layout.text_only(vocabulary, weight)

    @property
    def _modality_weights(self) -> dict[str, float] | None:  # pragma: no cover
        raise NotImplementedError

    def _require_fitted(self) -> None:
        if self._phi is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit(corpus) or "
                f"fit_online(corpus) first, or attartm.load(path)"
            )
        self._checked()
        if self._phi.shape[1] != self.n_topics:
            raise NotFittedError(
                f"n_topics is {self.n_topics} but this {type(self).__name__} was fitted with "
                f"{self._phi.shape[1]} topics: call fit again after set_params(n_topics=...)"
            )

    @property
    def _text_rows(self) -> slice:
        return slice(0, len(self._vocabulary))

    @property
    def components_(self) -> np.ndarray:
        """Φ transposed, T×W (scikit-learn's name; a read-only view, not a copy)."""
        return self.phi.T

    @property
    def n_features_in_(self) -> int:
        """The number of words W of the vocabulary (scikit-learn's name)."""
        self._require_fitted()
        return len(self._vocabulary)

    @property
    def phi(self) -> np.ndarray:
        """Φ = p(w|t) of the text, W×T float32; every column sums to 1. Read-only: the
        model checks its Φ once, when it changes, not at every use."""
        self._require_fitted()
        return _read_only(self._phi[self._text_rows])

    def phi_of(self, modality: str) -> np.ndarray:
        """Φ of a modality, p(w|t) over its vocabulary (``vocabularies[modality]``), a
        read-only W_m×T float32 view whose columns sum to 1; ``"text"`` is :attr:`phi`."""
        self._require_fitted()
        rows = self._layout.blocks[self._layout.index(modality)]
        return _read_only(self._phi[rows])

    @property
    def n_wt(self) -> np.ndarray:
        """The word–topic counts n_wt (W×T float64) of the text at the last M-step
        (read-only)."""
        self._require_fitted()
        return _read_only(self._n_wt[self._text_rows])

    @property
    def n_t(self) -> np.ndarray:
        """Topic masses of the text, n_t = Σ_w n_wt."""
        self._require_fitted()
        return self._n_t[0] * self._scale

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary of the text the model was trained on (row w of Φ is word w)."""
        self._require_fitted()
        return self._vocabulary  # type: ignore[return-value]

    @property
    def vocabularies(self) -> dict[str, Vocabulary]:
        """The vocabulary of every modality of the model, by name ("text" first); pass it
        as ``vocabulary=`` to build a corpus whose ids match the model's."""
        self._require_fitted()
        return dict(zip(self._layout.names, self._layout.vocabularies))

    @property
    def modalities(self) -> dict[str, float]:
        """The weight τ_m of every modality of the model, by name ("text" first)."""
        self._require_fitted()
        return dict(zip(self._layout.names, self._layout.weights))

    @property
    def topic_names(self) -> list[str]:
        """Column names of the topics: ``topic_t``, or ``background_t`` for a background
        topic."""
        background = set(self._background_topics)
        return [
            f"background_{t}" if t in background else f"topic_{t}" for t in range(self.n_topics)
        ]

    @classmethod
    def from_phi(
        cls,
        phi: Any,
        vocabulary: Vocabulary | Iterable[str],
        n_wt: Any = None,
        *,
        modalities: Mapping[str, tuple[Any, ...]] | None = None,
        **params: Any,
    ):
        """A fitted model from a given Φ (W×T, columns summing to 1), e.g. one trained by
        another library, so that it can be scored and used like any attartm model.

        ``n_wt`` defaults to Φ scaled to one unit of mass per topic; ``params`` go to the
        constructor (``n_topics`` is taken from Φ). ``modalities`` adds other modalities:
        name -> ``(phi_m, vocabulary_m)`` or ``(phi_m, vocabulary_m, n_wt_m)``, weighted
        as ``modality_weights`` (among ``params``) says.
        """
        vocabulary = as_vocabulary(vocabulary)
        text = _block(TEXT, phi, vocabulary, n_wt, None)
        model = cls(n_topics=text[0].shape[1], **params)._checked()
        names, vocabularies, phis, counts = [TEXT], [vocabulary], [phi], [n_wt]
        for name, spec in dict(modalities or {}).items():
            if not isinstance(spec, tuple) or len(spec) not in (2, 3):
                raise TypeError(
                    f"modalities[{name!r}] must be (phi, vocabulary) or (phi, vocabulary, n_wt)"
                )
            names.append(name)
            vocabularies.append(as_vocabulary(spec[1]))
            phis.append(spec[0])
            counts.append(spec[2] if len(spec) == 3 else None)
        blocks = [text] + [
            _block(n, p, v, c, model.n_topics)
            for n, p, v, c in zip(names[1:], phis[1:], vocabularies[1:], counts[1:])
        ]
        weights = model._modality_weights or {}
        layout = Layout(
            tuple(names), tuple(vocabularies), tuple(weights.get(n, 1.0) for n in names)
        )
        phi = np.concatenate([b[0] for b in blocks])
        model._set_fitted(layout, phi, np.concatenate([b[1] for b in blocks]))
        return model

    def _set_fitted(self, layout: Layout, phi: np.ndarray, n_wt: np.ndarray) -> None:
        """Installs a fitted state (Φ finite, non-negative, rows × T float32 with every
        modality's block of columns summing to 1; n_wt finite)."""
        self._layout = layout
        self._phi = np.ascontiguousarray(phi, dtype=np.float32)
        self._n_wt = np.ascontiguousarray(n_wt, dtype=np.float64)
        self._reset_counts()
        self._n_t = self._block_totals()
        self._stamp = np.zeros(layout.n_rows, dtype=np.int64)

    def _block_totals(self) -> np.ndarray:
        """Σ_w n_wt over every modality's rows: (M, T)."""
        return np.stack([self._n_wt[b].sum(axis=0) for b in self._layout.blocks])


def _block(
    name: str, phi: Any, vocabulary: Vocabulary, n_wt: Any, n_topics: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """One modality's Φ (columns normalized) and n_wt for :meth:`FittedState.from_phi`."""
    label = "phi" if name == TEXT else f"modalities[{name!r}] phi"
    phi = _arrays.matrix(label, phi, columns=n_topics)
    if phi.shape[0] != len(vocabulary):
        raise ValueError(
            f"{label} has {phi.shape[0]} rows but the vocabulary {len(vocabulary)} words"
        )
    if (phi < 0).any():
        raise ValueError(f"{label} must be non-negative")
    phi = normalize_columns(phi.astype(np.float64)).astype(np.float32)
    if n_wt is None:
        return phi, phi.astype(np.float64)
    n_wt = np.asarray(n_wt, dtype=np.float64)
    if n_wt.shape != phi.shape or not np.isfinite(n_wt).all() or (n_wt < 0).any():
        raise ValueError(f"n_wt must be a finite, non-negative {phi.shape} array")
    return phi, n_wt
