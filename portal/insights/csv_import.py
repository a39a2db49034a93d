"""Reading trial balances and monthly series from CSV exports: parsing only, nothing saved.

Exports come from many packages and from Excel: `;`-separated with decimal commas (Dutch
Excel), `,` or tab separated, UTF-8 with or without a byte order mark, or Windows-1252. A title
row or two may precede the header. Every problem is reported with its line number, so a person
can fix the file, and all lines are read even when some are wrong.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from portal.insights import rgs
from portal.insights.amounts import AmountError, detect_decimal_comma, format_amount, parse_amount
from portal.tabular import SNIFF_ROWS, decode, normalise_header, roles, sniff

ZERO = Decimal(0)

# Column roles and the header names (normalised: lower case, words only) that mean them.
ACCOUNT, DESCRIPTION, DEBIT, CREDIT, BALANCE, RGS_CODE = (
    "account", "description", "debit", "credit", "balance", "rgs")
DATE, AMOUNT = "date", "amount"

TRIAL_BALANCE_COLUMNS: dict[str, tuple[str, ...]] = {
    ACCOUNT: ("rekening", "rekeningnummer", "rekeningnr", "rekening nr", "rekeningcode",
              "grootboek", "grootboekrekening", "grootboekrek", "grootboeknummer",
              "grootboekrekeningnummer", "account", "account number", "account no",
              "account nr", "account code", "gl account", "ledger account", "nummer", "nr"),
    DESCRIPTION: ("omschrijving", "description", "naam", "name", "rekeningnaam",
                  "account name", "grootboekomschrijving", "omschrijving rekening"),
    DEBIT: ("debet", "debit", "saldo debet", "debet saldo", "debit balance", "dr"),
    CREDIT: ("credit", "saldo credit", "credit saldo", "credit balance", "cr"),
    BALANCE: ("saldo", "balance", "eindsaldo", "closing balance", "bedrag", "amount"),
    RGS_CODE: ("rgs", "rgs code", "rgscode", "referentiecode", "rgs referentiecode",
               "referentie code", "reference code", "rgs reference code"),
}
SERIES_COLUMNS: dict[str, tuple[str, ...]] = {
    DATE: ("datum", "date", "maand", "month", "periode", "period", "boekdatum",
           "transactiedatum", "rentedatum"),
    AMOUNT: ("bedrag", "amount", "omzet", "revenue", "saldo", "balance", "waarde", "value",
             "turnover"),
}
_TOTAL_ROW = re.compile(r"(sub)?tota(a)?l\b")


@dataclass(frozen=True, slots=True)
class LineError:
    line: int | None  # None for the file as a whole
    message: str


@dataclass(frozen=True, slots=True)
class TrialBalanceLine:
    line: int
    account: str
    description: str
    amount: Decimal  # debit minus credit
    rgs_code: str | None  # the table's code this line counts towards; None if unmapped


@dataclass(frozen=True, slots=True)
class UnmappedAccount:
    account: str
    description: str
    line: int


@dataclass
class TrialBalanceResult:
    lines: list[TrialBalanceLine] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    unmapped_accounts: list[UnmappedAccount] = field(default_factory=list)
    totals_by_rgs: dict[str, Decimal] = field(default_factory=dict)
    total_debit: Decimal = ZERO
    total_credit: Decimal = ZERO
    delimiter: str | None = None
    encoding: str | None = None
    decimal_comma: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def difference(self) -> Decimal:
        return self.total_debit - self.total_credit


@dataclass
class SeriesResult:
    totals: dict[date, Decimal] = field(default_factory=dict)  # first of the month -> sum
    errors: list[LineError] = field(default_factory=list)
    date_column: str | None = None
    amount_column: str | None = None
    rows: int = 0  # rows that counted
    delimiter: str | None = None
    encoding: str | None = None
    decimal_comma: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def points(self) -> list[tuple[date, Decimal]]:
        return sorted(self.totals.items())


# --- Reading the file ----------------------------------------------------------------------

@dataclass
class _Table:
    reader: Any  # a csv reader positioned after the header; `line_num` is the line read last
    header: list[str]
    header_line: int
    delimiter: str
    encoding: str
    text: str


def _open(data: bytes, aliases: Mapping[str, tuple[str, ...]], needed: str
          ) -> tuple[_Table | None, LineError | None]:
    text, encoding = decode(data)
    if not text.strip():
        return None, LineError(None, "The file is empty.")
    delimiter, header_index, score = sniff(text, aliases)
    if score < 2:
        return None, LineError(None, f"No header row found: the file needs columns like {needed}.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] = []
    for _ in range(header_index + 1):
        header = next(reader)
    return _Table(reader, header, reader.line_num, delimiter, encoding, text), None


def _records(table: _Table, errors: list[LineError]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each record after the header; a line the csv module cannot
    read (a field over its size limit) ends the file with an error instead of an exception."""
    reader = table.reader
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(LineError(reader.line_num, (
                f"This line cannot be read as CSV ({exc}); the lines after it were not read.")))
            return
        yield reader.line_num, row


