"""Indicator tables: indicators.csv (UTF-8 with BOM), indicators.json, indicators.xlsx, and
findings.json.

CSV and JSON carry one row per indicator × region × period with the columns of
:data:`revstat.tidy.RESULT_COLUMNS`; exact values are written as plain decimal text, missing
values as empty/``null`` (never ``nan``/``inf``). The workbook is for people: one sheet per
theme, regions as rows (indented by level), indicators as columns, frozen header, number
formats per indicator, targets missed highlighted, CJK-aware column widths; text is never
turned into a formula or a link.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from revstat import tidy
from revstat.writers.safe import (
    XLSXWRITER_OPTIONS,
    json_dumps,
    write_xlsx_cell,
)
from revstat.writers.tabletext import ResultText

LEVEL_ZH = {"province": "省", "city": "市", "county": "县", "township": "乡镇", "village": "村"}

#: The sheets of the standard themes under ``--lang en`` (a sheet name holds 31 characters).
SHEETS_EN = {"monitoring": "Monitoring", "guarantees": "Basic guarantees", "income": "Income and employment",
             "funds": "Linkage funds and projects", "environment": "Living environment",
             "governance": "Governance"}

_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def result_text(results: Any) -> ResultText:
    """The results' cells as CSV/JSON text, converted once (pass it to both writers)."""
    return ResultText(results, [c for c in tidy.RESULT_COLUMNS if c in results.columns])


def write_indicators_csv(results: Any, path: Path, *, text: ResultText | None = None) -> None:
    """UTF-8 with BOM (Excel opens it), CRLF, quoted as ``csv.writer`` quotes; every cell made
    safe (no formulas, no nan). ``text``: :func:`result_text` of ``results``, when the caller
    also writes the JSON."""
    text = result_text(results) if text is None else text
    with Path(path).open("wb") as fh:
        fh.write(codecs.BOM_UTF8)
        text.write_csv(fh)


def write_indicators_json(results: Any, path: Path, *, period: str | None = None,
                          skipped: Iterable[Any] = (), text: ResultText | None = None) -> None:
    """A JSON array of result rows, one row a line (Decimals as exact decimal strings, missing
    as null; never NaN/Infinity). ``text`` as for :func:`write_indicators_csv`."""
    text = result_text(results) if text is None else text
    with Path(path).open("wb") as fh:
        text.write_json(fh if os.linesep == "\n" else _PlatformNewlines(fh))


