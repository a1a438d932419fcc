"""Workbooks opened and parsed ahead on a background thread (revstat.sources.prefetch) give the
read exactly what opening them in turn gives: the same values and cells, the same errors."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from revstat.sources import read as read_module
from revstat.sources.excel import Book
from revstat.sources.prefetch import Prefetch, Wanted
from revstat.workspace import load_workspace
from tests.test_read import make_ws, write_book


class _NoPrefetch:
    """What read_sources sees when nothing was opened ahead: every file is opened in turn."""

    def take(self, key: Path) -> None:
        return None

    def close(self) -> None:
        pass


def _messy_quarter(root: Path) -> None:
    data = root / "data/2024Q4"
    write_book(data / "东山县_2024Q4.xlsx", [[" 城关镇", 120, "1,234", "12.5"], ["桃源镇", "１２３", 400, "—"],
                                            ["红星乡", "56", "x12", None]], total=["合计", 299, 1622, None])
    write_book(data / "青山区_2024Q4.xlsx", [["城东街道", 7, 20, "1.25"], ["北湖镇", 3, 9, 0]])
    (data / "坏文件_2024Q4.xlsx").write_bytes(b"PK\x03\x04 not really a zip")  # damaged: an input error
    write_book(data / "东山县_2024Q3.xlsx", [["城关镇", 1, 2, 3]])  # last quarter's, copied here by mistake
    (data / "~$东山县_2024Q4.xlsx").write_bytes(b"lock file of an open workbook")


def _table(result: Any) -> list[tuple[Any, ...]]:
    return [tuple(map(str, row)) for row in result.observations.itertuples(index=False)]


def test_a_read_with_books_opened_ahead_equals_one_that_opens_them_in_turn(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    _messy_quarter(root)
    ws = load_workspace(root)
    ahead = read_module.read_sources(ws, ["2024Q4"])  # the default: prefetched on a thread
    in_turn = read_module.read_sources(ws, ["2024Q4"], prefetched=_NoPrefetch())  # type: ignore[arg-type]
    assert _table(ahead) == _table(in_turn)
    assert len(ahead.observations) > 0
    assert [str(e) for e in ahead.errors] == [str(e) for e in in_turn.errors]
    messages = "\n".join(str(e) for e in ahead.errors)
    assert "坏文件_2024Q4.xlsx" in messages  # the damaged file, reported once, through the thread
    assert "2024Q3" in messages  # the wrong quarter's file, refused unopened
    assert "x12" in messages  # a bad cell of a prefetched sheet
    assert ahead.summary.files == in_turn.summary.files == 2
    assert ahead.summary.skipped == in_turn.summary.skipped == ["data/2024Q4/~$东山县_2024Q4.xlsx"]


def test_the_thread_leaves_alone_what_the_read_would_not_open(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    _messy_quarter(root)
    ahead = read_module.start_prefetch(load_workspace(root), ["2024Q4"])
    try:
        names = sorted(w.path.name for w in ahead._wanted)
    finally:
        ahead.close()
    assert names == ["东山县_2024Q4.xlsx", "坏文件_2024Q4.xlsx", "青山区_2024Q4.xlsx"]


def test_books_are_handed_over_parsed_and_errors_as_raised(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    _messy_quarter(root)
    data = root / "data/2024Q4"
    good, bad = data / "青山区_2024Q4.xlsx", data / "坏文件_2024Q4.xlsx"
    ahead = Prefetch([Wanted(good, good, "good.xlsx", lambda book: book.sheet_names),
                      Wanted(bad, bad, "bad.xlsx", lambda book: book.sheet_names)])
    book = ahead.take(good)
    assert isinstance(book, Book)
    assert "1-监测情况" in book._grids  # parsed on the thread: the reader finds the grid ready
    err = ahead.take(bad)
    assert err is not None and not isinstance(err, Book)
    assert "bad.xlsx" in str(err)
    assert ahead.take(data / "never-asked.xlsx") is None  # not prefetched: the reader opens it itself
    book.close()
    ahead.close()
    ahead.close()  # twice is harmless


def test_a_failure_on_the_thread_makes_the_reader_open_the_file_itself(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    _messy_quarter(root)
    good = root / "data/2024Q4/青山区_2024Q4.xlsx"

    def broken_picker(book: Book) -> list[str]:
        raise RuntimeError("a bug on the thread")

    ahead = Prefetch([Wanted(good, good, "good.xlsx", broken_picker)])
    assert ahead.take(good) is None
    ahead.close()


def test_close_stops_the_thread_and_closes_the_books_nobody_took(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    _messy_quarter(root)
    good = root / "data/2024Q4/青山区_2024Q4.xlsx"
    opened: list[Book] = []

    def picker(book: Book) -> list[str]:
        opened.append(book)
        return book.sheet_names

    ahead = Prefetch([Wanted(good, good, "good.xlsx", picker)])
    ahead._ready[good].wait()
    ahead.close()
    assert not any(t.name == "revstat-prefetch" and t.is_alive() for t in threading.enumerate())
    assert len(opened) == 1 and opened[0]._calamine is None and opened[0]._zip is None  # closed
