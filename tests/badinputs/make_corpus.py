"""Generate the bad-input corpus: every broken or hostile file revstat must survive.

Nothing here is a committed binary: each case is a function that writes its files, so the
corpus can be rebuilt and read. A case is a small workspace — two counties of a fictional
city, one source of sheets (``监测*``, three fields) and one of CSV files — with a good
workbook for 甲县 and the bad input for 乙县, plus what must happen when it is read
(:class:`Expect`): the error class, key words of the Chinese message, the file, sheet and cell
it names, the values still read, and the exit code.

Usage::

    python tests/badinputs/make_corpus.py OUT          # write every case into OUT/<case>/
    python tests/badinputs/make_corpus.py OUT --list   # list the cases
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PERIOD = "2024Q4"
DATA = f"data/{PERIOD}"
CITY = "990100000000"
REGIONS = [
    ("990000000000", "示范省", "province", ""),
    ("990100000000", "示范市", "city", "990000000000"),
    ("990121000000", "甲县", "county", "990100000000"),
    ("990121101000", "城关镇", "township", "990121000000"),
    ("990121102000", "桃源镇", "township", "990121000000"),
    ("990121201000", "石桥乡", "township", "990121000000"),
    ("990122000000", "乙县", "county", "990100000000"),
    ("990122101000", "河口镇", "township", "990122000000"),
    ("990122102000", "永宁镇", "township", "990122000000"),
    ("990122201000", "新华乡", "township", "990122000000"),
]
CODE = {name: code for code, name, _level, _parent in REGIONS}
FIELDS = ("households", "persons", "funds")
HEADERS = ["乡镇", "监测户数", "监测人数", "帮扶资金"]
UNIT_ROW = "单位：户、人、万元"
#: 甲县 (the good workbook) and 乙县 (the bad one): township → (户, 人, 万元) as typed.
GOOD = {"城关镇": ("10", "30", "1.5"), "桃源镇": ("20", "60", "2.25"), "石桥乡": ("30", "90", "3")}
BAD = {"河口镇": ("11", "33", "1.1"), "永宁镇": ("12", "36", "1.2"), "新华乡": ("13", "39", "1.3")}
#: The CSV source: township → 人均可支配收入 (元).
GOOD_CSV = {"城关镇": "15000", "桃源镇": "16000", "石桥乡": "17000"}
BAD_CSV = {"河口镇": "14001", "永宁镇": "14002", "新华乡": "14003"}
GOOD_FILE, BAD_FILE = "甲县.xlsx", "乙县.xlsx"

SHEET_SOURCE = """\
id: monitoring
name: 防返贫监测测试表
files: "data/{period}/*.xls*"
sheet: "监测*"
region: {column: 乡镇, by: auto, level: township}
fields:
  - {id: households, name: 监测户数, column: 监测户数, unit: 户}
  - {id: persons, name: 监测人数, column: 监测人数, unit: 人}
  - {id: funds, name: 帮扶资金, column: 帮扶资金, unit: 万元}
"""
CSV_SOURCE = """\
id: income
name: 收入测试表
kind: csv
files: "data/{period}/*.csv"
region: {column: 乡镇, by: auto, level: township}
fields:
  - {id: income, name: 人均可支配收入, column: 人均可支配收入, unit: 元}
