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

import codecs
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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
from revstat.i18n import Text, t
from revstat.model import Location
from revstat.records import sql as rsql

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
    import re as _re

    out: set[str] = set()
    if isinstance(node, Not):
        return _date_columns(node.operand)
    if isinstance(node, BoolOp):
        return set().union(*(_date_columns(v) for v in node.values))
    if isinstance(node, Compare):
        sides = [node.left, *node.comparators]
        if any(isinstance(x, Str) and _re.match(rsql.ISO_DATE, x.value) for x in sides):
            out |= {x.id for x in sides if isinstance(x, Name)}
    return out


def label_of(f: FieldDef) -> str:
    """Provenance text of a records field: ``count where …``, ``sum(income)``…"""
    head = f.measure if f.measure == "count" else f"{f.measure}({f.of})"
    return f"{head} where {f.where}" if f.where else str(head)


def plan_source(source: SourceDef, display: str) -> SourcePlan:
    """Check a records source and translate its fields (errors name the YAML file)."""
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
    for i, f in enumerate(source.fields):
        if f.measure is None:
            raise DefinitionError(t("户级数据字段 {id} 缺少 measure", "records field {id} has no measure", id=f.id), where,
                                  t("写 measure: count、sum 或 count_distinct", "add measure: count, sum or count_distinct"))
        if f.measure != "count" and not f.of:
            raise DefinitionError(t("字段 {id} 的 {m} 需要 of（汇总哪一列）", "field {id}: {m} needs `of` (the column)",
                                    id=f.id, m=f.measure), where, t("如 of: persons", "e.g. of: persons"))
        of = cols.get(f.of, f.of) if f.of else None
        tree = None
        if f.where:
            tree = _rename(parse_formula(f.where, Location(display, note=f.id)).tree, cols)
            needed |= _names(tree)
            flags |= _flag_columns(tree)
            dates |= _date_columns(tree)
            rsql.condition_sql(tree, Location(display, note=f.id))  # reject what SQL cannot express, now
        if of:
            needed.add(of)
        alias = f"f{i}"
        aggregates.append(rsql.Aggregate(alias, f.measure, of, tree))
        fields[alias] = f
        labels[alias] = label_of(f)
    key_checks: list[rsql.Aggregate] = []
    key_column = cols.get(source.key, source.key) if source.key else None
    if key_column:  # rows against distinct keys per region: a repeated household is counted twice
        needed.add(key_column)
        distinct = next((a for a in aggregates if a.measure == "count_distinct" and a.of == key_column
                         and a.where is None), None)  # the field 监测户数 usually is that count already
        if distinct is None:
            key_checks.append(rsql.Aggregate("key_d", "count_distinct", key_column, None))
        key_checks.append(rsql.Aggregate("key_n", "count", None, None))
    value_checks = [rsql.Aggregate(f"yn_{k}", "not_flag", c, None) for k, c in enumerate(sorted(flags))]
    value_checks += [rsql.Aggregate(f"date_{k}", "not_date", c, None) for k, c in enumerate(sorted(dates))]
    return SourcePlan(source, display, source.format, region_column,
                      cols.get(source.period_column, source.period_column) if source.period_column else None,
                      tuple(aggregates), fields, labels, frozenset(needed), tuple(key_checks), key_column,
                      tuple(value_checks))


# ---- files ---------------------------------------------------------------------------------


def files_of(ws: Any, source: SourceDef, period: str | None) -> list[Path]:
    pattern = source.files.replace("{period}", period) if period else source.files
    root = ws.root.resolve()
    return [p for p in sorted(ws.root.glob(pattern))
            if p.is_file() and not p.name.startswith("~$") and p.resolve().is_relative_to(root)]


def _fmt(plan: SourcePlan, paths: Sequence[Path]) -> str:
    if plan.fmt:
        return plan.fmt
    return "parquet" if str(paths[0]).lower().endswith((".parquet", ".pq")) else "csv"


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


