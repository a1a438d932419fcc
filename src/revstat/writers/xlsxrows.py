"""The data rows of indicators.xlsx, written as finished sheet XML.

xlsxwriter spends about 4 µs on every cell it is given (checks, a cell tuple, then the XML at
close); a city's workbook has 200,000 of them. Everything that is not a data row — headers,
formats, widths, frozen panes, the notes sheet, shared strings, the package — stays with
xlsxwriter; the data rows below the header are built here, a column at a time, as the XML
xlsxwriter would write for the same cells (``<c r="D3" s="4"><v>77.6</v></c>``, text as
shared strings, a blank styled cell where there is no figure) and handed to
:class:`DataRowsSheet`, which writes them after the rows xlsxwriter holds.

This uses a few of xlsxwriter's internals (``Worksheet._write_rows``, ``_check_dimensions``,
``fh``, ``str_table``, ``Format._get_xf_index``), all stable since xlsxwriter 1.x;
``tests/test_tables_xlsx.py`` compares the workbook with one written cell by cell through
the public API.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from revstat import tidy
from revstat.writers.safe import xlsx_value
from revstat.writers.tabletext import factorize_runs

#: Longest text a cell holds (xlsxwriter truncates longer strings the same way).
_STRMAX = 32767


class DataRowsSheet(Worksheet):
    """A worksheet that writes pre-rendered ``<row>`` elements after xlsxwriter's own rows
    (the header). Pass it as ``workbook.add_worksheet(name, worksheet_class=DataRowsSheet)``."""

    def __init__(self) -> None:
        super().__init__()
        self._data_rows: list[str] = []

    def add_data_rows(self, xml: str, last_row: int, last_col: int) -> None:
        """Rows (0-based) after every row written through the API, up to ``last_row``."""
        self._data_rows.append(xml)
        self._check_dimensions(last_row, last_col)

    def shared_strings(self, texts: Sequence[str]) -> list[int]:
        """The shared-string index of each text, each counted as one use (as write_string does)."""
        index = self.str_table._get_shared_string_index
        return [index(t if len(t) <= _STRMAX else t[:_STRMAX]) for t in texts]

    def count_shared_strings(self, uses: int) -> None:
        """Count more uses of strings already in the table (the ``count`` of sharedStrings.xml)."""
        self.str_table.count += uses

    def _write_rows(self) -> None:
        super()._write_rows()
        for xml in self._data_rows:
            self.fh.write(xml)


class FigureGrid:
    """The shown figure of every (region, indicator) as the tail of its ``<c>`` element, from
    the end of the cell reference: style and value (``'" s="4"><v>77.6</v></c>'``) or a styled
    blank (``'" s="3"/>'``).

    The figure is the ``display`` text (rounded once, by the workspace's rule) written as a
    number; a missed target (``target_met is False``) gets the highlighted format, an incomplete
    total (``incomplete``) the italic one; a region without a row for an indicator gets a blank in
    the indicator's number format."""

    def __init__(self, results: Any, region_codes: Sequence[str], indicators: Sequence[Any],
                 style: Any) -> None:
        self.regions = pd.Index(pd.unique(np.asarray(region_codes, dtype=object)))
        ids = list(dict.fromkeys(d.id for d in indicators))
        self.ids = pd.Index(ids, dtype=object)
        decimals = {}
        for d in indicators:
            decimals.setdefault(d.id, d.decimals)
        blank = [f'" s="{style(decimals[i], False, False)}"/>' for i in ids]
        self.tails = np.empty((len(self.regions), len(ids)), dtype=object)
        for j, tail in enumerate(blank):
            self.tails[:, j] = tail
        self.has = np.zeros((len(self.regions), len(ids)), dtype=bool)  # a result row (with or without a value)
        if not len(results) or not ids:
            self.with_rows: set[Any] = set()
            return
        ind_codes, ind_values = factorize_runs(results["indicator"].to_numpy(dtype=object))  # by runs: cheap
        self.with_rows = set(ind_values.tolist())
        ind = np.append(self.ids.get_indexer(ind_values), -1)[ind_codes]  # code -1 (missing) → -1
        reg_codes, reg_values = factorize_runs(results[tidy.REGION_CODE].to_numpy(dtype=object))  # by blocks
        reg = np.append(self.regions.get_indexer(reg_values), -1)[reg_codes]
        missed = _is_false(results["target_met"].to_numpy(dtype=object))
        partial = (results["incomplete"].to_numpy(dtype=bool) if "incomplete" in results
                   else np.zeros(len(results), dtype=bool))
        shown, numbers = _numbers(results["display"].to_numpy(dtype=object))
        keep = (reg >= 0) & (ind >= 0)
        # one figure per (indicator, region): the last row wins, as in a dict
        keep &= ~pd.Series(ind.astype(np.int64) * len(self.regions) + reg).duplicated(keep="last").to_numpy()
        reg, ind, missed, shown, partial = reg[keep], ind[keep], missed[keep], shown[keep], partial[keep]
        self.has[reg, ind] = True
        # distinct (figure, missed, decimals) → the tail text, once each
        places = list(dict.fromkeys(decimals[i] for i in ids))
        place_of = np.array([places.index(decimals[i]) for i in ids], dtype=np.int64)
        key = (shown.astype(np.int64) * 4 + missed + 2 * partial) * len(places) + place_of[ind]
        combos, uniq = pd.factorize(key)
        texts = []
        for k in uniq.tolist():
            rest, place = divmod(k, len(places))
            s, flags = divmod(rest, 4)
            xf = style(places[place], bool(flags & 1), bool(flags & 2))
            texts.append(f'" s="{xf}"/>' if numbers[s] is None else f'" s="{xf}"><v>{numbers[s]}</v></c>')
        self.tails[reg, ind] = _object_array(texts)[combos]

    def rows_with(self, codes: Sequence[str], ids: Sequence[str]) -> np.ndarray:
        """Which of ``codes`` have a result row for any of ``ids`` (a sheet lists only those)."""
        rows = self.regions.get_indexer(np.asarray(codes, dtype=object))
        cols = self.ids.get_indexer(list(ids))
        return self.has[rows][:, cols].any(axis=1)  # type: ignore[no-any-return]

    def columns(self, codes: Sequence[str], ids: Sequence[str]) -> np.ndarray:
        """The tails of the given regions (rows) × indicators (columns)."""
        rows = self.regions.get_indexer(np.asarray(codes, dtype=object))
        cols = self.ids.get_indexer(list(ids))
        return self.tails[rows][:, cols]  # type: ignore[no-any-return]


def _is_false(values: np.ndarray) -> np.ndarray:
    """``v is False`` for every cell (a missed target): compared in C, then the few matches
    checked by identity (``0 == False`` too)."""
    try:
        hits = np.asarray(values == False, dtype=bool)  # noqa: E712 - elementwise, on purpose
    except (TypeError, ValueError):  # cells that do not compare plainly
        return np.fromiter(map(id, values), dtype=np.intp, count=len(values)) == id(False)
    if hits.any():
        hits[hits] = [v is False for v in values[hits]]
    return hits


def _numbers(display: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Codes of the display texts and, per distinct text, the number as xlsxwriter writes it
    (``%.16G`` of the float) or None for a blank (not text, empty, not finite)."""
    try:
        codes, uniques = pd.factorize(display)
        values = list(uniques)
    except TypeError:  # an unhashable cell: group by identity
        codes, first = pd.factorize(np.fromiter(map(id, display), dtype=np.intp, count=len(display)))
        values = [display[i] for i in np.unique(codes, return_index=True)[1].tolist()]
    numbers: list[str | None] = []
    for v in values:
        number = float(v) if isinstance(v, str) and v else None
        numbers.append(f"{number:.16G}" if number is not None and math.isfinite(number) else None)
    numbers.append(None)  # code -1: missing
    codes = np.where(codes < 0, len(values), codes)
    return codes, numbers


def data_rows_xml(first_row: int, tails: np.ndarray) -> str:
    """``<row>`` elements from 0-based ``first_row``, one cell per column of ``tails`` (each
    cell's XML after its reference, e.g. ``'" s="4"><v>77.6</v></c>'``)."""
    rows, ncols = tails.shape
    numbers = np.empty(rows, dtype=object)
    numbers[:] = [str(first_row + 1 + i) for i in range(rows)]
    table = np.empty((rows, 3 + 3 * ncols), dtype=object)
    table[:, 0] = '<row r="'
    table[:, 1] = numbers
    table[:, 2] = f'" spans="1:{ncols}">'
    for k in range(ncols):
        table[:, 3 + 3 * k] = f'<c r="{xl_col_to_name(k)}'
        table[:, 4 + 3 * k] = numbers
        table[:, 5 + 3 * k] = tails[:, k]
    table[:, -1] += "</row>"
    return "".join(table.ravel().tolist())


class TextColumns:
    """The cells of the first columns (region code, indented name, level) of every data row,
    typed as :func:`revstat.writers.safe.write_xlsx_cell` types them: text as a shared string
    (never a formula), numbers as numbers, missing/non-finite as a styled blank. They are the
    same on every sheet: their XML is built once, and each later sheet only counts its uses of
    the strings (as write_string would)."""

    def __init__(self, rows: Sequence[Sequence[Any]], xf: int) -> None:
        self.xf = xf
        width = max((len(r) for r in rows), default=0)
        self._tails = np.empty((len(rows), width), dtype=object)
        self._tails[:] = f'" s="{xf}"/>'  # blank
        texts: dict[str, int] = {}  # each distinct text → its number, in the order of first use
        where: list[int] = []  # the text cells (flat positions) …
        which: list[int] = []  # … and the number of each one's text
        for i, row in enumerate(rows):
            for col, v in enumerate(row):
                if not isinstance(v, str):
                    v = xlsx_value(v)
                    if v is None:
                        continue
                    if isinstance(v, bool):
                        self._tails[i, col] = f'" s="{xf}" t="b"><v>{int(v)}</v></c>'
                        continue
                    if isinstance(v, int | float):
                        self._tails[i, col] = f'" s="{xf}"><v>{v:.16G}</v></c>'
                        continue
                    v = str(v)
                where.append(i * width + col)
                which.append(texts.setdefault(v, len(texts)))
        self._texts = list(texts)
        self._where = np.array(where, dtype=np.intp)
        self._which = np.array(which, dtype=np.intp)
        self._row_of = self._where // max(width, 1)  # the row of each text cell
        self._built = False

    def tails(self, sheet: DataRowsSheet, keep: np.ndarray | None = None) -> np.ndarray:
        """Each row's cells (rows × columns) as XML after the cell reference; with ``keep`` (a
        bool per row) only those rows, and only their strings counted as used."""
        uses = len(self._which) if keep is None else int(keep[self._row_of].sum())
        if not self._built:  # the texts enter the shared strings in the order of first use
            strings = [f'" s="{self.xf}" t="s"><v>{index}</v></c>' for index in sheet.shared_strings(self._texts)]
            sheet.count_shared_strings(uses - len(self._texts))
            self._tails.flat[self._where] = _object_array(strings)[self._which]
            self._built = True
        else:
            sheet.count_shared_strings(uses)
        return self._tails if keep is None else self._tails[keep]


def _object_array(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
