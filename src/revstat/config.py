"""Typed configuration: revstat.yaml and sources/*.yaml, validated by pydantic.

Unknown keys are rejected; every validation error is mapped back to the YAML line it came
from (pydantic's errors carry a path, :func:`revstat.yamlload.line_of` turns it into a line).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from revstat.errors import DefinitionError, ErrorGroup, RevstatError
from revstat.i18n import Text, t
from revstat.model import Location
from revstat.yamlload import line_of, load_yaml

Level = Literal["province", "city", "county", "township", "village"]
LEVELS: tuple[str, ...] = ("province", "city", "county", "township", "village")
LEVEL_ZH = {"province": "省", "city": "市", "county": "县", "township": "乡镇", "village": "村"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkspaceConfig(Strict):
    """revstat.yaml."""

    name: str = Field(description="报告名称 / name of the compilation")
    region: str = Field(description="本报告的地区代码（12位）/ code of the report's region")
    locale: Literal["zh", "en"] = "zh"
    rounding: Literal["half_up", "half_even"] = "half_up"
    periods: Literal["quarterly", "monthly", "yearly"] = "quarterly"
    hidden: Literal["include", "exclude", "error"] = Field(
        "include", description="隐藏的行和工作表：计入、跳过或报错 / hidden rows and sheets policy")
    engine: Literal["auto", "duckdb", "pandas", "spark"] = "auto"
    spark_master: str | None = None
    standard_indicators: bool = Field(True, description="使用软件自带的标准指标集")
    standard_checks: bool = Field(True, description="使用软件自带的标准审核规则")

    @field_validator("region", mode="before")
    @classmethod
    def _code_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


class HeaderSpec(Strict):
    rows: list[int] = Field(description="表头所在行（从1开始）/ 1-based header rows")


class RegionSpec(Strict):
    column: str = Field(description="地区所在列的表头 / header of the region column")
    by: Literal["name", "code", "auto"] = "auto"
    level: Level = "township"


class FieldDef(Strict):
    """A field a source provides: one column of a sheet (or one aggregation of records)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str | None = None
    column: str | None = Field(None, description="表头文字，多行表头用 / 连接，如 监测对象/户数")
    unit: str = Field(description="单位：户、人、元、万元、个、公里、% …")
    agg: Literal["sum", "last", "wmean", "none"] = Field(
        "sum", description="如何向上级汇总 / how it rolls up the hierarchy")
    weight: str | None = Field(None, description="加权平均的权重字段 / weight field for wmean")
    temporal: Literal["stock", "cumulative", "period"] = Field(
        "stock", description="stock 时点数；cumulative 1—N月累计数；period 当期数")
    required: bool = True
    # records sources (household-level): how rows aggregate to a region
    measure: Literal["count", "sum", "count_distinct"] | None = None
    of: str | None = Field(None, description="records: 汇总的列 / the column summed or counted")
    where: str | None = Field(None, description="records: 条件（公式语言）/ filter in the formula language")

    @model_validator(mode="after")
    def _weight_for_wmean(self) -> FieldDef:
        if self.agg == "wmean" and not self.weight:
            raise ValueError("agg: wmean needs weight: <field id> / 加权平均需要指定 weight")
        return self


#: ``files`` of a records source read from a catalog table (``table: db.households``)
TABLE_SCHEME = "table://"


