"""Saving and loading models: one portable zip file, no pickle.

The file holds exactly three members: ``model.json`` (format name and version, model
class and parameters, regularizers, vocabulary, the training counters ``epochs_done`` and
``updates_done`` when the model has them; deflated) and ``phi.npy`` (W×T float32)
and ``n_wt.npy`` (W×T float64), stored as they are (files of earlier versions deflated
them, which loads the same). It is written to a temporary file beside the target and
renamed, so an interrupted save never leaves a half-written model.

A model file is untrusted input: loading reads nothing it has not bounded first.

* The zip directory: exactly the three members, each stored or deflated, none declaring
  more bytes than the file holds or than deflate can expand them to (a zip bomb), and
  all of them together no more than this machine's memory.
* The ``.npy`` headers (a few hundred bytes, parsed by numpy's own header parser): dtype,
  C order, a 2-D shape, and a member size of exactly header + W·T·itemsize.
* ``model.json``: at most :data:`HEADER_BYTES` plus :data:`HEADER_BYTES_PER_WORD` per row
  and per column of Φ; its fields checked one by one; the model built from it; its
  vocabulary of W words and its T topics matching the arrays' shapes.
* Only then the array data, streamed into arrays of the declared shape; Φ finite,
  non-negative, with columns summing to 1 within :data:`PHI_TOLERANCE`; n_wt finite and
  non-negative.

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
from .vocabulary import Vocabulary

FORMAT = "attartm-model"
FORMAT_VERSION = 1
ARRAYS = {"phi": np.dtype(np.float32), "n_wt": np.dtype(np.float64)}
MEMBERS = ("model.json", *(f"{key}.npy" for key in ARRAYS))
# Training counters a file may hold (files of earlier versions do not: loaded without them).
COUNTERS = ("epochs_done", "updates_done")
# Parameters that describe the machine a model ran on, not the model.
MACHINE_SETTINGS = ("threads",)

# model.json: the vocabulary and token weights grow with W, regularizers' topic lists and
# weights with T; this leaves room for long words and several lists of each. The base is
# small because a header under the cap is inflated and parsed whole.
HEADER_BYTES = 4 << 20
HEADER_BYTES_PER_WORD = 1 << 10
# numpy's own bound on a .npy header (numpy.lib.format's max_header_size).
NPY_HEADER_BYTES = 10_000
# Deflate cannot expand data more than 1032 times (a 258-byte match costs at least 2 bits).
DEFLATE_MAX_RATIO = 1032
# How far a column of Φ may sum from 1 (float32 rounding over W values is far below it).
PHI_TOLERANCE = 1e-3
_CHUNK = 1 << 22


def _model_classes() -> dict[str, type]:
    """The model classes by name, as model.json names them."""
    from . import artm, attentive, thetaless  # noqa: F401 - defining them registers them
    from ._model import MODEL_KINDS

    return {cls.__name__: cls for cls in MODEL_KINDS.values()}


class _Invalid(ValueError):
    """A model file's problem: the member it is in and what is wrong."""

    def __init__(self, member: str, problem: str, kind: str = "is not a readable") -> None:
        super().__init__(member, problem, kind)
        self.member, self.problem, self.kind = member, problem, kind

    def message(self, name: str) -> str:
        return f"{name} {self.kind} attartm model file: {self.member}: {self.problem}"


def _write(model: Any, target: Any) -> None:
    """Writes the model's zip to a path or a binary file object."""
    phi, n_wt = model.phi, model.n_wt
    try:
        _check_phi(phi)
        _check_counts(n_wt)
    except _Invalid as e:
        raise ValueError(f"cannot save this model: {e.member[:-4]} {e.problem}") from None
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **spec(model),
        "vocabulary": list(model.vocabulary.words),
        # So that a loaded model's partial_fit continues the τ0/κ schedule.
        **{key: getattr(model, f"{key}_") for key in COUNTERS if hasattr(model, f"{key}_")},
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


