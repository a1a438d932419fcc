"""Hypothesis invariants of the roll-up and of ratios at every level."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revstat.config import FieldDef
from revstat.definitions import IndicatorDef
from revstat.hierarchy import roll_up
from revstat.indicators import compute_indicators
from revstat.regions import make_tree
from revstat.tidy import make_observations

CITY = "990100000000"
FIELDS = {"num": FieldDef(id="num", name="分子", unit="户"), "den": FieldDef(id="den", name="分母", unit="户")}
RATE = IndicatorDef(id="rate", name="比率", unit="%", formula="num / den * 100", decimals=2, change="none")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = D("1e-24")


def county(i: int) -> str:
    return f"9901{i + 1:02d}000000"


def township(i: int, j: int) -> str:
    return f"9901{i + 1:02d}{j + 1:03d}000"


def tree_of(n_counties: int, per_county: int = 2):
    rows = [(CITY, "市", "city", None)]
    for i in range(n_counties):
        rows.append((county(i), f"县{i}", "county", CITY))
        rows += [(township(i, j), f"镇{i}-{j}", "township", county(i)) for j in range(per_county)]
    return make_tree(rows)


def observations(pairs: list[tuple[int, int]], per_county: int = 2):
    """(num, den) per township, townships filled county by county."""
    rows = []
    for k, (num, den) in enumerate(pairs):
        code = township(k // per_county, k % per_county)
        for field, value in (("num", num), ("den", den)):
            rows.append({"field": field, "region_code": code, "region_name": "", "level": "", "period": "2024Q4",
                         "value": D(value), "unit": "户", "file": "f.xlsx", "sheet": "s", "cell": f"A{k}",
                         "origin": "source"})
    return make_observations(rows)


pairs_strategy = st.lists(
    st.integers(1, 10**6).flatmap(lambda den: st.tuples(st.integers(0, den), st.just(den))),
    min_size=2, max_size=16,
).filter(lambda xs: len(xs) % 2 == 0)


@SETTINGS
@given(pairs=pairs_strategy)
def test_parent_ratio_is_ratio_of_sums_and_between_children(pairs):
    tree = tree_of(len(pairs) // 2)
    values = roll_up(observations(pairs), tree, FIELDS)
    res = compute_indicators(values, [RATE], tree, "2024Q4", scope=CITY)
    by_region = dict(zip(res.region_code, res.value, strict=True))
    expected = D(sum(n for n, _ in pairs)) * 100 / D(sum(d for _, d in pairs))
    assert abs(by_region[CITY] - expected) < TOL
    counties = [by_region[county(i)] for i in range(len(pairs) // 2)]
    assert min(counties) - TOL <= by_region[CITY] <= max(counties) + TOL
    towns = [D(n) * 100 / D(d) for n, d in pairs]
    assert min(towns) - TOL <= by_region[CITY] <= max(towns) + TOL


@SETTINGS
@given(pairs=pairs_strategy, seed=st.randoms(use_true_random=False))
def test_roll_up_does_not_depend_on_row_order(pairs, seed):
    tree = tree_of(len(pairs) // 2)
    obs = observations(pairs)
    order = list(range(len(obs)))
    seed.shuffle(order)
    shuffled = obs.iloc[order].reset_index(drop=True)
    assert roll_up(obs, tree, FIELDS).equals(roll_up(shuffled, tree, FIELDS))


@SETTINGS
@given(pairs=pairs_strategy)
def test_rolling_up_twice_is_rolling_up_once(pairs):
    tree = tree_of(len(pairs) // 2)
    once = roll_up(observations(pairs), tree, FIELDS)
    assert roll_up(once.assign(file=None, sheet=None, cell=None), tree, FIELDS).equals(once)


@SETTINGS
@given(pairs=pairs_strategy)
def test_city_total_is_the_sum_and_a_zero_county_changes_nothing(pairs):
    n = len(pairs) // 2
    values = roll_up(observations(pairs), tree_of(n), FIELDS)
    with_zero = roll_up(observations([*pairs, (0, 0), (0, 0)]), tree_of(n + 1), FIELDS)

    def city(v, field):
        sub = v[(v.field == field) & (v.region_code == CITY)]
        return sub.iloc[0].value, bool(sub.iloc[0].incomplete)

    assert city(values, "num") == (D(sum(x for x, _ in pairs)), False)
    assert city(with_zero, "num") == city(values, "num")
    assert city(with_zero, "den") == city(values, "den")