def _encoding(path: Path) -> str:
    """``utf-8`` (BOM allowed), ``utf-16`` (Excel's “Unicode 文本”, with its BOM) or ``gb18030``
    (CSV saved by Chinese Windows), from the first 64 KB. A workbook saved under a CSV name is an
    input error here, before any engine tries to read it as text."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise SourceError(
            t("户级数据文件是 Excel 工作簿，不是 CSV 文本", "the household records file is an Excel workbook, not CSV text"),
            Location(str(path)),
            t("在 Excel/WPS 中另存为“CSV UTF-8（逗号分隔）”或导出为 Parquet，并让来源的 files 指向它",
              "save it as “CSV UTF-8 (comma delimited)” in Excel/WPS, or export Parquet, and point the source's "
              "`files` at it"))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


@contextmanager
def _utf8(paths: Sequence[Path], fmt: str) -> Iterator[list[str]]:
    """Paths DuckDB can read: GB18030 and UTF-16 CSV files are transcoded (streaming) to
    temporary UTF-8."""
    if fmt != "csv" or all(_encoding(p) == "utf-8" for p in paths):
        yield [str(p) for p in paths]
        return
    with tempfile.TemporaryDirectory(prefix="revstat-records-") as tmp:
        out = []
        for i, p in enumerate(paths):
            if _encoding(p) == "utf-8":
                out.append(str(p))
                continue
            target = Path(tmp) / f"{i}.csv"
            with open(p, encoding=_encoding(p), newline="") as src, open(target, "w", encoding="utf-8", newline="") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            out.append(str(target))
        yield out


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


_CONVERSION = re.compile(r'Could not convert string "(?P<value>.*?)" to .*?source column (?P<column>.+?)\s*$')


def _bad_number(err: SourceError, fmt: str, readable: Sequence[str], paths: Sequence[Path], ws: Any
                ) -> SourceError | None:
    """DuckDB's “Could not convert string "12,345.50" to DECIMAL(18,4) … source column 收入” as
    the pandas engine says it: the file, the row, the value and how many such values there are
    (one more pass over the files, on this error only). None when it is another error or the
    value cannot be found again."""
    import duckdb

    m = _CONVERSION.search(err.what.render("en"))
    if m is None:
        return None
    column = m["column"].strip().strip('"')
    query = rsql.bad_number_query(fmt, readable, column)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET threads = 1")  # rows numbered in the order of the file
        con.execute("SET preserve_insertion_order = true")
        found = con.execute(query.sql, list(query.params)).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    if found is None:
        return None
    name, n, value, total = found
    original = {str(Path(r)): p for r, p in zip(readable, paths, strict=True)}.get(str(Path(name)), Path(name))
    line = int(n) + 1 if fmt == "csv" else int(n)  # CSV: the header is line 1
    more = t("（该列共 {k} 个这样的值）", " ({k} such values in the column)", k=total) if total > 1 else t("", "")
    return SourceError(
        t("列 {c} 第 {r} 行不是数字：{v!r}{more}", "column {c}, row {r} is not a number: {v!r}{more}",
          c=column, r=line, v=value, more=more) if fmt == "csv" else
        t("列 {c} 第 {r} 条记录不是数字：{v!r}{more}", "column {c}, record {r} is not a number: {v!r}{more}",
          c=column, r=line, v=value, more=more),
        Location(ws.rel(original) if isinstance(original, Path) else str(original), note=column),
        t("该列应为数字（不带千分位逗号、全角数字）；改正后重新导出", "the column must hold plain numbers (no thousands "
          "commas or full-width digits); correct it and export again"))


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


def _code_fix(codes: list[str]) -> Text:
    """How to correct unknown codes, saying why when their form tells (Excel, full-width digits)."""
    if any(re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+|\d+\.0+", c) for c in codes):
        return t("代码被 Excel 存成了数字（科学计数法或带“.0”），已丢失位数：把该列设为“文本”后重新导出",
                 "Excel stored the codes as numbers (scientific notation or “.0”), losing digits: format the "
                 "column as text and export again")
    if any(not c.isascii() and c.isdigit() for c in codes):
        return t("代码中有全角数字（如 ９９０１），改为半角数字", "the codes have full-width digits (９９０１): use ASCII digits")
    return t("改正记录中的代码，或在 regions.csv 中补上这些地区",
             "correct the codes in the records, or add the regions to regions.csv")


def _rows_column(plan: SourcePlan, pos: Mapping[str, int]) -> int | None:
    """The column of the grouped rows that counts every record of a group, when the query has
    one (``key:``'s count, or a ``count`` field without ``where``)."""
    if "key_n" in pos:
        return pos["key_n"]
    alias = next((a.alias for a in plan.query_aggregates if a.measure == "count" and a.where is None), None)
    return pos.get(alias) if alias is not None else None


def to_observations(ws: Any, plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]],
                    period: str | None, file_label: str) -> list[tuple[Any, ...]]:
    """Grouped rows → observation tuples (tidy.OBSERVATION_COLUMNS); unknown codes are errors,
    codes outside the workspace's region are left out, and villages (or whatever level the
    records give) of a county that has records but none for them get 0."""
    tree = ws.regions
    scope = ws.config.region
    prefix = _scope_prefix(scope)
    inside = set(tree.subtree(scope))
    pos = {n: i for i, n in enumerate(names)}
    at_period = pos.get("period")
    at_code = pos["region_code"]
    by_period: dict[str, dict[str, tuple[Any, ...]]] = {}
    unknown: dict[str, int] = {}
    at_rows = _rows_column(plan, pos)
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
            Location(file_label, note=plan.region_column), _code_fix(list(unknown))))
    if problems:
        raise ErrorGroup.of(problems)
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
    for source in ws.sources:
        if source.kind != "records":
            continue
        display = ws.source_files.get(source.id, f"sources/{source.id}.yaml")
        plan = plan_source(source, display)
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
                rows += _aggregate(ws, plan, paths, [str(p) for p in periods], period, label, engine)
            except RevstatError as err:
                errors.append(err)
    if errors:
        seen: set[str] = set()  # a setting's error (the pandas engine and Parquet) once, not once per period
        errors = [e for e in errors if not isinstance(e, ConfigError)
                  or not (e.what.render("en") in seen or seen.add(e.what.render("en")))]
        raise ErrorGroup.of(errors)
    return pd.DataFrame(rows, columns=tidy.OBSERVATION_COLUMNS).astype({tidy.VALUE: object})


