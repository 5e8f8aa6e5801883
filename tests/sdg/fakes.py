"""Scripted models and small leaves for the SDG tests.

`script()` answers every block tag of the three shipped pipelines with plausible, distinct text,
so a test overrides only the block it is about. Replies vary with the sample number, which the
blocks fold into each request's seed (taxonbot.sdg.blocks.ask: seed * 100_003 + number).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taxonbot.runtime.base import ChatRequest, Completion, ModelBackend
from taxonbot.sdg.blocks import RunContext
from taxonbot.sdg.sample import LeafJob, Seed
from tests.doubles.fake_backend import FakeBackend, Reply

SEED_STRIDE = 100_003
TOPICS = (
    "hail on a tin roof",
    "a foggy harbour at dawn",
    "dust blowing over dry plains",
    "the first warm evening of spring",
    "frost on a parked bicycle",
    "monsoon rain over a market",
    "a rainbow above the motorway",
    "sleet at a bus stop",
    "heat haze above the tarmac",
    "lightning over a campsite",
    "a gusty beach in March",
    "stars after the clouds clear",
)
KNOWLEDGE_QUESTIONS = (
    ("Which process turns liquid water into vapor?", "Evaporation turns liquid water into vapor."),
    ("How do plants release water into the air?", "Through pores in their leaves, stomata."),
    ("What happens to a snowpack on dry windy days?", "It can sublimate straight into vapor."),
    ("Why does rising air form clouds?", "It cools until its vapor condenses into droplets."),
    ("Where is most fresh water stored?", "Mostly in ice sheets, glaciers and groundwater."),
    ("What share of Earth's surface do oceans cover?", "About 71 percent of the surface."),
)
BLOCK_TAGS = (
    "new_context",
    "new_question",
    "question_quality",
    "answer",
    "pair_rating",
    "grounded_pair",
    "faithfulness",
    "relevancy",
)


def number(request: ChatRequest) -> int:
    """The sample a request is for."""
    return request.seed % SEED_STRIDE


def question(n: int) -> str:
    return f"Write a haiku about {TOPICS[n % len(TOPICS)]}."


def answer(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)].capitalize()
    return f"{topic}\nthe kettle starts to whistle\nsomeone shuts a door"


def context(n: int) -> str:
    # twenty words or more: a shorter context is rejected (blocks.MIN_CONTEXT_WORDS)
    return (
        f"Minutes of meeting {n}: the {TOPICS[n % len(TOPICS)]} festival moves to Friday. "
        "Sam books the hall, Lea prints the posters and everyone brings a chair."
    )


def knowledge_pair(n: int) -> str:
    q, a = KNOWLEDGE_QUESTIONS[n % len(KNOWLEDGE_QUESTIONS)]
    return f"{q}\nAnswer: {a}"


def script(**overrides: Reply) -> dict[str, Reply]:
    """A reply for every block of every shipped pipeline; every judge says "keep"."""
    replies: dict[str, Reply] = {
        "new_context": lambda r: context(number(r)),
        "new_question": lambda r: question(number(r)),
        "question_quality": "1",
        "answer": lambda r: answer(number(r)),
        "pair_rating": "3",
        "grounded_pair": lambda r: knowledge_pair(number(r)),
        "faithfulness": "yes",
        "relevancy": "2",
        "question": " is evaporation?",  # the extractive pipeline: its prefill starts it
    }
    return replies | overrides


def fake_model(**overrides: Reply) -> FakeBackend:
    return FakeBackend(script(**overrides))


def tags(backend: FakeBackend) -> list[str]:
    return [r.tag for r in backend.requests]


HAIKU_SEEDS = (
    Seed("Write a haiku about a summer thunderstorm.", "Heat hangs on the porch"),
    Seed("Could you write me a haiku about morning fog by the sea?", "Fog swallows the pier"),
    Seed("Compose a haiku about a windy autumn afternoon.", "Wind empties the oak"),
)
MEETING_SEEDS = (
    Seed("List the decisions.", "- Launch moves to May", "Notes: the launch moves to May."),
    Seed("Who owns the budget?", "Priya owns the budget.", "Notes: Priya takes the budget."),
)
WATER_SEEDS = (
    Seed("What share of Earth's water is salt water?", "About 97 percent.", "Oceans hold it."),
    Seed("What is transpiration?", "Plants releasing vapor.", "Plants add water vapor too."),
    Seed("What is sublimation?", "Ice turning into vapor.", "Snow can skip the liquid."),
)
CHUNKS = (
    "Evaporation is the change of liquid water into water vapor.",
    "Plants release water vapor through stomata in a process called transpiration.",
)


def haiku_job(seeds: Sequence[Seed] = HAIKU_SEEDS) -> LeafJob:
    return LeafJob(
        "compositional_skills/writing/freeform/poetry/haiku_about_weather",
        "qna.yaml",
        "freeform_skills",
        "Write a haiku about the weather the user names.",
        tuple(seeds),
    )


def meeting_job() -> LeafJob:
    return LeafJob(
        "compositional_skills/writing/grounded/summarization/meeting_notes_bullets",
        "qna.yaml",
        "grounded_skills",
        "Summarise meeting notes as bullets.",
        MEETING_SEEDS,
    )


def water_job() -> LeafJob:
    return LeafJob(
        "knowledge/science/earth_science/water_cycle",
        "qna.yaml",
        "knowledge",
        "An overview of the water cycle.",
        WATER_SEEDS,
        CHUNKS,
    )


def context_for(job: LeafJob, backend: ModelBackend, max_new_tokens: int = 256) -> RunContext:
    return RunContext(job, backend, seed=0, max_new_tokens=max_new_tokens)


class Recording:
    """Wraps a real backend and keeps every request and completion, for budget assertions."""

    def __init__(self, inner: ModelBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.stats = inner.stats
        self.requests: list[ChatRequest] = []
        self.completions: list[Completion] = []

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        done = self.inner.complete(requests)
        self.requests += requests
        self.completions += done
        return done

    def describe(self) -> dict[str, str]:
        return self.inner.describe()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        self.inner.close()


def every_pair_accounted_for(leaf: dict[str, Any]) -> None:
    """The bookkeeping every preview leaf must satisfy, whatever the model said."""
    pairs = leaf["pairs"]
    counts = leaf["counts"]
    assert counts["candidates"] == len(pairs)
    assert counts["kept"] == sum(p["kept"] for p in pairs)
    assert counts["kept"] + sum(counts["rejected_by"].values()) == counts["candidates"]
    for pair in pairs:
        if pair["kept"]:
            assert pair["finished"] and not pair["rejected_by"] and not pair["reason"]
            assert all(pair["filters"].values())
        else:
            assert pair["rejected_by"] and pair["reason"], pair