"""
SHEET = "监测表"
#: Rows of the standard layout (1-based, as Excel shows them): title, unit, header, data.
HEADER_ROW, FIRST_DATA_ROW = 3, 4


@dataclass(frozen=True)
class Expect:
    """What reading a case must give."""

    outcome: str  # "error": one RevstatError for the bad file; "read": no error at all
    error: str = "SourceError"
    words: tuple[str, ...] = ()  # all must appear in the Chinese message (what + fix)
    file: str | None = BAD_FILE  # the file the error names (its name, not the folder)
    sheet: str | None = None
    cell: str | None = None  # A1 ref or range the error names
    #: (field, township) → exact value (text of a Decimal; None = missing) that must be read
    values: dict[tuple[str, str], str | None] = field(default_factory=dict)
    #: townships of 乙县 whose values must NOT be in the observations
    absent: tuple[str, ...] = ()
    #: field → value of 乙县's 合计 row, kept aside (origin "total"), never summed
    totals: dict[str, str] = field(default_factory=dict)
    #: words that must appear in what the reader reports beside the data (summary: notes,
    #: hidden rows/sheets met, files skipped, unit conversions)
    notes: tuple[str, ...] = ()
    exit_code: int = 2


@dataclass(frozen=True)
class Case:
    id: str
    title: str  # what is wrong, in the users' words
    build: Callable[[Path], None]  # writes the bad input into the data folder
    expect: Expect
    hidden: str = "include"  # the workspace's hidden rows/sheets policy
    needs: str | None = None  # an optional module the generator needs (case skipped without)


# ---- building blocks ----------------------------------------------------------------------


def standard_rows(values: dict[str, tuple[str, ...]], *, county: str = "乙县", unit: str = UNIT_ROW,
                  headers: list[str] | None = None, total: bool = True) -> list[list[object]]:
    """The standard layout: title, 单位 row, header, one row per township, 合计, footer."""
    rows: list[list[object]] = [[f"{county}2024年1—12月防返贫监测情况表"], [unit], list(headers or HEADERS)]
    for name, cells in values.items():
        rows.append([name, *(_typed(c) for c in cells)])
    if total:
        sums = [sum(_num(v[i]) for v in values.values()) for i in range(3)]
        rows.append(["合计", *(_fmt(s) for s in sums)])
    rows.append(["填表人：张三　　报出日期：2025年1月10日"])
    return rows


def _num(text: str) -> float:
    return float(text)


def _fmt(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 6)


def _typed(text: object) -> object:
    """Numbers as numbers (as Excel stores them); anything else as text."""
    if not isinstance(text, str):
        return text
    try:
        x = float(text)
    except ValueError:
        return text
    return int(x) if x.is_integer() and "." not in text else x


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]], *, hidden_rows: dict[str, list[int]] | None = None,
               hidden_sheets: tuple[str, ...] = (), merges: dict[str, list[tuple[str, object]]] | None = None,
               after: Callable[[object, object, object], None] | None = None) -> None:
    """Write sheets of rows with xlsxwriter (rows 0-based here; hidden_rows 1-based)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": dt.datetime(2025, 1, 10)})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
        for row1 in (hidden_rows or {}).get(name, []):
            ws.set_row(row1 - 1, None, None, {"hidden": True})
        for ref, value in (merges or {}).get(name, []):
            ws.merge_range(ref, value)
        if name in hidden_sheets:
            ws.hide()
        if after is not None:
            after(wb, ws, name)
    if hidden_sheets and all(n in hidden_sheets for n in sheets):  # pragma: no cover - guard
        raise ValueError("a workbook needs one visible sheet")
    wb.close()


def good_xlsx(path: Path, values: dict[str, tuple[str, ...]] = GOOD, county: str = "甲县") -> None:
    write_xlsx(path, {SHEET: standard_rows(values, county=county)})


def write_csv(path: Path, values: dict[str, str], encoding: str = "utf-8", extra: str = "") -> None:
    lines = ["乡镇,人均可支配收入,备注"]
    lines += [f"{name},{value},{extra}" for name, value in values.items()]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def xlsx_bytes(values: dict[str, tuple[str, ...]] = BAD) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "x.xlsx"
        good_xlsx(p, values, county="乙县")
        return p.read_bytes()


