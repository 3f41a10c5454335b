"""Email templates: every message has a plain-text and an HTML part, in the recipient's language.

Bodies are Jinja2 files in ``templates/`` (``<name>.txt`` and ``<name>.html``; the HTML is
autoescaped) whose words go through ``_()``, like the pages'; subjects are kept here, marked with
``N_``.  A message is rendered in the recipient's language (their own ``language``, else the
tenant's default, else English: :func:`recipient_language`) from the catalogs of
provisioning/i18n.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from provisioning.i18n import N_, best_language, translate, translations

TEMPLATE_DIR = Path(__file__).with_name("templates")

SUBJECTS = {
    "invitation": N_("You are invited to join %(tenant_name)s"),
    "password_reset": N_("Reset your %(tenant_name)s password"),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _env(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def one_line(value: str) -> str:
    """A header value on one line (a CR or LF in a Subject would start a new header)."""
    return " ".join(str(value).split())


def recipient_language(language: str | None, tenant_default: str | None = None) -> str:
    """The language an email to a person is written in: their own language tag ("de-AT" -> "de"),
    else the tenant's default language, else English, each only if the service speaks it."""
    return best_language(language, tenant_default)


def render(template: str, context: dict[str, Any], *, language: str | None = None) -> Rendered:
    """Render ``template`` ("invitation", "password_reset" or "message") with ``context``, in
    ``language`` (a BCP 47 tag; English where the service does not speak it)."""
    lang = best_language(language)
    env = _env(lang)
    subject = context["subject"] if template == "message" else translate(lang, SUBJECTS[template], **context)
    context = {"lang": lang, **context}
    return Rendered(
        subject=one_line(subject)[:400],
        text=env.get_template(f"{template}.txt").render(**context),
        html=env.get_template(f"{template}.html").render(**context),
    )


def greeting_name(user: Any) -> str:
    """How an email addresses a user: first name, display name, or username."""
    return (
        getattr(user, "given_name", None)
        or getattr(user, "display_name", None)
        or getattr(user, "username", None)
        or ""
    )
