"""The rule kinds: one function per ``kind:`` of checks/*.yaml, registered in
:data:`revstat.checks.RULE_KINDS`. Each takes a rule and the :class:`CheckData` and returns
its findings; none of them stops at the first failing region.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from typing import Any, cast

import numpy as np
import pandas as pd

from revstat.checks import (
    CheckData,
    Values,
    _issue,
    compare_aligned,
    compare_series,
    compare_to,
    failing,
    finite_mask,
    fmt,
    holds,
    member,
    objects,
    rule_kind,
)
from revstat.i18n import Text, t, unit_text
from revstat.model import Issue, Location
from revstat.numbers import CONTEXT
from revstat.periods import Period
from revstat.rules import RuleDef

_ZERO, _ONE, _HUNDRED = Decimal(0), Decimal(1), Decimal(100)


# ---- in-row comparisons -------------------------------------------------------------------

@rule_kind("expression")
def check_expression(rule: RuleDef, data: CheckData) -> list[Issue]:
    """``rule: a <= b`` (or ==, >=, <, >, !=; chained comparisons check each link)."""
    from revstat.rule_expr import comparison_sides

    out: list[Issue] = []
    for left, op, right in comparison_sides(rule, data):
        out += compare_aligned(rule, data, left.regions, left.array, op, right.array,
                               _ordered(left.names, right.names), left.text, right.text, left.known, right.known)
    return out


@rule_kind("compare")
def check_compare(rule: RuleDef, data: CheckData) -> list[Issue]:
    """``left: persons``, ``op: ">="``, ``right: households`` (each side a formula)."""
    from revstat.rule_expr import side

    assert rule.left and rule.op and rule.right  # guaranteed by RuleDef  # noqa: S101
    left, right = side(rule.left, rule, data), side(rule.right, rule, data)
    return compare_aligned(rule, data, left.regions, left.array, rule.op, right.array,
                           _ordered(left.names, right.names), left.text, right.text, left.known, right.known)


@rule_kind("range")
def check_range(rule: RuleDef, data: CheckData) -> list[Issue]:
    """Every target within [min, max] (e.g. 0 ≤ rate ≤ 100, amounts ≥ 0)."""
    out: list[Issue] = []
    for name in _additive(rule, data, list(rule.targets)):  # "*": every summable field
        regions = data.regions(data.levels_for(rule))
        if rule.min is not None:
            out += _against(rule, data, name, regions, ">=", rule.min, t("下限", "the minimum"))
        if rule.max is not None:
            out += _against(rule, data, name, regions, "<=", rule.max, t("上限", "the maximum"))
    return out


def _against(rule: RuleDef, data: CheckData, name: str, regions: list[str], op: str, value: Decimal,
             text: Text) -> list[Issue]:
    """``name op value`` at every region of ``regions`` where ``name`` has a value."""
    values, known = data.column(name, regions)
    return compare_to(rule, data, regions, values, op, value, [name], data.label_text(name), text, known)


@rule_kind("balance")
def check_balance(rule: RuleDef, data: CheckData) -> list[Issue]:
    """``total`` = Σ ``parts`` (累计纳入 = 已消除 + 未消除), within the tolerance."""
    assert rule.total  # noqa: S101
    total = data.series(rule.total)
    parts = [data.series(p) for p in rule.parts]
    summed: Values = {}
    for region in total:
        vals = [p.get(region) for p in parts]
        summed[region] = None if any(v is None for v in vals) else sum(vals, _ZERO)  # type: ignore[arg-type]
    labels = [data.label_text(p) for p in rule.parts]
    text = t(" + ".join(x.zh for x in labels), " + ".join(x.en for x in labels))
    return compare_series(rule, data, total, "==", summed, [rule.total, *rule.parts],
                          data.label_text(rule.total), text)


# ---- totals and the hierarchy -------------------------------------------------------------

def _additive(rule: RuleDef, data: CheckData, names: list[str]) -> list[str]:
    if names == ["*"]:
        return sorted(f for f, d in data.fields.items() if getattr(d, "agg", "sum") == "sum")
    return names


@rule_kind("totals")
def check_totals(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A workbook's 合计 row = the sum of its rows (same file, sheet and field).

    Only the rows of the fields that have a 合计 row this period are grouped (none in
    workbooks without 合计 rows), from plain columns rather than pandas rows."""
    obs = data.observations
    if obs is None or not len(obs):
        return []
    rows = _rows(data)
    fields = set(_additive(rule, data, rule.fields))
    is_total = rows.where(("total",), fields)
    if not is_total.any():
        return []
    totals = rows.frame.iloc[np.flatnonzero(is_total)]
    with_total = [rows.fields[c] for c in np.unique(rows.field[is_total]).tolist()]
    parts = rows.frame.iloc[np.flatnonzero(rows.where(("source",), with_total))]
    groups: dict[tuple[str, str, str], list[tuple[Any, ...]]] = {}
    for row in zip(*_columns(parts, ("file", "sheet", "field", "cell", "value")), strict=True):
        groups.setdefault((str(row[0]), str(row[1]), row[2]), []).append(row)
    out: list[Issue] = []
    for file, sheet, fid, cell, raw, code in zip(*_columns(totals, ("file", "sheet", "field", "cell", "value", "region_code")),
                                                 strict=True):
        total = _val(raw)
        members = groups.get((str(file), str(sheet), fid), [])
        vals = [_val(r[4]) for r in members]
        present = [v for v in vals if v is not None]
        if total is None or not present:
            continue
        summed = sum(present, _ZERO)
        if holds(total, "==", summed, rule):
            continue
        region = None if _nan(code) else str(code)
        cells = [Location(str(file), str(sheet), str(cell))]
        cells += [Location(str(r[0]), str(r[1]), str(r[3])) for r in members]
        # blank cells of the column are the likely cause (a value deleted, the 合计 left as it was)
        blank = [str(r[3]) for r, v in zip(members, vals, strict=True) if v is None]
        shown = t("、".join(blank[:3]) + ("等" if len(blank) > 3 else ""), ", ".join(blank[:3]) + (" …" if len(blank) > 3 else ""))
        blanks = t("；该列有 {n} 个空单元格（{cells}），合计行可能含有它们的数", "; the column has {n} blank {cell} ({cells}) the "
                   "total may include", n=len(blank), cells=shown, cell="cell" if len(blank) == 1 else "cells") if blank \
            else t("", "")
        out.append(_issue(
            rule, data, region, data.period,
            t("{file} › {sheet}：{field}合计行（{left}）不等于各行之和（{right}），相差{difference}{blanks}",
              "{file} › {sheet}: the total row of {field} ({left}) is not the sum of the rows ({right}); difference "
              "{difference}{blanks}"),
            expected=summed, actual=total, difference=total - summed, locations=cells,
            field=data.label_text(fid), file=str(file), sheet=str(sheet), blanks=blanks))
    # a sheet without 合计 rows where other workbooks' same sheet (the same fields) has them:
    # the check above could not run there, which the bureau must know (a 合计 row deleted?)
    have = set(zip(*_columns(totals, ("file", "sheet")), strict=True))
    lacking = sorted({(f, s) for f, s, _ in groups} - {(str(f), str(s)) for f, s in have})
    if lacking:
        from revstat.model import Severity

        where: dict[tuple[str, str], set[Any]] = {key: set() for key in lacking}
        for file, sheet, code in zip(*_columns(parts, ("file", "sheet", "region_code")), strict=True):
            if (str(file), str(sheet)) in where and not _nan(code) and code in data.tree:
                where[(str(file), str(sheet))].add(data.tree[code].parent)
        for file, sheet in lacking:
            parents = where[(file, sheet)]
            region = next(iter(parents)) if len(parents) == 1 and None not in parents else None
            place = Location(file, None if _nan(sheet) else sheet)
            out.append(Issue(
                rule=rule.id, severity=Severity.INFO, region_code=region, period=data.period,
                region_name=data.tree.name(region) if region is not None and region in data.tree else None,
                message=t("{where} 没有合计行（其他工作簿的同一张表有），“{name_zh}”未能对这张表进行；"
                          "请核实，补报合计行",
                          "{where} has no total row (other workbooks' same sheet has one), so "
                          "\"{name_en}\" could not run on this sheet; check it and add the total row",
                          where=place, name_zh=rule.name, name_en=rule.name_en or rule.name),
                locations=(place,)))
    return out


