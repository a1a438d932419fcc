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


def reported_values(observations: Any, tree: RegionTree | None = None) -> Any:
    """The reported (non-合计, non-rolled-up) rows with a value, one per (field, region, period):
    a duplicate keeps the first by file › sheet › cell, so the row order does not matter."""
    obs = observations
    rep = obs[obs[tidy.ORIGIN].isin(REPORTED) & obs[tidy.VALUE].notna()]
    if tree is not None:
        rep = rep[rep[tidy.REGION_CODE].isin(list(tree.regions))]
    keys = [tidy.FIELD, tidy.PERIOD, tidy.REGION_CODE]
    dup = rep.duplicated(keys, keep=False)
    if not dup.any():
        return rep
    twins = rep[dup]
    twins = twins.assign(**{c: twins[c].astype(object).where(twins[c].notna(), "").astype(str)
                            for c in (tidy.FILE, tidy.SHEET, tidy.CELL)})
    twins = twins.sort_values([*keys, tidy.FILE, tidy.SHEET, tidy.CELL], kind="stable")
    return pd_concat([rep[~dup], twins.drop_duplicates(keys, keep="first")])


def pd_concat(frames: list[Any]) -> Any:
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def roll_up(values: Any, tree: RegionTree, fields: Mapping[str, Any]) -> Any:
    """Every field at every region of ``tree`` that has a value, for every period present.

    ``values``: observations (tidy.OBSERVATION_COLUMNS; rows of origin ``rollup`` or ``total``
    are ignored, so rolling up a rolled-up table again gives the same table). ``fields``: field
    id → FieldDef (``agg``, ``weight``, ``unit``); unknown fields are summed.
    Returns a DataFrame with :data:`VALUE_COLUMNS`, sorted by field, period, region.

    Vectorised: rows are keyed by one integer (field, period, region) and grouped by parent
    level by level, deepest first.
    """
    import numpy as np
    import pandas as pd

    codes = sorted(tree.regions)
    obs = values
    rep = obs[obs[tidy.ORIGIN].isin(REPORTED).to_numpy(dtype=bool) & obs[tidy.VALUE].notna().to_numpy(dtype=bool)]
    r_idx = pd.Index(codes).get_indexer(rep[tidy.REGION_CODE].astype(str))
    rep = rep[r_idx >= 0]
    r_idx = r_idx[r_idx >= 0].astype(np.int64)
    parent_of = {c: i for i, c in enumerate(codes)}
    parent_idx = np.array([parent_of[tree.regions[c].parent] if tree.regions[c].parent else -1 for c in codes],
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
        rep, f_codes, p_codes, r_idx = rep[keep], f_codes[keep], p_codes[keep], r_idx[keep]
    known = pd.DataFrame({
        "_f": f_codes.astype(np.int64), "_p": p_codes.astype(np.int64), "_r": r_idx,
        tidy.VALUE: rep[tidy.VALUE].to_numpy(dtype=object),
        tidy.UNIT: rep[tidy.UNIT].to_numpy(dtype=object) if tidy.UNIT in rep else None,
        tidy.ORIGIN: rep[tidy.ORIGIN].to_numpy(dtype=object),
        INCOMPLETE: False,
        N_MISSING: 0,
    })
    field_names = [str(f) for f in f_names]
    aggs = [_agg_of(fields, f) for f in field_names]
    f_of = {f: i for i, f in enumerate(field_names)}
    wmean = np.array([agg == "wmean" and w is not None and w in f_of for agg, w, _ in aggs], dtype=bool)
    # none: only where reported; a weighted mean without any weight data cannot be formed
    rollable = np.array([agg != "none" and (agg != "wmean" or bool(wm)) for (agg, _, _), wm in zip(aggs, wmean, strict=True)],
                        dtype=bool)
    weight_code = np.array([f_of.get(w, -1) if w else -1 for _, w, _ in aggs], dtype=np.int64)

    def key(f: Any, p: Any, r: Any) -> Any:
        return (f * n_p + p) * n_r + r

    max_depth = int(depth_arr.max()) if len(depth_arr) else 0
    row_depth = depth_arr[known["_r"].to_numpy()] if len(known) else np.array([], dtype=np.int64)
    at_depth = {d: known[row_depth == d] for d in range(max_depth + 1)}
    with decimal.localcontext(CONTEXT):
        for d in range(max_depth, 0, -1):
            level = at_depth[d]
            kids = level[rollable[level["_f"].to_numpy()]] if len(level) else level
            if kids.empty:
                continue
            new = _aggregate(kids, level, key, parent_idx, n_children, wmean, weight_code)
            if new.empty:
                continue
            here = at_depth[d - 1]
            if len(here):
                taken = key(here["_f"].to_numpy(), here["_p"].to_numpy(), here["_r"].to_numpy())
                new = new[~np.isin(key(new["_f"].to_numpy(), new["_p"].to_numpy(), new["_r"].to_numpy()), taken)]
            at_depth[d - 1] = pd.concat([here, new], ignore_index=True)
    out = pd.concat(list(at_depth.values()), ignore_index=True)
    order = np.argsort(key(out["_f"].to_numpy(), out["_p"].to_numpy(), out["_r"].to_numpy()), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    codes_arr = np.array(codes, dtype=object)
    r = out["_r"].to_numpy()
    f = out["_f"].to_numpy()
    units = np.array([u for _, _, u in aggs], dtype=object)
    unit = out[tidy.UNIT].to_numpy(dtype=object).copy()
    blank = pd.isna(unit)
    unit[blank] = units[f[blank]] if len(units) else None
    return pd.DataFrame({
        tidy.FIELD: np.array(field_names, dtype=object)[f] if len(field_names) else np.array([], dtype=object),
        tidy.REGION_CODE: codes_arr[r],
        tidy.REGION_NAME: np.array([tree.regions[c].name for c in codes], dtype=object)[r],
        tidy.LEVEL: np.array([tree.regions[c].level for c in codes], dtype=object)[r],
        tidy.PERIOD: np.array([str(p) for p in p_names], dtype=object)[out["_p"].to_numpy()]
        if len(p_names) else np.array([], dtype=object),
        tidy.VALUE: out[tidy.VALUE].to_numpy(dtype=object),
        tidy.UNIT: unit,
        tidy.ORIGIN: out[tidy.ORIGIN].to_numpy(dtype=object),
        INCOMPLETE: out[INCOMPLETE].to_numpy(dtype=bool),
        N_MISSING: out[N_MISSING].to_numpy(dtype=np.int64),
    }, columns=VALUE_COLUMNS)


def _aggregate(kids: Any, level: Any, key: Any, parent_idx: Any, n_children: Any, wmean: Any,
               weight_code: Any) -> Any:
    """Parent rows (integer-keyed) from the children rows of one depth."""
    import numpy as np
    import pandas as pd

    f = kids["_f"].to_numpy()
    p = kids["_p"].to_numpy()
    par = parent_idx[kids["_r"].to_numpy()]
    gkey = key(f, p, par)
    is_w = wmean[f]
    parts = []
    if (~is_w).any():
        sub = kids[~is_w]
        g = sub.groupby(gkey[~is_w], sort=False)
        parts.append(pd.DataFrame({"v": g[tidy.VALUE].sum(), "n": g[tidy.VALUE].count(), "inc": g[INCOMPLETE].any()}))
    if is_w.any():
        sub = kids[is_w]
        weights = pd.Series(level[tidy.VALUE].to_numpy(dtype=object),
                            index=key(level["_f"].to_numpy(), level["_p"].to_numpy(), level["_r"].to_numpy()))
        weights = weights[~weights.index.duplicated()]
        wkey = key(weight_code[f[is_w]], p[is_w], sub["_r"].to_numpy())
        w = weights.reindex(wkey).to_numpy(dtype=object)
        x = sub[tidy.VALUE].to_numpy(dtype=object)
        ok = ~pd.isna(x) & ~pd.isna(w)
        xw = np.full(len(x), None, dtype=object)
        xw[ok] = x[ok] * w[ok]
        wv = np.where(ok, w, None)
        frame = pd.DataFrame({"xw": xw, "w": wv, "ok": ok, "inc": sub[INCOMPLETE].to_numpy(dtype=bool)})
        g = frame.groupby(gkey[is_w], sort=False)
        sw, sxw, n = g["w"].sum(), g["xw"].sum(), g["ok"].sum().astype(int)
        value = pd.Series(None, index=sw.index, dtype=object)
        good = ((n > 0) & (sw != 0)).to_numpy(dtype=bool)
        if good.any():
            value[good] = sxw[good].to_numpy() / sw[good].to_numpy()
        parts.append(pd.DataFrame({"v": value, "n": n, "inc": g["inc"].any()}))
    res = pd.concat(parts)
    res = res[res["n"] > 0]
    k = res.index.to_numpy(dtype=np.int64)
    n_r = len(parent_idx)
    region = k % n_r
    fp = k // n_r
    missing = np.clip(n_children[region] - res["n"].to_numpy(dtype=np.int64), 0, None)
    n_p = _n_periods(key)
    return pd.DataFrame({
        "_f": fp // n_p, "_p": fp % n_p, "_r": region,
        tidy.VALUE: res["v"].to_numpy(dtype=object),
        tidy.UNIT: None,
        tidy.ORIGIN: "rollup",
        INCOMPLETE: res["inc"].to_numpy(dtype=bool) | (missing > 0),
        N_MISSING: missing,
    })


def _n_periods(key: Any) -> int:
    # key(f, p, r) = (f·P + p)·R + r, so key(1, 0, 0) = P·R and key(0, 1, 0) = R
    return int(key(1, 0, 0) // key(0, 1, 0))
