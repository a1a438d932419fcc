"""Run the checks of a workspace: rules + compiled values + waivers → findings.

This is the glue the CLI (``revstat check``, ``revstat compile``) calls; the rule logic is in
:mod:`revstat.checks` and :mod:`revstat.check_kinds` (pure).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from revstat.checks import CheckData, factorize, make_check_data, run_checks
from revstat.i18n import t
from revstat.model import Issue
from revstat.rules import RuleDef, load_rules, rule_names, rule_runs, where_named
from revstat.waivers import Waiver, apply_waivers, load_waivers
from revstat.workspace import Workspace


@dataclass
class CheckReport:
    period: str
    issues: list[Issue]
    rules: list[RuleDef]
    waivers: list[Waiver] = field(default_factory=list)
    data: CheckData | None = None
    compared: list[str] = field(default_factory=list)  # periods read for the checks only (the previous one)

    @property
    def rules_by_id(self) -> dict[str, RuleDef]:
        return {r.id: r for r in self.rules}

    @property
    def not_run(self) -> set[str]:
        """Rules that use a field the workspace does not have (or an indicator computed from one):
        they find nothing because they check nothing, which CI reports should say."""
        if self.data is None:
            return set()
        fields = set(self.data.fields)
        inputs = self.data.indicator_inputs

        def available(name: str) -> bool:
            if name in fields:
                return True
            return name in inputs and bool(inputs[name]) and inputs[name] <= fields

        out = set()
        for rule in self.rules:
            try:
                runs = rule_runs(rule, available)
            except Exception:  # noqa: BLE001 - a rule that cannot be parsed is lint's to report
                continue
            if not runs:
                out.add(rule.id)
        return out


def indicator_inputs(indicators: list[Any], fields: set[str]) -> dict[str, frozenset[str]]:
    """Each indicator → the field ids its formula uses (through other indicators too)."""
    from revstat.formula import parse_formula

    direct: dict[str, set[str]] = {}
    for ind in indicators:
        try:  # an IndicatorDef keeps its formula parsed when the definitions were loaded
            parsed = ind.parsed if isinstance(getattr(type(ind), "parsed", None), property) else parse_formula(ind.formula)
            direct[ind.id] = set(parsed.names)
        except Exception:  # noqa: BLE001 - lint reports bad formulas; here they just have no cells
            direct[ind.id] = set()
    out: dict[str, frozenset[str]] = {}

    def resolve(name: str, seen: frozenset[str]) -> set[str]:
        if name in fields or name not in direct:
            return {name} if name in fields else set()
        if name in seen:
            return set()
        return set().union(*(resolve(n, seen | {name}) for n in direct[name])) if direct[name] else set()

    for name in direct:
        out[name] = frozenset(resolve(name, frozenset()))
    return out


def build_check_data(ws: Workspace, period: str, *, observations: Any, values: Any, results: Any,
                     indicators: list[Any] | None = None) -> CheckData:
    """CheckData for a workspace from the engine's tables (observations of every period read,
    rolled-up field values, indicator results)."""
    fields = ws.fields()
    sources = ws.field_sources()
    indicators = indicators or []
    targets: dict[str, tuple[str, Decimal]] = {}
    for ind in indicators:
        target = getattr(ind, "target", None)
        if target is not None and getattr(target, "value", None) is not None and target.applies(period):
            targets[ind.id] = (target.op, Decimal(str(target.value)))
    names = {f: d.name for f, d in fields.items()} | {i.id: i.name for i in indicators}
    names_en = {i.id: i.name_en for i in indicators if getattr(i, "name_en", None)}
    return make_check_data(
        period, ws.regions, values=_long_values(values), results=results, observations=observations,
        fields=fields, indicator_inputs=indicator_inputs(indicators, set(fields)),
        indicator_units={i.id: getattr(i, "unit", "") for i in indicators}, names=names, names_en=names_en,
        scope=ws.config.region, field_levels={f: s.region.level for f, s in sources.items()},
        field_sources={f: s.id for f, s in sources.items()}, targets=targets,
        record_fields=[f for f, s in sources.items() if s.kind == "records"])


def _long_values(values: Any) -> Any:
    """The engine's rolled-up values as a long table (field, region_code, period, value)."""
    if values is None or not len(values):
        return values
    if "field" in values.columns:
        return values
    if "region_code" in values.columns:  # wide: one column per field
        cols = [c for c in values.columns if c not in ("region_code", "region_name", "level", "period", "incomplete")]
        return values.melt(id_vars=["region_code", "period"], value_vars=cols, var_name="field", value_name="value")
    return values


