"""The wording of the English report drafts (``--lang en``, or ``locale: en`` in revstat.yaml):
the same filters as :mod:`revstat.textfmt`, by the same names, in English.

The rules are the Chinese ones: every number is a result's display string (rounded once, half-up,
by the engine) or a rank; the words look at the exact value's sign and print the display. Money
is the one rule that rounds: ≥ 100万元 (1 million yuan) is printed in million yuan with two
decimals, rounded once from the exact value. Incomplete figures carry the same “＊”
(:func:`revstat.textfmt.flag`), and a change without a base is the same dropped clause
(:data:`revstat.textfmt.NO_BASE`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from revstat.i18n import unit_text
from revstat.numbers import format_fixed
from revstat.textfmt import (
    MISSING,
    NO_BASE,
    Fig,
    Rate,
    Warn,
    _digits,
    _sign,
    _target_text,
    flag,
    growth_case,
    growth_rates,
    mark,
    target_groups,
)

MILLION = Decimal(100)  # 1 million yuan = 100万元


def name(fig: Fig) -> str:
    """An indicator's English name (its Chinese name when it has none)."""
    return fig.name_en or fig.name


def _unit(unit: str, one: bool = False) -> str:
    """The English unit after a number (``%`` attached, words after a space); ``one``: the number
    is 1, so ``1 person``, ``1 household``."""
    text = unit_text(unit, "en")
    if one and text in _PLURALS:
        text = _PLURALS[text]
    return text if text in ("%", "‰", "") else f" {text}"


_PLURALS = {"persons": "person", "households": "household", "projects": "project", "entities": "entity",
            "person-times": "person-time", "days": "day", "years": "year", "times": "time"}


def _missing(fig: Fig | None, warn: Warn, what: str = "") -> str:
    if warn is not None and not (fig is not None and fig.extra.get("absent")):
        if fig is None:
            warn(f"missing value: {what}" if what else "missing value")
        else:
            warn(f"{fig.region_name} {name(fig)} ({fig.period}) is missing: {fig.note or 'no data'}")
    return MISSING


# --------------------------------------------------------------------------- levels
def level(fig: Fig | None, warn: Warn = None, unit: bool = True) -> str:
    """``14568 yuan``, ``89.41%``, ``10643 households``."""
    if fig is None or fig.missing:
        return _missing(fig, warn)
    return mark(fig, fig.display) + (_unit(fig.unit, fig.display.lstrip("-") == "1") if unit else "") + flag(fig)


def num(fig: Fig | None, warn: Warn = None) -> str:
    return level(fig, warn, unit=False)


def hp(households: Fig | None, persons: Fig | None, warn: Warn = None) -> str:
    """``5241 households (21310 persons)``."""
    return f"{level(households, warn)} ({level(persons, warn)})"


def money(fig: Fig | None, warn: Warn = None) -> str:
    """Money in million yuan (two decimals, rounded once from the exact value) from 1 million yuan
    up; below it the display in yuan (22.24万元 → 222400 yuan, the precision the figure declares)."""
    if fig is None or fig.missing:
        return _missing(fig, warn)
    value = fig.value if fig.value is not None else Decimal(0)
    if fig.unit == "元":
        value = value / 10000
    elif fig.unit != "万元":
        return level(fig, warn)
    if abs(value) >= MILLION:
        return mark(fig, format_fixed(value / MILLION, 2), "million") + " million yuan" + flag(fig)
    if fig.unit == "元":
        return level(fig, warn)
    # the 万元 display in yuan (22.24万元 → 222400 yuan): no more precision than the figure declares
    return mark(fig, format_fixed(Decimal(fig.display) * 10000, 0), "yuan") + " yuan" + flag(fig)


def money_exact(fig: Fig | None, warn: Warn = None) -> str:
    return level(fig, warn)


# --------------------------------------------------------------------------- changes
def compare_word(period: str | Fig, style: str = "") -> str:
    """``from last year`` for annual figures, ``year on year`` for quarters and months."""
    annual = period.annual if isinstance(period, Fig) else ("Q" not in period and "M" not in period)
    return "from last year" if annual else "year on year"


