"""The records aggregation in pandas, for small CSV files: the same results as the SQL.

Reads only the needed columns as text and evaluates each field's condition with SQL's
three-valued logic (a comparison with an empty cell is unknown and does not count), the same
``DECIMAL(18,4)`` rounding of numbers and the same rounding of quotients, so that
``engine="pandas"`` and ``engine="duckdb"`` give identical observations (tests/test_records.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from revstat.errors import ErrorGroup, SourceError
from revstat.formula import Bin, BoolOp, Call, Compare, Name, Node, Not, Num, Str, Unary
from revstat.i18n import t
from revstat.model import Location
from revstat.records import sql as rsql
from revstat.records.engine import _QUANTUM, SourcePlan
from revstat.records.files import encoding_of
from revstat.records.validate import not_numbers


def run_pandas(plan: SourcePlan, paths: Sequence[Path], periods: Sequence[str], where: Location
               ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The same aggregation in pandas, for small CSV files (same three-valued logic as SQL)."""
    import pandas as pd

    frames = []
    for p in paths:
        enc = encoding_of(p)
        header = pd.read_csv(p, nrows=0, encoding="utf-8-sig" if enc == "utf-8" else enc).columns
        missing = sorted(plan.columns - set(header))
        if missing:  # validate.missing_columns said it already, with the file's headers; for direct callers
            raise SourceError(t("记录文件缺少列：{c}", "the record file lacks columns: {c}", c="、".join(missing)),
                              where, t("检查来源的 region/of/where/columns 所写的列名与文件表头一致",
                                       "check that the column names in region/of/where/columns match the header"))
        frames.append(pd.read_csv(p, usecols=sorted(plan.columns), dtype=str, keep_default_na=False,
                                  na_values=[""], encoding="utf-8-sig" if enc == "utf-8" else enc))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=sorted(plan.columns))
    # a row empty in every column read is no record (Excel's trailing ,,,,,, lines): as the SQL
    # (rsql.build_query); the index keeps each row's place in the file, for the messages
    df = df.dropna(how="all")
    df = df.astype(object).where(df.notna(), None)
    keys = ["region_code"]
    df["region_code"] = ["" if v is None else _text(v) or "" for v in df[plan.region_column]]
    if plan.period_column:
        df = df[df[plan.period_column].isin(list(periods))].copy()
        df["period"] = df[plan.period_column]
        keys.append("period")
    ev = _PandasEval(df, where)
    bad: list[SourceError] = []  # every column that is not all numbers, at once (as validate.bad_numbers)
    for col in rsql.numeric_columns(plan.query_aggregates):
        try:
            ev.numbers(col)
        except SourceError as err:
            bad.append(err)
    if bad:
        raise ErrorGroup.of(bad)
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    groups = df.groupby(keys, sort=True, dropna=False).indices
    aggregates = plan.query_aggregates
    masks = {a.alias: ev.mask(a.where) for a in aggregates}
    nums = {a.of: ev.numbers(a.of) for a in aggregates if a.measure == "sum" and a.of}
    for key, idx in groups.items():
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        for a in aggregates:
            sel = [i for i in idx if masks[a.alias][i]]
            if a.measure == "count":
                row[a.alias] = len(sel)
            elif a.measure == "count_distinct":  # as the SQL: the value as it is
                col = df[a.of].to_numpy()
                row[a.alias] = len({col[i] for i in sel if col[i] is not None})
            elif a.measure == "not_flag":
                col, flags = ev.texts(a.of), ev.flags(a.of)
                row[a.alias] = sum(1 for i in idx if col[i] is not None and flags[i] is None)
            elif a.measure == "not_date":
                col = ev.texts(a.of)
                row[a.alias] = sum(1 for i in idx if col[i] is not None and not_date(col[i]))
            else:
                vals = [nums[a.of][i] for i in sel if nums[a.of][i] is not None]
                row[a.alias] = sum(vals, Decimal(0)) if vals else None
                row[f"{a.alias}_n"] = len(sel)
        out[key] = row
    names = list(keys)
    for a in aggregates:
        names += [a.alias, f"{a.alias}_n"] if a.measure == "sum" else [a.alias]
    return names, [tuple(r.get(n) for n in names) for r in out.values()]


