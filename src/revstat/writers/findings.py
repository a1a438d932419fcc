"""Findings for machines: JSON, JUnit XML, GitHub Actions annotations, SARIF 2.1.0.

Each function returns text; the CLI writes it (atomically) or prints it. Paths in GitHub
annotations and SARIF are the workbook paths as findings carry them (relative to the
workspace), with an optional ``prefix`` (the workspace folder relative to the repository).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

from revstat.i18n import LANGS, get_lang
from revstat.model import Issue, Location, Severity
from revstat.writers.safe import json_dumps

TOOL_URI = "https://github.com/revstat/revstat"


def summary(issues: Iterable[Issue]) -> dict[str, int]:
    issues = list(issues)
    live = [i for i in issues if i.waived is None]
    return {"errors": sum(i.severity is Severity.ERROR for i in live),
            "warnings": sum(i.severity is Severity.WARNING for i in live),
            "info": sum(i.severity is Severity.INFO for i in live),
            "waived": sum(i.waived is not None for i in issues),
            "total": len(issues)}


#: a finding that cites at most this many cells points at them (a rule on one region's own
#: figures); one that cites more is about a sum, and every cell under the sum is only a candidate
SHARED_CELLS_CITED = 3
#: a cell behind at least this many such findings is named as their likely common cause
SHARED_CELLS_LEAST = 3


def shared_cells(issues: Iterable[Issue], least: int = SHARED_CELLS_LEAST) -> list[tuple[Location, list[Issue]]]:
    """The workbook cells that several unwaived errors and warnings point at, most findings first.

    One wrong cell — a 行政村数 typed as -5 — breaks every rule that reads it: “not negative”, three
    rates, three “≤ 行政村数”, the quarter-on-quarter jump. Each finding names the cell, but in a table
    of thirty the common cause is easy to miss; this names it once. Only findings citing at most
    ``SHARED_CELLS_CITED`` cells count (a county total's finding cites every village's cell, which
    would make every cell of a busy county look shared)."""
    behind: dict[tuple[str, str | None, str], list[Issue]] = {}
    where: dict[tuple[str, str | None, str], Location] = {}
    for issue in issues:
        if issue.waived is not None or issue.severity is Severity.INFO:
            continue
        cells = [loc for loc in issue.locations if loc.cell is not None]
        if not cells or len(cells) > SHARED_CELLS_CITED:
            continue
        for loc in dict.fromkeys(cells):
            key = (loc.file, loc.sheet, loc.cell)
            behind.setdefault(key, []).append(issue)
            where.setdefault(key, loc)
    shared = [(where[key], found) for key, found in behind.items() if len(found) >= least]
    shared.sort(key=lambda item: -len(item[1]))
    return shared


def shared_cell_text(loc: Location, found: list[Issue]) -> str:
    """``data/…/东山县_2024Q4.xlsx › 5-人居环境和基础设施 › D10（城关镇）：8 条（values_not_negative、
    rates_within_0_100 ×3、…）`` in the run's language."""
    rules: dict[str, int] = {}
    for issue in found:
        rules[issue.rule] = rules.get(issue.rule, 0) + 1
    en = get_lang() == "en"
    listed = (", " if en else "、").join(f"{rule} ×{n}" if n > 1 else rule for rule, n in rules.items())
    regions = list(dict.fromkeys(i.region_name for i in found if i.region_name))
    region = (f" ({', '.join(regions)})" if en else f"（{'、'.join(regions)}）") if len(regions) == 1 else ""
    if en:
        return f"{loc.render('en')}{region}: {len(found)} findings ({listed})"
    return f"{loc.render('zh')}{region}：{len(found)} 条（{listed}）"


def to_json(issues: list[Issue], *, period: str | None = None, lang: str | None = None,
            rules: Mapping[str, Any] | None = None) -> str:
    """``{"period", "lang", "summary", "findings": [Issue.to_dict() …]}`` (values as exact decimals).

    ``message`` is in ``lang`` (the command's language); ``messages`` holds it in every language,
    so a report drafted later reads its own language whatever the compile spoke. In the
    findings.json of a compile, ``lang`` is also the language of indicators.csv's notes."""
    findings = []
    for issue in issues:
        row = issue.to_dict(lang)
        row["messages"] = {code: issue.message.render(code) for code in LANGS}
        rule = (rules or {}).get(issue.rule)
        if rule is not None:
            row["rule_name"] = _rule_name(rule, lang)
        findings.append(row)
    return json_dumps({"period": period, "lang": lang or get_lang(), "summary": summary(issues), "findings": findings},
                      indent=2) + "\n"


def _where(loc: Location, prefix: str = "") -> str:
    file = _path(prefix, loc.file) if loc.file else loc.file
    return " › ".join(p for p in (file, loc.sheet, loc.cell) if p) + (f", line {loc.line}" if loc.line else "")


def _rule_name(rule: Any, lang: str | None) -> str:
    """A rule's name in the output's language (its ``name_en`` under ``--lang en``, when it has one)."""
    en = (lang or get_lang()) == "en"
    return (getattr(rule, "name_en", None) or rule.name) if en else rule.name


