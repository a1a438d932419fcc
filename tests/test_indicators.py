"""Indicators at every level, hand-computed: ratios of sums, weighted means, growth, pp,
missing bases, division by zero, rounding; and loading definitions with located errors."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest
from conftest import A1, A2, B1, B2, CITY, A, B, two_county_tree

from revstat.config import FieldDef
from revstat.definitions import IndicatorDef, find_indicator, load_indicator_files
from revstat.errors import DefinitionError, ErrorGroup
from revstat.hierarchy import roll_up
from revstat.indicators import compute_indicators, split_available
from revstat.regions import make_tree
from revstat.tidy import RESULT_COLUMNS, make_observations

TREE = two_county_tree()
FIELDS = {f.id: f for f in [
    FieldDef(id="toilet", name="卫生厕所户数", unit="户"),
    FieldDef(id="hh", name="农村常住户数", unit="户"),
    FieldDef(id="pop", name="农村常住人口", unit="人"),
    FieldDef(id="inc", name="人均可支配收入", unit="元", agg="wmean", weight="pop"),
    FieldDef(id="x", name="x", unit="个"),
]}


def ind(**kw) -> IndicatorDef:
    base = {"name": kw["id"], "unit": "%", "theme": "test"}
    return IndicatorDef(**{**base, **kw})


TOILET = ind(id="toilet_rate", name="卫生厕所普及率", formula="toilet / hh * 100", decimals=2,
             target={"op": ">=", "value": 65}, change="pp")
INCOME = ind(id="income", unit="元", formula="inc", decimals=0, change="growth")
INCOME_GROWTH = ind(id="income_growth", formula="growth(inc)", decimals=1, change="pp")


def observations(data: dict[str, dict[str, dict[str, object]]]):
    """{period: {field: {region: value}}} → observations."""
    rows = []
    for period, fields in data.items():
        for field, by_region in fields.items():
            for region, value in by_region.items():
                rows.append({"field": field, "region_code": region, "region_name": "", "level": "", "period": period,
                             "value": None if value is None else D(str(value)), "unit": None, "file": "f.xlsx",
                             "sheet": "s", "cell": "A1", "origin": "source"})
    return make_observations(rows)


def compute(data, defs, period="2024Q4", rounding="half_up", comparable=False):
    """``comparable``: also the two years over the values both have, as compile passes them."""
    obs = observations(data)
    values = roll_up(obs, TREE, FIELDS)
    same = None
    if comparable:
        from revstat.hierarchy import comparable as both_years

        same = roll_up(both_years(obs, period, "2023Q4"), TREE, FIELDS)
    return compute_indicators(values, defs, TREE, period, rounding=rounding, scope=CITY, comparable=same)


def row(results, indicator, region):
    sub = results[(results.indicator == indicator) & (results.region_code == region)]
    assert len(sub) == 1
    return sub.iloc[0]


TOILETS = {"2024Q4": {"toilet": {A1: 8, A2: 15, B1: 3, B2: 7}, "hh": {A1: 10, A2: 20, B1: 5, B2: 7}},
           "2023Q4": {"toilet": {A1: 6, A2: 12, B1: 3, B2: 5}, "hh": {A1: 10, A2: 20, B1: 5, B2: 7}}}


def test_results_have_the_contract_columns():
    res = compute(TOILETS, [TOILET])
    assert list(res.columns) == RESULT_COLUMNS
    assert set(res.region_code) == {CITY, A, B, A1, A2, B1, B2}
    # missing is None, never a float NaN (pandas 3 would infer a string dtype with NaN)
    for col in ("value", "numerator", "denominator", "note", "previous", "change", "target", "target_met"):
        assert not any(isinstance(v, float) for v in res[col]), col
    assert row(res, "toilet_rate", CITY).note is None


def test_ratio_is_ratio_of_sums_at_township_county_and_city():
    res = compute(TOILETS, [TOILET])
    # township 甲一镇: 8/10 = 80%
    assert row(res, "toilet_rate", A1).value == D(80)
    assert row(res, "toilet_rate", A1).display == "80.00"
    # county 甲县: (8+15)/(10+20) = 23/30 = 76.666…% → 76.67
    r = row(res, "toilet_rate", A)
    assert r.numerator == D(23) and r.denominator == D(30)
    assert r.display == "76.67"
    # city: (23+10)/(30+12) = 33/42 = 78.571428…% → 78.57 — not the mean of the county rates
    r = row(res, "toilet_rate", CITY)
    assert (r.numerator, r.denominator) == (D(33), D(42))
    assert abs(r.value - D(3300) / D(42)) < D("1e-20")
    assert r.display == "78.57"
    county_b = D(1000) / D(12)
    assert r.value != (D(2300) / D(30) + county_b) / 2


def test_pp_change_against_the_same_period_last_year():
    res = compute(TOILETS, [TOILET])
    r = row(res, "toilet_rate", CITY)
    # 2023: (6+12+3+5)/42 = 26/42 → 61.904761…%; change = 33/42·100 − 26/42·100 = 700/42 = 16.666…
    assert abs(r.previous - D(2600) / D(42)) < D("1e-20")
    assert abs(r.change - D(700) / D(42)) < D("1e-20")
    assert r.change_display == "16.67" and r.change_unit == "个百分点"


def test_target_met_on_the_exact_value():
    res = compute(TOILETS, [TOILET])
    assert row(res, "toilet_rate", CITY).target_met is True  # 78.57 ≥ 65
    assert row(res, "toilet_rate", B1).target_met is False  # 3/5 = 60%
    assert row(res, "toilet_rate", B1).target == ">= 65"


@pytest.mark.parametrize(("period", "judged"), [("2024Q1", False), ("2024Q3", False), ("2024M11", False),
                                                ("2024Q4", True), ("2024M12", True), ("2024", True)])
def test_an_annual_target_is_judged_only_at_the_years_end(period, judged):
    # a task of the year (务工目标, 住房安全问题整改) is not missed in its first quarter
    annual = ind(id="toilet_rate", name="卫生厕所普及率", formula="toilet / hh * 100", decimals=2,
                 target={"op": ">=", "value": 65, "annual": True}, change="pp")
    data = {period: TOILETS["2024Q4"]}
    res = compute(data, [annual], period=period)
    b1, city = row(res, "toilet_rate", B1), row(res, "toilet_rate", CITY)
    assert (b1.target_met, city.target_met) == ((False, True) if judged else (None, None))  # 60 % and 78.57 %
    assert b1.target == (">= 65" if judged else None)
    assert b1.display == "60.00"  # the figure itself is the same in every period


INCOMES = {
    "2024Q4": {"pop": {A1: 100, A2: 300, B1: 200, B2: 100}, "inc": {A1: 1100, A2: 2200, B1: 1650, B2: 3300}},
    "2023Q4": {"pop": {A1: 100, A2: 300, B1: 200, B2: 100}, "inc": {A1: 1000, A2: 2000, B1: 1500, B2: 3000}},
}


def test_weighted_mean_and_growth_across_years():
    res = compute(INCOMES, [INCOME, INCOME_GROWTH])
    # 2024 city: (1100·100 + 2200·300 + 1650·200 + 3300·100) / 700 = 1430000 / 700 = 2042.857…
    r = row(res, "income", CITY)
    assert abs(r.value - D(1430000) / D(700)) < D("1e-20")
    assert r.display == "2043"
    # 2023 city: 1300000/700; growth = 1430000/1300000 − 1 = 10%
    assert abs(r.previous - D(1300000) / D(700)) < D("1e-20")
    assert abs(r.change - D(10)) < D("1e-20") and r.change_display == "10.0" and r.change_unit == "%"
    g = row(res, "income_growth", CITY)
    assert abs(g.value - D(10)) < D("1e-20") and g.display == "10.0"
    # county 甲县: 2024 (110000+660000)/400 = 1925; 2023 1750 → 10%
    assert row(res, "income", A).value == D(1925)


def test_missing_base_gives_a_reason_not_a_number():
    data = {"2024Q4": INCOMES["2024Q4"]}
    res = compute(data, [INCOME_GROWTH])
    r = row(res, "income_growth", CITY)
    assert r.value is None and r.display == ""
    assert r.note == "缺少2023Q4数据"


def test_zero_base_and_division_by_zero():
    data = {"2024Q4": {"toilet": {A1: 0, A2: 5}, "hh": {A1: 0, A2: 10},
                       "pop": {A1: 1, A2: 1}, "inc": {A1: 5, A2: 5}},
            "2023Q4": {"pop": {A1: 1, A2: 1}, "inc": {A1: 0, A2: 4}}}
    res = compute(data, [TOILET, INCOME_GROWTH])
    assert row(res, "toilet_rate", A1).value is None
    assert row(res, "toilet_rate", A1).note == "分母为0"
    assert row(res, "toilet_rate", A).value == D(50)  # (0+5)/(0+10)
    assert row(res, "income_growth", A1).note == "上年同期为0"
    assert row(res, "income_growth", A2).value == D(25)
    assert all(v is None or v.is_finite() for v in res.value)


@pytest.mark.parametrize("raw, decimals, mode, shown", [
    ("2.675", 2, "half_up", "2.68"),
    ("2.665", 2, "half_up", "2.67"),
    ("2.665", 2, "half_even", "2.66"),
    ("2.675", 2, "half_even", "2.68"),
    ("-0.004", 2, "half_up", "0.00"),
])
def test_rounding_once_on_the_decimal_value(raw, decimals, mode, shown):
    d = ind(id="v", formula="x", decimals=decimals, change="none")
    res = compute({"2024Q4": {"x": {A1: raw}}}, [d], rounding=mode)
    assert row(res, "v", A1).display == shown


def test_10068_over_10643_is_94_60():
    d = ind(id="r", formula="toilet / hh * 100", decimals=2)
    res = compute({"2024Q4": {"toilet": {A1: 10068}, "hh": {A1: 10643}}}, [d])
    assert row(res, "r", A1).display == "94.60"  # 94.5973…: rounded once, half-up


def test_incomplete_children_flag_the_result_and_a_ratio_is_over_the_complete_parts():
    # B2 reported its households (7) but not its toilets: 乙县's rate is B1's 3/5 = 60%, not
    # 3/(5+7) = 25% (B2's households without its toilets would count as households without toilets)
    data = {"2024Q4": {"toilet": {A1: 8, A2: 15, B1: 3}, "hh": {A1: 10, A2: 20, B1: 5, B2: 7}}}
    res = compute(data, [TOILET])
    r = row(res, "toilet_rate", B)
    assert bool(r.incomplete) is True
    assert (r.numerator, r.denominator, r.display) == (D(3), D(5), "60.00")
    assert r.note == "部分下级地区缺数，比率按分子、分母都齐全的下级地区计算"
    # the city: 甲县 whole (23/30) and 乙县's complete part (3/5): 26/35 = 74.2857… → 74.29
    city = row(res, "toilet_rate", CITY)
    assert (city.numerator, city.denominator, city.display) == (D(26), D(35), "74.29")
    assert bool(city.incomplete) is True
    assert bool(row(res, "toilet_rate", A).incomplete) is False and row(res, "toilet_rate", A).display == "76.67"
    # B1 has only toilets and B2 only households: no part has both, so 乙县 has no value, and why
    data = {"2024Q4": {"toilet": {A1: 8, A2: 15, B1: 3}, "hh": {A1: 10, A2: 20, B2: 7}}}
    r = row(compute(data, [TOILET]), "toilet_rate", B)
    assert r.value is None and r.note == "下级地区没有分子分母都齐全的"


def test_a_gap_to_a_ratio_is_over_the_complete_parts_too():
    # progress against time, a / b * 100 - elapsed(): the same coverage as the ratio itself
    gap = ind(id="gap", unit="个百分点", formula="toilet / hh * 100 - elapsed()", decimals=2, change="none")
    data = {"2024Q4": {"toilet": {A1: 8, A2: 15, B1: 3}, "hh": {A1: 10, A2: 20, B1: 5, B2: 7}}}
    res = compute(data, [TOILET, gap])
    b = row(res, "gap", B)  # 3/5 × 100 − 100 (Q4: the whole year elapsed), not 3/12 × 100 − 100 = −75
    assert b.value == D(-40) and b.display == "-40.00" and bool(b.incomplete)
    city = row(res, "gap", CITY)  # 26/35 × 100 − 100 = −25.714… → −25.71
    assert city.display == "-25.71"
    assert row(res, "gap", A).display == "-23.33"  # complete: 23/30 × 100 − 100


def test_a_change_against_an_incomplete_last_year_total_is_flagged():
    # last year B2 reported no toilets: 乙县's 2023 rate is over B1 alone (3/5 = 60%), this year's
    # over B1 and B2 (10/12 = 83.33%): the change, +23.33 pp, is not like for like (B1 alone: 0)
    data = {"2024Q4": TOILETS["2024Q4"],
            "2023Q4": {"toilet": {A1: 6, A2: 12, B1: 3}, "hh": {A1: 10, A2: 20, B1: 5, B2: 7}}}
    res = compute(data, [TOILET])
    b = row(res, "toilet_rate", B)
    assert b.display == "83.33" and b.previous == D(60) and b.change_display == "23.33"
    assert bool(b.incomplete) is False and bool(b.previous_incomplete) is True
    assert b.note == "上年同期部分下级地区缺数，比较不是同口径"
    city = row(res, "toilet_rate", CITY)  # 33/42 = 78.5714… against (18+3)/(30+5) = 60: +18.57, flagged
    assert city.change_display == "18.57"
    assert bool(city.previous_incomplete) is True and bool(city.incomplete) is False
    assert bool(row(res, "toilet_rate", A).previous_incomplete) is False
    assert row(res, "toilet_rate", A).note is None
    # B2 itself has no change to flag: it has no previous value at all
    b2 = row(res, "toilet_rate", B2)
    assert b2.change is None and bool(b2.previous_incomplete) is False
    # both years incomplete: both reasons in the note
    data["2024Q4"] = {"toilet": {A1: 8, A2: 15, B1: 3}, "hh": {A1: 10, A2: 20, B1: 5, B2: 7}}
    b = row(compute(data, [TOILET]), "toilet_rate", B)
    assert b.incomplete and b.previous_incomplete
    assert b.note == "部分下级地区缺数，比率按分子、分母都齐全的下级地区计算；上年同期部分下级地区缺数，比较不是同口径"


def test_a_change_where_either_year_is_incomplete_is_taken_like_for_like():
    # 2023Q4: B2 reported no toilets. Like for like (可比口径), B2's toilets are left out of both
    # years (its households stay: they were reported both years): 乙县 is B1 alone, 3/5 = 60% both
    # years, a change of 0 (not 83.33 − 60); the city is 26/35 = 74.2857…% against 21/35 = 60%
    data = {"2024Q4": TOILETS["2024Q4"],
            "2023Q4": {"toilet": {A1: 6, A2: 12, B1: 3}, "hh": {A1: 10, A2: 20, B1: 5, B2: 7}}}
    res = compute(data, [TOILET], comparable=True)
    b = row(res, "toilet_rate", B)
    assert (b.display, b.previous, b.change_display) == ("83.33", D(60), "0.00")
    assert bool(b.previous_incomplete) is False  # the change is like for like now
    assert b.note == "上年同期部分下级地区缺数；同比按两年都有数的下级地区计算（可比口径）"
    city = row(res, "toilet_rate", CITY)
    assert city.change_display == "14.29" and not city.previous_incomplete
    assert row(res, "toilet_rate", A).note is None and row(res, "toilet_rate", A).change_display == "16.67"
    # a county missing this year: last year's total is taken without it too
    count = ind(id="households", unit="户", formula="hh", decimals=0, change="growth")
    households = {"2024Q4": {"hh": {A1: 100, A2: 200}}, "2023Q4": {"hh": {A1: 90, A2: 180, B1: 50, B2: 60}}}
    city = row(compute(households, [count], comparable=True), "households", CITY)
    assert city.display == "300" and bool(city.incomplete)  # still flagged: 乙县 is not in it
    assert city.change_display == "11.1"  # 300 / 270 − 1, not 300 / 380 − 1 = −21.1
    assert city.note == "部分下级地区缺数，合计不完整；同比按两年都有数的下级地区计算（可比口径）"
    unlike = row(compute(households, [count]), "households", CITY)  # without the comparable values: as before
    assert unlike.change_display == "-21.1"
    # an indicator that is itself a growth rate agrees with its level's change
    growth = ind(id="households_growth", unit="%", formula="growth(hh)", decimals=1, change="pp")
    city = row(compute(households, [growth], comparable=True), "households_growth", CITY)
    assert city.display == "11.1" and bool(city.incomplete)
    assert city.note == "部分下级地区缺数，增速按两年都有数的下级地区计算（可比口径）"
    assert row(compute(households, [growth]), "households_growth", CITY).display == "-21.1"
    # a gap last year only: the rate is like for like (350 / 320 − 1 = 9.375, not 410 / 320 − 1) and
    # this year's figures are complete, so it is not flagged incomplete
    households = {"2024Q4": {"hh": {A1: 100, A2: 200, B1: 50, B2: 60}}, "2023Q4": {"hh": {A1: 90, A2: 180, B1: 50}}}
    city = row(compute(households, [growth], comparable=True), "households_growth", CITY)
    assert city.display == "9.4" and not bool(city.incomplete)
    assert city.note == "上年同期部分下级地区缺数；增速按两年都有数的下级地区计算（可比口径）"


def test_indicator_of_indicators_and_skipping_absent_fields():
    gap = ind(id="gap", unit="个百分点", formula="income_growth - toilet_rate", change="none")
    absent = ind(id="absent", formula="toilet / not_provided * 100")
    usable, skipped = split_available([TOILET, INCOME_GROWTH, gap, absent], FIELDS)
    assert [d.id for d in usable] == ["toilet_rate", "income_growth", "gap"]
    assert [(s.indicator.id, s.missing) for s in skipped] == [("absent", ("not_provided",))]
    data = {p: {**TOILETS[p], **INCOMES[p]} for p in ("2024Q4", "2023Q4")}
    res = compute(data, [TOILET, INCOME_GROWTH, gap, absent])
    assert "absent" not in set(res.indicator)
    # city: 10 − 3300/42
    assert abs(row(res, "gap", CITY).value - (D(10) - D(3300) / D(42))) < D("1e-20")


# ---- definitions ---------------------------------------------------------------------------

def write(tmp_path: Path, name: str, text: str) -> tuple[Path, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, name


GOOD = """theme: environment
indicators:
  - id: toilet_rate
    name: 卫生厕所普及率
    unit: "%"
    formula: toilet / hh * 100
    decimals: 2
    target: {op: ">=", value: 65}
