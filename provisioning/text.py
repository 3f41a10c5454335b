"""The one rule for text that enters the service: it must be Unicode that PostgreSQL can store.

PostgreSQL refuses U+0000 in ``text`` and ``jsonb`` ("invalid byte sequence", "unsupported Unicode
escape sequence"); a lone UTF-16 surrogate (U+D800-U+DFFF, which ``json`` decodes from ``"\\ud800"``
and Python keeps in a ``str``) can't even be encoded as UTF-8. Either used to end as a 500 deep in
a query. Every edge runs its input through :func:`check_text` / :func:`check_tree` before a service
sees it, and a file import turns such a cell into an error row (:func:`text_problem`), so the answer
is a 4xx naming where the text was, never a 5xx.

Only these two are refused: every other character (controls, U+FFFE, emoji, RTL marks) is valid
text that the database stores as sent; the XLSX writer (provisioning/exports.py) copes with the ones XML 1.0 can't carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from provisioning.errors import InvalidText
from provisioning.i18n import N_, Message


def first_bad_character(value: str) -> tuple[int, str] | None:
    """Position and character of the first NUL or lone surrogate in ``value`` (None when it has none)."""
    for position, char in enumerate(value):
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            return position, char
    return None


def describe(char: str) -> str:
    if char == "\x00":
        return N_("a NUL character (U+0000)")
    return Message(N_("a lone UTF-16 surrogate (U+%(code)s, not a character)"), code=f"{ord(char):04X}")


def shown(value: str, limit: int = 80) -> str:
    """``value`` safe to put in a message or a log line: NUL and surrogates written as ``\\uXXXX``, cut at ``limit``."""
    cut = value[:limit]
    if text_problem(cut) is None:
        return cut
    return "".join(f"\\u{ord(c):04x}" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in cut)


def text_problem(value: str) -> str | None:
    """Why ``value`` can't be stored, in words for the person who sent it; None when it can."""
    if value.isprintable() or value.isascii() and "\x00" not in value:
        return None  # the common case, checked in C
    found = first_bad_character(value)
    if found is None:
        return None
    position, char = found
    return Message(N_("contains %(what)s at position %(position)s"), what=describe(char), position=position + 1)


def check_text(value: str, where: str, *, field: str | None = None) -> None:
    """Raise :class:`InvalidText` naming ``where`` when ``value`` holds a NUL or a lone surrogate."""
    problem = text_problem(value)
    if problem is not None:
        raise InvalidText(where, problem, field=field)


def check_tree(value: Any, where: str) -> None:
    """Check every string of decoded JSON, object keys included; ``where`` names the document ("the JSON body")."""
    for path, text in _strings(value, ""):
        problem = text_problem(text)
        if problem is not None:
            path = path if len(path) <= 200 else path[:100] + "..." + path[-100:]
            at = f"{where} at {path}" if path else where
            raise InvalidText(at, problem, field=path or None)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in decoded JSON with its path, keys included; iterative, so any nesting is walked."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        at, item = stack.pop()
        if isinstance(item, str):
            yield at, item
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                key_text = shown(str(key))
                child_path = f"{at}.{key_text}" if at else key_text
                stack.append((child_path, child))
                if isinstance(key, str) and text_problem(key):
                    stack.append((f"{child_path} (a key)", key))
        elif isinstance(item, list):
            stack.extend((f"{at}[{index}]", child) for index, child in reversed(list(enumerate(item))))
