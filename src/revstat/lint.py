"""`revstat lint`: check the definitions alone (no data), each finding with file and line.

* schema errors of sources, indicators and rules (unknown keys, missing parameters);
* duplicate rule ids within the workspace's own files (overriding a standard rule is fine);
* unknown field / indicator references in rules, with a did-you-mean;
* indicator problems the engine's loader reports (unknown names, dependency cycles);
* units that do not agree: 户 added to 人, 元 compared with 万元, a rate (%) whose numerator and
  denominator count different things without a ``basis`` saying so;
* rules that can never fail or never pass on constants (``1 <= 2``, ``x <= x``, min > max);
* message templates with unknown placeholders;
* report templates that would not render: Jinja syntax errors (error) and unknown top-level
  variables (warning), by :mod:`revstat.template_lint` with the renderer's own environment;
* indicators no template, rule or other indicator uses (info).
"""

from __future__ import annotations

import contextlib
import difflib
import re
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from revstat.errors import ErrorGroup, RevstatError
from revstat.i18n import Text, t
from revstat.model import Issue, Location, Severity
from revstat.rules import RuleDef, parse_rules, rule_names, rule_runs, where_named
from revstat.yamlload import load_yaml

PLACEHOLDERS = frozenset({"region", "region_code", "period", "left", "right", "difference", "rule", "name",
                          "field", "file", "sheet", "lt", "rt", "op", "opzh", "prev", "fall", "base",
                          "growth", "bound", "change", "change_en", "score", "low", "high", "count", "fields", "blanks"})
#: Every message has these; the kinds below have their own besides (the others: PLACEHOLDERS).
_GENERAL = frozenset({"region", "region_code", "period", "left", "right", "difference", "rule", "name"})
KIND_PLACEHOLDERS = {
    "repeated_report": _GENERAL | {"count", "file", "other", "other_file", "which", "n", "sheets", "sheets_en",
                                   "sheet", "other_sheet"},
}


def _finding(code: str, severity: Severity, message: Text, where: Location | None) -> Issue:
    return Issue(rule=f"lint.{code}", severity=severity, message=message,
                 locations=(where,) if where is not None else ())


def _from_error(err: RevstatError, code: str = "schema") -> list[Issue]:
    errors = err.errors if isinstance(err, ErrorGroup) else [err]
    out = []
    for e in errors:
        msg = e.what if e.fix is None else Text(f"{e.what.render('zh')}（{e.fix.render('zh')}）",
                                                f"{e.what.render('en')} ({e.fix.render('en')})")
        out.append(_finding(code, Severity.ERROR, msg, e.where))
    return out


def did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return close[0] if close else ""


def _what(what: str) -> tuple[str, str]:
    """``规则 a`` → (``规则 a ``, ``rule a``): the subject of a message, ready for the verb."""
    kind, _, ident = what.partition(" ")
    en = {'规则': 'rule', '指标': 'indicator', '模板': 'template', '豁免': 'waiver'}.get(kind, kind)
    return (f"{what} " if ident else what), f"{en} {ident}".strip()


def _unknown(name: str, known: set[str], where: Location | None, what: str) -> Issue:
    zh, en = _what(what)
    guess = did_you_mean(name, known)
    hint_zh = f"，是否应为 `{guess}`？" if guess else "；字段在 sources/*.yaml 中定义，`revstat indicators` 列出指标"
    hint_en = f"; did you mean `{guess}`?" if guess else "; fields are defined in sources/*.yaml, `revstat indicators` lists the indicators"
    return _finding("unknown_reference", Severity.ERROR,
                    Text(f"{zh}引用了未知的名称 `{name}`{hint_zh}", f"{en} refers to unknown name `{name}`{hint_en}"),
                    where)


# ---- units ---------------------------------------------------------------------------------

