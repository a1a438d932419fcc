"""Consistency checks (审核): run rules over the compiled values and collect findings.

Pure: :func:`run_checks` takes a :class:`CheckData` (values of fields and indicators by region
and period, the observations with their cells, the region tree) and a list of
:class:`revstat.rules.RuleDef`, and returns every finding as a :class:`revstat.model.Issue`.
A rule kind is a function registered in :data:`RULE_KINDS`; one failing region never stops the
others, and one broken rule never stops the other rules.

Values are compared unrounded (Decimal), with the rule's tolerance. A finding carries the
cells (file › sheet › cell) of every input value involved: for a rolled-up value, the cells
of the reported values below it.
"""

from __future__ import annotations

import operator
import string
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress, repeat
from typing import Any

import numpy as np

from revstat.hierarchy import repeated_rows
from revstat.i18n import Text, t
from revstat.model import Issue, Location, Severity
from revstat.numbers import CONTEXT, format_fixed, to_decimal
from revstat.regions import RegionTree
from revstat.rules import RuleDef

#: observation origins that are values someone reported (their cells are the inputs).
REPORTED = ("source", "records")

Values = dict[str, Decimal | None]  # region code → value


@dataclass
class CheckData:
    """Everything the rules look at. Build it with :func:`make_check_data`."""

    period: str
    tree: RegionTree
    values: Mapping[tuple[str, str], Values]  # (name, period) → region → value (a ValueTable)
    observations: Any = None  # DataFrame of tidy.OBSERVATION_COLUMNS (all periods read)
    results: Any = None  # DataFrame of tidy.RESULT_COLUMNS
    fields: Mapping[str, Any] = field(default_factory=dict)  # field id → FieldDef
    indicator_inputs: Mapping[str, frozenset[str]] = field(default_factory=dict)
    indicator_units: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)  # id → Chinese label
    names_en: Mapping[str, str] = field(default_factory=dict)  # id → English label, where there is one
    field_levels: Mapping[str, str] = field(default_factory=dict)  # field → level its source reports
    field_sources: Mapping[str, str] = field(default_factory=dict)  # field → source id
    record_fields: frozenset[str] = frozenset()  # fields aggregated from household records
    targets: Mapping[str, tuple[str, Decimal]] = field(default_factory=dict)  # indicator → (op, value)
    scope: str | None = None  # the report region; checks look inside it only
    small: set[tuple[str, str, str]] = field(default_factory=set)  # (indicator, region, period)
    _cells: dict[tuple[str, str], dict[str, list[Location]]] = field(default_factory=dict)
    _cell_cache: dict[tuple[str, str, str], tuple[Location, ...]] = field(default_factory=dict)
    # built once per run, on first use (every rule asks for the same few things)
    _cell_rows: Any = None  # (field, period) → positions of reported rows in the observations
    _region_cache: dict[frozenset[str], list[str]] = field(default_factory=dict)
    _pool: list[tuple[str, str]] | None = None
    _now: Any = None  # (observations, their rows of this period)
    _memo: dict[str, Any] = field(default_factory=dict)  # what several rules derive from the same rows
    _codes: dict[tuple[int, str], Any] = field(default_factory=dict)  # see codes()
    _levels: dict[int, tuple[RuleDef, list[str]]] = field(default_factory=dict)  # see levels_for()
    _formulas: dict[tuple[str, Location | None], Any] = field(default_factory=dict)  # see formula()

    # ---- values ------------------------------------------------------------------------
    def get(self, name: str, region: str, period: str | None = None) -> Decimal | None:
        return self.values.get((name, period or self.period), {}).get(region)

    def series(self, name: str, period: str | None = None) -> Values:
        return self.values.get((name, period or self.period), {})

    def has(self, name: str) -> bool:
        return any(key[0] == name for key in self.values)

    def regions(self, levels: Iterable[str]) -> list[str]:
        """Codes at the given levels inside the report region, in code order.

        Every rule asks for the same one or two level sets: the subtree is walked once per
        set and the list reused (callers only read it)."""
        wanted = frozenset(levels)
        found = self._region_cache.get(wanted)
        if found is None:
            if self._pool is None:  # (code, level) of the report region's subtree, in code order
                if self.scope in self.tree:
                    pool = [self.scope]
                    for code in pool:  # breadth first: the list grows as it is read
                        pool.extend(self.tree.children.get(code, ()))
                else:
                    pool = list(self.tree.regions)
                regions = self.tree.regions
                self._pool = [(c, regions[c].level) for c in sorted(pool)]
            found = [c for c, level in self._pool if level in wanted]
            self._region_cache[wanted] = found
        return found

    def aligned(self, values: Mapping[str, Any], regions: list[str]) -> Any:
        """``values`` at each of ``regions`` (None where missing), in the order of ``regions``:
        an object array."""
        return np.fromiter(map(values.get, regions), dtype=object, count=len(regions))

    def column(self, name: str, regions: list[str], period: str | None = None) -> tuple[Any, Any]:
        """(values, known) of ``name`` at ``regions``: an object array (None where missing) and
        a bool array. From the ValueTable's positions when there is one, else from the dict."""
        key = (name, period or self.period)
        found = self.values.column(key, regions) if isinstance(self.values, ValueTable) else None
        if found is not None:
            return found
        if key not in self.values:  # e.g. a period not read: missing everywhere
            return np.full(len(regions), None, dtype=object), np.zeros(len(regions), dtype=bool)
        values = self.aligned(self.values[key], regions)
        return values, present(values)

    def codes(self, frame: Any, column: str, runs: Any = None) -> tuple[Any, list[Any]]:
        """:func:`factorize` of a column of the observations (or of this period's rows), made
        once per run: the rules that count rows and the index of cells code the same columns
        (with one period read, this period's rows are the observations themselves). ``runs``:
        the codes of a column whose runs may repeat this one's values (the fields of a sheet
        repeat its regions), so that only the first of the repeated runs is hashed."""
        found = self._codes.get((id(frame), column))
        if found is None or found[0] is not frame:
            values = frame[column].to_numpy(dtype=object)
            coded = factorize(values) if runs is None else factorize_repeated(values, runs)
            found = self._codes[(id(frame), column)] = (frame, *coded)
        return found[1], found[2]

    def now(self) -> Any:
        """The observations of this period (every origin), selected once per run."""
        obs = self.observations
        if self._now is None or self._now[0] is not obs:
            rows = obs
            if obs is not None and len(obs):
                # str(period) == this period, decided once per distinct value
                codes, uniques = self.codes(obs, "period")
                hits = [i for i, u in enumerate(uniques) if _text(u) == self.period]
                mask = member(codes, hits, len(uniques))
                rows = obs if mask.all() else obs[mask]  # one period read: the table itself
            self._now = (obs, rows)
            self._memo.clear()
        return self._now[1]

    def levels_for(self, rule: RuleDef) -> list[str]:
        """The rule's levels, or by default the levels the data is reported at (found once per
        rule: a rule asks for its levels several times, and finding them parses its formulas)."""
        if rule.levels:
            return list(rule.levels)
        found = self._levels.get(id(rule))
        if found is None or found[0] is not rule:
            found = self._levels[id(rule)] = (rule, self._default_levels(rule))
        return list(found[1])

    def _default_levels(self, rule: RuleDef) -> list[str]:
        names = set(rule.targets) | ({rule.total} if rule.total else set()) | set(rule.parts)
        for text in (rule.rule, rule.left, rule.right):
            if text:
                names |= self.formula(text, rule.location).names
        levels = {self.field_levels[n] for n in names if n in self.field_levels}
        return sorted(levels or set(self.field_levels.values())) or ["township"]

    def formula(self, text: str, where: Location | None = None) -> Any:
        """:func:`revstat.formula.parse_formula`, once per text and place: a rule's formulas are
        read for its default levels and again for its sides (the parsed formula is only read)."""
        found = self._formulas.get((text, where))
        if found is None:
            from revstat.formula import parse_formula

            found = self._formulas[(text, where)] = parse_formula(text, where)
        return found

    def label(self, name: str) -> str:
        return self.names.get(name, name)

    def label_text(self, name: str) -> Text:
        """The label in both languages (English where the field or indicator has ``name_en``)."""
        zh = self.label(name)
        return t(zh, self.names_en.get(name) or zh)

    # ---- provenance --------------------------------------------------------------------
    def cells(self, names: Iterable[str], region: str, period: str | None = None) -> tuple[Location, ...]:
        """Cells of every reported value behind ``names`` at ``region`` (or below it)."""
        period = period or self.period
        out: list[Location] = []
        for name in names:
            for fid in sorted(self.indicator_inputs.get(name, frozenset({name}))):
                out.extend(self._field_cells(fid, region, period))
        return tuple(dict.fromkeys(out))

    def _field_cells(self, fid: str, region: str, period: str) -> tuple[Location, ...]:
        key = (fid, region, period)
        if key in self._cell_cache:
            return self._cell_cache[key]
        by_region = self._index(fid, period)
        if region in by_region:
            found = tuple(by_region[region])
        else:
            found = tuple(loc for code in self.tree.descendants(region) if region in self.tree
                          for loc in by_region.get(code, ()))
        self._cell_cache[key] = found
        return found

    def _index(self, fid: str, period: str) -> dict[str, list[Location]]:
        """Region → cells of the reported values of one field and period.

        The reported rows are grouped by (field, period) once; the cells of a group are only
        made when a finding needs them (most fields and periods never have one)."""
        key = (fid, period)
        if key in self._cells:
            return self._cells[key]
        if self._cell_rows is None:
            self._cell_rows = {}
            obs = self.observations
            if obs is not None and len(obs):  # on codes (fields and periods come in long runs)
                origin, origins = self.codes(obs, "origin")
                names, name_texts = self.codes(obs, "field")
                periods, period_texts = self.codes(obs, "period")
                reported = member(origin, [i for i, o in enumerate(origins) if o in REPORTED], len(origins))
                rows = np.flatnonzero(reported & (names >= 0) & (periods >= 0))
                pair = names[rows].astype(np.int64) * len(period_texts) + periods[rows]
                order = np.argsort(pair, kind="stable")
                for group in np.split(rows[order], np.flatnonzero(np.diff(pair[order])) + 1) if len(rows) else []:
                    name, per = name_texts[names[group[0]]], str(period_texts[periods[group[0]]])
                    self._cell_rows.setdefault((name, per), []).append(group)
                self._cell_rows = {k: (obs, np.sort(np.concatenate(v))) for k, v in self._cell_rows.items()}
        found: dict[str, list[Location]] = {}
        if key in self._cell_rows:
            obs, positions = self._cell_rows[key]
            rows = obs.iloc[positions]
            cols = [rows[c].to_numpy(dtype=object).tolist() for c in ("file", "sheet", "cell", "region_code")]
            for file, sheet, cell, region in zip(*cols, strict=True):
                loc = _location(file, sheet, cell)
                if loc is not None:
                    found.setdefault(region, []).append(loc)
        self._cells[key] = found
        return found


