"""Self-replay: the start model's own answers to general requests, trained beside the new data.

Why: a small model drifts while it learns new leaves, and a first build has no previous build
to replay and may fetch no general data; so the start model answers self_replay.yaml's requests
(each asked as a user and as the bot asks), and phases learn those answers by distillation
(self-synthesized rehearsal, Huang et al. 2024). The measurements behind every choice here are
in benchmarks/README.md (the learning bench). Answers are cached per model, list and settings.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import check_file, write_atomic
from taxonbot.gaps.novelty import SYSTEM as BOT_SYSTEM
from taxonbot.modelbuild.regression import read_item_file
from taxonbot.runtime.base import ChatRequest, ModelBackend

SELF_REPLAY_FILE = Path(__file__).with_name("self_replay.yaml")
FIELDS = ("id", "category", "question")
HINT = (
    "Fix the file, or leave out --self-replay-prompts to use taxonbot/modelbuild/self_replay.yaml."
)
MAX_TOKENS = 192  # a full short answer; longer ones are cut back to their last whole sentence
FORMAT = 2  # bump when what is cached changes shape
_SENTENCE_END = re.compile(r"(?<![0-9])[.!?][\"')\]]*(?=\s|$)")


@dataclass(frozen=True)
class Prompts:
    path: str
    version: str
    sha256: str
    items: tuple[dict[str, str], ...]  # id, category, question


def load_prompts(path: str | Path = SELF_REPLAY_FILE) -> Prompts:
    """The prompt list, or RegressionSetError naming the file, line and column of each problem."""
    version, digest, rows = read_item_file(path, FIELDS, "the self-replay prompt list", HINT)
    return Prompts(str(path), version, digest, tuple(rows))


def whole_sentences(text: str) -> str:
    """`text` up to its last complete sentence; "" if it has none (a cut-off answer must not
    teach the model to stop mid-sentence)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].strip() if ends else ""


ASKED_AS = {"user": (), "bot": (("system", BOT_SYSTEM),)}  # the system turn each way sends


def request(question: str, seed: int, asked_as: str = "user") -> ChatRequest:
    """As a user asks (no system turn of ours: the chat template adds its default), or as the
    bot asks (the novelty check's system prompt)."""
    messages = (*ASKED_AS[asked_as], ("user", question))
    return ChatRequest(
        messages, max_tokens=MAX_TOKENS, temperature=0.0, seed=seed, tag="self_replay"
    )


def cache_key(model_sha256: str, prompts: Prompts, seed: int) -> str:
    body = {"format": FORMAT, "model": model_sha256, "prompts": prompts.sha256}
    body |= {"max_tokens": MAX_TOKENS, "seed": seed, "bot_system": BOT_SYSTEM}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:20]


def self_replay(
    backend: ModelBackend, model_sha256: str, prompts: Prompts, cache: Path, seed: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(samples, record): one chat sample per prompt and way of asking that the model answered
    in whole sentences."""
    key = cache_key(model_sha256, prompts, seed)
    cached = check_file(cache / f"{key}.json")  # a folder or file in the way: said before asking
    record: dict[str, Any] = {
        "prompts": Path(prompts.path).name,
        "version": prompts.version,
        "sha256": prompts.sha256,
        "model_sha256": model_sha256,
        "max_tokens": MAX_TOKENS,
        "asked_as": {"user": "the chat template's default system turn", "bot": BOT_SYSTEM},
        "cache_key": key,
    }
    if cached.is_file():
        try:
            body = json.loads(cached.read_text("utf-8"))
            return body["samples"], {**record, **body["record"], "cached": True}
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is asked again below
    asks = [(item, way) for way in ASKED_AS for item in prompts.items]
    sent = [request(item["question"], seed, way) for item, way in asks]
    done = backend.complete(sent)
    samples, dropped = [], []
    for (item, way), asked, answer in zip(asks, sent, done, strict=True):
        text = answer.text.strip()
        if answer.finish_reason == "length":
            text = whole_sentences(text)
        if answer.finish_reason == "error" or not text:
            dropped.append(item["id"] if way == "user" else f"{item['id']} (as the bot asks)")
            continue
        messages = [{"role": role, "content": body} for role, body in asked.messages]
        messages.append({"role": "assistant", "content": text})
        samples.append({"messages": messages, "leaf": "self-replay", "form": "self_replay"})
    outcome = {"answered": len(samples), "dropped": dropped}
    if not any(answer.finish_reason == "error" for answer in done):  # a failure is asked again
        write_atomic(cached, json.dumps({"samples": samples, "record": outcome}))
    return samples, {**record, **outcome, "cached": False}
