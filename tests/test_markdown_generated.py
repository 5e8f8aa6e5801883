"""Generated untrusted text through every escaping of taxonbot.markdown, in lines shaped like the
ones we write, rendered by cmark-gfm: the input may change the words, never the structure.

Thousands of strings from a seeded generator over the characters GitHub Markdown reacts to. Each
rendering must hold exactly the tags the template holds with harmless text in it (no <a>, <img>,
raw HTML, heading, list, quote, table or rule from the input), and neither the Markdown nor the
HTML may hold what GitHub links on its own server (mentions, #1, GH-1, URLs): cmark-gfm does not
render those, so the test looks for their text.
"""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from collections.abc import Callable
from functools import cache

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from taxonbot.markdown import ZWSP, block, clean, code, html_text, inline, prose

# GitHub's extensions but tagfilter, which would turn a smuggled <script> into text and hide it
# from this test (GitHub's sanitizer runs after it anyway); raw HTML let through, as before it.
EXTENSIONS = ["table", "autolink", "strikethrough", "tasklist"]
OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG
PIECES = (
    *"_*~[]()<>!#@./:|\\\n\r`-+=&$^;'\" \t",
    *("\u200b", "\u202e", "\u00a0", "\u2028", "\x00", "a", "Z", "0", "1", "9", "  "),
    *("www.", "WWW.", "http://", "https://", "ftp://", "mailto:", "xmpp:", "javascript:"),
    *("gh-", "GH-", "org/team", "owner/repo", "evil.example", "img src=x", "script", "&#64;"),
    *("<!--", "-->", "```", "~~~", "1.", "1) ", "# ", "> ", "- ", "---", "===", "[^1]", ":+1:"),
)
SHARED = (
    "- {x}",
    "| Question | Answer |\n|---|---|\n| {x} | b |",
    "**Pair 1** · {x}",
    "Intro line\n{x}",
    "{x}\n\nafter",
    "## Community build {x}",
    "> [!NOTE]\n> Missing: {x} So there is nothing.",
)
LINK_TEXT = ("[{x}](../run)",)  # only inline is written there (announce.py); a code span's ] isn't
SUMMARY = ("<details><summary>Sample pairs: {x} (kept 1 of 2)</summary>\n\ntext\n\n</details>",)
FENCED = ("**Pair 1**\n\nQuestion:\n\n{x}\n\nAnswer:\n\n{x}\n", "- item\n\n{x}\n\nafter")
TEMPLATES: dict[Callable[[object], str], tuple[str, ...]] = {
    inline: SHARED + LINK_TEXT,
    prose: SHARED,
    code: SHARED,
    html_text: SUMMARY,
    block: FENCED,
}
TAG = re.compile(r"<(/?[A-Za-z][A-Za-z0-9-]*)")
LINKED = {
    "a mention or e-mail": re.compile(r"@[\w.+-]"),
    "a #1 reference": re.compile(r"#\d"),
    "a GH-1 reference": re.compile(r"(?i)gh-\d"),
    "a URL": re.compile(r"(?i)://|www\."),
}


def render(markdown: str) -> str:
    return cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=OPTIONS, extensions=EXTENSIONS
    )


def generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(PIECES, k=rng.randint(1, 16))) for _ in range(count)]


def tags(page: str, escape: Callable[[object], str]) -> Counter[str]:
    found = Counter(TAG.findall(page))
    if escape is prose:  # our messages' backticks are code spans: prose's one construct
        del found["code"], found["/code"]
    return found


@cache
def expected_tags(escape: Callable[[object], str], template: str, empty: bool) -> Counter[str]:
    return tags(render(template.format(x=escape("" if empty else "plain words"))), escape)


def assert_inert(escape: Callable[[object], str], template: str, value: str) -> None:
    escaped = escape(value)
    page = render(template.format(x=escaped))
    want = expected_tags(escape, template, escaped == escape(""))
    assert tags(page, escape) == want, (value, escaped, page)
    for what, pattern in LINKED.items():
        assert not pattern.search(escaped), (what, value, escaped)
        assert not pattern.search(html.unescape(page)), (what, value, page)


def test_thousands_of_generated_strings_change_no_structure_and_link_nothing() -> None:
    for value in generated(1500, seed=20):
        for escape, templates in TEMPLATES.items():
            for template in templates:
                assert_inert(escape, template, value)


def test_inline_text_shows_what_was_written_without_a_visible_backslash() -> None:
    for value in generated(500, seed=6):
        page = render(f"**Pair 1** · {inline(value)}")
        shown = html.unescape(re.sub(r"<[^>]*>", "", page)).replace(ZWSP, "")
        written = " ".join(clean(value).split()).replace(ZWSP, "")
        assert shown.strip() == f"Pair 1 · {written}".strip(), (value, page)


# ---- named regressions: what an attacker or a clumsy contributor wrote ---------------------

CASES = {
    "www after an underscore": "… on _www.evil-example.net/claim …",
    "www after punctuation": "see (www.evil.example) *www.evil.example* ~www.evil.example",
    "a heading": "# heading",
    "a heading at level six": "###### heading",
    "an ordered list with a parenthesis": "1) list",
    "an ordered list with a dot": "12. list",
    "a bullet list": "+ item",
    "a thematic break": "---",
    "a setext underline": "===",
    "a tilde fence": "~~~ closes nothing",
    "strikethrough": "~~struck~~ ~one~",
    "an image tag": "<img src=x onerror=alert(1)>",
    "a Markdown image": "![x](https://evil.example/pixel.png)",
    "a javascript link": "[x](javascript:alert(1))",
    "a link reference definition": "[x]: https://evil.example",
    "a footnote": "see[^1]",
    "a team mention": "@org/team",
    "a cross-repository reference": "owner/repo#1 and owner/repo@7436af21f18fe4f6",
    "a GH reference": "GH-12, x_gh-3",
    "an ftp URL": "ftp://evil.example/file",
    "an e-mail with a dot after the at": "a@.evil.example",
    "a mailto link": "mailto:a@evil.example xmpp:a@evil.example",
    "an entity for the at sign": "&#64;octocat",
    "math": "$\\color{red}{\\text{all checks passed}}$",
    "a table row": "| a | b |",
    "a block quote": "> quoted",
    "raw HTML in a summary": "</summary></details><a href=x>",
    "an empty code span beside another": "a `<img src=x>```",
}


@pytest.mark.parametrize("value", CASES.values(), ids=CASES.keys())
def test_a_known_attack_stays_text_in_every_line_we_write(value: str) -> None:
    for escape, templates in TEMPLATES.items():
        for template in templates:
            assert_inert(escape, template, value)


def test_a_seed_question_linking_www_after_an_underscore_is_plain_text() -> None:
    page = render(f"- {inline('… on _www.evil-example.net/claim …')}")
    assert page == f"<ul>\n<li>… on _www{ZWSP}.evil-example.net/claim …</li>\n</ul>\n"


def test_a_note_that_starts_like_a_block_is_shown_as_written() -> None:
    assert render(inline("# heading")) == "<p># heading</p>\n"
    assert render(f"- {prose('1) list')}") == "<ul>\n<li>1) list</li>\n</ul>\n"
    assert render(f"Intro\n{inline('===')}") == "<p>Intro\n===</p>\n"


def test_dollar_signs_open_no_math_on_github() -> None:
    assert inline("$x$ and $`y`$") == "\\$x\\$ and \\$\\`y\\`\\$"


def test_a_version_that_starts_with_digits_is_not_taken_for_a_list() -> None:
    assert inline("2026.11.21-1") == "2026.11.21-1"  # no space after the dot: escaped nothing
