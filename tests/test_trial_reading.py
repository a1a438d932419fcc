"""Defects a new-user trial found on the reading side, on real workbooks built here:
a missing period folder (one error, not one per source), a code of another county typed in a
county's workbook (said so at the cell, not "duplicate data"), and a deleted 合计 row (a 提示
that the total-row check did not run on that sheet)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
from test_read import ROWS, SOURCE, make_ws, obs, write_book
from typer.testing import CliRunner

from revstat.checks import RULE_KINDS, make_check_data
from revstat.cli import app
from revstat.model import Severity
from revstat.rules import RuleDef
from revstat.sources import read_sources
from revstat.workspace import load_workspace

P = "data/2024Q4/东山县_2024Q4.xlsx"
QS = "data/2024Q4/青山区_2024Q4.xlsx"
QS_ROWS = [["城东街道", 1, 2, 3], ["北湖镇", 4, 5, 6], ["城关镇", 7, 8, 9]]  # 青山区's own 城关镇


def _read(root: Path, period: str = "2024Q4"):
    return read_sources(load_workspace(root), [period])


def _add_source(root: Path, sid: str, text: str) -> None:
    (root / "sources" / f"{sid}.yaml").write_text(text, encoding="utf-8")


def _second_source(sid: str, sheet: str = "1-监测*") -> str:
    return (SOURCE.replace("id: monitoring", f"id: {sid}").replace('sheet: "1-监测*"', f'sheet: "{sheet}"')
            .replace("id: households", f"id: {sid}_h").replace("id: persons", f"id: {sid}_p")
            .replace("id: funds", f"id: {sid}_f"))


# ---- 1. a period folder that does not exist --------------------------------------------------

def test_a_missing_period_folder_is_one_error_naming_it_and_the_periods_that_exist(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    (root / "data" / "2024Q3").mkdir()
    (root / "data" / "模板").mkdir()  # not a period: not listed
    write_book(root / P, ROWS)
    _add_source(root, "guarantees", _second_source("guarantees"))
    _add_source(root, "income", _second_source("income"))
    result = _read(root, "2025Q1")
    assert len(result.errors) == 1  # not one per source
    err = result.errors[0]
    assert err.render("zh") == (
        "错误: 2025Q1 的数据文件夹 data/2025Q1/ 不存在（已有数据的期：2024Q3、2024Q4）\n"
        "  位置: data/2025Q1/\n"
        "  处理: 把 2025Q1 各县（区）的工作簿放到 data/2025Q1/，或用 --period 选择已有数据的期")
    assert err.render("en") == (
        "Error: the data folder data/2025Q1/ for 2025Q1 does not exist (periods with data: 2024Q3, 2024Q4)\n"
        "  where: data/2025Q1/\n"
        "  fix: put the counties' workbooks for 2025Q1 in data/2025Q1/, or choose a period that has data with --period")


def test_no_data_folder_at_all_says_so(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    (root / "data" / "2024Q4").rmdir()
    (root / "data").rmdir()
    result = _read(root)
    assert [e.render("zh").splitlines()[0] for e in result.errors] == [
        "错误: 2024Q4 的数据文件夹 data/2024Q4/ 不存在（还没有任何一期的数据文件夹）"]


def test_extract_prints_the_missing_folder_once_and_exits_2(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS)
    _add_source(root, "guarantees", _second_source("guarantees"))
    res = CliRunner().invoke(app, ["extract", str(root), "--period", "2025Q1"],
                             env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert res.exit_code == 2, res.output
    assert res.output.count("data/2025Q1/ 不存在") == 1
    assert "没有找到文件" not in res.output
    assert not (root / "out" / "2025Q1").exists()  # nothing could be read: no empty observations.csv


def test_an_empty_folder_is_one_error_per_pattern_naming_every_source(tmp_path: Path) -> None:
    root = make_ws(tmp_path)  # data/2024Q4/ exists, holds nothing
    _add_source(root, "guarantees", _second_source("guarantees"))
    texts = [e.render("zh") for e in _read(root).errors]
    assert texts == ["错误: 来源 guarantees、monitoring 在 2024Q4 没有找到文件：data/2024Q4/*.xlsx\n"
                     "  位置: sources/guarantees.yaml\n"
                     "  处理: 把该期的文件放到 data/2024Q4/*.xlsx，或改正 files 模式"]


def test_sources_failing_for_different_reasons_are_all_reported(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS)
    _add_source(root, "guarantees", _second_source("guarantees", sheet="2-三保障*"))  # no such sheet
    _add_source(root, "towns", _second_source("towns").replace("*.xlsx", "*.csv").replace(
        "name: 监测", "name: 乡镇\nkind: csv").replace('sheet: "1-监测*"\n', ""))  # no CSV this period
    texts = sorted(e.render("zh").splitlines()[0] for e in _read(root).errors)
    assert texts == ["错误: 找不到监测的工作表（名称应与 '2-三保障*' 相符）",
                     "错误: 来源 towns 在 2024Q4 没有找到文件：data/2024Q4/*.csv"]


# ---- 2. a valid code of another county in a county's workbook --------------------------------

def test_a_code_of_another_county_is_an_error_at_its_cell(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [["城关镇", 1, 2, 3], ["990102102000", 4, 5, 6], ["红星乡", 7, 8, 9]])
    write_book(root / QS, QS_ROWS, title="青山区2024年防返贫动态监测情况表", org="青山区乡村振兴局")
    result = _read(root)
    assert [e.render("zh") for e in result.errors] == [
        "错误: 地区代码 990102102000 是青山区的城关镇，不属于本工作簿所属的东山县\n"
        f"  位置: {P} › 1-监测情况 › A8\n"
        "  处理: 改正该代码（若指的是东山县的城关镇，应为 990121101000）；若这一行确是青山区的数据，把它移到青山区的工作簿"]
    assert result.errors[0].render("en").splitlines()[0] == \
        "Error: region code 990102102000 is 城关镇 of 青山区, not of 东山县 (the region of this workbook)"
    got = obs(result)
    assert got[("households", "990102102000")] == (Decimal(7), "B9")  # 青山区's own row, not the stray one
    assert got[("households", "990121201000")] == (Decimal(7), "B9")
    assert len(got) == 2 * 3 + 3 * 3


def test_a_foreign_code_with_no_namesake_in_the_county_only_says_where_it_belongs(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [["城关镇", 1, 2, 3], ["990102101000", 4, 5, 6]])  # 青山区 北湖镇
    assert [e.render("zh").splitlines()[2] for e in _read(root).errors] == [
        "  处理: 改正该代码；若这一行确是青山区的数据，把它移到青山区的工作簿"]


def test_the_code_of_another_county_itself_names_that_county_once(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [["城关镇", 1, 2, 3], ["990102000000", 4, 5, 6]])  # 青山区 itself
    [error] = _read(root).errors
    assert error.render("zh").splitlines()[0] == "错误: 地区代码 990102000000 是青山区，不是本工作簿所属的东山县"
    assert error.render("en").splitlines()[0] == \
        "Error: region code 990102000000 is 青山区, not 东山县 (the region of this workbook)"


def test_real_duplicates_are_still_duplicates(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [["城关镇", 1, 2, 3], ["990121101000", 4, 5, 6]])  # 城关镇 by name, then by code
    texts = [e.render("zh").splitlines()[0] for e in _read(root).errors]
    assert texts == ["错误: 地区 990121101000 在同一表中出现两次：A7 和 A8"]


# ---- 3. a sheet without its 合计 row ---------------------------------------------------------

def _totals(root: Path):
    ws = load_workspace(root)
    result = _read(root)
    assert result.errors == []
    data = make_check_data("2024Q4", ws.regions, observations=result.observations,
                           fields=ws.fields(), scope="990100000000")
    rule = RuleDef.model_validate({"id": "total_row_equals_rows", "name": "合计行等于各行之和",
                                   "name_en": "A total row equals the sum of its rows", "kind": "totals",
                                   "fields": "*", "severity": "error"})
    return RULE_KINDS["totals"](rule, data)


def test_a_sheet_without_the_total_row_the_others_have_is_a_note(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS, total=["合计", 90, 120, 6])  # right
    write_book(root / QS, QS_ROWS, title="青山区2024年防返贫动态监测情况表", org="青山区乡村振兴局")
    issues = _totals(root)
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.rule, issue.severity, issue.region_code, issue.region_name) == \
        ("total_row_equals_rows", Severity.INFO, "990102000000", "青山区")
    assert issue.message.render("zh") == (
        f"{QS} › 1-监测情况 没有合计行（其他工作簿的同一张表有），“合计行等于各行之和”未能对这张表进行；请核实，补报合计行")
    assert issue.message.render("en") == (
        f"{QS} › 1-监测情况 has no total row (other workbooks' same sheet has one), so "
        "\"A total row equals the sum of its rows\" could not run on this sheet; check it and add the total row")
    assert [loc.to_dict() for loc in issue.locations] == [{"file": QS, "sheet": "1-监测情况"}]


def test_totals_still_checked_where_present_and_no_note_when_no_workbook_has_them(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS, total=["合计", 91, 120, 6])  # households: 91 ≠ 10 + 30 + 50
    write_book(root / QS, QS_ROWS, title="青山区2024年防返贫动态监测情况表", org="青山区乡村振兴局")
    got = sorted((i.severity.value, i.region_code, i.locations[0].cell) for i in _totals(root))
    assert got == [("error", "990121000000", "B10"), ("info", "990102000000", None)]

    wb = openpyxl.load_workbook(root / P)  # the 合计 row deleted from 东山县 too: nothing to compare with
    wb.active.delete_rows(10)
    wb.save(root / P)
    assert _totals(root) == []


# ---- 4. most of a source's columns missing: one error, not one per column --------------------

def test_a_sheet_lacking_most_columns_is_one_error_naming_them(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1-监测情况"
    for r, row in enumerate([["乡镇", "甲", "乙", "丙"], *ROWS], start=1):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    wb.save(root / P)
    result = _read(root)
    assert [e.render("zh") for e in result.errors] == [
        "错误: 找不到来源“监测”的 3 个必填列（共 3 个）：累计纳入监测对象/户数、累计纳入监测对象/人数、衔接资金\n"
        f"  位置: {P} › 1-监测情况\n"
        "  处理: 核对这是否是该来源的工作表；表头有：乡镇、甲、乙、丙。改正表头，或修改来源中的 sheet / column"]


def test_a_text_file_under_an_excel_name_lacking_the_columns_says_it_is_not_a_workbook(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    (root / P).write_text("乡镇\t户数\n城关镇\t5\n桃源镇\t6\n", encoding="utf-8")  # a system's "Excel export"
    result = _read(root)
    assert len(result.errors) == 1
    text = result.errors[0].render("zh")
    assert text.startswith("错误: 文件不是 Excel 工作簿（内容是文本或网页），其中找不到来源“监测”的 2 个必填列：")
    assert "另存为 .xlsx；表头有：乡镇、户数" in text


def test_one_renamed_header_is_still_its_own_error(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS)
    wb = openpyxl.load_workbook(root / P)
    wb.active["D5"] = "衔接资金合计"
    wb.save(root / P)
    result = _read(root)
    assert [str(e.what.render("zh")) for e in result.errors] == ["找不到列 '衔接资金'"]


# ---- 5. last quarter's workbook in this quarter's folder; .XLSX from Windows -------------------

def test_a_workbook_named_for_another_quarter_is_an_error(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / "data/2024Q4/东山县_2024Q3.xlsx", ROWS)  # copied from last quarter's folder
    result = _read(root)
    assert [e.render("zh") for e in result.errors] == [
        "错误: 文件名中的“2024Q3”表明这是 2024Q3 的报表，而读取的是 2024Q4 的数据\n"
        "  位置: data/2024Q4/东山县_2024Q3.xlsx\n"
        "  处理: 换成 2024Q4 的报表；若文件名写错了，改正文件名"]
    assert len(result.observations) == 0


def test_a_workbook_titled_for_another_quarter_is_an_error_at_the_title(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS, title="东山县2024年1—9月防返贫动态监测情况表")
    [err] = _read(root).errors
    assert err.render("zh").startswith("错误: 标题中的“2024年1—9月”表明这是 2024Q3 的报表，而读取的是 2024Q4 的数据\n"
                                       f"  位置: {P} › 1-监测情况 › A1")
    # the right quarter, a 第四季度 title, and a report date are all fine
    for title in ("东山县2024年1—12月防返贫动态监测情况表", "东山县2024年第四季度防返贫动态监测情况表",
                  "东山县防返贫动态监测情况表（报出日期：2025年1月10日）"):
        write_book(root / P, ROWS, title=title)
        assert _read(root).errors == [], title


def _sample_copy(tmp_path: Path) -> Path:
    """A copy of sample_data (its real workbooks) to spoil."""
    import shutil

    from conftest import SAMPLE

    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    return root


def test_every_sheet_titled_for_another_quarter_is_told_in_one_error(tmp_path: Path) -> None:
    # last quarter's workbook sent again with only the first sheet's title corrected: the other
    # five sheets are one error, not one a run
    root = _sample_copy(tmp_path)
    book = openpyxl.load_workbook(root / "data/2024Q3/东山县_2024Q3.xlsx")
    book.worksheets[0]["A1"] = book.worksheets[0]["A1"].value.replace("1—9月", "1—12月")
    book.save(root / "data/2024Q4/东山县_2024Q4.xlsx")
    [err] = read_sources(load_workspace(root), ["2024Q4"]).errors
    assert err.render("zh") == (
        "错误: 5张表（2-三保障和饮水安全、3-收入与就业、4-衔接资金和项目、5-人居环境和基础设施、6-乡村治理和集体经济）"
        "标题中的“2024年1—9月”表明这是 2024Q3 的报表，而读取的是 2024Q4 的数据\n"
        "  位置: data/2024Q4/东山县_2024Q4.xlsx › 2-三保障和饮水安全 › A1\n"
        "  处理: 换成 2024Q4 的报表；若只是标题写错了，改正标题")


def test_one_countys_workbook_sent_as_anothers_is_one_error(tmp_path: Path) -> None:
    # 东山县's workbook saved as 西河县's (titles edited): one error for the workbook, not one
    # "move the row" for each of its rows on every sheet
    root = _sample_copy(tmp_path)
    book = openpyxl.load_workbook(root / "data/2024Q4/东山县_2024Q4.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "东山县" in cell.value:
                    cell.value = cell.value.replace("东山县", "西河县")
    book.save(root / "data/2024Q4/西河县_2024Q4.xlsx")
    [err] = read_sources(load_workspace(root), ["2024Q4"]).errors
    # 东山县 has ten townships; 城关镇 and 新华乡 are names 西河县 has too, so they pass as 西河县's
    assert err.render("zh") == (
        "错误: 工作簿中有 8 个地区（桃源 镇、石桥镇、龙泉镇、柳林镇、白沙镇等）是东山县的，不属于西河县：它看来是东山县的报表\n"
        "  位置: data/2024Q4/西河县_2024Q4.xlsx\n"
        "  处理: 核对文件：若这是东山县的报表，按东山县的文件名存放，并向西河县索取它自己的报表")


def test_two_rows_of_another_county_are_each_told_where_to_go(tmp_path: Path) -> None:
    root = _sample_copy(tmp_path)
    path = root / "data/2024Q4/西河县_2024Q4.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["5-人居环境和基础设施"]
    towns = [row[0] for row in sheet.iter_rows() if isinstance(row[0].value, str) and row[0].value.endswith(("镇", "乡"))]
    towns[-1].value, towns[-2].value = "龙泉镇", "柳林镇"  # two of 东山县's townships pasted in
    book.save(path)
    errors = read_sources(load_workspace(root), ["2024Q4"]).errors
    assert sorted(e.what.render("zh") for e in errors) == [
        "柳林镇是东山县的地区，不属于本工作簿所属的西河县", "龙泉镇是东山县的地区，不属于本工作簿所属的西河县"]


def test_a_column_misspelt_in_the_source_is_one_error_at_its_line(tmp_path: Path) -> None:
    # every county's workbook lacks it: the source is wrong, not twelve workbooks
    root = _sample_copy(tmp_path)
    source = root / "sources/5_environment.yaml"
    text = source.read_text(encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "column: 卫生厕所户数," in s)
    source.write_text(text.replace("column: 卫生厕所户数,", "column: 卫生厕所户数量,"), encoding="utf-8")
    [err] = read_sources(load_workspace(root), ["2024Q4", "2023Q4"]).errors
    assert err.what.render("zh").startswith("12 个工作簿都找不到列 '卫生厕所户数量'（如 data/")
    assert (err.where.file, err.where.line) == ("sources/5_environment.yaml", line)
    assert err.fix.render("zh").startswith("最接近的是：卫生厕所户数")


def test_an_upper_case_extension_is_read(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / "data/2024Q4/东山县_2024Q4.XLSX", ROWS)
    result = _read(root)
    assert result.errors == [] and result.summary.files == 1
    assert obs(result)[("households", "990121101000")][0] == Decimal(10)


def test_a_township_of_another_county_by_name_says_whose_it_is(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [*ROWS, ["北湖镇", 1, 2, 3]])  # 青山区's township, moved into 东山县's sheet
    [err] = _read(root).errors
    assert err.render("zh") == (
        "错误: 北湖镇是青山区的地区，不属于本工作簿所属的东山县\n"
        f"  位置: {P} › 1-监测情况 › A10\n"
        "  处理: 把该行移到青山区的工作簿；若是同名的另一个地区，先在 regions.csv 中加入它")


def test_a_merged_name_cell_is_named_as_a_merge(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    pos = write_book(root / P, ROWS)
    wb = openpyxl.load_workbook(root / P)
    first = pos["first"]  # the first data row (7)
    wb.active.merge_cells(f"A{first}:A{first + 1}")  # 城关镇's name cell over 桃源镇's row too
    wb.save(root / P)
    [err] = _read(root).errors
    assert err.render("zh") == (
        f"错误: 地区名称是合并单元格 A{first}:A{first + 1}：第{first + 1}行的数据没有自己的地区名称\n"
        f"  位置: {P} › 1-监测情况 › A{first}:A{first + 1}\n"
        "  处理: 取消合并，每行填写各自的地区名称")


def test_a_cleared_group_header_is_named_rather_than_a_duplicate(tmp_path: Path) -> None:
    # 累计纳入监测对象 over B:C, then a second group whose header cell D5 was cleared: D and E
    # carry 累计纳入监测对象 from the left, and 户数 appears twice
    root = make_ws(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1-监测情况"
    rows = [["东山县防返贫动态监测情况表"], [], [], [], ["乡镇", "累计纳入监测对象", None, None, None, "衔接资金"],
            [None, "户数", "人数", "户数", "人数", None], ["城关镇", 1, 2, 3, 4, 5], ["桃源镇", 1, 2, 3, 4, 5]]
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    wb.save(root / P)
    errors = [e.render("zh") for e in _read(root).errors]
    assert errors[0] == (
        "错误: 表头 '累计纳入监测对象/户数' 重复出现（B6、D6）：D5 的上级表头是空的，沿用了左边的表头\n"
        f"  位置: {P} › 1-监测情况 › D5\n"
        "  处理: 在 D5 填回该组的表头")


def test_an_empty_workbook_is_said_once_as_such(tmp_path: Path) -> None:
    # one error per source used to say 找不到工作表 '1-监测*'（来源 monitoring）… 改正工作表名或 sheet 模式
    import openpyxl

    root = make_ws(tmp_path)
    _add_source(root, "guarantees", _second_source("guarantees", sheet="2-三保障*"))
    openpyxl.Workbook().save(root / P)
    texts = [e.render("zh") for e in _read(root).errors]
    assert len(texts) == 1
    assert texts[0].startswith("错误: 工作簿是空的（工作表 Sheet 中没有任何内容）")


def test_a_renamed_sheet_is_guessed_and_the_source_file_named(tmp_path: Path) -> None:
    import openpyxl

    root = make_ws(tmp_path)
    write_book(root / P, ROWS)
    book = openpyxl.load_workbook(root / P)
    book.worksheets[0].title = "监测情况"  # was 1-监测情况
    book.save(root / P)
    (err,) = _read(root).errors
    text = err.render("zh")
    assert "找不到监测的工作表（名称应与 '1-监测*' 相符）" in text
    assert "是否是“监测情况”改了名？" in text and "sources/monitoring.yaml 中的 sheet" in text
