"""Compute indicators at every level from the rolled-up fields (pure).

Every indicator is evaluated for every region at once from the region's rolled-up field
values, so a ratio is Σnumerator / Σdenominator at each level — never a mean of ratios.
Values stay exact (Decimal); ``display`` is rounded once, here, half-up unless the workspace
says ``rounding: half_even``. The comparison with the same period last year is a growth in %
or a difference in 个百分点, as the indicator declares (``change``).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from revstat import tidy
from revstat.definitions import IndicatorDef, dependency_order
from revstat.formula import Shift, ratio_parts, shift_period
from revstat.hierarchy import INCOMPLETE
from revstat.i18n import name_in, t
from revstat.numbers import CONTEXT, format_fixed_column
from revstat.periods import Period
from revstat.regions import RegionTree

CHANGE_UNITS = {"growth": "%", "pp": "个百分点", "none": ""}


@dataclass(frozen=True)
class Skipped:
    indicator: IndicatorDef
    missing: tuple[str, ...]  # the fields the workspace does not provide
    #: why: "fields" (no source defines them) or "no_file" (a records source with no file for the period)
    why: str = "fields"


def required_fields(defs: Iterable[IndicatorDef]) -> dict[str, set[str]]:
    """Indicator id → every field it needs, through the indicators it uses."""
    by_id = {d.id: d for d in defs}
    out: dict[str, set[str]] = {}
    for d in dependency_order(list(by_id.values())):
        need: set[str] = set()
        for name in d.parsed.names:
            need |= out[name] if name in by_id else {name}
        out[d.id] = need
    return out


def split_available(defs: list[IndicatorDef], available: Iterable[str]) -> tuple[list[IndicatorDef], list[Skipped]]:
    """The indicators whose fields are all available, and the others (skipped, with the reason)."""
    have = set(available)
    need = required_fields(defs)
    usable: list[IndicatorDef] = []
    skipped: list[Skipped] = []
    for d in defs:
        missing = tuple(sorted(need[d.id] - have))
        if missing:
            skipped.append(Skipped(d, missing))
        else:
            usable.append(d)
    return usable, skipped


class Engine:
    """Evaluates indicators at any period (memoised), over a fixed set of regions."""

    def __init__(self, values: Any, defs: list[IndicatorDef], index: Any,
                 labels: Mapping[str, str] | None = None, temporal: Mapping[str, str] | None = None,
                 tree: RegionTree | None = None) -> None:
        self.defs = {d.id: d for d in defs}
        self.index = index
        self.labels = dict(labels or {})
        self.labels.update({d.id: name_in(d) for d in defs})
        self.temporal = dict(temporal or {})
        self._align(values)
        self.memo: dict[tuple[str, str], tuple[Any, Any, frozenset[tuple[str, str]]]] = {}
        self.memo_parts: dict[tuple[str, str], tuple[Any, Any] | None] = {}
        self.missing: dict[tuple[str, str], Any] = {}  # bool arrays: no value at the region
        self.matched: dict[tuple[str, str], Any] = {}  # bool arrays: a ratio taken over complete parts
        self.tree = tree
        if tree is not None:  # the regions' columns of the results, once for every indicator
            import numpy as np

            codes = [str(c) for c in index]
            levels = [tree.regions[c].level for c in codes]
            self.region_columns = {
                tidy.REGION_CODE: np.array(codes, dtype=object),
                tidy.REGION_NAME: np.array([tree.regions[c].name for c in codes], dtype=object),
                tidy.LEVEL: np.array(levels, dtype=object),
            }
            self.level_names = sorted(set(levels))
            rank = {lv: i for i, lv in enumerate(self.level_names)}
            self.level_no = np.array([rank[lv] for lv in levels], dtype=np.int64)

    def lookup_for(self, period: Period, used: set[tuple[str, str]]) -> Any:
        from revstat.formula_eval import Column

        def lookup(name: str, shift: Shift) -> Any:
            p = str(shift_period(period, shift))
            if name in self.defs:
                values, _, deps = self.compute(name, p)
                used.update(deps)
                return Column(values, self.missing[(name, p)])
            used.add((name, p))
            values = self.field_values.get((name, p))
            return None if values is None else Column(values, ~self.field_present[(name, p)])
        return lookup

    def _align(self, values: Any) -> None:
        """Every (field, period) of the values table laid out on the engine's index, in one
        pass: a read-only numpy object array of values (None where a region has none), and bool
        arrays of the regions that have a value and of incomplete roll-ups. The first row of a
        (field, period, region) counts."""
        import numpy as np
        import pandas as pd

        self.field_values: dict[tuple[str, str], Any] = {}
        self.field_present: dict[tuple[str, str], Any] = {}  # bool arrays: the region has a value
        self.field_incomplete: dict[tuple[str, str], Any] = {}
        n = len(self.index)
        pos = self.index.get_indexer(values[tidy.REGION_CODE].to_numpy(dtype=object))
        inside = pos >= 0
        f_codes, f_names = pd.factorize(values[tidy.FIELD].to_numpy(dtype=object))
        p_codes, p_names = pd.factorize(values[tidy.PERIOD].to_numpy(dtype=object))
        key = f_codes.astype(np.int64) * max(len(p_names), 1) + p_codes
        vals = values[tidy.VALUE].to_numpy(dtype=object)
        inc = values[INCOMPLETE].to_numpy(dtype=bool) if INCOMPLETE in values else None
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for rows in np.split(order, bounds) if len(order) else []:
            k = int(key[rows[0]])
            name = (str(f_names[k // max(len(p_names), 1)]), str(p_names[k % max(len(p_names), 1)]))
            rows = rows[inside[rows]]
            at, first = np.unique(pos[rows], return_index=True)  # one row per region: the first
            rows = rows[first]
            arr = np.full(n, None, dtype=object)
            arr[at] = vals[rows]
            missing = pd.isna(arr)
            arr[missing] = None
            arr.flags.writeable = False  # shared by every formula that reads the field
            self.field_values[name] = arr
            self.field_present[name] = ~missing
            if inc is not None:
                flag = np.zeros(n, dtype=bool)
                flag[at] = inc[rows]
                self.field_incomplete[name] = flag

    def compute(self, ident: str, period: str) -> tuple[Any, Any, frozenset[tuple[str, str]]]:
        """(values, reasons, field keys used) of an indicator at a period: numpy object arrays
        aligned with the index (read only: other formulas read them too)."""
        key = (ident, period)
        if key not in self.memo:
            self._evaluate(ident, period)
        return self.memo[key]

    def parts(self, ident: str, period: str) -> tuple[Any, Any] | None:
        """Numerator and denominator (exact arrays) when the indicator is a ratio."""
        key = (ident, period)
        if key not in self.memo:
            self._evaluate(ident, period)
        return self.memo_parts[key]

    def _evaluate(self, ident: str, period: str) -> None:
        """The value and, for a ratio, its numerator and denominator, in one walk of the formula
        (they share its look-ups)."""
        from revstat.formula_eval import evaluate_arrays

        parsed = self.defs[ident].parsed
        ratio = ratio_parts(parsed.tree)
        offset = None if ratio else _offset_ratio(parsed.tree)  # a / b * k - elapsed(): a gap to a ratio
        inner = ratio or (offset[0] if offset else None)
        used: set[tuple[str, str]] = set()
        p = Period.parse(period)
        values, reasons, missing, parts = evaluate_arrays(
            parsed, self.lookup_for(p, used), period=p, index=self.index, labels=self.labels, temporal=self.temporal,
            parts=(*inner[:2], *([offset[2]] if offset else [])) if inner else ())
        if inner and self.tree is not None:
            incomplete = self.incomplete_of(used)
            if incomplete.any():
                shift = (offset[1], parts[2]) if offset else None
                values, reasons, missing, parts = self._matched(values, reasons, missing, parts[:2], incomplete,
                                                                inner[2], shift)
                self.matched[(ident, period)] = incomplete
        values.flags.writeable = False
        self.memo[(ident, period)] = (values, reasons, frozenset(used))
        self.missing[(ident, period)] = missing
        self.memo_parts[(ident, period)] = (parts[0], parts[1]) if ratio else None

    def _matched(self, values: Any, reasons: Any, missing: Any, parts: Any, incomplete: Any,
                 k: Decimal, shift: tuple[str, Any] | None = None) -> tuple[Any, Any, Any, Any]:
        """A ratio where some lower-level region lacks its numerator or its denominator, taken over
        the regions that have both: Σa / Σb over the complete parts of the subtree (a complete
        region counts as a whole; an incomplete one is opened up, down to the reporting rows).
        Summing every numerator that was reported over every denominator that was reported
        mixes coverages (a township's households without its toilets lowers the rate). The
        region stays flagged ``incomplete``; with no complete part it has no value. ``shift``:
        the ``+``/``-`` and the values of a term without fields added to the ratio (the
        ``- elapsed()`` of a progress-against-time gap)."""
        import numpy as np

        assert self.tree is not None  # noqa: S101
        num, den = np.array(parts[0], dtype=object), np.array(parts[1], dtype=object)
        values, reasons, missing = np.array(values, dtype=object), np.array(reasons, dtype=object), missing.copy()
        pos = {str(c): i for i, c in enumerate(self.index)}
        children = self.tree.children
        memo: dict[int, tuple[Decimal, Decimal] | None] = {}

        def complete(i: int) -> tuple[Decimal, Decimal] | None:
            if i in memo:
                return memo[i]
            got: tuple[Decimal, Decimal] | None = None
            if not incomplete[i] and num[i] is not None and den[i] is not None:
                got = (num[i], den[i])
            else:
                for child in children.get(str(self.index[i]), []):
                    j = pos.get(child)
                    part = complete(j) if j is not None else None
                    if part is not None:
                        got = part if got is None else (got[0] + part[0], got[1] + part[1])
            memo[i] = got
            return got

        why_none = t("下级地区没有分子分母都齐全的", "no lower-level region has both numerator and denominator").render()
        why_zero = t("分母为0", "the denominator is 0").render()
        for i in np.flatnonzero(incomplete):
            got = complete(int(i))
            if got is None:
                values[i], num[i], den[i], missing[i], reasons[i] = None, None, None, True, why_none
            elif got[1] == 0:
                values[i], num[i], den[i], missing[i], reasons[i] = None, got[0], got[1], True, why_zero
            else:
                value = got[0] / got[1] * k if k != 1 else got[0] / got[1]
                if shift is not None:
                    term = shift[1][i]
                    if term is None:
                        values[i], missing[i] = None, True
                        continue
                    value = value + term if shift[0] == "+" else value - term
                values[i] = value
                num[i], den[i], missing[i], reasons[i] = got[0], got[1], False, None
        return values, reasons, missing, (num, den)

    def incomplete_of(self, used: Iterable[tuple[str, str]]) -> Any:
        """A bool array: the regions where a field the indicator used was rolled up incomplete."""
        import numpy as np

        flag = np.zeros(len(self.index), dtype=bool)
        for key in used:
            inc = self.field_incomplete.get(key)
            if inc is not None:
                flag |= inc
        return flag


def _offset_ratio(node: Any) -> tuple[tuple[Any, Any, Decimal], str, Any] | None:
    """``(ratio parts, "+" or "-", the other term)`` when a formula is a ratio plus or minus a term
    that reads no field (``funds_spent / linkage_funds * 100 - elapsed()``)."""
    from revstat.formula import Bin, Name, walk

    if not isinstance(node, Bin) or node.op not in "+-":
        return None
    parts = ratio_parts(node.left)
    if parts is None or any(isinstance(n, Name) for n in walk(node.right)):
        return None
    return parts, node.op, node.right


def result_regions(values: Any, tree: RegionTree, period: str, scope: str | None = None) -> list[str]:
    """Regions that have any value at ``period`` (inside ``scope``), in code order."""
    at = values[values[tidy.PERIOD] == period][tidy.REGION_CODE].unique()
    inside = set(tree.subtree(scope)) if scope and scope in tree else set(tree.regions)
    return sorted(c for c in at if c in inside)


def compute_indicators(values: Any, defs: list[IndicatorDef], tree: RegionTree, period: str | Period, *,
                       rounding: str = "half_up", scope: str | None = None,
                       available: Iterable[str] | None = None, labels: Mapping[str, str] | None = None,
                       temporal: Mapping[str, str] | None = None, comparable: Any = None) -> Any:
    """The results table (:data:`revstat.tidy.RESULT_COLUMNS`) for ``period``.

    ``values``: rolled-up field values (:func:`revstat.hierarchy.roll_up`) of every period the
    formulas need (P, same period last year, earlier quarters for ytd/prev_period).
    Indicators whose fields are not ``available`` (default: the fields present in ``values``)
    are left out; :func:`split_available` lists them. ``scope``: the report region (results
    are given for it and every region below it that has data). ``comparable``: the two years
    rolled up over the values both have (:func:`revstat.hierarchy.comparable`); where either
    year's total is incomplete, the change is computed from them (可比口径), with a note.
    """
    import numpy as np
    import pandas as pd

    period = str(period)
    avail = set(values[tidy.FIELD].unique()) if available is None else set(available)
    usable, _ = split_available(defs, avail)
    if not usable:
        return pd.DataFrame(columns=tidy.RESULT_COLUMNS)
    codes = result_regions(values, tree, period, scope)
    index = pd.Index(codes, dtype=object)
    engine = Engine(values, usable, index, labels, temporal, tree)
    same = Engine(comparable, usable, index, labels, temporal, tree) \
        if comparable is not None and len(comparable) else None
    prev = str(Period.parse(period).prev_year())
    with decimal.localcontext(CONTEXT):
        parts = [_rows(engine, d, period, prev, rounding, same) for d in usable]
    # one frame for all indicators, built once from whole columns (52 small frames and a concat
    # cost more than the computing): the per-indicator texts repeated, the regions taken by
    # position, the computed arrays joined. Exact values and flags stay object columns (pandas 3
    # would infer a string dtype whose missing value is NaN), texts are strings, ``incomplete``
    # is bool.
    counts = [len(rows) for rows, _, _ in parts]
    positions = np.concatenate([rows for rows, _, _ in parts])
    frame: dict[str, Any] = {}
    for name in tidy.RESULT_COLUMNS:
        if name in engine.region_columns:
            frame[name] = engine.region_columns[name][positions]
        elif name in parts[0][1]:
            frame[name] = np.repeat(np.array([each[name] for _, each, _ in parts], dtype=object), counts)
        else:
            frame[name] = np.concatenate([arrays[name] for _, _, arrays in parts])
        if name in _OBJECT_COLUMNS:
            frame[name] = pd.Series(frame[name], dtype=object, copy=False)
    frame["incomplete"] = frame["incomplete"].astype(bool)
    frame["previous_incomplete"] = frame["previous_incomplete"].astype(bool)
    return pd.DataFrame(frame)


#: Result columns holding Decimals, None or True/False (kept as Python objects).
_OBJECT_COLUMNS = frozenset({tidy.VALUE, "numerator", "denominator", "target", "target_met", "note", "previous",
                             "change"})


def _rows(engine: Engine, d: IndicatorDef, period: str, prev: str, rounding: str,
          same: Engine | None = None) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The results of one indicator (only the levels at which it has values): the positions of
    its rows' regions in the engine's index, the columns that are the same on every row, and
    the other columns as numpy arrays. ``same``: the engine over the values both years have,
    for the changes where either year's total is incomplete."""
    import numpy as np

    values, reasons, used = engine.compute(d.id, period)
    parts = engine.parts(d.id, period)
    previous, _, prev_used = engine.compute(d.id, prev)
    incomplete = engine.incomplete_of(used)
    prev_incomplete = engine.incomplete_of(prev_used) & ~engine.missing[(d.id, prev)]
    has_data = ~engine.missing[(d.id, period)]
    partial = incomplete & has_data
    note = reasons
    if partial.any():
        note = np.where(partial, t("部分下级地区缺数，合计不完整",
                                   "some lower-level regions are missing; the total is incomplete").render(), reasons)
        matched = engine.matched.get((d.id, period))
        if matched is not None:  # a ratio over the parts that have both numerator and denominator
            note = np.where(partial & matched, t(
                "部分下级地区缺数，比率按分子、分母都齐全的下级地区计算",
                "some lower-level regions are missing; the ratio is over the parts that have both numerator and "
                "denominator").render(), note)
    # An indicator that is itself a comparison of the two years (growth(x), pp(x), prev_year(x)):
    # where a total it uses is incomplete, its value is taken like for like too, as its level's
    # change is (衔接资金增速 and 衔接资金规模's change then agree)
    if same is not None and partial.any() and d.parsed.calls & {"growth", "pp", "prev_year"}:
        comparable_values, _, _ = same.compute(d.id, period)
        fix = partial & ~same.missing[(d.id, period)]
        if fix.any():
            values = np.array(values, dtype=object)
            values[fix] = comparable_values[fix]
            # incomplete only if this year's total is: a gap last year is what like for like removes
            now = engine.incomplete_of([key for key in used if key[1] == period])
            incomplete = np.where(fix, now, incomplete)
            note = np.where(fix & now, t("部分下级地区缺数，增速按两年都有数的下级地区计算（可比口径）",
                                         "some lower-level regions are missing; the rate is over the parts both "
                                         "years have (like for like)").render(), note)
            note = np.where(fix & ~now, t("上年同期部分下级地区缺数；增速按两年都有数的下级地区计算（可比口径）",
                                          "last year's total is incomplete (lower-level regions missing); the rate "
                                          "is over the parts both years have (like for like)").render(), note)
    # Levels at which the indicator has no value anywhere (e.g. villages, for indicators of the
    # township workbooks) get no rows rather than empty ones; at a level that has values, a region
    # without one keeps its row and the reason (缺少…数据).
    for key in used:
        present = engine.field_present.get(key) if key[1] == period else None
        if present is not None:
            has_data = has_data | present
    level_no = engine.level_no
    covered = np.zeros(len(engine.level_names), dtype=bool)
    covered[np.unique(level_no[has_data])] = True
    rows = np.flatnonzero(covered[level_no])

    def objects(items: Any) -> Any:
        return np.fromiter(items, dtype=object, count=len(rows))

    vals = values[rows]
    prevs = previous[rows]
    change = _change(d.change, vals, prevs)
    # a change against a last-year total that was itself incomplete is not like for like (a blank
    # township last year makes this year's growth look larger): flagged beside the value's own flag
    compared = np.fromiter((c is not None for c in change), dtype=bool, count=len(rows))
    prev_partial = prev_incomplete[rows] & compared
    notes = note[rows]
    # where either year's total is incomplete, the change is taken over the values both years
    # have (可比口径): a county missing this year is left out of last year's total too
    like = np.zeros(len(rows), dtype=bool)
    unlike = (incomplete[rows] & compared) | prev_partial
    if same is not None and unlike.any():
        now_same, _, _ = same.compute(d.id, period)
        before_same, _, _ = same.compute(d.id, prev)
        at = np.flatnonzero(unlike)
        for i, c in zip(at, _change(d.change, now_same[rows[at]], before_same[rows[at]]), strict=True):
            if c is not None:
                change[i], like[i] = c, True
    sep = t("；", "; ").render()

    def noted(mask: Any, why: str) -> Any:
        return np.where(mask, np.fromiter((f"{n}{sep}{why}" if n else why for n in notes), dtype=object,
                                          count=len(rows)), notes)

    if (prev_partial & ~like).any():
        notes = noted(prev_partial & ~like, t("上年同期部分下级地区缺数，比较不是同口径", "last year's total is incomplete "
                                              "(lower-level regions missing); the change is not like for like").render())
    if (prev_partial & like).any():
        notes = noted(prev_partial & like, t(
            "上年同期部分下级地区缺数；同比按两年都有数的下级地区计算（可比口径）", "last year's total is incomplete "
            "(lower-level regions missing); the change is over the parts both years have (like for like)").render())
    if (~prev_partial & like).any():
        notes = noted(~prev_partial & like, t("同比按两年都有数的下级地区计算（可比口径）",
                                              "the change is over the parts both years have (like for like)").render())
    judged = d.target is not None and d.target.applies(period)  # an annual target: at the year's end only
    met = d.target.met if judged else None
    missing = np.full(len(rows), None, dtype=object)
    same = {
        "indicator": d.id,
        "name": d.name,
        "theme": d.theme or "",
        tidy.PERIOD: period,
        tidy.UNIT: d.unit,
        "target": str(d.target) if judged else None,
        "change_unit": CHANGE_UNITS[d.change],
    }
    arrays = {
        tidy.VALUE: vals,
        "display": objects(format_fixed_column(vals, d.decimals, rounding)),
        "numerator": parts[0][rows] if parts else missing,
        "denominator": parts[1][rows] if parts else missing,
        "target_met": objects(met(v) for v in vals) if met else missing,
        "note": notes,
        "previous": prevs,
        "change": objects(change),
        "change_display": objects(format_fixed_column(change, 1 if d.change == "growth" else d.decimals, rounding)),
        "incomplete": incomplete[rows],
        "previous_incomplete": prev_partial & ~like,  # the change is not like for like
    }
    return rows, same, arrays


def _change(kind: str, values: Any, previous: Any) -> list[Decimal | None]:
    out: list[Decimal | None] = []
    for v, p in zip(values, previous, strict=True):
        if kind == "none" or v is None or p is None or not isinstance(v, Decimal) or not isinstance(p, Decimal):
            out.append(None)
        elif kind == "pp":
            out.append(v - p)
        else:
            out.append(None if p == 0 else (v / p - 1) * 100)
    return out
