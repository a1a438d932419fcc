"""The floor of `revstat compile` on a city quarter: import pandas, read every sheet of every
workbook with python-calamine (values only), nothing else.

    python bench/floor_read.py bench/data/city/data/2024Q4
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas  # noqa: F401  (the cost the floor includes on purpose)
from python_calamine import CalamineWorkbook

rows = 0
for path in sorted(Path(sys.argv[1]).glob("*.xlsx")):
    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        # as revstat reads a sheet: the whole grid from A1, so cells keep their true coordinates
        rows += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
if not rows:
    sys.exit(f"no rows read from {sys.argv[1]}: is it the folder of the workbooks?")
print(rows)
