"""Pure layout detection: a cell grid → title rows, 单位 row, header rows, columns.

County sheets put a merged title, a 表号/制表机关/批准文号 block and a 单位 row ("单位：户、
人、万元") above a header of one to three rows (group headers merged across their columns,
flattened to ``上/下`` such as ``累计纳入监测对象/户数``), an optional code row (甲/乙/1/2/3), the
data rows, 合计 rows at the top or bottom, and a footer (单位负责人/填表人/报出日期/说明).
Nothing here reads files; :mod:`revstat.sources.excel` supplies the grid.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from revstat.numbers import NotANumber, clean_text, parse_number

#: Rows scanned for the title/header block.
SCAN_ROWS = 100
MAX_HEADER_ROWS = 3

META_PREFIXES = ("表号", "制表机关", "批准文号", "有效期至", "有效期", "填报单位", "填表单位", "报送单位",
                 "统计时间", "报告期", "文号")
FOOTER_PREFIXES = ("单位负责人", "统计负责人", "填表人", "填报人", "审核人", "制表人", "报出日期", "填报日期",
                   "填表日期", "说明", "注:", "注1", "备注", "联系电话")
TOTAL_WORDS = ("合计", "总计", "全县合计", "全区合计", "全市合计", "全县", "全区", "总合计")
CODE_CHARS = frozenset("甲乙丙丁戊己庚辛壬癸")
MONEY_UNITS = {"元": 0, "万元": 4, "亿元": 8}
KNOWN_UNITS = frozenset({"户", "人", "元", "万元", "亿元", "个", "件", "公里", "千米", "米", "%", "人次", "亩", "万亩",
                         "吨", "座", "处", "所", "家", "台", "辆", "元/人", "万人", "万户", "平方米", "立方米",
                         "项", "次", "村", "名", "间", "套", "头", "只", "千瓦", "兆瓦"})

_UNIT_ROW = re.compile(r"^(?:计量|金额|数量)?单位[:]\s*(.+)$")
_BRACKET = re.compile(r"^(.*?)\(([^()]*)\)$")
_SECTION = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+是)")
_UNIT_SPLIT = re.compile(r"[、,;/\s]+")


@dataclass(frozen=True)
class Column:
    """One column of the header, flattened: ``parts`` are the header texts top to bottom."""

    index: int
    parts: tuple[str, ...]  # normalised, units in brackets removed
    label: str  # as shown: "累计纳入监测对象/户数"
    unit: str | None = None  # unit found in a bracket, e.g. 万元
    carried: int | None = None  # a blank group-header cell filled from the left: its row (0-based)


@dataclass
class Layout:
    title_rows: list[int] = field(default_factory=list)
    meta_rows: list[int] = field(default_factory=list)
    unit_row: int | None = None
    units: tuple[str, ...] = ()  # listed in the 单位 row
    header_rows: list[int] = field(default_factory=list)
    code_row: int | None = None
    data_start: int = 0
    columns: list[Column] = field(default_factory=list)
    title: str = ""  # text of the title rows (to find the county)
    meta: str = ""  # text of the 表号/填报单位/单位 rows

    @property
    def money_units(self) -> list[str]:
        return [u for u in self.units if u in MONEY_UNITS]


# ---- text helpers ----------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """A cell as clean text (NFKC, no invisible characters, whitespace folded)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return clean_text(str(value))


@functools.lru_cache(maxsize=8192)
def _clean(text: str) -> str:
    return clean_text(text)


@functools.lru_cache(maxsize=8192)
def squash(text: str) -> str:
    """No spaces at all (for comparing labels typed with padding: "合 计", "表　号")."""
    return clean_text(text).replace(" ", "")


@functools.lru_cache(maxsize=4096)
def split_unit(part: str) -> tuple[str, str | None]:
    """'住院总费用 (万元)' → ('住院总费用', '万元'); the key is squashed, colons dropped."""
    text = squash(part).replace(":", "")
    unit = None
    m = _BRACKET.match(text)
    if m and m.group(1):
        text, inner = m.group(1), m.group(2)
        if inner in KNOWN_UNITS or all(u in KNOWN_UNITS for u in inner.split("/") if u):
            unit = inner
    return text, unit


@functools.lru_cache(maxsize=4096)
def header_key(label: str) -> tuple[str, ...]:
    """A configured ``column:`` ('累计纳入监测对象/户数') as normalised parts."""
    parts = [split_unit(p)[0] for p in _split_outside_brackets(label)]
    return tuple(p for p in parts if p)


def _split_outside_brackets(label: str) -> list[str]:
    if "/" not in label and "／" not in label:
        return [label]
    out, depth, cur = [], 0, ""
    for ch in clean_text(label):
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(depth - 1, 0)
        if ch == "/" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def is_numberlike(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str) and value.strip():
        try:
            return parse_number(value) is not None
        except NotANumber:
            return False
    return False


