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
        rep = rep[rep[tidy.REGION_CODE].isin(tree.regions.keys())]
    sort_cols = [tidy.FIELD, tidy.PERIOD, tidy.REGION_CODE, tidy.FILE, tidy.SHEET, tidy.CELL]
    rep = rep.assign(**{c: rep[c].astype(object).where(rep[c].notna(), "") for c in (tidy.FILE, tidy.SHEET, tidy.CELL)})
    rep = rep.sort_values(sort_cols, kind="stable")
    return rep.drop_duplicates([tidy.FIELD, tidy.PERIOD, tidy.REGION_CODE], keep="first")


def roll_up(values: Any, tree: RegionTree, fields: Mapping[str, Any]) -> Any:
    """Every field at every region of ``tree`` that has a value, for every period present.

    ``values``: observations (tidy.OBSERVATION_COLUMNS; rows of origin ``rollup`` or ``total``
    are ignored, so rolling up a rolled-up table again gives the same table). ``fields``: field
    id → FieldDef (``agg``, ``weight``, ``unit``); unknown fields are summed.
    Returns a DataFrame with :data:`VALUE_COLUMNS`, sorted by field, period, region.
    """
    import pandas as pd

    rep = reported_values(values, tree)
    parent = {c: r.parent for c, r in tree.regions.items()}
    depth = {c: len(tree.ancestors(c)) for c in tree.regions}
    n_children = {c: len(ch) for c, ch in tree.children.items()}

    known = pd.DataFrame({
        tidy.FIELD: rep[tidy.FIELD].to_numpy(dtype=object),
        tidy.PERIOD: rep[tidy.PERIOD].astype(str).to_numpy(dtype=object),
        tidy.REGION_CODE: rep[tidy.REGION_CODE].astype(str).to_numpy(dtype=object),
        tidy.VALUE: rep[tidy.VALUE].to_numpy(dtype=object),
        tidy.UNIT: rep[tidy.UNIT].to_numpy(dtype=object) if tidy.UNIT in rep else None,
        tidy.ORIGIN: rep[tidy.ORIGIN].to_numpy(dtype=object),
        INCOMPLETE: False,
        N_MISSING: 0,
    })
    aggs = {f: _agg_of(fields, f) for f in known[tidy.FIELD].unique()}
    rollable = [f for f, (agg, _, _) in aggs.items() if agg != "none"]
    max_depth = max(depth.values(), default=0)
    frames = [known]
    with decimal.localcontext(CONTEXT):
        for d in range(max_depth, 0, -1):
            cur = pd.concat(frames, ignore_index=True)
            level_codes = {c for c, dd in depth.items() if dd == d}
            kids = cur[cur[tidy.REGION_CODE].isin(level_codes) & cur[tidy.FIELD].isin(rollable)]
            if kids.empty:
                continue
            kids = kids.assign(parent=kids[tidy.REGION_CODE].map(parent))
            have = set(zip(cur[tidy.FIELD], cur[tidy.PERIOD], cur[tidy.REGION_CODE], strict=True))
            new = _aggregate(kids, cur, aggs, n_children)
            if new.empty:
                continue
            keep = [(f, p, c) not in have for f, p, c in
                    zip(new[tidy.FIELD], new[tidy.PERIOD], new[tidy.REGION_CODE], strict=True)]
            frames.append(new[keep])
    out = pd.concat(frames, ignore_index=True)
    out[tidy.REGION_NAME] = out[tidy.REGION_CODE].map(lambda c: tree.regions[c].name)
    out[tidy.LEVEL] = out[tidy.REGION_CODE].map(lambda c: tree.regions[c].level)
    units = {f: u for f, (_, _, u) in aggs.items() if u}
    out[tidy.UNIT] = out[tidy.UNIT].where(out[tidy.UNIT].notna(), out[tidy.FIELD].map(units))
    out[INCOMPLETE] = out[INCOMPLETE].astype(bool)
    out[N_MISSING] = out[N_MISSING].astype(int)
    out = out.sort_values([tidy.FIELD, tidy.PERIOD, tidy.REGION_CODE], kind="stable", ignore_index=True)
    return out[VALUE_COLUMNS]


