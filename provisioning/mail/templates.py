"""Email templates: every message has a plain-text and an HTML part, in the recipient's language.

Bodies are Jinja2 files in ``templates/`` (``<name>.txt`` and ``<name>.html``; the HTML is
autoescaped) whose words go through ``_()``, like the pages'; subjects are kept here, marked with
``N_``.  A message is rendered in the recipient's language (their own ``language``, else the
tenant's default, else English: :func:`recipient_language`) from the catalogs of
provisioning/i18n.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from provisioning.i18n import N_, best_language, translate, translations

TEMPLATE_DIR = Path(__file__).with_name("templates")

SUBJECTS = {
    "invitation": N_("You are invited to join %(tenant_name)s"),
    "group_invitation": N_("%(inviter)s invited you to the group %(group_name)s"),
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
        # The templates ship with the package: no stat() of each file on every render (a bulk add
        # renders two per invitation, 200,000 for 100,000 people).
        auto_reload=False,
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
    # A message or an automatic notification has the subject its sender wrote.
    subject = translate(lang, SUBJECTS[template], **context) if template in SUBJECTS else context["subject"]
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


# Placeholders for the fields that differ between the recipients of one batch: characters of Unicode's
# private use area, which no template or tenant text holds and which HTML escaping leaves alone.
_MARK = "\ue000{}\ue001"
_MARKS = re.compile("\ue000[a-z_]+\ue001")


def has_marks(value: str) -> bool:
    """Whether a stencil's part still has a personal field to fill in."""
    return _MARKS.search(value) is not None


def fill_marks(stencil: Rendered, values: dict[str, Any]) -> Rendered:
    """A stencil's parts with each personal field's mark replaced by its value (escaped in the HTML
    part, as Jinja's autoescape would); a mark without a value stays as it is."""
    # One pass over each part, so a value that itself looks like a mark stays as it is.
    raw = {_MARK.format(key): str(value) for key, value in values.items()}
    escaped = {mark: str(escape(value)) for mark, value in raw.items()}
    subject = _MARKS.sub(lambda m: raw.get(m[0], m[0]), stencil.subject)
    return Rendered(
        subject=one_line(subject)[:400],
        text=_MARKS.sub(lambda m: raw.get(m[0], m[0]), stencil.text),
        html=_MARKS.sub(lambda m: escaped.get(m[0], m[0]), stencil.html),
    )


class Stencil:
    """``template`` rendered once for many recipients who differ only in a few plain-text fields.

    A bulk add invites 100,000 people with the same email but for their name and link: rendering the
    Jinja template once per language and filling each copy with ``str.replace`` (the HTML part gets the
    values escaped as Jinja's autoescape would) is two orders of magnitude cheaper than rendering it
    100,000 times.  The stencil is checked against real :func:`render` calls, with the personal fields
    empty and for the first recipient (or the sample given to :meth:`check`); where a template
    transforms a personal field (a filter, a condition), it is given up and every recipient is
    rendered in full.
    """

    def __init__(self, template: str, context: dict[str, Any], personal: tuple[str, ...], language: str | None):
        self.template, self.context, self.personal, self.language = template, context, personal, language
        marks = {key: _MARK.format(key) for key in personal}
        self._stencil: Rendered | None = render(template, {**context, **marks}, language=language)
        self._checked = False
        # A template that tests a personal field ({% if name %}) renders an empty one differently.
        blanks = dict.fromkeys(personal, "")
        if self._filled(self._stencil, blanks) != render(template, {**context, **blanks}, language=language):
            self._stencil = None

    def _filled(self, stencil: Rendered, values: dict[str, str]) -> Rendered:
        return fill_marks(stencil, {key: values[key] for key in self.personal})

    @property
    def parts(self) -> Rendered | None:
        """The rendering with a mark for each personal field; None when the template can't be stencilled."""
        return self._stencil

    def check(self, sample: dict[str, str]) -> bool:
        """Compare the stencil filled with ``sample`` to a full render; give it up if they differ."""
        self.fill(sample)
        return self._stencil is not None

    def fill(self, values: dict[str, str]) -> Rendered:
        """The email for one recipient, as :func:`render` would make it."""
        if self._stencil is None:
            return render(self.template, {**self.context, **values}, language=self.language)
        filled = self._filled(self._stencil, values)
        if not self._checked:
            self._checked = True
            real = render(self.template, {**self.context, **values}, language=self.language)
            if real != filled:
                self._stencil = None
                return real
        return filled
