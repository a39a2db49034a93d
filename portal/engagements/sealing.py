"""Sealed approvals: evidence that holds up outside the portal.

When the last signer approved, the worker writes the approved PDF again as an incremental
update, so its bytes (and pages) stay exactly as approved: approval pages in the client's
language are appended, the evidence is attached as JSON, and the whole file is sealed with
a PAdES signature under the practice's seal certificate, timestamped by the RFC 3161
server of PORTAL_TSA_URL. Anyone who holds the file can check it with any PDF validator,
or on the practice's /verify page, which also tells whether a later version exists.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import secrets
import textwrap
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import segno
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit, notifications, security
from portal.accounts.models import POSITIONS, ClientUser
from portal.audit import anchors
from portal.audit.anchors import RETRY_AFTER, described, timestamper
from portal.clients.models import Client
from portal.clock import now
from portal.db import transaction
from portal.documents.storage import Storage
from portal.engagements.models import (
    Engagement,
    ReportVersion,
    SealCertificate,
    SealedReport,
    Share,
    Signer,
)

log = logging.getLogger(__name__)

PENDING, SEALED, FAILED = "pending", "sealed", "failed"
PER_PASS = 20  # seals one worker pass makes at most
EVIDENCE_NAME = "approval-evidence.json"
SEAL_YEARS = 10
_PAGE = (595, 842)  # A4 in points
_MARGIN, _LINE, _SIZE = 56, 13, 9.5
_WRAP = 100  # characters of Helvetica at _SIZE in the text width, with room to spare


class UnreadablePdf(Exception):
    """The approved file is not a PDF that can be written to again: sealing cannot work,
    however often it is tried."""


# --- the practice's seal certificate ---------------------------------------------------------

def practice_certificate(session: Session, practice: Any) -> SealCertificate:
    """The practice's active seal certificate; made on first use: a root of the practice's
    own (its fingerprint is what a validator is told to trust) and a seal certificate
    under it. The root's key is not kept: the root signs nothing else."""
    found = active_certificate(session, practice.id)
    if found is not None:
        return found
    start = now().replace(microsecond=0)
    end = start + timedelta(days=365 * SEAL_YEARS)
    root_key, seal_key = (rsa.generate_private_key(public_exponent=65537, key_size=3072)
                          for _ in range(2))
    root_name = _name(f"{practice.name} seal root", practice.name)
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(root_key, hashes.SHA256()))
    seal_name = _name(f"{practice.name} seal", practice.name)
    seal = (x509.CertificateBuilder().subject_name(seal_name).issuer_name(root_name)
            .public_key(seal_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(root_key, hashes.SHA256()))
    key_pem = seal_key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
    row = SealCertificate(
        practice_id=practice.id, source="generated", subject=seal_name.rfc4514_string(),
        fingerprint=_fingerprint(seal), root_fingerprint=_fingerprint(root),
        certificate=seal.public_bytes(serialization.Encoding.DER),
        chain=root.public_bytes(serialization.Encoding.PEM),
        private_key=security.seal(key_pem, _bound_to(practice.id)), active=True)
    with transaction(session):
        session.add(row)
    return row


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "NL")])


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def _bound_to(practice_id: int) -> str:
    return f"seal_certificates:{practice_id}"


def _chain(row: SealCertificate) -> list[Any]:
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    return [asn1_x509.Certificate.load(der)
            for _type, _headers, der in pem.unarmor(row.chain, multiple=True)]


def _signer(row: SealCertificate) -> Any:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key_pem = security.unseal(row.private_key, _bound_to(row.practice_id))
    if key_pem is None:
        raise RuntimeError("the seal key cannot be opened with PORTAL_SECRET_KEY")
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(row.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs(_chain(row)))


class CertificateRefused(Exception):
    """An uploaded certificate that cannot seal; the message says why."""