def _aggregate(ws: Any, plan: SourcePlan, paths: list[Path], periods: list[str], period: str | None,
               label: str, engine: str) -> list[tuple[Any, ...]]:
    fmt = _fmt(plan, paths)
    missing_columns(plan, paths, fmt, ws)  # before any engine: all the missing columns, in Chinese
    try:
        return _aggregate_checked(ws, plan, paths, periods, period, label, engine, fmt)
    except UnicodeDecodeError as exc:  # text neither UTF-8 nor GB18030 (nor UTF-16 with a BOM)
        raise SourceError(
            t("文件中有无法解码的字符（按 {enc} 读取，第 {pos} 字节附近）：不是 UTF-8 或 GB18030 编码的 CSV",
              "undecodable bytes (read as {enc}, near byte {pos}): not a UTF-8 or GB18030 CSV file",
              enc=exc.encoding, pos=exc.start), Location(label),
            t("在 Excel/WPS 中打开，另存为“CSV UTF-8（逗号分隔）”后重新运行",
              "open it in Excel/WPS and save it as “CSV UTF-8 (comma delimited)”, then run again")) from None


def file_header(path: Path, fmt: str) -> list[str]:
    """The column names of a records file: the CSV's first line (in its encoding), or the Parquet
    schema. Raises :class:`SourceError` for a workbook under a CSV name (see :func:`_encoding`)."""
    if fmt == "parquet":
        import duckdb

        con = duckdb.connect(":memory:")
        try:
            cur = con.execute(f"SELECT * FROM {rsql.reader_sql('parquet')} LIMIT 0", [[str(path)]])
            return [d[0] for d in cur.description]
        finally:
            con.close()
    import csv

    enc = _encoding(path)
    with open(path, encoding="utf-8-sig" if enc == "utf-8" else enc, newline="") as fh:
        return next(csv.reader(fh), [])


