"""`portal bench-seed`: the reference data set for benchmarks, deterministic and bulk-loaded.

By default 20 practices. One of them, "bench" (bench.<base domain>), is the big one:
10,000 clients in all three tiers, 40,000 engagements in every status with deadlines
spread over the year, 200 staff users and 15,000 client users, some of them contact of
two or three companies. `--scale N` multiplies the big practice; the 19 others stay small
(40 to 400 clients each). The same seed and date give the same rows and the same ids on a
fresh database; dates are drawn relative to today (or `--today`).

Rows go in with `session.execute(insert(Model.__table__), rows)` in chunks (by COPY into
PostgreSQL), and one password hash is computed once and shared by every user, so the load
takes seconds, not hours.

Documents: 100,000 metadata rows in the big practice (x `--scale`) and eight per client in
the others, with the shares and recipients of those the practice sent (`documents()`); no
files are written, so their downloads find nothing. Not loaded: open client tasks.
`add_tasks()` adds the 100,000 the reminder bench sweeps, of a kind no feature knows, so
`make bench` adds them to its own throwaway database only.
"""

from __future__ import annotations

import json
import random
import time
from bisect import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.orm import Session

from bench import names

BIG_SLUG = "bench"
BIG_NAME = "Verbeek & De Wit Accountants"
PASSWORD = "bench-wachtwoord-2026"  # noqa: S105 (printed for everyone: bench data only)
ADMIN_EMAIL = "admin@bench.example"
CLIENT_EMAIL = "klant@bench.example"
DEFAULT_SEED = 20260601
TASK_KIND = "bench"  # open client tasks of no feature: only the reminder bench reads them
CHUNK = 5_000
COPY_FROM = 1_000  # rows from which PostgreSQL gets COPY instead of INSERTs
SQLITE_CACHE_KB = 256 * 1024  # the loading connection's page cache (SQLite's default: 2 MB)


@dataclass(frozen=True)
class Sizes:
    clients: int
    engagements: int
    staff: int
    client_users: int
    documents: int

    def times(self, scale: int) -> Sizes:
        return Sizes(*(n * scale for n in asdict(self).values()))


BIG = Sizes(clients=10_000, engagements=40_000, staff=200, client_users=15_000,
            documents=100_000)


@dataclass
class SeedReport:
    """What was loaded, how long each table took, and the logins to try it with."""

    seed: int
    scale: int
    today: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0
    logins: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    big_practice_id: int = 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = {k: round(v, 3) for k, v in self.seconds.items()}
        return data