def rewrite_member(src: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    """The same zip with one member's bytes changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == member:
                data = change(data)
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _bad(values: dict[str, tuple[str, ...]] | None = None, **kw: object) -> dict[tuple[str, str], str | None]:
    """The expected values of 乙县's rows (all three fields, as Decimal text)."""
    from decimal import Decimal

    values = values or BAD
    out: dict[tuple[str, str], str | None] = {}
    for name, cells in values.items():
        for f, text in zip(FIELDS, cells, strict=True):
            out[(f, name)] = str(Decimal(text)) if text is not None else None
    return out


# ---- the cases ----------------------------------------------------------------------------


def _empty(d: Path) -> None:
    (d / BAD_FILE).write_bytes(b"")


def _truncated(d: Path) -> None:
    data = xlsx_bytes()
    (d / BAD_FILE).write_bytes(data[: len(data) // 2])


def _encrypted(d: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    with (d / BAD_FILE).open("wb") as out:
        OOXMLFile(io.BytesIO(xlsx_bytes())).encrypt("123456", out)


def _xls(d: Path) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet(SHEET)
    for r, row in enumerate(standard_rows(BAD)):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(d / "乙县.xls"))


def _xlsx_as_xls(d: Path) -> None:
    (d / "乙县.xls").write_bytes(xlsx_bytes())  # renamed by hand: the contents are an .xlsx


def _xls_fat_loop(d: Path) -> None:
    """The .xls of ``_xls`` with every sector chain of its compound-file FAT looped back to its
    start (found by fuzzing: calamine follows the chain until it asks for ~4 GB and aborts)."""
    import struct

    _xls(d)
    path = d / "乙县.xls"
    data = bytearray(path.read_bytes())
    sector = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    fat = (struct.unpack_from("<I", data, 0x4C)[0] + 1) * sector  # the first FAT sector
    entries = [struct.unpack_from("<I", data, fat + 4 * i)[0] for i in range(sector // 4)]
    for i, entry in enumerate(entries):
        if entry == 0xFFFFFFFE:  # end of a chain → back to the chain's first sector
            start = i
            while start in entries:
                start = entries.index(start)
            struct.pack_into("<I", data, fat + 4 * i, start)
    path.write_bytes(bytes(data))


def _xls_truncated(d: Path) -> None:
    """An .xls cut short (found by fuzzing: calamine panics, a BaseException, not an Exception)."""
    _xls(d)
    path = d / "乙县.xls"
    path.write_bytes(path.read_bytes()[:4600])


def _html(d: Path) -> None:
    rows = "".join(f"<tr><td>{n}</td><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for n, (a, b, c) in BAD.items())
    (d / BAD_FILE).write_text(
        "<html><head><meta charset='utf-8'></head><body><table>"
        "<tr><td>乡镇</td><td>监测户数</td><td>监测人数</td><td>帮扶资金</td></tr>"
        f"{rows}</table></body></html>", encoding="utf-8")


def _csv_as_xlsx(d: Path) -> None:
    text = "乡镇,监测户数,监测人数,帮扶资金\n" + "".join(f"{n},{a},{b},{c}\n" for n, (a, b, c) in BAD.items())
    (d / BAD_FILE).write_bytes(text.encode("gb18030"))


def _docx_as_xlsx(d: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    (d / BAD_FILE).write_bytes(out.getvalue())


def _csv_gbk(d: Path) -> None:
    write_csv(d / "乙县.csv", BAD_CSV, "gbk", extra="已核实")


def _csv_gb18030(d: Path) -> None:
    write_csv(d / "乙县.csv", BAD_CSV, "gb18030", extra="㐀字号（GBK 没有的字）")


def _csv_bom(d: Path) -> None:
    write_csv(d / "乙县.csv", BAD_CSV, "utf-8-sig")


def _csv_ragged(d: Path) -> None:
    """Lines of different lengths: a one-field line under the header (found by fuzzing)."""
    lines = ["序号,乡镇,人均可支配收入", "（一）各乡镇"]
    lines += [f"{i},{name},{value}" for i, (name, value) in enumerate(BAD_CSV.items(), start=1)]
    (d / "乙县.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _csv_undecodable(d: Path) -> None:
    good = ("乡镇,人均可支配收入,备注\r\n河口镇,14001,").encode("gb18030")
    (d / "乙县.csv").write_bytes(good + b"\xff\xfe\x80\xff\r\n")


def _error_div0(d: Path) -> None:
    def after(wb: object, ws: object, name: str) -> None:
        ws.write_formula("C5", "=B5/0", None, "#DIV/0!")  # type: ignore[attr-defined]

    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(BAD)}, after=after)


def _openpyxl_layout(path: Path, edit: Callable[[object], None], values: dict[str, tuple[str, ...]] = BAD) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    for row in standard_rows(values):
        ws.append(row)
    edit(ws)
    wb.save(path)


def _error_ref(d: Path) -> None:
    def edit(ws: object) -> None:
        ws["D6"] = "#REF!"  # type: ignore[index]  # openpyxl stores it as an error constant

    _openpyxl_layout(d / BAD_FILE, edit)


def _formula_uncached(d: Path) -> None:
    def edit(ws: object) -> None:
        ws["C4"] = "=B4*3"  # type: ignore[index]  # written by a script: no cached value

    _openpyxl_layout(d / BAD_FILE, edit)


def _stale_total(d: Path) -> None:
    rows = standard_rows(BAD)
    rows[FIRST_DATA_ROW - 1 + 3] = ["合计", 40, 108, 3.6]  # true sums: 36, 108, 3.6
    write_xlsx(d / BAD_FILE, {SHEET: rows})


def _date_serial(d: Path) -> None:
    def after(wb: object, ws: object, name: str) -> None:
        fmt = wb.add_format({"num_format": "yyyy-mm-dd"})  # type: ignore[attr-defined]
        ws.write_datetime("B5", dt.datetime(1900, 1, 12), fmt)  # type: ignore[attr-defined]

    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(BAD)}, after=after)


def _eighteen_digits(d: Path) -> None:
    rows = standard_rows(BAD)
    rows[FIRST_DATA_ROW - 1 + 2][2] = 123456789012345678  # stored as a double: 1.2345678901234568e17
    write_xlsx(d / BAD_FILE, {SHEET: rows})


def _code_rows(codes: list[object]) -> list[list[object]]:
    rows = standard_rows(BAD, headers=["乡镇代码", "监测户数", "监测人数", "帮扶资金"])
    for i, code in enumerate(codes):
        rows[FIRST_DATA_ROW - 1 + i][0] = code
    return rows


CODE_SOURCE = SHEET_SOURCE.replace("region: {column: 乡镇, by: auto", "region: {column: 乡镇代码, by: auto")


def _codes_as_floats(d: Path) -> None:
    codes = [float(CODE[n]) for n in BAD]
    write_xlsx(d / BAD_FILE, {SHEET: _code_rows(codes)})
    write_xlsx(d / GOOD_FILE, {SHEET: _good_code_rows([float(CODE[n]) for n in GOOD])})


def _good_code_rows(codes: list[object]) -> list[list[object]]:
    rows = _code_rows(codes)
    for i, cells in enumerate(GOOD.values()):
        rows[FIRST_DATA_ROW - 1 + i][1:4] = [_typed(c) for c in cells]
    rows[0] = ["甲县2024年1—12月防返贫监测情况表"]
    rows[FIRST_DATA_ROW - 1 + 3] = ["合计", 60, 180, 6.75]
    return rows


def _codes_scientific(d: Path) -> None:
    codes: list[object] = [CODE[n] for n in BAD]
    codes[1] = "9.90122E+11"  # 永宁镇 990122102000 typed in scientific notation: digits lost
    write_xlsx(d / BAD_FILE, {SHEET: _code_rows(codes)})
    write_xlsx(d / GOOD_FILE, {SHEET: _good_code_rows([CODE[n] for n in GOOD])})


def _merged_hides_data(d: Path) -> None:
    def after(wb: object, ws: object, name: str) -> None:
        ws.merge_range("C4:C5", 33)  # type: ignore[attr-defined]
        ws.write_number("C5", 36)  # type: ignore[attr-defined]  # hidden under the merge

    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(BAD)}, after=after)


def _hidden_row(d: Path) -> None:
    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(BAD)}, hidden_rows={SHEET: [5]})


