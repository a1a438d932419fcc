"""Open and parse the workbooks of a read on a background thread, ahead of the reader.

python-calamine parses a sheet's XML in Rust without holding the GIL, so while it parses the
next workbook this thread's caller goes on with what needs the interpreter: importing pandas,
laying out the sheet before, checking and typing its cells. The work done is exactly what
:func:`revstat.sources.excel.open_book` and :meth:`~revstat.sources.excel.Book.sheet` do
(the zip-bomb and sheet-extent guards run first, as always), only earlier and on another core;
what the reader then gets is the same :class:`~revstat.sources.excel.Book`, or the same
:class:`~revstat.errors.SourceError`.

* A book is handed over only once the thread is done with it (one event per file), so no
  object is used by two threads at once.
* A sheet that fails to parse is not kept: the reader parses it again and meets the error
  where it always did. Anything unexpected on the thread (not a ``SourceError``) makes the
  reader open that file itself, so behaviour never depends on the thread.
* :meth:`Prefetch.close` stops the thread after its current file and closes the books nobody
  took; callers close it before forking (``revstat compile`` forks a writer later).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from revstat.errors import SourceError
from revstat.sources.excel import Book, open_book


@dataclass(frozen=True, slots=True)
class Wanted:
    """One file to prefetch: its path, the key the reader asks for it by (the resolved path),
    how messages name it, and which of its sheets to parse."""

    path: Path
    key: Path
    display: str
    sheets: Callable[[Book], list[str]]


class Prefetch:
    """Books opened (and the wanted sheets parsed) ahead of time, in the order given."""

    def __init__(self, wanted: Sequence[Wanted]) -> None:
        self._wanted = list(wanted)
        self._ready = {w.key: threading.Event() for w in self._wanted}
        self._results: dict[Path, Book | SourceError | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="revstat-prefetch", daemon=True)
        self._thread.start()

    def __len__(self) -> int:
        return len(self._wanted)

    def take(self, key: Path) -> Book | SourceError | None:
        """The book for ``key`` (waiting for it), the error opening it raised, or None when the
        file was not prefetched (or the thread gave up on it): the caller opens it itself."""
        ready = self._ready.get(key)
        if ready is None:
            return None
        ready.wait()
        return self._results.pop(key, None)

    def close(self) -> None:
        """Stop after the current file, wait for the thread, close the books not taken."""
        self._stop.set()
        self._thread.join()  # at once when it has finished: close() may be called twice
        for result in self._results.values():
            if isinstance(result, Book):
                result.close()
        self._results.clear()

    def _run(self) -> None:
        for item in self._wanted:
            try:
                if not self._stop.is_set():
                    self._results[item.key] = self._open(item)
            finally:
                self._ready[item.key].set()  # also when stopped: a waiting take() gets None

    @staticmethod
    def _open(item: Wanted) -> Book | SourceError | None:
        try:
            book = open_book(item.path, item.display)
        except SourceError as err:
            return err
        except BaseException:  # noqa: BLE001 - the reader opens the file again and meets it there
            return None
        try:
            for name in item.sheets(book):
                try:
                    book.sheet(name)  # cached in the book; a failure is met again by the reader
                except SourceError:
                    continue
        except BaseException:  # noqa: BLE001 - as above: hand over nothing, the reader starts afresh
            book.close()
            return None
        return book
