"""Rule kinds: one passing and one failing case each, on small tables built in code."""

from __future__ import annotations

from decimal import Decimal as D
from types import SimpleNamespace

import pandas as pd
import pytest

from revstat.checks import RULE_KINDS, make_check_data, run_checks
from revstat.model import Location, Severity
from revstat.regions import make_tree
from revstat.rules import RuleDef
from revstat.tidy import OBSERVATION_COLUMNS

CITY, A, B = "990100000000", "990121000000", "990122000000"
A_TOWNS = [f"990121{100 + i:03d}000" for i in range(1, 6)]
B_TOWNS = [f"990122{100 + i:03d}000" for i in range(1, 6)]
TREE = make_tree(
    [(CITY, "示范市", "city", None), (A, "东山县", "county", CITY), (B, "西河县", "county", CITY)]
    + [(c, f"东{i}镇", "township", A) for i, c in enumerate(A_TOWNS)]
    + [(c, f"西{i}镇", "township", B) for i, c in enumerate(B_TOWNS)])
FILE = "data/2024Q4/东山县_2024Q4.xlsx"


def fdef(agg: str = "sum", temporal: str = "stock", required: bool = True, name: str = "") -> SimpleNamespace:
    return SimpleNamespace(agg=agg, temporal=temporal, required=required, name=name)


def obs_rows(field: str, values: dict[str, object], period: str = "2024Q4", origin: str = "source",
             col: str = "B", sheet: str = "表1", file: str = FILE) -> list[dict]:
    rows = []
    for i, (region, value) in enumerate(values.items()):
        rows.append({"field": field, "region_code": region, "region_name": TREE.name(region) if region in TREE else None,
                     "level": TREE.level(region) if region in TREE else None, "period": period,
                     "value": None if value is None else D(str(value)), "unit": "户", "file": file,
                     "sheet": sheet, "cell": f"{col}{10 + i}", "origin": origin})
    return rows


def data_for(values: dict[tuple[str, str, str], object], *, obs: list[dict] | None = None, results=None,
             fields=None, period: str = "2024Q4", **kw):
    """values: (field, region, period) → value, at any level (as rolled up)."""
    df = pd.DataFrame([{"field": f, "region_code": r, "period": p, "value": None if v is None else D(str(v))}
                       for (f, r, p), v in values.items()], columns=["field", "region_code", "period", "value"])
    observations = pd.DataFrame(obs or [], columns=OBSERVATION_COLUMNS)
    return make_check_data(period, TREE, values=df, results=results, observations=observations,
                           fields=fields or {}, scope=CITY, **kw)


def rule(**kw) -> RuleDef:
    kw.setdefault("id", "r")
    kw.setdefault("name", "测试规则")
    return RuleDef.model_validate(kw)


def run(r: RuleDef, data) -> list:
    return RULE_KINDS[r.kind](r, data)


def test_every_kind_is_registered():
    from revstat.rules import KINDS

    assert set(KINDS) == set(RULE_KINDS)


# ---- range -------------------------------------------------------------------------------

def test_range_over_every_summable_field_names_the_field_and_its_cell():
    # fields: "*" is every field that adds up (agg: sum); a weighted mean is left to its own rules
    fields = {"households": fdef(name="户数"), "income": fdef(agg="wmean", name="人均收入")}
    r = rule(kind="range", fields=["*"], min=0, levels=["township"], message="{region}{field}填报为{left}，不能为负数")
    vals = {("households", A_TOWNS[0], "2024Q4"): "-221", ("households", A_TOWNS[1], "2024Q4"): "0",
            ("income", A_TOWNS[0], "2024Q4"): "-5"}
    obs = obs_rows("households", {A_TOWNS[0]: "-221", A_TOWNS[1]: "0"})
    [issue] = run(r, data_for(vals, fields=fields, obs=obs, names={"households": "户数"}))
    assert (issue.region_code, issue.actual) == (A_TOWNS[0], D(-221))
    assert issue.message.zh.endswith("户数填报为-221，不能为负数")
    assert [loc.cell for loc in issue.locations] == ["B10"]  # the first township's row


def test_english_messages_use_english_names_where_there_are_some():
    r = rule(kind="range", indicators=["rate"], min=0, levels=["township"])
    vals = {("rate", A_TOWNS[0], "2024Q4"): "-1"}
    [issue] = run(r, data_for(vals, names={"rate": "卫生厕所普及率"}, names_en={"rate": "Sanitary toilet coverage"}))
    assert "卫生厕所普及率（-1）" in issue.message.zh and "Sanitary toilet coverage (-1)" in issue.message.en
    [issue] = run(r, data_for(vals, names={"rate": "卫生厕所普及率"}))  # no English name: the Chinese one
    assert "卫生厕所普及率 (-1)" in issue.message.en


