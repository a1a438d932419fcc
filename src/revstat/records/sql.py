"""The records aggregation as one SQL text (DuckDB dialect), built from the source definition.

One ``SELECT … GROUP BY`` per records source computes every field of the source in a single
pass over the file: ``count(*) FILTER (WHERE …)``, ``sum(CAST(x AS DECIMAL(18,4))) FILTER
(…)``, ``count(DISTINCT x) FILTER (…)``. The same text runs on DuckDB as is and on Spark after
``sqlglot`` transpiling (:mod:`revstat.records.spark`).

Safety: identifiers (Chinese column names included) are always double-quoted with embedded
quotes doubled; string values of a ``where:`` condition are bound as ``?`` parameters (in
textual order), never spliced into the text; numbers are written from their ``Decimal`` value.

Typing: CSV files are read as text (``all_varchar``), so a column is cast where it is used —
``DECIMAL(18,4)`` where compared with a number or summed, ``VARCHAR`` where compared with a
string. A bare name in a condition is a yes/no flag: ``是``/``1``/``true``/``yes``/``y``/``t``
count as yes (case and surrounding spaces ignored), an empty cell is unknown.
Three-valued logic as in SQL: a condition that is unknown (a missing value) does not count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from revstat.errors import DefinitionError
from revstat.formula import Bin, BoolOp, Call, Compare, Name, Node, Not, Num, Str, Unary
from revstat.i18n import t
from revstat.model import Location

#: the numeric type columns are cast to (money to the 0.0001 元; sums become DECIMAL(38,4))
NUMERIC = "DECIMAL(18,4)"
#: a quotient in a condition is rounded to this many places (half away from zero)
DIVISION_PLACES = 8
#: the values of a yes/no flag column that mean yes, and no (compared after lower(trim(…)));
#: any other word is neither: unknown, and an input error (:func:`revstat.records.validate.bad_values`)
TRUTHY = ("1", "1.0", "true", "t", "yes", "y", "是")  # 1.0: a Parquet flag column of doubles
FALSY = ("0", "0.0", "false", "f", "no", "n", "否")
#: what is trimmed from both ends of a text value before it is compared, counted or used as a
#: code: spaces (ASCII, full-width, no-break), tabs, zero-width spaces, stray byte-order marks and
#: carriage returns (a line ended CRLF in a file ended LF) — invisible in Excel/WPS, and
#: "脱贫不稳定户 " must count as 脱贫不稳定户
BLANKS = " \t\r\u3000\u00a0\u200b\ufeff"
#: a date as the conditions compare it (text order is date order only for ISO dates)
ISO_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}"


def not_date_sql(text: str) -> str:
    """True for a text that is no date a condition can compare: not written 2024-01-01 (2024/5/1,
    2024-5-1), or written so but no day of the calendar (2024-13-01, 2024-02-30); never for a
    missing value."""
    return (f"({text} IS NOT NULL AND (NOT regexp_matches({text}, '{ISO_DATE}') "
            f"OR TRY_CAST(substr({text}, 1, 10) AS DATE) IS NULL))")


def text_sql(column: str, *, guarded: bool = False) -> str:
    """A column as trimmed text, an all-blank value as missing (the same on every engine).

    ``guarded`` (for CSV): ``trim`` with a character set costs ~250 ns a value on DuckDB, so a
    value with no blank in it at all (almost every value) skips it after a few ``contains``
    scans, which cost next to nothing. Parquet's dictionary-encoded text is trimmed once per
    distinct value, where the guard would only add work."""
    text = f"CAST({quote_ident(column)} AS VARCHAR)"
    if not guarded:
        return f"NULLIF(trim({text}, '{BLANKS}'), '')"
    guard = " OR ".join(f"contains({text}, '{c}')" for c in BLANKS)
    return f"NULLIF(CASE WHEN {guard} THEN trim({text}, '{BLANKS}') ELSE {text} END, '')"


def number_sql(column: str, *, text: bool = False) -> str:
    """A column as ``DECIMAL(18,4)``. ``text`` (CSV, read as text): a value of blanks only — a
    space typed in Excel — is missing, as in a text column, not a value that is no number (the
    guarded trim of :func:`text_sql`); a Parquet number column is cast as it is."""
    return f"CAST({text_sql(column, guarded=True) if text else quote_ident(column)} AS {NUMERIC})"


def flag_sql(column: str) -> str:
    """A yes/no column as TRUE, FALSE or unknown (NULL: empty, or a word in neither list)."""
    return _flag_of(text_sql(column))
#: formula functions a record condition may use, as SQL
_FUNCS = {"abs": "abs", "min": "least", "max": "greatest", "if_missing": "coalesce"}
_SQL_CMP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def quote_ident(name: str) -> str:
    """``村代码`` → ``"村代码"``; an embedded ``"`` is doubled. Rejects NUL and control characters."""
    if not name or any(ord(c) < 32 for c in name):
        raise DefinitionError(t("列名 {n!r} 无效", "invalid column name {n!r}", n=name), None,
                              t("列名不能为空，也不能含控制字符", "a column name must be non-empty, without control characters"))
    return '"' + name.replace('"', '""') + '"'


