"""attartm: fast ARTM topic models with a Rust core.

Classic ARTM (BigARTM's algorithm), Θ-less ARTM and Attentive ARTM, over polars corpora.
"""

from __future__ import annotations

from . import kernels, scores
from . import polars as _polars_namespace  # noqa: F401  (registers pl.Expr.artm)
from ._core import __version__
from ._model import NotFittedError, TopicModel
from .artm import ARTM
from .attentive import AttentiveARTM
from .corpus import Corpus
from .persistence import load
from .regularizers import (
    BackgroundPhi,
    DecorrelatorPhi,
    LabelRegularizationPhi,
    SeedWords,
    SmoothSparsePhi,
    SmoothSparseTheta,
    SpecifiedSparsePhi,
    TopicSelectionTheta,
)
from .thetaless import ThetalessARTM
from .vocabulary import Vocabulary

__all__ = [
    "ARTM",
    "AttentiveARTM",
    "BackgroundPhi",
    "Corpus",
    "DecorrelatorPhi",
    "LabelRegularizationPhi",
    "NotFittedError",
    "SeedWords",
    "SmoothSparsePhi",
    "SmoothSparseTheta",
    "SpecifiedSparsePhi",
    "ThetalessARTM",
    "TopicModel",
    "TopicSelectionTheta",
    "Vocabulary",
    "__version__",
    "kernels",
    "load",
    "scores",
]
