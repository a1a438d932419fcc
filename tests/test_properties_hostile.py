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


# ---- the change wording agrees with the sign ---------------------------------------------------

def _fig(change: Decimal, unit: str, change_unit: str, decimals: int = 1):
    from revstat.textfmt import Fig

    return Fig(indicator="x", name="指标", unit=unit, region_code="990100000000", region_name="示范市",
               period="2024Q4", value=Decimal(1), display="1", change=change,
               change_display=format_fixed(change, decimals), change_unit=change_unit, decimals=decimals)


@given(decimals, st.sampled_from([("元", "%"), ("%", "个百分点")]), st.integers(min_value=0, max_value=2))
def test_change_wording_agrees_with_the_sign(change: Decimal, units: tuple[str, str], places: int) -> None:
    from revstat.textfmt import change as change_words
    from revstat.textfmt import strip_marks

    unit, change_unit = units
    fig = _fig(change, unit, change_unit, places)
    text = strip_marks(change_words(fig))
    shown = round_decimal(change, places)
    if shown == 0:
        assert text == "持平"
        return
    up, down = ("提高", "下降") if change_unit == "个百分点" else ("增长", "下降")
    assert text.startswith(up if change > 0 else down), text
    number = text[len(up if change > 0 else down):].removesuffix("个百分点").removesuffix("%")
    assert Decimal(number) == abs(shown)  # the printed figure is the display without its sign
    assert "-" not in text and "−" not in text


# ---- duplication: the same county twice is flagged, never counted twice --------------------------

@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=3, max_size=3))
def test_a_county_submitted_twice_is_flagged_not_summed(tmp_path_factory: pytest.TempPathFactory,
                                                         households: list[int]) -> None:
    from revstat.sources.read import read_sources
    from revstat.workspace import load_workspace
    from tests.badinputs import make_corpus as mc

    root = tmp_path_factory.mktemp("dup") / "ws"
    mc.build_workspace(root, mc.CASE_BY_ID["excel_lock_file"])
    values = {name: (str(h), "1", "1") for name, h in zip(mc.BAD, households, strict=True)}
    mc.good_xlsx(root / mc.DATA / mc.BAD_FILE, values, county="乙县")
    mc.good_xlsx(root / mc.DATA / "乙县（副本）.xlsx", values, county="乙县")
    result = read_sources(load_workspace(root), [mc.PERIOD])
    assert len(result.errors) == 1 and "两个文件" in result.errors[0].render("zh")
    obs = result.observations
    got = obs[(obs["field"] == "households") & (obs["origin"] == "source")]
    by_code = dict(zip(got["region_code"], got["value"], strict=True))  # one value per township
    for name, h in zip(mc.BAD, households, strict=True):
        assert by_code[mc.CODE[name]] == h