def _columns(frame: Any, names: tuple[str, ...]) -> list[list[Any]]:
    """Columns of a frame as Python lists (what itertuples would give, without the tuples)."""
    return [frame[c].to_numpy(dtype=object).tolist() for c in names]


def _val(value: Any) -> Decimal | None:
    from revstat.checks import _dec

    return _dec(value)


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value) in ("", "nan", "<NA>", "None")


@rule_kind("hierarchy_sum")
def check_hierarchy_sum(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A parent that reported its own value = the sum of its children's values."""
    obs = data.observations
    if obs is None or not len(obs):
        return []
    out: list[Issue] = []
    fields = _additive(rule, data, rule.fields)
    wanted = set(data.regions(data.levels_for(rule)))
    parents = {c for c in wanted if data.tree.children.get(c)}
    # only rows of parents at the rule's levels can be checked: pick them before the loop
    rows = _rows(data)
    mask = rows.where(("source", "records"), fields) & member(rows.region, rows.codes(rows.regions, parents), len(rows.regions))
    reported = rows.frame.iloc[np.flatnonzero(mask)]
    own: dict[tuple[str, str], Decimal] = {}
    for fid, region, raw in zip(*_columns(reported, ("field", "region_code", "value")), strict=True):
        value = _val(raw)
        if value is not None:
            own[(str(fid), str(region))] = value
    for (fid, region), value in sorted(own.items()):
        children = data.tree.children.get(region, []) if region in data.tree else []
        if region not in wanted or not children:
            continue
        vals = [data.get(fid, c) for c in children]
        if any(v is None for v in vals):
            continue
        summed = sum(vals, _ZERO)  # type: ignore[arg-type]
        if holds(value, "==", summed, rule):
            continue
        cells = list(data.cells([fid], region))
        for child in children:
            cells += data.cells([fid], child)
        out.append(_issue(
            rule, data, region, data.period,
            t("{region}{period}：{field}上报数（{left}）不等于下级合计（{right}），相差{difference}",
              "{region} {period}: reported {field} ({left}) is not the sum of its parts ({right}); difference {difference}"),
            expected=summed, actual=value, difference=value - summed, locations=cells,
            field=data.label_text(fid)))
    return out


# ---- across periods ----------------------------------------------------------------------

@rule_kind("cumulative")
def check_cumulative(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A cumulative (1—N月) flow never falls within a year; a stock that only grows never
    falls at all (fields whose ``temporal`` is not ``cumulative``)."""
    period = Period.parse(data.period)
    prev = str(period.prev_period())
    out: list[Issue] = []
    for name in rule.targets:
        temporal = getattr(data.fields.get(name), "temporal", "cumulative")
        if temporal == "cumulative" and period.is_first_of_year():
            continue
        regions = data.regions(data.levels_for(rule))
        (now, now_known), (before, before_known) = data.column(name, regions), data.column(name, regions, prev)
        for i in failing(rule, now, ">=", before, now_known, before_known):
            region, cur, old = regions[i], now[i], before[i]
            cells = data.cells([name], region) + data.cells([name], region, prev)
            out.append(_issue(
                rule, data, region, data.period,
                t("{region}{field}{period}为{left}，比{prev}（{right}）减少{fall}；累计数不应下降",
                  "{region} {field} {period} is {left}, below {prev} ({right}) by {fall}; a cumulative value cannot fall"),
                expected=old, actual=cur, difference=cur - old, locations=cells,
                field=data.label_text(name), prev=prev, fall=old - cur))
    return out


@rule_kind("growth_bound")
def check_growth_bound(rule: RuleDef, data: CheckData) -> list[Issue]:
    """|growth| against the same period last year (or the previous period) within ``bound`` %."""
    period = Period.parse(data.period)
    base_period = str(period.prev_year() if rule.compare_with == "prev_year" else period.prev_period())
    assert rule.bound is not None  # noqa: S101
    out: list[Issue] = []
    for name in rule.targets:
        regions = data.regions(data.levels_for(rule))
        (now, now_known), (before, before_known) = data.column(name, regions), data.column(name, regions, base_period)
        for i, growth in _beyond(now, before, rule.bound, now_known & before_known):
            region, cur, base = regions[i], now[i], before[i]
            cells = data.cells([name], region) + data.cells([name], region, base_period)
            out.append(_issue(
                rule, data, region, data.period,
                t("{region}{field}{period}为{left}，比{base}（{right}）{change}{growth}%，超出±{bound}%，请核实",
                  "{region} {field} {period} is {left}, {change_en} {growth}% from {base} ({right}), beyond ±{bound}%; please verify"),
                expected=base, actual=cur, difference=cur - base, locations=cells, field=data.label_text(name),
                base=base_period, growth=fmt(abs(growth)), bound=fmt(rule.bound),
                change="增长" if growth > 0 else "下降", change_en="up" if growth > 0 else "down"))
    return out


def _beyond(now: Any, before: Any, bound: Decimal, both_known: Any) -> list[tuple[int, Decimal]]:
    """(position, growth %) where |now / before − 1| × 100 exceeds ``bound`` (both present,
    before not 0): the same Decimal operations per pair, on object arrays; a pair they cannot
    handle sends the lot through the plain loop, which raises what it always raised."""
    both = np.flatnonzero(both_known).tolist()
    if not both:
        return []
    try:
        cur, base = objects(now)[both], objects(before)[both]
        keep = np.flatnonzero(~np.asarray(base == _ZERO, dtype=bool))  # Decimals: no int converted per value
        growth = (cur[keep] / base[keep] - _ONE) * _HUNDRED
        over = np.flatnonzero(~np.asarray(np.abs(growth) <= bound, dtype=bool))
        return [(both[keep[j]], growth[j]) for j in over.tolist()]
    except Exception:  # noqa: BLE001 - redo one by one: the same result or the same error
        out = []
        for i in both:
            if before[i] == 0:
                continue
            growth = (now[i] / before[i] - 1) * 100
            if not abs(growth) <= bound:
                out.append((i, growth))
        return out


# ---- across regions ----------------------------------------------------------------------

def _median(values: list[Decimal]) -> Decimal:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _quantile(values: list[Decimal], q: Decimal) -> Decimal:
    s = sorted(values)
    pos = (len(s) - 1) * q
    low = int(pos)
    high = min(low + 1, len(s) - 1)
    return s[low] + (s[high] - s[low]) * (pos - low)


def outliers(values: dict[str, Decimal], method: str, threshold: Decimal | None) -> dict[str, tuple[Decimal, Decimal]]:
    """Regions far from their peers: ``{region: (centre or fence, score)}``.

    zscore: robust z = 0.6745 (x − median) / MAD, flagged when |z| > threshold (3.5);
    iqr: outside [Q1 − k·IQR, Q3 + k·IQR] with k = threshold (1.5)."""
    xs = list(values.values())
    if len(xs) < 4:
        return {}
    out: dict[str, tuple[Decimal, Decimal]] = {}
    if method == "iqr":
        k = threshold or Decimal("1.5")
        q1, q3 = _quantile(xs, Decimal("0.25")), _quantile(xs, Decimal("0.75"))
        low, high = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
        for region, x in values.items():
            if x < low or x > high:
                out[region] = (low if x < low else high, (x - (low if x < low else high)))
        return out
    limit = threshold or Decimal("3.5")
    med = _median(xs)
    mad = _median([abs(x - med) for x in xs])
    scale = mad / Decimal("0.6745") if mad else sum((abs(x - med) for x in xs), _ZERO) / len(xs) * Decimal("1.2533")
    if not scale:
        return {}
    for region, x in values.items():
        z = (x - med) / scale
        if abs(z) > limit:
            out[region] = (med, z.quantize(Decimal("0.01"), context=CONTEXT))
    return out


@rule_kind("outlier")
def check_outlier(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A region far from its siblings (same parent) on a rate; small denominators left out."""
    out: list[Issue] = []
    for name in rule.targets:
        series = data.series(name)
        by_parent: dict[str, dict[str, Decimal]] = {}
        for region in data.regions(data.levels_for(rule)):
            value = series.get(region)
            if value is None or (name, region, data.period) in data.small:
                continue
            by_parent.setdefault(data.tree[region].parent or "", {})[region] = value
        for peers in by_parent.values():
            for region, (centre, score) in sorted(outliers(peers, rule.method, rule.threshold).items()):
                out.append(_issue(
                    rule, data, region, data.period,
                    t("{region}{field}为{left}{u}，明显偏离同级地区（中位数/界限 {right}{u}，得分 {score}），请核实",
                      "{region} {field} is {left}{u}, far from its peers (median/fence {right}{u}, score {score}); please verify"),
                    expected=centre, actual=peers[region], difference=peers[region] - centre,
                    locations=data.cells([name], region), field=data.label_text(name), score=fmt(score),
                    u=_unit(data, name)))
    return out


@rule_kind("cross_level")
def check_cross_level(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A parent's rate lies within its children's min–max (ratio of sums)."""
    out: list[Issue] = []
    for name in rule.targets:
        series = data.series(name)
        for region in data.regions(data.levels_for(rule)):
            value = series.get(region)
            if value is None:
                continue
            kids = _children_at(data, region, rule.child_level)
            vals = [series[c] for c in kids if series.get(c) is not None and (name, c, data.period) not in data.small]
            if not vals:
                continue
            low, high = min(vals), max(vals)
            if holds(value, ">=", low, rule) and holds(value, "<=", high, rule):
                continue
            bound = low if value < low else high
            cells = list(data.cells([name], region))
            out.append(_issue(
                rule, data, region, data.period,
                t("{region}{field}（{left}{u}）不在下级地区的范围 {low}～{high}{u} 之内",
                  "{region} {field} ({left}{u}) is outside its parts' range {low}–{high}{u}"),
                expected=bound, actual=value, difference=value - bound, locations=cells,
                field=data.label_text(name), low=fmt(low), high=fmt(high), u=_unit(data, name)))
    return out


def _unit(data: CheckData, name: str) -> Text:
    """An indicator's unit after a value in a message (``71.20%``; 个百分点 → pp in English)."""
    unit = data.indicator_units.get(name, "")
    return t(unit, unit_text(unit, "en"))


def _children_at(data: CheckData, region: str, level: str | None) -> list[str]:
    if level is None:
        return list(data.tree.children.get(region, []))
    return [c for c in data.tree.descendants(region) if data.tree.level(c) == level]


@rule_kind("small_denominator")
def check_small_denominator(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A rate over fewer than ``min_denominator`` units: flagged, left out of rankings/outliers."""
    out: list[Issue] = []
    regions = sorted(set(data.regions(data.levels_for(rule))))
    for name in rule.indicators:
        if rule.min_denominator is None:
            continue
        dens, known = data.column(f"{name}.denominator", regions)  # as its dict has them, in one array
        at = np.flatnonzero(known)
        small = at[~np.asarray(dens[at] >= rule.min_denominator, dtype=bool)].tolist() if len(at) else []
        for region, den in zip([regions[i] for i in small], dens[small].tolist(), strict=True):
            out.append(_issue(
                rule, data, region, data.period,
                t("{region}{field}的分母仅为{left}（少于{right}），不参加排名和离群值检验",
                  "{region} {field} has a denominator of only {left} (under {right}); left out of rankings and outlier tests"),
                expected=rule.min_denominator, actual=den, difference=den - rule.min_denominator,
                locations=data.cells([name], region), field=data.label_text(name)))
    return out


# ---- targets, completeness, duplicates ----------------------------------------------------

@rule_kind("target")
def check_target(rule: RuleDef, data: CheckData) -> list[Issue]:
    """An indicator meets its target (the rule's op/value, else the indicator's own target)."""
    out: list[Issue] = []
    for name in rule.targets:
        if rule.op is not None and rule.value is not None:
            op, goal = rule.op, rule.value
        elif name in data.targets:
            op, goal = data.targets[name]
        else:
            continue
        out += _against(rule, data, name, data.regions(data.levels_for(rule)), op, goal, t("目标值", "the target"))
    return out


@dataclass
class _Rows:
    """This period's observations as codes, made once for the rules that count rows:
    ``region``/``field`` are integer codes (-1 = blank) into ``regions``/``fields``."""

    frame: Any
    region: Any
    regions: list[Any]
    field: Any
    fields: list[Any]
    origin: Any
    origins: list[Any]
    _reported: Any = None
    _filled: Any = None
    _indexes: Any = None

    def index(self, uniques: list[Any]) -> dict[str, int]:
        """Text → code for one of ``regions``, ``fields``, ``origins`` (made once for each)."""
        if self._indexes is None:
            self._indexes = {}
        found = self._indexes.get(id(uniques))
        if found is None:
            found = self._indexes[id(uniques)] = {u: i for i, u in enumerate(uniques) if isinstance(u, str)}
        return found

    def codes(self, uniques: list[Any], wanted: Iterable[Any]) -> list[int]:
        index = self.index(uniques)
        return [index[w] for w in wanted if w in index]

    def where(self, origins: tuple[str, ...], fields: Iterable[str] | None = None) -> Any:
        """Bool mask of the rows of these origins (and fields)."""
        mask = member(self.origin, self.codes(self.origins, origins), len(self.origins))
        if fields is not None:
            mask &= member(self.field, self.codes(self.fields, fields), len(self.fields))
        return mask

    def reported(self) -> tuple[Any, Any]:
        """(reported rows, reported rows that hold a number): the completeness rules' rows."""
        if self._reported is None:
            self._reported = self.where(("source", "records"))
            values = self.frame["value"].to_numpy(dtype=object)
            if self._reported.all():  # nothing but reported rows (the usual case): no copy
                self._filled = _present(values)
            else:
                self._filled = self._reported.copy()
                self._filled[self._reported] = _present(values[self._reported])
        return self._reported, self._filled


def _rows(data: CheckData) -> _Rows:
    rows = data._memo.get("rows") if data.now() is not None else None
    if rows is None:
        now = data.now()
        field, fields = data.codes(now, "field")
        region, regions = data.codes(now, "region_code", runs=field)
        origin, origins = data.codes(now, "origin")
        rows = data._memo["rows"] = _Rows(now, region, regions, field, fields, origin, origins)
    return rows


@rule_kind("completeness")
def check_completeness(rule: RuleDef, data: CheckData) -> list[Issue]:
    """Every expected region at its source's level reported, and every required field.

    Counted on integer codes of this period's rows (made once for all such rules): which
    regions reported any of a level's fields, and how many of those fields with a value.
    Only the few regions short of a field have their rows looked up, by position."""
    fields = rule.fields or sorted(f for f, d in data.fields.items()
                                   if getattr(d, "required", True) and f not in data.record_fields)
    # a village without household records has none to count (zero), it is not a missing report
    obs = data.observations
    rows = _rows(data) if obs is not None and len(obs) else None
    if rows is not None:
        reported, ok = rows.reported()
    by_level: dict[str, list[str]] = {}
    for fid in fields:
        by_level.setdefault(data.field_levels.get(fid, "township"), []).append(fid)
    levels = data.levels_for(rule)
    out: list[Issue] = []
    for level, fids in sorted(by_level.items()):
        if level not in levels:
            continue
        order = list(dict.fromkeys(fids))  # the level's fields, each once
        position = {fid: j for j, fid in enumerate(order)}
        # has[r, j]: region code r reported field order[j] (any value); filled: with a number
        n_regions = len(rows.regions) if rows is not None else 0
        has = np.zeros((n_regions, len(order)), dtype=bool)
        filled = np.zeros((n_regions, len(order)), dtype=bool)
        if rows is not None:
            column = np.full(len(rows.fields), -1, dtype=np.int64)  # field code → j
            index = rows.index(rows.fields)
            for j, fid in enumerate(order):
                if fid in index:
                    column[index[fid]] = j
            col = column[rows.field] if len(rows.fields) else np.empty(0, dtype=np.int64)
            mine = reported & (rows.region >= 0) & (rows.field >= 0) & (col >= 0)
            at = rows.region.astype(np.int64) * len(order) + col  # (region, field) as one flat position
            has.reshape(-1)[at[mine]] = True
            filled.reshape(-1)[at[mine & ok]] = True
        region_index = rows.index(rows.regions) if rows is not None else {}
        # only the regions that did not report, or not every field, are looked at one by one
        regions = data.regions([level])
        codes = np.fromiter(map(region_index.get, regions, repeat(-1)), dtype=np.int64, count=len(regions))
        any_field, every_field = has.any(axis=1), filled.all(axis=1)
        fine = codes >= 0
        fine[fine] = any_field[codes[fine]] & every_field[codes[fine]]
        seen = cast("list[bool]", any_field.tolist())
        complete = cast("list[bool]", every_field.tolist())
        short: dict[str, list[str]] = {}  # region → its missing fields, in the order of fids
        for i in np.flatnonzero(~fine).tolist():
            region, code = regions[i], region_index.get(regions[i])
            if code is None or not seen[code]:
                if rule.require in ("regions", "both"):
                    short[region] = []
                continue
            if rule.require == "regions":
                continue
            if not complete[code]:
                have = filled[code].tolist()
                short[region] = [fid for fid in fids if not have[position[fid]]]
        # the rows of the missing fields; for a field without even a blank row, every row of its
        # region (the file and sheet of another field from the same source are shown instead)
        lacking = {r: missing for r, missing in short.items() if missing}
        found = (_rows_by_region(rows, reported, set(lacking), {f for m in lacking.values() for f in m})
                 if rows is not None else {})
        rowless = {r for r, missing in lacking.items() if any(f not in found.get(r, {}) for f in missing)}
        every = _rows_by_region(rows, reported, rowless) if rows is not None else {}
        whole = _wholly_missing(data, [r for r, m in short.items() if not m], level)
        for parent, kids in whole.items():  # a county with none of its townships: its workbook is not there
            out.append(_tagged("no_report", _issue(
                rule, data, parent, data.period,
                t("{region}（{region_code}）{period}的 {n} 个下级地区全部缺数（{names}）：没有收到或没有读取该地区的报表",
                  "none of the {n} regions below {region} ({region_code}) has data for {period} ({names}): its "
                  "workbook was not received or not read"), n=len(kids),
                names=t("、".join(data.tree.name(k) for k in kids[:3]) + ("等" if len(kids) > 3 else ""),
                        ", ".join(data.tree.name(k) for k in kids[:3]) + (" …" if len(kids) > 3 else "")))))
        gone = {k for kids in whole.values() for k in kids}
        for region, missing in short.items():
            if region in gone:
                continue
            if not missing:
                out.append(_issue(
                    rule, data, region, data.period,
                    t("缺少{region}（{region_code}）{period}的数据", "no data for {region} ({region_code}) in {period}"),
                    locations=_parent_files(data, region)))
                continue
            mine_rows = found.get(region, {})
            for fid in missing:
                cells = [Location(str(file), str(sheet), None if _nan(cell) else str(cell))
                         for file, sheet, cell in mine_rows.get(fid, [])]
                if not cells:
                    cells = _row_of(data, every.get(region, {}), fid)
                out.append(_issue(
                    rule, data, region, data.period,
                    t("{region}{period}缺少必填项“{field}”", "{region} {period}: required field {field} is missing"),
                    locations=cells, field=data.label_text(fid)))
    return out


def _tagged(tag: str, issue: Issue) -> Issue:
    import dataclasses

    return dataclasses.replace(issue, tag=tag)


def _wholly_missing(data: CheckData, regions: list[str], level: str) -> dict[str, list[str]]:
    """Parent → its children at ``level``, for the parents none of whose (two or more) children
    at that level has data: one finding at the parent (“北川县的 10 个下级地区全部缺数”) says what
    ten about its townships would leave the user to work out — the county's workbook is missing."""
    absent = set(regions)
    parents: dict[str, list[str]] = {}
    for code in regions:
        parent = data.tree[code].parent if code in data.tree else None
        if parent is not None and parent in data.tree:
            parents.setdefault(parent, []).append(code)
    out = {}
    for parent in parents:
        siblings = [c for c in data.tree.children.get(parent, []) if c in data.tree and data.tree[c].level == level]
        if len(siblings) > 1 and all(c in absent for c in siblings):
            out[parent] = siblings
    return out


def _present(values: Any) -> Any:
    """Which raw values are numbers (finite), as the completeness rule counts them: a bool array."""
    mask = finite_mask(values)  # Decimals and blanks: no loop in Python
    if mask is not None:
        return mask
    return np.fromiter((v.is_finite() if type(v) is Decimal else (v is not None and _val(v) is not None)
                        for v in values.tolist()), dtype=bool, count=len(values))


def _rows_by_region(rows: _Rows, mask: Any, wanted: set[str],
                    fields: set[str] | None = None) -> dict[str, dict[str, list[tuple[Any, Any, Any]]]]:
    """(file, sheet, cell) of the rows of the ``wanted`` regions among ``mask`` (as object
    columns give them), by region and field, in table order; only of ``fields`` (and of
    blank fields) if given."""
    if not wanted:
        return {}
    mask = mask & member(rows.region, rows.codes(rows.regions, wanted), len(rows.regions))
    if fields is not None:
        mask &= member(rows.field, rows.codes(rows.fields, fields), len(rows.fields)) | (rows.field < 0)
    positions = np.flatnonzero(mask)
    fields, files, sheets, cells = (rows.frame[c].to_numpy(dtype=object)[positions].tolist()
                                    for c in ("field", "file", "sheet", "cell"))
    out: dict[str, dict[str, list[tuple[Any, Any, Any]]]] = {}
    for code, fid, file, sheet, cell in zip(rows.region[positions].tolist(), fields, files, sheets, cells, strict=True):
        region = rows.regions[code]
        by_field = out.get(region)
        if by_field is None:
            by_field = out[region] = {}
        by_field.setdefault(str(fid), []).append((file, sheet, cell))
    return out


def _row_of(data: CheckData, rows: dict[str, list[tuple[Any, Any, Any]]], fid: str) -> list[Location]:
    """The file and sheet of a field the region did report from the same source."""
    source = data.field_sources.get(fid)
    for other, found in rows.items():
        if found and data.field_sources.get(other) == source:
            file, sheet, _cell = found[0]
            return [Location(str(file), str(sheet), note=data.label(fid))]
    return []


def _parent_files(data: CheckData, region: str) -> list[Location]:
    parent = data.tree[region].parent if region in data.tree else None
    obs = data.observations
    if parent is None or obs is None or not len(obs):
        return []
    files_of = data._memo.get("files_of")
    if files_of is None:  # region → files of its rows this period, made once
        files_of = data._memo["files_of"] = {}
        for code, file in zip(*_columns(data.now(), ("region_code", "file")), strict=True):
            files_of.setdefault(code, set()).add(str(file))
    files = set().union(*(files_of.get(kid, ()) for kid in data.tree.children.get(parent, [])))
    return [Location(f) for f in sorted(f for f in files if not _nan(f))]


@rule_kind("duplicates")
def check_duplicates(rule: RuleDef, data: CheckData) -> list[Issue]:
    """The same (region, field, period) reported more than once: one finding per region.

    Pairs are counted on the integer codes of this period's rows (no grouping of text
    columns); only the regions with a repeated pair have their rows picked out."""
    obs = data.observations
    if obs is None or not len(obs):
        return []
    rows = _rows(data)
    mask = rows.where(("source",), rule.fields or None) & (rows.region >= 0) & (rows.field >= 0)
    n_fields = max(len(rows.fields), 1)
    keys = rows.region.astype(np.int64) * n_fields + rows.field
    dup = _repeated_pairs(keys[mask], max(len(rows.regions), 1) * n_fields)
    wanted = set(data.regions(data.levels_for(rule)))
    by_region: dict[str, list[int]] = {}
    for key in dup:
        by_region.setdefault(str(rows.regions[key // n_fields]), []).append(key)
    out: list[Issue] = []
    for region in sorted(by_region):
        if region not in wanted:
            continue
        keys_here = by_region[region]
        fids = sorted(rows.fields[k % n_fields] for k in keys_here)
        picked = rows.frame.iloc[np.flatnonzero(mask & np.isin(keys, keys_here))]
        cells = [Location(str(f), str(s), str(c)) for f, s, c in zip(*_columns(picked, ("file", "sheet", "cell")), strict=True)]
        out.append(_issue(
            rule, data, region, data.period,
            t("{region}{period}重复填报：{count}项数据出现多次（{fields}）",
              "{region} {period} is reported more than once: {count} values ({fields})"),
            actual=len(cells), locations=cells, count=len(fids),
            fields=t("、".join(data.label(f) for f in fids[:5]) + ("…" if len(fids) > 5 else ""),
                     ", ".join(data.label_text(f).en for f in fids[:5]) + (", …" if len(fids) > 5 else ""))))
    return out


def _repeated_pairs(keys: Any, n_keys: int) -> list[int]:
    """The keys (``0 … n_keys-1``) that occur more than once, in no particular order (they are
    grouped by region and sorted): counted in one array over every (region, field) when that
    is not much larger than the rows, else by hashing."""
    if n_keys <= 8 * len(keys) + (1 << 16):
        return np.flatnonzero(np.bincount(keys, minlength=n_keys) > 1).tolist()
    picked = pd.Series(keys)
    return pd.unique(picked[picked.duplicated()].to_numpy()).tolist()


def _ordered(left: frozenset[str], right: frozenset[str]) -> list[str]:
    """Names of the left side, then of the right: the cells of a finding in reading order."""
    return sorted(left) + sorted(right - left)


# ---- a workbook sent again ----------------------------------------------------------------

@rule_kind("repeated_report")
def check_repeated_report(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A sheet whose figures are exactly those of a sheet of the previous period or of the same
    period last year: a region that sent an old workbook again with its titles changed.

    Compared on what was read — every (region, field, value) of a file › sheet — not on the
    files, so a renamed or re-saved copy is found as well; a sheet with fewer than
    ``min_values`` non-zero figures (all zero, nearly blank) is not compared. Each sheet is
    first summed into a fingerprint; only sheets whose fingerprints agree are compared value by
    value, so the rule costs a few hashes a row and nothing when no earlier period was read."""
    obs = data.observations
    if obs is None or not len(obs):
        return []
    period = Period.parse(data.period)
    codes, uniques = data.codes(obs, "period")
    present = {str(u): i for i, u in enumerate(uniques) if u is not None}
    earlier = [(str(p), which) for p, which in ((period.prev_period(), "prev_period"), (period.prev_year(), "prev_year"))
               if str(p) in present and str(p) != data.period]
    if data.period not in present or not earlier:
        return []
    least = rule.min_values or 10
    now = _sheets(data, codes == present[data.period], least)
    if not now:
        return []
    wanted = set(data.regions(data.levels_for(rule))) if rule.levels else None
    found: set[tuple[str, str]] = set()
    # (this file, earlier period, earlier file) → [(this sheet, earlier sheet, non-zero values)]
    pairs: dict[tuple[str, str, str, str], list[tuple[str, str, int]]] = {}
    for other, which in earlier:
        before = _sheets(data, codes == present[other], least)
        by_print: dict[tuple[int, int], list[tuple[str, str]]] = {}
        for key, (fingerprint, _, _) in before.items():
            by_print.setdefault(fingerprint, []).append(key)
        for key, (fingerprint, rows, nonzero) in now.items():
            if key in found or fingerprint not in by_print:
                continue
            candidates = sorted(by_print[fingerprint], key=lambda k: k[1] != key[1])  # the same sheet name first
            match = next((k for k in candidates if before[k][1]() == rows()), None)
            if match is None:
                continue
            found.add(key)
            pairs.setdefault((key[0], other, which, match[0]), []).append((key[1], match[1], nonzero))
    out: list[Issue] = []
    for (file, other, which, other_file), sheets in pairs.items():
        rows = [r for sheet, _, _ in sheets for r, _, _ in now[(file, sheet)][1]()]
        region = _common_region(data, rows)
        if wanted is not None and region not in wanted:
            continue
        count = sum(n for _, _, n in sheets)
        label = t("上期", "the previous period's") if which == "prev_period" else t("上年同期", "last year's")
        locations = [Location(file, sheet or None) for sheet, _, _ in sheets] + \
            [Location(other_file, s or None) for _, s, _ in sheets]
        names = [sheet for sheet, _, _ in sheets]
        # every placeholder in every case, so a rule's own message works for one sheet or several
        params: dict[str, Any] = {"n": len(sheets), "sheets": "、".join(names), "sheet": "、".join(names),
                                  "other_sheet": "、".join(s for _, s, _ in sheets), "sheets_en": ", ".join(names)}
        if len(sheets) == 1 and not (sheets[0][0] and sheets[0][1]):  # a file without sheets (CSV, records)
            message = t("{region}的数据文件（{file}）的{count}个非零数与{other}的数据文件（{other_file}）完全相同："
                        "是否误报了{which}的数据？请向填报单位核实",
                        "{region}: the {count} non-zero figures of {file} are exactly those of {other} "
                        "({other_file}): was {which} file sent again? Check with the reporting unit")
        elif len(sheets) == 1:
            message = t("{region}报表“{sheet}”（{file}）的{count}个非零数与{other}的报表（{other_file} › {other_sheet}）"
                        "完全相同：是否误报了{which}的报表？请向填报单位核实",
                        "{region}: the {count} non-zero figures of sheet “{sheet}” ({file}) are exactly those of "
                        "{other} ({other_file} › {other_sheet}): was {which} workbook sent again? Check with the "
                        "reporting unit")
        else:
            message = t("{region}报表（{file}）中{n}张表（{sheets}）的{count}个非零数与{other}的报表（{other_file}）完全相同："
                        "是否误报了{which}的报表？请向填报单位核实",
                        "{region}: the {count} non-zero figures of {n} sheets of {file} ({sheets_en}) are exactly "
                        "those of {other} ({other_file}): was {which} workbook sent again? Check with the "
                        "reporting unit")
        out.append(_issue(rule, data, region, data.period, message, actual=count, locations=locations, count=count,
                          file=file, other=other, other_file=other_file, which=label, **params))
    return out


def _sheets(data: CheckData, mask: Any, least: int) -> dict[tuple[str, str], tuple[tuple[int, int], Any, int]]:
    """The reported rows of one period (``mask`` over the observations) by file › sheet:
    ``(file, sheet) → (fingerprint, rows, non-zero values)``, for the sheets with at least
    ``least`` non-zero values. ``rows()`` gives the set of (region, field, value), made only when
    asked (for the sheets whose fingerprints agree); the fingerprint is (row count, sum of the
    rows' hashes)."""
    obs = data.observations
    origin, origins = data.codes(obs, "origin")
    source = [i for i, o in enumerate(origins) if o in ("source", "records")]  # what was read, not 合计 rows
    file, files = data.codes(obs, "file")
    sheet, sheets = data.codes(obs, "sheet")
    at = np.flatnonzero(mask & member(origin, source, len(origins)) & (file >= 0))
    if not len(at):
        return {}
    width = len(sheets) + 1  # a pair (file, sheet) as one number; sheet code -1 (none: a CSV) → 0
    group, pairs = pd.factorize(file[at].astype(np.int64) * width + sheet[at] + 1)
    rows = obs.iloc[at]
    values = rows["value"].to_numpy(dtype=object)
    known = _present(values)
    values = np.where(known, values, None)  # the rows compared hold a number or nothing
    nonzero = known & (values != 0)
    # Python's hash of a number follows its value (12, 12.0 and Decimal("12.00") hash alike) and
    # is not salted; the region and field are hashed by pandas, and the three are mixed
    numbers = np.fromiter(map(hash, values), dtype=np.int64, count=len(values)).view(np.uint64)
    regions = rows["region_code"].to_numpy(dtype=object)
    fields = rows["field"].to_numpy(dtype=object)
    hashed = pd.util.hash_pandas_object(pd.DataFrame({"r": regions, "f": fields}), index=False).to_numpy()
    with np.errstate(over="ignore"):
        hashed = hashed ^ (numbers * np.uint64(0x9E3779B97F4A7C15))
    sums = np.zeros(len(pairs), dtype=np.uint64)
    np.add.at(sums, group, hashed)  # modulo 2**64: the order of the rows does not matter
    counts = np.bincount(group, minlength=len(pairs))
    nonzeros = np.bincount(group, weights=nonzero, minlength=len(pairs)).astype(np.int64)
    out: dict[tuple[str, str], tuple[tuple[int, int], Any, int]] = {}
    for g, pair in enumerate(pairs.tolist()):
        name, tab = files[pair // width], pair % width - 1
        if nonzeros[g] < least or not isinstance(name, str):
            continue
        rows_of = functools.cache(functools.partial(_triples, regions, fields, values, group, g))  # when asked
        out[(name, str(sheets[tab] or "") if tab >= 0 else "")] = ((int(counts[g]), int(sums[g])), rows_of, int(nonzeros[g]))
    return out


def _triples(regions: Any, fields: Any, values: Any, group: Any, g: int) -> frozenset[Any]:
    return frozenset((regions[i], fields[i], values[i]) for i in np.flatnonzero(group == g))


def _common_region(data: CheckData, regions: list[str]) -> str | None:
    """The lowest region above (or equal to) every region of a sheet: the county of a county's
    workbook of townships."""
    known = [r for r in dict.fromkeys(regions) if isinstance(r, str) and r in data.tree]
    if not known:
        return None
    if len(known) == 1:
        return known[0]
    common: list[str] | None = None
    for code in known:
        chain = data.tree.ancestors(code)
        common = chain if common is None else [c for c in common if c in chain]
    return common[0] if common else known[0]
