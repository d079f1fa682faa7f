"""Progress bars for long work (tqdm), which the caller can turn off."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T], *, enabled: bool | None, desc: str, total: int | None = None
) -> Iterator[T]:
    """Wraps ``items`` in a bar. ``enabled=None`` shows it only on an interactive terminal."""
    # Imported here: tqdm.auto brings asyncio and importlib.metadata along (some 30 ms),
    # which every start of the command line would pay, bar or not.
    from tqdm.auto import tqdm

    # tqdm's disable=None means "disable when not a TTY", which keeps logs and CI clean.
    yield from tqdm(
        items,
        desc=desc,
        total=total,
        disable=None if enabled is None else not enabled,
        leave=False,
        dynamic_ncols=True,
    )
