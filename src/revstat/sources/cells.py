"""Pure helpers for one cell, column or row label: exact values, units, region codes, and the
errors that name them. Used by :mod:`revstat.sources.read`; nothing here reads files.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from revstat.config import FieldDef, SourceDef
from revstat.errors import SourceError
from revstat.i18n import t
from revstat.model import Location
from revstat.numbers import NotANumber, parse_number
from revstat.regions import _short, normalize_name
from revstat.sources.excel import a1
from revstat.sources.layout import MONEY_UNITS, Column, Layout, header_key

CODE_LEN = 12
ONE = Decimal(1)


class PrecisionLost(NotANumber):
    """A number stored as a double with more than 15 significant digits (e.g. 18 digits)."""


def to_value(raw: Any) -> Decimal | None:
    """A raw cell as an exact Decimal (None when missing); floats as Excel shows them (15 digits).

    Raises :class:`PrecisionLost` for whole numbers of 16+ digits stored as numbers: Excel
    keeps 15 significant digits, so the digits after them are already gone."""
    if raw is None or raw == "":
        return None
    if type(raw) is float:
        if raw.is_integer() and abs(raw) < 1e15:
            return Decimal(int(raw))
        if raw.is_integer() and abs(raw) < float("inf"):
            raise PrecisionLost(repr(raw))
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise NotANumber(str(raw))
        return Decimal(format(raw, ".15g"))
    return parse_number(raw)


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


class ScopeFinder:
    """Which region a workbook is for, from its file name, title and 填报单位 text.

    Region names are normalised once per read and level, when a workbook first asks about that
    level: only the levels above a sheet's rows are searched, so the thousands of villages of a
    tree are never normalised here. Answers are cached per (text, level, within), since every
    source reading a workbook asks about the same texts."""

    def __init__(self, tree: Any) -> None:
        self.tree = tree
        self._names: dict[tuple[str, str | None], list[tuple[str, str, str | None]]] = {}
        self._cache: dict[tuple[str, str, str | None, bool], str | None] = {}

    def names_at(self, level: str, within: str | None = None) -> list[tuple[str, str, str | None]]:
        """(code, normalised name, short name or None when under 2 characters) of every region
        at ``level`` (inside ``within``)."""
        key = (level, within)
        if key not in self._names:
            if within is not None:
                names = [x for x in self.names_at(level) if self.tree.is_within(x[0], within)]
            else:
                names = []
                for code, region in self.tree.regions.items():
                    if region.level == level:
                        full = normalize_name(region.name)
                        short = _short(full)
                        names.append((code, full, short if len(short) >= 2 else None))
            self._names[key] = names
        return self._names[key]

    def in_text(self, text: str, level: str, within: str | None = None, shorts: bool = True) -> str | None:
        """The one region of ``level`` (inside ``within``) whose name appears in ``text``."""
        key = (text, level, within, shorts)
        if key not in self._cache:
            norm = normalize_name(text)
            cands = self.names_at(level, within)
            hits = {c for c, full, _ in cands if full in norm}
            if len(hits) != 1 and shorts:
                hits = hits or {c for c, _, short in cands if short and short in norm}
            self._cache[key] = next(iter(hits)) if len(hits) == 1 else None
        return self._cache[key]

    def find(self, texts: list[str], row_level: str) -> str | None:
        """The deepest region above ``row_level`` named in ``texts`` (nearest level first) that
        agrees with the regions named at higher levels; then, inside a county found that way, a
        township named in full (东山县城关镇.xlsx → 城关镇, where 城关镇 alone is ambiguous)."""
        from revstat.config import LEVELS

        texts = [x for x in texts if x]
        up = list(reversed(LEVELS[:LEVELS.index(row_level)]))  # nearest level first
        found: dict[str, str] = {}
        for lv in up:
            code = next((c for c in (self.in_text(x, lv) for x in texts) if c is not None), None)
            if code is not None:
                found[lv] = code
        best = None
        for i, lv in enumerate(up):
            code = found.get(lv)
            if code is not None and all(self.tree.is_within(code, found[h]) for h in up[i + 1:] if h in found):
                best = code
                break
        if best is not None and up and self.tree.level(best) != up[0]:
            for lv in up[:up.index(self.tree.level(best))]:
                inner = next((c for c in (self.in_text(x, lv, within=best, shorts=False) for x in texts)
                              if c is not None), None)
                if inner is not None:
                    return inner
        return best


def region_code(label: str, source: SourceDef, tree: Any, scope: str | None, where: Location | None) -> str:
    text = label.replace(" ", "")
    if _SCIENTIFIC.match(text):
        raise SourceError(
            t("地区代码 {v} 是科学计数法，后几位已丢失", "region code {v} is in scientific notation; its last digits are lost", v=label),
            where, t("把该列设为文本格式，重新录入12位代码（或改填地区名称）",
                     "format the column as text and type the 12-digit code again (or use the region name)"))
    is_code = text.isdigit() and len(text) == CODE_LEN
    if source.region.by == "code" and not is_code:
        raise SourceError(t("地区代码应为12位数字：{v!r}", "a region code must have 12 digits: {v!r}", v=label), where,
                          t("填写12位统计用区划代码（以文本保存）", "write the 12-digit code, stored as text"))
    if source.region.by == "name" and is_code:
        raise SourceError(t("此列应为地区名称，而不是代码：{v}", "this column should hold names, not codes: {v}", v=label), where,
                          t("改为地区名称，或设置 region.by: code/auto", "use names, or set region.by: code or auto"))
    code: str = tree.match(text if is_code else label, within=scope, level=source.region.level, where=where)
    if is_code and scope is not None and code != scope and not tree.is_within(code, scope):
        raise foreign_code(code, scope, tree, where)
    return code


def foreign_code(code: str, scope: str, tree: Any, where: Location | None) -> SourceError:
    """A valid code of a region outside the workbook's own county (``scope``): typed in the
    wrong workbook, or a slip in the code. Names are matched within the county; codes are checked
    here, or the row would be read as that other county's and clash with its own workbook."""
    level = tree.level(scope)
    owner = next((c for c in (code, *tree.ancestors(code)) if tree.level(c) == level), None)
    name, county = tree.name(code), tree.name(scope)
    same = sorted(c for c in tree.descendants(scope) if tree.name(c) == name and tree.level(c) == tree.level(code))
    if owner is None:
        return SourceError(
            t("地区代码 {code}（{name}）不在本工作簿所属的{county}范围内",
              "region code {code} ({name}) is not within {county}, the region of this workbook",
              code=code, name=name, county=county), where,
            t("改正该代码（应为{county}下属地区的代码），或改填地区名称",
              "correct the code (it must be a region within {county}), or write the region's name", county=county))
    hint = t("（若指的是{county}的{name}，应为 {right}）", " (if {county}'s {name} is meant: {right})",
             county=county, name=name, right=same[0]) if len(same) == 1 else t("", "")
    if owner == code:  # the code of another county itself
        return SourceError(
            t("地区代码 {code} 是{owner}，不是本工作簿所属的{county}", "region code {code} is {owner}, not {county} "
              "(the region of this workbook)", code=code, owner=name, county=county), where,
            t("改正该代码；若这一行确是{owner}的数据，把它移到{owner}的工作簿",
              "correct the code; if the row really is {owner}'s, move it to {owner}'s workbook", owner=name))
    return SourceError(
        t("地区代码 {code} 是{owner}的{name}，不属于本工作簿所属的{county}",
          "region code {code} is {name} of {owner}, not of {county} (the region of this workbook)",
          code=code, owner=tree.name(owner), name=name, county=county), where,
        t("改正该代码{hint}；若这一行确是{owner}的数据，把它移到{owner}的工作簿",
          "correct the code{hint}; if the row really is {owner}'s, move it to {owner}'s workbook",
          hint=hint, owner=tree.name(owner)))


