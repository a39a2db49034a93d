"""Browser tests: the app served on loopback, driven by the system Chromium (Playwright).

Skipped, with the reason printed, only where /usr/bin/chromium is absent; CI installs it.
Every page a test visits with JavaScript on can be checked with axe-core (`accessible`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"browser tests need Chromium at {CHROMIUM} "
                                   "(apt-get install chromium; .ci/run does this)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield chromium
    chromium.close()
    playwright.stop()


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as browsers expect of a real server

    def log_request(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass  # keep test output for what matters


@dataclass
class LiveServer:
    port: int

    def url(self, path: str = "/", host: str = "demo") -> str:
        return f"http://{host}.localhost:{self.port}{path}"


@pytest.fixture
def live(app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(server.server_port)
    server.shutdown()
    thread.join(5)


def fetch(page, url: str) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    """GET a URL with the tab's cookies, as a click on a download link would (Playwright's
    own request client cannot resolve *.localhost)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies(url))
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection.request("GET", path, headers={"Host": parts.netloc, "Cookie": cookies})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


@dataclass
class Console:
    """What the page wrote to its console: CSP violations and script errors show up here."""

    errors: list[str] = field(default_factory=list)


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def javascript(request: pytest.FixtureRequest) -> bool:
    return request.param


@pytest.fixture
def tab(browser, javascript, live):  # type: ignore[no-untyped-def]
    """Open another browser (its own cookies), e.g. the client's phone beside the office:
    `phone = tab(viewport={"width": 360, "height": 740})`."""
    contexts = []

    def open_tab(**options):  # type: ignore[no-untyped-def]
        context = browser.new_context(java_script_enabled=javascript, locale="en-GB",
                                      **options)
        contexts.append(context)
        opened = context.new_page()
        opened.set_default_timeout(10_000)
        opened.javascript = javascript
        return opened

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser, javascript, live):  # type: ignore[no-untyped-def]
    """A fresh browser tab; the server (`live`) stays up until the tab is closed."""
    context = browser.new_context(java_script_enabled=javascript, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = Console()
    page.on("console", lambda msg: _console_error(console, msg))
    page.on("response", lambda response: _broken_asset(console, response))
    page.on("pageerror", lambda exc: console.errors.append(str(exc)))
    page.on("requestfailed", lambda req: _failed_request(console, req))
    page.console = console
    page.javascript = javascript
    yield page
    context.close()
    assert console.errors == [], "the browser reported errors (CSP violations, scripts)"


def _failed_request(console: Console, request) -> None:  # type: ignore[no-untyped-def]
    # A navigation cancels what the old page was still loading (its favicon, say):
    # that is the browser moving on, not a broken request.
    if request.failure != "net::ERR_ABORTED":
        console.errors.append(f"{request.method} {request.url} failed: {request.failure}")


def _console_error(console: Console, message) -> None:  # type: ignore[no-untyped-def]
    # A page answered 4xx on purpose (422 for a form error) is logged too; statuses are the
    # tests' to assert, and broken assets are caught in _broken_asset.
    if message.type == "error" and "the server responded with a status of" not in message.text:
        console.errors.append(message.text)


def _broken_asset(console: Console, response) -> None:  # type: ignore[no-untyped-def]
    # Pages and htmx requests may answer 4xx on purpose; stylesheets, scripts, images never.
    if response.status >= 400 and response.request.resource_type in (
            "stylesheet", "script", "image", "font"):
        console.errors.append(f"{response.url} answered {response.status}")


@pytest.fixture
def accessible(browser):  # type: ignore[no-untyped-def]
    """Check the page as it is now with axe-core; any violation fails with axe's report.

    axe needs scripts, so a page under test with JavaScript off is copied, DOM and all,
    into a tab of the same origin that runs them.
    """
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page) -> None:  # type: ignore[no-untyped-def]
        if page.javascript:
            # Buttons of a form whose request is in flight are dimmed on purpose: check the
            # page at rest, as people read it.
            page.wait_for_function("() => !document.querySelector('.htmx-request')")
            results = axe.run(page)
        else:
            context = browser.new_context()
            twin = context.new_page()
            origin = "/".join(page.url.split("/")[:3])
            twin.goto(f"{origin}/healthz")  # same origin, changes nothing
            twin.set_content(page.content(), wait_until="load")
            results = axe.run(twin)
            context.close()
        assert results.violations_count == 0, results.generate_report()

    return check
