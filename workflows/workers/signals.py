"""Signals as data: a pipe the signal handlers write to, read by the main loop with a timeout.

A Python signal handler runs in the main thread between two bytecodes, so a handler that takes a lock
(``threading.Event.set``) can deadlock against the code it interrupted. Instead the interpreter's
wake-up fd gets the number of every signal that arrives, and the loop that owns the process reads
them when it is ready, with ``select``, never missing one that came in between.
"""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Iterable
from types import FrameType, TracebackType


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Installed so the signal neither kills the process nor is discarded (the wake-up fd has it)."""


class SignalPipe:
    """``with SignalPipe({SIGTERM, SIGCHLD}) as signals: signals.wait(1.0)`` → the signals that came.

    Only for the main thread (``signal.set_wakeup_fd`` requires it). Leaving the block restores the
    previous handlers and wake-up fd.
    """

    def __init__(self, signums: Iterable[signal.Signals]) -> None:
        self.signums = tuple(signums)
        self._read, self._write = os.pipe()  # not inherited by child processes (PEP 446)
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._saved_fd = -1
        self._saved: dict[signal.Signals, signal._HANDLER] = {}

    def __enter__(self) -> SignalPipe:
        self._saved_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        for signum in self.signums:
            self._saved[signum] = signal.signal(signum, _ignore)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        signal.set_wakeup_fd(self._saved_fd)
        os.close(self._read)
        os.close(self._write)

    def wait(self, timeout: float | None) -> list[signal.Signals]:
        """The signals received since the last call, waiting up to ``timeout`` seconds (None: until
        one comes) when there are none yet. In arrival order, repeats included."""
        ready, _, _ = select.select([self._read], [], [], timeout)
        if not ready:
            return []
        try:
            data = os.read(self._read, 4096)
        except BlockingIOError:
            return []
        return [signal.Signals(n) for n in data if n in self._known]

    @property
    def _known(self) -> set[int]:
        return {int(s) for s in self.signums}