"""


def test_load_keeps_file_and_line_and_theme(tmp_path):
    defs = load_indicator_files([write(tmp_path, "a.yaml", GOOD)], FIELDS)
    assert defs[0].theme == "environment"
    assert defs[0].where.file == "a.yaml" and defs[0].where.line == 3
    assert defs[0].target.value == D(65)


def test_workspace_file_overrides_by_id(tmp_path):
    std = write(tmp_path, "std.yaml", GOOD)
    local = write(tmp_path, "local.yaml", GOOD.replace("decimals: 2", "decimals: 1"))
    defs = load_indicator_files([std, local], FIELDS)
    assert len(defs) == 1 and defs[0].decimals == 1 and defs[0].where.file == "local.yaml"


def test_unknown_field_is_an_error_with_did_you_mean(tmp_path):
    bad = write(tmp_path, "a.yaml", GOOD.replace("toilet / hh", "toilet / hhh"))
    with pytest.raises(DefinitionError) as info:
        load_indicator_files([bad], FIELDS)
    assert "hhh" in str(info.value) and "`hh`" in str(info.value)
    assert info.value.where.line == 6


def test_a_misspelt_key_and_an_unknown_name_are_reported_in_one_run(tmp_path):
    # a county statistician fixing decimal:/traget: should not then meet the unknown field as a second round
    text = GOOD.replace("decimals: 2", "decimal: 2").replace("toilet / hh", "toilet / hhh") + """  - id: other
    name: 其他
    unit: "%"
    formula: x / hh
    traget: {op: ">=", value: 1}
  - id: broken
    name: 缺公式
    unit: "%"
