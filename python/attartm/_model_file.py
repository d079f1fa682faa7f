"""Reading a model file, which is untrusted input: nothing is read that has not been
bounded first (the format and what a model needs of it are in ``persistence``).

* The zip directory: exactly the three members, each stored or deflated, none declaring
  more bytes than the file holds or than deflate can expand them to (a zip bomb), and
  all of them together no more than this machine's memory.
* The ``.npy`` headers (a few hundred bytes, parsed by numpy's own header parser): dtype,
  C order, a 2-D shape, and a member size of exactly header + W·T·itemsize.
* ``model.json``: at most :data:`HEADER_BYTES` plus :data:`HEADER_BYTES_PER_WORD` per row
  and per column of Φ, inflated and parsed only then.
* The array data, streamed into arrays of the declared shape; Φ finite, non-negative,
  with columns summing to 1 within :data:`PHI_TOLERANCE`; n_wt finite and non-negative.

Every problem is an :class:`Invalid` naming the member.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import numpy as np

ARRAYS = {"phi": np.dtype(np.float32), "n_wt": np.dtype(np.float64)}
MEMBERS = ("model.json", *(f"{key}.npy" for key in ARRAYS))

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


class Invalid(ValueError):
    """A model file's problem: the member it is in and what is wrong."""

    def __init__(self, member: str, problem: str, kind: str = "is not a readable") -> None:
        super().__init__(member, problem, kind)
        self.member, self.problem, self.kind = member, problem, kind

    def message(self, name: str) -> str:
        return f"{name} {self.kind} attartm model file: {self.member}: {self.problem}"


