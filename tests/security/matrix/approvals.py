from tests.security.matrix import OK, Route, client_only, everyone, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    company = world["company"]
    engagement = world["engagement"] = world.get("engagement") or make.engagement(company)
    version = world["version"] = make.report(engagement)
    member = world["users"]["client"][1]
    # One share for the staff and portal rows (staff withdraw it), one for the link rows.
    world["share"] = make.share(version, company, member)
    linked = make.share(version, company, "extern@korst.example")
    with make.app.app_context():
        from portal import db
        from portal.engagements.models import Signer

        outsider = db.session.query(Signer).filter_by(share_id=linked.id).one()
    world["signer"] = outsider
    world["approval_link"] = make.link(world["demo"], "approval", outsider.email,
                                       ("share_signers", outsider.id))
    approved = make.share(version, company, member, state="approved")
    world["seal"] = make.sealed(approved, version)
    with make.app.app_context():
        from portal import db
        from portal.engagements import sealing

        sealing.practice_certificate(db.session, world["demo"])


def _office(w):  # type: ignore[no-untyped-def]
    return f"/office/engagements/{w['engagement'].id}"


def _portal(w):  # type: ignore[no-untyped-def]
    return f"/c/{w['company'].id}/approvals/{w['share'].id}"


ROUTES = [
    Route("engagements.upload_report", "POST", lambda w: _office(w) + "/reports", staff_only()),
    Route("engagements.download_report", "GET",
          lambda w: _office(w) + f"/reports/{w['version'].id}", staff_only()),
    Route("engagements.share", "POST", lambda w: _office(w) + "/shares", staff_only(),
          {"mode": "approval"}),
    Route("engagements.approval_record", "GET",
          lambda w: _office(w) + f"/shares/{w['share'].id}/record", staff_only()),
    Route("engagements.signature_missing", "POST",
          lambda w: _office(w) + f"/shares/{w['share'].id}/signers/{w['signer'].id}/missing",
          staff_only(), {"reason": "Afgetreden"}),
    Route("engagements.adoption", "POST", lambda w: _office(w) + "/adoption", staff_only(),
          {"adopted_on": ""}),
    Route("engagements.sealed_report", "GET",
          lambda w: _office(w) + f"/shares/{w['seal'].share_id}/sealed.pdf", staff_only()),
    Route("engagements.portal_task", "GET", _portal, client_only()),
    Route("engagements.portal_report", "GET", lambda w: _portal(w) + "/report.pdf",
          client_only()),
    Route("engagements.portal_decide", "POST", lambda w: _portal(w) + "/decide",
          client_only(), {"decision": "approved"}),
    Route("engagements.withdraw", "POST",
          lambda w: _office(w) + f"/shares/{w['share'].id}/withdraw", staff_only()),
    # The task pages are only for who used the link (a short grant in their session) ...
    Route("engagements.link_task", "GET", lambda w: f"/task/{w['signer'].id}",
          everyone(403)),
    Route("engagements.link_report", "GET", lambda w: f"/task/{w['signer'].id}/report.pdf",
          everyone(403)),
    Route("engagements.link_decide", "POST", lambda w: f"/task/{w['signer'].id}/decide",
          everyone(403), {"decision": "approved"}),
    # ... and the link is for whoever holds it.
    Route("engagements.link_open", "GET", lambda w: f"/l/{w['approval_link']}", everyone(OK)),
    Route("engagements.link_use", "POST", lambda w: f"/l/{w['approval_link']}", everyone(OK)),
    Route("engagements.link_renew", "POST", "/l/new-link", everyone(OK),
          lambda w: {"token": w["approval_link"]}),
    # Whoever holds a sealed file may check it (a POST without a file is told to add one).
    Route("engagements.verify", "GET", "/verify", everyone(OK)),
    Route("engagements.verify", "POST", "/verify", everyone(OK)),
    Route("engagements.seal_settings", "GET", "/office/settings/seal", staff_only(True)),
    Route("engagements.seal_settings", "POST", "/office/settings/seal", staff_only(True)),
    Route("engagements.seal_chain", "GET", "/office/settings/seal/chain.pem",
          staff_only(True)),
    Route("engagements.verify_record", "GET", lambda w: f"/verify/{w['seal'].verify_token}",
          everyone(OK)),
]
