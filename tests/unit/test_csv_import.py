import codecs
from datetime import date
from decimal import Decimal

import pytest

from portal.insights.csv_import import (
    DateError,
    month_of,
    normalise_header,
    parse_series,
    parse_trial_balance,
)


def csv_bytes(*lines: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    data = "\r\n".join(lines).encode(encoding) + b"\r\n"
    return codecs.BOM_UTF8 + data if bom else data


DUTCH_TRIAL_BALANCE = csv_bytes(
    "Rekening;Omschrijving;Debet;Credit;RGS-code",
    "0100;Inventaris;12.000,00;;BMvaBei",
    "1000;Kas;1.234,56;;BLimKas",
    "1100;Bank;10.000,00;;BLimBanRba",
    "0500;Aandelenkapitaal;;18.000,00;BEivGok",
    "8000;Omzet;;40.000,00;WOmzNod",
    "4000;Huur;34.765,44;;WBedHui",
    bom=True,
)


def test_a_dutch_trial_balance_is_read_with_signed_amounts_and_rgs_codes():
    result = parse_trial_balance(DUTCH_TRIAL_BALANCE)
    assert result.ok, result.errors
    assert (result.delimiter, result.encoding, result.decimal_comma) == (";", "utf-8-sig", True)
    first = result.lines[0]
    assert (first.line, first.account, first.description, first.amount, first.rgs_code) == (
        2, "0100", "Inventaris", Decimal("12000.00"), "BMvaBei")
    assert [line.amount for line in result.lines[3:5]] == [Decimal("-18000.00"),
                                                          Decimal("-40000.00")]
    assert result.lines[2].rgs_code == "BLimBan"  # a level-4 code counts towards level 3


def test_the_totals_by_rgs_are_rolled_up_to_rubriek_and_level_one():
    totals = parse_trial_balance(DUTCH_TRIAL_BALANCE).totals_by_rgs
    assert totals["BLim"] == Decimal("11234.56")
    assert totals["WOmz"] == Decimal("-40000.00")
    assert totals["B"] + totals["W"] == 0


def test_an_english_comma_separated_file_with_quoted_amounts_is_read():
    data = csv_bytes(
        "Account,Description,Debit,Credit,RGS code",
        '1000,Cash,"1,234.50",,BLimKas',
        '8000,"Sales, services",,"1,234.50",WOmzNod',
    )
    result = parse_trial_balance(data)
    assert result.ok, result.errors
    assert result.delimiter == ","
    assert result.lines[1].description == "Sales, services"
    assert result.lines[1].amount == Decimal("-1234.50")


def test_a_tab_separated_windows_1252_file_with_title_rows_is_read():
    data = csv_bytes(
        "Proefbalans 2025\tCafé De Hoek",
        "",
        "Grootboekrekening\tOmschrijving\tSaldo\tReferentiecode",
        "1000\tKas café\t250,00\tBLimKas",
        "8000\tOmzet\t-250,00\tWOmzNod",
        encoding="cp1252",
    )
    result = parse_trial_balance(data)
    assert result.ok, result.errors
    assert (result.delimiter, result.encoding) == ("\t", "cp1252")
    assert result.lines[0].description == "Kas café"
    assert result.lines[0].line == 4
    assert [line.amount for line in result.lines] == [Decimal("250.00"), Decimal("-250.00")]


def test_the_remembered_mapping_fills_in_accounts_without_a_code_in_the_file():
    data = csv_bytes(
        "Rekening;Omschrijving;Debet;Credit;RGS",
        "1000;Kas;100,00;;",
        "1100;Bank;;100,00;BLimBan",
    )
    result = parse_trial_balance(data, mapping={"1000": "BLimKas", "1100": "BSchSak"})
    assert result.ok, result.errors
    assert [line.rgs_code for line in result.lines] == ["BLimKas", "BLimBan"]  # file wins


def test_accounts_without_a_code_are_listed_to_be_mapped():
    data = csv_bytes(
        "Rekening;Omschrijving;Debet;Credit",
        "1000;Kas;100,00;",
        "8000;Omzet;;100,00",
    )
    result = parse_trial_balance(data, mapping={"8000": "WOmzNod"})
    assert [(u.account, u.description, u.line) for u in result.unmapped_accounts] == [
        ("1000", "Kas", 2)]
    assert [e.line for e in result.errors] == [2]
    assert "no RGS code" in result.errors[0].message
    assert result.lines[0].rgs_code is None
    assert not result.ok


def test_an_unknown_rgs_code_is_an_error_on_its_line():
    data = csv_bytes(
        "Rekening;Omschrijving;Saldo;RGS",
        "1000;Kas;100,00;BKasje",
        "8000;Omzet;-100,00;WOmzNod",
    )
    result = parse_trial_balance(data)
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "Account 1000: “BKasje” is not an RGS code this portal knows.")]
    assert "BKasje" not in result.totals_by_rgs


