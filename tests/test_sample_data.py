"""The sample city 示范市 (sample_data/): deterministic, clean in content, messy in form, and
read back by `revstat extract` to the generator's own totals (expected_totals.json)."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import shutil
import sys
import unicodedata
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from revstat.numbers import parse_number
from revstat.workspace import load_workspace

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
EXPECTED = json.loads((SAMPLE / "expected_totals.json").read_text(encoding="utf-8"))
PERIODS = [f"{y}Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)]
CITY = "990100000000"


def _load_generator():
    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while it loads
    spec.loader.exec_module(module)
    return module


def _cells(path: Path) -> dict[str, tuple[list[list[object]], list[object]]]:
    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        out[name] = (sheet.to_python(skip_empty_area=False), sorted(sheet.merged_cell_ranges or []))
    return out


# ---- determinism ---------------------------------------------------------------------

def test_generator_is_deterministic(tmp_path: Path) -> None:
    _load_generator().generate(tmp_path)
    committed = sorted(p.relative_to(SAMPLE).as_posix() for p in (SAMPLE / "data").rglob("*.xlsx"))
    fresh = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "data").rglob("*.xlsx"))
    assert fresh == committed
    assert len(committed) == 8 * 6
    for rel in committed:
        assert _cells(tmp_path / rel) == _cells(SAMPLE / rel), rel
    for name in ("regions.csv", "expected_totals.json"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (SAMPLE / name).read_text(encoding="utf-8")


def test_sample_is_small() -> None:
    size = sum(p.stat().st_size for p in (SAMPLE / "data").rglob("*") if p.is_file())
    assert size < 3 * 1024 * 1024


# ---- regions ---------------------------------------------------------------------------

def test_sample_workspace_loads_with_the_city_as_region() -> None:
    ws = load_workspace(SAMPLE)
    assert ws.config.region == CITY
    tree = ws.regions
    assert tree.name(CITY) == "示范市" and tree.level("990000000000") == "province"
    counties = tree.children[CITY]
    assert len(counties) >= 5 and "990121000000" in counties and tree.name("990121000000") == "东山县"
    for county in counties:
        townships = tree.children[county]
        assert 8 <= len(townships) <= 12
        for code in townships:
            assert code[:6] == county[:6] and code[9:] == "000" and tree.level(code) == "township"
            block = int(code[6:9])
            name = tree.name(code)
            assert (name.endswith("街道") and block < 100) or (name.endswith("镇") and 100 <= block < 200) \
                or (name.endswith("乡") and 200 <= block < 400), (code, name)
            villages = tree.children[code]
            assert len(villages) == 5 and all(tree.level(v) == "village" and v[:9] == code[:9] for v in villages)
            assert len({tree.name(v) for v in villages}) == 5
    assert any(tree.name(c).endswith("街道") for c in tree.descendants(CITY))


def test_township_names_repeat_across_counties_and_match_within_one() -> None:
    tree = load_workspace(SAMPLE).regions
    chengguan = [c for c, r in tree.regions.items() if r.name == "城关镇"]
    assert len(chengguan) == 2
    assert {tree.match(" 城关　镇", within=tree.regions[c].parent) for c in chengguan} == set(chengguan)


# ---- content: clean (the checks' relations hold on every county) --------------------------

def _county_totals(period: str) -> dict[str, dict[str, Decimal]]:
    counties = EXPECTED["periods"][period]["counties"]
    return {code: {f: Decimal(v) for f, v in c["fields"].items()} for code, c in counties.items()}


@pytest.mark.parametrize("period", PERIODS)
def test_balances_hold_for_every_county(period: str) -> None:
    missing = {m["field"] for m in EXPECTED["periods"][period]["missing"]}
    for code, v in _county_totals(period).items():
        for what in ("households", "persons"):
            assert v[f"monitored_{what}"] == v[f"eliminated_{what}"] + v[f"remaining_{what}"], code
        assert v["monitored_persons"] >= v["monitored_households"]
        assert v["new_monitored_persons"] >= v["new_monitored_households"]
        assert v["remaining_assisted_households"] <= v["remaining_households"]
        assert v["sanitary_toilet_households"] <= v["rural_households"]
        for f in ("sewage_treated_villages", "garbage_system_villages", "villages_income_over_50k"):
            assert v[f] <= v["admin_villages"], f
        assert v["linkage_funds_industry"] <= v["linkage_funds"] and v["funds_spent"] <= v["linkage_funds"]
        assert v["projects_completed"] <= v["projects_started"] <= v["projects_planned"]
        assert v["inpatient_reimbursed"] <= v["inpatient_cost"]
        assert v["pension_insured"] <= v["pension_should"] <= v["poverty_persons"]
        assert v["scale_water_population"] <= v["tap_water_population"] <= v["rural_population"]
        assert v["disputes_resolved"] <= v["disputes_found"] and v["problems_rectified"] <= v["problems_found"]
        assert v["relocated_labor_employed"] <= v["relocated_labor"] <= v["relocated_persons"]
        if "family_doctor_signed" not in missing:
            assert v["family_doctor_signed"] <= v["poverty_persons"]


def test_exactly_one_county_misses_the_toilet_target() -> None:
    below = [code for code, v in _county_totals("2024Q4").items()
             if v["sanitary_toilet_households"] * 100 < v["rural_households"] * 65]
    assert below == ["990124000000"]  # 北川县
    for v in _county_totals("2024Q4").values():
        rate = v["sanitary_toilet_households"] * 100 / v["rural_households"]
        assert 55 <= rate <= 90


def test_cumulative_fields_grow_within_the_year_and_restart() -> None:
    temporal = {f.id: f.temporal for f in load_workspace(SAMPLE).fields().values()}
    cumulative = [f for f, kind in temporal.items() if kind == "cumulative"]
    assert len(cumulative) >= 10
    city = {p: {f: Decimal(v) for f, v in EXPECTED["periods"][p]["city"]["fields"].items()} for p in PERIODS}
    for f in cumulative:
        if f == "stations_5g_built":  # has missing cells; compared per township below
            continue
        for year in ("2023", "2024"):
            values = [city[f"{year}Q{q}"][f] for q in (1, 2, 3, 4)]
            assert values == sorted(values) and values[0] < values[3], (f, values)
        assert city["2024Q1"][f] < city["2023Q4"][f], f


def test_2024_incomes_and_funds_grow_5_to_15_percent() -> None:
    a, b = _county_totals("2023Q4"), _county_totals("2024Q4")
    for code in a:
        for f in ("linkage_funds", "collective_income", "rural_income_per_capita", "poverty_income_per_capita"):
            growth = b[code][f] / a[code][f] - 1
            assert Decimal("0.05") <= growth <= Decimal("0.15"), (code, f, growth)


def test_full_year_incomes_are_plausible_and_q1_is_about_a_quarter() -> None:
    n = 10  # townships per county: a plain mean of per-capita values, good enough for a range
    for code, v in _county_totals("2023Q4").items():
        assert 14000 <= v["rural_income_per_capita"] / n <= 17000, code
        q1 = _county_totals("2023Q1")[code]["rural_income_per_capita"] / v["rural_income_per_capita"]
        assert Decimal("0.24") <= q1 <= Decimal("0.30")


# ---- form: messy the way counties send it; an independent reading gives the totals -----------

_BRACKET = re.compile(r"[（(][^）)]*[）)]$")


def _norm(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text))
    return _BRACKET.sub("", "".join(s.split()))


def _read_sheet(rows: list[list[object]], merged: list) -> tuple[dict[str, dict[str, Decimal | None]], dict, str]:
    """A deliberately simple reader of the sample's layout (not revstat's): header row = the
    row with 乡镇; parent cells propagate over their merged children."""
    top = next(i for i, r in enumerate(rows) if any(_norm(c) == "乡镇" for c in r))
    parents = list(rows[top])
    for (r0, c0), (r1, c1) in merged:
        if r0 == top and r1 == top:
            for c in range(c0, c1 + 1):
                parents[c] = rows[top][c0]
    headers = {}
    for c, parent in enumerate(parents):
        child = rows[top + 1][c]
        headers[c] = f"{_norm(parent)}/{_norm(child)}" if _norm(child) else _norm(parent)
    region_col = next(c for c, h in headers.items() if h == "乡镇")
    unit = next(str(c) for r in rows[:top] for c in r if str(c).startswith("单位："))
    data, total = {}, {}
    for r in rows[top + 2:]:
        name = _norm(r[region_col])
        if not name or name in ("甲", "乙") or name.startswith(("说明", "单位负责人")):
            continue
        values = {h: parse_number(r[c] if r[c] != "" else None) for c, h in headers.items() if c > region_col}
        if name == "合计":
            total = values
        else:
            data[name] = values
    return data, total, unit


def _fields_by_header() -> dict[str, dict[str, tuple[str, str]]]:
    ws = load_workspace(SAMPLE)
    return {s.sheet.rstrip("*"): {_norm("/".join(_norm(p) for p in f.column.split("/"))): (f.id, f.unit)
                                  for f in s.fields} for s in ws.sources if s.kind != "records"}


@pytest.mark.parametrize("period", ["2023Q1", "2024Q4"])
def test_workbooks_hold_the_expected_totals(period: str) -> None:
    tree = load_workspace(SAMPLE).regions
    sheets = _fields_by_header()
    expected = EXPECTED["periods"][period]["counties"]
    seen_units, seen_text, total_rows = set(), 0, 0
    for code, county in expected.items():
        sums: dict[str, Decimal] = defaultdict(Decimal)
        got_fields: set[str] = set()
        for sheet_name, (rows, merged) in _cells(SAMPLE / county["file"]).items():
            prefix = next(p for p in sheets if sheet_name.startswith(p))
            data, total, unit = _read_sheet(rows, merged)
            seen_units.add(unit)
            assert len(data) == len(tree.children[code])
            for name in data:
                assert tree.match(name, within=code, level="township") in tree.children[code]
            for header, (fid, funit) in sheets[prefix].items():
                scale = Decimal(10000) if (funit == "万元" and unit == "单位：元") else Decimal(1)
                got_fields.add(fid)
                column = [v[header] for v in data.values()]
                s = sum((x for x in column if x is not None), Decimal(0))
                sums[fid] = s / scale
                assert total[header] == s, (county["name"], sheet_name, header)  # 合计 rows are right
                total_rows += 1
            seen_text += sum(isinstance(c, str) and bool(re.search(r"[０-９]|\d,\d", c)) for r in rows for c in r)
        assert got_fields == set(county["fields"])
        for fid, value in county["fields"].items():
            assert sums[fid] == Decimal(value), (county["name"], fid)
    assert "单位：元" in seen_units and "单位：万元" in seen_units
    assert seen_text > 10  # numbers typed as text ("1,234", "１２３")
    assert total_rows > 0


def test_missing_cells_are_listed_and_blank_in_the_workbooks() -> None:
    count = 0
    for period in PERIODS:
        for m in EXPECTED["periods"][period]["missing"]:
            sheet, a1 = m["cell"].split("!")
            rows = _cells(SAMPLE / m["file"])[sheet][0]
            col = ord(a1[0]) - ord("A")
            row = int(a1[1:]) - 1
            assert rows[row][col] in ("", "—"), m
            count += 1
    assert 0 < count <= 3 * len(PERIODS)


def test_one_county_reports_funds_in_yuan() -> None:
    """西河县's funds sheet says 单位：元 and holds 10000× the 万元 values."""
    county = EXPECTED["periods"]["2024Q4"]["counties"]["990122000000"]
    rows = _cells(SAMPLE / county["file"])["4-衔接资金和项目"][0]
    assert any(c == "单位：元" for r in rows for c in r)
    total_row = next(r for r in rows if "合计" in r)
    funds_col = next(c for c, v in enumerate(rows[next(i for i, r in enumerate(rows) if "下达资金" in r)])
                     if v == "下达资金")
    assert Decimal(str(total_row[funds_col])) == Decimal(county["fields"]["linkage_funds"]) * 10000


