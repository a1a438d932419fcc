"""`revstat check`: formats, exit codes, waivers, on the sample city."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from revstat.check_run import check_workspace
from revstat.cli import app
from revstat.cli.cmd_check import render_findings
from revstat.workspace import load_workspace

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> Path:
    """A copy where 东山县's first township has more sanitary toilets than households."""
    root = tmp_path_factory.mktemp("cli") / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out", "2023Q[123]", "2024Q[12]"))
    path = root / "data" / "2024Q4" / "东山县_2024Q4.xlsx"
    wb = openpyxl.load_workbook(path)
    sheet = next(s for s in wb.worksheets if s.title.startswith("5-"))
    row = next(r for r in range(1, 40) if str(sheet.cell(r, 1).value or "").replace(" ", "").replace("\u3000", "") == "城关镇")
    households = int(str(sheet.cell(row, 2).value).replace(",", ""))
    toilets = int(str(sheet.cell(row, 3).value).replace(",", ""))
    sheet.cell(row, 3).value = households + 7  # 卫生厕所户数 > 农村常住户数; 合计 left as it was
    wb.save(path)
    global TOTAL_DIFF, TOILET_CELL  # noqa: PLW0603 - the 合计 row now misses the change
    TOTAL_DIFF = toilets - (households + 7)
    TOILET_CELL = f"C{row}"
    return root


TOTAL_DIFF = 0
TOILET_CELL = ""