def missing_columns(plan: SourcePlan, paths: Sequence[Path], fmt: str, ws: Any) -> None:
    """Every column the source reads that a file lacks, with the file's own headers and the
    likeliest match (a header with a line break, spaces or a unit in brackets: 家庭年\n纯收入,
    家庭年纯收入（元）); one input error per file. Unreadable headers are left to the engine."""
    import difflib

    import duckdb

    def bare(name: str) -> str:
        return re.sub(r"[（(][^）)]*[）)]|[\s\u3000\u200b\ufeff]", "", name)

    problems: list[RevstatError] = []
    for path in paths:
        where = Location(ws.rel(path))
        try:
            header = file_header(path, fmt)
        except SourceError as err:
            err.where = where
            problems.append(err)
            continue
        except (OSError, UnicodeError, duckdb.Error, StopIteration):
            continue
        missing = sorted(plan.columns - set(header))
        if not missing:
            continue
        by_bare = {bare(h): h for h in header}
        hints = []
        for m in missing:
            close = by_bare.get(bare(m)) or next(iter(difflib.get_close_matches(m, header, n=1, cutoff=0.6)), None)
            if close is not None:
                hints.append(t("{m} 可能是文件中的 {h!r}", "{m} may be the file's {h!r}", m=m, h=close))
        more = " …" if len(header) > 20 else ""
        for sep, name_zh, name_en in (("\t", "制表符", "tabs"), (";", "分号", "semicolons")):
            if len(header) == 1 and sep in header[0]:  # Excel's 文本文件（制表符分隔）, or a European export
                hints.insert(0, t("文件似乎用{s}分隔，而不是逗号：另存为“CSV UTF-8（逗号分隔）”",
                                  "the file seems separated by {s_en}, not commas: save it as “CSV UTF-8 (comma "
                                  "delimited)”", s=name_zh, s_en=name_en))
        problems.append(SourceError(
            t("记录文件缺少列：{c_zh}（文件的表头有：{h_zh}）", "the records file lacks columns: {c_en} (its header has: {h_en})",
              c_zh="、".join(missing), c_en=", ".join(missing), h_zh="、".join(repr(h) for h in header[:20]) + more,
              h_en=", ".join(repr(h) for h in header[:20]) + more),
            Location(ws.rel(path)),
            t("{hints_zh}改正文件表头，或在 {src} 的 columns 中写明对应的表头", "{hints_en}correct the header, or map "
              "the names to the file's headers under `columns` in {src}",
              hints_zh="".join(h.render("zh") + "。" for h in hints),
              hints_en="".join(h.render("en") + ". " for h in hints), src=plan.display)))
    if problems:
        raise ErrorGroup.of(problems)


def _aggregate_checked(ws: Any, plan: SourcePlan, paths: list[Path], periods: list[str], period: str | None,
                       label: str, engine: str, fmt: str) -> list[tuple[Any, ...]]:
    chosen = choose_engine(engine, ws, fmt, paths)
    where = Location(label)
    if chosen == "pandas":
        from revstat.records.pandas_path import run_pandas

        names, rows = run_pandas(plan, paths, periods, where)
    else:
        with _utf8(paths, fmt) as readable:
            query = rsql.build_query(fmt, readable, plan.region_column, plan.query_aggregates,
                                     plan.period_column, periods if plan.period_column else ())
            if chosen == "spark":
                from revstat.records import spark as sp

                frame = sp.run_spark(query.sql, sp.SparkInput(paths=tuple(readable), format=fmt),
                                     master=getattr(ws.config, "spark_master", None), params=query.params)
                names, rows = list(frame.columns), [tuple(r) for r in frame.itertuples(index=False)]
            else:
                try:
                    names, rows = run_duckdb(query, where)
                except SourceError as err:
                    raise _bad_number(err, fmt, readable, paths, ws) or err from None
    return checked_observations(ws, plan, names, rows, period, label, paths)


