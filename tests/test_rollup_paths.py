"""The roll-up's fast paths against a plain reference.

:func:`revstat.hierarchy.roll_up` reads text columns as run codes, counts keys in arrays over
the key space, sorts parents by rank and types its text columns from the few distinct texts.
Each of those has a general fallback (hashing, merge sort, object columns). Both are checked
here against :func:`reference`, a dictionary walk of the hierarchy written from the rules in
the module docstring, on random hierarchies and observations (blank values, duplicates,
weighted means, ``agg: none``, 合计 rows, blank units, several periods, any row order).
"""

from __future__ import annotations

import decimal
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revstat import hierarchy
from revstat.config import FieldDef
from revstat.hierarchy import VALUE_COLUMNS, roll_up
from revstat.numbers import CONTEXT
from revstat.regions import make_tree
from revstat.tidy import make_observations

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = {
    "hh": FieldDef(id="hh", name="户数", unit="户"),
    "pop": FieldDef(id="pop", name="人口", unit="人"),
    "inc": FieldDef(id="inc", name="人均收入", unit="元", agg="wmean", weight="pop"),
    # weighted by a weighted mean, which is blank where its own weights sum to 0
    "share": FieldDef(id="share", name="占比", unit="%", agg="wmean", weight="inc"),
    "only": FieldDef(id="only", name="只在填报处有", unit="%", agg="none"),
    "stock": FieldDef(id="stock", name="存量", unit="", agg="last"),
}
NAMES = [*FIELDS, "extra"]  # "extra": a field without a definition (summed, no unit)


def tree_of(shape: list[list[int]]):
    """A city; county i has len(shape[i]) townships; township j of county i has
    shape[i][j] villages."""
    rows = [("990100000000", "市", "city", None)]
    for i, towns in enumerate(shape):
        county = f"9901{i + 1:02d}000000"
        rows.append((county, f"县{i}", "county", "990100000000"))
        for j, villages in enumerate(towns):
            town = f"9901{i + 1:02d}{j + 1:03d}000"
            rows.append((town, f"镇{i}-{j}", "township", county))
            rows += [(f"9901{i + 1:02d}{j + 1:03d}{k + 1:03d}", f"村{i}-{j}-{k}", "village", town)
                     for k in range(villages)]
    return make_tree(rows)


values_st = st.one_of(
    st.none(),
    st.integers(0, 10**6).map(D),
    st.decimals(min_value=0, max_value=10**5, places=2, allow_nan=False, allow_infinity=False),
)


@st.composite
def cases(draw):
    shape = draw(st.lists(st.lists(st.integers(0, 4), min_size=1, max_size=3), min_size=1, max_size=3))
    tree = tree_of(shape)
    codes = sorted(tree.regions)
    rows = draw(st.lists(st.tuples(
        st.sampled_from(NAMES),
        st.sampled_from([*codes, "999999999999"]),  # a code the tree does not have is left out
        st.sampled_from(["2024Q4", "2023Q4"]),
        values_st,
        st.sampled_from(["户", "人", None]),
        st.sampled_from(["source", "source", "source", "records", "total", "rollup"]),
        st.sampled_from(["a.xlsx", "b.xlsx"]),
    ), max_size=60))
    obs = make_observations([
        {"field": f, "region_code": r, "region_name": "", "level": "", "period": p, "value": v,
         "unit": u, "file": file, "sheet": "表1", "cell": f"C{i + 2}", "origin": o}
        for i, (f, r, p, v, u, o, file) in enumerate(rows)])
    return tree, obs


