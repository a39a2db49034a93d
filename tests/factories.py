"""Factories: arrange a test's world in a line each, stored through the real models."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta
from typing import Any

from flask import Flask

from portal import db
from portal.accounts import links
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.accounts.passwords import hash_password
from portal.clients import tiers
from portal.clients.models import Client
from portal.clock import now
from portal.db import transaction
from portal.engagements.models import Engagement, ReportVersion, SealedReport, Share, Signer
from portal.notifications.models import ClientTask, OutboxMessage
from portal.tenancy.models import CustomDomain, Practice

PASSWORD = "correct horse battery staple 42"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# Far above the numbers tests choose themselves ("1001"), so a made-up one never clashes.
_numbers = itertools.count(700_000)


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def _save(self, *rows: Any) -> Any:
        with self.app.app_context():
            session = db.session
            with transaction(session):
                session.add_all(rows)
            for row in rows:
                session.refresh(row)
                session.expunge(row)
        return rows[0] if len(rows) == 1 else rows

    def practice(self, slug: str = "demo", **values: Any) -> Practice:
        values.setdefault("name", f"{slug.title()} Accountants")
        values.setdefault("locale", "en")  # tests read in the source language; i18n tests say nl
        return self._save(Practice(slug=slug, **values))

    def domain(self, practice: Practice, host: str) -> CustomDomain:
        return self._save(CustomDomain(practice_id=practice.id, host=host))

    def staff(self, practice: Practice, email: str | None = None, role: str = "staff",
              password: str = PASSWORD, **values: Any) -> StaffUser:
        with self.app.app_context():
            hashed = hash_password(password)
        email = email or f"{role}{next(_numbers)}@{practice.slug}.example"
        values.setdefault("name", email.split("@")[0].title())
        return self._save(StaffUser(practice_id=practice.id, email=email, role=role,
                                    password_hash=hashed, **values))

    def client(self, practice: Practice, tier: str = tiers.COLLABORATE_PLUS,
               **values: Any) -> Client:
        number = str(next(_numbers))
        values.setdefault("name", f"Bedrijf {number} B.V.")
        values.setdefault("client_number", number)
        return self._save(Client(practice_id=practice.id, tier=tier, **values))

    def outbox(self, practice: Practice, **values: Any) -> OutboxMessage:
        defaults = {"kind": "test", "recipient": "someone@client.example",
                    "sender_name": practice.name, "subject": "Test",
                    "text_body": "Hello", "html_body": "<p>Hello</p>"}
        return self._save(OutboxMessage(practice_id=practice.id, **{**defaults, **values}))

    def task(self, client: Client, **values: Any) -> ClientTask:
        values.setdefault("kind", "test")
        values.setdefault("subject_id", next(_numbers))
        values.setdefault("title", "Jaarrekening 2025 goedkeuren")
        return self._save(ClientTask(practice_id=client.practice_id, client_id=client.id,
                                     **values))

    def membership(self, user: ClientUser, client: Client, role: str = "member") -> Membership:
        return self._save(Membership(client_user_id=user.id, client_id=client.id, role=role))

    def engagement(self, client: Client, **values: Any) -> Engagement:
        values.setdefault("kind", "annual_accounts")
        values.setdefault("year", 2025)
        return self._save(Engagement(practice_id=client.practice_id, client_id=client.id,
                                     **values))

    def report(self, engagement: Engagement, data: bytes = PDF,
               filename: str = "jaarrekening.pdf") -> ReportVersion:
        """A report version whose file really is in the app's storage."""
        with self.app.app_context():
            stored = self.app.extensions["portal.storage"].put(io.BytesIO(data))
        number = next(_numbers)
        return self._save(ReportVersion(
            practice_id=engagement.practice_id, engagement_id=engagement.id, number=number,
            storage_key=stored.key, sha256=stored.sha256, size=stored.size,
            filename=filename))

    def share(self, version: ReportVersion, client: Client, *signers: ClientUser | str,
              mode: str = "approval", **values: Any) -> Share:
        share = self._save(Share(
            practice_id=version.practice_id, client_id=client.id,
            engagement_id=version.engagement_id, report_version_id=version.id, mode=mode,
            deadline=values.pop("deadline", now() + timedelta(days=10)), **values))
        for person in signers:
            if isinstance(person, str):
                self._save(Signer(share_id=share.id, email=person))
            else:
                self._save(Signer(share_id=share.id, email=person.email, name=person.name,
                                  client_user_id=person.id, via_portal=True))
        return share

    def sealed(self, share: Share, version: ReportVersion) -> SealedReport:
        """A sealed approval as the worker leaves it (its file: the version's, for routes
        that only serve it)."""
        return self._save(SealedReport(
            practice_id=share.practice_id, share_id=share.id,
            engagement_id=share.engagement_id, report_version_id=version.id,
            verify_token=f"seal-{share.id}-{next(_numbers)}", state="sealed", attempts=1,
            storage_key=version.storage_key, sha256=version.sha256, size=version.size,
            sealed_at=now()))

    def document(self, client: Client, data: bytes = b"kolom;bedrag\n1;2\n",
                 name: str = "bankafschrift.csv", year: int = 2025) -> Any:
        """A document of the client whose file really is in the app's storage."""
        from portal.documents.models import Document

        with self.app.app_context():
            stored = self.app.extensions["portal.storage"].put(io.BytesIO(data))
        return self._save(Document(
            practice_id=client.practice_id, client_id=client.id, year=year,
            direction="from_client", name=name, storage_key=stored.key, size=stored.size,
            sha256=stored.sha256, mime="text/csv", batch="b" * 32,
            uploaded_by_label="test"))

    def link(self, practice: Practice, purpose: str, email: str,
             subject: tuple[str, int] | None = None) -> str:
        """A one-time link's token, as the mail would carry it."""
        with self.app.app_context(), transaction(db.session):
            return links.issue(db.session, practice_id=practice.id, purpose=purpose,
                               email=email, subject=subject)

    def client_user(self, practice: Practice, *companies: Client, email: str | None = None,
                    password: str | None = PASSWORD, role: str = "owner", **values: Any
                    ) -> ClientUser:
        """A contact person; `password=None`: one who never chose a password (never signed in)."""
        with self.app.app_context():
            hashed = hash_password(password) if password else None
        email = email or f"contact{next(_numbers)}@client.example"
        values.setdefault("name", email.split("@")[0].title())
        user = self._save(ClientUser(practice_id=practice.id, email=email, password_hash=hashed,
                                     **values))
        for company in companies:
            self._save(Membership(client_user_id=user.id, client_id=company.id, role=role))
        return user

    def invited_staff(self, practice: Practice, email: str | None = None, role: str = "staff",
                      **values: Any) -> tuple[StaffUser, str]:
        """A colleague invited but not yet joined (inactive, no password), and the token of
        the invitation link in their mail."""
        email = email or f"invited{next(_numbers)}@{practice.slug}.example"
        values.setdefault("name", "")
        user = self._save(StaffUser(practice_id=practice.id, email=email, role=role,
                                    password_hash=None, active=False, **values))
        return user, self.link(practice, "staff_invite", email, subject=("staff_users", user.id))


def record_audit_events(app: Flask, practice: Any, count: int = 3) -> None:
    """`count` events in the practice's audit chain, each in its own transaction."""
    from portal import audit

    actor = audit.Actor(practice.id, "staff", 1, "anna@example.nl", "192.0.2.1", "pytest")
    with app.app_context():
        for n in range(count):
            with transaction(db.session):
                audit.record(db.session, actor, "test.event", None, n=n)
