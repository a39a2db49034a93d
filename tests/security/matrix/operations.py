from tests.security.matrix import Route, everyone

# Without PORTAL_METRICS_TOKEN (as here) /metrics is not there for anyone; with one, only
# its bearer gets it (tests/web/test_observability.py).
ROUTES = [
    Route("operations.metrics", "GET", "/metrics", everyone(404)),
]
