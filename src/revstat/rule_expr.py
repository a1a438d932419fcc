"""Rule expressions (``rule: a <= b + c``) evaluated with the formula language.

A rule is split at its comparison, so a finding can show both sides and their difference:
``a <= b`` gives one comparison, ``0 <= a <= 100`` two, ``a <= b and c <= d`` two. Each side
is computed by :func:`revstat.formula.evaluate` over every region at once (unrounded
Decimals; missing stays missing and is skipped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from revstat.checks import CheckData, Values
from revstat.formula import (
    BoolOp,
    Compare,
    Name,
    Node,
    evaluate,
    parse_formula,
    shift_period,
    to_text,
    walk,
)
from revstat.periods import Period
from revstat.rules import RuleDef


@dataclass(frozen=True)
class Side:
    values: Values
    names: frozenset[str]
    text: str


def _lookup(data: CheckData) -> Any:
    import pandas as pd

    period = Period.parse(data.period)

    def lookup(name: str, shift: tuple[str, ...]) -> Any:
        key = (name, str(shift_period(period, shift)))
        if key not in data.values:
            return None
        return pd.Series(data.values[key], dtype=object)

    return lookup


def _label(node: Node, data: CheckData) -> str:
    if isinstance(node, Name):
        return data.label(node.id)
    text = to_text(node)
    names = sorted({n.id for n in walk(node) if isinstance(n, Name)}, key=len, reverse=True)
    for name in names:
        text = re.sub(rf"\b{re.escape(name)}\b", data.label(name), text)
    return text


def evaluate_node(node: Node, data: CheckData, regions: list[str]) -> Side:
    """A (sub)formula's value at every region of ``regions`` for the data's period."""
    import pandas as pd

    values, _reasons = evaluate(node, _lookup(data), period=data.period, index=pd.Index(regions, dtype=object))
    out: Values = {}
    for region, value in zip(values.index, values.tolist(), strict=True):
        out[str(region)] = value if value is None or not isinstance(value, float) or value == value else None
    names = frozenset(n.id for n in walk(node) if isinstance(n, Name))
    return Side(out, names, _label(node, data))


def side(text: str, rule: RuleDef, data: CheckData) -> Side:
    formula = parse_formula(text, rule.location)
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
    formula = parse_formula(rule.rule, rule.location)
    regions = data.regions(data.levels_for(rule))
    return [(evaluate_node(left, data, regions), op, evaluate_node(right, data, regions))
            for left, op, right in comparisons(formula.tree)]