def _memory_limit() -> int:
    """This machine's physical memory in bytes (1 TiB when unknown): no model file may
    declare more."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


class Reader:
    """Reads one model zip, checking each piece before the next one is read."""

    def __init__(self, archive: zipfile.ZipFile, size: int) -> None:
        self.archive = archive
        self.infos = self._directory(size)

    def _directory(self, size: int) -> dict[str, zipfile.ZipInfo]:
        infos = self.archive.infolist()
        names = [i.filename for i in infos]
        for member in names:
            if names.count(member) > 1:
                raise Invalid(member, f"occurs {names.count(member)} times in the zip")
            if member not in MEMBERS:
                raise Invalid(
                    member, f"is not a member of a model file (expected {', '.join(MEMBERS)})"
                )
        for member in MEMBERS:
            if member not in names:
                raise Invalid(member, "is missing")
        total = 0
        for info in infos:
            member = info.filename
            if info.flag_bits & 0x1:
                raise Invalid(member, "is encrypted")
            if info.compress_type == zipfile.ZIP_STORED:
                if info.file_size != info.compress_size:
                    raise Invalid(
                        member,
                        f"is stored, but declares {info.file_size} bytes in "
                        f"{info.compress_size} stored ones",
                    )
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                if info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 1024:
                    raise Invalid(
                        member,
                        f"declares {info.file_size} bytes inflated from "
                        f"{info.compress_size}, more than deflate can produce (a zip bomb?)",
                    )
            else:
                raise Invalid(
                    member,
                    f"uses zip compression method {info.compress_type}; model files "
                    "store or deflate their members",
                )
            if info.header_offset + info.compress_size > size:
                raise Invalid(
                    member,
                    f"declares {info.compress_size} bytes at offset {info.header_offset}, "
                    f"past the end of the {size}-byte file (truncated?)",
                )
            total += info.file_size
        limit = _memory_limit()
        if total > limit:
            raise Invalid(
                "zip directory",
                f"its members declare {total} bytes, more than this machine's memory "
                f"({limit} bytes)",
            )
        return {info.filename: info for info in infos}

    def _open(self, member: str):
        try:
            return self.archive.open(self.infos[member])
        except Exception as e:
            raise Invalid(member, f"cannot be opened ({type(e).__name__}: {e})") from e

    def _bytes(self, f: Any, n: int, member: str, what: str, exact: bool = True) -> bytes:
        try:
            data = f.read(n)
        except Exception as e:
            raise Invalid(member, f"is corrupt or truncated ({type(e).__name__}: {e})") from e
        if exact and len(data) != n:
            raise Invalid(member, f"ends inside its {what} (truncated)")
        return data

    def _end(self, f: Any, member: str) -> None:
        """Checks that ``f`` has nothing left (reading to the end checks the CRC)."""
        if self._bytes(f, 1, member, "data", exact=False):
            raise Invalid(member, "holds more bytes than its header declares")

    def npy_header(self, key: str) -> tuple[tuple[int, int], np.dtype]:
        """The shape and dtype that ``key``.npy declares, checked against its member size."""
        member, expected = f"{key}.npy", ARRAYS[key]
        with self._open(member) as f:
            magic = self._bytes(f, 8, member, "magic string")
            if magic[:6] != b"\x93NUMPY":
                raise Invalid(member, "is not a .npy array (no \\x93NUMPY magic string)")
            version = (magic[6], magic[7])
            if version not in ((1, 0), (2, 0)):
                raise Invalid(member, f"has .npy format version {version[0]}.{version[1]}")
            width = 2 if version == (1, 0) else 4
            raw = self._bytes(f, width, member, "header length")
            length = int.from_bytes(raw, "little")
            if length > NPY_HEADER_BYTES:
                raise Invalid(member, f"declares a {length}-byte .npy header (at most 10000)")
            text = self._bytes(f, length, member, ".npy header")
        parse = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        try:
            shape, fortran, dtype = parse(io.BytesIO(raw + text), NPY_HEADER_BYTES)
        except Exception as e:
            raise Invalid(member, f"has an unreadable .npy header ({e})") from e
        if dtype.hasobject or dtype.newbyteorder("=") != expected:
            raise Invalid(member, f"holds {dtype}, not {expected}")
        if fortran:
            raise Invalid(member, "is in Fortran order; model files store C order")
        if len(shape) != 2 or min(shape) < 0:
            raise Invalid(member, f"has shape {shape}, not (words, topics)")
        data = self.infos[member].file_size - (8 + width + length)
        if data != shape[0] * shape[1] * expected.itemsize:
            raise Invalid(
                member,
                f"declares a {shape[0]}×{shape[1]} {expected} array "
                f"({shape[0] * shape[1] * expected.itemsize} bytes) but holds {data} bytes",
            )
        return (shape[0], shape[1]), dtype

    def npy_data(self, key: str, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
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

    def header(self, shape: tuple[int, int]) -> Any:
        """model.json parsed (its size bounded by the shape of Φ), its fields unchecked."""
        member = "model.json"
        info = self.infos[member]
        limit = HEADER_BYTES + HEADER_BYTES_PER_WORD * (shape[0] + shape[1])
        if info.file_size > limit:
            raise Invalid(
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
            raise Invalid(member, f"is not UTF-8 JSON ({type(e).__name__}: {e})") from e
        return header


def checked(field: str, build: Any, *args: Any) -> Any:
    """``build(*args)``, its errors reported as a problem of model.json's ``field``."""
    try:
        return build(*args)
    except Exception as e:
        raise Invalid("model.json", f"{field}: {e}") from e


def check_phi(phi: np.ndarray, blocks: list[slice] | None = None) -> None:
    """Φ as the kernels trust it: finite, non-negative, the columns of every modality's
    block of rows (all rows when ``blocks`` is None) summing to 1."""
    check_counts(phi, "phi.npy")
    for m, rows in enumerate(blocks or [slice(0, phi.shape[0])]):
        sums = phi[rows].sum(axis=0, dtype=np.float64)
        off = np.flatnonzero(np.abs(sums - 1.0) > PHI_TOLERANCE)
        if off.size:
            t = int(off[0])
            where = "" if m == 0 else f" of modality {m}'s rows"
            raise Invalid(
                "phi.npy",
                f"column {t}{where} sums to {sums[t]:.6g}, not 1 ({off.size} of {sums.size} "
                f"columns are not distributions p(w|t))",
            )


def check_counts(values: np.ndarray, member: str = "n_wt.npy") -> None:
    """Finite and non-negative, in two passes that allocate nothing of W×T."""
    if values.size == 0:
        raise Invalid(member, f"is empty (shape {values.shape})")
    lo, hi = values.min(), values.max()
    if not (lo >= 0 and np.isfinite(hi)):
        raise Invalid(member, "holds NaN, infinite or negative values")