def _hidden_sheet(d: Path) -> None:
    old = {n: (str(int(a) + 100), b, c) for n, (a, b, c) in BAD.items()}
    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(BAD), "监测表（旧）": standard_rows(old)},
               hidden_sheets=("监测表（旧）",))


def _header(headers: list[str]) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        write_xlsx(d / BAD_FILE, {SHEET: standard_rows(BAD, headers=headers)})
    return build


def _duplicate_header(d: Path) -> None:
    rows = standard_rows(BAD)
    rows[HEADER_ROW - 1].append("监测户数")  # E3 repeats B3
    for i in range(3):
        rows[FIRST_DATA_ROW - 1 + i].append(99)
    write_xlsx(d / BAD_FILE, {SHEET: rows})


def _preamble(d: Path) -> None:
    rows = standard_rows(BAD)
    preamble: list[list[object]] = [[f"说明{i}：本表由乡镇填报，县汇总。"] for i in range(1, 41)]
    write_xlsx(d / BAD_FILE, {SHEET: [rows[0], rows[1], *preamble, *rows[2:]]})


def _header_no_data(d: Path) -> None:
    write_xlsx(d / BAD_FILE, {SHEET: standard_rows({}, total=False)})


def _unit_yuan(d: Path) -> None:
    yuan = {n: (a, b, str(int(float(c) * 10000))) for n, (a, b, c) in BAD.items()}
    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(yuan, unit="单位：户、人、元")})


def _unit_conflict(d: Path) -> None:
    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(BAD, headers=["乡镇", "监测户数", "监测人数", "帮扶资金（人）"])})


def _two_submissions(d: Path) -> None:
    good_xlsx(d / BAD_FILE, BAD, county="乙县")
    changed = {n: (str(int(a) + 1), b, c) for n, (a, b, c) in BAD.items()}
    good_xlsx(d / "乙县（修订）.xlsx", changed, county="乙县")


#: Zip bomb: how far the sheet expands (bytes); it stays ~1000 times smaller compressed.
BOMB_EXPANDED = 300 * 1024 * 1024


def _zip_bomb(d: Path) -> None:
    (d / BAD_FILE).write_bytes(_bomb_bytes())


