"""Scale-out on Ray (``pip install "attartm[ray]"``).

* :func:`tag` tags a ``ray.data.Dataset`` of texts with ``map_batches`` over Arrow batches:
  a callable class loads the model once per actor.
* :func:`fit_online` is the batch-online algorithm of DESIGN 1.1 with the E-steps of each
  update window running as Ray tasks (Φ and n_t shared through the object store); each
  task returns ñ_wt of the words its batch touched only, which the driver adds into n_wt
  in batch order before the M-step (the update of ``TopicModel.fit_online``), so the
  model equals the single-process ``fit_online`` on the same batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from . import _arrays, _core
from . import regularizers as _reg
from ._model import OnlineSettings, TopicModel
from ._tagging import Tagging
from .attentive import AttentiveARTM
from .corpus import Corpus
from .persistence import _model_classes, dumps, loads
from .vocabulary import Vocabulary


def _ray():
    try:
        import ray
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            'attartm.ray needs Ray: pip install "attartm[ray]" (or pip install "ray[data]")'
        ) from e
    return ray


def _corpus(table: Any, text: str, id: str | None, vocabulary: Vocabulary, options) -> Corpus:
    frame = pl.from_arrow(table)
    if not isinstance(frame, pl.DataFrame):
        frame = frame.to_frame()
    return Corpus.from_polars(
        frame, text=text, id=id, vocabulary=vocabulary, allow_empty=True, **options
    )


class _Tagger:
    """One per Ray actor: the model is loaded once, then every batch is tagged the way
    ``attartm tag`` tags one (``Tagging.tag_frame``)."""

    def __init__(self, model: bytes, settings: dict[str, Any]) -> None:
        model = loads(model)
        model.threads = 1  # one core per actor; results do not depend on it
        self.job = Tagging(model, **settings)

    def __call__(self, table: Any) -> Any:
        frame = pl.from_arrow(table)
        if not isinstance(frame, pl.DataFrame):
            frame = frame.to_frame()
        return self.job.tag_frame(frame).to_arrow(compat_level=pl.CompatLevel.oldest())


def tag(
    dataset: Any,
    model: TopicModel,
    *,
    text: str = "text",
    id: str = "id",
    tokens: bool = False,
    top: int | None = None,
    token_ids: bool = False,
    batch_size: int = 1000,
    concurrency: int = 1,
    language: str = "en",
    stopwords: Any = True,
) -> Any:
    """Tags every document of a ``ray.data.Dataset`` with a fitted model.

    Returns a Dataset with the columns of ``model.transform`` (id + p(t|d)), or with
    ``tokens=True`` (attentive models) those of
    ``model.transform_tokens(top=top, token_ids=token_ids)``. The ``id`` column identifies
    documents across batches; ``concurrency`` actors each load the model once.
    """
    model._require_fitted()
    if tokens and not isinstance(model, AttentiveARTM):
        raise ValueError("tokens=True needs an AttentiveARTM (per-token topics)")
    if id is None:
        raise ValueError("tag needs an id column, so that rows can be matched to documents")
    settings = {
        "text": text, "id": id, "tokens": tokens, "top": top, "token_ids": token_ids,
        "language": language, "stopwords": stopwords,
    }  # fmt: skip
    Tagging(model, **settings)  # checks the settings here, not in every actor
    return dataset.map_batches(
        _Tagger,
        fn_constructor_args=(dumps(model), settings),
        batch_format="pyarrow",
        batch_size=_arrays.positive_int("batch_size", batch_size),
        concurrency=_arrays.positive_int("concurrency", concurrency),
    )


def _batch_n_wt(table, text, id, words, spec, phi, n_t, options) -> tuple[np.ndarray, np.ndarray]:
    """A Ray task: ñ_wt of one batch under the driver's current Φ and topic masses n_t
    (float32), as the touched words (uint32, increasing) and their rows (float64)."""
    model = _model_classes()[spec["class"]](
        **{**spec["params"], "threads": 1},
        regularizers=[_reg.from_dict(d) for d in spec["regularizers"]],
    )
    model._vocabulary = _vocabulary(words)
    model._phi = phi  # the driver's, checked when it changed
    corpus = _corpus(table, text, id, model._vocabulary, options)
    return model._estep(model._prepare(corpus), n_t, accumulate="rows")


_VOCABULARIES: dict[int, Vocabulary] = {}


def _vocabulary(words: list[str]) -> Vocabulary:
    # Tasks of one job share a worker process: build the vocabulary's index only once.
    key = hash(tuple(words))
    if key not in _VOCABULARIES:
        _VOCABULARIES.clear()
        _VOCABULARIES[key] = Vocabulary(words)
    return _VOCABULARIES[key]


def fit_online(
    dataset: Any,
    model: TopicModel,
    *,
    text: str = "text",
    id: str | None = None,
    vocabulary: Vocabulary | None = None,
    batch_size: int = 1000,
    update_every: int = 1,
    tau0: float = 1024.0,
    kappa: float = 0.7,
    decay_weight: float | None = None,
    apply_weight: float | None = None,
    epochs: int = 1,
    language: str = "en",
    stopwords: Any = True,
) -> TopicModel:
    """Batch-online training over a ``ray.data.Dataset`` of texts (see
    :meth:`TopicModel.fit_online`): batches of ``batch_size`` rows in dataset order, the
    E-steps of every window of ``update_every`` batches as parallel Ray tasks. Like
    ``TopicModel.fit_online`` it trains from the model's seed, not from a fitted Φ; the
    vocabulary is ``vocabulary`` (e.g. ``Vocabulary.from_parquet``) or, when omitted, the
    fitted model's. Sets ``preserve_order`` on the dataset's context (batches must come in
    dataset order for a reproducible model). Returns ``model``."""
    ray = _ray()
    if vocabulary is None:
        if model._vocabulary is None:
            raise ValueError("fit_online needs a vocabulary= (or a fitted model)")
        vocabulary = model._vocabulary
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError("vocabulary must be an attartm.Vocabulary")
    settings = OnlineSettings.checked(update_every, tau0, kappa, decay_weight, apply_weight, epochs)
    batch_size = _arrays.positive_int("batch_size", batch_size)
    options = {"language": language, "stopwords": stopwords}
    # A Dataset runs with its own copy of the DataContext (the global one is copied when the
    # Dataset is made), so order must be asked of the dataset itself.
    dataset.context.execution_options.preserve_order = True
    words_ref = ray.put(list(vocabulary.words))
    task = ray.remote(num_cpus=1)(_batch_n_wt)
    spec = {
        "class": type(model).__name__,
        "params": model.get_params(),
        "regularizers": [r.to_dict() for r in model.regularizers],
    }

    def batches(epoch: int):
        return dataset.iter_batches(batch_size=batch_size, batch_format="pyarrow")

    def estep_window(window: list[Any]):
        model._current()  # a task may read any row of Φ
        phi, n_t = ray.put(model._phi), ray.put(model._topic_mass())
        refs = [
            task.remote(table, text, id, words_ref, spec, phi, n_t, options) for table in window
        ]
        parts = ray.get(refs)
        touched = np.unique(np.concatenate([w for w, _ in parts]))

        def add(weight: float) -> None:
            for words, rows in parts:
                _core.add_rows(model._n_wt, words, rows, weight)

        return touched.astype(np.uint32), add

    return model._run_online(batches, settings, estep_window, lambda _: vocabulary)
