"""The results table as output text, converted once and shared by indicators.csv and .json.

A city's results table has ~10^5 rows × 20 columns but few distinct cells per column (52
indicator ids, 3,161 regions, a handful of units and notes, a few thousand numbers). Writing
it cell by cell through ``csv.writer`` and ``json.dumps`` cost seconds; here the per-cell work
— formula neutralising (:func:`revstat.writers.safe.neutralize`), CSV quoting, JSON escaping,
decimal text — is done once per distinct value. Adjacent columns are grouped while their
distinct combinations stay few (the region's code, name and level; a value with its display,
unit, numerator and denominator), each combination's text is built once, and the rows are
assembled from those texts with numpy takes and a ``bytes.join`` per block of rows. The bytes
are exactly those of the per-cell writers (``csv_value`` through ``csv.writer``,
``json.dumps`` of ``json_value``); ``tests/test_tables_text.py`` compares them on hostile
tables.

Distinct values are found by equality only where equality implies the same text: strings,
and booleans/None. Decimals that compare equal can print differently (``1.0`` / ``1.00``), so
a column of Decimals is grouped by its ``str`` (made in C; the same text is the same Decimal),
and any other mix of types is grouped by object identity, which is always exact.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from revstat.writers.safe import FORMULA_PREFIXES, csv_value, json_value, neutralize

#: A column is merged into the group of columns on its left while the group's distinct
#: combinations number at most 1/_COMBINE_SHARE of the rows: each combination's text is built
#: once, and every row then needs one piece fewer in the final join.
_COMBINE_SHARE = 4

#: Characters that make csv.writer quote a field (delimiter, quote character, line terminator).
_NEEDS_QUOTES = re.compile('[,"\r\n]')

#: ``str`` of a Decimal that is its ``format(d, "f")`` too (no exponent, finite).
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")

_FLAGS = {bool, type(None)}
_DECIMALS = {Decimal, type(None)}


# ---- one cell ------------------------------------------------------------------------------

def csv_field(text: str) -> str:
    """``text`` as ``csv.writer`` (excel dialect, QUOTE_MINIMAL) writes it inside a row of
    several fields: quoted, with quotes doubled, when it holds a comma, a quote or a line break."""
    if not _NEEDS_QUOTES.search(text):
        return text
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([text])  # the file's terminator: it decides the quoting
    return buf.getvalue()[:-2]


def csv_text(value: object) -> str:
    """One cell of indicators.csv: :func:`revstat.writers.safe.csv_value`, quoted."""
    if type(value) is str:  # what csv_value does to text, without its type tests
        return csv_field(neutralize(value) if value.startswith(FORMULA_PREFIXES) else value)
    return csv_field(csv_value(value))


def json_text(value: object) -> str:
    """One cell of indicators.json: Decimals as exact decimal strings, missing/non-finite as
    ``null``, never ``NaN``/``Infinity``."""
    kind = type(value)
    if value is None:
        return "null"
    if kind is Decimal:
        return json.dumps(json_value(value))
    if kind is str:
        if value.isprintable() and '"' not in value and "\\" not in value:
            return '"' + value + '"'  # nothing to escape (control characters are not printable)
        return json.dumps(value, ensure_ascii=False)
    if kind is bool:
        return "true" if value else "false"
    return json.dumps(json_value(value), ensure_ascii=False, allow_nan=False)


# ---- one column ----------------------------------------------------------------------------

@dataclass
class TextColumn:
    """A results column as text: row ``i`` holds ``csv[codes[i]]`` / ``json[codes[i]]`` (the
    text of each distinct cell)."""

    name: str
    codes: np.ndarray
    csv: list[str]
    json: list[str]


def text_column(name: str, column: Any) -> TextColumn:
    """Convert one column (a pandas Series) to :class:`TextColumn`."""
    if column.dtype == bool:
        return _coded(name, column.to_numpy(dtype=np.intp), [False, True])
    values = column.to_numpy(dtype=object)
    if isinstance(column.dtype, pd.StringDtype):  # str or a missing marker, by the dtype's contract
        codes, uniques = factorize_runs(values)
        return _coded(name, codes, list(uniques))
    if _sniff_decimal(values):
        if set(map(type, values)) <= _DECIMALS:
            return _decimal_column(name, values)
    else:
        # strings, flags, notes: cells that compare equal are the same text when they are str
        # (a True could stand for a 1 or a Decimal 1, so other columns have their types checked)
        try:
            codes, uniques = factorize_runs(values)
        except (TypeError, ArithmeticError):  # unhashable (a list), a signalling NaN
            return _by_identity(name, values)
        if all(type(u) is str for u in uniques) or set(map(type, values)) <= _FLAGS:
            return _coded(name, codes, list(uniques))
    return _by_identity(name, values)


def factorize_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize``, cheaper on the shapes of a results table, where comparing cells costs
    less than hashing every one: long runs of one value (the results come indicator by
    indicator), or a block of values repeated from the start (every indicator over the same
    regions in the same order)."""
    n = len(values)
    if n > 1024:
        try:
            sample = values[:4096]
            if np.count_nonzero(sample[1:] != sample[:-1]) < len(sample) // 16:
                starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
                if len(starts) < n // 16:
                    heads, uniques = pd.factorize(values[starts])
                    return np.repeat(heads, np.diff(np.append(starts, n))), uniques
            period = _period(values)
        except (TypeError, ValueError, ArithmeticError):  # cells that do not compare plainly
            period = None
        if period is not None:
            block, uniques = pd.factorize(values[:period])
            return np.resize(block, n), uniques
    return pd.factorize(values)  # type: ignore[no-any-return]