def reference(obs: pd.DataFrame, tree, fields) -> dict:
    """(field, period, region) → (value, unit, origin, incomplete, n_missing), by the rules
    of the module docstring, one region at a time."""
    reported: dict = {}
    order = sorted(range(len(obs)), key=lambda i: tuple("" if pd.isna(obs[c].iloc[i]) else str(obs[c].iloc[i])
                                                      for c in ("file", "sheet", "cell")))
    for i in order:  # the first by file › sheet › cell
        row = obs.iloc[i]
        if row.origin not in ("source", "records") or row.value is None or row.region_code not in tree:
            continue
        key = (row.field, row.period, row.region_code)
        if key not in reported:
            unit = row.unit if isinstance(row.unit, str) else getattr(fields.get(row.field), "unit", None)
            reported[key] = (row.value, unit, row.origin, False, 0)
    out = dict(reported)
    covered: dict = {}  # a rolled-up weighted mean → Σ of the weights it averaged (its weight above)
    present = {(f, p) for f, p, _ in reported}
    depth = {c: len(tree.ancestors(c)) for c in tree.regions}
    with decimal.localcontext(CONTEXT):
        for code in sorted(tree.regions, key=lambda c: -depth[c]):  # children before parents
            kids = tree.children.get(code, [])
            if not kids:
                continue
            for fid, period in present:
                fdef = fields.get(fid)
                agg, weight = getattr(fdef, "agg", "sum"), getattr(fdef, "weight", None)
                if (fid, period, code) in reported or agg == "none":
                    continue
                if agg == "wmean" and (weight is None or not any(f == weight for f, _ in present)):
                    continue
                rows = [out.get((fid, period, k)) for k in kids]
                if agg == "wmean":
                    ws = [(covered[(fid, period, k)],) if (fid, period, k) in covered else out.get((weight, period, k))
                          for k in kids]
                    ok = [(r[0], w[0]) for r, w in zip(rows, ws, strict=True)
                          if r is not None and r[0] is not None and w is not None and w[0] is not None]
                    total = sum((w for _, w in ok), D(0))
                    value = sum((x * w for x, w in ok), D(0)) / total if ok and total != 0 else None
                    if value is not None:
                        covered[(fid, period, code)] = total
                else:
                    ok = [r[0] for r in rows if r is not None and r[0] is not None]
                    value = sum(ok, D(0)) if ok else None
                if not ok:
                    continue
                missing = len(kids) - len(ok)
                incomplete = missing > 0 or any(r is not None and r[3] for r in rows)
                out[(fid, period, code)] = (value, getattr(fdef, "unit", None), "rollup", incomplete, missing)
    return out


def as_dict(values: pd.DataFrame) -> dict:
    return {(r.field, r.period, r.region_code): (r.value, None if pd.isna(r.unit) else r.unit, r.origin,
                                                 bool(r.incomplete), int(r.n_missing))
            for r in values.itertuples()}


def check_against_reference(obs, tree, values):
    assert list(values.columns) == VALUE_COLUMNS
    keys = list(zip(values.field, values.period, values.region_code, strict=True))
    codes = sorted(tree.regions)
    assert keys == sorted(keys, key=lambda k: (k[0], k[1], codes.index(k[2])))  # field, period, region
    expected = reference(obs, tree, FIELDS)
    got = as_dict(values)
    assert got.keys() == expected.keys()
    for key, row in expected.items():
        assert got[key] == row, key
        assert type(got[key][0]) is type(row[0]), key  # Decimal stays Decimal
    names = dict(zip(values.region_code, values.region_name, strict=True))
    assert all(tree.name(c) == n for c, n in names.items())


@SETTINGS
@given(case=cases(), seed=st.randoms(use_true_random=False))
def test_roll_up_is_the_reference_whatever_the_row_order(case, seed):
    tree, obs = case
    order = list(range(len(obs)))
    seed.shuffle(order)
    shuffled = obs.iloc[order].reset_index(drop=True)
    values = roll_up(shuffled, tree, FIELDS)
    check_against_reference(shuffled, tree, values)
    assert values.equals(roll_up(obs, tree, FIELDS))


@SETTINGS
@given(case=cases())
def test_general_paths_give_the_same_table(case, monkeypatch_dense):
    """No arrays over the key space (hashing and merge sorts instead) and text columns of
    object dtype (no run codes): the same table."""
    tree, obs = case
    fast = roll_up(obs, tree, FIELDS)
    with monkeypatch_dense():
        general = roll_up(obs.astype(object), tree, FIELDS)
    check_against_reference(obs, tree, general)
    assert general.equals(fast)
    assert list(general.dtypes) == list(fast.dtypes)


