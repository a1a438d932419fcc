"""The wording of Chinese statistical writing, as pure functions (the Jinja filters).

Every number these functions print is a display string of the results (``display`` or
``change_display``, already rounded once, half-up, by the engine) or a rank. The functions choose
the words around those strings; where a word depends on a sign they look at the exact value
(``value`` / ``change``) but print the display string. The one scaling rule for money (≥ 1亿元 →
亿元, else 万元) rounds the exact value once with :func:`revstat.numbers.format_fixed`.

A missing value prints as ``—`` and is reported through the ``warn`` callback (never as 0).
A missing *change* (no figure for the same period of last year) is a comparison clause with no
base: :func:`change` returns :data:`NO_BASE`, and :func:`resolve_clauses` (run by the renderer on
the finished text) leaves the clause out of running text together with the "，" before it
(``为65.57%，—；`` → ``为65.57%；``), as bureaus write it, while a table cell keeps ``—``.

Printed figures are wrapped in invisible markers (:func:`mark`) naming the indicator, region and
period, so the HTML writer can show where a number came from; :func:`strip_marks` removes them
for Markdown and Word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from revstat.numbers import format_fixed, to_decimal

MISSING = "—"
Warn = Callable[[str], None] | None

# Markers around a printed figure: \ue000key\ue001text\ue002 (Unicode private use area).
_M0, _M1, _M2 = "\ue000", "\ue001", "\ue002"
_MARK_RE = re.compile(f"{_M0}([^{_M1}]*){_M1}([^{_M2}]*){_M2}")
_SEP = "\ue003"  # separates indicator, region, period and part inside a marker (no "|": tables)

# A comparison clause without a base: \ue004—\ue005 (see resolve_clauses).
_C0, _C1 = "\ue004", "\ue005"
NO_BASE = f"{_C0}{MISSING}{_C1}"
_NO = re.escape(NO_BASE)
_CLAUSE_DROPS = (
    re.compile(f"[，,、]\\s*{_NO}"),  # "为65.57%，—；" → "为65.57%；"
    re.compile(f"[（(]\\s*{_NO}\\s*[）)]"),  # "4238元（—）、" → "4238元、"
    re.compile(f"{_NO}\\s*[，,、；;]"),  # a clause opening a sentence: "。—，其中" → "。其中"
)

YI = Decimal(10000)  # 1亿元 = 10000万元


@dataclass(frozen=True, slots=True)
class Fig:
    """One indicator at one region and period: what a template may print about it."""

    indicator: str
    name: str
    unit: str
    region_code: str
    region_name: str
    period: str
    value: Decimal | None = None
    display: str = ""
    change: Decimal | None = None
    change_display: str = ""
    change_unit: str = ""
    previous: Decimal | None = None
    previous_display: str = ""  # the previous period's display (same rounding as its own output)
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    target: str = ""  # "≥65" style condition, as the engine wrote it
    target_met: bool | None = None
    note: str = ""
    level: str = ""
    decimals: int = 2
    formula: str = ""
    rank: int | None = None  # among siblings, 1 = best
    rank_of: int | None = None
    prev_rank: int | None = None
    name_en: str = ""  # the indicator's English name (English reports)
    incomplete: bool = False  # the total lacks lower-level regions (the engine's ``incomplete``)
    previous_incomplete: bool = False  # last year's total did: the change is not like for like
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def missing(self) -> bool:
        return self.value is None or not self.display

    @property
    def key(self) -> str:
        return f"{self.indicator}{_SEP}{self.region_code}{_SEP}{self.period}"

    @property
    def is_rate(self) -> bool:
        return self.unit in ("%", "‰") or self.change_unit == "个百分点"

    @property
    def annual(self) -> bool:
        return "Q" not in self.period and "M" not in self.period

    def __str__(self) -> str:  # {{ fig }} prints the level with its unit
        return level(self)


# --------------------------------------------------------------------------- markers
def mark(fig: Fig, text: str, part: str = "value") -> str:
    """Wrap a printed figure so writers know which result it shows."""
    return f"{_M0}{fig.key}{_SEP}{part}{_M1}{text}{_M2}"


#: After a printed figure that is not complete (after its unit): the report's note explains it. The
#: full-width asterisk of Chinese typesetting, which Markdown does not read as emphasis.
FLAG = "＊"


def flag(fig: Fig | None, part: str = "value") -> str:
    """:data:`FLAG` when the printed figure is incomplete: a value whose total lacks lower-level
    regions, or a change whose either year does."""
    if fig is None:
        return ""
    if part == "change":
        return FLAG if fig.incomplete or fig.previous_incomplete or like_for_like(fig) else ""
    return FLAG if fig.incomplete else ""


def like_for_like(fig: Fig | str | None) -> bool:
    """The change was taken over the parts both years have (可比口径: a year's total was
    incomplete), as the engine's note says (:mod:`revstat.indicators` writes “（可比口径）” or
    “(like for like)”, in the compile's language); a Fig or the note itself."""
    note = fig if isinstance(fig, str) else (fig.note or "") if fig is not None else ""
    return "可比口径" in note or "(like for like)" in note