def _read_periods(ws: Workspace, periods: list[str], *, roll_up_nothing: bool = True,
                  unread: list[Any] | None = None) -> tuple[Any, Any]:
    """Observations and rolled-up values of extra periods. Their read errors do not stop the
    checks (those files are not this period's data): the errors of the periods that have files
    are put in ``unread`` (a period without any file, like the first quarter of the data, is
    simply not compared). With ``roll_up_nothing=False`` an empty read gives None for the
    values (nothing to roll up)."""
    from revstat.hierarchy import roll_up
    from revstat.pipeline import has_files
    from revstat.sources import read_sources

    present = [p for p in periods if has_files(ws, p)]
    result = read_sources(ws, present or periods)  # with no file at all: the empty tables, no error kept
    if unread is not None and present:
        unread.extend((present, e) for e in result.errors)
    obs = result.observations
    if not len(obs) and not roll_up_nothing:
        return obs, None
    return obs, roll_up(obs, ws.regions, ws.fields())


def compiled_tables(ws: Workspace, period: str, compiled: Any = None, unread: list[Any] | None = None,
                    extra: list[str] | None = None, notes: list[Any] | None = None) -> tuple[Any, Any, Any, list[Any]]:
    """(observations, values, results, indicators) of ``period`` plus the previous period and
    the same period last year (cumulative and growth rules need them). ``unread`` collects
    ``(periods, error)`` for the files of those extra periods that could not be read; ``extra``
    the extra periods read that had files; ``notes`` the findings of the records aggregation
    (``Compiled.records_notes``)."""
    import pandas as pd

    from revstat.periods import Period

    if compiled is None:
        try:
            from revstat.pipeline import compile_workspace
        except ImportError:  # the engine without its pipeline: field rules only
            compiled = None
        else:
            compiled = compile_workspace(ws, period)
            if compiled.read_errors:  # unusable input: show the reading errors, exit 2
                from revstat.errors import ErrorGroup

                errors = list(compiled.read_errors)
                raise ErrorGroup.of(errors)
    p = Period.parse(period)
    wanted = [period, str(p.prev_period()), str(p.prev_year())]
    if compiled is not None:
        obs, values, results = compiled.observations, compiled.values, compiled.results
        indicators = list(compiled.indicators or [])
        if notes is not None:
            notes.extend(getattr(compiled, "records_notes", None) or [])
    else:
        obs = values = results = None
        indicators = []
    # the periods read (blanks are no period): periods come in long runs, hashed once per run
    have = set() if obs is None or not len(obs) else {str(p) for p in factorize(obs["period"].to_numpy(dtype=object))[1]}
    missing = [q for q in dict.fromkeys(wanted) if q not in have]
    if missing:
        extra_obs, extra_values = _read_periods(ws, missing, roll_up_nothing=values is None, unread=unread)
        if extra is not None and len(extra_obs):
            extra.extend(q for q in missing if (extra_obs["period"].astype(str) == q).any())
        # nothing read (no workbooks for those periods): keep the tables as they are, uncopied
        if obs is None or len(extra_obs):
            obs = extra_obs if obs is None else pd.concat([obs, extra_obs], ignore_index=True)
        if extra_values is not None and (values is None or len(extra_values)):
            values = extra_values if values is None else pd.concat([_long_values(values), extra_values], ignore_index=True)
    return obs, values, results, indicators




def checked_rules(ws: Workspace, indicators: list[Any]) -> list[RuleDef]:
    """The workspace's rules (standard and its own), refused when one of its own names neither a
    field nor an indicator: ``revstat compile`` calls it before writing anything."""
    rules = list(load_rules(ws))
    _refuse_unknown_names(ws, rules, indicators)
    return rules


