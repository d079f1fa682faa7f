"""The contexts of Attentive ARTM's inference, chosen by held-out likelihood
(docs/mathematics.md §5.1).

Training and inference read contexts of their own: the training window and passes shape
Φ (longer contexts give topics whose words share broader contexts), while the window h
(γ→ = γ← = 1/h), the number of passes L and the weight λ of the document head that best
predict a word from the words around it are properties of the text and of Φ, found by
maximizing the document-completion likelihood of a sample of the training documents over
h, L and λ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _arrays
from ._heldout import Evaluation
from .corpus import Corpus

#: The sample the contexts are chosen on: documents drawn at random (from the model's
#: seed) until either bound is reached. Every setting is scored on the same tokens, so the
#: comparison is paired and a sample of this size separates settings whose perplexities
#: differ by much less than 1%.
SAMPLE_DOCUMENTS = 1000
SAMPLE_TOKENS = 100_000
#: Windows tried first, geometric over [1, 100] tokens; the search then narrows to the
#: bracket around the best of them.
GRID = (1.0, 2.0, 4.0, 10.0, 30.0, 100.0)
#: The passes that "auto" chooses from.
PASSES = (1, 2, 3, 4)
#: The document-head weights that "auto" chooses from (the training weight is tried too).
DOCUMENT_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
#: A golden-section search stops when its bracket is this narrow in ln h (2%).
TOLERANCE = 0.02


class NothingToScore(ValueError):
    """The sample has no token that document completion scores."""


def sample(corpus: Corpus, seed: int) -> Corpus:
    """At most SAMPLE_DOCUMENTS documents and about SAMPLE_TOKENS tokens of ``corpus``,
    drawn at random from ``seed`` and kept in corpus order."""
    n_docs = corpus.n_documents
    if n_docs <= SAMPLE_DOCUMENTS and corpus.n_tokens <= SAMPLE_TOKENS:
        return corpus
    order = np.random.default_rng(seed).permutation(n_docs)[:SAMPLE_DOCUMENTS]
    lengths = np.diff(corpus.doc_offsets)[order]
    # The first documents of the random order whose tokens fit in the bound (at least one).
    keep = max(1, int(np.searchsorted(np.cumsum(lengths), SAMPLE_TOKENS, side="right")))
    return corpus.select(np.sort(order[:keep]))


def golden_section(f: Callable[[float], float], low: float, high: float) -> tuple[float, float]:
    """(u, f(u)) at the maximum of a unimodal ``f`` on [low, high], to TOLERANCE."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = low + (1 - ratio) * (high - low), low + ratio * (high - low)
    fa, fb = f(a), f(b)
    while high - low > TOLERANCE:
        if fa >= fb:
            high, b, fb = b, a, fa
            a = low + (1 - ratio) * (high - low)
            fa = f(a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = f(b)
    return (a, fa) if fa >= fb else (b, fb)


def best_window(loglik: Callable[[float], float]) -> tuple[float, float]:
    """(h, loglik(h)) at the window h ∈ [1, 100] of the largest ``loglik`` (the mean
    log-likelihood of the scored tokens): the best point of GRID, then a golden-section
    search in ln h between its neighbours on the grid."""
    values = [loglik(h) for h in GRID]
    best = int(np.argmax(values))
    low = math.log(GRID[max(best - 1, 0)])
    high = math.log(GRID[min(best + 1, len(GRID) - 1)])
    u, value = golden_section(lambda u: loglik(math.exp(u)), low, high)
    # The grid's own best may beat the bracket's interior when the maximum sits at an end
    # of the range.
    return (math.exp(u), value) if value >= values[best] else (GRID[best], values[best])


def best_of(values: dict[Any, float]) -> Any:
    """The key of the largest value; of equal ones the smallest key (fewer passes, a
    lighter document head: the cheaper and simpler inference)."""
    return max(sorted(values), key=lambda k: values[k])


def best_contexts(
    loglik: Callable[[float | None, int, float], float],
    window: float | str | None,
    passes: Sequence[int],
    weights: Sequence[float],
    start: tuple[int, float],
) -> tuple[float | None, int, float]:
    """The window h, passes L and document-head weight λ of the largest
    ``loglik(h, L, λ)``, by coordinate ascent from the training passes and weight
    ``start``: the best window (when ``window`` is "auto"; a number, or None for the
    training windows, is kept), then the best of ``passes`` at that window, then the best
    of ``weights`` at both, then, if L or λ changed, the best window for them within a
    factor 2 of the first."""
    auto = window == "auto"
    L = start[0] if start[0] in passes else passes[0]
    lam = start[1] if start[1] in weights else weights[0]
    if auto:
        h, value = best_window(lambda h: loglik(h, L, lam))
    else:
        h, value = window, loglik(window, L, lam)  # type: ignore[arg-type]
    by_passes = {L: value, **{other: loglik(h, other, lam) for other in passes if other != L}}
    best_L = best_of(by_passes)
    by_weight = {lam: by_passes[best_L]} if best_L == L else {}
    by_weight.update({w: loglik(h, best_L, w) for w in weights if w not in by_weight})
    best_lam = best_of(by_weight)
    if auto and (best_L, best_lam) != (L, lam):
        u, _ = golden_section(
            lambda u: loglik(math.exp(u), best_L, best_lam),
            max(math.log(GRID[0]), math.log(h / 2)),
            min(math.log(GRID[-1]), math.log(2 * h)),
        )
        h = min(max(math.exp(u), GRID[0]), GRID[-1])
    return h, best_L, best_lam


def window_setting(window: Any) -> float | str | None:
    """The inference window as given, checked: "auto", None, or a window of at least
    one token (as a plain float)."""
    if window is None or (isinstance(window, str) and window == "auto"):
        return window
    if isinstance(window, str):
        raise ValueError(f'inference_window must be "auto", None or a number, not {window!r}')
    h = _arrays.finite_float("inference_window", window)
    if h < 1.0:
        raise ValueError(f"inference_window must be at least 1 token, but is {h}")
    return h


def passes_setting(passes: object) -> int | str | None:
    """The inference passes as given, checked: "auto", None, or a positive integer."""
    if passes is None or (isinstance(passes, str) and passes == "auto"):
        return passes  # type: ignore[return-value]
    if isinstance(passes, str):
        raise ValueError(f'inference_passes must be "auto", None or a number, not {passes!r}')
    return _arrays.positive_int("inference_passes", passes)


def weight_setting(weight: object) -> float | str | None:
    """The inference document weight as given, checked: "auto", None, or a weight in
    [0, 1] (as a plain float)."""
    if weight is None or (isinstance(weight, str) and weight == "auto"):
        return weight  # type: ignore[return-value]
    if isinstance(weight, str):
        raise ValueError(
            f'inference_document_weight must be "auto", None or a number, not {weight!r}'
        )
    value = _arrays.finite_float("inference_document_weight", weight)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"inference_document_weight must lie in [0, 1], but is {value}")
    return value