def strip_marks(text: str) -> str:
    return _MARK_RE.sub(lambda m: m.group(2), text).replace(NO_BASE, MISSING)


def resolve_clauses(text: str) -> str:
    """Settle every :data:`NO_BASE` clause of rendered text.

    In running text the clause is left out with the separator before it (``，`` ``、``), or with
    the brackets around it, or — when it opens a sentence — with the separator after it. A line
    of a pipe table (``| … |``) keeps ``—`` in its cell, and so does a clause that none of these
    shapes fits (nothing around it to drop)."""
    if _C0 not in text:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _C0 not in line:
            continue
        if not line.lstrip().startswith("|"):
            for pattern in _CLAUSE_DROPS:
                line = pattern.sub("", line)
        lines[i] = line.replace(NO_BASE, MISSING)
    return "\n".join(lines)


def split_key(key: str) -> list[str]:
    """indicator, region code, period and part of a marker key."""
    return key.split(_SEP)


def iter_marks(text: str) -> Iterable[tuple[str, str]]:
    """(key, printed text) of every marked figure in ``text``; :func:`split_key` splits a key."""
    for m in _MARK_RE.finditer(text):
        yield m.group(1), m.group(2)


def replace_marks(text: str, fn: Callable[[str, str], str]) -> str:
    return _MARK_RE.sub(lambda m: fn(m.group(1), m.group(2)), text)


def _missing(fig: Fig | None, warn: Warn, what: str = "") -> str:
    if warn is not None and not (fig is not None and fig.extra.get("absent")):  # absent: one summary warning
        if fig is None:
            warn(f"缺少数值：{what}" if what else "缺少数值")
        else:
            reason = fig.note or "无数据"
            warn(f"{fig.region_name}{fig.name}（{fig.period}）缺失：{reason}")
    return MISSING


# --------------------------------------------------------------------------- levels
def level(fig: Fig | None, warn: Warn = None, unit: bool = True) -> str:
    """``14568元``, ``89.41%``, ``10643件``: the display string and its unit, no separators."""
    if fig is None or fig.missing:
        return _missing(fig, warn)
    return mark(fig, fig.display) + (fig.unit if unit else "") + flag(fig)


def num(fig: Fig | None, warn: Warn = None) -> str:
    """The display string alone (no unit): for tables."""
    return level(fig, warn, unit=False)


def hp(households: Fig | None, persons: Fig | None, warn: Warn = None) -> str:
    """Households and persons together: ``5241户21310人``."""
    return level(households, warn) + level(persons, warn)


def money(fig: Fig | None, warn: Warn = None) -> str:
    """Money by one rule: ≥ 1亿元 → ``2.95亿元`` (2 decimals, rounded once from the exact value),
    otherwise the display value in 万元. A figure in 元 is converted to 万元 first (exactly)."""
    if fig is None or fig.missing:
        return _missing(fig, warn)
    value = fig.value if fig.value is not None else Decimal(0)
    if fig.unit == "元":
        value = value / YI
    elif fig.unit != "万元":
        return level(fig, warn)
    if abs(value) >= YI:
        return mark(fig, format_fixed(value / YI, 2), "yi") + "亿元" + flag(fig)
    if fig.unit == "万元":
        return mark(fig, fig.display) + "万元" + flag(fig)
    return mark(fig, format_fixed(value, 2), "wan") + "万元" + flag(fig)


def money_exact(fig: Fig | None, warn: Warn = None) -> str:
    """The exact-unit figure (e.g. ``29512.34万元``), for tables and notes."""
    return level(fig, warn)


# --------------------------------------------------------------------------- changes
def compare_word(period: str | Fig, style: str = "比") -> str:
    """比上年 for annual figures; 比上年同期 (or 同比 with style="同比") for quarters and months."""
    annual = period.annual if isinstance(period, Fig) else ("Q" not in period and "M" not in period)
    if annual:
        return "比上年"
    return "同比" if style == "同比" else "比上年同期"


