"""The observation table builds the frame pandas makes of the full lists, block by block."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from revstat.regions import make_tree
from revstat.sources.excel import a1
from revstat.sources.table import BLOCK_COLUMNS, ObservationTable
from revstat.tidy import OBSERVATION_COLUMNS

TREE = make_tree([
    ("990100000000", "示范市", "city", None),
    ("990121000000", "甲县", "county", "990100000000"),
    ("990121101000", "城关镇", "township", "990121000000"),
    ("990121102000", "桃源镇", "township", "990121000000"),
])
TOWNS = ["990121101000", "990121102000"]


def _blocks(sheets: list[str | None]) -> list[dict]:
    """Two fields of two rows per sheet; the second field loses its first row (an error cell)."""
    out = []
    for i, sheet in enumerate(sheets):
        for column, field, kept in ((1, "households", None), (30, "funds", [1])):
            values = [Decimal(i * 10 + 1), None] if kept is None else [Decimal("0.5")]
            out.append({"numbers": [4, 7], "codes": TOWNS if i % 2 == 0 else TOWNS[::-1], "kept": kept,
                        "column": column, "values": values, "field": field, "period": "2024Q4", "unit": "户",
                        "file": f"县{i}.xlsx" if sheet else f"县{i}.csv", "sheet": sheet,
                        "origin": "total" if i == 2 else "source"})
    return out


def _lists(blocks: list[dict]) -> dict[str, list]:
    """The observations as the plain lists the frame stands for."""
    cols: dict[str, list] = {name: [] for name in OBSERVATION_COLUMNS}
    for b in blocks:
        at = range(len(b["numbers"])) if b["kept"] is None else b["kept"]
        for i, value in zip(at, b["values"], strict=True):
            code = b["codes"][i]
            cols["region_code"].append(code)
            cols["region_name"].append(TREE.name(code))
            cols["level"].append(TREE.level(code))
            cols["value"].append(value)
            cols["cell"].append(a1(b["numbers"][i], b["column"]))
            for name in BLOCK_COLUMNS:
                cols[name].append(b[name])
    return cols


@pytest.mark.parametrize("sheets", [["表1", "表1", "表2"], [None, None], ["表1", None, "表1"], []],
                         ids=["sheets", "csv only: sheet is None", "mixed", "nothing read"])
def test_frame_is_what_pandas_makes_of_the_lists(sheets: list[str | None]) -> None:
    blocks = _blocks(sheets)
    table = ObservationTable(TREE)
    for b in blocks:
        rows = table.rows(b["numbers"], b["codes"])
        table.add(rows, b["kept"], b["column"], b["values"], **{name: b[name] for name in BLOCK_COLUMNS})
    expected = pd.DataFrame(_lists(blocks), columns=OBSERVATION_COLUMNS).astype({"value": object})
    expected["value"] = pd.Series(_lists(blocks)["value"], dtype=object)
    got = table.frame()
    pd.testing.assert_frame_equal(got, expected)
    assert [repr(t) for t in got.dtypes] == [repr(t) for t in expected.dtypes]
    assert [type(v) for v in got["value"]] == [type(v) for v in expected["value"]]  # Decimal and None, never NaN
    assert table.fields("source") == len({b["field"] for b in blocks if b["origin"] == "source"})
    source = expected[expected["origin"] == "source"]
    assert table.has_repeats("source") == source.duplicated(["field", "region_code", "period"]).any()


def test_repeats_are_found_per_field_region_and_period_of_one_origin() -> None:
    table = ObservationTable(TREE)
    rows = table.rows([4, 7], TOWNS)
    block = {"field": "households", "period": "2024Q4", "unit": "户", "file": "a.xlsx", "sheet": "表1", "origin": "source"}
    table.add(rows, None, 1, [Decimal(1), Decimal(2)], **block)
    table.add(rows, None, 1, [Decimal(1), Decimal(2)], **{**block, "origin": "total"})
    table.add(rows, None, 1, [Decimal(1), Decimal(2)], **{**block, "period": "2024Q3"})
    table.add(rows, [1], 2, [Decimal(3)], **{**block, "field": "persons"})
    assert not table.has_repeats("source") and not table.has_repeats("rollup")
    table.add(table.rows([9], TOWNS[1:]), None, 2, [Decimal(3)], **{**block, "field": "persons", "file": "b.xlsx"})
    assert table.has_repeats("source")