def _column_samples(table: _Table, columns: Sequence[int], limit: int = 2000) -> list[str]:
    """Values of some columns in the first data rows, to detect the decimal separator."""
    samples: list[str] = []
    reader = csv.reader(io.StringIO(table.text[:400000], newline=""), delimiter=table.delimiter)
    try:
        for index, row in enumerate(reader):
            if index < table.header_line:
                continue
            if len(samples) >= limit:
                break
            samples.extend(row[c] for c in columns if c < len(row) and row[c].strip())
    except csv.Error:
        pass  # reading the file reports the line; the samples before it are enough
    return samples


def _decimal_comma(table: _Table, columns: Sequence[int]) -> bool | None:
    """The file's decimal separator; when its numbers don't show it, the delimiter hints:
    Excel writes `;` where the decimal separator is a comma, and a `,` file can't have one."""
    detected = detect_decimal_comma(_column_samples(table, columns))
    if detected is None:
        return {";": True, ",": False}.get(table.delimiter)
    return detected


def _cell(row: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _is_total_row(account: str, description: str) -> bool:
    label = (account or description).lower()
    return bool(_TOTAL_ROW.match(label)) and not any(ch.isdigit() for ch in account)


# --- Trial balance -------------------------------------------------------------------------

def parse_trial_balance(data: bytes, *, mapping: Mapping[str, str] | None = None
                        ) -> TrialBalanceResult:
    """Lines of a trial balance (account, description, debit minus credit, RGS code).

    The RGS code comes from the file's own column, else from `mapping` (account -> code, as
    remembered from earlier imports). Reported per line: unreadable amounts, unknown RGS codes,
    accounts without a code (also listed in `unmapped_accounts`, to be mapped), accounts that
    appear twice (the first counts). Then the whole: debit and credit must be equal.
    """
    result = TrialBalanceResult()
    table, error = _open(data, TRIAL_BALANCE_COLUMNS,
                         "account, description, debit and credit (or balance)")
    if table is None:
        result.errors.append(error)  # type: ignore[arg-type]
        return result
    result.delimiter, result.encoding = table.delimiter, table.encoding
    columns = roles(table.header, TRIAL_BALANCE_COLUMNS)
    two_sided = DEBIT in columns and CREDIT in columns
    if ACCOUNT not in columns or not (two_sided or BALANCE in columns):
        result.errors.append(LineError(table.header_line, (
            "The header needs an account column and either debit and credit columns or a "
            "balance column.")))
        return result
    amount_columns = [columns[DEBIT], columns[CREDIT]] if two_sided else [columns[BALANCE]]
    decimal_comma = result.decimal_comma = _decimal_comma(table, amount_columns)
    mapping = {k.strip(): v for k, v in (mapping or {}).items()}

    seen: dict[str, int] = {}
    by_code: dict[str, Decimal] = {}
    unreadable = 0
    debit_total = credit_total = ZERO
    account_column, description_column = columns[ACCOUNT], columns.get(DESCRIPTION)
    rgs_column = columns.get(RGS_CODE)
    for line, row in _records(table, result.errors):
        if not "".join(row).strip():
            continue
        account = _cell(row, account_column)
        description = _cell(row, description_column)
        if not account[:1].isdigit() and _is_total_row(account, description):
            continue
        try:
            if two_sided:
                debit, credit = (_cell(row, c) for c in amount_columns)
                amount = ((parse_amount(debit, decimal_comma=decimal_comma) if debit else ZERO)
                          - (parse_amount(credit, decimal_comma=decimal_comma) if credit
                             else ZERO))
            else:
                balance = _cell(row, amount_columns[0])
                amount = parse_amount(balance, decimal_comma=decimal_comma) if balance else ZERO
        except AmountError as exc:
            unreadable += 1
            result.errors.append(LineError(line, f"Account {account or '?'}: {exc}"))
            continue
        if amount > 0:
            debit_total += amount
        else:
            credit_total -= amount
        if not account:
            result.errors.append(LineError(line, "This line has no account number."))
            continue
        if account in seen:
            result.errors.append(LineError(
                line, f"Account {account} appears more than once (first on line {seen[account]})."))
            continue
        seen[account] = line

        from_file = _cell(row, rgs_column)
        code = from_file or mapping.get(account, "").strip()
        entry = rgs.resolve(code) if code else None
        if not code:
            result.unmapped_accounts.append(UnmappedAccount(account, description, line))
            result.errors.append(LineError(
                line, f"Account {account} ({description or 'no description'}) has no RGS "
                "code yet: choose one."))
        elif entry is None:
            result.errors.append(LineError(
                line, f"Account {account}: “{code}” is not an RGS code this portal knows."))
        else:
            by_code[entry.code] = by_code.get(entry.code, ZERO) + amount
        result.lines.append(TrialBalanceLine(
            line, account, description, amount, entry.code if entry else None))

    if not seen and not unreadable and not result.errors:
        result.errors.append(LineError(None, "The file has a header but no lines."))
    result.total_debit, result.total_credit = debit_total, credit_total
    result.totals_by_rgs = rgs.aggregate(by_code)
    if (seen or unreadable) and debit_total != credit_total:
        result.errors.append(LineError(None, _imbalance(
            debit_total, credit_total, unreadable, decimal_comma is not False)))
    return result


def _imbalance(debit: Decimal, credit: Decimal, unreadable: int, decimal_comma: bool) -> str:
    def amount(value: Decimal) -> str:
        return format_amount(value, decimal_comma=decimal_comma)

    message = (f"The trial balance does not balance: total debit {amount(debit)}, total credit "
               f"{amount(credit)}, a difference of {amount(abs(debit - credit))}.")
    if unreadable:
        message += f" {unreadable} line(s) with an unreadable amount are not counted."
    return message


# --- Monthly series ------------------------------------------------------------------------

MONTH_NAMES = {
    name: number
    for number, names in enumerate((
        ("januari", "january", "jan"), ("februari", "february", "feb"),
        ("maart", "march", "mrt", "mar"), ("april", "apr"), ("mei", "may"),
        ("juni", "june", "jun"), ("juli", "july", "jul"), ("augustus", "august", "aug"),
        ("september", "sep", "sept"), ("oktober", "october", "okt", "oct"),
        ("november", "nov"), ("december", "dec")), start=1)
    for name in names
}
_DATE_FORMATS = (  # (pattern, order of year/month/day groups)
    (re.compile(r"(\d{4})[-/](\d{1,2})"), "ym"),
    (re.compile(r"(\d{1,2})[-/](\d{4})"), "my"),
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?"), "ymd"),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), "ymd"),
    (re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?: .*)?"), "dmy"),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "ymd"),
)
_MONTH_YEAR = re.compile(r"([^\W\d_]+)\.?\s+(\d{4})")


class DateError(ValueError):
    """Text that is not a date or month; the message is fit to show."""


def month_of(text: str) -> date:
    """The first day of the month a date or month is in.

    Reads `2025-03`, `03-2025`, `2025-03-31`, `31-03-2025`, `31/03/2025`, `20250331`,
    `maart 2025`, `March 2025`, `mrt 2025`. Day-first, as in the Netherlands.
    """
    value = text.strip()
    match = _MONTH_YEAR.fullmatch(value)
    if match is not None:
        month = MONTH_NAMES.get(match[1].lower())
        if month is None:
            raise DateError(f"“{value}” is not a month.")
        return date(int(match[2]), month, 1)
    for pattern, order in _DATE_FORMATS:
        match = pattern.fullmatch(value)
        if match is None:
            continue
        parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
        try:
            date(parts["y"], parts["m"], parts.get("d", 1))  # the day must exist, too
        except ValueError:
            break
        return date(parts["y"], parts["m"], 1)
    raise DateError(
        f"“{value}” is not a date: write it like 2025-03, 31-03-2025 or maart 2025.")


def _named_column(header: Sequence[str], name: str) -> int | None:
    wanted = normalise_header(name)
    names = [normalise_header(cell) for cell in header]
    return names.index(wanted) if wanted in names else None


@dataclass
class SeriesHeader:
    """The columns of a client's CSV, for the column mapping step, with the ones that look
    like its date and amount."""

    columns: list[str] = field(default_factory=list)
    date_column: str | None = None
    amount_column: str | None = None
    error: LineError | None = None
    samples: list[list[str]] = field(default_factory=list)  # a few rows under the header


def series_header(data: bytes, *, sample_rows: int = 3) -> SeriesHeader:
    """The header row (recognised by its names, else the first row) and a few rows below."""
    text, _encoding = decode(data)
    if not text.strip():
        return SeriesHeader(error=LineError(None, "The file is empty."))
    delimiter, header_index, score = sniff(text, SERIES_COLUMNS)
    rows = [r for r in csv.reader(text[:20000].splitlines()[:SNIFF_ROWS + sample_rows],
                                  delimiter=delimiter)]
    if score == 0:  # no name we know: the first row as wide as the table (not a title)
        widths = [len(r) for r in rows if any(c.strip() for c in r)]
        width = max(set(widths), key=widths.count) if widths else 0
        header_index = next((i for i, r in enumerate(rows) if len(r) == width), 0)
    header = [cell.strip() for cell in rows[header_index]] if rows else []
    named = [c for c in header if c]
    if len(named) < 2 or len(set(named)) != len(named):
        return SeriesHeader(named, error=LineError(None, (
            "The first row needs a name above each column, each name once, and at least two "
            "columns: a date and an amount.")))
    found = roles(header, SERIES_COLUMNS)
    samples = [r for r in rows[header_index + 1:] if any(c.strip() for c in r)][:sample_rows]
    return SeriesHeader(
        named,
        header[found[DATE]] if DATE in found else None,
        header[found[AMOUNT]] if AMOUNT in found else None,
        samples=samples)


def parse_series(data: bytes, *, date_column: str | None = None,
                 amount_column: str | None = None) -> SeriesResult:
    """Amounts per calendar month from a client's CSV (till revenue, bank balances, ...).

    `date_column` and `amount_column` name the columns (case and accents don't matter); left
    out, they are guessed from the header. Amounts of the same month are added up.
    """
    result = SeriesResult()
    aliases = dict(SERIES_COLUMNS)
    for role, given in ((DATE, date_column), (AMOUNT, amount_column)):
        if given:
            aliases[role] = (normalise_header(given),)
    table, error = _open(data, aliases, "a date and an amount")
    if table is None:
        if date_column or amount_column:
            error = LineError(None, "No header row with the columns "
                              f"“{date_column or '?'}” and “{amount_column or '?'}” found.")
        result.errors.append(error)  # type: ignore[arg-type]
        return result
    result.delimiter, result.encoding = table.delimiter, table.encoding
    columns = roles(table.header, aliases)
    date_index, amount_index = columns[DATE], columns[AMOUNT]
    result.date_column = table.header[date_index].strip()
    result.amount_column = table.header[amount_index].strip()
    decimal_comma = result.decimal_comma = _decimal_comma(table, [amount_index])

    totals: dict[date, Decimal] = {}
    for line, row in _records(table, result.errors):
        if not "".join(row).strip():
            continue
        when, value = _cell(row, date_index), _cell(row, amount_index)
        if _is_total_row("", when):
            continue
        try:
            month = month_of(when)
            amount = parse_amount(value, decimal_comma=decimal_comma)
        except (DateError, AmountError) as exc:
            result.errors.append(LineError(line, str(exc)))
            continue
        totals[month] = totals.get(month, ZERO) + amount
        result.rows += 1
    if not totals and not result.errors:
        result.errors.append(LineError(None, "The file has a header but no lines."))
    result.totals = dict(sorted(totals.items()))
    return result