@functools.lru_cache(maxsize=1)
def _bomb_bytes() -> bytes:
    """Built once per process (deflating 300 MB takes a moment)."""
    src = xlsx_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with zout.open(info.filename, "w", force_zip64=True) as member:
                member.write(head + b"<sheetData>")
                chunk = b" " * (1024 * 1024)
                for _ in range(BOMB_EXPANDED // len(chunk)):
                    member.write(chunk)
                member.write(tail)
    return out.getvalue()


LAUGHS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE lolz [\n'
          b' <!ENTITY lol "lol">\n'
          + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b"]>\n")


def _billion_laughs(d: Path) -> None:
    def change(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1].lstrip()
        # the first shared string (the title) becomes &lol9; = 10^9 "lol"s if expanded
        body = body.replace("乙县2024年1—12月防返贫监测情况表".encode(), b"&lol9;", 1)
        return LAUGHS + body

    (d / BAD_FILE).write_bytes(rewrite_member(xlsx_bytes(), "xl/sharedStrings.xml", change))


def _huge_dimension(d: Path) -> None:
    def change(xml: bytes) -> bytes:
        start = xml.index(b"<dimension ref=\"")
        end = xml.index(b"/>", start)
        return xml[:start] + b'<dimension ref="A1:XFD1048576"' + xml[end:]

    (d / BAD_FILE).write_bytes(rewrite_member(xlsx_bytes(), "xl/worksheets/sheet1.xml", change))


def _stray_far_cell(d: Path) -> None:
    def after(wb: object, ws: object, name: str) -> None:
        ws.write_string(1048575, 16383, " ")  # type: ignore[attr-defined]  # XFD1048576: a stray space

    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(BAD)}, after=after)


def _cell_ref_out_of_range(d: Path) -> None:
    def change(xml: bytes) -> bytes:
        return xml.replace(b'<c r="A7"', b'<c r="A99999999999"', 1)  # the 合计 label claims a far row

    (d / BAD_FILE).write_bytes(rewrite_member(xlsx_bytes(), "xl/worksheets/sheet1.xml", change))


def _forged_string_count(d: Path) -> None:
    def change(xml: bytes) -> bytes:
        import re

        return re.sub(rb'uniqueCount="\d+"', b'uniqueCount="999999999991"', xml, count=1)

    (d / BAD_FILE).write_bytes(rewrite_member(xlsx_bytes(), "xl/sharedStrings.xml", change))


def _forged_string_count_odd_xml(d: Path) -> None:
    """The same forgery in legal but unusual XML: '>' inside an attribute value, single quotes."""
    def change(xml: bytes) -> bytes:
        import re

        xml = xml.replace(b"spreadsheetml/2006/main", b"spreadsheetml/<v>2006</v>/main", 1)
        return re.sub(rb'uniqueCount="\d+"', b"uniqueCount='199999999999'", xml, count=1)

    (d / BAD_FILE).write_bytes(rewrite_member(xlsx_bytes(), "xl/sharedStrings.xml", change))


def _missing_sheet(d: Path) -> None:
    write_xlsx(d / BAD_FILE, {"Sheet1": standard_rows(BAD)})


def _missing_column(d: Path) -> None:
    rows = standard_rows(BAD, headers=["乡镇", "监测户数", "人口数", "帮扶资金"])
    write_xlsx(d / BAD_FILE, {SHEET: rows})


def _unknown_region(d: Path) -> None:
    values = dict(BAD)
    values["河口填"] = values.pop("河口镇")  # a typo
    write_xlsx(d / BAD_FILE, {SHEET: standard_rows(values)})


def _not_a_number(d: Path) -> None:
    rows = standard_rows(BAD)
    rows[FIRST_DATA_ROW - 1 + 1][2] = "3O"  # letter O for zero, in C5
    write_xlsx(d / BAD_FILE, {SHEET: rows})


def _duplicate_rows(d: Path) -> None:
    rows = standard_rows(BAD)
    rows.insert(FIRST_DATA_ROW - 1 + 3, ["河口镇", 11, 33, 1.1])  # row 7: 河口镇 again
    write_xlsx(d / BAD_FILE, {SHEET: rows})


def _lock_file(d: Path) -> None:
    good_xlsx(d / BAD_FILE, BAD, county="乙县")
    (d / f"~${BAD_FILE}").write_bytes(b"\x06zhangsan" + b"\x00" * 100)


def _missing_marks(d: Path) -> None:
    rows = standard_rows(BAD)
    rows[FIRST_DATA_ROW - 1 + 1][3] = "—"  # 永宁镇 帮扶资金: not reported (never zero)
    rows[FIRST_DATA_ROW - 1 + 2][3] = "…"
    rows[FIRST_DATA_ROW - 1 + 3] = ["合计", 36, 108, 1.1]
    write_xlsx(d / BAD_FILE, {SHEET: rows})