def unit_of(node: Any, units: dict[str, str], problems: list[tuple[str, str, str]]) -> str | None:
    """The unit of a formula node (None: dimensionless or derived); collects (op, u1, u2)
    for + - and comparisons whose two sides carry different units."""
    from revstat.formula import Bin, Call, Compare, Name, Unary

    if isinstance(node, Name):
        return units.get(node.id) or None
    if isinstance(node, Unary):
        return unit_of(node.operand, units, problems)
    if isinstance(node, Bin):
        left, right = unit_of(node.left, units, problems), unit_of(node.right, units, problems)
        if node.op in "+-":
            if left and right and left != right:
                problems.append((node.op, left, right))
            return left or right
        if node.op == "*" and (left is None or right is None):
            return None if left is None and right is None else None
        return None
    if isinstance(node, Compare):
        sides = [unit_of(n, units, problems) for n in (node.left, *node.comparators)]
        known = [u for u in sides if u]
        for a, b in zip(known, known[1:], strict=False):
            if a != b and _family(a) is not None and _family(a) == _family(b):
                problems.append(("compare", a, b))  # 元 vs 万元; 人 ≥ 户 is a fair comparison
        return None
    if isinstance(node, Call):
        for arg in node.args:
            unit_of(arg, units, problems)
        if node.func in ("prev_year", "prev_period", "ytd", "quarterly", "abs", "if_missing", "min", "max") and node.args:
            return unit_of(node.args[0], units, [])
        return None
    return None


_FAMILIES = ({"元", "万元", "亿元"}, {"人", "万人"}, {"户", "万户"}, {"米", "公里", "千米"}, {"亩", "万亩", "公顷"})


def _family(unit: str) -> int | None:
    return next((i for i, fam in enumerate(_FAMILIES) if unit in fam), None)


def _unit_issues(text: str, where: Location | None, units: dict[str, str], what: str) -> list[Issue]:
    from revstat.formula import parse_formula

    problems: list[tuple[str, str, str]] = []
    unit_of(parse_formula(text, where).tree, units, problems)
    out = []
    zh, en = _what(what)
    for op, a, b in problems:
        if op == "compare":
            msg = Text(f"{zh}比较了单位不同的量：{a} 与 {b}", f"{en} compares quantities in different units: {a} and {b}")
        else:
            msg = Text(f"{zh}把单位不同的量相加减：{a} {op} {b}", f"{en} adds or subtracts different units: {a} {op} {b}")
        out.append(_finding("units", Severity.ERROR, msg, where))
    return out


# ---- constant rules ------------------------------------------------------------------------

def _constant_truth(node: Any) -> bool | None:
    """True/False when a comparison holds or fails whatever the data; None otherwise."""
    import pandas as pd

    from revstat.formula import Compare, Name, evaluate, to_text, walk

    if not [n for n in walk(node) if isinstance(n, Name)]:
        values, _ = evaluate(node, lambda name, shift: None, index=pd.Index(["x"], dtype=object))
        value = values.iloc[0]
        return bool(value) if isinstance(value, bool) else None
    if isinstance(node, Compare) and len(node.ops) == 1 and to_text(node.left) == to_text(node.comparators[0]):
        return node.ops[0] in ("==", "<=", ">=")
    return None


def _rule_constant_issues(rule: RuleDef) -> list[Issue]:
    from revstat.formula import parse_formula
    from revstat.rule_expr import comparisons

    verdicts: list[bool] = []
    if rule.kind == "expression" and rule.rule:
        tree = parse_formula(rule.rule, rule.location).tree
        try:
            links = comparisons(tree)
        except ValueError:
            return [_finding("not_a_comparison", Severity.ERROR,
                             t("规则 {id} 不是比较式（应写成 a <= b、a == b + c 等）",
                               "rule {id} is not a comparison (write a <= b, a == b + c …)", id=rule.id), rule.location)]
        from revstat.formula import Compare

        for left, op, right in links:
            truth = _constant_truth(Compare(left, (op,), (right,)))
            if truth is not None:
                verdicts.append(truth)
    if rule.kind == "range" and rule.min is not None and rule.max is not None and rule.min > rule.max:
        verdicts.append(False)
    out = []
    if False in verdicts:
        out.append(_finding("never_passes", Severity.ERROR,
                            t("规则 {id} 无论数据如何都不会通过", "rule {id} can never pass, whatever the data", id=rule.id),
                            rule.location))
    elif verdicts and all(verdicts):
        out.append(_finding("never_fails", Severity.WARNING,
                            t("规则 {id} 无论数据如何都不会失败（检查不到任何问题）",
                              "rule {id} can never fail, whatever the data (it checks nothing)", id=rule.id),
                            rule.location))
    return out


