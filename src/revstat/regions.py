"""The region hierarchy (统计用区划代码) from regions.csv, and matching names to codes.

The tree comes from the file, never from slicing codes: cities without counties, 直辖市 and
省直辖县级 units and renamed codes all break slicing. A workbook names its townships as people
type them; names are matched after normalising full-width characters, spaces and invisible
characters, within the county the workbook belongs to when that is known. A name typed without
its suffix (城关 for 城关镇) is matched; a name with a different suffix (石桥乡, 石桥村 for 石桥镇)
is not: it may be another place, or a renamed one, and either way the cell must say which.
"""

from __future__ import annotations

import csv
import difflib
import io
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revstat.config import LEVELS
from revstat.errors import ConfigError, SourceError
from revstat.i18n import t
from revstat.model import Location
from revstat.numbers import clean_text

_CODE = re.compile(r"^\d{12}$")
_SUFFIXES = ("街道办事处", "街道", "镇", "乡", "县", "区", "市", "村委会", "居委会", "社区", "村")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: str
    parent: str | None
    #: other names the workbooks use for it (regions.csv's optional ``aliases`` column): 火场乡 for
    #: 火场土家族乡, an old name after a merger — matched as its name is, never written out
    aliases: tuple[str, ...] = ()


def normalize_name(name: str) -> str:
    """Full-width → half-width, no spaces or invisible characters: ' 城关　镇\u200b' → '城关镇'."""
    return clean_text(name).replace(" ", "")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


class ElsewhereError(SourceError):
    """A row of a region that belongs to another county than the workbook's (``owners``):
    :func:`revstat.sources.read` tells many of them in one workbook as one error."""

    def __init__(self, name: str, owners: list[str], here: str, *args: Any) -> None:
        self.name, self.owners, self.here = name, owners, here
        super().__init__(*args)