def change(fig: Fig | None, warn: Warn = None, compare: bool = False, style: str = "") -> str:
    """``up 9.5%`` / ``down 3.2%`` / ``unchanged``; rates: ``up 2.11 percentage points``.
    ``compare=True`` adds ``year on year`` (``from last year`` for annual figures)."""
    if fig is None or fig.change is None or not fig.change_display:
        if fig is None:
            return _missing(fig, warn)
        if warn is not None and not fig.extra.get("absent"):
            warn(f"{fig.region_name} {name(fig)} ({fig.period}) has no figure for the same period last year")
        return NO_BASE
    suffix = " " + compare_word(fig) if compare else ""
    sign = _sign(fig.change, fig.change_display)
    if sign == 0:
        return "unchanged" + suffix + flag(fig, "change")
    text = mark(fig, _digits(fig.change_display), "change")
    word = "up" if sign > 0 else "down"
    if fig.change_unit == "个百分点" or (not fig.change_unit and fig.is_rate):
        return f"{word} {text} percentage points{suffix}" + flag(fig, "change")
    return f"{word} {text}%{suffix}" + flag(fig, "change")


def level_change(fig: Fig | None, warn: Warn = None, style: str = "") -> str:
    """``14568 yuan, up 9.5% year on year``; without a base, ``14568 yuan`` in running text."""
    return f"{level(fig, warn)}, {change(fig, warn, compare=True)}"


def compare_growth(now: Fig | Rate | None, before: Fig | Rate | None, diff: Fig | Rate | None = None,
                   warn: Warn = None) -> str:
    """Two growth rates compared: ``1.2 percentage points faster`` / ``slower``; for falls
    ``a fall 0.8 percentage points deeper`` / ``shallower``; a sign flip: ``from a fall of 3.2% to
    growth of 5.0%``."""
    case = growth_case(now, before, diff)
    if case is None:
        return _missing(None, warn, "growth comparison")
    kind, a, b, d = case
    amount = f"{d.text()} percentage points " if d is not None else ""
    words = {
        "fall_to_growth": f"from a fall of {b.text()}% to growth of {a.text()}%",
        "growth_to_fall": f"from growth of {b.text()}% to a fall of {a.text()}%",
        "flat": "unchanged",
        "flat_to_growth": f"from no change to growth of {a.text()}%",
        "flat_to_fall": f"from no change to a fall of {a.text()}%",
        "growth_to_flat": f"from growth of {b.text()}% to no change",
        "fall_to_flat": f"from a fall of {b.text()}% to no change",
        "growth_same": "growth at the same pace", "fall_same": "a fall at the same pace",
        "faster": f"growth {amount}faster", "slower": f"growth {amount}slower",
        "deeper": f"a fall {amount}deeper", "shallower": f"a fall {amount}shallower",
    }
    return words[kind]


def accel(fig: Fig | None, warn: Warn = None) -> str:
    """A growth-rate indicator against the same period of last year: ``growth 2.1 percentage
    points faster than a year earlier``, ``from a fall of 3.2% to growth of 5.0% …``."""
    if fig is None or fig.missing:
        return _missing(fig, warn)
    text = compare_growth(*growth_rates(fig), warn)
    if text == MISSING:
        return text
    return f"{text} than {'last year' if fig.annual else 'a year earlier'}" + flag(fig, "change")


def schedule(gap: Fig | None, warn: Warn = None) -> str:
    """``5.3 percentage points ahead of schedule`` / ``behind schedule`` / ``on schedule``."""
    if gap is None or gap.missing:
        return _missing(gap, warn)
    sign = _sign(gap.value, gap.display)
    if sign == 0:
        return "on schedule" + flag(gap)
    return (f"{mark(gap, _digits(gap.display))} percentage points {'ahead of' if sign > 0 else 'behind'} schedule"
            + flag(gap))


# --------------------------------------------------------------------------- ranks, lists, targets
def _ordinal(n: int) -> str:
    tail = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{tail}"


