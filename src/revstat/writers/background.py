"""Write some outputs in a second process while this one goes on (``revstat compile``'s tail).

After the indicators are computed, ``indicators.csv`` and ``indicators.json`` do not depend on
the checks or the workbook, so on a machine with more than one core they are written by a
forked copy of this process while this process runs the checks and writes the workbook
(:func:`revstat.pipeline.write_outputs` with ``fork=True``). Nothing is pickled: the child sees
the results as they are in memory.

The result is the same files either way. When fork is not available (Windows), when the machine
has one core, when ``REVSTAT_JOBS=1`` is set, or with ``Background(job, fork=False)``, the job
simply runs in this process at :meth:`Background.join`. When the child fails for any reason,
``join`` runs the job again here, so its error is raised and shown like any other (the child
never prints). A child exits with ``os._exit`` so it never runs the parent's clean-up or flushes
its buffers twice. Forking is for the command line: a program with threads of its own (a web
server using revstat as a library) should not fork, which is why ``write_outputs`` does not by
default.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable
from types import TracebackType


def can_fork() -> bool:
    """True when a job may run in a forked child: POSIX fork, more than one core, and not
    turned off with ``REVSTAT_JOBS=1``."""
    if os.environ.get("REVSTAT_JOBS", "").strip() == "1":
        return False
    if not hasattr(os, "fork") or not sys.platform.startswith(("linux", "darwin")):
        return False
    return (os.cpu_count() or 1) > 1


class Background:
    """``with Background(job) as bg: …; bg.join()`` — ``job()`` runs in a child process from
    the start of the block; ``join`` waits for it (or runs it here, see the module docstring).
    Leaving the block by an exception stops the child."""

    def __init__(self, job: Callable[[], object], *, fork: bool = True) -> None:
        self.job = job
        self.fork = fork  # False: the job runs here at join()
        self.pid: int | None = None
        self.done = False

    def __enter__(self) -> Background:
        if self.fork and can_fork():
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(AttributeError, OSError, ValueError):  # a closed or odd stream
                    stream.flush()
            with warnings.catch_warnings():  # Python ≥ 3.12 warns about fork in threaded processes;
                warnings.simplefilter("ignore", DeprecationWarning)  # the child only writes a file
                pid = os.fork()
            if pid == 0:  # the child: run the job, report by exit code, never return
                code = 1
                try:
                    self.job()
                    code = 0
                finally:
                    os._exit(code)
            self.pid = pid
        return self

    def join(self) -> None:
        """Wait for the job; run it here when it did not run in a child or the child failed."""
        if self.done:
            return
        self.done = True
        if self.pid is not None:
            pid, self.pid = self.pid, None
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                return
        self.job()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.pid is not None:  # an error in the parent, or join() never called: stop the child
            import signal

            with contextlib.suppress(ProcessLookupError):  # it may have finished already
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None