def test_warnings_fail_only_with_strict():
    result = invoke("check", str(SAMPLE), "--period", "2024Q4", "--strict", "--format", "json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)["summary"]  # the JSON on stdout; why it failed on stderr
    assert summary["errors"] == 0 and summary["warnings"] > 0
    assert "--strict：有" in result.stderr


def test_junit_parses_with_junitparser(tmp_path):
    junitparser = pytest.importorskip("junitparser")
    out = tmp_path / "findings.xml"
    result = invoke("check", str(SAMPLE), "--period", "2024Q4", "--format", "junit", "--output", str(out))
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites" and int(root.get("failures")) == 0
    xml = junitparser.JUnitXml.fromfile(str(out))
    suites = list(xml)
    assert len(suites) >= 30
    assert sum(s.tests for s in suites) == int(root.get("tests"))


def test_error_exits_1_with_cell_in_every_format(faulty):
    table = invoke("check", str(faulty), "--period", "2024Q4")
    assert table.exit_code == 1, table.output
    assert "toilets_le_households" in table.output and "东山县" in table.output
    assert "错误 3" in table.output  # toilets > households, the 合计 row, the rate over 100

    report = check_workspace(load_workspace(faulty), "2024Q4", today=dt.date(2025, 1, 1))
    data = json.loads(render_findings(report, "json"))
    [toilet] = [f for f in data["findings"] if f["rule"] == "toilets_le_households"]
    assert toilet["difference"] == "7" and toilet["region_name"] == "城关镇"
    assert toilet["locations"][0] == {"file": "data/2024Q4/东山县_2024Q4.xlsx", "sheet": "5-人居环境和基础设施",
                                      "cell": TOILET_CELL}
    totals = [f for f in data["findings"] if f["rule"] == "total_row_equals_rows"]
    assert len(totals) == 1 and totals[0]["difference"] == str(TOTAL_DIFF)

    gh = render_findings(report, "github")
    line = next(x for x in gh.splitlines() if "title=toilets_le_households" in x)
    assert line.startswith("::error file=data/2024Q4/东山县_2024Q4.xlsx,title=toilets_le_households::")

    junit = ET.fromstring(render_findings(report, "junit").encode())
    failures = junit.findall(".//testsuite[@name='toilets_le_households']/testcase/failure")
    assert len(failures) == 1 and "东山县_2024Q4.xlsx" in failures[0].text
    # --path-prefix reaches JUnit too: the testcase's file (which reporters link to) and its detail lines
    junit = ET.fromstring(render_findings(report, "junit", prefix="sample/").encode())
    [case] = junit.findall(".//testsuite[@name='toilets_le_households']/testcase")
    assert case.get("file") == "sample/data/2024Q4/东山县_2024Q4.xlsx"
    lines = case.find("failure").text.splitlines()  # the two cells compared
    assert f"sample/data/2024Q4/东山县_2024Q4.xlsx › 5-人居环境和基础设施 › {TOILET_CELL}" in lines
    assert all(x.startswith("sample/data/2024Q4/东山县_2024Q4.xlsx › ") for x in lines) and len(lines) == 2

    sarif = json.loads(render_findings(report, "sarif", prefix="sample"))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    [res] = [r for r in run["results"] if r["ruleId"] == "toilets_le_households"]
    assert res["level"] == "error"
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sample/data/2024Q4/东山县_2024Q4.xlsx"
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == "toilets_le_households"
    assert all(loc["logicalLocations"][0]["name"] == f"{cell.sheet}!{cell.cell}"
               for loc, cell in zip(res["locations"], res_cells(report), strict=True))


def res_cells(report):
    [issue] = [i for i in report.issues if i.rule == "toilets_le_households"]
    return issue.locations[:50]


def test_sarif_names_a_whole_sheet_without_a_trailing_separator():
    from revstat.i18n import t
    from revstat.model import Issue, Location, Severity
    from revstat.writers.findings import to_sarif

    issue = Issue(rule="r", severity=Severity.WARNING, message=t("甲", "a"), period="2024Q4",
                  locations=(Location("a.xlsx", "表1"), Location("a.xlsx", "表1", "C5"), Location("a.csv")))
    [res] = json.loads(to_sarif([issue], []))["runs"][0]["results"]
    names = [[x["name"] for x in loc.get("logicalLocations", [])] for loc in res["locations"]]
    assert names == [["表1"], ["表1!C5"], []]


def test_waiver_lets_ci_pass_and_expired_waiver_is_loud(faulty, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(faulty, root)
    (root / "checks").mkdir(exist_ok=True)
    waivers = root / "checks" / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - {rule: toilets_le_households, region: 990121101000, period: 2024Q4, reason: 已核实：含新建安置小区, who: 张三, expires: 2025-06-30}\n"
        "  - {rule: rates_within_0_100, region: 990121101000, reason: 同上, who: 张三, expires: 2025-06-30}\n"
        "  - {rule: total_row_equals_rows, reason: 合计行由县里手工填写, who: 李四, expires: 2025-06-30}\n",
        encoding="utf-8")
    ok = invoke("check", str(root), "--period", "2024Q4", "--today", "2025-01-10")
    assert ok.exit_code == 0, ok.output
    assert "已豁免" in ok.output
    # in the annotations a waived finding stays, as a notice with its reason (it fails nothing)
    gh = invoke("check", str(root), "--period", "2024Q4", "--today", "2025-01-10", "--format", "github")
    assert gh.exit_code == 0 and "::error" not in gh.output
    assert any(line.startswith("::notice ") and "title=toilets_le_households::" in line
               and line.endswith("（已豁免：已核实：含新建安置小区）") for line in gh.output.splitlines())
    late = invoke("check", str(root), "--period", "2024Q4", "--today", "2025-07-01", "-f", "json")
    assert late.exit_code == 1
    rules = [f["rule"] for f in json.loads(late.output)["findings"]]
    assert rules.count("waiver_expired") == 3


def test_unusable_input_exits_2(tmp_path):
    assert invoke("check", str(tmp_path / "nope"), "--period", "2024Q4").exit_code == 2
    assert invoke("check", str(SAMPLE), "--period", "2024Q9").exit_code == 2
    assert invoke("check", str(SAMPLE), "--period", "2024Q4", "--format", "xml").exit_code == 2
    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("data", "out"))
    (root / "checks").mkdir(exist_ok=True)
    (root / "checks" / "bad.yaml").write_text("rules:\n  - {id: x, name: X, kind: nope}\n", encoding="utf-8")
    bad = invoke("check", str(root), "--period", "2024Q4")
    assert bad.exit_code == 2 and "checks/bad.yaml" in bad.output


