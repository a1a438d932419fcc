"""The formula language: whitelist parsing with located errors, vectorised exact evaluation."""

from __future__ import annotations

from decimal import Decimal as D

import pandas as pd
import pytest

from revstat.errors import DefinitionError
from revstat.formula import (
    Bin,
    BoolOp,
    Call,
    Compare,
    Name,
    Num,
    Str,
    evaluate,
    parse_formula,
    to_text,
)
from revstat.model import Location

WHERE = Location("indicators/x.yaml", line=12)


def series(values: dict[str, object]) -> pd.Series:
    return pd.Series({k: (None if v is None else D(str(v))) for k, v in values.items()}, dtype=object)


def lookup_of(data: dict[tuple[str, tuple[str, ...]], dict[str, object]]):
    def lookup(name: str, shift: tuple[str, ...]):
        got = data.get((name, shift))
        return None if got is None else series(got)
    return lookup


def run(text: str, data, period: str = "2024Q4"):
    values, reasons = evaluate(parse_formula(text, WHERE), lookup_of(data), period=period)
    return values.to_dict(), reasons.to_dict()


# ---- parsing -------------------------------------------------------------------------------

def test_tree_of_a_ratio_and_names():
    f = parse_formula("sanitary_toilet_households / rural_households * 100", WHERE)
    assert f.tree == Bin("*", Bin("/", Name("sanitary_toilet_households"), Name("rural_households")), Num(D(100)))
    assert f.names == {"sanitary_toilet_households", "rural_households"}
    num, den, scale = f.ratio
    assert (num, den, scale) == (Name("sanitary_toilet_households"), Name("rural_households"), D(100))


def test_where_condition_tree_for_sql_translation():
    f = parse_formula('monitor_type == "脱贫不稳定户" and persons >= 3')
    assert f.tree == BoolOp("and", (Compare(Name("monitor_type"), ("==",), (Str("脱贫不稳定户"),)),
                                    Compare(Name("persons"), (">=",), (Num(D(3)),))))
    assert f.names == {"monitor_type", "persons"}


def test_calls_are_recorded_and_numbers_are_exact():
    f = parse_formula("growth(a) - 0.1 * elapsed(period)")
    assert f.calls == {"growth", "elapsed"}
    assert f.names == {"a"}  # elapsed(period): the argument names the period, not a field
    assert Num(D("0.1")) in [f.tree.right.left]
    assert isinstance(f.tree.left, Call)


def test_to_text_round_trips():
    f = parse_formula("(a + b) / c * 100")
    assert to_text(f.tree) == "((a + b) / c) * 100"
    assert parse_formula(to_text(f.tree)).tree == f.tree


@pytest.mark.parametrize("text, words", [
    ("a.b", "属性访问"),
    ("a[1]", "下标"),
    ("(lambda: 1)()", "只能调用内置函数"),
    ("[x for x in a]", "推导式"),
    ("a ** 2", "只能用 + - * /"),
    ("open('x')", "未知的函数 open"),
    ("__import__('os')", "未知的函数"),
    ("growht(a)", "growth"),  # did-you-mean
    ("growth(a, b)", "需要 1 个参数"),
    ("min(a)", "需要 2+ 个参数"),
    ("max(a, key=b)", "关键字参数"),
    ("a if b else c", "条件表达式"),
    ("a in b", "in / is"),
    ("a + ", "语法错误"),
    ("", "公式是空的"),
])
def test_bad_formulas_are_located_errors(text, words):
    with pytest.raises(DefinitionError) as info:
        parse_formula(text, WHERE)
    err = info.value
    assert words in str(err)
    if text:
        assert err.where.file == "indicators/x.yaml" and err.where.line == 12
        assert err.where.column is None  # a column of the YAML line would not be the formula's
        assert "公式第" in str(err) and "个字符" in str(err)


def test_column_points_at_the_bad_construct():
    with pytest.raises(DefinitionError) as info:
        parse_formula("a + b.c", WHERE)
    assert "（公式第5个字符，“b.c”处）" in str(info.value)


