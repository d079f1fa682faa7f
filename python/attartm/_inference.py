"""The contexts of Attentive ARTM's inference, chosen by held-out likelihood
(docs/mathematics.md §5.1).

Training and inference read contexts of their own: the training window and passes shape
Φ (longer contexts give topics whose words share broader contexts), while the window h
(γ→ = γ← = 1/h) and the number of passes L that best predict a word from the words around
it are properties of the text and of Φ, found by maximizing the document-completion
likelihood of a sample of the training documents over h and L.
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


def best_contexts(
    loglik: Callable[[float | None, int], float],
    window: float | str | None,
    passes: Sequence[int],
    start: int,
) -> tuple[float | None, int]:
    """The window and passes of the largest ``loglik(window, passes)``, by coordinate
    ascent: the best window for the passes ``start`` (when ``window`` is "auto"; a
    number, or None for the training windows, is kept), then the best of ``passes`` at
    that window (fewer passes first, so a tie keeps the cheaper inference), then, if the
    passes changed, the best window for them within a factor 2 of the first."""
    auto = window == "auto"
    L = start if start in passes else passes[0]
    if auto:
        h, value = best_window(lambda h: loglik(h, L))
    else:
        h, value = window, loglik(window, L)  # type: ignore[arg-type]
    values = {L: value, **{other: loglik(h, other) for other in passes if other != L}}
    best = max(sorted(values), key=lambda k: values[k])
    if auto and best != L:
        u, _ = golden_section(
            lambda u: loglik(math.exp(u), best),
            max(math.log(GRID[0]), math.log(h / 2)),
            min(math.log(GRID[-1]), math.log(2 * h)),
        )
        h = min(max(math.exp(u), GRID[0]), GRID[-1])
    return h, best


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


class InferenceContexts:
    """The inference contexts of :class:`attartm.AttentiveARTM` (its ``inference_window``
    and ``inference_passes``, and what ``fit`` settles of them); a part of that class."""

    _settled = ("inference_window_", "inference_passes_")

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

    def choose_inference(self, corpus: Corpus) -> tuple[float | None, int]:
        """Chooses the contexts of inference on ``corpus`` (training documents, say): the
        window h ∈ [1, 100] (γ = 1/h both ways) and the passes L ∈ {1, 2, 3, 4} whose
        contexts maximize the document-completion likelihood of a random sample of at
        most 1,000 of its documents and 100,000 tokens (docs/mathematics.md §5.1), for
        those of
        ``inference_window`` and ``inference_passes`` that are "auto"; the chosen ones
        are kept in ``inference_window_`` and ``inference_passes_``. ``fit``,
        ``fit_online`` and ``partial_fit`` call it at their end; call it for a model made
        otherwise (``from_phi``). Returns (window, passes), the window None where
        inference reads the training windows."""
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        # On the text alone, as prediction reads a document whose labels are unknown.
        sample_ = sample(corpus.without(*corpus.modalities[1:]), self.seed)
        ev = Evaluation.completion(sample_.token_ids, sample_.doc_offsets, self.seed)
        window = window_setting(self.inference_window)
        passes = passes_setting(self.inference_passes)
        candidates = PASSES if passes == "auto" else (self.passes if passes is None else passes,)

        def loglik(h: float | None, L: int) -> float:
            total, n = self._loglik(sample_, ev, h, L)
            if n == 0:
                raise NothingToScore(
                    "the corpus has no token to score (documents of one token, or words "
                    "the model never saw): the inference contexts cannot be chosen on it"
                )
            return total / n

        chosen_window, chosen_passes = best_contexts(loglik, window, candidates, self.passes)
        if window == "auto":
            self.inference_window_ = chosen_window
        if passes == "auto":
            self.inference_passes_ = chosen_passes
        return chosen_window, chosen_passes

    def _after_training(self, sample: Corpus) -> None:
        if "auto" in (window_setting(self.inference_window), passes_setting(self.inference_passes)):
            try:
                self.choose_inference(sample)
            except NothingToScore:
                pass  # the training contexts, as for a model made by from_phi

    def _restore_settled(self, state: dict[str, Any]) -> None:
        unknown = set(state) - {"inference_window", "inference_passes"}
        if unknown:
            raise ValueError(f"unknown settled attributes {sorted(unknown)}")
        if "inference_window" in state:
            window = window_setting(state["inference_window"])
            if not isinstance(window, float):
                raise ValueError(f"inference_window must be a number, not {window!r}")
            self.inference_window_ = window
        if "inference_passes" in state:
            passes = passes_setting(state["inference_passes"])
            if not isinstance(passes, int):
                raise ValueError(f"inference_passes must be a number, not {passes!r}")
            self.inference_passes_ = passes