def _sign(value: Decimal | None, display: str) -> int:
    """Sign of a change as printed: 0 when the rounded display is zero."""
    if value is None:
        return 0
    try:
        if display and to_decimal(Decimal(_digits(display))) == 0:
            return 0
    except ArithmeticError:
        pass
    return (value > 0) - (value < 0)


def _digits(display: str) -> str:
    return display.lstrip("+-−")


def change(fig: Fig | None, warn: Warn = None, compare: bool = False, style: str = "比") -> str:
    """The change over the same period of last year in the conventional words.

    Levels: ``增长9.5%`` / ``下降3.2%`` / ``持平``; rates: ``提高2.11个百分点`` / ``下降…`` / ``持平``.
    ``compare=True`` prefixes 比上年 / 比上年同期 (or 同比 with ``style="同比"``). Without a base
    (no figure last year) the result is :data:`NO_BASE`: the renderer drops the clause from
    running text and prints ``—`` in tables (:func:`resolve_clauses`).
    """
    if fig is None or fig.change is None or not fig.change_display:
        return _missing(fig, warn) if fig is None else _missing_change(fig, warn)
    prefix = compare_word(fig, style) if compare else ""
    sign = _sign(fig.change, fig.change_display)
    if sign == 0:
        return prefix + "持平" + flag(fig, "change")
    text = mark(fig, _digits(fig.change_display), "change")
    if fig.change_unit == "个百分点" or (not fig.change_unit and fig.is_rate):
        return prefix + ("提高" if sign > 0 else "下降") + text + "个百分点" + flag(fig, "change")
    return prefix + ("增长" if sign > 0 else "下降") + text + "%" + flag(fig, "change")


def _missing_change(fig: Fig, warn: Warn) -> str:
    if warn is not None and not fig.extra.get("absent"):
        warn(f"{fig.region_name}{fig.name}（{fig.period}）无上年同期数，变化缺失")
    return NO_BASE


def level_change(fig: Fig | None, warn: Warn = None, style: str = "比") -> str:
    """``14568元，比上年同期增长9.5%`` in one go; without a base, ``14568元`` in running text."""
    return f"{level(fig, warn)}，{change(fig, warn, compare=True, style=style)}"


@dataclass(frozen=True, slots=True)
class Rate:
    """A growth rate (or a difference) as a pair: the exact value and its display string."""

    value: Decimal | None
    display: str
    fig: Fig | None = None
    part: str = "change"

    def text(self) -> str:
        shown = _digits(self.display)
        return mark(self.fig, shown, self.part) if self.fig is not None else shown


def as_rate(x: Fig | Rate | None, part: str = "change") -> Rate | None:
    if x is None or isinstance(x, Rate):
        return x
    if part == "value":
        return Rate(x.value, x.display, x, "value")
    return Rate(x.change, x.change_display, x, "change")


def compare_growth(now: Fig | Rate | None, before: Fig | Rate | None, diff: Fig | Rate | None = None,
                   warn: Warn = None) -> str:
    """Compare two growth rates (this period's with an earlier one).

    ``加快2.1个百分点`` / ``回落…`` when both grow; ``降幅收窄…`` / ``降幅扩大…`` when both fall;
    ``由下降3.2%转为增长5.0%`` (or the reverse) on a sign flip. ``diff`` is the difference in
    percentage points as a result (an indicator of its own: this function never subtracts); without
    it the words carry no number. ``now``/``before`` are Figs (their change) or :class:`Rate`.
    """
    case = growth_case(now, before, diff)
    if case is None:
        return _missing(None, warn, "增速比较")
    kind, a, b, d = case
    amount = f"{d.text()}个百分点" if d is not None else ""
    words = {
        "fall_to_growth": f"由下降{b.text()}%转为增长{a.text()}%",
        "growth_to_fall": f"由增长{b.text()}%转为下降{a.text()}%",
        "flat": "与上期持平",
        "flat_to_growth": f"由持平转为增长{a.text()}%", "flat_to_fall": f"由持平转为下降{a.text()}%",
        "growth_to_flat": f"由增长{b.text()}%转为持平", "fall_to_flat": f"由下降{b.text()}%转为持平",
        "growth_same": "增速持平", "fall_same": "降幅持平",
        "faster": "加快" + amount, "slower": "回落" + amount,
        "deeper": "降幅扩大" + amount, "shallower": "降幅收窄" + amount,
    }
    return words[kind]


