"""Consistency rules (审核规则) as data: checks/*.yaml → :class:`RuleDef`.

A rule is either a boolean expression in the formula language (``rule: a <= b``) or a
``kind`` with parameters (``kind: totals``, ``kind: growth_bound`` …). The standard set ships
with the package (``checks/`` at the top of the repository); a workspace's ``checks/*.yaml``
add rules or override standard ones by ``id``. Unknown keys are rejected and every error
names the file and line.

Example::

    rules:
      - id: toilet_le_households
        name: 卫生厕所户数不大于农村常住户数
        rule: sanitary_toilet_households <= rural_households
        severity: error
        message: "{region}卫生厕所户数（{left}）大于农村常住户数（{right}）"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from revstat.config import Level, Strict, validate_model
from revstat.errors import DefinitionError, ErrorGroup, RevstatError, collect
from revstat.i18n import t
from revstat.model import Location, Severity
from revstat.yamlload import LineDict, LineList, line_of, load_yaml

Kind = Literal[
    "expression", "compare", "range", "balance", "totals", "hierarchy_sum", "cumulative",
    "growth_bound", "outlier", "target", "completeness", "duplicates", "cross_level",
    "small_denominator", "repeated_report",
]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
Op = Literal["<=", "<", ">=", ">", "==", "!="]

#: Parameters each kind needs (checked when a rule is loaded).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "expression": ("rule",),
    "compare": ("left", "op", "right"),
    "range": ("targets",),
    "balance": ("total", "parts"),
    "totals": ("fields",),
    "hierarchy_sum": ("fields",),
    "cumulative": ("fields",),
    "growth_bound": ("targets", "bound"),
    "outlier": ("indicators",),
    "target": ("indicators",),
    "completeness": (),
    "duplicates": (),
    "cross_level": ("indicators",),
    "small_denominator": ("indicators", "min_denominator"),
    "repeated_report": (),
}


class RuleDef(Strict):
    """One consistency rule. ``kind`` defaults to ``expression`` when ``rule:`` is given."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="稳定的规则 id / stable rule id")
    name: str = Field(description="规则名称 / name")
    name_en: str | None = None
    theme: str | None = Field(None, description="主题：monitoring、guarantees、income …")
    description: str | None = None
    kind: Kind = "compare"
    rule: str | None = Field(None, description="布尔表达式（公式语言）/ boolean expression")
    left: str | None = Field(None, description="compare: 左边的表达式")
    op: Op | None = None
    right: str | None = Field(None, description="compare: 右边的表达式")
    total: str | None = Field(None, description="balance: 合计项")
    parts: list[str] = Field(default_factory=list, description="balance: 各分项")
    fields: list[str] = Field(default_factory=list, description="适用的字段 / fields")
    indicators: list[str] = Field(default_factory=list, description="适用的指标 / indicators")
    levels: list[Level] | None = Field(
        None, description="适用的层级；缺省为数据上报的层级（如乡镇）/ levels checked; default: where values are reported")
    severity: Severity = Severity.ERROR
    message: str | None = Field(None, description="中文消息模板，可用 {region} {period} {left} {right} {difference}")
    message_en: str | None = None
    tolerance: Decimal = Field(Decimal(0), ge=0, description="绝对容差（字段单位）/ absolute tolerance")
    tolerance_relative: Decimal | None = Field(None, ge=0, description="相对容差（如 0.001）/ relative tolerance")
    min: Decimal | None = Field(None, description="range: 下限")
    max: Decimal | None = Field(None, description="range: 上限")
    value: Decimal | None = Field(None, description="target: 目标值（缺省用指标定义的 target）")
    require: Literal["regions", "fields", "both"] = Field(
        "both", description="completeness: 检查地区是否齐全、字段是否齐全或两者")
    bound: Decimal | None = Field(None, gt=0, description="growth_bound: |增速| 上限（%）")
    compare_with: Literal["prev_year", "prev_period"] = "prev_year"
    method: Literal["zscore", "iqr"] = "zscore"
    threshold: Decimal | None = Field(None, gt=0, description="outlier: 稳健 z 分数或 IQR 倍数")
    min_denominator: Decimal | None = Field(None, gt=0, description="small_denominator: 分母下限")
    min_values: int | None = Field(None, gt=0, description="repeated_report: 至少有这么多个非零数的表才比较（缺省 10）")
    child_level: Level | None = Field(None, description="cross_level: 下级层级（默认为下一级）")
    location: Location | None = Field(None, exclude=True, description="(internal) file and line")
    key_lines: dict[str, int] = Field(default_factory=dict, exclude=True, description="(internal) line of each key")

    @field_validator("fields", "indicators", "parts", "levels", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="before")
    @classmethod
    def _expression_kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("location" in data or "key_lines" in data):
            raise ValueError("unknown key / 未知的键 " + ("location" if "location" in data else "key_lines"))
        if isinstance(data, dict) and "rule" in data and "kind" not in data:
            data = {**data, "kind": "expression"}
        return data

    @model_validator(mode="after")
    def _params_for_kind(self) -> RuleDef:
        missing = [p for p in _REQUIRED[self.kind] if not _given(self, p)]
        if missing:
            raise ValueError(f"kind {self.kind} needs {', '.join(missing)} / 规则类型 {self.kind} 需要 {', '.join(missing)}")
        if self.kind == "range" and self.min is None and self.max is None:
            raise ValueError("kind range needs min or max / range 需要 min 或 max")
        if self.rule is not None and self.kind != "expression":
            raise ValueError("rule: is only for expression rules; drop kind: / rule: 只用于表达式规则")
        return self

    @property
    def targets(self) -> list[str]:
        """Fields and indicators the rule applies to, in order."""
        return [*self.fields, *self.indicators]

    @property
    def title(self) -> str:
        return self.name