class SourceDef(Strict):
    """sources/*.yaml: how to read one kind of sheet (or record file) into fields."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    kind: Literal["sheet", "csv", "records"] = "sheet"
    files: str = Field(description="相对工作区的文件模式，可含 {period}，如 data/{period}/*.xlsx")
    sheet: str | None = Field(None, description="工作表名称或通配模式，如 1-防返贫*")
    header: Literal["auto"] | HeaderSpec = "auto"
    region: RegionSpec
    unit: str | None = Field(None, description="表中金额的默认单位 / default money unit of the sheet")
    hidden: Literal["include", "exclude", "error"] | None = None
    # records sources (kind: records): household rows aggregated to regions, see docs/scale.md
    format: Literal["csv", "parquet"] | None = Field(
        None, description="records: 文件格式，默认按扩展名 / file format (by extension when omitted)")
    period_column: str | None = Field(
        None, description="records: 报告期所在列（文件模式不含 {period} 时）/ column holding the period")
    columns: dict[str, str] = Field(
        default_factory=dict, description="records: of/where 中的名称 → 文件中的列名 / names → column headers")
    key: str | None = Field(
        None, description="records: 每条记录唯一的列（如户编号），同一地区内重复即报错 / the column that identifies a "
                          "record (a household id): a value repeated within a region is an error")
    key_scope: Literal["region", "file"] = Field(
        "region", description="records: key 在哪个范围内唯一：region（缺省，每个村内）或 file（整个导出文件，"
                              "跨村重复也报错；多读一遍文件）/ where the key is unique: within a region (default) "
                              "or across the whole export (one more pass over the file)")
    table: str | None = Field(
        None, description="records（Spark 引擎）：数据平台目录中的表，如 db.households，代替 files "
                          "/ records on Spark: a catalog table instead of files")
    fields: list[FieldDef]

    @model_validator(mode="before")
    @classmethod
    def _table_instead_of_files(cls, data: Any) -> Any:
        # a catalog table stands where the file pattern would: files matches no local file
        if isinstance(data, dict) and data.get("table") and "files" not in data:
            return {**data, "files": f"{TABLE_SCHEME}{data['table']}"}
        return data

    @model_validator(mode="after")
    def _table_for_records_only(self) -> SourceDef:
        if self.table and self.kind != "records":
            raise ValueError("table: only for kind: records / table 只用于户级数据来源（kind: records）")
        return self

    @field_validator("files")
    @classmethod
    def _inside_workspace(cls, v: str) -> str:
        if v.startswith(("/", "\\")) or ".." in Path(v).parts or (len(v) > 1 and v[1] == ":"):
            raise ValueError("files must be a relative path inside the workspace / 文件模式必须是工作区内的相对路径")
        return v


M = TypeVar("M", bound=BaseModel)


#: model → (the docs page of its file, the `revstat schema` kind that prints its format, if any)
_DOCS = {"IndicatorFile": ("docs/indicators.md", "indicators"), "SourceDef": ("docs/sources.md", "sources"),
         "WorkspaceConfig": ("docs/workspace.md", None), "_RuleFile": ("docs/checks.md", None),
         "RuleDef": ("docs/checks.md", None), "_WaiverFile": ("docs/checks.md", None)}


def _format_fix(model: type[BaseModel]) -> Text:
    page, kind = _DOCS.get(model.__name__, ("docs/", None))
    if kind:
        return t("对照 {page} 改正；`revstat schema {kind}` 输出完整的格式", "see {page}; `revstat schema {kind}` "
                 "prints the full format", page=page, kind=kind)
    return t("对照 {page} 改正", "see {page}", page=page)


def validate_model(model: type[M], data: Any, file: str) -> M:
    """Validate YAML data against a model; errors name the file and line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: list[RevstatError] = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if isinstance(p, int | str)]
            where = ".".join(str(p) for p in loc) or "(top)"
            errors.append(DefinitionError(
                t("{where}: {msg}", "{where}: {msg}", where=where, msg=_message(err, model)),
                Location(file, line=line_of(data, loc)),
                _format_fix(model),
            ))
        if len(errors) == 1:
            raise errors[0] from None
        raise ErrorGroup(errors) from None