def growth_case(now: Fig | Rate | None, before: Fig | Rate | None,
                diff: Fig | Rate | None = None) -> tuple[str, Rate, Rate, Rate | None] | None:
    """Which comparison of two growth rates it is, for the words of either language: a sign flip
    (``fall_to_growth`` …), a change from or to no growth (``flat_to_growth`` …), both flat
    (``flat``), the same pace (``growth_same``/``fall_same``), or ``faster``/``slower`` (both
    grow) and ``deeper``/``shallower`` (both fall); with the two rates and the difference (when
    it has a value). ``None`` when a rate is missing. The signs are those of the printed figures."""
    a, b = as_rate(now), as_rate(before)
    if a is None or b is None or a.value is None or b.value is None:
        return None
    sa, sb = _sign(a.value, a.display), _sign(b.value, b.display)
    d = as_rate(diff, "value") if diff is not None else None
    d = d if d is not None and d.value is not None else None
    if sa > 0 > sb:
        return "fall_to_growth", a, b, d
    if sa < 0 < sb:
        return "growth_to_fall", a, b, d
    if sa == 0 or sb == 0:
        if sa == sb:
            return "flat", a, b, d
        if sb == 0:
            return ("flat_to_growth" if sa > 0 else "flat_to_fall"), a, b, d
        return ("growth_to_flat" if sb > 0 else "fall_to_flat"), a, b, d
    if d is not None and _sign(d.value, d.display) == 0:
        return ("growth_same" if sa > 0 else "fall_same"), a, b, d
    faster = (a.value > b.value) if sa > 0 else (a.value < b.value)  # for declines: bigger fall
    if sa > 0:
        return ("faster" if faster else "slower"), a, b, d
    return ("deeper" if faster else "shallower"), a, b, d


def growth_rates(fig: Fig) -> tuple[Rate, Rate, Rate | None]:
    """A growth-rate indicator's rate now, the same period's last year and their difference (the
    result's change, when it has one): what ``accel`` compares, in either language."""
    now = Rate(fig.value, fig.display, fig, "value")
    before = Rate(fig.previous, fig.previous_display, fig, "previous")
    return now, before, Rate(fig.change, fig.change_display, fig, "change") if fig.change_display else None


def accel(fig: Fig | None, warn: Warn = None) -> str:
    """For a growth-rate indicator (unit %, change in 个百分点): how this period's growth compares
    with the same period of last year — ``加快2.1个百分点``, ``降幅收窄…``, ``由下降3.2%转为增长5.0%``."""
    if fig is None or fig.missing:
        return _missing(fig, warn)
    text = compare_growth(*growth_rates(fig), warn)
    if text == MISSING:
        return text
    base = "上年" if fig.annual else "上年同期"
    if text.startswith("由"):
        return f"由{base}的{text[1:]}" + flag(fig, "change")
    return (("与" + base + "持平") if text == "与上期持平" else compare_word(fig) + text) + flag(fig, "change")


def schedule(gap: Fig | None, warn: Warn = None) -> str:
    """Progress against time from a gap indicator (completion rate − share of the year elapsed, in
    percentage points): ``快于序时进度5.3个百分点`` / ``慢于…`` / ``与序时进度持平``."""
    if gap is None or gap.missing:
        return _missing(gap, warn)
    sign = _sign(gap.value, gap.display)
    if sign == 0:
        return "与序时进度持平" + flag(gap)
    return ("快于" if sign > 0 else "慢于") + "序时进度" + mark(gap, _digits(gap.display)) + "个百分点" + flag(gap)


# --------------------------------------------------------------------------- ranks, lists, targets
def rank(fig: Fig | None, scope: str = "全市", warn: Warn = None) -> str:
    """``居全市第2位`` (ranks are among siblings, 1 = best in the indicator's direction)."""
    if fig is None or fig.rank is None:  # no value, or nothing to rank among: the clause is left out
        if fig is None or fig.missing:
            _missing(fig, warn)
        return NO_BASE
    return f"居{scope}第{fig.rank}位"


def rank_move(fig: Fig | None) -> str:
    """``较上年前移2位`` / ``较上年后移1位`` / ``与上年持平`` (empty when last year's rank is unknown)."""
    if fig is None or fig.rank is None or fig.prev_rank is None:
        return ""
    moved = fig.prev_rank - fig.rank
    if moved == 0:
        return "位次与上年持平"
    return f"较上年{'前移' if moved > 0 else '后移'}{abs(moved)}位"