def parse_units(text: str) -> tuple[str, ...]:
    """'户、人、万元' → ('户', '人', '万元')."""
    return tuple(u for u in _UNIT_SPLIT.split(text.replace("(", " ").replace(")", " ")) if u)


def unit_in_row(row: Sequence[Any]) -> str | None:
    for value in row:
        if isinstance(value, str) and value:
            m = _UNIT_ROW.match(squash(value))
            if m:
                return m.group(1)
    return None


@functools.lru_cache(maxsize=8192)
def classify_label(text: str) -> str:
    """data | total | section | part | footer for the label of a data row."""
    if text.isdigit():  # a region code (the usual label): no prefix or word below starts with a digit
        return "data"
    s = squash(text)
    if s.startswith(FOOTER_PREFIXES):
        return "footer"
    if s in TOTAL_WORDS or s.endswith(("合计", "总计")):
        return "total"
    if s.startswith("其中"):
        return "part"
    if _SECTION.match(s):
        return "section"
    return "data"


# ---- detection -------------------------------------------------------------------------------
def _filled(rows: list[list[Any]], merged: Sequence[tuple[int, int, int, int]], limit: int
            ) -> tuple[dict[tuple[int, int], Any], dict[tuple[int, int], tuple[int, int, int, int]]]:
    """Values of merged ranges spread over their cells (only rows < limit)."""
    fill: dict[tuple[int, int], Any] = {}
    owner: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for rng in merged:
        r0, c0, r1, c1 = rng
        if r0 >= limit or r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, limit - 1) + 1):
            for c in range(c0, c1 + 1):
                fill[(r, c)] = value
                owner[(r, c)] = rng
    return fill, owner


def _row_cells(rows: list[list[Any]], r: int, fill: dict[tuple[int, int], Any],
               owner: dict[tuple[int, int], tuple[int, int, int, int]]) -> list[tuple[int, Any]]:
    """Non-empty (column, value) of a row, a merged range counted once (at its first column)."""
    out = []
    seen = set()
    for c, value in enumerate(rows[r]):
        rng = owner.get((r, c))
        if rng is not None:
            if rng in seen:
                continue
            seen.add(rng)
            value = fill[(r, c)]
        if value is not None and value != "":
            out.append((c, value))
    return out


class _LazyRows(dict):  # type: ignore[type-arg]
    """Row index → non-empty cells, computed when first asked for."""

    def __init__(self, rows: list[list[Any]], fill: dict[tuple[int, int], Any],
                 owner: dict[tuple[int, int], tuple[int, int, int, int]]) -> None:
        super().__init__()
        self.rows, self.fill, self.owner = rows, fill, owner

    def __missing__(self, r: int) -> list[tuple[int, Any]]:
        cells = _row_cells(self.rows, r, self.fill, self.owner) if r < len(self.rows) else []
        self[r] = cells
        return cells


def _is_code_row(cells: list[tuple[int, Any]]) -> bool:
    if len(cells) < 2:
        return False
    texts = [cell_text(v) for _, v in cells]
    if any(t in CODE_CHARS for t in texts):
        return all(t in CODE_CHARS or t.isdigit() for t in texts)
    nums = [int(t) for t in texts if t.isdigit()]
    return len(nums) == len(texts) >= 3 and nums == list(range(nums[0], nums[0] + len(nums))) and nums[0] in (0, 1)


