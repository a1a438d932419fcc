"""The rule kinds: one function per ``kind:`` of checks/*.yaml, registered in
:data:`revstat.checks.RULE_KINDS`. Each takes a rule and the :class:`CheckData` and returns
its findings; none of them stops at the first failing region.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from revstat.checks import CheckData, Values, _issue, compare_series, fmt, holds, rule_kind
from revstat.i18n import t
from revstat.model import Issue, Location
from revstat.numbers import CONTEXT
from revstat.periods import Period
from revstat.rules import RuleDef

_ZERO = Decimal(0)


# ---- in-row comparisons -------------------------------------------------------------------

@rule_kind("expression")
def check_expression(rule: RuleDef, data: CheckData) -> list[Issue]:
    """``rule: a <= b`` (or ==, >=, <, >, !=; chained comparisons check each link)."""
    from revstat.rule_expr import comparison_sides

    out: list[Issue] = []
    for left, op, right in comparison_sides(rule, data):
        out += compare_series(rule, data, left.values, op, right.values, _ordered(left.names, right.names),
                              left.text, right.text)
    return out


@rule_kind("compare")
def check_compare(rule: RuleDef, data: CheckData) -> list[Issue]:
    """``left: persons``, ``op: ">="``, ``right: households`` (each side a formula)."""
    from revstat.rule_expr import side

    assert rule.left and rule.op and rule.right  # guaranteed by RuleDef  # noqa: S101
    left, right = side(rule.left, rule, data), side(rule.right, rule, data)
    return compare_series(rule, data, left.values, rule.op, right.values, _ordered(left.names, right.names),
                          left.text, right.text)


@rule_kind("range")
def check_range(rule: RuleDef, data: CheckData) -> list[Issue]:
    """Every target within [min, max] (e.g. 0 ≤ rate ≤ 100, amounts ≥ 0)."""
    out: list[Issue] = []
    for name in rule.targets:
        series = data.series(name)
        regions = [r for r in data.regions(data.levels_for(rule)) if series.get(r) is not None]
        if rule.min is not None:
            low = dict.fromkeys(regions, rule.min)
            out += compare_series(rule, data, series, ">=", low, [name], data.label(name),
                                  t("下限", "the minimum"), regions)
        if rule.max is not None:
            high = dict.fromkeys(regions, rule.max)
            out += compare_series(rule, data, series, "<=", high, [name], data.label(name),
                                  t("上限", "the maximum"), regions)
    return out


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
    text = " + ".join(data.label(p) for p in rule.parts)
    return compare_series(rule, data, total, "==", summed, [rule.total, *rule.parts],
                          data.label(rule.total), text)


# ---- totals and the hierarchy -------------------------------------------------------------

def _additive(rule: RuleDef, data: CheckData, names: list[str]) -> list[str]:
    if names == ["*"]:
        return sorted(f for f, d in data.fields.items() if getattr(d, "agg", "sum") == "sum")
    return names


@rule_kind("totals")
def check_totals(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A workbook's 合计 row = the sum of its rows (same file, sheet and field)."""
    obs = data.observations
    if obs is None or not len(obs):
        return []
    fields = set(_additive(rule, data, rule.fields))
    obs = obs[(obs["period"].astype(str) == data.period) & obs["field"].isin(fields)]
    totals = obs[obs["origin"] == "total"]
    parts = obs[obs["origin"] == "source"]
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for row in parts.itertuples(index=False):
        groups.setdefault((str(row.file), str(row.sheet), row.field), []).append(row)
    out: list[Issue] = []
    for row in totals.itertuples(index=False):
        total = _val(row.value)
        rows = groups.get((str(row.file), str(row.sheet), row.field), [])
        vals = [_val(r.value) for r in rows]
        present = [v for v in vals if v is not None]
        if total is None or not present:
            continue
        summed = sum(present, _ZERO)
        if holds(total, "==", summed, rule):
            continue
        region = None if _nan(row.region_code) else str(row.region_code)
        cells = [Location(str(row.file), str(row.sheet), str(row.cell))]
        cells += [Location(str(r.file), str(r.sheet), str(r.cell)) for r in rows]
        out.append(_issue(
            rule, data, region, data.period,
            t("{file} › {sheet}：{field}合计行（{left}）不等于各行之和（{right}），相差{difference}",
              "{file} › {sheet}: the total row of {field} ({left}) is not the sum of the rows ({right}); difference {difference}"),
            expected=summed, actual=total, difference=total - summed, locations=cells,
            field=data.label(row.field), file=str(row.file), sheet=str(row.sheet)))
    return out


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
    reported = obs[(obs["period"].astype(str) == data.period) & obs["origin"].isin(("source", "records"))]
    reported = reported[reported["field"].isin(list(fields))]
    own: dict[tuple[str, str], Decimal] = {}
    columns = [reported[c].to_numpy(dtype=object).tolist() for c in ("field", "region_code", "value")]
    for fid, region, raw in zip(*columns, strict=True):
        value = _val(raw)
        if value is not None:
            own[(str(fid), str(region))] = value
    wanted = set(data.regions(data.levels_for(rule)))
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
            field=data.label(fid)))
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
        now, before = data.series(name), data.series(name, prev)
        for region in data.regions(data.levels_for(rule)):
            cur, old = now.get(region), before.get(region)
            if cur is None or old is None or holds(cur, ">=", old, rule):
                continue
            cells = data.cells([name], region) + data.cells([name], region, prev)
            out.append(_issue(
                rule, data, region, data.period,
                t("{region}{field}{period}为{left}，比{prev}（{right}）减少{fall}；累计数不应下降",
                  "{region} {field} {period} is {left}, below {prev} ({right}) by {fall}; a cumulative value cannot fall"),
                expected=old, actual=cur, difference=cur - old, locations=cells,
                field=data.label(name), prev=prev, fall=old - cur))
    return out