@dataclass
class RegionTree:
    regions: dict[str, Region]
    children: dict[str, list[str]] = field(default_factory=dict)
    # the name index, made at the first match by name (workbooks that give codes never need it)
    _by_name: dict[str, list[str]] = field(default_factory=dict, compare=False)  # normalised name → codes
    _by_bare: dict[str, list[str]] = field(default_factory=dict, compare=False)  # name without its suffix → codes

    def __post_init__(self) -> None:
        self.children = {code: [] for code in self.regions}
        for region in self.regions.values():
            if region.parent is not None:
                self.children[region.parent].append(region.code)
        for code_list in self.children.values():
            code_list.sort()
        self._by_name, self._by_bare = {}, {}
        self._indexed = False

    def _index(self) -> None:
        for region in self.regions.values():
            for name in dict.fromkeys(normalize_name(n) for n in (region.name, *region.aliases)):
                self._by_name.setdefault(name, []).append(region.code)
                bare = _short(name)
                if bare != name:
                    self._by_bare.setdefault(bare, []).append(region.code)
        self._indexed = True

    # ---- structure -------------------------------------------------------------------
    def __contains__(self, code: object) -> bool:
        return code in self.regions

    def __getitem__(self, code: str) -> Region:
        return self.regions[code]

    def name(self, code: str) -> str:
        return self.regions[code].name

    def level(self, code: str) -> str:
        return self.regions[code].level

    def ancestors(self, code: str) -> list[str]:
        """Parent, grandparent, … up to the root."""
        out = []
        parent = self.regions[code].parent
        while parent is not None:
            out.append(parent)
            parent = self.regions[parent].parent
        return out

    def descendants(self, code: str) -> list[str]:
        out: list[str] = []
        stack = list(self.children.get(code, []))
        while stack:
            c = stack.pop()
            out.append(c)
            stack.extend(self.children.get(c, []))
        return out

    def subtree(self, root: str) -> list[str]:
        return [root, *self.descendants(root)]

    def depth_order(self) -> list[str]:
        """Codes ordered deepest first (children before parents), for rolling up."""
        depth: dict[str, int] = {}
        for code in self.regions:
            depth[code] = len(self.ancestors(code))
        return sorted(self.regions, key=lambda c: (-depth[c], c))

    def is_within(self, code: str, scope: str) -> bool:
        return code == scope or scope in self.ancestors(code)

    # ---- matching names --------------------------------------------------------------
    def match(self, text: str, *, within: str | None = None, level: str | None = None,
              where: Location | None = None) -> str:
        """The code of a region given as a 12-digit code or a name; raise with close names."""
        raw = clean_text(str(text))
        if _CODE.match(raw):
            if raw in self.regions:
                return raw
            raise SourceError(
                t("未知的地区代码 {code}", "unknown region code {code}", code=raw), where,
                t("在 regions.csv 中加入该代码，或改正单元格", "add the code to regions.csv or correct the cell"),
            )
        if not self._indexed:
            self._index()
        norm = normalize_name(raw)
        bare = _short(norm)
        candidates = self._by_name.get(norm, [])
        if not candidates and bare == norm:  # typed without its suffix: 城关 for 城关镇
            candidates = self._by_bare.get(norm, [])
        if not candidates and bare != norm:  # a suffix the file leaves off: 城关镇 for 城关
            candidates = self._by_name.get(bare, [])
        # a different suffix is another place (石桥乡 is not 石桥镇, 石桥村 is not 石桥镇): not matched
        elsewhere = candidates
        if within is not None:
            candidates = [c for c in candidates if self.is_within(c, within)]
        if not candidates and within is not None and within in self.regions and elsewhere:
            # a known name, of another county: a row moved into the wrong county's workbook
            owners = sorted({self._owner_name(c, self.regions[within].level) for c in elsewhere})
            raise ElsewhereError(raw, owners, self.regions[within].name,
                t("{name}是{owners}的地区，不属于本工作簿所属的{here}", "{name} belongs to {owners_en}, not to {here} whose "
                  "workbook this is", name=raw, owners="、".join(owners), owners_en=", ".join(owners),
                  here=self.regions[within].name), where,
                t("把该行移到{owners}的工作簿；若是同名的另一个地区，先在 regions.csv 中加入它",
                  "move the row to {owners_en}'s workbook; if it is another place of the same name, add it to regions.csv",
                  owners="、".join(owners), owners_en=", ".join(owners)),
            )
        if level is not None and len(candidates) > 1:
            at_level = [c for c in candidates if self.regions[c].level == level]
            candidates = at_level or candidates
        candidates = sorted(set(candidates))
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            found = self._by_parent_and_name(norm, within)
            if found is not None:  # 古城镇桅杆村: a village named with its township, as findings name it
                return found
            pool = self.descendants(within) if within else list(self.regions)
            if level is not None:
                pool = [c for c in pool if self.regions[c].level == level] or pool
            names = [self.regions[c].name for c in pool]
            close = difflib.get_close_matches(norm, list(dict.fromkeys(names)), n=3, cutoff=0.3)
            shown = close if close else list(dict.fromkeys(names))[:5]
            twice = {n for n in shown if names.count(n) > 1}
            # a name several regions share is shown with each one's parent: 红旗村（南坝镇）、红旗村（古城镇）
            hint = "、".join(
                "、".join(f"{n}（{self._parent_name(c)}）" for c in pool if self.regions[c].name == n) if n in twice else n
                for n in shown)
            raise SourceError(
                t("未知的地区名称 {name!r}", "unknown region name {name!r}", name=raw), where,
                t("最接近的已知名称：{hint}；若是其中一个地区的另一种写法（简称、旧名），在 regions.csv 的 aliases 列为它写上"
                  "这个名称；若是新的地区，在 regions.csv 中加入它",
                  "closest known names: {hint}; if it is another way of writing one of them (a short or former name), "
                  "add it to that region's aliases column in regions.csv; if it is a new region, add it to regions.csv",
                  hint=hint),
            )
        listed = "、".join(f"{self.regions[c].name}({c})" for c in candidates[:5])
        raise SourceError(
            t("地区名称 {name!r} 有歧义", "region name {name!r} is ambiguous", name=raw), where,
            t("可能是：{listed}；请改用12位区划代码", "it could be: {listed_en}; use the 12-digit code", listed=listed,
              listed_en=", ".join(f"{self.regions[c].name} ({c})" for c in candidates[:5])),
        )

    def _parent_name(self, code: str) -> str:
        parent = self.regions[code].parent
        return self.regions[parent].name if parent in self.regions else ""

    def _by_parent_and_name(self, norm: str, within: str | None) -> str | None:
        """The one region whose parent's name followed by its own name is ``norm`` (古城镇桅杆村)."""
        found = set()
        for code, region in self.regions.items():
            if region.parent not in self.regions or (within is not None and not self.is_within(code, within)):
                continue
            parent = normalize_name(self.regions[region.parent].name)
            if norm.startswith(parent) and normalize_name(region.name) == norm[len(parent):]:
                found.add(code)
        return found.pop() if len(found) == 1 else None

    def _owner_name(self, code: str, level: str) -> str:
        """The name of ``code``'s ancestor at ``level`` (its county, for a township)."""
        for up in self.ancestors(code):
            if self.regions[up].level == level:
                return self.regions[up].name
        return self.regions[code].name

    def find_in_text(self, text: str, level: str = "county") -> str | None:
        """The one region of ``level`` whose name appears in ``text`` (a file name or title)."""
        norm = normalize_name(text)
        hits = {c for c, r in self.regions.items()
                if r.level == level and (normalize_name(r.name) in norm)}
        if len(hits) != 1:
            shorts = {c for c, r in self.regions.items()
                      if r.level == level and len(_short(normalize_name(r.name))) >= 2
                      and _short(normalize_name(r.name)) in norm}
            hits = hits or shorts
        return next(iter(hits)) if len(hits) == 1 else None


