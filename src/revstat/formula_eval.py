"""Vectorised evaluation of parsed formulas (see :mod:`revstat.formula`).

Every node is computed for all regions at once over arrays of Decimal objects aligned with the
regions (missing = ``None``), in :data:`revstat.numbers.CONTEXT`; an array of reasons ("分母为0",
"上年同期为0", "缺少2023Q4数据") and the missing mask travel with the values. Elementwise numpy
object-array operations (the Decimal arithmetic runs in C), no per-cell interpreter loop.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

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


class Column(NamedTuple):
    """What a lookup may hand the evaluator instead of a Series: values already aligned with the
    evaluation's index (None where missing; read, never written) and their missing mask."""

    values: Any
    missing: Any


class _Eval:
    """The walk over a formula's tree. Every node gives three arrays aligned with ``index``:
    values (numpy object array, ``None`` where missing), reasons (the text why a value is missing,
    ``None`` where it is not) and the missing mask (bool), carried along so that no step has to
    look for ``None`` again. Series appear only at the edges (what ``lookup`` returns, what
    :func:`evaluate` returns), because a pandas operation costs far more than the few thousand
    Decimal operations inside it."""

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
        self.cache: dict[tuple[str, Shift], Triple] = {}

    # helpers
    def empty(self, value: Any = None) -> Any:
        out = self.np.empty(self.n, dtype=object)
        out.fill(value)
        return out

    def const(self, value: Any) -> Triple:
        return self.empty(value), self.empty(), self.np.full(self.n, value is None, dtype=bool)

    def period_label(self, shift: Shift) -> str:
        return str(shift_period(self.period, shift)) if self.period is not None else "?"

    def missing_reason(self, name: str, shift: Shift) -> str:
        if shift:
            return t("缺少{p}数据", "no data for {p}", p=self.period_label(shift)).render()
        label = self.labels.get(name, name)
        return t("缺少{name}数据", "no data for {name}", name=label).render()

    def first(self, a: Triple, b: Triple) -> Any:
        """The reason of ``a`` where ``a`` is missing, else that of ``b`` (a reason is given
        exactly where its value is missing)."""
        return self.np.where(a[2], a[1], b[1])

    def only_missing(self, reason: Any, missing: Any) -> Any:
        """The reasons kept only where the value is missing."""
        return self.np.where(missing, reason, None)

    # the walk
    def run(self, node: Node, shift: Shift) -> Triple:  # noqa: C901
        if isinstance(node, Num):
            return self.const(node.value)
        if isinstance(node, Str):
            return self.const(node.value)
        if isinstance(node, Name):
            return self.name(node.id, shift)
        if isinstance(node, Unary):
            v, r, m = self.run(node.operand, shift)
            return (self.apply1(v, m, lambda x: -x) if node.op == "-" else v), r, m
        if isinstance(node, Bin):
            return self.binary(node, shift)
        if isinstance(node, Compare):
            return self.compare(node, shift)
        if isinstance(node, BoolOp):
            return self.boolop(node, shift)
        if isinstance(node, Not):
            v, r, m = self.run(node.operand, shift)
            return self.apply1(v, m, lambda x: not x), r, m
        return self.call(node, shift)

    def name(self, name: str, shift: Shift) -> Triple:
        key = (name, shift)
        if key not in self.cache:
            found = self.lookup(name, shift)
            if found is None:
                values, missing = self.empty(), self.np.ones(self.n, dtype=bool)
            elif isinstance(found, Column):  # already aligned, with its mask
                values, missing = found
            else:
                if found.index is not self.index:
                    found = found.reindex(self.index)
                values = found.to_numpy(dtype=object, copy=True)
                missing = self.isna(values)
                values[missing] = None
            reasons = self.np.where(missing, self.missing_reason(name, shift), None)
            self.cache[key] = (values, reasons, missing)
        return self.cache[key]

    def apply1(self, v: Any, missing: Any, fn: Callable[[Any], Any]) -> Any:
        out = self.empty()
        present = ~missing
        if present.any():
            out[present] = [fn(x) for x in v[present]]
        return out

    def binary(self, node: Bin, shift: Shift) -> Triple:
        return self.arith(node.op, self.run(node.left, shift), self.run(node.right, shift))

    def arith(self, op: str, a: Triple, b: Triple, zero_reason: str | None = None) -> Triple:
        np = self.np
        out = self.empty()
        reason = self.first(a, b)
        mask = ~a[2] & ~b[2]
        if op == "/" and mask.any():
            zero = np.zeros(self.n, dtype=bool)
            zero[mask] = b[0][mask] == 0
            if zero.any():
                reason = np.where(zero, zero_reason or t("分母为0", "denominator is 0").render(), reason)
                mask = mask & ~zero
        if mask.any():
            x, y = a[0][mask], b[0][mask]
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
        missing = ~mask
        return out, self.only_missing(reason, missing), missing

    def compare(self, node: Compare, shift: Shift) -> Triple:
        np = self.np
        left = self.run(node.left, shift)
        result = np.ones(self.n, dtype=bool)
        reason = self.empty()
        known = np.ones(self.n, dtype=bool)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.run(comp, shift)
            mask = ~left[2] & ~right[2]
            # the first reason met, in the order of the operands
            reason = np.where(known, self.first(left, right), reason)
            known &= mask
            part = np.zeros(self.n, dtype=bool)
            if mask.any():
                part[mask] = _CMP_FN[op](left[0][mask], right[0][mask])
            result &= part
            left = right
        out = np.where(known, result.astype(object), None)
        return out, self.only_missing(reason, ~known), ~known

    def boolop(self, node: BoolOp, shift: Shift) -> Triple:
        np = self.np
        parts = [self.run(v, shift) for v in node.values]
        stop = node.op == "or"  # a True decides "or"; a False decides "and"
        decided = np.zeros(self.n, dtype=bool)
        unknown = np.zeros(self.n, dtype=bool)
        reason = self.empty()
        for v, r, m in parts:
            decided |= np.fromiter((x is not None and bool(x) is stop for x in v), dtype=bool, count=self.n)
            reason = np.where(unknown, reason, r)  # the first missing operand's reason
            unknown |= m
        out = self.empty(not stop)
        out[decided] = stop
        missing = ~decided & unknown
        out[missing] = None
        return out, self.only_missing(reason, missing), missing

    def call(self, node: Call, shift: Shift) -> Triple:  # noqa: C901
        np = self.np
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
            total = self.run(node.args[0], shift)
            for k in range(1, n):
                total = self.arith("+", total, self.run(node.args[0], (*shift, *(["prev_period"] * k))))
            return total
        if f == "quarterly":
            cur = self.run(node.args[0], shift)
            if self.need_period(shift).is_first_of_year():
                return cur
            return self.arith("-", cur, self.run(node.args[0], (*shift, "prev_period")))
        if f in ("growth", "pp"):
            cur = self.run(node.args[0], shift)
            base = self.run(node.args[0], (*shift, "prev_year"))
            if f == "pp":
                return self.arith("-", cur, base)
            ratio = self.arith("/", cur, base, zero_reason=t("上年同期为0", "same period last year is 0").render())
            diff = self.arith("-", ratio, self.const(Decimal(1)))
            return self.arith("*", diff, self.const(Decimal(100)))
        if f == "abs":
            v, r, m = self.run(node.args[0], shift)
            return self.apply1(v, m, abs), r, m
        if f in ("min", "max"):
            acc = self.run(node.args[0], shift)
            for arg in node.args[1:]:
                other = self.run(arg, shift)
                mask = ~acc[2] & ~other[2]
                out = self.empty()
                if mask.any():
                    vm, wm = acc[0][mask], other[0][mask]
                    pick = np.array(_CMP_FN["<" if f == "min" else ">"](wm, vm), dtype=bool)
                    out[mask] = np.where(pick, wm, vm)
                acc = out, self.only_missing(self.first(acc, other), ~mask), ~mask
            return acc
        if f == "if_missing":
            v, r, m = self.run(node.args[0], shift)
            d, rd, md = self.run(node.args[1], shift)
            return np.where(m, d, v), np.where(m, rd, r), np.where(m, md, m)
        raise ValueError(f"unknown function {f}")  # pragma: no cover - the parser refuses it

    def need_period(self, shift: Shift) -> Period:
        if self.period is None:
            raise ValueError("this formula needs the period of the computation (period=...)")
        return shift_period(self.period, shift)


