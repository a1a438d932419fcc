"""The wording filters: every printed number is a display string (or a rank); words follow the
conventions of Chinese statistical writing (CONVENTIONS.md)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from revstat import textfmt as tf
from revstat.textfmt import Fig, Rate


def fig(value=None, display="", unit="元", change=None, change_display="", change_unit="%", period="2024Q4",
        name="农村居民人均可支配收入", region="东山县", code="990121000000", **kw) -> Fig:
    return Fig(indicator=kw.pop("indicator", "x"), name=name, unit=unit, region_code=code, region_name=region,
               period=period, value=None if value is None else D(value), display=display,
               change=None if change is None else D(change), change_display=change_display,
               change_unit=change_unit, **kw)


def plain(text: str) -> str:
    return tf.strip_marks(text)


def test_level_has_unit_and_no_thousands_separator():
    assert plain(tf.level(fig("14568.4", "14568"))) == "14568元"
    assert plain(tf.level(fig("10643", "10643", unit="件"))) == "10643件"
    assert plain(tf.level(fig("94.5974", "94.60", unit="%"))) == "94.60%"


def test_households_and_persons_are_written_together():
    h = fig("5241", "5241", unit="户")
    p = fig("21310", "21310", unit="人")
    assert plain(tf.hp(h, p)) == "5241户21310人"


def test_missing_is_a_dash_with_a_warning_never_zero():
    warnings: list[str] = []
    f = fig(None, "", note="东山县未报送")
    assert tf.level(f, warnings.append) == "—"
    assert warnings and "东山县未报送" in warnings[0]
    assert "0" not in tf.level(f)


def test_money_below_one_yi_is_the_display_in_wan():
    assert plain(tf.money(fig("9999.99", "9999.99", unit="万元"))) == "9999.99万元"


def test_money_at_and_above_one_yi_is_scaled_once_half_up():
    assert plain(tf.money(fig("10000", "10000.00", unit="万元"))) == "1.00亿元"
    # 2.945亿元 exactly: half-up gives 2.95 (half-even would give 2.94)
    assert plain(tf.money(fig("29450", "29450.00", unit="万元"))) == "2.95亿元"
    # rounded from the exact value, not from the rounded display (29449.996 → 2.94)
    assert plain(tf.money(fig("29449.996", "29450.00", unit="万元"))) == "2.94亿元"


def test_money_in_yuan_uses_the_same_rule():
    assert plain(tf.money(fig("295000000", "295000000", unit="元"))) == "2.95亿元"
    assert plain(tf.money(fig("1234500", "1234500", unit="元"))) == "123.45万元"


def test_money_exact_keeps_the_unit_of_the_results():
    assert plain(tf.money_exact(fig("102226.61", "102226.61", unit="万元"))) == "102226.61万元"


@pytest.mark.parametrize(("change", "shown", "words"), [
    ("9.46", "9.5", "增长9.5%"),
    ("-3.2", "-3.2", "下降3.2%"),
    ("0.04", "0.0", "持平"),       # rounds to zero: 持平, not 增长0.0%
    ("-0.049", "0.0", "持平"),     # a negative that rounds to zero has no sign either
    ("0", "0.0", "持平"),
])
def test_change_of_a_level(change, shown, words):
    assert plain(tf.change(fig("1", "1", change=change, change_display=shown))) == words


@pytest.mark.parametrize(("change", "shown", "words"), [
    ("2.111", "2.11", "提高2.11个百分点"),
    ("-0.5", "-0.50", "下降0.50个百分点"),
    ("0.001", "0.00", "持平"),
])
def test_change_of_a_rate_is_in_percentage_points(change, shown, words):
    f = fig("70", "70.00", unit="%", change=change, change_display=shown, change_unit="个百分点")
    assert plain(tf.change(f)) == words


def test_comparison_words_follow_the_period():
    q = fig("1", "1", change="9.5", change_display="9.5", period="2024Q3")
    y = fig("1", "1", change="9.5", change_display="9.5", period="2024")
    assert plain(tf.change(q, compare=True)) == "比上年同期增长9.5%"
    assert plain(tf.change(q, compare=True, style="同比")) == "同比增长9.5%"
    assert plain(tf.change(y, compare=True)) == "比上年增长9.5%"
    assert plain(tf.level_change(y)) == "1元，比上年增长9.5%"


def test_missing_change_is_a_clause_without_base_and_a_warning():
    warnings: list[str] = []
    assert tf.change(fig("1", "1"), warnings.append) == tf.NO_BASE
    assert plain(tf.change(fig("1", "1"))) == "—"  # shown alone (a table cell): the dash
    assert "无上年同期数" in warnings[0]
    # level_change without a base: the level, then the clause the renderer drops
    assert plain(tf.resolve_clauses(tf.level_change(fig("4238", "4238")))) == "4238元"


@pytest.mark.parametrize(("text", "resolved"), [
    # a comparison after a comma is left out with the comma
    ("风险消除率（按户计）为65.57%，{c}；尚未消除", "风险消除率（按户计）为65.57%；尚未消除"),
    ("补助资金5.60亿元，{c}，其中用于产业发展", "补助资金5.60亿元，其中用于产业发展"),
    ("农村居民人均可支配收入4238元，{c}。", "农村居民人均可支配收入4238元。"),
    ("（{c}）、", "、"),  # in brackets: brackets and clause go
    ("东山县4340元（{c}）、北川县4313元（{c}）。", "东山县4340元、北川县4313元。"),
    ("。{c}，其中", "。其中"),  # opening a sentence: the comma after it goes
    ("| 东山县 | 4340 | {c} |", "| 东山县 | 4340 | — |"),  # table cells keep the dash
    ("  | 东山县 | 4340元，{c} |", "  | 东山县 | 4340元，— |"),
    ("变化：{c}", "变化：—"),  # nothing around it to drop: the dash
    ("无变化字句的文本，—。", "无变化字句的文本，—。"),  # a plain dash (a missing level) is kept
])
def test_clauses_without_base_leave_running_text_and_stay_in_tables(text, resolved):
    assert tf.resolve_clauses(text.format(c=tf.NO_BASE)) == resolved


@pytest.mark.parametrize(("now", "before", "diff", "words"), [
    (("9.5", "9.5"), ("7.4", "7.4"), ("2.1", "2.1"), "加快2.1个百分点"),
    (("5.0", "5.0"), ("7.4", "7.4"), ("-2.4", "-2.4"), "回落2.4个百分点"),
    (("-2.0", "-2.0"), ("-5.0", "-5.0"), ("3.0", "3.0"), "降幅收窄3.0个百分点"),
    (("-5.0", "-5.0"), ("-2.0", "-2.0"), ("-3.0", "-3.0"), "降幅扩大3.0个百分点"),
    (("5.0", "5.0"), ("-3.2", "-3.2"), ("8.2", "8.2"), "由下降3.2%转为增长5.0%"),
    (("-1.5", "-1.5"), ("4.0", "4.0"), ("-5.5", "-5.5"), "由增长4.0%转为下降1.5%"),
    (("9.5", "9.5"), ("7.4", "7.4"), None, "加快"),
])
def test_comparing_two_growth_rates(now, before, diff, words):
    d = Rate(D(diff[0]), diff[1]) if diff else None
    text = tf.compare_growth(Rate(D(now[0]), now[1]), Rate(D(before[0]), before[1]), d)
    assert plain(text) == words


def test_accel_of_a_growth_indicator_uses_its_previous_display():
    g = fig("5.0", "5.0", unit="%", change="8.2", change_display="8.2", change_unit="个百分点",
            previous=D("-3.2"), previous_display="-3.2")
    assert plain(tf.accel(g)) == "由上年同期的下降3.2%转为增长5.0%"
    g2 = fig("9.5", "9.5", unit="%", change="2.1", change_display="2.1", change_unit="个百分点",
             previous=D("7.4"), previous_display="7.4", period="2024")
    assert plain(tf.accel(g2)) == "比上年加快2.1个百分点"


@pytest.mark.parametrize(("value", "shown", "words"), [
    ("5.3", "5.30", "快于序时进度5.30个百分点"),
    ("-4.914", "-4.91", "慢于序时进度4.91个百分点"),
    ("0.004", "0.00", "与序时进度持平"),
])
def test_progress_against_time(value, shown, words):
    assert plain(tf.schedule(fig(value, shown, unit="个百分点"))) == words


def test_ranks_and_moves():
    f = fig("1", "1", rank=2, rank_of=6, prev_rank=4)
    assert tf.rank(f) == "居全市第2位"
    assert tf.rank(f, "全省") == "居全省第2位"
    assert tf.rank_move(f) == "较上年前移2位"
    assert tf.rank_move(fig("1", "1", rank=3, prev_rank=2)) == "较上年后移1位"
    assert tf.rank_move(fig("1", "1", rank=3, prev_rank=3)) == "位次与上年持平"
    assert tf.rank_move(fig("1", "1", rank=3)) == ""


def test_region_lists():
    assert tf.join_names(["东山县", "西河县"]) == "东山县、西河县"
    names = ["青山区", "东山县", "西河县", "南岭县", "北川县"]
    assert tf.join_names(names, limit=2) == "青山区、东山县等5个县"
    assert tf.join_names(names, limit=5) == "青山区、东山县、西河县、南岭县、北川县"
    assert tf.join_names(names, limit=3, noun="个乡镇") == "青山区、东山县、西河县等5个乡镇"
    assert tf.join_names(names, limit=2, total=5) == "全部5个县"  # every one of them: not "two of them 等5个"
    assert tf.join_names(names, limit=2, total=6) == "青山区、东山县等5个县"


def rate(region, value, shown, met, tgt=">= 65"):
    return fig(value, shown, unit="%", region=region, target=tgt, target_met=met, name="农村卫生厕所普及率")


def test_targets_all_met_or_named_with_their_values():
    ok = [rate("东山县", "80", "80.00", True), rate("西河县", "70", "70.00", True)]
    assert tf.target(ok) == "均达到65%的目标"
    one = [*ok, rate("北川县", "61.444", "61.44", False)]
    assert plain(tf.target(one)) == "北川县未达到65%的目标（61.44%）"
    two = [*one, rate("南岭县", "64.1", "64.10", False)]
    assert plain(tf.target(two)) == "北川县、南岭县未达到65%的目标（北川县61.44%、南岭县64.10%）"
    assert plain(tf.target(two, limit=1)) == "北川县等2个县未达到65%的目标"


def test_target_of_one_region_and_an_upper_bound():
    assert tf.target(rate("北川县", "61.444", "61.44", False)) == "未达到65%的目标"
    assert plain(tf.target(rate("北川县", "61.444", "61.44", False), show=True)) == "未达到65%的目标（61.44%）"
    zero = fig("0", "0", unit="人", target="<= 0", target_met=True)
    assert tf.target([zero]) == "均实现动态清零"  # a ceiling of 0 (辍学人数): the field's words
    one = fig("1", "1", unit="人", region="南岭县", target="<= 0", target_met=False)
    assert plain(tf.target([zero, one])) == "南岭县未实现动态清零（1人）"
    assert tf.target([fig("3", "3", unit="人", target="<= 5", target_met=True)]) == "均控制在5人以内"


def test_a_missing_region_is_not_counted_for_a_target():
    warnings: list[str] = []
    items = [rate("东山县", "80", "80.00", True), rate("西河县", None, "", None)]
    assert tf.target(items, warnings.append) == "西河县无数据，其余均达到65%的目标"
    assert warnings


def test_marks_carry_the_figure_key_and_strip_cleanly():
    f = fig("14568", "14568", indicator="rural_income")
    text = "收入" + tf.level(f)
    [(key, shown)] = list(tf.iter_marks(text))
    assert tf.split_key(key) == ["rural_income", "990121000000", "2024Q4", "value"] and shown == "14568"
    assert tf.strip_marks(text) == "收入14568元"


def test_every_region_missing_its_target_is_all_of_them_not_three_and_the_rest():
    missed = [fig("90", "90.00", unit="%", region=f"县{i}", target=">=100", target_met=False) for i in range(6)]
    assert plain(tf.target(missed, limit=3, noun="个县（市、区）")) == "6个县（市、区）均未达到100%的目标"
    assert plain(tf.target(missed[:2])) == "县0、县1均未达到100%的目标（县090.00%、县190.00%）"
    assert plain(tf.target(missed[:4] + [fig("100", "100.00", unit="%", target=">=100", target_met=True)],
                           limit=3, noun="个县（市、区）")) == "县0、县1、县2等4个县（市、区）未达到100%的目标"
