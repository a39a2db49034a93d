"""Putting figures in: typed key figures, trial balances, the client's own CSVs; sharing.

Every import is checked in full before anything is stored and saved in one transaction:
with any error nothing is saved. An upload waits between its steps as a `PendingImport`
(the file's bytes, never its parsed numbers), so each step parses the file again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.audit import Actor
from portal.clients.models import Client
from portal.clock import now
from portal.db import transaction
from portal.engagements.models import Engagement
from portal.insights import csv_import, rgs
from portal.insights.amounts import AmountError, parse_amount
from portal.insights.models import (
    CLIENT_CSV,
    SERIES_KINDS,
    STAFF_FORM,
    TRIAL_BALANCE,
    AccountMapping,
    Figure,
    FigureImport,
    PendingImport,
    Series,
    SharedBlocks,
)

ZERO = Decimal(0)
PENDING_LIFETIME = timedelta(hours=2)
MAX_ACCOUNT = 40


class ImportRefused(Exception):
    """A refusal the page explains: errors (the file still has some), conflict (another
    import of the same period at the same moment), series (no name for a new series)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- periods -------------------------------------------------------------------------------

def slot(year: int, month: int | None = None) -> str:
    """The key that makes an import of a client's period replace the previous one."""
    return f"year:{year}" if month is None else f"month:{year}-{month:02d}"


# --- typed key figures ---------------------------------------------------------------------

PROFIT_AND_LOSS, ASSETS, LIABILITIES = "profit_and_loss", "assets", "liabilities"


@dataclass(frozen=True)
class KeyLine:
    """A line of the key figures form. Amounts are typed as the annual accounts show them
    (revenue, costs, assets and debts positive). `rest_of`: the line takes what the parent
    holds beyond the other lines under it, so a trial balance's codes all land somewhere."""

    code: str
    label: Any
    group: str
    rest_of: str | None = None
    hint: Any = None

    @property
    def field_name(self) -> str:
        return f"line_{self.code}"


EQUITY_CODE = "BEiv"
KEY_LINES: tuple[KeyLine, ...] = (
    KeyLine("WOmz", _l("Revenue"), PROFIT_AND_LOSS),
    KeyLine("WKpr", _l("Cost of sales"), PROFIT_AND_LOSS,
            hint=_l("Purchases of goods and work contracted out.")),
    KeyLine("WOvb", _l("Other operating income"), PROFIT_AND_LOSS),
    KeyLine("WPer", _l("Personnel expenses"), PROFIT_AND_LOSS),
    KeyLine("WAfs", _l("Depreciation"), PROFIT_AND_LOSS),
    KeyLine("WBedHui", _l("Housing costs"), PROFIT_AND_LOSS),
    KeyLine("WBedAut", _l("Car and vehicle costs"), PROFIT_AND_LOSS),
    KeyLine("WBedVkk", _l("Selling expenses"), PROFIT_AND_LOSS),
    KeyLine("WBedKan", _l("Office expenses"), PROFIT_AND_LOSS),
    KeyLine("WBedAlk", _l("Other operating expenses"), PROFIT_AND_LOSS, rest_of="WBed"),
    KeyLine("WFbe", _l("Financial income and expenses"), PROFIT_AND_LOSS,
            hint=_l("Negative when more interest was paid than received.")),
    KeyLine("WBel", _l("Tax on the result"), PROFIT_AND_LOSS),
    KeyLine("BIva", _l("Intangible fixed assets"), ASSETS),
    KeyLine("BMva", _l("Tangible fixed assets"), ASSETS),
    KeyLine("BFva", _l("Financial fixed assets"), ASSETS),
    KeyLine("BVrd", _l("Stock"), ASSETS),
    KeyLine("BPro", _l("Work in progress on projects"), ASSETS),
    KeyLine("BVorDeb", _l("Trade receivables"), ASSETS),
    KeyLine("BVorOvr", _l("Other receivables"), ASSETS, rest_of="BVor"),
    KeyLine("BEff", _l("Securities"), ASSETS),
    KeyLine("BLim", _l("Cash and bank"), ASSETS),
    KeyLine(EQUITY_CODE, _l("Equity"), LIABILITIES,
            hint=_l("At the end of the year, including this year's result.")),
    KeyLine("BVrz", _l("Provisions"), LIABILITIES),
    KeyLine("BLas", _l("Long-term debts"), LIABILITIES),
    KeyLine("BSchCre", _l("Trade payables"), LIABILITIES),
    KeyLine("BSchBep", _l("Taxes and social security"), LIABILITIES),
    KeyLine("BSchOvs", _l("Other current liabilities"), LIABILITIES, rest_of="BSch"),
)
KEY_GROUPS = {
    PROFIT_AND_LOSS: _l("Profit and loss account"),
    ASSETS: _l("Assets"),
    LIABILITIES: _l("Equity and liabilities"),
}