def install_pkcs12(session: Session, actor: audit.Actor, practice: Any, data: bytes,
                   password: str) -> SealCertificate:
    """The practice's own certificate (a PKCS#12 file with its key, e.g. a qualified or
    Adobe-trusted organisation certificate) seals from now on; the earlier ones stay to
    check what they sealed."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, certificate, extra = pkcs12.load_key_and_certificates(
            data, password.encode() or None)
    except ValueError:
        raise CertificateRefused(_("This is not a PKCS#12 file (.p12 or .pfx), or the "
                                   "password does not open it.")) from None
    if key is None or certificate is None:
        raise CertificateRefused(_("The file holds no certificate with its private key."))
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateRefused(_("Only RSA and EC keys can seal."))
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise CertificateRefused(_("The private key does not belong to the certificate."))
    moment = now()
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise CertificateRefused(_("The certificate is not valid now (valid from %(start)s "
                                   "until %(end)s).",
                                   start=certificate.not_valid_before_utc.date(),
                                   end=certificate.not_valid_after_utc.date()))
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise CertificateRefused(_("The certificate may not be used for signatures."))
    chain = [c for c in (extra or []) if c != certificate]
    top = chain[-1] if chain else certificate
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    with transaction(session):
        for earlier in session.scalars(select(SealCertificate).where(
                SealCertificate.practice_id == practice.id,
                SealCertificate.active.is_(True))):
            earlier.active = False
        row = SealCertificate(
            practice_id=practice.id, source="uploaded",
            subject=certificate.subject.rfc4514_string()[:300],
            fingerprint=_fingerprint(certificate), root_fingerprint=_fingerprint(top),
            certificate=certificate.public_bytes(serialization.Encoding.DER),
            chain=b"".join(c.public_bytes(serialization.Encoding.PEM)
                           for c in (chain or [certificate])),
            private_key=security.seal(key_pem, _bound_to(practice.id)), active=True)
        session.add(row)
        session.flush()
        audit.record(session, actor, "seal.certificate_installed", practice,
                     fingerprint=row.fingerprint, certificate=row.subject)
    return row


def active_certificate(session: Session, practice_id: int) -> SealCertificate | None:
    return session.scalar(select(SealCertificate).where(
        SealCertificate.practice_id == practice_id, SealCertificate.active.is_(True))
        .order_by(SealCertificate.id.desc()).limit(1))


def valid_until(row: SealCertificate) -> Any:
    return x509.load_der_x509_certificate(row.certificate).not_valid_after_utc


# --- the evidence ----------------------------------------------------------------------------

def evidence(session: Session, practice: Any, row: SealedReport) -> dict[str, Any]:
    """What the approval pages say and the attached JSON holds, in plain values."""
    share = session.get(Share, row.share_id)
    version = session.get(ReportVersion, row.report_version_id)
    engagement = session.get(Engagement, row.engagement_id)
    client = session.get(Client, share.client_id)
    signers = list(session.scalars(select(Signer).where(Signer.share_id == share.id)
                                   .order_by(Signer.id)))
    users = {u.id: u for u in session.scalars(select(ClientUser).where(ClientUser.id.in_(
        [s.client_user_id for s in signers if s.client_user_id])))}
    return {
        "format": "portal approval evidence v1",
        "practice": practice.name,
        "client": {"name": client.name, "number": client.client_number,
                   "kvk": client.kvk_number},
        "report": engagement.label, "version": version.number, "filename": version.filename,
        "approved_file_sha256": version.sha256, "approved_file_size": version.size,
        "shared_at": share.created_at.isoformat(),
        "signers": [{
            "name": s.name, "email": s.email, "position": s.position,
            "decision": s.decision,
            "decided_at": s.decided_at.isoformat() if s.decided_at else None,
            "signed_in": _signed_in(s, users.get(s.client_user_id)),
            "ip": s.ip, "browser": s.user_agent, "sha256": s.decided_sha256,
            "statement": s.statement, "comment": s.comment,
            "by": s.decided_by} for s in signers],
        "verify": row.verify_token,
    }


def _signed_in(signer: Signer, user: ClientUser | None) -> str | None:
    """How the signer proved who they were: their password, with a two-step code when the
    account had one when they decided, or a single-use link mailed to their address; None
    for a missing signature (staff recorded it)."""
    if signer.decision == "missing":
        return None
    if signer.decided_through == "link":
        return "link"
    if user is not None and user.totp_enabled_at is not None and signer.decided_at and \
            user.totp_enabled_at <= signer.decided_at:
        return "password+two_step"
    return "password"


def _locale(session: Session, practice: Any, facts: dict[str, Any]) -> str:
    """The client's language: that of the first signer with an account, else the
    practice's."""
    for person in facts["signers"]:
        user = session.scalar(select(ClientUser).where(
            ClientUser.practice_id == practice.id, ClientUser.email == person["email"]))
        if user is not None and user.locale:
            return user.locale
    return practice.locale or "nl"


