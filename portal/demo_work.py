"""Work in progress for the demo practice: reports waiting for approval (in the portal and
by link), a questionnaire, a request for documents and an offer, so that a new user sees
every feature with something in it (and, in /dev/mail, every mail it sends).

Everything goes through the real services, once: running the demo again finds it there.
"""

from __future__ import annotations

import io
import zlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import ClientUser, StaffUser
from portal.audit import Actor
from portal.clients.models import Client
from portal.clock import now
from portal.collaboration import offers
from portal.collaboration.models import Offer
from portal.documents import service as documents
from portal.documents.models import DocumentRequest
from portal.engagements import approvals
from portal.engagements.models import Engagement, Share
from portal.questionnaires import service as questionnaires
from portal.questionnaires.models import QuestionnaireBatch, QuestionnaireTemplate


def report_pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF with a title and some lines of text."""
    text = [f"BT /F1 20 Tf 72 760 Td ({title}) Tj ET"]
    for n, line in enumerate(lines):
        text.append(f"BT /F1 11 Tf 72 {720 - 18 * n} Td ({line}) Tj ET")
    stream = zlib.compress("\n".join(text).encode("latin-1"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
        b"<< /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream +
        b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    table = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, table))
    return out.getvalue()


def load(session: Session, practice: Any, store: Any) -> None:
    admin = session.scalar(select(StaffUser).where(StaffUser.practice_id == practice.id,
                                                   StaffUser.role == "admin"))
    actor = Actor(practice.id, "staff", admin.id, admin.email)
    clients = {c.client_number: c for c in session.scalars(
        select(Client).where(Client.practice_id == practice.id))}
    _share(session, actor, practice, store, clients["1001"], "sanne@goudenkorst.example")
    _share(session, actor, practice, store, clients["1003"], "sanne@goudenkorst.example")
    _questionnaire(session, actor, practice, [clients["1001"], clients["1006"]])
    _request(session, actor, practice, clients["1002"])
    _offer(session, actor, practice, clients["1005"])


def _share(session: Session, actor: Actor, practice: Any, store: Any, client: Client,
           signer: str) -> None:
    engagement = session.scalar(select(Engagement).where(
        Engagement.client_id == client.id, Engagement.kind == "annual_accounts",
        Engagement.year == 2025))
    if engagement is None or session.scalar(select(Share.id).where(
            Share.engagement_id == engagement.id)):
        return
    pdf = report_pdf(f"Jaarrekening 2025 - {client.name}", [
        "Balans per 31 december 2025", "Winst-en-verliesrekening over 2025",
        "Toelichting", "", "Opgesteld door " + practice.name + " (demo)"])
    approvals.upload_report(session, actor, store, engagement, io.BytesIO(pdf),
                            "Jaarrekening 2025.pdf", 10 * 1024 * 1024)
    user = session.scalar(select(ClientUser).where(ClientUser.practice_id == practice.id,
                                                   ClientUser.email == signer))
    approvals.share_report(
        session, actor, practice, engagement, client, mode="approval",
        signers=[approvals.SignerChoice(signer, user.name if user else None,
                                        user.id if user else None)],
        deadline=now() + timedelta(days=14),
        message="Hierbij de jaarrekening 2025. Wilt u hem goedkeuren?")


def _questionnaire(session: Session, actor: Actor, practice: Any,
                   clients: list[Client]) -> None:
    template = session.scalar(select(QuestionnaireTemplate).where(
        QuestionnaireTemplate.practice_id == practice.id,
        QuestionnaireTemplate.name.like("Jaarrekening%")))
    if template is None or session.scalar(select(QuestionnaireBatch.id).where(
            QuestionnaireBatch.practice_id == practice.id)):
        return
    questionnaires.send(session, actor, practice, template, [c.id for c in clients],
                        deadline=now() + timedelta(days=21),
                        message="Vult u deze vragenlijst in voor de jaarrekening 2025?")


def _request(session: Session, actor: Actor, practice: Any, client: Client) -> None:
    if session.scalar(select(DocumentRequest.id).where(DocumentRequest.client_id == client.id)):
        return
    documents.request_documents(session, actor, practice, client,
                                title="Bankafschriften 2025",
                                deadline=(now() + timedelta(days=10)).date(),
                                message="Alle rekeningen, januari tot en met december.")


def _offer(session: Session, actor: Actor, practice: Any, client: Client) -> None:
    if session.scalar(select(Offer.id).where(Offer.client_id == client.id)):
        return
    offers.make_offer(session, actor, practice, client=client, new_client=None,
                      email="ahmed@knipenco.example", contact_name="Ahmed Yilmaz",
                      tier="collaborate_plus", payer="client", locale="nl")