def to_junit(issues: list[Issue], rules: Iterable[Any], *, period: str | None = None,
             lang: str | None = None, not_run: Iterable[str] = (), strict: bool = False, prefix: str = "") -> str:
    """One <testsuite> per rule, one <testcase> per finding (a rule with none passes as one
    testcase). Errors are <failure>s (warnings too with ``strict``, as the exit code counts
    them), waived findings <skipped>, other findings pass with the message in <system-out>. A
    rule in ``not_run`` (on fields the workspace does not have) is one <skipped> testcase. A
    finding's first file is the testcase's ``file`` attribute (which JUnit reporters such as
    GitLab's link to), with ``prefix`` before it and before the paths of its detail lines."""
    idle = set(not_run)
    by_rule: dict[str, list[Issue]] = {}
    for issue in issues:
        by_rule.setdefault(issue.rule, []).append(issue)
    names = {r.id: _rule_name(r, lang) for r in rules}
    order = list(names) + [r for r in by_rule if r not in names]
    root = ET.Element("testsuites", name="revstat check" + (f" {period}" if period else ""))
    total = failures = skipped = 0
    for rule_id in order:
        found = by_rule.get(rule_id, [])
        suite = ET.SubElement(root, "testsuite", name=rule_id)
        s_fail = s_skip = 0
        if not found:
            case = ET.SubElement(suite, "testcase", classname=rule_id, name=names.get(rule_id, rule_id))
            if rule_id in idle:
                ET.SubElement(case, "skipped", message="not run: the workspace lacks fields this rule uses")
                s_skip += 1
        for issue in found:
            where = issue.region_name or issue.region_code or next((loc.file for loc in issue.locations if loc.file), "-")
            case = ET.SubElement(suite, "testcase", classname=rule_id, name=f"{where} {issue.period or ''}".strip())
            first = next((loc.file for loc in issue.locations if loc.file), None)
            if first:
                case.set("file", _path(prefix, first))
            message = issue.message.render(lang)
            detail = "\n".join(_where(loc, prefix) for loc in issue.locations)
            if issue.waived is not None:
                ET.SubElement(case, "skipped", message=f"waived: {issue.waived}")
                s_skip += 1
            elif issue.severity is Severity.ERROR or (strict and issue.severity is Severity.WARNING):
                fail = ET.SubElement(case, "failure", message=message, type=issue.severity.value)
                fail.text = detail
                s_fail += 1
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{issue.severity.value}: {message}\n{detail}".strip()
        cases = max(len(found), 1)
        suite.set("tests", str(cases))
        suite.set("failures", str(s_fail))
        suite.set("errors", "0")
        suite.set("skipped", str(s_skip))
        total, failures, skipped = total + cases, failures + s_fail, skipped + s_skip
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _path(prefix: str, file: str) -> str:
    if not prefix:
        return file
    return prefix.rstrip("/") + "/" + file


def to_github(issues: list[Issue], *, prefix: str = "", lang: str | None = None) -> str:
    """GitHub Actions workflow commands: ``::error file=data/…xlsx,title=rule::message``."""
    lines = []
    for issue in issues:
        # a waived finding stays visible as a notice, with the waiver's reason; it fails nothing
        command = "notice" if issue.waived is not None else \
            {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}[issue.severity]
        props = []
        first = next((loc for loc in issue.locations if loc.file), None)
        if first is not None:
            props.append(f"file={_gh_prop(_path(prefix, first.file))}")
            if first.line:
                props.append(f"line={first.line}")
        where = f" [{first.sheet} {first.cell}]" if first is not None and first.sheet and first.cell else ""
        props.append(f"title={_gh_prop(issue.rule)}")
        waived = "" if issue.waived is None else (
            f" (waived: {issue.waived})" if (lang or get_lang()) == "en" else f"（已豁免：{issue.waived}）")
        lines.append(f"::{command} {','.join(props)}::{_gh_data(issue.message.render(lang) + where + waived)}")
    return "\n".join(lines) + ("\n" if lines else "")


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_sarif(issues: list[Issue], rules: Iterable[Any], *, prefix: str = "", version: str = "0",
             lang: str | None = None) -> str:
    """A SARIF 2.1.0 log: one run, the rules as reportingDescriptors, findings as results
    (cells as logical locations ``sheet!cell``; waived findings carry a suppression)."""
    rules = list(rules)
    index = {r.id: i for i, r in enumerate(rules)}
    descriptors = [{
        "id": r.id, "name": r.id,
        "shortDescription": {"text": _rule_name(r, lang)},
        "fullDescription": {"text": r.description or r.name_en or r.name},
        "defaultConfiguration": {"level": _SARIF_LEVEL[Severity(r.severity)]},
        "properties": {"kind": r.kind},
    } for r in rules]
    results = []
    for issue in issues:
        result: dict[str, Any] = {
            "ruleId": issue.rule,
            "level": _SARIF_LEVEL[issue.severity],
            "message": {"text": issue.message.render(lang)},
            "locations": [_sarif_location(loc, prefix) for loc in issue.locations if loc.file][:50],
            "properties": {k: v for k, v in issue.to_dict(lang).items()
                           if k in ("region_code", "region_name", "period", "expected", "actual", "difference")},
        }
        if issue.rule in index:
            result["ruleIndex"] = index[issue.rule]
        if issue.waived is not None:
            result["suppressions"] = [{"kind": "external", "justification": issue.waived}]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "revstat", "version": version, "informationUri": TOOL_URI,
                                "rules": descriptors}},
            "results": results,
        }],
    }
    return json.dumps(json.loads(json_dumps(log)), ensure_ascii=False, indent=2) + "\n"


def _sarif_location(loc: Location, prefix: str) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _path(prefix, loc.file)}}
    if loc.line:
        physical["region"] = {"startLine": loc.line}
    out: dict[str, Any] = {"physicalLocation": physical}
    if loc.sheet or loc.cell:
        name = "!".join(part for part in (loc.sheet, loc.cell) if part)  # Sheet!C5, or the sheet alone
        out["logicalLocations"] = [{"name": name, "fullyQualifiedName": f"{loc.file}#{name}", "kind": "element"}]
    return out


__all__ = ["summary", "to_github", "to_json", "to_junit", "to_sarif"]
