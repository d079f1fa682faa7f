"""Saving and loading models: one portable zip file, no pickle.

The file holds exactly three members: ``model.json`` (format name and version, model
class and parameters, regularizers, vocabulary, the training counters ``epochs_done`` and
``updates_done`` when the model has them, the attributes it settled after training
(``settled``, e.g. the inference window), and for a model of several modalities their
names, weights and vocabularies (``modalities``, format version 2); deflated) and
``phi.npy`` (W×T float32) and ``n_wt.npy`` (W×T float64), stored as they are (files of
earlier versions deflated them, which loads the same). W counts the rows of every
modality, the text's first; each modality's block of Φ has columns summing to 1. It is
written to a temporary file beside the target and renamed, so an interrupted save never
leaves a half-written model.

A model file is untrusted input: ``_model_file`` reads nothing it has not bounded first
(the zip directory, the ``.npy`` headers, the size of ``model.json``, then the arrays);
here ``model.json``'s fields are checked one by one, the model built from them, and its
vocabulary of W words and its T topics matched against the arrays' shapes.

Every failure is a ValueError naming the member and the problem. Machine settings
(``threads``) are neither saved nor taken from a file: a loaded model uses all cores
until told otherwise.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import regularizers as _reg
from ._atomic import atomic_write
from ._layout import Layout
from ._model_file import ARRAYS, Invalid, Reader, check_counts, check_phi, checked
from ._registry import MODEL_KINDS
from .vocabulary import Vocabulary

FORMAT = "attartm-model"
FORMAT_VERSION = 1
# Files of models of several modalities (``modalities`` in model.json, Φ's rows stacked);
# those of text-only models keep version 1, which every earlier attartm reads.
MODALITIES_VERSION = 2
# Training counters a file may hold (files of earlier versions do not: loaded without them).
COUNTERS = ("epochs_done", "updates_done")
# Parameters that describe the machine a model ran on, not the model.
MACHINE_SETTINGS = ("threads",)


def _model_classes() -> dict[str, type]:
    """The model classes by name, as model.json names them (every class is registered
    once :mod:`attartm` is imported, which importing this module does first)."""
    return {cls.__name__: cls for cls in MODEL_KINDS.values()}


def _write(model: Any, target: Any) -> None:
    """Writes the model's zip to a path or a binary file object."""
    model._require_fitted()
    model._sync()
    phi, n_wt, layout = model._phi, model._n_wt, model._layout
    try:
        check_phi(phi, layout.blocks)
        check_counts(n_wt)
    except Invalid as e:
        raise ValueError(f"cannot save this model: {e.member[:-4]} {e.problem}") from None
    header = {
        "format": FORMAT,
        "format_version": MODALITIES_VERSION if layout.multimodal else FORMAT_VERSION,
        **spec(model),
        "vocabulary": list(model.vocabulary.words),
        **({"modalities": layout.to_header()} if layout.multimodal else {}),
        # So that a loaded model's partial_fit continues the τ0/κ schedule.
        **{key: getattr(model, f"{key}_") for key in COUNTERS if hasattr(model, f"{key}_")},
        # What the model settled after training (AttentiveARTM's inference window).
        "settled": model._settled_state(),
    }
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("model.json", json.dumps(header, ensure_ascii=False))
        for name, arr in (("phi", phi), ("n_wt", n_wt)):
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
            # Stored, not deflated: float arrays shrink by a few percent at most, and
            # inflating them took most of the time of loading a model (what every
            # `attartm tag` and every Ray actor does first).
            z.writestr(f"{name}.npy", buf.getvalue(), compress_type=zipfile.ZIP_STORED)


def spec(model: Any) -> dict[str, Any]:
    """The model's class, parameters (checked, in plain Python types, without machine
    settings) and regularizers, as JSON-ready values; :func:`build` makes the model again."""
    params = model._validated()
    regularizers = params.pop("regularizers")
    return {
        "class": type(model).__name__,
        "params": {k: v for k, v in params.items() if k not in MACHINE_SETTINGS},
        "regularizers": [r.to_dict() for r in regularizers],
    }


def save_model(model: Any, path: str | os.PathLike) -> None:
    atomic_write(path, lambda tmp: _write(model, tmp))


def dumps(model: Any) -> bytes:
    """The model file's bytes (what ``model.save`` writes), e.g. to ship a model to other
    processes without pickle."""
    buf = io.BytesIO()
    _write(model, buf)
    return buf.getvalue()