def _how(signed_in: str) -> str:
    return {"link": _("a single-use link sent to this e-mail address"),
            "password+two_step": _("password and two-step code"),
            "password": _("password")}[signed_in]


def record_lines(facts: dict[str, Any], decided: dict[str, str], fingerprint: str,
                 verify_url: str) -> list[tuple[str, str]]:
    """The approval pages as (style, text) lines: title, heading, text or mono."""
    lines = [("title", _("Approval record")),
             ("text", _("%(report)s of %(client)s, prepared by %(practice)s.",
                        report=facts["report"], client=facts["client"]["name"],
                        practice=facts["practice"])),
             ("text", _("Client number %(number)s, KvK %(kvk)s.",
                        number=facts["client"]["number"], kvk=facts["client"]["kvk"] or "-")),
             ("text", _("Approved file: %(name)s, version %(version)d, %(size)d bytes.",
                        name=facts["filename"], version=facts["version"],
                        size=facts["approved_file_size"])),
             ("text", _("Its SHA-256 fingerprint:")),
             ("mono", facts["approved_file_sha256"]),
             ("text", _("The pages before this record are that file, unchanged.")),
             ("heading", _("Decisions"))]
    for person in facts["signers"]:
        who = f"{person['name']} <{person['email']}>" if person["name"] else person["email"]
        if person["position"] in POSITIONS:
            who += f", {POSITIONS[person['position']]}"
        lines.append(("strong", who))
        if person["decision"] == "missing":
            lines.append(("text", _("Signature missing. Reason: %(reason)s (recorded by "
                                    "%(by)s, %(moment)s)", reason=person["comment"],
                                    by=person["by"],
                                    moment=decided.get(person["email"], "-"))))
            continue
        outcome = _("approved") if person["decision"] == "approved" else (
            _("did not approve") if person["decision"] else _("no decision"))
        lines.append(("text", _("Decision: %(outcome)s, %(moment)s.", outcome=outcome,
                                moment=decided.get(person["email"], "-"))))
        lines.append(("text", _("Signed in with: %(how)s.", how=_how(person["signed_in"]))))
        lines.append(("text", _("From IP address %(ip)s, browser: %(browser)s",
                                ip=person["ip"] or "-", browser=person["browser"] or "-")))
        if person["statement"]:
            lines.append(("text", _("Statement: %(text)s", text=person["statement"])))
        if person["comment"]:
            lines.append(("text", _("Comment: %(text)s", text=person["comment"])))
    lines += [("heading", _("Checking this file")),
              ("text", _("This file is sealed with the electronic seal of %(practice)s and "
                         "timestamped; any change after sealing breaks the seal. Any PDF "
                         "reader that checks signatures shows it. The seal's root "
                         "certificate has the SHA-256 fingerprint:",
                         practice=facts["practice"])),
              ("mono", fingerprint),
              ("text", _("Or upload the file at %(url)s, or scan the code below.",
                         url=verify_url))]
    return lines


# --- writing the sealed PDF -----------------------------------------------------------------

