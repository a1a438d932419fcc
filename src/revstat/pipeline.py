"""Compile a workspace for one period: read → roll up → compute (→ checks) → write.

``compile_workspace(ws, "2024Q4")`` reads the periods the formulas need (the period, the same
period last year, and the earlier periods of the year when ``ytd``/``prev_period``/
``quarterly`` ask for them; optional periods only when their files exist), rolls every field
up the region hierarchy, and computes every indicator at every level. ``write_outputs``
writes the output contract of DESIGN.md under ``out/<period>/`` atomically.

The checks engineer fills :attr:`Compiled.findings`; ``findings.json`` is written from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revstat import tidy
from revstat.definitions import IndicatorDef, catalogue_fields, load_indicators
from revstat.hierarchy import roll_up
from revstat.i18n import name_in
from revstat.indicators import Skipped, compute_indicators, split_available
from revstat.periods import Period


@dataclass
class Compiled:
    workspace: Any  # revstat.workspace.Workspace
    period: str
    observations: Any  # DataFrame, tidy.OBSERVATION_COLUMNS, every period read (合计 rows included)
    values: Any  # DataFrame, hierarchy.VALUE_COLUMNS: every field at every level, every period read
    results: Any  # DataFrame, tidy.RESULT_COLUMNS for ``period``
    indicators: list[IndicatorDef]  # the indicators computed
    read_errors: list[Any]  # RevstatError of reading (shown as 错误/位置/处理)
    read_summary: Any  # revstat.sources.read.ReadSummary (or None)
    findings: list[Any] = field(default_factory=list)  # revstat.model.Issue, from the checks
    skipped: list[Skipped] = field(default_factory=list)  # indicators whose fields are absent
    periods: list[str] = field(default_factory=list)  # every period read
    records_missing: list[str] = field(default_factory=list)  # records files patterns with no file for the period
    records_missing_before: list[str] = field(default_factory=list)  # … nor for the same period last year
    #: revstat.model.Issue of the records aggregation (revstat.records.notes): records left out,
    #: conditions asking for a value no record has; the checks add them to the period's findings
    records_notes: list[Any] = field(default_factory=list)
    check_periods: list[str] = field(default_factory=list)  # periods the checks read besides (the previous one)


def periods_needed(defs: list[IndicatorDef], period: Period) -> tuple[list[Period], list[Period]]:
    """``(required, optional)`` periods for computing ``defs`` at ``period`` and comparing with
    the same period last year."""
    required = [period]
    optional = [period.prev_year()]
    calls = set().union(*(d.parsed.calls for d in defs)) if defs else set()
    if calls & {"ytd", "prev_period", "quarterly"}:
        for p in (period, period.prev_year()):
            for q in p.year_to_date():
                optional.append(q)
            optional.append(p.prev_period())
    if calls & {"growth", "pp", "prev_year"}:
        optional.append(period.prev_year().prev_year())  # last year's growth, for its change
    seen: list[Period] = []
    for p in [*required, *optional]:
        if p not in seen:
            seen.append(p)
    return required, [p for p in seen if p not in required]


def has_files(ws: Any, period: Period | str) -> bool:
    """True when some source of the workspace has a file for ``period`` (a records source whose
    file pattern has no ``{period}`` holds every period: a period column)."""
    for source in ws.sources:
        if source.kind == "records" and "{period}" not in source.files:
            if any(p.is_file() for p in ws.root.glob(source.files)):
                return True
            continue
        pattern = source.files.replace("{period}", str(period))
        if any(p.is_file() and not p.name.startswith("~$") for p in ws.root.glob(pattern)):
            return True
    return False


def read_periods(ws: Any, period: str | Period, defs: list[IndicatorDef]) -> list[str]:
    """The periods compiling ``period`` reads: the period itself, then the optional ones
    (same period last year, earlier periods of the year …) that have files."""
    p = Period.parse(str(period))
    usable, _ = split_available(defs, ws.fields())
    required, optional = periods_needed(usable, p)
    return [str(x) for x in required] + [str(x) for x in optional if has_files(ws, x)]


def compile_workspace(ws: Any, period: str | Period, *, progress: Callable[[str], None] | None = None,
                      engine: str = "auto", defs: list[IndicatorDef] | None = None,
                      prefetched: Any = None) -> Compiled:
    """Read, roll up and compute one period of a workspace (see the module docstring).

    ``prefetched``: a :func:`revstat.sources.read.start_prefetch` of the periods
    :func:`read_periods` gives, started before pandas was imported (``revstat compile``)."""
    import pandas as pd

    from revstat.sources.read import read_sources

    p = Period.parse(str(period))
    defs = load_indicators(ws) if defs is None else defs
    fields = ws.fields()
    usable, skipped = split_available(defs, fields)
    absent = records_without_files(ws, p)  # no household export for the period: its fields are absent
    if absent:
        usable, unread = split_available(usable, set(fields) - set().union(*absent.values()))
        skipped += [Skipped(s.indicator, s.missing, "no_file") for s in unread]
    periods = read_periods(ws, p, defs)
    before = p.prev_year()  # the comparison period's export missing: the changes of its indicators are blank
    absent_before = records_without_files(ws, before) if str(before) in periods else {}
    read = read_sources(ws, periods, progress=progress, prefetched=prefetched)
    frames = [read.observations]
    errors = list(read.errors)
    notes: list[Any] = []
    if any(s.kind == "records" for s in ws.sources):
        from revstat.records import read_records

        frames.append(read_records(ws, periods, engine=engine))
        notes = [n for n in frames[-1].attrs.get("notes", []) if n.period in (None, str(p))]
    observations = pd.concat([f for f in frames if f is not None and len(f)], ignore_index=True) \
        if any(f is not None and len(f) for f in frames) else read.observations
    observations = observations.astype({tidy.VALUE: object})
    catalogue = {**catalogue_fields(), **fields}
    values = roll_up(observations, ws.regions, catalogue)
    labels = {f.id: name_in(f) for f in catalogue.values()}  # the notes' (缺少…数据) language
    results = compute_indicators(values, usable, ws.regions, str(p), rounding=ws.config.rounding,
                                 scope=ws.config.region, available=fields.keys(), labels=labels,
                                 temporal={f.id: f.temporal for f in catalogue.values()},
                                 comparable=_comparable_values(observations, values, str(p), catalogue, ws.regions)
                                 if str(p.prev_year()) in periods else None)  # last year read: else no change
    return Compiled(workspace=ws, period=str(p), observations=observations, values=values, results=results,
                    indicators=usable, read_errors=errors, read_summary=read.summary, skipped=skipped,
                    periods=periods, records_missing=sorted(absent), records_missing_before=sorted(absent_before),
                    records_notes=notes)


def _comparable_values(observations: Any, values: Any, period: str, catalogue: dict[str, Any], tree: Any) -> Any:
    """The two years rolled up over the values both have (:func:`revstat.hierarchy.comparable`),
    for changes on a comparable basis; None when no total of either year is incomplete (then
    every change already compares like with like) or last year was not read."""
    from revstat.hierarchy import INCOMPLETE, comparable

    prev = str(Period.parse(period).prev_year())
    if values is None or not len(values) or INCOMPLETE not in values.columns:
        return None
    periods = values[tidy.PERIOD].astype(str)
    if not (periods == prev).any() or not values[INCOMPLETE].to_numpy(dtype=bool)[periods.isin([period, prev])].any():
        return None
    same = comparable(observations, period, prev)
    return roll_up(same, tree, catalogue) if len(same) else None


def records_without_files(ws: Any, period: Period) -> dict[str, set[str]]:
    """The files patterns of the records sources that have no file for ``period`` (one export a
    period, ``{period}`` in ``files``), each with the fields it would give. Their indicators are
    skipped and said to be, rather than left out of the outputs without a word."""
    from revstat.records.files import files_of

    out: dict[str, set[str]] = {}
    for source in ws.sources:
        if source.kind != "records" or "{period}" not in source.files or "://" in source.files:
            continue
        if not files_of(ws, source, str(period)):
            out.setdefault(source.files.replace("{period}", str(period)), set()).update(f.id for f in source.fields)
    return out


def write_outputs(compiled: Compiled, out_dir: Path | None = None, *,
                  checks: Callable[[Compiled], None] | None = None, fork: bool = False) -> Path:
    """Write indicators.csv/json/xlsx and findings.json under ``out/<period>/`` atomically.

    ``checks``: fills ``compiled.findings`` (``revstat compile`` passes the consistency
    checks); it runs before findings.json is written. ``fork=True`` (what the ``revstat
    compile`` command passes; off by default, because forking a program that runs threads of
    its own, such as a web server, is unsafe): on a machine with more than one core the CSV and
    JSON (one shared text conversion, ~40% of the writing) are written by a forked copy of this
    process while this one runs the checks and writes the workbook
    (:mod:`revstat.writers.background`; ``REVSTAT_JOBS=1`` turns it off). Either way the files
    are the same, and an error in any of them (or in the checks) leaves ``out/<period>/`` as it
    was.
    """
    from revstat.writers import tables
    from revstat.writers.atomic import atomic_dir
    from revstat.writers.background import Background

    target = Path(out_dir) if out_dir is not None else compiled.workspace.out_dir(compiled.period)

    with atomic_dir(target) as tmp:
        def text_tables() -> None:
            text = tables.result_text(compiled.results)  # each cell's text, converted once for both files
            tables.write_indicators_csv(compiled.results, tmp / "indicators.csv", text=text)
            tables.write_indicators_json(compiled.results, tmp / "indicators.json", period=compiled.period,
                                         skipped=compiled.skipped, text=text)

        with Background(text_tables, fork=fork) as csv_json:
            if checks is not None:
                checks(compiled)
            tables.write_indicators_xlsx(compiled.results, tmp / "indicators.xlsx", compiled.indicators,
                                         tree=compiled.workspace.regions, title=compiled.workspace.config.name)
            tables.write_findings_json(compiled.findings, tmp / "findings.json", period=compiled.period)
            csv_json.join()
    return target


# ---- explain -------------------------------------------------------------------------------

@dataclass
class Term:
    """One name of a formula at one region and period: its value and where it came from."""

    name: str
    label: str
    kind: str  # "field" | "indicator"
    period: str
    value: Any  # Decimal | None
    origin: str | None  # source | records | rollup | None (indicator or missing)
    incomplete: bool
    children: list[tuple[str, str, Any]]  # (code, name, value) when rolled up
    cells: list[Any]  # Location of every workbook cell behind it
    formula: str | None = None  # for an indicator term
    weight: str | None = None  # the weight field of a weighted mean (agg: wmean)
    weights: list[Any] = field(default_factory=list)  # the children's weights, in order
    records: list[RecordsOrigin] = field(default_factory=list)  # household records behind it


@dataclass(frozen=True)
class RecordsOrigin:
    """Household records behind a term: one records file (or the pattern of a period's files) and
    the aggregation (``count where monitor_type == '脱贫不稳定户'``), once for the regions it fed."""

    file: str
    aggregation: str
    regions: int  # how many regions (villages) below the explained one the records gave a value
    level: str | None  # their level (the source's ``region: level``), when they share one
    rows: int | None = None  # the records counted (a ``measure: count`` field), else None


@dataclass
class Explanation:
    indicator: IndicatorDef
    region_code: str
    region_name: str
    period: str
    result: dict[str, Any] | None  # the results row
    terms: list[Term]


def term_periods(d: IndicatorDef, period: Period) -> list[str]:
    calls = d.parsed.calls
    out = [period]
    if calls & {"growth", "pp", "prev_year"}:
        out.append(period.prev_year())
    if calls & {"ytd", "quarterly", "prev_period"}:
        out += [q for q in period.year_to_date() if q != period] + [period.prev_period()]
    return list(dict.fromkeys(str(p) for p in out))


def explain(compiled: Compiled, indicator: IndicatorDef, region: str) -> Explanation:
    """Why an indicator has its value at a region: the value of each term, the children a
    rolled-up term was summed from, and the cells (file › sheet › cell) behind it."""
    from revstat.hierarchy import INCOMPLETE, REPORTED
    from revstat.model import Location

    tree = compiled.workspace.regions
    res = compiled.results
    rows = res[(res["indicator"] == indicator.id) & (res[tidy.REGION_CODE] == region)]
    result = rows.to_dict("records")[0] if len(rows) else None
    values = compiled.values
    obs = compiled.observations
    fields = {**catalogue_fields(), **compiled.workspace.fields()}
    defs = {d.id: d for d in compiled.indicators}
    subtree = set(tree.subtree(region))
    terms: list[Term] = []
    for period in term_periods(indicator, Period.parse(compiled.period)):
        for name in _names_in_order(indicator):
            if name in defs:
                sub = res[(res["indicator"] == name) & (res[tidy.REGION_CODE] == region)]
                rec = sub.to_dict("records")[0] if len(sub) else {}
                value = rec.get(tidy.VALUE) if period == compiled.period else (
                    rec.get("previous") if period == str(Period.parse(compiled.period).prev_year()) else None)
                terms.append(Term(name, name_in(defs[name]), "indicator", period, value, None,
                                  bool(rec.get("incomplete", False)), [], [], defs[name].formula))
                continue
            at = values[(values[tidy.FIELD] == name) & (values[tidy.PERIOD] == period)]
            by_code = {r[tidy.REGION_CODE]: r for r in at.to_dict("records")}
            own = by_code.get(region)
            children = []
            if own is not None and own[tidy.ORIGIN] == "rollup":
                children = [(c, tree.name(c), by_code[c][tidy.VALUE] if c in by_code else None)
                            for c in tree.children.get(region, [])]
            reported = obs[(obs[tidy.FIELD] == name) & (obs[tidy.PERIOD] == period) & obs[tidy.ORIGIN].isin(REPORTED)
                           & obs[tidy.REGION_CODE].isin(subtree)]
            from_records = reported[tidy.ORIGIN] == "records"
            cells_df = reported[~from_records]
            cells = [Location(str(f), None if s is None or s != s else str(s), None if c is None or c != c else str(c))
                     for f, s, c in zip(cells_df[tidy.FILE], cells_df[tidy.SHEET], cells_df[tidy.CELL], strict=True)]
            fdef = fields.get(name)
            label = name_in(fdef) if fdef is not None else name
            term = Term(name, label, "field", period, own[tidy.VALUE] if own else None,
                        own[tidy.ORIGIN] if own else None, bool(own[INCOMPLETE]) if own else False,
                        children, cells, records=_records_origins(reported[from_records], fdef))
            if getattr(fdef, "agg", None) == "wmean" and children:
                wt = values[(values[tidy.FIELD] == fdef.weight) & (values[tidy.PERIOD] == period)]
                wmap = dict(zip(wt[tidy.REGION_CODE], wt[tidy.VALUE], strict=True))
                term.weight = name_in(fields[fdef.weight]) if fdef.weight in fields else fdef.weight
                term.weights = [wmap.get(c) for c, _, _ in children]
            terms.append(term)
    return Explanation(indicator, region, tree.name(region), compiled.period, result, terms)


def _records_origins(rows: Any, fdef: Any) -> list[RecordsOrigin]:
    """The observations a records source gave a term (one per village), as one line per file and
    aggregation: a county's 50 villages are one file and one filter, not 50 identical cells."""
    out = []
    counted = getattr(fdef, "measure", None) == "count"
    for (file, aggregation), group in rows.groupby([tidy.FILE, tidy.CELL], sort=False, dropna=False):
        levels = set(group[tidy.LEVEL].dropna())
        values = [v for v in group[tidy.VALUE] if v is not None and v == v]
        out.append(RecordsOrigin(str(file), "" if aggregation != aggregation else str(aggregation),
                                 group[tidy.REGION_CODE].nunique(), levels.pop() if len(levels) == 1 else None,
                                 int(sum(values)) if counted else None))
    return out


def _names_in_order(d: IndicatorDef) -> list[str]:
    from revstat.formula import Name, walk

    return list(dict.fromkeys(n.id for n in walk(d.parsed.tree) if isinstance(n, Name)))
