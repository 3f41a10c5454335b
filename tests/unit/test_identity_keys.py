"""The identity key of a userName or email (RFC 8264 / RFC 8265 §3.3 UsernameCaseMapped, with NFKC)."""

from __future__ import annotations

import pytest

from provisioning.identity_keys import identity_key, refusal

NFC, NFD = "d\u00fc@example.edu", "du\u0308@example.edu"


@pytest.mark.parametrize(
    "variant",
    [
        NFC,
        NFD,
        "DU\u0308@EXAMPLE.EDU",  # upper case, decomposed
        "D\u00dc@Example.edu",
        "\uff44\u00fc\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.edu",  # full-width letters and @
        "  d\u00fc@example.edu ",
    ],
)
def test_variants_a_person_cannot_tell_apart_have_one_key(variant):
    assert identity_key(variant) == identity_key(NFC) == "d\u00fc@example.edu"


def test_case_folding_is_full_folding_not_lower():
    assert identity_key("STRASSE") == identity_key("stra\u00dfe") == "strasse"
    assert identity_key("\u212a") == identity_key("k")  # KELVIN SIGN


def test_different_names_keep_different_keys():
    assert identity_key("dup@example.edu") != identity_key("dop@example.edu")
    assert identity_key("d\u00fc") != identity_key("du")


@pytest.mark.parametrize(
    "char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\x00", "\t", "\u2028"]
)
def test_invisible_and_control_characters_are_refused_naming_the_code_point(char):
    problem = refusal(f"du{char}p@example.edu")
    assert problem is not None and f"U+{ord(char):04X}" in problem


def test_plain_names_are_not_refused_and_a_key_too_long_once_normalised_is():
    assert refusal("ada.lovelace@example.edu") is None and refusal("J\u00fcrgen M\u00fcller") is None
    assert refusal("\ufdfa" * 40) is not None  # NFKC makes each one 18 characters