def _memory_limit() -> int:
    """This machine's physical memory in bytes (1 TiB when unknown): no model file may
    declare more."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


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
            return _Reader(archive, size).model()
    except _Invalid as e:
        raise ValueError(e.message(name)) from None


class _Reader:
    """Reads one model zip, checking each piece before the next one is read."""

    def __init__(self, archive: zipfile.ZipFile, size: int) -> None:
        self.archive = archive
        self.infos = self._directory(size)

    def _directory(self, size: int) -> dict[str, zipfile.ZipInfo]:
        infos = self.archive.infolist()
        names = [i.filename for i in infos]
        for member in names:
            if names.count(member) > 1:
                raise _Invalid(member, f"occurs {names.count(member)} times in the zip")
            if member not in MEMBERS:
                raise _Invalid(
                    member, f"is not a member of a model file (expected {', '.join(MEMBERS)})"
                )
        for member in MEMBERS:
            if member not in names:
                raise _Invalid(member, "is missing")
        total = 0
        for info in infos:
            member = info.filename
            if info.flag_bits & 0x1:
                raise _Invalid(member, "is encrypted")
            if info.compress_type == zipfile.ZIP_STORED:
                if info.file_size != info.compress_size:
                    raise _Invalid(
                        member,
                        f"is stored, but declares {info.file_size} bytes in "
                        f"{info.compress_size} stored ones",
                    )
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                if info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 1024:
                    raise _Invalid(
                        member,
                        f"declares {info.file_size} bytes inflated from "
                        f"{info.compress_size}, more than deflate can produce (a zip bomb?)",
                    )
            else:
                raise _Invalid(
                    member,
                    f"uses zip compression method {info.compress_type}; model files "
                    "store or deflate their members",
                )
            if info.header_offset + info.compress_size > size:
                raise _Invalid(
                    member,
                    f"declares {info.compress_size} bytes at offset {info.header_offset}, "
                    f"past the end of the {size}-byte file (truncated?)",
                )
            total += info.file_size
        limit = _memory_limit()
        if total > limit:
            raise _Invalid(
                "zip directory",
                f"its members declare {total} bytes, more than this machine's memory "
                f"({limit} bytes)",
            )
        return {info.filename: info for info in infos}

    def _open(self, member: str):
        try:
            return self.archive.open(self.infos[member])
        except Exception as e:
            raise _Invalid(member, f"cannot be opened ({type(e).__name__}: {e})") from e

    def _bytes(self, f: Any, n: int, member: str, what: str, exact: bool = True) -> bytes:
        try:
            data = f.read(n)
        except Exception as e:
            raise _Invalid(member, f"is corrupt or truncated ({type(e).__name__}: {e})") from e
        if exact and len(data) != n:
            raise _Invalid(member, f"ends inside its {what} (truncated)")
        return data

    def _end(self, f: Any, member: str) -> None:
        """Checks that ``f`` has nothing left (reading to the end checks the CRC)."""
        if self._bytes(f, 1, member, "data", exact=False):
            raise _Invalid(member, "holds more bytes than its header declares")

    def _npy_header(self, key: str) -> tuple[tuple[int, int], np.dtype]:
        """The shape and dtype that ``key``.npy declares, checked against its member size."""
        member, expected = f"{key}.npy", ARRAYS[key]
        with self._open(member) as f:
            magic = self._bytes(f, 8, member, "magic string")
            if magic[:6] != b"\x93NUMPY":
                raise _Invalid(member, "is not a .npy array (no \\x93NUMPY magic string)")
            version = (magic[6], magic[7])
            if version not in ((1, 0), (2, 0)):
                raise _Invalid(member, f"has .npy format version {version[0]}.{version[1]}")
            width = 2 if version == (1, 0) else 4
            raw = self._bytes(f, width, member, "header length")
            length = int.from_bytes(raw, "little")
            if length > NPY_HEADER_BYTES:
                raise _Invalid(member, f"declares a {length}-byte .npy header (at most 10000)")
            text = self._bytes(f, length, member, ".npy header")
        parse = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        try:
            shape, fortran, dtype = parse(io.BytesIO(raw + text), NPY_HEADER_BYTES)
        except Exception as e:
            raise _Invalid(member, f"has an unreadable .npy header ({e})") from e
        if dtype.hasobject or dtype.newbyteorder("=") != expected:
            raise _Invalid(member, f"holds {dtype}, not {expected}")
        if fortran:
            raise _Invalid(member, "is in Fortran order; model files store C order")
        if len(shape) != 2 or min(shape) < 0:
            raise _Invalid(member, f"has shape {shape}, not (words, topics)")
        data = self.infos[member].file_size - (8 + width + length)
        if data != shape[0] * shape[1] * expected.itemsize:
            raise _Invalid(
                member,
                f"declares a {shape[0]}×{shape[1]} {expected} array "
                f"({shape[0] * shape[1] * expected.itemsize} bytes) but holds {data} bytes",
            )
        return (shape[0], shape[1]), dtype

    def _npy_data(self, key: str, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
        """The array of ``key``.npy, streamed into an array of its checked shape."""
        member = f"{key}.npy"
        out = np.empty(shape, dtype=dtype)
        target = memoryview(out.reshape(-1).view(np.uint8))
        with self._open(member) as f:
            self._bytes(f, self.infos[member].file_size - target.nbytes, member, ".npy header")
            done = 0
            while done < target.nbytes:
                n = min(_CHUNK, target.nbytes - done)
                target[done : done + n] = self._bytes(f, n, member, "array data")
                done += n
            self._end(f, member)
        return out.astype(dtype.newbyteorder("="), copy=False)

    def _header(self, shape: tuple[int, int]) -> dict[str, Any]:
        member = "model.json"
        info = self.infos[member]
        limit = HEADER_BYTES + HEADER_BYTES_PER_WORD * (shape[0] + shape[1])
        if info.file_size > limit:
            raise _Invalid(
                member,
                f"declares {info.file_size} bytes, more than the header of a "
                f"{shape[0]}-word, {shape[1]}-topic model may take ({limit})",
            )
        with self._open(member) as f:
            raw = self._bytes(f, info.file_size, member, "text")
            self._end(f, member)
        try:
            header = json.loads(raw.decode("utf-8"))
        except Exception as e:
            raise _Invalid(member, f"is not UTF-8 JSON ({type(e).__name__}: {e})") from e
        return _checked_header(header)

    def model(self) -> Any:
        (shape, phi_dtype), (counts_shape, counts_dtype) = (self._npy_header(key) for key in ARRAYS)
        if counts_shape != shape:
            raise _Invalid("n_wt.npy", f"has shape {counts_shape}, but phi.npy has shape {shape}")
        header = self._header(shape)
        model = build(header)
        vocabulary = header["vocabulary"]
        if shape != (len(vocabulary), model.n_topics):
            raise _Invalid(
                "phi.npy",
                f"has shape {shape}, but the header declares {len(vocabulary)} words × "
                f"{model.n_topics} topics",
            )
        vocabulary = _checked("vocabulary", Vocabulary, vocabulary)
        phi = self._npy_data("phi", shape, phi_dtype)
        _check_phi(phi)
        n_wt = self._npy_data("n_wt", shape, counts_dtype)
        _check_counts(n_wt)
        model._set_fitted(vocabulary, phi, n_wt)
        _check_fitted(model)
        for key in COUNTERS:
            if key in header:
                setattr(model, f"{key}_", header[key])
        return model


def _checked(field: str, build: Any, *args: Any) -> Any:
    """``build(*args)``, its errors reported as a problem of model.json's ``field``."""
    try:
        return build(*args)
    except Exception as e:
        raise _Invalid("model.json", f"{field}: {e}") from e


