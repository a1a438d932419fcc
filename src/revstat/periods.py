"""Reporting periods: ``2024Q3`` (quarter, cumulative 1—9月 for flows), ``2024`` (year), ``2024M07``.

Pure arithmetic on period labels: previous year, previous period, quarters of the year so far,
and the share of the year elapsed (序时进度: Q1 25%, Q2 50%, Q3 75%, Q4 100%).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from revstat.errors import ConfigError
from revstat.i18n import t

_RE = re.compile(r"^(\d{4})(?:(Q)([1-4])|(M)(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True, order=True, slots=True)
class Period:
    year: int
    kind: str  # "Y" | "Q" | "M"
    number: int  # quarter or month; 0 for a year

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _RE.match(str(text).strip().upper())
        if not m:
            raise ConfigError(
                t("无法识别的报告期 {p!r}", "unrecognised period {p!r}", p=text),
                fix=t("报告期写作 2024Q3（季度）、2024M07（月）或 2024（年）",
                      "write a period as 2024Q3 (quarter), 2024M07 (month) or 2024 (year)"),
            )
        year = int(m.group(1))
        if m.group(2):
            return cls(year, "Q", int(m.group(3)))
        if m.group(4):
            return cls(year, "M", int(m.group(5)))
        return cls(year, "Y", 0)

    def __str__(self) -> str:
        if self.kind == "Q":
            return f"{self.year}Q{self.number}"
        if self.kind == "M":
            return f"{self.year}M{self.number:02d}"
        return str(self.year)

    @property
    def months(self) -> int:
        """Months of the year covered by a cumulative (1—N月) figure."""
        return {"Y": 12, "Q": 3 * self.number, "M": self.number}[self.kind]

    def prev_year(self) -> Period:
        return Period(self.year - 1, self.kind, self.number)

    def prev_period(self) -> Period:
        if self.kind == "Y":
            return Period(self.year - 1, "Y", 0)
        last = 4 if self.kind == "Q" else 12
        if self.number == 1:
            return Period(self.year - 1, self.kind, last)
        return Period(self.year, self.kind, self.number - 1)

    @property
    def ends_year(self) -> bool:
        """The period that closes its year (2024Q4, 2024M12, 2024): where annual targets are judged."""
        return self.months == 12

    def is_first_of_year(self) -> bool:
        return self.kind == "Y" or self.number == 1

    def elapsed(self) -> Decimal:
        """Share of the year elapsed, in percent (Q3 → 75)."""
        return Decimal(self.months) * 100 / 12

    def label_zh(self) -> str:
        """``2024年1—9月`` for a quarter, ``2024年`` for a year (how reports name a period)."""
        if self.kind == "Y":
            return f"{self.year}年"
        if self.months == 1:
            return f"{self.year}年1月"
        return f"{self.year}年1—{self.months}月"

    def year_to_date(self) -> list[Period]:
        """Periods of the same year up to and including this one."""
        if self.kind == "Y":
            return [self]
        return [Period(self.year, self.kind, n) for n in range(1, self.number + 1)]


def parse_period(text: str) -> Period:
    return Period.parse(text)
