"""read_sources on real workbooks written into tmp_path: values, cells, totals, units, errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
                total: list[Any] | None = None, org: str = "东山县乡村振兴局") -> dict[str, int]:
    """Title, 表号 block, 单位 row, a two-row merged header, data, 合计, footer.
    Returns the 1-based Excel row of the first data row and of the 合计 row."""
    ws["A1"] = title
    ws.merge_cells("A1:D1")
    ws["D2"] = "表　　号：示乡振统1表"
    ws["D3"] = "制表机关：示范市乡村振兴局"
    ws["A4"] = f"填报单位：{org}（盖章）"
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


def test_whole_numbers_keep_their_digits_and_sign(tmp_path: Path) -> None:
    """Numbers stored as doubles read as the Decimal of the double: -0.0 stays -0, 1e14 has 15 digits."""
    root = make_ws(tmp_path)
    rows = [["城关镇", 12.0, -0.0, 1e14], ["桃源镇", -3.0, 0.0, 0.25], ["红星乡", 99999999999999.0, -0.0, 7.0]]
    write_book(root / "data/2024Q4/东山县_2024Q4.xlsx", rows)
    got = {key: str(value) for key, (value, _cell) in obs(_read(root)).items()}
    assert [got[(f, c)] for c in ("990121101000", "990121102000", "990121201000")
            for f in ("households", "persons", "funds")] == \
        ["12", "-0", "100000000000000", "-3", "0", "0.25", "99999999999999", "-0", "7"]


def _read(root: Path) -> Any:
    return read_sources(load_workspace(root), ["2024Q4"])


P = "data/2024Q4/东山县_2024Q4.xlsx"
ROWS = [["城关镇", 10, 20, 1], ["桃源镇", 30, 40, 2], ["红星乡", 50, 60, 3]]


def test_a_sheet_in_yuan_is_converted_exactly_to_wanyuan(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    rows = [["城关镇", 1, 2, 123456], ["桃源镇", 3, 4, "1,000,001"], ["红星乡", 5, 6, 0.5]]
    write_book(root / P, rows, unit="单位：户、人、元", total=["合计", 9, 12, Decimal("1123457.5")])
    result = _read(root)
    assert result.errors == []
    got = obs(result)
    assert got[("funds", "990121101000")] == (Decimal("12.3456"), "D7")
    assert got[("funds", "990121102000")] == (Decimal("100.0001"), "D8")
    assert got[("funds", "990121201000")] == (Decimal("0.00005"), "D9")
    assert obs(result, "total")[("funds", "990121000000")] == (Decimal("112.34575"), "D10")
    assert got[("households", "990121101000")] == (Decimal(1), "B7")  # counts untouched
    assert set(result.observations["unit"]) == {"户", "人", "万元"}
    assert len(result.summary.conversions) == 1 and "元 → 万元" in result.summary.conversions[0]


def test_unit_in_header_brackets_wins_and_uncertain_units_are_errors(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS)
    wb = openpyxl.load_workbook(root / P)
    wb.active["D5"] = "衔接资金\n（亿元）"
    wb.active["C6"] = "人数（户）"  # persons declared, households found: no certain conversion
    wb.save(root / P)
    result = _read(root)
    assert len(result.errors) == 1
    err = result.errors[0]
    assert "户" in err.render("zh") and "人" in err.render("zh") and err.where.cell == "C6"
    got = obs(result)
    assert got[("funds", "990121101000")] == (Decimal(10000), "D7")  # 1 亿元 = 10000 万元
    assert ("persons", "990121101000") not in got


def test_totals_at_the_top_are_kept_aside_not_summed(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS, total=["总计", 90, 120, 6], total_top=True)
    result = _read(root)
    assert result.errors == []
    totals = obs(result, "total")
    assert totals == {("households", "990121000000"): (Decimal(90), "B7"),
                      ("persons", "990121000000"): (Decimal(120), "C7"),
                      ("funds", "990121000000"): (Decimal(6), "D7")}
    src = obs(result)
    assert src[("households", "990121101000")] == (Decimal(10), "B8")
    assert sum(v for (f, _), (v, _) in src.items() if f == "households") == Decimal(90)
    assert result.summary.rows == 3 and result.summary.totals_rows == 1


def test_section_other_footer_rows_and_blank_rows_are_not_data(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    rows = [["一、镇", None, None, None], ["城关镇", 1, 2, 3], ["其中：城关社区", 1, 1, 1], [None, None, None, None],
            ["（二）乡", None, None, None], ["红星乡", 4, 5, 6], ["说明：1=2+3", None, None, None], ["桃源镇", 7, 8, 9]]
    write_book(root / P, rows)
    result = _read(root)
    assert result.errors == []
    assert {code for _, code in obs(result)} == {"990121101000", "990121201000"}  # 桃源镇 is below the footer
    assert obs(result)[("households", "990121201000")] == (Decimal(4), "B12")


def test_names_are_matched_within_the_county_of_the_workbook(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / "data/2024Q4/青山区_2024Q4.xlsx", [["城关镇", 1, 2, 3]], title="青山区监测表")
    write_book(root / P, [["城关镇", 4, 5, 6]])
    result = _read(root)
    assert result.errors == []
    assert obs(result)[("households", "990102102000")] == (Decimal(1), "B7")
    assert obs(result)[("households", "990121101000")] == (Decimal(4), "B7")


def test_county_from_the_title_when_the_file_name_does_not_say(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / "data/2024Q4/报表.xlsx", [["城关镇", 4, 5, 6]], title="青山区2024年监测情况", total=["合计", 4, 5, 6])
    result = _read(root)
    assert result.errors == []
    assert obs(result)[("households", "990102102000")] == (Decimal(4), "B7")
    assert obs(result, "total")[("households", "990102000000")] == (Decimal(4), "B8")


def test_unknown_and_ambiguous_names_list_candidates(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [["城关镇", 1, 2, 3], ["桃园镇", 4, 5, 6]])
    write_book(root / "data/2024Q4/报表.xlsx", [["城关镇", 1, 2, 3]], title="监测情况表", org="乡村振兴局")
    result = _read(root)
    texts = sorted(e.render("zh") for e in result.errors)
    assert len(texts) == 2
    assert any("桃园镇" in x and "桃源镇" in x and "B8" not in x and "A8" in x for x in texts)
    assert any("歧义" in x and "990102102000" in x and "990121101000" in x for x in texts)


def test_duplicate_rows_and_two_workbooks_for_one_county(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [["城关镇", 1, 2, 3], ["城关镇", 4, 5, 6]])
    write_book(root / "data/2024Q4/东山县_2024Q4_修改.xlsx", [["红星乡", 1, 2, 3]])
    (root / "sources" / "other.yaml").write_text(  # a second source reading the same workbooks
        SOURCE.replace("id: monitoring", "id: other").replace("id: households", "id: hh2")
        .replace("id: persons", "id: pp2").replace("id: funds", "id: funds2"), encoding="utf-8")
    result = _read(root)
    texts = [e.render("zh") for e in result.errors]
    assert len(texts) == 2
    assert any("两次" in x and "A7" in x and "A8" in x for x in texts)
    assert any("两个文件" in x and P in x and "东山县_2024Q4_修改.xlsx" in x for x in texts)
    assert obs(result)[("households", "990121101000")] == (Decimal(1), "B7")  # the first is kept


def test_text_that_is_not_a_number_names_cell_and_value(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [["城关镇", "12,3O4", 2, 3], ["桃源镇", "1 234", "３", "…"]])
    result = _read(root)
    assert len(result.errors) == 1
    err = result.errors[0]
    assert err.where.cell == "B7" and "12,3O4" in err.render("zh") and "—" in err.render("zh")
    got = obs(result)
    assert got[("households", "990121102000")] == (Decimal(1234), "B8")
    assert got[("persons", "990121102000")] == (Decimal(3), "C8")
    assert got[("funds", "990121102000")] == (None, "D8")


def test_region_codes_as_text_or_numbers_and_explicit_header_rows(tmp_path: Path) -> None:
    source = SOURCE.replace("by: auto", "by: code").replace('sheet: "1-监测*"', 'sheet: "1-监测*"\nheader: {rows: [5, 6]}')
    root = make_ws(tmp_path, source=source)
    write_book(root / P, [["990121101000", 1, 2, 3], [990121102000, 4, 5, 6], ["红星乡", 7, 8, 9]])
    result = _read(root)
    assert [e.where.cell for e in result.errors] == ["A9"]
    got = obs(result)
    assert got[("households", "990121101000")] == (Decimal(1), "B7")
    assert got[("households", "990121102000")] == (Decimal(4), "B8")
    assert set(result.observations["region_name"]) == {"城关镇", "桃源镇"}
    assert set(result.observations["level"]) == {"township"}


def test_last_header_part_alone_matches_when_unique(tmp_path: Path) -> None:
    root = make_ws(tmp_path, source=SOURCE.replace("column: 累计纳入监测对象/人数", "column: 人数"))
    write_book(root / P, ROWS)
    result = _read(root)
    assert result.errors == []
    assert obs(result)[("persons", "990121201000")] == (Decimal(60), "C9")


def test_two_sources_share_one_workbook_read_once(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    (root / "sources" / "other.yaml").write_text(
        SOURCE.replace("id: monitoring", "id: other").replace("households", "hh2").replace("persons", "pp2")
        .replace("id: funds", "id: funds2").replace('sheet: "1-监测*"', 'sheet: "2-*"'), encoding="utf-8")
    wb = openpyxl.Workbook()
    messy_sheet(wb.active, ROWS)
    wb.active.title = "1-监测"
    messy_sheet(wb.create_sheet("2-其他"), [["红星乡", 7, 8, 9]])
    wb.save(root / P)
    calls: list[str] = []
    result = read_sources(load_workspace(root), ["2024Q4"], progress=calls.append)
    assert result.errors == []
    assert calls == [P]
    assert result.summary.files == 1 and result.summary.sheets == 2
    assert obs(result)[("hh2", "990121201000")] == (Decimal(7), "B7")


NAMES = ["城关镇", "桃源镇", "红星乡"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.tuples(st.integers(-10**9, 10**9), st.integers(0, 10**6),
                                 st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False)),
                       min_size=3, max_size=3),
       style=st.lists(st.sampled_from(["number", "text", "grouped", "fullwidth"]), min_size=9, max_size=9),
       total_top=st.booleans())
def test_property_a_messy_workbook_reads_back_as_the_table(tmp_path_factory: Any, values: list[tuple[int, int, Decimal]],
                                                            style: list[str], total_top: bool) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    root = make_ws(tmp)
    rows = []
    for i, (name, triple) in enumerate(zip(NAMES, values, strict=True)):
        cells: list[Any] = [f" {name}\u200b"]
        for j, v in enumerate(triple):
            cells.append(_messy(v, style[i * 3 + j]))
        rows.append(cells)
    total = ["合计", sum(v[0] for v in values), sum(v[1] for v in values), sum(v[2] for v in values)]
    write_book(root / P, rows, total=total, total_top=total_top)
    result = _read(root)
    assert result.errors == []
    got = obs(result)
    first = 8 if total_top else 7
    for i, code in enumerate(["990121101000", "990121102000", "990121201000"]):
        for j, fid in enumerate(["households", "persons", "funds"]):
            value, cell = got[(fid, code)]
            assert value == Decimal(values[i][j])
            assert cell == f"{'BCD'[j]}{first + i}"


def _messy(v: Any, style: str) -> Any:
    if style == "number":
        return v if not isinstance(v, Decimal) else str(v) if v != v.to_integral_value() else int(v)
    text = str(v)
    if style == "grouped" and not isinstance(v, Decimal):
        text = f"{v:,}"
    if style == "fullwidth":
        text = text.translate(str.maketrans("0123456789.-", "０１２３４５６７８９．−"))
    return text


def test_a_row_named_after_the_county_is_its_total(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [*ROWS, ["东山县", 90, 120, 6]])
    result = _read(root)
    assert result.errors == []
    assert obs(result, "total")[("households", "990121000000")] == (Decimal(90), "B10")
    assert result.summary.rows == 3 and result.summary.totals_rows == 1


def test_a_township_workbook_of_villages_finds_its_township_through_the_county(tmp_path: Path) -> None:
    root = make_ws(tmp_path, source=SOURCE.replace("level: township", "level: village"))
    (root / "regions.csv").write_text(REGIONS + "\n".join([
        "990121101001,前进村,village,990121101000", "990121101002,红旗村,village,990121101000",
        "990102102001,前进村,village,990102102000", "990102102002,红旗村,village,990102102000"]) + "\n",
        encoding="utf-8")
    write_book(root / "data/2024Q4/东山县城关镇_2024Q4.xlsx", [["前进村", 1, 2, 3], ["红旗村", 4, 5, 6]],
               total=["合计", 5, 7, 9], org="城关镇人民政府")
    result = _read(root)
    assert result.errors == []
    assert obs(result)[("households", "990121101002")] == (Decimal(4), "B8")
    assert obs(result, "total")[("households", "990121101000")] == (Decimal(5), "B9")


def test_section_marks_in_a_number_column_left_of_the_names(tmp_path: Path) -> None:
    source = SOURCE.replace("column: 衔接资金, unit: 万元", "column: 衔接资金, unit: 万元, required: false")
    root = make_ws(tmp_path, source=source)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1-监测情况"
    ws.append(["序号", "乡镇", "累计纳入监测对象", None])
    ws.append([None, None, "户数", "人数"])
    ws.merge_cells("C1:D1")
    for row in (["一、", "镇", None, None], [1, "城关镇", 3, 4], ["其中：", "城关社区", 1, 1],
                ["二、", "乡", None, None], [2, "红星乡", 5, 6], [None, "合计", 8, 10]):
        ws.append(row)
    wb.save(root / P)
    result = _read(root)
    assert result.errors == []
    assert obs(result) == {("households", "990121101000"): (Decimal(3), "C4"),
                           ("persons", "990121101000"): (Decimal(4), "D4"),
                           ("households", "990121201000"): (Decimal(5), "C7"),
                           ("persons", "990121201000"): (Decimal(6), "D7")}
    assert obs(result, "total")[("persons", "990121000000")] == (Decimal(10), "D8")


def test_a_renamed_header_is_pointed_at_by_its_cell(tmp_path: Path) -> None:
    # 户数 under 累计纳入监测对象 typed 户 (the second header row), 衔接资金 typed 衔接资 (merged D5:D6)
    root = make_ws(tmp_path)
    path = root / "data/2024Q4/东山县_2024Q4.xlsx"
    write_book(path, ROWS)
    book = openpyxl.load_workbook(path)
    book.active["B6"], book.active["D5"] = "户", "衔接资"
    book.save(path)
    errors = read_sources(load_workspace(root), ["2024Q4"]).errors
    where = {e.what.render("zh"): e.where.cell for e in errors}
    assert where == {"找不到列 '累计纳入监测对象/户数'": "B6", "找不到列 '衔接资金'": "D5"}


def test_a_hidden_copy_among_matching_sheets_is_said_to_be_hidden(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    path = root / "data/2024Q4/东山县_2024Q4.xlsx"
    write_book(path, ROWS)
    book = openpyxl.load_workbook(path)
    copy = book.copy_worksheet(book.active)
    copy.title, copy.sheet_state = "1-监测情况(上季度)", "hidden"
    book.save(path)
    [err] = read_sources(load_workspace(root), ["2024Q4"]).errors  # hidden: include (the default)
    assert err.what.render("zh") == "有多个工作表符合 '1-监测*'：1-监测情况、1-监测情况(上季度)（隐藏）"
    assert "hidden 设为 include 时隐藏的工作表照样读取" in err.fix.render("zh")


def test_a_number_typed_with_its_unit_is_told_to_drop_the_unit(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, [["城关镇", "140户", 2, 3], ["桃源镇", "约9", 2, 3]])
    errors = sorted(_read(root).errors, key=lambda e: e.where.cell)
    assert [e.where.cell for e in errors] == ["B7", "B8"]
    assert "去掉数字后的“户”，只填数字" in errors[0].fix.render("zh")
    assert "remove “户” after the number" in errors[0].fix.render("en")
    assert "—" in errors[1].fix.render("zh")  # 约9: no unit to drop, the general advice


def test_a_renamed_group_header_is_found_at_its_cell_not_at_a_column_read_for_another_field(tmp_path: Path) -> None:
    # 已消除风险 typed as 风险已消除 (F7): the closest header was 未消除风险/户数 (H8), the column of
    # another field, and the place named was H8; it is now the renamed cell, and the free column first
    import shutil

    sample = Path(__file__).resolve().parents[1] / "sample_data"
    root = Path(shutil.copytree(sample, tmp_path / "ws", ignore=shutil.ignore_patterns("out")))
    book = root / "data" / "2024Q4" / "东山县_2024Q4.xlsx"
    wb = openpyxl.load_workbook(book)
    wb["1-防返贫监测情况"]["F7"].value = "风险已消除"
    wb.save(book)
    errors = [e for e in read_sources(load_workspace(root), ["2024Q4"]).errors if "已消除风险/户数" in e.what.render("zh")]
    assert len(errors) == 1
    assert (errors[0].where.sheet, errors[0].where.cell) == ("1-防返贫监测情况", "F7")
    assert errors[0].fix.render("zh").startswith("最接近的是：风险已消除/户数、")


def test_a_region_the_workbook_names_otherwise_is_matched_by_its_alias(tmp_path: Path) -> None:
    # 梅岭瑶族乡 in the workbook, 梅岭乡 in regions.csv: “未知的地区名称”, and neither fix offered (correct
    # the workbook, add a region) was right; an aliases column in regions.csv names the other spelling
    import csv
    import shutil

    sample = Path(__file__).resolve().parents[1] / "sample_data"
    root = Path(shutil.copytree(sample, tmp_path / "ws", ignore=shutil.ignore_patterns("out")))
    before = obs(read_sources(load_workspace(root), ["2024Q4"]))
    book = root / "data" / "2024Q4" / "东山县_2024Q4.xlsx"
    wb = openpyxl.load_workbook(book)
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.strip() == "梅岭乡":
                    cell.value = "梅岭瑶族乡"
    wb.save(book)
    unknown = read_sources(load_workspace(root), ["2024Q4"]).errors
    assert unknown and "未知的地区名称 '梅岭瑶族乡'" in unknown[0].what.render("zh")
    assert "aliases 列" in unknown[0].fix.render("zh")
    with open(root / "regions.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[0].append("aliases")
    for r in rows[1:]:
        r.append("梅岭瑶族乡；梅岭" if r[1] == "梅岭乡" else "")
    with open(root / "regions.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    result = read_sources(load_workspace(root), ["2024Q4"])
    assert result.errors == []
    assert obs(result) == before
