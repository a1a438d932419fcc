"""`revstat lint`: each class of definition problem, with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revstat.cli import app
from revstat.lint import lint_workspace
from revstat.model import Severity

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("data", "out"))
    (root / "checks").mkdir(exist_ok=True)
    return root


def write_rules(ws: Path, body: str, name: str = "local.yaml") -> None:
    (ws / "checks" / name).write_text("rules:\n" + body, encoding="utf-8")


def codes(issues) -> list[tuple[str, int | None]]:
    return [(i.rule, i.locations[0].line if i.locations else None) for i in issues if i.severity is not Severity.INFO]


def test_clean_sample_has_no_lint_errors():
    issues = lint_workspace(SAMPLE)
    assert [i for i in issues if i.severity is Severity.ERROR] == []


def test_unknown_field_with_did_you_mean(ws):
    write_rules(ws, "  - id: a\n    name: A\n    rule: sanitary_toilet_houselds <= rural_households\n")
    [issue] = [i for i in lint_workspace(ws) if i.rule == "lint.unknown_reference"]
    # the line of the rule: key, where the name is written (the rule itself begins on line 2)
    assert issue.locations[0].file == "checks/local.yaml" and issue.locations[0].line == 4
    assert "`sanitary_toilet_households`" in issue.message.zh


def test_households_added_to_persons_and_yuan_compared_with_wan_yuan(ws):
    write_rules(ws, "  - id: a\n    name: A\n    rule: monitored_households + monitored_persons <= rural_population\n"
                    "  - id: b\n    name: B\n    rule: rural_income_per_capita <= linkage_funds\n"
                    "  - id: c\n    name: C\n    rule: relocated_persons >= relocated_households\n")
    found = codes(lint_workspace(ws))
    assert ("lint.units", 2) in found and ("lint.units", 5) in found
    assert ("lint.units", 8) not in found  # 人 ≥ 户 is a fair comparison


def test_rules_that_never_fail_or_never_pass(ws):
    write_rules(ws, "  - {id: a, name: A, rule: 1 <= 2}\n  - {id: b, name: B, rule: 3 < 2}\n"
                    "  - {id: c, name: C, rule: admin_villages <= admin_villages}\n"
                    "  - {id: d, name: D, kind: range, fields: [admin_villages], min: 5, max: 1}\n"
                    "  - {id: e, name: E, rule: admin_villages >= 1}\n")
    found = codes(lint_workspace(ws))
    assert ("lint.never_fails", 2) in found and ("lint.never_passes", 3) in found
    assert ("lint.never_fails", 4) in found and ("lint.never_passes", 5) in found
    assert not [c for c in found if c[1] == 6]


def test_schema_error_and_duplicate_ids_across_local_files(ws):
    write_rules(ws, "  - {id: a, name: A, rule: admin_villages >= 1, colour: red}\n", "a.yaml")
    write_rules(ws, "  - {id: b, name: B, rule: admin_villages >= 1}\n", "b.yaml")
    write_rules(ws, "  - {id: b, name: B2, rule: admin_villages >= 0}\n", "c.yaml")
    found = [(i.rule, i.locations[0].file, i.locations[0].line) for i in lint_workspace(ws) if i.severity is Severity.ERROR]
    assert ("lint.schema", "checks/a.yaml", 2) in found
    assert ("lint.duplicate_id", "checks/c.yaml", 2) in found


def test_overriding_a_standard_rule_is_only_a_note(ws):
    write_rules(ws, "  - id: toilets_le_households\n    name: 本地\n    rule: sanitary_toilet_households <= rural_households\n")
    issues = lint_workspace(ws)
    assert [i.rule for i in issues if i.severity is Severity.ERROR] == []
    assert any(i.rule == "lint.override" for i in issues)


def test_unknown_placeholder_in_message(ws):
    # an error: the placeholder reached findings.json and the report as typed (“{regoin}用于产业发展…”)
    write_rules(ws, "  - {id: a, name: A, rule: admin_villages >= 1, message: '{region}{oops}'}\n")
    [issue] = [i for i in lint_workspace(ws) if i.rule == "lint.message"]
    assert issue.severity is Severity.ERROR and issue.locations[0].line == 2


def test_an_unknown_name_and_an_unknown_placeholder_are_said_in_one_run(ws):
    # the placeholder's warning used to appear only once the name was corrected
    write_rules(ws, "  - {id: a, name: A, rule: admin_villagez >= 1, message: '{region}{oops}'}\n")
    found = {rule for rule, _ in codes(lint_workspace(ws))}
    assert {"lint.unknown_reference", "lint.message"} <= found


def test_placeholders_of_the_repeated_report_kind(ws):
    ok = "{region}：{file}（{sheets}）与{other}（{other_file}）相同，疑似{which}报表"
    write_rules(ws, f"  - {{id: a, name: A, kind: repeated_report, message: '{ok}'}}\n"
                    "  - {id: b, name: B, kind: repeated_report, message: '{region}{prev}'}\n")
    found = [(i.rule, i.locations[0].line, i.message.render()) for i in lint_workspace(ws) if i.rule == "lint.message"]
    assert [(rule, line) for rule, line, _ in found] == [("lint.message", 3)]  # {prev} is not this kind's
    assert "other_file" in found[0][2]  # the kind's own placeholders are listed


def test_cli_exit_codes(ws):
    runner = CliRunner()
    ok = runner.invoke(app, ["lint", str(SAMPLE)])
    assert ok.exit_code == 0, ok.output
    write_rules(ws, "  - {id: a, name: A, rule: admin_villagez >= 1}\n")
    bad = runner.invoke(app, ["lint", str(ws)])
    assert bad.exit_code == 1
    assert "checks/local.yaml，第2行" in bad.output and "admin_villages" in bad.output
    assert runner.invoke(app, ["lint", str(ws / "nope")]).exit_code == 2


def test_unknown_indicator_in_a_template_with_did_you_mean(ws):
    (ws / "templates").mkdir(exist_ok=True)
    (ws / "templates" / "mine.md.j2").write_text(
        "# 简报\n\n卫生厕所普及率{{ r.sanitary_toilet_rate|level }}，\n自来水{{ r.tap_watr_rate|level }}。\n"
        "{{ kids|figs_of('medical_insurance_rat')|target }}\n", encoding="utf-8")
    found = [i for i in lint_workspace(ws) if i.rule == "lint.unknown_reference"]
    assert [(i.locations[0].file, i.locations[0].line) for i in found] == [
        ("templates/mine.md.j2", 4), ("templates/mine.md.j2", 5)]
    assert "`tap_water_rate`" in found[0].message.zh and "`medical_insurance_rate`" in found[1].message.zh


def test_unused_indicator_is_info(ws):
    (ws / "indicators").mkdir(exist_ok=True)
    (ws / "indicators" / "extra.yaml").write_text(
        "indicators:\n  - id: villages_per_township\n    name: 乡镇平均行政村数\n    unit: 个\n"
        "    formula: admin_villages\n    decimals: 1\n", encoding="utf-8")
    [issue] = [i for i in lint_workspace(ws) if i.rule == "lint.unused" and "villages_per_township" in i.message.render("zh")]
    assert issue.severity is Severity.INFO and issue.locations[0].file == "indicators/extra.yaml"
    # the standard set is a menu: its indicators that no template or rule uses are not the workspace's to fix
    unused = [i for i in lint_workspace(ws) if i.rule == "lint.unused"]
    assert [i.locations[0].file for i in unused] == ["indicators/extra.yaml"]


def test_waiver_of_an_unknown_rule_and_of_an_unknown_region(ws):
    (ws / "checks" / "waivers.yaml").write_text(
        "waivers:\n  - {rule: toilets_le_househlds, reason: 已核实原因, who: 张三, expires: 2025-06-30}\n", encoding="utf-8")
    [issue] = [i for i in lint_workspace(ws) if i.rule == "lint.unknown_reference"]
    assert issue.locations[0].line == 2 and "`toilets_le_households`" in issue.message.zh
    (ws / "checks" / "waivers.yaml").write_text(
        "waivers:\n  - {rule: toilets_le_households, region: 不存在县, reason: 已核实原因, who: 张三, expires: 2025-06-30}\n",
        encoding="utf-8")
    assert any(i.rule == "lint.schema" and i.locations[0].line == 2 for i in lint_workspace(ws))


def test_indicator_cycle_is_reported_with_its_file(ws):
    (ws / "indicators").mkdir(exist_ok=True)
    (ws / "indicators" / "loop.yaml").write_text(
        "indicators:\n  - {id: aa_rate, name: 甲, unit: '%', formula: bb_rate + 1}\n"
        "  - {id: bb_rate, name: 乙, unit: '%', formula: aa_rate - 1}\n", encoding="utf-8")
    errors = [i for i in lint_workspace(ws) if i.severity is Severity.ERROR]
    assert errors and all(i.locations and i.locations[0].file == "indicators/loop.yaml" for i in errors)
    assert any("aa_rate" in i.message.render("zh") and "bb_rate" in i.message.render("zh") for i in errors)


def write_template(ws: Path, text: str, name: str = "brief.md.j2") -> None:
    (ws / "templates").mkdir(exist_ok=True)
    (ws / "templates" / name).write_text(text, encoding="utf-8")


def template_findings(ws: Path) -> list[tuple[str, Severity, str, int | None]]:
    return [(i.rule, i.severity, i.locations[0].file, i.locations[0].line) for i in lint_workspace(ws)
            if i.rule in ("lint.template_syntax", "lint.template_variable")]


def test_standard_templates_parse_and_use_only_context_variables():
    assert [i for i in lint_workspace(SAMPLE) if i.rule.startswith("lint.template_")] == []


def test_unclosed_block_in_a_template_is_an_error_at_its_opening_line(ws):
    write_template(ws, "# 简报\n{% if region %}\n全市{{ region.name }}。\n")
    assert template_findings(ws) == [("lint.template_syntax", Severity.ERROR, "templates/brief.md.j2", 2)]
    issue = next(i for i in lint_workspace(ws) if i.rule == "lint.template_syntax")
    assert "第2行的 {% if %} 没有对应的 {% endif %}" in issue.message.zh
    assert "(the template ends on line 3)" in issue.message.en
    res = CliRunner().invoke(app, ["lint", str(ws)])
    assert res.exit_code == 1  # what `revstat report` would stop on fails lint
    assert "templates/brief.md.j2，第2行: 错误 [lint.template_syntax]" in res.output


def test_unknown_tag_and_unknown_filter_are_errors_with_their_lines(ws):
    write_template(ws, "# 简报\n\n{{ region.sanitary_toilet_rate|levle }}\n", "a.md.j2")
    write_template(ws, "# 简报\n{% endif %}\n", "b.md.j2")
    assert template_findings(ws) == [("lint.template_syntax", Severity.ERROR, "templates/a.md.j2", 3),
                                     ("lint.template_syntax", Severity.ERROR, "templates/b.md.j2", 2)]
    messages = [i.message.zh for i in lint_workspace(ws) if i.rule == "lint.template_syntax"]
    assert "No filter named 'levle'" in messages[0] and "endif" in messages[1]


def test_unknown_variable_is_a_warning_with_did_you_mean(ws):
    write_template(ws, "# 简报\n{{ period.label }}\n{{ regoin.name }}\n{{ undefined_thing }}\n"
                       "{% if region %}{% set low = 1 %}{{ low }}{% endif %}\n"
                       "{% for k in children %}{{ k.name }}{% endfor %}{% macro m(x) %}{{ x }}{% endmacro %}{{ m(1) }}\n")
    assert template_findings(ws) == [("lint.template_variable", Severity.WARNING, "templates/brief.md.j2", 3),
                                     ("lint.template_variable", Severity.WARNING, "templates/brief.md.j2", 4)]
    regoin = next(i for i in lint_workspace(ws) if i.rule == "lint.template_variable")
    assert "`regoin`" in regoin.message.render("zh") and "是否应为 `region`" in regoin.message.render("zh")
    runner = CliRunner()
    assert runner.invoke(app, ["lint", str(ws)]).exit_code == 0  # a warning
    assert runner.invoke(app, ["lint", str(ws), "--strict"]).exit_code == 1


def test_a_workspace_template_replaces_the_standard_one_in_lint_too(ws):
    write_template(ws, "{% for x in children %}\n", "quarterly_brief.md.j2")
    assert template_findings(ws) == [("lint.template_syntax", Severity.ERROR, "templates/quarterly_brief.md.j2", 1)]


def test_standard_rules_on_fields_the_workspace_lacks_are_one_note_not_errors(tmp_path):
    # a county workspace without the monitoring sheet: the standard monitoring rules do not run in
    # `check` either; lint says so once instead of failing CI with an error per name
    ws = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws, ignore=shutil.ignore_patterns("out"))
    (ws / "sources" / "1_monitoring.yaml").unlink()
    issues = lint_workspace(ws)
    assert not [i for i in issues if i.severity is Severity.ERROR], [i.message.zh for i in issues]
    [note] = [i for i in issues if i.rule == "lint.standard_rules_not_run"]
    assert note.severity is Severity.INFO and "monitored_households_balance" in note.message.render("zh")
    res = CliRunner().invoke(app, ["lint", str(ws)])
    assert res.exit_code == 0 and res.output.startswith("提示 [lint.standard_rules_not_run] ")
    # a workspace's own rule on an unknown name is still an error, with the prefix for annotations
    (ws / "checks").mkdir(exist_ok=True)
    (ws / "checks" / "mine.yaml").write_text("rules:\n  - id: mine\n    name: 我的\n    kind: range\n"
                                             "    fields: [no_such_field]\n    min: 0\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["lint", str(ws), "--format", "github", "--path-prefix", "ws"])
    assert res.exit_code == 1
    assert "::error file=ws/checks/mine.yaml,line=5,title=lint.unknown_reference::" in res.output  # its fields:
    assert "revstat fields" not in res.output  # a command that does not exist


def test_an_unknown_lint_format_is_exit_2():
    res = CliRunner().invoke(app, ["lint", str(SAMPLE), "--format", "sarif"])
    assert res.exit_code == 2 and "未知的输出格式 sarif" in res.output


def test_a_region_code_not_nested_in_its_parents_is_a_warning(ws):
    regions = ws / "regions.csv"
    lines = regions.read_text(encoding="utf-8").splitlines()
    regions.write_text("\n".join([*lines, "990128999000,测试镇,township,990121000000"]) + "\n", encoding="utf-8")
    [issue] = [i for i in lint_workspace(ws) if i.rule == "lint.region_code"]
    assert issue.severity is Severity.WARNING
    assert (issue.locations[0].file, issue.locations[0].line) == ("regions.csv", len(lines) + 1)
    assert "测试镇(990128999000) 的代码不以上级 东山县(990121000000) 的前 6 位 990121 开头" in issue.message.render()


def test_lint_and_check_agree_on_the_standard_rules_that_will_not_run(ws, tmp_path):
    # without the environment sources, rules on indicators computed from their fields do not run
    # either (toilet_rate_target, …): lint counts them as check skips them
    import datetime as dt
    import re

    from revstat.check_run import check_workspace
    from revstat.workspace import load_workspace

    full = tmp_path / "full"
    shutil.copytree(SAMPLE, full, ignore=shutil.ignore_patterns("out"))
    for name in ("5_environment.yaml", "7_households.yaml"):
        (full / "sources" / name).unlink()
    [note] = [i for i in lint_workspace(full) if i.rule == "lint.standard_rules_not_run"]
    said = int(re.match(r"(\d+) 条", note.message.render("zh")).group(1))
    report = check_workspace(load_workspace(full), "2024Q4", today=dt.date(2025, 1, 15))
    assert said == len(report.not_run) and "toilet_rate_target" in report.not_run


def test_an_indicator_file_in_error_does_not_make_the_standard_rules_look_idle(tmp_path):
    # the sample has every field the standard rules use: with one broken indicator file the standard
    # indicators did not load, and the rules on them were said not to run — a false note beside the error
    ws = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws, ignore=shutil.ignore_patterns("out", "data"))
    assert not [i for i in lint_workspace(ws) if i.rule == "lint.standard_rules_not_run"]
    (ws / "indicators").mkdir(exist_ok=True)
    (ws / "indicators" / "local.yaml").write_text(
        "indicators:\n  - id: mine\n    name: 我的指标\n    unit: '%'\n    formula: sewage_treated_village / admin_villages\n",
        encoding="utf-8")
    issues = lint_workspace(ws)
    assert any("sewage_treated_village" in i.message.zh for i in issues if i.severity.value == "error")
    assert not [i for i in issues if i.rule == "lint.standard_rules_not_run"]


def test_a_files_pattern_matching_no_file_of_any_period_is_a_warning_with_the_likely_pattern(tmp_path):
    # `record/` for `records/`: compile only ever said “no file for the period” and skipped the indicators
    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    path = root / "sources" / "7_households.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("data/{period}/records/", "data/{period}/record/"),
                    encoding="utf-8")
    [issue] = [i for i in lint_workspace(root) if i.rule == "lint.files"]
    assert issue.severity is Severity.WARNING
    assert (issue.locations[0].file, issue.locations[0].line) == ("sources/7_households.yaml", 6)
    assert issue.message.render("zh") == ("来源 households 的 files 模式 data/{period}/record/*.parquet 在任何报告期都没有"
                                          "匹配到文件，是否应为 data/{period}/records/*.parquet？")


def test_a_workspace_without_data_yet_gets_no_files_warning(ws):
    assert not [i for i in lint_workspace(ws) if i.rule == "lint.files"]  # (the fixture copies no data/)


def test_a_rule_over_a_list_of_names_runs_on_those_there_are(tmp_path):
    # without table 6 (乡村治理), lint and JUnit said 30-odd standard rules would not run, among them
    # rates_within_0_100 and indicator_targets, which check every rate and target there is and did
    # find faults. Not run are only the rules whose formula needs a table-6 field, and the list rule
    # reading table-6 fields alone (by hand from checks/*.yaml of the package)
    import datetime as dt

    from revstat.check_run import check_workspace
    from revstat.workspace import load_workspace

    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    (root / "sources" / "6_governance.yaml").unlink()
    expected = {"disputes_resolved_le_found", "problems_rectified_le_found", "villages_over_50k_le_villages",
                "governance_cumulative"}
    report = check_workspace(load_workspace(root), "2024Q4", today=dt.date(2025, 1, 15))
    assert report.not_run == expected
    [note] = [i for i in lint_workspace(root) if i.rule == "lint.standard_rules_not_run"]
    assert note.message.render("zh").startswith("4 条标准审核规则")
    assert "rates_within_0_100" not in note.message.render("zh")


def test_definition_files_may_end_in_yml(tmp_path):
    # sources/5_environment.yml (and indicators/local.yml, checks/local.yml) were left out without a word
    from revstat.workspace import load_workspace

    root = tmp_path / "ws"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("data", "out"))
    (root / "sources" / "5_environment.yaml").rename(root / "sources" / "5_environment.yml")
    (root / "checks").mkdir(exist_ok=True)
    (root / "checks" / "local.yml").write_text("rules:\n  - {id: mine, name: A, rule: admin_villages >= 0}\n",
                                               encoding="utf-8")
    ws = load_workspace(root)
    assert ws.source_files["environment"] == "sources/5_environment.yml"
    assert "admin_villages" in ws.fields()
    assert ("checks/local.yml") in [display for _, display in ws.definition_files("checks")]


def test_an_id_against_its_pattern_and_a_reversed_operator_are_explained(ws):
    # pydantic's “String should match pattern '^[a-z][a-z0-9_]*$'” reached the user; => suggested >
    (ws / "indicators").mkdir(exist_ok=True)
    (ws / "indicators" / "local.yaml").write_text(
        "theme: projects\nindicators:\n  - id: Project-Rate\n    name: 项目完成率X\n    unit: '%'\n"
        "    formula: projects_completed / projects_planned * 100\n    decimals: 1\n"
        "    target: {op: '=>', value: 90}\n", encoding="utf-8")
    said = {i.locations[0].line: i for i in lint_workspace(ws) if i.rule == "lint.indicators"}
    assert "取值 'Project-Rate' 不能作 id：id 只用小写英文字母、数字和下划线，以字母开头（如 project_rate）" \
        in said[3].message.render("zh")
    assert "should match pattern" not in said[3].message.render("en")
    assert "（是否应为 >=？）" in said[8].message.render("zh")
    assert "`revstat schema indicators`" in said[8].message.render("zh")