def _placeholder_issues(rule: RuleDef) -> list[Issue]:
    out = []
    for text in (rule.message, rule.message_en):
        if not text:
            continue
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        except ValueError:
            used = {"{"}
        known = KIND_PLACEHOLDERS.get(rule.kind, PLACEHOLDERS)
        unknown = sorted(used - known)
        if unknown:
            listed = ", ".join(sorted(known)) if rule.kind in KIND_PLACEHOLDERS else \
                "region, period, left, right, difference, field …"
            out.append(_finding("message", Severity.ERROR,  # it would reach the findings and the report as typed
                                t("规则 {id} 的消息模板含未知占位符：{names}（可用：{known}）；它会原样出现在审核结果和报告中",
                                  "message of rule {id} has unknown placeholders: {names} (known: {known}); it would "
                                  "appear as typed in the findings and the report",
                                  id=rule.id, names=", ".join(unknown), known=listed),
                                rule.location))
    return out


# ---- the whole workspace -------------------------------------------------------------------

def lint_rules(files: list[tuple[Path, str]], *, fields: dict[str, Any], indicators: dict[str, Any],
               local_files: set[str], names_complete: bool = True) -> tuple[list[RuleDef], list[Issue]]:
    """Lint rule files; returns the merged rules (later files override) and the findings."""
    units = {f: d.unit for f, d in fields.items()} | {i: getattr(d, "unit", "") for i, d in indicators.items()}
    known = set(fields) | set(indicators)
    issues: list[Issue] = []
    merged: dict[str, RuleDef] = {}
    local_ids: dict[str, Location | None] = {}
    for path, display in files:
        try:
            rules = parse_rules(load_yaml(path, display), display)
        except RevstatError as err:
            issues += _from_error(err)
            continue
        for rule in rules:
            if display in local_files:
                if rule.id in local_ids:
                    issues.append(_finding("duplicate_id", Severity.ERROR,
                                           t("规则 id {id} 重复（另见 {other}）", "duplicate rule id {id} (also at {other})",
                                             id=rule.id, other=str(local_ids[rule.id])), rule.location))
                local_ids[rule.id] = rule.location
                if rule.id in merged and merged[rule.id].location and merged[rule.id].location.file not in local_files:
                    issues.append(_finding("override", Severity.INFO,
                                           t("规则 {id} 覆盖了标准规则", "rule {id} overrides the standard rule", id=rule.id),
                                           rule.location))
            merged[rule.id] = rule
    idle: list[str] = []  # standard rules on fields this workspace does not have: not run, as in `check`
    from revstat.check_run import indicator_inputs

    inputs = indicator_inputs(list(indicators.values()), set(fields))

    def runs(name: str) -> bool:  # as `check` decides (CheckReport.not_run): its fields are all here
        return name in fields or (name in inputs and bool(inputs[name]) and inputs[name] <= set(fields))

    for rule in merged.values():
        try:
            names = rule_names(rule)
        except RevstatError as err:
            issues += _from_error(err, "formula")
            continue
        standard = rule.location is not None and rule.location.file not in local_files
        if standard and not rule_runs(rule, runs):
            idle.append(rule.id)
            continue
        if any(n not in known for n in names):
            if standard:  # runs on the names there are (rule_runs): nothing to say
                continue
            if names_complete:  # else the indicators failed to load: their errors say why
                issues += [_unknown(n, known, where_named(rule, n), f"规则 {rule.id}")
                           for n in dict.fromkeys(names) if n not in known]
            issues += _placeholder_issues(rule)  # its message's placeholders need no names: said in the same run
            continue
        for text in (rule.rule, f"{rule.left} {rule.op} {rule.right}" if rule.kind == "compare" else None,
                     f"{rule.total} == {' + '.join(rule.parts)}" if rule.kind == "balance" else None):
            if text:
                issues += _unit_issues(text, rule.location, units, f"规则 {rule.id}")
        issues += _rule_constant_issues(rule)
        issues += _placeholder_issues(rule)
    if idle and names_complete:  # with an indicator file in error, its indicators would all look absent
        shown = "、".join(idle[:5]) + (f" 等 {len(idle)} 条" if len(idle) > 5 else "")
        issues.append(_finding("standard_rules_not_run", Severity.INFO,
                               t("{n} 条标准审核规则用到本工作区没有的字段或指标，不会运行：{ids}（需要时在 sources/ 中"
                                 "提供其字段；不用标准规则可在 revstat.yaml 设 standard_checks: false）",
                                 "{n} standard check rules use fields or indicators this workspace does not have and "
                                 "will not run: {ids_en} (provide their fields in sources/ to have them; "
                                 "standard_checks: false in revstat.yaml turns the standard rules off)",
                                 n=len(idle), ids=shown, ids_en=", ".join(idle[:5]) + (", …" if len(idle) > 5 else "")),
                               None))
    return list(merged.values()), issues