@pytest.mark.parametrize("text, zh", [
    ("a / (b * 100", "左括号“(”没有对应的右括号（公式第5个字符，“(b * 100”处）"),
    ("a / b)", "多余的右括号“)”（公式第6个字符，“)”处）"),
    ("a +", "写法有误（缺少或多了运算符、名称或括号）（公式第4个字符，结尾处）"),
    ("a = b", "“=”不能用于公式；比较相等请用“==”（公式第3个字符，“= b”处）"),
    ("1x + a", "数字写法有误"),
    ("a ＠ b", "不能用的字符“＠”（运算只用 + - * /，括号用半角 ()）"),
])
def test_syntax_errors_are_explained_in_chinese_with_the_place_in_the_formula(text, zh):
    with pytest.raises(DefinitionError) as info:
        parse_formula(text, WHERE)
    assert f"公式语法错误：{zh}" in str(info.value)
    assert "was never closed" not in str(info.value) and info.value.where.line == 12


def test_full_width_brackets_are_accepted():
    assert parse_formula("（a + b）/ c").names == {"a", "b", "c"}
    assert parse_formula("a ＋ b ／ c ＊ 100").names == {"a", "b", "c"}  # an input method's operators too


# ---- evaluation ----------------------------------------------------------------------------

def test_ratio_division_by_zero_and_missing_with_reasons():
    values, reasons = run("a / b * 100", {("a", ()): {"x": 1, "y": 2, "z": None}, ("b", ()): {"x": 4, "y": 0, "z": 3}})
    assert values == {"x": D("25"), "y": None, "z": None}
    assert reasons["x"] is None and reasons["y"] == "分母为0" and reasons["z"] == "缺少a数据"


def test_growth_pp_and_missing_or_zero_base():
    data = {("a", ()): {"x": 110, "y": 5, "z": 7}, ("a", ("prev_year",)): {"x": 100, "y": 0}}
    values, reasons = run("growth(a)", data)
    assert values == {"x": D(10), "y": None, "z": None}
    assert reasons["y"] == "上年同期为0"
    assert reasons["z"] == "缺少2023Q4数据"
    values, _ = run("pp(a)", data)
    assert values == {"x": D(10), "y": D(5), "z": None}


def test_growth_is_exact_decimal():
    values, _ = run("growth(a)", {("a", ()): {"x": "10068"}, ("a", ("prev_year",)): {"x": "9300"}})
    # (10068 / 9300 - 1) * 100 = 768/93 = 8.258064516...
    assert abs(values["x"] - D(768) / D(93)) < D("1e-25")


def test_prev_period_ytd_and_quarterly():
    data = {("q", ()): {"x": 40}, ("q", ("prev_period",)): {"x": 30},
            ("q", ("prev_period", "prev_period")): {"x": 20}}
    assert run("ytd(q)", data, period="2024Q3")[0] == {"x": D(90)}
    assert run("quarterly(q)", data, period="2024Q3")[0] == {"x": D(10)}
    assert run("quarterly(q)", data, period="2024Q1")[0] == {"x": D(40)}
    assert run("prev_period(q)", data, period="2024Q3")[0] == {"x": D(30)}


def test_ytd_of_a_cumulative_field_is_the_field_itself():
    data = {("c", ()): {"x": 90}, ("c", ("prev_period",)): {"x": 50}, ("c", ("prev_period", "prev_period")): {"x": 20}}
    values, _ = evaluate(parse_formula("ytd(c)"), lookup_of(data), period="2024Q3", temporal={"c": "cumulative"})
    assert values.to_dict() == {"x": D(90)}  # 1—9月 already; not 90 + 50 + 20
    values, _ = evaluate(parse_formula("ytd(c)"), lookup_of(data), period="2024Q3", temporal={"c": "period"})
    assert values.to_dict() == {"x": D(160)}


