"""Deterministic grounding for knowledge pairs: answers taken from the document, and lexical
checks that a question asks about its answer and that an answer stays within its excerpt.

A strong teacher can write a pair and judge its faithfulness; a small one cannot (the bundled
135M model calls 25 of 30 of its own pairs unfaithful and is right more often than not). So the
extractive knowledge pipeline never lets the model write an answer: each answer is one or two
sentences of the document, and the model only writes the question. These measures then decide,
without a model, whether the question fits the answer. They are word-set measures over content
words (stop words removed), the same normalisation as the seed-duplicate check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taxonbot.check.rules.questions import normalise

STOP_WORDS = frozenset(
    """a an the of to and or in on for is are be been being it its this that these those with as
    by at from what how why when where which who whom whose do does did can could should would
    will shall may might must i me my you your we our us they them their he she his her there
    here was were has have had not no yes so if then than into about also just very much many
    more most some any all each other such only own same too s t don get got""".split()
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_INLINE_ITEM = re.compile(r"\s+[-*•]\s+(?=[A-Z0-9\"'(])")  # list items a paragraph joined
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_QUESTION_START = re.compile(
    r"^(?:what|how|why|when|where|which|who|whom|whose|is|are|can|could|do|does|did|should|"
    r"would|will|was|were|has|have|in what|at what|for what|to what)\b",
    re.I,
)
_META = re.compile(
    r"\b(?:sentences?|facts?|questions?|answers?|passages?|excerpts?|texts?|readers?|writers?)\b",
    re.I,
)
_LABEL = re.compile(r"^\s*(?:question|q)\s*[:.)-]\s*", re.I)

MIN_SPAN_WORDS = 8  # a shorter sentence is joined to the next one
MAX_SPAN_WORDS = 60  # a span never grows past this by joining
MAX_QUESTION_WORDS = 30
STEM = 5


@dataclass(frozen=True)
class Span:
    """An answer taken from the document, with the chunk it came from."""

    chunk: str
    text: str


def content_words(text: str) -> frozenset[str]:
    """Content words (and every number) cut to their first five letters, a crude stemmer that is
    enough to match green/greens and compost/composting without a language-specific library."""
    words = normalise(text).split()
    return frozenset(w[:STEM] for w in words if (len(w) > 2 or w.isdigit()) and w not in STOP_WORDS)


def sentences(chunk: str) -> list[str]:
    """The prose sentences of a chunk: headings dropped, list items kept as sentences, and a
    first sentence cut off at the chunk's start (chunks overlap mid-sentence) left out."""
    out: list[str] = []
    for block in chunk.replace("\r\n", "\n").split("\n"):
        line = block.strip()
        if not line or line.startswith(("#", "|", "```", "<")):
            continue  # headings, tables, code fences and HTML are not answers
        for item in _INLINE_ITEM.split(_LIST_MARK.sub("", line)):
            out += [s.strip() for s in _SENTENCE_END.split(item) if s.strip()]
    if out and not out[0][0].isupper() and not out[0][0].isdigit():
        out = out[1:]
    return out


def spans(chunks: tuple[str, ...] | list[str]) -> list[Span]:
    """Every answer-sized run of sentences in the chunks, in document order, each once
    (overlapping chunks repeat sentences; the first chunk that holds one keeps it)."""
    seen: set[str] = set()
    out: list[Span] = []
    for chunk in chunks:
        current: list[str] = []
        for sentence in sentences(chunk):
            key = normalise(sentence)
            if not key or key in seen:
                continue
            seen.add(key)
            current.append(sentence)
            lead_in = sentence.endswith(":")  # "Leave these out:" goes with what follows
            if not lead_in and len(" ".join(current).split()) >= MIN_SPAN_WORDS:
                out.append(Span(chunk, _cap(" ".join(current))))
                current = []
        if current and len(" ".join(current).split()) >= MIN_SPAN_WORDS // 2:
            out.append(Span(chunk, _cap(" ".join(current))))
    return out


def _cap(text: str) -> str:
    words = text.split()
    return text if len(words) <= MAX_SPAN_WORDS else " ".join(words[:MAX_SPAN_WORDS])


def clean_question(text: str) -> str:
    """A generated question without its label or quotes, cut after the first question mark."""
    line = _LABEL.sub("", text.strip().split("\n", 1)[0]).strip()  # "\n" only, as replies.lines
    line = line.strip("\"'“”").strip()
    mark = line.find("?")
    return line[: mark + 1] if mark >= 0 else line


def question_problem(question: str, answer: str, min_overlap: float) -> str:
    """Why `question` is not a usable question for `answer` ('' when it is)."""
    words = question.split()
    if not words:
        return "no question"
    if not question.endswith("?") or not _QUESTION_START.match(question):
        return "not phrased as a question"
    if len(words) > MAX_QUESTION_WORDS:
        return f"over {MAX_QUESTION_WORDS} words"
    if _META.search(question):
        return "asks about the wording (sentence, fact, answer...) instead of the subject"
    asked, given = content_words(question), content_words(answer)
    if not asked:
        return "asks about nothing in particular"
    shared = len(asked & given) / len(asked)
    if shared < min_overlap:
        return f"only {shared:.0%} of its words are about the answer (needs {min_overlap:.0%})"
    if given and len(asked & given) / len(given) >= 0.9:
        return "repeats the answer instead of asking for it"
    return ""


def question_fit(question: str, answer: str) -> float:
    """How well a question fits an answer, for picking the best of several candidates."""
    asked = content_words(question)
    if not asked or question_problem(question, answer, 0.0):
        return -1.0
    return len(asked & content_words(answer)) / len(asked)


def support(answer: str, context: str) -> float:
    """The share of the answer's content words that appear in the context (1.0: nothing new)."""
    said = content_words(answer)
    return 1.0 if not said else len(said & content_words(context)) / len(said)


def recall(reference: str, answer: str) -> float:
    """The share of the reference's content words (numbers included) that the answer says.
    A shorter answer cannot raise it, unlike ROUGE-L's F-measure. A reference of stop words
    only ("Yes.") is matched word for word; an empty one gives 0."""
    wanted, said = content_words(reference), content_words(answer)
    if not wanted:
        wanted, said = frozenset(normalise(reference).split()), frozenset(normalise(answer).split())
    return len(wanted & said) / len(wanted) if wanted else 0.0
