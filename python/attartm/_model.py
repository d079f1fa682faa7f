"""What every attartm topic model shares: Φ and its M-step, offline and batch-online
training loops, topics, scores, and saving.

A model subclass supplies the E-step (``_estep``), document vectors (``_theta``) and the
log-likelihood of scored tokens given observed ones (``_loglik``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from . import _arrays, _core, _pyldavis, _warmstart, kernels, scores
from . import regularizers as _reg
from ._heldout import Evaluation
from ._interrupt import DeferredInterrupt
from ._params import Parameters
from ._progress import progress
from ._registry import MODEL_KINDS
from .corpus import Corpus
from .persistence import save_model
from .vocabulary import Vocabulary


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit``."""


def normalize_columns(x: np.ndarray) -> np.ndarray:
    """norm_w of docs/mathematics.md per column: max(x, 0) / Σ_w max(x, 0), uniform at 0."""
    x = np.maximum(x, 0.0)
    s = x.sum(axis=0, keepdims=True)
    out = np.divide(x, s, out=np.zeros_like(x), where=s > 0)
    out[:, (s[0] <= 0)] = 1.0 / x.shape[0]
    return out


# Rows per block of the regularized M-step: its temporaries are a few blocks, never W×T.
_BLOCK_ROWS = 1024
# Below float32's normal range a probability is noise that only risks overflow later.
_TINY = float(np.finfo(np.float32).tiny)


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


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def _random_phi(seed: int, n_words: int, n_topics: int) -> np.ndarray:
    """norm_w of a uniform random W×T matrix drawn from ``seed``, as float32, made a block
    of rows at a time (twice: the column sums first) so that no W×T float64 is held."""
    sums = np.zeros(n_topics)
    rng = np.random.default_rng(seed)
    for start in range(0, n_words, _BLOCK_ROWS):
        sums += rng.random((min(_BLOCK_ROWS, n_words - start), n_topics)).sum(axis=0)
    phi = np.empty((n_words, n_topics), dtype=np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, n_words, _BLOCK_ROWS):
        block = rng.random((min(_BLOCK_ROWS, n_words - start), n_topics))
        phi[start : start + block.shape[0]] = block / sums
    return phi


def _background(topics: Iterable[int], n_topics: int) -> tuple[int, ...]:
    """The background topic indices, checked: distinct, in range, not all topics."""
    if isinstance(topics, (str, bytes)) or not isinstance(topics, Iterable):
        raise TypeError(
            f"background_topics must be a sequence of topic indices (e.g. [{n_topics - 1}]), "
            f"not {topics!r}"
        )
    out = tuple(_arrays.positive_int("background_topics", t, minimum=0) for t in topics)
    if len(set(out)) != len(out) or any(t >= n_topics for t in out):
        raise ValueError(
            f"background_topics must be distinct indices in [0, {n_topics}), got {list(out)}"
        )
    if len(out) == n_topics:
        raise ValueError("background_topics cannot be every topic: leave some for subjects")
    return tuple(sorted(out))


