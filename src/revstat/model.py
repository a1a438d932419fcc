"""Small frozen value types shared by every stage: locations, severities, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from revstat.i18n import Text, get_lang


@dataclass(frozen=True, slots=True)
class Location:
    """Where something came from: a workbook cell, or a line of a YAML/template file."""

    file: str
    sheet: str | None = None
    cell: str | None = None  # "D12"
    line: int | None = None  # 1-based line in a YAML or template file
    column: int | None = None  # 1-based column in that line (formulas)
    note: str | None = None  # e.g. "列 人数" when no single cell applies

    def __str__(self) -> str:
        return self.render()

    def render(self, lang: str | None = None) -> str:
        en = (lang or get_lang()) == "en"
        parts = [self.file]
        if self.sheet is not None:
            parts.append(self.sheet)
        if self.cell is not None:
            parts.append(self.cell)
        text = " › ".join(parts)
        if self.line is not None:
            text += f", line {self.line}" if en else f"，第{self.line}行"
            if self.column is not None:
                text += f", column {self.column}" if en else f"第{self.column}列"
        if self.note:
            text += f" ({self.note})" if en else f"（{self.note}）"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("file", self.file), ("sheet", self.sheet), ("cell", self.cell),
                                  ("line", self.line), ("column", self.column)) if v is not None}


class Severity(StrEnum):
    ERROR = "error"  # 强制性
    WARNING = "warning"  # 提示性/核实性
    INFO = "info"

    @property
    def label_zh(self) -> str:
        return {"error": "错误", "warning": "警告", "info": "提示"}[self.value]


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding of a check: bad data is collected as Issues, never raised."""

    rule: str
    severity: Severity
    message: Text
    region_code: str | None = None
    region_name: str | None = None
    period: str | None = None
    expected: Any = None
    actual: Any = None
    difference: Any = None
    locations: tuple[Location, ...] = field(default_factory=tuple)
    waived: str | None = None  # the waiver's reason when waived
    #: what the finding says, for the programs that summarise findings (``"no_report"``: none of a
    #: region's lower-level regions has data — its workbook was not received); not written out
    tag: str | None = field(default=None, compare=False)

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message.render(lang),
            "region_code": self.region_code,
            "region_name": self.region_name,
            "period": self.period,
            "expected": _plain(self.expected),
            "actual": _plain(self.actual),
            "difference": _plain(self.difference),
            "locations": [loc.to_dict() for loc in self.locations],
            "waived": self.waived,
        }


def _plain(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    return value
