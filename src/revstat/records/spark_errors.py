"""A failed Spark query as an input error worded as the DuckDB engine words it (column, value,
file and rows; a column's type), instead of Spark's English error classes and JVM stack traces.

Kept apart from :mod:`revstat.records.spark` (sessions, SQL, running): only a failed query needs it.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from revstat.errors import ErrorGroup, RevstatError, SourceError
from revstat.i18n import t
from revstat.model import Location
from revstat.records.spark import SparkInput, _first_line, _guess_format, _require_sqlglot
from revstat.records.validate import typed_column_error


def _number_fix() -> Any:  # the wording of every engine (revstat.records.validate)
    from revstat.records.validate import NUMBER_FIX

    return NUMBER_FIX


def query_error(err: BaseException, spark_sql: str, source: SparkInput) -> RevstatError:
    """A failed Spark query as an input error worded as the DuckDB engine words it:

    * a value that is not a number (``CAST_INVALID_INPUT``, ``NUMERIC_VALUE_OUT_OF_RANGE``): the
      column, the value and, for local files, the file and row — found again by DuckDB on the
      same files, as :func:`revstat.records.validate.bad_numbers` does (every such column);
    * a column whose type cannot be a number (a Parquet ``DATE`` summed): the column and its type;
    * anything else: Spark's first line, and what to check.
    """
    text = _first_line(err)
    condition = _condition(err, text)
    where = Location(source.describe())
    if condition.startswith(("CAST_INVALID_INPUT", "NUMERIC_VALUE_OUT_OF_RANGE")):
        return _bad_number(err, spark_sql, source, condition, text)
    if condition.startswith("DATATYPE_MISMATCH.CAST"):
        params = _parameters(err)
        column = _cast_column(err, spark_sql) or _column_of_expression(params.get("sqlExpr", ""))
        file_type, target = params.get("srcType", "").strip('"'), params.get("targetType", "").strip('"')
        if column and file_type and _is_number_type(target):
            return typed_column_error(column, file_type, Location(where.file, note=column))
    return SourceError(t("Spark 汇总记录失败：{e}", "the Spark aggregation failed: {e}", e=text), where,
                       t("检查来源的 region/of/where/columns 所写的列名与文件表头一致",
                         "check that the column names in region/of/where/columns match the file's header"))


def _condition(err: BaseException, text: str) -> str:
    """Spark's error condition (``CAST_INVALID_INPUT``, ``DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION``),
    from the exception (pyspark 4: getCondition, 3.5: getErrorClass) or its text's ``[…]``."""
    for name in ("getCondition", "getErrorClass"):
        method = getattr(err, name, None)
        if callable(method):
            try:
                with warnings.catch_warnings():  # getErrorClass: deprecated in pyspark 4
                    warnings.simplefilter("ignore")
                    found = method()
            except Exception:  # a Py4J error without one
                found = None
            if found:
                return str(found)
    m = re.match(r"\[([A-Z0-9_.]+)\]", text)
    return m[1] if m else ""


def _parameters(err: BaseException) -> dict[str, str]:
    method = getattr(err, "getMessageParameters", None)
    try:
        found = method() if callable(method) else None
    except Exception:
        found = None
    return {str(k): str(v) for k, v in (found or {}).items()}


def _cast_column(err: BaseException, spark_sql: str) -> str | None:
    """The column of the CAST that failed: the query context's fragment (pyspark 4), or the
    SQL text at the line and position Spark's message names."""
    fragments: list[str] = []
    contexts = getattr(err, "getQueryContext", None)
    if callable(contexts):
        with contextlib.suppress(Exception):
            fragments += [str(c.fragment()) for c in contexts()]
    at = re.search(r"== SQL \(line (\d+), position (\d+)\) ==", str(err))
    if at:
        lines = spark_sql.split("\n")
        line, pos = int(at[1]), int(at[2])
        if 1 <= line <= len(lines):
            fragments.append(lines[line - 1][pos - 1:])
    for fragment in fragments:
        m = re.match(r"\s*(?:TRY_)?CAST\(\s*`((?:[^`]|``)+)`\s+AS\b", fragment, re.IGNORECASE)
        if m:
            return m[1].replace("``", "`")
    return None


