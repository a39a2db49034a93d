"""Key figures and dashboards: staff put figures in and choose what the client sees; the
client sees the annual-accounts dashboard with the report, and (Uitgebreid) its insights."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, request, session, url_for
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal import access, db
from portal.clients import tiers
from portal.insights import csv_import, dashboard, formats, rgs, service
from portal.insights.forms import (
    NEW_SERIES,
    BlocksForm,
    KeyFiguresForm,
    MappingForm,
    PeriodForm,
    SeriesMappingForm,
    SeriesUploadForm,
    TrialBalanceForm,
)
from portal.insights.models import CLIENT_CSV, SERIES_KINDS, SOURCES, STAFF_FORM, TRIAL_BALANCE
from portal.notifications import worker
from portal.tenancy import hosts
from portal.web import arg_int, done, render

bp = Blueprint("insights", __name__)

UPLOADS_KEY = "insight_uploads"  # the session's list of its own waiting uploads
SHOWN_ERRORS = 100  # errors listed on a preview; the rest are counted
SHOWN_UNMAPPED = 50  # unmapped accounts offered for mapping at once (a select each)


@bp.record_once
def _setup(state: Any) -> None:
    """Template helpers for the pages of other packages that link here, and the sweep."""
    app = state.app
    app.jinja_env.globals.update(
        tier_has=tiers.has, engagement_figures=_engagement_figures,
        task_dashboard_url=_task_dashboard_url, visible_dashboards=_visible_dashboards)
    worker.register_sweep(app, "unfinished figure uploads", service.delete_expired_uploads)


def _context(**values: Any) -> dict[str, Any]:
    return {"fmt": formats.current(), "rgs": rgs, "sources": SOURCES,
            "series_kinds": SERIES_KINDS, "dashboard_block_names": dashboard.DASHBOARD_BLOCKS,
            "insight_block_names": dashboard.INSIGHT_BLOCKS, **values}


def _decimal_comma() -> bool:
    """How typed amounts like 1.234 are read: as the page's language writes them."""
    return str(get_locale()).startswith("nl")


# --- helpers for other templates -------------------------------------------------------

def _engagement_figures(engagement: Any) -> dict[str, Any] | None:
    """The figures section of the engagement page: which years have figures, from where,
    and which dashboard blocks are shared."""
    if engagement.kind != "annual_accounts":
        return None
    years = dashboard.annual_years(db.session, engagement.client_id,
                                   (engagement.year, engagement.year - 1))
    return {"years": [years[engagement.year], years[engagement.year - 1]],
            "blocks": service.shared_blocks(db.session, engagement.client_id, engagement),
            "visible": bool(dashboard.client_dashboard_blocks(db.session, engagement,
                                                              engagement.client)),
            "may_share": tiers.has(engagement.client, "share_dashboard"),
            "source_names": {STAFF_FORM: _l("key figures form"),
                             TRIAL_BALANCE: _l("trial balance")}}


def _task_dashboard_url(share: Any, signer: Any, engagement: Any, client: Any,
                        portal: bool) -> str | None:
    """Where the client of a task page sees the engagement's dashboard, if shared."""
    if not portal and (share.state != "open" or signer is None):
        return None
    if not dashboard.client_dashboard_blocks(db.session, engagement, client):
        return None
    if portal:
        return url_for("insights.portal_dashboard", client_id=client.id,
                       engagement_id=engagement.id)
    return url_for("insights.link_dashboard", signer_id=signer.id)


def _visible_dashboards(client: Any, engagement_ids: Any) -> set[int]:
    return dashboard.dashboards_visible(db.session, client, engagement_ids)


# --- uploads waiting between steps ---------------------------------------------------------