def _text(value: Any) -> Any:
    """What ``Series.astype(str)`` makes of a value: blanks stay blank (None), others str()."""
    import pandas as pd

    if value is None or isinstance(value, str):
        return value
    try:
        blank = bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        blank = False
    return None if blank else str(value)


def _location(file: Any, sheet: Any, cell: Any) -> Location | None:
    if _blank(file):
        return None
    return Location(str(file), None if _blank(sheet) else str(sheet), None if _blank(cell) else str(cell))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value == "" or str(value) in ("nan", "<NA>")


# ---- building CheckData ------------------------------------------------------------------

class ValueTable(Mapping[tuple[str, str], Values]):
    """``{(name, period): {region: value}}`` over long tables, each entry made on first use.

    The engine's tables hold ~10⁵ rows (every field and indicator at every region) while the
    rules read a few dozen (name, period) pairs: the rows are grouped by (name, period) once,
    and an entry is cleaned (finite Decimals, else None) when a rule first asks for it. Rules
    that work on whole columns take :meth:`column` — the values at a list of regions as an
    object array, by integer positions, with no dict in between; the dict of an entry is made
    only for the rules that want one. A column holding anything but numbers or blanks (which
    could fail to convert) is converted at once instead, as it always was, so a bad value
    still stops the build rather than one rule."""

    _LAZY_SAFE = frozenset({"decimal", "empty", "floating", "integer", "mixed-integer-float", "boolean"})

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}

    def add_frame(self, df: Any, name_col: str, columns: Mapping[str, str] | None = None) -> None:
        """Add (or replace, key by key) the entries of a long table (name, region_code,
        period, value…): ``columns`` maps each value column to the suffix of its names
        (default ``{"value": ""}``; ``{"numerator": ".numerator"}`` …). The rows are grouped once."""
        from pandas.api.types import infer_dtype

        if df is None or not len(df):
            return
        groups = _group_rows(df, name_col)
        frame = _Frame(df["region_code"].to_numpy(dtype=object))
        for value_col, suffix in (columns or {"value": ""}).items():
            values = df[value_col].to_numpy(dtype=object)
            kind = infer_dtype(values, skipna=True)
            if kind not in self._LAZY_SAFE:
                converted = _decimals(values.tolist())  # raises here, at the first bad row
                values = np.fromiter(converted, dtype=object, count=len(converted))
            for (name, period), positions in groups.items():
                self._entries[(f"{name}{suffix}", period)] = _Entry(frame, values, positions, kind == "decimal")

    def column(self, key: tuple[str, str], regions: list[str]) -> tuple[Any, Any] | None:
        """(values, known) of an entry at ``regions``: object array (None where missing) and
        bool array; None if there is no such entry."""
        entry = self._entries.get(key)
        return None if entry is None else entry.column(regions)

    def below(self, key: tuple[str, str], bound: Any) -> list[str] | None:
        """The regions (text) of an entry whose value is below ``bound``; ``[]`` if there is no
        such entry; None when the entry names a region twice (its dict keeps the last value)."""
        entry = self._entries.get(key)
        return [] if entry is None else entry.below(bound)

    def __getitem__(self, key: tuple[str, str]) -> Values:
        return self._entries[key].as_dict()

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Any:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class _Frame:
    """The region column of one long table, and the layouts (region sequences) of its entries.

    The engine writes every name at the same regions in the same order, so most entries share
    one layout: a layout's index (``str(region)`` → row, the last row winning as in the dicts)
    and its positions for a list of regions are made once and reused by every entry that has
    the same sequence of region texts (compared as lists, not hashed into a new index)."""

    def __init__(self, regions: Any) -> None:
        self.regions = regions
        self._layouts: list[_Layout] = []

    def layout(self, positions: Any) -> _Layout:
        block = self.regions[positions]
        for layout in self._layouts:  # codes that are all text and equal: the same texts
            if layout.plain and len(layout.block) == len(block) and _all_equal(layout.block, block):
                return layout
        texts = list(map(str, block.tolist()))
        for layout in self._layouts:
            if layout.texts == texts:
                return layout
        layout = _Layout(block, texts)
        self._layouts.append(layout)
        return layout


