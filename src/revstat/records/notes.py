"""What the records aggregation must say without stopping: findings, not input errors.

* ``records_outside_workspace`` (提示): records whose region code is a real code outside the
  workspace's region were left out. A province's export holds every city's households, so this
  is normal — but a county code typed wrong drops its households just as quietly, and the count
  lets the user see it.
* ``records_value_not_found`` (警告): a field's condition compares a column with a value that no
  record has (``monitor_type == '脱贫不稳定'`` for 脱贫不稳定户), so the field is 0 everywhere. A
  real zero is possible (no 突发严重困难户 this quarter), hence a warning naming the values the
  column does hold, and the likeliest of them.

Both are :class:`revstat.model.Issue` s; ``revstat compile`` and ``revstat check`` add them to
the period's findings (``revstat.pipeline.Compiled.records_notes``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revstat.formula import Compare, Name, Node, Str, walk
from revstat.i18n import t
from revstat.model import Issue, Location, Severity
from revstat.records import sql as rsql

if TYPE_CHECKING:
    from revstat.records.engine import SourcePlan

OUTSIDE = "records_outside_workspace"
NOT_FOUND = "records_value_not_found"
RULES = (OUTSIDE, NOT_FOUND)


def outside_note(ws: Any, plan: SourcePlan, label: str, outside: Mapping[str, int], period: str | None) -> Issue:
    """The records left out because their codes are outside the workspace's region."""
    total = sum(outside.values())
    first = sorted(outside.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    more = " …" if len(outside) > 5 else ""
    scope = ws.config.region
    name = ws.regions.name(scope) if scope in ws.regions else scope
    return Issue(
        rule=OUTSIDE, severity=Severity.INFO, period=period,
        message=t("户级数据中有 {n} 条记录的地区代码不在本工作区（{name} {scope}）范围内，未计入：{codes}{more}",
                  "{n} {records} whose region code is outside the workspace ({name} {scope}) left out: "
                  "{codes_en}{more}", n=total, records="record" if total == 1 else "records", name=name,
                  scope=scope, more=more,
                  codes="、".join(f"{c}（{k} 条）" for c, k in first),
                  codes_en=", ".join(f"{c} ({k})" for c, k in first)),
        locations=(Location(label, note=plan.region_column),))


def _literals(node: Node | None) -> list[tuple[str, str]]:
    """(column, value) of each ``column == 'value'`` in a condition (either side)."""
    out: list[tuple[str, str]] = []
    for n in walk(node) if node is not None else []:
        if not isinstance(n, Compare) or len(n.ops) != 1 or n.ops[0] != "==":
            continue
        a, b = n.left, n.comparators[0]
        if isinstance(a, Str) and isinstance(b, Name):
            a, b = b, a
        if isinstance(a, Name) and isinstance(b, Str):
            out.append((a.id, b.value))
    return out


def unmatched_values(ws: Any, plan: SourcePlan, names: Sequence[str], rows: Sequence[tuple[Any, ...]],
                     label: str, paths: Sequence[Path], period: str | None) -> list[Issue]:
    """A warning for each field that matched no record because its condition asks for a value its
    column never holds (the column's values are read again, on this case only)."""
    from revstat.records.engine import field_line
    from revstat.records.validate import _ask_files

    pos = {n: i for i, n in enumerate(names)}
    out: list[Issue] = []
    asked: dict[str, list[str] | None] = {}
    for agg in plan.aggregates:
        pairs = _literals(agg.where)
        matched = pos.get(f"{agg.alias}_n" if agg.measure == "sum" else agg.alias)
        if not pairs or matched is None or any(r[matched] for r in rows):
            continue
        for column, value in pairs:
            if column not in asked:  # the commonest values of the column, trimmed as the conditions see them
                text = rsql.text_sql(column)
                found = _ask_files(plan, paths, lambda reader, text=text: (
                    f"SELECT v FROM (SELECT {text} AS v FROM {reader}) WHERE v IS NOT NULL "
                    f"GROUP BY v ORDER BY count(*) DESC, v LIMIT 12")) if paths else None
                asked[column] = None if found is None else [str(r[0]) for r in found]
            values = asked[column]
            if values is None or value in values:
                continue
            f = plan.fields[agg.alias]
            close = difflib.get_close_matches(value, values, n=1, cutoff=0.5)
            guess = t("，是否应为 {c!r}？", "; did you mean {c!r}?", c=close[0]) if close else t("", "")
            shown = values[:8]
            more = " …" if len(values) > 8 else ""
            display = plan.display
            out.append(Issue(
                rule=NOT_FOUND, severity=Severity.WARNING, period=period,
                message=t("字段 {id}（{name}）没有匹配到任何记录：条件 {w} 中的 {v!r} 在列 {c} 中一个也没有"
                          "（该列的值有 {vals}{more}）{guess}",
                          "field {id} ({name_en}) matched no record: {v!r} in its condition {w} is nowhere in "
                          "column {c} (it holds {vals_en}{more}){guess}",
                          id=f.id, name=f.name or f.id, name_en=f.name_en or f.name or f.id, w=f.where, v=value,
                          c=column, vals="、".join(repr(x) for x in shown), vals_en=", ".join(repr(x) for x in shown),
                          more=more, guess=guess),
                locations=(Location(display, line=field_line(ws.root / display, _field_index(plan, f.id), "where"),
                                    note=f.id), Location(label, note=column))))
            break
    return out


def _field_index(plan: SourcePlan, field_id: str) -> int:
    return next(i for i, f in enumerate(plan.source.fields) if f.id == field_id)