def join_names(names: Sequence[str] | Iterable[str], limit: int | None = None, noun: str = "个县",
               total: int | None = None) -> str:
    """Region lists: ``东山县、西河县`` ; beyond ``limit``: ``东山县、西河县等5个县``; when the list
    is every one of ``total`` regions: ``全部6个县`` (not three of them and 等6个)."""
    items = [n for n in names if n]
    if limit is not None and len(items) > limit:
        if total is not None and len(items) == total:
            return f"全部{len(items)}{noun}"
        return "、".join(items[:limit]) + f"等{len(items)}{noun}"
    return "、".join(items)


def _target_text(target: str) -> tuple[str, str]:
    """(comparison word, number) of a target condition like ``>=65``."""
    m = re.match(r"^\s*(>=|≥|<=|≤|>|<|=)?\s*(.+?)\s*$", target or "")
    if not m:
        return "", target
    return (m.group(1) or ">="), m.group(2)


def target(figs: Fig | Sequence[Fig], warn: Warn = None, limit: int | None = None, noun: str = "个县",
           show: bool = False) -> str:
    """Target status: ``均达到65%的目标`` / ``北川县未达到65%的目标（63.62%）``.

    For one Fig: ``达到65%的目标`` / ``未达到65%的目标`` (with ``show=True`` the value follows in
    brackets, for sentences that have not printed it yet). Targets "at most" read ``控制在0人以内``.
    Regions whose value is missing are named as 无数据 and warned about, never counted either way.
    """
    items = [figs] if isinstance(figs, Fig) else [f for f in figs if f is not None]
    if not items:
        return _missing(None, warn, "目标")
    if not items[0].target:  # no target (or an annual one before the year's end): the clause is left out
        return NO_BASE
    op, goal = _target_text(items[0].target)
    goal_text = f"{goal}{items[0].unit}"
    if op in ("<=", "≤") and _is_zero(goal):  # 辍学人数 <= 0: the field says 动态清零
        ok, no = "实现动态清零", "未实现动态清零"
    elif op in ("<=", "≤", "<"):
        ok, no = f"控制在{goal_text}以内", f"未控制在{goal_text}以内"
    else:
        ok, no = f"达到{goal_text}的目标", f"未达到{goal_text}的目标"
    if isinstance(figs, Fig):
        if figs.missing or figs.target_met is None:  # nothing to judge: warned, the clause left out
            _missing(figs, warn)
            return NO_BASE
        if figs.target_met:
            return ok
        return no + (f"（{level(figs)}）" if show else "")
    absent, failed = target_groups(items)
    for f in absent:
        _missing(f, warn)
    if not failed:
        text = "均" + ok
        if absent:
            text = f"{join_names([f.region_name for f in absent])}无数据，其余" + text
        return text
    if len(failed) == 1:
        return f"{failed[0].region_name}{no}（{level(failed[0])}）"
    every = len(failed) == len(items)  # 6个县（市、区）均未达到…, not 全部6个县（市、区）未达到…
    if limit is not None and len(failed) > limit:
        if every:
            return f"{len(items)}{noun}均{no}"
        return f"{join_names([f.region_name for f in failed], limit, noun)}{no}"
    names = join_names([f.region_name for f in failed])
    return f"{names}{'均' if every else ''}{no}（" + "、".join(f"{f.region_name}{level(f)}" for f in failed) + "）"


def _is_zero(number: str) -> bool:
    try:
        return Decimal(number) == 0
    except ArithmeticError:
        return False


def target_groups(items: Sequence[Fig]) -> tuple[list[Fig], list[Fig]]:
    """The regions of a target sentence that cannot be judged (no value, or no verdict) and those
    that missed it, for the words of either language; never counted either way when absent."""
    absent = [f for f in items if f.missing or f.target_met is None]
    failed = [f for f in items if f.target_met is False and not f.missing]
    return absent, failed


def share_text(fig: Fig | None, warn: Warn = None) -> str:
    """A share written as ``占61.4%``."""
    return "占" + level(fig, warn)


FILTERS: dict[str, Callable[..., Any]] = {
    "level": level, "num": num, "money": money, "money_exact": money_exact, "change": change,
    "level_change": level_change, "accel": accel, "schedule": schedule, "rank": rank, "rank_move": rank_move,
    "join_names": join_names, "target": target, "share": share_text, "name": lambda fig: fig.name,
}
#: Filters that take a ``warn`` callback (render.py binds it to the render's warning list).
WARNING_FILTERS = frozenset({"level", "num", "money", "money_exact", "change", "level_change",
                             "accel", "schedule", "rank", "target", "share"})
GLOBALS: dict[str, Callable[..., Any]] = {"hp": hp, "compare_growth": compare_growth,
                                          "compare_word": compare_word}
WARNING_GLOBALS = frozenset({"hp", "compare_growth"})
