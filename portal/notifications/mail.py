"""Rendering a mail: HTML and plain text parts in the recipient's language, branded with
the practice's name, colours and logo, with absolute links to the practice's own host."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2_fragments.flask import render_block
from markupsafe import escape


class Branded(Protocol):
    """What a mail needs of a practice (tenancy's Practice has it)."""

    id: int
    slug: str
    name: str
    locale: str
    logo_hash: str | None
    mail_sender_name: str | None
    reply_to: str | None

    def brand_colors(self) -> tuple[str, str]: ...


@dataclass(frozen=True)
class Mail:
    """A mail to enqueue: who gets it, which template, in which language, with what."""

    to: str
    kind: str
    context: dict[str, Any] = field(default_factory=dict)
    to_name: str | None = None
    locale: str | None = None
    dedupe_key: str | None = None
    # False for a client whose tier has no house style: the portal's own look, no logo
    # (the practice's name stays, so the recipient knows who writes).
    house_style: bool = True
    # Where the recipient's answer goes: a person (the engagement's responsible) when there is
    # one, else the practice's reply address (its settings).
    reply_to: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def base_url(practice: Branded) -> str:
    """The practice's own address, from its row and the configuration, never from a request."""
    config = current_app.config
    scheme = "https" if config["HTTPS"] else "http"
    port = config.get("PUBLIC_PORT")
    host = f"{practice.slug}.{config['BASE_DOMAIN']}"
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def practice_url(practice: Branded, endpoint: str, **values: Any) -> str:
    """An absolute URL of one of our routes on the practice's host."""
    root = base_url(practice)
    scheme, host = root.split("://", 1)
    adapter = current_app.url_map.bind(host, url_scheme=scheme)
    return adapter.build(endpoint, values, force_external=True)


PLAIN_COLORS = ("#1d4f7a", "#ffffff")  # the portal's own, as the default theme has them


def render_mail(practice: Branded, mail: Mail) -> Rendered:
    brand, on_brand = practice.brand_colors() if mail.house_style else PLAIN_COLORS
    context = {
        "practice_name": practice.name,
        "brand": brand,
        "on_brand": on_brand,
        "logo_url": practice_url(practice, "tenancy.logo", v=practice.logo_hash[:16])
        if practice.logo_hash and mail.house_style else None,
        "home_url": base_url(practice) + "/",
        "recipient_name": mail.to_name,
        **mail.context,
    }
    with force_locale(mail.locale or practice.locale):
        subject = render_block(f"mail/{mail.kind}.txt", "subject", **context)
        text = render_template(f"mail/{mail.kind}.txt", **context)
        html = render_template(f"mail/{mail.kind}.html", **context)
    names = [v for v in context.values() if isinstance(v, str) and v.endswith(".")]
    return Rendered(" ".join(_one_full_stop(subject, names).split()),
                    _one_full_stop(text, names).strip() + "\n",
                    _one_full_stop(html, [str(escape(n)) for n in names]))


def _one_full_stop(rendered: str, names: list[str]) -> str:
    """A sentence that ends in a name ending in a full stop ("... van Bakkerij B.V.") ends
    with that one: the templates' own full stop after such a name is dropped."""
    for name in names:
        rendered = rendered.replace(name + ".", name)
    return rendered
