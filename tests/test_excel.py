"""Files as they really arrive: error cells, uncached formulas, hidden rows, CSV encodings,
HTML/CSV under an .xlsx name, truncated, empty, password-protected and zip-bomb files, .xls."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from test_read import SOURCE, make_ws, obs, write_book

from revstat.errors import SourceError
from revstat.sources import read_sources
from revstat.sources.excel import MAX_RATIO, RATIO_MIN_SIZE, _check_extent, a1, open_book, sniff
from revstat.workspace import load_workspace

ROWS = [["城关镇", 10, 20, 1], ["桃源镇", 30, 40, 2], ["红星乡", 50, 60, 3]]
P = "data/2024Q4/东山县_2024Q4.xlsx"


def _read(root: Path):
    return read_sources(load_workspace(root), ["2024Q4"])


def _messages(result) -> str:
    return "\n".join(e.render("zh") for e in result.errors)


def test_error_cells_are_errors_naming_the_cell(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    rows = [list(r) for r in ROWS]
    rows[1][2] = "#DIV/0!"  # openpyxl stores this as an error cell (t="e")
    write_book(root / P, rows)
    result = _read(root)
    assert len(result.errors) == 1
    err = result.errors[0]
    assert err.where.cell == "C8" and err.where.sheet == "1-监测情况" and err.where.file == P
    assert "#DIV/0!" in err.render("zh")
    got = obs(result)
    assert ("persons", "990121102000") not in got  # not read as blank/zero
    assert got[("persons", "990121101000")] == (Decimal(20), "C7")


def test_formula_without_cached_value_says_open_and_save(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    rows = [list(r) for r in ROWS]
    rows[2][1] = "=B7+B8"  # openpyxl writes the formula with no cached value
    write_book(root / P, rows)
    result = _read(root)
    assert [e.where.cell for e in result.errors] == ["B9"]
    text = result.errors[0].render("zh")
    assert "公式" in text and "保存" in text
    assert "open the file in Excel/WPS and save it" in result.errors[0].render("en")


def test_formula_with_cached_value_is_read(tmp_path: Path) -> None:
    import xlsxwriter

    root = make_ws(tmp_path)
    wb = xlsxwriter.Workbook(root / P)
    ws = wb.add_worksheet("1-监测情况")
    ws.write_row(0, 0, ["乡镇", "累计纳入监测对象/户数", "累计纳入监测对象/人数", "衔接资金"])
    ws.write_row(1, 0, ["城关镇", 1, 2])
    ws.write_formula(1, 3, "=B2+C2", None, 3)
    wb.close()
    result = _read(root)
    assert result.errors == []
    assert obs(result)[("funds", "990121101000")] == (Decimal(3), "D2")


@pytest.mark.parametrize("policy, read_rows, n_errors", [("include", 3, 0), ("exclude", 2, 0), ("error", 2, 1)])
def test_hidden_rows_follow_the_policy(tmp_path: Path, policy: str, read_rows: int, n_errors: int) -> None:
    root = make_ws(tmp_path, hidden=policy)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1-监测情况"
    from test_read import messy_sheet

    messy_sheet(ws, ROWS)
    ws.row_dimensions[8].hidden = True  # 桃源镇
    wb.save(root / P)
    result = _read(root)
    assert result.summary.rows == read_rows
    assert len(result.errors) == n_errors
    assert (("households", "990121102000") in obs(result)) == (policy == "include")
    if policy != "error":
        assert any("8:8" in h for h in result.summary.hidden)
    else:
        assert result.errors[0].where.cell == "8:8"


def test_hidden_sheet_excluded_by_source_policy(tmp_path: Path) -> None:
    root = make_ws(tmp_path, source=SOURCE + "hidden: exclude\n")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1-监测情况"
    from test_read import messy_sheet

    messy_sheet(ws, ROWS)
    ws.sheet_state = "hidden"
    wb.create_sheet("其他")
    wb.save(root / P)
    result = _read(root)
    assert result.errors == []
    assert len(result.observations) == 0
    assert result.summary.hidden == [f"{P} › 1-监测情况（已跳过）"]


CSV_SOURCE = """id: csvsrc
name: CSV 报表
kind: csv
files: "data/{period}/*.csv"
region: {column: 乡镇, level: township}
fields:
  - {id: households, name: 户数, column: 户数, unit: 户}
  - {id: persons, name: 人数, column: 人数, unit: 人}
