"""Reading parquet files a bounded number of rows at a time: the piece that streaming
corpora, the streaming vocabulary and the command line share.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl


def file_chunks(files: list[str], columns: list[str], chunk_size: int) -> Iterator[pl.DataFrame]:
    """The rows of the files in order, as frames of at most ``chunk_size`` rows.

    The files are scanned one after the other: a reader cannot hold less than one row group
    of a file, and scanning them together lets it read ahead into several files, so memory
    would grow with the number of files.
    """
    for path in files:
        lf = pl.scan_parquet(path)
        names = lf.collect_schema().names()
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"column(s) {missing} not in the parquet file {path}; it has {names}")
        yield from lf.select(columns).collect_batches(chunk_size=chunk_size)


def row_batches(files: list[str], columns: list[str], batch_size: int) -> Iterator[pl.DataFrame]:
    """Consecutive frames of exactly ``batch_size`` rows (the last may be shorter), read
    lazily from the files in order (see :func:`file_chunks`).

    A frame cut from a file's chunk shares the buffers of that file's whole row group, so
    no local name here outlives its frame, and the rows carried into the next file are
    copied (:func:`detached`) when they are at most half of their file, the copy then
    being smaller than what it lets go. Otherwise a file boundary would hold two row
    groups (+120 MB on the Wikipedia sample)."""
    buffer: list[pl.DataFrame] = []
    held = 0
    for path in files:
        rows = 0
        for chunk in file_chunks([path], columns, batch_size):
            buffer.append(chunk)
            held += chunk.height
            rows += chunk.height
            del chunk
            while held >= batch_size:
                frame = pl.concat(buffer)
                rest = frame.slice(batch_size)
                buffer, held = ([rest] if rest.height else []), rest.height
                del rest
                yield frame.head(batch_size)
                del frame
        if 0 < 2 * held <= rows:  # all rows held are then this file's
            buffer = [detached(frame) for frame in buffer]
    if held:
        yield pl.concat(buffer)


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of ``frame`` in buffers of its own, where a slice shares those of the whole
    chunk it was cut from. Arrow's large strings are another layout than polars' string
    views, so the round trip copies."""
    return pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))  # type: ignore[return-value]