def test_range_passes_inside_and_fails_outside():
    r = rule(kind="range", fields=["rate"], min=0, max=100, levels=["township"])
    ok = data_for({("rate", A_TOWNS[0], "2024Q4"): "100", ("rate", A_TOWNS[1], "2024Q4"): "0"})
    assert run(r, ok) == []
    bad = data_for({("rate", A_TOWNS[0], "2024Q4"): "100.01", ("rate", A_TOWNS[1], "2024Q4"): "-1"})
    found = run(r, bad)
    assert [(i.region_code, i.actual, i.expected) for i in found] == [
        (A_TOWNS[1], D("-1"), D(0)), (A_TOWNS[0], D("100.01"), D(100))]
    assert found[1].difference == D("0.01")


# ---- balance -----------------------------------------------------------------------------

def test_balance_identity_with_cells_of_every_input():
    obs = obs_rows("m", {A_TOWNS[0]: 10}, col="B") + obs_rows("e", {A_TOWNS[0]: 6}, col="C") \
        + obs_rows("u", {A_TOWNS[0]: 3}, col="D")
    vals = {("m", A_TOWNS[0], "2024Q4"): 10, ("e", A_TOWNS[0], "2024Q4"): 6, ("u", A_TOWNS[0], "2024Q4"): 3}
    r = rule(kind="balance", total="m", parts=["e", "u"], levels=["township"])
    [issue] = run(r, data_for(vals, obs=obs))
    assert (issue.actual, issue.expected, issue.difference) == (D(10), D(9), D(1))
    assert [loc.cell for loc in issue.locations] == ["B10", "C10", "D10"]
    assert issue.severity is Severity.ERROR
    vals[("u", A_TOWNS[0], "2024Q4")] = 4
    assert run(r, data_for(vals, obs=obs)) == []


def test_balance_tolerance_absolute_and_relative():
    vals = {("m", A_TOWNS[0], "2024Q4"): 1000, ("e", A_TOWNS[0], "2024Q4"): 600, ("u", A_TOWNS[0], "2024Q4"): 399}
    assert run(rule(kind="balance", total="m", parts=["e", "u"], tolerance=1), data_for(vals)) == []
    assert run(rule(kind="balance", total="m", parts=["e", "u"], tolerance_relative="0.001"), data_for(vals)) == []
    assert len(run(rule(kind="balance", total="m", parts=["e", "u"], tolerance_relative="0.0009"), data_for(vals))) == 1


def test_rolled_up_value_points_at_the_cells_of_its_children():
    obs = obs_rows("m", {A_TOWNS[0]: 5, A_TOWNS[1]: 5}, col="B") + obs_rows("e", {A_TOWNS[0]: 5, A_TOWNS[1]: 4}, col="C")
    vals = {("m", A, "2024Q4"): 10, ("e", A, "2024Q4"): 9}
    r = rule(kind="balance", total="m", parts=["e"], levels=["county"])
    [issue] = run(r, data_for(vals, obs=obs))
    assert issue.region_code == A
    assert sorted(loc.cell for loc in issue.locations) == ["B10", "B11", "C10", "C11"]


# ---- totals ------------------------------------------------------------------------------

def test_total_row_equals_sum_of_rows():
    parts = obs_rows("m", {A_TOWNS[0]: 3, A_TOWNS[1]: 4, A_TOWNS[2]: "0.5"})
    total = obs_rows("m", {A: "7.5"}, origin="total")
    total[0]["cell"] = "B20"
    r = rule(kind="totals", fields=["m"], levels=["county"])
    assert run(r, data_for({}, obs=parts + total)) == []
    total[0]["value"] = D("8")
    [issue] = run(r, data_for({}, obs=parts + total))
    assert (issue.actual, issue.expected, issue.difference) == (D(8), D("7.5"), D("0.5"))
    assert issue.locations[0] == Location(FILE, "表1", "B20")
    assert len(issue.locations) == 4


def test_totals_mismatch_names_the_blank_cells_of_the_column():
    # a township's value deleted, the 合计 left as it was: the blank cell is the likely cause
    parts = obs_rows("m", {A_TOWNS[0]: 3, A_TOWNS[1]: None, A_TOWNS[2]: 4})
    total = obs_rows("m", {A: 12}, origin="total")
    total[0]["cell"] = "B20"
    [issue] = run(rule(kind="totals", fields=["m"]), data_for({}, obs=parts + total))
    assert issue.message.zh.endswith("相差5；该列有 1 个空单元格（B11），合计行可能含有它们的数")
    assert issue.message.en.endswith("difference 5; the column has 1 blank cell (B11) the total may include")
    parts[1]["value"] = D(4)  # filled in, and still off by one: no note on blanks
    [issue] = run(rule(kind="totals", fields=["m"]), data_for({}, obs=parts + total))
    assert issue.message.zh.endswith("相差1") and "空单元格" not in issue.message.zh


def test_totals_star_means_additive_fields_only():
    parts = obs_rows("income", {A_TOWNS[0]: 100, A_TOWNS[1]: 200})
    total = obs_rows("income", {A: 150}, origin="total")  # a mean, not a sum
    data = data_for({}, obs=parts + total, fields={"income": fdef(agg="wmean")})
    assert run(rule(kind="totals", fields="*"), data) == []
    data = data_for({}, obs=parts + total, fields={"income": fdef(agg="sum")})
    assert len(run(rule(kind="totals", fields="*"), data)) == 1