def _period(values: np.ndarray) -> int | None:
    """The length of the block the column repeats from its first row (row ``i`` equals row
    ``i + period`` throughout), if any; a block no longer than half the column."""
    half = len(values) // 2
    for end in (min(4096, half), half):  # where the first value comes again: most often early
        again = np.flatnonzero(values[1:end + 1] == values[0])
        if len(again):
            break
    else:
        return None
    period = int(again[0]) + 1
    head = min(4096, len(values) - period)  # a quick look before comparing every row
    if (values[period:period + head] == values[:head]).all() and (values[period:] == values[:-period]).all():
        return period
    return None


def _by_identity(name: str, values: np.ndarray) -> TextColumn:
    """Any mix of types, grouped by object identity (the same object is always the same text)."""
    codes, _ = pd.factorize(np.fromiter(map(id, values), dtype=np.intp, count=len(values)))
    _, first = np.unique(codes, return_index=True)  # the row where each object first appears
    return _coded(name, codes, [values[i] for i in first.tolist()])


def _sniff_decimal(values: np.ndarray) -> bool:
    """Whether the column looks like exact values (a Decimal among its first cells): only a
    choice of path, each path checks what it relies on."""
    return any(type(v) is Decimal for v in values[:256])


def _coded(name: str, codes: np.ndarray, uniques: list[Any]) -> TextColumn:
    """Texts of the distinct values; code -1 (a missing marker) becomes one more value."""
    codes = np.asarray(codes, dtype=np.intp)
    if len(codes) and codes.min() < 0:
        codes = np.where(codes < 0, len(uniques), codes)
        uniques = [*uniques, None]
    return TextColumn(name, codes, [csv_text(v) for v in uniques], [json_text(v) for v in uniques])


def _decimal_column(name: str, values: np.ndarray) -> TextColumn:
    """Decimals (and None) grouped by ``str`` (in C): equal texts are the same Decimal (sign,
    digits, exponent), where equal values need not be (``1.0`` / ``1.00``). A text of plain
    digits is already the cell (``str`` equals ``format(d, "f")`` then); the few others (an
    exponent, ``-0``, NaN/Infinity) go through :func:`csv_text`/:func:`json_text`."""
    codes, texts = _factorize_texts(map(str, values), len(values))
    csv_texts, json_texts = [], []
    for text in texts:
        if text == "None":
            csv_texts.append("")
            json_texts.append("null")
        elif _PLAIN_DECIMAL.fullmatch(text) and text != "-0":
            csv_texts.append(text)
            json_texts.append('"' + text + '"')
        else:
            value = Decimal(text)  # the same Decimal again: its text round-trips
            csv_texts.append(csv_text(value))
            json_texts.append(json_text(value))
    return TextColumn(name, codes, csv_texts, json_texts)


def _factorize_texts(texts: Iterator[str], count: int) -> tuple[np.ndarray, list[str]]:
    """``pd.factorize`` of ``count`` texts made on the fly, holding only the distinct ones: each
    is looked up as it comes (text → the row where it first appears), all in C."""
    first: dict[str, int] = {}
    rows = np.fromiter(map(first.setdefault, texts, itertools.count()), dtype=np.intp, count=count)
    code_of_row = np.empty(count, dtype=np.intp)
    code_of_row[list(first.values())] = np.arange(len(first))
    return code_of_row[rows], list(first)


# ---- the table -----------------------------------------------------------------------------

@dataclass
class _Group:
    """Adjacent columns whose cells are written as one piece per row. ``codes`` number each
    row's combination of cells (``count`` of them); ``members[k]`` gives each combination's
    cell in ``columns[k]`` (a code of that column)."""

    columns: list[TextColumn]
    codes: np.ndarray
    members: list[np.ndarray]
    count: int

    def texts(self, *, as_json: bool) -> list[str]:
        """Each combination's text: its cells joined by commas (CSV) or as ``"key":value,…``."""
        parts = []
        for col, member in zip(self.columns, self.members, strict=True):
            if as_json:
                key = _key(col.name)
                texts = [key + t for t in col.json]
            else:
                texts = col.csv
            parts.append(_object_array(texts)[member].tolist())
        return [",".join(cells) for cells in zip(*parts, strict=True)]