"""
    with pytest.raises(ErrorGroup) as info:
        load_indicator_files([write(tmp_path, "a.yaml", text)], FIELDS)
    said = sorted((e.where.line, e.what.render("zh").split("：")[0]) for e in info.value.errors)
    assert [line for line, _ in said] == [6, 7, 13, 14]  # hhh (its formula), decimal, traget, broken without a formula
    text_all = " ".join(e.what.render("zh") for e in info.value.errors)
    assert "decimal" in text_all and "hhh" in text_all and "traget" in text_all
    assert "x" not in text_all.split("`")  # the whole entry's names are known: nothing false


def test_bad_formula_names_file_line_and_column(tmp_path):
    bad = write(tmp_path, "a.yaml", GOOD.replace("toilet / hh * 100", "toilet.real / hh"))
    with pytest.raises(DefinitionError) as info:
        load_indicator_files([bad], FIELDS)
    assert info.value.where.file == "a.yaml" and info.value.where.line == 6
    assert "（公式第1个字符，“toilet.real / hh”处）" in str(info.value)


def test_unknown_key_names_the_line(tmp_path):
    bad = write(tmp_path, "a.yaml", GOOD.replace("    decimals: 2\n", "    decimals: 2\n    colour: red\n"))
    with pytest.raises((DefinitionError, ErrorGroup)) as info:
        load_indicator_files([bad], FIELDS)
    assert "colour" in str(info.value) and "第8行" in str(info.value)


def test_indicator_id_may_not_be_a_field_id(tmp_path):
    bad = write(tmp_path, "a.yaml", GOOD.replace("id: toilet_rate", "id: toilet"))
    with pytest.raises(DefinitionError, match="与字段 id 重名"):
        load_indicator_files([bad], FIELDS)


def test_dependency_cycle_is_named(tmp_path):
    text = """indicators:
  - {id: a, name: A, unit: "%", formula: b + 1}
  - {id: b, name: B, unit: "%", formula: c * 2}
  - {id: c, name: C, unit: "%", formula: a - toilet}
