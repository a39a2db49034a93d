"""The client portal: a white-label Flask + htmx application for accounting practices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

PACKAGE = Path(__file__).resolve().parent
# Where templates/, static/, themes/ and migrations/ are: beside the package in a checkout,
# inside it where the wheel put them (setup.py). Nothing else may depend on the checkout.
CHECKOUT = not (PACKAGE / "_bundled").is_dir()
ROOT = PACKAGE.parent if CHECKOUT else PACKAGE / "_bundled"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings, database, extensions, blueprints, in that order."""
    from portal import access, db, i18n, security, web
    from portal import config as settings
    from portal.accounts import sessions
    from portal.accounts.views import bp as accounts_bp
    from portal.audit import service as audit
    from portal.audit.views import bp as audit_bp
    from portal.clients import billing, tiers
    from portal.clients import imports as client_imports
    from portal.clients.views import bp as clients_bp
    from portal.collaboration import exports, offers, retention
    from portal.collaboration.views import bp as collaboration_bp
    from portal.documents import files
    from portal.documents import service as documents
    from portal.documents.views import bp as documents_bp
    from portal.engagements import approvals, bulk_reports, sealing
    from portal.engagements import service as engagements
    from portal.engagements.views import bp as engagements_bp
    from portal.home.views import bp as home_bp
    from portal.insights import charts
    from portal.insights.views import bp as insights_bp
    from portal.notifications import reminders, worker
    from portal.notifications import setup as notifications
    from portal.notifications.views import bp as notifications_bp
    from portal.operations import anchoring, metrics, observability
    from portal.operations.views import bp as operations_bp
    from portal.questionnaires import service as questionnaires
    from portal.questionnaires.views import bp as questionnaires_bp
    from portal.tenancy import hosts
    from portal.tenancy.views import bp as tenancy_bp

    values = settings.load(config)
    app = Flask(
        __name__,
        instance_path=values["INSTANCE_PATH"],
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(values)
    app.config["REMINDER_TIERS"] = tiers.tiers_with("deadline_reminders")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    observability.init_app(app)  # logging and request ids before anything logs
    metrics.init_app(app)
    db.init_app(app)
    hosts.init_app(app)  # g.practice first: every later hook and error page relies on it
    security.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    sessions.init_app(app)
    access.init_app(app)
    notifications.init_app(app)
    charts.init_app(app)
    files.init_app(app)
    reminders.register(app, approvals.TASK_KIND, approvals.compose_reminders)
    reminders.register(app, documents.TASK_KIND, documents.compose_reminders)
    files.register_sweep(app)  # deleted documents purged, unreferenced files removed
    reminders.register(app, questionnaires.TASK_KIND, questionnaires.compose_reminders)
    reminders.register(app, questionnaires.LIST_KIND, questionnaires.compose_reminders)
    worker.register_sweep(app, "questionnaire sends", questionnaires.deliver_queued)
    reminders.register(app, offers.TASK_KIND, offers.compose_reminders)
    worker.register_sweep(app, "offer expiry", offers.expire)
    worker.register_sweep(app, "exports", lambda s: exports.build_queued(s, files.storage()))
    worker.register_sweep(app, "reports in bulk",
                          lambda s: bulk_reports.run_queued(s, files.storage()))
    worker.register_sweep(app, "client imports", lambda s: client_imports.run_queued(
        s, *billing.prices_from(app.config)))
    worker.register_sweep(app, "engagements in bulk", engagements.run_queued_batches)
    worker.register_sweep(app, "retention", lambda s: retention.sweep(s, files.storage()))
    worker.register_sweep(app, "database statistics", db.refresh_statistics)
    worker.register_sweep(app, "audit log checks", audit.check_due)
    worker.register_sweep(app, "audit log anchors", anchoring.sweep)
    worker.register_sweep(app, "sealed approvals", lambda s: sealing.seal_pending(
        s, files.storage(), app.config))

    app.register_blueprint(tenancy_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(engagements_bp)
    app.register_blueprint(insights_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(questionnaires_bp)
    app.register_blueprint(collaboration_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(operations_bp)
    return app
