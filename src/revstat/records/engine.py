"""Household records → region-level observations: plan, run (DuckDB, pandas or Spark), tidy.

A records source (``kind: records``) is a CSV or Parquet file set with one household per row.
Each field is an aggregation (``measure: count | sum | count_distinct``, ``of:``, ``where:``).
:func:`plan_source` turns the definition into :class:`revstat.records.sql.Aggregate` s; one
query per source and file set computes them all; only the small grouped result (one row per
region) leaves the engine. The engines:

* ``duckdb`` — reads the files directly (streaming, bounded memory); the default for Parquet
  and for CSV above :data:`PANDAS_MAX_BYTES`;
* ``pandas`` — small CSV files (no extra start-up cost, everything is in memory anyway);
* ``spark`` — the same SQL text transpiled (:mod:`revstat.records.spark`), never automatic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from revstat import tidy
from revstat.config import FieldDef, SourceDef
from revstat.errors import ConfigError, DefinitionError, ErrorGroup, RevstatError, SourceError
from revstat.formula import (
    Bin,
    BoolOp,
    Call,
    Compare,
    Name,
    Node,
    Not,
    Str,
    Unary,
    parse_formula,
)
from revstat.i18n import t
from revstat.model import Location
from revstat.records import sql as rsql
from revstat.records.files import file_format, files_of, first_undecodable, utf8_paths
from revstat.records.notes import outside_note
from revstat.records.validate import (
    MissingColumnsError,
    bad_numbers,
    bad_values,
    code_fix,
    keys_across_regions,
    missing_columns,
    repeated_keys,
    rows_column,
)

#: CSV record files up to this total size go through pandas when the engine is ``auto``
PANDAS_MAX_BYTES = 2_000_000
ENGINES = ("auto", "duckdb", "pandas", "spark")
_QUANTUM = Decimal("0.0001")  # the scale of rsql.NUMERIC


@dataclass(frozen=True)
class SourcePlan:
    """A records source ready to run: the aggregates, their fields and provenance labels."""

    source: SourceDef
    display: str  # sources/7_households.yaml
    fmt: str | None  # csv | parquet | None (by extension)
    region_column: str
    period_column: str | None
    aggregates: tuple[rsql.Aggregate, ...]
    fields: dict[str, FieldDef]  # alias → field
    labels: dict[str, str]  # alias → "count where monitor_type == '脱贫不稳定户'"
    columns: frozenset[str] = field(default_factory=frozenset)  # file columns the query reads
    key_checks: tuple[rsql.Aggregate, ...] = ()  # rows and distinct keys per region (``key:``)
    key_column: str | None = None
    value_checks: tuple[rsql.Aggregate, ...] = ()  # yes/no words and dates the conditions cannot read

    @property
    def query_aggregates(self) -> tuple[rsql.Aggregate, ...]:
        """What the query computes: the fields, the counts that find repeated keys, and the
        counts of values the conditions cannot read (a yes/no column holding 已消除, a date
        column holding 2024/5/1)."""
        return self.aggregates + self.key_checks + self.value_checks


def _rename(node: Node, mapping: dict[str, str]) -> Node:
    """The tree with record names replaced by the file's column headers."""
    if isinstance(node, Name):
        return Name(mapping.get(node.id, node.id))
    if isinstance(node, Unary):
        return Unary(node.op, _rename(node.operand, mapping))
    if isinstance(node, Not):
        return Not(_rename(node.operand, mapping))
    if isinstance(node, Bin):
        return Bin(node.op, _rename(node.left, mapping), _rename(node.right, mapping))
    if isinstance(node, Compare):
        return Compare(_rename(node.left, mapping), node.ops, tuple(_rename(c, mapping) for c in node.comparators))
    if isinstance(node, BoolOp):
        return BoolOp(node.op, tuple(_rename(v, mapping) for v in node.values))
    if isinstance(node, Call):
        return Call(node.func, tuple(_rename(a, mapping) for a in node.args))
    return node


def _names(node: Node) -> set[str]:
    from revstat.formula import walk

    return {n.id for n in walk(node) if isinstance(n, Name)}