def test_an_unreadable_amount_is_reported_and_the_other_lines_are_still_read():
    data = csv_bytes(
        "Rekening;Omschrijving;Debet;Credit;RGS",
        "1000;Kas;1.23.4;;BLimKas",
        "1100;Bank;100,00;;BLimBan",
        "8000;Omzet;;100,00;WOmzNod",
    )
    result = parse_trial_balance(data)
    assert [e.line for e in result.errors] == [2]
    assert "thousands separators" in result.errors[0].message
    assert [line.account for line in result.lines] == ["1100", "8000"]


def test_an_account_that_appears_twice_is_reported_with_where_it_first_was():
    data = csv_bytes(
        "Rekening;Omschrijving;Saldo;RGS",
        "1000;Kas;100,00;BLimKas",
        "1000;Kas;100,00;BLimKas",
        "8000;Omzet;-200,00;WOmzNod",
    )
    result = parse_trial_balance(data)
    assert [(e.line, e.message) for e in result.errors] == [
        (3, "Account 1000 appears more than once (first on line 2).")]
    assert [line.account for line in result.lines] == ["1000", "8000"]


def test_a_trial_balance_that_does_not_balance_states_the_difference():
    data = csv_bytes(
        "Rekening;Omschrijving;Debet;Credit;RGS",
        "1000;Kas;1.500,00;;BLimKas",
        "8000;Omzet;;1.400,00;WOmzNod",
    )
    result = parse_trial_balance(data)
    assert result.difference == Decimal("100.00")
    (error,) = result.errors
    assert error.line is None
    assert "does not balance" in error.message
    assert "a difference of 100,00" in error.message
    assert "total debit 1.500,00" in error.message


def test_total_rows_at_the_bottom_are_skipped():
    data = csv_bytes(
        "Rekening;Omschrijving;Debet;Credit;RGS",
        "1000;Kas;100,00;;BLimKas",
        "8000;Omzet;;100,00;WOmzNod",
        ";Totaal;100,00;100,00;",
    )
    result = parse_trial_balance(data)
    assert result.ok, result.errors
    assert len(result.lines) == 2


def test_amounts_that_are_all_ambiguous_follow_the_semicolon_convention():
    data = csv_bytes(
        "Rekening;Omschrijving;Saldo;RGS",
        "1000;Kas;1.500;BLimKas",
        "8000;Omzet;-1.500;WOmzNod",
    )
    result = parse_trial_balance(data)
    assert result.ok, result.errors
    assert result.lines[0].amount == Decimal("1500.00")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"just some text\r\nwithout columns\r\n", "No header row found"),
    (csv_bytes("Rekening;Omschrijving;RGS", "1000;Kas;BLimKas"), "either debit and credit"),
    (csv_bytes("Rekening;Omschrijving;Saldo"), "header but no lines"),
])
def test_a_file_that_is_not_a_trial_balance_gets_one_clear_error(data, message):
    result = parse_trial_balance(data)
    assert len(result.errors) == 1
    assert message in result.errors[0].message
    assert result.lines == []


def test_a_line_the_csv_reader_cannot_read_is_an_error_not_a_crash():
    data = csv_bytes("Rekening;Omschrijving;Saldo;RGS", "1000;Kas;5,00;BLimKas",
                     "1001;" + "x" * 200_000 + ";5,00;BLimKas", "8000;Omzet;-5,00;WOmzNod")
    result = parse_trial_balance(data)
    assert result.errors[0].line == 3
    assert "cannot be read as CSV" in result.errors[0].message
    assert [line.account for line in result.lines] == ["1000"]


def test_a_spreadsheet_uploaded_instead_of_a_csv_gets_a_clear_error():
    result = parse_trial_balance(b"PK\x03\x04" + bytes(range(256)) * 20)
    assert [e.message[:19] for e in result.errors] == ["No header row found"]


def test_header_names_are_compared_without_case_accents_or_currency_signs():
    assert normalise_header(" RGS-Code ") == "rgs code"
    assert normalise_header("Débet (€)") == "debet"
    assert normalise_header("Saldo in EUR") == "saldo"


