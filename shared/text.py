"""Rules for text that people type, shared by the services' parse functions. Pure: no I/O.

A single-line field (a title, a name, an address) ends up in mail headers, PDF headings and
table cells, where a line or paragraph separator or a control character breaks the output or
smuggles in a header. A multi-line field (a comment) may hold line breaks and tabs, nothing else
of that kind. Lone surrogates and NUL cannot be stored by PostgreSQL or encoded as UTF-8.
"""

from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides and isolates: they make a title or a name read differently from
# what it is (a classic trick in mail subjects and file names).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_MULTI_LINE_BREAKS = frozenset("\t\n\r\x85\u2028\u2029")

# RFC 5321: 64 characters for the local part, 254 for a whole address that fits a path.
MAX_ADDRESS = 254
MAX_LOCAL_PART = 64
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                     r"(?:[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,59})")


def _refused(char: str) -> bool:
    return char in _BIDI_CONTROLS or unicodedata.category(char) in _REFUSED_CATEGORIES


def single_line_ok(text: str) -> bool:
    """No control characters, line or paragraph separators, surrogates or bidi overrides."""
    return not any(_refused(c) for c in text)


def multi_line_ok(text: str) -> bool:
    """Like ``single_line_ok``, but line breaks and tabs are allowed."""
    return not any(_refused(c) for c in text if c not in _MULTI_LINE_BREAKS)


def address_problem(address: str) -> str | None:
    """Why an email address cannot be mailed, or None.

    Returns ``"too_long"`` past the RFC 5321 limits, ``"invalid"`` for anything that is not a
    plain ASCII ``local@domain.tld``: an SMTP server without SMTPUTF8 refuses the others, and
    one refused address fails the whole batch of invitations.
    """
    local, at, domain = address.rpartition("@")
    if len(address) > MAX_ADDRESS or len(local) > MAX_LOCAL_PART:
        return "too_long"
    if not at or not _LOCAL_PART.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        return "invalid"
    return None
