"""Conversion and checking of array arguments before they reach the Rust core.

Token ids stay in place when they already are uint32 (numpy, polars, Arrow); everything
else is converted once here, with messages that say what to pass instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def token_ids(name: str, values: Any) -> Any:
    """Token ids as a uint32 array; Arrow-capable objects of uint32 pass through untouched."""
    if isinstance(values, np.ndarray) and values.dtype == np.uint32:
        if values.ndim != 1:
            raise ValueError(f"{name} must be 1-D, but has shape {values.shape}")
        return np.ascontiguousarray(values)
    dtype = getattr(values, "dtype", None)
    if hasattr(values, "__arrow_c_stream__") and str(dtype) in ("UInt32", "uint32"):
        return values  # read in place by the core through the Arrow C stream interface
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        nulls = getattr(values, "null_count", 0)  # an attribute in pyarrow, a method in polars
        nulls = nulls() if callable(nulls) else nulls
        if nulls:
            raise ValueError(f"{name} has {nulls} null values; drop or fill them first")
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, but has shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint32)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer token ids, not {arr.dtype}")
    if arr.min() < 0 or arr.max() > np.iinfo(np.uint32).max:
        raise ValueError(f"{name} must hold ids in [0, 2**32), found {arr.min()}..{arr.max()}")
    return np.ascontiguousarray(arr, dtype=np.uint32)


def offsets(name: str, values: Any) -> np.ndarray:
    """Document offsets as a contiguous int64 array (the core checks their order)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (D+1 offsets), but has shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, not {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def matrix(name: str, values: Any, *, columns: int | None = None) -> np.ndarray:
    """A finite, non-negative 2-D float32 C-contiguous matrix."""
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, but has shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must hold numbers, not {arr.dtype}")
    if columns is not None and arr.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns, but has {arr.shape[1]}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def vector(name: str, values: Any, length: int, *, dtype: type = np.float32) -> np.ndarray:
    """A finite 1-D vector of the given length."""
    raw = np.asarray(values)
    if raw.dtype.kind not in "biuf":
        # Complex values would lose their imaginary part, strings or objects fail later.
        raise TypeError(f"{name} must hold real numbers, not {raw.dtype}")
    with np.errstate(over="ignore"):  # beyond float32 becomes infinite, refused below
        arr = np.ascontiguousarray(raw, dtype=dtype)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(f"{name} must have shape ({length},), but has shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """An int ≥ minimum (bools and floats are refused, so typos do not pass silently)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, but is {value}")
    return int(value)


def finite_float(name: str, value: Any) -> float:
    """A finite float (NaN and infinities are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, but is {value}")
    return value


def threads(value: Any) -> int | None:
    """Thread count for the core: None (all cores) or an int ≥ 1."""
    return None if value is None else positive_int("threads", value)