@rule_kind("growth_bound")
def check_growth_bound(rule: RuleDef, data: CheckData) -> list[Issue]:
    """|growth| against the same period last year (or the previous period) within ``bound`` %."""
    period = Period.parse(data.period)
    base_period = str(period.prev_year() if rule.compare_with == "prev_year" else period.prev_period())
    assert rule.bound is not None  # noqa: S101
    out: list[Issue] = []
    for name in rule.targets:
        now, before = data.series(name), data.series(name, base_period)
        for region in data.regions(data.levels_for(rule)):
            cur, base = now.get(region), before.get(region)
            if cur is None or base is None or base == 0:
                continue
            growth = (cur / base - 1) * 100
            if abs(growth) <= rule.bound:
                continue
            cells = data.cells([name], region) + data.cells([name], region, base_period)
            out.append(_issue(
                rule, data, region, data.period,
                t("{region}{field}{period}为{left}，比{base}（{right}）{change}{growth}%，超出±{bound}%，请核实",
                  "{region} {field} {period} is {left}, {change_en} {growth}% from {base} ({right}), beyond ±{bound}%; please verify"),
                expected=base, actual=cur, difference=cur - base, locations=cells, field=data.label(name),
                base=base_period, growth=fmt(abs(growth)), bound=fmt(rule.bound),
                change="增长" if growth > 0 else "下降", change_en="up" if growth > 0 else "down"))
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
                    t("{region}{field}为{left}，明显偏离同级地区（中位数/界限 {right}，得分 {score}），请核实",
                      "{region} {field} is {left}, far from its peers (median/fence {right}, score {score}); please verify"),
                    expected=centre, actual=peers[region], difference=peers[region] - centre,
                    locations=data.cells([name], region), field=data.label(name), score=fmt(score)))
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
                t("{region}{field}（{left}）不在下级地区的范围 {low}～{high} 之内",
                  "{region} {field} ({left}) is outside its parts' range {low}–{high}"),
                expected=bound, actual=value, difference=value - bound, locations=cells,
                field=data.label(name), low=fmt(low), high=fmt(high)))
    return out


def _children_at(data: CheckData, region: str, level: str | None) -> list[str]:
    if level is None:
        return list(data.tree.children.get(region, []))
    return [c for c in data.tree.descendants(region) if data.tree.level(c) == level]


@rule_kind("small_denominator")
def check_small_denominator(rule: RuleDef, data: CheckData) -> list[Issue]:
    """A rate over fewer than ``min_denominator`` units: flagged, left out of rankings/outliers."""
    out: list[Issue] = []
    wanted = set(data.regions(data.levels_for(rule)))
    for name in rule.indicators:
        dens = data.series(f"{name}.denominator")
        for region in sorted(wanted):
            den = dens.get(region)
            if den is None or rule.min_denominator is None or den >= rule.min_denominator:
                continue
            out.append(_issue(
                rule, data, region, data.period,
                t("{region}{field}的分母仅为{left}（少于{right}），不参加排名和离群值检验",
                  "{region} {field} has a denominator of only {left} (under {right}); left out of rankings and outlier tests"),
                expected=rule.min_denominator, actual=den, difference=den - rule.min_denominator,
                locations=data.cells([name], region), field=data.label(name)))
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
        series = data.series(name)
        regions = [r for r in data.regions(data.levels_for(rule)) if series.get(r) is not None]
        goals = dict.fromkeys(regions, goal)
        out += compare_series(rule, data, series, op, goals, [name], data.label(name),
                              t("目标值", "the target"), regions)
    return out


