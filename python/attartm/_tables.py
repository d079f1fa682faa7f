"""The command line's input: parquet (a file, a glob or a folder), a .csv file or a folder
of .txt files, read into a polars frame."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ._paths import parquet_files


def read_table(path: str, text: str, id: str | None) -> pl.DataFrame | pl.LazyFrame:
    """Reads parquet (a file or glob: lazily), csv, or a folder of .txt files into a
    frame."""
    p = Path(path)
    if p.is_dir() and not is_parquet(path):
        files = sorted(p.glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"{path} is a folder with no .txt files (nor .parquet files)")
        return pl.DataFrame(
            {"id": [f.stem for f in files], text: [f.read_text(encoding="utf-8") for f in files]}
        )
    if p.suffix == ".csv":
        if not p.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        return pl.read_csv(p)
    # Corpus.from_polars reads only the columns it needs, and names a missing one (an
    # eager read of a missing column is polars's ColumnNotFoundError).
    return pl.scan_parquet(parquet_files(path))


def is_parquet(path: str) -> bool:
    """Whether the input names parquet (a .parquet file or glob, or a folder of them)."""
    p = Path(path)
    if p.is_dir():
        return any(p.glob("*.parquet")) and not any(p.glob("*.txt"))
    return p.suffix == ".parquet"