def number_literal(value: Decimal) -> str:
    """A Decimal as SQL text (digits, sign and point only)."""
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    text = format(value, "f")
    return text if text.lstrip("-").replace(".", "", 1).isdigit() else "0"


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One field of a records source: ``measure`` over the rows where ``where`` holds."""

    alias: str  # result column (ASCII, e.g. f0)
    measure: str  # count | sum | count_distinct; checks: not_flag | not_date (rows of ``of`` that are neither)
    of: str | None  # column header in the file (after the source's ``columns`` mapping)
    where: Node | None  # the parsed condition (names already mapped to column headers)


@dataclass(frozen=True, slots=True)
class Query:
    sql: str
    params: tuple[Any, ...]


class _Where:
    """Translate a condition tree to SQL; string values go to ``params`` in text order."""

    def __init__(self, where: Location | None, columns: _Columns | None = None) -> None:
        self.params: list[Any] = []
        self.where = where
        self.columns = columns  # given: trimmed texts and flags are columns of the inner SELECT

    def fail(self, what: Any) -> DefinitionError:
        return DefinitionError(what, self.where, t(
            "记录条件可用列名、数字、字符串、比较、+ - * /、and/or/not 和 abs/min/max/if_missing",
            "a record condition may use column names, numbers, strings, comparisons, + - * /, "
            "and/or/not and abs/min/max/if_missing"))

    def bool(self, node: Node) -> str:
        if isinstance(node, BoolOp):
            joiner = " AND " if node.op == "and" else " OR "
            return "(" + joiner.join(self.bool(v) for v in node.values) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.bool(node.operand)})"
        if isinstance(node, Compare):
            kind = _compare_kind(node)
            parts: list[str] = []
            left = self.value(node.left, kind)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self.value(right_node, kind)
                parts.append(f"{left} {_SQL_CMP[op]} {right}")
                left = right
            return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"
        if isinstance(node, Name):
            return self.columns.flag(node.id) if self.columns is not None else flag_sql(node.id)
        raise self.fail(t("条件必须是比较或是/否列，如 监测类型 == '脱贫不稳定户'",
                          "a condition must be a comparison or a yes/no column, e.g. monitor_type == '脱贫不稳定户'"))

    def value(self, node: Node, kind: str) -> str:
        if isinstance(node, Name):
            if kind == "num":
                return self.columns.number(node.id) if self.columns is not None else number_sql(node.id)
            return self.columns.text(node.id) if self.columns is not None else text_sql(node.id)
        if isinstance(node, Str):
            if kind == "num":
                raise self.fail(t("不能把数字与字符串 {s!r} 比较", "cannot compare a number with the string {s!r}", s=node.value))
            self.params.append(node.value)
            return "?"
        if isinstance(node, Num):
            if kind != "num":
                return "'" + number_literal(node.value) + "'"
            return f"CAST({number_literal(node.value)} AS {NUMERIC})"
        if isinstance(node, Unary):
            return f"({node.op}{self.value(node.operand, 'num')})"
        if isinstance(node, Bin):
            left, right = self.value(node.left, "num"), self.value(node.right, "num")
            if node.op == "/":  # x / 0 is unknown (as in the formula language), not inf or an error;
                # rounded to 8 places so 0.3 / 3 == 0.1 on every engine (DuckDB divides in double)
                return f"round({left} / NULLIF({right}, 0), {DIVISION_PLACES})"
            return f"({left} {node.op} {right})"
        if isinstance(node, Call) and node.func in _FUNCS:
            args = ", ".join(self.value(a, kind if node.func == "if_missing" else "num") for a in node.args)
            return f"{_FUNCS[node.func]}({args})"
        if isinstance(node, Call):
            raise self.fail(t("记录条件中不能用函数 {f}", "the function {f} cannot be used in a record condition", f=node.func))
        raise self.fail(t("条件中的比较不能嵌套", "comparisons cannot be nested inside a condition"))


def _compare_kind(node: Compare) -> str:
    """``num`` when a side is a number or arithmetic, else ``text``."""
    sides = [node.left, *node.comparators]
    if any(isinstance(s, Num | Bin | Unary) or (isinstance(s, Call) and s.func != "if_missing") for s in sides):
        return "num"
    if any(isinstance(s, Call) for s in sides):  # if_missing(x, 0): by its arguments
        inner = [a for s in sides if isinstance(s, Call) for a in s.args]
        return "num" if any(isinstance(a, Num | Bin | Unary) for a in inner) else "text"
    return "text"


class _Columns:
    """The values computed once per row in the inner SELECT of :func:`build_query`: a column as
    trimmed text (``__t0``, ``__t1`` …) and as a yes/no flag (``__b0`` …), however many conditions use
    them (DuckDB does not share such expressions between FILTER clauses)."""

    def __init__(self, *, guarded: bool = False) -> None:
        self.texts: dict[str, str] = {}
        self.flags: dict[str, str] = {}
        self.numbers: dict[str, str] = {}
        self.guarded = guarded  # see text_sql; and CSV: numbers read from trimmed text (number_sql)

    def number(self, column: str) -> str:
        if not self.guarded:  # Parquet: the column's own type, cast where it is used
            return number_sql(column)
        return self.numbers.setdefault(column, f"__n{len(self.numbers)}")

    def text(self, column: str) -> str:
        return self.texts.setdefault(column, f"__t{len(self.texts)}")

    def flag(self, column: str) -> str:
        self.text(column)
        return self.flags.setdefault(column, f"__b{len(self.flags)}")

    def source(self, reader: str) -> str:
        """``reader`` with the computed columns: the texts first, then the flags made from them
        (two nested SELECTs: an alias is not visible in its own SELECT list on every engine)."""
        texts = ", ".join(["*", *(f"{text_sql(c, guarded=self.guarded)} AS {a}" for c, a in self.texts.items()),
                           *(f"{number_sql(c, text=True)} AS {a}" for c, a in self.numbers.items())])
        inner = f"(SELECT {texts} FROM {reader})"
        if not self.flags:
            return inner
        flags = ", ".join(["*", *(_flag_of(self.texts[c]) + f" AS {a}" for c, a in self.flags.items())])
        return f"(SELECT {flags} FROM {inner})"


def _flag_of(text: str) -> str:
    yes = ", ".join(f"'{w}'" for w in TRUTHY)
    no = ", ".join(f"'{w}'" for w in FALSY)
    return f"(CASE WHEN lower({text}) IN ({yes}) THEN TRUE WHEN lower({text}) IN ({no}) THEN FALSE END)"


def condition_sql(node: Node, where: Location | None = None) -> Query:
    """The SQL of one condition with its ``?`` parameters (for tests and :func:`sample_query`)."""
    w = _Where(where)
    return Query(w.bool(node), tuple(w.params))


def reader_sql(fmt: str, *, filename: bool = False) -> str:
    """The DuckDB table function reading the record files (their list is the first parameter);
    ``filename``: with a ``filename`` column naming each row's file."""
    extra = ", filename = true" if filename else ""
    if fmt == "parquet":
        return f"read_parquet(?, union_by_name = true{extra})"
    return f"read_csv(?, header = true, all_varchar = true, union_by_name = true{extra})"


