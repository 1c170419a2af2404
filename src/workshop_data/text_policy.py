"""What text may enter, wherever it comes from (JSON bodies, path and query parameters,
headers used as values, command-line options), and how text is shown back in an error.

No backend can store a NUL character (PostgreSQL's text and jsonb refuse it) or a lone UTF-16
surrogate (it is not Unicode text; nothing can encode it as UTF-8), so both are refused
everywhere, before anything reaches the database. Names that are printed in lists (usernames,
display names, e-mail addresses) also refuse control characters, which could forge rows or
lines in a terminal or a log."""

import unicodedata

from workshop_data.errors import InvalidInput, shown

# Bidirectional embeddings, overrides and isolates reorder what a terminal or a table shows.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired UTF-16 surrogate, which is not valid Unicode text"
    return None


def check_storable(text: str, where: str, *, code: str = "invalid_data") -> str:
    """`text` when it can be stored; otherwise InvalidInput naming `where`."""
    reason = unstorable_reason(text)
    if reason is not None:
        raise InvalidInput(f"{where}: {reason}.", code=code, path=where)
    return text


def check_name(text: str, where: str, *, code: str) -> str:
    """A username, display name or e-mail address: storable and without control characters
    (line breaks, tabs, escapes, bidirectional overrides)."""
    check_storable(text, where, code=code)
    for char in text:
        if unicodedata.category(char) in _LINE_BREAKING_CATEGORIES or char in _BIDI_CONTROLS:
            raise InvalidInput(
                f"{where} must not contain control characters (found {shown(char)}).",
                code=code,
                path=where,
            )
    return text
