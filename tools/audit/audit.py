"""`make audit`: Lighthouse (mobile and desktop) and the Nu HTML checker over every page type.

Loads the demo into a temporary SQLite database and instance folder, serves it with
gunicorn on a free loopback port, signs in as staff and as a client through the login
forms, walks every link a user can follow (one page per kind: ids become N), then runs

* the Nu HTML checker (vnu.jar, with java) over each page's HTML as the server sent it;
  errors about `hx-*` attributes are htmx's and are not counted;
* Lighthouse (tools/audit/lighthouse.mjs) on each page, mobile and desktop, default
  (simulated) throttling, the session cookie sent as a header.

It prints one table and exits with 1 when any Lighthouse category is below 100, any page
has a validator error or answers a server error, a page type was not found or a page could
not be audited. Each Lighthouse run waits (up to 15 s) for the CPUs to be mostly idle, and a
run whose only shortfall is its performance score, by one point or while other work kept the
CPUs busy, is run once more, after a longer wait for idle CPUs (simulated throttling scales
the CPU time it observes); the second result counts.

    python tools/audit/audit.py [--only PATTERN] [--no-lighthouse] [--keep]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
VNU_JAR = HERE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = ["--headless=new", "--no-sandbox"]
CATEGORIES = [("performance", "perf"), ("accessibility", "a11y"),
              ("best-practices", "bp"), ("seo", "seo")]
FORM_FACTORS = ("mobile", "desktop")

# Page kinds the audit must find; every other page it reaches is audited too, under its path.
NAMED = [
    ("anonymous", "demo", r"/login", "client login"),
    ("anonymous", "demo", r"/office/login", "office login"),
    ("anonymous", "demo", r"/no-such-page", "error page 404"),
    ("anonymous", "nobody", r"/", "unknown practice (404)"),
    ("anonymous", "", r"/", "base domain"),
    ("anonymous", "demo", r"/verify", "verify a sealed report"),
    ("client", "demo", r"/", "client: companies"),
    ("client", "demo", r"/c/N/", "client home"),
    ("client", "demo", r"/c/N/approvals/N", "client: report to approve"),
    ("client", "demo", r"/c/N/history", "client: history"),
    ("client", "demo", r"/c/N/documents", "client: documents"),
    ("client", "demo", r"/c/N/questionnaires/N(/s/[^/]+)?", "client: questionnaire"),
    ("client", "demo", r"/c/N/insights", "client: insights"),
    ("client", "demo", r"/c/N/dashboard/N", "client: insights dashboard"),
    ("client", "demo", r"/c/N/people", "client: contact persons"),
    ("client", "demo", r"/account", "client: account"),
    ("staff", "demo", r"/office/", "office home"),
    ("staff", "demo", r"/office/clients", "clients overview"),
    ("staff", "demo", r"/office/clients/N", "client card"),
    ("staff", "demo", r"/office/engagements", "engagements overview"),
    ("staff", "demo", r"/office/engagements/N", "engagement"),
    ("staff", "demo", r"/office/engagements/N/dashboard", "engagement dashboard"),
    ("staff", "demo", r"/office/questionnaires", "questionnaires"),
    ("staff", "demo", r"/office/settings", "settings"),
    ("staff", "demo", r"/office/settings/seal", "settings: seal"),
    ("staff", "demo", r"/office/account", "office: account"),
    ("client", "other", r"/c/N/", "client home (theme harbour)"),
    ("staff", "other", r"/office/", "office home (theme harbour)"),
]
# Pages that answer an error on purpose: their status is the point, and the browser logs
# that status in the console.
ERROR_PAGES = {("demo", "/no-such-page"), ("nobody", "/")}
# Links the walk does not follow: assets, files, development pages.
SKIP = re.compile(r"^/(static|brand|dev)/|^/theme\.css|^/healthz|^/l/|/download$"
                  r"|\.(csv|xlsx|pdf|zip|json|txt|png|svg)$")
HX_ATTRIBUTE = re.compile(r"^Attribute “hx-[^”]*” not allowed on element")
QUIET = 0.25  # lighthouse.mjs waits until the CPUs are less busy than this (share of all)
QUIET_SECONDS = (15, 90)  # how long it waits before each run, first pass and second
MAX_PER_KIND = 3  # pages of one kind the walk opens (to find what only some rows have)
MAX_FETCHES = 400


@dataclass
class Page:
    who: str
    host: str
    path: str
    kind: str  # the path with ids as N
    status: int
    html: bytes
    label: str = ""
    cookie: str = ""  # the signed-in user's, for Lighthouse
    lighthouse: dict[str, dict] = field(default_factory=dict)
    validator: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.label or self.kind


class Browser:
    """A cookie jar and plain HTTP to the server on 127.0.0.1 (the Host header names the
    practice), enough to sign in and read pages as that user."""

    def __init__(self, port: int, host: str) -> None:
        self.port, self.host = port, host
        self.cookies: dict[str, str] = {}
        self.broken: list[str] = []  # pages that answered a server error

    @property
    def netloc(self) -> str:
        return f"{self.host}.localhost:{self.port}" if self.host else f"localhost:{self.port}"

    def request(self, method: str, path: str, body: dict[str, str] | None = None,
                ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Host": self.netloc, "Accept": "text/html", "Sec-Fetch-Site": "same-origin"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{self.netloc}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                self._remember(value)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, content
        finally:
            connection.close()

    def get(self, path: str) -> tuple[int, str, dict[str, str], bytes]:
        """GET, following redirects on this host; returns the final path too."""
        for _ in range(6):
            status, headers, body = self.request("GET", path)
            if status >= 500:
                self.broken.append(f"{self.netloc}{path} answered {status}")
            if status not in (301, 302, 303, 307, 308):
                return status, path, headers, body
            location = urlsplit(headers["location"])
            if location.netloc and location.netloc != self.netloc:
                return status, path, headers, body
            path = location.path + (f"?{location.query}" if location.query else "")
        raise RuntimeError(f"too many redirects from {path}")

    def sign_in(self, login_path: str, email: str, password: str) -> None:
        status, _, _, body = self.get(login_path)
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
        if status != 200 or not token:
            raise RuntimeError(f"{self.netloc}{login_path} shows no login form ({status})")
        status, _, _ = self.request("POST", login_path, {
            "csrf_token": token.group(1).decode(), "email": email, "password": password,
            "next": ""})
        if status != 302:
            raise RuntimeError(f"signing in as {email} on {self.netloc} answered {status}")

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _remember(self, header: str) -> None:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def kind_of(path: str) -> str:
    """The page's kind: its path with ids as N (and a questionnaire part's key as KEY)."""
    path = re.sub(r"/\d+(?=/|$)", "/N", urlsplit(path).path)
    return re.sub(r"^(/c/N/questionnaires/N/s)/[^/]+$", r"\1/KEY", path)


def links_in(html: bytes, netloc: str) -> list[str]:
    found = []
    for raw in re.findall(rb'href="([^"]*)"', html):
        parts = urlsplit(unescape(raw.decode("utf-8", "replace")))
        if parts.scheme not in ("", "http") or (parts.netloc and parts.netloc != netloc):
            continue
        if parts.path.startswith("/") and not SKIP.search(parts.path):
            found.append(parts.path)
    return found


def walk(browser: Browser, who: str, roots: list[str]) -> list[Page]:
    """Every kind of page reachable by links from the roots, first come first kept."""
    pages: dict[str, Page] = {}
    opened: dict[str, int] = {}
    queue, seen, fetches = deque(roots), set(roots), 0
    while queue and fetches < MAX_FETCHES:
        path = queue.popleft()
        kind = kind_of(path)
        if opened.get(kind, 0) >= MAX_PER_KIND:
            continue
        opened[kind] = opened.get(kind, 0) + 1
        fetches += 1
        status, final, headers, body = browser.get(path)
        if status != 200 or not headers.get("content-type", "").startswith("text/html"):
            continue
        final_kind = kind_of(final)
        if final_kind not in pages:
            pages[final_kind] = Page(who, browser.host, final, final_kind, status, body)
        for link in links_in(body, browser.netloc):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return list(pages.values())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def portal(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(BIN / "portal"), *args], env=env, cwd=ROOT,  # noqa: S603
                            capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"portal {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def serve(env: dict[str, str], port: int, work: Path) -> subprocess.Popen:
    command = [str(BIN / "gunicorn"), "--workers", "2", "--threads", "4",
               "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}",
               "--error-logfile", str(work / "gunicorn.log")]
    if int(importlib.metadata.version("gunicorn").split(".")[0]) >= 25:
        command.append("--no-control-socket")  # one per user by default: not shared
    # cwd: the temporary folder, so gunicorn reads no gunicorn.conf.py of the checkout.
    server = subprocess.Popen([*command, "portal:create_app()"], env=env, cwd=work)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if Browser(port, "demo").request("GET", "/login")[0] == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start:\n" + (work / "gunicorn.log").read_text())


def collect_pages(port: int, logins: dict) -> tuple[list[Page], list[str]]:
    """The pages of every kind, and the links that answered a server error."""
    practices = {p["slug"]: p for p in logins["practices"]}
    pages: list[Page] = []
    broken: list[str] = []
    for slug in ("demo", "other"):
        practice = practices[slug]
        if slug == "demo":
            anonymous = Browser(port, slug)
            pages += walk(anonymous, "anonymous", ["/login", "/office/login", "/verify"])
            broken += anonymous.broken
        staff = next(u for u in practice["staff"] if u["role"] == "admin")
        office = Browser(port, slug)
        office.sign_in("/office/login", staff["email"], staff["password"])
        client_user = max(practice["client_users"], key=lambda u: len(u["companies"]))
        portal_user = Browser(port, slug)
        portal_user.sign_in("/login", client_user["email"], client_user["password"])
        staff_pages = walk(office, "staff", ["/office/"])
        client_pages = walk(portal_user, "client", ["/"])
        if slug == "other":  # the second practice: only its look, on two pages
            staff_pages = [p for p in staff_pages if p.kind == "/office/"]
            client_pages = [p for p in client_pages if p.kind == "/c/N/"]
        for page in staff_pages + client_pages:
            page.cookie = (office if page.who == "staff" else portal_user).cookie_header()
        pages += staff_pages + client_pages
        broken += office.broken + portal_user.broken
    for host, path in [("demo", "/no-such-page"), ("nobody", "/"), ("", "/")]:
        visitor = Browser(port, host)
        status, final, _, body = visitor.get(path)
        pages.append(Page("anonymous", host, final, kind_of(final), status, body))
        broken += visitor.broken
    for page in pages:
        for who, host, pattern, label in NAMED:
            if (page.who, page.host) == (who, host) and re.fullmatch(
                    pattern.replace("N", r"\d+"), urlsplit(page.path).path):
                page.label = label
                break
    return pages, broken


def validate(pages: list[Page], work: Path) -> None:
    folder = work / "html"
    folder.mkdir()
    files = {}
    for number, page in enumerate(pages):
        file = folder / f"{number:03}.html"
        file.write_bytes(page.html)
        files[file.resolve().as_uri()] = page
    result = subprocess.run(["java", "-jar", str(VNU_JAR), "--format", "json", "--stdout",  # noqa: S603, S607
                             "--exit-zero-always", *map(str, sorted(folder.iterdir()))],
                            capture_output=True, text=True)
    try:
        messages = json.loads(result.stdout)["messages"]
    except (json.JSONDecodeError, KeyError):
        raise RuntimeError(f"the Nu HTML checker failed:\n{result.stdout}\n{result.stderr}"
                           ) from None
    for message in messages:
        if message["type"] not in ("error", "non-document-error"):
            continue
        if HX_ATTRIBUTE.search(message.get("message", "")):
            continue
        url = message.get("url", "")
        page = files.get(url) or files.get(url.replace("file:/", "file:///", 1))
        if page is None:
            raise RuntimeError(f"the Nu HTML checker: {message}")
        page.validator.append(message)


def run_lighthouse(pages: list[Page], port: int, work: Path, jobs: list[tuple[Page, str]],
                   attempt: int) -> None:
    plan = {"chromePath": CHROME, "chromeFlags": CHROME_FLAGS, "jobs": [],
            "quiet": QUIET, "quietSeconds": QUIET_SECONDS[attempt]}
    by_id = {}
    for number, (page, form_factor) in enumerate(jobs):
        job_id = f"{attempt}-{number:03}-{form_factor}"
        by_id[job_id] = (page, form_factor)
        netloc = f"{page.host}.localhost:{port}" if page.host else f"localhost:{port}"
        job = {"id": job_id, "url": f"http://{netloc}{page.path}", "formFactor": form_factor,
               "headers": {"Cookie": page.cookie} if page.cookie else {},
               "report": str(work / "lighthouse" / f"{job_id}.json")}
        if (page.host, page.path) in ERROR_PAGES:
            job |= {"ignoreStatusCode": True, "skipAudits": ["http-status-code"],
                    "ignoredConsolePatterns": ["the server responded with a status of 404"]}
        plan["jobs"].append(job)
    (work / "lighthouse").mkdir(exist_ok=True)
    plan_file = work / f"lighthouse-{attempt}.json"
    plan_file.write_text(json.dumps(plan))
    runner = subprocess.Popen(["node", str(HERE / "lighthouse.mjs"), str(plan_file)],  # noqa: S603, S607
                              cwd=HERE, stdout=subprocess.PIPE, text=True,
                              env=os.environ | {"CHROME_PATH": CHROME})
    assert runner.stdout is not None
    for done, line in enumerate(runner.stdout, 1):
        result = json.loads(line)
        page, form_factor = by_id[result["id"]]
        result["attempt"] = attempt
        page.lighthouse[form_factor] = result
        scores = " ".join(_score(result, c) for c, _ in CATEGORIES)
        busy = result.get("cpuBusy")
        print(f"  [{done}/{len(jobs)}] {form_factor:<7} {page.name:<34} {scores}"
              f"{f'  (CPUs {busy:.0%} busy)' if busy is not None else ''}"
              f"{'  ' + result['runtimeError'] if result['runtimeError'] else ''}",
              file=sys.stderr, flush=True)
    if runner.wait():
        raise RuntimeError(f"lighthouse.mjs exited with {runner.returncode}")


def _score(result: dict | None, category: str) -> str:
    if not result or result.get("runtimeError") or result["scores"].get(category) is None:
        return "ERR"
    return str(round(result["scores"][category] * 100))


def passed(result: dict) -> bool:
    return not result.get("runtimeError") and all(
        result["scores"].get(c) == 1 for c, _ in CATEGORIES)


def worth_another_run(result: dict) -> bool:
    """A crashed run, or one short only of a performance 100 by timing noise: by a point,
    or while other work kept the CPUs busy (the wait for them to be idle ran out)."""
    if result.get("runtimeError"):
        return not result["runtimeError"].startswith("redirected to")
    scores = result["scores"]
    if scores.get("performance") == 1 or any(scores.get(c) != 1 for c, _ in CATEGORIES[1:]):
        return False
    busy = (result.get("cpuBusy") or 0) >= QUIET
    return busy or round(scores.get("performance", 0) * 100) == 99


def print_table(pages: list[Page], missing: list[str], broken: list[str],
                with_lighthouse: bool) -> bool:
    ok = not missing and not broken
    width = max(len(p.name) for p in pages) + 2
    head = " ".join(short.rjust(4) for _, short in CATEGORIES)
    print()
    print(f"{'page':<{width}}{'as':<10}{'mobile':^20} {'desktop':^20} {'html':>5}")
    print(f"{'':<{width}}{'':<10}{head}  {head}  {'errs':>5}")
    for page in pages:
        cells = []
        for form_factor in FORM_FACTORS:
            result = page.lighthouse.get(form_factor)
            if not with_lighthouse:
                cells.append(" ".join("-".rjust(4) for _ in CATEGORIES))
                continue
            ok &= bool(result) and passed(result)
            cells.append(" ".join(_score(result, c).rjust(4) for c, _ in CATEGORIES))
        ok &= not page.validator
        print(f"{page.name:<{width}}{page.who:<10}{cells[0]}  {cells[1]}  {len(page.validator):>5}")
    for name in missing:
        print(f"MISSING: no page found for {name!r}")
    for link in broken:
        print(f"BROKEN: {link}")
    notes = []
    for page in pages:
        where = f"{page.name} ({page.host or 'base'}{page.path}, {page.who})"
        for form_factor, result in page.lighthouse.items():
            if result.get("runtimeError"):
                notes.append(f"{where} {form_factor}: Lighthouse failed: {result['runtimeError']}")
            for audit in result.get("failing", []):
                if result["scores"].get(audit["category"]) == 1:
                    continue  # a metric short of 1 inside a category that scores 100
                items = "; ".join(str(i) for i in audit["items"][:3])
                notes.append(f"{where} {form_factor}: {audit['category']} {audit['id']} "
                             f"({audit['score']}) {audit['title']} {audit['displayValue']}"
                             f"{': ' + items if items else ''}")
            if result.get("attempt"):
                notes.append(f"{where} {form_factor}: run twice, the second run counts")
            if not passed(result) and (result.get("cpuBusy") or 0) >= QUIET:
                notes.append(f"{where} {form_factor}: the CPUs were "
                             f"{result['cpuBusy']:.0%} busy with other work when it ran")
        for message in page.validator:
            notes.append(f"{where} html line {message.get('lastLine')}: {message['message']}"
                         f"  [{message.get('extract', '').strip()}]")
    if notes:
        print("\nNotes:")
        for note in notes:
            print(f"  {note}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="audit only pages whose name or path matches")
    parser.add_argument("--no-lighthouse", action="store_true", help="only the HTML checker")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    for need, hint in [(VNU_JAR, "cd tools/audit && npm ci --ignore-scripts"),
                       (Path(CHROME), "apt-get install chromium, or set CHROME_PATH")]:
        if not need.exists():
            print(f"audit: {need} is missing ({hint})", file=sys.stderr)
            return 2
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="portal-audit-"))
    env = os.environ | {
        "PORTAL_DEBUG": "0", "PORTAL_INSTANCE_PATH": str(work),
        "PORTAL_DATABASE_URL": f"sqlite:///{work}/portal.sqlite3",
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(32), "PORTAL_BASE_DOMAIN": "localhost",
        "PORTAL_HTTPS": "0", "PORTAL_PROXY_FIX": "0",
    }
    server = None
    try:
        print(f"audit: demo data in {work}", file=sys.stderr)
        portal(env, "db", "upgrade")
        logins = json.loads(portal(env, "demo", "--json"))
        port = free_port()
        server = serve(env, port, work)
        pages, broken = collect_pages(port, logins)
        found = {p.label for p in pages}
        missing = [label for *_, label in NAMED if label not in found]
        if args.only:
            pages = [p for p in pages if re.search(args.only, f"{p.name} {p.path}")]
        print(f"audit: {len(pages)} pages; the Nu HTML checker", file=sys.stderr)
        validate(pages, work)
        if not args.no_lighthouse:
            load = os.getloadavg()[0]
            print(f"audit: Lighthouse on {len(pages)} pages x {len(FORM_FACTORS)} "
                  f"({os.cpu_count()} CPUs, load {load:.1f})", file=sys.stderr)
            run_lighthouse(pages, port, work, [(p, f) for p in pages for f in FORM_FACTORS], 0)
            again = [(p, f) for p in pages for f, r in p.lighthouse.items()
                     if worth_another_run(r)]
            if again:
                print(f"audit: {len(again)} run(s) once more", file=sys.stderr)
                run_lighthouse(pages, port, work, again, 1)
        ok = print_table(pages, missing, broken, not args.no_lighthouse)
        minutes, seconds = divmod(round(time.monotonic() - started), 60)
        print(f"\n{'PASS' if ok else 'FAIL'}: {len(pages)} pages in {minutes}m{seconds:02}s "
              f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
        return 0 if ok else 1
    except RuntimeError as error:
        print(f"audit: {error}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if args.keep:
            print(f"audit: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