# ---- hierarchy ---------------------------------------------------------------------------

def test_parent_reported_equals_sum_of_children():
    kids = dict.fromkeys(A_TOWNS, 2)
    obs = obs_rows("m", kids) + obs_rows("m", {A: 10}, col="F")
    vals = {("m", c, "2024Q4"): 2 for c in A_TOWNS} | {("m", A, "2024Q4"): 10}
    r = rule(kind="hierarchy_sum", fields=["m"], levels=["county"])
    assert run(r, data_for(vals, obs=obs)) == []
    obs[-1]["value"] = D(11)
    [issue] = run(r, data_for(vals, obs=obs))
    assert (issue.region_code, issue.actual, issue.expected) == (A, D(11), D(10))
    assert len(issue.locations) == 6


# ---- across periods ----------------------------------------------------------------------

def test_cumulative_flow_never_falls_within_a_year():
    fields = {"flow": fdef(temporal="cumulative")}
    r = rule(kind="cumulative", fields=["flow"], levels=["township"])
    ok = {("flow", A_TOWNS[0], "2024Q3"): 10, ("flow", A_TOWNS[0], "2024Q4"): 10}
    assert run(r, data_for(ok, fields=fields)) == []
    bad = {("flow", A_TOWNS[0], "2024Q3"): 10, ("flow", A_TOWNS[0], "2024Q4"): 9}
    [issue] = run(r, data_for(bad, fields=fields))
    assert issue.difference == D(-1)
    restart = {("flow", A_TOWNS[0], "2023Q4"): 40, ("flow", A_TOWNS[0], "2024Q1"): 9}
    assert run(r, data_for(restart, fields=fields, period="2024Q1")) == []


def test_stock_that_only_grows_is_checked_across_years():
    fields = {"stock": fdef(temporal="stock")}
    r = rule(kind="cumulative", fields=["stock"], levels=["township"])
    vals = {("stock", A_TOWNS[0], "2023Q4"): 40, ("stock", A_TOWNS[0], "2024Q1"): 39}
    assert len(run(r, data_for(vals, fields=fields, period="2024Q1"))) == 1


def test_growth_bound_against_same_period_last_year():
    r = rule(kind="growth_bound", fields=["funds"], bound=50, levels=["county"], severity="warning")
    ok = {("funds", A, "2023Q4"): 100, ("funds", A, "2024Q4"): 150}
    assert run(r, data_for(ok)) == []
    bad = {("funds", A, "2023Q4"): 100, ("funds", A, "2024Q4"): "150.01"}
    [issue] = run(r, data_for(bad))
    assert issue.severity is Severity.WARNING and "50.01" in issue.message.zh
    fell = {("funds", A, "2023Q4"): 100, ("funds", A, "2024Q4"): 40}
    assert "下降60%" in run(r, data_for(fell))[0].message.zh


# ---- across regions ----------------------------------------------------------------------

def test_outlier_robust_z_flags_the_one_far_township():
    rates = [50, 52, 51, 49, 53]
    vals = {("rate", c, "2024Q4"): v for c, v in zip(A_TOWNS, rates, strict=True)}
    r = rule(kind="outlier", indicators=["rate"], levels=["township"], severity="warning")
    assert run(r, data_for(vals)) == []
    vals[("rate", A_TOWNS[4], "2024Q4")] = 90
    [issue] = run(r, data_for(vals))
    assert issue.region_code == A_TOWNS[4] and issue.expected == D(51)


def test_outlier_iqr_and_small_denominators_left_out():
    rates = [50, 52, 51, 49, 90]
    vals = {("rate", c, "2024Q4"): v for c, v in zip(A_TOWNS, rates, strict=True)}
    r = rule(kind="outlier", indicators=["rate"], levels=["township"], method="iqr")
    assert [i.region_code for i in run(r, data_for(vals))] == [A_TOWNS[4]]
    results = pd.DataFrame({"indicator": ["rate"] * 5, "region_code": A_TOWNS, "period": ["2024Q4"] * 5,
                            "value": [D(v) for v in rates], "numerator": [D(1)] * 5,
                            "denominator": [D(100)] * 4 + [D(2)]})
    small = rule(id="small", kind="small_denominator", indicators=["rate"], min_denominator=3,
                 levels=["township"], severity="info")
    issues = run_checks([small, r], data_for({}, results=results))
    assert [(i.rule, i.region_code) for i in issues] == [("small", A_TOWNS[4])]


