"""Waivers (已知例外): checks/waivers.yaml records findings a bureau has explained.

::

    waivers:
      - rule: toilet_rate_target
        region: 南岭县            # name or 12-digit code
        period: 2024Q4           # optional: every period when omitted
        reason: 山区分散农户改厕2025年完成，已报市政府备案
        who: 张三（市乡村振兴局）
        expires: 2025-06-30

A waived finding keeps its place in every output, marked as waived (with the reason, so a
report can cite it as a footnote), and never fails ``revstat check``. A waiver past its
expiry date waives nothing and is itself reported as a warning, loudly, until removed or
renewed. The date of "today" is passed in: the core never reads the clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from revstat.config import Strict, validate_model
from revstat.errors import DefinitionError
from revstat.i18n import t
from revstat.model import Issue, Location, Severity
from revstat.regions import RegionTree
from revstat.yamlload import LineDict, load_yaml

WAIVER_EXPIRED = "waiver_expired"
WAIVER_UNKNOWN = "waiver_unknown_rule"
WAIVER_UNUSED = "waiver_unused"


class Waiver(Strict):
    rule: str = Field(description="规则 id")
    region: str | None = Field(None, description="地区名称或12位代码；缺省为所有地区")
    period: str | None = Field(None, description="报告期；缺省为所有报告期")
    reason: str = Field(min_length=2, description="原因")
    who: str = Field(min_length=1, description="批准人")
    expires: dt.date = Field(description="到期日期 YYYY-MM-DD")
    line: int | None = Field(None, exclude=True)

    @field_validator("region", "period", mode="before")
    @classmethod
    def _as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


class _WaiverFile(Strict):
    waivers: list[Waiver] = Field(default_factory=list)


def parse_waivers(data: Any, display: str, tree: RegionTree | None = None) -> list[Waiver]:
    """Validate waivers.yaml data; regions given by name are resolved to codes."""
    if data is None:
        return []
    if isinstance(data, dict):
        for item in data.get("waivers") or []:
            if isinstance(item, dict) and "line" in item:
                raise DefinitionError(t("未知的键 line", "unknown key line"),
                                      Location(display, line=getattr(item, "line", None)))
    parsed = validate_model(_WaiverFile, data, display)
    out = []
    for index, waiver in enumerate(parsed.waivers):
        item = data["waivers"][index]
        line = item.line if isinstance(item, LineDict) else None
        region = waiver.region
        if region is not None and tree is not None:
            region = tree.match(region, where=Location(display, line=line))
        out.append(waiver.model_copy(update={"region": region, "line": line}))
    return out


def load_waivers(path: Path, display: str = "checks/waivers.yaml", tree: RegionTree | None = None) -> list[Waiver]:
    if not path.is_file():
        return []
    return parse_waivers(load_yaml(path, display), display, tree)


def apply_waivers(issues: list[Issue], waivers: list[Waiver], today: dt.date,
                  display: str = "checks/waivers.yaml", rules: Any = None) -> list[Issue]:
    """Mark waived findings; add a warning for each expired waiver (which waives nothing), and
    with ``rules`` (the ids of the rules) a notice for a waiver of a rule that does not exist (a
    typo: it waives nothing either)."""
    active = [w for w in waivers if w.expires >= today]
    out: list[Issue] = []
    for issue in issues:
        match = next((w for w in active if _matches(w, issue)), None)
        out.append(dataclasses.replace(issue, waived=match.reason) if match else issue)
    for w in waivers:
        if w.expires < today:
            out.append(Issue(
                rule=WAIVER_EXPIRED, severity=Severity.WARNING, period=w.period,
                region_code=w.region,
                message=t("豁免已过期：规则 {rule}（{region}{period}）的豁免于 {date} 到期（{who}：{reason}），请续期或删除",
                          "waiver expired: the waiver of rule {rule} ({region} {period}) ended on {date} ({who}: {reason}); renew or remove it",
                          rule=w.rule, region=w.region or "", period=w.period or "", date=w.expires.isoformat(),
                          who=w.who, reason=w.reason),
                locations=(Location(display, line=w.line),)))
    known = set(rules) if rules is not None else None
    for w in waivers:
        if known is not None and w.rule not in known and w.rule != WAIVER_EXPIRED:
            out.append(Issue(
                rule=WAIVER_UNKNOWN, severity=Severity.INFO, period=w.period, region_code=w.region,
                message=t("豁免没有起作用：没有 id 为 {rule} 的审核规则（拼写错误？`revstat lint` 会指出）",
                          "a waiver waives nothing: there is no rule with the id {rule} (a typo? `revstat lint` says)",
                          rule=w.rule),
                locations=(Location(display, line=w.line),)))
    return out


def _matches(w: Waiver, issue: Issue) -> bool:
    return (w.rule == issue.rule and (w.region is None or w.region == issue.region_code)
            and (w.period is None or w.period == issue.period))


def fails(issues: list[Issue], strict: bool = False) -> bool:
    """True when an unwaived error (or, with ``strict``, an unwaived warning) remains."""
    bad = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(i.severity in bad and i.waived is None for i in issues)


__all__ = ["Waiver", "apply_waivers", "fails", "load_waivers", "parse_waivers", "WAIVER_EXPIRED", "WAIVER_UNKNOWN"]