def _flag_columns(node: Node) -> set[str]:
    """The columns a condition reads as yes/no (a bare name: ``risk_eliminated``, ``not assisted``)."""
    if isinstance(node, Name):
        return {node.id}
    if isinstance(node, Not):
        return _flag_columns(node.operand)
    if isinstance(node, BoolOp):
        return set().union(*(_flag_columns(v) for v in node.values))
    return set()


def _date_columns(node: Node) -> set[str]:
    """The columns a condition compares with a date (``entry_date >= '2024-01-01'``): compared as
    text, which is date order only when every value is written 2024-01-01."""
    out: set[str] = set()
    if isinstance(node, Not):
        return _date_columns(node.operand)
    if isinstance(node, BoolOp):
        return set().union(*(_date_columns(v) for v in node.values))
    if isinstance(node, Compare):
        sides = [node.left, *node.comparators]
        if any(isinstance(x, Str) and re.match(rsql.ISO_DATE, x.value) for x in sides):
            out |= {x.id for x in sides if isinstance(x, Name)}
    return out


def label_of(f: FieldDef) -> str:
    """Provenance text of a records field: ``count where …``, ``sum(income)``…"""
    head = f.measure if f.measure == "count" else f"{f.measure}({f.of})"
    return f"{head} where {f.where}" if f.where else str(head)


def field_line(path: Path | None, index: int, key: str) -> int | None:
    """The YAML line of ``fields[index].key`` of a source file (read again: on errors only)."""
    if path is None:
        return None
    from revstat.yamlload import line_of, load_yaml

    try:
        return line_of(load_yaml(path), ["fields", index, key])
    except (RevstatError, OSError):
        return None


#: what a record condition may use (the hint of its errors)
CONDITION_HINT = t("记录条件可用列名、数字、带引号的字符串（如 monitor_type == '脱贫不稳定户'）、比较、+ - * /、"
                   "and/or/not 和 abs/min/max/if_missing",
                   "a record condition may use column names, numbers, quoted strings (monitor_type == '脱贫不稳定户'), "
                   "comparisons, + - * /, and/or/not and abs/min/max/if_missing")


def _condition(source: SourceDef, f: FieldDef, index: int, display: str, path: Path | None) -> Node:
    """A field's ``where`` parsed, checked and with its names mapped to the file's headers: its
    errors name the YAML line and say what a record condition may use; a name that is no
    ``columns:`` name but close to one (monitor_typ) is asked about (a header of the file written
    as is, 监测类型, is left to the file's check)."""
    import difflib

    where = Location(display, note=f.id)
    cols = dict(source.columns)
    try:
        tree = parse_formula(f.where or "", where).tree
        renamed = _rename(tree, cols)
        rsql.condition_sql(renamed, where)
    except DefinitionError as err:
        line = field_line(path, index, "where")
        if line is not None and err.where is not None:
            err.where = Location(display, line=line + (err.where.line or 1) - 1, note=f.id)
        err.fix = CONDITION_HINT
        raise
    for name in sorted(_names(tree)):
        if not cols or name in cols or name in cols.values():
            continue
        close = difflib.get_close_matches(name, list(cols), n=1, cutoff=0.75)
        if close:
            raise DefinitionError(
                t("字段 {id} 的条件中的 {n} 不是 columns 中的名称，是否应为 {c}？",
                  "{n} in the condition of field {id} is not a name under columns; did you mean {c}?",
                  id=f.id, n=name, c=close[0]),
                Location(display, line=field_line(path, index, "where"), note=f.id),
                t("改为 columns 中的名称（{names}），或写文件表头原文", "use a name under columns ({names}) or the file's "
                  "header as it is", names=", ".join(cols)))
    return renamed