def _all_equal(a: Any, b: Any) -> bool:
    try:
        return bool(np.all(a == b))
    except (TypeError, ValueError):  # pandas.NA
        return False


class _Layout:
    def __init__(self, block: Any, texts: list[str]) -> None:
        self.block = block
        self.plain = set(map(type, block.tolist())) <= {str}
        self.texts = texts
        self.index = {text: i for i, text in enumerate(texts)}
        self._slots: dict[int, tuple[list[str], Any]] = {}

    def slots(self, regions: list[str]) -> Any:
        """Rows of ``regions`` in the block (``len(texts)``, an empty slot, if absent);
        remembered per list (the rules share the lists of :meth:`CheckData.regions`)."""
        found = self._slots.get(id(regions))
        if found is None or found[0] is not regions:
            missing = len(self.texts)
            slots = np.fromiter(map(self.index.get, regions, repeat(missing)), dtype=np.int64, count=len(regions))
            found = self._slots[id(regions)] = (regions, slots)
        return found[1]


class _Entry:
    """One (name, period): its rows in a long table, cleaned on first use."""

    def __init__(self, frame: _Frame, values: Any, positions: Any, decimal: bool) -> None:
        self.frame, self.values, self.positions, self.decimal = frame, values, positions, decimal
        self._clean: Any = None
        self._padded: tuple[_Layout, Any, Any] | None = None
        self._dict: Values | None = None

    def clean(self) -> tuple[Any, Any]:
        """(values, known) of the entry's rows: finite Decimals or None (see :func:`_dec`)."""
        if self._clean is None:
            out = self.values[self.positions]  # a view of the column when the rows are a run
            mask = finite_mask(out) if self.decimal else None
            if mask is None:
                converted = _decimals(out.tolist())
                out = np.fromiter(converted, dtype=object, count=len(converted))
                mask = present(out)
            elif not mask.all():
                out = out.copy()  # the column itself stays as it is
                out[~mask] = None
            self._clean = (out, mask)
        return self._clean

    def as_dict(self) -> Values:
        if self._dict is None:
            values, _known = self.clean()
            regions = self.frame.regions[self.positions].tolist()
            self._dict = dict(zip(map(str, regions), values.tolist(), strict=True))
        return self._dict

    def below(self, bound: Any) -> list[str] | None:
        """See :meth:`ValueTable.below`: one comparison over the known values (numpy's object
        loop, the same ``<`` per value as on the dict)."""
        layout = self.frame.layout(self.positions)
        if len(layout.index) != len(layout.texts):
            return None
        values, known = self.clean()
        at = np.flatnonzero(known)
        low = np.asarray(values[at] < bound, dtype=bool) if len(at) else np.zeros(0, dtype=bool)
        return [layout.texts[i] for i in at[low].tolist()]

    def column(self, regions: list[str]) -> tuple[Any, Any]:
        if self._padded is None:
            values, known = self.clean()
            empty_slot = (np.array([None], dtype=object), np.array([False]))  # where absent regions point
            self._padded = (self.frame.layout(self.positions), np.concatenate([values, empty_slot[0]]),
                            np.concatenate([known, empty_slot[1]]))
        layout, values, known = self._padded
        slots = layout.slots(regions)
        return values[slots], known[slots]