@rule_kind("completeness")
def check_completeness(rule: RuleDef, data: CheckData) -> list[Issue]:
    """Every expected region at its source's level reported, and every required field."""
    obs = data.observations
    fields = rule.fields or sorted(f for f, d in data.fields.items()
                                   if getattr(d, "required", True) and f not in data.record_fields)
    # a village without household records has none to count (zero), it is not a missing report
    cur = None
    seen: set[tuple[str, str]] = set()
    filled: set[tuple[str, str]] = set()
    if obs is not None and len(obs):
        cur = obs[(obs["period"].astype(str) == data.period) & obs["origin"].isin(("source", "records"))]
        regions = cur["region_code"].astype(str).to_numpy(dtype=object).tolist()
        names = cur["field"].astype(str).to_numpy(dtype=object).tolist()
        present = [(type(v) is Decimal and v.is_finite()) or (v is not None and _val(v) is not None)
                   for v in cur["value"].to_numpy(dtype=object).tolist()]
        seen = set(zip(regions, names, strict=True))
        filled = {k for k, ok in zip(zip(regions, names, strict=True), present, strict=True) if ok}
    by_level: dict[str, list[str]] = {}
    for fid in fields:
        by_level.setdefault(data.field_levels.get(fid, "township"), []).append(fid)
    out: list[Issue] = []
    for level, fids in sorted(by_level.items()):
        if level not in data.levels_for(rule):
            continue
        for region in data.regions([level]):
            if not any((region, fid) in seen for fid in fids):
                if rule.require in ("regions", "both"):
                    out.append(_issue(
                        rule, data, region, data.period,
                        t("缺少{region}（{region_code}）{period}的数据", "no data for {region} ({region_code}) in {period}"),
                        locations=_parent_files(data, region)))
                continue
            if rule.require == "regions":
                continue
            for fid in fids:
                if (region, fid) in filled:
                    continue
                # only the few missing ones need their rows: look them up now
                if cur is None:  # pragma: no cover - seen is empty then, so no region gets here
                    break
                mine = cur[cur["region_code"].astype(str) == region].astype(object)
                rows: dict[str, list[Any]] = {}
                for row in mine.itertuples(index=False):
                    rows.setdefault(str(row.field), []).append(row)
                cells = [Location(str(r.file), str(r.sheet), None if _nan(r.cell) else str(r.cell))
                         for r in rows.get(fid, [])]
                if not cells:
                    cells = _row_of(data, rows, fid)
                out.append(_issue(
                    rule, data, region, data.period,
                    t("{region}{period}缺少必填项“{field}”", "{region} {period}: required field {field} is missing"),
                    locations=cells, field=data.label(fid)))
    return out


def _row_of(data: CheckData, rows: dict[str, list[Any]], fid: str) -> list[Location]:
    source = data.field_sources.get(fid)
    for other, found in rows.items():
        if found and data.field_sources.get(other) == source:
            r = found[0]
            return [Location(str(r.file), str(r.sheet), note=data.label(fid))]
    return []


def _parent_files(data: CheckData, region: str) -> list[Location]:
    parent = data.tree[region].parent if region in data.tree else None
    obs = data.observations
    if parent is None or obs is None or not len(obs):
        return []
    kids = set(data.tree.children.get(parent, []))
    cur = obs[(obs["period"].astype(str) == data.period) & obs["region_code"].isin(kids)]
    return [Location(str(f)) for f in sorted({str(f) for f in cur["file"] if not _nan(f)})]


@rule_kind("duplicates")
def check_duplicates(rule: RuleDef, data: CheckData) -> list[Issue]:
    """The same (region, field, period) reported more than once: one finding per region."""
    obs = data.observations
    if obs is None or not len(obs):
        return []
    cur = obs[(obs["period"].astype(str) == data.period) & (obs["origin"] == "source")]
    if rule.fields:
        cur = cur[cur["field"].isin(rule.fields)]
    counts = cur.groupby(["region_code", "field"]).size()
    dup = counts[counts > 1]
    wanted = set(data.regions(data.levels_for(rule)))
    out: list[Issue] = []
    for region in sorted({str(r) for r, _ in dup.index}):
        if region not in wanted:
            continue
        fids = sorted(f for r, f in dup.index if str(r) == region)
        rows = cur[(cur["region_code"] == region) & cur["field"].isin(fids)]
        cells = [Location(str(r.file), str(r.sheet), str(r.cell)) for r in rows.itertuples(index=False)]
        out.append(_issue(
            rule, data, region, data.period,
            t("{region}{period}重复填报：{count}项数据出现多次（{fields}）",
              "{region} {period} is reported more than once: {count} values ({fields})"),
            actual=len(rows), locations=cells, count=len(fids),
            fields="、".join(data.label(f) for f in fids[:5]) + ("…" if len(fids) > 5 else "")))
    return out


def _ordered(left: frozenset[str], right: frozenset[str]) -> list[str]:
    """Names of the left side, then of the right: the cells of a finding in reading order."""
    return sorted(left) + sorted(right - left)