def parse_regions(text: str, file: str) -> RegionTree:
    """Parse regions.csv text: columns code, name, level, parent (codes as text), and optionally
    aliases (other names of the region, separated by 、 ; or |)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    need = ("code", "name", "level", "parent")
    if not header or not set(need) <= {h.strip() for h in header}:
        raise ConfigError(
            t("regions.csv 缺少列：需要 code,name,level,parent", "regions.csv needs columns code,name,level,parent"),
            Location(file, line=1),
            t("第一行写列名 code,name,level,parent", "put code,name,level,parent on the first line"),
        )
    at = {h.strip(): i for i, h in enumerate(header)}  # a name given twice: its last column
    columns = [at[n] for n in need]
    width = max(columns) + 1
    pick = operator.itemgetter(*columns)
    at_aliases = at.get("aliases")
    is_code = _CODE.match
    regions: dict[str, Region] = {}
    lines: dict[str, int] = {}
    for lineno, row in enumerate(filter(None, reader), start=2):  # blank lines are skipped, not counted
        if len(row) >= width:
            code, name, level, parent = (x.strip() for x in pick(row))
        else:  # a short row: the missing cells are empty
            code, name, level, parent = (row[i].strip() if i < len(row) else "" for i in columns)
        if not is_code(code):
            raise ConfigError(t("地区代码应为12位数字：{code!r}", "a region code must have 12 digits: {code!r}", code=code),
                              Location(file, line=lineno), t("按统计用区划代码填写12位代码（以文本保存，勿用科学计数法）",
                                                             "write the 12-digit code as text (not in scientific notation)"))
        if level not in LEVELS:
            raise ConfigError(t("未知的层级 {level!r}", "unknown level {level!r}", level=level), Location(file, line=lineno),
                              t("层级为 {levels} 之一", "level is one of {levels}", levels=", ".join(LEVELS)))
        if code in regions:
            raise ConfigError(t("重复的地区代码 {code}", "duplicate region code {code}", code=code), Location(file, line=lineno),
                              t("每个代码只写一行", "list each code once"))
        aliases: tuple[str, ...] = ()
        if at_aliases is not None and at_aliases < len(row) and row[at_aliases].strip():
            aliases = tuple(a.strip() for a in re.split(r"[、;；|]", row[at_aliases]) if a.strip())
        regions[code] = Region(code, name, level, parent or None, aliases)
        lines[code] = lineno
    for code, region in regions.items():
        if region.parent is not None and region.parent not in regions:
            raise ConfigError(
                t("{name}({code}) 的上级 {parent} 不在 regions.csv 中", "parent {parent} of {name} ({code}) is not in regions.csv",
                  name=region.name, code=code, parent=region.parent),
                Location(file, line=lines[code]), t("加入上级地区或改正 parent 列", "add the parent or correct the parent column"))
    _check_no_cycles(regions, file, lines)
    return RegionTree(regions)


def _check_no_cycles(regions: dict[str, Region], file: str, lines: dict[str, int] | None = None) -> None:
    rooted: set[str] = set()  # codes whose chain of parents is known to end at a root
    for code in regions:
        seen = {code}
        parent = regions[code].parent
        while parent is not None and parent not in rooted:
            if parent in seen:
                raise ConfigError(t("地区上下级关系成环：{code}", "the region hierarchy has a cycle at {code}", code=code),
                                  Location(file, line=(lines or {}).get(code)), t("改正 parent 列", "correct the parent column"))
            seen.add(parent)
            parent = regions[parent].parent
        rooted |= seen


def load_regions(path: Path, display: str = "regions.csv") -> RegionTree:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(t("找不到 regions.csv", "regions.csv not found"), Location(display),
                          t("在工作区放入 regions.csv（revstat init 会生成一个）",
                            "put regions.csv in the workspace (revstat init writes one)")) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return parse_regions(raw.decode(encoding), display)
        except UnicodeDecodeError:
            continue
    raise ConfigError(t("regions.csv 的编码无法识别", "cannot decode regions.csv"), Location(display),
                      t("另存为 UTF-8 编码", "save it as UTF-8"))


def make_tree(rows: Iterable[tuple[str, str, str, str | None]]) -> RegionTree:
    """Build a tree from (code, name, level, parent) tuples (tests, generators)."""
    return RegionTree({c: Region(c, n, lv, p) for c, n, lv, p in rows})
