"""Which words a vocabulary keeps: ``min_df``, ``max_df`` and ``max_vocab``, the
arguments of ``Corpus.from_polars`` and ``Vocabulary.from_parquet``.

An int is a document count and a float in [0, 1] a proportion of the documents; both
constructors check the arguments before reading any text and turn them into document
counts once the number of documents is known.
"""

from __future__ import annotations

import numbers
from typing import Any


def check_df_arguments(min_df: Any, max_df: Any, max_vocab: Any) -> None:
    """Refuses min_df, max_df and max_vocab that are of the wrong type or could keep no word."""
    for name, value in (("min_df", min_df), ("max_df", max_df)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"{name} must be an int (a document count) or a float (a proportion), got {value!r}"
            )
        if isinstance(value, numbers.Integral):
            if value < 0:
                raise ValueError(f"{name}={value} is negative; a document count is >= 0")
        elif not 0.0 <= value <= 1.0:
            raise ValueError(
                f"{name}={value!r}: a float {name} is a proportion of documents in [0, 1]; "
                "pass an int for a document count"
            )
    if isinstance(max_df, numbers.Integral) and max_df < 1:
        raise ValueError(f"max_df={max_df} would remove every word; use max_df >= 1")
    if isinstance(max_df, float) and max_df == 0.0:
        raise ValueError("max_df=0.0 would remove every word; use a proportion in (0, 1]")
    same_kind = isinstance(min_df, numbers.Integral) == isinstance(max_df, numbers.Integral)
    if same_kind and max_df < min_df:
        raise ValueError(
            f"max_df={max_df!r} is smaller than min_df={min_df!r}; no word could be kept"
        )
    if max_vocab is not None and (
        isinstance(max_vocab, bool) or not isinstance(max_vocab, numbers.Integral)
    ):
        raise TypeError(f"max_vocab must be an int or None, got {max_vocab!r}")
    if max_vocab is not None and max_vocab < 1:
        raise ValueError(f"max_vocab={max_vocab} must be >= 1 (or None for no limit)")


def document_count_limits(min_df: float, max_df: float, n_docs: int) -> tuple[float, float]:
    """The least and most documents a kept word occurs in, for a corpus of ``n_docs``."""
    lo = float(min_df) if isinstance(min_df, numbers.Integral) else min_df * n_docs
    hi = float(max_df) if isinstance(max_df, numbers.Integral) else max_df * n_docs
    if hi < lo:
        raise ValueError(
            f"max_df={max_df!r} corresponds to fewer documents ({hi:g}) than "
            f"min_df={min_df!r} ({lo:g}) for {n_docs} documents; no word could be kept"
        )
    return lo, hi