def _shown_sign(code: str) -> int:
    """+1 where the annual accounts show a debit total as positive (assets, costs)."""
    return 1 if rgs.CODES[code].normal_side == rgs.DEBIT else -1


def key_lines_from_totals(totals: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The form's values (as shown in annual accounts) from aggregated totals: to start the
    form from figures already there."""
    values: dict[str, Decimal] = {}
    for line in KEY_LINES:
        if line.code == EQUITY_CODE:
            values[line.code] = rgs.EQUITY.amount(totals)
            continue
        parent = line.rest_of or line.code
        amount = totals.get(parent, ZERO)
        if line.rest_of:
            amount -= sum((totals.get(other.code, ZERO) for other in KEY_LINES
                           if other is not line and other.code.startswith(line.rest_of)), ZERO)
        values[line.code] = amount * _shown_sign(parent)
    return values


@dataclass
class KeyFiguresCheck:
    """Typed key figures read and checked: signed amounts per code, or errors per line."""

    amounts: dict[str, Decimal] = field(default_factory=dict)  # as typed, by code
    signed: dict[str, Decimal] = field(default_factory=dict)  # debit positive, by code
    errors: dict[str, str] = field(default_factory=dict)  # code -> message
    totals: dict[str, Decimal] = field(default_factory=dict)  # rgs.aggregate of signed

    @property
    def total_assets(self) -> Decimal:
        return rgs.TOTAL_ASSETS.amount(self.totals)

    @property
    def total_liabilities(self) -> Decimal:
        return rgs.TOTAL_LIABILITIES.amount(self.totals)

    @property
    def balances(self) -> bool:
        return self.total_assets == self.total_liabilities

    @property
    def ok(self) -> bool:
        return not self.errors and self.balances


def check_key_figures(typed: Mapping[str, str], *, decimal_comma: bool | None
                      ) -> KeyFiguresCheck:
    """Read the typed amounts (blank is nothing) and check the balance sheet balances:
    assets equal equity plus provisions plus debts."""
    check = KeyFiguresCheck()
    for line in KEY_LINES:
        text = (typed.get(line.code) or "").strip()
        if not text:
            continue
        try:
            check.amounts[line.code] = parse_amount(text, decimal_comma=decimal_comma)
        except AmountError as exc:
            check.errors[line.code] = str(exc)
    if check.errors:
        return check
    for code, amount in check.amounts.items():
        if code != EQUITY_CODE and amount:
            check.signed[code] = amount * _shown_sign(code)
    # Equity is typed with the year's result in it; the result itself sits in the profit
    # and loss codes, so equity's own code holds the rest.
    result = rgs.NET_RESULT.amount(rgs.aggregate(
        {c: a for c, a in check.signed.items() if c.startswith("W")}))
    equity = check.amounts.get(EQUITY_CODE, ZERO)
    if equity - result:
        check.signed[EQUITY_CODE] = -(equity - result)
    check.totals = rgs.aggregate(check.signed)
    return check


def save_key_figures(session: Session, actor: Actor, engagement: Engagement, year: int,
                     check: KeyFiguresCheck) -> FigureImport:
    """Store checked key figures as the year's figures of the engagement's client,
    replacing what was there for that year (typed or imported)."""
    if not check.ok:
        raise ValueError("only checked key figures are saved")
    rows = [{"account": None, "code": code, "amount": amount}
            for code, amount in check.signed.items()]
    return _replace_period(session, actor, engagement.client_id, engagement.practice_id,
                           engagement.id, STAFF_FORM, year, None, rows, filename=None,
                           sha256=None)


# --- uploads waiting between steps ---------------------------------------------------------

def owner_of(actor: Actor) -> str:
    return f"{actor.type}:{actor.id}"


def stage_upload(session: Session, actor: Actor, *, client: Client, kind: str,
                 filename: str, data: bytes, engagement: Engagement | None = None,
                 year: int | None = None, month: int | None = None) -> PendingImport:
    """Keep an uploaded file for its preview and mapping steps (and clear expired ones)."""
    with transaction(session):
        session.execute(delete(PendingImport).where(PendingImport.expires_at < now()))
        pending = PendingImport(
            practice_id=client.practice_id, client_id=client.id,
            engagement_id=engagement.id if engagement else None, kind=kind,
            owner=owner_of(actor), year=year, month=month, filename=_display_name(filename),
            sha256=hashlib.sha256(data).hexdigest(), data=data, mapping={},
            expires_at=now() + PENDING_LIFETIME)
        session.add(pending)
    return pending


def discard_upload(session: Session, pending: PendingImport) -> None:
    with transaction(session):
        session.execute(delete(PendingImport).where(PendingImport.id == pending.id))


def delete_expired_uploads(session: Session) -> int:
    """The worker's sweep: uploads nobody finished."""
    with transaction(session):
        return session.execute(
            delete(PendingImport).where(PendingImport.expires_at < now())).rowcount or 0


def _display_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "upload.csv"
    return name[-200:]


# --- trial balances ------------------------------------------------------------------------

def remembered_mapping(session: Session, client_id: int) -> dict[str, str]:
    return dict(session.execute(select(AccountMapping.account, AccountMapping.code)
                                .where(AccountMapping.client_id == client_id)).all())


def choose_mapping(session: Session, pending: PendingImport, choices: Mapping[str, str]
                   ) -> None:
    """Keep the codes chosen for unmapped accounts with the upload (remembered for the client
    only when the import is saved). Unknown codes are left out."""
    chosen = dict(pending.mapping or {})
    for account, code in choices.items():
        entry = rgs.get(code) if code else None
        if entry is not None and len(account) <= MAX_ACCOUNT:
            chosen[account] = entry.code
    with transaction(session):
        pending.mapping = chosen
        session.add(pending)


def check_trial_balance(session: Session, pending: PendingImport
                        ) -> csv_import.TrialBalanceResult:
    """Parse the upload again with the client's remembered mapping and this upload's
    choices; the result lists every error per line."""
    mapping = remembered_mapping(session, pending.client_id)
    mapping.update(pending.mapping or {})
    result = csv_import.parse_trial_balance(pending.data, mapping=mapping)
    for line in result.lines:
        if len(line.account) > MAX_ACCOUNT:
            result.errors.append(csv_import.LineError(
                line.line, f"Account {line.account[:MAX_ACCOUNT]}…: an account number has at "
                f"most {MAX_ACCOUNT} characters."))
    return result


def import_trial_balance(session: Session, actor: Actor, pending: PendingImport
                         ) -> FigureImport:
    """Save an upload's trial balance as the figures of its period, replacing the previous
    import of that period, and remember the accounts mapped on the way. Refuses (nothing
    saved) while the file has any error."""
    result = check_trial_balance(session, pending)
    if not result.ok:
        raise ImportRefused("errors")
    rows = [{"account": line.account, "code": line.rgs_code, "amount": line.amount}
            for line in result.lines if line.amount]
    descriptions = {line.account: line.description for line in result.lines}
    assert pending.year is not None
    with transaction(session):
        record = _replace_period(session, actor, pending.client_id, pending.practice_id,
                                 pending.engagement_id, TRIAL_BALANCE, pending.year,
                                 pending.month, rows, filename=pending.filename,
                                 sha256=pending.sha256)
        _remember(session, pending.client_id, pending.mapping or {}, descriptions)
        session.execute(delete(PendingImport).where(PendingImport.id == pending.id))
    return record


def _remember(session: Session, client_id: int, chosen: Mapping[str, str],
              descriptions: Mapping[str, str]) -> None:
    if not chosen:
        return
    existing = {m.account: m for m in session.scalars(select(AccountMapping).where(
        AccountMapping.client_id == client_id, AccountMapping.account.in_(list(chosen))))}
    for account, code in chosen.items():
        mapping = existing.get(account) or AccountMapping(client_id=client_id,
                                                          account=account)
        mapping.code = code
        mapping.description = (descriptions.get(account) or "")[:200] or None
        session.add(mapping)


def _replace_period(session: Session, actor: Actor, client_id: int, practice_id: int,
                    engagement_id: int | None, source: str, year: int, month: int | None,
                    rows: list[dict[str, Any]], *, filename: str | None,
                    sha256: str | None) -> FigureImport:
    key = slot(year, month)
    try:
        with transaction(session):
            session.execute(delete(FigureImport).where(FigureImport.client_id == client_id,
                                                       FigureImport.slot == key))
            record = FigureImport(
                practice_id=practice_id, client_id=client_id, engagement_id=engagement_id,
                source=source, slot=key, year=year, month=month, filename=filename,
                sha256=sha256, lines=len(rows), created_by=actor.label)
            session.add(record)
            session.flush()
            if rows:
                session.execute(insert(Figure), [
                    {"import_id": record.id, "client_id": client_id, "year": year,
                     "month": month, "series_id": None, **row} for row in rows])
            audit.record(session, actor, "insights.figures_imported", _client(client_id),
                         source=source, period=key, lines=len(rows), file=filename,
                         sha256=sha256)
    except IntegrityError:
        raise ImportRefused("conflict") from None
    return record


def _client(client_id: int) -> audit.Subject:
    return audit.Subject("clients", client_id, client_id)


# --- the client's own CSVs -----------------------------------------------------------------

@dataclass(frozen=True)
class SeriesChoice:
    """Where a client's CSV goes: an existing series by id, or a new one by name."""

    series_id: int | None = None
    name: str = ""
    kind: str = "revenue"


def series_of(session: Session, client_id: int) -> list[Series]:
    return list(session.scalars(select(Series).where(Series.client_id == client_id)
                                .order_by(Series.name)))


def series_of_file(session: Session, client_id: int, filename: str) -> int | None:
    """The series an earlier file of this name went into: where a new version of the same
    export most likely belongs."""
    return session.scalar(select(FigureImport.series_id).where(
        FigureImport.client_id == client_id, FigureImport.filename == filename,
        FigureImport.series_id.is_not(None)).order_by(FigureImport.id.desc()).limit(1))


def check_series(pending: PendingImport, date_column: str | None, amount_column: str | None
                 ) -> csv_import.SeriesResult:
    return csv_import.parse_series(pending.data, date_column=date_column,
                                   amount_column=amount_column)


def import_series(session: Session, actor: Actor, pending: PendingImport,
                  date_column: str, amount_column: str, choice: SeriesChoice) -> FigureImport:
    """Save a client's CSV into one of its series: the months in the file replace those
    months of the series; other months stay. Refuses (nothing saved) on any error."""
    result = check_series(pending, date_column, amount_column)
    if not result.ok:
        raise ImportRefused("errors")
    name = " ".join(choice.name.split())[:80]
    if choice.series_id is None and (not name or choice.kind not in SERIES_KINDS):
        raise ImportRefused("series")
    months = list(result.totals)
    try:
        with transaction(session):
            series = _series_for(session, pending, choice, name)
            for year in {m.year for m in months}:
                session.execute(delete(Figure).where(
                    Figure.series_id == series.id, Figure.year == year,
                    Figure.month.in_([m.month for m in months if m.year == year])))
            # Imports whose every month was replaced are no longer a source of anything.
            session.execute(delete(FigureImport).where(
                FigureImport.series_id == series.id,
                ~exists().where(Figure.import_id == FigureImport.id)))
            record = FigureImport(
                practice_id=pending.practice_id, client_id=pending.client_id,
                series_id=series.id, source=CLIENT_CSV, slot=None,
                year=months[0].year if months else None, filename=pending.filename,
                sha256=pending.sha256, lines=result.rows, created_by=actor.label)
            session.add(record)
            session.flush()
            session.execute(insert(Figure), [
                {"import_id": record.id, "client_id": pending.client_id, "year": m.year,
                 "month": m.month, "code": None, "series_id": series.id, "account": None,
                 "amount": amount} for m, amount in result.totals.items()])
            session.execute(delete(PendingImport).where(PendingImport.id == pending.id))
            audit.record(session, actor, "insights.series_imported",
                         _client(pending.client_id), series=series.name,
                         months=len(months), file=pending.filename, sha256=pending.sha256)
    except IntegrityError:
        raise ImportRefused("conflict") from None
    return record


def _series_for(session: Session, pending: PendingImport, choice: SeriesChoice, name: str
                ) -> Series:
    if choice.series_id is not None:
        series = session.scalar(select(Series).where(Series.id == choice.series_id,
                                                     Series.client_id == pending.client_id))
        if series is None:
            raise ImportRefused("series")
        return series
    series = session.scalar(select(Series).where(Series.client_id == pending.client_id,
                                                 Series.name == name))
    if series is None:
        series = Series(practice_id=pending.practice_id, client_id=pending.client_id,
                        name=name, kind=choice.kind)
        session.add(series)
        session.flush()
    return series


# --- what staff share ----------------------------------------------------------------------

def scope_of(engagement: Engagement | None) -> str:
    return f"engagement:{engagement.id}" if engagement is not None else "insights"


def shared_blocks(session: Session, client_id: int, engagement: Engagement | None
                  ) -> list[str]:
    found = session.scalar(select(SharedBlocks.blocks).where(
        SharedBlocks.client_id == client_id, SharedBlocks.scope == scope_of(engagement)))
    return list(found or [])


def share_blocks(session: Session, actor: Actor, client: Client,
                 engagement: Engagement | None, blocks: Iterable[str],
                 allowed: Iterable[str]) -> list[str]:
    """Set which blocks of the engagement's dashboard (or, without an engagement, of the
    client insights page) the client sees. Unknown block names are ignored."""
    known = list(allowed)
    chosen = [b for b in known if b in set(blocks)]
    scope = scope_of(engagement)
    with transaction(session):
        row = session.scalar(select(SharedBlocks).where(SharedBlocks.client_id == client.id,
                                                        SharedBlocks.scope == scope))
        if row is None:
            row = SharedBlocks(practice_id=client.practice_id, client_id=client.id,
                               engagement_id=engagement.id if engagement else None,
                               scope=scope)
        row.blocks, row.updated_by = chosen, actor.label
        session.add(row)
        audit.record(session, actor, "insights.blocks_shared", client, scope=scope,
                     blocks=chosen)
    return chosen
