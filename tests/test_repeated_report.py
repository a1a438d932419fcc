"""The standard rule ``not_an_old_report`` (kind ``repeated_report``): a county that sends last
quarter's (or last year's) workbook again, with only its titles changed, is found.

The sample's real workbooks are copied with openpyxl; the counts of non-zero figures the
findings give are counted here from the workbook cells (the township rows under 合计)."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import A1, A2, SAMPLE, A, two_county_tree

from revstat import tidy
from revstat.check_run import check_workspace
from revstat.checks import make_check_data, run_checks
from revstat.model import Severity
from revstat.rules import RuleDef
from revstat.workspace import load_workspace

TODAY = dt.date(2025, 1, 15)
DONGSHAN = "990121000000"
Q4, Q3, LAST_Q4 = "2024Q4", "2024Q3", "2023Q4"


def _resend(ws_root: Path, old: str, *, title: tuple[str, str], change: tuple[str, int, int] | None = None) -> None:
    """Replace 东山县's 2024Q4 workbook by its ``old`` one with the titles' period text
    changed (``title``: old → new), and optionally one figure changed (sheet, row, column)."""
    book = openpyxl.load_workbook(ws_root / "data" / old / f"东山县_{old}.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and title[0] in cell.value:
                    cell.value = cell.value.replace(*title)
    if change is not None:
        name, r, c = change
        book[name].cell(r, c).value += 1
    target = ws_root / "data" / Q4 / f"东山县_{Q4}.xlsx"
    book.save(target)


def _nonzero_figures(path: Path) -> dict[str, int]:
    """Per sheet: the non-zero numbers of the township rows (the rows under 合计 up to the
    first blank row), counted from the cells."""
    book = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        start = next(i for i, row in enumerate(rows) if row[0] == "合计") + 1
        count = 0
        for row in rows[start:]:
            if not row[0]:
                break
            count += sum(1 for v in row[1:] if isinstance(v, int | float) and v != 0)
        out[sheet.title] = count
    return out


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    return root


def _found(root: Path) -> list:
    report = check_workspace(load_workspace(root), Q4, today=TODAY)
    return [i for i in report.issues if i.rule == "not_an_old_report"]


def test_the_clean_sample_has_no_resent_workbook(sample: Path) -> None:
    assert _found(sample) == []


def test_last_quarters_workbook_sent_again_is_one_finding_for_the_county(sample: Path) -> None:
    _resend(sample, Q3, title=("1—9月", "1—12月"))
    [issue] = _found(sample)
    figures = _nonzero_figures(sample / "data" / Q3 / f"东山县_{Q3}.xlsx")
    assert issue.severity is Severity.WARNING
    assert issue.region_code == DONGSHAN
    assert issue.actual == sum(figures.values())
    assert [(loc.file, loc.sheet) for loc in issue.locations] == \
        [(f"data/{Q4}/东山县_{Q4}.xlsx", s) for s in figures] + [(f"data/{Q3}/东山县_{Q3}.xlsx", s) for s in figures]
    text = issue.message.render()
    assert "6张表" in text and "与2024Q3的报表" in text and "是否误报了上期的报表" in text


def test_a_sheet_with_one_figure_changed_is_left_out(sample: Path) -> None:
    # 5-人居环境和基础设施, 城关镇 (row 10), 农村常住户数 (column B)
    _resend(sample, Q3, title=("1—9月", "1—12月"), change=("5-人居环境和基础设施", 10, 2))
    [issue] = _found(sample)
    figures = _nonzero_figures(sample / "data" / Q3 / f"东山县_{Q3}.xlsx")
    del figures["5-人居环境和基础设施"]
    assert issue.actual == sum(figures.values())
    assert "5张表" in issue.message.render()
    assert "5-人居环境和基础设施" not in {loc.sheet for loc in issue.locations}


def test_last_years_workbook_sent_again_says_last_year(sample: Path) -> None:
    _resend(sample, LAST_Q4, title=("2023年", "2024年"))
    [issue] = _found(sample)
    text = issue.message.render()
    assert "与2023Q4的报表" in text and "是否误报了上年同期的报表" in text
    assert issue.actual == sum(_nonzero_figures(sample / "data" / LAST_Q4 / f"东山县_{LAST_Q4}.xlsx").values())


def test_an_unreadable_workbook_of_last_quarter_is_said_not_compared(sample: Path) -> None:
    _resend(sample, Q3, title=("1—9月", "1—12月"))
    damaged = sample / "data" / Q3 / f"南岭县_{Q3}.xlsx"
    damaged.write_bytes(damaged.read_bytes()[:3000])  # cut short, as a failed download leaves it
    report = check_workspace(load_workspace(sample), Q4, today=TODAY)
    [notice] = [i for i in report.issues if i.rule == "earlier_period_unread"]
    assert notice.severity is Severity.INFO
    assert [loc.file for loc in notice.locations] == [f"data/{Q3}/南岭县_{Q3}.xlsx"]
    assert notice.message.render().startswith("2024Q3的报表未能读取（文件已损坏或不完整")
    assert [i.region_code for i in report.issues if i.rule == "not_an_old_report"] == [DONGSHAN]  # the others still are


def test_no_notice_when_the_earlier_period_has_no_data_at_all(sample: Path) -> None:
    # 2023Q1 is the sample's first quarter: there is no 2022Q4 to compare with, which is no fault;
    # 2023Q2 has its previous quarter (read) but no 2022Q2 (no folder: nothing to say either)
    for period in ("2023Q1", "2023Q2"):
        report = check_workspace(load_workspace(sample), period, today=TODAY)
        assert not [i for i in report.issues if i.rule in ("earlier_period_unread", "not_an_old_report")]


def test_last_years_household_export_sent_again_is_found(sample: Path) -> None:
    records = Path("data") / LAST_Q4 / "records" / "households.parquet"
    shutil.copyfile(sample / records, sample / "data" / Q4 / "records" / "households.parquet")
    [issue] = _found(sample)
    assert issue.region_code == "990100000000"  # the export covers the city
    assert [loc.file for loc in issue.locations] == [f"data/{Q4}/records/households.parquet", records.as_posix()]
    assert issue.message.render().startswith("示范市的数据文件（data/2024Q4/records/households.parquet）的")
    assert "是否误报了上年同期的数据" in issue.message.render()


# ---- the kind on a small table ---------------------------------------------------------------

def _observations(rows: list[tuple[str, str, str, D | None, str, str]]) -> pd.DataFrame:
    """(field, region, period, value, file, sheet) → tidy observations read from a workbook."""
    return tidy.make_observations([
        {tidy.FIELD: f, tidy.REGION_CODE: r, tidy.REGION_NAME: "", tidy.LEVEL: "township", tidy.PERIOD: p,
         tidy.VALUE: v, tidy.UNIT: "户", tidy.FILE: file, tidy.SHEET: sheet, tidy.CELL: f"B{i + 2}",
         tidy.ORIGIN: "source"}
        for i, (f, r, p, v, file, sheet) in enumerate(rows)])


def _sheet(period: str, values: list[D | None], file: str, sheet: str | None = "表1") -> list[tuple]:
    return [(f"f{i // 2}", (A1, A2)[i % 2], period, v, file, sheet) for i, v in enumerate(values)]


def _run(obs: pd.DataFrame, **params) -> list:
    rule = RuleDef(id="old", name="旧报表", kind="repeated_report", severity="warning", **params)
    data = make_check_data(Q4, two_county_tree(), observations=obs)
    return run_checks([rule], data)


def test_equal_values_written_differently_still_match_and_the_region_is_their_county() -> None:
    before = [D(1), D(2), D(3), D(0), None, D(5)]
    now = [D("1.0"), D(2), D("3.00"), D(0), None, D(5)]
    [issue] = _run(_observations(_sheet(Q3, before, "q3.xlsx") + _sheet(Q4, now, "q4.xlsx")), min_values=4)
    assert issue.region_code == A and issue.actual == 4  # the four non-zero values


def test_too_few_nonzero_figures_are_not_compared() -> None:
    values = [D(1), D(2), D(3), D(0), None, D(5)]
    obs = _observations(_sheet(Q3, values, "q3.xlsx") + _sheet(Q4, values, "q4.xlsx"))
    assert _run(obs) == []  # the default needs 10 non-zero figures
    assert _run(obs, min_values=5) == []
    assert len(_run(obs, min_values=4)) == 1


def test_the_same_figures_at_other_regions_or_fields_do_not_match() -> None:
    values = [D(v) for v in range(1, 13)]
    moved = values[1:] + values[:1]  # every figure one cell on
    obs = _observations(_sheet(Q3, values, "q3.xlsx") + _sheet(Q4, moved, "q4.xlsx"))
    assert _run(obs) == []


def test_a_period_two_quarters_back_is_not_compared() -> None:
    values = [D(v) for v in range(1, 13)]
    obs = _observations(_sheet("2024Q2", values, "q2.xlsx") + _sheet(Q4, values, "q4.xlsx"))
    assert _run(obs) == []


def test_a_file_without_sheets_is_named_by_its_file() -> None:
    values = [D(v) for v in range(1, 13)]
    obs = _observations(_sheet(Q3, values, "q3.csv", None) + _sheet(Q4, values, "q4.csv", None))
    [issue] = _run(obs)
    assert issue.message.render() == ("甲县的数据文件（q4.csv）的12个非零数与2024Q3的数据文件（q3.csv）完全相同："
                                      "是否误报了上期的数据？请向填报单位核实")
    assert [(loc.file, loc.sheet) for loc in issue.locations] == [("q4.csv", None), ("q3.csv", None)]


def test_a_rules_own_message_has_every_placeholder_for_one_sheet_or_several() -> None:
    values = [D(v) for v in range(1, 13)]
    obs = _observations(_sheet(Q3, values, "q3.xlsx") + _sheet(Q4, values, "q4.xlsx")
                        + _sheet(Q3, values, "q3.xlsx", "表2") + _sheet(Q4, values, "q4.xlsx", "表2"))
    message = "{region}：{file}（{n}张：{sheets}；{sheet}）与{other}（{other_file} › {other_sheet}）相同，疑似{which}报表，{count}"
    [issue] = _run(obs, message=message)
    assert issue.message.render() == "甲县：q4.xlsx（2张：表1、表2；表1、表2）与2024Q3（q3.xlsx › 表1、表2）相同，疑似上期报表，24"
    [one] = _run(_observations(_sheet(Q3, values, "q3.xlsx") + _sheet(Q4, values, "q4.xlsx")), message=message)
    assert one.message.render() == "甲县：q4.xlsx（1张：表1；表1）与2024Q3（q3.xlsx › 表1）相同，疑似上期报表，12"