def _indicator_issues(indicators: dict[str, Any], fields: dict[str, Any]) -> list[Issue]:
    from revstat.formula import parse_formula

    units = {f: d.unit for f, d in fields.items()} | {i: getattr(d, "unit", "") for i, d in indicators.items()}
    out: list[Issue] = []
    for ind in indicators.values():
        where = getattr(ind, "location", None) or getattr(ind, "where", None)
        where = where if isinstance(where, Location) else None
        try:
            formula = parse_formula(ind.formula, where)
        except RevstatError as err:
            out += _from_error(err, "formula")
            continue
        out += _unit_issues(ind.formula, where, units, f"指标 {ind.id}")
        ratio = formula.ratio
        if ratio is not None and getattr(ind, "unit", "") == "%" and not getattr(ind, "basis", None):
            problems: list[tuple[str, str, str]] = []
            num, den = unit_of(ratio[0], units, problems), unit_of(ratio[1], units, problems)
            if num and den and num != den:
                out.append(_finding("units", Severity.WARNING,
                                    t("指标 {id} 是比率，但分子（{a}）与分母（{b}）计数单位不同，且没有用 basis 说明口径",
                                      "indicator {id} is a rate whose numerator ({a}) and denominator ({b}) count different things, and no basis says so",
                                      id=ind.id, a=num, b=den), where))
    return out


def _unused_indicators(indicators: dict[str, Any], rules: list[RuleDef], template_dirs: list[Path]) -> list[Issue]:
    from revstat.formula import parse_formula

    text = ""
    for folder in template_dirs:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.suffix in (".j2", ".md", ".html", ".yaml", ".txt"):
                    text += path.read_text(encoding="utf-8", errors="replace") + "\n"
    used: set[str] = set(re.findall(r"[a-z][a-z0-9_]*", text))
    for rule in rules:
        with contextlib.suppress(RevstatError):
            used |= set(rule_names(rule))
    for ind in indicators.values():
        with contextlib.suppress(RevstatError):
            used |= set(parse_formula(ind.formula).names)
    out = []
    for ind in indicators.values():
        where = getattr(ind, "location", None) or getattr(ind, "where", None)
        shipped = isinstance(where, Location) and where.file.startswith("<revstat>/")
        if ind.id not in used and not shipped:  # the standard set is a menu: most workspaces use part of it
            out.append(_finding("unused", Severity.INFO,
                                t("指标 {id} 未被任何模板或规则使用", "indicator {id} is used by no template or rule", id=ind.id),
                                where if isinstance(where, Location) else None))
    return out


