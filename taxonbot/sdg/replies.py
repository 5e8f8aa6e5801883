"""Reading small-model replies robustly. Nothing here raises on odd text: a reply that cannot
be understood comes back as None (or empty), and the caller records it as a rejection."""

from __future__ import annotations

import re

SCALES: dict[str, tuple[int, int]] = {
    "binary": (0, 1),
    "yes_no": (0, 1),
    "one_to_three": (1, 3),
    "zero_to_two": (0, 2),
}
_PREFIX = re.compile(r"^\s*(?:new\s+)?(?:question|q|text|answer|a)\s*(?:#?\d+)?\s*[:.)-]\s*", re.I)
_NUMBERING = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_NUMBER = re.compile(r"(?<![\d.])(\d+)(?!\d|\.\d)")  # "1." ends a sentence; "1.5" is no score
_YES_NO = re.compile(r"\b(yes|no)\b", re.I)
_QA = re.compile(r"(?is)^(.*?)\n\s*(?:answer|a)\s*:\s*(.*)$")


def parse_score(reply: str, scale: str) -> int | None:
    """The first in-range number (or yes/no for `yes_no`) near the start of the reply."""
    head = reply.strip()[:200]
    if scale == "yes_no":
        match = _YES_NO.search(head)
        return None if match is None else int(match.group(1).lower() == "yes")
    low, high = SCALES[scale]
    for match in _NUMBER.finditer(head):
        value = int(match.group(1))
        if low <= value <= high:
            return value
        return None  # the first number is out of range: the judge did not follow the scale
    if scale == "binary":  # small models often answer a 0/1 question in words
        match = _YES_NO.search(head)
        return None if match is None else int(match.group(1).lower() == "yes")
    return None


def clean_line(reply: str) -> str:
    """A single generated question: first non-empty line, without labels, numbering, quotes."""
    for line in reply.strip().splitlines():
        line = _NUMBERING.sub("", _PREFIX.sub("", line)).strip().strip("\"'").strip()
        if line:
            return line
    return ""


def clean_block(reply: str) -> str:
    """A generated answer or context: the text without a leading label, cut where a small
    model starts repeating itself (the first line that repeats an earlier one)."""
    text = _PREFIX.sub("", reply.strip(), count=1).strip()
    seen: set[str] = set()
    kept: list[str] = []
    for line in text.splitlines():
        key = " ".join(line.lower().split())
        if key and key in seen:
            break
        seen.add(key)
        kept.append(line)
    return "\n".join(kept).strip()


def split_question_answer(reply: str) -> tuple[str, str]:
    """'<question>\\nAnswer: <answer>' as produced after a 'Question:' cue."""
    match = _QA.match(reply.strip())
    if match is not None:
        return clean_line(match.group(1)), clean_block(match.group(2))
    # No "Answer:" label: small models often put the answer on the lines after the question.
    first, _, rest = reply.strip().partition("\n")
    return clean_line(first), clean_block(rest)


def degenerate(text: str) -> str:
    """Why a generated text is unusable, or '' if it is fine."""
    words = text.split()
    if not words:
        return "empty reply"
    if len(words) >= 12:
        grams = [" ".join(words[i : i + 3]).lower() for i in range(len(words) - 2)]
        if len(set(grams)) < len(grams) * 0.5:
            return "repetitive (looping) text"
    return ""
