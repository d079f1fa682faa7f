"""Ctrl-C during training: held until the update in progress is complete, so that an
interrupted ``fit`` keeps every update it finished instead of a half-applied one."""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType


class DeferredInterrupt:
    """While active, the first SIGINT is recorded in ``received`` instead of raising;
    the training loop checks it after each update. A second SIGINT raises at once (the
    way out when an update takes too long). The handler before it (Python's, or one that
    Ray or the user installed) is restored on exit. Nothing changes outside the main
    thread (the only one that receives signals) or where SIGINT is ignored."""

    def __init__(self) -> None:
        self.received = False
        self._previous: object = None

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous not in (signal.SIG_IGN, None):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received:
            raise KeyboardInterrupt
        self.received = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
