from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revstat.numbers import NotANumber, format_fixed, parse_number, round_decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1234, Decimal("1234")),
        (0.1, Decimal("0.1")),
        ("1,234", Decimal("1234")),
        ("1,234.56", Decimal("1234.56")),
        ("１２３", Decimal("123")),
        ("１，２３４．５", Decimal("1234.5")),
        ("−12.5", Decimal("-12.5")),
        ("－3", Decimal("-3")),
        (" 42 \u200b", Decimal("42")),
        ("(15)", Decimal("-15")),
        ("1.5e3", Decimal("1.5e3")),
    ],
)
def test_numbers_typed_as_text_parse_exactly(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize(("raw", "text"), [("1898.0", "1898"), ("1,234.00", "1234"), ("１５００．０", "1500"),
                                           (1898.0, "1898"), ("1.5e3", "1500"), ("-3.000", "-3"),
                                           ("1.20", "1.20"), ("0.5", "0.5"), ("2.675", "2.675")])
def test_a_whole_number_typed_with_zero_decimals_is_that_whole_number(raw, text):
    # a county's '1898.0' (text) summed with 1897 others must print 43242 in indicators.csv, not 43242.0;
    # other decimals stay as typed (exact)
    assert str(parse_number(raw)) == text
    assert str(parse_number(raw) + Decimal(41344)) == str(Decimal(text) + Decimal(41344))


@pytest.mark.parametrize("raw", [None, "", "  ", "—", "——", "/", "…", "-"])
def test_missing_marks_are_missing_never_zero(raw):
    assert parse_number(raw) is None


@pytest.mark.parametrize("raw", ["12,3O4", "abc", "1,23", "1.2.3", True, float("nan")])
def test_text_that_is_not_a_number_is_refused(raw):
    with pytest.raises(NotANumber):
        parse_number(raw)


@pytest.mark.parametrize(
    ("value", "decimals", "mode", "expected"),
    [
        (2.675, 2, "half_up", "2.68"),  # the float is 2.67499…; the decimal value is 2.675
        (Decimal(10068) / Decimal(10643) * 100, 2, "half_up", "94.60"),
        (Decimal("2.5"), 0, "half_up", "3"),
        (Decimal("2.5"), 0, "half_even", "2"),
        (Decimal("3.5"), 0, "half_even", "4"),
        (Decimal("-2.5"), 0, "half_up", "-3"),
        (Decimal("-0.004"), 2, "half_up", "0.00"),
        (Decimal("1234567.891"), 1, "half_up", "1234567.9"),
        (None, 2, "half_up", ""),
    ],
)
def test_rounding_is_half_up_on_the_decimal_value(value, decimals, mode, expected):
    assert format_fixed(value, decimals, mode) == expected


def test_grouping_only_when_asked():
    assert format_fixed(Decimal("14568"), 0) == "14568"
    assert format_fixed(Decimal("14568"), 0, group=True) == "14,568"


@given(st.integers(-10**9, 10**9), st.integers(0, 4))
def test_half_up_matches_a_reference(units, decimals):
    # value = units / 1000 exactly; reference: add half an ulp and truncate toward -inf on |x|
    value = Decimal(units).scaleb(-3)
    step = Decimal(1).scaleb(-decimals)
    magnitude = (abs(value) / step + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR") * step
    expected = magnitude if value >= 0 else -magnitude
    assert round_decimal(value, decimals) == expected


@given(st.integers(0, 10**12))
def test_full_width_digits_round_trip(n):
    full = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_number(full) == Decimal(n)
    grouped = f"{n:,}"
    assert parse_number(grouped) == Decimal(n)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**6,
                                                  max_value=10**6),
                          st.sampled_from([Decimal("1.0"), Decimal("1.00"), Decimal("1"), Decimal("-0"), Decimal("0.005"),
                                           Decimal("-0.005"), Decimal("2.675"), Decimal("1E+3"), Decimal("NaN")])),
                max_size=40),
       st.integers(0, 3), st.sampled_from(["half_up", "half_even"]))
def test_format_fixed_column_is_format_fixed_of_each_cell(values, decimals, mode):
    """The column formatter reuses the text of a value met before; equal values written
    differently (1.0, 1.00, 1) and signed zeros must still show as format_fixed shows them."""
    from revstat.numbers import format_fixed_column

    assert format_fixed_column(values, decimals, mode) == [format_fixed(v, decimals, mode) for v in values]
