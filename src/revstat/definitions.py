"""Indicator definitions (indicators/*.yaml): typed models, loaded with file and line.

A file lists indicators of one theme::

    theme: environment
    indicators:
      - id: sanitary_toilet_rate
        name: 农村卫生厕所普及率
        unit: "%"
        formula: sanitary_toilet_households / rural_households * 100
        decimals: 2
        target: {op: ">=", value: 65}
        change: pp

The standard set ships with the package; a workspace's indicators/*.yaml add to it or override
it by id. Formulas are parsed at load time (:mod:`revstat.formula`); a name that is neither a
known field nor an indicator is an error with a did-you-mean, and so is a dependency cycle.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from revstat.config import SourceDef, load_model, validate_model
from revstat.errors import DefinitionError, ErrorGroup, RevstatError, collect
from revstat.formula import Formula, parse_formula
from revstat.i18n import t
from revstat.model import Location
from revstat.yamlload import line_of, load_yaml

#: themes of the standard set, in report order: id → (Chinese, English)
THEMES: dict[str, tuple[str, str]] = {
    "monitoring": ("防返贫动态监测", "Monitoring against relapse into poverty"),
    "guarantees": ("两不愁三保障和饮水安全", "Basic guarantees and drinking water"),
    "income": ("农民收入和就业", "Income and employment"),
    "funds": ("衔接资金和项目", "Linkage funds and projects"),
    "environment": ("农村人居环境和基础设施", "Living environment and infrastructure"),
    "governance": ("乡村治理和集体经济", "Governance and collective economy"),
}


_TARGET_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal[">=", ">", "<=", "<", "=="] = Field(description="比较方式 / comparison")
    value: Decimal = Field(description="目标值 / target value")
    annual: bool = Field(False, description="年度目标：只在年末一期（四季度、12月、全年）判断，年中各期不判断 / "
                                            "an annual target: judged only in the period that ends the year")

    @field_validator("value", mode="before")
    @classmethod
    def _exact(cls, v: Any) -> Any:
        return str(v) if isinstance(v, float) else v

    def applies(self, period: Any) -> bool:
        """Whether the target is judged in ``period`` (an annual one only at the year's end:
        2024Q4, 2024M12, 2024; a task of the year is not missed in its first quarter)."""
        if not self.annual:
            return True
        from revstat.periods import Period

        return (period if isinstance(period, Period) else Period.parse(str(period))).ends_year

    def met(self, value: Decimal | None) -> bool | None:
        if value is None:
            return None
        return bool(_TARGET_OPS[self.op](value, self.value))

    def __str__(self) -> str:
        return f"{self.op} {format(self.value, 'f')}"


class IndicatorDef(BaseModel):
    """One indicator: a formula over fields and other indicators, computed at every level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="稳定的英文小写 id / stable lower_snake id")
    name: str = Field(description="指标名称（报告中使用）/ Chinese label")
    name_en: str | None = None
    theme: str | None = Field(None, description="主题（缺省取文件的 theme）/ theme (defaults to the file's)")
    unit: str = Field(description="单位：%、元、万元、人、户、个、个百分点 …")
    formula: str = Field(description="公式 / formula, e.g. a / b * 100")
    decimals: int = Field(1, ge=0, le=6, description="显示的小数位数 / decimals shown")
    target: Target | None = None
    direction: Literal["higher", "lower"] = Field("higher", description="越高越好 higher / 越低越好 lower")
    change: Literal["growth", "pp", "none"] = Field(
        "growth", description="与上年同期比较：growth 增长%，pp 个百分点，none 不比较")
    headline: bool = Field(False, description="编译结束时在摘要表中显示 / show in the compile summary")
    description: str | None = None
    basis: str | None = Field(None, description="统计口径 / basis of the figure")
    basis_en: str | None = Field(None, description="统计口径的英文 / the basis in English (`--lang en`)")

    _where: Location | None = PrivateAttr(None)
    _formula_where: Location | None = PrivateAttr(None)
    _parsed: Formula | None = PrivateAttr(None)

    @property
    def where(self) -> Location | None:
        return self._where

    @property
    def parsed(self) -> Formula:
        if self._parsed is None:
            self._parsed = parse_formula(self.formula, self._formula_where or self._where)
        return self._parsed

    @property
    def theme_name(self) -> str:
        return THEMES.get(self.theme or "", (self.theme or "", ""))[0]


