"""Untrusted text made inert in GitHub Markdown: the one escaping, at one strength, for every
Markdown we write (the PR comment, check-run summaries, job summaries, coverage and gap results,
release notes, build comments, model cards).

Whatever the text holds, what comes out is plain text on GitHub: no HTML, no @mention pings, no
#123 / GH-123 backlinks, no autolinked URL, no `<!--` that could pass for one of our markers, no
control or bidi-override character (CVE-2021-42574), and nothing that escapes a code span, a
table cell or a fenced block. `Md` marks a string as safe to print; the comment template refuses
anything else.
"""

from __future__ import annotations

import html
import re

ZWSP = "\u200b"
# C0/C1 controls but tab and newline, and the bidi overrides of "Trojan Source" (CVE-2021-42574).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Both a mention (@user, @org/team, owner/repo@sha) and a GFM e-mail autolink (a@b.co, a@.b.co,
# mailto:, xmpp:) need the character after the @ to be one of these.
_MENTION = re.compile(r"@(?=[\w.+-])")
_BACKLINK = re.compile(r"#(?=\d)")  # #1, and owner/repo#1
_GH_REF = re.compile(r"(?i)(gh-)(?=\d)")  # GitHub links GH-123 like #123, after any character
# GFM autolinks http://, https:// and ftp:// (and www.) after any punctuation, `_` included, and
# a URL to an issue or PR creates a cross-reference there: every :// and www. is broken.
_URL = re.compile(r"(?i)(:/)(/)|(www)(\.)")
_BACKTICKS = re.compile(r"`+")
# Everything that opens an inline construct: emphasis, strikethrough (~, and ~~~ fences), links
# and images ([ ] !), code spans, table cells, GitHub's math ($), and the backslash itself.
_SPECIAL = re.compile(r"([\\`*_\[\]|!~$])")
# What makes a line a block when it starts it (inline text is one line, spaces single): an ATX
# heading (# x), a list item (- x, + x, 1. x, 1) x), a setext underline or thematic break (===,
# ---, - - -); > and < are entities already, and * _ ` ~ (fences too) are escaped everywhere.
_BLOCK_START = re.compile(r"#{1,6}(?= |$)|[-+=](?=[ =-]|$)")
_ORDERED = re.compile(r"\d{1,9}(?=[.)](?: |$))")


class Md(str):
    """Markdown that is safe to post: our own words, or untrusted text after escaping."""


def clean(value: object) -> str:
    """Text (anything else is ""), one kind of line break, no control or bidi characters."""
    text = value if isinstance(value, str) else ""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def inline(value: object, limit: int = 500) -> Md:
    """Untrusted text for the middle of a Markdown line (a table cell, a list item)."""
    text = " ".join(clean(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return Md(_line_start(_defang(_escape(text))))


def code(value: object, limit: int = 200) -> Md:
    """Untrusted text shown as inline code; backticks and line breaks cannot escape it."""
    # `|` would end a table cell even inside a code span (GitHub's table parser runs first).
    text = " ".join(clean(value).split())[:limit].replace("`", "'").replace("|", "\\|")
    return Md(_defang(f"`{_inert(text)}`" if text else "``"))


def prose(value: object, limit: int = 500) -> Md:
    """Our messages mark names with backticks; keep those as code spans, everything escaped.

    Safe whatever the text holds: every piece goes through `inline` or `code`, so a backtick
    inside an untrusted value can only change which of the two a piece gets.
    """
    parts = " ".join(clean(value).split())[:limit].split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick: no code spans at all
        return inline(value, limit)
    # An empty span would print `` beside its neighbour's closing backtick: a run of three that
    # closes nothing, leaving the span before it open and its text read as Markdown.
    pieces = (
        (code(part) if part.strip() else "") if i % 2 else _defang(_escape(part))
        for i, part in enumerate(parts)
    )
    return Md(_line_start("".join(pieces)))


def html_text(value: object, limit: int = 200) -> Md:
    """Untrusted text inside our own HTML block (`<details><summary>` at a line start, where
    GFM parses no Markdown until a blank line): entities, one line, nothing linked."""
    flat = " ".join(clean(value).split())
    flat = flat[: limit - 1] + "…" if len(flat) > limit else flat
    return Md(_defang(_inert(html.escape(flat, quote=True))))


def block(value: object, limit: int = 2000) -> Md:
    """Untrusted multi-line text as a fenced code block that nothing inside can close."""
    body = clean(value).rstrip("\n")
    if len(body) > limit:
        body = body[: limit - 1] + "…"
    if not body.strip():
        return Md("_(empty)_")
    # GitHub links nothing in code, but other views of the comment (e-mail) may: inert anyway.
    body = _defang(_inert(body))
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return Md(f"{fence}text\n{body}\n{fence}")


def plural(n: int, word: str, words: str = "") -> str:
    """`1 error`, `3 errors`: the count and its noun; `words` where an added s is wrong."""
    return f"{n} {word}" if n == 1 else f"{n} {words or word + 's'}"


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Mentions first: the character after an @ decides, before a backslash goes in front of it.
    return _SPECIAL.sub(r"\\\1", _inert(text))


def _line_start(text: str) -> str:
    """Text that may start a line (`- {x}`, a line of its own) starts no heading, list or rule."""
    if ordered := _ORDERED.match(text):
        return f"{ordered[0]}\\{text[ordered.end() :]}"
    return "\\" + text if _BLOCK_START.match(text) else text


def _inert(text: str) -> str:
    """No @mention pings and no #123 backlinks, even where GitHub might still link them."""
    return _BACKLINK.sub("#" + ZWSP, _MENTION.sub("@" + ZWSP, text))


def _defang(text: str) -> str:
    """GH-1 references, URLs, and `<!--` (a copy of our marker)."""
    text = _GH_REF.sub(r"\1" + ZWSP, text)
    text = _URL.sub(lambda m: ZWSP.join(m.group(1, 2) if m[1] else m.group(3, 4)), text)
    return text.replace("<!--", "<" + ZWSP + "!--")
