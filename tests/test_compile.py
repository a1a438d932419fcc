"""End to end on a copy of the sample city: `revstat compile`, `explain`, `indicators`, `schema`.

City values in indicators.csv are recomputed here by hand (Decimal) from observations.csv,
which `revstat extract` writes — the same cells, summed and divided independently.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import defaultdict
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revstat.cli import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
CITY = "990100000000"
TOL = D("1e-20")


def copy_sample(dest: Path) -> Path:
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("out", "__pycache__"))
    return dest


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    ws = copy_sample(tmp_path_factory.mktemp("e2e") / "ws")
    for period in ("2023Q4", "2024Q4"):
        res = invoke("extract", str(ws), "--period", period)
        assert res.exit_code == 0, res.output
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert res.exit_code == 0, res.output
    return ws, res.output


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV for Excel needs a BOM"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def by_region_field(obs: list[dict[str, str]], period: str) -> dict[str, dict[str, D | None]]:
    """field → region → value of the reported (origin source) rows of a period."""
    out: dict[str, dict[str, D | None]] = defaultdict(dict)
    for r in obs:
        if r["period"] == period and r["origin"] == "source":
            out[r["field"]][r["region_code"]] = D(r["value"]) if r["value"] != "" else None
    return out


def total(values: dict[str, D | None]) -> D:
    return sum((v for v in values.values() if v is not None), D(0))


def wmean(x: dict[str, D | None], w: dict[str, D | None]) -> D:
    pairs = [(x[k], w.get(k)) for k in x if x[k] is not None and w.get(k) is not None]
    return sum((a * b for a, b in pairs), D(0)) / sum((b for _, b in pairs), D(0))


def city_rows(ws: Path) -> dict[str, dict[str, str]]:
    rows = read_csv(ws / "out" / "2024Q4" / "indicators.csv")
    return {r["indicator"]: r for r in rows if r["region_code"] == CITY}


def test_writes_the_four_files(compiled):
    ws, output = compiled
    out = ws / "out" / "2024Q4"
    for name in ("indicators.csv", "indicators.json", "indicators.xlsx", "findings.json"):
        assert (out / name).is_file(), name
    rows = json.loads((out / "indicators.json").read_text(encoding="utf-8"))
    assert {"indicator", "name", "region_code", "region_name", "level", "period", "value", "display", "unit",
            "numerator", "denominator", "target", "target_met", "note", "previous", "change",
            "change_display"} <= set(rows[0])
    assert "findings" in json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert "农村卫生厕所普及率" in output  # the headline table


def test_city_values_equal_hand_recomputation_from_observations(compiled):
    ws, _ = compiled
    obs = read_csv(ws / "out" / "2024Q4" / "observations.csv") + read_csv(ws / "out" / "2023Q4" / "observations.csv")
    now, last = by_region_field(obs, "2024Q4"), by_region_field(obs, "2023Q4")
    city = city_rows(ws)

    rate = total(now["sanitary_toilet_households"]) / total(now["rural_households"]) * 100
    assert abs(D(city["sanitary_toilet_rate"]["value"]) - rate) < TOL
    assert D(city["sanitary_toilet_rate"]["numerator"]) == total(now["sanitary_toilet_households"])
    assert city["sanitary_toilet_rate"]["display"] == str(rate.quantize(D("0.01"), rounding="ROUND_HALF_UP"))

    elim = total(now["eliminated_households"]) / total(now["monitored_households"]) * 100
    assert abs(D(city["risk_eliminated_rate_households"]["value"]) - elim) < TOL
    elim_last = total(last["eliminated_households"]) / total(last["monitored_households"]) * 100
    assert abs(D(city["risk_eliminated_rate_households"]["change"]) - (elim - elim_last)) < TOL

    assert D(city["linkage_funds_total"]["value"]) == total(now["linkage_funds"])

    income = wmean(now["rural_income_per_capita"], now["rural_population"])
    income_last = wmean(last["rural_income_per_capita"], last["rural_population"])
    assert abs(D(city["rural_income"]["value"]) - income) < D("1e-15")
    growth = (income / income_last - 1) * 100
    assert abs(D(city["rural_income_growth"]["value"]) - growth) < D("1e-15")

    progress = total(now["funds_spent"]) / total(now["linkage_funds"]) * 100 - 100  # Q4: 100% elapsed
    assert abs(D(city["funds_progress_vs_time"]["value"]) - progress) < TOL

    gap_now = (wmean(now["relocated_income_per_capita"], now["relocated_persons"])
               / wmean(last["relocated_income_per_capita"], last["relocated_persons"]) - 1) * 100 \
        - (wmean(now["poverty_income_per_capita"], now["poverty_persons"])
           / wmean(last["poverty_income_per_capita"], last["poverty_persons"]) - 1) * 100
    assert abs(D(city["relocated_growth_gap"]["value"]) - gap_now) < D("1e-15")


def test_a_rate_with_a_blank_numerator_cell_is_over_the_townships_that_reported_both(compiled):
    # the sample leaves 北川县 曲山镇's 家庭医生签约人数 blank (sample_data/README.md): its 脱贫人口数
    # must not count as people without a family doctor
    ws, _ = compiled
    now = by_region_field(read_csv(ws / "out" / "2024Q4" / "observations.csv"), "2024Q4")
    signed, persons = now["family_doctor_signed"], now["poverty_persons"]
    both = [c for c, v in signed.items() if v is not None and persons.get(c) is not None]
    assert len(both) == len(persons) - 1  # exactly one township lacks the numerator
    rate = sum((signed[c] for c in both), D(0)) / sum((persons[c] for c in both), D(0)) * 100
    row = city_rows(ws)["family_doctor_rate"]
    assert abs(D(row["value"]) - rate) < TOL
    assert row["display"] == str(rate.quantize(D("0.01"), rounding="ROUND_HALF_UP"))
    assert D(row["denominator"]) == sum((persons[c] for c in both), D(0)) < total(persons)
    assert row["incomplete"] == "true" and row["note"].startswith("部分下级地区缺数，比率按分子、分母都齐全的下级地区计算")


def test_missing_cells_make_the_city_incomplete(compiled):
    ws, _ = compiled
    obs = read_csv(ws / "out" / "2024Q4" / "observations.csv")
    blanks = {r["field"] for r in obs if r["origin"] == "source" and r["value"] == ""}
    city = city_rows(ws)
    assert (city["new_5g_stations"]["incomplete"] == "true") == ("stations_5g_built" in blanks)
    assert city["sanitary_toilet_rate"]["incomplete"] == "false"


def test_xlsx_has_a_sheet_per_theme_frozen_and_highlighted(compiled):
    import openpyxl

    ws, _ = compiled
    wb = openpyxl.load_workbook(ws / "out" / "2024Q4" / "indicators.xlsx")
    assert {"防返贫动态监测", "农村人居环境和基础设施", "衔接资金和项目"} <= set(wb.sheetnames)
    sheet = wb["农村人居环境和基础设施"]
    assert sheet.freeze_panes == "D3"
    headers = [c.value for c in sheet[1]]
    col = headers.index("农村卫生厕所普及率") + 1
    fills = {}
    for row in sheet.iter_rows(min_row=3):
        fills[row[0].value] = (row[col - 1].value, row[col - 1].fill.fgColor.rgb)
    # 北川县 is under the 65% target (sample_data/README.md): highlighted
    value, colour = fills["990124000000"]
    assert value < 65 and colour.endswith("FFC7CE")
    value, colour = fills[CITY]
    assert value >= 65 and not str(colour).endswith("FFC7CE")
    # villages carry only the household-record figures: they are rows of that sheet alone
    levels = {row[2].value for row in sheet.iter_rows(min_row=3)}
    assert "村" not in levels
    assert len(fills) == 1 + 6 + 60  # the city, 6 counties, 60 townships
    assert "村" in {row[2].value for row in wb["防返贫动态监测"].iter_rows(min_row=3)}
    # an incomplete total (the city's 家庭医生签约率: 曲山镇's numerator is blank) is italic on light yellow
    guarantees = wb["两不愁三保障和饮水安全"]
    col = [c.value for c in guarantees[1]].index("家庭医生签约率")
    city = next(row[col] for row in guarantees.iter_rows(min_row=3) if row[0].value == CITY)
    assert city.font.i and city.fill.fgColor.rgb.endswith("FFF2CC")
    complete = next(row[col] for row in guarantees.iter_rows(min_row=3) if row[0].value == "990121000000")
    assert not complete.font.i  # 东山县 reported every township
    notes = [c.value for row in wb["指标说明"].iter_rows() for c in row if c.value]
    assert any(str(v).startswith("红色：未达到目标；斜体、浅黄底：合计不完整") for v in notes)


def test_xlsx_under_lang_en_is_english_with_the_same_figures(compiled, tmp_path):
    import openpyxl

    ws, _ = compiled
    zh = openpyxl.load_workbook(ws / "out" / "2024Q4" / "indicators.xlsx")
    en_ws = copy_sample(tmp_path / "ws")
    res = invoke("--lang", "en", "compile", str(en_ws), "--period", "2024Q4")
    assert res.exit_code == 0, res.output
    en = openpyxl.load_workbook(en_ws / "out" / "2024Q4" / "indicators.xlsx")
    assert en.sheetnames[0] == "Monitoring" and en.sheetnames[-1] == "Indicators"
    assert len(en.sheetnames) == len(zh.sheetnames)
    sheet, before = en["Living environment"], zh["农村人居环境和基础设施"]
    assert [c.value for c in sheet[1]][:4] == ["Region code", "Region", "Level", "Rural sanitary toilet coverage"]
    assert [c.value for c in sheet[2]][3] == "% (target >= 65)"
    assert [c.value for c in before[2]][3] == "%（目标 >= 65）"
    # the same rows and figures; the level in English, the region's own name as written
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    assert rows[0][2] == "city" and {r[2] for r in rows} == {"city", "county", "township"}
    assert [r[:2] + r[3:] for r in rows] == [[c.value for c in r][:2] + [c.value for c in r][3:]
                                             for r in before.iter_rows(min_row=3)]
    notes = en["Indicators"]
    assert [c.value for c in notes[1]] == ["Theme", "Indicator", "id", "Unit", "Decimals", "Target", "Formula", "Basis"]
    toilets = next(r for r in notes.iter_rows(min_row=2, values_only=True) if r[2] == "sanitary_toilet_rate")
    assert toilets[:4] == ("Living environment and infrastructure", "Rural sanitary toilet coverage",
                           "sanitary_toilet_rate", "%")
    assert toilets[7] == "households with a sanitary toilet ÷ rural resident households × 100%"  # basis_en
    assert any(str(r[0]).startswith("Red: target missed") for r in notes.iter_rows(values_only=True) if r[0])


def test_input_error_exits_2_and_keeps_previous_outputs(tmp_path):
    ws = copy_sample(tmp_path / "ws")
    (ws / "data" / "2024Q4" / "坏文件.xlsx").write_bytes(b"not a workbook at all")
    out = ws / "out" / "2024Q4"
    out.mkdir(parents=True)
    (out / "marker.txt").write_text("previous", encoding="utf-8")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert res.exit_code == 2
    assert "坏文件.xlsx" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]


def test_explain_shows_terms_children_and_cells(compiled):
    ws, _ = compiled
    res = invoke("explain", "农村卫生厕所普及率", "--region", "东山县", "--period", "2024Q4", "--workspace", str(ws))
    assert res.exit_code == 0, res.output
    assert "sanitary_toilet_households / rural_households * 100" in res.output
    assert "城关镇 990121101000" in res.output  # a child it was summed from
    assert "data/2024Q4/东山县_2024Q4.xlsx › 5-人居环境和基础设施 › " in res.output


def test_english_output_writes_units_and_lists_in_english(compiled):
    ws, _ = compiled
    res = invoke("--lang", "en", "compile", str(ws), "--period", "2024Q4")
    assert res.exit_code == 0, res.output
    assert "pp" in res.output and "10k yuan" in res.output and "(2024Q4, 2023Q4; the checks also read 2024Q3)" in res.output
    assert not re.search(r"个百分点|万元|、|（", res.output)
    # the notes of an English compile name fields in English (the sources' name_en)
    notes = {r["note"] for r in read_csv(ws / "out" / "2024Q4" / "indicators.csv") if r["note"].startswith("no data for")}
    assert "no data for New 5G base stations" in notes and not any(re.search(r"[\u4e00-\u9fff]", n) for n in notes)
    res = invoke("--lang", "en", "explain", "sanitary_toilet_rate", "--region", "东山县", "--period", "2024Q4",
                 "--workspace", str(ws))
    assert res.exit_code == 0, res.output
    assert res.output.startswith("Rural sanitary toilet coverage (sanitary_toilet_rate) — 东山县")
    assert "\n  basis: households with a sanitary toilet ÷ rural resident households × 100%\n" in res.output
    assert "; change 2.39 pp" in res.output and "个百分点" not in res.output
    # the field's English name from its source's name_en
    assert ("sanitary_toilet_households (field: Households with a sanitary toilet) [2024Q4] = 43242, rolled up from below"
            in res.output)
    res = invoke("--lang", "en", "explain", "new_5g_stations", "--region", "示范市", "--period", "2024Q4",
                 "--workspace", str(ws))
    # 个: no unit, no double space; the change is like for like (588 against 493 would be 19.3 %)
    assert "  same period last year: 493 (exact 493); change 20.0 % (like for like, see the note)\n" in res.output
    assert "the total is incomplete; last year's total is incomplete" in res.output and "；" not in res.output
    res = invoke("--lang", "en", "explain", "sanitary_toilet_rate", "--region", "东山县", "--period", "2024Q4",
                 "--workspace", str(ws))
    assert "like for like" not in res.output  # complete both years: the plain change
    # the data files keep the units as the definitions write them
    rows = city_rows(ws)
    assert rows["sanitary_toilet_rate"]["change_unit"] == "个百分点"


def test_explain_a_field_shows_its_value_children_and_cells(compiled):
    ws, _ = compiled
    res = invoke("explain", "卫生厕所户数", "--region", "东山县", "--period", "2024Q4", "--workspace", str(ws))
    assert res.exit_code == 0, res.output
    assert res.output.startswith("卫生厕所户数（字段 sanitary_toilet_households） — 东山县 990121000000 — 2024Q4")
    assert "  数值：43242 户" in res.output and "公式" not in res.output
    assert "城关镇 990121101000: 2679" in res.output  # a child it was summed from
    res = invoke("explain", "rural_households", "--region", "990121101000", "--period", "2024Q4", "--workspace", str(ws))
    assert res.exit_code == 0 and "data/2024Q4/东山县_2024Q4.xlsx › 5-人居环境和基础设施 › B10" in res.output


def test_explain_unknown_indicator_is_exit_2(compiled):
    ws, _ = compiled
    res = invoke("explain", "不存在的指标", "--region", "东山县", "--period", "2024Q4", "--workspace", str(ws))
    assert res.exit_code == 2
    res = invoke("explain", "xyz", "--region", "东山县", "--period", "2024Q4", "--workspace", str(ws))
    assert res.exit_code == 2 and "可能是" not in res.output  # nothing close: no empty suggestion
    assert "错误: 未知的指标或字段 'xyz'" in res.output
    assert "处理: 用指标或字段的 id 或名称；`revstat indicators` 列出全部指标，字段见工作区 sources/*.yaml 的 fields" in res.output


def test_unknown_region_option_says_to_correct_the_option(compiled):
    ws, _ = compiled
    res = invoke("explain", "农村卫生厕所普及率", "--region", "990199000000", "--period", "2024Q4", "--workspace", str(ws))
    assert res.exit_code == 2
    assert "未知的地区代码 990199000000" in res.output and "位置: --region 990199000000" in res.output
    assert "改正 --region 选项" in res.output and "单元格" not in res.output
    report = invoke("--lang", "en", "report", str(ws), "--period", "2024Q4", "-f", "md", "--region", "990199000000")
    assert report.exit_code == 2
    assert "where: --region 990199000000" in report.output and "correct the --region option" in report.output
    assert "cell" not in report.output
    name = invoke("report", str(ws), "--period", "2024Q4", "-f", "md", "--region", "东三县")
    assert name.exit_code == 2 and "改正 --region 选项" in name.output and "东山县" in name.output


def test_indicators_and_schema_commands():
    res = invoke("indicators")
    assert res.exit_code == 0 and "农村卫生厕所普及率" in res.output and ">= 65" in res.output
    res = invoke("schema", "indicators")
    assert res.exit_code == 0
    schema = json.loads(res.output)
    assert "IndicatorDef" in schema["$defs"]
    assert invoke("schema", "nonsense").exit_code == 2


# ---- a workspace of household records --------------------------------------------------------

RECORDS_REGIONS = """code,name,level,parent
990100000000,示范市,city,
990101000000,甲县,county,990100000000
990101001000,一镇,township,990101000000
990101001201,一村,village,990101001000
990101001202,二村,village,990101001000
990102000000,乙县,county,990100000000
990102101000,二镇,township,990102000000
990102101201,三村,village,990102101000
"""
RECORDS_SOURCE = """id: households
name: 户级数据
kind: records
files: "data/{period}/records/*.csv"
region: {column: 村代码, by: code, level: village}
fields:
  - {id: hh_all, name: 监测户数, unit: 户, measure: count}
  - {id: hh_unstable, name: 脱贫不稳定户数, unit: 户, measure: count, where: "监测类型 == '脱贫不稳定户'"}
  - {id: hh_persons, name: 人数, unit: 人, measure: sum, of: 人数}