class Loader:
    """Builds the rows of one practice after another and inserts them in chunks."""

    def __init__(self, session: Session, rng: random.Random, moment: datetime,
                 password_hash: str, report: SeedReport) -> None:
        self.session = session
        self.rng = rng
        self.today = moment.date()
        self.now = moment  # nothing is drawn later than this
        self.password_hash = password_hash
        self.report = report

    @contextmanager
    def timed(self, table: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        seconds = self.report.seconds
        seconds[table] = seconds.get(table, 0.0) + time.perf_counter() - start

    def insert(self, model: Any, rows: list[dict[str, Any]], table: str) -> None:
        insert_rows(self.session, model, rows)
        self.report.rows[table] = self.report.rows.get(table, 0) + len(rows)

    def ago(self, max_days: int, min_days: int = 0) -> datetime:
        return self.now - timedelta(days=min_days + self.rng.random() * (max_days - min_days))

    # --- one practice --------------------------------------------------------------

    def practice(self, slug: str, name: str, sizes: Sizes, *, big: bool) -> int:
        from portal.tenancy.models import Practice

        rng = self.rng
        with self.timed("practices"):
            self.insert(Practice, [{
                "slug": slug, "name": name, "locale": "nl" if big or rng.random() < 0.9
                else "en",
                "theme": "default" if big else rng.choice(_themes()),
                "brand_color": rng.choice((None, "#1d4f7a", "#2f5d50", "#6b2d5c", "#8a4b08")),
                "welcome_text": f"Welkom in het klantportaal van {name}. Hier vindt u uw "
                                "jaarrekeningen, aangiftes en alles wat op u wacht.",
                "reminder_days": [-7, -2, 1],
                "mail_sender_name": name,
                "created_at": self.ago(2000, 400), "updated_at": self.ago(30),
            }], "practices")
            practice_id = self.session.scalar(select(Practice.id).where(Practice.slug == slug))
        staff_ids = self.staff(practice_id, slug, sizes.staff, big=big)
        clients = self.clients(practice_id, sizes.clients, sizes.client_users, big=big)
        self.engagements(practice_id, clients, staff_ids, sizes.engagements)
        note = documents(self, practice_id, sizes.documents)
        if note:  # one note per topic ("documents: ..."), the latest (running total) wins
            topic = note.partition(":")[0]
            self.report.notes = [n for n in self.report.notes
                                 if n.partition(":")[0] != topic] + [note]
        return practice_id

    def staff(self, practice_id: int, slug: str, count: int, *, big: bool) -> list[int]:
        from portal.accounts.models import StaffUser

        rng, taken, rows = self.rng, set(), []
        with self.timed("staff_users"):
            for n in range(count):
                full, _ = names.person(rng)
                if n == 0 and big:
                    email = ADMIN_EMAIL
                else:
                    email = _unique(f"{names.mailbox(full)}@{slug}.example", taken)
                taken.add(email)
                rows.append({
                    "practice_id": practice_id, "email": email, "name": full,
                    "role": "admin" if n == 0 or rng.random() < 0.08 else "staff",
                    "password_hash": self.password_hash, "locale": None,
                    "active": n == 0 or rng.random() < 0.95, "session_version": 1,
                    "created_at": self.ago(1500),
                })
            self.insert(StaffUser, rows, "staff_users")
            return list(self.session.scalars(select(StaffUser.id).where(
                StaffUser.practice_id == practice_id).order_by(StaffUser.id)))

    def clients(self, practice_id: int, count: int, users: int, *, big: bool) -> list[int]:
        """Clients, their contact persons (client users) and memberships; returns the
        clients' ids in the order they were made."""
        from portal.accounts.models import ClientUser, Membership
        from portal.clients import tiers
        from portal.clients.models import Client

        rng = self.rng
        with self.timed("clients"):
            rows = []
            for n in range(count):
                rows.append({
                    "practice_id": practice_id, "name": names.company(rng),
                    "client_number": str(10_000 + n),
                    "kvk_number": str(rng.randrange(10_000_000, 100_000_000))
                    if rng.random() < 0.9 else None,
                    "contact_name": None, "contact_email": None,
                    "tier": rng.choices(tiers.TIERS, (45, 30, 25))[0],
                    "status": rng.choices(("active", "blocked", "ended"), (94, 2, 4))[0],
                    "created_at": self.ago(3650, 30), "updated_at": self.ago(30),
                })
        with self.timed("client_users"):
            people, links = self._contacts(rows, users, big=big)
        with self.timed("clients"):
            self.insert(Client, rows, "clients")
            by_number = dict(self.session.execute(select(Client.client_number, Client.id)
                                                  .where(Client.practice_id == practice_id)).all())
            ids = [by_number[row["client_number"]] for row in rows]
        with self.timed("client_users"):
            for person in people:
                person["practice_id"] = practice_id
            self.insert(ClientUser, people, "client_users")
            by_email = dict(self.session.execute(
                select(ClientUser.email, ClientUser.id)
                .where(ClientUser.practice_id == practice_id)).all())
        with self.timed("memberships"):
            self.insert(Membership, [
                {"client_user_id": by_email[email], "client_id": ids[index], "role": role,
                 "created_at": self.ago(900)}
                for email, index, role in links], "memberships")
        return ids

    def _contacts(self, clients: list[dict[str, Any]], count: int, *, big: bool
                  ) -> tuple[list[dict[str, Any]], list[tuple[str, int, str]]]:
        """Client users and (email, client index, role) links. The first contact of a
        company is its owner and becomes the client's contact person."""
        from portal.clients import tiers

        rng, taken = self.rng, set()
        people, links = [], []
        has_owner: set[int] = set()
        for n in range(count):
            full, _ = names.person(rng)
            if n == 0 and big:
                # the known login: two portal companies and one without the portal
                plus = [i for i, c in enumerate(clients) if c["status"] == "active"
                        and c["tier"] == tiers.COLLABORATE_PLUS][:2]
                other = [i for i, c in enumerate(clients) if c["status"] == "active"
                         and c["tier"] == tiers.COLLABORATE][:1]
                companies, email = plus + other, CLIENT_EMAIL
            else:
                how_many = rng.choices((1, 2, 3), (85, 11, 4))[0]
                companies = rng.sample(range(len(clients)), min(how_many, len(clients)))
                email = _unique(f"{names.mailbox(full)}@"
                                f"{names.company_domain(clients[companies[0]]['name'])}", taken)
            taken.add(email)
            people.append({
                "email": email, "name": full,
                "password_hash": self.password_hash if n == 0 or rng.random() < 0.75
                else None,  # the others were invited and have not chosen a password yet
                "locale": "en" if rng.random() < 0.05 else None, "active": True,
                "session_version": 1, "created_at": self.ago(900),
            })
            for index in companies:
                role = "member" if index in has_owner else "owner"
                if role == "owner":
                    has_owner.add(index)
                    clients[index]["contact_name"] = full
                    clients[index]["contact_email"] = email
                links.append((email, index, role))
        for index, client in enumerate(clients):  # a contact without a portal login
            if index not in has_owner and rng.random() < 0.5:
                full, _ = names.person(rng)
                client["contact_name"] = full
                client["contact_email"] = (f"{names.mailbox(full)}@"
                                           f"{names.company_domain(client['name'])}")
        return people, links

    def engagements(self, practice_id: int, clients: list[int], staff: list[int],
                    count: int) -> None:
        """About four per client: annual accounts and tax returns of the last three years
        and other work, each with a status that fits its deadline."""
        from portal.engagements.models import Engagement

        rng, year = self.rng, self.today.year
        with self.timed("engagements"):
            per_client = [0] * len(clients)
            for _ in range(count):
                per_client[rng.randrange(len(clients))] += 1
            rows = []
            for client_id, how_many in zip(clients, per_client, strict=True):
                work = [(kind, y) for kind in ("annual_accounts", "tax_return")
                        for y in (year - 2, year - 1, year)]
                rng.shuffle(work)
                work = work[:how_many] + [("other", rng.choice((year - 1, year)))
                                          for _ in range(how_many - len(work))]
                for kind, work_year in work:
                    deadline = None if rng.random() < 0.04 else \
                        date(work_year + 1, 1, 1) + timedelta(days=rng.randrange(365))
                    created = min(self.ago(60), datetime.combine(
                        deadline or self.today, clock_time(9), UTC) - timedelta(days=300))
                    rows.append({
                        "practice_id": practice_id, "client_id": client_id, "kind": kind,
                        "year": work_year,
                        "title": rng.choice(names.OTHER_WORK) if kind == "other" else None,
                        "deadline": deadline,
                        "responsible_id": rng.choice(staff) if staff and rng.random() < 0.9
                        else None,
                        "status": self._status(deadline), "created_at": created,
                        "updated_at": max(created, self.ago(120)),
                    })
            self.insert(Engagement, rows, "engagements")

    def _status(self, deadline: date | None) -> str:
        statuses = ("draft", "in_preparation", "shared", "awaiting_approval", "approved",
                    "rejected", "closed")
        days = 999 if deadline is None else (deadline - self.today).days
        if days < -30:  # long past: mostly done, a few still overdue
            weights = (2, 3, 3, 4, 35, 3, 50)
        elif days <= 30:
            weights = (10, 30, 15, 20, 15, 5, 5)
        else:
            weights = (45, 35, 8, 5, 4, 1, 2)
        return self.rng.choices(statuses, weights)[0]


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert in chunks, one executemany each. Through the table, not the ORM's bulk path:
    that one splits the rows into a statement per run of rows with the same NULL columns.
    Many rows into PostgreSQL go by COPY, its own bulk path, several times faster."""
    dialect = session.get_bind().dialect.name
    if len(rows) >= COPY_FROM and dialect == "postgresql":
        _copy(session, model.__table__.name, rows)
        return
    if len(rows) >= COPY_FROM and dialect == "sqlite" and _sqlite_many(session, model, rows):
        return
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model.__table__), rows[start:start + CHUNK])


def _copy(session: Session, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    names_sql = ", ".join(f'"{column}"' for column in columns)
    cursor = session.connection().connection.driver_connection.cursor()  # psycopg's own
    with cursor.copy(f'COPY "{table}" ({names_sql}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_stored(row[column]) for column in columns])


def _sqlite_many(session: Session, model: Any, rows: list[dict[str, Any]]) -> bool:
    """Many rows into SQLite through the driver's executemany, with the values stored as
    SQLAlchemy stores them (naive UTC "YYYY-MM-DD HH:MM:SS.ffffff", "YYYY-MM-DD") and the
    columns' constant defaults: less than half the time of the table's insert(). False
    (nothing done) when a column has a type or a default this does not know."""
    from operator import itemgetter

    from sqlalchemy import Boolean, Date, Integer, String, Text

    from portal.db import UTCDateTime

    table = model.__table__
    defaults = {c.name: c.default for c in table.c
                if c.name not in rows[0] and c.default is not None}
    if any(not default.is_scalar for default in defaults.values()):
        return False
    constants = {name: default.arg for name, default in defaults.items()}
    compiled = insert(table).compile(dialect=session.get_bind().dialect,
                                     column_keys=list(rows[0]))
    order = list(compiled.positiontup or ())
    if len(order) < 2 or set(order) != set(rows[0]) | set(constants):
        return False
    convert = []
    for position, column in enumerate(order):
        kind = table.c[column].type
        if isinstance(kind, UTCDateTime):
            convert.append((position, _sqlite_datetime))
        elif isinstance(kind, Date):
            convert.append((position, _sqlite_date))
        elif not isinstance(kind, Integer | String | Text | Boolean):
            return False
    getter = itemgetter(*order)

    def values(row: dict[str, Any]) -> list[Any]:
        out = list(getter({**constants, **row} if constants else row))
        for position, how in convert:
            if out[position] is not None:
                out[position] = how(out[position])
        return out

    cursor = session.connection().connection.driver_connection.cursor()  # sqlite3's own
    try:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(str(compiled), [values(row) for row in rows[start:start + CHUNK]])
    finally:
        cursor.close()
    return True


def _sqlite_datetime(value: datetime) -> str:
    if value.tzinfo is UTC:  # the common case, in one call: "YYYY-MM-DD HH:MM:SS.ffffff"
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_date(value: date) -> str:
    return value.isoformat()


def _stored(value: Any) -> Any:
    """What the UTCDateTime columns store: naive UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


BATCH_SIZES = (1,) * 50 + (2,) * 20 + (3,) * 12 + (4,) * 8 + (5,) * 6 + (8,) * 4  # files
DOCUMENT_CHUNK = 20_000  # documents built and inserted at a time: memory stays small at 10x
FULL_FOLDER = 150  # documents at least in each portal company of the known client login
CLIENT_NOTES = ("Graag verwerken in de aangifte.", "De ontbrekende bonnen volgen nog.",
                "Dit is de definitieve versie.", "Zie ook mijn mail van vorige week.",
                "Excuses voor de late aanlevering.")
PRACTICE_NOTES = ("Hierbij de stukken ter controle.", "Zoals besproken.",
                  "Graag vóór het einde van de maand reageren.",
                  "Wilt u dit doornemen en ons laten weten of het klopt?")


def documents(loader: Loader, practice_id: int, count: int) -> str | None:
    """Fill the documents table with `count` metadata rows for this practice; no files are
    written (a download of a bench document finds no stored file).

    Uploads come in batches of one to eight files, on the clients with document exchange
    mostly (a few on other tiers: kept from before a tier change), half of them in the
    folder of one of the client's engagements (its year), the others in the year they were
    sent for. From the client: by one of its contact persons (clients without one get
    files from the practice only). From the practice: by a staff member, with the share the
    portal makes for them (all contact persons, or chosen ones) and its recipients. Each
    portal company of the known client login gets a full folder of at least FULL_FOLDER.
    A few per cent were deleted in the last four weeks (restorable, as the page shows).
    """
    from portal.accounts.models import ClientUser, Membership, StaffUser
    from portal.clients import tiers
    from portal.clients.models import Client
    from portal.documents.filetypes import KINDS
    from portal.documents.models import FROM_CLIENT, FROM_PRACTICE, Document
    from portal.engagements.models import Engagement

    if count <= 0:
        return None
    session, rng, now = loader.session, loader.rng, loader.now
    with loader.timed("documents"):
        clients = session.execute(select(Client.id, Client.tier).where(
            Client.practice_id == practice_id).order_by(Client.id)).all()
        work: dict[int, list[tuple[int, int]]] = {}
        for engagement_id, client_id, year in session.execute(
                select(Engagement.id, Engagement.client_id, Engagement.year)
                .where(Engagement.practice_id == practice_id).order_by(Engagement.id)):
            work.setdefault(client_id, []).append((engagement_id, year))
        contacts: dict[int, list[tuple[int, str, str]]] = {}
        full: list[int] = []
        for client_id, user_id, email, name in session.execute(
                select(Membership.client_id, ClientUser.id, ClientUser.email, ClientUser.name)
                .join(ClientUser, ClientUser.id == Membership.client_user_id)
                .where(ClientUser.practice_id == practice_id, ClientUser.active.is_(True))
                .order_by(Membership.id)):
            contacts.setdefault(client_id, []).append((user_id, email, name))
            if email == CLIENT_EMAIL:
                full.append(client_id)
        staff = session.execute(select(StaffUser.id, StaffUser.email).where(
            StaffUser.practice_id == practice_id, StaffUser.active.is_(True))
            .order_by(StaffUser.id)).all()
        exchange = {cid for cid, tier in clients if tiers.has(tier, "documents")}
        full = [cid for cid in reversed(full) if cid in exchange]
        ids, cumulative, total = [], [], 0.0
        for cid, _tier in clients:  # a few clients with many files, most with a handful
            total += rng.expovariate(1.0) * (1.0 if cid in exchange else 0.04)
            ids.append(cid)
            cumulative.append(total)
    given = dict.fromkeys(full, 0)
    three_years = timedelta(days=3 * 365)
    serial, left = 0, count
    while left > 0:
        with loader.timed("documents"):
            rows: list[dict[str, Any]] = []
            shares: list[dict[str, Any]] = []
            recipients: list[tuple[int, dict[str, Any]]] = []  # (share index, row)
            while left > 0 and len(rows) < DOCUMENT_CHUNK:
                while full and given[full[-1]] >= FULL_FOLDER:
                    full.pop()
                client_id = full[-1] if full else ids[bisect(cumulative, rng.random() * total)]
                people = contacts.get(client_id)
                from_client = bool(people) and rng.random() < 0.65
                engagements = work.get(client_id)
                if engagements and rng.random() < 0.5:
                    engagement_id, year = rng.choice(engagements)
                    begin = max(datetime(year, 1, 1, 8, tzinfo=UTC), now - three_years)
                    created = begin + (now - begin) * rng.random()
                else:
                    engagement_id, created = None, loader.ago(3 * 365)
                    year = created.year  # or last year's, sent early in the year
                    if created.month <= 4 and rng.random() < 0.7:
                        year -= 1
                files = min(left, rng.choice(BATCH_SIZES))
                share = None
                if from_client:
                    user_id, label, _name = rng.choice(people)
                    staff_id, note = None, rng.choice(CLIENT_NOTES) if rng.random() < 0.1 \
                        else None
                else:
                    staff_id, label = rng.choice(staff)
                    user_id, note = None, rng.choice(PRACTICE_NOTES) if rng.random() < 0.3 \
                        else None
                    chosen = bool(people) and rng.random() < 0.1
                    share = len(shares)
                    shares.append({
                        "practice_id": practice_id, "client_id": client_id,
                        "audience": "chosen" if chosen else "all", "message": note,
                        "created_by_id": staff_id, "created_at": created})
                    mailed = created + timedelta(minutes=1)
                    recipients += [(share, {
                        "share_id": None, "client_user_id": uid, "email": email.lower(),
                        "name": name, "mailed_at": mailed})
                        for uid, email, name in (people or ())
                        if not chosen or uid == people[0][0]]
                batch = f"{rng.getrandbits(128):032x}"
                for _ in range(files):
                    serial += 1
                    name = names.document_name(rng, year, from_client=from_client)
                    deleted = rng.random() < 0.03
                    deleted_at = max(created, now - timedelta(days=28 * rng.random())) \
                        if deleted else None
                    rows.append({
                        "practice_id": practice_id, "client_id": client_id,
                        "engagement_id": engagement_id, "request_id": None, "share_id": share,
                        "year": year,
                        "direction": FROM_CLIENT if from_client else FROM_PRACTICE,
                        "name": name,
                        "storage_key": f"{practice_id:06x}{serial:08x}{rng.getrandbits(72):018x}",
                        "size": int(20_480 * 400 ** rng.random()),  # 20 KB to 8 MB
                        "sha256": f"{rng.getrandbits(256):064x}",
                        "mime": KINDS[name.rpartition(".")[2]][1], "note": note,
                        "batch": batch, "uploaded_by_staff_id": staff_id,
                        "uploaded_by_client_user_id": user_id, "uploaded_by_label": label,
                        "created_at": created, "deleted_at": deleted_at,
                        "deleted_by_id": rng.choice(staff)[0] if deleted else None,
                    })
                left -= files
                if client_id in given:
                    given[client_id] += files
        share_ids = _shares(loader, shares, recipients)
        with loader.timed("documents"):
            for row in rows:
                if row["share_id"] is not None:
                    row["share_id"] = share_ids[row["share_id"]]
            loader.insert(Document, rows, "documents")
    return (f"documents: {loader.report.rows['documents']:,} metadata rows, "
            "no files written")


def _shares(loader: Loader, shares: list[dict[str, Any]],
            recipients: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Insert the shares and their recipients; returns the shares' ids in order."""
    from portal.documents.models import DocumentShare, DocumentShareRecipient

    if not shares:
        return []
    session = loader.session
    with loader.timed("document_shares"):
        before = session.scalar(select(func.max(DocumentShare.id))) or 0
        loader.insert(DocumentShare, shares, "document_shares")
        ids = list(session.scalars(select(DocumentShare.id).where(DocumentShare.id > before)
                                   .order_by(DocumentShare.id)))
        if len(ids) != len(shares):
            raise RuntimeError("document shares: the ids read back do not match the rows")
        for index, row in recipients:
            row["share_id"] = ids[index]
        loader.insert(DocumentShareRecipient, [row for _i, row in recipients],
                      "document_share_recipients")
    return ids


def add_tasks(session: Session, practice_id: int, count: int, *, rng: random.Random,
              moment: datetime) -> float:
    """Add `count` open client tasks on the practice's clients, deadlines spread over the
    year around `moment`, for the reminder bench. Returns the seconds it took.

    Their kind ("bench") has no feature row behind it and no page that opens it: add them
    to a bench database only, not to one people click through (`make bench` does so)."""
    from portal.clients.models import Client
    from portal.notifications.models import ClientTask

    start = time.perf_counter()
    clients = list(session.scalars(select(Client.id).where(Client.practice_id == practice_id)
                                   .order_by(Client.id)))
    first = (session.scalar(select(func.max(ClientTask.subject_id))
                            .where(ClientTask.kind == TASK_KIND)) or 0) + 1
    what = ("Jaarrekening {} goedkeuren", "Aangifte inkomstenbelasting {} goedkeuren",
            "Vragenlijst jaarwerk {} invullen", "Stukken {} aanleveren",
            "Aangifte vennootschapsbelasting {} goedkeuren")
    rows = []
    for n in range(count):
        deadline = moment.replace(minute=0, second=0, microsecond=0) + timedelta(
            days=rng.randint(-182, 182), hours=rng.randint(-6, 6))
        rows.append({
            "practice_id": practice_id, "client_id": rng.choice(clients), "kind": TASK_KIND,
            "subject_id": first + n,
            "title": rng.choice(what).format(deadline.year - 1), "deadline": deadline,
            "state": "open", "reminded_offset": None,
            "created_at": min(deadline - timedelta(days=rng.randint(14, 120)),
                              moment - timedelta(hours=1)),
        })
    insert_rows(session, ClientTask, rows)
    return time.perf_counter() - start


def seed(session: Session, *, scale: int = 1, practices: int = 20, seed_value: int =
         DEFAULT_SEED, today: date | None = None) -> SeedReport:
    """Load the reference data set into a fresh, migrated database, in one transaction."""
    from portal.accounts.passwords import hash_password
    from portal.clock import now
    from portal.db import analyze, transaction
    from portal.tenancy.models import Practice

    if not inspect(session.get_bind()).has_table("practices"):
        raise click.ClickException("the database has no tables: run `portal db upgrade` first")
    if session.scalar(select(Practice.id).where(Practice.slug == BIG_SLUG)) is not None:
        raise click.ClickException(f"this database already holds the {BIG_SLUG!r} practice; "
                                   "bench-seed loads into a fresh, migrated database")
    session.rollback()
    # A given day is loaded as of 09:00 UTC; without one, as of now, never in the future.
    moment = now() if today is None else datetime.combine(today, clock_time(9), UTC)
    report = SeedReport(seed=seed_value, scale=scale, today=moment.date().isoformat())
    rng = random.Random(seed_value)
    started = time.perf_counter()
    with transaction(session):
        if session.get_bind().dialect.name == "sqlite":  # the indexes outgrow 2 MB at 10x
            session.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}"))
        loader = Loader(session, rng, moment, hash_password(PASSWORD), report)
        report.big_practice_id = loader.practice(BIG_SLUG, BIG_NAME, BIG.times(scale),
                                                 big=True)
        slugs = {BIG_SLUG}
        for _ in range(practices - 1):
            name = names.practice(rng)
            slug = _unique(names.ascii_slug(name)[:40], slugs)
            slugs.add(slug)
            clients = rng.randint(40, 400)
            loader.practice(slug, name, Sizes(
                clients=clients, engagements=round(clients * rng.uniform(2.5, 4.5)),
                staff=rng.randint(2, 10), client_users=round(clients * rng.uniform(0.8, 1.6)),
                documents=clients * 8), big=False)
    analyze(session)  # as the worker's statistics sweep does within a minute of a bulk load
    _vacuum(session)
    report.total_seconds = time.perf_counter() - started
    report.logins = _logins(session)
    return report


def _vacuum(session: Session) -> None:
    """PostgreSQL: what autovacuum does soon after a bulk load, so counts read indexes only
    (its visibility map says which pages need no visit) as they do in a running system."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")


def _logins(session: Session) -> dict[str, Any]:
    from portal.accounts.models import ClientUser, Membership
    from portal.clients.models import Client
    from portal.notifications.mail import practice_url
    from portal.tenancy.models import Practice

    practice = session.scalar(select(Practice).where(Practice.slug == BIG_SLUG))
    companies = list(session.execute(
        select(Client.id, Client.name, Client.tier)
        .join(Membership, Membership.client_id == Client.id)
        .join(ClientUser, ClientUser.id == Membership.client_user_id)
        .where(ClientUser.practice_id == practice.id, ClientUser.email == CLIENT_EMAIL)
        .order_by(Client.id)))
    return {
        "password": PASSWORD,
        "staff": {"url": practice_url(practice, "accounts.staff_login"),
                  "email": ADMIN_EMAIL, "role": "admin"},
        "client": {"url": practice_url(practice, "accounts.client_login"),
                   "email": CLIENT_EMAIL,
                   "companies": [{"id": cid, "name": name, "tier": tier}
                                 for cid, name, tier in companies]},
    }


def _unique(candidate: str, taken: set[str]) -> str:
    if candidate not in taken:
        return candidate
    local, at, domain = candidate.partition("@")
    n = 2
    while f"{local}{n}{at}{domain}" in taken:
        n += 1
    return f"{local}{n}{at}{domain}"


def _themes() -> list[str]:
    from portal import ROOT

    return sorted(p.name for p in (ROOT / "themes").iterdir() if p.is_dir())


@click.command("bench-seed")
@click.option("--scale", default=1, show_default=True, type=click.IntRange(1, 100),
              help="Multiply the big practice (clients, engagements, staff, client users).")
@click.option("--practices", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Number of practices, the big one included.")
@click.option("--seed", "seed_value", default=DEFAULT_SEED, show_default=True,
              help="Seed of the random generator: the same seed gives the same data.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]),
              help="Draw dates relative to this day instead of today.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def bench_seed(scale: int, practices: int, seed_value: int, today: datetime | None,
               as_json: bool) -> None:
    """Load the reference data set for benchmarks into a fresh, migrated database."""
    from portal import db

    session = db.session
    report = seed(session, scale=scale, practices=practices, seed_value=seed_value,
                  today=today.date() if today else None)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(describe(report, current_app.config["DATABASE_URL"]))


def describe(report: SeedReport, url: str) -> str:
    """The report as people read it: rows and seconds per table, notes, logins."""
    lines = [f"Reference data set loaded into {_safe_url(url)}",
             f"(seed {report.seed}, scale {report.scale}, dates relative to {report.today})",
             "", f"  {'table':<26} {'rows':>10} {'seconds':>8}"]
    for table, rows in report.rows.items():
        lines.append(f"  {table:<26} {rows:>10,} {report.seconds.get(table, 0):>8.2f}")
    lines.append(f"  {'total':<26} {sum(report.rows.values()):>10,} "
                 f"{report.total_seconds:>8.2f}")
    lines += ["", *(f"  {note}" for note in report.notes)]
    logins = report.logins
    companies = ", ".join(f"{c['name']} ({c['tier']})" for c in logins["client"]["companies"])
    lines += ["", f"Logins (every bench user has the password {logins['password']}):",
              f"  office  {logins['staff']['url']:<40} {logins['staff']['email']} (admin)",
              f"  portal  {logins['client']['url']:<40} {logins['client']['email']}",
              f"          companies: {companies}"]
    return "\n".join(lines)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