def test_unusable_input_reaches_the_ci_formats_too(tmp_path):
    # a pipeline reads annotations and the JUnit file, not stderr: the input error is in both
    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out", "2023Q[123]", "2024Q[12]"))
    path = root / "data" / "2024Q4" / "南岭县_2024Q4.xlsx"
    wb = openpyxl.load_workbook(path)
    sheet = next(s for s in wb.worksheets if s.title.startswith("2-"))
    sheet["C10"] = "12O4"  # a letter O typed for a zero
    wb.save(path)
    gh = invoke("check", str(root), "--period", "2024Q4", "--format", "github", "--path-prefix", "ws")
    assert gh.exit_code == 2
    assert "::error file=ws/data/2024Q4/南岭县_2024Q4.xlsx,title=input::单元格不是数字 '12O4'" in gh.output
    out = tmp_path / "f.xml"
    assert invoke("check", str(root), "--period", "2024Q4", "--format", "junit", "-o", str(out)).exit_code == 2
    junit = ET.fromstring(out.read_bytes())
    assert junit.get("failures") == "1" and "C10" in junit.find("testsuite/testcase/failure").text
    assert junit.find("testsuite/testcase").get("name") == "data/2024Q4/南岭县_2024Q4.xlsx"  # named by its file
    # SARIF and JSON too: an upload step after the failed check finds a file that says why
    sarif = tmp_path / "f.sarif"
    assert invoke("check", str(root), "--period", "2024Q4", "--format", "sarif", "-o", str(sarif)).exit_code == 2
    [result] = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert result["ruleId"] == "input" and result["level"] == "error" and "12O4" in result["message"]["text"]
    as_json = invoke("check", str(root), "--period", "2024Q4", "--format", "json")
    assert as_json.exit_code == 2
    found = json.loads(as_json.output[:as_json.output.rindex("}") + 1])["findings"]
    assert [f["rule"] for f in found] == ["input"]