class ResultText:
    """The results table's cells as CSV and JSON text, built once for both files.

    >>> import pandas as pd
    >>> t = ResultText(pd.DataFrame({"a": ["x", "=1+2"], "b": [True, None]}), ["a", "b"])
    >>> out = io.BytesIO(); t.write_csv(out); out.getvalue()
    b"a,b\\r\\nx,true\\r\\n'=1+2,\\r\\n"
    >>> out = io.BytesIO(); t.write_json(out); out.getvalue()
    b'[\\n{"a":"x","b":true},\\n{"a":"=1+2","b":null}\\n]\\n'
    """

    def __init__(self, results: Any, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.rows = len(results) if self.columns else 0  # no columns: no rows (as zip() of none)
        self._groups = _combine([text_column(c, results[c]) for c in self.columns], self.rows)

    def write_csv(self, fh: BinaryIO) -> None:
        """indicators.csv after its BOM: a header row, then one CRLF-terminated row per result."""
        head = io.StringIO()
        csv.writer(head, lineterminator="\r\n").writerow(self.columns)
        fh.write(head.getvalue().encode())
        last = len(self._groups) - 1
        pieces = []
        for k, group in enumerate(self._groups):
            texts = group.texts(as_json=False)
            if len(self.columns) == 1:  # csv.writer quotes a row that is one empty field: ""
                texts = [t or '""' for t in texts]
            pieces.append(_take(texts, "", "\r\n" if k == last else ",", group.codes))
        _write_rows(fh, pieces, self.rows)

    def write_json(self, fh: BinaryIO) -> None:
        """indicators.json: a JSON array, one result object a line."""
        if not self.rows:
            fh.write(b"[]\n")
            return
        last = len(self._groups) - 1
        pieces = [_take(g.texts(as_json=True), ",\n{" if k == 0 else ",", "}" if k == last else "", g.codes)
                  for k, g in enumerate(self._groups)]
        pieces[0][0] = pieces[0][0][2:]  # rows are separated by ",\n": none before the first
        fh.write(b"[\n")
        _write_rows(fh, pieces, self.rows)
        fh.write(b"\n]\n")


def _combine(columns: list[TextColumn], rows: int) -> list[_Group]:
    """Merge each column into the group on its left while the group's distinct combinations
    stay few (at most a share of the rows)."""
    groups: list[_Group] = []
    for col in columns:
        if groups:
            prev = groups[-1]
            combined, left, right = _pairs(prev.codes, prev.count, col.codes, len(col.csv))
            if len(left) <= max(rows // _COMBINE_SHARE, 1):
                prev.columns.append(col)
                prev.members = [m[left] for m in prev.members] + [right]
                prev.codes, prev.count = combined, len(left)
                continue
        groups.append(_Group([col], col.codes, [np.arange(len(col.csv))], len(col.csv)))
    return groups


def _pairs(a: np.ndarray, na: int, b: np.ndarray, nb: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the distinct pairs ``(a[i], b[i])`` and each pair's ``a`` and ``b``. Most often
    ``b`` is a function of ``a`` (a region's name, an indicator's unit): then the pairs are the
    ``a``s; else a table of all ``na × nb`` pairs when that is small, or ``pd.factorize``."""
    b_of_a = np.zeros(na, dtype=b.dtype)
    b_of_a[a] = b
    if np.array_equal(b_of_a[a], b):
        return a, np.arange(na), b_of_a
    key = a.astype(np.int64) * nb + b
    if na * nb <= 1 << 18:
        present = np.zeros(na * nb, dtype=bool)
        present[key] = True
        pairs = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[key]
    else:
        codes, pairs = pd.factorize(key)
    return np.asarray(codes, dtype=np.intp), pairs // nb, pairs % nb


def _take(texts: list[str], prefix: str, suffix: str, codes: np.ndarray) -> np.ndarray:
    """Each row's piece: ``prefix + texts[code] + suffix`` as UTF-8, in an object array."""
    return _object_array([(prefix + t + suffix).encode() for t in texts])[codes]  # type: ignore[no-any-return]


def _key(name: str) -> str:
    return json.dumps(name) + ":"


def _object_array(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _write_rows(fh: BinaryIO, pieces: list[np.ndarray], rows: int, chunk: int = 8192) -> None:
    """Write the pieces row by row, a ``bytes.join`` per block of rows (a block's pieces stay
    in the CPU cache between the join's two passes)."""
    if not rows or not pieces:
        return
    table = np.empty((rows, len(pieces)), dtype=object)
    for k, p in enumerate(pieces):
        table[:, k] = p
    for start in range(0, rows, chunk):
        fh.write(b"".join(table[start:start + chunk].ravel().tolist()))
