"""Importing clients and their contact persons from a file another package exported, and
the clients list out again in the same columns, so that an export reads back in unchanged.

Steps: upload (a CSV or XLSX, read by `portal.tabular`), map the file's columns to our fields
(guessed from Dutch and English headers, and from the practice's previous import), preview
every row — new, updated, unchanged or refused with its line and reason —, then apply exactly
the previewed rows in one transaction. Matched by client number, so importing the same file
again changes nothing; an empty cell keeps what is stored unless the import says it erases.
More rows than INLINE_LIMIT are applied by the worker instead, a chunk per transaction, with
the progress on the import's page.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from stdnum.nl import btw

from portal import audit, tabular
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.audit import Actor
from portal.audit.service import Subject
from portal.clients import tiers
from portal.clients.billing import cell
from portal.clients.models import PAYERS, STATUSES, Client, ClientImport
from portal.clients.service import invite, selection_stamp
from portal.clock import now
from portal.db import transaction
from portal.notifications import jobs

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
SHOWN = 100  # rows listed per kind on the preview; the rest are counted (and downloadable)
CONTACTS = 3  # contact persons a row may carry (name and e-mail each)

# Our fields, with the header names (normalised: lower case, words only) that mean them in
# the exports of Exact Online, SnelStart, Twinfield, AFAS, Nmbrs and practices' own sheets.
CLIENT_NUMBER, NAME, KVK, VAT, TIER, PAYER, RESPONSIBLE = (
    "client_number", "name", "kvk_number", "vat_number", "tier", "payer", "responsible_id")
CONTACT_FIELDS = [(f"contact{n}_name" if n > 1 else "contact_name",
                   f"contact{n}_email" if n > 1 else "contact_email")
                  for n in range(1, CONTACTS + 1)]
ALIASES: dict[str, tuple[str, ...]] = {
    CLIENT_NUMBER: ("relatienummer", "klantnummer", "clientnummer", "debiteurnummer",
                    "relatiecode", "klantcode", "debiteurcode", "bedrijfsnummer", "code",
                    "nummer", "nr",
                    "client number", "customer number", "customer code", "relation number",
                    "number", "id"),
    NAME: ("naam", "bedrijfsnaam", "relatienaam", "klantnaam", "organisatie", "onderneming",
           "client", "name", "company name", "company", "organisation", "organization",
           "relation name", "customer name"),
    KVK: ("kvk nummer", "kvk", "kvknummer", "kvk nr", "kamer van koophandel",
          "kamer van koophandel nummer", "organisatie kvk nummer", "coc number",
          "chamber of commerce number",
          "chamber of commerce", "kvk number"),
    VAT: ("btw nummer", "btw", "btwnummer", "btw nr", "btw id", "btw identificatienummer",
          "omzetbelastingnummer", "vat number", "vat", "vat id", "vat no"),
    TIER: ("clienttype", "client type", "type client", "abonnement", "tier", "pakket",
           "type"),
    PAYER: ("betaald door", "betaler", "paid by", "payer"),
    # A member of staff of this practice, by e-mail address or name.
    RESPONSIBLE: ("verantwoordelijke", "verantwoordelijke medewerker", "verantwoordelijk",
                  "accountmanager", "account manager", "behandelaar", "dossierbehandelaar",
                  "responsible", "responsible staff", "responsible person"),
    **{name: (f"contactpersoon {n}", f"naam contactpersoon {n}", f"contact {n}",
              f"contact person {n}", f"contact name {n}")
       for n, (name, _email) in enumerate(CONTACT_FIELDS, start=1) if n > 1},
    **{email: (f"e mail {n}", f"email {n}", f"e mailadres {n}", f"emailadres {n}",
               f"e mail contactpersoon {n}", f"email address {n}", f"contact email {n}")
       for n, (_name, email) in enumerate(CONTACT_FIELDS, start=1) if n > 1},
    "contact_name": ("contactpersoon", "naam contactpersoon", "contact", "contact person",
                     "contact name", "aanhef naam"),
    "contact_email": ("e mail", "email", "e mailadres", "emailadres", "e mail adres",
                      "e mail contactpersoon", "email address", "e mail address",
                      "contact email", "contact e mail address", "e mail werk",
                      "e mail zakelijk", "zakelijk e mailadres", "mail"),
}
LABELS = {
    CLIENT_NUMBER: _l("Client number"), NAME: _l("Company name"), KVK: _l("KvK number"),
    VAT: _l("VAT number"), TIER: _l("Tier"), PAYER: _l("Paid by"),
    RESPONSIBLE: _l("Responsible"),
    "contact_name": _l("Contact person"), "contact_email": _l("E-mail address"),
    **{name: _l("Contact person %(n)d", n=n) for n, (name, _e) in
       enumerate(CONTACT_FIELDS, start=1) if n > 1},
    **{email: _l("E-mail address %(n)d", n=n) for n, (_name, email) in
       enumerate(CONTACT_FIELDS, start=1) if n > 1},
}
FIELDS = list(LABELS)  # the mapping page's order
ERASABLE = (KVK, VAT)  # the fields an empty cell may erase, when the import says so
COMPARED = (NAME, KVK, VAT, TIER, PAYER, RESPONSIBLE)  # stored on the client as they are


class ImportRefused(Exception):
    """The file as a whole cannot be imported; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- reading values --------------------------------------------------------------------

