from decimal import Decimal

import pytest

from portal.insights.amounts import (
    AmountError,
    detect_decimal_comma,
    format_amount,
    parse_amount,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("1.234,56", "1234.56"),
    ("-1.234,56", "-1234.56"),
    ("1234,5", "1234.50"),
    ("€ 1.234,56", "1234.56"),
    ("€1.234,56", "1234.56"),
    ("1.234,56 EUR", "1234.56"),
    ("(1.234,56)", "-1234.56"),
    ("1.234,56-", "-1234.56"),
    ("€ -12,00", "-12.00"),
    ("1.234.567", "1234567.00"),
    ("1.234.567,89", "1234567.89"),
    ("12,-", "12.00"),
    ("1.250,--", "1250.00"),
    ("1 234,56", "1234.56"),
    ("1\u00a0234,56", "1234.56"),
    ("0,5", "0.50"),
    (",75", "0.75"),
    ("  42  ", "42.00"),
    ("\u2212 7,50", "-7.50"),
])
def test_dutch_amounts_are_read(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("1,234.56", "1234.56"),
    ("1234.56", "1234.56"),
    ("-1,234.56", "-1234.56"),
    ("1,234,567.8", "1234567.80"),
    ("+12.5", "12.50"),
    ("EUR 99.99", "99.99"),
])
def test_english_amounts_are_read(text, expected):
    assert parse_amount(text) == Decimal(expected)


def test_amounts_are_rounded_half_up_to_cents():
    assert parse_amount("0,125") == Decimal("0.13")
    assert parse_amount("1234,565") == Decimal("1234.57")
    assert parse_amount("-0,005") == Decimal("-0.01")


@pytest.mark.parametrize("text", ["1.234", "12,345", "999.000"])
def test_one_separator_before_three_digits_is_ambiguous_without_a_hint(text):
    with pytest.raises(AmountError, match="ambiguous"):
        parse_amount(text)


def test_the_hint_settles_a_single_separator_before_three_digits():
    assert parse_amount("1.234", decimal_comma=True) == Decimal("1234.00")
    assert parse_amount("1.234", decimal_comma=False) == Decimal("1.23")
    assert parse_amount("12,345", decimal_comma=True) == Decimal("12.35")
    assert parse_amount("12,345", decimal_comma=False) == Decimal("12345.00")


def test_the_hint_does_not_override_what_the_grouping_makes_plain():
    assert parse_amount("1234.56", decimal_comma=True) == Decimal("1234.56")
    assert parse_amount("0.125", decimal_comma=True) == Decimal("0.13")
    assert parse_amount("1.234,5", decimal_comma=False) == Decimal("1234.50")


@pytest.mark.parametrize(("text", "message"), [
    ("abc", "is not an amount"),
    ("12a", "is not an amount"),
    ("1e5", "is not an amount"),
    ("", "No amount given"),
    ("   ", "No amount given"),
    ("1,234.56,7", "more than one decimal separator"),
    ("1.234,5.6", "more than one decimal separator"),
    ("1.23.4", "thousands separators in the wrong places"),
    ("1.2345,67", "thousands separators in the wrong places"),
    ("12,34,56", "thousands separators in the wrong places"),
    ("1 234.567,8", "mixes spaces"),
    ("--5", "more than one sign"),
    ("(-5)", "more than one sign"),
    ("(1,00", "unmatched bracket"),
])
def test_what_is_not_an_amount_is_refused_with_a_reason(text, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(text)


def test_the_message_quotes_what_was_typed_and_the_error_is_a_value_error():
    with pytest.raises(ValueError, match="“12 apples”"):
        parse_amount("12 apples")


def test_a_dutch_column_is_detected_as_decimal_comma():
    assert detect_decimal_comma(["1.234", "12,50", "1.000.000", "", "7"]) is True


def test_an_english_column_is_detected_as_decimal_point():
    assert detect_decimal_comma(["1,234", "12.50", "1,000,000", "7"]) is False


def test_a_column_of_whole_or_ambiguous_numbers_gives_no_answer():
    assert detect_decimal_comma(["1.234", "7", "12,345", "n/a"]) is None
    assert detect_decimal_comma([]) is None


def test_the_majority_decides_when_values_disagree():
    assert detect_decimal_comma(["1,50", "2,75", "3.25"]) is True
    assert detect_decimal_comma(["1,50", "3.25"]) is None


def test_amounts_are_formatted_in_the_files_own_style():
    assert format_amount(Decimal("-1234567.5")) == "-1.234.567,50"
    assert format_amount(Decimal("1234.5"), decimal_comma=False) == "1,234.50"
    assert format_amount(Decimal("0.005")) == "0,01"