def _pdf_text(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + \
        b")"


_FONTS = {"title": ("/F2", 15), "heading": ("/F2", 11.5), "strong": ("/F2", _SIZE),
          "text": ("/F1", _SIZE), "mono": ("/F3", 8.5)}


def _pages(lines: list[tuple[str, str]], qr_url: str) -> list[bytes]:
    """Content streams of A4 pages with these lines, and the QR code on the last."""
    pages: list[list[bytes]] = [[]]
    y = _PAGE[1] - _MARGIN
    for style, text in lines:
        font, size = _FONTS[style]
        before = {"title": 0, "heading": 10, "strong": 6}.get(style, 0)
        for part in textwrap.wrap(text, _WRAP) or [""]:
            y -= before + size + (_LINE - _SIZE)
            before = 0
            if y < _MARGIN:
                pages.append([])
                y = _PAGE[1] - _MARGIN - size
            pages[-1].append(b"BT %s %.1f Tf %d %.1f Td %s Tj ET" % (
                font.encode(), size, _MARGIN, y, _pdf_text(part)))
    module = 2.4
    matrix = segno.make(qr_url, error="m").matrix
    side = len(matrix) * module
    if y - side - 20 < _MARGIN:
        pages.append([])
        y = _PAGE[1] - _MARGIN
    top = y - 16
    squares = [b"%.1f %.1f %.1f %.1f re" % (_MARGIN + col * module, top - (row + 1) * module,
                                            module, module)
               for row, cells in enumerate(matrix) for col, dark in enumerate(cells) if dark]
    pages[-1].append(b"0 g " + b" ".join(squares) + b" f")
    return [b"\n".join(page) for page in pages]


def seal_pdf(original: bytes, facts: dict[str, Any], lines: list[tuple[str, str]],
             qr_url: str, certificate: SealCertificate, stamper: Any | None) -> bytes:
    """The approved file with the approval pages and the evidence appended, sealed."""
    from pyhanko.pdf_utils import embed, generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(original), strict=False)
        if "/Pages" not in writer.root:  # a file without a page tree cannot take pages
            raise KeyError("/Pages")
    except (PdfError, KeyError, ValueError, TypeError) as error:
        raise UnreadablePdf(f"{type(error).__name__}: {error}") from error

    def font(base: str) -> Any:
        return writer.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name(base),
            pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding")}))

    fonts = generic.DictionaryObject({pdf_name("/F1"): font("/Helvetica"),
                                      pdf_name("/F2"): font("/Helvetica-Bold"),
                                      pdf_name("/F3"): font("/Courier")})
    for content in _pages(lines, qr_url):
        writer.insert_page(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (0, 0, *_PAGE)]),
            pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): fonts}),
            pdf_name("/Contents"): writer.add_object(generic.StreamObject(
                stream_data=content))}))
    attached = json.dumps(facts, indent=2, ensure_ascii=False).encode()
    embed.embed_file(writer, embed.FileSpec(
        file_spec_string=EVIDENCE_NAME, description="Approval evidence",
        embedded_data=embed.EmbeddedFileObject.from_file_data(
            writer, attached, mime_type="application/json")))
    meta = PdfSignatureMetadata(field_name="Seal", md_algorithm="sha256",
                                subfilter=fields.SigSeedSubFilter.PADES,
                                reason=f"Approval of {facts['report']}",
                                location=facts["practice"])
    out = io.BytesIO()
    anchors.run(PdfSigner(meta, signer=_signer(certificate), timestamper=stamper)
                .async_sign_pdf(writer, output=out))
    return out.getvalue()


# --- the worker ------------------------------------------------------------------------------

def queue(session: Session, share: Share) -> None:
    """An approval is complete: the worker seals it (in the caller's transaction)."""
    session.add(SealedReport(practice_id=share.practice_id, share_id=share.id,
                             engagement_id=share.engagement_id,
                             report_version_id=share.report_version_id,
                             verify_token=secrets.token_urlsafe(18), state=PENDING,
                             attempts=0, created_at=now()))


