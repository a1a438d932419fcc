"""Household rows as a CSV file (``revstat explain --rows-out``): the records behind a figure,
for a reviewer to check it row by row in Excel/WPS.

UTF-8 with BOM (Excel/WPS on Chinese Windows would read UTF-8 without it as GBK), CRLF, quoted as
``csv.writer`` quotes; every cell as :func:`revstat.writers.safe.csv_value` writes it — text
guarded against formulas, numbers as plain decimal digits, missing values as empty cells.
Written atomically: an interrupted export leaves the previous file (or none), never half a file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from revstat.writers.atomic import atomic_file
from revstat.writers.safe import FORMULA_PREFIXES, csv_row, csv_value, neutralize


def write_rows_csv(path: Path, columns: Sequence[str], batches: Iterable[Sequence[Sequence[object]]]) -> int:
    """Write a header of ``columns`` and every row of ``batches`` (lists of row tuples, consumed
    one at a time, so memory is one batch) to ``path``; return the number of rows."""
    count = 0
    with atomic_file(Path(path)) as tmp, open(tmp, "wb") as fh:
        fh.write("\ufeff".encode())
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(csv_row(columns))
        for batch in batches:
            cells = [_column(column) for column in zip(*batch, strict=True)]
            writer.writerows(zip(*cells, strict=True))
            count += len(batch)
            fh.write(buf.getvalue().encode("utf-8"))  # one encoding per batch, not per row
            buf.seek(0)
            buf.truncate()
        fh.write(buf.getvalue().encode("utf-8"))
    return count


def _column(values: Sequence[object]) -> list[str]:
    """:func:`csv_value` over a column of rows from DuckDB, with its common types first (an
    export is millions of cells)."""
    risky = FORMULA_PREFIXES
    out: list[str] = []
    append = out.append
    for v in values:
        kind = type(v)
        if kind is str:
            append(neutralize(v) if v.startswith(risky) else v)  # type: ignore[attr-defined,arg-type]
        elif v is None:
            append("")
        elif kind is int:
            append(str(v))
        else:
            append(csv_value(v))
    return out