class IndicatorFile(BaseModel):
    """An indicators/*.yaml file."""

    model_config = ConfigDict(extra="forbid")

    theme: str | None = Field(None, description="本文件指标的主题 / theme of the indicators in this file")
    indicators: list[IndicatorDef]


def catalogue_fields() -> dict[str, Any]:
    """The standard field catalogue (the standard sources' fields): id → FieldDef."""
    from revstat.workspace import std_dir

    out: dict[str, Any] = {}
    for path in sorted((std_dir("workspace") / "sources").glob("*.yaml")):
        src = load_model(SourceDef, path, f"<revstat>/sources/{path.name}")
        out.update({f.id: f for f in src.fields})
    return out


def load_indicator_files(files: Iterable[tuple[Path, str]], known_fields: Iterable[str]) -> list[IndicatorDef]:
    """Load indicator files in order; later files override earlier ones by id.

    ``known_fields``: every name a formula may use besides indicator ids. Raises
    DefinitionError (or ErrorGroup) naming file and line.
    """
    errors: list[RevstatError] = []
    by_id: dict[str, IndicatorDef] = {}
    for path, display in files:
        loaded = collect(errors, lambda path=path, display=display: _load_file(path, display, errors))
        if loaded is None:
            continue
        seen: dict[str, int | None] = {}
        for ind in loaded:
            line = ind.where.line if ind.where else None
            if ind.id in seen:
                errors.append(DefinitionError(
                    t("指标 id {id} 在同一文件中重复（第{first}行已出现）", "indicator id {id} is repeated in the file (first on line {first})",
                      id=ind.id, first=seen[ind.id]), ind.where, t("每个指标用不同的 id", "give each indicator its own id")))
                continue
            seen[ind.id] = line
            by_id[ind.id] = ind  # a later file (the workspace's) overrides by id
    defs = list(by_id.values())
    errors += _check_names(defs, set(known_fields))
    if not errors:
        try:
            dependency_order(defs)
        except RevstatError as err:
            errors.append(err)
    if errors:
        raise ErrorGroup.of(errors)
    return defs


def _load_file(path: Path, display: str, found: list[RevstatError] | None = None) -> list[IndicatorDef]:
    """The indicators of one file. When the file breaks the format, its errors go to ``found``
    and the indicators that are whole without their unknown keys are returned, so that an
    unknown name in a formula is reported in the same run as a misspelt key (not one after the
    other); nothing is computed from them, as the errors stop the load."""
    data = load_yaml(path, display)
    if data is None:
        return []
    if isinstance(data, list):  # a bare list of indicators is fine too
        data = {"indicators": data}
    try:
        model = validate_model(IndicatorFile, data, display)
    except RevstatError as err:
        if found is None:
            raise
        found.extend(err.errors if isinstance(err, ErrorGroup) else [err])
        model = _whole_entries(data)
        if model is None:
            return []
    out: list[IndicatorDef] = []
    errors: list[RevstatError] = []
    for i, ind in enumerate(model.indicators):
        if ind is None:  # an entry that is not whole even without its unknown keys: its errors are said
            continue
        if ind.theme is None and model.theme is not None:
            ind = ind.model_copy(update={"theme": model.theme})
        ind._where = Location(display, line=line_of(data, ["indicators", i, "id"]))
        ind._formula_where = Location(display, line=line_of(data, ["indicators", i, "formula"]))
        try:
            ind._parsed = parse_formula(ind.formula, ind._formula_where)
        except RevstatError as err:
            errors.append(err)
            continue
        out.append(ind)
    if errors:
        raise ErrorGroup.of(errors)
    return out


def _whole_entries(data: Any) -> Any:
    """The file's entries that validate once their unknown keys are dropped (``None`` for the
    others, so their positions — and lines — are kept); ``None`` when there is no list."""
    from types import SimpleNamespace

    from pydantic import ValidationError

    entries = data.get("indicators") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    theme = data.get("theme") if isinstance(data.get("theme"), str) else None
    known = set(IndicatorDef.model_fields)
    whole: list[IndicatorDef | None] = []
    for entry in entries:
        try:
            whole.append(IndicatorDef.model_validate({k: v for k, v in entry.items() if k in known})
                         if isinstance(entry, dict) else None)
        except ValidationError:
            whole.append(None)
    return SimpleNamespace(indicators=whole, theme=theme)


