"""Text files that arrive instead of workbooks: CSV (decoded strictly as utf-8-sig, then
gb18030, the encoding recorded) and HTML tables saved under an .xlsx name (read with lxml,
colspan/rowspan becoming merged cells). :func:`revstat.sources.excel.open_book` sends them here
after sniffing the first bytes.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from revstat.errors import SourceError
from revstat.i18n import t
from revstat.model import Location
from revstat.sources.excel import CSV_ENCODINGS, Book, Grid, damaged


def decode_text(data: bytes, display: str) -> tuple[str, str]:
    """Decode strictly as utf-8-sig, then gb18030; return (text, encoding)."""
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise SourceError(t("无法识别文件的文字编码（既不是 UTF-8 也不是 GB18030/GBK）",
                        "cannot decode the file (neither UTF-8 nor GB18030/GBK)"), Location(display),
                      t("在 Excel/WPS 中另存为 “CSV UTF-8” 或 .xlsx", "save it as \"CSV UTF-8\" or .xlsx"))


def open_csv(path: Path, display: str, suffix: str) -> Book:
    text, encoding = decode_text(path.read_bytes(), display)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)  # newline="": a lone \r is a line end
    try:
        rows = [list(r) for r in reader]
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit(), a NUL byte (found by fuzzing)
        raise SourceError(t("CSV 文件第{line}行无法解析：{e}", "line {line} of the CSV file cannot be parsed: {e}",
                            line=reader.line_num, e=str(exc)), Location(display, line=reader.line_num),
                          t("在 Excel/WPS 中打开并另存为 “CSV UTF-8” 或 .xlsx",
                            "open it in Excel/WPS and save it as \"CSV UTF-8\" or .xlsx")) from None
    width = max((len(r) for r in rows), default=0)
    for row in rows:  # a rectangular grid like the workbook readers give (ragged CSV lines)
        row.extend([""] * (width - len(row)))
    name = Path(display).stem
    note = None
    if suffix in (".xlsx", ".xlsm", ".xls"):
        note = "csv-under-excel-name"
    book = Book(path, display, "csv", [name], encoding=encoding, note=note)
    book._grids[name] = Grid(name, rows)
    return book


def open_html(path: Path, display: str, suffix: str) -> Book:
    """HTML tables (web/WPS exports), or an Excel 2003 XML spreadsheet, under any name."""
    raw = path.read_bytes()
    if _SPREADSHEETML in raw[:4096]:
        return open_spreadsheetml(path, display, raw)
    try:
        import lxml.html
    except ImportError:
        raise SourceError(t("这是网页（HTML）文件，只是扩展名为 {ext}", "this is a web page (HTML) saved under an {ext} name", ext=suffix),
                          Location(display), t("在 Excel/WPS 中打开并另存为 .xlsx", "open it in Excel/WPS and save it as .xlsx")) from None
    text, encoding = decode_text(raw, display)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        doc = lxml.html.document_fromstring(text)
    except Exception as exc:  # lxml raises ParserError/ValueError on garbage
        raise damaged(display, str(exc)) from None
    book = Book(path, display, "html", [], encoding=encoding, note="html-under-excel-name")
    for i, table in enumerate(doc.iter("table"), start=1):
        name = f"table{i}"
        book.sheet_names.append(name)
        book._grids[name] = _html_grid(table, name)
    if not book.sheet_names:
        raise SourceError(t("网页（HTML）文件中没有表格", "the web page (HTML) file holds no table"), Location(display),
                          t("在 Excel/WPS 中打开并另存为 .xlsx", "open it in Excel/WPS and save it as .xlsx"))
    return book


def _html_grid(table: Any, name: str) -> Grid:
    rows: list[list[Any]] = []
    merged: list[tuple[int, int, int, int]] = []
    taken: set[tuple[int, int]] = set()
    for r, tr in enumerate(table.iter("tr")):
        row: list[Any] = []
        c = 0
        for td in tr:
            if td.tag not in ("td", "th"):
                continue
            while (r, c) in taken:
                c += 1
            span_c = max(int(td.get("colspan", "1") or 1), 1)
            span_r = max(int(td.get("rowspan", "1") or 1), 1)
            if span_c > 1 or span_r > 1:
                merged.append((r, c, r + span_r - 1, c + span_c - 1))
            for dr in range(span_r):
                for dc in range(span_c):
                    taken.add((r + dr, c + dc))
            while len(row) <= c:
                row.append("")
            row[c] = td.text_content().strip()
            c += span_c
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
    for row in rows:
        row.extend([""] * (width - len(row)))
    return Grid(name, rows, merged)


# ---- Excel 2003 XML (SpreadsheetML) ----------------------------------------------------------
_SPREADSHEETML = b"urn:schemas-microsoft-com:office:spreadsheet"
_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
_ERROR_TEXTS = ("#DIV/0!", "#REF!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!")


def open_spreadsheetml(path: Path, display: str, raw: bytes) -> Book:
    """An "Excel 2003 XML" workbook (many government systems export these as .xls): worksheets,
    merged cells (MergeAcross/MergeDown), hidden rows and sheets, error cells. Cell text is kept
    as typed (numbers are parsed exactly later). Parsed with defusedxml (no entity expansion)."""
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(raw)
    except Exception as exc:  # defusedxml refuses entities; ParseError on broken XML
        raise damaged(display, f"{type(exc).__name__}: {exc}") from None
    book = Book(path, display, "xml2003", [], note="xml2003")
    for ws in root.iter(f"{_SS}Worksheet"):
        name = ws.get(f"{_SS}Name") or f"Sheet{len(book.sheet_names) + 1}"
        grid = _spreadsheetml_grid(ws, name)
        options = ws.find("{urn:schemas-microsoft-com:office:excel}WorksheetOptions")
        if options is not None:
            visible = options.find("{urn:schemas-microsoft-com:office:excel}Visible")
            if visible is not None and (visible.text or "").strip() in ("SheetHidden", "SheetVeryHidden"):
                grid.hidden = True
                book.hidden_sheets.add(name)
        book.sheet_names.append(name)
        book._grids[name] = grid
    if not book.sheet_names:
        raise SourceError(t("Excel 2003 XML 文件中没有工作表", "the Excel 2003 XML file holds no worksheet"), Location(display),
                          t("在 Excel/WPS 中打开并另存为 .xlsx", "open it in Excel/WPS and save it as .xlsx"))
    return book


def _spreadsheetml_grid(ws: Any, name: str) -> Grid:
    rows: list[list[Any]] = []
    merged: list[tuple[int, int, int, int]] = []
    hidden: set[int] = set()
    errors: dict[tuple[int, int], str] = {}
    table = ws.find(f"{_SS}Table")
    r = -1
    for row in table.iter(f"{_SS}Row") if table is not None else ():
        index = row.get(f"{_SS}Index")
        r = int(index) - 1 if index else r + 1
        while len(rows) <= r:
            rows.append([])
        if row.get(f"{_SS}Hidden") in ("1", "true"):
            hidden.add(r)
        c = -1
        for cell in row.iter(f"{_SS}Cell"):
            cindex = cell.get(f"{_SS}Index")
            c = int(cindex) - 1 if cindex else c + 1
            across = int(cell.get(f"{_SS}MergeAcross", "0") or 0)
            down = int(cell.get(f"{_SS}MergeDown", "0") or 0)
            if across or down:
                merged.append((r, c, r + down, c + across))
            data = cell.find(f"{_SS}Data")
            text = "".join(data.itertext()) if data is not None else ""
            line = rows[r]
            while len(line) <= c:
                line.append("")
            if data is not None and data.get(f"{_SS}Type") == "Error" or text in _ERROR_TEXTS:
                errors[(r, c)] = text
                text = ""
            line[c] = text
            c += across
    width = max((len(x) for x in rows), default=0)
    for line in rows:
        line.extend([""] * (width - len(line)))
    return Grid(name, rows, merged, hidden_rows=frozenset(hidden), error_cells=errors)
