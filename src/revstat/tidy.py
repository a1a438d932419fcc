"""Column names of the tidy tables, defined once.

Observations: one row per (field, region, period) value with its provenance.
Results: one row per (indicator, region, period): the output contract of DESIGN.md.
"""

from __future__ import annotations

from typing import Any

FIELD = "field"
REGION_CODE = "region_code"
REGION_NAME = "region_name"
LEVEL = "level"
PERIOD = "period"
VALUE = "value"  # Decimal or None (missing), never NaN-as-zero
UNIT = "unit"
FILE = "file"
SHEET = "sheet"
CELL = "cell"
ORIGIN = "origin"  # source | total | rollup | records

#: origin of a value: read from a data row; a 合计 row set aside for checks; summed up the
#: hierarchy; aggregated from household records.
ORIGINS = ("source", "total", "rollup", "records")

OBSERVATION_COLUMNS = [FIELD, REGION_CODE, REGION_NAME, LEVEL, PERIOD, VALUE, UNIT, FILE, SHEET, CELL, ORIGIN]

RESULT_COLUMNS = [
    "indicator", "name", "theme", REGION_CODE, REGION_NAME, LEVEL, PERIOD, VALUE, "display", UNIT,
    "numerator", "denominator", "target", "target_met", "note", "previous", "change",
    "change_display", "change_unit", "incomplete", "previous_incomplete",
]


def make_observations(rows: list[dict[str, Any]]) -> Any:
    """A DataFrame with exactly the observation columns (values kept as Decimal objects)."""
    import pandas as pd

    df = pd.DataFrame(rows, columns=OBSERVATION_COLUMNS)
    return df.astype({VALUE: object})