def checked_observations(ws: Any, plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]],
                         period: str | None, label: str, paths: Sequence[Path] = ()) -> list[tuple[Any, ...]]:
    """The checks of the grouped rows (repeated keys, unreadable yes/no words and dates, missing
    and unknown codes), all of them reported together, then the observations."""
    from revstat.errors import collect

    problems: list[RevstatError] = []
    collect(problems, lambda: repeated_keys(ws, plan, names, rows, label, paths))
    collect(problems, lambda: bad_values(plan, names, rows, label, paths))
    observations = collect(problems, lambda: to_observations(ws, plan, names, rows, period, label))
    if problems or observations is None:
        raise ErrorGroup.of(problems)
    return observations


def bad_values(plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]], label: str,
               paths: Sequence[Path] = ()) -> None:
    """A yes/no column holding words that are neither yes nor no (已消除, 未消除), or a column
    compared with a date holding dates not written 2024-01-01 (2024/5/1): the conditions cannot
    read them, and every count over them would be silently wrong. Input errors naming the column,
    how many values, and (from the files, when given) the commonest of them."""
    pos = {n: i for i, n in enumerate(names)}
    problems: list[RevstatError] = []
    for check in plan.value_checks:
        if check.alias not in pos:
            continue
        count = sum(int(r[pos[check.alias]] or 0) for r in rows)
        if not count:
            continue
        column = check.of or ""
        seen = _examples(plan, paths, check)
        examples = t("，如 {e}", ", e.g. {e}", e="、".join(repr(v) for v in seen)) if seen else t("", "")
        if check.measure == "not_flag":
            problems.append(SourceError(
                t("列 {c} 有 {n} 个值既不是“是”也不是“否”{e}，条件无法判断，相关户数会算错",
                  "column {c} has {n} values that are neither yes nor no{e}: the conditions cannot read them",
                  c=column, n=count, e=examples),
                Location(label, note=column),
                t("改为 是/否（也可写 1/0、Y/N、true/false），空白表示不详", "write 是/否 (or 1/0, Y/N, true/false); "
                  "leave it empty when unknown")))
        else:
            problems.append(SourceError(
                t("列 {c} 有 {n} 个日期不是 2024-01-01 这样的写法{e}，按日期比较会出错",
                  "column {c} has {n} dates not written like 2024-01-01{e}: comparing them as dates would go wrong",
                  c=column, n=count, e=examples),
                Location(label, note=column),
                t("导出时把日期格式设为 yyyy-mm-dd（如 2024-05-01），月和日补足两位",
                  "export the dates as yyyy-mm-dd (e.g. 2024-05-01), month and day with two digits")))
    if problems:
        raise ErrorGroup.of(problems)


def _examples(plan: SourcePlan, paths: Sequence[Path], check: rsql.Aggregate, n: int = 3) -> list[str]:
    """The commonest values that ``check`` counts, read again from the files (DuckDB); none when
    the files are not at hand (Spark) or cannot be read."""
    if not paths:
        return []
    import duckdb

    fmt = _fmt(plan, paths)
    text = rsql.text_sql(check.of or "")
    cond = (f"{rsql.flag_sql(check.of or '')} IS NULL" if check.measure == "not_flag"
            else f"NOT regexp_matches(v, '{rsql.ISO_DATE}')")
    try:
        with _utf8(paths, fmt) as readable:
            con = duckdb.connect(":memory:")
            try:
                found = con.execute(f"SELECT v FROM (SELECT {text} AS v, * FROM {rsql.reader_sql(fmt)}) WHERE v IS NOT NULL "
                                    f"AND {cond} GROUP BY v ORDER BY count(*) DESC, v LIMIT {int(n)}",
                                    [list(readable)]).fetchall()
            finally:
                con.close()
    except (duckdb.Error, OSError, UnicodeError):
        return []
    return [str(r[0]) for r in found]