"""


@pytest.mark.parametrize("encoding, expected", [("gb18030", "gb18030"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")])
def test_csv_encodings_are_decoded_strictly_and_recorded(tmp_path: Path, encoding: str, expected: str) -> None:
    root = make_ws(tmp_path, source=CSV_SOURCE)
    text = "东山县监测情况表\n乡镇,户数,人数\n城关镇,\"1,234\",5\n桃源镇,7,—\n合计,1241,5\n"
    (root / "data/2024Q4/东山县.csv").write_bytes(text.encode(encoding))
    result = _read(root)
    assert result.errors == []
    assert result.summary.encodings == {"data/2024Q4/东山县.csv": expected}
    got = obs(result)
    assert got[("households", "990121101000")] == (Decimal(1234), "B3")
    assert got[("persons", "990121102000")] == (None, "C4")
    assert obs(result, "total")[("households", "990121000000")] == (Decimal(1241), "B5")


def test_undecodable_csv_is_an_error(tmp_path: Path) -> None:
    root = make_ws(tmp_path, source=CSV_SOURCE)
    (root / "data/2024Q4/东山县.csv").write_bytes("乡镇,户数\n城关镇,".encode("gb18030") + b"\x80\xff\n")
    result = _read(root)
    assert len(result.errors) == 1
    assert "编码" in result.errors[0].render("zh")


def test_csv_saved_under_an_xlsx_name_is_read_as_csv(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    text = "乡镇,累计纳入监测对象/户数,累计纳入监测对象/人数,衔接资金\n城关镇,1,2,3\n"
    (root / P).write_bytes(text.encode("gb18030"))
    result = _read(root)
    assert result.errors == []
    assert obs(result)[("funds", "990121101000")] == (Decimal(3), "D2")
    assert result.summary.encodings == {P: "gb18030"}
    assert any("CSV" in n for n in result.summary.notes)


def test_html_saved_under_an_xlsx_name_is_read(tmp_path: Path) -> None:
    pytest.importorskip("lxml")
    root = make_ws(tmp_path)
    html = """<html><head><meta charset="utf-8"></head><body><table>
    <tr><td colspan="4">东山县防返贫动态监测情况表</td></tr>
    <tr><td rowspan="2">乡镇</td><td colspan="2">累计纳入监测对象</td><td rowspan="2">衔接资金</td></tr>
    <tr><td>户数</td><td>人数</td></tr>
    <tr><td>城关镇</td><td>1,234</td><td>5</td><td>0.5</td></tr>
    <tr><td>合计</td><td>1,234</td><td>5</td><td>0.5</td></tr>
    </table></body></html>"""
    (root / P).write_text(html, encoding="utf-8")
    result = _read(root)
    assert result.errors == []
    got = obs(result)
    assert got[("households", "990121101000")] == (Decimal(1234), "B4")
    assert got[("funds", "990121101000")] == (Decimal("0.5"), "D4")
    assert result.summary.totals_rows == 1
    assert any("HTML" in n for n in result.summary.notes)


def test_truncated_empty_and_garbage_files_are_errors_and_others_still_read(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    write_book(root / P, ROWS)
    good = (root / P).read_bytes()
    (root / "data/2024Q4/青山区_2024Q4.xlsx").write_bytes(good[: len(good) // 2])
    (root / "data/2024Q4/空文件.xlsx").write_bytes(b"")
    (root / "data/2024Q4/~$东山县_2024Q4.xlsx").write_bytes(b"lock")
    result = _read(root)
    by_file = {e.where.file: e.render("zh") for e in result.errors}
    assert set(by_file) == {"data/2024Q4/青山区_2024Q4.xlsx", "data/2024Q4/空文件.xlsx"}
    assert "损坏" in by_file["data/2024Q4/青山区_2024Q4.xlsx"]
    assert "空" in by_file["data/2024Q4/空文件.xlsx"]
    assert result.summary.skipped == ["data/2024Q4/~$东山县_2024Q4.xlsx"]
    assert result.summary.rows == 3  # the good workbook is still read


def test_password_protected_file_is_named(tmp_path: Path) -> None:
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    root = make_ws(tmp_path)
    plain = tmp_path / "plain.xlsx"
    write_book(plain, ROWS)
    with open(plain, "rb") as fh:
        out = io.BytesIO()
        OOXMLFile(fh).encrypt("secret", out)
    (root / P).write_bytes(out.getvalue())
    assert msoffcrypto is not None
    result = _read(root)
    assert len(result.errors) == 1
    assert "密码" in result.errors[0].render("zh")
    assert "password" in result.errors[0].render("en")


def test_ole2_container_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 600 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 600)
    with pytest.raises(SourceError, match="密码"):
        open_book(path, "x.xlsx")


def test_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (RATIO_MIN_SIZE * 3))
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size / info.compress_size > MAX_RATIO
    with pytest.raises(SourceError, match="压缩比"):
        open_book(path, "bomb.xlsx")


def test_xls_is_read(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    root = make_ws(tmp_path, source=SOURCE.replace("*.xlsx", "*.xls"))
    wb = xlwt.Workbook()
    ws = wb.add_sheet("1-监测情况")
    ws.write_merge(0, 0, 0, 3, "东山县防返贫动态监测情况表")
    ws.write(1, 3, "单位：户、人、万元")
    ws.write_merge(2, 3, 0, 0, "乡镇")
    ws.write_merge(2, 2, 1, 2, "累计纳入监测对象")
    ws.write_merge(2, 3, 3, 3, "衔接资金")
    ws.write(3, 1, "户数")
    ws.write(3, 2, "人数")
    for r, row in enumerate([["城关镇", 11, "22", 0.25], ["合计", 11, 22, 0.25]], start=4):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    ws.write(6, 0, "桃源镇")
    ws.write(6, 1, 5)
    ws.row(6).set_cell_error(2, "#DIV/0!")  # calamine reads .xls error cells as blank too
    wb.save(str(root / "data/2024Q4/东山县_2024Q4.xls"))
    result = _read(root)
    assert [(e.where.cell, "#DIV/0!" in e.render("zh")) for e in result.errors] == [("C7", True)]
    got = obs(result)
    assert got[("households", "990121101000")] == (Decimal(11), "B5")
    assert got[("persons", "990121101000")] == (Decimal(22), "C5")
    assert got[("funds", "990121101000")] == (Decimal("0.25"), "D5")
    assert result.summary.totals_rows == 1


def test_missing_file_sheet_and_column_are_named(tmp_path: Path) -> None:
    root = make_ws(tmp_path)
    result = _read(root)  # no file at all
    assert len(result.errors) == 1 and "data/2024Q4/*.xlsx" in result.errors[0].render("zh")

    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active["A1"] = "东山县2024年防返贫动态监测情况表"  # something, under another sheet name
    wb.save(root / P)
    result = _read(root)
    assert "1-监测*" in result.errors[0].render("zh") and "Sheet1" in result.errors[0].render("zh")

    write_book(root / P, ROWS)
    wb = openpyxl.load_workbook(root / P)
    wb.active["C6"] = "人口"
    wb.save(root / P)
    result = _read(root)
    assert len(result.errors) == 1
    text = result.errors[0].render("zh")
    assert "累计纳入监测对象/人数" in text and "累计纳入监测对象/人口" in text  # headers found are listed
    assert result.errors[0].where.sheet == "1-监测情况"
    assert result.summary.rows == 3  # the other columns are still read


def test_sniff_and_a1() -> None:
    assert sniff(b"PK\x03\x04rest") == "zip"
    assert sniff(bytes.fromhex("D0CF11E0A1B11AE1")) == "ole2"
    assert sniff(b"\xef\xbb\xbf<html>") == "html"
    assert sniff(b"<TABLE border=1>") == "html"
    assert sniff("乡镇,户数".encode()) == "text"
    assert sniff(b"") == "empty"
    assert (a1(0, 0), a1(9, 25), a1(0, 26), a1(4, 701), a1(0, 702)) == ("A1", "Z10", "AA1", "ZZ5", "AAA1")


_EXTENTS = {  # sheet data → the farthest cell named, or None when the sheet is accepted
    "within ZZ9999: one scan": (b'<row r="9999"><c r="ZZ9999"/></row>', None),
    "three letters, measured: 9,999 × 703 cells": (b'<row r="1"><c r="AAA1"/><c r="A9999"/></row>', None),
    "five digits, measured: 99,999 × 1 cells": (b'<row r="99999"><c r="A99999"/></row>', None),
    "28,490 × 702 = 19,999,980 cells": (b'<row r="28490"><c r="ZZ28490"/></row>', None),
    "28,491 × 702 = 20,000,682 cells": (b'<row r="28491"><c r="ZZ28491"/></row>', "ZZ28491"),
    "a cell beyond its row": (b'<row r="7"><c r="A7"/><c r="ZZ28491"/></row>', "ZZ28491"),
    "lower case, spaces, single quotes": (b"<row r='1'><c r = 'xfd1048576'/></row>", "XFD1048576"),
    "10,001 rows without numbers": (b"<row><c/></row>" * 10_000 + b'<row><c r="XFD1"/></row>', "XFD10002"),
}


@pytest.mark.parametrize(("cells", "far"), _EXTENTS.values(), ids=_EXTENTS.keys())
def test_the_extent_guard_measures_only_sheets_beyond_zz9999(cells: bytes, far: str | None) -> None:
    xml = b'<worksheet xmlns:r="http://x"><dimension ref="A1"/><sheetData>' + cells + b"</sheetData></worksheet>"
    if far is None:
        _check_extent(xml, "f.xlsx", "s")
        return
    with pytest.raises(SourceError) as exc:
        _check_extent(xml, "f.xlsx", "s")
    assert exc.value.where.cell == far


SPREADSHEETML = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:x="urn:schemas-microsoft-com:office:excel">
 <Worksheet ss:Name="1-监测情况"><Table>
  <Row><Cell ss:MergeAcross="3"><Data ss:Type="String">东山县防返贫动态监测情况表</Data></Cell></Row>
  <Row><Cell ss:Index="4"><Data ss:Type="String">单位：户、人、元</Data></Cell></Row>
  <Row><Cell ss:MergeDown="1"><Data ss:Type="String">乡镇</Data></Cell>
       <Cell ss:MergeAcross="1"><Data ss:Type="String">累计纳入监测对象</Data></Cell>
       <Cell ss:MergeDown="1"><Data ss:Type="String">衔接资金</Data></Cell></Row>
  <Row><Cell ss:Index="2"><Data ss:Type="String">户数</Data></Cell><Cell><Data ss:Type="String">人数</Data></Cell></Row>
  <Row><Cell><Data ss:Type="String">城关镇</Data></Cell><Cell><Data ss:Type="Number">12</Data></Cell>
       <Cell><Data ss:Type="String">1,234</Data></Cell><Cell><Data ss:Type="Number">25000</Data></Cell></Row>
  <Row ss:Hidden="1"><Cell><Data ss:Type="String">红星乡</Data></Cell><Cell><Data ss:Type="Number">1</Data></Cell>
       <Cell><Data ss:Type="Number">2</Data></Cell><Cell><Data ss:Type="Number">3</Data></Cell></Row>
  <Row><Cell><Data ss:Type="String">桃源镇</Data></Cell><Cell><Data ss:Type="Error">#DIV/0!</Data></Cell>
       <Cell><Data ss:Type="Number">5</Data></Cell><Cell><Data ss:Type="Number">0.5</Data></Cell></Row>
 </Table></Worksheet>
</Workbook>
"""


