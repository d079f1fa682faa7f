"""Ctrl-C during training: answered at once while an update of Φ runs (the update is
undone, see MStep._updating), held until the next update starts otherwise, so
that an interrupted ``fit`` keeps every update it finished instead of a half-applied one."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType


class DeferredInterrupt:
    """While active, a SIGINT inside ``undoable()`` (an update, which is undone when it
    raises) raises KeyboardInterrupt at once; elsewhere (a callback, the bookkeeping
    between updates) the first one is recorded in ``received`` instead, and the training
    loop checks it before each update. A second SIGINT raises at once. The handler
    before it (Python's, or one that Ray or the user installed) is restored on exit.
    Nothing changes outside the main thread (the only one that receives signals) or
    where SIGINT is ignored."""

    def __init__(self) -> None:
        self.received = False
        self._previous: object = None
        self._undoable = False

    @contextmanager
    def undoable(self) -> Iterator[None]:
        """A stretch whose effects are undone when it raises: Ctrl-C raises there at once
        (a kernel running in it answers within a fraction of a second)."""
        self._undoable = True
        try:
            yield
        finally:
            self._undoable = False

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous not in (signal.SIG_IGN, None):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        interrupted = self.received or self._undoable
        self.received = True
        if interrupted:
            raise KeyboardInterrupt

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