def unit_shift(f: FieldDef, col: Column, layout: Layout, source: SourceDef, where: Location) -> int:
    """Power of ten that turns the sheet's unit into the field's declared unit (0: same unit)."""
    found = col.unit
    if found is None and f.unit in MONEY_UNITS:
        money = layout.money_units
        if len(money) == 1:
            found = money[0]
        elif len(money) > 1 and f.unit not in money:
            raise SourceError(
                t("单位行列出多个金额单位（{units}），无法确定列 {col} 的单位", "the 单位 row lists several money units ({units}); "
                  "cannot tell the unit of column {col}", units="、".join(money), col=col.label), where,
                t("在表头中注明单位，如 “{col}（万元）”", "put the unit in the header, e.g. \"{col}（万元）\"", col=col.label))
        elif source.unit in MONEY_UNITS and not money:
            found = source.unit
    if found is None or found == f.unit:
        return 0
    if found in MONEY_UNITS and f.unit in MONEY_UNITS:
        return MONEY_UNITS[found] - MONEY_UNITS[f.unit]
    raise SourceError(
        t("列 {col} 的单位是 {found}，而配置要求 {want}，无法换算", "column {col} is in {found} but the source says {want}; "
          "no certain conversion", col=col.label, found=found, want=f.unit), where,
        t("核对该列的内容与单位；若配置有误，改正字段的 unit", "check the column and its unit; if the source is wrong, fix the field's unit"))