def _group_rows(df: Any, name_col: str) -> dict[tuple[str, str], Any]:
    """(str(name), str(period)) → positions of its rows, in table order (a slice for a run).

    The engine writes each name's rows together: when every run of equal (name, period) is
    the only one of its key, the runs are the groups (two comparisons of neighbours instead
    of hashing every row); otherwise the rows are grouped by the text of their keys."""
    names, periods = df[name_col].to_numpy(dtype=object), df["period"].to_numpy(dtype=object)
    name_runs, period_runs = _run_starts(names), _run_starts(periods)
    if name_runs is not None and period_runs is not None:
        starts = np.union1d(name_runs, period_runs).tolist()
        keys = [(str(names[i]), str(periods[i])) for i in starts]
        if len(set(keys)) == len(keys):
            ends = [*starts[1:], len(names)]
            return {key: slice(a, b) for key, a, b in zip(keys, starts, ends, strict=True)}  # views, not takes
    # by the keys' text (None, NaN and pandas.NA are three names, as str() makes them)
    import pandas as pd

    name_codes, name_texts = pd.factorize(np.fromiter(map(str, names), dtype=object, count=len(names)))
    period_codes, period_texts = pd.factorize(np.fromiter(map(str, periods), dtype=object, count=len(periods)))
    codes = name_codes.astype(np.int64) * max(len(period_texts), 1) + period_codes
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    groups = np.split(order, bounds) if len(order) else []
    groups.sort(key=lambda rows: rows[0])  # in the order the keys first appear
    return {(str(name_texts[name_codes[rows[0]]]), str(period_texts[period_codes[rows[0]]])): rows for rows in groups}