def _checked_header(header: Any) -> dict[str, Any]:
    """The header's fields, each of the type the format defines."""
    member = "model.json"
    if not isinstance(header, dict):
        raise _Invalid(member, f"holds a JSON {type(header).__name__}, not an object")
    if header.get("format") != FORMAT:
        raise _Invalid(member, f"format is {header.get('format')!r}, not {FORMAT!r}", "is not an")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Invalid(member, f"format_version must be a positive integer, not {version!r}")
    if version > FORMAT_VERSION:
        raise _Invalid(
            member,
            f"has model format version {version}, newer than this attartm reads "
            f"({FORMAT_VERSION}); upgrade attartm to load it",
            "is a newer",
        )
    classes = _model_classes()
    if not isinstance(header.get("class"), str) or header["class"] not in classes:
        raise _Invalid(
            member,
            f"holds an unknown model class {header.get('class')!r} (known: {', '.join(classes)})",
        )
    fields = {"params": dict, "regularizers": list, "vocabulary": list}
    for field, kind in fields.items():
        if not isinstance(header.get(field), kind):
            raise _Invalid(
                member, f"{field} must be a JSON {'object' if kind is dict else 'array'}"
            )
    if not header["vocabulary"]:
        raise _Invalid(member, "vocabulary is empty")
    for key in COUNTERS:
        value = header.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _Invalid(member, f"{key} must be a non-negative integer, not {value!r}")
    for i, r in enumerate(header["regularizers"]):
        if not isinstance(r, dict):
            raise _Invalid(member, f"regularizers[{i}] must be a JSON object")
    return header


def build(header: dict[str, Any]) -> Any:
    """The (unfitted) model that a :func:`spec` or a model file's header describes, its
    parameters checked, without its machine settings."""
    params = {k: v for k, v in header["params"].items() if k not in MACHINE_SETTINGS}
    regularizers = [
        _checked(f"regularizers[{i}]", _reg.from_dict, d)
        for i, d in enumerate(header["regularizers"])
    ]
    cls = _model_classes()[header["class"]]
    return _checked("params", lambda: cls(**params, regularizers=regularizers)._checked())


def _check_fitted(model: Any) -> None:
    """Parameters that depend on the vocabulary and the topics fit them (what fit checks)."""
    n_words, n_topics = len(model.vocabulary), model.n_topics
    for i, r in enumerate(model._regularizers):
        if isinstance(r, _reg.PhiRegularizer):
            _checked(f"regularizers[{i}]", r.check, n_words, n_topics)
        else:
            _checked(f"regularizers[{i}]", r.mask, n_topics)
    word_weights = getattr(model, "_word_weights", None)
    if word_weights is not None:
        _checked("params", word_weights)


def _check_phi(phi: np.ndarray) -> None:
    """Φ as the kernels trust it: finite, non-negative, columns summing to 1."""
    _check_counts(phi, "phi.npy")
    sums = phi.sum(axis=0, dtype=np.float64)
    off = np.flatnonzero(np.abs(sums - 1.0) > PHI_TOLERANCE)
    if off.size:
        t = int(off[0])
        raise _Invalid(
            "phi.npy",
            f"column {t} sums to {sums[t]:.6g}, not 1 ({off.size} of {sums.size} columns "
            f"are not distributions p(w|t))",
        )


def _check_counts(values: np.ndarray, member: str = "n_wt.npy") -> None:
    """Finite and non-negative, in two passes that allocate nothing of W×T."""
    if values.size == 0:
        raise _Invalid(member, f"is empty (shape {values.shape})")
    lo, hi = values.min(), values.max()
    if not (lo >= 0 and np.isfinite(hi)):
        raise _Invalid(member, "holds NaN, infinite or negative values")
