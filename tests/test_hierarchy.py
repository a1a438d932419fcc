"""Roll-up over the region hierarchy: sums, weighted means, incomplete parents, 合计 rows."""

from __future__ import annotations

from decimal import Decimal as D

from conftest import A1, A2, B1, B2, CITY, A, B, two_county_tree

from revstat.config import FieldDef
from revstat.hierarchy import roll_up
from revstat.tidy import make_observations

TREE = two_county_tree()
FIELDS = {
    "hh": FieldDef(id="hh", name="户数", unit="户"),
    "pop": FieldDef(id="pop", name="人口", unit="人"),
    "inc": FieldDef(id="inc", name="人均收入", unit="元", agg="wmean", weight="pop"),
    "rate_reported": FieldDef(id="rate_reported", name="只在填报处有", unit="%", agg="none"),
}


def obs(rows, period="2024Q4"):
    out = []
    for i, row in enumerate(rows):
        field, region, value, *rest = row
        origin = rest[0] if rest else "source"
        out.append({"field": field, "region_code": region, "region_name": "", "level": "", "period": period,
                        "value": None if value is None else D(str(value)), "unit": None, "file": "县.xlsx",
                        "sheet": "表1", "cell": f"B{i + 2}", "origin": origin})
    return make_observations(out)


def value_of(values, field, region, period="2024Q4"):
    sub = values[(values.field == field) & (values.region_code == region) & (values.period == period)]
    assert len(sub) <= 1
    return None if sub.empty else sub.iloc[0]


def test_sums_at_township_county_and_city():
    v = roll_up(obs([("hh", A1, 10), ("hh", A2, 20), ("hh", B1, 5), ("hh", B2, 7)]), TREE, FIELDS)
    assert value_of(v, "hh", A).value == D(30)
    assert value_of(v, "hh", B).value == D(12)
    assert value_of(v, "hh", CITY).value == D(42)
    assert value_of(v, "hh", A1).origin == "source"
    assert value_of(v, "hh", CITY).origin == "rollup"
    assert not value_of(v, "hh", CITY).incomplete
    assert value_of(v, "hh", CITY).region_name == "示范市" and value_of(v, "hh", CITY).level == "city"
    assert value_of(v, "hh", CITY).unit == "户"


def test_weighted_mean_uses_the_weight_field_at_every_level():
    rows = [("pop", A1, 100), ("pop", A2, 300), ("pop", B1, 200), ("pop", B2, 100),
            ("inc", A1, 1000), ("inc", A2, 2000), ("inc", B1, 1500), ("inc", B2, 3000)]
    v = roll_up(obs(rows), TREE, FIELDS)
    # 甲县: (1000·100 + 2000·300) / 400 = 1750; 乙县: (1500·200 + 3000·100) / 300 = 2000
    assert value_of(v, "inc", A).value == D(1750)
    assert value_of(v, "inc", B).value == D(2000)
    # city: (1750·400 + 2000·300) / 700 = 1300000 / 700, the same as over the townships
    assert abs(value_of(v, "inc", CITY).value - D(1300000) / D(700)) < D("1e-20")
    # not the plain mean of the county means (1875)
    assert value_of(v, "inc", CITY).value != D(1875)


def test_a_weighted_mean_with_a_blank_value_weighs_only_what_it_averaged():
    # A2 has its population but no income: 甲县's mean is A1's alone (1000, weight 100), and in the
    # city's mean 甲县 weighs 100, not its whole 400: (1000·100 + 1500·200 + 3000·100) / 400 = 1750,
    # the mean over the three townships that have both (not (1000·400 + 2000·300) / 700 = 1428.57…)
    rows = [("pop", A1, 100), ("pop", A2, 300), ("pop", B1, 200), ("pop", B2, 100),
            ("inc", A1, 1000), ("inc", A2, None), ("inc", B1, 1500), ("inc", B2, 3000)]
    v = roll_up(obs(rows), TREE, FIELDS)
    assert value_of(v, "inc", A).value == D(1000) and bool(value_of(v, "inc", A).incomplete)
    assert value_of(v, "inc", CITY).value == D(1750) and bool(value_of(v, "inc", CITY).incomplete)
    # a county that reports its own mean weighs its whole population
    rows += [("inc", A, 1200)]
    v = roll_up(obs(rows), TREE, FIELDS)
    assert value_of(v, "inc", A).value == D(1200)
    # (1200·400 + 2000·300) / 700 = 1080000 / 700
    assert abs(value_of(v, "inc", CITY).value - D(1080000) / D(700)) < D("1e-20")