def check_workspace(ws: Workspace, period: str, *, today: dt.date, compiled: Any = None,
                    rules: list[RuleDef] | None = None) -> CheckReport:
    """Compile (unless given) and check one period; waivers from checks/waivers.yaml applied.
    ``rules``: from :func:`checked_rules` when the caller loaded them already."""
    preloaded = rules is not None
    rules = list(rules) if rules is not None else list(load_rules(ws))
    unread: list[Any] = []
    extra: list[str] = []
    notes: list[Issue] = []
    obs, values, results, indicators = compiled_tables(ws, period, compiled, unread, extra, notes)
    if not preloaded:
        _refuse_unknown_names(ws, rules, indicators)
    data = build_check_data(ws, period, observations=obs, values=values, results=results,
                            indicators=indicators)
    waivers = load_waivers(ws.root / "checks" / "waivers.yaml", "checks/waivers.yaml", ws.regions)
    from revstat.records.notes import RULES as RECORDS_NOTES

    found = run_checks(rules, data) + [_unread_issue(period, periods, err) for periods, err in unread]
    found += [replace(n, period=n.period or period) for n in notes]
    issues = apply_waivers(found, waivers, today, rules=[*(r.id for r in rules), UNREAD_EARLIER, *RECORDS_NOTES])
    return CheckReport(period, issues, rules, waivers, data, compared=extra)


def _refuse_unknown_names(ws: Workspace, rules: list[RuleDef], indicators: list[Any]) -> None:
    """A rule of the workspace's own checks/*.yaml naming neither a field nor an indicator (a
    typo) is a definition error, as in an indicator's formula: it would otherwise never run and
    say nothing. A standard rule on fields the workspace lacks is only not run (its ``not_run``)."""
    from revstat.errors import DefinitionError, ErrorGroup
    from revstat.lint import did_you_mean

    known = set(ws.fields()) | {i.id for i in indicators}
    local = [r for r in rules if r.location is not None and not r.location.file.startswith("<revstat>/")]
    unknown: list[tuple[RuleDef, str]] = []
    for rule in local:
        try:
            names = rule_names(rule)
        except Exception:  # noqa: BLE001 - a formula that does not parse: the rule's own error when it runs
            continue
        unknown += [(rule, n) for n in dict.fromkeys(names) if n not in known]
    if not unknown:
        return
    from revstat.definitions import catalogue_fields, load_indicators

    known |= {i.id for i in load_indicators(ws)} | set(catalogue_fields())  # indicators skipped for want of fields
    errors = []
    for rule, name in unknown:
        if name in known:
            continue
        guess = did_you_mean(name, known)
        errors.append(DefinitionError(
            t("规则 {id} 引用了未知的名称 `{name}`{hint}", "rule {id} refers to unknown name `{name}`{hint_en}", id=rule.id,
              name=name, hint=f"，是否应为 `{guess}`？" if guess else "",
              hint_en=f"; did you mean `{guess}`?" if guess else ""),
            where_named(rule, name),
            t("改正规则中的名称：字段在 sources/*.yaml 中定义，`revstat indicators` 列出指标",
              "correct the name in the rule: fields are defined in sources/*.yaml, `revstat indicators` lists the "
              "indicators")))
    if errors:
        raise ErrorGroup.of(errors)


#: The rule id of the notice that an earlier period's file could not be read for the checks.
UNREAD_EARLIER = "earlier_period_unread"


def _unread_issue(period: str, periods: list[str], err: Any) -> Issue:
    """An earlier period's file the checks could not read, as a notice: the rules comparing
    with that period (cumulative figures, ``not_an_old_report``) did not see it."""
    from revstat.i18n import Text
    from revstat.model import Severity

    what = err.what if isinstance(getattr(err, "what", None), Text) else t(str(err), str(err))
    return Issue(
        rule=UNREAD_EARLIER, severity=Severity.INFO, period=period,
        message=t("{periods}的报表未能读取（{what}），与{periods}比较的审核（累计数不下降、上期报表重报等）没有用到它",
                  "this {periods} file could not be read ({what}); the checks against {periods} (cumulative "
                  "figures, repeated reports) did not use it",
                  periods="、".join(periods), what=what),
        locations=(err.where,) if getattr(err, "where", None) is not None else ())


__all__ = ["CheckReport", "build_check_data", "check_workspace", "checked_rules", "indicator_inputs"]
