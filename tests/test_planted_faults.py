"""A copy of sample_data with one planted fault per standard rule: each is found exactly once,
at the cell that was changed; the clean sample raises no errors.

Faults are planted with openpyxl in copies of the 2024Q4 (and, for the across-period rules,
2024Q3) workbooks. Every edit of a township cell also moves the workbook's 合计 cell by the
same amount, so only the totals fault breaks a total. Rules that overlap (a rate over 100 is
also a numerator over its denominator) get their faults in different copies ("batches"); in
each copy only the rules planted there are asserted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from revstat.check_run import check_workspace
from revstat.model import Severity
from revstat.rules import load_rules
from revstat.sources import read_sources
from revstat.workspace import load_workspace

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
P, PREV = "2024Q4", "2024Q3"
TODAY = dt.date(2025, 1, 15)

#: Standard rules a township workbook cannot break, with the reason (unit tests cover them).
NOT_PLANTABLE = {
    "parent_equals_children": "the sample's counties report no figure of their own (only 合计 rows: total_row_equals_rows)",
    "toilet_rate_within_townships": "a county rate rolled up from its townships is a ratio of sums: always within their range",
    "no_duplicate_rows": "the reader already refuses a region reported twice (an input error, exit 2)",
    "not_an_old_report": "a whole workbook sent again, not a cell: tests/test_repeated_report.py",
    "records_agree_with_table": "the sample's household records and table 1 disagree in every county already "
                                "(generated apart): test_the_sample_records_disagree_with_table_1_in_every_county",
}

Edit = tuple[str, int, Callable[[Callable[[str, int], D]], D | None]]  # field, township index, new value


@dataclass
class Fault:
    rule: str
    edits: list[Edit]
    batch: int = 0
    period: str = P  # the period whose workbook is edited
    cell_of: tuple[str, int] | None = None  # the cell the finding must point at (default: first edit)
    region: str = "township"  # township | county (finding's region)
    keep_total: bool = True
    blank_row: bool = False
    county: int | None = None  # edits apply to every township of this county (index in code order)


def _v(fid: str, i: int) -> Callable[[Callable[[str, int], D]], D]:
    return lambda val: val(fid, i)


FAULTS = [
    # ---- batch 0: in-row rules, one township each ---------------------------------------
    Fault("monitored_households_balance", [("monitored_households", 0, lambda v: v("monitored_households", 0) + 1)]),
    Fault("monitored_persons_balance", [("monitored_persons", 1, lambda v: v("monitored_persons", 1) + 1)]),
    Fault("new_persons_ge_households", [("new_monitored_persons", 2, lambda v: v("new_monitored_households", 2) - 1)]),
    Fault("new_le_monitored", [("new_monitored_households", 3, lambda v: v("monitored_households", 3) + 1),
                               ("new_monitored_persons", 3, lambda v: v("monitored_persons", 3) + 1)]),
    Fault("assisted_le_remaining", [("remaining_assisted_households", 4, lambda v: v("remaining_households", 4) + 1)]),
    Fault("risk_types_le_monitored", [("illness_risk_households", 5, lambda v: v("monitored_households", 5))]),
    Fault("eliminated_persons_ge_households", [
        ("eliminated_persons", 6, lambda v: v("eliminated_households", 6) - 1),
        ("remaining_persons", 6, lambda v: v("remaining_persons", 6) + v("eliminated_persons", 6) - v("eliminated_households", 6) + 1)]),
    Fault("monitored_never_falls", [("monitored_households", 7, lambda v: v("monitored_households", 7) + 5)],
          period=PREV),
    Fault("new_monitored_cumulative", [("new_monitored_households", 8, lambda v: v("new_monitored_households", 8) + 5)],
          period=PREV, batch=1),
    Fault("medical_insured_le_poverty_persons", [("medical_insured", 9, lambda v: v("poverty_persons", 9) + 1)]),
    Fault("pension_insured_le_should", [("pension_insured", 10, lambda v: v("pension_should", 10) + 1)]),
    Fault("pension_should_le_poverty_persons", [("pension_should", 11, lambda v: v("poverty_persons", 11) + 1)]),
    Fault("family_doctor_le_poverty_persons", [("family_doctor_signed", 12, lambda v: v("poverty_persons", 12) + 1)]),
    Fault("reimbursed_le_cost", [("inpatient_reimbursed", 13, lambda v: v("inpatient_cost", 13) + D("0.01"))]),
    Fault("renovated_le_unsafe", [("housing_renovated", 14, lambda v: v("housing_unsafe_found", 14) + 1)]),
    Fault("tap_water_le_population", [("tap_water_population", 15, lambda v: v("rural_population", 15) + 1)]),
    Fault("scale_water_le_tap_water", [("scale_water_population", 16, lambda v: v("tap_water_population", 16) + 1)]),
    Fault("poverty_persons_le_rural_population", [("poverty_persons", 17, lambda v: v("rural_population", 17) + 1)]),
    Fault("no_dropouts", [("compulsory_dropouts", 18, lambda v: D(1))]),
    Fault("incomes_not_negative", [("relocated_income_per_capita", 19, lambda v: D(-1))]),
    Fault("income_growth_bound", [("poverty_income_per_capita", 20, lambda v: v("poverty_income_per_capita", 20) * D("1.5"))]),
    Fault("relocated_persons_ge_households", [("relocated_households", 21, lambda v: v("relocated_persons", 21) + 1)]),
    Fault("relocated_labor_le_persons", [("relocated_labor", 22, lambda v: v("relocated_persons", 22) + 1)]),
    Fault("relocated_employed_le_labor", [("relocated_labor_employed", 23, lambda v: v("relocated_labor", 23) + 1)]),
    Fault("relocated_le_poverty_persons", [("relocated_persons", 24, lambda v: v("poverty_persons", 24) + 1)]),
    Fault("industry_funds_le_funds", [("linkage_funds_industry", 25, lambda v: v("linkage_funds", 25) + 1)]),
    Fault("spent_le_allocated", [("funds_spent", 26, lambda v: v("linkage_funds", 26) + 1)]),
    Fault("started_le_planned", [("projects_started", 27, lambda v: v("projects_planned", 27) + 1)]),
    Fault("completed_le_started", [("projects_completed", 28, lambda v: v("projects_started", 28) + 1)]),
    Fault("investment_completed_le_planned", [("investment_completed", 29, lambda v: v("investment_planned", 29) * D("1.2"))]),
    Fault("values_not_negative", [("linkage_funds_industry", 30, lambda v: D(-1))]),
    Fault("toilets_le_households", [("sanitary_toilet_households", 31, lambda v: v("rural_households", 31) + 1)]),
    Fault("sewage_villages_le_villages", [("sewage_treated_villages", 32, lambda v: v("admin_villages", 32) + 1)]),
    Fault("garbage_villages_le_villages", [("garbage_system_villages", 33, lambda v: v("admin_villages", 33) + 1)]),
    Fault("disputes_resolved_le_found", [("disputes_resolved", 34, lambda v: v("disputes_found", 34) + 1)]),
    Fault("problems_rectified_le_found", [("problems_rectified", 35, lambda v: v("problems_found", 35) + 1)]),
    Fault("villages_over_50k_le_villages", [("villages_income_over_50k", 36, lambda v: v("admin_villages", 36) + 1)]),
    Fault("required_fields_present", [("admin_villages", 38, lambda v: None)]),
    Fault("total_row_equals_rows", [("rural_households", 39, lambda v: None)], keep_total=False, region="county"),
    Fault("toilet_rate_outlier", [("sanitary_toilet_households", 40, lambda v: (v("rural_households", 40) / 20).to_integral_value())]),
    # ---- batch 1: rules that overlap with batch 0 -------------------------------------
    Fault("monitored_persons_ge_households", [
        ("monitored_persons", 0, lambda v: v("monitored_households", 0) - 1),
        ("eliminated_persons", 0, lambda v: v("eliminated_households", 0)),
        ("remaining_persons", 0, lambda v: v("remaining_households", 0) - 1)], batch=1),
    Fault("income_cumulative", [("rural_income_per_capita", 1, lambda v: v("rural_income_per_capita", 1) + 100)],
          batch=1, period=PREV),
    Fault("spending_cumulative", [("funds_spent", 2, lambda v: v("funds_spent", 2) + 1)], batch=1, period=PREV),
    Fault("infrastructure_cumulative", [("road_km_built", 3, lambda v: v("road_km_built", 3) + 1)], batch=1, period=PREV),
    Fault("governance_cumulative", [("collective_income", 4, lambda v: v("collective_income", 4) + 1)], batch=1, period=PREV),
    Fault("rates_within_0_100", [("sewage_treated_villages", 5, lambda v: D(-1))], batch=1),
    Fault("small_denominators", [
        ("remaining_assisted_households", 6, lambda v: D(2)),
        ("remaining_households", 6, lambda v: D(2)),
        ("eliminated_households", 6, lambda v: v("monitored_households", 6) - 2),
        ("housing_unsafe_found", 6, lambda v: max(v("housing_unsafe_found", 6), D(3))),
        ("housing_renovated", 6, lambda v: max(v("housing_unsafe_found", 6), D(3)))], batch=1),
    Fault("regions_complete", [("rural_households", 7, lambda v: None)], batch=1, blank_row=True),
    # ---- batch 2: whole-county changes ------------------------------------------------
    Fault("funds_growth_bound", [("linkage_funds", 0, lambda v: v("linkage_funds", 0) * 30)], batch=1, region="county"),
    Fault("stocks_do_not_jump", [("admin_villages", 12, lambda v: v("admin_villages", 12) * 2)], batch=2),
    Fault("toilet_rate_target", [("sanitary_toilet_households", -1, lambda v, i: (v("rural_households", i) / 2).to_integral_value())],
          batch=2, region="county", county=0),
    Fault("indicator_targets", [("medical_insured", -1, lambda v, i: (v("poverty_persons", i) * D("0.9")).to_integral_value())],
          batch=2, region="county", county=1),
]


@dataclass
class Sample:
    root: Path
    obs: dict[str, object] = field(default_factory=dict)  # period → observations
    towns: list[str] = field(default_factory=list)
    counties: list[list[str]] = field(default_factory=list)  # townships of each county, code order


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Sample:
    root = tmp_path_factory.mktemp("planted") / "clean"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("data", "out"))
    for period in (P, PREV, "2023Q4"):
        shutil.copytree(SAMPLE / "data" / period, root / "data" / period)
    ws = load_workspace(root)
    out = Sample(root)
    for period in (P, PREV):
        out.obs[period] = read_sources(ws, [period]).observations
    obs = out.obs[P]
    missing = set(obs[obs["value"].isna()]["region_code"])
    towns = sorted(set(obs[(obs["origin"] == "source") & (obs["level"] == "township")]["region_code"]) - missing)
    # interleave counties so consecutive indexes fall in different counties
    by_county: dict[str, list[str]] = {}
    for code in towns:
        by_county.setdefault(code[:6], []).append(code)
    out.towns = [c for group in itertools.zip_longest(*by_county.values()) for c in group if c is not None]
    out.counties = [by_county[k] for k in sorted(by_county)]
    return out


@pytest.fixture(scope="module")
def clean_report(sample):
    return check_workspace(load_workspace(sample.root), P, today=TODAY)


def _cell(obs, fid: str, region: str, origin: str = "source"):
    row = obs[(obs["field"] == fid) & (obs["region_code"] == region) & (obs["origin"] == origin)]
    assert len(row) == 1, (fid, region, origin)
    r = row.iloc[0]
    return r["file"], r["sheet"], r["cell"], r["value"]


def _total_cell(obs, fid: str, file: str, sheet: str):
    row = obs[(obs["field"] == fid) & (obs["file"] == file) & (obs["sheet"] == sheet) & (obs["origin"] == "total")]
    return (row.iloc[0]["cell"], row.iloc[0]["value"]) if len(row) else (None, None)


def _num(value: D | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def plant(sample: Sample, faults: list[Fault], dest: Path) -> dict[str, set[tuple[str, str, str]]]:
    """Copy the clean workspace and plant the faults; returns rule → the cells changed."""
    shutil.copytree(sample.root, dest)
    changed: dict[str, set[tuple[str, str, str]]] = {}
    books: dict[Path, openpyxl.Workbook] = {}

    def book(file: str) -> openpyxl.Workbook:
        path = dest / file
        if path not in books:
            books[path] = openpyxl.load_workbook(path)
        return books[path]

    def val(fid: str, i: int) -> D:  # values of 2024Q4, also for faults planted in 2024Q3
        return D(str(_cell(sample.obs[P], fid, sample.towns[i])[3]))

    for fault in faults:
        obs = sample.obs[fault.period]
        cells = changed.setdefault(fault.rule, set())
        edits: list[tuple[str, int, Callable]] = []
        for fid, i, fn in fault.edits:
            if fault.county is None:
                edits.append((fid, i, fn))
            else:
                edits += [(fid, sample.towns.index(c), lambda v, fn=fn, j=sample.towns.index(c): fn(v, j))
                          for c in sample.counties[fault.county]]
        for fid, i, fn in edits:
            region = sample.towns[i]
            file, sheet, cell, old = _cell(obs, fid, region)
            new = fn(val)
            sheet_ws = book(file)[sheet]
            tcell, tval = _total_cell(obs, fid, file, sheet)
            scale = _scale(sheet_ws, cell, old, tcell, tval)  # 1, or 10000 on a sheet in 元
            if not fault.keep_total:  # the 合计 cell itself is the fault
                sheet_ws[tcell].value = _num((D(str(tval)) + 1) * scale)
                cells.add((file, sheet, tcell))
                continue
            sheet_ws[cell].value = _num(None if new is None else new * scale)
            cells.add((file, sheet, cell))
            if tcell is not None and tval is not None:
                delta = (new or D(0)) - (D(str(old)) if old is not None else D(0))
                sheet_ws[tcell].value = _num((D(str(tval)) + delta) * scale)
            if fault.blank_row:
                _blank_region(sample, obs, region, book)
    for path, wb in books.items():
        wb.save(path)
    return changed


def _scale(sheet_ws, cell: str, old, tcell, tval) -> D:
    from revstat.numbers import parse_number

    for ref, value in ((cell, old), (tcell, tval)):
        if ref is None or value is None or D(str(value)) == 0:
            continue
        raw = parse_number(sheet_ws[ref].value)
        if raw is not None:
            return (raw / D(str(value))).quantize(D(1))
    return D(1)


def _blank_region(sample: Sample, obs, region: str, book) -> None:
    """Remove a township from every sheet: blank its name and cells, and take it out of 合计."""
    rows = obs[(obs["region_code"] == region) & (obs["origin"] == "source")]
    for r in rows.itertuples(index=False):
        sheet_ws = book(r.file)[r.sheet]
        if r.value is not None:
            tcell, tval = _total_cell(obs, r.field, r.file, r.sheet)
            if tcell is not None and tval is not None:
                sheet_ws[tcell].value = _num(D(str(tval)) - D(str(r.value)))
        sheet_ws[r.cell].value = None
        row_number = int("".join(ch for ch in r.cell if ch.isdigit()))
        sheet_ws.cell(row=row_number, column=1).value = None


def _key(issue) -> tuple:
    return (issue.rule, issue.region_code, issue.period, issue.message.zh)


def test_every_standard_rule_has_a_planted_fault_or_a_reason():
    rules = {r.id for r in load_rules(load_workspace(SAMPLE))}
    planted = {f.rule for f in FAULTS}
    assert planted | set(NOT_PLANTABLE) == rules, sorted(rules - planted - set(NOT_PLANTABLE))
    assert not planted & set(NOT_PLANTABLE)


def test_clean_sample_has_no_errors(clean_report):
    errors = [i for i in clean_report.issues if i.severity is Severity.ERROR]
    assert errors == [], [i.message.zh for i in errors]


@pytest.mark.parametrize("batch", sorted({f.batch for f in FAULTS}))
def test_each_planted_fault_found_exactly_once_at_its_cell(sample, clean_report, tmp_path, batch):
    faults = [f for f in FAULTS if f.batch == batch]
    changed = plant(sample, faults, tmp_path / f"batch{batch}")
    report = check_workspace(load_workspace(tmp_path / f"batch{batch}"), P, today=TODAY)
    before = {_key(i) for i in clean_report.issues}
    new = [i for i in report.issues if _key(i) not in before]
    problems = []
    for fault in faults:
        found = [i for i in new if i.rule == fault.rule]
        if len(found) != 1:
            problems.append(f"{fault.rule}: {len(found)} new findings {[i.message.zh for i in found]}")
            continue
        issue = found[0]
        if fault.blank_row:  # a missing township has no cell: the finding names the county's file
            changed[fault.rule] = {(f, None, None) for f, _, _ in changed[fault.rule]}
        where = {(loc.file, loc.sheet, loc.cell) for loc in issue.locations}
        if not changed[fault.rule] & where:
            problems.append(f"{fault.rule}: cells {sorted(changed[fault.rule])} not in {sorted(where)}")
        if fault.county is not None:
            town = sample.counties[fault.county][0]
        else:
            town = sample.towns[fault.edits[0][1]]
        expected_region = town if fault.region == "township" else town[:6] + "000000"
        if issue.region_code != expected_region:
            problems.append(f"{fault.rule}: region {issue.region_code} != {expected_region}")
    assert not problems, "\n".join(problems)


def test_the_sample_records_disagree_with_table_1_in_every_county(clean_report):
    """表间审核: the same figure from two sources. The sample's household records were generated apart
    from its workbooks, so every county's count of households in them differs from table 1's
    累计纳入监测户数 by more than the rule's 1 %: 东山县 1998 against 1713 (by hand from
    data/2024Q4/records/households.parquet and the county's table 1)."""
    found = {i.region_name: i for i in clean_report.issues if i.rule == "records_agree_with_table"}
    assert len(found) == 6  # the six counties
    east = found["东山县"]
    assert (east.actual, east.expected, east.difference) == (D(1998), D(1713), D(285))
    assert "东山县户级数据中有监测户1998户，表1填报累计纳入监测对象1713户，相差285户" in east.message.zh


