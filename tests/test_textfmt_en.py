"""The English report filters (textfmt_en): the same rules as the Chinese ones — display strings
only, words chosen by the exact value's sign, money rounded once — in English words."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from revstat import textfmt_en as en
from revstat.textfmt import Fig, strip_marks


def fig(value=None, display="", unit="元", change=None, change_display="", change_unit="%", period="2024Q4",
        **kw) -> Fig:
    return Fig(indicator="x", name="某指标", unit=unit, region_code="990121000000", region_name="东山县",
               period=period, value=None if value is None else D(value), display=display,
               change=None if change is None else D(change), change_display=change_display,
               change_unit=change_unit, **kw)


def test_levels_carry_english_units():
    assert strip_marks(en.level(fig("14568.4", "14568"))) == "14568 yuan"
    assert strip_marks(en.level(fig("89.4149", "89.41", unit="%"))) == "89.41%"
    assert strip_marks(en.hp(fig("5241", "5241", unit="户"), fig("21310", "21310", unit="人"))) == \
        "5241 households (21310 persons)"


def test_money_is_million_yuan_from_one_million_and_whole_yuan_below_rounded_once():
    # 102226.615万元 = 1022.26615 million yuan → 1022.27 (half-up, once, from the exact value)
    assert strip_marks(en.money(fig("102226.615", "102226.62", unit="万元"))) == "1022.27 million yuan"
    # below 1 million: the display in yuan, 22.24万元 → 222400 (the Chinese draft's 22.24万元, not 222359)
    assert strip_marks(en.money(fig("22.23585", "22.24", unit="万元"))) == "222400 yuan"


@pytest.mark.parametrize(("change", "shown", "unit", "words"), [
    ("9.54", "9.5", "%", "up 9.5% year on year"),
    ("-3.2", "-3.2", "%", "down 3.2% year on year"),
    ("0.04", "0.0", "%", "unchanged year on year"),  # the printed figure decides
    ("2.111", "2.11", "个百分点", "up 2.11 percentage points year on year"),
])
def test_changes_in_words(change, shown, unit, words):
    f = fig("10", "10", change=change, change_display=shown, change_unit=unit)
    assert strip_marks(en.change(f, compare=True)) == words
    annual = fig("10", "10", change=change, change_display=shown, change_unit=unit, period="2024")
    assert strip_marks(en.change(annual, compare=True)) == words.replace("year on year", "from last year")


def test_growth_comparisons_and_schedule():
    assert en.compare_growth(en.Rate(D("5.0"), "5.0"), en.Rate(D("-3.2"), "-3.2")) == "from a fall of 3.2% to growth of 5.0%"
    assert en.compare_growth(en.Rate(D("8.6"), "8.6"), en.Rate(D("7.5"), "7.5"), en.Rate(D("1.1"), "1.1")) == \
        "growth 1.1 percentage points faster"
    assert en.compare_growth(en.Rate(D("-2"), "-2.0"), en.Rate(D("-5"), "-5.0"), en.Rate(D("3"), "3.0")) == \
        "a fall 3.0 percentage points shallower"
    assert strip_marks(en.schedule(fig("-4.91", "-4.91", unit="个百分点"))) == "4.91 percentage points behind schedule"


def test_ranks_lists_and_targets():
    assert en.rank(fig("1", "1", rank=2, rank_of=6)) == "ranking 2nd of 6"
    assert en.rank(fig("1", "1", rank=11, rank_of=12)) == "ranking 11th of 12"
    assert en.rank_move(fig("1", "1", rank=6, prev_rank=2)) == "down 4 places from last year"
    assert en.join_names(["东山县", "西河县", "北川县"]) == "东山县, 西河县 and 北川县"
    assert en.join_names(["a", "b", "c", "d"], limit=2) == "a, b and 2 other counties"
    assert en.join_names(["a", "b", "c"], limit=2, total=3) == "all 3 counties"
    good = fig("66", "66.00", unit="%", target=">=65", target_met=True)
    bad = fig("63.617", "63.62", unit="%", target=">=65", target_met=False)
    assert en.target(good) == "meeting the 65% target"
    assert strip_marks(en.target([good, bad])) == "东山县 short of the 65% target (63.62%)"
    assert en.target([good, good]) == "all counties meeting the 65% target"


def test_one_is_singular_a_ceiling_is_said_as_one_and_all_missed_is_all():
    one = fig("1", "1", unit="人", target="<=0", target_met=False)
    assert strip_marks(en.level(one)) == "1 person"
    assert strip_marks(en.target(one, show=True)) == "above the ceiling of 0 persons (1 person)"
    zero = fig("0", "0", unit="人", target="<=0", target_met=True)
    assert en.target([zero, zero]) == "all counties within the ceiling of 0 persons"
    missed = [replace(fig("90", "90.00", unit="%", target=">=100", target_met=False), region_name=f"县{i}")
              for i in range(6)]
    assert strip_marks(en.target(missed, limit=3)) == "all 6 counties short of the 100% target"
