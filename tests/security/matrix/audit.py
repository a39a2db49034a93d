from tests.security.matrix import Route, staff_only

ROUTES = [
    Route("audit.events", "GET", "/office/audit", staff_only(admin_only=True)),
    Route("audit.request_check", "POST", "/office/audit/check", staff_only(admin_only=True)),
]
