from tests.security.matrix import Route, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    world["domain"] = make.domain(world["demo"], "portaal.demo-kantoor.example")


ADMINS = staff_only(admin_only=True)

# An admin's POSTs here are answered 422 (nothing valid sent) or 303; removing the logo runs
# after foundation's logo row (modules run in name order).
ROUTES = [
    Route("tenancy.settings", "GET", "/office/settings", ADMINS),
    Route("tenancy.settings", "POST", "/office/settings", ADMINS, {"name": ""}),
    Route("tenancy.upload_logo", "POST", "/office/settings/logo", ADMINS),
    Route("tenancy.remove_logo", "POST", "/office/settings/logo/remove", ADMINS),
    Route("tenancy.add_domain", "POST", "/office/settings/domains", ADMINS,
          {"host": "klanten.demo-kantoor.example"}),
    Route("tenancy.remove_domain", "POST",
          lambda w: f"/office/settings/domains/{w['domain'].id}/remove", ADMINS),
]