def test_small_denominator_flagged():
    results = pd.DataFrame({"indicator": ["rate", "rate"], "region_code": A_TOWNS[:2], "period": ["2024Q4"] * 2,
                            "value": [D(50), D(100)], "numerator": [D(5), D(2)], "denominator": [D(10), D(2)]})
    r = rule(kind="small_denominator", indicators=["rate"], min_denominator=3, levels=["township"])
    [issue] = run(r, data_for({}, results=results))
    assert (issue.region_code, issue.actual) == (A_TOWNS[1], D(2))
    assert run(rule(kind="small_denominator", indicators=["rate"], min_denominator=2, levels=["township"]),
               data_for({}, results=results)) == []


def test_cross_level_county_within_townships_min_max():
    vals = {("rate", c, "2024Q4"): v for c, v in zip(A_TOWNS, [60, 70, 80, 65, 75], strict=True)}
    vals[("rate", A, "2024Q4")] = 72
    r = rule(kind="cross_level", indicators=["rate"], levels=["county"])
    assert run(r, data_for(vals)) == []
    vals[("rate", A, "2024Q4")] = "80.5"
    [issue] = run(r, data_for(vals))
    assert (issue.expected, issue.difference) == (D(80), D("0.5"))
    # a rate is printed with its unit, as the report prints it (it reached the brief as "（80.5）")
    [issue] = run(r, data_for(vals, indicator_units={"rate": "%"}))
    assert "（80.5%）不在下级地区的范围 60～80% 之内" in issue.message.zh
    assert "(80.5%) is outside its parts' range 60–80%" in issue.message.en


def test_target_from_rule_and_from_indicator():
    vals = {("toilet_rate", A, "2024Q4"): "64.99", ("toilet_rate", B, "2024Q4"): 65}
    r = rule(kind="target", indicators=["toilet_rate"], op=">=", value=65, levels=["county"], severity="warning")
    [issue] = run(r, data_for(vals))
    assert issue.region_code == A and issue.difference == D("-0.01")
    r2 = rule(kind="target", indicators=["toilet_rate"], levels=["county"])
    assert len(run(r2, data_for(vals, targets={"toilet_rate": (">=", D(65))}))) == 1
    assert run(r2, data_for(vals, targets={"toilet_rate": (">=", D(60))})) == []


# ---- completeness, duplicates ------------------------------------------------------------

def test_completeness_missing_region_and_missing_field():
    fields = {"m": fdef(), "e": fdef(), "opt": fdef(required=False)}
    levels = {"m": "township", "e": "township", "opt": "township"}
    obs = obs_rows("m", dict.fromkeys(A_TOWNS + B_TOWNS, 1)) + obs_rows("e", dict.fromkeys(A_TOWNS + B_TOWNS, 1), col="C")
    r = rule(kind="completeness", levels=["township"])
    assert run(r, data_for({}, obs=obs, fields=fields, field_levels=levels)) == []
    gone = [o for o in obs if o["region_code"] != B_TOWNS[2]]
    gone[0]["value"] = None  # a blank cell of a required field
    issues = run(r, data_for({}, obs=gone, fields=fields, field_levels=levels))
    assert sorted((i.region_code, bool(i.locations and i.locations[0].cell)) for i in issues) == [
        (A_TOWNS[0], True), (B_TOWNS[2], False)]


def test_duplicate_rows_found_once_per_region():
    obs = obs_rows("m", dict.fromkeys(A_TOWNS, 1)) + obs_rows("e", dict.fromkeys(A_TOWNS, 1), col="C")
    r = rule(kind="duplicates", levels=["township"])
    assert run(r, data_for({}, obs=obs)) == []
    again = obs_rows("m", {A_TOWNS[1]: 1}) + obs_rows("e", {A_TOWNS[1]: 1}, col="C")
    for row in again:
        row["cell"] = row["cell"][0] + "30"
    [issue] = run(r, data_for({}, obs=obs + again))
    assert issue.region_code == A_TOWNS[1] and len(issue.locations) == 4


# ---- the runner --------------------------------------------------------------------------

def test_all_findings_collected_errors_first_and_messages_bilingual():
    vals = {("rate", A_TOWNS[0], "2024Q4"): 120, ("rate", A_TOWNS[1], "2024Q4"): -5}
    rules = [rule(id="warn", kind="range", fields=["rate"], max=100, severity="warning", levels=["township"]),
             rule(id="err", kind="range", fields=["rate"], min=0, levels=["township"],
                  message="{region}比率为{left}", message_en="{region} rate is {left}")]
    issues = run_checks(rules, data_for(vals))
    assert [i.rule for i in issues] == ["err", "warn"]
    assert issues[0].message.zh == "东1镇比率为-5"
    assert issues[0].message.en == "东1镇 rate is -5"


def test_message_with_unknown_placeholder_is_left_as_is():
    vals = {("rate", A_TOWNS[0], "2024Q4"): 120}
    r = rule(kind="range", fields=["rate"], max=100, message="{region}{nope}", levels=["township"])
    assert run(r, data_for(vals))[0].message.zh == "东0镇{nope}"


@pytest.mark.parametrize("op,left,right,ok", [
    ("<=", 5, 5, True), ("<=", 6, 5, False), (">=", 5, 6, False), ("==", 5, 5, True),
    ("<", 5, 5, False), (">", 6, 5, True), ("!=", 5, 5, False)])