#: (values, reasons, missing) of a node, aligned with the evaluation's index.
Triple = tuple[Any, Any, Any]


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
    values, reasons, _, _ = evaluate_arrays(node, lookup, period=period, index=index, labels=labels, temporal=temporal)
    return pd.Series(values, index=index, dtype=object), pd.Series(reasons, index=index, dtype=object)


def evaluate_arrays(formula: Formula | Node, lookup: Lookup, *, period: Period | str | None, index: Any,
                    labels: Mapping[str, str] | None = None, temporal: Mapping[str, str] | None = None,
                    parts: tuple[Node, ...] = ()) -> tuple[Any, Any, Any, list[Any]]:
    """:func:`evaluate` without the Series at the edges, for the indicator engine.

    ``lookup`` may also return a :class:`Column` (values already aligned with ``index``, and
    their missing mask). Returns the values, reasons and missing mask as numpy arrays aligned
    with ``index``, and the values of ``parts`` (sub-formulas such as the numerator and
    denominator of a ratio), computed in the same walk so that they share its look-ups.
    """
    node = formula.tree if isinstance(formula, Formula) else formula
    if isinstance(period, str):
        period = Period.parse(period)
    ev = _Eval(lookup, period, index, labels, temporal)
    with decimal.localcontext(CONTEXT):
        values, reasons, missing = ev.run(node, ())
        return values, reasons, missing, [ev.run(part, ())[0] for part in parts]
