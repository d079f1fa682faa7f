"""Naming parquet input: a file, a folder, a glob, or a list of them."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path


def parquet_files(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The parquet files of a path, a folder, a glob or a list of them, in sorted order."""
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    files: list[str] = []
    for item in items:
        path = os.fspath(item)
        if "://" in path:  # remote storage: polars resolves it
            files.append(path)
        elif any(c in path for c in "*?["):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise FileNotFoundError(f"no parquet file matches {path!r}")
            files += matches
        elif os.path.isdir(path):
            matches = sorted(str(p) for p in Path(path).glob("*.parquet"))
            if not matches:
                raise FileNotFoundError(f"the folder {path!r} holds no .parquet file")
            files += matches
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"no parquet file matches {path!r}: it does not exist")
    if not files:
        raise FileNotFoundError("no parquet file given")
    return files
