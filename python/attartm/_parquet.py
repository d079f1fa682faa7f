"""Reading parquet files a bounded amount at a time: the piece that streaming corpora, the
streaming vocabulary and the command line share.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import polars as pl

# The first read of a local file when reads are bounded above in bytes (see
# file_chunks): enough rows to estimate the bytes of a row, few enough that a file of long
# documents costs little before that is known.
PROBE_ROWS = 256
# The least a read of a batch should hold (see row_batches): every read of a local file
# fetches its row group's compressed column chunks again, so a batch of short documents
# is read together with the next ones until a read holds this much.
MIN_READ_BYTES = 8 << 20


def file_chunks(
    files: Sequence[str],
    columns: list[str],
    rows: int,
    *,
    max_bytes: int | None = None,
    min_bytes: int | None = None,
) -> Iterator[pl.DataFrame]:
    """The rows of the files in order, in frames of ``rows`` rows (fewer at a file's end).
    With ``max_bytes``, a frame holds fewer rows where ``rows`` of them would decode to
    more than that (the first frame of each file is a probe of ``PROBE_ROWS`` rows); with
    ``min_bytes``, a frame is a multiple of ``rows`` rows where ``rows`` would decode to
    less. Both follow the bytes per row of the file's previous frame.

    A local file is read a slice at a time: polars decodes only the pages that hold a
    slice's rows, so a frame holds its own rows in buffers of its own, never the file's
    whole row group (the Wikipedia sample's files are one row group of about 120 MB of
    text each). A remote file (a URL) is read as polars streams it, in frames of ``rows``
    rows cut from a row group held whole: a slice of it would download its row group's
    column chunks again. The files are read one after the other.
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, not {rows}")
    for path in files:
        lf = pl.scan_parquet(path)
        names = lf.collect_schema().names()
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"column(s) {missing} not in the parquet file {path}; it has {names}")
        if "://" in path:
            yield from lf.select(columns).collect_batches(chunk_size=rows)
            continue
        n_rows = lf.select(pl.len()).collect().item()
        lf = lf.select(columns)
        start, size = 0, rows if max_bytes is None else min(rows, PROBE_ROWS)
        while start < n_rows:
            frame = lf.slice(start, size).collect()
            if frame.height == 0:  # no columns asked for: nothing to hand out
                break
            start += frame.height
            per_row = max(frame.estimated_size() / frame.height, 1.0)
            size = rows
            if max_bytes is not None:
                size = min(size, max(1, int(max_bytes / per_row)))
            if min_bytes is not None:
                size = rows * max(1, math.ceil(min_bytes / (rows * per_row)))
            yield frame


def row_batches(
    files: Sequence[str], columns: list[str], batch_size: int
) -> Iterator[pl.DataFrame]:
    """Consecutive frames of exactly ``batch_size`` rows (the last may be shorter), read
    lazily from the files in order: each read is a batch, or as many batches as make
    ``MIN_READ_BYTES`` where the documents are short (see :func:`file_chunks`). Batches
    line up with the reads of the first file; after a file boundary that falls inside a
    batch, each batch joins the end of one read and the start of the next, and holds both
    until it is let go."""
    buffer: list[pl.DataFrame] = []
    held = 0
    for chunk in file_chunks(files, columns, batch_size, min_bytes=MIN_READ_BYTES):
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
