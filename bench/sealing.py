"""Sealing an approved report in the worker, and checking a sealed file as /verify does.

On a loaded database (run.py's `_bulk`): a 40-page, 5 MB report approved by two
directors is sealed by the worker's sweep (approval pages, evidence, PAdES seal, and an RFC
3161 timestamp from a server on loopback), timed from the sweep's start to the sealed file
stored. Then a 20 MB sealed report is checked by `sealing.verify`, timed alone. The
issue's targets: sealing under 2 s, verifying under 1 s.
"""

from __future__ import annotations

import io
import itertools
import os
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

SEAL_PAGES, SEAL_MB = 40, 5
_years = itertools.count(1990)  # each bench approval its own engagement
VERIFY_PAGES, VERIFY_MB = 80, 20


def report(pages: int, megabytes: int) -> bytes:
    """A valid PDF of this many pages, each a grey image of random pixels (they do not
    compress, so the file has the size a scanned report has)."""
    side = int((megabytes * 1024 * 1024 / pages) ** 0.5)
    objects: list[bytes] = [b"", b""]  # the catalogue and the page tree, written last
    kids = []
    for _ in range(pages):
        pixels = os.urandom(side * side)
        image = len(objects) + 1
        objects.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                       b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n"
                       % (side, side, len(pixels)) + pixels + b"\nendstream")
        drawing = zlib.compress(b"q 523 0 0 770 36 36 cm /Im0 Do Q")
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(drawing)
                       + drawing + b"\nendstream")
        kids.append(len(objects) + 1)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
                       b"<< /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>"
                       % (image, image + 1))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), pages)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
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


def measure(app: Flask, practice_id: int) -> dict[str, Any]:
    from bench.tsa import TimestampServer, authority

    with tempfile.TemporaryDirectory(prefix="bench-tsa-") as folder:
        stamper, pem = authority(Path(folder))
        server = TimestampServer(stamper)
        app.config.update(TSA_URL=server.url, TSA_CERT=str(pem))
        try:
            sealed_s, sealed_mb = _seal(app, practice_id, report(SEAL_PAGES, SEAL_MB))
            big = report(VERIFY_PAGES, VERIFY_MB)
            _seconds, _size = _seal(app, practice_id, big)
            verify_s, verify_mb, outcome = _verify(app, practice_id)
        finally:
            server.stop()
            app.config.update(TSA_URL=None, TSA_CERT=None)
    if outcome != "intact":
        raise RuntimeError(f"the sealed file verified as {outcome}")
    return {"seal_pages": SEAL_PAGES, "seal_file_mb": SEAL_MB, "seal_s": round(sealed_s, 3),
            "sealed_file_mb": round(sealed_mb, 2), "verify_file_mb": round(verify_mb, 2),
            "verify_s": round(verify_s, 3), "verify_outcome": outcome}


def _seal(app: Flask, practice_id: int, pdf: bytes) -> tuple[float, float]:
    """An approval by two directors of this report; the sweep's time to seal it."""
    from portal import db
    from portal.audit import Actor
    from portal.clients.models import Client
    from portal.clock import now
    from portal.engagements import approvals, sealing
    from portal.engagements.models import Engagement, SealedReport, Share, Signer

    with app.app_context():
        session, store = db.session, app.extensions["portal.storage"]
        client = session.scalar(select(Client).where(Client.practice_id == practice_id)
                                .order_by(Client.id).limit(1))
        actor = Actor.system(practice_id)
        engagement = Engagement(practice_id=practice_id, client_id=client.id, kind="other",
                                title="Bench seal", year=next(_years))
        session.add(engagement)
        session.commit()
        version = approvals.upload_report(session, actor, store, engagement, io.BytesIO(pdf),
                                          "jaarrekening.pdf", len(pdf) + 1)
        share = Share(practice_id=practice_id, client_id=client.id,
                      engagement_id=engagement.id, report_version_id=version.id,
                      mode="approval", state="approved", closed_at=now())
        session.add(share)
        session.flush()
        for n in range(2):
            session.add(Signer(
                share_id=share.id, email=f"director{n}@bench.example", name=f"Director {n}",
                position="director", decision="approved", decided_at=now(),
                decided_by=f"director{n}@bench.example", decided_through="link",
                ip="127.0.0.1", user_agent="bench", decided_version_id=version.id,
                decided_sha256=version.sha256, statement="bench"))
        sealing.queue(session, share)
        session.commit()
        # Made once per practice, on its first seal: not part of each seal's time.
        sealing.practice_certificate(session, _practice(session, practice_id))
        started = time.perf_counter()
        sealing.seal_pending(session, store, app.config)
        seconds = time.perf_counter() - started
        row = session.scalar(select(SealedReport).where(SealedReport.share_id == share.id))
        if row.state != sealing.SEALED:
            raise RuntimeError(f"not sealed: {row.state} {row.last_error}")
        return seconds, row.size / (1024 * 1024)


def _practice(session: Any, practice_id: int) -> Any:
    from portal.tenancy.models import Practice

    return session.get(Practice, practice_id)


def _verify(app: Flask, practice_id: int) -> tuple[float, float, str]:
    """The newest sealed file checked as /verify checks an upload."""
    from portal import db
    from portal.engagements import sealing
    from portal.engagements.models import SealedReport

    with app.app_context():
        row = db.session.scalar(select(SealedReport).order_by(SealedReport.id.desc())
                                .limit(1))
        with app.extensions["portal.storage"].open(row.storage_key) as handle:
            data = handle.read()
        db.session.rollback()
        started = time.perf_counter()
        verdict = sealing.verify(db.session, practice_id, data)
        seconds = time.perf_counter() - started
        return seconds, len(data) / (1024 * 1024), verdict.outcome