_TEMPLATE_REFS = (
    re.compile(r"\b[a-z]\w*\.([a-z][a-z0-9]*_[a-z0-9_]+)"),  # r.sanitary_toilet_rate
    re.compile(r"figs_of\(\s*['\"]([a-z][a-z0-9_]*)['\"]"),  # kids|figs_of('id')
    re.compile(r"\[\[chart:\w+:([a-z][a-z0-9_]*):"),  # [[chart:bar:id:title]]
    re.compile(r"table\(\[([^\]]*)\]"),  # table(['a', 'b'])
)
_NOT_INDICATORS = frozenset({"region_name", "region_code", "child_noun", "target_met", "change_display",
                             "change_unit", "theme_name", "name_en", "label_zh"})


def template_references(text: str) -> list[tuple[str, int]]:
    """Indicator ids a template refers to, with their lines (a heuristic over the usual forms)."""
    from revstat.tidy import RESULT_COLUMNS

    out: list[tuple[str, int]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for pattern in _TEMPLATE_REFS:
            for match in pattern.finditer(line):
                names = re.findall(r"['\"]([a-z][a-z0-9_]*)['\"]", match.group(1)) if pattern.pattern.startswith("table") \
                    else [match.group(1)]
                out += [(n, lineno) for n in names if n not in _NOT_INDICATORS and n not in RESULT_COLUMNS]
    return out


def _template_issues(template_dirs: list[Path], known: set[str], root: Path) -> list[Issue]:
    out: list[Issue] = []
    seen: set[str] = set()
    for folder in template_dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.j2")):
            if path.name in seen:  # a workspace template replaces the standard one
                continue
            seen.add(path.name)
            try:
                display = str(path.resolve().relative_to(root.resolve()))
            except ValueError:
                display = f"<revstat>/templates/{path.name}"
            for name, line in template_references(path.read_text(encoding="utf-8", errors="replace")):
                if name not in known:
                    out.append(_unknown(name, known, Location(display, line=line), f"模板 {path.name}"))
    return out


def _waiver_issues(ws: Any, rule_ids: set[str]) -> list[Issue]:
    from revstat.waivers import load_waivers

    display = "checks/waivers.yaml"
    try:
        waivers = load_waivers(ws.root / "checks" / "waivers.yaml", display, ws.regions)
    except RevstatError as err:
        return _from_error(err)
    return [_unknown(w.rule, rule_ids, Location(display, line=w.line), "豁免")
            for w in waivers if w.rule not in rule_ids and not w.rule.startswith("waiver_")]


def lint_workspace(root: Path) -> list[Issue]:
    """All lint findings of a workspace folder (unusable revstat.yaml/regions.csv still raise)."""
    from revstat.errors import ConfigError
    from revstat.workspace import load_workspace

    try:
        ws = load_workspace(root)
    except ConfigError:
        raise
    except RevstatError as err:
        return _from_error(err)
    fields = ws.fields()
    issues: list[Issue] = []
    indicators: dict[str, Any] = {}
    loaded = True
    try:
        from revstat.definitions import load_indicators

        indicators = {i.id: i for i in load_indicators(ws)}
    except ImportError:
        pass
    except RevstatError as err:
        loaded = False
        issues += _from_error(err, "indicators")
    issues += _indicator_issues(indicators, fields)
    issues += _region_code_issues(ws)
    issues += _file_pattern_issues(ws)
    local = {display for path, display in ws.definition_files("checks") if not display.startswith("<revstat>")}
    rules, rule_issues = lint_rules(ws.definition_files("checks"), fields=fields, indicators=indicators,
                                    local_files=local, names_complete=loaded)
    issues += rule_issues
    issues += _waiver_issues(ws, {r.id for r in rules})
    issues += _unused_indicators(indicators, rules, ws.template_dirs())
    from revstat.template_lint import lint_templates

    issues += lint_templates(ws.template_dirs(), ws.root)
    if indicators and loaded:
        issues += _template_issues(ws.template_dirs(), set(indicators) | set(fields), ws.root)
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(issues, key=lambda i: (order[i.severity], *_where_key(i), i.rule))


#: Digits of a 统计用区划代码 that name a region of each level (the rest are zeros).
_PREFIX = {"province": 2, "city": 4, "county": 6, "township": 9}


def _region_code_issues(ws: Any) -> list[Issue]:
    """Codes that do not begin with their parent's (a township 510728204000 under the county
    510727000000): 统计用区划代码 are nested, so it is most likely a typo. A warning, since a
    workspace may use codes of its own."""
    regions = ws.regions.regions
    odd = [(code, r) for code, r in regions.items()
           if r.parent in regions and (n := _PREFIX.get(regions[r.parent].level)) and code[:n] != r.parent[:n]]
    if not odd:
        return []
    try:
        text = (ws.root / "regions.csv").read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        text = []
    line = {row.split(",", 1)[0].strip(): i for i, row in enumerate(text, 1)}
    out = []
    for code, region in odd:
        parent = regions[region.parent]
        n = _PREFIX[parent.level]
        out.append(_finding("region_code", Severity.WARNING, t(
            "{name}({code}) 的代码不以上级 {parent}({pcode}) 的前 {n} 位 {prefix} 开头：统计用区划代码逐级嵌套，可能是代码或上级填错了",
            "the code of {name} ({code}) does not begin with the first {n} digits {prefix} of its parent {parent} "
            "({pcode}): 统计用区划代码 are nested, so the code or the parent is probably wrong",
            name=region.name, code=code, parent=parent.name, pcode=region.parent, n=n, prefix=region.parent[:n]),
            Location("regions.csv", line=line.get(code))))
    return out


def _file_pattern_issues(ws: Any) -> list[Issue]:
    """A source whose ``files`` pattern matches no file of any period, in a workspace where other
    sources' patterns do (``record/`` for ``records/``): its fields would only ever be “no file for
    the period”. A warning, with the files of that name found elsewhere in the workspace."""
    from revstat.workspace import any_case_extension, likely_pattern
    from revstat.yamlload import line_of, load_yaml

    def matches(pattern: str) -> list[Path]:
        glob = any_case_extension(pattern.replace("{period}", "*"))
        return [p for p in ws.root.glob(glob) if p.is_file() and not p.name.startswith("~$")]

    found = {s.id: bool(matches(s.files)) for s in ws.sources if "://" not in s.files}  # (a cluster's files: not here)
    if not any(found.values()):  # a workspace without data yet (revstat init): nothing to compare with
        return []
    out = []
    for source in ws.sources:
        if found.get(source.id, True):
            continue
        guess = likely_pattern(ws, source.files)  # (revstat.workspace)
        display = ws.source_files.get(source.id, f"sources/{source.id}.yaml")
        try:
            line = line_of(load_yaml(ws.root / display), ["files"])
        except (RevstatError, OSError):
            line = None
        out.append(_finding("files", Severity.WARNING, t(
            "来源 {id} 的 files 模式 {p} 在任何报告期都没有匹配到文件{g}",
            "the files pattern {p} of source {id} matches no file of any period{g_en}", id=source.id, p=source.files,
            g=f"，是否应为 {guess}？" if guess else "", g_en=f"; did you mean {guess}?" if guess else ""),
            Location(display, line=line)))
    return out


def _where_key(issue: Issue) -> tuple[str, int]:
    loc = issue.locations[0] if issue.locations else None
    return (loc.file, loc.line or 0) if loc is not None else ("", 0)


__all__ = ["did_you_mean", "lint_rules", "lint_workspace", "unit_of"]
