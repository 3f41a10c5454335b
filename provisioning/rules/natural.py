"""Rules as people type them: ``department = Engineering``, ``email contains "x"``, ``title is not Intern``.

The rule language is a SCIM filter (``department eq "Engineering"``); people who have not read RFC
7644 write ``=``, words for operators and values without quotes.  :func:`translate` rewrites such a
rule into the rule language, or returns None when it cannot read it either, so the caller can show the
parser's own error (with its position) together with the form it expects.
"""

from __future__ import annotations

import json
import re

# Longest first: "is not empty" before "is not" before "is".
_OPERATORS: tuple[tuple[tuple[str, ...], str], ...] = (
    *(
        ((*is_, *words), op)
        for is_ in (("is",), ())
        for words, op in (
            (("more", "than"), "gt"),
            (("greater", "than"), "gt"),
            (("less", "than"), "lt"),
            (("fewer", "than"), "lt"),
            (("at", "least"), "ge"),
            (("at", "most"), "le"),
        )
    ),
    (("is", "not", "empty"), "present"),
    (("is", "not", "blank"), "present"),
    (("is", "empty"), "empty"),
    (("is", "blank"), "empty"),
    (("is", "not"), "ne"),
    (("starts", "with"), "sw"),
    (("begins", "with"), "sw"),
    (("ends", "with"), "ew"),
    (("does", "not", "contain"), "not co"),
    (("contains",), "co"),
    (("equals",), "eq"),
    (("is",), "eq"),
    (("before",), "lt"),
    (("after",), "gt"),
    (("==",), "eq"),
    (("=",), "eq"),
    (("!=",), "ne"),
    (("<>",), "ne"),
    ((">=",), "ge"),
    (("<=",), "le"),
    ((">",), "gt"),
    (("<",), "lt"),
    *(((op,), op) for op in ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")),
    (("pr",), "present"),
)
# Names people use for the attributes whose rule-language name differs.
ALIASES = {
    "email": "emails",
    "e-mail": "emails",
    "mail": "emails",
    "emailaddress": "emails",
    "username": "userName",
    "login": "userName",
    "firstname": "name.givenName",
    "givenname": "name.givenName",
    "lastname": "name.familyName",
    "surname": "name.familyName",
    "familyname": "name.familyName",
    "jobtitle": "title",
    "name": "displayName",
}
_SYMBOLS = frozenset({"=", "==", "!=", "<>", "<", ">", "<=", ">=", "(", ")"})
_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|==|!=|<>|<=|>=|[=<>()]|[^\s"=<>!()]+|.')
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_$-]*(?:\.[A-Za-z][A-Za-z0-9_$-]*)?")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text) if not t.isspace()]


class _Unreadable(Exception):
    pass


class _Reader:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self, offset: int = 0) -> str | None:
        i = self.at + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _Unreadable
        self.at += 1
        return token

    def expression(self) -> str:
        parts = [self.term()]
        while (token := self.peek()) is not None and token.lower() in ("and", "or", "&&", "||"):
            self.take()
            parts.append({"&&": "and", "||": "or"}.get(token, token.lower()))
            parts.append(self.term())
        return " ".join(parts)

    def term(self) -> str:
        token = self.take()
        if token.lower() == "not":
            return f"not ({self._bracketed() if self.peek() == '(' else self.term()})"
        if token == "(":
            self.at -= 1
            return f"({self._bracketed()})"
        return self.comparison(token)

    def _bracketed(self) -> str:
        if self.take() != "(":
            raise _Unreadable
        inner = self.expression()
        if self.take() != ")":
            raise _Unreadable
        return inner

    def comparison(self, name: str) -> str:
        if not _NAME.fullmatch(name):
            raise _Unreadable
        path = ALIASES.get(name.lower().replace("_", "").replace(" ", ""), name)
        # A two-word name ("first name", "start date") glued into one: firstName, startDate.
        op = self._operator()
        if op is None and (nxt := self.peek()) is not None and _NAME.fullmatch(nxt):
            self.take()
            glued = name + nxt[:1].upper() + nxt[1:]
            path = ALIASES.get(glued.lower(), glued)
            op = self._operator()
        if op is None:
            raise _Unreadable
        if op == "present":
            return f"{path} pr"
        if op == "empty":
            return f"not ({path} pr)"
        value = self._value()
        if op == "not co":
            return f"not ({path} co {value})"
        return f"{path} {op} {value}"

    def _operator(self) -> str | None:
        for words, op in _OPERATORS:
            if all((self.peek(i) or "").lower() == w for i, w in enumerate(words)):
                self.at += len(words)
                return op
        return None

    def _value(self) -> str:
        first = self.take()
        if first.startswith('"'):
            return first
        if first.lower() in ("true", "false", "null") or _NUMBER.fullmatch(first):
            return first.lower() if not _NUMBER.fullmatch(first) else first
        if first.startswith("'") and first.endswith("'") and len(first) > 1:
            return json.dumps(first[1:-1], ensure_ascii=False)
        words = [first]
        while (token := self.peek()) is not None and token.lower() not in ("and", "or", ")", "&&", "||"):
            words.append(self.take())
        if any(w in _SYMBOLS for w in words):  # "department = = x": not a value anyone meant
            raise _Unreadable
        text = " ".join(words)
        if len(text) > 1 and text[0] == text[-1] == "'":
            text = text[1:-1]
        return json.dumps(text, ensure_ascii=False)


def translate(text: str) -> str | None:
    """The rule language for a rule typed in words or with ``=``, or None if it reads as neither."""
    if not isinstance(text, str) or "[" in text:
        return None
    reader = _Reader(_tokens(text))
    try:
        rewritten = reader.expression()
    except _Unreadable:
        return None
    if reader.peek() is not None:
        return None
    return rewritten if rewritten != text.strip() else None


EXAMPLE = 'department eq "Engineering" and emails co "@example.edu"'