@pytest.fixture(scope="module")
def monkeypatch_dense():
    from contextlib import contextmanager

    @contextmanager
    def no_dense():
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(hierarchy, "_dense", lambda key, n_keys: False)
            yield

    return no_dense


def test_blank_unit_is_the_fields_and_rows_keep_their_own():
    tree = tree_of([[2]])
    obs = make_observations([
        {"field": "hh", "region_code": "990101001001", "region_name": "", "level": "", "period": "2024Q4",
         "value": D(3), "unit": None, "file": "a.xlsx", "sheet": "s", "cell": "C2", "origin": "source"},
        {"field": "hh", "region_code": "990101001002", "region_name": "", "level": "", "period": "2024Q4",
         "value": D(4), "unit": "户（人工）", "file": "a.xlsx", "sheet": "s", "cell": "C3", "origin": "records"},
    ])
    v = roll_up(obs, tree, FIELDS).set_index("region_code")
    assert v.loc["990101001001", "unit"] == "户" and v.loc["990101001002", "unit"] == "户（人工）"
    assert v.loc["990101001000", "unit"] == "户" and v.loc["990101001000", "value"] == D(7)
    assert v.loc["990101001002", "origin"] == "records" and v.loc["990100000000", "origin"] == "rollup"
    assert str(v["unit"].dtype) == "str" and str(v["origin"].dtype) == "str"


def test_more_than_65536_parents_are_grouped_by_merge_sort():
    """The parents of a level are ranked and sorted as 16-bit ranks; more than 2¹⁶ of them
    go through the general sort, with the same groups in the same row order."""
    rng = np.random.default_rng(7)
    small = hierarchy._Keys(n_r=3000, n_p=1, n_f=1, parent_idx=None, n_children=None)
    large = hierarchy._Keys(n_r=70_000, n_p=1, n_f=2, parent_idx=None, n_children=None)
    few = rng.integers(0, 1000, 5000) * 3  # 1000 distinct parents: ranks
    many = rng.permutation(140_000)[:70_000]  # 70000 distinct: more than 2¹⁶
    for keys, parent_keys in ((small, few), (large, many), (large, np.concatenate([many, many[:10]]))):
        order = keys.grouped(parent_keys)
        assert (order == np.argsort(parent_keys, kind="stable")).all()


def test_empty_observations_give_an_empty_table():
    tree = tree_of([[1]])
    obs = make_observations([])
    v = roll_up(obs, tree, FIELDS)
    assert list(v.columns) == VALUE_COLUMNS and len(v) == 0


def test_a_blank_weighted_mean_is_a_missing_weight_above():
    """乙村 and 丙村 have no people: their town's income per head cannot be formed (a row
    without a value). The town's share, weighted by the villages' incomes, weighs those incomes
    (12) at the county, not the town's blank income: the county's share is the villages' mean."""
    tree = tree_of([[2]])
    v1, v2, town, county = "990101001001", "990101001002", "990101001000", "990101000000"
    rows = [("pop", v1, 0), ("pop", v2, 0), ("inc", v1, 5), ("inc", v2, 7), ("share", v1, 10), ("share", v2, 20)]
    obs = make_observations([
        {"field": f, "region_code": r, "region_name": "", "level": "", "period": "2024Q4", "value": D(x),
         "unit": None, "file": "a.xlsx", "sheet": "s", "cell": f"C{i + 2}", "origin": "source"}
        for i, (f, r, x) in enumerate(rows)])
    v = roll_up(obs, tree, FIELDS)
    at = {(r.field, r.region_code): r for r in v.itertuples()}
    assert at[("inc", town)].value is None and not at[("inc", town)].incomplete  # Σ weights = 0
    assert at[("share", town)].value == CONTEXT.divide(D(10 * 5 + 20 * 7), D(12))  # weighted by the villages' incomes
    assert at[("share", county)].value == at[("share", town)].value  # weighed by what it averaged
    assert ("inc", county) not in at
    assert at[("pop", county)].value == D(0)