def test_holds(op, left, right, ok):
    from revstat.checks import holds

    assert holds(D(left), op, D(right), rule(kind="range", fields=["x"], min=0)) is ok


# ---- expressions (formula language) ------------------------------------------------------

def test_expression_rule_splits_at_the_comparison():
    vals = {("toilets", A_TOWNS[0], "2024Q4"): 90, ("households", A_TOWNS[0], "2024Q4"): 100,
            ("toilets", A_TOWNS[1], "2024Q4"): 101, ("households", A_TOWNS[1], "2024Q4"): 100,
            ("toilets", A_TOWNS[2], "2024Q4"): None, ("households", A_TOWNS[2], "2024Q4"): 1}
    r = rule(rule="toilets <= households", levels=["township"])
    assert r.kind == "expression"
    [issue] = run(r, data_for(vals, names={"toilets": "卫生厕所户数", "households": "农村常住户数"}))
    assert (issue.region_code, issue.actual, issue.expected, issue.difference) == (A_TOWNS[1], D(101), D(100), D(1))
    assert "卫生厕所户数（101）应≤农村常住户数（100）" in issue.message.zh


def test_expression_balance_and_chained_range():
    vals = {("m", A_TOWNS[0], "2024Q4"): 10, ("e", A_TOWNS[0], "2024Q4"): "6.5", ("u", A_TOWNS[0], "2024Q4"): "3.5"}
    assert run(rule(rule="m == e + u", levels=["township"]), data_for(vals)) == []
    vals[("u", A_TOWNS[0], "2024Q4")] = "3.4"
    [issue] = run(rule(rule="m == e + u", levels=["township"]), data_for(vals))
    assert issue.difference == D("0.1")
    both = run(rule(rule="0 <= e - 7 <= 100 and m <= 9", levels=["township"]), data_for(vals))
    assert sorted(str(i.difference) for i in both) == ["0.5", "1"]  # left − right: 0 − (−0.5), 10 − 9


def test_compare_kind_with_formula_sides():
    vals = {("persons", A_TOWNS[0], "2024Q4"): 5, ("households", A_TOWNS[0], "2024Q4"): 3}
    r = rule(kind="compare", left="persons", op=">=", right="households * 2", levels=["township"])
    [issue] = run(r, data_for(vals))
    assert (issue.actual, issue.expected) == (D(5), D(6))
    vals[("persons", A_TOWNS[0], "2024Q4")] = 6
    assert run(r, data_for(vals)) == []


def test_default_messages_are_in_both_languages():
    vals = {("rate", A_TOWNS[0], "2024Q4"): 120}
    [issue] = run(rule(kind="range", fields=["rate"], max=100, levels=["township"]), data_for(vals, names={"rate": "比率"}))
    assert "应≤上限（100）" in issue.message.zh
    assert "should be <= the maximum (100)" in issue.message.en


# ---- the vectorised paths agree with the plain definitions -------------------------------

def _plain_table(frame: pd.DataFrame) -> dict:
    """{(name, period): {region: value}} the way one loop over the rows makes it."""
    from revstat.checks import _dec

    out: dict = {}
    columns = [frame[c].to_numpy(dtype=object).tolist() for c in ("field", "region_code", "period", "value")]
    for name, region, period, value in zip(*columns, strict=True):
        dec = value if type(value) is D and value.is_finite() else _dec(value)
        out.setdefault((str(name), str(period)), {})[str(region)] = dec
    return out


@pytest.mark.parametrize("shuffle", [False, True])
def test_value_table_is_the_plain_dict_of_every_entry(shuffle):
    from revstat.checks import values_from_frame

    blanks = [None, float("nan"), D("NaN"), D("Infinity"), D("-Infinity"), pd.NA]
    rows = []
    for f, name in enumerate(["m", "e", "u"]):
        for i, region in enumerate(A_TOWNS + B_TOWNS):
            value = blanks[(i + f) % len(blanks)] if (i + f) % 3 == 0 else D(i * 10 + f) / 7
            rows.append((name, region, "2024Q4", value))
    rows.append(("m", A_TOWNS[1], "2024Q4", D("99")))  # a region twice: the last row counts
    rows.append(("m", A, "2023Q4", 5.5))
    rows.append((pd.NA, A_TOWNS[0], "2024Q4", D(1)))  # a blank name: key "<NA>", as str() makes it
    if shuffle:
        rows = rows[::3] + rows[1::3] + rows[2::3]
    frame = pd.DataFrame(rows, columns=["field", "region_code", "period", "value"])
    frame["field"] = pd.Series([r[0] for r in rows], dtype=object)  # keeps pandas.NA as it is
    table, plain = values_from_frame(frame, "field"), _plain_table(frame)
    assert ("<NA>", "2024Q4") in plain
    assert set(table) == set(plain)
    for key, expected in plain.items():
        regions = [*A_TOWNS, CITY, *B_TOWNS]
        values, known = table.column(key, regions)
        assert values.tolist() == [expected.get(r) for r in regions]
        assert known.tolist() == [expected.get(r) is not None for r in regions]
        assert table[key] == expected and list(table[key]) == list(expected)


