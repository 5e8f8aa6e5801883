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
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    text = _MENTION.sub("@" + _ZWSP, text)
    return _BACKLINK.sub("#" + _ZWSP, text)


def code(text: str, limit: int = 200) -> str:
    """Untrusted text shown as inline code; backticks and line breaks cannot escape it."""
    # `|` would end a table cell even inside a code span (GitHub's table parser runs first).
    text = " ".join(text.split())[:limit].replace("`", "'").replace("|", "\\|")
    return f"`{text}`" if text else "``"
