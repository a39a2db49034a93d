from tests.security.matrix import OK, Route, client_only, everyone, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    from portal import db
    from portal.audit import Actor
    from portal.clients import tiers
    from portal.clock import now
    from portal.collaboration import exports
    from portal.collaboration.models import Offer

    demo = world["demo"]
    prospect = make.client(demo, tiers.STANDARD, name="Prospect B.V.")
    world["prospect"] = prospect
    offer = make._save(Offer(practice_id=demo.id, client_id=prospect.id,
                             email="prospect@example.nl", contact_name="P", tier="collaborate_plus",
                             payer="practice", expires_at=now() + __import__(
                                 "datetime").timedelta(days=21)))
    world["offer"] = offer
    world["offer_link"] = make.link(demo, "offer", offer.email, ("offers", offer.id))
    member = world["users"]["client"][1]
    with make.app.app_context():
        session = db.session
        company = session.get(type(world["company"]), world["company"].id)
        for_client = exports.request_export(
            session, Actor(demo.id, "client", member.id, member.email), company,
            for_client=True)
        exports.build_queued(session, make.app.extensions["portal.storage"])
    world["export"] = for_client


ROUTES = [
    Route("collaboration.offer_list", "GET", "/office/offers", staff_only()),
    Route("collaboration.new_offer", "GET", "/office/offers/new", staff_only()),
    Route("collaboration.offer_step", "POST", "/office/offers/new", staff_only(),
          {"step": "contact", "email": "bad"}),
    Route("collaboration.confirm_offer", "GET", lambda w: f"/offer/{w['offer_link']}",
          everyone(OK)),
    Route("collaboration.confirm_offer", "POST", lambda w: f"/offer/{w['offer_link']}",
          everyone(OK), {"password": "short", "repeat": "short"}),
    # Only in the browser that just confirmed a tier without a portal; anyone else: 404.
    Route("collaboration.offer_confirmed", "GET", "/offer/confirmed", everyone(404)),
    Route("collaboration.cancel_offer", "GET",
          lambda w: f"/office/offers/{w['offer'].id}/cancel", staff_only()),
    Route("collaboration.cancel_offer", "POST",  # unconfirmed: 422, nothing cancelled
          lambda w: f"/office/offers/{w['offer'].id}/cancel", staff_only()),
    Route("collaboration.offer_action", "POST",
          lambda w: f"/office/offers/{w['offer'].id}/send-again", staff_only()),
    Route("collaboration.client_panel", "GET",
          lambda w: f"/office/clients/{w['prospect'].id}/collaboration", staff_only()),
    Route("collaboration.change_payer", "POST",
          lambda w: f"/office/clients/{w['prospect'].id}/payer", staff_only(),
          {"payer": "client"}),
    Route("collaboration.postpone", "POST",
          lambda w: f"/office/clients/{w['prospect'].id}/keep", staff_only(admin_only=True),
          {"until": "2030-01-01"}),
    Route("collaboration.request_export", "POST",
          lambda w: f"/office/clients/{w['prospect'].id}/export", staff_only()),
    Route("collaboration.exports_list", "GET", "/office/exports", staff_only(admin_only=True)),
    Route("collaboration.download_export", "GET",
          lambda w: f"/office/exports/{w['export'].id}/download",
          staff_only(admin_only=True)),
    Route("collaboration.client_exports", "GET",
          lambda w: f"/c/{w['company'].id}/collaboration", client_only()),
    Route("collaboration.client_exports", "POST",
          lambda w: f"/c/{w['company'].id}/collaboration", client_only()),
    Route("collaboration.client_download", "GET",
          lambda w: f"/c/{w['company'].id}/exports/{w['export'].id}", client_only()),
    Route("collaboration.leave", "POST", lambda w: f"/c/{w['company'].id}/leave",
          client_only(), {"password": "not the password"}),
    Route("collaboration.collaboration_action", "POST",  # unconfirmed: 422, nothing blocked
          lambda w: f"/office/clients/{w['prospect'].id}/collaboration/block", staff_only()),
]
