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


def comparable(observations: Any, period: str, prev: str) -> Any:
    """The reported values of ``period`` and ``prev`` where both have one: the same (field,
    region) pairs in both years, so that a total rolled up from them compares like with like
    (可比口径). A township blank in either year is left out of both; a county whose workbook is
    missing this year is left out of last year's total too. Empty when the two periods share no
    value. (Pairs are matched as integer codes, not as text.)"""
    import numpy as np
    import pandas as pd

    obs = observations
    p_codes, p_names = pd.factorize(obs[tidy.PERIOD].to_numpy(dtype=object))
    which = {str(n): i for i, n in enumerate(p_names)}
    if period not in which or prev not in which:
        return obs.iloc[:0]
    now, before = p_codes == which[period], p_codes == which[prev]
    keep = (now | before) & obs[tidy.ORIGIN].isin(REPORTED).to_numpy(dtype=bool) \
        & pd.notna(obs[tidy.VALUE].to_numpy(dtype=object))
    at = np.flatnonzero(keep)
    f_codes, _ = pd.factorize(obs[tidy.FIELD].to_numpy(dtype=object)[at])
    r_codes, r_names = pd.factorize(obs[tidy.REGION_CODE].to_numpy(dtype=object)[at])
    key = f_codes.astype(np.int64) * (len(r_names) + 1) + r_codes
    is_now = now[at]
    both = np.isin(key, key[is_now]) & np.isin(key, key[~is_now])
    return obs.iloc[at[both]]


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
    (``np.add.reduceat`` over object arrays, in row order within a group). The text columns
    are read as integer codes (fields, periods and origins come in long runs: only the first
    value of a run is hashed; a sheet's fields repeat its regions: only the first such run is
    looked up) and written back by taking from the few distinct texts. Keys are counted,
    found and ordered in arrays over the key space when that is not much larger than the rows.
    """
    import numpy as np
    import pandas as pd

    codes = sorted(tree.regions)
    n_r = len(codes)
    obs = values
    raw = obs[tidy.VALUE].to_numpy(dtype=object)
    origins = _run_codes(obs[tidy.ORIGIN])
    if origins is not None:
        reported = np.isin(origins[0], [i for i, o in enumerate(origins[1]) if o in REPORTED])
    else:
        reported = obs[tidy.ORIGIN].isin(REPORTED).to_numpy(dtype=bool)
    rows = np.flatnonzero(reported & pd.notna(raw))
    f_codes, f_names = _text_codes(obs[tidy.FIELD], rows)
    p_codes, p_names = _text_codes(obs[tidy.PERIOD], rows)
    r_idx = _region_positions(obs[tidy.REGION_CODE], rows, codes, f_codes)
    known_region = r_idx >= 0
    if not known_region.all():  # regions the tree does not have are left out
        rows, r_idx = rows[known_region], r_idx[known_region]
        f_codes, f_names = _used(f_codes[known_region], f_names)
        p_codes, p_names = _used(p_codes[known_region], p_names)
    parent_idx, depth_arr, n_children = _structure(tree, codes)
    n_p = max(len(p_names), 1)
    rkey = (f_codes.astype(np.int64) * n_p + p_codes) * n_r + r_idx
    keys = _Keys(n_r, n_p, len(f_names), parent_idx, n_children)
    dup = _repeated(rkey, keys.size)
    if dup.any():  # one value per key: the first by file › sheet › cell, whatever the row order
        twins = obs.iloc[rows[dup]][[tidy.FILE, tidy.SHEET, tidy.CELL]].assign(_k=rkey[dup], _pos=np.flatnonzero(dup))
        for c in (tidy.FILE, tidy.SHEET, tidy.CELL):
            twins[c] = twins[c].astype(object).where(twins[c].notna(), "").astype(str)
        twins = twins.sort_values(["_k", tidy.FILE, tidy.SHEET, tidy.CELL], kind="stable")
        keep = ~dup
        keep[twins.drop_duplicates("_k")["_pos"].to_numpy()] = True
        rows, rkey = rows[keep], rkey[keep]
    n_rows = len(rkey)
    known = _Rows(key=rkey, value=raw[rows], src=rows, incomplete=np.zeros(n_rows, dtype=bool),
                  n_missing=np.zeros(n_rows, dtype=np.int64), present=np.ones(n_rows, dtype=bool))
    field_names = [str(f) for f in f_names]
    aggs = [_agg_of(fields, f) for f in field_names]
    f_of = {f: i for i, f in enumerate(field_names)}
    wmean = np.array([agg == "wmean" and w is not None and w in f_of for agg, w, _ in aggs], dtype=bool)
    # none: only where reported; a weighted mean without any weight data cannot be formed
    rollable = np.array([agg != "none" and (agg != "wmean" or bool(wm)) for (agg, _, _), wm in zip(aggs, wmean, strict=True)],
                        dtype=bool)
    weight_code = np.array([f_of.get(w, -1) if w else -1 for _, w, _ in aggs], dtype=np.int64)

    max_depth = int(depth_arr.max()) if len(depth_arr) else 0
    # the rows of each depth, in table order: one stable sort on the depth instead of a pass per depth
    row_depth = depth_arr[known.key % n_r] if n_r else np.zeros(0, dtype=np.int16)
    if not np.all(row_depth[:-1] <= row_depth[1:]):  # (rows of one level only need no sorting)
        by_depth = np.argsort(row_depth, kind="stable")
        row_depth, known = row_depth[by_depth], known.take(by_depth)
    bounds = np.searchsorted(row_depth, np.arange(max_depth + 2))
    at_depth = {d: known.slice(bounds[d], bounds[d + 1]) for d in range(max_depth + 1)}
    # the weight behind a rolled-up weighted mean: Σw of the children it averaged (those with a
    # value), which is what it weighs in its own parent's mean, not the region's whole weight
    covered: dict[int, Any] = {}
    with decimal.localcontext(CONTEXT):
        for d in range(max_depth, 0, -1):
            level = at_depth[d]
            roll = rollable[keys.field(level.key)]
            kids = level if roll.all() else level.take(np.flatnonzero(roll))
            if not len(kids.key):
                covered = {}
                continue
            new, behind = _aggregate(kids, level, keys, wmean, weight_code, covered)
            here = at_depth[d - 1]
            if len(here.key):  # reported values come first
                new = new.take(np.flatnonzero(~np.isin(new.key, here.key)))
            covered = {k: behind[k] for k in new.key.tolist() if k in behind}
            at_depth[d - 1] = _Rows.concat([here, new])
    out = _Rows.concat(list(at_depth.values()))
    out = out.take(keys.order(out.key))
    r = out.key % n_r
    f = keys.field(out.key)
    p = (out.key // n_r) % n_p
    rolled = out.src < 0
    return pd.DataFrame({
        tidy.FIELD: _texts(field_names, f),
        tidy.REGION_CODE: _texts(codes, r),
        tidy.REGION_NAME: _texts([tree.regions[c].name for c in codes], r),
        tidy.LEVEL: _texts([tree.regions[c].level for c in codes], r),
        tidy.PERIOD: _texts([str(x) for x in p_names], p),
        tidy.VALUE: out.value,
        tidy.UNIT: _units(obs, out.src, rolled, f, [u for _, _, u in aggs]),
        tidy.ORIGIN: _origins(obs, out.src, rolled, origins),
        INCOMPLETE: out.incomplete,
        N_MISSING: out.n_missing,
    }, columns=VALUE_COLUMNS, copy=False)


def _structure(tree: RegionTree, codes: list[str]) -> tuple[Any, Any, Any]:
    """(parent position or -1, depth, number of children) of every region, by position in ``codes``."""
    import numpy as np

    position = {c: i for i, c in enumerate(codes)}
    parent_idx = np.array([position[tree.regions[c].parent] if tree.regions[c].parent else -1 for c in codes],
                          dtype=np.int64)
    n_children = np.array([len(tree.children.get(c, [])) for c in codes], dtype=np.int64)
    depth = np.zeros(len(codes), dtype=np.int16)  # the number of ancestors, a level at a time (no cycles: see regions)
    up = parent_idx.copy()
    while (up >= 0).any():
        depth[up >= 0] += 1
        up = np.where(up >= 0, parent_idx[up], -1)
    return parent_idx, depth, n_children


def _run_codes(column: Any) -> tuple[Any, Any] | None:
    """``pd.factorize(column, sort=True)`` of a text column (``str`` dtype) whose values come
    in long runs (a field or a period over a sheet's rows, an origin): only the first value of
    each run is hashed. None for another dtype, or when the runs are short."""
    import numpy as np
    import pandas as pd

    dtype = column.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan) or not len(column):
        return None
    values = column.to_numpy(dtype=object)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1  # NaN != NaN: a blank is a run of its own
    if len(change) * 4 >= len(values):
        return None
    starts = np.concatenate(([0], change))
    head_codes, uniques = pd.factorize(values[starts], sort=True)
    return np.repeat(head_codes, np.diff(np.append(starts, len(values)))), uniques


def _text_codes(column: Any, rows: Any) -> tuple[Any, Any]:
    """``pd.factorize(column.iloc[rows].astype(str), sort=True)``: the codes of the texts of
    ``rows``, numbered in sorted order (-1 = blank)."""
    import pandas as pd

    found = _run_codes(column)
    if found is None:
        return pd.factorize(column.iloc[rows].astype(str), sort=True)
    codes, uniques = found
    return _used(codes[rows], uniques)


def _used(codes: Any, uniques: Any) -> tuple[Any, Any]:
    """Sorted codes renumbered to the texts they use (-1 stays -1), as if the texts only other
    rows have had never been there (as :func:`pd.factorize` of these rows alone numbers them)."""
    import numpy as np

    used = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
    if used.all():
        return codes, uniques
    renumber = np.cumsum(used) - 1
    return np.where(codes >= 0, renumber[codes], -1), np.asarray(uniques, dtype=object)[used]


def _region_positions(column: Any, rows: Any, codes: list[str], field: Any) -> Any:
    """The position in ``codes`` of each row's region (-1 if the tree does not have it):
    ``pd.Index(codes).get_indexer`` of the column's text at ``rows``. A sheet's fields repeat
    its rows' regions: a field's run of rows that repeats the run before it takes that run's
    positions (:func:`repeated_rows`), so only the first of them is looked up."""
    import numpy as np
    import pandas as pd

    region = column if len(rows) == len(column) else column.iloc[rows]
    text = isinstance(region.dtype, pd.StringDtype) and region.dtype.na_value is np.nan
    if not text:
        region = region.astype(str)
    starts = np.flatnonzero(field[1:] != field[:-1]) + 1 if len(field) else field
    source = repeated_rows(region.to_numpy(dtype=object), np.concatenate(([0], starts))) if text else None
    if source is None:
        return pd.Index(codes).get_indexer(region).astype(np.int64)
    own = np.flatnonzero(source == np.arange(len(source)))
    found = np.empty(len(source), dtype=np.int64)
    found[own] = pd.Index(codes).get_indexer(region.iloc[own])
    return found[source]


def repeated_rows(values: Any, starts: Any) -> Any | None:
    """For an object array cut into runs (``starts``: where each run begins, the first at 0),
    the row each row repeats: when a run has the values of the run before it, row by row (a
    sheet's fields over the same rows of regions), its rows point at the rows of the first run
    of such a chain; every other row points at itself. Lookups and hashing are then done for
    the rows that point at themselves only (their first appearances are all there, in order).
    Runs of one length are compared as two slices of the array (no rows taken). None when no
    run repeats the one before it (or the values cannot be compared so)."""
    import numpy as np

    n = len(values)
    if n == 0 or len(starts) < 2:
        return None
    lengths = np.diff(np.append(starts, n))
    same = np.zeros(len(starts), dtype=bool)
    bounds = [0, *(np.flatnonzero(lengths[1:] != lengths[:-1]) + 1).tolist(), len(starts)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):  # runs a … b-1 have one length
        size, lo = int(lengths[a]), int(starts[a])
        if b - a < 2 or not size:
            continue
        hi = lo + (b - a) * size
        try:  # NaN differs from itself: a run with a blank is not taken as repeated
            differs = np.asarray(values[lo + size:hi] != values[lo:hi - size], dtype=bool)
        except (TypeError, ValueError):  # pandas.NA cannot say
            return None
        same[a + 1:b] = ~differs.reshape(b - a - 1, size).any(axis=1)
    if not same.any():
        return None
    first = np.maximum.accumulate(np.where(same, 0, np.arange(len(starts))))  # the run each run repeats
    return np.arange(n) + np.repeat(starts[first] - starts, lengths)


def _dense(key: Any, n_keys: int) -> bool:
    """Whether arrays over the whole key space are affordable (not much larger than the keys)."""
    return n_keys <= 8 * len(key) + (1 << 16)


def _repeated(key: Any, n_keys: int) -> Any:
    """Which of ``key`` occur more than once (a bool array): counted in one array when the key
    space is not much larger than the keys, else by hashing."""
    import numpy as np
    import pandas as pd

    if len(key) and key.min() >= 0 and _dense(key, n_keys):
        return np.bincount(key, minlength=n_keys)[key] > 1
    return pd.Series(key).duplicated(keep=False).to_numpy(dtype=bool)


def _texts(choices: list[Any], at: Any) -> Any:
    """``choices`` taken at ``at`` as a column. When every choice is text, the choices are
    typed once as the DataFrame types a column of text and the column is taken from them
    (the DataFrame then has no rows to look at); anything else (or no rows) is an object
    array, which the DataFrame types as it always did."""
    import numpy as np
    import pandas as pd

    arr = np.empty(len(choices), dtype=object)
    arr[:] = choices
    if len(at) and all(type(c) is str for c in choices):
        typed = pd.Series(arr, copy=False).array
        if isinstance(typed.dtype, pd.StringDtype):
            return typed.take(at)
    return arr[at]


def _units(obs: Any, src: Any, rolled: Any, field: Any, field_units: list[Any]) -> Any:
    """The unit of each row: the reported row's own, else (blank, or rolled up) the field's."""
    import numpy as np
    import pandas as pd

    found = _run_codes(obs[tidy.UNIT]) if tidy.UNIT in obs else None
    if found is not None:  # as codes: the row's unit, or the field's after the row units
        codes, uniques = found
        at = np.full(len(src), -1, dtype=np.int64)
        at[~rolled] = codes[src[~rolled]]
        at = np.where(at >= 0, at, len(uniques) + field)
        return _texts([*uniques.tolist(), *field_units], at)
    if tidy.UNIT in obs:
        unit = np.where(rolled, None, obs[tidy.UNIT].to_numpy(dtype=object)[np.where(rolled, 0, src)])
    else:
        unit = np.full(len(src), None, dtype=object)
    blank = pd.isna(unit)
    units = np.array(field_units, dtype=object)
    unit[blank] = units[field[blank]] if len(units) else None
    return unit


def _origins(obs: Any, src: Any, rolled: Any, origins: tuple[Any, Any] | None) -> Any:
    """``rollup`` for rolled-up rows, else the reported row's origin."""
    import numpy as np

    if origins is not None:  # as codes (texts of the column, then "rollup")
        codes, uniques = origins
        at = np.full(len(src), len(uniques), dtype=np.int64)
        at[~rolled] = codes[src[~rolled]]
        return _texts([*uniques.tolist(), "rollup"], at)
    out = np.full(len(src), "rollup", dtype=object)
    out[~rolled] = obs[tidy.ORIGIN].to_numpy(dtype=object)[src[~rolled]]
    return out


@dataclass(frozen=True)
class _Keys:
    """key(f, p, r) = (f·P + p)·R + r over R regions, P periods and F fields."""

    n_r: int
    n_p: int
    n_f: int
    parent_idx: Any  # region position → its parent's position (-1 at the root)
    n_children: Any

    @property
    def size(self) -> int:
        return self.n_f * self.n_p * self.n_r

    def _slots(self, keys: Any) -> Any | None:
        """Key → position in ``keys`` (unique) as an array over the key space (-1 = absent),
        when that array is affordable; None otherwise (a blank field or period makes a key
        negative, which only hashing handles)."""
        import numpy as np

        if not len(keys) or keys.min() < 0 or not _dense(keys, self.size):
            return None
        slots = np.full(self.size, -1, dtype=np.int64)
        slots[keys] = np.arange(len(keys))
        return slots

    def find(self, keys: Any, wanted: Any) -> Any:
        """The position of each of ``wanted`` in ``keys`` (unique), -1 where absent."""
        import pandas as pd

        slots = self._slots(keys)
        if slots is None or not len(wanted) or wanted.min() < 0 or wanted.max() >= self.size:
            return pd.Index(keys).get_indexer(wanted)
        return slots[wanted]

    def grouped(self, keys: Any) -> Any:
        """A stable sort of ``keys`` (not unique): positions grouped by key in key order, each
        group in its rows' order. Keys are ranked first: with fewer than 2¹⁶ distinct keys (the
        parents of a level) the ranks sort in one radix pass instead of a merge sort."""
        import numpy as np

        if len(keys) and keys.min() >= 0 and _dense(keys, self.size):
            seen = np.zeros(self.size, dtype=bool)
            seen[keys] = True
            rank = np.cumsum(seen) - 1
            if rank[-1] < 1 << 16:
                return np.argsort(rank[keys].astype(np.uint16), kind="stable")
        return np.argsort(keys, kind="stable")

    def order(self, keys: Any) -> Any:
        """The positions of ``keys`` (unique) in key order."""
        import numpy as np

        slots = self._slots(keys)
        if slots is None:
            return np.argsort(keys, kind="stable")
        return slots[slots >= 0]

    def field(self, key: Any) -> Any:
        return key // (self.n_r * self.n_p)

    def of_parent(self, key: Any) -> Any:
        return key - key % self.n_r + self.parent_idx[key % self.n_r]

    def with_field(self, key: Any, field: Any) -> Any:
        return key + (field - self.field(key)) * self.n_r * self.n_p


_ROW_FIELDS = ("key", "value", "src", "incomplete", "n_missing", "present")


@dataclass(frozen=True)
class _Rows:
    """Rows of the roll-up as parallel numpy arrays. ``src``: the row of a reported value in
    the observations (its unit and origin are taken from there at the end), -1 for a rolled-up
    one; ``present``: the value is not missing (known for reported rows, which were picked for
    it; found once for a rolled-up row when it is made)."""

    key: Any
    value: Any
    src: Any
    incomplete: Any
    n_missing: Any
    present: Any

    def take(self, at: Any) -> _Rows:
        return _Rows(*(getattr(self, name)[at] for name in _ROW_FIELDS))

    def slice(self, start: int, stop: int) -> _Rows:
        return _Rows(*(getattr(self, name)[start:stop] for name in _ROW_FIELDS))

    @staticmethod
    def concat(parts: list[_Rows]) -> _Rows:
        import numpy as np

        parts = [x for x in parts if len(x.key)] or parts[:1]
        if len(parts) == 1:
            return parts[0]
        return _Rows(*(np.concatenate([getattr(x, name) for x in parts]) for name in _ROW_FIELDS))


def _aggregate(kids: _Rows, level: _Rows, keys: _Keys, wmean: Any, weight_code: Any,
               covered: dict[int, Any] | None = None) -> tuple[_Rows, dict[int, Any]]:
    """Parent rows from the children rows of one depth: Σ children (missing values skipped), or
    Σ(x·w) / Σw for weighted means (the weight being the child's value of the weight field at
    this depth, or for a child that is itself a rolled-up mean, ``covered``: the weight of the
    children it averaged). ``incomplete`` when a child is incomplete or has no value. Also
    returns each rolled-up mean's covered weight (key → Σw), for the depth above."""
    import numpy as np
    import pandas as pd

    gkey = keys.of_parent(kids.key)
    field = keys.field(kids.key)
    is_w = wmean[field]
    x, ok = kids.value, kids.present
    if is_w.any():  # a weighted mean is summed as x·w over w
        wkey = keys.with_field(kids.key[is_w], weight_code[field[is_w]])
        at = keys.find(level.key, wkey)  # keys are unique at a depth
        w = np.where(at >= 0, level.value[at], None)
        ok_w = ok[is_w] & (at >= 0) & level.present[at]
        if covered:  # a county's mean weighs what it averaged: the townships that had a value
            mean_keys = kids.key[is_w].tolist()
            w = np.array([covered.get(k, v) for k, v in zip(mean_keys, w, strict=True)], dtype=object)
            ok_w = ok[is_w] & ~pd.isna(w)
        w_rows = np.flatnonzero(is_w)[ok_w]
        product = x[w_rows] * w[ok_w]
        x, ok = x.copy(), ok.copy()
        x[is_w] = None
        x[w_rows] = product
        ok[is_w] = False
        ok[w_rows] = ~pd.isna(product)
        weighed = ok[w_rows]  # the rows whose weight counts, with their weights
        weight_rows, weights = w_rows[weighed], w[ok_w][weighed]
    order = keys.grouped(gkey)  # row order within a group: the sums add in it
    g_sorted = gkey[order]
    first = np.r_[True, g_sorted[1:] != g_sorted[:-1]] if len(g_sorted) else np.zeros(0, dtype=bool)
    starts = np.flatnonzero(first)
    group = g_sorted[starts]
    ok_sorted = ok[order]
    n = np.add.reduceat(ok_sorted.astype(np.int64), starts) if len(starts) else np.array([], dtype=np.int64)
    inc = np.logical_or.reduceat(kids.incomplete[order], starts) if len(starts) else np.array([], dtype=bool)
    value = _sum_present(x[order], ok_sorted, starts, first)
    behind: dict[int, Any] = {}
    if is_w.any():
        w_is = np.zeros(len(starts), dtype=bool)
        w_is[:] = is_w[order][starts]
        sw = _sums_of(weights, weight_rows, order, first)
        good = w_is & (n > 0)
        good[good] = sw[good] != 0
        value[w_is & ~good] = None
        value[good] = value[good] / sw[good]
        behind = dict(zip(group[good].tolist(), sw[good].tolist(), strict=True))
    has = n > 0
    if not has.all():
        group, value, n, inc = group[has], value[has], n[has], inc[has]
    missing = np.clip(keys.n_children[group % keys.n_r] - n, 0, None)
    size = len(group)
    return _Rows(
        key=group, value=value, src=np.full(size, -1, dtype=np.int64), incomplete=inc | (missing > 0),
        n_missing=missing, present=~pd.isna(value),
    ), behind


def _sums_of(values: Any, rows: Any, order: Any, first: Any) -> Any:
    """Σ ``values`` (those of ``rows``, a few of the rows) of each group of the rows sorted by
    ``order`` (``first`` marks where a group begins), added in that order; None for a group
    without any. Only the given rows are moved, not every row of the level."""
    import numpy as np

    out = np.full(int(first.sum()), None, dtype=object)
    if not len(rows):
        return out
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))  # where each row went in the sorted order
    at = place[rows]
    by_place = np.argsort(at, kind="stable")
    group_of = (np.cumsum(first) - 1)[at[by_place]]
    head = np.r_[True, group_of[1:] != group_of[:-1]]
    out[group_of[head]] = np.add.reduceat(values[by_place], np.flatnonzero(head))
    return out


def _sum_present(values: Any, ok: Any, starts: Any, first: Any) -> Any:
    """Σ of the present values of each group (groups begin at ``starts`` in ``values``;
    ``first`` marks those rows), added in row order; None for a group without any."""
    import numpy as np

    if len(starts) and ok.all():  # nothing missing (the usual case): the groups as they are
        return np.add.reduceat(values, starts)
    out = np.full(len(starts), None, dtype=object)
    at = np.flatnonzero(ok)
    if not len(at):
        return out
    group_of = (np.cumsum(first) - 1)[at]  # the group of each present row
    head = np.r_[True, group_of[1:] != group_of[:-1]]
    out[group_of[head]] = np.add.reduceat(values[at], np.flatnonzero(head))
    return out