def rank(fig: Fig | None, scope: str = "", warn: Warn = None) -> str:
    """``ranking 2nd of 6`` (among siblings, 1 = best in the indicator's direction)."""
    if fig is None or fig.rank is None:  # no value, or nothing to rank among: the clause is left out
        if fig is None or fig.missing:
            _missing(fig, warn)
        return NO_BASE
    return f"ranking {_ordinal(fig.rank)} of {fig.rank_of}" if fig.rank_of else f"ranking {_ordinal(fig.rank)}"


def rank_move(fig: Fig | None) -> str:
    """``up 2 places from last year`` / ``down 1 place`` / ``the same place as last year``."""
    if fig is None or fig.rank is None or fig.prev_rank is None:
        return ""
    moved = fig.prev_rank - fig.rank
    if moved == 0:
        return "the same place as last year"
    places = "place" if abs(moved) == 1 else "places"
    return f"{'up' if moved > 0 else 'down'} {abs(moved)} {places} from last year"


def join_names(names: Sequence[str] | Iterable[str], limit: int | None = None, noun: str = "counties",
               total: int | None = None) -> str:
    """``A, B and C``; beyond ``limit``: ``A, B and 3 other counties``; every one of ``total``:
    ``all 6 counties``."""
    items = [n for n in names if n]
    if limit is not None and len(items) > limit:
        if total is not None and len(items) == total:
            return f"all {len(items)} {noun}"
        return ", ".join(items[:limit]) + f" and {len(items) - limit} other {noun}"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def target(figs: Fig | Sequence[Fig], warn: Warn = None, limit: int | None = None, noun: str = "counties",
           show: bool = False) -> str:
    """``all counties meeting the 65% target`` / ``北川县 short of the 65% target (63.62%)``;
    targets "at most": ``within the ceiling of 0 persons`` / ``above the ceiling of …``."""
    items = [figs] if isinstance(figs, Fig) else [f for f in figs if f is not None]
    if not items:
        return _missing(None, warn, "target")
    if not items[0].target:  # no target (or an annual one before the year's end): the clause is left out
        return NO_BASE
    op, goal = _target_text(items[0].target)
    goal_text = f"{goal}{_unit(items[0].unit, goal.lstrip('-') == '1')}"
    within = op in ("<=", "≤", "<")
    if isinstance(figs, Fig):
        if figs.missing or figs.target_met is None:  # nothing to judge: warned, the clause left out
            _missing(figs, warn)
            return NO_BASE
        if figs.target_met:
            return f"within the ceiling of {goal_text}" if within else f"meeting the {goal_text} target"
        text = f"above the ceiling of {goal_text}" if within else f"short of the {goal_text} target"
        return text + (f" ({level(figs)})" if show else "")
    absent, failed = target_groups(items)
    for f in absent:
        _missing(f, warn)
    if not failed:
        text = f"within the ceiling of {goal_text}" if within else f"meeting the {goal_text} target"
        if absent:
            return f"{join_names([f.region_name for f in absent])} without data, the other {noun} {text}"
        return f"all {noun} {text}"
    miss = f"above the ceiling of {goal_text}" if within else f"short of the {goal_text} target"
    if len(failed) == 1:
        return f"{failed[0].region_name} {miss} ({level(failed[0])})"
    names = join_names([f.region_name for f in failed], limit, noun, total=len(items))
    if limit is not None and len(failed) > limit:
        return f"{names} {miss}"
    return f"{names} {miss} (" + ", ".join(f"{f.region_name} {level(f)}" for f in failed) + ")"


def share_text(fig: Fig | None, warn: Warn = None) -> str:
    """A share: ``a share of 61.4%``."""
    return "a share of " + level(fig, warn)


FILTERS: dict[str, Callable[..., Any]] = {
    "level": level, "num": num, "money": money, "money_exact": money_exact, "change": change,
    "level_change": level_change, "accel": accel, "schedule": schedule, "rank": rank, "rank_move": rank_move,
    "join_names": join_names, "target": target, "share": share_text, "name": name,
}
GLOBALS: dict[str, Callable[..., Any]] = {"hp": hp, "compare_growth": compare_growth,
                                          "compare_word": compare_word}
