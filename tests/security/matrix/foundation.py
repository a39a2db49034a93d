from tests.security.matrix import LOGIN, OK, Route, client_only, everyone, staff_only

ROUTES = [
    Route("tenancy.stylesheet", "GET", "/theme.css", everyone(OK)),
    Route("tenancy.logo", "GET", "/brand/logo", everyone(OK)),
    Route("tenancy.health", "GET", "/healthz", everyone(OK)),
    Route("accounts.staff_login", "GET", "/office/login", everyone(OK)),
    Route("accounts.staff_login", "POST", "/office/login", everyone(OK),
          {"email": "x@example.nl", "password": "wrong"}),
    Route("accounts.client_login", "GET", "/login", everyone(OK)),
    Route("accounts.client_login", "POST", "/login", everyone(OK),
          {"email": "x@example.nl", "password": "wrong"}),
    Route("accounts.logout", "POST", "/logout", everyone(LOGIN)),
    Route("accounts.set_language", "POST", "/language", everyone(OK), {"locale": "en"}),
    Route("home.index", "GET", "/", client_only()),
    Route("clients.office_home", "GET", "/office/", staff_only()),
]