def test_ytd_reports_the_missing_quarter():
    values, reasons = run("ytd(q)", {("q", ()): {"x": 40}, ("q", ("prev_period",)): {"x": 30}}, period="2024Q3")
    assert values == {"x": None}
    assert reasons["x"] == "缺少2024Q1数据"


def test_elapsed_progress_against_time():
    values, _ = run("s / p * 100 - elapsed()", {("s", ()): {"x": 60}, ("p", ()): {"x": 100}}, period="2024Q3")
    assert values == {"x": D(-15)}


def test_comparisons_and_three_valued_logic():
    data = {("a", ()): {"x": 1, "y": 5, "z": None}, ("b", ()): {"x": 2, "y": 2, "z": 9}}
    assert run("a <= b", data)[0] == {"x": True, "y": False, "z": None}
    assert run("0 < a < b", data)[0] == {"x": True, "y": False, "z": None}
    # missing and True → missing; missing or True → True; False and missing → False
    assert run("a < b and b > 5", data)[0] == {"x": False, "y": False, "z": None}
    assert run("a > b and a < b", data)[0] == {"x": False, "y": False, "z": None}
    assert run("b > 5 and a > 0", data)[0] == {"x": False, "y": False, "z": None}
    assert run("b < 5 and a > 0", data)[0] == {"x": True, "y": True, "z": False}
    assert run("b > 5 and a > 0", {("a", ()): {"z": None}, ("b", ()): {"z": 1}})[0] == {"z": False}
    assert run("a < b or b > 5", data)[0] == {"x": True, "y": False, "z": True}
    assert run("not a < b", data)[0] == {"x": False, "y": True, "z": None}


def test_functions_abs_min_max_if_missing():
    data = {("a", ()): {"x": -3, "y": None}, ("b", ()): {"x": 2, "y": 1}}
    assert run("abs(a)", data)[0] == {"x": D(3), "y": None}
    assert run("min(a, b, 0)", data)[0] == {"x": D(-3), "y": None}
    assert run("max(a, b)", data)[0] == {"x": D(2), "y": None}
    values, reasons = run("if_missing(a, 0) + b", data)
    assert values == {"x": D(-1), "y": D(1)}
    assert reasons == {"x": None, "y": None}


def test_missing_is_never_zero_and_never_inf():
    values, _ = run("a / b", {("a", ()): {"x": 0, "y": None}, ("b", ()): {"x": 0, "y": 0}})
    assert values == {"x": None, "y": None}
    assert all(v is None or v.is_finite() for v in values.values())


def test_unknown_name_gives_all_missing_with_label():
    values, reasons = evaluate(parse_formula("a + b"), lookup_of({("a", ()): {"x": 1}}), period="2024Q4",
                               labels={"b": "卫生厕所户数"})
    assert values.to_dict() == {"x": None}
    assert reasons.to_dict() == {"x": "缺少卫生厕所户数数据"}


def test_the_signs_a_statistician_types_are_read_as_their_formula_spelling():
    assert parse_formula("a × 100 ÷ b").tree == parse_formula("a * 100 / b").tree
    for typed, plain in (("a ≤ b", "a <= b"), ("a ≥ b", "a >= b"), ("a ≠ b", "a != b")):
        assert parse_formula(typed).tree == parse_formula(plain).tree


@pytest.mark.parametrize(("text", "zh", "en"), [
    ("monitor_type == '脱贫不稳定户", "引号没有配对", "a quote is not closed"),
    ("monitor_type = '脱贫不稳定户'", "比较相等请用“==”", "compare with “==”"),
    ("(a + b", "左括号“(”没有对应的右括号", "the bracket “(” is never closed"),
])
def test_syntax_errors_are_explained_in_both_languages(text, zh, en):
    # under --lang en the message was Python's own: "unterminated string literal (detected at line 1)"
    with pytest.raises(DefinitionError) as info:
        parse_formula(text)
    assert zh in info.value.what.render("zh")
    assert en in info.value.what.render("en")
    assert "detected at line" not in info.value.what.render("en")
