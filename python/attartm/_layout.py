"""The modalities of a model (docs/mathematics.md §7): their names, weights τ_m and
vocabularies, and where each one's rows lie in the stacked Φ.

A model keeps one W×T matrix whose rows are the words of every modality, the text's first
(rows 0..W_text), then each other modality's in the order of the training corpus; every
modality's block of columns sums to 1. A text-only model is the one-block case, so
everything that reads the text reads rows 0..W_text of any model.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _arrays
from ._bags import TEXT, Bags, check_name
from .corpus import Corpus
from .vocabulary import Vocabulary, as_vocabulary


def check_weights(weights: Any) -> dict[str, float] | None:
    """The ``modality_weights`` parameter, checked: None, or modality name -> weight τ_m
    ≥ 0 (0 leaves the modality out of the model), as plain floats."""
    if weights is None:
        return None
    if not isinstance(weights, Mapping):
        raise TypeError(
            'modality_weights must map modality names to weights, e.g. {"text": 1.0, '
            f'"label": 5.0}}, not {type(weights).__name__}'
        )
    out = {}
    for name, weight in weights.items():
        if name != TEXT:
            check_name(name)
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
            raise TypeError(f"modality_weights[{name!r}] must be a number, not {weight!r}")
        value = _arrays.finite_float(f"modality_weights[{name!r}]", weight)
        if value < 0:
            raise ValueError(f"modality_weights[{name!r}] must be at least 0, but is {value}")
        out[name] = value
    if out.get(TEXT, 1.0) <= 0:
        raise ValueError('modality_weights["text"] must be positive: the text is always modelled')
    return out


@dataclass(frozen=True)
class Layout:
    """The modalities of a fitted model: ``names[0]`` is "text"; modality m has the
    vocabulary ``vocabularies[m]``, the weight ``weights[m]`` and rows
    ``starts[m]:starts[m + 1]`` of Φ."""

    names: tuple[str, ...]
    vocabularies: tuple[Vocabulary, ...]
    weights: tuple[float, ...]

    @classmethod
    def text_only(cls, vocabulary: Vocabulary, weight: float = 1.0) -> Layout:
        return cls((TEXT,), (vocabulary,), (weight,))

    @classmethod
    def of_corpus(cls, corpus: Corpus, weights: dict[str, float] | None) -> Layout:
        """The modalities a model trains on ``corpus``: the text and every other modality
        of the corpus, weighted by ``weights`` (1 when not named; those of weight 0 are
        left out). A weight for a modality the corpus lacks is an error."""
        weights = dict(weights or {})
        missing = [m for m in weights if m not in corpus.modalities]
        if missing:
            raise ValueError(
                f"modality_weights names {missing}, which the corpus does not have (its "
                f"modalities: {list(corpus.modalities)}); build it with "
                f"modalities={{{missing[0]!r}: <column>}}"
            )
        names = [m for m in corpus.modalities if weights.get(m, 1.0) > 0]
        vocabularies = corpus.vocabularies
        for m in names:
            if len(vocabularies[m]) == 0:
                raise ValueError(f"the corpus's modality {m!r} has no values: nothing to model")
        return cls(
            tuple(names),
            tuple(vocabularies[m] for m in names),
            tuple(weights.get(m, 1.0) for m in names),
        )

    @property
    def starts(self) -> np.ndarray:
        """int64[M + 1]: the first row of every modality, then the number of rows."""
        sizes = [len(v) for v in self.vocabularies]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @property
    def n_rows(self) -> int:
        return int(self.starts[-1])

    @property
    def multimodal(self) -> bool:
        return len(self.names) > 1

    @property
    def blocks(self) -> list[slice]:
        """The rows of every modality, in order."""
        s = self.starts
        return [slice(int(s[m]), int(s[m + 1])) for m in range(len(self.names))]

    def index(self, name: str) -> int:
        """The index of a modality of the model; ValueError naming the ones it has."""
        if name not in self.names:
            raise ValueError(
                f"the model has no modality {name!r}; its modalities are {list(self.names)}"
            )
        return self.names.index(name)

    def modality_of(self, rows: np.ndarray) -> np.ndarray:
        """The modality of every row of Φ in ``rows``."""
        return np.searchsorted(self.starts, rows, side="right") - 1

    def bags_of(self, corpus: Corpus, exclude: tuple[str, ...] = ()) -> list[tuple[int, Bags]]:
        """The corpus's bags of the model's other modalities (those the model knows and
        ``exclude`` does not name), with their index; the vocabularies must be the model's."""
        out = []
        for m, name in enumerate(self.names[1:], start=1):
            if name in exclude or name not in corpus.modalities[1:]:
                continue
            bags = corpus._bags[name]
            if bags.vocabulary != self.vocabularies[m]:
                raise ValueError(
                    f"the corpus's modality {name!r} has a different vocabulary than the "
                    "model's; build the corpus with vocabulary=model.vocabularies"
                )
            out.append((m, bags))
        return out

    def to_header(self) -> list[dict[str, Any]]:
        """The other modalities as a model file keeps them (the text's vocabulary is the
        file's ``vocabulary``)."""
        return [
            {"name": n, "weight": w, "vocabulary": list(v.words)}
            for n, w, v in zip(self.names[1:], self.weights[1:], self.vocabularies[1:])
        ]

    @classmethod
    def from_header(cls, vocabulary: Vocabulary, text_weight: Any, modalities: Any) -> Layout:
        """The layout a model file describes (see :meth:`to_header`), checked."""
        if not isinstance(modalities, list):
            raise ValueError("modalities must be a JSON array")
        names, vocabularies, weights = [TEXT], [vocabulary], [text_weight]
        for i, entry in enumerate(modalities):
            if not isinstance(entry, dict) or set(entry) != {"name", "weight", "vocabulary"}:
                raise ValueError(f"modalities[{i}] must be an object of name, weight, vocabulary")
            names.append(check_name(entry["name"]))
            vocabularies.append(as_vocabulary(entry["vocabulary"]))
            weights.append(entry["weight"])
        if len(set(names)) != len(names):
            raise ValueError(f"modality names must be distinct, got {names}")
        checked = check_weights(dict(zip(names, weights))) or {}
        if any(len(v) == 0 for v in vocabularies) or min(checked.values()) <= 0:
            raise ValueError("every modality needs words and a positive weight")
        return cls(tuple(names), tuple(vocabularies), tuple(checked[n] for n in names))