#: Each setting settled by a fit: how its value is checked, and the type of a choice.
SETTINGS: dict[str, tuple[Callable[[Any], Any], type]] = {
    "inference_window": (window_setting, float),
    "inference_passes": (passes_setting, int),
    "inference_document_weight": (weight_setting, float),
}


class InferenceContexts:
    """The inference contexts of :class:`attartm.AttentiveARTM` (its ``inference_window``,
    ``inference_passes`` and ``inference_document_weight``, and what ``fit`` settles of
    them); a part of that class."""

    _settled = ("inference_window_", "inference_passes_", "inference_document_weight_")

    @property
    def _inference_window(self) -> float | None:
        """The window inference reads (both ways), or None for the training windows:
        ``inference_window`` when it is a number, the chosen ``inference_window_`` under
        "auto" (until one is chosen, e.g. for a model made by from_phi, None)."""
        setting = window_setting(self.inference_window)
        if setting == "auto":
            return getattr(self, "inference_window_", None)
        return setting  # type: ignore[return-value]

    @property
    def _inference_passes(self) -> int:
        """The passes of inference: ``inference_passes`` when it is a number, the chosen
        ``inference_passes_`` under "auto" (the training passes until chosen)."""
        setting = passes_setting(self.inference_passes)
        if setting == "auto":
            return getattr(self, "inference_passes_", self.passes)
        return self.passes if setting is None else setting  # type: ignore[return-value]

    @property
    def _inference_document_weight(self) -> float:
        """The document-head weight of inference: ``inference_document_weight`` when it is
        a number, the chosen ``inference_document_weight_`` under "auto" (the training
        ``document_weight`` until chosen, and for None)."""
        setting = weight_setting(self.inference_document_weight)
        if setting == "auto":
            return getattr(self, "inference_document_weight_", self.document_weight)
        return self.document_weight if setting is None else setting  # type: ignore[return-value]

    def choose_inference(self, corpus: Corpus) -> tuple[float | None, int, float]:
        """Chooses the contexts of inference on ``corpus`` (training documents, say): the
        window h ∈ [1, 100] (γ = 1/h both ways), the passes L ∈ {1, 2, 3, 4} and the
        document-head weight λ ∈ {0, 0.05, 0.1, 0.2, 0.3, 0.5} whose contexts maximize
        the document-completion likelihood of a random sample of at most 1,000 of its
        documents and 100,000 tokens (docs/mathematics.md §5.1), for those of
        ``inference_window``, ``inference_passes`` and ``inference_document_weight`` that
        are "auto"; the chosen ones are kept in ``inference_window_``,
        ``inference_passes_`` and ``inference_document_weight_``. ``fit``, ``fit_online``
        and ``partial_fit`` call it at their end; call it for a model made otherwise
        (``from_phi``). Returns (window, passes, weight), the window None where inference
        reads the training windows."""
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        # On the text alone, as prediction reads a document whose labels are unknown.
        sample_ = sample(corpus.without(*corpus.modalities[1:]), self.seed)
        ev = Evaluation.completion(sample_.token_ids, sample_.doc_offsets, self.seed)
        window = window_setting(self.inference_window)
        passes = passes_setting(self.inference_passes)
        weight = weight_setting(self.inference_document_weight)
        candidates = PASSES if passes == "auto" else (self.passes if passes is None else passes,)
        training_weight = float(self.document_weight)
        weights = (
            tuple(sorted({*DOCUMENT_WEIGHTS, training_weight}))
            if weight == "auto"
            else (training_weight if weight is None else weight,)
        )

        def loglik(h: float | None, L: int, lam: float) -> float:
            total, n = self._loglik(sample_, ev, h, L, lam)
            if n == 0:
                raise NothingToScore(
                    "the corpus has no token to score (documents of one token, or words "
                    "the model never saw): the inference contexts cannot be chosen on it"
                )
            return total / n

        chosen = best_contexts(loglik, window, candidates, weights, (self.passes, training_weight))
        if window == "auto":
            self.inference_window_ = chosen[0]
        if passes == "auto":
            self.inference_passes_ = chosen[1]
        if weight == "auto":
            self.inference_document_weight_ = chosen[2]
        return chosen

    def _after_training(self, sample: Corpus) -> None:
        settings = (
            window_setting(self.inference_window),
            passes_setting(self.inference_passes),
            weight_setting(self.inference_document_weight),
        )
        if "auto" in settings:
            try:
                self.choose_inference(sample)
            except NothingToScore:
                pass  # the training contexts, as for a model made by from_phi

    def _restore_settled(self, state: dict[str, Any]) -> None:
        unknown = set(state) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown settled attributes {sorted(unknown)}")
        for name, value in state.items():
            check, kind = SETTINGS[name]
            setting = check(value)
            # A settled value is a number: "auto" and None are settings, not choices.
            if not isinstance(setting, kind):
                raise ValueError(f"{name} must be a number, not {setting!r}")
            setattr(self, f"{name}_", setting)
