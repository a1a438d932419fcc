"""The only module that opens workbooks: a file → :class:`Book` of :class:`Grid` s.

* python-calamine gives the cell grid, with true A1 coordinates (``skip_empty_area=False``)
  and merged ranges; every sheet is read at most once per :class:`Book`.
* What calamine cannot tell is found cheaply in the sheet XML inside the zip (no per-cell
  openpyxl): error cells (``t="e"``: #DIV/0!, #REF! — calamine reads them as blank), formulas
  without a cached value (a ``<f>`` with no ``<v>``: files written by scripts and never opened
  in Excel), hidden rows (``<row hidden="1">``).
* Before any parsing, the first bytes tell what the file really is (zip, OLE2, HTML, text);
  zips are checked for size and compression ratio (:data:`MAX_UNCOMPRESSED`,
  :data:`MAX_RATIO`) so a "zip bomb" is refused before it is inflated.
* CSV files decode strictly as ``utf-8-sig``, then ``gb18030``; the encoding is recorded.
  HTML saved under an .xlsx name is read with lxml when it is installed.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revstat.errors import SourceError
from revstat.i18n import t
from revstat.model import Location

# ---- limits (documented in docs/sources.md) -------------------------------------------------
#: Refuse a workbook whose zip members inflate to more than this many bytes in all.
MAX_UNCOMPRESSED = 200 * 1024 * 1024
#: Refuse a zip member larger than :data:`RATIO_MIN_SIZE` compressed more than this many times.
MAX_RATIO = 100
#: Members smaller than this are not ratio-checked (tiny XML compresses very well).
RATIO_MIN_SIZE = 1024 * 1024
#: Refuse a sheet whose used range (A1 to its farthest cell) exceeds this many cells: calamine
#: builds a dense grid of the range, so one stray cell at XFD1048576 would need ~500 GB and
#: abort the process. Checked on the sheet XML before calamine parses it.
MAX_GRID_CELLS = 20_000_000
#: Encodings tried, in order, for CSV files (strict decoding, no guessing).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # used by revstat.sources.textfile

#: What reading a damaged zip member or its XML can raise (besides SourceError).
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, LookupError,
            ValueError, SyntaxError, RuntimeError)  # XML ParseError is a SyntaxError; defusedxml's are ValueErrors

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")

_ERROR_CELL = re.compile(rb'<c\b([^>]*?\bt="e"[^>]*)>(?:\s*<f\b[^>]*?(?:/>|>[^<]*</f>))?\s*<v>([^<]*)</v>')
_FORMULA_CELL = re.compile(  # only formulas with no <v> or an empty one: the rest never reach Python
    rb'<c\b([^>]*)>\s*<f\b[^>]*?(?:/>|>[^<]*</f>)\s*(?:<v>()</v>|(<v\s*/>)|(?=</c>|<is>))')
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_TYPE_STR = re.compile(rb'\bt="(?:str|inlineStr)"')
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_ROW_NUMBER_FAST = re.compile(rb'<row r="(\d+)"')  # how Excel, WPS and xlsxwriter write it
# Cell references r="AB12" (' or ", spaces allowed): only cell references have letters in r="…",
# and calamine places cells by these, not by <row r>. The patterns begin with the literal r, which
# the regex engine finds fast; an attribute that merely ends in r (header=, operator=) never holds
# letters followed by digits, and a stray match could only make the guard stricter.
_CELL_COLUMN = re.compile(rb'r\s*=\s*["\']([A-Za-z]+)\d')
_CELL_ROW = re.compile(rb'r\s*=\s*["\'][A-Za-z]+(\d+)')
#: Any cell or row reference beyond ZZ9999 (a column of three or more letters, a row of five or
#: more digits). A sheet with none, and with fewer than 10,000 <row> elements, spans at most
#: 10,000 × 702 cells — within MAX_GRID_CELLS — so the guard needs no counting for it.
_FAR_REF = re.compile(rb'r\s*=\s*["\'](?:[A-Za-z]{3,}\d|[A-Za-z]*\d{5})')
_NEAR_CELLS = 10_000 * 702
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"[^>]*?\bhidden="(?:1|true)"|<row\b[^>]*?\bhidden="(?:1|true)"[^>]*?\br="(\d+)"')


@dataclass
class Grid:
    """One sheet as a grid of raw values (row 0 = Excel row 1), plus what calamine misses."""

    name: str
    rows: list[list[Any]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 (0-based, inclusive)
    hidden: bool = False
    hidden_rows: frozenset[int] = frozenset()  # 0-based
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (r, c) → "#DIV/0!"
    uncached: frozenset[tuple[int, int]] = frozenset()  # formulas without a cached value


@dataclass
class Book:
    """An opened input file. ``kind``: xlsx | xls | csv | html. Sheets are read on demand, once."""

    path: Path
    display: str
    kind: str
    sheet_names: list[str]
    hidden_sheets: set[str] = field(default_factory=set)
    encoding: str | None = None  # CSV: utf-8-sig | gb18030
    note: str | None = None  # e.g. "CSV saved under an .xlsx name"
    _grids: dict[str, Grid] = field(default_factory=dict)
    _calamine: Any = None
    _zip: zipfile.ZipFile | None = None
    _sheet_xml: dict[str, str] = field(default_factory=dict)
    _xls_bytes: bytes | None = None
    _xlrd: Any = None

    def sheet(self, name: str) -> Grid:
        if name not in self._grids:
            try:
                self._grids[name] = self._read_sheet(name)
            except SourceError:
                raise
            except BaseException as exc:  # calamine/zip raise many unrelated types for damaged sheets
                if not isinstance(exc, Exception) and not _is_panic(exc):
                    raise  # KeyboardInterrupt, SystemExit
                err = damaged(self.display, f"{type(exc).__name__}: {exc}")
                err.where = Location(self.display, name)
                raise err from None
        return self._grids[name]

    def close(self) -> None:
        if self._calamine is not None:
            self._calamine.close()
            self._calamine = None
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        if self._xlrd is not None:
            self._xlrd.release_resources()
            self._xlrd = None
        self._xls_bytes = None

    def _scan_xls_errors(self, name: str, grid: Grid) -> None:
        """Error cells of a .xls sheet (calamine reads them as blank) via xlrd, when it is installed."""
        try:
            import xlrd

            if self._xlrd is None:
                # xlrd writes warnings to stdout by default: that would corrupt `--format json` output
                self._xlrd = xlrd.open_workbook(file_contents=self._xls_bytes, on_demand=True,
                                                logfile=io.StringIO(), verbosity=0)
            sh = self._xlrd.sheet_by_name(name)
            for r in range(sh.nrows):
                types = sh.row_types(r)
                if xlrd.XL_CELL_ERROR in types:
                    for c, kind in enumerate(types):
                        if kind == xlrd.XL_CELL_ERROR:
                            code = sh.cell_value(r, c)
                            grid.error_cells[(r, c)] = xlrd.error_text_from_code.get(code, f"#ERR{code}")
        except Exception:  # noqa: BLE001 - xlrd is only a second opinion; calamine already read the sheet
            return

    def _read_sheet(self, name: str) -> Grid:
        xml = None
        if self._zip is not None and name in self._sheet_xml:
            xml = self._zip.read(self._sheet_xml[name])
            _check_extent(xml, self.display, name)
        sheet = self._calamine.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False)
        merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
        grid = Grid(name, rows, merged, hidden=name in self.hidden_sheets)
        if xml is not None:
            _scan_sheet_xml(xml, grid)
        elif self.kind == "xls" and self._xls_bytes is not None:
            self._scan_xls_errors(name, grid)
        return grid


# ---- opening ---------------------------------------------------------------------------------
def sniff(head: bytes) -> str:
    """What the first bytes say a file is: zip | ole2 | html | text | empty | binary."""
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"<meta", b"<head", b"<body")):
        return "html"
    if b"\x00" in head[:1024]:
        return "binary"
    return "text"


def open_book(path: Path, display: str) -> Book:
    """Open an input file whatever it really is; raise :class:`SourceError` naming the file."""
    where = Location(display)
    try:
        with open(path, "rb") as fh:
            head = fh.read(2048)
    except FileNotFoundError:
        raise SourceError(t("找不到文件", "file not found"), where,
                          t("检查文件名和 sources 中的 files 模式", "check the file name and the source's files pattern")) from None
    except OSError as exc:
        raise SourceError(t("无法打开文件：{e}", "cannot open the file: {e}", e=exc.strerror or str(exc)), where,
                          t("关闭在其他程序中打开的该文件，检查权限", "close it in other programs and check permissions")) from None
    kind = sniff(head)
    suffix = path.suffix.lower()
    if kind == "empty":
        raise SourceError(t("文件是空的（0 字节）", "the file is empty (0 bytes)"), where,
                          t("重新索取或重新保存该文件", "ask for the file again or save it again"))
    if kind == "zip":
        return _open_xlsx(path, display)
    if kind == "ole2":
        data = path.read_bytes()
        if _ENCRYPTED in data:
            raise SourceError(t("文件有密码保护，无法读取", "the file is password-protected"), where,
                              t("在 Excel/WPS 中打开，取消密码（文件→信息→保护工作簿）后另存为 .xlsx",
                                "open it in Excel/WPS, remove the password and save it as .xlsx"))
        _probe_xls(data, display)
        book = _open_calamine(path, display, "xls", data)
        book._xls_bytes = data
        return book
    if kind == "html":
        from revstat.sources.textfile import open_html

        return open_html(path, display, suffix)
    if kind == "text":
        from revstat.sources.textfile import open_csv

        return open_csv(path, display, suffix)
    raise SourceError(t("无法识别的文件格式", "unrecognised file format"), where,
                      t("在 Excel/WPS 中打开并另存为 .xlsx", "open it in Excel/WPS and save it as .xlsx"))


#: Address-space limit of the child process that reads an .xls first (see :func:`_probe_xls`);
#: the largest real .xls grid (65536 × 256 cells) needs about 0.5 GB.
XLS_PROBE_MEMORY = 2 * 1024**3
_XLS_PROBE = """
import io, sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
except (ImportError, ValueError, OSError):
    pass
