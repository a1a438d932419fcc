"""`revstat inspect`: how revstat sees a workbook — sheets, title/header rows, columns → fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from revstat.cli import common
from revstat.i18n import join, t, unit_text


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)


def inspect(
    file: Path = typer.Argument(..., help="要查看的工作簿或 CSV / workbook or CSV to look at"),
    workspace: Path | None = typer.Option(None, "--workspace", "-w",
                                          help="工作区：显示各列对应的字段 / show which field each column maps to"),
) -> None:
    """查看工作簿：各工作表的标题行、表头行，以及各列对应的字段。

    Show each sheet, the detected title and header rows, and how each column maps to the
    known fields, so a source can be written without guessing.

    Example: revstat inspect sample_data/data/2024Q4/东山县_2024Q4.xlsx --workspace sample_data
    """
    with common.guarded():
        from revstat.sources.excel import open_book

        ws = None
        if workspace is not None:
            from revstat.workspace import load_workspace

            ws = load_workspace(workspace)
        book = open_book(file, str(file))
        _show_kind(book)
        try:
            for name in book.sheet_names:
                _show_sheet(book, name, ws)
        finally:
            book.close()


_KINDS = {"xlsx": ("Excel 工作簿（.xlsx）", "Excel workbook (.xlsx)"), "xls": ("Excel 97-2003 工作簿（.xls）", "Excel 97-2003 workbook (.xls)"),
          "ods": ("OpenDocument 表格（.ods）", "OpenDocument spreadsheet (.ods)"), "csv": ("CSV 文本", "CSV text"),
          "html": ("网页（HTML）表格", "web page (HTML) tables"), "xml2003": ("Excel 2003 XML 表格", "Excel 2003 XML spreadsheet")}


def _show_kind(book: Any) -> None:
    zh, en = _KINDS.get(book.kind, (book.kind, book.kind))
    text = t("文件类型：{k}", "file type: {k}", k=t(zh, en).render()).render()
    if book.encoding:
        text += t("，编码 {e}", ", encoding {e}", e=book.encoding).render()
    suffix = book.path.suffix.lower()
    if book.kind in ("csv", "html", "xml2003") and suffix in (".xlsx", ".xlsm", ".xls"):
        text += t("（扩展名却是 {s}）", " (but named {s})", s=suffix).render()
    common.out_console().print(text, markup=False)


def _show_sheet(book: Any, name: str, ws: Any) -> None:
    import fnmatch

    from rich.table import Table

    from revstat.sources.excel import a1, col_letter
    from revstat.sources.layout import detect_layout, match_column

    console = common.out_console()
    grid = book.sheet(name)
    sources = []
    if ws is not None:
        sources = [s for s in ws.sources if s.kind != "records"
                   and (book.kind in ("csv", "html") or not s.sheet or fnmatch.fnmatchcase(name.strip(), s.sheet))]
    anchor = sources[0].region.column if sources else None
    layout = detect_layout(grid.rows, grid.merged, anchor=anchor)
    hidden = t("（隐藏）", " (hidden)").render() if grid.hidden else ""
    console.print()
    console.print(t("工作表 {s}{h}：{n} 行 × {m} 列", "sheet {s}{h}: {n} rows × {m} columns", s=name, h=hidden,
                    n=len(grid.rows), m=max((len(r) for r in grid.rows), default=0)).render(), markup=False, style="bold")
    if sources:
        console.print(t("  来源：{ids}", "  source: {ids}", ids=", ".join(s.id for s in sources)).render(), markup=False)
    elif ws is not None:
        console.print(t("  没有来源读取此工作表", "  no source reads this sheet").render(), markup=False)

    def rows_text(rows: list[int]) -> str:
        return ", ".join(str(r + 1) for r in rows) or "—"

    for label, rows in ((t("标题行", "title rows"), layout.title_rows),
                        (t("表号/单位等说明行", "form number, unit and other notes rows"), layout.meta_rows),
                        (t("表头行", "header rows"), layout.header_rows)):
        console.print(f"  {label.render()}: {rows_text(rows)}", markup=False)
    if layout.units:
        console.print(t("  单位行（第{r}行）：{u}", "  unit row (row {r}): {u}", r=(layout.unit_row or 0) + 1,
                        u=join(layout.units)).render(), markup=False)
    if layout.code_row is not None:
        console.print(t("  代码行：第{r}行", "  code row: row {r}", r=layout.code_row + 1).render(), markup=False)
    if layout.header_rows:
        console.print(t("  数据从第{r}行开始", "  data starts at row {r}", r=layout.data_start + 1).render(), markup=False)
    if grid.hidden_rows:
        console.print(t("  隐藏的行：{r}", "  hidden rows: {r}", r=rows_text(sorted(grid.hidden_rows))).render(), markup=False)
    if grid.error_cells:
        cells = ", ".join(f"{a1(r, c)}={v}" for (r, c), v in sorted(grid.error_cells.items())[:10])
        console.print(t("  错误值单元格：{c}", "  error cells: {c}", c=cells).render(), markup=False)
    if grid.uncached:
        cells = ", ".join(a1(r, c) for r, c in sorted(grid.uncached)[:10])
        console.print(t("  没有计算结果的公式：{c}", "  formulas without a value: {c}", c=cells).render(), markup=False)
    if not layout.columns:
        return
    from revstat.errors import SourceError
    from revstat.model import Location
    from revstat.sources.cells import unit_from, unit_shift

    mapping: dict[int, str] = {}
    units: dict[int, str] = {}  # the unit as read, and the conversion the reader applies (元 → 万元)
    for source in sources:
        col, _ = match_column(layout.columns, source.region.column)
        if col is not None:
            mapping.setdefault(col.index, t("（地区列）", "(region column)").render())
        for f in source.fields:
            col, _ = match_column(layout.columns, f.column or f.name)
            if col is not None:
                mapping.setdefault(col.index, t("{id}（{name}，{unit}）", "{id} ({name_en}, {unit_en})", id=f.id,
                                                name=f.name, unit=f.unit, name_en=f.name_en or f.name,
                                                unit_en=unit_text(f.unit, "en") or f.unit).render())
                try:
                    shift = unit_shift(f, col, layout, source, Location(book.display, name))
                except SourceError as err:
                    units.setdefault(col.index, t("无法确定：{w}", "unknown: {w}", w=err.what).render())
                    continue
                if shift:
                    units.setdefault(col.index, f"{unit_from(shift, f.unit)}→{f.unit}")
    table = Table(show_header=True, header_style="bold")
    table.add_column(t("列", "col").render())
    table.add_column(t("表头", "header").render())
    table.add_column(t("单位", "unit").render())
    if ws is not None:
        table.add_column(t("对应字段", "field").render())
    for col in layout.columns:
        line = [col_letter(col.index), col.label, units.get(col.index, col.unit or "")]
        if ws is not None:
            line.append(mapping.get(col.index, "—"))
        table.add_row(*line)
    console.print(table)
