"""read_sources on real workbooks written into tmp_path: values, cells, totals, units, errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from revstat.sources import read_sources
from revstat.workspace import load_workspace

REGIONS = """code,name,level,parent
990000000000,示范省,province,
990100000000,示范市,city,990000000000
990102000000,青山区,county,990100000000
990102001000,城东街道,township,990102000000
990102101000,北湖镇,township,990102000000
990102102000,城关镇,township,990102000000
990121000000,东山县,county,990100000000
990121101000,城关镇,township,990121000000
990121102000,桃源镇,township,990121000000
990121201000,红星乡,township,990121000000
"""

SOURCE = """id: monitoring
name: 监测
files: "data/{period}/*.xlsx"
sheet: "1-监测*"
region: {column: 乡镇, by: auto, level: township}
fields:
  - {id: households, name: 户数, column: 累计纳入监测对象/户数, unit: 户}
  - {id: persons, name: 人数, column: 累计纳入监测对象/人数, unit: 人}
  - {id: funds, name: 资金, column: 衔接资金, unit: 万元}
"""

HEADER = ["乡镇", "累计纳入监测对象", None, "衔接资金"]
SUBHEADER = [None, "户数", "人数", None]


def make_ws(tmp_path: Path, source: str = SOURCE, hidden: str = "include") -> Path:
    root = tmp_path / "ws"
    (root / "sources").mkdir(parents=True)
    (root / "data" / "2024Q4").mkdir(parents=True)
    (root / "revstat.yaml").write_text(
        f'name: 测试\nregion: "990100000000"\nhidden: {hidden}\n', encoding="utf-8")
    (root / "regions.csv").write_text(REGIONS, encoding="utf-8")
    (root / "sources" / "monitoring.yaml").write_text(source, encoding="utf-8")
    return root


def messy_sheet(ws: Any, rows: list[list[Any]], *, unit: str = "单位：户、人、万元",
                title: str = "东山县2024年防返贫动态监测情况表", total_top: bool = False,
                total: list[Any] | None = None) -> dict[str, int]:
    """Title, 表号 block, 单位 row, a two-row merged header, data, 合计, footer.
    Returns the 1-based Excel row of the first data row and of the 合计 row."""
    ws["A1"] = title
    ws.merge_cells("A1:D1")
    ws["D2"] = "表　　号：示乡振统1表"
    ws["D3"] = "制表机关：示范市乡村振兴局"
    ws["A4"] = "填报单位：东山县乡村振兴局（盖章）"
    ws["D4"] = unit
    for c, v in enumerate(HEADER, start=1):
        ws.cell(5, c, v)
    for c, v in enumerate(SUBHEADER, start=1):
        ws.cell(6, c, v)
    ws.merge_cells("A5:A6")
    ws.merge_cells("B5:C5")
    ws.merge_cells("D5:D6")
    r = 7
    pos = {}
    body = list(rows)
    if total is not None:
        if total_top:
            body.insert(0, total)
        else:
            body.append(total)
    for row in body:
        if row is total:
            pos["total"] = r
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
        r += 1
    pos["first"] = 7 + (1 if total_top and total is not None else 0)
    ws.cell(r + 1, 1, "单位负责人：张三　　填表人：李四　　报出日期：2025年1月10日")
    return pos


def write_book(path: Path, rows: list[list[Any]], sheet: str = "1-监测情况", **kw: Any) -> dict[str, int]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    pos = messy_sheet(ws, rows, **kw)
    wb.save(path)
    return pos


def obs(result: Any, origin: str = "source") -> dict[tuple[str, str], tuple[Decimal | None, str]]:
    df = result.observations
    df = df[df["origin"] == origin]
    return {(r.field, r.region_code): (r.value, r.cell) for r in df.itertuples()}


def test_reads_a_messy_workbook_with_exact_values_and_cells(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    rows = [[" 城关镇", 120, "1,234", "12.5"],
            ["桃源\u3000镇\u200b", "１２３", 400, "—"],
            ["红星乡", "56", "−12.5", None]]
    total = ["合 计", 299, 1622, Decimal("12.5")]
    write_book(root / "data/2024Q4/东山县_2024Q4.xlsx", rows, total=total)
    result = read_sources(load_workspace(root), ["2024Q4"])
    assert result.errors == []
    got = obs(result)
    assert got[("households", "990121101000")] == (Decimal(120), "B7")
    assert got[("persons", "990121101000")] == (Decimal(1234), "C7")
    assert got[("funds", "990121101000")] == (Decimal("12.5"), "D7")
    assert got[("households", "990121102000")] == (Decimal(123), "B8")
    assert got[("funds", "990121102000")] == (None, "D8")
    assert got[("persons", "990121201000")] == (Decimal("-12.5"), "C9")
    assert len(got) == 9
    totals = obs(result, "total")
    assert totals[("households", "990121000000")] == (Decimal(299), "B10")
    s = result.summary
    assert (s.files, s.sheets, s.rows, s.totals_rows, s.missing_cells, s.fields) == (1, 1, 3, 1, 2, 3)
    df = result.observations
    assert set(df["file"]) == {"data/2024Q4/东山县_2024Q4.xlsx"}
    assert set(df["sheet"]) == {"1-监测情况"}
    assert set(df["period"]) == {"2024Q4"}