def test_fifty_thousand_lines_are_read_completely():
    lines = ["Rekening;Omschrijving;Debet;Credit;RGS-code"]
    codes = ["BLimBan", "WBedHui", "WPerLes", "BVorDeb", "WKprInh"]
    total = Decimal(0)
    for number in range(50_000):
        amount = Decimal(number % 9973 * 100 + 37) / 100
        total += amount
        text = f"{amount:,.2f}".translate(str.maketrans(",.", ".,"))
        lines.append(f"{number:06d};Rekening {number};{text};;{codes[number % 5]}")
    credit = f"{total:,.2f}".translate(str.maketrans(",.", ".,"))
    lines.append(f"999999;Eigen vermogen;;{credit};BEivOvr")

    result = parse_trial_balance(csv_bytes(*lines))
    assert result.ok, result.errors[:3]
    assert len(result.lines) == 50_001
    assert result.lines[-1].line == 50_002
    assert result.total_debit == result.total_credit == total
    assert result.totals_by_rgs["B"] + result.totals_by_rgs["W"] == 0
    assert result.totals_by_rgs["BLimBan"] == sum(
        (line.amount for line in result.lines[0:50_000:5]), Decimal(0))


# --- Monthly series --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "month"), [
    ("2025-03", date(2025, 3, 1)),
    ("2025/3", date(2025, 3, 1)),
    ("03-2025", date(2025, 3, 1)),
    ("2025-03-31", date(2025, 3, 1)),
    ("2025-03-31 14:02:00", date(2025, 3, 1)),
    ("31-03-2025", date(2025, 3, 1)),
    ("31/03/2025", date(2025, 3, 1)),
    ("1-3-2025", date(2025, 3, 1)),
    ("20250331", date(2025, 3, 1)),
    ("maart 2025", date(2025, 3, 1)),
    ("March 2025", date(2025, 3, 1)),
    ("mrt. 2025", date(2025, 3, 1)),
    ("Okt 2024", date(2024, 10, 1)),
])
def test_dates_and_months_are_read_as_their_month(text, month):
    assert month_of(text) == month


@pytest.mark.parametrize("text", ["2025-13", "31-02-2025", "03/31/2025", "Maandag 2025",
                                  "", "Q1 2025"])
def test_what_is_not_a_date_is_refused(text):
    with pytest.raises(DateError):
        month_of(text)


def test_a_series_is_summed_per_calendar_month():
    data = csv_bytes(
        "Datum;Omschrijving;Bedrag",
        "02-03-2025;Kassa;1.000,50",
        "31-03-2025;Kassa;499,50",
        "01-04-2025;Kassa;250,00",
        "15-01-2025;Kassa;-10,00",
    )
    result = parse_series(data)
    assert result.ok, result.errors
    assert result.points == [(date(2025, 1, 1), Decimal("-10.00")),
                             (date(2025, 3, 1), Decimal("1500.00")),
                             (date(2025, 4, 1), Decimal("250.00"))]
    assert (result.date_column, result.amount_column, result.rows) == ("Datum", "Bedrag", 4)


def test_named_columns_are_used_instead_of_the_guess():
    data = csv_bytes(
        "Boekdatum,Bedrag,Saldo na boeking",
        "2025-01-31,-5.00,1000.00",
        "2025-02-28,-5.00,1200.00",
    )
    result = parse_series(data, date_column="boekdatum", amount_column="SALDO NA BOEKING")
    assert result.ok, result.errors
    assert result.points == [(date(2025, 1, 1), Decimal("1000.00")),
                             (date(2025, 2, 1), Decimal("1200.00"))]
    assert result.amount_column == "Saldo na boeking"


def test_a_bad_line_in_a_series_is_reported_and_the_rest_counts():
    data = csv_bytes(
        "Maand;Omzet",
        "januari 2025;100",
        "februari 2025;veel",
        "dertiende 2025;100",
        "maart 2025;300",
    )
    result = parse_series(data)
    assert [e.line for e in result.errors] == [3, 4]
    assert "not an amount" in result.errors[0].message
    assert "not a month" in result.errors[1].message
    assert result.totals == {date(2025, 1, 1): Decimal("100.00"),
                             date(2025, 3, 1): Decimal("300.00")}


def test_a_series_without_the_named_columns_says_which_it_looked_for():
    result = parse_series(csv_bytes("Datum;Bedrag", "2025-01;1"), amount_column="Omzet")
    assert not result.ok
    assert "“Omzet”" in result.errors[0].message