def _text_numbers(d: Path) -> None:
    rows = standard_rows(BAD)
    rows[FIRST_DATA_ROW - 1][1:4] = ["１１", " 33 ", "1.1"]  # full-width, spaces, text
    rows[FIRST_DATA_ROW][1:4] = ["1,2", "36", "1.2"]  # 1,2 is not a grouped number
    write_xlsx(d / BAD_FILE, {SHEET: rows})


_B = _bad()
_B_MISSING = {**_B, ("funds", "永宁镇"): None, ("funds", "新华乡"): None}
_B_HIDDEN_OUT = {k: v for k, v in _B.items() if k[1] != "永宁镇"}

CASES: list[Case] = [
    Case("empty_file", "0 字节的空文件", _empty,
         Expect("error", words=("空",))),
    Case("truncated_xlsx", "传输中被截断的 xlsx", _truncated,
         Expect("error", words=("损坏",))),
    Case("encrypted_xlsx", "设置了打开密码的工作簿", _encrypted,
         Expect("error", words=("密码",)), needs="msoffcrypto"),
    Case("xls_file", "旧版 .xls 工作簿（照常读取）", _xls,
         Expect("read", values=_B, exit_code=0), needs="xlwt"),
    Case("xlsx_as_xls", "扩展名为 .xls 的 xlsx 工作簿（手工改了扩展名）：按其实际格式读取", _xlsx_as_xls,
         Expect("read", values=_B, exit_code=0)),
    Case("xls_fat_loop", "扇区链成环的 .xls（由模糊测试发现：calamine 会申请约 4 GB 内存后中止进程）", _xls_fat_loop,
         Expect("error", words=("损坏",), file="乙县.xls", absent=tuple(BAD)), needs="xlwt"),
    Case("xls_truncated", "被截断的 .xls（由模糊测试发现：calamine 内部 panic）", _xls_truncated,
         Expect("error", words=("损坏",), file="乙县.xls", absent=tuple(BAD)), needs="xlwt"),
    Case("html_as_xlsx", "扩展名为 .xlsx 的网页（HTML）：读取其中的表格并说明", _html,
         Expect("read", values=_B, notes=("乙县.xlsx", "HTML"), exit_code=0)),
    Case("csv_as_xlsx", "扩展名为 .xlsx 的 GB18030 CSV 文本：按 CSV 读取并说明", _csv_as_xlsx,
         Expect("read", values=_B, notes=("乙县.xlsx", "CSV", "gb18030"), exit_code=0)),
    Case("docx_as_xlsx", "扩展名为 .xlsx 的 Word 文档", _docx_as_xlsx,
         Expect("error", words=("工作簿",))),
    Case("csv_gbk", "GBK 编码的 CSV（照常读取）", _csv_gbk,
         Expect("read", values={("income", n): v for n, v in BAD_CSV.items()}, exit_code=0)),
    Case("csv_gb18030", "含 GBK 以外汉字的 GB18030 CSV（照常读取）", _csv_gb18030,
         Expect("read", values={("income", n): v for n, v in BAD_CSV.items()}, exit_code=0)),
    Case("csv_utf8_bom", "带 BOM 的 UTF-8 CSV（照常读取）", _csv_bom,
         Expect("read", values={("income", n): v for n, v in BAD_CSV.items()}, exit_code=0)),
    Case("csv_ragged", "各行字段数不同的 CSV（由模糊测试发现）", _csv_ragged,
         Expect("read", values={("income", n): v for n, v in BAD_CSV.items()}, exit_code=0)),
    Case("csv_undecodable", "既不是 UTF-8 也不是 GB18030 的 CSV", _csv_undecodable,
         Expect("error", words=("编码",), file="乙县.csv")),
    Case("error_cell_div0", "公式结果为 #DIV/0! 的单元格", _error_div0,
         Expect("error", words=("#DIV/0!",), sheet=SHEET, cell="C5")),
    Case("error_cell_ref", "#REF! 错误值", _error_ref,
         Expect("error", words=("#REF!",), sheet=SHEET, cell="D6")),
    Case("formula_uncached", "由程序写入、从未计算过的公式", _formula_uncached,
         Expect("error", words=("公式", "保存"), sheet=SHEET, cell="C4")),
    Case("stale_total", "合计行与各行之和不符（由审核发现，不是读取错误）", _stale_total,
         Expect("read", values=_B, totals={"households": "40", "persons": "108", "funds": "3.6"}, exit_code=0)),
    Case("date_serial", "数值列中的日期", _date_serial,
         Expect("error", words=("日期",), sheet=SHEET, cell="B5")),
    Case("eighteen_digits", "以数值保存的18位数字（精度已丢失）", _eighteen_digits,
         Expect("error", words=("精度",), sheet=SHEET, cell="C6")),
    Case("codes_as_floats", "地区代码以数值保存", _codes_as_floats,
         Expect("read", values=_B, exit_code=0)),
    Case("codes_scientific", "地区代码为科学计数法（位数已丢失）", _codes_scientific,
         Expect("error", words=("科学计数法",), sheet=SHEET, cell="A5")),
    Case("merged_hides_data", "合并单元格遮住了数据", _merged_hides_data,
         Expect("error", words=("合并",), sheet=SHEET, cell="C4:C5")),
    Case("hidden_row_include", "隐藏行（策略 include：计入）", _hidden_row,
         Expect("read", values=_B, notes=("监测表 › 5:5（已读取）",), exit_code=0), hidden="include"),
    Case("hidden_row_exclude", "隐藏行（策略 exclude：跳过）", _hidden_row,
         Expect("read", values=_B_HIDDEN_OUT, absent=("永宁镇",), notes=("监测表 › 5:5（已跳过）",), exit_code=0),
         hidden="exclude"),
    Case("hidden_row_error", "隐藏行（策略 error：报错）", _hidden_row,
         Expect("error", words=("隐藏", "第5行"), sheet=SHEET, cell="5:5",
                values={k: v for k, v in _B.items() if k[1] != "永宁镇"}), hidden="error"),
    Case("hidden_sheet_include", "隐藏的旧表（策略 include：两张表都符合，报歧义）", _hidden_sheet,
         Expect("error", words=("多个工作表", "监测表（旧）"), absent=tuple(BAD)), hidden="include"),
    Case("hidden_sheet_exclude", "隐藏的工作表（策略 exclude：跳过）", _hidden_sheet,
         Expect("read", values=_B, notes=("监测表（旧）（已跳过）",), exit_code=0), hidden="exclude"),
    Case("hidden_sheet_error", "隐藏的工作表（策略 error：报错）", _hidden_sheet,
         Expect("error", words=("隐藏",), sheet="监测表（旧）"), hidden="error"),
    Case("header_line_breaks", "表头中有换行", _header(["乡镇", "监测\n户数", "监测\r\n人数", "帮扶\n资金"]),
         Expect("read", values=_B, exit_code=0)),
    Case("header_fullwidth_brackets", "表头带全角括号的单位", _header(["乡　镇", "监测户数（户）", "监测人数(人)", "帮扶资金（万元）"]),
         Expect("read", values=_B, exit_code=0)),
    Case("header_zero_width", "表头中有零宽空格和首尾空格", _header(["乡镇\u200b", " 监测\u200b户数", "监测人数\ufeff ", "帮扶\u200d资金"]),
         Expect("read", values=_B, exit_code=0)),
    Case("duplicate_headers", "两列表头相同", _duplicate_header,
         Expect("error", words=("重复", "监测户数", "B3"), sheet=SHEET, cell="E3")),
    Case("preamble_40_rows", "表头前有40行说明", _preamble,
         Expect("read", values=_B, exit_code=0)),
    Case("header_no_data", "只有表头没有数据", _header_no_data,
         Expect("error", words=("没有数据",), sheet=SHEET)),
    Case("unit_yuan_converted", "单位行写“元”而配置为万元（换算）", _unit_yuan,
         Expect("read", values=_B, notes=("元 → 万元",), exit_code=0)),
    Case("unit_conflict", "表头单位为“人”而配置为万元", _unit_conflict,
         Expect("error", words=("单位", "万元"), sheet=SHEET, cell="D3")),
    Case("two_submissions", "同一县同一期报送了两个文件", _two_submissions,
         Expect("error", words=("重复",), file=None, absent=())),
    Case("zip_bomb", "解压后数百 MB 的“压缩炸弹”", _zip_bomb,
         Expect("error", words=("解压",))),
    Case("billion_laughs", "XML 实体膨胀攻击（billion laughs）", _billion_laughs,
         Expect("error", words=("损坏", "lol9"))),
    Case("huge_dimension", "声明范围 A1:XFD1048576 而数据很少", _huge_dimension,
         Expect("read", values=_B, exit_code=0)),
    Case("stray_far_cell", "远处 XFD1048576 误填了一个空格（稠密网格会耗尽内存）", _stray_far_cell,
         Expect("error", words=("已用范围", "XFD1048576", "Ctrl+End"), sheet=SHEET, cell="XFD1048576",
                absent=tuple(BAD))),
    Case("cell_ref_out_of_range", "单元格引用 A99999999999 超出工作表（由模糊测试发现：calamine 会申请 ~150 GB 内存）",
         _cell_ref_out_of_range,
         Expect("error", words=("已用范围", "99999999999"), sheet=SHEET, cell="D99999999999", absent=tuple(BAD))),
    Case("forged_string_count", "共享字符串表声明 999999999991 个字符串（由模糊测试发现：calamine 会申请 24 TB 内存）",
         _forged_string_count,
         Expect("error", words=("损坏", "999,999,999,991"), absent=tuple(BAD))),
    Case("forged_string_count_odd_xml", "同上，但属性值中有“>”、用单引号（由模糊测试发现）", _forged_string_count_odd_xml,
         Expect("error", words=("损坏", "199,999,999,999"), absent=tuple(BAD))),
    Case("missing_sheet", "找不到配置的工作表", _missing_sheet,
         Expect("error", words=("工作表", "监测*"))),
    Case("missing_column", "缺少配置的列", _missing_column,
         Expect("error", words=("监测人数",), sheet=SHEET)),
    Case("unknown_region", "未知的乡镇名称（打错字）", _unknown_region,
         Expect("error", words=("河口填", "河口镇"), sheet=SHEET, cell="A6",
                values={k: v for k, v in _B.items() if k[1] != "河口镇"})),
    Case("not_a_number", "数值单元格中是文字", _not_a_number,
         Expect("error", words=("3O",), sheet=SHEET, cell="C5")),
    Case("duplicate_region_rows", "同一乡镇出现两行", _duplicate_rows,
         Expect("error", words=("重复", "河口镇"), sheet=SHEET)),
    Case("excel_lock_file", "Excel 锁文件 ~$乙县.xlsx（忽略）", _lock_file,
         Expect("read", values=_B, notes=("~$乙县.xlsx",), exit_code=0)),
    Case("missing_marks", "“—”“…”表示缺失（不是零）", _missing_marks,
         Expect("read", values=_B_MISSING, exit_code=0)),
    Case("numbers_as_text", "以文字保存的数字（全角、空格）与非法分组", _text_numbers,
         Expect("error", words=("1,2",), sheet=SHEET, cell="B5",
                values={k: v for k, v in _B.items() if k[1] == "河口镇"})),
]