def bad_number_query(fmt: str, paths: Sequence[str], column: str, n: int = 1, *, dates: bool = False) -> Query:
    """Where ``column`` holds a value that is not a number as the aggregation casts it (``dates``:
    not a date a condition can compare, :func:`not_date_sql`): the first ``n`` such values, their
    file, their row in the file (1 = the first record), and how many there are. Run in file order
    (one thread): the row numbers follow the scan."""
    col = quote_ident(column)
    trimmed = f"trim(v, '{BLANKS}')"
    bad = (f"NULLIF({trimmed}, '') IS NOT NULL AND {not_date_sql(trimmed)}" if dates
           else f"NULLIF({trimmed}, '') IS NOT NULL AND TRY_CAST({trimmed} AS {NUMERIC}) IS NULL")
    sql = (f"SELECT filename, n, v, count(*) OVER () AS total FROM (\n"
           f"  SELECT filename, row_number() OVER (PARTITION BY filename) AS n, CAST({col} AS VARCHAR) AS v\n"
           f"  FROM {reader_sql(fmt, filename=True)})\n"
           f"WHERE {bad}\nORDER BY filename, n\nLIMIT {int(n)}")
    return Query(sql, (list(paths),))


def numeric_columns(aggregates: Sequence[Aggregate]) -> list[str]:
    """The columns the aggregation casts to numbers: what is summed, and what a condition
    compares with a number or computes with (in the order first used) — found by translating the
    conditions as :func:`build_query` does, so the two never disagree."""
    columns = _Columns(guarded=True)  # (guarded: every numeric column gets its own alias)
    for agg in aggregates:
        if agg.where is not None:
            _Where(None, columns).bool(agg.where)
        if agg.measure == "sum" and agg.of:
            columns.number(agg.of)
    return list(columns.numbers)


