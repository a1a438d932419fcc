"""Properties (issue 7 §6), checked with hypothesis against independent references."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from revstat.numbers import NotANumber, format_fixed, parse_number, round_decimal

decimals = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False,
                       allow_infinity=False, places=None).filter(lambda d: abs(d.as_tuple().exponent) <= 12)

FULL = str.maketrans("0123456789.-,+", "０１２３４５６７８９．－，＋")


def _plain(d: Decimal) -> str:
    return format(d, "f")


def _grouped(d: Decimal) -> str:
    text = _plain(abs(d))
    whole, _, frac = text.partition(".")
    groups = f"{int(whole):,}"
    return ("-" if d < 0 else "") + groups + (f".{frac}" if frac else "")


# ---- the cell-number parser round-trips half- and full-width input ---------------------------

@given(decimals)
def test_plain_text_round_trips(d: Decimal) -> None:
    assert parse_number(_plain(d)) == d


@given(decimals)
def test_full_width_text_round_trips(d: Decimal) -> None:
    assert parse_number(_plain(d).translate(FULL)) == d


@given(decimals)
def test_grouped_text_half_and_full_width_round_trips(d: Decimal) -> None:
    assert parse_number(_grouped(d)) == d
    assert parse_number(_grouped(d).translate(FULL)) == d


@given(decimals, st.sampled_from(["\u2212", "\uff0d", "\u2013", "-"]), st.sampled_from(["", " ", "\u3000", "\u200b"]))
def test_minus_signs_and_padding(d: Decimal, minus: str, pad: str) -> None:
    text = _plain(abs(d))
    assert parse_number(f"{pad}{minus}{text}{pad}") == -abs(d)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_floats_parse_to_their_shortest_decimal(x: float) -> None:
    value = parse_number(x)
    assert value == Decimal(repr(x))
    assert float(value) == x  # nothing lost


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_integers_are_exact(n: int) -> None:
    assert parse_number(n) == n
    assert parse_number(str(n)) == n


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_not_numbers(x: float) -> None:
    with pytest.raises(NotANumber):
        parse_number(x)


@given(st.text(alphabet="0123456789,.-+eE ０１２３abcOoIl", max_size=12))
def test_parser_either_returns_a_finite_decimal_or_refuses(text: str) -> None:
    try:
        value = parse_number(text)
    except NotANumber:
        return
    assert value is None or value.is_finite()


# ---- half-up rounding matches a reference -----------------------------------------------------

def _reference_half_up(d: Decimal, places: int) -> Fraction:
    """Half-up (四舍五入, away from zero on .5) with exact fractions, no Decimal rounding."""
    scaled = Fraction(d) * 10**places
    sign = -1 if scaled < 0 else 1
    magnitude = abs(scaled)
    whole = magnitude.numerator // magnitude.denominator
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(sign * whole, 10**places)


@given(decimals, st.integers(min_value=0, max_value=4))
def test_round_half_up_matches_reference(d: Decimal, places: int) -> None:
    assert Fraction(round_decimal(d, places)) == _reference_half_up(d, places)


@given(st.integers(min_value=-(10**8), max_value=10**8), st.integers(min_value=0, max_value=3))
def test_exact_halves_round_away_from_zero(n: int, places: int) -> None:
    d = (Decimal(n) + Decimal("0.5")).scaleb(-places)  # …x5 in the first dropped digit
    rounded = round_decimal(d, places)
    assert abs(rounded) > abs(d) or d == 0


@given(decimals, st.integers(min_value=0, max_value=4))
def test_display_string_is_the_reference_value(d: Decimal, places: int) -> None:
    text = format_fixed(d, places)
    ref = _reference_half_up(d, places)
    assert Fraction(Decimal(text)) == ref
    assert "e" not in text.lower()
    assert not text.startswith("-") or ref != 0  # never "-0.00"
    assert len(text.partition(".")[2]) == places


@settings(max_examples=50)
@given(st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda x: round(x, 3)))
def test_rounding_uses_the_decimal_not_the_binary_float(x: float) -> None:
    """2.675 is 2.67499… as a float; rounding the parsed value gives 2.68."""
    assume(repr(x).count(".") == 1)
    d = parse_number(x)
    assert Fraction(round_decimal(d, 2)) == _reference_half_up(Decimal(repr(x)), 2)
