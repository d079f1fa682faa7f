"""Saving and loading models: one portable zip file, no pickle.

The file holds ``model.json`` (format name and version, model class and parameters,
regularizers, vocabulary; deflated) and one ``.npy`` file per array (stored as is; files
of earlier versions deflated them, which loads the same), read with
``allow_pickle=False``. It is written to a temporary file beside the target and renamed,
so an interrupted save never leaves a half-written model.
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
from .vocabulary import Vocabulary

FORMAT = "attartm-model"
FORMAT_VERSION = 1


def _model_classes() -> dict[str, type]:
    from .artm import ARTM
    from .attentive import AttentiveARTM
    from .thetaless import ThetalessARTM

    return {cls.__name__: cls for cls in (ARTM, AttentiveARTM, ThetalessARTM)}


def _write(model: Any, target: Any) -> None:
    """Writes the model's zip to a path or a binary file object."""
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "params": model.get_params(),
        "regularizers": [r.to_dict() for r in model.regularizers],
        "vocabulary": list(model.vocabulary.words),
    }
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("model.json", json.dumps(header, ensure_ascii=False))
        for name, arr in (("phi", model.phi), ("n_wt", model.n_wt)):
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
            # Stored, not deflated: float arrays shrink by a few percent at most, and
            # inflating them took most of the time of loading a model (what every
            # `attartm tag` and every Ray actor does first).
            z.writestr(f"{name}.npy", buf.getvalue(), compress_type=zipfile.ZIP_STORED)


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
    return _read(io.BytesIO(data), "the model bytes")


def load(path: str | os.PathLike) -> Any:
    """Loads a model written by ``model.save(path)``.

    Raises FileNotFoundError for a missing file and ValueError for a file that is not an
    attartm model, is truncated or corrupt, or was written by a newer attartm.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    return _read(path, str(path))


def _read(source: Any, name: str) -> Any:
    try:
        with zipfile.ZipFile(source) as z:
            header = json.loads(z.read("model.json").decode("utf-8"))
            _check_header(header, name)
            arrays = {
                key: np.load(io.BytesIO(z.read(f"{key}.npy")), allow_pickle=False)
                for key in ("phi", "n_wt")
            }
    except _FormatError as e:
        raise ValueError(str(e)) from None
    except Exception as e:
        # Whatever fails while decoding untrusted bytes (zip, zlib, json, npy) means the
        # same thing to the user: this is not a readable model file.
        raise ValueError(
            f"{name} is not a readable attartm model file (corrupt or truncated: "
            f"{type(e).__name__}: {e})"
        ) from e
    cls = _model_classes()[header["class"]]
    params = dict(header["params"])
    model = cls(**params, regularizers=[_reg.from_dict(d) for d in header["regularizers"]])
    vocabulary = Vocabulary(header["vocabulary"])
    phi, n_wt = arrays["phi"], arrays["n_wt"]
    t = model.n_topics
    if phi.shape != (len(vocabulary), t) or n_wt.shape != phi.shape:
        raise ValueError(f"{name} is inconsistent: arrays do not match vocabulary × topics")
    # Checked here, once: the kernels trust a model's Φ.
    if not (np.isfinite(phi).all() and (phi >= 0).all() and np.isfinite(n_wt).all()):
        raise ValueError(f"{name} is inconsistent: phi or n_wt holds negative or non-finite values")
    model._set_fitted(vocabulary, phi, n_wt)
    return model


class _FormatError(ValueError):
    pass


def _check_header(header: Any, path: str) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _FormatError(f"{path} is not an attartm model file")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise _FormatError(
            f"{path} has model format version {version}, newer than this attartm reads "
            f"({FORMAT_VERSION}); upgrade attartm to load it"
        )
    if header.get("class") not in _model_classes():
        raise _FormatError(f"{path} holds an unknown model class {header.get('class')!r}")