# ---- `revstat extract` reproduces the totals (needs the reader: issue 2 items 4–6) ----------

@pytest.mark.parametrize("period", ["2024Q4", "2023Q4"])
def test_extract_reproduces_expected_totals(tmp_path: Path, period: str) -> None:
    from revstat.cli import app

    ws = tmp_path / "sample"
    shutil.copytree(SAMPLE, ws, ignore=shutil.ignore_patterns("out", "__pycache__"))
    result = CliRunner().invoke(app, ["extract", str(ws), "--period", period])
    assert result.exit_code == 0, result.output
    path = ws / "out" / period / "observations.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    tree = load_workspace(ws).regions
    expected = EXPECTED["periods"][period]
    missing = {(m["township"], m["field"]) for m in expected["missing"]}
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if row.get("origin", "source") != "source" or row["level"] != "township":
            continue
        if row["field"] not in EXPECTED["units"]:
            continue  # fields of other sources (e.g. household records)
        key = (row["region_code"], row["field"])
        assert key not in seen, f"duplicate observation {key}"
        seen.add(key)
        if row["value"] in ("", None):
            assert key in missing, f"unexpected missing value {key} at {row.get('file')} {row.get('cell')}"
            continue
        assert key not in missing, f"a missing cell was read as a value {key}"
        assert row["period"] == period
        assert row["file"] and row["sheet"] and row["cell"], row
        sums[(tree[row["region_code"]].parent or "", row["field"])] += Decimal(row["value"])
    for code, county in expected["counties"].items():
        for fid, value in county["fields"].items():
            assert sums[(code, fid)] == Decimal(value), (county["name"], fid, sums[(code, fid)], value)
    city = {f: sum((sums[(c, f)] for c in expected["counties"]), Decimal(0)) for f in EXPECTED["units"]}
    assert city == {f: Decimal(v) for f, v in expected["city"]["fields"].items()}
