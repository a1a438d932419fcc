"""Exact numbers: parse what counties type into cells, round once at output.

Values travel as :class:`decimal.Decimal` (or ``None`` for missing) from the cell to the
output; rounding is half-up (四舍五入) by default, half-even (GB/T 8170) on request, and is
done on the decimal value, never on a binary float.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation

#: Arithmetic context of the engine: plenty of digits, no exceptions for x/0 (they become
#: Infinity/NaN, which the engine turns into a missing value with a reason).
CONTEXT = Context(prec=34, traps=[])

#: Text that means "no value" in published tables: blank, —, /, …  (never zero).
MISSING_MARKS = frozenset({"", "—", "——", "-", "--", "－", "/", "／", "…", "……", "...", "\\", "无数据", "N/A", "n/a", "NA"})

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_MINUSES = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\uff0d": "-", "\ufe63": "-"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


class NotANumber(ValueError):
    """A cell holds text that is not a number (the caller knows the cell)."""


def clean_text(text: str) -> str:
    """NFKC (full-width → half-width), drop invisible characters, fold whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return " ".join(text.split())


def parse_number(raw: object) -> Decimal | None:
    """Parse one cell value exactly.

    ``None``/blank/—/…  → ``None`` (missing); ints and floats → Decimal via ``str``
    (shortest repr, so 0.1 stays 0.1); text with thousands separators, full-width digits,
    a Unicode minus, or a trailing % is parsed as typed. Raises :class:`NotANumber`.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise NotANumber(str(raw))
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            raise NotANumber(str(raw))
        return _whole(Decimal(repr(raw)))
    if not isinstance(raw, str):
        raise NotANumber(str(raw))
    text = clean_text(raw).translate(_MINUSES).replace(" ", "")
    if text in MISSING_MARKS:
        return None
    if text.startswith("(") and text.endswith(")"):  # accounting negative (123)
        text = "-" + text[1:-1]
    if _GROUPED.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        raise NotANumber(raw)
    try:
        return _whole(Decimal(text))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise NotANumber(raw) from exc


def _whole(value: Decimal) -> Decimal:
    """A whole number typed with a fraction of zeros or an exponent (“1898.0”, “12e3”) as the
    whole number it is (1898, 12000), so sums of it print as a count does; any other value as typed."""
    exponent = value.as_tuple().exponent
    if exponent == 0 or not isinstance(exponent, int) or abs(exponent) > 30 or value != value.to_integral_value():
        return value
    return Decimal(int(value))


def to_decimal(value: object) -> Decimal | None:
    """A computed value (Decimal, int, float or None/NaN) as a finite Decimal or None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    raise TypeError(f"not a number: {value!r}")


def round_decimal(value: Decimal, decimals: int, mode: str = "half_up") -> Decimal:
    """Round once, on the decimal value: 2.675 → 2.68, 94.5974 → 94.60 (half-up)."""
    rounding = ROUND_HALF_EVEN if mode == "half_even" else ROUND_HALF_UP
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=rounding, context=CONTEXT)


def format_fixed(value: object, decimals: int, mode: str = "half_up", *, group: bool = False) -> str:
    """The display string of a value: rounded, fixed decimals, no exponent; ``""`` if missing.

    ``group`` inserts thousands separators (tables may group digits; running text does not).
    A value that rounds to zero is shown without a minus sign.
    """
    dec = to_decimal(value)
    if dec is None:
        return ""
    rounded = round_decimal(dec, decimals, mode)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,.{decimals}f}" if group else f"{rounded:.{decimals}f}"


def format_fixed_column(values: list[object], decimals: int, mode: str = "half_up") -> list[str]:
    """:func:`format_fixed` over a column (no grouping): the same strings, each distinct value
    rounded and formatted once (a city's 164k results hold ~8k distinct values: villages share
    their small ratios), with the quantum and format spec built once. Equal values always have
    the same display (1.0 and 1.00 round alike), so a value met again reuses its text."""
    rounding = ROUND_HALF_EVEN if mode == "half_even" else ROUND_HALF_UP
    quantum = Decimal(1).scaleb(-decimals)
    spec = f".{decimals}f"
    seen: dict[object, str] = {}
    get = seen.get
    out: list[str] = []
    append = out.append
    for value in values:
        if value is None:
            append("")
            continue
        text = get(value) if type(value) is Decimal and value.is_finite() else None
        if text is None:
            if type(value) is Decimal and value.is_finite():  # the common case, inlined
                rounded = value.quantize(quantum, rounding=rounding, context=CONTEXT)
                text = format(abs(rounded) if rounded == 0 else rounded, spec)
                seen[value] = text
            else:
                text = format_fixed(value, decimals, mode)
        append(text)
    return out
