"""One rendering of an email for many recipients (mail/templates.Stencil) gives each of them exactly
the email a full render would: names with HTML's special characters, links with '&', every language,
and a template that transforms a personal field."""

from __future__ import annotations

import pytest

from provisioning.mail.templates import Stencil, render

NAMES = ["Ada", '<b>O\'Neil & "Sons"</b>', "Zoë 李", "{name}", "\ue000name\ue001", "\ue000join_url\ue001", ""]


@pytest.mark.parametrize("language", [None, "en", "de-AT", "es", "fr"])
def test_an_invitation_stencil_fills_in_what_a_full_render_gives(language):
    shared = {"tenant_name": "Acme <School> & Co", "link_days": 7}
    stencil = Stencil("invitation", shared, ("name", "join_url"), language)
    for i, name in enumerate(NAMES):
        values = {"name": name, "join_url": f"https://example.edu/join/t{i}?a=1&b=<2>"}
        assert stencil.fill(values) == render("invitation", {**shared, **values}, language=language)


def test_a_template_that_transforms_the_field_is_rendered_in_full_for_everyone():
    # message.html splits the body into paragraphs: the stencil can't stand in for it.
    shared = {"tenant_name": "Acme", "name": "Ada", "subject": "Hello"}
    stencil = Stencil("message", shared, ("body",), None)
    for body in ["one\n\ntwo", "three", "four\nfive\n\nsix"]:
        assert stencil.fill({"body": body}) == render("message", {**shared, "body": body})
