from datetime import timedelta

from tests.security.matrix import LOGIN, Route, client_only, everyone, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    from portal import db
    from portal.clock import now
    from portal.db import transaction
    from portal.insights.models import PendingImport, SharedBlocks

    company = world["company"]
    engagement = world["engagement"] = world.get("engagement") or make.engagement(company)
    staff, client = world["users"]["staff"][1], world["users"]["client"][1]
    with make.app.app_context(), transaction(db.session) as session:
        session.add(SharedBlocks(practice_id=company.practice_id, client_id=company.id,
                                 engagement_id=engagement.id,
                                 scope=f"engagement:{engagement.id}", blocks=["revenue"]))
        uploads = {}
        for name, kind, owner, engagement_id in (
                ("staff_upload", "trial_balance", f"staff:{staff.id}", engagement.id),
                ("client_upload", "client_csv", f"client:{client.id}", None)):
            uploads[name] = PendingImport(
                practice_id=company.practice_id, client_id=company.id,
                engagement_id=engagement_id, kind=kind, owner=owner, year=engagement.year,
                filename="upload.csv", sha256="0" * 64, data=b"Datum;Bedrag\r\n",
                mapping={}, expires_at=now() + timedelta(hours=1))
            session.add(uploads[name])
        session.flush()
        world.update({name: row.id for name, row in uploads.items()})


def _office(w):  # type: ignore[no-untyped-def]
    return f"/office/engagements/{w['engagement'].id}"


def _portal(w):  # type: ignore[no-untyped-def]
    return f"/c/{w['company'].id}"


# An upload waits for its next step only in the session that made it: anyone else, its
# maker in another session included, finds nothing there.
SESSION_ONLY = {"anonymous": LOGIN, "staff": 404, "admin": 404, "client": 404,
                "other_staff": LOGIN, "other_client": LOGIN}


ROUTES = [
    Route("insights.figures_form", "GET", lambda w: _office(w) + "/figures", staff_only()),
    Route("insights.figures_save", "POST", lambda w: _office(w) + "/figures", staff_only(),
          {"action": "preview"}),
    Route("insights.trial_balance_form", "GET", lambda w: _office(w) + "/trial-balance",
          staff_only()),
    Route("insights.trial_balance_upload", "POST", lambda w: _office(w) + "/trial-balance",
          staff_only(), {"period": "2025"}),
    Route("insights.trial_balance_preview", "GET",
          lambda w: _office(w) + f"/trial-balance/{w['staff_upload']}", SESSION_ONLY),
    Route("insights.trial_balance_save", "POST",
          lambda w: _office(w) + f"/trial-balance/{w['staff_upload']}", SESSION_ONLY,
          {"action": "save"}),
    Route("insights.trial_balance_cancel", "POST",
          lambda w: _office(w) + f"/trial-balance/{w['staff_upload']}/cancel", SESSION_ONLY),
    Route("insights.engagement_dashboard", "GET", lambda w: _office(w) + "/dashboard",
          staff_only()),
    Route("insights.share_dashboard", "POST", lambda w: _office(w) + "/dashboard",
          staff_only(), {"blocks": ["revenue"]}),
    Route("insights.client_insights", "GET",
          lambda w: f"/office/clients/{w['company'].id}/insights", staff_only()),
    Route("insights.share_insights", "POST",
          lambda w: f"/office/clients/{w['company'].id}/insights", staff_only(),
          {"blocks": ["trends"]}),
    # The dashboard with a shared report: the link holder's grant, or the portal.
    Route("insights.link_dashboard", "GET", lambda w: f"/task/{w['signer'].id}/dashboard",
          everyone(403)),
    Route("insights.portal_dashboard", "GET",
          lambda w: _portal(w) + f"/dashboard/{w['engagement'].id}", client_only()),
    Route("insights.portal_insights", "GET", lambda w: _portal(w) + "/insights",
          client_only()),
    Route("insights.series_form", "GET", lambda w: _portal(w) + "/insights/upload",
          client_only()),
    Route("insights.series_upload", "POST", lambda w: _portal(w) + "/insights/upload",
          client_only()),
    Route("insights.series_preview", "GET",
          lambda w: _portal(w) + f"/insights/upload/{w['client_upload']}", SESSION_ONLY),
    Route("insights.series_save", "POST",
          lambda w: _portal(w) + f"/insights/upload/{w['client_upload']}", SESSION_ONLY,
          {"action": "save"}),
    Route("insights.series_cancel", "POST",
          lambda w: _portal(w) + f"/insights/upload/{w['client_upload']}/cancel",
          SESSION_ONLY),
]
