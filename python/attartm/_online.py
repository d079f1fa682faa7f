"""Batch-online EM (docs/mathematics.md §4): the τ0/κ schedule of update weights and
the loop that updates n_wt every ``update_every`` batches, for ``fit_online``,
``partial_fit`` and the distributed ``attartm.ray.fit_online``.

:class:`OnlineTraining` is a part of :class:`attartm.TopicModel`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _arrays, _warmstart
from ._interrupt import DeferredInterrupt
from ._layout import Layout
from ._mstep import SavedRows
from ._progress import progress
from .corpus import Corpus
from .vocabulary import Vocabulary


@dataclass(frozen=True)
class OnlineSettings:
    """The knobs of batch-online EM (see :meth:`TopicModel.fit_online`)."""

    update_every: int
    tau0: float
    kappa: float
    decay_weight: float | None
    apply_weight: float | None
    epochs: int

    @classmethod
    def checked(cls, update_every, tau0, kappa, decay_weight, apply_weight, epochs):
        """Settings from user arguments, with clear errors for bad ones."""
        tau0 = _arrays.finite_float("tau0", tau0)
        if tau0 + 1 <= 0:
            raise ValueError(f"tau0 must be greater than -1, but is {tau0}")
        decay, apply = (
            None if w is None else _arrays.finite_float(name, w)
            for name, w in (("decay_weight", decay_weight), ("apply_weight", apply_weight))
        )
        if (decay is None) != (apply is None):
            raise ValueError("give both decay_weight and apply_weight, or neither (τ0/κ schedule)")
        return cls(
            _arrays.positive_int("update_every", update_every),
            tau0,
            _arrays.finite_float("kappa", kappa),
            decay,
            apply,
            _arrays.positive_int("epochs", epochs),
        )

    def weights(self, k: int) -> tuple[float, float]:
        """(δ, α) of the k-th update (k counts from 1)."""
        if self.decay_weight is not None and self.apply_weight is not None:
            return self.decay_weight, self.apply_weight
        rho = (self.tau0 + k) ** (-self.kappa)
        return 1.0 - rho, rho


def windows(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    window: list[Any] = []
    for item in items:
        window.append(item)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


class OnlineTraining:
    """``fit_online`` and ``partial_fit``: batch-online EM over a corpus or batches."""

    def fit_online(
        self,
        corpus: Corpus | Iterable[Corpus],
        batch_size: int = 1000,
        update_every: int = 1,
        tau0: float = 1024.0,
        kappa: float = 0.7,
        decay_weight: float | None = None,
        apply_weight: float | None = None,
        *,
        epochs: int = 1,
        progress_bar: bool | None = None,
    ):
        """Batch-online EM (docs/mathematics.md §4, BigARTM's online algorithm).

        The corpus is cut into batches of ``batch_size`` documents (or given as an iterable
        of Corpus batches). Every ``update_every`` batches: n_wt := δ n_wt + α ñ_wt, then
        the M-step. δ = ``decay_weight`` and α = ``apply_weight`` when given, otherwise
        ρ = (τ0 + k)^(−κ), α = ρ, δ = 1 − ρ with k the update count. Like ``fit``, it starts
        from the random Φ of ``seed`` (a fitted model is trained anew). Returns ``self``.

        An update costs the rows its batches touch, not the vocabulary: ñ_wt is added
        straight into n_wt, and without Φ regularizers Φ's rows are renormalized when a
        batch is about to read them.
        """
        if epochs != 1 and not isinstance(corpus, Corpus) and iter(corpus) is corpus:
            raise ValueError(
                "epochs > 1 needs a Corpus or a re-iterable collection of batches (a list, "
                "Corpus.scan_parquet(...)), not a one-shot iterator"
            )
        settings = OnlineSettings.checked(
            update_every, tau0, kappa, decay_weight, apply_weight, epochs
        )
        return self._online(corpus, batch_size, settings, progress_bar, warm=False, grow=False)

    def partial_fit(
        self,
        corpus: Corpus | Iterable[Corpus],
        batch_size: int = 1000,
        update_every: int = 1,
        tau0: float = 1024.0,
        kappa: float = 0.7,
        decay_weight: float | None = None,
        apply_weight: float | None = None,
        *,
        grow_vocabulary: bool = False,
        progress_bar: bool | None = None,
    ):
        """Batch-online EM continued from the current state (warm start): one pass of
        :meth:`fit_online` over ``corpus`` (a Corpus cut into batches of ``batch_size``,
        or an iterable of Corpus batches) that starts from the model's Φ and n_wt instead
        of a random Φ, its update count k continuing from ``updates_done_`` (any earlier
        fit, fit_online or partial_fit; a loaded model keeps it), so the τ0/κ schedule
        goes on where it stopped. Calls over batches 1..k, one at a time, give the model
        that one ``fit_online`` over the same batches gives (windows of ``update_every``
        batches do not span calls). On an unfitted model it starts like ``fit_online``,
        from the random Φ of ``seed``. Returns ``self``.

        A batch must share the model's vocabulary, unless ``grow_vocabulary=True``: then
        the words it brings that the model lacks are appended to the vocabulary with rows
        n_wt = 0 and φ = 0 (docs/mathematics.md §4), and its tokens re-mapped, so that a
        model can follow a stream whose vocabulary changes.

        A bad batch raises and leaves the model as its last completed update left it; Ctrl-C
        ends after the update in progress, as in :meth:`fit`; a failure during an update
        discards the model.
        """
        if not isinstance(grow_vocabulary, bool):
            raise TypeError(f"grow_vocabulary must be True or False, not {grow_vocabulary!r}")
        settings = OnlineSettings.checked(update_every, tau0, kappa, decay_weight, apply_weight, 1)
        return self._online(
            corpus, batch_size, settings, progress_bar, warm=True, grow=grow_vocabulary
        )

    def _online(
        self,
        corpus: Corpus | Iterable[Corpus],
        batch_size: int,
        settings: OnlineSettings,
        progress_bar: bool | None,
        *,
        warm: bool,
        grow: bool,
    ):
        """fit_online (``warm=False``) or partial_fit (``warm=True``) over a Corpus or an
        iterable of batches, the E-steps in this process."""
        batch_size = _arrays.positive_int("batch_size", batch_size)
        name = "partial_fit" if warm else "online"

        def batches(epoch: int) -> Iterator[Corpus]:
            return progress(
                self._batches(corpus, batch_size, reuse=epoch > 0),
                enabled=progress_bar,
                desc=f"{type(self).__name__} {name} epoch {epoch + 1}",
            )

        last: list[Corpus] = []  # the last batch, on which the model settles (_after_training)

        def estep_window(window: list[Any]):
            checked = [self._check_corpus(b, fitted=not warm) for b in window]
            if warm:
                checked = [_warmstart.adopt(self, b, grow) for b in checked]
            last[:] = checked[-1:]
            return self._estep_into([self._prepare(b) for b in checked])

        def layout_of(batch: Any) -> Layout:
            return Layout.of_corpus(self._check_corpus(batch), self._modality_weights)

        self._run_online(batches, settings, estep_window, layout_of, warm=warm)
        self._after_training(last[0])
        return self

    def _run_online(
        self,
        batches: Callable[[int], Iterable[Any]],
        settings: OnlineSettings,
        estep_window: Callable[[list[Any]], tuple[np.ndarray, Callable[[float], None]]],
        layout_of: Callable[[Any], Layout | Vocabulary],
        *,
        warm: bool = False,
    ):
        """The batch-online loop over ``batches(epoch)``: for every window of
        ``update_every`` batches, ``estep_window`` gives (words, add) for ``_update``: the
        rows their ñ_wt touches and how to add it into n_wt (all E-steps of a window use
        the same Φ, so they may run in parallel anywhere; their ñ_wt enter in batch
        order). ``layout_of`` reads the modalities (or the vocabulary) of the first batch
        of an unfitted model. ``warm``: continue a fitted model and its counters
        (partial_fit) instead of starting anew."""
        self._checked()
        if warm and self._phi is not None:
            self._require_fitted()
            _warmstart.resume(self)
            self.epochs_done_ = getattr(self, "epochs_done_", 0)
            self.updates_done_ = getattr(self, "updates_done_", 0)
        else:
            self._forget()
            self.epochs_done_ = self.updates_done_ = 0
        start, updates = self.epochs_done_, self.updates_done_
        # What a failure keeps: the model of the completed updates (the failed one is
        # undone), the warm model before this call when none completed.
        keep = warm and self._phi is not None
        planned = "this partial_fit" if warm else f"{settings.epochs} epochs"
        saved = SavedRows()
        try:
            with DeferredInterrupt() as interrupt:
                for epoch in range(settings.epochs):
                    for window in windows(batches(epoch), settings.update_every):
                        if interrupt.received:
                            break
                        if self._phi is None:
                            self._initialize(layout_of(window[0]))
                        words, add = estep_window(window)
                        decay, apply = settings.weights(self.updates_done_ + 1)
                        with interrupt.undoable(), self._updating(decay, words, saved):
                            self._update(decay, apply, words, add)
                        self.updates_done_ += 1
                        keep = True
                    if interrupt.received:
                        break
                    self.epochs_done_ = start + epoch + 1
            if self.updates_done_ == updates:
                raise ValueError(
                    f"{'partial_fit' if warm else 'fit_online'} got no batches: the corpus or "
                    "iterable is empty"
                )
            self._finish()
        except BaseException as error:
            message = self._interrupted_message(planned)
            if keep:
                self._finish()
            else:
                self._forget()
            if isinstance(error, KeyboardInterrupt):
                raise KeyboardInterrupt(message) from None
            raise
        if interrupt.received:
            raise KeyboardInterrupt(self._interrupted_message(planned))
        return self

    def _batches(self, data, batch_size: int, *, reuse: bool) -> Iterator[Corpus]:
        if isinstance(data, Corpus):
            if data.n_tokens == 0:
                raise ValueError("the corpus has no tokens")
            yield from data.batches(batch_size)
            return
        if reuse and iter(data) is data:
            raise ValueError("epochs > 1 needs a Corpus or a re-iterable collection of batches")
        yield from data