class _PlatformNewlines:
    """Lines end as a text-mode file ends them (``os.linesep``, CRLF on Windows), as the JSON
    was written before; a JSON text holds ``\n`` only between its lines (json escapes it)."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def write(self, data: bytes) -> None:
        self.fh.write(data.replace(b"\n", os.linesep.encode()))


def write_findings_json(findings: list[Any], path: Path, *, period: str | None = None) -> None:
    """findings.json from :attr:`revstat.pipeline.Compiled.findings` (checks' Issues)."""
    try:
        from revstat.writers.findings import to_json
    except ImportError:  # pragma: no cover - the checks' writer is part of the package
        to_json = None
    if to_json is not None:
        text = to_json(findings, period=period)
    else:  # pragma: no cover
        text = json_dumps({"period": period, "findings": [f.to_dict() for f in findings]}, indent=1)
    Path(path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: CJK (wide/full-width) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in str(text))


def sheet_name(text: str, used: set[str]) -> str:
    """A valid, unique sheet name: ≤ 31 characters, none of []:*?/\\."""
    base = _BAD_SHEET.sub("_", text).strip("'") or "Sheet"
    base = base[:31]
    name, n = base, 2
    while name.lower() in used:
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def region_order(results: Any, tree: Any | None = None) -> list[tuple[str, str, str, int]]:
    """``(code, name, level, depth)`` of the regions in results, parents before children."""
    first = ~results[tidy.REGION_CODE].duplicated().to_numpy()  # each region's first row
    codes, names, levels = (results[col].to_numpy(dtype=object)[first].tolist()
                            for col in (tidy.REGION_CODE, tidy.REGION_NAME, tidy.LEVEL))
    info = {c: (n, lv) for c, n, lv in zip(codes, names, levels, strict=True)}
    rank = {"province": 0, "city": 1, "county": 2, "township": 3, "village": 4}
    if tree is not None:
        present = set(info)
        roots = sorted(c for c in present if not any(a in present for a in tree.ancestors(c)))
        out: list[tuple[str, str, str, int]] = []

        def walk(code: str, depth: int) -> None:
            if code in present:
                out.append((code, info[code][0], info[code][1], depth))
                depth += 1
            for child in tree.children.get(code, []):
                walk(child, depth)

        for r in roots:
            walk(r, 0)
        return out
    codes = sorted(info, key=lambda c: (c[:6], rank.get(info[c][1], 9) > 2, c))
    return [(c, info[c][0], info[c][1], max(0, rank.get(info[c][1], 2) - 1)) for c in codes]


def write_indicators_xlsx(results: Any, path: Path, indicators: list[Any], *, title: str = "",
                          tree: Any | None = None) -> None:
    """A workbook for people: a sheet per theme, regions as rows, indicators as columns. The
    header rows and the notes go through xlsxwriter's API; the data rows are built a column
    at a time as sheet XML (:mod:`revstat.writers.xlsxrows`: the same cells, ~50× faster).
    Under ``--lang en`` the headers, indicator names (``name_en``), units, levels and sheet
    names are English; region names stay as the regions file writes them."""
    import numpy as np
    import xlsxwriter

    from revstat.definitions import THEMES
    from revstat.i18n import get_lang, name_in, unit_text
    from revstat.writers.xlsxrows import DataRowsSheet, FigureGrid, TextColumns, data_rows_xml

    wb = xlsxwriter.Workbook(str(path), {**XLSXWRITER_OPTIONS, "in_memory": True})  # no temporary files
    try:
        base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
        head = wb.add_format({**base, "bold": True, "text_wrap": True, "align": "center", "bg_color": "#DDEBF7"})
        text_fmt = wb.add_format(base)
        num_fmts: dict[tuple[int, bool, bool], Any] = {}

        def num_fmt(decimals: int, missed: bool, partial: bool = False) -> Any:
            if (decimals, missed, partial) not in num_fmts:
                num_fmts[decimals, missed, partial] = wb.add_format(figure_format(base, decimals, missed, partial))
            return num_fmts[decimals, missed, partial]

        en = get_lang() == "en"
        order = region_order(results, tree)
        codes = [o[0] for o in order]
        figures = FigureGrid(results, codes, indicators,
                             lambda decimals, missed, partial: num_fmt(decimals, missed, partial)._get_xf_index())
        themes: dict[str, list[Any]] = {}
        for d in indicators:
            themes.setdefault(d.theme or "other", []).append(d)
        theme_order = [t for t in THEMES if t in themes] + [t for t in themes if t not in THEMES]
        # the region columns are the same on every sheet: their texts and widths once
        levels = {} if en else LEVEL_ZH  # the level's own name (county, township …) in English
        left = [(code, "　" * depth + str(name), levels.get(level, level)) for code, name, level, depth in order]
        code_width = max((len(code) for code, _, _ in left), default=0)
        label_width = max(map(display_width, {label for _, label, _ in left}), default=0)
        region_cells = TextColumns(left, text_fmt._get_xf_index())
        used: set[str] = set()
        for theme in theme_order:
            defs = [d for d in themes[theme] if d.id in figures.with_rows]
            if not defs:
                continue
            label = (SHEETS_EN.get(theme) or THEMES.get(theme, (theme, theme))[1]) if en else THEMES.get(theme, (theme,))[0]
            ws = wb.add_worksheet(sheet_name(label, used), worksheet_class=DataRowsSheet)
            headers = ["Region code", "Region", "Level"] if en else ["地区代码", "地区", "层级"]
            units = ["", "", ""]
            for d in defs:
                headers.append(name_in(d))
                units.append(unit_text(d.unit) + (_target_cell(d, en, head=True) if d.target else ""))
            for col, (h, u) in enumerate(zip(headers, units, strict=True)):
                write_xlsx_cell(ws, 0, col, h, head)
                write_xlsx_cell(ws, 1, col, u, head)
            widths = [max(display_width(h), display_width(u)) for h, u in zip(headers, units, strict=True)]
            widths = [min(max(w, 6), 40) for w in widths]
            widths[1] = max(widths[1], 8)
            if order:
                widths[0] = max(widths[0], code_width)
                widths[1] = min(max(widths[1], label_width), 40)
                # only the regions with results on this sheet: villages carry the household-record
                # figures alone, and would be hundreds of blank rows on the other themes
                keep = figures.rows_with(codes, [d.id for d in defs])
                cells = np.concatenate([region_cells.tails(ws, keep),
                                        figures.columns(codes, [d.id for d in defs])[keep]], axis=1)
                ws.add_data_rows(data_rows_xml(2, cells), len(cells) + 1, len(headers) - 1)
            for col, w in enumerate(widths):
                ws.set_column(col, col, w + 2)
            ws.set_row(0, 30)
            ws.freeze_panes(2, 3)
            if title:
                ws.set_header(f"&C{title.replace('&', '&&')}")
        _notes_sheet(wb, indicators, sheet_name("Indicators" if en else "指标说明", used), head, text_fmt, en)
    finally:
        wb.close()


def figure_format(base: dict[str, Any], decimals: int, missed: bool, partial: bool) -> dict[str, Any]:
    """A figure cell's format: the indicator's decimals; red for a missed target; italic on a
    light yellow ground for a total that lacks lower-level regions (the key is on 指标说明)."""
    spec = {**base, "num_format": "0" if decimals == 0 else "0." + "0" * decimals}
    if partial:
        spec.update({"italic": True, "bg_color": "#FFF2CC"})
    if missed:
        spec.update({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    return spec


#: The key to the figure formats, under the table of 指标说明.
FORMAT_KEY = ("红色：未达到目标；斜体、浅黄底：合计不完整（部分下级地区缺数，比率按分子、分母都齐全的下级地区计算），"
              "原因见 indicators.csv 的 note 列")
FORMAT_KEY_EN = ("Red: target missed; italic on light yellow: the total is incomplete (some lower-level regions are "
                 "missing; a ratio is over the parts that have both numerator and denominator); the reasons are in "
                 "the note column of indicators.csv")


def _target_cell(d: Any, en: bool, head: bool = False) -> str:
    """The target as the Indicators sheet lists it (``head``: as a sheet's unit row adds it,
    “（目标 >= 65）”); an annual one (judged at the year's end) says so."""
    if d.target is None:
        return ""
    annual = bool(getattr(d.target, "annual", False))
    if head:
        return f" ({'annual ' if annual else ''}target {d.target})" if en else \
            f"（{'年度' if annual else ''}目标 {d.target}）"
    if not annual:
        return str(d.target)
    return f"{d.target} (annual)" if en else f"{d.target}（年度）"


def _notes_sheet(wb: Any, indicators: list[Any], name: str, head: Any, text_fmt: Any, en: bool = False) -> None:
    """One row per indicator: theme, name, id, unit, decimals, target, formula, basis."""
    from revstat.definitions import THEMES
    from revstat.i18n import name_in, unit_text

    ws = wb.add_worksheet(name)
    headers = ["Theme", "Indicator", "id", "Unit", "Decimals", "Target", "Formula", "Basis"] if en else \
        ["主题", "指标", "id", "单位", "小数位", "目标", "公式", "口径"]
    lang = "en" if en else "zh"
    rows = [[THEMES.get(d.theme or "", (d.theme or "", d.theme or ""))[1 if en else 0], name_in(d, lang), d.id,
             unit_text(d.unit, lang), d.decimals, _target_cell(d, en), d.formula,
             (getattr(d, "basis_en", None) if en else None) or d.basis or d.description or ""] for d in indicators]
    widths = [display_width(h) for h in headers]
    for col, h in enumerate(headers):
        write_xlsx_cell(ws, 0, col, h, head)
    for i, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            write_xlsx_cell(ws, i, col, value, text_fmt)
            widths[col] = min(max(widths[col], display_width(str(value))), 60)
    write_xlsx_cell(ws, len(rows) + 2, 0, FORMAT_KEY_EN if en else FORMAT_KEY, None)
    for col, w in enumerate(widths):
        ws.set_column(col, col, w + 2)
    ws.freeze_panes(1, 2)
