"""Scale-out on Ray (``pip install "attartm[ray]"``).

* :func:`tag` tags a ``ray.data.Dataset`` of texts with ``map_batches`` over Arrow batches:
  a callable class loads the model once per actor.
* :func:`fit_online` is the batch-online algorithm of docs/mathematics.md §4 with the E-steps
  of each update window running as Ray tasks (Φ and n_t shared through the object store); each
  task returns ñ_wt of the words its batch touched only, which the driver adds into n_wt
  in batch order before the M-step (the update of ``TopicModel.fit_online``), so the
  model equals the single-process ``fit_online`` on the same batches.

Neither can deadlock on a cluster of any size. Ray Data's read tasks ask for one CPU
each; actors that held every CPU of the cluster (``concurrency`` tagging actors of one CPU
on a cluster of ``concurrency`` CPUs) would leave the reads waiting forever, and the job
with them. So every actor or task asks for one CPU, or less (a fraction, which Ray
allows) so that together they leave one CPU of the cluster to the reads: with
``concurrency=4`` on 4 CPUs each actor asks for 0.75. A request that no cluster state
can satisfy (``num_cpus`` larger than any node, or together leaving no CPU for reading)
raises ValueError when ``tag`` or ``fit_online`` is called, checked against the cluster
as it is then.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from . import _arrays, _core
from ._model import TopicModel
from ._mstep import column_change
from ._online import OnlineSettings
from ._tagging import Tagging
from .attentive import AttentiveARTM
from .corpus import Corpus
from .persistence import build, dumps, loads
from .persistence import spec as model_spec
from .vocabulary import Vocabulary


def _ray():
    try:
        import ray
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            'attartm.ray needs Ray: pip install "attartm[ray]" (or pip install "ray[data]")'
        ) from e
    return ray


def _cpus_per_worker(ray: Any, workers: int, num_cpus: Any, what: str, *, held: bool) -> float:
    """The CPUs each of ``workers`` actors or tasks asks for: ``num_cpus`` when given, else
    1 or less so that together they leave one CPU of the cluster to Ray Data's reads (see
    the module's documentation). ``held``: the workers hold their CPUs for the whole job
    (actors), so together they must leave one free; tasks end and give theirs back."""
    if not ray.is_initialized():
        ray.init()  # what Ray Data would do when the dataset runs
    total = float(ray.cluster_resources().get("CPU", 0.0))
    nodes = [n.get("Resources", {}).get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")]
    largest = max(nodes, default=0.0)
    if total < 1:
        raise ValueError(
            f"the Ray cluster has {total:g} CPUs: Ray Data's read tasks need at least one"
        )
    if num_cpus is None:
        # Ray accepts fractions of a CPU in steps of 0.0001.
        return min(1.0, math.floor((total - 1) / workers * 10_000) / 10_000)
    cpus = _arrays.finite_float("num_cpus", num_cpus)
    if cpus < 0 or (cpus > 1 and not cpus.is_integer()):
        raise ValueError(f"num_cpus must be a fraction in [0, 1] or a whole number, not {cpus}")
    if cpus > largest:
        raise ValueError(
            f"{what} would never start: each asks for {cpus:g} CPUs, but the largest node "
            f"of the Ray cluster has {largest:g} CPUs"
        )
    if held and workers * cpus > total - 1:
        raise ValueError(
            f"{workers} {what} of {cpus:g} CPUs each would hold {workers * cpus:g} of the "
            f"cluster's {total:g} CPUs and leave none to Ray Data's read tasks (one CPU), "
            f"which would then wait forever; lower concurrency or num_cpus, or leave "
            f"num_cpus=None to ask for fractions that fit"
        )
    return cpus


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
        model.set_params(threads=1)  # one core per actor; results do not depend on it
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
    num_cpus: float | None = None,
    language: str = "en",
    stopwords: Any = True,
) -> Any:
    """Tags every document of a ``ray.data.Dataset`` with a fitted model.

    Returns a Dataset with the columns of ``model.transform`` (id + p(t|d)), or with
    ``tokens=True`` (attentive models) those of
    ``model.transform_tokens(top=top, token_ids=token_ids)``. The ``id`` column identifies
    documents across batches; ``concurrency`` actors each load the model once and tag
    on one thread. Each actor asks for ``num_cpus`` CPUs, by default one or the fraction
    that leaves a CPU of the cluster to Ray Data's reads (see the module's
    documentation); a request that could never run raises ValueError here.
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
    batch_size = _arrays.positive_int("batch_size", batch_size)
    concurrency = _arrays.positive_int("concurrency", concurrency)
    cpus = _cpus_per_worker(_ray(), concurrency, num_cpus, "tagging actors", held=True)
    return dataset.map_batches(
        _Tagger,
        fn_constructor_args=(dumps(model), settings),
        batch_format="pyarrow",
        batch_size=batch_size,
        concurrency=concurrency,
        num_cpus=cpus,
    )