def test_excel_2003_xml_under_an_xls_name_is_read(tmp_path: Path) -> None:
    root = make_ws(tmp_path, source=SOURCE.replace("*.xlsx", "*.xls"), hidden="exclude")
    (root / "data/2024Q4/东山县_2024Q4.xls").write_text(SPREADSHEETML, encoding="utf-8")
    result = _read(root)
    assert [(e.where.cell, "#DIV/0!" in e.render("zh")) for e in result.errors] == [("B7", True)]
    got = obs(result)
    assert got[("households", "990121101000")] == (Decimal(12), "B5")
    assert got[("persons", "990121101000")] == (Decimal(1234), "C5")
    assert got[("funds", "990121101000")] == (Decimal("2.5"), "D5")  # 元 → 万元
    assert got[("funds", "990121102000")] == (Decimal("0.00005"), "D7")
    assert ("households", "990121201000") not in got  # hidden row excluded by policy
    assert any("6:6" in h for h in result.summary.hidden)
    assert any("2003" in n for n in result.summary.notes)


def test_opendocument_spreadsheet_is_read(tmp_path: Path) -> None:
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    num = '<table:table-cell office:value-type="float" office:value="{0}"><text:p>{0}</text:p></table:table-cell>'
    rows = [[cell.format(x) for x in ("乡镇", "累计纳入监测对象/户数", "累计纳入监测对象/人数", "衔接资金")],
            [cell.format("城关镇"), num.format(7), cell.format("1,234"), num.format("0.25")]]
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="1-监测情况">'
               + "".join(f"<table:table-row>{''.join(r)}</table:table-row>" for r in rows)
               + "</table:table></office:spreadsheet></office:body></office:document-content>")
    root = make_ws(tmp_path, source=SOURCE.replace("*.xlsx", "*.ods"))
    with zipfile.ZipFile(root / "data/2024Q4/东山县_2024Q4.ods", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
                    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
                    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>')
    result = _read(root)
    assert result.errors == []
    got = obs(result)
    assert got[("households", "990121101000")] == (Decimal(7), "B2")
    assert got[("persons", "990121101000")] == (Decimal(1234), "C2")
    assert got[("funds", "990121101000")] == (Decimal("0.25"), "D2")


def test_an_xlsx_saved_under_an_xls_name_is_read_as_what_it_is(tmp_path: Path) -> None:
    # calamine chose its reader by the extension: “文件已损坏或不完整（… Invalid OLE …）” stopped the run
    root = make_ws(tmp_path, source=SOURCE.replace("*.xlsx", "*.xls*"))
    write_book(root / P, [["城关镇", 120, "1,234", "12.5"]])
    expected = obs(_read(root))
    (root / P).rename(root / P.replace(".xlsx", ".xls"))
    result = _read(root)
    assert result.errors == []
    assert obs(result) == expected and expected[("funds", "990121101000")][0] == Decimal("12.5")