def build_query(fmt: str, paths: Sequence[str], region_column: str, aggregates: Sequence[Aggregate],
                period_column: str | None = None, periods: Sequence[str] = (),
                locations: Mapping[str, Location] | None = None, read: Sequence[str] = ()) -> Query:
    """One GROUP BY over the record files computing every aggregate (one result row per region,
    and per period when ``period_column`` is given). ``read``: the columns the aggregation reads;
    a CSV row empty in all of them (the blank lines Excel leaves at the end of a sheet saved as
    CSV: ``,,,,,,``) is no record and is left out."""
    params: list[Any] = []  # in the text's order: the FILTER values, the files, the periods
    columns = _Columns(guarded=fmt == "csv")  # trimmed texts and flags, computed once per row in the inner SELECT
    selects = [f"{columns.text(region_column)} AS region_code"]  # " 9901…" is 9901…
    group = ["1"]
    if period_column:
        selects.append(f"CAST({quote_ident(period_column)} AS VARCHAR) AS period")
        group.append("2")
    for agg in aggregates:
        filt, fparams = "", ()
        if agg.where is not None:
            w = _Where((locations or {}).get(agg.alias), columns)
            cond = Query(w.bool(agg.where), tuple(w.params))
            filt, fparams = f" FILTER (WHERE {cond.sql})", cond.params
        if agg.measure == "count":
            selects.append(f"count(*){filt} AS {agg.alias}")
            params.extend(fparams)
        elif agg.measure == "count_distinct":  # the values as written: a DISTINCT over trimmed text, or a
            # check for padded values, costs 20–40 % more on a 5M-row export (ids are machine-written)
            selects.append(f"count(DISTINCT CAST({quote_ident(agg.of or '')} AS VARCHAR)){filt} AS {agg.alias}")
            params.extend(fparams)
        elif agg.measure == "not_flag":  # values of a yes/no column that are neither yes nor no: the
            # non-empty texts less the flags that are yes or no (two null counts, no condition per row)
            selects.append(f"count({columns.text(agg.of or '')}) - count({columns.flag(agg.of or '')}) AS {agg.alias}")
        elif agg.measure == "not_date":  # values of a column compared with a date that are no ISO date
            selects.append(f"count(*) FILTER (WHERE {not_date_sql(columns.text(agg.of or ''))}) AS {agg.alias}")
        else:
            # and the rows matched: a sum over no matching rows is 0, over only missing values missing
            selects.append(f"sum({columns.number(agg.of or '')}){filt} AS {agg.alias}")
            selects.append(f"count(*){filt} AS {agg.alias}_n")
            params.extend(fparams)
            params.extend(fparams)
    sql = f"SELECT {', '.join(selects)}\nFROM {columns.source(reader_sql(fmt))}"
    params.append(list(paths))
    conds = []
    if period_column and periods:
        conds.append(f"CAST({quote_ident(period_column)} AS VARCHAR) IN ({', '.join('?' for _ in periods)})")
        params.extend(periods)
    if fmt == "csv" and read:  # every column is text: NULL where the cell is empty
        conds.append(f"coalesce({', '.join(quote_ident(c) for c in sorted(read))}) IS NOT NULL")
    if conds:
        sql += "\nWHERE " + " AND ".join(conds)
    sql += f"\nGROUP BY {', '.join(group)}"
    return Query(sql, tuple(params))


def sample_query(fmt: str, paths: Sequence[str], region_column: str, codes: Sequence[str],
                 where: Node | None, columns: Sequence[str], n: int,
                 period_column: str | None = None, period: str | None = None) -> Query:
    """The first ``n`` rows behind an aggregate for some region codes (``revstat explain``)."""
    params: list[Any] = [list(paths)]
    cols = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns) or "*"
    conds = [f"{text_sql(region_column)} IN ({', '.join('?' for _ in codes)})"]
    params.extend(codes)
    if period_column and period:
        conds.append(f"CAST({quote_ident(period_column)} AS VARCHAR) = ?")
        params.append(period)
    if where is not None:
        w = _Where(None)
        conds.append(w.bool(where))
        params.extend(w.params)
    sql = f"SELECT {cols}\nFROM {reader_sql(fmt)}\nWHERE {' AND '.join(conds)}\nLIMIT {int(n)}"
    return Query(sql, tuple(params))
