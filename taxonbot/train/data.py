"""Chat samples to token ids and labels: the model learns only the assistant's turns.

A sample is `{"messages": [{"role": ..., "content": ...}, ...]}`, the shape of the
`train.jsonl` that `taxonbot generate` writes. The tokenizer's own chat template renders it;
the characters each assistant turn adds to the rendering (its content, the end-of-turn token
and whatever the template puts after it) are the supervised span, and a token is supervised
when it starts inside one. Everything else gets the label -100, which the loss ignores.

A sample with `"distill": true` is learned differently when the phase has a reference model
(`TrainConfig.distill_from`): its assistant tokens are trained toward the reference's whole
next-token distribution (KL) instead of toward the one token written there (see loop.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from taxonbot.jsonl import split_lines
from taxonbot.train import TrainError

IGNORE = -100
ROLES = ("system", "user", "assistant")
BATCH = 512  # texts per tokenizer call: the fast tokenizer encodes a batch on all cores


@dataclass(frozen=True)
class TokenizedSample:
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    distill: bool = False  # learn its supervised tokens from the reference model's distribution

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def supervised(self) -> int:
        return supervised(self.labels)


def supervised(labels: tuple[int, ...]) -> int:
    """How many tokens are learned: every label the loss does not ignore."""
    return sum(1 for label in labels if label != IGNORE)


@dataclass(frozen=True)
class Encoded:
    samples: list[TokenizedSample]
    dropped_long: int = 0
    truncated: int = 0
    dropped_unsupervised: int = 0

    def record(self) -> dict[str, int]:
        return {
            "samples": len(self.samples),
            "dropped_too_long": self.dropped_long,
            "truncated": self.truncated,
            "dropped_no_assistant_tokens": self.dropped_unsupervised,
        }


def read_samples(path: str | Path) -> list[dict[str, Any]]:
    """The samples of a train.jsonl; a bad line stops with its file:line and the fix."""
    path = Path(path)
    try:
        lines = split_lines(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise TrainError(f"{path}: cannot read training data ({error})") from None
    samples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            sample = json.loads(line)
        except json.JSONDecodeError as error:
            raise TrainError(
                f"{path}:{number}: not JSON ({error.msg}); each line must be one "
                '{"messages": [...]} object, as `taxonbot generate` writes'
            ) from None
        check_sample(sample, f"{path}:{number}")
        samples.append(sample)
    return samples


def check_sample(sample: Any, where: str) -> list[Mapping[str, str]]:
    """The sample's messages, or a TrainError saying what is wrong with it."""
    messages = sample.get("messages") if isinstance(sample, Mapping) else None
    if not isinstance(messages, list) or not messages:
        raise TrainError(f'{where}: a sample needs a non-empty "messages" list')
    for index, message in enumerate(messages):
        ok = isinstance(message, Mapping) and message.get("role") in ROLES
        if not ok or not isinstance(message.get("content"), str):
            raise TrainError(
                f"{where}: message {index} needs a role ({', '.join(ROLES)}) and a string content"
            )
    if not any(message["role"] == "assistant" for message in messages):
        raise TrainError(f"{where}: a sample needs at least one assistant message to learn from")
    return messages


def assistant_spans(tokenizer: Any, messages: Sequence[Mapping[str, str]]) -> tuple[str, list]:
    """The rendered text and the (start, end) characters of each assistant turn in it."""

    def render(part: Sequence[Mapping[str, str]], prompt: bool) -> str:
        text = tokenizer.apply_chat_template(
            list(part), tokenize=False, add_generation_prompt=prompt
        )
        return str(text)

    text = render(messages, False)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before, through = render(messages[:index], True), render(messages[: index + 1], False)
        if not (through.startswith(before) and text.startswith(through)):
            raise TrainError(
                "the tokenizer's chat template does not render a conversation as a prefix of its "
                "continuation, so assistant turns cannot be located; use a model whose template "
                "does (ChatML, as SmolLM2's)"
            )
        spans.append((len(before), len(through)))
    return text, spans


def label_tokens(ids: Sequence[int], offsets: Sequence[tuple[int, int]], spans: list) -> list[int]:
    labels = [
        token if any(start <= offset[0] < end for start, end in spans) else IGNORE
        for token, offset in zip(ids, offsets, strict=True)
    ]
    if labels:
        labels[0] = IGNORE  # nothing in the sample predicts its first token (packing relies on it)
    return labels


def encode_samples(
    samples: Iterable[Mapping[str, Any]],
    tokenizer: Any,
    max_len: int,
    *,
    on_long: Literal["drop", "truncate"] = "drop",
) -> Encoded:
    """Token ids and labels for each sample; longer than max_len: dropped or cut, and counted."""
    if getattr(tokenizer, "chat_template", None) is None:
        raise TrainError("the tokenizer has no chat template; use an instruct model's tokenizer")
    rendered, distill = [], []
    for number, sample in enumerate(samples, 1):
        messages = check_sample(sample, f"sample {number}")
        rendered.append(assistant_spans(tokenizer, messages))
        distill.append(bool(sample.get("distill")))
    kept: list[TokenizedSample] = []
    long = truncated = unsupervised = 0
    for first in range(0, len(rendered), BATCH):
        chunk = rendered[first : first + BATCH]
        batch = tokenizer(
            [text for text, _ in chunk], add_special_tokens=False, return_offsets_mapping=True
        )
        for (_, spans), ids, offsets, soft in zip(
            chunk,
            batch["input_ids"],
            batch["offset_mapping"],
            distill[first : first + BATCH],
            strict=True,
        ):
            labels = label_tokens(ids, offsets, spans)
            cut = len(ids) > max_len
            if cut and on_long == "drop":
                long += 1
                continue
            ids, labels = ids[:max_len], labels[:max_len]
            if all(label == IGNORE for label in labels):
                unsupervised += 1  # e.g. a question that fills max_len before its answer
                continue
            truncated += cut
            kept.append(TokenizedSample(tuple(ids), tuple(labels), soft))
    return Encoded(kept, long, truncated, unsupervised)
