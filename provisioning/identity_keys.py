"""The one comparison key of a userName or an email address, and the characters they may not hold.

Two names that a person can't tell apart must be one user.  RFC 7643 §4.1.1 makes userName
unique and caseExact=false, but "ignoring case" is not enough with Unicode: ``dü`` can be sent
composed (NFC) or decomposed (NFD), ``ｄｕｐ`` in full-width letters looks like ``dup``, and a
zero-width space is invisible.  The key follows RFC 8264 (PRECIS framework) and its
UsernameCaseMapped profile (RFC 8265 §3.3): width mapping (§3.3.1 step 1, which NFKC does),
case mapping (step 3), normalisation (step 4) — here NFKC and Unicode case folding, as the
IdentifierClass's width mapping and Unicode's NFKC_Casefold do, with NFKC applied again after
folding because folding can undo normalisation.

Invisible characters are *refused*, not stripped: PRECIS disallows controls (RFC 8264 §9.11,
Cc) and default-ignorable code points (§9.13, e.g. U+200B, U+2060, U+FEFF); U+200C/U+200D are
allowed only in scripts that need them (CONTEXTJ, §9.8), which email local parts and our
usernames don't.  Stripping them silently would let two requests that differ only by one
create or find the same person without anyone noticing; a clear 400 names the character.

Every channel that creates, renames or looks up users (admin API, SCIM, Bulk, imports and their
preview, LTI launches and roster syncs) compares :func:`identity_key` values, and the database's
unique indexes are on the stored keys (``users.username_key``, ``users.email_key``).
"""

from __future__ import annotations

import unicodedata

from provisioning.i18n import N_, Message

# Unicode general categories refused in a userName or email: controls (Cc), format characters
# (Cf: U+200B-U+200F, U+2060, U+FEFF, U+00AD, bidi controls ...), surrogates (Cs), private use
# (Co), and line/paragraph separators (Zl, Zp).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
# A key is stored beside its value, in a column as long (users.username/email: 320).  NFKC can
# lengthen text (U+FDFA becomes 18 characters), so a name whose key is longer is refused.
MAX_KEY_LENGTH = 320


def identity_key(value: str) -> str:
    """The key two userNames (or two emails) are compared on: trimmed, NFKC, case-folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value.strip()).casefold())


def refused_characters(value: str) -> list[str]:
    """The characters of ``value`` a userName or email may not hold, as ``U+200B (ZERO WIDTH SPACE)``."""
    found: dict[str, None] = {}
    for char in value:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            found[f"U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')})"] = None
    return list(found)


def refusal(value: str, *, mid_sentence: bool = False) -> str | None:
    """Why ``value`` can't be a userName or email (it holds invisible or control characters), or None.

    ``mid_sentence``: the words continue a sentence ("The email must not contain ..."), so they start in
    lower case (each form is its own template, so that it can be translated)."""
    refused = refused_characters(value)
    if not refused:
        if len(identity_key(value)) > MAX_KEY_LENGTH:
            template = (
                N_("must be at most %(most)s characters once normalised (NFKC).")
                if mid_sentence
                else N_("Must be at most %(most)s characters once normalised (NFKC).")
            )
            return Message(template, most=MAX_KEY_LENGTH)
        return None
    template = (
        N_(
            "must not contain invisible or control characters; found %(found)s "
            "(RFC 8264 §9.11 and §9.13 disallow them in identifiers)."
        )
        if mid_sentence
        else N_(
            "Must not contain invisible or control characters; found %(found)s "
            "(RFC 8264 §9.11 and §9.13 disallow them in identifiers)."
        )
    )
    return Message(template, found=", ".join(refused[:5]))