def plan_source(source: SourceDef, display: str, path: Path | None = None) -> SourcePlan:
    """Check a records source and translate its fields (errors name the YAML file, and its line
    when ``path``, the source file, is given)."""
    where = Location(display)
    cols = dict(source.columns)
    if "{period}" not in source.files and not source.period_column:
        raise DefinitionError(
            t("户级数据来源 {id} 无法区分报告期", "records source {id} cannot tell periods apart", id=source.id), where,
            t("在 files 中写 {period}（如 data/{period}/records/*.parquet），或用 period_column 指定报告期所在列",
              "put {period} in files (e.g. data/{period}/records/*.parquet) or name the period column in period_column"))
    if source.region.by == "name":
        raise DefinitionError(
            t("户级数据按12位区划代码汇总，不能按名称", "records are aggregated by the 12-digit region code, not by name"),
            where, t("region 写 by: code，列为村代码", "write region: {column: <code column>, by: code}"))
    region_column = cols.get(source.region.column, source.region.column)
    aggregates: list[rsql.Aggregate] = []
    fields: dict[str, FieldDef] = {}
    labels: dict[str, str] = {}
    needed = {region_column}
    if source.period_column:
        needed.add(cols.get(source.period_column, source.period_column))
    flags: set[str] = set()
    dates: set[str] = set()
    wrong: list[RevstatError] = []
    for i, f in enumerate(source.fields):
        if f.measure is None:
            raise DefinitionError(t("户级数据字段 {id} 缺少 measure", "records field {id} has no measure", id=f.id), where,
                                  t("写 measure: count、sum 或 count_distinct", "add measure: count, sum or count_distinct"))
        if f.measure != "count" and not f.of:
            raise DefinitionError(t("字段 {id} 的 {m} 需要 of（汇总哪一列）", "field {id}: {m} needs `of` (the column)",
                                    id=f.id, m=f.measure), where, t("如 of: persons", "e.g. of: persons"))
        of = cols.get(f.of, f.of) if f.of else None
        tree = None
        if f.where:  # rejects now what SQL cannot express; every field's condition is said at once
            try:
                tree = _condition(source, f, i, display, path)
            except DefinitionError as err:
                wrong.append(err)
                continue
            needed |= _names(tree)
            flags |= _flag_columns(tree)
            dates |= _date_columns(tree)
        if of:
            needed.add(of)
        alias = f"f{i}"
        aggregates.append(rsql.Aggregate(alias, f.measure, of, tree))
        fields[alias] = f
        labels[alias] = label_of(f)
    if wrong:
        raise ErrorGroup.of(wrong)
    key_checks: list[rsql.Aggregate] = []
    key_column = cols.get(source.key, source.key) if source.key else None
    if key_column:  # rows against distinct keys per region: a repeated household is counted twice
        needed.add(key_column)
        distinct = next((a for a in aggregates if a.measure == "count_distinct" and a.of == key_column
                         and a.where is None), None)  # the field 监测户数 usually is that count already
        if distinct is None:
            key_checks.append(rsql.Aggregate("key_d", "count_distinct", key_column, None))
    # every record of a region: the records left out (outside the workspace) are counted by it
    key_checks.append(rsql.Aggregate("key_n", "count", None, None))
    value_checks = [rsql.Aggregate(f"yn_{k}", "not_flag", c, None) for k, c in enumerate(sorted(flags))]
    value_checks += [rsql.Aggregate(f"date_{k}", "not_date", c, None) for k, c in enumerate(sorted(dates))]
    return SourcePlan(source, display, source.format, region_column,
                      cols.get(source.period_column, source.period_column) if source.period_column else None,
                      tuple(aggregates), fields, labels, frozenset(needed), tuple(key_checks), key_column,
                      tuple(value_checks))


# ---- files ---------------------------------------------------------------------------------


def choose_engine(engine: str, ws: Any, fmt: str, paths: Sequence[Path]) -> str:
    """``auto`` → the workspace's ``engine:``; still ``auto`` → pandas for small CSV, else DuckDB."""
    if engine not in ENGINES:
        raise ConfigError(t("未知的引擎 {e}", "unknown engine {e}", e=engine), None,
                          t("可选 auto、duckdb、pandas、spark", "choose auto, duckdb, pandas or spark"))
    if engine == "auto":
        engine = getattr(getattr(ws, "config", None), "engine", "auto") or "auto"
    if engine == "pandas" and fmt == "parquet":
        raise ConfigError(t("pandas 引擎只读 CSV 记录文件", "the pandas engine reads CSV record files only"),
                          Location(ws.rel(paths[0]) if hasattr(ws, "rel") else str(paths[0])),
                          t("用 --engine duckdb（或 auto）", "use --engine duckdb (or auto)"))
    if engine != "auto":
        return engine
    if fmt == "csv" and sum(p.stat().st_size for p in paths) <= PANDAS_MAX_BYTES:
        return "pandas"
    return "duckdb"