def test_value_table_with_text_in_a_value_column_fails_when_built_as_before():
    from decimal import InvalidOperation

    from revstat.checks import values_from_frame

    frame = pd.DataFrame({"field": ["m", "e"], "region_code": A_TOWNS[:2], "period": ["2024Q4"] * 2,
                          "value": [D(1), "abc"]})
    with pytest.raises(InvalidOperation):
        values_from_frame(frame, "field")
    frame["value"] = [D(1), "2.5"]  # text that reads as a number is converted at once
    assert values_from_frame(frame, "field")[("e", "2024Q4")] == {A_TOWNS[1]: D("2.5")}


@pytest.mark.parametrize("op", ["<=", "<", ">=", ">", "==", "!="])
@pytest.mark.parametrize("tolerance", [{}, {"tolerance": "0.5"}, {"tolerance_relative": "0.01"},
                                       {"tolerance": "1", "tolerance_relative": "0.001"}])
def test_holds_many_is_holds_pair_by_pair(op, tolerance):
    import random

    import numpy as np

    from revstat.checks import holds, holds_many

    rng = random.Random(7)
    pairs = [(D(rng.randint(-300, 300)) / 4, D(rng.randint(-300, 300)) / 4) for _ in range(300)]
    pairs += [(D("100"), D("100.0")), (D("-0"), D(0)), (D("100"), D("101")), (D("1E+3"), D("999.5"))]
    r = rule(kind="range", fields=["x"], min=0, **tolerance)
    left = np.array([a for a, _ in pairs], dtype=object)
    right = np.array([b for _, b in pairs], dtype=object)
    assert holds_many(left, op, right, r).tolist() == [holds(a, op, b, r) for a, b in pairs]
    assert holds_many(left, op, D(10), r).tolist() == [holds(a, op, D(10), r) for a, _ in pairs]


@pytest.mark.parametrize("text", ["a", "2", "-a", "+a - -b", "a + b * 2 - c", "a / b", "a / (b - b)",
                                  "(a - c) / c * 100", "1 / 3 + a", "2 * 3", "-(a / b) / 7"])
def test_simple_rule_sides_are_the_formula_engines_values(text):
    import pandas as pd

    from revstat.formula import evaluate, parse_formula
    from revstat.rule_expr import evaluate_node

    vals = {}
    for i, town in enumerate(A_TOWNS + B_TOWNS):
        vals[("a", town, "2024Q4")] = None if i == 3 else D(i * 3 + 1) / 3
        vals[("b", town, "2024Q4")] = D(0) if i in (2, 5) else D(i - 4)
        if i != 7:
            vals[("c", town, "2024Q4")] = D(i) / 11
    data = data_for(vals)
    regions = data.regions(["township"])
    node = parse_formula(text).tree
    got = evaluate_node(node, data, regions)

    def lookup(name, shift):
        key = (name, "2024Q4")
        return pd.Series(data.values[key], dtype=object) if not shift and key in data.values else None

    engine, _ = evaluate(node, lookup, period="2024Q4", index=pd.Index(regions, dtype=object))
    expected = [None if v is None or (isinstance(v, float) and v != v) else v for v in engine.tolist()]
    assert [repr(v) for v in got.array.tolist()] == [repr(v) for v in expected]
    assert got.known.tolist() == [v is not None for v in expected]


def test_factorize_by_runs_is_pandas_factorize():
    import numpy as np

    from revstat.checks import factorize

    runs = np.array(["b"] * 40 + ["a"] * 30 + [None] * 5 + ["b"] * 20 + [float("nan")] * 3 + ["c"], dtype=object)
    mixed = np.array(["x", "y", None, "x", "z", "y"] * 5, dtype=object)
    with_na = np.array(["a"] * 30 + [pd.NA] * 2 + ["b"] * 30, dtype=object)
    for values in (runs, mixed, with_na):
        codes, uniques = factorize(values)
        expected, exp_uniques = pd.factorize(values)
        assert codes.tolist() == expected.tolist() and uniques == exp_uniques.tolist()