def seal_pending(session: Session, store: Storage, config: Any) -> int:
    """Worker sweep: seal the approvals that wait (and whose wait after a failed timestamp
    is over). Returns how many it sealed."""
    from portal.tenancy.models import Practice

    stamper = timestamper(config)
    ids = list(session.scalars(select(SealedReport.id).where(
        SealedReport.state == PENDING,
        (SealedReport.next_attempt_at.is_(None)) | (SealedReport.next_attempt_at <= now()))
        .order_by(SealedReport.id).limit(PER_PASS)))
    sealed = 0
    for row_id in ids:
        row = session.get(SealedReport, row_id)
        practice = session.get(Practice, row.practice_id)
        certificate = practice_certificate(session, practice)
        facts = evidence(session, practice, row)
        version = session.get(ReportVersion, row.report_version_id)
        with store.open(version.storage_key) as handle:
            original = handle.read()
        url = notifications.practice_url(practice, "engagements.verify_record",
                                         token=row.verify_token)
        with force_locale(_locale(session, practice, facts)):
            decided = {p["email"]: _moment(p["decided_at"]) for p in facts["signers"]
                       if p["decided_at"]}
            lines = record_lines(facts, decided, certificate.root_fingerprint, url)
        session.rollback()  # nothing held while the timestamp server is asked
        outcome = _attempt(row, original, facts, lines, url, certificate, stamper)
        data = outcome.pop("sealed", None)
        stored = store.put(io.BytesIO(data)) if data is not None else None
        with transaction(session):
            row = session.get(SealedReport, row_id, with_for_update=True)
            if row is None or row.state != PENDING:
                if stored:
                    store.delete(stored.key)
                continue
            for name, value in outcome.items():
                setattr(row, name, value)
            if stored:
                row.storage_key, row.sha256, row.size = stored.key, stored.sha256, stored.size
                row.certificate_id, row.sealed_at = certificate.id, now()
                sealed += 1
            engagement = session.get(Engagement, row.engagement_id)
            if row.state != PENDING:
                audit.record(session, audit.Actor.system(practice.id),
                             "report.sealed" if row.state == SEALED else
                             "report.sealing_failed", engagement, share=row.share_id,
                             sha256=row.sha256, error=row.last_error)
    return sealed


def _moment(iso: str) -> str:
    from datetime import datetime

    return format_datetime(datetime.fromisoformat(iso), "long")


def _attempt(row: SealedReport, original: bytes, facts: dict[str, Any],
             lines: list[tuple[str, str]], url: str, certificate: SealCertificate,
             stamper: Any | None) -> dict[str, Any]:
    attempts = row.attempts + 1
    try:
        data = seal_pdf(original, facts, lines, url, certificate, stamper)
    except UnreadablePdf as error:
        log.warning("report version %s cannot be sealed: %s", row.report_version_id, error)
        return {"state": FAILED, "attempts": attempts, "next_attempt_at": None,
                "last_error": f"the approved file is not a readable PDF ({error})"[:300]}
    except Exception as error:  # the timestamp server or the network: try again later
        wait = RETRY_AFTER[min(attempts, len(RETRY_AFTER)) - 1]
        return {"state": PENDING, "attempts": attempts, "next_attempt_at": now() + wait,
                "last_error": f"waiting for the timestamp server: {described(error)}"[:300]}
    stamped_at = _timestamp_time(data) if stamper is not None else None
    return {"state": SEALED, "attempts": attempts, "next_attempt_at": None,
            "last_error": None if stamper is not None else "no timestamp server configured",
            "stamped_at": stamped_at, "sealed": data}


def _timestamp_time(data: bytes) -> Any:
    """The time the timestamp server put on the seal (its token is in the signature)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import find_unique_cms_attribute

    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[-1]
    token = find_unique_cms_attribute(signature.signer_info["unsigned_attrs"],
                                      "signature_time_stamp_token")
    info = token["content"]["encap_content_info"]["content"].parsed
    return info["gen_time"].native


# --- verifying -------------------------------------------------------------------------------

@dataclass
class Verdict:
    """What /verify says of a file. outcome: intact (exactly as this practice sealed it),
    changed (it holds a file this practice sealed, but was changed after: `problem` says
    how), or unknown (not sealed by this practice, or not a PDF: nothing more is said)."""

    outcome: str
    sealed: SealedReport | None = None
    facts: dict[str, Any] | None = None
    problem: str | None = None
    later_versions: list[ReportVersion] = field(default_factory=list)
    trusted: bool = False


def verify(session: Session, practice_id: int, data: bytes) -> Verdict:
    """Check a file against the seals of this practice."""
    digest = hashlib.sha256(data).hexdigest()
    row = session.scalar(select(SealedReport).where(
        SealedReport.practice_id == practice_id, SealedReport.sha256 == digest,
        SealedReport.state == SEALED))
    signature = _our_signature(session, practice_id, data)
    if row is not None:  # exactly the file we sealed
        return _with_facts(session, Verdict("intact", row, trusted=bool(
            signature and signature[1] is None and signature[2])))
    if signature is None:
        return Verdict("unknown")
    sealed_part, problem, trusted = signature
    row = session.scalar(select(SealedReport).where(
        SealedReport.practice_id == practice_id,
        SealedReport.sha256 == hashlib.sha256(sealed_part).hexdigest()))
    if row is None:  # signed with our certificate, but over bytes we never sealed
        return Verdict("changed", problem=problem or _("the file was changed after sealing"))
    return _with_facts(session, Verdict("changed", row, problem=problem, trusted=trusted))


def by_token(session: Session, practice_id: int, token: str) -> Verdict:
    """The QR code's link: the record of a seal, for someone who holds its file."""
    row = session.scalar(select(SealedReport).where(
        SealedReport.practice_id == practice_id, SealedReport.verify_token == token,
        SealedReport.state == SEALED))
    if row is None:
        return Verdict("unknown")
    return _with_facts(session, Verdict("record", row, trusted=True))


