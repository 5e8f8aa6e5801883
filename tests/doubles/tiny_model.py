"""A tiny random Llama with a byte-level BPE tokenizer trained offline: fast tests, no hub.

The tokenizer learns its merges from text that ships with taxonbot (the repo's qna.yaml files
and the SDG prompts), so nothing is downloaded. It speaks ChatML like SmolLM2-Instruct:
`<|im_start|>role\\ncontent<|im_end|>\\n`, with `<|im_end|>` as end of turn and eos.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from taxonbot.train.quiet import quiet_transformers

ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END]
DEFAULT_SYSTEM = "You are a helpful assistant."

# ChatML, the shape of SmolLM2-Instruct's template: a default system turn when none is given.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

REPO = Path(__file__).resolve().parents[2]


def corpus_files() -> list[Path]:
    """The text the tokenizer learns from, in a fixed order: the same bytes, the same merges."""
    files = sorted((REPO / "taxonomy").rglob("qna.yaml")) + sorted(
        (REPO / "taxonbot" / "sdg" / "templates").glob("*.j2")
    )
    return [path for path in files if path.is_file()]


def _texts(files: Iterable[Path]) -> Iterator[str]:
    for path in files:
        yield path.read_text(encoding="utf-8", errors="replace")


def train_tokenizer(files: list[Path], vocab_size: int = 768) -> Any:
    """A byte-level BPE `PreTrainedTokenizerFast` with ChatML specials and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    # Offsets cover whole tokens (leading space included): labels are assigned by token start.
    raw.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    raw.train_from_iterator(_texts(files), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token=IM_START,
        eos_token=IM_END,
        pad_token=ENDOFTEXT,
        unk_token=ENDOFTEXT,
        model_max_length=2048,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def make_tiny_model(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    *,
    corpus: list[Path] | None = None,
    hidden_size: int = 64,
    layers: int = 2,
) -> Path:
    """Write a random LlamaForCausalLM + tokenizer to `out_dir` (replaced atomically).

    The same seed and corpus give byte-identical weights and tokenizer files.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    files = corpus_files() if corpus is None else corpus
    if not files:
        raise FileNotFoundError(f"no text to train the tiny tokenizer on under {REPO}")
    tokenizer = train_tokenizer(files)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):  # the caller's RNG stream is left as it was
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with quiet_transformers():
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