def _aggregate(kids: Any, cur: Any, aggs: Mapping[str, tuple[str, str | None, str | None]],
               n_children: Mapping[str, int]) -> Any:
    """Parent rows from the children rows of one depth."""
    import pandas as pd

    keys = [tidy.FIELD, tidy.PERIOD, "parent"]
    wmean_fields = {f for f, (agg, w, _) in aggs.items() if agg == "wmean" and w}
    plain = kids[~kids[tidy.FIELD].isin(wmean_fields)]
    parts = []
    if not plain.empty:
        g = plain.groupby(keys, sort=False)
        res = pd.DataFrame({
            tidy.VALUE: g[tidy.VALUE].sum(),
            "n": g[tidy.VALUE].count(),
            "inc": g[INCOMPLETE].any(),
        }).reset_index()
        parts.append(res)
    if wmean_fields:
        wk = kids[kids[tidy.FIELD].isin(wmean_fields)]
        if not wk.empty:
            weights = cur.set_index([tidy.FIELD, tidy.PERIOD, tidy.REGION_CODE])[tidy.VALUE]
            weights = weights[~weights.index.duplicated()]
            wkey = pd.MultiIndex.from_arrays([wk[tidy.FIELD].map(lambda f: aggs[f][1]), wk[tidy.PERIOD],
                                              wk[tidy.REGION_CODE]])
            w = pd.Series(weights.reindex(wkey).to_numpy(dtype=object), index=wk.index, dtype=object)
            ok = wk[tidy.VALUE].notna() & w.notna()
            xw = pd.Series(None, index=wk.index, dtype=object)
            if ok.any():
                xw[ok] = wk.loc[ok, tidy.VALUE].to_numpy() * w[ok].to_numpy()
            wk = wk.assign(xw=xw, w=w.where(ok, None), ok=ok)
            g = wk.groupby(keys, sort=False)
            sw = g["w"].sum()
            sxw = g["xw"].sum()
            n = g["ok"].sum()
            value = pd.Series(None, index=sw.index, dtype=object)
            good = (n > 0) & (sw != 0)
            if good.any():
                value[good] = sxw[good].to_numpy() / sw[good].to_numpy()
            res = pd.DataFrame({tidy.VALUE: value, "n": n.astype(int), "inc": g[INCOMPLETE].any()}).reset_index()
            parts.append(res)
    if not parts:
        return pd.DataFrame()
    res = pd.concat(parts, ignore_index=True)
    res = res[res["n"] > 0]
    total = res["parent"].map(n_children).fillna(0).astype(int)
    missing = (total - res["n"]).clip(lower=0)
    return pd.DataFrame({
        tidy.FIELD: res[tidy.FIELD].to_numpy(dtype=object),
        tidy.PERIOD: res[tidy.PERIOD].to_numpy(dtype=object),
        tidy.REGION_CODE: res["parent"].to_numpy(dtype=object),
        tidy.VALUE: res[tidy.VALUE].to_numpy(dtype=object),
        tidy.UNIT: None,
        tidy.ORIGIN: "rollup",
        INCOMPLETE: (res["inc"].astype(bool) | (missing > 0)).to_numpy(),
        N_MISSING: missing.to_numpy(),
    })


def children_values(values: Any, tree: RegionTree, field: str, region: str, period: str) -> list[tuple[str, Any]]:
    """``[(child code, value or None)]`` of a region's children for one field and period."""
    sub = values[(values[tidy.FIELD] == field) & (values[tidy.PERIOD] == period)]
    by_code = dict(zip(sub[tidy.REGION_CODE], sub[tidy.VALUE], strict=True))
    return [(c, by_code.get(c)) for c in tree.children.get(region, [])]


def value_table(values: Any) -> dict[tuple[str, str], Any]:
    """``{(field, period): Series indexed by region code}`` for the formula evaluator."""
    out: dict[tuple[str, str], Any] = {}
    for (f, p), grp in values.groupby([tidy.FIELD, tidy.PERIOD], sort=False):
        out[(str(f), str(p))] = grp.set_index(tidy.REGION_CODE)[tidy.VALUE].astype(object)
    return out