def _run_starts(values: Any) -> Any:
    """Where each run of equal neighbours starts (an int array beginning with 0), or None when
    neighbours cannot be compared that way (a blank that is not equal to itself — NaN, which
    would split runs oddly — or ``pandas.NA``, which refuses to be true or false)."""
    if not len(values):
        return None
    try:
        change = np.flatnonzero(values[1:] != values[:-1]) + 1
        starts = np.concatenate(([0], change))
        firsts = values[starts]
        if not bool(np.all(firsts == firsts)):  # NaN
            return None
    except (TypeError, ValueError):
        return None
    return starts


_PROBE = 4096  # values looked at to decide whether a column is made of long runs


def factorize(values: Any) -> tuple[Any, list[Any]]:
    """``pandas.factorize`` of an object array (codes, uniques; -1 = blank), faster on columns
    made of long runs of one value (a field or a period over a sheet's rows): only the first
    value of each run is hashed."""
    import pandas as pd

    head = _run_starts(values[:_PROBE])  # short runs at the start: hash every value at once
    starts = _run_starts(values) if head is not None and len(head) * 8 < min(len(values), _PROBE) else None
    if starts is not None and len(starts) * 8 < len(values):
        keys, uniques = pd.factorize(values[starts])
        return np.repeat(keys, np.diff(np.append(starts, len(values)))), uniques.tolist()
    codes, uniques = pd.factorize(values)
    return codes, uniques.tolist()


def member(codes: Any, wanted: Iterable[int], n: int) -> Any:
    """``np.isin(codes, wanted)`` for codes of :func:`factorize` (``0 … n-1``, -1 = blank):
    one lookup per row in a table of the ``n`` codes instead of a sort (the extra last slot
    answers for -1)."""
    table = np.zeros(n + 1, dtype=bool)
    table[list(wanted)] = True
    return table[codes]


def factorize_repeated(values: Any, runs: Any) -> tuple[Any, list[Any]]:
    """:func:`factorize` of ``values`` where the runs of ``runs`` (codes of another column) may
    repeat the run before them (:func:`revstat.hierarchy.repeated_rows`): the first of each
    chain of repeated runs is factorized and the others take its codes. The same codes and
    uniques (every first appearance is in the rows factorized, in order)."""
    starts = np.concatenate(([0], np.flatnonzero(runs[1:] != runs[:-1]) + 1)) if len(runs) else runs
    source = repeated_rows(values, starts)
    if source is None:
        return factorize(values)
    own = np.flatnonzero(source == np.arange(len(source)))
    codes, uniques = factorize(values[own])
    out = np.empty(len(values), dtype=codes.dtype)
    out[own] = codes
    return out[source], uniques


def finite_mask(values: Any) -> Any:
    """For an object array of Decimals and blanks (None): which hold a finite number (a bool
    array), with ``Decimal.is_finite`` mapped in C over a list of the values (iterating a list
    is twice as fast as iterating the array). Nearly every column is finite Decimals only: one
    pass that only asks whether all are (no array built from 10⁵ answers). Otherwise the same
    a block of rows at a time, and in a block that holds a blank the blanks are found by
    identity and the rest mapped (blanks come together: a column left empty). None if that
    cannot be decided this way (a value that is neither None nor a Decimal, such as NaN or
    ``pandas.NA``): go value by value."""
    items = values.tolist()
    try:
        if all(map(Decimal.is_finite, items)):
            return np.ones(len(items), dtype=bool)
    except TypeError:  # a blank, or not a Decimal
        pass
    mask = np.ones(len(items), dtype=bool)
    for start in range(0, len(items), _BLOCK):
        block = items[start:start + _BLOCK]
        try:
            if all(map(Decimal.is_finite, block)):
                continue
        except TypeError:
            pass
        known = _not_none(block)
        here = np.frombuffer(known, dtype=bool)
        try:
            if not all(map(Decimal.is_finite, compress(block, known))):
                here[here] = np.fromiter(map(Decimal.is_finite, compress(block, known)), dtype=bool,
                                         count=int(here.sum()))
        except TypeError:  # not a Decimal after all
            return None
        mask[start:start + len(block)] = here
    return mask


_BLOCK = 1024  # rows of finite_mask's blocks


def _not_none(items: list[Any]) -> bytearray:
    """1 for each item that is not None, 0 for None: identity tests mapped in C into a
    writable buffer (a bool array over it costs nothing; no array built from 10⁵ answers)."""
    return bytearray(map(operator.is_not, items, repeat(None)))