def test_completeness_with_a_field_listed_twice_and_a_region_without_rows():
    fields = {"m": fdef(name="监测户数"), "e": fdef(name="消除户数")}
    levels = {"m": "township", "e": "township"}
    obs = obs_rows("m", dict.fromkeys(A_TOWNS, 1)) + obs_rows("e", dict.fromkeys(A_TOWNS[:3], 1), col="C")
    obs[1]["value"] = D("NaN")  # a blank read as NaN
    r = rule(kind="completeness", fields=["m", "e", "m"], levels=["township"])
    issues = run(r, data_for({}, obs=obs, fields=fields, field_levels=levels))
    got = [(i.region_code, [(loc.file, loc.cell, loc.note) for loc in i.locations]) for i in issues]
    assert got == [
        ("990122000000", []),  # none of county B's towns has rows: one finding at the county, no file to point at
        (A_TOWNS[1], [(FILE, "B11", None)]), (A_TOWNS[1], [(FILE, "B11", None)]),  # m, listed twice
        (A_TOWNS[3], [(FILE, None, "消除户数")]), (A_TOWNS[4], [(FILE, None, "消除户数")])]  # e: where m is
    assert "下级地区全部缺数" in issues[0].message.zh and "5 个" in str(issues[0].message)
    assert "、" not in issues[0].message.en and "等" not in issues[0].message.en  # no Chinese list marks in English
    assert issues[0].message.en.endswith(" …): its workbook was not received or not read")


def test_expression_sides_look_values_up_under_the_periods_canonical_name():
    vals = {("toilets", A_TOWNS[0], "2024Q4"): 101, ("households", A_TOWNS[0], "2024Q4"): 100}
    [issue] = run(rule(rule="toilets <= households", levels=["township"]), data_for(vals, period="2024q4"))
    assert (issue.actual, issue.expected) == (D(101), D(100))


def test_finite_mask_of_decimals_and_blanks():
    import numpy as np

    from revstat.checks import finite_mask, present

    def mask(values):
        out = finite_mask(np.array(values, dtype=object))
        return None if out is None else out.tolist()

    assert mask([D(1), D("2.5"), D(-3)]) == [True, True, True]  # all finite: one pass
    assert mask([D(1), D("NaN"), D("Infinity"), D(0)]) == [True, False, False, True]
    assert mask([None, D(1), None, D("-Infinity")]) == [False, True, False, False]
    assert mask([None, None]) == [False, False] and mask([]) == []
    assert mask([D(1), 2.5]) is None and mask([None, "x"]) is None  # not Decimals: value by value
    assert present(np.array([None, D(0), "x"], dtype=object)).tolist() == [False, True, True]
    assert present([None, D(0)]).tolist() == [False, True]


def test_small_denominators_read_the_last_row_of_a_region_like_its_dict():
    """A region whose denominator row comes twice counts with its last value, as in the
    entry's dict; blanks and NaN are not small."""
    towns = [A_TOWNS[0], A_TOWNS[0], A_TOWNS[1], A_TOWNS[1], A_TOWNS[2], A_TOWNS[3], A_TOWNS[4]]
    dens = [D(1), D(100), D(100), D(1), D(2), None, D("NaN")]
    results = pd.DataFrame({"indicator": ["rate"] * 7, "region_code": towns, "period": ["2024Q4"] * 7,
                            "value": [D(50)] * 7, "numerator": [D(1)] * 7, "denominator": dens})
    small = rule(id="small", kind="small_denominator", indicators=["rate"], min_denominator=3, levels=["township"])
    data = data_for({}, results=results)
    run_checks([small], data)
    assert data.small == {("rate", A_TOWNS[1], "2024Q4"), ("rate", A_TOWNS[2], "2024Q4")}
    unique = results.iloc[[1, 3, 4, 5, 6]]  # each region once: compared on the array
    data = data_for({}, results=unique)
    run_checks([small], data)
    assert data.small == {("rate", A_TOWNS[1], "2024Q4"), ("rate", A_TOWNS[2], "2024Q4")}


@pytest.mark.parametrize("require", ["regions", "fields", "both"])
def test_completeness_looks_at_the_regions_short_of_something_only(require):
    fields = {"m": fdef(), "e": fdef()}
    levels = {"m": "township", "e": "township"}
    obs = obs_rows("m", dict.fromkeys(A_TOWNS, 1)) + obs_rows("e", dict.fromkeys(A_TOWNS[:4], 1), col="C")
    obs[2]["value"] = None  # A_TOWNS[2] reported m blank
    issues = run(rule(kind="completeness", levels=["township"], require=require),
                 data_for({}, obs=obs, fields=fields, field_levels=levels))
    no_rows = [("990122000000", "全部缺数")] if require != "fields" else []  # county B: no town reported
    short = [(A_TOWNS[2], "必填项"), (A_TOWNS[4], "必填项")] if require != "regions" else []
    got = sorted((i.region_code, "全部缺数" if "全部缺数" in i.message.zh else "必填项") for i in issues)
    assert got == sorted(no_rows + short)


def test_member_is_isin_for_codes_with_blanks():
    import numpy as np

    from revstat.checks import member

    codes = np.array([0, 2, -1, 1, 2, -1])
    assert member(codes, [2], 3).tolist() == [False, True, False, False, True, False]
    assert member(codes, [0, 1, 2], 3).tolist() == [True, True, False, True, True, False]  # a blank is never in
    assert member(codes, [], 3).tolist() == [False] * 6
    assert member(np.array([], dtype=np.int64), [0], 1).tolist() == []


