"""Roll fields up the region hierarchy (village → township → county → city → province).

A region's value of a field is its own reported value (origin ``source`` or ``records``) when
there is one; otherwise the aggregation of its children's values, by the field's ``agg``:

* ``sum`` (default) and ``last`` (a stock: across regions it is summed too; "last" only matters
  over time) — Σ children;
* ``wmean`` with ``weight: <field>`` — Σ(x·w) / Σw over the children (per-capita incomes
  weighted by population), the weights being the children's values of the weight field;
* ``none`` — only where reported, never aggregated.

A parent some of whose children have no value (or are themselves incomplete) is flagged
``incomplete``: the sum of the children that reported is kept, but it is not presented as the
complete figure. A parent none of whose children has a value has no value (missing, never 0).
合计 rows (origin ``total``) are never summed: they stay in the observations for checks.

Pure: observations in, a values table out (see :data:`VALUE_COLUMNS`).
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from revstat import tidy
from revstat.numbers import CONTEXT
from revstat.regions import RegionTree

#: origins of values someone reported
REPORTED = ("source", "records")
INCOMPLETE = "incomplete"
N_MISSING = "n_missing"  # children without a value (for a rolled-up value)

VALUE_COLUMNS = [tidy.FIELD, tidy.REGION_CODE, tidy.REGION_NAME, tidy.LEVEL, tidy.PERIOD, tidy.VALUE,
                 tidy.UNIT, tidy.ORIGIN, INCOMPLETE, N_MISSING]


def _agg_of(fields: Mapping[str, Any], name: str) -> tuple[str, str | None, str | None]:
    f = fields.get(name)
    if f is None:
        return "sum", None, None
    return getattr(f, "agg", "sum"), getattr(f, "weight", None), getattr(f, "unit", None)


def roll_up(values: Any, tree: RegionTree, fields: Mapping[str, Any]) -> Any:
    """Every field at every region of ``tree`` that has a value, for every period present.

    ``values``: observations (tidy.OBSERVATION_COLUMNS; rows of origin ``rollup`` or ``total``
    are ignored, so rolling up a rolled-up table again gives the same table). ``fields``: field
    id → FieldDef (``agg``, ``weight``, ``unit``); unknown fields are summed.
    Returns a DataFrame with :data:`VALUE_COLUMNS`, sorted by field, period, region.

    Vectorised on numpy arrays: rows are keyed by one integer (field, period, region) and
    grouped by parent level by level, deepest first; the Decimal sums run in C
    (``np.add.reduceat`` over object arrays, in row order within a group).
    """
    import numpy as np
    import pandas as pd

    codes = sorted(tree.regions)
    obs = values
    rep = obs[obs[tidy.ORIGIN].isin(REPORTED).to_numpy(dtype=bool) & obs[tidy.VALUE].notna().to_numpy(dtype=bool)]
    r_idx = pd.Index(codes).get_indexer(rep[tidy.REGION_CODE].astype(str))
    rep = rep[r_idx >= 0]
    r_idx = r_idx[r_idx >= 0].astype(np.int64)
    position = {c: i for i, c in enumerate(codes)}
    parent_idx = np.array([position[tree.regions[c].parent] if tree.regions[c].parent else -1 for c in codes],
                          dtype=np.int64)
    depth_arr = np.array([len(tree.ancestors(c)) for c in codes], dtype=np.int64)
    n_children = np.array([len(tree.children.get(c, [])) for c in codes], dtype=np.int64)

    f_codes, f_names = pd.factorize(rep[tidy.FIELD].astype(str), sort=True)
    p_codes, p_names = pd.factorize(rep[tidy.PERIOD].astype(str), sort=True)
    n_r, n_p = len(codes), max(len(p_names), 1)
    rkey = (f_codes.astype(np.int64) * n_p + p_codes) * n_r + r_idx
    dup = pd.Series(rkey).duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():  # one value per key: the first by file › sheet › cell, whatever the row order
        twins = rep[dup].assign(_k=rkey[dup], _pos=np.flatnonzero(dup))
        for c in (tidy.FILE, tidy.SHEET, tidy.CELL):
            twins[c] = twins[c].astype(object).where(twins[c].notna(), "").astype(str)
        twins = twins.sort_values(["_k", tidy.FILE, tidy.SHEET, tidy.CELL], kind="stable")
        keep = ~dup
        keep[twins.drop_duplicates("_k")["_pos"].to_numpy()] = True
        rep, rkey = rep[keep], rkey[keep]
    n_rows = len(rkey)
    known = _Rows(
        key=rkey,
        value=rep[tidy.VALUE].to_numpy(dtype=object),
        unit=rep[tidy.UNIT].to_numpy(dtype=object) if tidy.UNIT in rep else np.full(n_rows, None, dtype=object),
        origin=rep[tidy.ORIGIN].to_numpy(dtype=object),
        incomplete=np.zeros(n_rows, dtype=bool),
        n_missing=np.zeros(n_rows, dtype=np.int64),
    )
    field_names = [str(f) for f in f_names]
    aggs = [_agg_of(fields, f) for f in field_names]
    f_of = {f: i for i, f in enumerate(field_names)}
    wmean = np.array([agg == "wmean" and w is not None and w in f_of for agg, w, _ in aggs], dtype=bool)
    # none: only where reported; a weighted mean without any weight data cannot be formed
    rollable = np.array([agg != "none" and (agg != "wmean" or bool(wm)) for (agg, _, _), wm in zip(aggs, wmean, strict=True)],
                        dtype=bool)
    weight_code = np.array([f_of.get(w, -1) if w else -1 for _, w, _ in aggs], dtype=np.int64)
    keys = _Keys(n_r, n_p, parent_idx, n_children)

    max_depth = int(depth_arr.max()) if len(depth_arr) else 0
    row_depth = depth_arr[known.key % n_r]
    at_depth = {d: known.take(np.flatnonzero(row_depth == d)) for d in range(max_depth + 1)}
    with decimal.localcontext(CONTEXT):
        for d in range(max_depth, 0, -1):
            level = at_depth[d]
            roll = rollable[keys.field(level.key)]
            kids = level if roll.all() else level.take(np.flatnonzero(roll))
            if not len(kids.key):
                continue
            new = _aggregate(kids, level, keys, wmean, weight_code)
            here = at_depth[d - 1]
            new = new.take(np.flatnonzero(~np.isin(new.key, here.key)))  # reported values come first
            at_depth[d - 1] = _Rows.concat([here, new])
    out = _Rows.concat(list(at_depth.values()))
    out = out.take(np.argsort(out.key, kind="stable"))
    r = out.key % n_r
    f = keys.field(out.key)
    p = (out.key // n_r) % n_p
    units = np.array([u for _, _, u in aggs], dtype=object)
    unit = out.unit.copy()
    blank = pd.isna(unit)
    unit[blank] = units[f[blank]] if len(units) else None
    return pd.DataFrame({
        tidy.FIELD: np.array(field_names, dtype=object)[f] if len(field_names) else np.array([], dtype=object),
        tidy.REGION_CODE: np.array(codes, dtype=object)[r],
        tidy.REGION_NAME: np.array([tree.regions[c].name for c in codes], dtype=object)[r],
        tidy.LEVEL: np.array([tree.regions[c].level for c in codes], dtype=object)[r],
        tidy.PERIOD: np.array([str(x) for x in p_names], dtype=object)[p] if len(p_names) else np.array([], dtype=object),
        tidy.VALUE: out.value,
        tidy.UNIT: unit,
        tidy.ORIGIN: out.origin,
        INCOMPLETE: out.incomplete,
        N_MISSING: out.n_missing,
    }, columns=VALUE_COLUMNS)


@dataclass(frozen=True)
class _Keys:
    """key(f, p, r) = (f·P + p)·R + r over R regions and P periods."""

    n_r: int
    n_p: int
    parent_idx: Any  # region position → its parent's position (-1 at the root)
    n_children: Any

    def field(self, key: Any) -> Any:
        return key // (self.n_r * self.n_p)

    def of_parent(self, key: Any) -> Any:
        return key - key % self.n_r + self.parent_idx[key % self.n_r]

    def with_field(self, key: Any, field: Any) -> Any:
        return key + (field - self.field(key)) * self.n_r * self.n_p


@dataclass(frozen=True)
class _Rows:
    """Rows of the roll-up as parallel numpy arrays."""

    key: Any
    value: Any
    unit: Any
    origin: Any
    incomplete: Any
    n_missing: Any

    def take(self, at: Any) -> _Rows:
        return _Rows(self.key[at], self.value[at], self.unit[at], self.origin[at], self.incomplete[at],
                     self.n_missing[at])

    @staticmethod
    def concat(parts: list[_Rows]) -> _Rows:
        import numpy as np

        return _Rows(*(np.concatenate([getattr(x, name) for x in parts])
                       for name in ("key", "value", "unit", "origin", "incomplete", "n_missing")))


def _aggregate(kids: _Rows, level: _Rows, keys: _Keys, wmean: Any, weight_code: Any) -> _Rows:
    """Parent rows from the children rows of one depth: Σ children (missing values skipped), or
    Σ(x·w) / Σw for weighted means (the weight being the child's value of the weight field at
    this depth). ``incomplete`` when a child is incomplete or has no value."""
    import numpy as np
    import pandas as pd

    gkey = keys.of_parent(kids.key)
    is_w = wmean[keys.field(kids.key)]
    x = kids.value
    if is_w.any():  # a weighted mean is summed as x·w over w
        wkey = keys.with_field(kids.key[is_w], weight_code[keys.field(kids.key[is_w])])
        at = pd.Index(level.key).get_indexer(wkey)  # keys are unique at a depth
        w = np.where(at >= 0, level.value[at], None)
        xs = x[is_w]
        ok_w = ~pd.isna(xs) & ~pd.isna(w)
        x = x.copy()
        x[is_w] = None
        x[np.flatnonzero(is_w)[ok_w]] = xs[ok_w] * w[ok_w]
        weight = np.full(len(x), None, dtype=object)
        weight[np.flatnonzero(is_w)[ok_w]] = w[ok_w]
    ok = ~pd.isna(x)
    order = np.argsort(gkey, kind="stable")  # row order within a group: the sums add in it
    g_sorted = gkey[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]]) if len(g_sorted) else np.array([], dtype=np.int64)
    group = g_sorted[starts]
    n = np.add.reduceat(ok[order].astype(np.int64), starts) if len(starts) else np.array([], dtype=np.int64)
    inc = np.logical_or.reduceat(kids.incomplete[order], starts) if len(starts) else np.array([], dtype=bool)
    value = _sum_present(x[order], ok[order], starts)
    if is_w.any():
        w_is = np.zeros(len(starts), dtype=bool)
        w_is[:] = is_w[order][starts]
        sw = _sum_present(weight[order], (ok & is_w)[order], starts)
        good = w_is & (n > 0)
        good[good] = sw[good] != 0
        value[w_is & ~good] = None
        value[good] = value[good] / sw[good]
    has = n > 0
    group, value, n, inc = group[has], value[has], n[has], inc[has]
    missing = np.clip(keys.n_children[group % keys.n_r] - n, 0, None)
    size = len(group)
    return _Rows(
        key=group, value=value, unit=np.full(size, None, dtype=object), origin=np.full(size, "rollup", dtype=object),
        incomplete=inc | (missing > 0), n_missing=missing,
    )


def _sum_present(values: Any, ok: Any, starts: Any) -> Any:
    """Σ of the present values of each group (groups begin at ``starts`` in ``values``), added
    in row order; None for a group without any."""
    import numpy as np

    out = np.full(len(starts), None, dtype=object)
    if not len(starts):
        return out
    at = np.flatnonzero(ok)
    if not len(at):
        return out
    group_of = np.searchsorted(starts, at, side="right") - 1  # the group of each present row
    first = np.r_[True, group_of[1:] != group_of[:-1]]
    out[group_of[first]] = np.add.reduceat(values[at], np.flatnonzero(first))
    return out