def _decimals(values: list[Any]) -> list[Decimal | None]:
    """Finite Decimals as they are; everything else through :func:`_dec` (None if blank)."""
    return [v if type(v) is Decimal and v.is_finite() else _dec(v) for v in values]


def values_from_frame(df: Any, name_col: str, value_col: str = "value") -> ValueTable:
    """Long table (name, region_code, period, value) → {(name, period): {region: value}}."""
    table = ValueTable()
    table.add_frame(df, name_col, {value_col: ""})
    return table


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return to_decimal(value)
    except TypeError:
        try:
            if value != value:  # pandas.NA, NaN
                return None
        except (TypeError, ValueError):
            return None
        return to_decimal(Decimal(str(value)))


def make_check_data(period: str, tree: RegionTree, *, values: Any = None, results: Any = None,
                    observations: Any = None, fields: Mapping[str, Any] | None = None,
                    indicator_inputs: Mapping[str, frozenset[str]] | None = None,
                    indicator_units: Mapping[str, str] | None = None,
                    names: Mapping[str, str] | None = None, names_en: Mapping[str, str] | None = None,
                    scope: str | None = None,
                    field_levels: Mapping[str, str] | None = None,
                    field_sources: Mapping[str, str] | None = None,
                    targets: Mapping[str, tuple[str, Decimal]] | None = None,
                    record_fields: Iterable[str] = ()) -> CheckData:
    """Assemble :class:`CheckData` from long tables.

    ``values``: field values by region and period (columns field, region_code, period, value;
    rolled up to every level). ``results``: indicator rows (indicator, region_code, period,
    value, numerator, denominator). ``observations``: the tidy observations (their cells are
    the provenance of every finding; origin ``total`` rows feed the ``totals`` kind).
    """
    table = values_from_frame(values, "field") if values is not None else ValueTable()
    if results is not None and len(results):
        table.add_frame(results, "indicator", {"value": ""} | {
            col: f".{col}" for col in ("numerator", "denominator") if col in results.columns})
    labels = dict(names or {})
    for fid, fdef in (fields or {}).items():
        labels.setdefault(fid, getattr(fdef, "name", fid))
    return CheckData(period=str(period), tree=tree, values=table, observations=observations,
                     results=results, fields=dict(fields or {}),
                     indicator_inputs=dict(indicator_inputs or {}),
                     indicator_units=dict(indicator_units or {}), names=labels, scope=scope,
                     names_en=dict(names_en or {}) | {f: d.name_en for f, d in (fields or {}).items()
                                                     if getattr(d, "name_en", None) and f not in (names_en or {})},
                     field_levels=dict(field_levels or {}), field_sources=dict(field_sources or {}),
                     targets=dict(targets or {}), record_fields=frozenset(record_fields))


# ---- messages ----------------------------------------------------------------------------

class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fmt(value: Any) -> str:
    """A value for a message: integers as is, others to at most 2 decimals (never 1E+3)."""
    dec = to_decimal(value) if not isinstance(value, str) else None
    if dec is None:
        return "—" if value is None else str(value)
    if dec == dec.to_integral_value():
        return format_fixed(dec, 0)
    text = format(dec.normalize(CONTEXT), "f")
    return text if len(text.split(".")[1]) <= 2 else format_fixed(dec, 2)


def render_message(rule: RuleDef, default: Text, params: dict[str, Any]) -> Text:
    """The rule's own templates (zh, en) or the kind's default, with placeholders filled."""
    zh = rule.message or default.zh
    en = rule.message_en or (default.en if rule.message is None else rule.message)
    # numbers are formatted once for both languages; only Text differs between them
    plain = {k: fmt(v) if isinstance(v, Decimal | int | float) or v is None else v
             for k, v in params.items() if not isinstance(v, Text)}
    texts = [(k, v) for k, v in params.items() if isinstance(v, Text)]

    def shown(lang: str) -> _Blank:
        values = _Blank(plain)
        for k, v in texts:
            values[k] = v.render(lang)
        return values

    return Text(_format(zh, shown("zh")), _format(en, shown("en")))


def _format(template: str, values: _Blank) -> str:
    """``template`` filled in by ``str.format_map``; a template it refuses (a positional field
    such as ``{}``) goes through :class:`string.Formatter`, which raises what it always raised."""
    try:
        return template.format_map(values)
    except ValueError:
        return string.Formatter().vformat(template, (), values)


def _issue(rule: RuleDef, data: CheckData, region: str | None, period: str, default: Text, *,
           expected: Any = None, actual: Any = None, difference: Any = None,
           locations: Iterable[Location] = (), **params: Any) -> Issue:
    region_name = data.tree.name(region) if region is not None and region in data.tree else region
    params = {"region": region_name or "", "region_code": region or "", "period": period,
              "rule": rule.id, "name": rule.name, "left": actual, "right": expected,
              "difference": difference, **params}
    return Issue(rule=rule.id, severity=rule.severity, message=render_message(rule, default, params),
                 region_code=region, region_name=region_name, period=period, expected=expected,
                 actual=actual, difference=difference, locations=tuple(dict.fromkeys(locations)))