def _message(err: Any, model: type[BaseModel]) -> Text:
    """pydantic's error in both languages: an unknown key with the closest known key of the
    model, a missing key, a value outside a list of choices; other errors keep pydantic's text."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(err["loc"][-1]) if err.get("loc") else ""
        close = difflib.get_close_matches(key, sorted(_known_keys(model)), n=1, cutoff=0.6)
        if close:  # the key itself is already named before the message (where: …)
            return t("未知的键（是否应为 {close}？）", "unknown key (did you mean {close}?)", close=close[0])
        return t("未知的键（拼写错误？）", "unknown key (a typo?)")
    if kind == "missing":
        return t("缺少必填的键", "missing required key")
    if kind == "string_pattern_mismatch":  # an id: lower-case ASCII letters, digits and _, a letter first
        value = str(err.get("input"))
        if str(ctx.get("pattern", "")) == "^[a-z][a-z0-9_]*$":
            fixed = re.sub(r"[^a-z0-9_]+", "_", value.strip().lower()).strip("_")
            return t("取值 {value} 不能作 id：id 只用小写英文字母、数字和下划线，以字母开头{hint}",
                     "{value} cannot be an id: an id uses lower-case ASCII letters, digits and _, beginning with a "
                     "letter{hint_en}", value=_brief(value), hint=f"（如 {fixed}）" if fixed[:1].isalpha() else "",
                     hint_en=f" (e.g. {fixed})" if fixed[:1].isalpha() else "")
        return t("取值 {value} 的写法不符合要求（{p}）", "{value} is not written as required ({p})", value=_brief(value),
                 p=ctx.get("pattern", ""))
    if kind == "literal_error" and "expected" in ctx:
        choices = re.findall(r"'([^']*)'", str(ctx["expected"]))
        typed = str(err.get("input"))
        # an operator typed the other way round (=> for >=, =< for <=) before any spelling guess
        swapped = typed[::-1] if len(typed) == 2 and set(typed) <= set("<>=!") else None
        close = [swapped] if swapped in choices else difflib.get_close_matches(typed, choices, n=1, cutoff=0.6)
        return t("取值 {value} 不在可选值之中：{choices}{close}", "value {value} is not one of {expected}{close_en}",
                 value=_brief(err.get("input")), expected=ctx["expected"],
                 choices="、".join(f"'{c}'" for c in choices) if choices else ctx["expected"],
                 close=f"（是否应为 {close[0]}？）" if close else "",
                 close_en=f" (did you mean {close[0]}?)" if close else "")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return t("应为整数，实际是 {value}", "expected an integer, got {value}", value=_brief(err.get("input")))
    if kind in ("bool_parsing", "bool_type"):
        return t("应为 true 或 false，实际是 {value}", "expected true or false, got {value}", value=_brief(err.get("input")))
    if kind in ("string_type",):
        return t("应为文字，实际是 {value}", "expected text, got {value}", value=_brief(err.get("input")))
    bounds = {"greater_than": ("gt", "应大于", "greater than"), "greater_than_equal": ("ge", "应不小于", "at least"),
              "less_than": ("lt", "应小于", "less than"), "less_than_equal": ("le", "应不大于", "at most")}
    if kind in bounds and bounds[kind][0] in ctx:
        key, word_zh, word_en = bounds[kind]  # (t's own parameters are named zh and en)
        return t("{word_zh} {bound}，实际是 {value}", "expected a number {word_en} {bound}, got {value}",
                 word_zh=word_zh, word_en=word_en, bound=ctx[key], value=_brief(err.get("input")))
    if kind in ("decimal_parsing", "decimal_type", "float_parsing", "float_type"):
        return t("应为数字，实际是 {value}", "expected a number, got {value}", value=_brief(err.get("input")))
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type", "date_from_datetime_inexact"):
        return t("应为有效日期 YYYY-MM-DD，实际是 {value}", "expected a valid date YYYY-MM-DD, got {value}",
                 value=_brief(err.get("input")))
    if kind in ("list_type",):
        return t("应为列表（[a, b] 或每行一个 - a），实际是 {value}", "expected a list ([a, b] or one - a a line), got {value}",
                 value=_brief(err.get("input")))
    return t("{msg}", "{msg}", msg=str(err.get("msg", "")))


def _brief(value: Any) -> str:
    """A value for a message: a scalar as written (cut short), a list or mapping only by its
    kind (never expanded: YAML aliases can nest a list a billion times over)."""
    if isinstance(value, list | tuple):
        return "[…]"
    if isinstance(value, dict):
        return "{…}"
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _known_keys(model: type[BaseModel]) -> set[str]:
    """Every key a model accepts, at any depth (its own fields and those of nested models)."""
    keys: set[str] = set()
    seen: set[type] = set()

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.add(tp)
            for name, info in tp.model_fields.items():
                keys.add(info.alias or name)
                visit(info.annotation)
            return
        for arg in get_args(tp):
            visit(arg)

    visit(model)
    return keys


def load_model(model: type[M], path: Path, display: str) -> M:
    data = load_yaml(path, display)
    if data is None:
        raise DefinitionError(t("文件是空的", "the file is empty"), Location(display))
    return validate_model(model, data, display)
