"""Running the stages of a streaming job at once: each stage in a thread of its own,
handing its results on through a small queue, so that reading, tokenizing, the kernels
and writing overlap (polars, the Rust core and zlib release the GIL while they work).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from queue import Queue
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")

_DONE = object()


class _Failure:
    """An exception raised in a stage, handed on to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterable[T], *, depth: int = 1, name: str = "attartm-prefetch") -> Iterator[T]:
    """Yields the items of ``items``, computing them in a background thread up to
    ``depth`` items ahead of the consumer: the thread starts on an item only when fewer
    than ``depth`` wait, so besides the consumer's item at most ``depth`` exist (with a
    bounded queue alone the thread would hold one more, finished and waiting to be put:
    a third batch of text in a streaming pass over large parquet files). An exception
    in the producer is raised in the consumer; when the consumer stops early (break, an
    error, garbage collection), the producer stops at its next item and the thread is
    joined."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth}")
    queue: Queue[Any] = Queue()
    free = threading.Semaphore(depth)
    stop = threading.Event()

    def room() -> bool:
        """Waits until an item may be started; False once the consumer has stopped."""
        while not stop.is_set():
            if free.acquire(timeout=0.1):
                return True
        return False

    def produce() -> None:
        try:
            for item in _started(items, room):
                queue.put(item)
            queue.put(_DONE)
        except BaseException as e:  # hand the error to the consumer
            queue.put(_Failure(e))

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            free.release()
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _started(items: Iterable[T], room: Callable[[], bool]) -> Iterator[T]:
    """The items, each begun only once ``room()`` allows (and none after it refuses)."""
    iterator = iter(items)
    while room():
        try:
            item = next(iterator)
        except StopIteration:
            return
        yield item
        del item


def consume(
    items: Iterable[T], work: Callable[[T], Any], *, depth: int = 1, name: str = "attartm-writer"
) -> None:
    """Calls ``work(item)`` for every item in a background thread, while the caller's
    thread computes the next items: the consumer side of a pipeline (e.g. writing files).
    Items are handed over in order; at most ``depth`` wait. The first exception of either
    side stops both and is raised here, after the thread has finished."""
    queue: Queue[Any] = Queue(maxsize=depth)
    failed: list[BaseException] = []

    def run() -> None:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if failed:
                continue  # drain without working once something failed
            try:
                work(item)
            except BaseException as e:
                failed.append(e)

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    try:
        for item in items:
            if failed:
                break
            queue.put(item)
    finally:
        queue.put(_DONE)
        worker.join()
    if failed:
        raise failed[0]