def detect_layout(rows: list[list[Any]], merged: Sequence[tuple[int, int, int, int]] = (), *,
                  header_rows: Sequence[int] | None = None, anchor: str | None = None) -> Layout:
    """Find title, 单位, header and code rows. ``header_rows`` (0-based) overrides detection;
    ``anchor`` is the configured region column, whose header marks the header's first row."""
    limit = min(len(rows), SCAN_ROWS + MAX_HEADER_ROWS + 2)
    fill, owner = _filled(rows, merged, limit)
    layout = Layout()
    anchor_key = header_key(anchor) if anchor else None
    cells_of = _LazyRows(rows, fill, owner)

    start = header_rows[0] if header_rows else None
    if start is None and anchor_key:
        for r in range(min(limit, SCAN_ROWS)):
            if any(split_unit(cell_text(v))[0] == anchor_key[-1] for _, v in cells_of[r]):
                start = r
                break
    for r in range(min(limit, SCAN_ROWS) if start is None else start):
        cells = cells_of[r]
        if not cells:
            continue
        texts = [squash(cell_text(v)) for _, v in cells]
        unit = unit_in_row(rows[r])
        if unit is not None and layout.unit_row is None:
            layout.unit_row = r
            layout.units = parse_units(unit)
        if unit is not None or any(t.startswith(META_PREFIXES) for t in texts):
            layout.meta_rows.append(r)
            continue
        if len(cells) == 1 and not is_numberlike(cells[0][1]):
            layout.title_rows.append(r)
            continue
        if start is None:
            start = r
            break
    if start is None:
        return layout
    layout.title = " ".join(cell_text(v) for r in layout.title_rows if r < start for _, v in cells_of[r])
    layout.meta = " ".join(cell_text(v) for r in layout.meta_rows if r < start for _, v in cells_of[r])

    if header_rows:
        hdr = list(header_rows)
    else:
        hdr = [start]
        anchor_col = None
        if anchor_key:
            anchor_col = next((c for c, v in cells_of[start] if split_unit(cell_text(v))[0] == anchor_key[-1]), None)
        for r in range(start + 1, min(start + MAX_HEADER_ROWS, limit)):
            cells = cells_of[r]
            if _is_code_row(cells):
                break
            spans_down = any(owner.get((r, c)) is not None and owner[(r, c)][0] < r for c in range(len(rows[r])))
            numeric = any(is_numberlike(v) for _, v in cells)
            region_blank = anchor_col is None or (owner.get((r, anchor_col)) or (r,))[0] < r or not cell_text(rows[r][anchor_col])
            labels = [classify_label(cell_text(v)) for _, v in cells[:1]]
            if numeric or labels[:1] in (["total"], ["footer"], ["section"], ["part"]):
                break
            if (spans_down and region_blank) or (cells and region_blank and anchor_col is not None):
                hdr.append(r)
                continue
            break
    layout.header_rows = hdr
    nxt = hdr[-1] + 1
    if nxt < len(rows) and _is_code_row(cells_of[nxt]):
        layout.code_row = nxt
        nxt += 1
    layout.data_start = nxt
    layout.columns = _columns(rows, hdr, fill)
    return layout


def _columns(rows: list[list[Any]], hdr: list[int], fill: dict[tuple[int, int], Any]) -> list[Column]:
    width = max((len(rows[r]) for r in hdr if r < len(rows)), default=0)
    fill = dict(fill)
    carried: dict[int, int] = {}

    def value(r: int, c: int) -> Any:
        return fill.get((r, c), rows[r][c] if c < len(rows[r]) else "")

    # a group header typed once over several columns without merging: carry it right over the
    # blank cells whose lower rows are filled, as long as the column to the left is a child too
    for i, r in enumerate(hdr[:-1]):
        if r >= len(rows):
            continue
        lower = [x for x in hdr[i + 1:] if x < len(rows)]
        for c in range(1, width):
            if cell_text(value(r, c)) or not any(cell_text(value(x, c)) for x in lower):
                continue
            left = value(r, c - 1)
            if cell_text(left) and any(cell_text(value(x, c - 1)) for x in lower):
                fill[(r, c)] = left
                carried.setdefault(c, r)
    columns = []
    for c in range(width):
        parts: list[str] = []
        labels: list[str] = []
        unit = None
        for r in hdr:
            if r >= len(rows):
                continue
            text = cell_text(value(r, c))
            if not text:
                continue
            pieces = _split_outside_brackets(text)
            for piece in pieces:
                key, found = split_unit(piece)
                unit = found or unit
                if key and (not parts or parts[-1] != key):
                    parts.append(key)
                    labels.append(piece.strip())
        if parts:
            columns.append(Column(c, tuple(parts), "/".join(labels), unit, carried.get(c)))
    return columns


# ---- matching --------------------------------------------------------------------------------
def match_column(columns: Sequence[Column], wanted: str) -> tuple[Column | None, list[str]]:
    """The column a configured ``column:`` names, else (None, closest labels).

    Exact parts first, then a unique match on the last parts (``户数`` under a longer group
    header), then a unique match of the configured last part alone."""
    key = header_key(wanted)
    if not key:
        return None, []
    exact = [c for c in columns if c.parts == key]
    if len(exact) == 1:
        return exact[0], []
    suffix = [c for c in columns if c.parts[-len(key):] == key]
    if len(suffix) == 1:
        return suffix[0], []
    last = [c for c in columns if c.parts[-1] == key[-1] and (len(key) == 1 or len(c.parts) == 1)]
    if len(last) == 1 and not exact and not suffix:
        return last[0], []
    labels = ["/".join(c.parts) for c in columns]
    close = difflib.get_close_matches("/".join(key), labels, n=3, cutoff=0.3)
    if len(exact) > 1 or len(suffix) > 1:
        close = ["/".join(c.parts) for c in (exact or suffix)]
    return None, close