class _PandasEval:
    """Conditions over text columns with SQL's three-valued logic (None = unknown)."""

    def __init__(self, df: Any, where: Location) -> None:
        self.df = df
        self.n = len(df)
        self.where = where
        self._num: dict[str, list[Any]] = {}
        self._texts: dict[str, list[str | None]] = {}

    def numbers(self, col: str) -> list[Any]:
        if col not in self._num:
            out: list[Any] = []
            bad: list[tuple[int, Any]] = []  # (row, value) of every value that is not a number
            for i, v in enumerate(self.df[col].to_numpy()):
                if v is None or not str(v).strip(rsql.BLANKS):  # blanks only: missing (rsql.number_sql)
                    out.append(None)
                    continue
                try:
                    text = str(v).strip(rsql.BLANKS)
                    if not text.isascii():  # Decimal reads "１２" as 12; DuckDB (and so every engine) refuses it
                        raise InvalidOperation
                    d = Decimal(text)
                    if not d.is_finite():
                        raise InvalidOperation
                    out.append(d.quantize(_QUANTUM, rounding=ROUND_HALF_UP))
                except InvalidOperation:
                    bad.append((i, v))
                    out.append(None)
            if bad:  # worded as the DuckDB engine words it (validate.not_numbers); line 1 is the header
                raise not_numbers(col, [(int(self.df.index[i]) + 2, v) for i, v in bad[:3]], len(bad),
                                  Location(self.where.file, note=col), csv=True)
            self._num[col] = out
        return self._num[col]

    def texts(self, col: str) -> list[str | None]:
        """The column as trimmed text, blanks missing (:func:`revstat.records.sql.text_sql`); once
        per column, however many conditions use it."""
        if col not in self._texts:
            self._texts[col] = [None if v is None else _text(v) for v in self.df[col].to_numpy()]
        return self._texts[col]

    def flags(self, col: str) -> list[bool | None]:
        """A yes/no column: True, False, or None (empty, or neither word: rsql.flag_sql)."""
        return [None if v is None else _FLAGS.get(v.lower()) for v in self.texts(col)]

    def mask(self, node: Node | None) -> list[bool]:
        if node is None:
            return [True] * self.n
        return [v is True for v in self.bool(node)]

    def bool(self, node: Node) -> list[Any]:
        if isinstance(node, BoolOp):
            parts = [self.bool(v) for v in node.values]
            return [_kleene(node.op, vs) for vs in zip(*parts, strict=True)]
        if isinstance(node, Not):
            return [None if v is None else not v for v in self.bool(node.operand)]
        if isinstance(node, Name):
            return self.flags(node.id)
        if isinstance(node, Compare):
            kind = rsql._compare_kind(node)
            left = self.value(node.left, kind)
            result: list[Any] = [True] * self.n
            for op, c in zip(node.ops, node.comparators, strict=True):
                right = self.value(c, kind)
                step = [None if a is None or b is None else _CMP[op](a, b) for a, b in zip(left, right, strict=True)]
                result = [_kleene("and", (r, s)) for r, s in zip(result, step, strict=True)]
                left = right
            return result
        raise AssertionError("rejected by rsql.condition_sql at planning")

    def value(self, node: Node, kind: str) -> list[Any]:
        if isinstance(node, Name):
            if kind == "num":
                return self.numbers(node.id)
            return self.texts(node.id)
        if isinstance(node, Str):
            return [node.value] * self.n
        if isinstance(node, Num):
            v = node.value.quantize(_QUANTUM, rounding=ROUND_HALF_UP) if kind == "num" else rsql.number_literal(node.value)
            return [v] * self.n
        if isinstance(node, Unary):
            return [None if v is None else (-v if node.op == "-" else v) for v in self.value(node.operand, "num")]
        if isinstance(node, Bin):
            a, b = self.value(node.left, "num"), self.value(node.right, "num")
            return [_arith(node.op, x, y) for x, y in zip(a, b, strict=True)]
        if isinstance(node, Call):
            args = [self.value(a, kind if node.func == "if_missing" else "num") for a in node.args]
            return [_call(node.func, vs) for vs in zip(*args, strict=True)]
        raise AssertionError("rejected by rsql.condition_sql at planning")


_FLAGS = {**dict.fromkeys(rsql.TRUTHY, True), **dict.fromkeys(rsql.FALSY, False)}
_ISO_DATE = re.compile(rsql.ISO_DATE)


def not_date(text: str) -> bool:
    """As :func:`revstat.records.sql.not_date_sql`: not written 2024-01-01, or no day of the calendar."""
    if not _ISO_DATE.match(text):
        return True
    try:
        dt.date.fromisoformat(text[:10])
    except ValueError:
        return True
    return False


def _text(value: Any) -> str | None:
    return str(value).strip(rsql.BLANKS) or None


_CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _kleene(op: str, values: Sequence[Any]) -> Any:
    if op == "and":
        if any(v is False for v in values):
            return False
        return None if any(v is None for v in values) else True
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _arith(op: str, x: Any, y: Any) -> Any:
    if x is None or y is None:
        return None
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        return None
    return (x / y).quantize(Decimal(1).scaleb(-rsql.DIVISION_PLACES), rounding=ROUND_HALF_UP)


def _call(func: str, vs: Sequence[Any]) -> Any:
    if func == "if_missing":
        return next((v for v in vs if v is not None), None)
    if any(v is None for v in vs) and func != "if_missing":
        return None if func == "abs" else (min if func == "min" else max)([v for v in vs if v is not None], default=None)
    if func == "abs":
        return abs(vs[0])
    return min(vs) if func == "min" else max(vs)
