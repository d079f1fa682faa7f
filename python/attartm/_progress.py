"""Progress bars for long work (tqdm), which the caller can turn off."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(
    items: Iterable[T], *, enabled: bool | None, desc: str, total: int | None = None
) -> Iterator[T]:
    """Wraps ``items`` in a bar. ``enabled=None`` shows it only on an interactive terminal
    (standard error, where the bar goes)."""
    if enabled is False or (enabled is None and not _interactive(sys.stderr)):
        # No bar: tqdm is not even imported (with the asyncio it brings, some 30 ms that
        # every start of the command line would pay).
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, desc=desc, total=total, leave=False, dynamic_ncols=True)


def _interactive(stream: object) -> bool:
    """Whether ``stream`` is a terminal (False for one without ``isatty``, or closed)."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