def _read_upload(field: Any) -> bytes | None:
    """The uploaded file's bytes, or None with the reason on the field."""
    limit = current_app.config.get("INSIGHTS_MAX_MB", 20) * 1024 * 1024
    data = field.data.stream.read(limit + 1)
    if len(data) > limit:
        field.errors.append(_("The file is larger than %(mb)d MB.", mb=limit // 1024 // 1024))
        return None
    if not data.strip():
        field.errors.append(_("The file is empty."))
        return None
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        field.errors.append(_("This is not a CSV file. In Excel, choose “Save as” and "
                              "“CSV (semicolon separated)”, then upload that file."))
        return None
    return data


def _remember_upload(pending_id: int) -> None:
    session[UPLOADS_KEY] = [*session.get(UPLOADS_KEY, [])[-9:], pending_id]


def _forget_upload(pending_id: int) -> None:
    session[UPLOADS_KEY] = [i for i in session.get(UPLOADS_KEY, []) if i != pending_id]


def _pending(pending_id: int, client_id: int, kind: str, engagement_id: int | None = None
             ) -> Any:
    """An upload of this session's user for this client that is still waiting, or 404."""
    if pending_id not in session.get(UPLOADS_KEY, []):
        abort(404)
    return access.pending_import_for(current_user, client_id, pending_id, kind,
                                     engagement_id)


def _limited(errors: list[Any]) -> tuple[list[Any], int]:
    return errors[:SHOWN_ERRORS], max(len(errors) - SHOWN_ERRORS, 0)


# --- staff: the engagement's key figures ---------------------------------------------------

def _annual_engagement(engagement_id: int) -> Any:
    engagement = access.engagement_for_staff(current_user, engagement_id)
    if engagement.kind != "annual_accounts":
        abort(404)
    g.nav_section = "engagements.index"
    return engagement


def _year_choice(engagement: Any, value: Any) -> int:
    """The engagement's year, or the year before (its comparative figures)."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return engagement.year
    return year if year in (engagement.year, engagement.year - 1) else engagement.year


@bp.get("/office/engagements/<int:engagement_id>/figures")
@access.staff()
def figures_form(engagement_id: int):  # type: ignore[no-untyped-def]
    engagement = _annual_engagement(engagement_id)
    year = _year_choice(engagement, request.args.get("year"))
    existing = dashboard.annual_years(db.session, engagement.client_id, (year,))[year]
    form = KeyFiguresForm(formdata=None, year=year)
    if existing.has_figures:
        for code, amount in service.key_lines_from_totals(existing.totals).items():
            if amount:
                getattr(form, f"line_{code}").data = _typed(amount)
    return _figures_page(engagement, form, year, existing=existing)


def _typed(amount: Any) -> str:
    return formats.current().plain(amount)


def _figures_page(engagement, form, year, *, check=None, existing=None, status=200):  # type: ignore[no-untyped-def]
    if existing is None:
        existing = dashboard.annual_years(db.session, engagement.client_id, (year,))[year]
    return render("insights/figures_form.html", **_context(
        engagement=engagement, form=form, year=year, check=check, existing=existing,
        lines=service.KEY_LINES, groups=service.KEY_GROUPS), status=status)


@bp.post("/office/engagements/<int:engagement_id>/figures")
@access.staff()
def figures_save(engagement_id: int):  # type: ignore[no-untyped-def]
    engagement = _annual_engagement(engagement_id)
    form = KeyFiguresForm()
    year = _year_choice(engagement, form.year.data)
    if not form.validate_on_submit():
        return _figures_page(engagement, form, year, status=422)
    typed = {line.code: getattr(form, line.field_name).data for line in service.KEY_LINES}
    check = service.check_key_figures(typed, decimal_comma=_decimal_comma())
    for code, message in check.errors.items():
        getattr(form, f"line_{code}").errors.append(message)
    if not check.ok or form.action.data != "save":
        return _figures_page(engagement, form, year, check=check,
                             status=200 if check.ok else 422)
    try:
        service.save_key_figures(db.session, access.actor(), engagement, year, check)
    except service.ImportRefused:
        flash(_("Someone saved figures for %(year)d at the same moment. Check them below.",
                year=year), "warning")
    else:
        flash(_("The key figures of %(year)d are saved.", year=year), "success")
    return done("engagements.detail", engagement_id=engagement.id)


# --- staff: trial balances -------------------------------------------------------------

def _periods(engagement: Any) -> list[SelectChoice]:
    year = engagement.year
    choices = [SelectChoice(str(year), _("%(year)d, the whole year", year=year)),
               SelectChoice(str(year - 1), _("%(year)d, the whole year (for comparison)",
                                             year=year - 1))]
    choices += [SelectChoice(f"{year}-{m:02d}", _("%(month)s (the bookings of that month)",
                                                  month=format_date(date(year, m, 1), "MMMM y")))
                for m in range(1, 13)]
    return choices


def _period_of(value: str) -> tuple[int, int | None]:
    year, _sep, month = value.partition("-")
    return int(year), int(month) if month else None


@bp.get("/office/engagements/<int:engagement_id>/trial-balance")
@access.staff()
def trial_balance_form(engagement_id: int):  # type: ignore[no-untyped-def]
    engagement = _annual_engagement(engagement_id)
    form = TrialBalanceForm(formdata=None, period=str(engagement.year))
    form.period.choices = _periods(engagement)
    return render("insights/trial_balance_upload.html", **_context(engagement=engagement,
                                                                     form=form))


@bp.post("/office/engagements/<int:engagement_id>/trial-balance")
@access.staff()
def trial_balance_upload(engagement_id: int):  # type: ignore[no-untyped-def]
    engagement = _annual_engagement(engagement_id)
    form = TrialBalanceForm()
    form.period.choices = _periods(engagement)
    if form.validate_on_submit():
        data = _read_upload(form.upload)
        if data is not None:
            year, month = _period_of(form.period.data)
            pending = service.stage_upload(
                db.session, access.actor(), client=engagement.client, kind=TRIAL_BALANCE,
                filename=form.upload.data.filename or "trial-balance.csv", data=data,
                engagement=engagement, year=year, month=month)
            _remember_upload(pending.id)
            return done("insights.trial_balance_preview", engagement_id=engagement.id,
                        pending_id=pending.id)
    return render("insights/trial_balance_upload.html",
                  **_context(engagement=engagement, form=form), status=422)


def _trial_balance_page(engagement, pending, form=None, status=200):  # type: ignore[no-untyped-def]
    result = service.check_trial_balance(db.session, pending)
    unmapped = result.unmapped_accounts
    # An account without a code is asked for in the mapping table, not listed as an error.
    to_map = {account.line for account in unmapped}
    errors, more = _limited([e for e in result.errors if e.line not in to_map])
    totals = result.totals_by_rgs
    replaced = dashboard.replaced_import(db.session, pending.client_id,
                                         service.slot(pending.year, pending.month))
    return render("insights/trial_balance_preview.html", **_context(
        engagement=engagement, pending=pending, result=result, errors=errors,
        more_errors=more, unmapped=unmapped[:SHOWN_UNMAPPED],
        more_unmapped=max(len(unmapped) - SHOWN_UNMAPPED, 0),
        form=form or MappingForm(formdata=None), replaced=replaced,
        period=_period_label(pending.year, pending.month),
        preview=dashboard.Year(pending.year, totals, None), choices=_code_choices(),
        difference=result.difference), status=status)


def _period_label(year: int, month: int | None) -> str:
    if month is None:
        return str(year)
    return format_date(date(year, month, 1), "MMMM y")


def _code_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """RGS codes to map an account to, grouped by rubriek (level 2)."""
    locale = str(get_locale())
    groups = []
    for level2 in (c for c in rgs.CODES.values() if c.level == 2):
        options = [(level2.code, level2.name(locale))]
        options += [(child.code, "\u2003" + child.name(locale))
                    for child in rgs.children(level2.code)]
        groups.append((f"{level2.name(locale)} ({level2.code})", options))
    return groups


@bp.get("/office/engagements/<int:engagement_id>/trial-balance/<int:pending_id>")
@access.staff()
def trial_balance_preview(engagement_id: int, pending_id: int):  # type: ignore[no-untyped-def]
    engagement = _annual_engagement(engagement_id)
    pending = _pending(pending_id, engagement.client_id, TRIAL_BALANCE, engagement.id)
    return _trial_balance_page(engagement, pending)


@bp.post("/office/engagements/<int:engagement_id>/trial-balance/<int:pending_id>")
@access.staff()
def trial_balance_save(engagement_id: int, pending_id: int):  # type: ignore[no-untyped-def]
    engagement = _annual_engagement(engagement_id)
    pending = _pending(pending_id, engagement.client_id, TRIAL_BALANCE, engagement.id)
    form = MappingForm()
    if not form.validate_on_submit():
        return _trial_balance_page(engagement, pending, form, 422)
    choices = dict(zip(request.form.getlist("account"), request.form.getlist("code"),
                       strict=False))
    if any(choices.values()):
        service.choose_mapping(db.session, pending, choices)
    if form.action.data != "save":
        return done("insights.trial_balance_preview", engagement_id=engagement.id,
                    pending_id=pending.id)
    try:
        record = service.import_trial_balance(db.session, access.actor(), pending)
    except service.ImportRefused as refusal:
        if refusal.reason == "conflict":
            flash(_("Someone imported figures for this period at the same moment. Check "
                    "them, then import again if needed."), "warning")
        return _trial_balance_page(engagement, pending, form, 422)
    _forget_upload(pending.id)
    flash(_("The trial balance of %(period)s is imported: %(lines)d lines.",
            period=_period_label(record.year, record.month), lines=record.lines), "success")
    return done("engagements.detail", engagement_id=engagement.id)


@bp.post("/office/engagements/<int:engagement_id>/trial-balance/<int:pending_id>/cancel")
@access.staff()
def trial_balance_cancel(engagement_id: int, pending_id: int):  # type: ignore[no-untyped-def]
    engagement = _annual_engagement(engagement_id)
    pending = _pending(pending_id, engagement.client_id, TRIAL_BALANCE, engagement.id)
    service.discard_upload(db.session, pending)
    _forget_upload(pending.id)
    flash(_("The upload is discarded; nothing was imported."), "info")
    return done("engagements.detail", engagement_id=engagement.id)


# --- staff: the dashboard and what the client sees of it -----------------------------------

def _blocks_form(choices: dict[str, Any], chosen: list[str], formdata: Any = None) -> BlocksForm:
    form = BlocksForm(formdata=formdata) if formdata is not None else BlocksForm(
        formdata=None, blocks=chosen)
    form.blocks.choices = [SelectChoice(key, str(label)) for key, label in choices.items()]
    return form


def _staff_dashboard(engagement, form=None, status=200):  # type: ignore[no-untyped-def]
    shared = service.shared_blocks(db.session, engagement.client_id, engagement)
    board = dashboard.engagement_dashboard(db.session, engagement, dashboard.DASHBOARD_BLOCKS)
    return render("insights/engagement_dashboard.html", **_context(
        engagement=engagement, client=engagement.client, board=board, shared=shared,
        form=form or _blocks_form(dashboard.DASHBOARD_BLOCKS, shared),
        may_share=tiers.has(engagement.client, "share_dashboard")), status=status)


@bp.get("/office/engagements/<int:engagement_id>/dashboard")
@access.staff()
def engagement_dashboard(engagement_id: int):  # type: ignore[no-untyped-def]
    return _staff_dashboard(_annual_engagement(engagement_id))


@bp.post("/office/engagements/<int:engagement_id>/dashboard")
@access.staff()
def share_dashboard(engagement_id: int):  # type: ignore[no-untyped-def]
    engagement = _annual_engagement(engagement_id)
    form = _blocks_form(dashboard.DASHBOARD_BLOCKS, [], request.form)
    if not tiers.has(engagement.client, "share_dashboard"):
        form.blocks.errors = [_("This client's tier does not share dashboards.")]
        return _staff_dashboard(engagement, form, 422)
    if not form.validate_on_submit():
        return _staff_dashboard(engagement, form, 422)
    chosen = service.share_blocks(db.session, access.actor(), engagement.client, engagement,
                                  form.blocks.data or [], dashboard.DASHBOARD_BLOCKS)
    flash(ngettext("The client sees %(num)d block of the dashboard with the report.",
                   "The client sees %(num)d blocks of the dashboard with the report.",
                   len(chosen)) if chosen else
          _("The client does not see the dashboard."), "success")
    return done("insights.engagement_dashboard", engagement_id=engagement.id)


# --- staff: client insights ----------------------------------------------------------------

def _staff_insights(client, form=None, status=200):  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    period = PeriodForm(request.args)
    shared = service.shared_blocks(db.session, client.id, None)
    page = dashboard.insights_page(db.session, client, _year_arg("first"), _year_arg("last"),
                                   dashboard.INSIGHT_BLOCKS)
    _period_choices(period, page)
    return render("insights/client_insights_staff.html", **_context(
        client=client, page=page, period=period, shared=shared,
        form=form or _blocks_form(dashboard.INSIGHT_BLOCKS, shared),
        may_share=tiers.has(client, "client_insights")), status=status)


def _year_arg(name: str) -> int | None:
    value = request.args.get(name, type=arg_int)
    return value if value is not None and 1900 <= value <= 2200 else None


def _period_choices(form: PeriodForm, page: dashboard.InsightsPage) -> None:
    years = sorted(set(page.available) | {page.first, page.last})
    form.first.choices = [SelectChoice(y, str(y)) for y in years]
    form.last.choices = [SelectChoice(y, str(y)) for y in years]
    form.first.data, form.last.data = page.first, page.last


@bp.get("/office/clients/<int:client_id>/insights")
@access.staff()
def client_insights(client_id: int):  # type: ignore[no-untyped-def]
    return _staff_insights(access.client_for_staff(current_user, client_id))


@bp.post("/office/clients/<int:client_id>/insights")
@access.staff()
def share_insights(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = _blocks_form(dashboard.INSIGHT_BLOCKS, [], request.form)
    if not tiers.has(client, "client_insights"):
        form.blocks.errors = [_("Client insights are part of Collaborate Extended.")]
        return _staff_insights(client, form, 422)
    if not form.validate_on_submit():
        return _staff_insights(client, form, 422)
    chosen = service.share_blocks(db.session, access.actor(), client, None,
                                  form.blocks.data or [], dashboard.INSIGHT_BLOCKS)
    flash(ngettext("The client sees %(num)d block of insights in the portal.",
                   "The client sees %(num)d blocks of insights in the portal.", len(chosen))
          if chosen else _("The client sees no insights."), "success")
    return done("insights.client_insights", client_id=client.id)


# --- the client: the dashboard with the report ---------------------------------------------

def _client_dashboard(engagement, client, blocks, back_url):  # type: ignore[no-untyped-def]
    board = dashboard.engagement_dashboard(db.session, engagement, blocks)
    return render("insights/dashboard.html", **_context(
        engagement=engagement, client=client, board=board, back_url=back_url))


@bp.get("/task/<int:signer_id>/dashboard")
@access.link_holder
def link_dashboard(signer_id: int):  # type: ignore[no-untyped-def]
    signer, found, engagement, client = access.signer_for_link_holder(signer_id)
    if found.state != "open":
        abort(404)  # a link shows the dashboard with the report: while the task is open
    blocks = dashboard.client_dashboard_blocks(db.session, engagement, client)
    if not blocks:
        abort(404)
    hosts.house_style(tiers.has(client.tier, "house_style"))
    return _client_dashboard(engagement, client, blocks,
                             url_for("engagements.link_task", signer_id=signer.id))


@bp.get("/c/<int:client_id>/dashboard/<int:engagement_id>")
@access.client_user
def portal_dashboard(client_id: int, engagement_id: int):  # type: ignore[no-untyped-def]
    engagement, client = access.dashboard_engagement_for_member(current_user, client_id,
                                                                engagement_id)
    g.company = client
    blocks = dashboard.client_dashboard_blocks(db.session, engagement, client)
    if not blocks:
        abort(404)
    return _client_dashboard(engagement, client, blocks,
                             url_for("home.history", client_id=client.id))


# --- the client: insights and its own figures ----------------------------------------------

def _insights_company(client_id: int) -> Any:
    g.company = access.insights_company_for_member(current_user, client_id)
    return g.company


@bp.get("/c/<int:client_id>/insights")
@access.client_user
def portal_insights(client_id: int):  # type: ignore[no-untyped-def]
    client = _insights_company(client_id)
    period = PeriodForm(request.args)
    shared = service.shared_blocks(db.session, client.id, None)
    page = dashboard.insights_page(db.session, client, _year_arg("first"), _year_arg("last"),
                                   shared)
    _period_choices(period, page)
    return render("insights/insights.html", **_context(client=client, page=page,
                                                       period=period))


@bp.get("/c/<int:client_id>/insights/upload")
@access.client_user
def series_form(client_id: int):  # type: ignore[no-untyped-def]
    client = _insights_company(client_id)
    return render("insights/series_upload.html", **_context(
        client=client, form=SeriesUploadForm(formdata=None),
        series=service.series_of(db.session, client.id)))


@bp.post("/c/<int:client_id>/insights/upload")
@access.client_user
def series_upload(client_id: int):  # type: ignore[no-untyped-def]
    client = _insights_company(client_id)
    form = SeriesUploadForm()
    if form.validate_on_submit():
        data = _read_upload(form.upload)
        if data is not None:
            pending = service.stage_upload(
                db.session, access.actor(), client=client, kind=CLIENT_CSV,
                filename=form.upload.data.filename or "figures.csv", data=data)
            _remember_upload(pending.id)
            return done("insights.series_preview", client_id=client.id,
                        pending_id=pending.id)
    return render("insights/series_upload.html", **_context(
        client=client, form=form, series=service.series_of(db.session, client.id)),
        status=422)


def _mapping_form(pending: Any, client: Any, formdata: Any = None) -> tuple[Any, Any]:
    header = csv_import.series_header(pending.data)
    existing = service.series_of(db.session, client.id)
    if formdata is None:
        earlier = service.series_of_file(db.session, client.id, pending.filename)
        form = SeriesMappingForm(formdata=None, date_column=header.date_column,
                                 amount_column=header.amount_column,
                                 series=str(earlier) if earlier else NEW_SERIES)
    else:
        form = SeriesMappingForm(formdata=formdata)
    columns = [SelectChoice(c, c) for c in header.columns]
    form.date_column.choices = columns
    form.amount_column.choices = list(columns)
    form.series.choices = [SelectChoice(str(s.id), f"{s.name} ({SERIES_KINDS[s.kind]})")
                           for s in existing] + [SelectChoice(NEW_SERIES, _("A new series"))]
    return form, header


def _series_page(client, pending, form, header, result=None, status=200):  # type: ignore[no-untyped-def]
    errors, more = _limited(result.errors if result else [])
    return render("insights/series_preview.html", **_context(
        client=client, pending=pending, form=form, header=header, result=result,
        errors=errors, more_errors=more), status=status)


@bp.get("/c/<int:client_id>/insights/upload/<int:pending_id>")
@access.client_user
def series_preview(client_id: int, pending_id: int):  # type: ignore[no-untyped-def]
    client = _insights_company(client_id)
    pending = _pending(pending_id, client.id, CLIENT_CSV)
    form, header = _mapping_form(pending, client)
    result = None
    if header.error is None and header.date_column and header.amount_column:
        result = service.check_series(pending, header.date_column, header.amount_column)
    return _series_page(client, pending, form, header, result)


@bp.post("/c/<int:client_id>/insights/upload/<int:pending_id>")
@access.client_user
def series_save(client_id: int, pending_id: int):  # type: ignore[no-untyped-def]
    client = _insights_company(client_id)
    pending = _pending(pending_id, client.id, CLIENT_CSV)
    form, header = _mapping_form(pending, client, request.form)
    if header.error is not None or not form.validate_on_submit():
        return _series_page(client, pending, form, header, status=422)
    result = service.check_series(pending, form.date_column.data, form.amount_column.data)
    if not result.ok or form.action.data != "save":
        return _series_page(client, pending, form, header, result,
                            200 if result.ok else 422)
    choice = service.SeriesChoice(
        series_id=None if form.series.data == NEW_SERIES else int(form.series.data),
        name=form.name.data or "", kind=form.kind.data)
    try:
        service.import_series(db.session, access.actor(), pending, form.date_column.data,
                              form.amount_column.data, choice)
    except service.ImportRefused:
        flash(_("That did not work: someone uploaded figures at the same moment. Please "
                "try again."), "warning")
        return _series_page(client, pending, form, header, result, 422)
    _forget_upload(pending.id)
    flash(ngettext("Your figures are saved: %(num)d month.",
                   "Your figures are saved: %(num)d months.", len(result.totals)), "success")
    return done("insights.portal_insights", client_id=client.id)


@bp.post("/c/<int:client_id>/insights/upload/<int:pending_id>/cancel")
@access.client_user
def series_cancel(client_id: int, pending_id: int):  # type: ignore[no-untyped-def]
    client = _insights_company(client_id)
    pending = _pending(pending_id, client.id, CLIENT_CSV)
    service.discard_upload(db.session, pending)
    _forget_upload(pending.id)
    flash(_("The upload is discarded; nothing was saved."), "info")
    return done("insights.portal_insights", client_id=client.id)
