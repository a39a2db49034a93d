"""The baseline of `make bench`: a bare Flask app that renders a Jinja template from one SQL
query on the same database (TechEmpower's "fortunes" test, on our data).

Served by the same gunicorn.conf.py as the portal, so page/baseline is what the portal's
own machinery (sessions, tenancy, access checks, CSRF, headers, several queries, bigger
templates) costs on top of Flask + SQLAlchemy + Jinja:

    PORTAL_DATABASE_URL=... gunicorn -c gunicorn.conf.py bench.baseline:app
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from flask import Flask, render_template, request
from sqlalchemy import Engine, text

from portal.db import make_engine

app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))

# The first page of the clients overview, without anything else the portal does.
FIRST_CLIENTS = text(
    "SELECT c.name, c.client_number, c.tier FROM clients c"
    " JOIN practices p ON p.id = c.practice_id"
    " WHERE p.slug = :slug ORDER BY c.name LIMIT 50")


@cache
def engine() -> Engine:
    """Made on first use, so in each gunicorn worker after the fork; the portal's settings."""
    return make_engine(os.environ["PORTAL_DATABASE_URL"])


@app.get("/")
def fortunes() -> str:
    slug = request.host.split(".", 1)[0]
    with engine().connect() as connection:
        rows = connection.execute(FIRST_CLIENTS, {"slug": slug}).all()
    return render_template("fortunes.html", rows=rows, slug=slug)
