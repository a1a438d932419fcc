"""Rule definitions: loading, validation with file and line, overriding by id, waivers."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest

from revstat.errors import DefinitionError, ErrorGroup
from revstat.model import Issue, Severity
from revstat.rules import load_rule_files, load_rules, parse_rules
from revstat.waivers import WAIVER_EXPIRED, apply_waivers, fails, load_waivers
from revstat.workspace import load_workspace, std_dir
from revstat.yamlload import load_yaml_text

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"


def parse(text: str):
    return parse_rules(load_yaml_text(text, "checks/x.yaml"), "checks/x.yaml")


def test_standard_set_loads_with_at_least_30_rules_over_every_theme():
    rules = load_rule_files([(p, p.name) for p in sorted(std_dir("checks").glob("*.yaml"))])
    assert len(rules) >= 30
    themes = {r.theme for r in rules}
    assert {"monitoring", "guarantees", "income", "funds", "environment", "governance"} <= themes
    assert all(r.location is not None and r.location.line for r in rules)


def test_standard_rules_use_only_known_fields():
    from revstat.definitions import load_indicators
    from revstat.formula import parse_formula

    ws = load_workspace(SAMPLE)
    known = set(ws.fields())
    indicator_ids = {i.id for i in load_indicators(ws)}
    rules = load_rules(ws)
    for r in rules:
        names = set(r.fields) - {"*"} | ({r.total} if r.total else set()) | set(r.parts)
        for text in (r.rule, r.left, r.right):
            if text:
                names |= parse_formula(text).names
        assert names <= known | indicator_ids, (r.id, names - known - indicator_ids)
        assert set(r.indicators) <= indicator_ids, (r.id, set(r.indicators) - indicator_ids)


def test_expression_rule_gets_kind_and_line():
    [r] = parse("rules:\n  - id: a\n    name: A\n    rule: x <= y\n")
    assert r.kind == "expression" and r.location.line == 2 and r.severity is Severity.ERROR


def test_unknown_key_names_file_and_line():
    with pytest.raises(DefinitionError) as info:
        parse("rules:\n  - id: a\n    name: A\n    rule: x <= y\n    severty: warning\n")
    assert info.value.where.file == "checks/x.yaml" and info.value.where.line == 5


def test_kind_without_its_parameters_is_an_error():
    with pytest.raises(DefinitionError, match="growth_bound.*bound"):
        parse("rules:\n  - id: a\n    name: A\n    kind: growth_bound\n    fields: [x]\n")


def test_duplicate_ids_in_one_file():
    with pytest.raises(DefinitionError, match="重复的规则 id a") as info:
        parse("rules:\n  - {id: a, name: A, rule: x <= y}\n  - {id: a, name: B, rule: x <= y}\n")
    assert info.value.where.line == 3


def test_several_errors_are_reported_together():
    with pytest.raises(ErrorGroup) as info:
        parse("rules:\n  - {id: a, name: A, kind: nope}\n  - {id: B!, name: B, rule: x <= y}\n")
    assert [e.where.line for e in info.value.errors] == [2, 3]


def test_workspace_rules_override_standard_by_id(tmp_path):
    ws_dir = tmp_path / "ws"
    shutil.copytree(SAMPLE, ws_dir, ignore=shutil.ignore_patterns("data", "out"))
    (ws_dir / "checks").mkdir(exist_ok=True)
    (ws_dir / "checks" / "local.yaml").write_text(
        "rules:\n  - id: toilets_le_households\n    name: 本地版本\n    rule: sanitary_toilet_households <= rural_households\n"
        "    severity: warning\n  - id: local_only\n    name: 本地规则\n    rule: admin_villages >= 1\n",
        encoding="utf-8")
    rules = load_rules(load_workspace(ws_dir)).by_id()
    assert rules["toilets_le_households"].severity is Severity.WARNING
    assert rules["toilets_le_households"].location.file == "checks/local.yaml"
    assert "local_only" in rules and "monitored_households_balance" in rules


# ---- waivers -----------------------------------------------------------------------------

def _issue(rule="r", region="990121101000", period="2024Q4", severity=Severity.ERROR):
    from revstat.i18n import t

    return Issue(rule=rule, severity=severity, message=t("x", "x"), region_code=region, period=period,
                 actual=D(1))


def test_waiver_marks_finding_and_does_not_fail(tmp_path):
    from revstat.regions import make_tree

    tree = make_tree([("990121000000", "东山县", "county", None), ("990121101000", "城关镇", "township", "990121000000")])
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n  - rule: r\n    region: 城关镇\n    period: 2024Q4\n    reason: 已核实：新建小区\n"
                    "    who: 张三\n    expires: 2025-06-30\n", encoding="utf-8")
    waivers = load_waivers(path, tree=tree)
    assert waivers[0].region == "990121101000" and waivers[0].line == 2
    issues = apply_waivers([_issue(), _issue(region="990121000000")], waivers, dt.date(2025, 1, 1))
    assert [i.waived for i in issues] == ["已核实：新建小区", None]
    assert fails(issues) is True
    only = apply_waivers([_issue()], waivers, dt.date(2025, 1, 1))
    assert fails(only) is False


def test_expired_waiver_waives_nothing_and_is_reported(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n  - {rule: r, reason: 旧的例外, who: 李四, expires: 2024-12-31}\n", encoding="utf-8")
    issues = apply_waivers([_issue()], load_waivers(path), dt.date(2025, 1, 1))
    assert issues[0].waived is None
    expired = [i for i in issues if i.rule == WAIVER_EXPIRED]
    assert len(expired) == 1 and expired[0].severity is Severity.WARNING
    assert "2024-12-31" in expired[0].message.render("zh") and expired[0].locations[0].line == 2
    assert fails(issues, strict=True) and fails([expired[0]]) is False


def test_waiver_schema_errors_have_lines(tmp_path):
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n  - rule: r\n    reason: 无需说明\n    who: 张三\n    expires: someday\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_waivers(path)
    assert info.value.where.line == 5


# ---- docs and CI files -------------------------------------------------------------------

def _yaml_blocks(path: Path) -> list[str]:
    import re

    return re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def test_every_rule_example_in_docs_parses_and_names_known_fields(tmp_path):
    from revstat.lint import lint_rules

    blocks = [b for b in _yaml_blocks(REPO / "docs" / "checks.md") if b.startswith("rules:")]
    assert len(blocks) >= 10
    ws = load_workspace(SAMPLE)
    from revstat.definitions import load_indicators

    indicators = {i.id: i for i in load_indicators(ws)}
    for i, block in enumerate(blocks):
        rules = parse_rules(load_yaml_text(block, f"docs/checks.md#{i}"), f"docs/checks.md#{i}")
        assert rules
        path = tmp_path / f"block{i}.yaml"
        path.write_text(block, encoding="utf-8")
        _, issues = lint_rules([(path, "x")], fields=ws.fields(), indicators=indicators, local_files=set())
        assert [x for x in issues if x.severity is Severity.ERROR] == [], block


def test_ci_workflow_and_pre_commit_hook():
    import yaml

    [workflow] = [b for b in _yaml_blocks(REPO / "docs" / "ci.md") if "jobs:" in b]
    steps = yaml.safe_load(workflow)["jobs"]["check"]["steps"]
    commands = " ".join(s.get("run", "") for s in steps)
    assert "revstat lint" in commands and "revstat check" in commands
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    lint = hooks["revstat-lint"]
    assert (lint["entry"], lint["language"], lint["pass_filenames"]) == ("revstat lint", "python", False)


@pytest.mark.parametrize(("item", "zh", "en"), [
    ("{id: a, name: A, kind: repeated_report, min_values: -5}", "min_values: 应大于 0，实际是 -5",
     "min_values: expected a number greater than 0, got -5"),
    ("{id: a, name: A, kind: range, fields: [x], min: abc}", "min: 应为数字，实际是 'abc'", "min: expected a number, got 'abc'"),
    ("{id: a, name: A, kind: growth_bound, fields: [x], bound: 0}", "bound: 应大于 0，实际是 0",
     "bound: expected a number greater than 0, got 0"),
])
def test_out_of_bounds_and_non_numbers_are_told_in_both_languages(item, zh, en):
    with pytest.raises((DefinitionError, ErrorGroup)) as info:
        parse(f"rules:\n  - {item}\n")
    err = info.value.errors[0] if isinstance(info.value, ErrorGroup) else info.value
    assert err.what.render("zh") == zh and err.what.render("en") == en
    assert err.where.line == 2