# ---- comparisons -------------------------------------------------------------------------

_OPS_ZH = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "=", "!=": "≠"}


def holds(left: Decimal, op: str, right: Decimal, rule: RuleDef) -> bool:
    """``left op right`` with the rule's absolute/relative tolerance (unrounded values)."""
    diff = left - right
    tol = rule.tolerance
    if rule.tolerance_relative is not None:
        tol = max(tol, rule.tolerance_relative * max(abs(left), abs(right)))
    if op == "==":
        return abs(diff) <= tol
    if op == "!=":
        return abs(diff) > tol
    if op == "<=":
        return diff <= tol
    if op == ">=":
        return -diff <= tol
    if op == "<":
        return diff < tol if tol else diff < 0
    if op == ">":
        return -diff < tol if tol else diff > 0
    raise ValueError(op)


def holds_many(left: Any, op: str, right: Any, rule: RuleDef) -> Any:
    """:func:`holds` over aligned object arrays of Decimals (or a Decimal on the right): a bool
    array. The same Decimal operations per element, run by numpy's object loops instead of
    the interpreter; anything unusual (a type that cannot subtract) goes through
    :func:`holds` one pair at a time, so it raises exactly what :func:`holds` raises."""
    try:
        diff = left - right
        tol: Any = rule.tolerance
        if rule.tolerance_relative is not None:
            tol = np.maximum(tol, rule.tolerance_relative * np.maximum(np.abs(left), np.abs(right)))
        # tol ≥ 0, so holds's "diff < tol if tol else diff < 0" is diff < tol either way; with
        # one tolerance, -diff <= tol is diff >= -tol (exact negations, one instead of one per value)
        low = tol.copy_negate() if isinstance(tol, Decimal) else None
        if op == "==":
            ok = np.abs(diff) <= tol
        elif op == "!=":
            ok = np.abs(diff) > tol
        elif op == "<=":
            ok = diff <= tol
        elif op == ">=":
            ok = -diff <= tol if low is None else diff >= low
        elif op == "<":
            ok = diff < tol
        elif op == ">":
            ok = -diff < tol if low is None else diff > low
        else:
            raise ValueError(op)
        return np.asarray(ok, dtype=bool)
    except Exception:  # noqa: BLE001 - redo one by one: the same result or the same error
        rights = right if isinstance(right, np.ndarray) else [right] * len(left)
        return np.array([holds(lv, op, rv, rule) for lv, rv in zip(left, rights, strict=True)], dtype=bool)


