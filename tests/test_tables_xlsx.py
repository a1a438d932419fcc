"""indicators.xlsx with its data rows built as sheet XML (revstat.writers.xlsxrows) holds the
same cells — values, types, number formats, highlight, fonts — as the workbook written cell by
cell through xlsxwriter's public API, and the same sheet XML but for the style numbers."""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
import pandas as pd
import pytest

from revstat import tidy
from revstat.writers import tables
from revstat.writers.safe import XLSXWRITER_OPTIONS, write_xlsx_cell
from tests.conftest import A1, A2, B1, B2, CITY, A, B, two_county_tree

EVIL = '=HYPERLINK("http://x","点我")'


def oracle_xlsx(results: Any, path: Path, indicators: list[Any], *, title: str = "", tree: Any = None) -> None:
    """The writer of before: every cell through the public API."""
    import xlsxwriter

    from revstat.definitions import THEMES

    wb = xlsxwriter.Workbook(str(path), XLSXWRITER_OPTIONS)
    try:
        base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
        head = wb.add_format({**base, "bold": True, "text_wrap": True, "align": "center", "bg_color": "#DDEBF7"})
        text_fmt = wb.add_format(base)
        fmts: dict[tuple[int, bool, bool], Any] = {}

        def num_fmt(decimals: int, missed: bool, partial: bool) -> Any:
            if (decimals, missed, partial) not in fmts:
                spec = {**base, "num_format": "0" if decimals == 0 else "0." + "0" * decimals}
                if partial:
                    spec.update({"italic": True, "bg_color": "#FFF2CC"})
                if missed:
                    spec.update({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
                fmts[decimals, missed, partial] = wb.add_format(spec)
            return fmts[decimals, missed, partial]

        order = tables.region_order(results, tree)
        col = lambda name: results[name].to_numpy(dtype=object).tolist()  # noqa: E731
        by_key = dict(zip(zip(col("indicator"), col(tidy.REGION_CODE), strict=True),
                          zip(col("display"), col("target_met"),
                              col("incomplete") if "incomplete" in results else [False] * len(results), strict=True),
                          strict=True))
        with_rows = {key[0] for key in by_key}
        themes: dict[str, list[Any]] = {}
        for d in indicators:
            themes.setdefault(d.theme or "other", []).append(d)
        theme_order = [t for t in THEMES if t in themes] + [t for t in themes if t not in THEMES]
        used: set[str] = set()
        for theme in theme_order:
            defs = [d for d in themes[theme] if d.id in with_rows]
            if not defs:
                continue
            ws = wb.add_worksheet(tables.sheet_name(THEMES.get(theme, (theme,))[0], used))
            headers = ["地区代码", "地区", "层级"] + [d.name for d in defs]
            units = ["", "", ""] + [d.unit + (f"（{'年度' if getattr(d.target, 'annual', False) else ''}目标 {d.target}）"
                                              if d.target else "") for d in defs]
            for c, (h, u) in enumerate(zip(headers, units, strict=True)):
                write_xlsx_cell(ws, 0, c, h, head)
                write_xlsx_cell(ws, 1, c, u, head)
            widths = [max(tables.display_width(h), tables.display_width(u)) for h, u in zip(headers, units, strict=True)]
            widths = [min(max(w, 6), 40) for w in widths]
            widths[1] = max(widths[1], 8)
            i = 1
            for code, name, level, depth in order:
                label = "　" * depth + str(name)
                widths[0] = max(widths[0], len(code))  # the widths fit every region, as on every sheet
                widths[1] = min(max(widths[1], tables.display_width(label)), 40)
                if not any((d.id, code) in by_key for d in defs):
                    continue  # no result of this sheet's indicators: no row
                i += 1
                write_xlsx_cell(ws, i, 0, code, text_fmt)
                write_xlsx_cell(ws, i, 1, label, text_fmt)
                write_xlsx_cell(ws, i, 2, tables.LEVEL_ZH.get(level, level), text_fmt)
                for j, d in enumerate(defs, start=3):
                    shown, met, partial = by_key.get((d.id, code), (None, None, False))
                    fmt = num_fmt(d.decimals, met is False, bool(partial))
                    if isinstance(shown, str) and shown:
                        ws.write_number(i, j, float(shown), fmt)
                    else:
                        ws.write_blank(i, j, None, fmt)
            for c, w in enumerate(widths):
                ws.set_column(c, c, w + 2)
            ws.set_row(0, 30)
            ws.freeze_panes(2, 3)
            if title:
                ws.set_header(f"&C{title.replace('&', '&&')}")
        tables._notes_sheet(wb, indicators, tables.sheet_name("指标说明", used), head, text_fmt)
    finally:
        wb.close()


def _cells(path: Path) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {"sheets": wb.sheetnames}
    for ws in wb.worksheets:
        out[ws.title] = {
            "dims": (ws.dimensions, ws.freeze_panes, ws.oddHeader.center.text, ws.row_dimensions[1].height,
                     [(k, v.width) for k, v in sorted(ws.column_dimensions.items())]),
            "cells": [(c.coordinate, c.value, c.data_type, c.number_format, c.fill.fgColor.rgb,
                       c.font.color.rgb if c.font.color else None, c.font.name, c.font.b, c.border.left.style)
                      for row in ws.iter_rows() for c in row],
        }
    return out


def _sheet_xml(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: re.sub(rb' s="\d+"', b"", zf.read(n)) for n in zf.namelist()
                if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"}


def assert_same_workbook(results: Any, indicators: list[Any], tmp_path: Path, **kwargs: Any) -> None:
    tables.write_indicators_xlsx(results, tmp_path / "new.xlsx", indicators, **kwargs)
    oracle_xlsx(results, tmp_path / "old.xlsx", indicators, **kwargs)
    assert _cells(tmp_path / "new.xlsx") == _cells(tmp_path / "old.xlsx")
    assert _sheet_xml(tmp_path / "new.xlsx") == _sheet_xml(tmp_path / "old.xlsx")


def _def(id_: str, theme: str, decimals: int = 2, target: object = None, unit: str = "%") -> Any:
    return SimpleNamespace(id=id_, name=id_ + "名", theme=theme, theme_name=None, unit=unit, target=target,
                           decimals=decimals, formula="a / b", basis=None, description=None)


REGIONS = [(CITY, "示范市", "city"), (A, EVIL, "county"), (A1, "A&B<村>", "township"), (A2, " 甲二镇 ", "township"),
           (B, "乙县", "county"), (B1, "乙一镇", "township"), (B2, "乙二镇", "township")]


def _results(rows: list[tuple[str, str, object, object]]) -> pd.DataFrame:
    names = {c: (n, lv) for c, n, lv in REGIONS}
    return pd.DataFrame({
        "indicator": [r[0] for r in rows], "region_code": [r[1] for r in rows],
        "region_name": [names[r[1]][0] for r in rows], "level": [names[r[1]][1] for r in rows],
        "display": pd.Series([r[2] for r in rows], dtype=object),
        "target_met": pd.Series([r[3] for r in rows], dtype=object),
    })


def test_figures_blanks_missed_targets_and_hostile_names(tmp_path: Path) -> None:
    defs = [_def("rate", "environment", 2, ">= 65"), _def("count", "environment", 0, unit="户"),
            _def("income", "income", 1, unit="元"), _def("unused", "income"), _def("other", "新主题", 3)]
    rows = []
    for k, (code, _, _) in enumerate(REGIONS):
        rows.append(("rate", code, f"{60 + k * 1.37:.2f}", 60 + k * 1.37 >= 65))
        if k % 3:
            rows.append(("count", code, str(k * 1000), None))
        rows.append(("income", code, "" if k == 2 else f"{k * 0.1:.1f}", False if k == 4 else None))
        rows.append(("other", code, None if k == 1 else "77.68", True))
    rows.append(("rate", A1, "99.99", False))  # a second row for the same cell: the last one wins
    assert_same_workbook(_results(rows), defs, tmp_path, tree=two_county_tree(), title="市 & 县")


def test_without_a_tree(tmp_path: Path) -> None:
    defs = [_def("rate", "environment")]
    rows = [("rate", code, "12.50", None) for code, _, _ in REGIONS]
    assert_same_workbook(_results(rows), defs, tmp_path)


@pytest.mark.parametrize("rows", [
    [],
    [("rate", CITY, "1", True)],
    [("nodef", CITY, "1", True)],  # a result of an indicator not in the list
])
def test_small_and_empty(rows: list[Any], tmp_path: Path) -> None:
    assert_same_workbook(_results(rows), [_def("rate", "environment", 0)], tmp_path, tree=two_county_tree())


def test_no_number_is_ever_nan_or_a_formula(tmp_path: Path) -> None:
    defs = [_def("rate", "environment")]
    rows = [("rate", CITY, "nan", None), ("rate", A, "inf", None), ("rate", A1, "-0", None), ("rate", A2, "1e3", None)]
    tables.write_indicators_xlsx(_results(rows), tmp_path / "x.xlsx", defs, tree=two_county_tree())
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx").worksheets[0]
    values = {ws.cell(r, 1).value: ws.cell(r, 4).value for r in range(3, ws.max_row + 1)}
    assert values[CITY] is None and values[A] is None and values[A2] == 1000
    with zipfile.ZipFile(tmp_path / "x.xlsx") as zf:
        xml = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"nan" not in xml.lower() and b"inf" not in xml.lower()


def test_the_sample_workspace_and_its_exact_values(tmp_path: Path) -> None:
    """A real results table (the sample's compile) through both writers."""
    from revstat.definitions import load_indicators
    from revstat.pipeline import compile_workspace
    from revstat.workspace import load_workspace
    from tests.conftest import SAMPLE

    ws = load_workspace(SAMPLE)
    compiled = compile_workspace(ws, "2024Q4", defs=load_indicators(ws))
    assert any(isinstance(v, Decimal) for v in compiled.results[tidy.VALUE])
    assert_same_workbook(compiled.results, compiled.indicators, tmp_path, tree=ws.regions, title=ws.config.name)


def test_write_outputs_waits_for_the_workbook_and_reports_its_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workbook is written beside the CSV/JSON: its error surfaces as the compile's output
    error, and no temporary folder or half-written output is left behind."""
    from revstat.definitions import load_indicators
    from revstat.errors import OutputError
    from revstat.pipeline import compile_workspace, write_outputs
    from revstat.workspace import load_workspace
    from tests.conftest import SAMPLE

    ws = load_workspace(SAMPLE)
    compiled = compile_workspace(ws, "2024Q4", defs=load_indicators(ws))
    compiled.findings = []
    target = tmp_path / "out" / "2024Q4"
    write_outputs(compiled, target)
    assert sorted(p.name for p in target.iterdir()) == ["findings.json", "indicators.csv", "indicators.json",
                                                         "indicators.xlsx"]
    before = {p.name: p.read_bytes() for p in target.iterdir() if p.suffix != ".xlsx"}

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tables, "write_indicators_xlsx", disk_full)
    with pytest.raises(OutputError):
        write_outputs(compiled, target)
    assert {p.name: p.read_bytes() for p in target.iterdir() if p.suffix != ".xlsx"} == before
    assert [p.name for p in target.parent.iterdir()] == ["2024Q4"]  # no temporary folder left


def test_region_columns_of_any_type_are_typed_like_write_xlsx_cell(tmp_path: Path) -> None:
    """TextColumns on cells of every type, on two sheets, against write_xlsx_cell cell by cell."""
    import xlsxwriter

    from revstat.writers.xlsxrows import DataRowsSheet, TextColumns, data_rows_xml

    rows = [["a", EVIL, None], [True, 3, 2.5], [Decimal("1.50"), float("nan"), "a"], ["b", Decimal("NaN"), ["x"]],
            [False, "", "b"], ["long" * 9000, "long" * 9000 + "tail", 0]]
    new = xlsxwriter.Workbook(str(tmp_path / "new.xlsx"), XLSXWRITER_OPTIONS)
    old = xlsxwriter.Workbook(str(tmp_path / "old.xlsx"), XLSXWRITER_OPTIONS)
    columns = TextColumns(rows, new.add_format({"bold": True})._get_xf_index())
    old_fmt = old.add_format({"bold": True})
    for name in ("one", "two"):
        ws = new.add_worksheet(name, worksheet_class=DataRowsSheet)
        for col in range(3):
            write_xlsx_cell(ws, 0, col, f"head{col}")
        ws.add_data_rows(data_rows_xml(1, columns.tails(ws)), len(rows), 2)
        ws_old = old.add_worksheet(name)
        for col in range(3):
            write_xlsx_cell(ws_old, 0, col, f"head{col}")
        for i, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                write_xlsx_cell(ws_old, i, col, value, old_fmt)
    new.close()
    old.close()
    assert _cells(tmp_path / "new.xlsx") == _cells(tmp_path / "old.xlsx")
    assert _sheet_xml(tmp_path / "new.xlsx") == _sheet_xml(tmp_path / "old.xlsx")