def _check_names(defs: list[IndicatorDef], fields: set[str]) -> list[RevstatError]:
    ids = {d.id for d in defs}
    pool = sorted(fields | ids)
    errors: list[RevstatError] = []
    for d in defs:
        if d.id in fields:
            errors.append(DefinitionError(
                t("指标 id `{id}` 与字段 id 重名", "indicator id `{id}` is also a field id", id=d.id), d.where,
                t("给指标另取一个 id（如加后缀 _rate、_total）", "give the indicator another id (e.g. add _rate or _total)")))
        for name in sorted(d.parsed.names):
            if name in fields or name in ids:
                continue
            close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
            errors.append(DefinitionError(
                t("指标 `{id}` 引用了未知的字段或指标 `{name}`", "indicator `{id}` refers to unknown field or indicator `{name}`",
                  id=d.id, name=name),
                d._formula_where or d.where,
                t("是否应为 `{c}`？`revstat indicators` 列出全部指标", "did you mean `{c}`? `revstat indicators` lists them all", c=close[0])
                if close else t("字段 id 见 sources/*.yaml，指标 id 见 `revstat indicators`",
                                "field ids are in sources/*.yaml; `revstat indicators` lists indicator ids"),
            ))
    return errors


def dependency_order(defs: list[IndicatorDef]) -> list[IndicatorDef]:
    """Indicators ordered so that each comes after the indicators it uses; a cycle is an error."""
    by_id = {d.id: d for d in defs}
    order: list[IndicatorDef] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(ident: str, path: list[str]) -> None:
        if state.get(ident) == 2:
            return
        if state.get(ident) == 1:
            cycle = [*path[path.index(ident):], ident]
            d = by_id[ident]
            raise DefinitionError(
                t("指标之间循环引用：{c}", "indicators refer to each other in a cycle: {c}", c=" → ".join(cycle)),
                d._formula_where or d.where,
                t("改写其中一个公式，使其不再引用循环中的指标", "rewrite one formula so that it no longer uses the cycle"),
            )
        state[ident] = 1
        for name in sorted(by_id[ident].parsed.names):
            if name in by_id:
                visit(name, [*path, ident])
        state[ident] = 2
        order.append(by_id[ident])

    for d in defs:
        visit(d.id, [])
    return order


def load_indicators(ws: Any) -> list[IndicatorDef]:
    """The workspace's indicator set: the standard set (unless turned off) then the workspace's
    indicators/*.yaml, overriding by id. Names may be any field of the workspace or of the
    standard catalogue (indicators over fields the workspace lacks are skipped at compile time)."""
    known = set(catalogue_fields()) | set(ws.fields())
    return load_indicator_files(ws.definition_files("indicators"), known)


def find_indicator(defs: list[IndicatorDef], text: str) -> IndicatorDef:
    """An indicator by id or Chinese name (exact, then unique substring)."""
    text = text.strip()
    for d in defs:
        if text in (d.id, d.name):
            return d
    hits = [d for d in defs if text in d.name]
    if len(hits) == 1:
        return hits[0]
    close = difflib.get_close_matches(text, [d.id for d in defs] + [d.name for d in defs], n=3, cutoff=0.4)
    raise DefinitionError(
        t("未知的指标 {x!r}", "unknown indicator {x!r}", x=text) if len(hits) <= 1 else
        t("指标 {x!r} 有歧义", "indicator {x!r} is ambiguous", x=text), None,
        (t("可能是：{c}；`revstat indicators` 列出全部指标", "perhaps: {c_en}; `revstat indicators` lists them all",
           c="、".join(close), c_en=", ".join(close)) if close else
         t("用指标的 id 或中文名称；`revstat indicators` 列出全部指标",
           "use the indicator's id or Chinese name; `revstat indicators` lists them all")) if len(hits) <= 1 else
        t("有多个指标名称包含它：{c}", "several indicators match: {c}", c="、".join(d.name for d in hits[:5])),
    )


def schemas() -> Mapping[str, Any]:
    """JSON Schemas of the definition files (for editors)."""
    return {"indicators": IndicatorFile.model_json_schema(), "sources": SourceDef.model_json_schema()}
