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
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s|$)")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")
# A first line that announces the text instead of being it, echoing the context prompt ("Write
# one new short text of the same kind, on a different subject") and ending with a colon:
# "Certainly! Here's one new short text of the same kind, on a different subject:". No upstream
# seed context opens so (0 of 1,003).
_ANNOUNCES = re.compile(
    r"\b(?:new|another)\s+(?:short\s+)?(?:example\s+)?text\b|\bsame kind\b"
    r"|\bdifferent (?:subject|topic)\b",
    re.I,
)


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
    for line in lines(reply.strip()):
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
    for line in lines(text):
        key = " ".join(line.lower().split())
        if key and key in seen:
            break
        seen.add(key)
        kept.append(line)
    return "\n".join(kept).strip()


def clean_context(reply: str) -> str:
    """A generated context: as clean_block, without a first line that only announces it."""
    first, _, rest = reply.strip().partition("\n")
    if first.rstrip(" *").endswith(":") and _ANNOUNCES.search(first):
        return clean_block(rest)
    return clean_block(reply)


def split_question_answer(reply: str) -> tuple[str, str]:
    """'<question>\\nAnswer: <answer>' as produced after a 'Question:' cue."""
    match = _QA.match(reply.strip())
    if match is not None:
        return clean_line(match.group(1)), clean_block(match.group(2))
    # No "Answer:" label: small models often put the answer on the lines after the question.
    first, _, rest = reply.strip().partition("\n")
    return clean_line(first), clean_block(rest)


def lines(text: str) -> list[str]:
    """Lines split on "\n" only (a "\r" before it dropped). str.splitlines() also splits on
    U+2028, U+0085 and other characters a model may legitimately write inside a line."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def whole_sentences(text: str) -> str:
    """`text` up to the end of its last complete sentence ("" when it has none)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].strip() if ends else ""


# A loop: the share of distinct n-grams at or below LOOP_SHARE for some n in LOOP_NGRAMS, once
# the text has at least LOOP_MIN_GRAMS of them (short texts repeat words by chance); or the text
# ending in one unit of up to TAIL_PERIOD words said TAIL_REPEATS times or more in a row.
LOOP_NGRAMS = (2, 3, 4, 5)
LOOP_SHARE = 0.5
LOOP_MIN_GRAMS = 10
TAIL_PERIOD = 12
TAIL_REPEATS = 3
TAIL_MIN_WORDS = 8
REPEATED_SENTENCE_WORDS = 6  # said twice, a sentence this long is a loop; shorter ones may repeat


LOOPING = "repetitive (looping) text"


def degenerate(text: str) -> str:
    """Why a generated text is unusable, or '' if it is fine: empty, looping (repeated n-grams
    or a repeated tail), or saying the same sentence twice."""
    words = text.lower().split()
    if not words:
        return "empty reply"
    for n in LOOP_NGRAMS:
        grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
        if len(grams) >= LOOP_MIN_GRAMS and len(set(grams)) <= len(grams) * LOOP_SHARE:
            return LOOPING
    if _looping_tail(words):
        return LOOPING
    if sentence := _repeated_sentence(text):
        return f"says the same sentence twice ({sentence[:60]!r})"
    return ""


# A reply in the model's own voice instead of the task's: a refusal or "as an AI language model".
# Seen in the 0.5B's real output ("I'm sorry, but I can't assist with that." as an email body;
# "as an AI language model, I don't have the ability to create new questions" as a question).
_ABOUT_ITSELF = re.compile(
    r"\bas an? (?:ai|artificial intelligence|(?:large )?language model)\b"
    r"|\bI(?:'m| am) (?:just |only )?an? (?:ai|(?:large )?language model|virtual assistant)\b"
    # a refusal with nothing refused: "I can't help with the move" declines; this does not
    r"|\bI(?:'m| am) (?:sorry|afraid),? but I (?:can(?:no|')t|cannot|am unable to|'m unable to"
    r"|won't|will not) (?:assist|help|comply)(?: (?:you )?with (?:that|this|your)(?: request)?)?"
    r"[.!]"
    r"|\bI (?:can(?:no|')t|cannot|am unable to|'m unable to) (?:assist|help) (?:you )?with "
    r"(?:that|this|your)(?: request)?[.!]"
    r"|\bI apologi[sz]e,? but I (?:can(?:no|')t|cannot|am unable|don't|do not)\b"
    r"|\bI (?:don't|do not) have the ability to\b",
    re.I,
)
ABOUT_ITSELF = "speaks as the model (a refusal or 'as an AI'), not as the task asks"


def about_itself(text: str, allowed: str = "") -> str:
    """Why a reply speaks as the model about itself instead of doing the task, or ''. A phrase
    that `allowed` (the seeds, the sample's context) uses too is part of the task: a leaf about
    declining politely may well say "I'm sorry, but I can't"."""
    for match in _ABOUT_ITSELF.finditer(text):
        if match[0].lower() not in allowed.lower():
            return f"{ABOUT_ITSELF} ({match[0]!r})"
    return ""


def _looping_tail(words: list[str]) -> bool:
    for period in range(1, TAIL_PERIOD + 1):
        repeats = max(TAIL_REPEATS, -(-TAIL_MIN_WORDS // period))
        if len(words) < period * repeats:
            break
        unit = words[-period:]
        if all(words[-period * (k + 1) : len(words) - period * k] == unit for k in range(repeats)):
            return True
    return False


def _repeated_sentence(text: str) -> str:
    seen: set[str] = set()
    for line in lines(text):
        for sentence in _SENTENCE_SPLIT.split(line):
            key = " ".join(_WORD.findall(sentence.lower()))
            if len(key.split()) < REPEATED_SENTENCE_WORDS:
                continue
            if key in seen:
                return sentence.strip()
            seen.add(key)
    return ""