def _column_of_expression(expression: str) -> str | None:
    """``"CAST(家庭人口数 AS DECIMAL(18,4))"`` (Spark's ``sqlExpr``) → 家庭人口数."""
    m = re.fullmatch(r'"?CAST\((.+) AS [A-Z][A-Z0-9_]*(?:\(\d+,\s*\d+\))?\)"?', expression.strip())
    return m[1].strip("`") if m else None


def _is_number_type(name: str) -> bool:
    return name.upper().startswith(("DECIMAL", "NUMERIC", "INT", "BIGINT", "SMALLINT", "TINYINT", "DOUBLE",
                                    "FLOAT", "REAL", "HUGEINT"))


def _number_columns(spark_sql: str) -> list[str]:
    """The columns the query casts to a number, in the order of the text (a CSV column is cast
    from its trimmed text: the columns inside the cast)."""
    sqlglot = _require_sqlglot()
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(spark_sql, read="spark")
    except sqlglot.errors.ParseError:
        return []
    out: list[str] = []
    for cast in tree.find_all(exp.Cast):
        if not cast.to.is_type(*exp.DataType.NUMERIC_TYPES):
            continue
        inside = [cast.this] if isinstance(cast.this, exp.Column) else list(cast.this.find_all(exp.Column))
        out += [c.name for c in inside if c.name not in out and not c.name.startswith("__")]
    return out


def _spark_value(params: Mapping[str, str], text: str) -> str | None:
    """The value that is not a number: ``'3人'`` (a SQL literal in Spark's parameters) → 3人."""
    literal = params.get("expression")
    if literal and len(literal) >= 2 and literal[0] == literal[-1] == "'":
        return re.sub(r"\\(.)", r"\1", literal[1:-1])
    if params.get("value"):  # NUMERIC_VALUE_OUT_OF_RANGE
        return params["value"]
    m = re.search(r"The value '((?:[^'\\]|\\.)*)' of the type", text)
    return re.sub(r"\\(.)", r"\1", m[1]) if m else None


def _bad_number(err: BaseException, spark_sql: str, source: SparkInput, condition: str, text: str) -> RevstatError:
    """A value that is not a number: when DuckDB finds them again in the local files, every column
    the query reads as numbers that holds such values, by file, rows and values, as the DuckDB engine
    says it (:func:`revstat.records.validate.bad_numbers`); else the column and value Spark names."""
    params = _parameters(err)
    value = _spark_value(params, text)
    column = _cast_column(err, spark_sql)
    found = _find_bad_numbers(source, list(dict.fromkeys([*([column] if column else []),
                                                           *_number_columns(spark_sql)])))
    if found:
        return ErrorGroup.of(found)
    where = Location(source.describe(), note=column)
    if value is None:
        return SourceError(t("Spark 汇总记录失败：{e}", "the Spark aggregation failed: {e}", e=text), where, _number_fix())
    big = condition.startswith("NUMERIC_VALUE_OUT_OF_RANGE")
    if column:
        what = (t("列 {c} 的值 {v} 超出数字的范围（最多 14 位整数）", "column {c}: the value {v} is out of range "
                  "(at most 14 integer digits)", c=column, v=value) if big else
                t("列 {c} 中有不是数字的值：{v!r}", "column {c} holds a value that is not a number: {v!r}",
                  c=column, v=value))
    else:
        what = (t("记录中的值 {v} 超出数字的范围（最多 14 位整数）", "a value of the records, {v}, is out of range "
                  "(at most 14 integer digits)", v=value) if big else
                t("记录中有不是数字的值：{v!r}（在汇总为数字的列中）", "a value of the records is not a number: {v!r} "
                  "(in a column summed or computed as a number)", v=value))
    return SourceError(what, where, _number_fix())


def _find_bad_numbers(source: SparkInput, columns: Sequence[str]) -> list[RevstatError]:
    """The columns of ``columns`` holding values that are not numbers, each as an input error with
    its first rows, read again by DuckDB from the local files (none for a table or remote URIs)."""
    from revstat.records.validate import _locate

    if source.table or not source.paths or not columns:
        return []
    paths = []
    for path in source.paths:
        if "://" in path and not path.startswith("file://"):
            return []  # hdfs://, s3a://: only Spark reads them
        paths.append(path.removeprefix("file://"))
    fmt = source.format or _guess_format(paths[0])
    shown = [Path(s) for s in source.shown] if len(source.shown) == len(paths) else [Path(p) for p in paths]
    return [e for c in columns if (e := _locate(c, fmt, paths, shown, str)) is not None]