def test_cleaning_an_entry_leaves_the_table_as_it_was():
    """An entry's rows are a view of the value column; blanking its non-finite values must
    not write into the column."""
    from revstat.checks import values_from_frame

    frame = pd.DataFrame({"field": ["m"] * 3 + ["e"] * 2, "region_code": A_TOWNS[:3] + A_TOWNS[:2],
                          "period": ["2024Q4"] * 5, "value": [D(1), D("NaN"), D("Infinity"), D(4), D(5)]})
    frame["value"] = frame["value"].astype(object)
    before = [repr(v) for v in frame["value"]]
    table = values_from_frame(frame, "field")
    values, known = table.column(("m", "2024Q4"), A_TOWNS[:3])
    assert values.tolist() == [D(1), None, None] and known.tolist() == [True, False, False]
    assert [repr(v) for v in frame["value"]] == before


def test_repeated_pairs_counted_or_hashed_are_the_same():
    import numpy as np

    from revstat.check_kinds import _repeated_pairs

    keys = np.array([5, 3, 5, 7, 3, 3, 0], dtype=np.int64)
    assert _repeated_pairs(keys, 10) == [3, 5]  # counted over the 10 keys
    assert sorted(_repeated_pairs(keys, 10**9)) == [3, 5]  # hashed
    assert _repeated_pairs(np.array([], dtype=np.int64), 4) == []


@pytest.mark.parametrize("op", ["<=", "<", ">=", ">", "==", "!="])
@pytest.mark.parametrize("tolerance", [{}, {"tolerance": "0.5"}, {"tolerance_relative": "0.01"}])
def test_compare_to_one_value_is_compare_aligned_with_a_column_of_it(op, tolerance):
    import numpy as np

    from revstat.checks import compare_aligned, compare_to

    regions = A_TOWNS + B_TOWNS
    shown = [None, "-1", "9.5", "10", "10.4", "250", "0", "10", None, "9.7"]
    data = data_for({("x", c, "2024Q4"): x for c, x in zip(regions, shown, strict=True)})
    r = rule(kind="range", fields=["x"], min=0, **tolerance)
    found = 0
    for regs in (regions, A_TOWNS):
        values, known = data.column("x", regs)
        one = compare_to(r, data, regs, values, op, D(10), ["x"], "x", "十", known)
        column = compare_aligned(r, data, regs, values, op, np.full(len(regs), D(10), dtype=object), ["x"], "x",
                                 "十", known, np.ones(len(regs), dtype=bool))
        assert [(i.region_code, i.expected, i.actual, i.difference, i.message) for i in one] == \
               [(i.region_code, i.expected, i.actual, i.difference, i.message) for i in column]
        found += len(one)
    assert found  # some fail, whatever the operator


def test_finite_mask_block_by_block():
    """Blanks and non-finite values in some blocks of rows, none in others."""
    import numpy as np

    from revstat.checks import finite_mask

    values = [D(i) / 3 for i in range(5000)]
    for i in (3, 1030, 1031, 4999):
        values[i] = None
    values[2100], values[2101], values[4000] = D("NaN"), D("-Infinity"), D("sNaN")
    expected = [v is not None and v.is_finite() for v in values]
    assert finite_mask(np.array(values, dtype=object)).tolist() == expected
    values[4500] = 1.5  # not a Decimal: value by value
    assert finite_mask(np.array(values, dtype=object)) is None


def test_small_denominator_rule_reads_a_region_like_its_dict():
    towns = [A_TOWNS[0], A_TOWNS[0], A_TOWNS[1], A_TOWNS[1], A_TOWNS[2], A_TOWNS[3], A_TOWNS[4]]
    dens = [D(1), D(100), D(100), D(1), D(3), None, D("NaN")]
    results = pd.DataFrame({"indicator": ["rate"] * 7, "region_code": towns, "period": ["2024Q4"] * 7,
                            "value": [D(50)] * 7, "numerator": [D(1)] * 7, "denominator": dens})
    r = rule(kind="small_denominator", indicators=["rate", "other"], min_denominator=3, levels=["township"])
    issues = run(r, data_for({}, results=results))
    assert [(i.region_code, i.actual, i.difference) for i in issues] == [(A_TOWNS[1], D(1), D(-2))]


def test_indicator_inputs_from_definitions_or_formulas():
    from types import SimpleNamespace

    from revstat.check_run import indicator_inputs
    from revstat.definitions import IndicatorDef

    defs = [IndicatorDef(id="rate", name="率", unit="%", formula="a / b * 100"),
            IndicatorDef(id="twice", name="两倍", unit="", formula="rate * 2 + c")]
    plain = [SimpleNamespace(id=d.id, formula=d.formula) for d in defs] + [SimpleNamespace(id="bad", formula="a +")]
    expected = {"rate": frozenset({"a", "b"}), "twice": frozenset({"a", "b", "c"})}
    assert indicator_inputs(defs, {"a", "b", "c"}) == expected
    assert indicator_inputs(plain, {"a", "b", "c"}) == expected | {"bad": frozenset()}