def test_compile_runs_the_checks_into_findings_json_without_stopping(faulty, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(faulty, root)
    result = invoke("compile", str(root), "--period", "2024Q4")
    # data that fails checks: every output is written, and the exit code is 1 (0 is for clean data)
    assert result.exit_code == 1, result.output
    assert "有强制性审核错误（退出码 1）：结果已写出" in result.output
    assert (root / "out" / "2024Q4" / "indicators.xlsx").is_file()
    data = json.loads((root / "out" / "2024Q4" / "findings.json").read_text(encoding="utf-8"))
    assert data["summary"]["errors"] == 3
    assert {f["rule"] for f in data["findings"] if f["severity"] == "error"} == {
        "toilets_le_households", "total_row_equals_rows", "rates_within_0_100"}


def test_report_on_data_failing_checks_is_drafted_and_exits_1(faulty, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(faulty, root)
    result = invoke("report", str(root), "--period", "2024Q4", "--format", "md")
    assert result.exit_code == 1, result.output
    assert "审核有 3 条错误（强制性）未改正，报告中的相关数字在发布前须更正（退出码 1）" in result.output
    assert (root / "out" / "2024Q4" / "quarterly_brief.md").is_file()


def test_where_column_counts_every_place_in_chinese(faulty):
    # toilets_le_households involves two cells (卫生厕所户数 C10 and 农村常住户数 B10): 等2处 counts
    # both, the English "and 1 more" the one not shown
    zh = invoke("check", str(faulty), "--period", "2024Q4")
    assert f"› {TOILET_CELL} 等2处 " in zh.output
    en = invoke("--lang", "en", "check", str(faulty), "--period", "2024Q4")
    assert f"› {TOILET_CELL} and 1 more " in en.output


def test_compile_counts_findings_by_severity_and_strict_says_why(faulty, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(faulty, root)
    result = invoke("compile", str(root), "--period", "2024Q4")
    assert result.exit_code == 1, result.output
    # 3 errors planted by the fixture; 10 warnings (3 blank required cells of the sample, 北川县
    # under the toilet target, and the six counties whose household records disagree with table 1)
    # and 14 notes as in the clean sample
    last = result.output.strip().splitlines()[-2]
    assert last == "审核发现 27 条问题（错误 3，警告 10，提示 14），见 findings.json；`revstat check` 显示详情"
    strict = invoke("compile", str(root), "--period", "2024Q4", "--strict")
    assert strict.exit_code == 1
    assert "--strict：未通过（退出码 1），原因：" in strict.output
    # the sample's blank 5G and 家庭医生签约人数 cells leave two city figures incomplete
    assert "示范市有 2 个指标合计不完整（下级地区缺数）：新建5G基站数、家庭医生签约率" in strict.output
    assert "审核发现 3 条错误（强制性）" in strict.output
    en = invoke("--lang", "en", "compile", str(root), "--period", "2024Q4", "--strict")
    assert en.exit_code == 1
    assert "(errors: 3, warnings: 10, notes: 14)" in en.output
    assert "--strict: failed (exit 1) because:" in en.output and "check errors (blocking): 3" in en.output


def test_junit_says_which_rules_did_not_run_and_counts_warnings_under_strict(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out", "2023Q[123]", "2024Q[12]"))
    (root / "sources" / "1_monitoring.yaml").unlink()  # a workspace without the monitoring sheet
    out = tmp_path / "f.xml"
    res = invoke("check", str(root), "--period", "2024Q4", "--format", "junit", "-o", str(out))
    assert res.exit_code == 0, res.output
    suites = {s.get("name"): s for s in ET.fromstring(out.read_bytes())}
    balance = suites["monitored_households_balance"]  # its fields are not in the workspace: not a pass
    assert balance.get("skipped") == "1" and balance.find("testcase/skipped") is not None
    assert suites["toilets_le_households"].get("skipped") == "0"  # ran, and passed
    # --strict: the exit code counts warnings, and so does the file a dashboard reads
    res = invoke("check", str(root), "--period", "2024Q4", "--format", "junit", "-o", str(out), "--strict")
    root_el = ET.fromstring(out.read_bytes())
    assert res.exit_code == 1 and int(root_el.get("failures")) > 0


def _sample_with(tmp_path, name: str, text: str):
    """A copy of the sample with checks/<name> written."""
    ws = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws, ignore=shutil.ignore_patterns("out"))
    (ws / "checks").mkdir(exist_ok=True)
    (ws / "checks" / name).write_text(text, encoding="utf-8")
    return ws


def test_a_typo_in_a_rule_of_the_workspace_is_an_error_not_a_rule_that_never_runs(tmp_path):
    ws = _sample_with(tmp_path, "local.yaml", "rules:\n  - id: persons_le_6x\n    name: 人数不超过户数的6倍\n"
                                              "    rule: monitored_person <= monitored_households * 6\n")
    for command in (["compile", str(ws)], ["check", str(ws)]):
        res = CliRunner().invoke(app, [*command, "--period", "2024Q4"])
        assert res.exit_code == 2, res.output
        assert "规则 persons_le_6x 引用了未知的名称 `monitored_person`，是否应为 `monitored_persons`？" in res.output
        assert "checks/local.yaml，第4行" in res.output  # the rule: line, where the name is written
    assert not (ws / "out").exists()  # compile stopped before writing anything


def test_an_impossible_date_is_an_input_error_not_a_crash(tmp_path):
    ws = _sample_with(tmp_path, "waivers.yaml", "waivers:\n  - {rule: toilet_rate_target, region: 北川县, "
                                                "period: 2024Q4, reason: 已核实原因, who: 张三, expires: 2025-02-30}\n")
    res = CliRunner().invoke(app, ["check", str(ws), "--period", "2024Q4", "--today", "2025-13-01"])
    assert res.exit_code == 2 and "--today 不是有效日期：2025-13-01" in res.output
    for command in (["check", str(ws), "--period", "2024Q4"], ["lint", str(ws)]):
        res = CliRunner().invoke(app, command)
        assert res.exit_code in (1, 2) and "Traceback" not in res.output, res.output
        assert "expires: 应为有效日期 YYYY-MM-DD，实际是 '2025-02-30'" in res.output
        assert "checks/waivers.yaml，第2行" in res.output


def test_ci_formats_name_rules_in_the_commands_language(faulty):
    en = invoke("--lang", "en", "check", str(faulty), "--period", "2024Q4", "--format", "junit")
    junit = ET.fromstring(en.output[:en.output.rindex(">") + 1].encode())
    names = {c.get("classname"): c.get("name") for c in junit.iter("testcase")}
    assert names["regions_complete"] == "Every expected region reported"  # its name_en
    zh = invoke("check", str(faulty), "--period", "2024Q4", "--format", "junit")
    names = {c.get("classname"): c.get("name") for c in ET.fromstring(zh.output[:zh.output.rindex(">") + 1].encode()).iter("testcase")}
    assert names["regions_complete"] == "应报地区齐全"


def test_strict_says_the_warnings_failed_it():
    res = invoke("check", str(SAMPLE), "--period", "2024Q4", "--strict", "--format", "github")
    assert res.exit_code == 1  # the sample has warnings and no errors
    assert "--strict：有 10 条未豁免的警告，按 --strict 视为未通过（退出码 1）" in res.output
    assert "视为未通过" not in invoke("check", str(SAMPLE), "--period", "2024Q4", "--format", "github").output


def test_a_waiver_of_a_rule_that_does_not_exist_is_said_to_waive_nothing(tmp_path):
    ws = _sample_with(tmp_path, "waivers.yaml", "waivers:\n  - {rule: toilet_rate_targte, region: 北川县, "
                                                "period: 2024Q4, reason: 已核实原因, who: 张三, expires: 2030-06-30}\n")
    res = invoke("check", str(ws), "--period", "2024Q4", "--format", "json")
    found = [f for f in json.loads(res.stdout)["findings"] if f["rule"] == "waiver_unknown_rule"]
    assert [f["message"] for f in found] == [
        "豁免没有起作用：没有 id 为 toilet_rate_targte 的审核规则（拼写错误？`revstat lint` 会指出）"]
    assert found[0]["locations"] == [{"file": "checks/waivers.yaml", "line": 2}]


def test_annual_targets_are_checked_only_at_the_years_end():
    # 务工目标完成率 and 住房安全问题整改率 are tasks of the year: in the first quarter (95.98 %, 33.93 % for
    # the city, under 100 in every county) they are neither findings nor missed targets; the dropout
    # target (<= 0) holds in every period
    from revstat.pipeline import compile_workspace

    ws = load_workspace(SAMPLE)
    report = check_workspace(ws, "2023Q1", today=dt.date(2025, 1, 1))
    found = {(i.region_name, i.message.zh.split("：", 1)[1][:4]) for i in report.issues if i.rule == "indicator_targets"}
    assert found == {("南岭县", "义务教育")}
    for period, judged in (("2023Q1", False), ("2023Q4", True)):
        results = compile_workspace(ws, period).results
        city = results[(results.region_code == "990100000000")].set_index("indicator")
        assert city.loc["migrant_target_rate", "target"] == (">= 100" if judged else None)
        assert (city.loc["migrant_target_rate", "target_met"] is None) is not judged
        assert city.loc["remaining_assisted_rate", "target"] == ">= 100"  # not annual: judged every quarter