def _given(rule: RuleDef, param: str) -> bool:
    value = rule.targets if param == "targets" else getattr(rule, param)
    return value not in (None, [], "")


class _RuleFile(Strict):
    rules: list[dict[str, Any]]


@dataclass(frozen=True)
class RuleSet:
    """Rules by id, in order; ``overridden`` lists ids a workspace file replaced."""

    rules: list[RuleDef]
    overridden: list[str]

    def __iter__(self) -> Any:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def by_id(self) -> dict[str, RuleDef]:
        return {r.id: r for r in self.rules}


def parse_rules(data: Any, display: str) -> list[RuleDef]:
    """Validate the data of one rules file; every error names the file and line."""
    if data is None:
        return []
    if not isinstance(data, dict):
        raise DefinitionError(t("规则文件应以 rules: 开头", "a rules file starts with rules:"),
                              Location(display, line=1), t("写成 rules: 加规则列表", "write rules: and a list"))
    validate_model(_RuleFile, data, display)
    items = data["rules"]
    out: list[RuleDef] = []
    errors: list[RevstatError] = []
    seen: dict[str, int | None] = {}
    for index, item in enumerate(items):
        line = item.line if isinstance(item, LineDict) else line_of(data, ["rules", index])
        try:
            rule = validate_model(RuleDef, item, display)
        except ErrorGroup as group:
            errors.extend(_relocate(e, data, ["rules", index]) for e in group.errors)
            continue
        except RevstatError as err:
            errors.append(_relocate(err, data, ["rules", index]))
            continue
        if rule.id in seen:
            errors.append(DefinitionError(
                t("重复的规则 id {id}（第{first}行已定义）", "duplicate rule id {id} (first on line {first})",
                  id=rule.id, first=seen[rule.id]),
                Location(display, line=line), t("每条规则用不同的 id", "give each rule its own id")))
            continue
        seen[rule.id] = line
        out.append(rule.model_copy(update={"location": Location(display, line=line),
                                           "key_lines": dict(getattr(item, "key_lines", {}) or {})}))
    if errors:
        raise ErrorGroup.of(errors)
    return out


def _relocate(err: RevstatError, data: Any, prefix: list[Any]) -> RevstatError:
    """validate_model of one item gives lines relative to that item's node: they are already
    absolute (the node keeps its own lines), so only prefix the error path for the reader."""
    if err.where is not None and err.where.line is None:
        err.where = Location(err.where.file, line=line_of(data, prefix))
    return err


def load_rule_files(files: list[tuple[Any, str]]) -> RuleSet:
    """Load rule files in order; a later file's rule replaces an earlier one with the same id."""
    by_id: dict[str, RuleDef] = {}
    overridden: list[str] = []
    errors: list[RevstatError] = []
    for path, display in files:
        rules = collect(errors, lambda path=path, display=display: parse_rules(load_yaml(path, display), display))
        if rules is None:
            continue
        for rule in rules:
            if rule.id in by_id:
                overridden.append(rule.id)
            by_id[rule.id] = rule
    if errors:
        raise ErrorGroup.of(errors)
    return RuleSet(list(by_id.values()), overridden)


def load_rules(ws: Any) -> RuleSet:
    """The standard rules (unless ``standard_checks: false``) then the workspace's checks/*.yaml."""
    return load_rule_files(ws.definition_files("checks"))


def where_named(rule: RuleDef, name: str) -> Location | None:
    """The line of the rule's key that uses ``name`` (its ``rule:`` or ``left:`` …), else the
    rule's own line: where a misspelt name is corrected."""
    import re

    if rule.location is None:
        return None
    word = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w])")
    for key in ("rule", "left", "right", "total", "parts", "fields", "indicators"):
        value = getattr(rule, key, None)
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and word.search(v) for v in texts) and key in rule.key_lines:
            return Location(rule.location.file, line=rule.key_lines[key])
    return rule.location


def rule_names(rule: RuleDef) -> list[str]:
    """The fields and indicators a rule reads (``fields: "*"`` reads whatever there is)."""
    from revstat.formula import parse_formula

    names = [n for n in rule.fields if n != "*"] + list(rule.indicators) + list(rule.parts)
    if rule.total:
        names.append(rule.total)
    for text in (rule.rule, rule.left, rule.right):
        if text:
            names += sorted(parse_formula(text, rule.location).names)
    return names


def rule_runs(rule: RuleDef, available: Callable[[str], bool]) -> bool:
    """Whether a rule checks anything in a workspace where ``available`` tells which fields and
    indicators there are: a formula (``rule``, ``left``/``right``, a balance's ``total`` and
    ``parts``) needs every name it reads; a list of ``fields``/``indicators`` without one is
    checked name by name (rates within 0–100, targets, completeness …), so one of them suffices."""
    names = rule_names(rule)
    if not names:
        return True
    formula = bool(rule.rule or rule.left or rule.right or rule.total or rule.parts)
    return all(available(n) for n in names) if formula else any(available(n) for n in names)


__all__ = ["KINDS", "RuleDef", "RuleSet", "load_rule_files", "load_rules", "parse_rules", "rule_names", "rule_runs",
           "where_named",
           "LineDict", "LineList"]