def repeated_keys(ws: Any, plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]],
                   label: str, paths: Sequence[Path] = ()) -> None:
    """With ``key:``, a region whose rows outnumber its distinct keys has a record twice (or one
    without a key): every count and sum of it would be off. An input error naming the regions."""
    if not plan.key_column:
        return
    pos = {n: i for i, n in enumerate(names)}
    distinct = next((a.alias for a in plan.query_aggregates if a.measure == "count_distinct"
                     and a.of == plan.key_column and a.where is None), None)
    if distinct is None or "key_n" not in pos:
        return
    extra: dict[str, int] = {}
    for r in rows:
        n, d = r[pos["key_n"]] or 0, r[pos[distinct]] or 0
        if n > d:
            code = str(r[pos["region_code"]] or "").strip()
            extra[code] = extra.get(code, 0) + int(n) - int(d)
    if not extra:
        return
    tree = ws.regions
    first = sorted(extra.items())[:5]
    shown_zh = "、".join(f"{tree.name(c) if c in tree else c}（{c}）多 {k} 条" for c, k in first)
    shown_en = ", ".join(f"{tree.name(c) if c in tree else c} ({c}): {k} more" for c, k in first)
    ids = _repeated_ids(plan, paths)
    which = t("，如 {ids}", "; e.g. {ids}", ids="、".join(ids)) if ids else t("", "")
    raise SourceError(
        t("户级数据中有重复的{key}（或缺少{key}）的记录：{where_zh}{more}{which}，这些记录会被重复计数",
          "records with a repeated (or missing) {key}: {where_en}{more}{which}; they would be counted twice",
          key=plan.source.columns.get(plan.source.key or "", plan.key_column), where_zh=shown_zh, where_en=shown_en,
          more=" 等" if len(extra) > 5 else "", which=which),
        Location(label, note=plan.key_column),
        t("删除重复的记录、补全{key}后重新导出", "remove the duplicate records and fill in the {key}, then export again",
          key=plan.source.columns.get(plan.source.key or "", plan.key_column)))


def _repeated_ids(plan: SourcePlan, paths: Sequence[Path], n: int = 3) -> list[str]:
    """Some keys that occur more than once in a village (or records without a key), read again
    from the files (DuckDB, on this error only); none when the files are not at hand."""
    if not paths or not plan.key_column:
        return []
    import duckdb

    fmt = _fmt(plan, paths)
    key, code = rsql.quote_ident(plan.key_column), rsql.text_sql(plan.region_column)
    try:
        with _utf8(paths, fmt) as readable:
            con = duckdb.connect(":memory:")
            try:
                found = con.execute(
                    f"SELECT CAST({key} AS VARCHAR), count(*) FROM {rsql.reader_sql(fmt)} "
                    f"GROUP BY CAST({key} AS VARCHAR), {code} HAVING count(*) > 1 OR CAST({key} AS VARCHAR) IS NULL "
                    f"ORDER BY 2 DESC, 1 LIMIT {int(n)}", [list(readable)]).fetchall()
            finally:
                con.close()
    except (duckdb.Error, OSError, UnicodeError):
        return []
    return ["（空）" if k is None else repr(k) for k, _ in found]


def sample_rows(ws: Any, field_id: str, region: str, period: str, n: int = 10) -> Any:
    """Up to ``n`` household rows behind a records field at a region (a village, or any region
    above: its villages' rows) and period, for ``revstat explain``: a DataFrame of the file's
    columns as text. Raises :class:`ConfigError` when ``field_id`` is not a records field."""
    import pandas as pd

    source = next((s for s in ws.sources if s.kind == "records" and any(f.id == field_id for f in s.fields)), None)
    if source is None:
        raise ConfigError(t("{f} 不是户级数据字段", "{f} is not a records field", f=field_id), None,
                          t("只有 kind: records 来源的字段能列出明细户", "only fields of kind: records sources list households"))
    display = ws.source_files.get(source.id, f"sources/{source.id}.yaml")
    plan = plan_source(source, display)
    alias = next(a for a, f in plan.fields.items() if f.id == field_id)
    agg = next(a for a in plan.aggregates if a.alias == alias)
    paths = files_of(ws, source, None if plan.period_column else str(period))
    if not paths:
        return pd.DataFrame()
    codes = [region, *ws.regions.descendants(region)] if region in ws.regions else [region]
    fmt = _fmt(plan, paths)
    with _utf8(paths, fmt) as readable:
        query = rsql.sample_query(fmt, readable, plan.region_column, codes, agg.where, (), n,
                                  plan.period_column, str(period))
        names, rows = run_duckdb(query, Location(ws.rel(paths[0])), in_file_order=True)
    return pd.DataFrame(rows, columns=names, dtype=object)
