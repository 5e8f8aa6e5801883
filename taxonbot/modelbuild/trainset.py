"""From a leaf's kept SDG pairs to the chat samples training reads.

Skills: each pair as it is (a grounded skill's context travels with its question).

Knowledge is asked later without its document (by users and by the branch evaluation), so a
pair that always shows the model the excerpt teaches it to read, not to know. LAB's knowledge
data likewise has the model learn the document's content, not only answer beside it; each
knowledge leaf here gives three forms:
- closed book: the question alone, the answer — what the model must come to know;
- open book: the excerpt and the question, the answer — reading the source;
- passage: the start of each document chunk, and the rest of it — the document's own wording.
Each sample says its form, so the manifest can count them.

A closed-book answer that is a bare document sentence (the extractive pipeline's) is given as a
full reply: the sentence with the sentences that follow it in its excerpt, until it has about
FULL_REPLY_WORDS. Trained on bare 24-word sentences, SmolLM2 learned to answer *everything*
tersely (regression answers fell from 40 to 20-25 words, and with them the share of the
reference's facts they said); the seed answers users write are two or three sentences too.
An answer not found in its excerpt (a model-written one) stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from taxonbot.check.rules.questions import normalise
from taxonbot.sdg.grounding import sentences
from taxonbot.sdg.sample import Sample

MAX_TOPIC_WORDS = 30
FULL_REPLY_WORDS = 40  # a closed-book reply grows by whole sentences of its excerpt to this


def leaf_samples(
    leaf: str, kind: str, kept: Iterable[Sample], chunks: Iterable[str], topic: str
) -> list[dict[str, Any]]:
    """The training samples of one leaf; `kind` is "knowledge" or "skills"."""
    if kind != "knowledge":
        return [{"messages": s.messages(), "leaf": leaf} for s in kept]
    out: list[dict[str, Any]] = []
    for sample in kept:
        closed = [
            {"role": "user", "content": sample.question},
            {"role": "assistant", "content": full_reply(sample.answer, sample.context)},
        ]
        out.append({"messages": closed, "leaf": leaf, "form": "closed_book"})
        if sample.context:
            out.append({"messages": sample.messages(), "leaf": leaf, "form": "open_book"})
    if not out:
        return out  # no pair survived: the leaf fails, passages alone teach no answers
    short_topic = " ".join(topic.split()[:MAX_TOPIC_WORDS]).strip()
    for chunk in dict.fromkeys(chunks):  # overlapping documents may repeat a chunk
        passage = sentences(chunk)
        if len(passage) < 2:
            continue
        about = f" about: {short_topic}" if short_topic else ""
        prompt = f"Continue this passage from the source document{about}\n\n{passage[0]}"
        messages = [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": " ".join(passage[1:])},
        ]
        out.append({"messages": messages, "leaf": leaf, "form": "passage"})
    return out


def full_reply(answer: str, context: str, words: int = FULL_REPLY_WORDS) -> str:
    """`answer` with the sentences that follow it in `context` (before it, at the context's
    end) until it has `words` words; `answer` itself when it is not whole sentences of it."""
    said = sentences(answer)
    found = sentences(context) if said else []
    keys = [normalise(x) for x in found]
    wanted = [normalise(x) for x in said]
    start = next((i for i in range(len(keys)) if keys[i : i + len(wanted)] == wanted), None)
    if start is None:
        return answer
    first, end = start, start + len(said)
    count = len(answer.split())
    while count < words and (end < len(found) or first > 0):
        if end < len(found):
            count += len(found[end].split())
            end += 1
        else:
            first -= 1
            count += len(found[first].split())
    return " ".join(found[first:end])


def form_counts(samples: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sample in samples:
        form = str(sample.get("form", "pair"))
        counts[form] = counts.get(form, 0) + 1
    return counts
