"""Reading parquet files a bounded number of rows at a time: the piece that streaming
corpora, the streaming vocabulary and the command line share.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

# The first frame of a byte-bounded read (see file_chunks): enough rows to estimate the
# bytes of a row, few enough that a file of long documents costs little before it is known.
PROBE_ROWS = 256


def file_chunks(
    files: list[str], columns: list[str], chunk_size: int, *, max_bytes: int | None = None
) -> Iterator[pl.DataFrame]:
    """The rows of the files in order, as frames of at most ``chunk_size`` rows, and with
    ``max_bytes`` of about that many bytes at most: each frame's length then follows the
    bytes per row of the frame before it (the first is a probe of ``PROBE_ROWS`` rows), so
    that long documents are read in proportionally fewer rows.

    Each frame is read on its own, as a slice of its file: polars decodes only the pages
    that hold the slice's rows, so a frame costs its own rows and owns its buffers. (Read
    in batches, a file's whole row group stays decoded while its batches are in use, and
    at a file boundary the next file's is decoded beside it: the Wikipedia sample's files
    are one row group of about 120 MB each.) The files are read one after the other.
    """
    size = chunk_size if max_bytes is None else min(chunk_size, PROBE_ROWS)
    for path in files:
        lf = pl.scan_parquet(path)
        names = lf.collect_schema().names()
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"column(s) {missing} not in the parquet file {path}; it has {names}")
        rows = lf.select(pl.len()).collect().item()
        lf = lf.select(columns)
        start = 0
        while start < rows:
            frame = lf.slice(start, size).collect()
            start += frame.height
            if max_bytes is not None and frame.height:
                per_row = max(frame.estimated_size() / frame.height, 1.0)
                size = max(1, min(chunk_size, int(max_bytes / per_row)))
            yield frame


def row_batches(files: list[str], columns: list[str], batch_size: int) -> Iterator[pl.DataFrame]:
    """Consecutive frames of exactly ``batch_size`` rows (the last may be shorter), read
    lazily from the files in order (see :func:`file_chunks`); a batch that spans a file
    boundary is the end of one file's rows and the start of the next's."""
    buffer: list[pl.DataFrame] = []
    held = 0
    for chunk in file_chunks(files, columns, batch_size):
        buffer.append(chunk)
        held += chunk.height
        del chunk
        while held >= batch_size:
            frame = pl.concat(buffer)
            rest = frame.slice(batch_size)
            buffer, held = ([rest] if rest.height else []), rest.height
            del rest
            yield frame.head(batch_size)
            del frame
    if held:
        yield pl.concat(buffer)