def test_one_wrong_cell_is_named_once_as_the_cause_of_its_findings(sample, clean_report, tmp_path):
    """行政村数 typed as -5 breaks every rule that reads it. By hand, from the standard rules: it is
    negative (values_not_negative); 生活污水治理、生活垃圾收运处置 and 集体经济收入5万元以上 村数 are each
    over it (three ``*_le_villages``); the three rates over it are below 0 (rates_within_0_100 ×3);
    and it fell from last quarter's value by 200 % (stocks_do_not_jump): 8 findings, all at the
    township's 行政村数 cell, which `shared_cells` names once."""
    from revstat.cli.cmd_check import show_shared_cells
    from revstat.writers.findings import shared_cells

    town = sample.towns[0]
    file, sheet, cell, _ = _cell(sample.obs[P], "admin_villages", town)
    plant(sample, [Fault("values_not_negative", [("admin_villages", 0, lambda v: -v("admin_villages", 0))])],
          tmp_path / "neg")
    report = check_workspace(load_workspace(tmp_path / "neg"), P, today=TODAY)
    shared = shared_cells(report.issues)
    assert len(shared) == 1
    loc, found = shared[0]
    assert (loc.file, loc.sheet, loc.cell) == (file, sheet, cell)
    assert sorted(i.rule for i in found) == sorted([
        "values_not_negative", "sewage_villages_le_villages", "garbage_villages_le_villages",
        "villages_over_50k_le_villages", "rates_within_0_100", "rates_within_0_100", "rates_within_0_100",
        "stocks_do_not_jump"])
    assert {i.region_code for i in found} == {town}

    import io

    from rich.console import Console

    buf = io.StringIO()
    show_shared_cells(report.issues, Console(file=buf, width=400, color_system=None))
    text = buf.getvalue()
    assert "同一单元格牵涉多条问题" in text
    assert f"{file} › {sheet} › {cell}（{found[0].region_name}）：8 条（" in text
    assert "rates_within_0_100 ×3" in text


def test_no_cell_is_named_as_shared_in_the_clean_sample_or_where_faults_are_apart(sample, clean_report, tmp_path):
    """Forty faults in forty townships (batch 0) break one rule each: no cell is behind three
    findings, and a county total's finding (citing every township's cell) does not make one."""
    from revstat.writers.findings import shared_cells

    assert shared_cells(clean_report.issues) == []
    plant(sample, [f for f in FAULTS if f.batch == 0], tmp_path / "apart")
    report = check_workspace(load_workspace(tmp_path / "apart"), P, today=TODAY)
    assert len([i for i in report.issues if i.severity is not Severity.INFO]) > 40
    assert shared_cells(report.issues) == []