def _batch_n_wt(table, text, id, words, spec, phi, n_t, options) -> tuple[np.ndarray, np.ndarray]:
    """A Ray task: ñ_wt of one batch under the driver's current Φ and topic masses n_t
    (float32), as the touched words (uint32, increasing) and their rows (float64)."""
    model = build(spec).set_params(threads=1)
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
    num_cpus: float | None = None,
    language: str = "en",
    stopwords: Any = True,
) -> TopicModel:
    """Batch-online training over a ``ray.data.Dataset`` of texts (see
    :meth:`TopicModel.fit_online`): batches of ``batch_size`` rows in dataset order, the
    E-steps of every window of ``update_every`` batches as parallel Ray tasks. Like
    ``TopicModel.fit_online`` it trains from the model's seed, not from a fitted Φ; the
    vocabulary is ``vocabulary`` (e.g. ``Vocabulary.from_parquet``) or, when omitted, the
    fitted model's. Sets ``preserve_order`` on the dataset's context (batches must come in
    dataset order for a reproducible model). Each E-step task asks for ``num_cpus`` CPUs,
    by default one or the fraction that leaves a CPU of the cluster to Ray Data's reads
    while a window's tasks run (see the module's documentation); a request that could
    never run raises ValueError here. Returns ``model``."""
    ray = _ray()
    if vocabulary is None:
        if model._vocabulary is None:
            raise ValueError("fit_online needs a vocabulary= (or a fitted model)")
        vocabulary = model._vocabulary
    if not isinstance(vocabulary, Vocabulary):
        raise TypeError("vocabulary must be an attartm.Vocabulary")
    settings = OnlineSettings.checked(update_every, tau0, kappa, decay_weight, apply_weight, epochs)
    batch_size = _arrays.positive_int("batch_size", batch_size)
    cpus = _cpus_per_worker(ray, settings.update_every, num_cpus, "E-step tasks", held=False)
    options = {"language": language, "stopwords": stopwords}
    # A Dataset runs with its own copy of the DataContext (the global one is copied when the
    # Dataset is made), so order must be asked of the dataset itself.
    dataset.context.execution_options.preserve_order = True
    words_ref = ray.put(list(vocabulary.words))
    task = ray.remote(num_cpus=cpus)(_batch_n_wt)
    spec = model_spec(model)

    def batches(epoch: int):
        return dataset.iter_batches(batch_size=batch_size, batch_format="pyarrow")

    last: list[Any] = []  # the last batch, on which the model settles (_after_training)

    def estep_window(window: list[Any]):
        last[:] = window[-1:]
        model._current()  # a task may read any row of Φ
        phi, n_t = ray.put(model._phi), ray.put(model._topic_mass())
        refs = [
            task.remote(table, text, id, words_ref, spec, phi, n_t, options) for table in window
        ]
        parts = ray.get(refs)
        touched = np.unique(np.concatenate([w for w, _ in parts]))

        def add(weight: float) -> tuple[np.ndarray, np.ndarray]:
            return column_change(
                _core.add_rows(model._n_wt, words, rows, weight) for words, rows in parts
            )

        return touched.astype(np.uint32), add

    model._run_online(batches, settings, estep_window, lambda _: vocabulary)
    model._after_training(_corpus(last[0], text, id, model._vocabulary, options))
    return model