def objects(values: Any) -> Any:
    """A sequence as a 1-d object array (no copy if it is one already)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    values = list(values)
    return np.fromiter(values, dtype=object, count=len(values))


def present(values: Any) -> Any:
    """Bool array: which values are not None (missing is None here, never NaN), by identity
    in C over a list of the values."""
    return np.frombuffer(_not_none(values.tolist() if isinstance(values, np.ndarray) else list(values)), dtype=bool)


def failing(rule: RuleDef, left: Any, op: str, right: Any, left_known: Any = None,
            right_known: Any = None) -> list[int]:
    """Positions where ``left op right`` fails; a missing value (None) on either side is
    skipped. ``*_known``: which values are not None, when the caller knows already."""
    left, right = objects(left), objects(right)
    if len(left) != len(right):
        raise ValueError("left and right are not aligned")
    left_known = present(left) if left_known is None else left_known
    right_known = present(right) if right_known is None else right_known
    both = np.flatnonzero(left_known & right_known)
    if not len(both):
        return []
    if len(both) == len(left):  # known everywhere: no copies
        return np.flatnonzero(~holds_many(left, op, right, rule)).tolist()
    ok = holds_many(left[both], op, right[both], rule)
    return both[~ok].tolist()


def compare_series(rule: RuleDef, data: CheckData, left: Values, op: str, right: Values,
                   names: Iterable[str], left_text: str | Text, right_text: str | Text,
                   regions: Iterable[str] | None = None) -> list[Issue]:
    """One finding per region where ``left op right`` fails; missing on either side is skipped."""
    regions = list(regions) if regions is not None else data.regions(data.levels_for(rule))
    return compare_aligned(rule, data, regions, data.aligned(left, regions), op, data.aligned(right, regions),
                           names, left_text, right_text)


def compare_aligned(rule: RuleDef, data: CheckData, regions: list[str], left: Any, op: str,
                    right: Any, names: Iterable[str], left_text: str | Text,
                    right_text: str | Text, left_known: Any = None, right_known: Any = None) -> list[Issue]:
    """:func:`compare_series` on values already aligned with ``regions`` (arrays or lists,
    None = missing; ``*_known`` as in :func:`failing`)."""
    return failing_issues(rule, data, regions, left, op, right, failing(rule, left, op, right, left_known, right_known),
                          names, left_text, right_text)


def compare_to(rule: RuleDef, data: CheckData, regions: list[str], left: Any, op: str, right: Decimal,
               names: Iterable[str], left_text: str | Text, right_text: str | Text, left_known: Any) -> list[Issue]:
    """:func:`compare_aligned` against one value (a bound, a target): the values that are
    known are compared with it as they are (no column of the same value made and taken)."""
    at = np.flatnonzero(left_known)
    if len(at) == len(left):
        positions = np.flatnonzero(~holds_many(left, op, right, rule)).tolist()
    else:
        positions = at[~holds_many(left[at], op, right, rule)].tolist() if len(at) else []
    return failing_issues(rule, data, regions, left, op, right, positions, names, left_text, right_text)


def failing_issues(rule: RuleDef, data: CheckData, regions: list[str], left: Any, op: str, right: Any,
                   positions: list[int], names: Iterable[str], left_text: str | Text,
                   right_text: str | Text) -> list[Issue]:
    """One finding for each of ``positions`` where ``left op right`` failed (``right`` an
    aligned array, or one value for all)."""
    names = list(names)
    out = []
    one = not hasattr(right, "__getitem__")  # a Decimal for every position, or values aligned with them
    for i in positions:
        region, lv, rv = regions[i], left[i], right if one else right[i]
        diff = lv - rv
        default = t("{region}{period}：{lt}（{left}）应{opzh}{rt}（{right}），相差{difference}",
                    "{region} {period}: {lt} ({left}) should be {op} {rt} ({right}); difference {difference}",
                    )
        out.append(_issue(rule, data, region, data.period,
                          Text(default.zh, default.en), expected=rv, actual=lv, difference=diff,
                          locations=data.cells(names, region), lt=left_text, rt=right_text,
                          field=left_text, op=op, opzh=_OPS_ZH[op]))
    return out


# ---- the registry ------------------------------------------------------------------------

KindFn = Callable[[RuleDef, CheckData], list[Issue]]
RULE_KINDS: dict[str, KindFn] = {}


def rule_kind(name: str) -> Callable[[KindFn], KindFn]:
    def register(fn: KindFn) -> KindFn:
        RULE_KINDS[name] = fn
        return fn
    return register


def run_checks(rules: Iterable[RuleDef], data: CheckData) -> list[Issue]:
    """Run every rule; collect all findings. A rule that cannot run (a bug, or inputs the
    workspace does not have) becomes an ``info`` finding of its own instead of stopping."""
    rules = list(rules)
    for rule in rules:  # small denominators first: outlier tests leave them out
        if rule.kind == "small_denominator" and rule.min_denominator is not None:
            for ind in rule.indicators:
                data.small.update((ind, region, data.period) for region in _below(data, f"{ind}.denominator",
                                                                                 rule.min_denominator))
    issues: list[Issue] = []
    for rule in rules:
        fn = RULE_KINDS.get(rule.kind)
        if fn is None:
            continue
        try:
            issues.extend(fn(rule, data))
        except (ArithmeticError, KeyError, ValueError, TypeError) as exc:
            issues.append(Issue(
                rule=rule.id, severity=Severity.INFO, period=data.period,
                message=t("规则 {id} 未能运行：{e}", "rule {id} could not run: {e}", id=rule.id,
                          e=f"{type(exc).__name__}: {exc}"),
                locations=(rule.location,) if rule.location else ()))
    return sorted(issues, key=_order)


def _below(data: CheckData, name: str, bound: Any) -> list[str]:
    """The regions where ``name`` (this period) is below ``bound``: compared on the entry's
    array when its regions are distinct (one value each, as in its dict), else on the dict."""
    found = data.values.below((name, data.period), bound) if isinstance(data.values, ValueTable) else None
    if found is not None:
        return found
    return [region for region, value in data.series(name).items() if value is not None and value < bound]


_SEV_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _order(issue: Issue) -> tuple[Any, ...]:
    return (_SEV_ORDER[issue.severity], issue.region_code or "", issue.rule, issue.period or "")


def excluded_from_rankings(data: CheckData) -> set[tuple[str, str, str]]:
    """(indicator, region, period) whose denominator is below a small_denominator rule's
    minimum: leave them out of rankings and outlier tests."""
    return set(data.small)


def group_by(issues: Iterable[Issue], key: Callable[[Issue], Any]) -> dict[Any, list[Issue]]:
    out: dict[Any, list[Issue]] = defaultdict(list)
    for issue in issues:
        out[key(issue)].append(issue)
    return dict(out)


from revstat import check_kinds as _kinds  # noqa: E402,F401  (registers the kinds)

__all__ = ["RULE_KINDS", "CheckData", "compare_series", "excluded_from_rankings", "fmt", "holds",
           "make_check_data", "render_message", "rule_kind", "run_checks"]
