"""Demo data: two practices with staff, clients in every tier and client users.

`portal demo` loads it; running it again changes nothing but resetting the demo passwords,
so the logins it prints always work.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import db, demo_work
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.accounts.passwords import hash_password
from portal.clients import tiers
from portal.clients.models import Client
from portal.clock import today as today_in_amsterdam
from portal.db import transaction
from portal.documents import files
from portal.engagements.models import Engagement
from portal.questionnaires.examples import EXAMPLES
from portal.questionnaires.models import QuestionnaireTemplate, TemplateVersion
from portal.tenancy.models import Practice

PRACTICES: list[dict[str, Any]] = [
    {
        "slug": "demo",
        "name": "Bakker & Visser Accountants",
        "theme": "default",
        "locale": "nl",
        "brand_color": "#1d4f7a",
        "welcome_text": "Welkom in het klantportaal van Bakker & Visser. Hier vindt u uw "
                        "jaarrekeningen, aangiftes en alles wat op u wacht.",
        "logo_rgb": (0x1D, 0x4F, 0x7A),
        "staff": [
            ("Anna Bakker", "anna@bakkervisser.example", "admin", "demo-admin-2026"),
            ("Joost Visser", "joost@bakkervisser.example", "staff", "demo-staff-2026"),
        ],
        "clients": [
            ("1001", "Bakkerij De Gouden Korst B.V.", tiers.COLLABORATE_PLUS, "12345678"),
            ("1002", "Van Dijk Installatietechniek B.V.", tiers.COLLABORATE_PLUS, "23456789"),
            ("1003", "Fietsenmaker Jansen", tiers.COLLABORATE, "34567890"),
            ("1004", "Hoveniersbedrijf Groen", tiers.COLLABORATE, "45678901"),
            ("1005", "Kapsalon Knip & Co", tiers.STANDARD, "56789012"),
            ("1006", "De Vries Consultancy", tiers.COLLABORATE_PLUS, "67890123"),
        ],
        "client_users": [
            # Sanne runs two Uitgebreid companies and one in another tier.
            ("Sanne de Boer", "sanne@goudenkorst.example", "demo-client-2026",
             [("1001", "owner"), ("1002", "member"), ("1003", "owner")]),
            ("Peter van Dijk", "peter@vandijk.example", "demo-client-2026",
             [("1002", "owner")]),
            ("Ahmed Yilmaz", "ahmed@knipenco.example", "demo-client-2026",
             [("1005", "owner")]),
        ],
    },
    {
        "slug": "other",
        "name": "Noordzee Administratie",
        "theme": "harbour",
        "locale": "nl",
        "brand_color": None,
        "welcome_text": None,
        "logo_rgb": None,
        "staff": [
            ("Olga Noordzee", "olga@noordzee.example", "admin", "other-admin-2026"),
            ("Kees Zeeman", "kees@noordzee.example", "staff", "other-staff-2026"),
        ],
        "clients": [
            ("2001", "Strandpaviljoen De Duinen", tiers.COLLABORATE_PLUS, "78901234"),
            ("2002", "Visserij Scheveningen B.V.", tiers.COLLABORATE, "89012345"),
            ("2003", "Zeilmakerij Wind", tiers.STANDARD, "90123456"),
        ],
        "client_users": [
            ("Lotte Strand", "lotte@deduinen.example", "other-client-2026",
             [("2001", "owner")]),
        ],
    },
]


def load() -> dict[str, Any]:
    """Create or refresh the demo data and return the logins, as `portal demo --json`."""
    session = db.session
    result = []
    with transaction(session):
        for spec in PRACTICES:
            result.append(_practice(session, spec))
        demo_work.load(session, _one(session, Practice, slug="demo"), files.storage())
    return {"practices": result}


def _one(session: Session, model: Any, **where: Any) -> Any:
    return session.scalar(select(model).filter_by(**where))


def _practice(session: Session, spec: dict[str, Any]) -> dict[str, Any]:
    practice = _one(session, Practice, slug=spec["slug"]) or Practice(slug=spec["slug"])
    practice.name = spec["name"]
    practice.theme = spec["theme"]
    practice.locale = spec["locale"]
    practice.brand_color = spec["brand_color"]
    practice.welcome_text = spec["welcome_text"]
    if spec["logo_rgb"]:
        practice.logo = _logo_png(spec["logo_rgb"])
        practice.logo_type = "image/png"
        practice.logo_hash = hashlib.sha256(practice.logo).hexdigest()
    session.add(practice)
    session.flush()

    staff = []
    for name, email, role, password in spec["staff"]:
        user = _one(session, StaffUser, practice_id=practice.id, email=email) or StaffUser(
            practice_id=practice.id, email=email)
        user.name, user.role, user.active = name, role, True
        user.password_hash = hash_password(password)
        session.add(user)
        staff.append({"email": email, "password": password, "role": role})

    clients = {}
    for number, name, tier, kvk in spec["clients"]:
        client = _one(session, Client, practice_id=practice.id, client_number=number) or Client(
            practice_id=practice.id, client_number=number)
        client.name, client.tier, client.kvk_number, client.status = name, tier, kvk, "active"
        session.add(client)
        clients[number] = client
    session.flush()

    _engagements(session, practice, list(clients.values()))
    _questionnaire_templates(session, practice)
    _key_figures(session, practice, list(clients.values()))

    client_users = []
    for name, email, password, memberships in spec["client_users"]:
        user = _one(session, ClientUser, practice_id=practice.id, email=email) or ClientUser(
            practice_id=practice.id, email=email)
        user.name, user.active = name, True
        user.password_hash = hash_password(password)
        session.add(user)
        session.flush()
        for number, role in memberships:
            client = clients[number]
            if role == "owner" and not client.contact_email:
                client.contact_name, client.contact_email = name, email
            if not _one(session, Membership, client_user_id=user.id, client_id=client.id):
                session.add(Membership(client_user_id=user.id, client_id=client.id, role=role))
        client_users.append({
            "email": email, "password": password,
            "companies": [clients[number].name for number, _ in memberships],
        })

    return {
        "slug": practice.slug,
        "name": practice.name,
        "staff": staff,
        "clients": [{"name": c.name, "tier": c.tier} for c in clients.values()],
        "client_users": client_users,
    }


# (kind, year, status, days from today to the deadline) per client, in order.
_WORK = [
    [("annual_accounts", 2025, "in_preparation", 40), ("tax_return", 2025, "draft", 120)],
    [("annual_accounts", 2025, "draft", 10), ("tax_return", 2025, "draft", 150)],
    [("annual_accounts", 2025, "in_preparation", -5), ("tax_return", 2024, "closed", -200)],
    [("annual_accounts", 2025, "draft", 60)],
    [("annual_accounts", 2025, "in_preparation", 25), ("tax_return", 2025, "draft", 90)],
    [("annual_accounts", 2024, "closed", -180), ("annual_accounts", 2025, "draft", 75)],
]


def _engagements(session: Session, practice: Practice, clients: list[Client]) -> None:
    """Work in every state of the year, so the overviews have something to show."""
    today = today_in_amsterdam()
    responsible = session.scalar(select(StaffUser.id).where(
        StaffUser.practice_id == practice.id, StaffUser.role == "staff"))
    for client, work in zip(clients, _WORK, strict=False):
        for kind, year, status, days in work:
            found = _one(session, Engagement, client_id=client.id, kind=kind, year=year)
            if found is None:
                session.add(Engagement(practice_id=practice.id, client_id=client.id,
                                       kind=kind, year=year, status=status,
                                       deadline=today + timedelta(days=days),
                                       responsible_id=responsible))


def _questionnaire_templates(session: Session, practice: Practice) -> None:
    """The two example templates, so the questionnaires page is not empty at first."""
    for example in EXAMPLES:
        if _one(session, QuestionnaireTemplate, practice_id=practice.id,
                name=example["name"]) is None:
            template = QuestionnaireTemplate(practice_id=practice.id, name=example["name"],
                                             description=example["description"])
            session.add(template)
            session.flush()
            session.add(TemplateVersion(template_id=template.id, number=1,
                                        content=example["content"]))


def _key_figures(session: Session, practice: Practice, clients: list[Client]) -> None:
    """Three years of figures per client and an Uitgebreid client's own till, webshop and
    bank figures, with the dashboard blocks shared: full dashboards at once."""
    from portal.insights import demo as insights_demo

    insights_demo.load(session, practice.id, clients)


def _logo_png(rgb: tuple[int, int, int], size: int = 96) -> bytes:
    """A small square logo: three rising white bars on the brand colour, as a PNG."""
    white = (255, 255, 255)
    bars = [(18, 58), (40, 40), (62, 22)]  # (left x, top y) of each bar, 16 px wide
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type "none"
        for x in range(size):
            on_bar = any(left <= x < left + 16 and top <= y < 78 for left, top in bars)
            row.extend(white if on_bar else rgb)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))
