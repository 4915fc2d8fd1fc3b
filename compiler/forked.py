"""Run one function in a forked child while this process does other work (Linux).

A 10,000-run group renders two independent sets of files (scripts and configs) of ~1.5 s
CPU each; on a 2-core machine a forked child takes one of them. The child's result comes
back pickled through a pipe (~0.1 s for 60 MB of files). Forking is only an optimisation:
where it is not available (not Linux, other threads running, ``fork`` failing) or when the
child fails for any reason, the function runs in this process instead, so results and
errors are exactly those of a plain call.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether :func:`start` will fork: Linux and no other thread (forking a process with
    threads can copy a held lock)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


class Pending:
    """A call running in a forked child (or deferred to :meth:`result` when not forked)."""

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...]) -> None:
        self.fn, self.args = fn, args
        self.pid: int | None = None
        self.read_fd: int | None = None

    def result(self) -> Any:
        """The call's result: the child's, or a plain call's when the child gave none (its
        exception is then raised here)."""
        if self.pid is not None and self.read_fd is not None:
            with os.fdopen(self.read_fd, "rb") as fh:
                data = fh.read()
            self.read_fd = None
            _, status = os.waitpid(self.pid, 0)
            self.pid = None
            if os.waitstatus_to_exitcode(status) == 0:
                with contextlib.suppress(Exception):
                    return pickle.loads(data)
        return self.fn(*self.args)

    def cancel(self) -> None:
        """Stop the child (when this process failed before it wanted the result)."""
        if self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(self.pid, 0)
            self.pid = None
        if self.read_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.read_fd)
            self.read_fd = None


def start(fn: Callable[..., T], *args: Any) -> Pending:
    """Start ``fn(*args)`` in a forked child when :func:`can_fork`; collect it with
    ``.result()``, or ``.cancel()`` it."""
    pending = Pending(fn, args)
    if not can_fork():
        return pending
    try:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
    except OSError:
        return pending
    if pid == 0:  # the child: compute, send, leave without any cleanup of the parent's
        code = 0
        try:
            os.close(read_fd)
            data = pickle.dumps(fn(*args), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
        except BaseException:  # noqa: BLE001 - the parent computes it again
            code = 1
        os._exit(code)
    os.close(write_fd)
    pending.pid, pending.read_fd = pid, read_fd
    return pending