# ---- engines -------------------------------------------------------------------------------


def run_duckdb(query: rsql.Query, where: Location, *, in_file_order: bool = False
               ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a query on an in-memory DuckDB; return (column names, rows). A GROUP BY needs no
    order (less memory); rows listed for people keep the order of the file."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        if not in_file_order:
            con.execute("SET preserve_insertion_order = false")
        try:
            cur = con.execute(query.sql, list(query.params))
            rows = cur.fetchall()
            names = [d[0] for d in cur.description]
        except duckdb.Error as err:
            raise _engine_error(err, where) from None
    finally:
        con.close()
    return names, rows


def _engine_error(err: Exception, where: Location) -> SourceError:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    kind = type(err).__name__
    if "invalid unicode" in text.lower() or "utf-8" in text.lower() and "invalid" in text.lower():
        line = re.search(r"[Ll]ine:? *(\d+)", text)
        return SourceError(
            t("CSV 文件{at}有无法解码的字符：不是 UTF-8 编码", "the CSV file has undecodable bytes{at}: not UTF-8",
              at=t(f"第 {line[1]} 行", f" on line {line[1]}") if line else t("", "")), where,
            t("在 Excel/WPS 中打开，另存为“CSV UTF-8（逗号分隔）”后重新运行",
              "open it in Excel/WPS and save it as “CSV UTF-8 (comma delimited)”, then run again"))
    if "sniff" in text.lower():
        return SourceError(
            t("DuckDB 无法识别该 CSV 文件的格式（{e}）：常见原因是换行符混用（Windows 的 CRLF 与 LF 混在一起）、"
              "某些行的列数不同或引号没有配对", "DuckDB cannot make out the CSV file's format ({e}): usually mixed line "
              "endings (CRLF and LF), rows with a different number of columns, or unpaired quotes", e=text[:200]),
            where,
            t("在 Excel/WPS 中打开后重新另存为 CSV（UTF-8），或用文本编辑器统一换行符；小文件也可用 --engine pandas",
              "open it in Excel/WPS and save it as CSV (UTF-8) again, or make the line endings uniform; for a small "
              "file, --engine pandas also reads it"))
    typed = re.search(r"Unimplemented type for cast \((?P<type>.+?) -> (?P<to>.+)\) when casting from source "
                      r"column (?P<column>.+?)\s*$", text)
    if typed and re.match(r"(DECIMAL|NUMERIC|U?(BIG|SMALL|TINY|HUGE)?INT|DOUBLE|FLOAT|REAL)", typed["to"]):
        # a Parquet DATE (TIMESTAMP, list …) column used as a number: DuckDB's words name no type a user knows
        from revstat.records.validate import typed_column_error

        column = typed["column"].strip().strip('"')
        return typed_column_error(column, typed["type"], Location(where.file, note=where.note or column))
    if "Binder" in kind or "not found" in text:
        fix = t("检查来源的 region/of/where/columns 所写的列名与文件表头一致",
                "check that the column names in region/of/where/columns match the file's header")
    elif "Conversion" in kind:
        fix = t("该列应为数字（不带千分位逗号、全角数字）；改正数据或换一列",
                "the column must hold plain numbers (no thousands commas or full-width digits)")
    else:
        fix = t("检查文件是否完整、格式是否与来源一致", "check that the file is complete and of the source's format")
    return SourceError(t("读取户级数据失败：{e}", "cannot aggregate the records: {e}", e=text), where, fix)


# ---- from grouped rows to observations -----------------------------------------------------


def _tidy_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if d == d.to_integral_value():
        return d.quantize(Decimal(1))
    return d.normalize()


def _scope_prefix(code: str) -> str:
    """``990100000000`` → ``9901``: the code without its trailing all-zero blocks (2+2+2+3+3)."""
    end = len(code)
    for start, stop in ((9, 12), (6, 9), (4, 6), (2, 4)):
        if code[start:stop].strip("0"):
            break
        end = start
    return code[:end]


def to_observations(ws: Any, plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]],
                    period: str | None, file_label: str, notes: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Grouped rows → observation tuples (tidy.OBSERVATION_COLUMNS); unknown codes are errors,
    codes outside the workspace's region are left out (and counted into ``notes``: a province's
    export holds every city's households, but a mistyped county code would drop households
    unseen), and villages (or whatever level the records give) of a county that has records but
    none for them get 0."""
    tree = ws.regions
    scope = ws.config.region
    prefix = _scope_prefix(scope)
    inside = set(tree.subtree(scope))
    pos = {n: i for i, n in enumerate(names)}
    at_period = pos.get("period")
    at_code = pos["region_code"]
    by_period: dict[str, dict[str, tuple[Any, ...]]] = {}
    unknown: dict[str, int] = {}
    outside: dict[str, int] = {}
    at_rows = rows_column(plan, pos)
    without: list[int | None] = []  # the groups of records without a code: their number of rows, if known
    for r in rows:
        code = "" if r[at_code] is None else str(r[at_code]).strip(rsql.BLANKS)
        if not code:  # households without a region would silently vanish from every count
            without.append(None if at_rows is None or r[at_rows] is None else int(r[at_rows]))
            continue
        if code not in inside:
            # a name, "９９０１…" (full-width) or "9.90121E+11" is no code, whatever it starts with
            if code not in tree and (code.startswith(prefix) or not (code.isascii() and code.isdigit())):
                unknown[code] = unknown.get(code, 0) + (1 if at_rows is None else int(r[at_rows] or 0))
            else:
                outside[code] = outside.get(code, 0) + (1 if at_rows is None else int(r[at_rows] or 0))
            continue
        by_period.setdefault(str(r[at_period]) if at_period is not None else str(period), {})[code] = r
    problems: list[RevstatError] = []  # both kinds at once: one round of corrections, not two
    if without:
        counted = None if None in without else sum(n for n in without if n is not None)
        problems.append(SourceError(
            t("户级数据中有{n}记录缺少地区代码（{c} 列为空）", "records without a region code{n} (column {c} is empty)",
              n=t(f" {counted} 条", f": {counted}") if counted else t("", ""), c=plan.region_column),
            Location(file_label, note=plan.region_column),
            t("补填这些记录的村代码（在 Excel/WPS 中按该列筛选“空白”即可找到）",
              "fill in the village code of those records (filter the column for blanks to find them)")))
    if unknown:
        first = sorted(unknown.items())[:5]
        more = " …" if len(unknown) > 5 else ""
        codes_zh = "、".join(c if at_rows is None else f"{c}（{k} 条）" for c, k in first) + more
        codes_en = ", ".join(c if at_rows is None else f"{c} ({k} record{'s' * (k != 1)})" for c, k in first) + more
        problems.append(SourceError(
            t("户级数据中有 {n} 个地区代码不在 regions.csv 中：{codes_zh}",
              "region codes of the records not in regions.csv ({n}): {codes_en}", n=len(unknown), codes_zh=codes_zh,
              codes_en=codes_en),
            Location(file_label, note=plan.region_column), code_fix(list(unknown))))
    if problems:
        raise ErrorGroup.of(problems)
    if outside and notes is not None:
        notes.append(outside_note(ws, plan, file_label, outside, period))
    # per aggregate: (field id, unit, label, measure, value column, matched-rows column)
    specs = [(plan.fields[a.alias].id, plan.fields[a.alias].unit, plan.labels[a.alias], a.measure,
              pos[a.alias], pos.get(f"{a.alias}_n")) for a in plan.aggregates]
    zero = Decimal(0)
    ints: dict[int, Decimal] = {}  # counts repeat: one Decimal per distinct count
    out: list[tuple[Any, ...]] = []
    for p, found in sorted(by_period.items()):
        codes = set(found)
        levels = {tree.regions[c].level for c in codes}
        parents = {tree.regions[c].parent for c in codes}
        counties: set[str] = set()
        for c in parents:  # the county above each parent (walk up only once per parent)
            while c is not None and tree.regions[c].level != "county":
                c = tree.regions[c].parent
            if c is not None:
                counties.add(c)
        for county in counties:  # households none of whose rows matched: the village has 0
            codes |= {c for c in tree.descendants(county) if tree.regions[c].level in levels}
        for code in sorted(codes):
            r = found.get(code)
            region = tree.regions[code]
            for fid, unit, label, measure, at, at_n in specs:
                if r is None:
                    value: Decimal | None = zero
                elif measure == "sum":
                    value = zero if not r[at_n] else _tidy_decimal(r[at])
                else:
                    n = int(r[at] or 0)
                    value = ints.get(n) or ints.setdefault(n, Decimal(n))
                out.append((fid, code, region.name, region.level, p, value, unit, file_label, None, label, "records"))
    return out


def read_records(ws: Any, periods: Sequence[str], engine: str = "auto") -> Any:
    """Aggregate every records source of the workspace for ``periods``: a DataFrame with
    exactly :data:`revstat.tidy.OBSERVATION_COLUMNS`, origin ``records``, one row per field ×
    region × period (file = the record file(s), cell = the aggregation and its filter)."""
    import pandas as pd

    rows: list[tuple[Any, ...]] = []
    errors: list[RevstatError] = []
    notes: list[Any] = []
    for source in ws.sources:
        if source.kind != "records":
            continue
        display = ws.source_files.get(source.id, f"sources/{source.id}.yaml")
        plan = plan_source(source, display, ws.root / display)
        if "://" in source.files:  # hdfs://, s3a://, a catalog table: rows only Spark sees
            from revstat.records import spark as sp

            try:
                rows += sp.aggregate_remote(ws, plan, [str(p) for p in periods], engine)
            except RevstatError as err:
                errors.append(err)
            continue
        batches: list[tuple[str | None, list[Path]]]
        if plan.period_column:
            batches = [(None, files_of(ws, source, None))]
        else:
            batches = [(str(p), files_of(ws, source, str(p))) for p in periods]
        for period, paths in batches:
            if not paths:
                continue
            label = ws.rel(paths[0]) if len(paths) == 1 else (
                source.files.replace("{period}", period) if period else source.files)
            try:
                rows += _aggregate(ws, plan, paths, [str(p) for p in periods], period, label, engine, notes)
            except RevstatError as err:
                errors.append(err)
    if errors:
        # a setting's error (the pandas engine and Parquet), or a column the definition names that no
        # period's file has (an unquoted value in a condition), once, not once per period
        said: set[str] = set()
        kept = []
        for e in (x for err in errors for x in (err.errors if isinstance(err, ErrorGroup) else [err])):
            if isinstance(e, ConfigError | MissingColumnsError):
                if e.what.render("en") in said:
                    continue
                said.add(e.what.render("en"))
            kept.append(e)
        raise ErrorGroup.of(kept)
    frame = pd.DataFrame(rows, columns=tidy.OBSERVATION_COLUMNS).astype({tidy.VALUE: object})
    frame.attrs["notes"] = notes  # revstat.model.Issue: records left out, conditions matching no value
    return frame


def _aggregate(ws: Any, plan: SourcePlan, paths: list[Path], periods: list[str], period: str | None,
               label: str, engine: str, notes: list[Any] | None = None) -> list[tuple[Any, ...]]:
    fmt = file_format(plan, paths)
    missing_columns(plan, paths, fmt, ws)  # before any engine: all the missing columns, in Chinese
    try:
        return _aggregate_checked(ws, plan, paths, periods, period, label, engine, fmt, notes)
    except UnicodeDecodeError:  # past the start the encoding was chosen by: find the byte and its line
        found = _undecodable(paths, "csv", ws)
        if found is None:
            raise
        raise found from None


def _undecodable(paths: Sequence[Path], fmt: str, ws: Any) -> SourceError | None:
    """After DuckDB failed on a CSV (its “CSV Error on Line: N” says no more): a byte the file's
    encoding cannot decode, named by line, if that is why."""
    if fmt != "csv":
        return None
    for path in paths:
        try:
            err = first_undecodable(path)
        except SourceError as first:  # its very start is undecodable
            err = first
        if err is not None:
            err.where = Location(ws.rel(path))
            return err
    return None


def _aggregate_checked(ws: Any, plan: SourcePlan, paths: list[Path], periods: list[str], period: str | None,
                       label: str, engine: str, fmt: str, notes: list[Any] | None = None) -> list[tuple[Any, ...]]:
    chosen = choose_engine(engine, ws, fmt, paths)
    where = Location(label)
    if chosen == "pandas":
        from revstat.records.pandas_path import run_pandas

        names, rows = run_pandas(plan, paths, periods, where)
    else:
        with utf8_paths(paths, fmt) as readable:
            query = rsql.build_query(fmt, readable, plan.region_column, plan.query_aggregates,
                                     plan.period_column, periods if plan.period_column else (), read=plan.columns)
            if chosen == "spark":
                from revstat.records import spark as sp

                frame = sp.run_spark(query.sql, sp.SparkInput(paths=tuple(readable), format=fmt,
                                                              shown=tuple(ws.rel(p) for p in paths)),
                                     master=getattr(ws.config, "spark_master", None), params=query.params)
                names, rows = list(frame.columns), [tuple(r) for r in frame.itertuples(index=False)]
            else:
                try:
                    names, rows = run_duckdb(query, where)
                except SourceError as err:
                    raise bad_numbers(err, plan, fmt, readable, paths, ws) or _undecodable(paths, fmt, ws) or err from None
    return checked_observations(ws, plan, names, rows, period, label, paths, notes)


def checked_observations(ws: Any, plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]],
                         period: str | None, label: str, paths: Sequence[Path] = (),
                         notes: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """The checks of the grouped rows (no records at all, repeated keys, unreadable yes/no words
    and dates, missing and unknown codes), all of them reported together, then the observations.
    ``notes`` collects what is not an input error but must be said (:mod:`revstat.records.notes`)."""
    from revstat.errors import collect
    from revstat.records.notes import unmatched_values

    if not rows:  # a header and no records: every field would be 0 (or blank) with nothing said
        raise empty_export(plan, label, period)
    problems: list[RevstatError] = []
    collect(problems, lambda: repeated_keys(ws, plan, names, rows, label, paths))
    collect(problems, lambda: keys_across_regions(plan, paths, label, period))
    collect(problems, lambda: bad_values(plan, names, rows, label, paths, ws.rel))
    observations = collect(problems, lambda: to_observations(ws, plan, names, rows, period, label, notes))
    if problems or observations is None:
        raise ErrorGroup.of(problems)
    if notes is not None:
        notes.extend(unmatched_values(ws, plan, names, rows, label, paths, period))
    return observations


def empty_export(plan: SourcePlan, label: str, period: str | None) -> SourceError:
    if plan.period_column:
        return SourceError(
            t("户级数据文件中没有所需报告期的记录（按 {c} 列筛选）", "the records files hold no record of the periods "
              "needed (by the column {c})", c=plan.period_column), Location(label, note=plan.period_column),
            t("检查该列的写法与报告期一致（如 2024Q4），或导出包含本期的数据",
              "check that the column is written like the periods (e.g. 2024Q4), or export the period's records"))
    return SourceError(
        t("户级数据文件没有数据行（只有表头）", "the household records file has no data rows (only a header)"),
        Location(label),
        t("从监测信息系统重新导出；若{p}确实没有监测户，删去该文件（依赖它的指标会被跳过并列出）",
          "export it again from the monitoring system; if {p_en} really has no monitored household, remove the file "
          "(the indicators that need it are then skipped and listed)", p=period or "本期", p_en=period or "the period"))


def sample_rows(ws: Any, field_id: str, region: str, period: str, n: int | None = 10, *,
                out: Path | None = None) -> Any:
    """Up to ``n`` household rows (``n=None``: all of them) behind a records field at a region (a
    village, or any region above: its villages' rows) and period, in the order of the file, for
    ``revstat explain``: a DataFrame of the file's columns. ``region``: a code or a name. Raises
    :class:`ConfigError` when ``field_id`` is not a records field or ``region`` is no region.

    ``out``: the rows are written to that CSV file instead (atomically; UTF-8 with BOM, text
    guarded against formulas as in every CSV revstat writes), streamed from DuckDB in batches
    so that a large export never sits in memory whole; returns how many rows were written. A
    period without record files is then a :class:`SourceError` (there is no header to write)."""
    import pandas as pd

    source = ws.field_sources().get(field_id)
    if source is None or source.kind != "records":
        raise ConfigError(t("{f} 不是户级数据字段", "{f} is not a records field", f=field_id), None,
                          t("只有 kind: records 来源的字段能列出明细户", "only fields of kind: records sources list households"))
    display = ws.source_files.get(source.id, f"sources/{source.id}.yaml")
    if out is not None and "://" in source.files:
        raise ConfigError(t("来源 {s} 的户级数据不在本机（{f}），只有 Spark 能读取，无法导出明细户",
                            "the records of source {s} are not on this machine ({f}); only Spark reads them, so the "
                            "households cannot be exported", s=source.id, f=source.files), Location(display),
                          t("在 Spark 中按同样的条件查询，或把该期数据导出为本地 Parquet/CSV 文件后再导出明细",
                            "query them in Spark with the same condition, or copy the period's records to a local "
                            "Parquet/CSV file first"))
    plan = plan_source(source, display)
    alias = next(a for a, f in plan.fields.items() if f.id == field_id)
    agg = next(a for a in plan.aggregates if a.alias == alias)
    paths = files_of(ws, source, None if plan.period_column else str(period))
    if not paths:
        if out is None:
            return pd.DataFrame()
        raise SourceError(t("{p} 没有户级数据文件，无法导出明细户", "there are no record files for {p} to export", p=period),
                          Location(source.files.replace("{period}", str(period))),
                          t("把该期的户级数据文件放到来源 {d} 的 files 所指的位置", "put the period's record files where "
                            "the files pattern of {d} points", d=display))
    if region not in ws.regions:  # a name (东山县), as the command line takes it; unknown: an error saying so
        region = ws.region_option(region)
    codes = [region, *ws.regions.descendants(region)]
    fmt = file_format(plan, paths)
    where = Location(ws.rel(paths[0]))
    with utf8_paths(paths, fmt) as readable:
        query = rsql.sample_query(fmt, readable, plan.region_column, codes, agg.where, (),
                                  _ALL_ROWS if n is None else n, plan.period_column, str(period))
        if out is not None:
            return _rows_to_csv(query, where, Path(out))
        names, rows = run_duckdb(query, where, in_file_order=True)
    return pd.DataFrame(rows, columns=names, dtype=object)


#: ``LIMIT`` of "all rows" (DuckDB's largest BIGINT): the same query text with or without a limit
_ALL_ROWS = 2**63 - 1


def _rows_to_csv(query: rsql.Query, where: Location, out: Path, batch: int = 20_000) -> int:
    """Stream a query's rows into a CSV file, ``batch`` rows at a time (DuckDB's result streams:
    memory is one batch, not the export). One thread: a streamed result keeps the order of the
    file only then (with several, batches arrive as threads finish them)."""
    import duckdb

    from revstat.writers.records_csv import write_rows_csv

    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute("SET threads = 1")
            cur = con.execute(query.sql, list(query.params))
            names = [d[0] for d in cur.description]

            def batches() -> Any:
                while chunk := cur.fetchmany(batch):
                    yield chunk

            return write_rows_csv(out, names, batches())
        except duckdb.Error as err:
            raise _engine_error(err, where) from None
    finally:
        con.close()