def loads(data: bytes) -> Any:
    """A model from the bytes of :func:`dumps` (or of a model file)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"loads needs the bytes of a model file, not {type(data).__name__}")
    data = bytes(data)
    return _read(io.BytesIO(data), "the model data", len(data))


def load(path: str | os.PathLike) -> Any:
    """Loads a model written by ``model.save(path)``.

    Raises FileNotFoundError for a missing file and ValueError for a file that is not an
    attartm model, is truncated, corrupt or inconsistent, or was written by a newer
    attartm (the message names the member and the problem). Loading never allocates more
    than the arrays the file declares (checked against this machine's memory first).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    with open(path, "rb") as f:
        return _read(f, str(path), os.fstat(f.fileno()).st_size)


def _read(source: Any, name: str, size: int) -> Any:
    try:
        try:
            archive = zipfile.ZipFile(source)
        except Exception as e:
            # Whatever fails while reading the zip directory of untrusted bytes means the
            # same thing to the user: this is not a readable model file.
            raise ValueError(
                f"{name} is not a readable attartm model file (corrupt or truncated: "
                f"{type(e).__name__}: {e})"
            ) from e
        with archive:
            return _model(Reader(archive, size))
    except Invalid as e:
        raise ValueError(e.message(name)) from None


def _model(reader: Reader) -> Any:
    """The fitted model of a model file, each piece checked before the next is read."""
    (shape, phi_dtype), (counts_shape, counts_dtype) = (reader.npy_header(key) for key in ARRAYS)
    if counts_shape != shape:
        raise Invalid("n_wt.npy", f"has shape {counts_shape}, but phi.npy has shape {shape}")
    header = _checked_header(reader.header(shape))
    model = build(header)
    vocabulary = checked("vocabulary", Vocabulary, header["vocabulary"])
    text_weight = (model._modality_weights or {}).get("text", 1.0)
    layout = checked(
        "modalities", Layout.from_header, vocabulary, text_weight, header.get("modalities", [])
    )
    if shape != (layout.n_rows, model.n_topics):
        raise Invalid(
            "phi.npy",
            f"has shape {shape}, but the header declares {layout.n_rows} words × "
            f"{model.n_topics} topics",
        )
    phi = reader.npy_data("phi", shape, phi_dtype)
    check_phi(phi, layout.blocks)
    n_wt = reader.npy_data("n_wt", shape, counts_dtype)
    check_counts(n_wt)
    model._set_fitted(layout, phi, n_wt)
    _check_fitted(model)
    for key in COUNTERS:
        if key in header:
            setattr(model, f"{key}_", header[key])
    checked("settled", model._restore_settled, header.get("settled", {}))
    return model


def _checked_header(header: Any) -> dict[str, Any]:
    """The header's fields, each of the type the format defines."""
    member = "model.json"
    if not isinstance(header, dict):
        raise Invalid(member, f"holds a JSON {type(header).__name__}, not an object")
    if header.get("format") != FORMAT:
        raise Invalid(member, f"format is {header.get('format')!r}, not {FORMAT!r}", "is not an")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise Invalid(member, f"format_version must be a positive integer, not {version!r}")
    # Version 2 is the format of several modalities: a text-only file is version 1.
    readable = MODALITIES_VERSION if "modalities" in header else FORMAT_VERSION
    if version > readable:
        raise Invalid(
            member,
            f"has model format version {version}, newer than this attartm reads "
            f"({readable}); upgrade attartm to load it",
            "is a newer",
        )
    if "modalities" in header and version < MODALITIES_VERSION:
        raise Invalid(member, f"has modalities, which format version {version} does not")
    classes = _model_classes()
    if not isinstance(header.get("class"), str) or header["class"] not in classes:
        raise Invalid(
            member,
            f"holds an unknown model class {header.get('class')!r} (known: {', '.join(classes)})",
        )
    fields = {"params": dict, "regularizers": list, "vocabulary": list}
    if "settled" in header:  # files of earlier versions do not have it
        fields["settled"] = dict
    if "modalities" in header:  # only the files of models of several modalities have it
        fields["modalities"] = list
    for field, kind in fields.items():
        if not isinstance(header.get(field), kind):
            raise Invalid(member, f"{field} must be a JSON {'object' if kind is dict else 'array'}")
    if not header["vocabulary"]:
        raise Invalid(member, "vocabulary is empty")
    for key in COUNTERS:
        value = header.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Invalid(member, f"{key} must be a non-negative integer, not {value!r}")
    for i, r in enumerate(header["regularizers"]):
        if not isinstance(r, dict):
            raise Invalid(member, f"regularizers[{i}] must be a JSON object")
    return header


def build(header: dict[str, Any]) -> Any:
    """The (unfitted) model that a :func:`spec` or a model file's header describes, its
    parameters checked, without its machine settings."""
    params = {k: v for k, v in header["params"].items() if k not in MACHINE_SETTINGS}
    regularizers = [
        checked(f"regularizers[{i}]", _reg.from_dict, d)
        for i, d in enumerate(header["regularizers"])
    ]
    cls = _model_classes()[header["class"]]
    return checked("params", lambda: cls(**params, regularizers=regularizers)._checked())


def _check_fitted(model: Any) -> None:
    """Parameters that depend on the vocabularies and the topics fit them (what fit checks)."""
    for i, r in enumerate(model._regularizers):
        if isinstance(r, _reg.PhiRegularizer):
            checked(f"regularizers[{i}]", model._check_regularizer, r, model._layout)
        else:
            checked(f"regularizers[{i}]", r.mask, model.n_topics)
    word_weights = getattr(model, "_word_weights", None)
    if word_weights is not None:
        checked("params", word_weights)