def _with_facts(session: Session, verdict: Verdict) -> Verdict:
    row = verdict.sealed
    version = session.get(ReportVersion, row.report_version_id)
    share = session.get(Share, row.share_id)
    verdict.facts = {"engagement": session.get(Engagement, row.engagement_id),
                     "version": version, "share": share,
                     "signers": list(session.scalars(select(Signer).where(
                         Signer.share_id == share.id).order_by(Signer.id)))}
    verdict.later_versions = list(session.scalars(select(ReportVersion).where(
        ReportVersion.engagement_id == row.engagement_id,
        ReportVersion.number > version.number).order_by(ReportVersion.number)))
    return verdict


def _our_signature(session: Session, practice_id: int, data: bytes
                   ) -> tuple[bytes, str | None, bool] | None:
    """The last signature in the file made with one of this practice's seal certificates:
    (the bytes it covers, what is wrong or None, trusted under the practice's root)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception:  # not a PDF, or too broken to read: nothing of ours in it
        return None
    certificates = {c.fingerprint: c for c in session.scalars(select(SealCertificate).where(
        SealCertificate.practice_id == practice_id))}
    tsa_cert = current_app.config.get("TSA_CERT")
    tsa_roots = anchors.certificates(tsa_cert) if tsa_cert else []
    for signature in reversed(signatures):
        try:
            mine = certificates.get(hashlib.sha256(signature.signer_cert.dump()).hexdigest())
        except Exception:  # a signature without a readable certificate: not one of ours
            log.info("a signature without a readable certificate")
            continue
        if mine is None:
            continue
        start, length = signature.byte_range[2], signature.byte_range[3]
        covered = data[:start + length]
        try:
            status = anchors.run(async_validate_pdf_signature(
                signature, ValidationContext(trust_roots=_chain(mine), allow_fetching=False),
                ts_validation_context=ValidationContext(trust_roots=tsa_roots,
                                                        allow_fetching=False)))
        except Exception as error:  # a broken signature value
            return covered, _("the seal cannot be read (%(error)s)",
                              error=type(error).__name__), False
        if not (status.intact and status.valid):
            return covered, _("the seal does not hold: the file was changed after sealing"), \
                False
        # A later save leaves the seal intact over what it covers; the rest is not ours.
        problem = None if status.coverage == SignatureCoverageLevel.ENTIRE_FILE else _(
            "the file was saved again after sealing: what was added is not covered by the "
            "seal")
        return covered, problem, status.trusted
    return None


def sealed_of(session: Session, share_id: int) -> SealedReport | None:
    """The sealed PDF of an approval, once the worker made it."""
    return session.scalar(select(SealedReport).where(SealedReport.share_id == share_id,
                                                     SealedReport.state == SEALED))


def of_engagement(session: Session, engagement_id: int) -> dict[int, SealedReport]:
    """The seals of an engagement's approvals, by share."""
    return {row.share_id: row for row in session.scalars(select(SealedReport).where(
        SealedReport.engagement_id == engagement_id))}


def sealed_filename(filename: str) -> str:
    stem = filename[:-4] if filename.lower().endswith(".pdf") else filename
    return _("%(name)s (sealed).pdf", name=stem)