"""
    with pytest.raises(DefinitionError, match="a → b → c → a"):
        load_indicator_files([write(tmp_path, "c.yaml", text)], FIELDS)


def test_find_by_id_or_chinese_name(tmp_path):
    defs = load_indicator_files([write(tmp_path, "a.yaml", GOOD)], FIELDS)
    assert find_indicator(defs, "卫生厕所普及率").id == "toilet_rate"
    assert find_indicator(defs, "toilet_rate").id == "toilet_rate"
    with pytest.raises(DefinitionError):
        find_indicator(defs, "不存在的指标")


def test_standard_set_uses_only_catalogue_fields_and_has_40_or_more():
    from revstat.definitions import catalogue_fields
    from revstat.workspace import std_dir

    files = [(p, p.name) for p in sorted(std_dir("indicators").glob("*.yaml"))]
    defs = load_indicator_files(files, catalogue_fields())
    assert len(defs) >= 40
    mine = {"monitoring", "guarantees", "income", "funds", "environment", "governance"}
    assert mine <= {d.theme for d in defs}
    names = {d.name for d in defs}
    for expected in ("风险消除率（户）", "农村卫生厕所普及率", "易地搬迁脱贫人口收入增速与脱贫人口收入增速之差",
                     "衔接资金用于产业发展比重", "村集体经济收入5万元以上村占比", "农村自来水普及率"):
        assert expected in names
    assert find_indicator(defs, "农村卫生厕所普及率").target.value == D(65)


def test_results_frame_is_empty_but_shaped_without_indicators():
    res = compute(TOILETS, [])
    assert list(res.columns) == RESULT_COLUMNS and len(res) == 0
    assert isinstance(res, pd.DataFrame)


# ---- the tables ----------------------------------------------------------------------------

def test_tables_never_write_formulas_or_nan(tmp_path):
    import json

    import openpyxl

    from revstat.writers.tables import (
        write_indicators_csv,
        write_indicators_json,
        write_indicators_xlsx,
    )

    evil = '=HYPERLINK("http://x","点我")'
    tree = make_tree([(CITY, "示范市", "city", None), (A, evil, "county", CITY),
                      (A1, "甲一镇", "township", A), (A2, "甲二镇", "township", A)])
    data = {"2024Q4": {"toilet": {A1: 8, A2: 0}, "hh": {A1: 10, A2: 0}}}
    values = roll_up(observations(data), tree, FIELDS)
    res = compute_indicators(values, [TOILET], tree, "2024Q4", scope=CITY)
    write_indicators_csv(res, tmp_path / "i.csv")
    write_indicators_json(res, tmp_path / "i.json")
    write_indicators_xlsx(res, tmp_path / "i.xlsx", [TOILET], tree=tree)
    text = (tmp_path / "i.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert "nan" not in text.lower() and "inf" not in text.lower()
    rows = json.loads((tmp_path / "i.json").read_text(encoding="utf-8"))
    a2 = next(r for r in rows if r["region_code"] == A2)
    assert a2["value"] is None and a2["note"] == "分母为0"
    city = next(r for r in rows if r["region_code"] == CITY)
    assert D(city["value"]) == 80 and city["display"] == "80.00"  # (8+0)/(10+0)
    wb = openpyxl.load_workbook(tmp_path / "i.xlsx")
    sheet = wb[wb.sheetnames[0]]
    names = [row[1].value for row in sheet.iter_rows(min_row=3)]
    assert any(isinstance(n, str) and n.strip("　") == evil for n in names)
    assert all(row[1].data_type == "s" for row in sheet.iter_rows(min_row=3))
    assert "指标说明" in wb.sheetnames


def test_levels_without_any_data_get_no_rows_but_a_missing_region_keeps_its_reason():
    village = "990101001001"
    tree = make_tree([*((r.code, r.name, r.level, r.parent) for r in TREE.regions.values()),
                      (village, "甲一村", "village", A1)])
    data = {"2024Q4": {"toilet": {A1: 8, A2: 15, B1: 3}, "hh": {A1: 10, A2: 20, B1: 5, B2: 7},
                       "x": {village: 4}}}
    values = roll_up(observations(data), tree, FIELDS)
    res = compute_indicators(values, [TOILET], tree, "2024Q4", scope=CITY)
    assert village not in set(res.region_code)  # the workbooks hold no village figures
    b2 = row(res, "toilet_rate", B2)  # B2 did report households, but not toilets
    assert b2.value is None and b2.note == "缺少toilet数据"


def test_ratio_parts_follow_the_fields_temporal_kind():
    """The numerator shown beside a ratio is the one its value was computed from: ``ytd`` of a
    cumulative field (already 1—N月) is the field itself, in the value and in the numerator."""
    spent = FieldDef(id="spent", name="已支出资金", unit="万元", temporal="cumulative")
    plan = FieldDef(id="plan", name="计划资金", unit="万元", temporal="stock")
    fields = {**FIELDS, "spent": spent, "plan": plan}
    rate = ind(id="spent_rate", formula="ytd(spent) / plan * 100", decimals=1)
    data = {"2024Q3": {"spent": {A1: 30, A2: 30, B1: 10, B2: 10}, "plan": {A1: 100, A2: 100, B1: 50, B2: 50}},
            "2024Q2": {"spent": {A1: 20, A2: 20, B1: 5, B2: 5}, "plan": {A1: 100, A2: 100, B1: 50, B2: 50}},
            "2024Q1": {"spent": {A1: 10, A2: 10, B1: 1, B2: 1}, "plan": {A1: 100, A2: 100, B1: 50, B2: 50}}}
    values = roll_up(observations(data), TREE, fields)
    res = compute_indicators(values, [rate], TREE, "2024Q3", scope=CITY,
                             temporal={f.id: f.temporal for f in fields.values()})
    city = row(res, "spent_rate", CITY)
    assert city.numerator == D(80) and city.denominator == D(300)  # 30+30+10+10, not Q1+Q2+Q3
    assert city.display == "26.7"  # 80 / 300 = 26.666…
    assert row(res, "spent_rate", A1).display == "30.0"


def test_a_name_several_indicators_contain_is_ambiguous_not_unknown():
    defs = [ind(id="toilet_rate", name="卫生厕所普及率", formula="toilet / hh * 100"),
            ind(id="tap_rate", name="自来水普及率", formula="toilet / hh * 100")]
    with pytest.raises(DefinitionError) as info:
        find_indicator(defs, "普及率")
    assert info.value.render("zh").splitlines()[0] == "错误: 指标 '普及率' 有歧义"
    assert "卫生厕所普及率、自来水普及率" in info.value.render("zh")
    with pytest.raises(DefinitionError) as info:
        find_indicator(defs, "收入")
    assert info.value.render("zh").splitlines()[0] == "错误: 未知的指标 '收入'"