def _windows(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    window: list[Any] = []
    for item in items:
        window.append(item)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


class TopicModel(Parameters):
    """Base class of the attartm models (not used directly).

    Follows scikit-learn's conventions: the constructor stores its arguments as given,
    ``fit`` (and every use of a fitted model) checks them, ``get_params``/``set_params``
    and ``sklearn.base.clone`` work, and Φ is also ``components_`` (T×W).
    """

    _kind = "base"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_kind" in cls.__dict__:
            MODEL_KINDS[cls._kind] = cls

    def __init__(
        self,
        n_topics: int,
        *,
        epochs: int = 10,
        updates_per_epoch: int = 1,
        background_topics: Iterable[int] = (),
        regularizers: Iterable[_reg.Regularizer] = (),
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        # Stored as given (scikit-learn's convention, see attartm._params): checked by
        # _checked() when they are used.
        self.n_topics = n_topics
        self.background_topics = background_topics
        self.epochs = epochs
        self.updates_per_epoch = updates_per_epoch
        self.regularizers = regularizers
        self.seed = seed
        self.threads = threads
        self._phi: np.ndarray | None = None
        self._n_wt: np.ndarray | None = None
        self._vocabulary: Vocabulary | None = None
        self.history: list[dict[str, float]] = []
        self._reset_counts()

    def _reset_counts(self) -> None:
        """The bookkeeping that keeps an update to the rows it touches (see _update): the
        model's n_wt is ``_scale · _n_wt``, ``_n_t`` and ``_positive`` are Σ_w _n_wt and
        Σ_w max(_n_wt, 0), and row w of Φ is current when ``_stamp[w] == _version``.
        Outside training ``_scale`` is 1 and every row is current."""
        self._scale = 1.0
        self._n_t: np.ndarray | None = None
        self._positive: np.ndarray | None = None
        self._stamp: np.ndarray | None = None
        self._version = 0

    # ---------------------------------------------------------------- parameters
    def _validated(self) -> dict[str, Any]:
        """Every constructor parameter checked (a clear TypeError or ValueError for a bad
        one) and in plain Python types, as saved with the model."""
        n_topics = _arrays.positive_int("n_topics", self.n_topics)
        return {
            "n_topics": n_topics,
            "epochs": _arrays.positive_int("epochs", self.epochs),
            "updates_per_epoch": _arrays.positive_int("updates_per_epoch", self.updates_per_epoch),
            "background_topics": list(_background(self.background_topics, n_topics)),
            "regularizers": _reg.check_all(self.regularizers),
            "seed": _arrays.positive_int("seed", self.seed, minimum=0),
            "threads": _arrays.threads(self.threads),
        }

    def _checked(self):
        """Checks the parameters (at the start of fit and of every use of a fitted model,
        since set_params may have changed them) and returns ``self``."""
        self._validated()
        return self

    @property
    def _regularizers(self) -> tuple[_reg.Regularizer, ...]:
        return _reg.check_all(self.regularizers)

    @property
    def _background_topics(self) -> tuple[int, ...]:
        return _background(self.background_topics, self.n_topics)

    # ---------------------------------------------------------------- fitted state
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
        """Φ = p(w|t), W×T float32; every column sums to 1. Read-only: the model checks
        its Φ once, when it changes, not at every use."""
        self._require_fitted()
        return _read_only(self._phi)

    @property
    def n_wt(self) -> np.ndarray:
        """The word–topic counts n_wt (W×T float64) of the last M-step (read-only)."""
        self._require_fitted()
        return _read_only(self._n_wt)

    @property
    def n_t(self) -> np.ndarray:
        """Topic masses n_t = Σ_w n_wt."""
        self._require_fitted()
        return self._n_t * self._scale

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary the model was trained on (row w of Φ is word w)."""
        self._require_fitted()
        return self._vocabulary  # type: ignore[return-value]

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
        **params: Any,
    ):
        """A fitted model from a given Φ (W×T, columns summing to 1), e.g. one trained by
        another library, so that it can be scored and used like any attartm model.

        ``n_wt`` defaults to Φ scaled to one unit of mass per topic; ``params`` go to the
        constructor (``n_topics`` is taken from Φ).
        """
        vocabulary = vocabulary if isinstance(vocabulary, Vocabulary) else Vocabulary(vocabulary)
        phi = _arrays.matrix("phi", phi)
        if phi.shape[0] != len(vocabulary):
            raise ValueError(
                f"phi has {phi.shape[0]} rows but the vocabulary {len(vocabulary)} words"
            )
        if (phi < 0).any():
            raise ValueError("phi must be non-negative")
        model = cls(n_topics=phi.shape[1], **params)._checked()
        phi = normalize_columns(phi.astype(np.float64)).astype(np.float32)
        if n_wt is None:
            n_wt = phi.astype(np.float64)
        else:
            n_wt = np.asarray(n_wt, dtype=np.float64)
            if n_wt.shape != phi.shape or not np.isfinite(n_wt).all() or (n_wt < 0).any():
                raise ValueError(f"n_wt must be a finite, non-negative {phi.shape} array")
        model._set_fitted(vocabulary, phi, n_wt)
        return model

    def _set_fitted(self, vocabulary: Vocabulary, phi: np.ndarray, n_wt: np.ndarray) -> None:
        """Installs a fitted state (Φ finite, non-negative, W×T float32; n_wt finite)."""
        self._vocabulary = vocabulary
        self._phi = np.ascontiguousarray(phi, dtype=np.float32)
        self._n_wt = np.ascontiguousarray(n_wt, dtype=np.float64)
        self._reset_counts()
        self._n_t = self._n_wt.sum(axis=0)
        self._stamp = np.zeros(len(vocabulary), dtype=np.int64)

    # ---------------------------------------------------------------- training
    def _initialize(self, vocabulary: Vocabulary) -> None:
        n_words = len(vocabulary)
        if n_words < 1:
            raise ValueError("the corpus vocabulary is empty: there is nothing to model")
        for r in self._phi_regularizers():
            r.check(n_words, self.n_topics)
        self._vocabulary = vocabulary
        self._phi = _random_phi(self.seed, n_words, self.n_topics)
        # Zero pages cost no memory until written: rows no batch touches never do.
        self._n_wt = np.zeros((n_words, self.n_topics))
        self._reset_counts()
        self._n_t = np.zeros(self.n_topics)
        self._positive = np.zeros(self.n_topics)
        self._stamp = np.zeros(n_words, dtype=np.int64)
        self.history = []

    def _check_corpus(self, corpus: Any, *, fitted: bool = True) -> Corpus:
        if not isinstance(corpus, Corpus):
            raise TypeError(
                f"expected an attartm.Corpus, not {type(corpus).__name__}; build one with "
                f"Corpus.from_polars / from_texts / from_parquet / from_token_ids"
            )
        if fitted and self._vocabulary is not None and corpus.vocabulary != self._vocabulary:
            raise ValueError(
                "the corpus was built with a different vocabulary than the model's; build it "
                "with vocabulary=model.vocabulary so that token ids match the rows of phi"
            )
        return corpus

    def _phi_regularizers(self) -> list[_reg.PhiRegularizer]:
        regs = [r for r in self._regularizers if isinstance(r, _reg.PhiRegularizer)]
        background = self._background_topics
        if background:
            regs.append(_reg.BackgroundPhi(1.0, topics=background))
        return regs

    def _update(self, decay: float, apply: float, words: np.ndarray, add) -> None:
        """n_wt := δ n_wt + α ñ_wt, then the M-step φ = norm_w(n_wt + φ ∂R/∂φ).

        ``words`` are the rows ñ_wt touches (uint32, increasing) and ``add(weight)`` adds
        weight · ñ_wt into ``_n_wt``. With n_wt = scale · _n_wt, δ only multiplies the
        scale and α ñ_wt enters as (α / scale) ñ_wt; the column sums follow from the
        touched rows before and after. Without Φ regularizers the M-step is then O(T):
        Φ's rows are brought up to date when an E-step is about to read them
        (``_current``). With them it is one in-place pass over Φ.
        """
        self._decay(decay)
        total, positive = _core.row_sums(self._n_wt, words)
        add(apply / self._scale)
        new_total, new_positive = _core.row_sums(self._n_wt, words)
        self._n_t += new_total - total
        self._positive += new_positive - positive
        self._version += 1
        if self._phi_regularizers():
            self._regularized_mstep()

    def _decay(self, decay: float) -> None:
        """n_wt := δ n_wt: on the scale alone, unless δ ≤ 0 or the scale would leave the
        range where _n_wt = n_wt / scale stays comfortably finite; then in place."""
        scale = self._scale * decay
        if decay > 0 and 1e-150 < scale < 1e150:
            self._scale = scale
            return
        self._n_wt *= scale
        self._n_t *= scale
        if scale >= 0:
            self._positive *= scale
        else:
            everything = np.arange(self._n_wt.shape[0], dtype=np.uint32)
            self._positive = _core.row_sums(self._n_wt, everything)[1]
        self._scale = 1.0

    def _current(self, words: np.ndarray | None = None) -> None:
        """Brings Φ's rows ``words`` (all when None) up to date with n_wt (see _update)."""
        if words is None:
            stale = np.flatnonzero(self._stamp != self._version)
        else:
            stale = words[self._stamp[words] != self._version]
        if stale.size:
            stale = stale.astype(np.uint32)
            _core.refresh_rows(self._phi, self._n_wt, self._positive, stale)
            self._stamp[stale] = self._version

    def _sync(self) -> None:
        """Every row of Φ current and the scale folded into n_wt: the state outside
        training."""
        self._current()
        if self._scale != 1.0:
            self._n_wt *= self._scale
            self._n_t *= self._scale
            self._positive *= self._scale
            self._scale = 1.0

    def _finish(self) -> None:
        """The state after training: synced, and n_t the exact column sums of n_wt (the
        running sums of the updates differ from them by rounding), as a reloaded model
        computes them."""
        self._sync()
        self._n_t = self._n_wt.sum(axis=0)

    def _regularized_mstep(self) -> None:
        """φ = norm_w(n_wt + Σ φ ∂R/∂φ) in place, a block of rows at a time: one pass for
        the column sums, one to write Φ (the terms read the old Φ, row by row)."""
        regs = self._phi_regularizers()
        local = [r for r in regs if r.row_local]
        whole = [r for r in regs if not r.row_local]
        # A regularizer that needs all of Φ at once gets it, as a W×T term.
        extra = None
        if whole:
            n_wt = self._n_wt * self._scale
            extra = _reg.phi_term(whole, self._phi, n_wt)
            del n_wt
        n_words = self._n_wt.shape[0]

        def block(start: int) -> tuple[slice, np.ndarray]:
            rows = slice(start, min(start + _BLOCK_ROWS, n_words))
            n_wt = self._n_wt[rows] * self._scale
            x = n_wt.copy()
            for r in local:
                x += r.phi_term(self._phi[rows], n_wt, rows)
            if extra is not None:
                x += extra[rows]
            return rows, np.maximum(x, 0.0, out=x)

        sums = np.zeros(self.n_topics)
        for start in range(0, n_words, _BLOCK_ROWS):
            sums += block(start)[1].sum(axis=0)
        empty = sums <= 0
        inverse = np.divide(1.0, sums, out=np.zeros_like(sums), where=~empty)
        for start in range(0, n_words, _BLOCK_ROWS):
            rows, x = block(start)
            x *= inverse
            x[:, empty] = 1.0 / n_words
            x[x < _TINY] = 0.0
            self._phi[rows] = x
        self._stamp[:] = self._version

    def _touched(self, data: Any) -> np.ndarray:
        """The rows of n_wt an E-step over ``data`` touches (uint32, increasing)."""
        return _core.distinct_words(self._words_of(data), self._n_wt.shape[0])

    def _estep_into(self, datas: list[Any], words: np.ndarray | None = None):
        """(words, add) of an update whose ñ_wt is the E-steps over ``datas`` with the
        current Φ, added straight into n_wt; ``words`` are the rows they touch when known."""
        if words is None and len(datas) == 1:
            words = self._touched(datas[0])
        elif words is None:
            words = _core.distinct_words(
                np.concatenate([self._touched(d) for d in datas]), self._n_wt.shape[0]
            )
        self._current(words)
        n_t = self._topic_mass()

        def add(weight: float) -> None:
            for data in datas:
                self._estep(data, n_t, accumulate=True, into=self._n_wt, weight=weight)

        return words, add

    def fit(
        self,
        corpus: Corpus,
        epochs: int | None = None,
        *,
        progress_bar: bool | None = None,
        callback: Callable[[TopicModel, int], Any] | None = None,
    ):
        """EM over the whole corpus for ``epochs`` passes (default: the model's ``epochs``).

        With ``updates_per_epoch`` U = 1 this is offline EM: every epoch is a full E-step,
        then n_wt := ñ_wt and the M-step. With U > 1 it is stepwise EM
        (docs/mathematics.md §4): the corpus is cut into U batches of consecutive
        documents, and after each batch n_wt := (1 − 1/U) n_wt + ñ_wt(batch), then the
        M-step, so Φ improves U times per pass at the cost of one E-step.

        Starts from a random Φ drawn from ``seed``; ``callback(model, epoch)`` runs after
        every epoch (epoch counts from 1), e.g. to track scores. Returns ``self``.

        Ctrl-C (SIGINT) ends training after the update of Φ in progress: the model keeps
        every completed update (``epochs_done_`` complete epochs, ``updates_done_``
        updates) and ``KeyboardInterrupt`` is raised; a second Ctrl-C raises at once and
        discards the model. Any other failure discards it too.
        """
        self._checked()
        corpus = self._check_corpus(corpus, fitted=False)
        epochs = self.epochs if epochs is None else _arrays.positive_int("epochs", epochs)
        self._initialize(corpus.vocabulary)
        try:
            updates = min(self.updates_per_epoch, corpus.n_documents)
            if updates == 1:
                datas = [self._prepare(corpus)]
            else:
                size = math.ceil(corpus.n_documents / updates)
                datas = [self._prepare(batch) for batch in corpus.batches(size)]
            # A batch touches the same rows in every epoch: find them once.
            touched = [self._touched(data) for data in datas]
            # One batch: n_wt := ñ_wt, an update that forgets everything before it.
            decay = 1.0 - 1.0 / len(datas) if len(datas) > 1 else 0.0
            desc = f"{type(self).__name__} fit"
            self.epochs_done_ = self.updates_done_ = 0
            with DeferredInterrupt() as interrupt:
                for epoch in progress(range(epochs), enabled=progress_bar, desc=desc):
                    for data, words in zip(datas, touched):
                        self._update(decay, 1.0, *self._estep_into([data], words))
                        self.updates_done_ += 1
                        if interrupt.received:
                            break
                    self.epochs_done_ = self.updates_done_ // len(datas)
                    if interrupt.received:
                        break
                    if callback is not None:
                        self._sync()
                        callback(self, epoch + 1)
            self._finish()
        except BaseException:
            self._forget()  # a failed fit must not leave a model that looks fitted
            raise
        if interrupt.received:
            raise KeyboardInterrupt(self._interrupted_message(f"{epochs} epochs"))
        return self

    def _interrupted_message(self, planned: str) -> str:
        return (
            f"training interrupted after {self.epochs_done_} complete epochs "
            f"({self.updates_done_} updates of Φ) of {planned}; the model keeps every "
            "completed update (epochs_done_, updates_done_)"
        )

    def _forget(self) -> None:
        self._phi = self._n_wt = self._vocabulary = None
        self._reset_counts()
        self.__dict__.pop("epochs_done_", None)
        self.__dict__.pop("updates_done_", None)

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

        def estep_window(window: list[Any]):
            checked = [self._check_corpus(b, fitted=not warm) for b in window]
            if warm:
                checked = [_warmstart.adopt(self, b, grow) for b in checked]
            return self._estep_into([self._prepare(b) for b in checked])

        def vocabulary_of(batch: Any) -> Vocabulary:
            return self._check_corpus(batch).vocabulary

        return self._run_online(batches, settings, estep_window, vocabulary_of, warm=warm)

    def _run_online(
        self,
        batches: Callable[[int], Iterable[Any]],
        settings: OnlineSettings,
        estep_window: Callable[[list[Any]], tuple[np.ndarray, Callable[[float], None]]],
        vocabulary_of: Callable[[Any], Vocabulary],
        *,
        warm: bool = False,
    ):
        """The batch-online loop over ``batches(epoch)``: for every window of
        ``update_every`` batches, ``estep_window`` gives (words, add) for ``_update``: the
        rows their ñ_wt touches and how to add it into n_wt (all E-steps of a window use
        the same Φ, so they may run in parallel anywhere; their ñ_wt enter in batch
        order). ``vocabulary_of`` reads the vocabulary of the first batch of an unfitted
        model. ``warm``: continue a fitted model and its counters (partial_fit) instead of
        starting anew."""
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
        # What a failure may keep: a warm model that is not in the middle of an update.
        keep = warm and self._phi is not None
        try:
            with DeferredInterrupt() as interrupt:
                for epoch in range(settings.epochs):
                    for window in _windows(batches(epoch), settings.update_every):
                        if self._phi is None:
                            self._initialize(vocabulary_of(window[0]))
                        words, add = estep_window(window)
                        self.updates_done_ += 1
                        keep = False
                        self._update(*settings.weights(self.updates_done_), words, add)
                        keep = warm
                        if interrupt.received:
                            break
                    if interrupt.received:
                        break
                    self.epochs_done_ = start + epoch + 1
            if self.updates_done_ == updates:
                raise ValueError(
                    f"{'partial_fit' if warm else 'fit_online'} got no batches: the corpus or "
                    "iterable is empty"
                )
            self._finish()
        except BaseException:
            if keep:
                self._finish()
            else:
                self._forget()
            raise
        if interrupt.received:
            planned = "this partial_fit" if warm else f"{settings.epochs} epochs"
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

    # ---------------------------------------------------------------- to implement
    def _prepare(self, corpus: Corpus) -> Any:
        """Whatever the E-step needs from a corpus, computed once per fit."""
        return corpus

    def _words_of(self, data: Any) -> np.ndarray:  # pragma: no cover
        """The word ids an E-step over ``data`` reads (uint32, any order, repeats allowed)."""
        raise NotImplementedError

    def _estep(self, data: Any, n_t: np.ndarray, **sums: Any) -> Any:  # pragma: no cover
        """The E-step over ``data`` with Φ and the topic masses ``n_t`` (float32): ñ_wt as
        ``sums`` ask (the ``accumulate``, ``into`` and ``weight`` of attartm.kernels)."""
        raise NotImplementedError

    def _theta(self, corpus: Corpus) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _loglik(self, corpus: Corpus, ev: Evaluation) -> tuple[float, int]:  # pragma: no cover
        """Σ ln p(w) over the scored tokens of ``ev`` (topics inferred from the observed
        ones), and how many were scored."""
        raise NotImplementedError

    # ---------------------------------------------------------------- outputs
    def to_pyldavis(self, corpus: Corpus | Iterable[Corpus]) -> dict[str, Any]:
        """The keyword arguments of ``pyLDAvis.prepare`` for this model on ``corpus``.

        Parameters
        ----------
        corpus : Corpus or iterable of Corpus
            The documents to show, built with the model's vocabulary; or batches of them
            (e.g. ``Corpus.scan_parquet(...)``), read once, for a corpus larger than memory.

        Returns
        -------
        dict
            ``topic_term_dists`` (T×W, p(w|t)), ``doc_topic_dists`` (D×T, p(t|d) as
            ``transform`` infers it), ``doc_lengths`` (D), ``vocab`` (W words) and
            ``term_frequency`` (W, each word's count in ``corpus``): numpy arrays and a list.
            Use as ``pyLDAvis.prepare(**model.to_pyldavis(corpus))``.
        """
        self._require_fitted()
        return _pyldavis.arguments(
            self.phi, self._vocabulary.words,
            lambda batch: self.transform(batch).select(self.topic_names).to_numpy(), corpus,
        )  # fmt: skip

    def topics(self, k: int = 10) -> pl.DataFrame:
        """The top ``k`` words of every topic: columns topic, rank, word, weight (p(w|t))
        and background (whether the topic is one of ``background_topics``)."""
        self._require_fitted()
        k = min(_arrays.positive_int("k", k), len(self._vocabulary))
        top = scores.top_words(self._phi, k)  # T×k word ids
        words = np.asarray(self._vocabulary.words, dtype=object)
        weights = np.take_along_axis(self._phi.T, top, axis=1)
        topic = np.repeat(np.arange(self.n_topics, dtype=np.int64), k)
        return pl.DataFrame(
            {
                "topic": topic,
                "rank": np.tile(np.arange(1, k + 1, dtype=np.int64), self.n_topics),
                "word": words[top.ravel()].tolist(),
                "weight": weights.ravel().astype(np.float64),
                "background": np.isin(topic, self._background_topics),
            }
        )

    def transform(self, corpus: Corpus, method: str = "model") -> pl.DataFrame:
        """p(t|d) of every document: a polars frame with ``id`` and one column per topic.

        ``method="model"`` infers θ the model's own way; ``method="linear"`` uses the
        one-pass linear topicization θ_td = Σ_w (n_dw / n_d) p(t|w) of Θ-less ARTM, the
        fastest way to vectorize documents with any fitted model.
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        if method == "model":
            theta = self._theta(corpus)
        elif method == "linear":
            theta = self._linear_theta(corpus.token_ids, corpus.doc_offsets)
        else:
            raise ValueError(f'method must be "model" or "linear", not {method!r}')
        frame = pl.DataFrame(theta, schema=self.topic_names)
        return frame.insert_column(0, corpus.ids.alias("id"))

    def fit_transform(self, corpus: Corpus, method: str = "model", **fit_args: Any) -> pl.DataFrame:
        """``fit(corpus, **fit_args)``, then ``transform(corpus, method)``."""
        return self.fit(corpus, **fit_args).transform(corpus, method)

    def _topic_mass(self) -> np.ndarray:
        """n_t as float32 for the kernels; before the first M-step there is no mass yet,
        and ones make p(t|w) start as φ normalized over topics."""
        n_t = self._n_t * self._scale
        return np.ones(self.n_topics, np.float32) if n_t.sum() <= 0 else n_t.astype(np.float32)

    def _known_words(self) -> np.ndarray:
        """Words seen in training (n_w > 0): the only ones a perplexity counts."""
        return self._n_wt.sum(axis=1) > 0

    def _linear_theta(self, tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        return kernels._linear_theta(
            tokens, offsets, self._phi, self._topic_mass(), counts=None, threads=self.threads,
            checked_phi=True,
        )  # fmt: skip

    def perplexity(self, corpus: Corpus, *, heldout: bool = True, seed: int = 0) -> float:
        """Perplexity exp(−mean ln p(w)) of the corpus's tokens.

        ``heldout=True``: document completion (docs/mathematics.md §5): every other token (random
        parity per document, from ``seed``) infers the topics and the others are scored, so
        no token sees itself. ``heldout=False``: training perplexity: every token infers
        and is scored. Tokens whose word never occurred in training are not counted.
        """
        self._require_fitted()
        corpus = self._check_corpus(corpus)
        tokens, offsets = corpus.token_ids, corpus.doc_offsets
        ev = (
            Evaluation.completion(tokens, offsets, seed)
            if heldout
            else Evaluation.whole(tokens, offsets)
        )
        total, n = self._loglik(corpus, ev)
        if n == 0:
            raise ValueError("the corpus has no token to evaluate (all documents too short?)")
        return math.exp(-total / n)

    def score(
        self, test: Corpus, reference: Corpus | None = None, *, seed: int = 0
    ) -> dict[str, float]:
        """All scores of docs/mathematics.md on a test corpus.

        ``perplexity`` is held-out (document completion). Coherence of the top-10 words
        over ``reference`` (the test corpus when omitted): ``npmi`` from document
        co-occurrence, ``c_npmi_10`` and ``c_npmi_110`` from sliding windows of 10 and 110
        tokens, equal to gensim's ``CoherenceModel(coherence="c_npmi")`` (see
        :func:`attartm.scores.coherence`).
        """
        self._require_fitted()
        test = self._check_corpus(test)
        if reference is not None:
            reference = self._check_corpus(reference)
        phi = self._phi
        theta = self._theta(test)
        out = {
            "perplexity": self.perplexity(test, seed=seed),
            "sparsity_phi": scores.sparsity(phi),
            "sparsity_theta": scores.sparsity(theta),
            "diversity": scores.topic_diversity(phi, k=min(25, phi.shape[0])),
            "js_distance": scores.mean_js_distance(phi),
        }
        ref = reference if reference is not None else test
        topn = min(10, phi.shape[0])
        out["npmi"] = scores.coherence(phi, ref, window=None, topn=topn, threads=self.threads)
        for window in (10, 110):
            out[f"c_npmi_{window}"] = scores.coherence(
                phi, ref, window=window, topn=topn, threads=self.threads
            )
        kernel = scores.kernel_scores(phi, self.n_t)
        out.update({k: float(v) for k, v in kernel.items() if not k.endswith("_per_topic")})
        return out

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> None:
        """Writes the model to one portable file (atomically; see :func:`attartm.load`)."""
        self._require_fitted()
        save_model(self, path)
