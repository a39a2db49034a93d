"""Every text field of every form has a length the server enforces, not only the browser's
maxlength: a Length(max=...) validator, no longer than the column the value goes into."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import String
from wtforms import StringField
from wtforms.validators import Length

import portal


def _import_all() -> None:
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        importlib.import_module(module.name)


def _forms() -> list[type[FlaskForm]]:
    _import_all()

    def below(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return sorted({f for f in below(FlaskForm) if f.__module__.startswith("portal.")},
                  key=lambda f: f"{f.__module__}.{f.__name__}")


def _text_fields(form: type[FlaskForm]) -> dict[str, Any]:
    """The form's fields that hold text: StringField and all its kin (TextArea, Email,
    Password, Hidden, Search, ... are StringFields)."""
    found = {}
    for name in dir(form):
        unbound = getattr(form, name, None)
        field_class = getattr(unbound, "field_class", None)
        if field_class is not None and issubclass(field_class, StringField):
            found[name] = unbound
    return found


def _max_length(unbound: Any) -> int | None:
    validators = unbound.kwargs.get("validators") or (
        unbound.args[1] if len(unbound.args) > 1 else ())
    limits = [v.max for v in validators if isinstance(v, Length) and v.max > 0]
    return min(limits) if limits else None


FORMS = _forms()


def test_the_walk_finds_the_forms_of_every_feature():
    packages = {f.__module__.split(".")[1] for f in FORMS}
    assert {"accounts", "clients", "collaboration", "documents", "engagements", "home",
            "insights", "questionnaires", "tenancy", "audit"} <= packages


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_text_field_has_a_server_side_length_limit(form):
    unlimited = [name for name, unbound in _text_fields(form).items()
                 if _max_length(unbound) is None]
    assert unlimited == [], f"give these fields of {form.__name__} a Length(max=...)"


def _pairs() -> list[tuple[type[FlaskForm], type]]:
    """Forms and the table their values are saved in."""
    from portal.accounts.forms import AcceptInviteForm, ChangeEmailForm, InviteStaffForm
    from portal.accounts.models import ClientUser, StaffUser
    from portal.audit.forms import EventFilterForm
    from portal.audit.models import AuditEvent
    from portal.clients.forms import ClientForm, ContactForm, NewClientForm
    from portal.clients.models import Client
    from portal.collaboration.forms import OfferClientForm, OfferContactForm
    from portal.collaboration.models import Offer
    from portal.documents.forms import DocumentForm, RequestForm
    from portal.documents.models import Document, DocumentRequest
    from portal.engagements.forms import DecisionForm, EngagementForm
    from portal.engagements.models import Engagement, Signer
    from portal.insights.forms import SeriesMappingForm
    from portal.insights.models import Series
    from portal.questionnaires.forms import SectionForm, TemplateForm
    from portal.questionnaires.models import QuestionnaireTemplate
    from portal.tenancy.forms import DomainForm, SettingsForm
    from portal.tenancy.models import CustomDomain, Practice

    return [(AcceptInviteForm, StaffUser), (ChangeEmailForm, ClientUser),
            (InviteStaffForm, StaffUser), (EventFilterForm, AuditEvent),
            (ClientForm, Client), (NewClientForm, Client), (OfferClientForm, Client),
            (ContactForm, ClientUser), (OfferContactForm, Offer), (DocumentForm, Document),
            (RequestForm, DocumentRequest), (DecisionForm, Signer),
            (EngagementForm, Engagement), (SeriesMappingForm, Series),
            (TemplateForm, QuestionnaireTemplate), (SectionForm, QuestionnaireTemplate),
            (DomainForm, CustomDomain), (SettingsForm, Practice)]


@pytest.mark.parametrize(("form", "model"), _pairs(),
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_no_limit_lets_more_through_than_its_column_holds(form, model):
    columns = {c.key: c.type.length for c in model.__table__.columns
               if isinstance(c.type, String) and c.type.length}
    too_long = {name: (_max_length(unbound), columns[name])
                for name, unbound in _text_fields(form).items()
                if name in columns and _max_length(unbound) > columns[name]}
    assert too_long == {}
