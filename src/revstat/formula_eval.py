"""Vectorised evaluation of parsed formulas (see :mod:`revstat.formula`).

Every node is computed for all regions at once over arrays of Decimal objects aligned with the
regions (missing = ``None``), in :data:`revstat.numbers.CONTEXT`; an array of reasons travels with the values
("分母为0", "上年同期为0", "缺少2023Q4数据"). Elementwise numpy object-array operations (the
Decimal arithmetic runs in C), no per-cell interpreter loop.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from revstat.formula import (
    Bin,
    BoolOp,
    Call,
    Compare,
    Formula,
    Lookup,
    Name,
    Node,
    Not,
    Num,
    Shift,
    Str,
    Unary,
    shift_period,
    walk,
)
from revstat.i18n import t
from revstat.numbers import CONTEXT
from revstat.periods import Period


class _Eval:
    """The walk over a formula's tree. Values and reasons are numpy object arrays aligned with
    ``index`` (missing = ``None``); Series appear only at the edges (what ``lookup`` returns,
    what :func:`evaluate` returns), because a pandas operation costs far more than the few
    thousand Decimal operations inside it."""

    def __init__(self, lookup: Lookup, period: Period | None, index: Any,
                 labels: Mapping[str, str] | None, temporal: Mapping[str, str] | None = None) -> None:
        import numpy as np
        import pandas as pd

        self.np = np
        self.isna = pd.isna  # on an object array: None, NaN, Decimal NaN, pd.NA (as Series.isna)
        self.lookup = lookup
        self.period = period
        self.index = index
        self.n = len(index)
        self.labels = labels or {}
        self.temporal = temporal or {}
        self.cache: dict[tuple[str, Shift], tuple[Any, Any]] = {}

    # helpers
    def empty(self, value: Any = None) -> Any:
        out = self.np.empty(self.n, dtype=object)
        out.fill(value)
        return out

    def const(self, value: Any) -> tuple[Any, Any]:
        return self.empty(value), self.empty()

    def notna(self, values: Any) -> Any:
        return ~self.isna(values)

    def period_label(self, shift: Shift) -> str:
        return str(shift_period(self.period, shift)) if self.period is not None else "?"

    def missing_reason(self, name: str, shift: Shift) -> str:
        if shift:
            return t("缺少{p}数据", "no data for {p}", p=self.period_label(shift)).render()
        label = self.labels.get(name, name)
        return t("缺少{name}数据", "no data for {name}", name=label).render()

    def first(self, r1: Any, r2: Any) -> Any:
        return self.np.where(self.isna(r1), r2, r1)

    def only_missing(self, reason: Any, values: Any) -> Any:
        """The reasons kept only where the value is missing."""
        return self.np.where(self.isna(values), reason, None)

    # the walk
    def run(self, node: Node, shift: Shift) -> tuple[Any, Any]:  # noqa: C901
        if isinstance(node, Num):
            return self.const(node.value)
        if isinstance(node, Str):
            return self.const(node.value)
        if isinstance(node, Name):
            return self.name(node.id, shift)
        if isinstance(node, Unary):
            v, r = self.run(node.operand, shift)
            return (self.apply1(v, lambda x: -x) if node.op == "-" else v), r
        if isinstance(node, Bin):
            return self.binary(node, shift)
        if isinstance(node, Compare):
            return self.compare(node, shift)
        if isinstance(node, BoolOp):
            return self.boolop(node, shift)
        if isinstance(node, Not):
            v, r = self.run(node.operand, shift)
            return self.apply1(v, lambda x: not x), r
        return self.call(node, shift)

    def name(self, name: str, shift: Shift) -> tuple[Any, Any]:
        key = (name, shift)
        if key not in self.cache:
            found = self.lookup(name, shift)
            if found is None:
                values = self.empty()
            elif isinstance(found, self.np.ndarray):  # already aligned, None for missing (read only)
                values = found
            else:
                if found.index is not self.index:
                    found = found.reindex(self.index)
                values = found.to_numpy(dtype=object, copy=True)
                values[self.isna(values)] = None
            reasons = self.np.where(self.isna(values), self.missing_reason(name, shift), None)
            self.cache[key] = (values, reasons)
        return self.cache[key]

    def apply1(self, v: Any, fn: Callable[[Any], Any]) -> Any:
        out = self.empty()
        mask = self.notna(v)
        if mask.any():
            out[mask] = [fn(x) for x in v[mask]]
        return out

    def binary(self, node: Bin, shift: Shift) -> tuple[Any, Any]:
        a, ra = self.run(node.left, shift)
        b, rb = self.run(node.right, shift)
        return self.arith(node.op, a, ra, b, rb)

    def arith(self, op: str, a: Any, ra: Any, b: Any, rb: Any, zero_reason: str | None = None) -> tuple[Any, Any]:
        out = self.empty()
        reason = self.first(ra, rb)
        mask = self.notna(a) & self.notna(b)
        if op == "/":
            zero = mask & (b == 0)
            if zero.any():
                reason = self.np.where(zero, zero_reason or t("分母为0", "denominator is 0").render(), reason)
            mask = mask & ~zero
        if mask.any():
            x, y = a[mask], b[mask]
            if op == "+":
                res = x + y
            elif op == "-":
                res = x - y
            elif op == "*":
                res = x * y
            else:
                res = x / y
            out[mask] = res
        # finite inputs with zero denominators masked give finite results (no traps in CONTEXT,
        # exponents far beyond any statistic), so no per-cell finiteness check is needed here
        return out, self.only_missing(reason, out)

    def compare(self, node: Compare, shift: Shift) -> tuple[Any, Any]:
        np = self.np
        left, rl = self.run(node.left, shift)
        result = np.ones(self.n, dtype=bool)
        reason = self.empty()
        known = np.ones(self.n, dtype=bool)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right, rr = self.run(comp, shift)
            mask = self.notna(left) & self.notna(right)
            known &= mask
            reason = self.first(reason, self.first(rl, rr))
            part = np.zeros(self.n, dtype=bool)
            if mask.any():
                part[mask] = _CMP_FN[op](left[mask], right[mask])
            result &= part
            left, rl = right, rr
        out = np.where(known, result.astype(object), None)
        return out, self.only_missing(reason, out)

    def boolop(self, node: BoolOp, shift: Shift) -> tuple[Any, Any]:
        np = self.np
        parts = [self.run(v, shift) for v in node.values]
        stop = node.op == "or"  # a True decides "or"; a False decides "and"
        decided = np.zeros(self.n, dtype=bool)
        unknown = np.zeros(self.n, dtype=bool)
        reason = self.empty()
        for v, r in parts:
            decided |= np.fromiter((x is not None and bool(x) is stop for x in v), dtype=bool, count=self.n)
            unknown |= self.isna(v)
            reason = self.first(reason, r)
        out = self.empty(not stop)
        out[decided] = stop
        out[~decided & unknown] = None
        return out, self.only_missing(reason, out)

    def call(self, node: Call, shift: Shift) -> tuple[Any, Any]:  # noqa: C901
        f = node.func
        if f == "prev_year":
            return self.run(node.args[0], (*shift, "prev_year"))
        if f == "prev_period":
            return self.run(node.args[0], (*shift, "prev_period"))
        if f == "elapsed":
            return self.const(self.need_period(shift).elapsed())
        if f == "ytd":
            arg = node.args[0]
            if isinstance(arg, Name) and self.temporal.get(arg.id) in ("cumulative", "stock"):
                return self.run(arg, shift)  # already year to date (1—N月), or a stock
            n = len(self.need_period(shift).year_to_date())
            total, reason = self.run(node.args[0], shift)
            for k in range(1, n):
                v, r = self.run(node.args[0], (*shift, *(["prev_period"] * k)))
                total, reason = self.arith("+", total, reason, v, r)
            return total, reason
        if f == "quarterly":
            cur, rc = self.run(node.args[0], shift)
            if self.need_period(shift).is_first_of_year():
                return cur, rc
            prev, rp = self.run(node.args[0], (*shift, "prev_period"))
            return self.arith("-", cur, rc, prev, rp)
        if f in ("growth", "pp"):
            cur, rc = self.run(node.args[0], shift)
            base, rb = self.run(node.args[0], (*shift, "prev_year"))
            if f == "pp":
                return self.arith("-", cur, rc, base, rb)
            ratio, reason = self.arith("/", cur, rc, base, rb,
                                       zero_reason=t("上年同期为0", "same period last year is 0").render())
            one, hundred = self.const(Decimal(1)), self.const(Decimal(100))
            diff, reason = self.arith("-", ratio, reason, *one)
            return self.arith("*", diff, reason, *hundred)
        if f == "abs":
            v, r = self.run(node.args[0], shift)
            return self.apply1(v, abs), r
        if f in ("min", "max"):
            v, r = self.run(node.args[0], shift)
            for arg in node.args[1:]:
                w, rw = self.run(arg, shift)
                mask = self.notna(v) & self.notna(w)
                out = self.empty()
                if mask.any():
                    vm, wm = v[mask], w[mask]
                    pick = self.np.array(_CMP_FN["<" if f == "min" else ">"](wm, vm), dtype=bool)
                    out[mask] = self.np.where(pick, wm, vm)
                r = self.only_missing(self.first(r, rw), out)
                v = out
            return v, r
        if f == "if_missing":
            v, r = self.run(node.args[0], shift)
            d, rd = self.run(node.args[1], shift)
            miss = self.isna(v)
            return self.np.where(miss, d, v), self.np.where(miss, rd, r)
        raise ValueError(f"unknown function {f}")  # pragma: no cover - the parser refuses it

    def need_period(self, shift: Shift) -> Period:
        if self.period is None:
            raise ValueError("this formula needs the period of the computation (period=...)")
        return shift_period(self.period, shift)


def _cmp(op: str) -> Callable[[Any, Any], Any]:
    import operator

    fn = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
          ">": operator.gt, ">=": operator.ge}[op]
    return lambda x, y: [bool(fn(a, b)) for a, b in zip(x, y, strict=True)]


_CMP_FN = {op: _cmp(op) for op in ("==", "!=", "<", "<=", ">", ">=")}




def evaluate(formula: Formula | Node, lookup: Lookup, *, period: Period | str | None = None,
             index: Any = None, labels: Mapping[str, str] | None = None,
             temporal: Mapping[str, str] | None = None) -> tuple[Any, Any]:
    """Compute a formula for every region at once.

    ``lookup(name, shift)`` returns a Series (indexed by region code, values Decimal or None) of
    ``name`` at the period ``shift`` steps from ``period`` (``()`` the period itself,
    ``("prev_year",)`` the same period last year …), or ``None`` when there is no data.
    Returns ``(values, reasons)``: object Series of Decimal/None (booleans for comparisons) and
    of the reason (text) where a value is missing. ``index`` defaults to the union of the
    indexes of the names at the period itself; ``labels`` names fields in reasons; ``temporal``
    (field → stock | cumulative | period) makes ``ytd`` of a cumulative or stock field the
    field itself instead of a sum over the periods.
    """
    import pandas as pd

    node = formula.tree if isinstance(formula, Formula) else formula
    if index is None:
        index = pd.Index([], dtype=object)
        for n in sorted({x.id for x in walk(node) if isinstance(x, Name)}):
            s = lookup(n, ())
            if s is not None:
                index = index.union(pd.Index(s.index))
    index = index if isinstance(index, pd.Index) else pd.Index(index)
    values, reasons, _ = evaluate_arrays(node, lookup, period=period, index=index, labels=labels, temporal=temporal)
    return pd.Series(values, index=index, dtype=object), pd.Series(reasons, index=index, dtype=object)


def evaluate_arrays(formula: Formula | Node, lookup: Lookup, *, period: Period | str | None, index: Any,
                    labels: Mapping[str, str] | None = None, temporal: Mapping[str, str] | None = None,
                    parts: tuple[Node, ...] = ()) -> tuple[Any, Any, list[Any]]:
    """:func:`evaluate` without the Series at the edges, for the indicator engine.

    ``lookup`` may also return numpy object arrays already aligned with ``index`` (None for
    missing; they are read, never written). Returns the values and reasons as numpy object
    arrays aligned with ``index``, and the values of ``parts`` (sub-formulas such as the
    numerator and denominator of a ratio), computed in the same walk so that they share its
    look-ups.
    """
    node = formula.tree if isinstance(formula, Formula) else formula
    if isinstance(period, str):
        period = Period.parse(period)
    ev = _Eval(lookup, period, index, labels, temporal)
    with decimal.localcontext(CONTEXT):
        values, reasons = ev.run(node, ())
        return values, reasons, [ev.run(part, ())[0] for part in parts]
