"""What every attartm topic model shares: its parameters, offline training and saving.
The fitted state (``_fitted``: Φ, n_wt, the modalities), the M-step (``_mstep``),
batch-online training (``_online``) and evaluation (``_evaluation``) are parts of
:class:`TopicModel` kept in their own modules.

A model subclass supplies the E-step (``_estep``), document vectors (``_theta_of``) and the
log-likelihood of scored tokens given observed ones (``_loglik``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from . import _arrays
from . import regularizers as _reg
from ._evaluation import ModelEvaluation
from ._fitted import FittedState, NotFittedError
from ._heldout import Evaluation
from ._interrupt import DeferredInterrupt
from ._layout import Layout, check_weights
from ._mstep import MStep, SavedRows, random_phi
from ._online import OnlineTraining
from ._params import Parameters
from ._progress import progress
from ._registry import MODEL_KINDS
from .corpus import Corpus
from .persistence import save_model
from .vocabulary import Vocabulary

__all__ = ["NotFittedError", "TopicModel"]


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


class TopicModel(FittedState, OnlineTraining, MStep, ModelEvaluation, Parameters):
    """Base class of the attartm models (not used directly).

    Follows scikit-learn's conventions: the constructor stores its arguments as given,
    ``fit`` (and every use of a fitted model) checks them, ``get_params``/``set_params``
    and ``sklearn.base.clone`` work, and Φ is also ``components_`` (T×W).
    """

    _kind = "base"
    #: Fitted attributes that ``_after_training`` settles (saved with the model).
    _settled: tuple[str, ...] = ()

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
        modality_weights: Mapping[str, float] | None = None,
        seed: int = 0,
        threads: int | None = None,
    ) -> None:
        # Stored as given (scikit-learn's convention, see attartm._params): checked by
        # _checked() when they are used.
        self.n_topics = n_topics
        self.modality_weights = modality_weights
        self.background_topics = background_topics
        self.epochs = epochs
        self.updates_per_epoch = updates_per_epoch
        self.regularizers = regularizers
        self.seed = seed
        self.threads = threads
        self._phi: np.ndarray | None = None
        self._n_wt: np.ndarray | None = None
        self._layout: Layout | None = None
        self.history: list[dict[str, float]] = []
        self._reset_counts()

    def _reset_counts(self) -> None:
        """The bookkeeping that keeps an update to the rows it touches (see _update): the
        model's n_wt is ``_scale · _n_wt``, ``_n_t`` and ``_positive`` (M×T, a row per
        modality) are Σ_w _n_wt and Σ_w max(_n_wt, 0) over each modality's rows, and row w
        of Φ is current when ``_stamp[w] == _version``.
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
        weights = check_weights(self.modality_weights)
        return {
            "n_topics": n_topics,
            "epochs": _arrays.positive_int("epochs", self.epochs),
            "updates_per_epoch": _arrays.positive_int("updates_per_epoch", self.updates_per_epoch),
            "background_topics": list(_background(self.background_topics, n_topics)),
            "regularizers": _reg.check_all(self.regularizers),
            "seed": _arrays.positive_int("seed", self.seed, minimum=0),
            "threads": _arrays.threads(self.threads),
            # Only when given, so that a text-only model's file is one earlier versions read.
            **({} if weights is None else {"modality_weights": weights}),
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
    def _modality_weights(self) -> dict[str, float] | None:
        return check_weights(self.modality_weights)

    @property
    def _background_topics(self) -> tuple[int, ...]:
        return _background(self.background_topics, self.n_topics)

    # ---------------------------------------------------------------- training
    def _initialize(self, layout: Layout | Vocabulary) -> None:
        if isinstance(layout, Vocabulary):
            layout = Layout.text_only(layout, (self._modality_weights or {}).get("text", 1.0))
        if len(layout.vocabularies[0]) < 1:
            raise ValueError("the corpus vocabulary is empty: there is nothing to model")
        self._check_regularizers(layout)
        self._layout = layout
        # The text's block is the Φ of a text-only model of the same seed; every other
        # modality's block is drawn from a seed of its own.
        self._phi = np.concatenate(
            [
                random_phi(self.seed + m, len(vocabulary), self.n_topics)
                for m, vocabulary in enumerate(layout.vocabularies)
            ]
        )
        # Zero pages cost no memory until written: rows no batch touches never do.
        self._n_wt = np.zeros((layout.n_rows, self.n_topics))
        self._reset_counts()
        self._forget_settled()
        self._n_t = np.zeros((len(layout.names), self.n_topics))
        self._positive = np.zeros((len(layout.names), self.n_topics))
        self._stamp = np.zeros(layout.n_rows, dtype=np.int64)
        self.history = []

    def _check_regularizers(self, layout: Layout) -> None:
        """Every Φ regularizer fits the modalities it acts on (ValueError otherwise)."""
        for r in self._phi_regularizers():
            self._check_regularizer(r, layout)

    def _check_regularizer(self, r: _reg.PhiRegularizer, layout: Layout) -> None:
        r.check_modalities(layout.names)
        for name, vocabulary in zip(layout.names, layout.vocabularies):
            if r.acts_on(name):
                r.check(len(vocabulary), self.n_topics)
                r.for_vocabulary(vocabulary)

    def _check_corpus(self, corpus: Any, *, fitted: bool = True) -> Corpus:
        if not isinstance(corpus, Corpus):
            raise TypeError(
                f"expected an attartm.Corpus, not {type(corpus).__name__}; build one with "
                f"Corpus.from_polars / from_texts / from_parquet / from_token_ids"
            )
        if fitted and self._vocabulary is not None:
            if corpus.vocabulary != self._vocabulary:
                raise ValueError(
                    "the corpus was built with a different vocabulary than the model's; build "
                    "it with vocabulary=model.vocabulary (model.vocabularies for a corpus of "
                    "several modalities) so that token ids match the rows of phi"
                )
            self._layout.bags_of(corpus)  # checks the vocabularies of the other modalities
        return corpus

    def _phi_regularizers(self) -> list[_reg.PhiRegularizer]:
        regs = [r for r in self._regularizers if isinstance(r, _reg.PhiRegularizer)]
        background = self._background_topics
        if background:
            regs.append(_reg.BackgroundPhi(1.0, topics=background))
        return regs

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

        Ctrl-C (SIGINT) ends training within a fraction of a second: the update of Φ in
        progress is stopped (the kernels look for it between chunks) and undone, the
        model keeps every completed update (``epochs_done_`` complete epochs,
        ``updates_done_`` updates) and ``KeyboardInterrupt`` is raised. Ctrl-C during a
        callback ends training after it. Any other failure (a callback's, say) leaves the
        model of the completed updates too, and is raised; before the first one there is
        no model. Undoing costs a copy of the rows an update touches (with U = 1, all of
        n_wt, held while the epoch runs).
        """
        self._checked()
        corpus = self._check_corpus(corpus, fitted=False)
        epochs = self.epochs if epochs is None else _arrays.positive_int("epochs", epochs)
        self._initialize(Layout.of_corpus(corpus, self._modality_weights))
        self.epochs_done_ = self.updates_done_ = 0
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
            saved = SavedRows()
            with DeferredInterrupt() as interrupt:
                for epoch in progress(range(epochs), enabled=progress_bar, desc=desc):
                    for data, words in zip(datas, touched):
                        if interrupt.received:
                            break
                        with interrupt.undoable(), self._updating(decay, words, saved):
                            self._update(decay, 1.0, *self._estep_into([data], words))
                        self.updates_done_ += 1
                    self.epochs_done_ = self.updates_done_ // len(datas)
                    if interrupt.received:
                        break
                    if callback is not None:
                        self._sync()
                        callback(self, epoch + 1)
            self._finish()
            if not interrupt.received:
                self._after_training(corpus)
        except KeyboardInterrupt:
            message = self._interrupted_message(f"{epochs} epochs")
            self._keep_or_forget()
            raise KeyboardInterrupt(message) from None
        except BaseException:
            self._keep_or_forget()
            raise
        if interrupt.received:
            raise KeyboardInterrupt(self._interrupted_message(f"{epochs} epochs"))
        return self

    def _keep_or_forget(self) -> None:
        """After a failure in training: the model of the completed updates (the update
        that failed was undone), or none when there is none."""
        if getattr(self, "updates_done_", 0) > 0 and self._phi is not None:
            self._finish()
        else:
            self._forget()

    def _interrupted_message(self, planned: str) -> str:
        return (
            f"training interrupted after {self.epochs_done_} complete epochs "
            f"({self.updates_done_} updates of Φ) of {planned}; the model keeps every "
            "completed update (epochs_done_, updates_done_)"
        )

    def _forget(self) -> None:
        self._phi = self._n_wt = self._layout = None
        self._reset_counts()
        self._forget_settled()
        self.__dict__.pop("epochs_done_", None)
        self.__dict__.pop("updates_done_", None)

    # ---------------------------------------------------------------- to implement
    def _after_training(self, sample: Corpus) -> None:
        """Settles the attributes named in ``_settled`` once training succeeded, from
        ``sample``, documents it trained on (the corpus of ``fit``, the last batch of
        ``fit_online``)."""

    def _forget_settled(self) -> None:
        for name in self._settled:
            self.__dict__.pop(name, None)

    def _settled_state(self) -> dict[str, Any]:
        """The settled attributes the model has, by name without the trailing underscore
        (as a model file keeps them)."""
        return {n[:-1]: getattr(self, n) for n in self._settled if hasattr(self, n)}

    def _restore_settled(self, state: dict[str, Any]) -> None:
        """Sets settled attributes from a model file's values; ValueError for a name or
        value the model does not take."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no settled attributes: {sorted(state)}")

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

    def _loglik(self, corpus: Corpus, ev: Evaluation) -> tuple[float, int]:  # pragma: no cover
        """Σ ln p(w) over the scored tokens of ``ev`` (topics inferred from the observed
        ones), and how many were scored."""
        raise NotImplementedError

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> None:
        """Writes the model to one portable file (atomically; see :func:`attartm.load`)."""
        self._require_fitted()
        save_model(self, path)