"""
RECORDS_INDICATORS = """theme: monitoring
indicators:
  - {id: unstable_share, name: 脱贫不稳定户占比, unit: "%", formula: hh_unstable / hh_all * 100, decimals: 1, change: pp}
  - {id: persons_per_household, name: 户均人数, unit: 人, formula: hh_persons / hh_all, decimals: 2, change: none}
"""
HOUSEHOLDS = {  # village → [(persons, type)]
    "990101001201": [(3, "脱贫不稳定户"), (2, "边缘易致贫户"), (4, "脱贫不稳定户")],
    "990101001202": [(1, "突发严重困难户")],
    "990102101201": [(5, "脱贫不稳定户"), (2, "边缘易致贫户")],
}


def test_compile_a_records_workspace(tmp_path):
    ws = tmp_path / "ws"
    (ws / "sources").mkdir(parents=True)
    (ws / "indicators").mkdir()
    (ws / "revstat.yaml").write_text('name: 户级测试\nregion: "990100000000"\n', encoding="utf-8")
    (ws / "regions.csv").write_text(RECORDS_REGIONS, encoding="utf-8")
    (ws / "sources" / "households.yaml").write_text(RECORDS_SOURCE, encoding="utf-8")
    (ws / "indicators" / "local.yaml").write_text(RECORDS_INDICATORS, encoding="utf-8")
    folder = ws / "data" / "2024Q4" / "records"
    folder.mkdir(parents=True)
    with open(folder / "h.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["户编号", "村代码", "人数", "监测类型"])
        for i, (village, households) in enumerate(sorted(HOUSEHOLDS.items())):
            for j, (persons, kind) in enumerate(households):
                w.writerow([f"H{i}{j}", village, persons, kind])
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert res.exit_code == 0, res.output
    rows = {(r["indicator"], r["region_code"]): r for r in read_csv(ws / "out" / "2024Q4" / "indicators.csv")}
    # city: 3 of 6 households are 脱贫不稳定户 → 50.0%; 17 persons / 6 households = 2.83
    assert rows["unstable_share", CITY]["display"] == "50.0"
    assert rows["persons_per_household", CITY]["display"] == "2.83"
    # 甲县: 2 of 4 → 50.0%; 乙县: 1 of 2 → 50.0%; 一村: 2 of 3 → 66.7
    assert rows["unstable_share", "990101001201"]["display"] == "66.7"
    assert rows["persons_per_household", "990101000000"]["display"] == "2.50"  # 10 / 4
    # the standard indicators need fields this workspace lacks: skipped and listed, not an error
    assert "sanitary_toilet_rate" not in {k[0] for k in rows}
    assert "跳过" in res.output


def test_a_period_without_its_household_export_says_which_indicators_it_skips(tmp_path):
    # the records file of 2024Q4 put in the wrong folder: its four indicators used to vanish from the
    # outputs while the footer still counted 63 indicators and --strict passed over them
    ws = copy_sample(tmp_path / "ws")
    shutil.move(ws / "data" / "2024Q4" / "records", ws / "data" / "records-2024Q4")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert res.exit_code == 0, res.output
    assert "户级数据在本期没有文件（data/2024Q4/records/*.parquet），跳过依赖它的 4 个指标：" in res.output
    assert "风险消除率（户级数据）" in res.output
    assert "59 个指标" in res.output
    assert "该文件夹中有" not in res.output and "工作区中别处" not in res.output  # nothing in its place: no hint
    csv_instead = copy_sample(tmp_path / "csv")
    folder = csv_instead / "data" / "2024Q4" / "records"
    next(folder.glob("*.parquet")).rename(folder / "households.csv")  # any file that the pattern misses
    said = invoke("compile", str(csv_instead), "--period", "2024Q4").output
    assert "该文件夹中有 households.csv：若这就是户级数据，把来源的 files 改为与之相符（如 data/2024Q4/records/*.csv）" in said
    ids = {r["indicator"] for r in read_csv(ws / "out" / "2024Q4" / "indicators.csv")}
    assert "records_risk_eliminated_rate" not in ids and "sanitary_toilet_rate" in ids
    strict = invoke("compile", str(ws), "--period", "2024Q4", "--strict")
    assert strict.exit_code == 1
    assert "户级数据在本期没有文件（data/2024Q4/records/*.parquet），跳过了 4 个指标" in strict.output


def test_a_misspelt_records_folder_gets_the_likely_pattern(tmp_path):
    ws = copy_sample(tmp_path / "ws")
    source = ws / "sources" / "7_households.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("/records/", "/record/"), encoding="utf-8")
    said = invoke("compile", str(ws), "--period", "2024Q4").output
    assert "户级数据在本期没有文件（data/2024Q4/record/*.parquet）" in said
    assert "工作区中别处有这样的文件：来源的 files 是否应为 data/{period}/records/*.parquet？" in said


def test_last_years_missing_household_export_is_said_too(tmp_path):
    # 2023Q4's records moved away: the four record-based indicators lost their change without a word
    ws = copy_sample(tmp_path / "ws")
    shutil.move(ws / "data" / "2023Q4" / "records", ws / "data" / "records-2023Q4")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert res.exit_code == 0, res.output
    assert "户级数据在上年同期没有文件（data/2023Q4/records/*.parquet）：依赖它的指标没有同比" in res.output
    strict = invoke("compile", str(ws), "--period", "2024Q4", "--strict")
    assert strict.exit_code == 1 and "户级数据在上年同期没有文件（data/2023Q4/records/*.parquet），相关指标没有同比" in strict.output
    assert "户级数据在上年同期" not in invoke("compile", str(copy_sample(tmp_path / "ok")), "--period", "2024Q4").output


def test_strict_exits_1_on_incomplete_city_figures(compiled):
    ws, _ = compiled
    city = city_rows(ws)
    incomplete = any(r["incomplete"] == "true" for r in city.values())
    res = invoke("compile", str(ws), "--period", "2024Q4", "--strict")
    assert incomplete  # the sample has blank 5G cells (sample_data/README.md)
    assert res.exit_code == 1
    assert "--strict：未通过（退出码 1），原因：" in res.output  # and which condition failed
    assert "示范市有 2 个指标合计不完整（下级地区缺数）：新建5G基站数、家庭医生签约率" in res.output
    # 2023Q4 has blank cells too (南岭县 花桥乡, 清水县 金集镇, 东山县 龙泉镇): three city changes
    # are taken like for like (可比口径), over the townships with a value in both years, so none
    # is against an incomplete last-year total any more
    city = city_rows(ws)  # as the strict compile (in Chinese) wrote them
    assert not [i for i, r in city.items() if r["previous_incomplete"] == "true"]
    for ind in ("family_doctor_rate", "new_5g_stations", "public_welfare_jobs_count"):
        assert "同比按两年都有数的下级地区计算（可比口径）" in city[ind]["note"], ind
    assert "同比以不完整的上年同期数为基数" not in res.output
    # 乡村公益性岗位安置人数 by hand from the townships' rows: Σ this year / Σ last year − 1 over the
    # townships that have both
    towns = [r for r in read_csv(ws / "out" / "2024Q4" / "indicators.csv")
             if r["indicator"] == "public_welfare_jobs_count" and r["level"] == "township"]
    both = [r for r in towns if r["value"] and r["previous"]]
    assert len(both) < len(towns)  # a township blank last year
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 34  # the engine's precision (revstat.numbers.CONTEXT)
        growth = (sum(D(r["value"]) for r in both) / sum(D(r["previous"]) for r in both) - 1) * 100
    assert D(city["public_welfare_jobs_count"]["change"]) == growth
    assert city["public_welfare_jobs_count"]["change_display"] == str(growth.quantize(D("0.1"), decimal.ROUND_HALF_UP))
    assert "审核发现" in res.output and "条错误" not in res.output  # the clean sample has no check errors
    assert (ws / "out" / "2024Q4" / "indicators.csv").is_file()  # written all the same


def test_one_process_and_forked_writing_give_the_same_files(compiled, tmp_path, monkeypatch):
    """REVSTAT_JOBS=1 writes every file in the compiling process; by default the CSV and JSON
    come from a forked child while the checks run (revstat.writers.background). Same bytes."""
    ws = copy_sample(tmp_path / "ws")
    monkeypatch.setenv("REVSTAT_JOBS", "1")
    result = invoke("compile", str(ws), "--period", "2024Q4")
    assert result.exit_code == 0, result.output
    out = ws / "out" / "2024Q4"
    for name in ("indicators.csv", "indicators.json", "findings.json"):
        assert (out / name).read_bytes() == (compiled[0] / "out" / "2024Q4" / name).read_bytes(), name


def test_a_failing_csv_writer_leaves_the_previous_outputs(tmp_path, monkeypatch):
    """The CSV is written in the forked child; when it fails there, it is written again in the
    compiling process, whose error is the one shown (exit 2), and out/<period>/ is unchanged."""
    from revstat.writers import tables

    ws = copy_sample(tmp_path / "ws")
    assert invoke("compile", str(ws), "--period", "2024Q4").exit_code == 0
    out = ws / "out" / "2024Q4"
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tables, "write_indicators_csv", disk_full)
    result = invoke("compile", str(ws), "--period", "2024Q4")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["2024Q4"]  # no temporary folder left


def test_the_footer_counts_the_household_records_read(tmp_path):
    import duckdb

    ws = copy_sample(tmp_path / "ws")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    parquet = ws / "data" / "2024Q4" / "records" / "households.parquet"
    [(n,)] = duckdb.execute(f"SELECT count(DISTINCT 户编号) FROM read_parquet('{parquet}')").fetchall()
    assert f"户级数据：监测户数（户级数据）{n}户（data/2024Q4/records/households.parquet）" in res.output


def test_an_xls_workbook_is_read_and_one_no_source_matches_is_named(tmp_path):
    # a county's workbook saved by old software as .xls: the standard sources (data/{period}/*.xls*)
    # read it; under a source that only matches *.xlsx it used to vanish without a word
    import openpyxl
    import xlwt

    ws = copy_sample(tmp_path / "ws")
    src = ws / "data" / "2024Q4" / "东山县_2024Q4.xlsx"
    book, old = openpyxl.load_workbook(src, data_only=True), xlwt.Workbook()
    for sheet in book.worksheets:
        out = old.add_sheet(sheet.title)
        for r, row in enumerate(sheet.iter_rows(values_only=True)):
            for c, v in enumerate(row):
                if v is not None:
                    out.write(r, c, v)
    old.save(str(src.with_suffix(".xls")))
    src.unlink()
    (ws / "data" / "2024Q4" / "~$西河县_2024Q4.xlsx").write_bytes(b"lock")  # open in Excel
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert res.exit_code == 0, res.output
    assert "读取 12 个文件" in res.output and "未读取" not in res.output
    assert "西河县_2024Q4.xlsx 正在 Excel/WPS 中打开（有锁文件）" in res.output
    # Word's way (the first two characters replaced) names the same workbook; a lock beside no
    # workbook is said to be stray, not an open workbook
    (ws / "data" / "2024Q4" / "~$西河县_2024Q4.xlsx").unlink()
    for lock in ("~$区_2024Q4.xlsx", "~$县_2024Q4.xlsx", "~$东山县_2024Q4.xlsm"):  # 青山区; five 县; none
        (ws / "data" / "2024Q4" / lock).write_bytes(b"lock")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert "\n青山区_2024Q4.xlsx 正在 Excel/WPS 中打开" in res.output
    assert "xlsm 正在" not in res.output and "县_2024Q4.xlsx 正在" not in res.output
    flat = res.output.replace("\n", "")  # the console wraps long lines
    assert "是 Excel/WPS 的锁文件，找不到与它对应的工作簿" in flat
    assert "data/2024Q4/~$县_2024Q4.xlsx" in flat and "data/2024Q4/~$东山县_2024Q4.xlsm" in flat
    east = {r["indicator"]: r["display"] for r in read_csv(ws / "out" / "2024Q4" / "indicators.csv")
            if r["region_name"] == "东山县"}
    assert east["sanitary_toilet_rate"] == "81.62"  # the README's figure, from the .xls now
    for source in (ws / "sources").glob("[1-6]_*.yaml"):
        source.write_text(source.read_text(encoding="utf-8").replace("*.xls*", "*.xlsx"), encoding="utf-8")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert "未读取：data/2024Q4/东山县_2024Q4.xls（没有来源的 files 模式与它相符" in res.output
    # a county that sent a .csv instead: no files pattern can help, it has to be saved as .xlsx
    (ws / "data" / "2024Q4" / "西河县_2024Q4.xlsx").rename(ws / "data" / "2024Q4" / "西河县_2024Q4.csv")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    flat = res.output.replace("\n", "")
    assert "未读取：data/2024Q4/西河县_2024Q4.csv（不是 Excel 工作簿；若是本期报表，请在 Excel/WPS 中打开并另存为 .xlsx" in flat
    assert "西河县_2024Q4.csv …" not in flat and "东山县_2024Q4.xls（没有来源的 files 模式" in flat
    (ws / "data" / "2024Q4" / "西河县_2024Q4.csv").rename(ws / "data" / "2024Q4" / "西河县_2024Q4.xlsx")
    # household records kept as CSV in the period's own folder are read by their source, not "unread"
    import duckdb

    records = ws / "sources" / "7_households.yaml"
    records.write_text(records.read_text(encoding="utf-8").replace("data/{period}/records/*.parquet",
                                                                   "data/{period}/*.csv"), encoding="utf-8")
    for period in ("2023Q4", "2024Q4"):
        for f in (ws / "data" / period / "records").glob("*.parquet"):
            duckdb.execute(f"COPY (SELECT * FROM read_parquet('{f}')) TO '{ws / 'data' / period / 'hh.csv'}' (HEADER)")
            f.unlink()
    (ws / "data" / "2024Q4" / "东山县_2024Q4.xls").unlink()
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert "未读取" not in res.output and "户级数据在本期没有文件" not in res.output, res.output


def test_a_county_whose_workbook_is_missing_is_named_in_the_footer(tmp_path):
    ws = copy_sample(tmp_path / "ws")
    (ws / "data" / "2024Q4" / "西河县_2024Q4.xlsx").unlink()
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert res.exit_code == 1  # regions_complete is an error
    assert "\n没有数据：西河县（下级地区全部缺数，没有收到或没有读取其报表；合计不含这些地区）\n" in res.output
    res = invoke("compile", str(copy_sample(tmp_path / "whole")), "--period", "2024Q4")
    assert res.exit_code == 0 and "没有数据" not in res.output  # 北川县's one blank township is not a missing county


def test_hidden_rows_skipped_are_named_in_the_footer(tmp_path):
    # a township row hidden in Excel and hidden: exclude: the 合计 then differs; the footer says why
    import openpyxl

    ws = copy_sample(tmp_path / "ws")
    path = ws / "data" / "2024Q4" / "东山县_2024Q4.xlsx"
    book = openpyxl.load_workbook(path)
    book.worksheets[0].row_dimensions[12].hidden = True
    book.save(path)
    config = ws / "revstat.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("hidden: include", "hidden: exclude"), encoding="utf-8")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    flat = res.output.replace("\n", "")
    assert "隐藏的行或工作表（按 hidden 设置处理）：data/2024Q4/东山县_2024Q4.xlsx › 1-防返贫监测情况 › 12:12（已跳过）" in flat


def test_the_footer_names_the_period_read_for_the_checks_only(tmp_path):
    # 2024Q4 and 2023Q4 are compiled; 2024Q3 is read only for the checks (cumulative, old reports)
    ws = copy_sample(tmp_path / "ws")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert "读取 12 个文件、720 行数据（2024Q4、2023Q4；审核另读取 2024Q3）" in res.output.replace("\n", "")
    shutil.rmtree(ws / "data" / "2024Q3")
    res = invoke("compile", str(ws), "--period", "2024Q4")
    assert "（2024Q4、2023Q4）" in res.output.replace("\n", "")