def test_missing_child_marks_parents_incomplete_not_silently_complete():
    v = roll_up(obs([("hh", A1, 10), ("hh", A2, 20), ("hh", B1, 5), ("hh", B2, None)]), TREE, FIELDS)
    b = value_of(v, "hh", B)
    assert b.value == D(5) and b.incomplete and b.n_missing == 1
    city = value_of(v, "hh", CITY)
    assert city.value == D(35) and city.incomplete  # incomplete below makes the city incomplete
    assert not value_of(v, "hh", A).incomplete


def test_no_child_with_a_value_means_missing_not_zero():
    v = roll_up(obs([("hh", A1, 10), ("hh", A2, 20)]), TREE, FIELDS)
    assert value_of(v, "hh", B) is None
    assert value_of(v, "hh", CITY).value == D(30) and value_of(v, "hh", CITY).incomplete


def test_zero_is_a_value():
    v = roll_up(obs([("hh", A1, 0), ("hh", A2, 0), ("hh", B1, 0), ("hh", B2, 0)]), TREE, FIELDS)
    assert value_of(v, "hh", CITY).value == D(0) and not value_of(v, "hh", CITY).incomplete


def test_total_rows_are_never_summed():
    v = roll_up(obs([("hh", A1, 10), ("hh", A2, 20), ("hh", A, 999, "total"), ("hh", B1, 5), ("hh", B2, 7)]),
                TREE, FIELDS)
    assert value_of(v, "hh", A).value == D(30)
    assert value_of(v, "hh", CITY).value == D(42)
    assert set(v.origin) <= {"source", "rollup"}


def test_reported_parent_value_is_kept():
    v = roll_up(obs([("hh", A1, 10), ("hh", A2, 20), ("hh", A, 31), ("hh", B1, 5), ("hh", B2, 7)]), TREE, FIELDS)
    assert value_of(v, "hh", A).value == D(31) and value_of(v, "hh", A).origin == "source"
    assert value_of(v, "hh", CITY).value == D(43)


def test_agg_none_is_only_where_reported():
    v = roll_up(obs([("rate_reported", A1, 50), ("rate_reported", A2, 70)]), TREE, FIELDS)
    assert value_of(v, "rate_reported", A1).value == D(50)
    assert value_of(v, "rate_reported", A) is None


def test_periods_are_rolled_up_separately():
    rows = obs([("hh", A1, 1), ("hh", A2, 2)], period="2023Q4")
    rows2 = obs([("hh", A1, 10), ("hh", A2, 20)], period="2024Q4")
    import pandas as pd

    v = roll_up(pd.concat([rows, rows2], ignore_index=True), TREE, FIELDS)
    assert value_of(v, "hh", A, "2023Q4").value == D(3)
    assert value_of(v, "hh", A, "2024Q4").value == D(30)


def test_duplicate_report_keeps_one_value_whatever_the_order():
    rows = obs([("hh", A1, 10), ("hh", A1, 11), ("hh", A2, 20)])
    v1 = roll_up(rows, TREE, FIELDS)
    v2 = roll_up(rows.iloc[::-1].reset_index(drop=True), TREE, FIELDS)
    assert value_of(v1, "hh", A).value == value_of(v2, "hh", A).value == D(30)  # B2 (cell B2) first: 10


def test_rolling_up_twice_is_rolling_up_once():
    rows = obs([("hh", A1, 10), ("hh", A2, 20), ("hh", B1, 5), ("pop", A1, 3), ("inc", A1, 7)])
    once = roll_up(rows, TREE, FIELDS)
    twice = roll_up(once.assign(file=None, sheet=None, cell=None), TREE, FIELDS)
    assert once.equals(twice)