import python_calamine as pc
wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(sys.stdin.buffer.read()))
for name in wb.sheet_names:
    wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
"""


def _probe_xls(data: bytes, display: str) -> None:
    """calamine's .xls parser trusts sizes written in the file: a damaged .xls can make it reserve
    gigabytes and *abort the process* (a Rust allocation failure, which no ``except`` catches —
    found by fuzzing). So an .xls is first read once in a child process with a memory limit; if
    the child dies (or runs out of memory) the file is refused and this process never touches it.
    A child that ends with an ordinary exception is left to the normal path (same error there)."""
    import subprocess
    import sys

    try:
        done = subprocess.run([sys.executable, "-c", _XLS_PROBE, str(XLS_PROBE_MEMORY)], input=data,
                              capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise damaged(display, "the .xls reader did not finish") from None
    except OSError:  # cannot start a child (very restricted systems): read in-process as before
        return
    if done.returncode < 0 or b"MemoryError" in done.stderr or b"memory allocation" in done.stderr:
        raise damaged(display, "the .xls structure is corrupt (its reader ran out of memory)")


def _is_panic(exc: BaseException) -> bool:
    """A Rust panic inside calamine surfaces as pyo3's ``PanicException``, a BaseException (not an
    Exception): on a damaged file it is one more "damaged" error (found by fuzzing)."""
    return type(exc).__name__ == "PanicException"


def damaged(display: str, detail: str) -> SourceError:
    return SourceError(
        t("文件已损坏或不完整，无法读取（{detail}）", "the file is damaged or incomplete ({detail})", detail=detail),
        Location(display),
        t("重新索取该文件；若能在 Excel/WPS 中打开，请另存为 .xlsx", "ask for the file again; if Excel/WPS opens it, save it as .xlsx again"))


def _check_zip(zf: zipfile.ZipFile, display: str) -> None:
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise SourceError(
                t("文件中的 {m} 压缩比异常（{r} 倍），拒绝解压", "member {m} is compressed {r} times: refused as a possible zip bomb",
                  m=info.filename, r=info.file_size // max(info.compress_size, 1)),
                Location(display), t("确认文件来源；正常的报表不会这样", "check where the file came from; a normal workbook is never like this"))
    if total > MAX_UNCOMPRESSED:
        raise SourceError(
            t("文件解压后过大（{mb} MB，上限 {lim} MB）", "the file inflates to {mb} MB (limit {lim} MB)",
              mb=total // 2**20, lim=MAX_UNCOMPRESSED // 2**20),
            Location(display), t("删除无关的工作表或图片后重新保存", "remove unrelated sheets or pictures and save again"))


def _open_xlsx(path: Path, display: str) -> Book:
    try:
        zf = zipfile.ZipFile(path)
    except _DAMAGED as exc:  # BadZipFile, and NotImplementedError for a garbled version field
        raise damaged(display, str(exc)) from None
    try:
        _check_zip(zf, display)
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names and "content.xml" in names and "mimetype" in names \
                and b"opendocument.spreadsheet" in zf.read("mimetype")[:100]:
            zf.close()  # OpenDocument (.ods from LibreOffice/WPS): calamine reads it from the bytes
            return _open_calamine(path, display, "ods", None if path.suffix.lower() == ".ods" else path.read_bytes())
        if "xl/workbook.xml" not in names:
            raise SourceError(t("不是 Excel 工作簿（压缩包中没有 xl/workbook.xml）", "not an Excel workbook (no xl/workbook.xml in the zip)"),
                              Location(display), t("在 Excel/WPS 中另存为 .xlsx", "save it as .xlsx in Excel/WPS"))
        try:
            sheet_xml, hidden = _workbook_parts(zf)
        except _DAMAGED as exc:  # bad CRC, bad deflate data, malformed or hostile XML
            raise damaged(display, f"{type(exc).__name__}: {exc}") from None
        _check_shared_strings(zf, display)
        # calamine picks its reader by the extension: a workbook saved as .xlsx under an .xls name
        # (a county's renaming) is read from its bytes, by what it is
        renamed = path.suffix.lower() not in (".xlsx", ".xlsm")
        book = _open_calamine(path, display, "xlsx", path.read_bytes() if renamed else None)
        book._zip = zf
        book._sheet_xml = {n: p for n, p in sheet_xml.items() if p in names}
        book.hidden_sheets |= hidden
        return book
    except BaseException:
        zf.close()
        raise


def _workbook_parts(zf: zipfile.ZipFile) -> tuple[dict[str, str], set[str]]:
    """Sheet name → XML member, and the names of hidden sheets (from workbook.xml and its rels)."""
    from defusedxml import ElementTree

    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    targets: dict[str, str] = {}
    try:
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        for rel in rels:
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            targets[rel.get("Id", "")] = target
    except KeyError:
        pass
    root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    sheet_xml: dict[str, str] = {}
    hidden: set[str] = set()
    for sheet in root.iter(f"{ns_main}sheet"):
        name = sheet.get("name", "")
        rid = sheet.get(f"{ns_rel}id", "")
        if rid in targets:
            sheet_xml[name] = targets[rid]
        if sheet.get("state") in ("hidden", "veryHidden"):
            hidden.add(name)
    return sheet_xml, hidden


def _open_calamine(path: Path, display: str, kind: str, data: bytes | None = None) -> Book:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data)) if data is not None else pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        raise SourceError(t("文件有密码保护，无法读取", "the file is password-protected"), Location(display),
                          t("在 Excel/WPS 中打开，取消密码后另存为 .xlsx", "open it in Excel/WPS, remove the password and save it as .xlsx")) from None
    except BaseException as exc:  # calamine raises several unrelated types for damaged files
        if not isinstance(exc, Exception) and not _is_panic(exc):
            raise  # KeyboardInterrupt, SystemExit
        raise damaged(display, f"{type(exc).__name__}: {exc}") from None
    hidden = {m.name for m in wb.sheets_metadata if str(m.visible).rsplit(".", 1)[-1] != "Visible"}
    return Book(path, display, kind, list(wb.sheet_names), hidden_sheets=hidden, _calamine=wb)


_UNIQUE_COUNT = re.compile(rb'uniqueCount\s*=\s*["\'](\d+)')  # anywhere in the head: ">" may sit inside a value


def _check_shared_strings(zf: zipfile.ZipFile, display: str) -> None:
    """calamine reserves memory for the ``uniqueCount`` a sharedStrings.xml declares: a forged
    count (``999999999991``) asks for terabytes and aborts the process. A real table needs at
    least a few bytes per string, so a count beyond its size is damage (found by fuzzing)."""
    for info in zf.infolist():
        if not info.filename.lower().endswith("sharedstrings.xml"):
            continue
        try:
            with zf.open(info) as fh:
                head = fh.read(4096)
        except _DAMAGED as exc:
            raise damaged(display, f"{type(exc).__name__}: {exc}") from None
        m = _UNIQUE_COUNT.search(head)
        if m and int(m.group(1)) > info.file_size // 4 + 16:
            raise damaged(display, f"sharedStrings.xml declares {int(m.group(1)):,} strings in {info.file_size:,} bytes")


def _check_extent(xml: bytes, display: str, sheet: str) -> None:
    """Refuse a sheet whose farthest cell makes the dense grid too large (see MAX_GRID_CELLS).

    A sheet within ZZ9999 passes after one C-level scan that finds no farther reference; any
    other is measured with three more (row numbers, and the row numbers and distinct column
    letters of cell references): no Python work per cell in either case."""
    if _NEAR_CELLS <= MAX_GRID_CELLS and _FAR_REF.search(xml) is None and xml.count(b"<row") < 10_000:
        return
    row_numbers = _ROW_NUMBER_FAST.findall(xml) or _ROW_NUMBER.findall(xml)
    max_row = max(map(int, row_numbers)) - 1 if row_numbers else xml.count(b"<row")
    cell_rows = set(_CELL_ROW.findall(xml))  # distinct row numbers of cell references (C-level)
    if cell_rows:  # a cell may claim a row far beyond its <row r="…"> (hostile or damaged XML)
        max_row = max(max_row, max(map(int, cell_rows)) - 1)
    max_col = max((_col_index(letters) for letters in set(_CELL_COLUMN.findall(xml))), default=0)
    cells = (max_row + 1) * (max_col + 1)
    if cells > MAX_GRID_CELLS:
        far = a1(max_row, max_col)
        raise SourceError(
            t("工作表的已用范围 A1:{far} 过大（约 {n} 个单元格），可能是远处的单元格被误填了内容",
              "the sheet's used range A1:{far} is too large (about {n} cells); a far-away cell probably holds stray content",
              far=far, n=f"{cells:,}"),
            Location(display, sheet, far),
            t("在 Excel/WPS 中按 Ctrl+End 找到该单元格，删除数据以外多余的行和列后保存",
              "press Ctrl+End in Excel/WPS to find it, delete the rows and columns beyond the data, and save"))


def _scan_sheet_xml(xml: bytes, grid: Grid) -> None:
    """Error cells, uncached formulas and hidden rows from the raw sheet XML (regex, no DOM)."""
    if b'hidden="' in xml:
        rows = set()
        for m in _HIDDEN_ROW.finditer(xml):
            rows.add(int(m.group(1) or m.group(2)) - 1)
        grid.hidden_rows = frozenset(rows)
    if b't="e"' in xml:
        for m in _ERROR_CELL.finditer(xml):
            ref = _REF.search(m.group(1))
            if ref:
                grid.error_cells[_rc(ref)] = m.group(2).decode("utf-8", "replace")
    if b"<f" in xml:
        uncached = set()
        for m in _FORMULA_CELL.finditer(xml):
            attrs, value = m.group(1), m.group(2)
            if value or (value is not None and _TYPE_STR.search(attrs)) or b't="e"' in attrs:
                continue
            ref = _REF.search(attrs)
            if ref:
                uncached.add(_rc(ref))
        grid.uncached = frozenset(uncached)


def _col_index(letters: bytes) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ch - 64
    return col - 1


def _rc(ref: re.Match[bytes]) -> tuple[int, int]:
    col = 0
    for ch in ref.group(1):
        col = col * 26 + ch - 64
    return int(ref.group(2)) - 1, col - 1


@functools.lru_cache(maxsize=1024)
def col_letter(col: int) -> str:
    """0-based column index → Excel letters (0 → A, 27 → AB)."""
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(row: int, col: int) -> str:
    """0-based (row, col) → "B7"."""
    return f"{col_letter(col)}{row + 1}"