@st.composite
def runs_of_rows(draw):
    """Runs of region texts as sheets give them: a run often repeats the one before it."""
    pool = ["a", "b", "c", "d", None, float("nan")]
    runs, previous = [], None
    for _ in range(draw(st.integers(0, 8))):
        if previous is not None and draw(st.booleans()):
            run = list(previous)
            if draw(st.booleans()) and run:  # repeated but one value changed
                run[draw(st.integers(0, len(run) - 1))] = draw(st.sampled_from(pool))
        else:
            run = draw(st.lists(st.sampled_from(pool), min_size=0, max_size=5))
        runs.append(run)
        previous = run
    return runs


@SETTINGS
@given(runs=runs_of_rows())
def test_repeated_runs_give_pandas_factorize(runs):
    from revstat.checks import factorize_repeated

    values = np.array([v for run in runs for v in run], dtype=object)
    field = np.repeat(np.arange(len(runs)), [len(run) for run in runs])
    codes, uniques = factorize_repeated(values, field)
    expected, exp_uniques = pd.factorize(values)
    assert codes.tolist() == expected.tolist()
    assert [repr(u) for u in uniques] == [repr(u) for u in exp_uniques.tolist()]
    starts = np.flatnonzero(np.r_[True, field[1:] != field[:-1]]) if len(field) else field
    source = hierarchy.repeated_rows(values, starts)
    if source is not None:  # each row points at an earlier (or the same) row with its value
        assert (source <= np.arange(len(values))).all()
        assert all(values[s] is values[i] or values[s] == values[i] for i, s in enumerate(source.tolist()))


def test_fields_of_a_sheet_over_the_same_villages_roll_up_as_the_reference():
    """Three fields over the same villages (their region lookups taken from the first), a
    fourth over the same number of rows with another village in the middle, one unknown."""
    tree = tree_of([[3, 2], [3]])
    villages = sorted(c for c in tree.regions if tree.level(c) == "village")
    sheet = villages[:3]
    other = [villages[0], "999999999999", villages[5]]
    rows = [(f, r, 10 * i + j) for i, f in enumerate(["hh", "pop", "extra"]) for j, r in enumerate(sheet)]
    rows += [("stock", r, j) for j, r in enumerate(other)]
    rows += [("hh", r, 5) for r in villages[3:]]
    obs = make_observations([
        {"field": f, "region_code": r, "region_name": "", "level": "", "period": "2024Q4", "value": D(x),
         "unit": "户", "file": "a.xlsx", "sheet": "s", "cell": f"C{i + 2}", "origin": "source"}
        for i, (f, r, x) in enumerate(rows)])
    values = roll_up(obs, tree, FIELDS)
    check_against_reference(obs, tree, values)
    assert len(values[values.region_code == "999999999999"]) == 0


def test_weighted_means_of_interleaved_rows():
    """The villages of two towns interleaved in the table: each town's income per head is
    weighted by its own villages' people only."""
    tree = tree_of([[2, 2]])
    v11, v12, v21, v22 = "990101001001", "990101001002", "990101002001", "990101002002"
    rows = [("pop", v11, 100), ("pop", v21, 1), ("pop", v12, 300), ("pop", v22, 3),
            ("inc", v11, 1000), ("inc", v21, 10), ("inc", v12, 2000), ("inc", v22, 30)]
    obs = make_observations([
        {"field": f, "region_code": r, "region_name": "", "level": "", "period": "2024Q4", "value": D(x),
         "unit": None, "file": "a.xlsx", "sheet": "s", "cell": f"C{i + 2}", "origin": "source"}
        for i, (f, r, x) in enumerate(rows)])
    v = roll_up(obs, tree, FIELDS).set_index(["field", "region_code"])["value"]
    assert v[("inc", "990101001000")] == D(1000 * 100 + 2000 * 300) / D(400)  # 1750
    assert v[("inc", "990101002000")] == D(10 * 1 + 30 * 3) / D(4)  # 25
    assert v[("inc", "990101000000")] == CONTEXT.divide(D(1750 * 400 + 25 * 4), D(404))
