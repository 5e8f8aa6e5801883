"""Make untrusted text inert in GitHub Markdown: no HTML, no mentions, no backlinks."""

from __future__ import annotations

import re

_ZWSP = "\u200b"
_MENTION = re.compile(r"@(?=[A-Za-z0-9_-])")
_BACKLINK = re.compile(r"#(?=\d)")
_SPECIAL = re.compile(r"([\\`*_\[\]|!])")


def inline(text: str, limit: int = 500) -> str:
    """Untrusted text for the middle of a Markdown line."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _escape(text)


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return _inert(text)


def _inert(text: str) -> str:
    """No @mention pings and no #123 backlinks, even where GitHub might still link them."""
    return _BACKLINK.sub("#" + _ZWSP, _MENTION.sub("@" + _ZWSP, text))


def prose(text: str, limit: int = 500) -> str:
    """Our messages mark names with backticks; keep those as code spans, everything escaped.

    Safe whatever the text holds: every piece goes through `inline` or `code`, so a backtick
    inside an untrusted value can only change which of the two a piece gets.
    """
    parts = " ".join(text.split())[:limit].split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick: no code spans at all
        return inline(text, limit)
    return "".join(code(part) if i % 2 else _escape(part) for i, part in enumerate(parts))


def code(text: str, limit: int = 200) -> str:
    """Untrusted text shown as inline code; backticks and line breaks cannot escape it."""
    # `|` would end a table cell even inside a code span (GitHub's table parser runs first).
    text = " ".join(text.split())[:limit].replace("`", "'").replace("|", "\\|")
    return f"`{_inert(text)}`" if text else "``"