def _tier_names() -> dict[str, str]:
    names = {tabular.normalise_header(t): t for t in tiers.TIERS}
    names.update({"standaard": tiers.STANDARD, "standard": tiers.STANDARD,
                  "samenwerken": tiers.COLLABORATE, "collaborate": tiers.COLLABORATE,
                  "samenwerken uitgebreid": tiers.COLLABORATE_PLUS,
                  "collaborate extended": tiers.COLLABORATE_PLUS,
                  "uitgebreid": tiers.COLLABORATE_PLUS, "extended": tiers.COLLABORATE_PLUS})
    return names


_PAYER_NAMES = {"practice": "practice", "het kantoor": "practice", "kantoor": "practice",
                "the practice": "practice", "client": "client", "de client": "client",
                "the client": "client"}
_KVK = re.compile(r"\d{8}")


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValueError(_("“%(value)s” is not an e-mail address.", value=value)) from None


def _parse(values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The row's values as we store them, and what is wrong with them."""
    parsed: dict[str, Any] = {}
    problems: list[str] = []
    number = values.get(CLIENT_NUMBER, "")
    if not number:
        problems.append(_("The client number is empty."))
    elif len(number) > 40:
        problems.append(_("The client number is longer than 40 characters."))
    parsed[CLIENT_NUMBER] = number
    if values.get(NAME):
        if len(values[NAME]) > 200:
            problems.append(_("The name is longer than 200 characters."))
        parsed[NAME] = values[NAME]
    kvk = re.sub(r"[\s.]", "", values.get(KVK, ""))
    if kvk:
        if _KVK.fullmatch(kvk):
            parsed[KVK] = kvk
        else:
            problems.append(_("KvK number “%(value)s” does not have 8 digits.",
                              value=values[KVK]))
    vat = values.get(VAT, "")
    if vat:
        if btw.is_valid(vat):
            parsed[VAT] = "NL" + btw.compact(vat)
        else:
            problems.append(_("“%(value)s” is not a valid Dutch VAT number (NL, 9 digits, B, "
                              "2 digits).", value=vat))
    tier = values.get(TIER, "")
    if tier:
        known = _tier_names().get(tabular.normalise_header(tier))
        if known is None:
            problems.append(_("Tier “%(value)s” is unknown: use Standaard, Samenwerken or "
                              "Samenwerken Uitgebreid.", value=tier))
        parsed[TIER] = known
    payer = values.get(PAYER, "")
    if payer:
        known = _PAYER_NAMES.get(tabular.normalise_header(payer))
        if known is None:
            problems.append(_("“%(value)s” under paid by is neither the practice nor the "
                              "client.", value=payer))
        parsed[PAYER] = known
    contacts: list[tuple[str, str]] = []
    for name_field, email_field in CONTACT_FIELDS:
        email, name = values.get(email_field, ""), values.get(name_field, "")
        if not email:
            continue
        try:
            address = _email(email)
        except ValueError as error:
            problems.append(str(error))
            continue
        if address not in (a for a, _n in contacts):
            contacts.append((address, name[:200] or address.split("@")[0]))
    parsed["contacts"] = contacts
    return parsed, problems


@dataclass(frozen=True)
class Staff:
    """The practice's members of staff, as an import names them: by e-mail address or by
    name (case and spacing aside)."""

    by_email: dict[str, tuple[int, bool]]       # address -> (id, active)
    by_name: dict[str, list[tuple[int, bool]]]  # folded name -> [(id, active)]
    names: dict[int, str]                       # id -> name, for the preview

    @classmethod
    def of(cls, session: Session, practice_id: int) -> Staff:
        by_email: dict[str, tuple[int, bool]] = {}
        by_name: dict[str, list[tuple[int, bool]]] = {}
        names: dict[int, str] = {}
        for staff_id, email, name, active in session.execute(
                select(StaffUser.id, StaffUser.email, StaffUser.name, StaffUser.active)
                .where(StaffUser.practice_id == practice_id)):
            by_email[email.lower()] = (staff_id, active)
            by_name.setdefault(_folded(name), []).append((staff_id, active))
            names[staff_id] = name
        return cls(by_email, by_name, names)

    def find(self, value: str, stored: int | None) -> tuple[int | None, str | None]:
        """The staff member's id, or why the value names nobody who may be responsible. One
        whose account is switched off is refused, unless the client has them already (an
        export of the client reads back in unchanged)."""
        found = self.by_email.get(value.lower())
        if found is None:
            named = self.by_name.get(_folded(value), [])
            if len(named) > 1:
                return None, _("More than one member of staff is called “%(value)s”: use "
                               "the e-mail address.", value=value)
            found = named[0] if named else None
        if found is None:
            return None, _("“%(value)s” is not a member of staff of this practice: use their "
                           "e-mail address or their name as the portal knows it.", value=value)
        staff_id, active = found
        if not active and staff_id != stored:
            return None, _("%(name)s can no longer sign in, so cannot be responsible.",
                           name=self.names[staff_id])
        return staff_id, None


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- mapping ---------------------------------------------------------------------------

def read(data: bytes) -> tabular.Table:
    """The file's table, or ImportRefused saying what is wrong with it."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than %(mb)d MB. Split it into smaller files.",
                              mb=MAX_BYTES // (1024 * 1024)))
    try:
        table = tabular.read_table(data, ALIASES, max_rows=MAX_ROWS)
    except tabular.TableError as error:
        raise ImportRefused(str(error)) from None
    if not any(table.header):
        raise ImportRefused(_("The file has no header row with column names."))
    if not table.rows:
        raise ImportRefused(_("The file has a header but no rows of clients."))
    return table


def guess_mapping(header: list[str], remembered: dict[str, str] | None) -> dict[str, str]:
    """Column index (as text) -> field: the practice's previous choice for a header of the
    same name first, then the names other packages use."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, name in enumerate(header):
        chosen = (remembered or {}).get(tabular.normalise_header(name))
        if chosen in LABELS and chosen not in taken:
            mapping[str(index)] = chosen
            taken.add(chosen)
    rest = [name if str(i) not in mapping else "" for i, name in enumerate(header)]
    for role, index in tabular.roles(rest, {k: v for k, v in ALIASES.items()
                                            if k not in taken}).items():
        mapping[str(index)] = role
    return mapping


def remembered_mapping(session: Session, practice_id: int) -> dict[str, str] | None:
    return session.scalar(
        select(ClientImport.mapping).where(ClientImport.practice_id == practice_id,
                                           ClientImport.mapping.is_not(None))
        .order_by(ClientImport.created_at.desc(), ClientImport.id.desc()).limit(1))


def upload(session: Session, actor: Actor, filename: str, data: bytes) -> ClientImport:
    """Keep a readable file for the next steps, its columns mapped as best we can guess."""
    table = read(data)
    with transaction(session):
        guessed = guess_mapping(table.header, remembered_mapping(session, actor.practice_id))
        started = ClientImport(practice_id=actor.practice_id, created_by_id=actor.id,
                               filename=filename[:255] or "clients", data=data,
                               sha256=hashlib.sha256(data).hexdigest(),
                               options={"columns": guessed})
        session.add(started)
    return started


def columns_of(started: ClientImport) -> dict[str, str]:
    """Column index (as text) -> field, as chosen (or guessed) for this import."""
    return dict(started.options.get("columns") or {})


def set_mapping(session: Session, started: ClientImport, header: list[str],
                columns: dict[str, str], *, erase_empty: bool, invite_contacts: bool) -> None:
    """Remember the chosen columns, for this import and (by header name) the next one."""
    if CLIENT_NUMBER not in columns.values():
        raise ImportRefused(_("Choose the column with the client number: clients are matched "
                              "by it."))
    doubled = [f for f, n in Counter(columns.values()).items() if n > 1]
    if doubled:
        raise ImportRefused(_("“%(field)s” is chosen for more than one column.",
                              field=LABELS[doubled[0]]))
    with transaction(session):
        started.options = {"columns": columns, "erase_empty": erase_empty,
                           "invite": invite_contacts}
        started.mapping = {tabular.normalise_header(header[int(i)]): f
                           for i, f in columns.items() if int(i) < len(header)}


# --- preview ---------------------------------------------------------------------------

@dataclass
class Row:
    line: int
    number: str
    name: str
    kind: str  # "new", "updated", "unchanged", "refused"
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    new_contacts: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Preview:
    rows: list[Row]
    counts: Counter[str]
    monthly_effect: Decimal
    extra_users: int
    new_contacts: int
    staff_names: dict[int, str] = field(default_factory=dict)  # for the responsible column

    @property
    def to_apply(self) -> int:
        return self.counts["new"] + self.counts["updated"]

    def of(self, kind: str, limit: int = SHOWN) -> list[Row]:
        return [r for r in self.rows if r.kind == kind][:limit]

    @property
    def stamp(self) -> str:
        """What apply checks: the same rows, each with the same outcome."""
        return selection_stamp((r.line, r.number, r.kind, repr(sorted(r.changes.items())),
                                repr(r.new_contacts)) for r in self.rows)


def preview(session: Session, started: ClientImport, prices: dict[str, Decimal],
            extra_user_price: Decimal) -> Preview:
    """What applying the import would do to each row, with nothing changed yet."""
    table = read(started.data)
    columns = {int(i): f for i, f in columns_of(started).items()}
    erasing = set(columns.values()) & set(ERASABLE) if started.options.get("erase_empty") \
        else set()
    raw = []
    for line, cells in table.rows:
        values = {f: (cells[i] if i < len(cells) else "") for i, f in columns.items()}
        raw.append((line, values))
    numbers = Counter(v.get(CLIENT_NUMBER, "") for _l, v in raw)
    lines_of: dict[str, list[int]] = {}
    for line, values in raw:
        lines_of.setdefault(values.get(CLIENT_NUMBER, ""), []).append(line)

    stored = {c.client_number: c for c in session.scalars(
        select(Client).where(Client.practice_id == started.practice_id))}
    staff = Staff.of(session, started.practice_id) if RESPONSIBLE in columns.values() \
        else Staff({}, {}, {})
    members: dict[int, set[str]] = {}
    for client_id, email in session.execute(
            select(Membership.client_id, ClientUser.email)
            .join(ClientUser, ClientUser.id == Membership.client_user_id)
            .where(ClientUser.practice_id == started.practice_id)):
        members.setdefault(client_id, set()).add(email)

    rows: list[Row] = []
    effect, extra_users, new_contacts = Decimal("0"), 0, 0
    for line, values in raw:
        parsed, problems = _parse(values)
        number = parsed[CLIENT_NUMBER]
        if number and numbers[number] > 1:
            problems.append(_("Client number %(number)s is in the file more than once (lines "
                              "%(lines)s).", number=number,
                              lines=", ".join(str(n) for n in lines_of[number])))
        client = stored.get(number)
        if client is None and not parsed.get(NAME):
            problems.append(_("A new client needs a name."))
        if values.get(RESPONSIBLE):
            parsed[RESPONSIBLE], problem = staff.find(
                values[RESPONSIBLE], client.responsible_id if client else None)
            if problem:
                problems.append(problem)
        row = Row(line, number, parsed.get(NAME) or (client.name if client else ""),
                  "refused", problems=problems, values=parsed)
        if not problems:
            _classify(row, client, parsed, members, erasing)
            tier = parsed.get(TIER) or (client.tier if client else tiers.STANDARD)
            existing = len(members.get(client.id, ())) if client else 0
            would_have = existing + len(row.new_contacts)
            if would_have > tiers.INCLUDED_USERS and not tiers.has(tier, "extra_users"):
                row.problems.append(_(
                    "%(tier)s includes one contact person; this client would have %(num)d. "
                    "Choose Samenwerken Uitgebreid for more.", tier=tiers.LABELS[tier],
                    num=would_have))
                row.kind, row.changes, row.new_contacts = "refused", {}, []
            else:
                old_price = prices[client.tier] if client else Decimal("0")
                effect += prices[tier] - old_price
                extra = max(0, existing + len(row.new_contacts) - tiers.INCLUDED_USERS) - \
                    max(0, existing - tiers.INCLUDED_USERS)
                extra_users += extra
                effect += extra * extra_user_price
                new_contacts += len(row.new_contacts)
        rows.append(row)
    return Preview(rows, Counter(r.kind for r in rows), effect, extra_users, new_contacts,
                   staff.names)


def _classify(row: Row, client: Client | None, parsed: dict[str, Any],
              members: dict[int, set[str]], erasing: set[str]) -> None:
    """New, updated or unchanged, with each change as (stored, new). `erasing`: the fields
    whose empty cells erase what is stored."""
    # The company's own contact address counts as known: a client added by hand has it
    # without being a contact person, and its own export must read back in unchanged.
    known = (members.get(client.id, set()) | {client.contact_email}) if client else set()
    row.new_contacts = [(a, n) for a, n in parsed["contacts"] if a not in known]
    if client is None:
        row.kind = "new"
        row.changes = {f: (None, parsed[f]) for f in COMPARED if parsed.get(f)}
        return
    for name in COMPARED:
        new = parsed.get(name)
        old = getattr(client, name)
        if new and new != old:
            row.changes[name] = (old, new)
        elif name in erasing and not new and old:
            row.changes[name] = (old, None)
    if row.new_contacts and not client.contact_email:  # the first contact is the main one
        row.changes["contact_email"] = (None, row.new_contacts[0][0])
        row.changes["contact_name"] = (client.contact_name, row.new_contacts[0][1])
    row.kind = "updated" if row.changes or row.new_contacts else "unchanged"


# --- apply -----------------------------------------------------------------------------

INLINE_LIMIT = 200  # more rows to import than this are applied by the worker, with progress
CHUNK = 500         # file rows per transaction in the worker: progress shows between them


class PreviewChanged(Exception):
    """The rows would not come out as previewed (the clients changed meanwhile)."""


@dataclass
class Outcome:
    created: int
    updated: int
    contacts: int
    invited: int
    refused: int


def apply(session: Session, actor: Actor, practice: Any, started: ClientImport,
          result: Preview, stamp: str, *, only_valid: bool, admin: bool) -> Outcome | None:
    """Carry out exactly the previewed rows, one audit event per client created or changed.
    All or nothing: any refused row stops it, unless `only_valid`. An import that changes
    the monthly fee is for admins, as billing is. Up to INLINE_LIMIT rows are done at once
    in one transaction (the outcome); more are queued for the worker (None), which checks
    the preview again before it starts and shows its progress on the import's page."""
    if started.state in ("queued", "running"):
        raise ImportRefused(_("This import is being applied already: its page shows how far "
                              "it is."))
    if started.state not in ("uploaded", "failed"):
        raise ImportRefused(_("This import has been applied already."))
    if result.stamp != stamp:
        raise PreviewChanged()
    if result.monthly_effect and not admin:
        raise ImportRefused(_("This import changes the monthly fee, so an admin of the "
                              "practice applies it. Ask an admin to open this page."))
    refused = result.counts["refused"]
    if refused and not only_valid:
        raise ImportRefused(_("Nothing was imported: %(num)d rows are refused. Correct them "
                              "in the file and upload it again, or import only the valid "
                              "rows.", num=refused))
    summary: dict[str, Any] = {
        "total": len(result.rows), "done": 0, "to_apply": result.to_apply, "created": 0,
        "updated": 0, "unchanged": result.counts["unchanged"], "contacts": 0, "invited": 0,
        "refused": refused, "refused_rows": [[r.line, r.number, r.name, " ".join(r.problems)]
                                             for r in result.rows if r.kind == "refused"]}
    if result.to_apply > INLINE_LIMIT:
        with transaction(session):
            started.state, started.claimed_at, started.result = "queued", None, summary
            started.options = {**started.options, "job": {
                "actor": [actor.type, actor.id, actor.label], "stamp": stamp}}
        return None
    with transaction(session):
        _count(summary, _apply_rows(session, actor, practice, started, result.rows))
        summary["done"] = len(result.rows)
        _finish(session, actor, started, summary)
    return Outcome(summary["created"], summary["updated"], summary["contacts"],
                   summary["invited"], refused)


def _count(summary: dict[str, Any], counts: dict[str, int]) -> None:
    for key, number in counts.items():
        summary[key] += number


def _apply_rows(session: Session, actor: Actor, practice: Any, started: ClientImport,
                rows: list[Row]) -> dict[str, int]:
    """The new and updated ones among `rows`, in the caller's transaction."""
    moment = now()
    new_rows = [r for r in rows if r.kind == "new"]
    ids: dict[str, int] = {}
    for start in range(0, len(new_rows), 500):
        chunk = new_rows[start:start + 500]
        for client_id, number in session.execute(insert(Client).returning(
                Client.id, Client.client_number), [{
                "practice_id": started.practice_id, "client_number": r.number,
                "name": r.values[NAME], "kvk_number": r.values.get(KVK),
                "vat_number": r.values.get(VAT),
                "tier": r.values.get(TIER) or tiers.STANDARD,
                "payer": r.values.get(PAYER) or "practice",
                "responsible_id": r.values.get(RESPONSIBLE),
                "contact_name": r.new_contacts[0][1] if r.new_contacts else None,
                "contact_email": r.new_contacts[0][0] if r.new_contacts else None,
                "created_at": moment, "updated_at": moment} for r in chunk]):
            ids[number] = client_id
    changed = [r for r in rows if r.kind == "updated"]
    stored = {c.client_number: c for c in session.scalars(select(Client).where(
        Client.practice_id == started.practice_id,
        Client.client_number.in_([r.number for r in changed])))} if changed else {}
    updates = [{"id": stored[r.number].id, **{f: new for f, (_o, new) in r.changes.items()},
                "updated_at": moment} for r in changed if r.changes]
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in updates:
        by_keys.setdefault(tuple(sorted(values)), []).append(values)
    for group in by_keys.values():
        session.execute(update(Client), group)
    for r in changed:
        ids[r.number] = stored[r.number].id
    contacts, invited = _add_contacts(session, started, practice, rows, ids)
    audit.record_many(session, actor, "client.imported", [
        (Subject("clients", ids[r.number], ids[r.number]),
         {"import": started.id, "line": r.line, "new": r.kind == "new",
          "changes": {f: [o, n] for f, (o, n) in r.changes.items()},
          "contacts_added": [a for a, _n in r.new_contacts]})
        for r in rows if r.kind in ("new", "updated")])
    return {"created": len(new_rows), "updated": len(changed), "contacts": contacts,
            "invited": invited}


def _finish(session: Session, actor: Actor, started: ClientImport,
            summary: dict[str, Any]) -> None:
    """Applied: the file goes (what was done stays in `result`), audited as one import."""
    started.state, started.applied_at, started.data = "applied", now(), b""
    started.result = dict(summary)
    audit.record(session, actor, "clients.import_applied",
                 Subject("client_imports", started.id), file=started.filename,
                 sha256=started.sha256, created=summary["created"],
                 updated=summary["updated"], refused=summary["refused"])


def run(session: Session, practice: Any, started: ClientImport, claim: jobs.Claim,
        prices: dict[str, Decimal], extra_user_price: Decimal) -> None:
    """The worker's part of a queued import: the preview made again and (before any row is
    done) checked against the confirmed one, then the rows a chunk per transaction with the
    progress in `result`. A run taken over from a worker that died goes on after the last
    chunk it committed (the rows before it preview as unchanged now)."""
    job = started.options["job"]
    actor = Actor(started.practice_id, *job["actor"])
    summary = dict(started.result or {})
    result = preview(session, started, prices, extra_user_price)
    if summary["done"] == 0 and result.stamp != job["stamp"]:
        raise PreviewChanged()
    for start in range(summary["done"], len(result.rows), CHUNK):
        chunk = result.rows[start:start + CHUNK]
        with transaction(session):
            claim.renew(session)
            _count(summary, _apply_rows(session, actor, practice, started, chunk))
            summary["done"] = start + len(chunk)
            started.result = dict(summary)
    with transaction(session):
        claim.renew(session)
        _finish(session, actor, started, summary)


def run_queued(session: Session, prices: dict[str, Decimal],
               extra_user_price: Decimal) -> int:
    """Worker sweep: apply the queued imports (and those whose worker died), each claimed
    by one worker. One that cannot go on is marked failed with the reason on its page."""
    from portal.tenancy.models import Practice

    done = 0
    for started, claim in jobs.claimed(session, ClientImport):
        try:
            run(session, session.get(Practice, started.practice_id), started, claim, prices,
                extra_user_price)
        except jobs.LostClaim:
            session.rollback()
            continue
        except PreviewChanged:
            session.rollback()
            _fail(session, started, claim, "changed")
            continue
        except Exception:  # a broken import must not stop the other jobs; it says so
            log.exception("client import %s failed", started.id)
            session.rollback()
            _fail(session, started, claim, "error")
            continue
        done += 1
    return done


def _fail(session: Session, started: ClientImport, claim: jobs.Claim, reason: str) -> None:
    try:
        with transaction(session):
            claim.renew(session)
            session.refresh(started)
            started.state = "failed"
            started.result = {**(started.result or {}), "error": reason}
    except jobs.LostClaim:
        session.rollback()


def _add_contacts(session: Session, started: ClientImport, practice: Any, rows: list[Row],
                  ids: dict[str, int]) -> tuple[int, int]:
    """Client users (one per address in the practice) and their memberships; invitations
    only when the import asks and the client's tier has the portal."""
    wanted = [(r, address, name) for r in rows if r.kind in ("new", "updated")
              for address, name in r.new_contacts]
    if not wanted:
        return 0, 0
    users = {u.email: u for u in session.scalars(select(ClientUser).where(
        ClientUser.practice_id == started.practice_id,
        ClientUser.email.in_({a for _r, a, _n in wanted})))}
    fresh = [{"practice_id": started.practice_id, "email": a, "name": n, "created_at": now()}
             for a, n in dict((a, n) for _r, a, n in wanted).items() if a not in users]
    for start in range(0, len(fresh), 500):
        session.execute(insert(ClientUser), fresh[start:start + 500])
    if fresh:
        users = {u.email: u for u in session.scalars(select(ClientUser).where(
            ClientUser.practice_id == started.practice_id,
            ClientUser.email.in_({a for _r, a, _n in wanted})))}
    owners = {cid for (cid,) in session.execute(select(Membership.client_id).where(
        Membership.client_id.in_(set(ids.values()))))} if ids else set()
    memberships, seen = [], set(owners)
    for r, address, _name in wanted:
        client_id = ids[r.number]
        memberships.append({"client_user_id": users[address].id, "client_id": client_id,
                            "role": "member" if client_id in seen else "owner",
                            "created_at": now()})
        seen.add(client_id)
    for start in range(0, len(memberships), 500):
        session.execute(insert(Membership), memberships[start:start + 500])
    invited = 0
    if started.options.get("invite"):
        clients = {c.id: c for c in session.scalars(select(Client).where(
            Client.id.in_({ids[r.number] for r, _a, _n in wanted})))}
        for r, address, _name in wanted:
            client = clients[ids[r.number]]
            if tiers.has(client, "portal"):
                invite(session, practice, client, users[address])
                invited += 1
    return len(memberships), invited


def refused_csv(rows: list[list[Any]]) -> str:
    """The refused rows with their line and reason, for the person correcting the file."""
    out = io.StringIO()
    out.write("\ufeff")  # Dutch Excel reads UTF-8 only with a byte order mark
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Line"), _("Client number"), _("Company name"), _("Reason")])
    for line, number, name, reason in rows:
        writer.writerow([line, cell(str(number)), cell(str(name)), cell(str(reason))])
    return out.getvalue()


# --- export ----------------------------------------------------------------------------

EXPORTED = [CLIENT_NUMBER, NAME, KVK, VAT, TIER, PAYER,
            *[f for pair in CONTACT_FIELDS for f in pair], RESPONSIBLE]


def export_rows(session: Session, conditions: list[Any], order: list[Any]
                ) -> tuple[list[str], list[list[str]]]:
    """The header (in the user's language) and a row per client, in the overview's order:
    its contact persons (the company's own contact first) in the contact columns, the
    responsible member of staff by e-mail address (a name may be someone else's too)."""
    clients = session.execute(
        select(Client, StaffUser.email).outerjoin(StaffUser, StaffUser.id == Client.responsible_id)
        .where(*conditions).order_by(*order)).all()
    people: dict[int, list[tuple[str, str]]] = {}
    for client_id, email, name in session.execute(
            select(Membership.client_id, ClientUser.email, ClientUser.name)
            .join(ClientUser, ClientUser.id == Membership.client_user_id)
            .join(Client, Client.id == Membership.client_id).where(*conditions)
            .order_by(Membership.client_id, Membership.role.desc(), Membership.id)):
        people.setdefault(client_id, []).append((email, name))
    header = [str(LABELS[f]) for f in EXPORTED] + [_("Status")]
    rows = []
    for client, responsible in clients:
        contacts = list(people.get(client.id, []))
        if client.contact_email and client.contact_email not in (e for e, _n in contacts):
            contacts.insert(0, (client.contact_email, client.contact_name or ""))
        cells = [client.client_number, client.name, client.kvk_number or "",
                 client.vat_number or "", str(tiers.LABELS[client.tier]),
                 str(PAYERS.get(client.payer, client.payer))]
        for n in range(CONTACTS):
            email, name = contacts[n] if n < len(contacts) else ("", "")
            cells += [name, email]
        rows.append([*cells, responsible or "", str(STATUSES.get(client.status, client.status))])
    return header, rows


def export_csv(header: list[str], rows: list[list[str]]) -> str:
    """For Dutch Excel: semicolons, a byte order mark, formulas neutralised."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()


def export_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Clients"))
    sheet.append(header)
    for row in rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