CASE_BY_ID = {case.id: case for case in CASES}


def regions_csv() -> str:
    lines = ["code,name,level,parent"] + [",".join(r) for r in REGIONS]
    return "\n".join(lines) + "\n"


def build_workspace(root: Path, case: Case) -> Path:
    """A complete workspace for ``case``: config, regions, both sources, the good files of
    甲县 (a workbook and a CSV) and the bad input of 乙县. Returns the data folder."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "revstat.yaml").write_text(
        f'name: 坏输入测试\nregion: "{CITY}"\nhidden: {case.hidden}\n', encoding="utf-8")
    (root / "regions.csv").write_text(regions_csv(), encoding="utf-8")
    sources = root / "sources"
    sources.mkdir(exist_ok=True)
    sheet_source = CODE_SOURCE if case.id.startswith("codes_") else SHEET_SOURCE
    (sources / "monitoring.yaml").write_text(sheet_source, encoding="utf-8")
    (sources / "income.yaml").write_text(CSV_SOURCE, encoding="utf-8")
    data = root / DATA
    data.mkdir(parents=True, exist_ok=True)
    good_xlsx(data / GOOD_FILE)
    write_csv(data / "甲县.csv", GOOD_CSV)
    if case.id.startswith("csv_"):
        good_xlsx(data / BAD_FILE, BAD, county="乙县")  # 乙县's workbook is fine; its CSV is not
    case.build(data)
    return data


def good_values() -> dict[tuple[str, str], str]:
    """What must always be read from 甲县's good workbook and CSV."""
    from decimal import Decimal

    out = {(f, n): str(Decimal(v)) for n, cells in GOOD.items() for f, v in zip(FIELDS, cells, strict=True)}
    out.update({("income", n): v for n, v in GOOD_CSV.items()})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--case", action="append", help="only these cases")
    args = parser.parse_args(argv)
    for case in CASES:
        if args.case and case.id not in args.case:
            continue
        if args.list:
            print(f"{case.id:28} {case.expect.outcome:6} {case.title}")
            continue
        root = args.out / case.id
        if root.exists():
            shutil.rmtree(root)
        build_workspace(root, case)
        print(f"wrote {root}")


if __name__ == "__main__":
    main()
