"""Rule expressions (``rule: a <= b + c``) evaluated with the formula language.

A rule is split at its comparison, so a finding can show both sides and their difference:
``a <= b`` gives one comparison, ``0 <= a <= 100`` two, ``a <= b and c <= d`` two. Each side
is computed by :func:`revstat.formula.evaluate` over every region at once (unrounded
Decimals; missing stays missing and is skipped).

Sides made only of names, numbers, unary minus and + − × ÷ (nearly every rule) are computed
here on aligned object arrays — the same Decimal operations in the same context as the
formula engine, without building a pandas Series per name and step; any other side (functions,
earlier periods, text) goes through :func:`revstat.formula.evaluate`.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from revstat.checks import CheckData, Values, present
from revstat.formula import (
    Bin,
    BoolOp,
    Compare,
    Name,
    Node,
    Num,
    Unary,
    evaluate,
    shift_period,
    to_text,
    walk,
)
from revstat.i18n import Text
from revstat.numbers import CONTEXT
from revstat.periods import Period
from revstat.rules import RuleDef


@dataclass(frozen=True)
class Side:
    """A side of a comparison: its value at each region of ``regions`` (``array``, an object
    array, None where missing), the names it uses and its label."""

    regions: list[str]
    array: Any
    names: frozenset[str]
    text: str | Text
    known: Any = None  # bool array: which of ``array`` are not None

    @property
    def values(self) -> Values:
        return dict(zip(self.regions, self.array.tolist(), strict=True))


def _lookup(data: CheckData) -> Any:
    import pandas as pd

    period = Period.parse(data.period)

    def lookup(name: str, shift: tuple[str, ...]) -> Any:
        key = (name, str(shift_period(period, shift)))
        if key not in data.values:
            return None
        return pd.Series(data.values[key], dtype=object)

    return lookup


def _label(node: Node, data: CheckData) -> Text:
    """A (sub)formula as people read it: names replaced by their labels, in both languages."""
    if isinstance(node, Name):
        return data.label_text(node.id)
    zh = en = to_text(node)
    names = sorted({n.id for n in walk(node) if isinstance(n, Name)}, key=len, reverse=True)
    for name in names:
        label = data.label_text(name)
        zh = re.sub(rf"\b{re.escape(name)}\b", lambda _m, x=label.zh: x, zh)
        en = re.sub(rf"\b{re.escape(name)}\b", lambda _m, x=label.en: x, en)
    return Text(zh, en)


def evaluate_node(node: Node, data: CheckData, regions: list[str]) -> Side:
    """A (sub)formula's value at every region of ``regions`` for the data's period."""
    names = frozenset(n.id for n in walk(node) if isinstance(n, Name))
    if _simple(node):
        period = str(Period.parse(data.period))  # the formula engine's key (2024q4 → 2024Q4)
        with decimal.localcontext(CONTEXT):
            values, known = _run(node, data, regions, period)
        if not isinstance(values, np.ndarray):  # a number alone
            values, known = np.full(len(regions), values, dtype=object), np.ones(len(regions), dtype=bool)
        return Side(regions, values, names, _label(node, data), known)
    import pandas as pd

    values, _reasons = evaluate(node, _lookup(data), period=data.period, index=pd.Index(regions, dtype=object))
    out = [value if value is None or not isinstance(value, float) or value == value else None
           for value in values.tolist()]
    array = np.fromiter(out, dtype=object, count=len(out))
    return Side([str(region) for region in values.index], array, names, _label(node, data), present(array))


def _simple(node: Node) -> bool:
    """Names (this period), numbers, unary minus/plus and the four operations only."""
    if isinstance(node, Name | Num):
        return True
    if isinstance(node, Unary):
        return node.op in ("-", "+") and _simple(node.operand)
    if isinstance(node, Bin):
        return node.op in ("+", "-", "*", "/") and _simple(node.left) and _simple(node.right)
    return False


def _run(node: Node, data: CheckData, regions: list[str], period: str) -> tuple[Any, Any]:
    """(values, present) of a simple node, as :class:`revstat.formula_eval._Eval` computes it:
    values an object array (None where missing) or, for a number, the number itself; present
    a bool array (or True). An operation is done where both operands are present (and, for
    ÷, the divisor is not 0); elsewhere the result is missing."""
    if isinstance(node, Num):
        return node.value, True
    if isinstance(node, Name):
        return data.column(node.id, regions, period)
    if isinstance(node, Unary):
        values, known = _run(node.operand, data, regions, period)
        if node.op == "+":
            return values, known
        if not isinstance(values, np.ndarray):
            return -values, True
        out = np.empty(len(values), dtype=object)
        out[known] = -values[known]
        return out, known
    assert isinstance(node, Bin)  # noqa: S101 - _simple let nothing else through
    a, pa = _run(node.left, data, regions, period)
    b, pb = _run(node.right, data, regions, period)
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        a = np.full(len(regions), a, dtype=object)  # two numbers: the engine still works per region
    mask = np.asarray(pa & pb, dtype=bool) if not (pa is True and pb is True) else np.ones(len(regions), dtype=bool)
    x = a[mask] if isinstance(a, np.ndarray) else a
    y = b[mask] if isinstance(b, np.ndarray) else b
    if node.op == "/":
        zero = np.asarray(y == 0, dtype=bool)
        if zero.any():
            mask = mask.copy()
            mask[np.flatnonzero(mask)[np.broadcast_to(zero, (int(mask.sum()),))]] = False
            x = a[mask] if isinstance(a, np.ndarray) else a
            y = b[mask] if isinstance(b, np.ndarray) else b
    out = np.empty(len(regions), dtype=object)
    if mask.any():
        if node.op == "+":
            res = x + y
        elif node.op == "-":
            res = x - y
        elif node.op == "*":
            res = x * y
        else:
            res = x / y
        out[mask] = res
    return out, mask


def side(text: str, rule: RuleDef, data: CheckData) -> Side:
    formula = data.formula(text, rule.location)
    return evaluate_node(formula.tree, data, data.regions(data.levels_for(rule)))


def comparisons(node: Node) -> list[tuple[Node, str, Node]]:
    """The comparison links of a boolean rule (``and`` splits into its parts)."""
    if isinstance(node, Compare):
        lefts = (node.left, *node.comparators[:-1])
        return list(zip(lefts, node.ops, node.comparators, strict=True))
    if isinstance(node, BoolOp) and node.op == "and":
        return [link for value in node.values for link in comparisons(value)]
    raise ValueError(f"a rule must be a comparison (a <= b, a == b + c): {to_text(node)}")


def comparison_sides(rule: RuleDef, data: CheckData) -> list[tuple[Side, str, Side]]:
    assert rule.rule is not None  # noqa: S101
    formula = data.formula(rule.rule, rule.location)
    regions = data.regions(data.levels_for(rule))
    return [(evaluate_node(left, data, regions), op, evaluate_node(right, data, regions))
            for left, op, right in comparisons(formula.tree)]
