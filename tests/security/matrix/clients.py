import hashlib

from portal.clients.models import ClientImport
from tests.security.matrix import Route, everyone, staff_only

IMPORT_FILE = b"Code;Naam\n9001;Matrix B.V.\n"


def arrange(make, world):  # type: ignore[no-untyped-def]
    demo = world["demo"]
    world["client_import"] = make._save(ClientImport(
        practice_id=demo.id, filename="matrix.csv", data=IMPORT_FILE,
        sha256=hashlib.sha256(IMPORT_FILE).hexdigest(),
        options={"columns": {"0": "client_number", "1": "name"}}))
    world["extra_client"] = extra = make.client(demo)
    contact = make.client_user(demo, email="contact@extra.example")
    world["membership"] = make.membership(contact, extra)
    world["engagement"] = world.get("engagement") or make.engagement(world["company"])
    invited = make.client_user(demo, world["company"], email="new@korst.example")
    world["invitation"] = make.link(demo, "client_invite", invited.email,
                                    ("client_users", invited.id))


def _import(w, tail=""):  # type: ignore[no-untyped-def]
    return f"/office/clients/import/{w['client_import'].id}{tail}"


ROUTES = [
    Route("clients.index", "GET", "/office/clients", staff_only()),
    Route("clients.import_start", "GET", "/office/clients/import", staff_only()),
    Route("clients.import_start", "POST", "/office/clients/import", staff_only(), {}),
    Route("clients.import_mapping", "GET", _import, staff_only()),
    Route("clients.import_mapping", "POST", _import, staff_only(), {"col_0": ""}),
    Route("clients.import_preview", "GET", lambda w: _import(w, "/preview"), staff_only()),
    # With a stamp that is not the preview's, both roles get the fresh preview (409).
    Route("clients.import_apply", "POST", lambda w: _import(w, "/apply"), staff_only(),
          {"stamp": "0"}),
    Route("clients.import_refused", "GET", lambda w: _import(w, "/refused.csv"),
          staff_only()),
    Route("clients.export", "GET", "/office/clients/export.csv", staff_only()),
    Route("clients.invitations_page", "GET", "/office/clients/invitations", staff_only()),
    Route("clients.invite_all", "POST", "/office/clients/invitations", staff_only(),
          {"stamp": "0"}),
    Route("clients.new", "GET", "/office/clients/new", staff_only()),
    Route("clients.new", "POST", "/office/clients/new", staff_only(), {"name": ""}),
    Route("clients.card", "GET", lambda w: f"/office/clients/{w['company'].id}", staff_only()),
    Route("clients.update_details", "POST",
          lambda w: f"/office/clients/{w['company'].id}/details", staff_only(), {"name": ""}),
    Route("clients.change_tier", "POST", lambda w: f"/office/clients/{w['company'].id}/tier",
          staff_only(), lambda w: {"tier": w["company"].tier}),
    Route("clients.add_contact", "POST",
          lambda w: f"/office/clients/{w['company'].id}/contacts", staff_only(), {"email": ""}),
    Route("clients.contact_position", "POST",
          lambda w: f"/office/clients/{w['extra_client'].id}/contacts/"
                    f"{w['membership'].id}/position", staff_only(), {"position": "director"}),
    Route("clients.remove_contact", "POST",
          lambda w: f"/office/clients/{w['extra_client'].id}/contacts/"
                    f"{w['membership'].id}/remove", staff_only()),
    Route("clients.create_engagement", "POST",
          lambda w: f"/office/clients/{w['company'].id}/engagements", staff_only(),
          {"year": ""}),
    Route("clients.bulk_preview", "POST", "/office/clients/bulk", staff_only(),
          lambda w: {"client_id": w["company"].id, "new_tier": "standard"}),
    Route("clients.bulk_apply", "POST", "/office/clients/bulk/apply", staff_only(),
          lambda w: {"client_id": w["company"].id, "new_tier": w["company"].tier}),
    Route("clients.billing_page", "GET", "/office/billing", staff_only(admin_only=True)),
    Route("clients.billing_csv", "GET", "/office/billing.csv", staff_only(admin_only=True)),
    Route("engagements.index", "GET", "/office/engagements", staff_only()),
    Route("engagements.detail", "GET",
          lambda w: f"/office/engagements/{w['engagement'].id}", staff_only()),
    Route("engagements.update", "POST",
          lambda w: f"/office/engagements/{w['engagement'].id}", staff_only(),
          {"status": "nonsense"}),
    # An invitation is for whoever holds its link.
    Route("home.accept_invitation", "GET", lambda w: f"/invitation/{w['invitation']}",
          everyone("ok")),
    Route("home.accept_invitation", "POST", lambda w: f"/invitation/{w['invitation']}",
          everyone("ok"), {"password": "a", "repeat": "b"}),
]
