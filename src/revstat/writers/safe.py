"""Output safety: what a county typed can never become a formula, and NaN/inf never a "nan".

Every writer of a table (CSV, JSON, .xlsx) passes its cells through these helpers:

* **Formula injection** (OWASP "CSV injection"): a text cell that begins with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return — a 乡镇 name like ``=HYPERLINK("http://…")`` —
  is prefixed with ``'`` in CSV, so Excel/WPS shows it as text and never runs it. Plain
  numbers written as text (``-3.2``, ``+1.5%``, ``-1,234``) are left alone: they cannot be
  formulas and are what a reader of ``display`` columns expects.
* In **.xlsx**, text is always written as a string cell (never a formula, never a URL, never
  converted to a number): :data:`XLSXWRITER_OPTIONS` turns xlsxwriter's guessing off and
  :func:`write_xlsx_cell` picks the typed write method.
* **Non-finite numbers** (NaN, ±inf, ``Decimal('NaN')``, ``pandas.NA``) are written as an empty
  cell (CSV, .xlsx) or ``null`` (JSON), never as the text ``nan``/``inf``.

Nothing here imports pandas or a workbook library at module level.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

#: Characters that make a spreadsheet treat a cell as a formula (OWASP), plus the full-width
#: forms WPS also accepts for = + - @.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

#: A cell that is only a number (optionally signed, grouped, with a decimal part, a % or an
#: exponent) is data, not a formula, and is written unchanged.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?([eE][+-]?\d+)?%?$")

#: Options for ``xlsxwriter.Workbook(path, XLSXWRITER_OPTIONS)``: never turn text into a
#: formula, a hyperlink or a number; NaN/inf are handled by :func:`xlsx_value` instead.
XLSXWRITER_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": False,
}


def is_missing(value: object) -> bool:
    """True for None, NaN, ±inf (float or Decimal), ``pandas.NA``/``NaT``."""
    if value is None:
        return True
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Decimal):
        return not value.is_finite()
    if isinstance(value, bool | int | str):
        return False
    # pandas.NA / NaT / numpy floats without importing pandas or numpy
    try:
        if value != value:  # noqa: PLR0124 - NaN-like objects are not equal to themselves
            return True
    except (TypeError, ValueError):  # pandas.NA raises on bool()
        return True
    try:
        return not math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False


def finite_or_none(value: object) -> Any:
    """The value itself, or None when it is missing or not finite."""
    return None if is_missing(value) else value


def neutralize(text: str) -> str:
    """Prefix ``'`` to text Excel/WPS would read as a formula (OWASP); numbers stay as they are.

    >>> neutralize('=HYPERLINK("http://x","点我")')
    '\\'=HYPERLINK("http://x","点我")'
    >>> neutralize("-3.2"), neutralize("城关镇")
    ('-3.2', '城关镇')
    """
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def decimal_text(value: Decimal) -> str:
    """A finite Decimal as plain digits, never in exponent form (``1E+3`` → ``1000``)."""
    text = format(value, "f")
    return "0" if text in ("-0", "+0") else text


def csv_value(value: object) -> str:
    """One cell of a CSV file: empty when missing/non-finite, neutralised when text."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):  # float(): numpy 2's repr of a float64 is 'np.float64(2.5)'
        return decimal_text(Decimal(repr(float(value))))
    if isinstance(value, int):
        return str(value)
    return neutralize(str(value))


def csv_row(values: Iterable[object]) -> list[str]:
    return [csv_value(v) for v in values]


def safe_frame(df: Any, *, csv: bool = True) -> Any:
    """A copy of a DataFrame whose every cell is safe to write.

    ``csv=True`` maps each cell through :func:`csv_value` (all strings); otherwise only
    missing/non-finite cells become None and text is left for :func:`write_xlsx_cell`.
    """
    func = csv_value if csv else finite_or_none
    out = df.copy()
    for col in out.columns:
        out[col] = [func(v) for v in out[col].tolist()]
        out[col] = out[col].astype(object)
    return out


def json_value(value: object) -> Any:
    """A value for JSON: Decimals as exact numbers in text form, non-finite as null."""
    if is_missing(value):
        return None
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def json_dumps(data: object, **kwargs: Any) -> str:
    """``json.dumps`` that can never write ``NaN``/``Infinity`` (invalid JSON)."""
    kwargs.setdefault("ensure_ascii", False)
    return json.dumps(json_value(data), allow_nan=False, **kwargs)


def xlsx_value(value: object) -> Any:
    """A value for a numeric or text .xlsx cell: None when missing, float for numbers."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return value


def write_xlsx_cell(worksheet: Any, row: int, col: int, value: object, fmt: Any = None) -> None:
    """Write one cell with xlsxwriter by type: text is always a string cell (never a formula
    or URL), numbers a number cell, missing/non-finite a blank cell."""
    value = xlsx_value(value)
    if value is None:
        worksheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        worksheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        worksheet.write_number(row, col, value, fmt)
    else:
        worksheet.write_string(row, col, str(value), fmt)


def set_openpyxl_text(cell: Any, value: str) -> None:
    """Put text in an openpyxl cell so it stays text: openpyxl makes any ``"=…"`` string a
    formula; setting the data type back to ``s`` writes it as a plain string."""
    cell.value = value
    cell.data_type = "s"


def csv_column(values: Iterable[object]) -> list[str]:
    """:func:`csv_value` over a whole column, with the common types tested first (hot path:
    an indicators table has hundreds of thousands of cells)."""
    out: list[str] = []
    append = out.append
    for v in values:
        kind = type(v)
        if kind is str:
            append(neutralize(v) if v.startswith(FORMULA_PREFIXES) else v)  # type: ignore[arg-type]
        elif kind is Decimal:
            append(decimal_text(v) if v.is_finite() else "")  # type: ignore[union-attr]
        elif v is None:
            append("")
        else:
            append(csv_value(v))
    return out


