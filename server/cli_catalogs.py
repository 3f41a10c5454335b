"""``provisioning catalogs update|check``: keep the translation catalogs in step with the code.

Run from a checkout (``babel.cfg`` is at its root).  ``update`` extracts the marked strings and
merges them into every ``provisioning/translations/<lang>/LC_MESSAGES/messages.po`` (sorted, without
source locations, so merges stay simple); translate the new empty entries, then ``check``
(also a test: tests/unit/test_catalogs.py).  ``update --add LANG`` starts a new language's catalog.
"""

from __future__ import annotations

import click

from provisioning import catalogs
from provisioning.i18n import catalog_languages


def register(cli: click.Group) -> None:
    """Add the ``catalogs`` command group to the ``provisioning`` CLI."""

    @cli.group("catalogs")
    def catalogs_group() -> None:
        """Translation catalogs: extract the strings, check the translations."""

    @catalogs_group.command("update")
    @click.option("--add", "added", multiple=True, help="Start a catalog for this language (e.g. fr).")
    def catalogs_update(added: tuple[str, ...]) -> None:
        """Extract the strings and merge them into every catalog."""
        languages = tuple(sorted({*catalog_languages(), *added}))
        for language, left in catalogs.update(languages=languages).items():
            click.echo(f"{language}: {left} string(s) to translate")

    @catalogs_group.command("check")
    def catalogs_check() -> None:
        """Fail when a catalog lacks a string of the code or a translation."""
        found = catalogs.problems()
        for language, issues in found.items():
            for issue in issues:
                click.echo(f"{language}: {issue}")
        if any(found.values()):
            raise click.ClickException("The catalogs are not complete: run `provisioning catalogs update`, translate.")
        click.echo("Every catalog is complete.")