def unit_from(shift: int, unit: str) -> str:
    target = MONEY_UNITS[unit] + shift
    return next((u for u, p in MONEY_UNITS.items() if p == target), "?")


class MissingColumn(SourceError):
    """A column a source asks for is not in a sheet; ``column_of``: (source id, the path of the
    ``column:`` key in its sources file, the column), so that many of them can be told once."""

    column_of: tuple[str, tuple[Any, ...], str] | None = None


def missing_column(file: str, sheet: str | None, wanted: str, layout: Layout, close: list[str],
                   column_of: tuple[str, tuple[Any, ...], str] | None = None) -> SourceError:
    key = "/".join(header_key(wanted))
    twins = [c for c in layout.columns if "/".join(c.parts) == key or c.parts[-len(key.split("/")):] == tuple(key.split("/"))]
    if len(twins) > 1:
        cells = "、".join(a1(layout.header_rows[-1], c.index) for c in twins)
        blank = next((c for c in twins if c.carried is not None), None)
        if blank is not None:  # a group header cleared: the columns under it took the one on their left
            ref = a1(blank.carried, blank.index)
            return SourceError(
                t("表头 {col!r} 重复出现（{cells}）：{ref} 的上级表头是空的，沿用了左边的表头",
                  "header {col!r} appears more than once ({cells}): the group header at {ref} is blank, so the one on "
                  "its left was carried over", col=wanted, cells=cells, ref=ref),
                Location(file, sheet, ref),
                t("在 {ref} 填回该组的表头", "fill in the group header at {ref}",
                  ref=ref))
        return SourceError(
            t("表头 {col!r} 重复出现（{cells}），无法确定读哪一列", "header {col!r} appears more than once ({cells}); "
              "cannot tell which column to read", col=wanted, cells=cells),
            Location(file, sheet, a1(layout.header_rows[-1], twins[1].index)),
            t("删除或改名重复的列", "delete or rename the duplicate column"))
    labels = [c.label for c in layout.columns]
    found = "、".join(labels) or "（没有识别出表头）"
    found_en = ", ".join(labels) or "(no header found)"
    hint = t("最接近的是：{close}；", "closest: {close}; ", close="、".join(close)) if close else ""
    hint_en = t("", "closest: {close}; ", close=", ".join(close)) if close else ""
    # the likeliest header's cell (a renamed header is usually the one to fix)
    likely = next((c for c in layout.columns if close and c.label == close[0]), None)
    cell = None
    if likely is not None and layout.header_rows:  # its last text's row: one row a part, top down
        row = min(len(likely.parts), len(layout.header_rows)) - 1
        wanted_parts = tuple(key.split("/"))
        if len(wanted_parts) == len(likely.parts) <= len(layout.header_rows):  # the part that differs: a group
            row = next((i for i, (a, b) in enumerate(zip(wanted_parts, likely.parts, strict=True)) if a != b), row)
        cell = a1(layout.header_rows[row], likely.index)
    err = MissingColumn(
        t("找不到列 {col!r}", "column {col!r} not found", col=wanted), Location(file, sheet, cell),
        t("{hint}表头有：{found}。改正表头，或修改来源中的 column",
          "{hint_en}the headers are: {found_en}. Fix the header or the source's `column`",
          hint=hint, found=found, hint_en=hint_en, found_en=found_en))
    err.column_of = column_of
    return err
