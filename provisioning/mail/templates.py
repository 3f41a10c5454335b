"""Email templates: every message has a plain-text and an HTML part.

Bodies are Jinja2 files in ``templates/`` (``<name>.txt`` and ``<name>.html``; the HTML
is autoescaped).  Subjects are short format strings kept here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = Path(__file__).with_name("templates")

SUBJECTS = {
    "invitation": "You are invited to join {tenant_name}",
    "group_invitation": "{inviter} invited you to the group {group_name}",
    "password_reset": "Reset your {tenant_name} password",
    "message": "{subject}",
}
# Subjects of the translated templates (``<name>.<language>.txt`` and ``.html``), by language.
TRANSLATED_SUBJECTS = {
    "de": {"invitation": "Sie sind eingeladen, {tenant_name} beizutreten"},
    "es": {"invitation": "Le invitamos a unirse a {tenant_name}"},
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def one_line(value: str) -> str:
    """A header value on one line (a CR or LF in a Subject would start a new header)."""
    return " ".join(str(value).split())


def template_language(template: str, language: str | None) -> str | None:
    """The language of ``template``'s translation for a language tag ("de-AT" -> "de"), None: English."""
    primary = (language or "").split("-")[0].split("_")[0].lower()
    return primary if template in TRANSLATED_SUBJECTS.get(primary, {}) else None


def render(template: str, context: dict[str, Any], *, language: str | None = None) -> Rendered:
    """Render ``template`` ("invitation", "password_reset" or "message") with ``context``, in
    ``language`` (a BCP 47 tag) where the template has that translation, else in English."""
    env = _env()
    lang = template_language(template, language)
    name = f"{template}.{lang}" if lang else template
    subjects = TRANSLATED_SUBJECTS[lang] if lang else SUBJECTS
    subject = one_line(subjects[template].format_map(context))[:400]
    context = {"lang": lang or "en", **context}
    return Rendered(
        subject=subject,
        text=env.get_template(f"{name}.txt").render(**context),
        html=env.get_template(f"{name}.html").render(**context),
    )


def greeting_name(user: Any) -> str:
    """How an email addresses a user: first name, display name, or username."""
    return (
        getattr(user, "given_name", None)
        or getattr(user, "display_name", None)
        or getattr(user, "username", None)
        or ""
    )
