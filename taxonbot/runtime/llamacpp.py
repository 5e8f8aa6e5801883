"""The local backend: a GGUF model run in-process by llama-cpp-python, on CPU.

Heavy: imports llama_cpp at module level, so only `open_backend` (lazily) and the SDG commands
import this module; `taxonbot check` never does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from taxonbot.runtime.base import BackendError, ChatRequest, Completion, RuntimeStats
from taxonbot.runtime.gguf import check_gguf, default_model_path, fast_fingerprint, text_sha256

Prompt = list[int] | BackendError  # a rendered, tokenized prompt, or why it could not be made


class LlamaCppBackend:
    name = "llama.cpp"

    def __init__(
        self, model_path: str | None = None, n_ctx: int = 4096, n_threads: int = 2, seed: int = 0
    ) -> None:
        self._path = check_gguf(model_path or default_model_path())
        try:
            # verbose=False also routes llama.cpp's C logs through a callback that drops all but
            # errors, and silences the load banner.
            # n_threads_batch too: its default is every core, which a shared CI runner lacks.
            self._n_ctx = n_ctx
            self._llm: Any = llama_cpp.Llama(
                str(self._path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp could not load {self._path}: {exc}") from exc
        self._template = str(self._llm.metadata.get("tokenizer.chat_template", ""))
        if not self._template:
            raise BackendError(
                f"{self._path.name} has no tokenizer.chat_template; use a chat model"
            )
        self._formatter = Jinja2ChatFormatter(
            self._template,
            eos_token=self._token_text(self._llm.token_eos()),
            bos_token=self._token_text(self._llm.token_bos()),
        )
        self.stats = RuntimeStats()

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        prompts = [self._tokenize(r) for r in requests]
        # Run prompts in token order so neighbours share the longest prefix (system prompt, seed
        # examples) and llama.cpp keeps it in the KV cache; answers still come back in input order.
        order = sorted(range(len(requests)), key=lambda i: _sort_key(prompts[i]))
        llama_cpp.llama_perf_context_reset(self._llm.ctx)
        done: dict[int, Completion] = {i: self._run(requests[i], prompts[i]) for i in order}
        self._add_timings()
        results = [done[i] for i in range(len(requests))]
        for result in results:
            self.stats.add(result)
        return results

    def describe(self) -> dict[str, str]:
        return {
            "backend": self.name,
            "model": self._path.name,
            "model_bytes": str(self._path.stat().st_size),
            "model_sha256_head_tail": fast_fingerprint(self._path),
            "chat_template_sha256": text_sha256(self._template),
            "n_ctx": str(self._n_ctx),
        }

    def close(self) -> None:
        # Idempotent, and describe() stays safe afterwards: it no longer touches the model,
        # whose freed handle would segfault inside llama.cpp.
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    def _add_timings(self) -> None:
        """llama.cpp's own clocks: one-token decodes (generation) vs batched prompt evaluation."""
        perf = llama_cpp.llama_perf_context(self._llm.ctx)
        self.stats.decode_seconds += perf.t_eval_ms / 1000
        prompt_s = self.stats.extra.get("prompt_eval_seconds", 0.0) + perf.t_p_eval_ms / 1000
        self.stats.extra["prompt_eval_seconds"] = prompt_s

    def _token_text(self, token: int) -> str:
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _tokenize(self, request: ChatRequest) -> Prompt:
        messages: Any = [{"role": role, "content": text} for role, text in request.messages]
        try:
            prompt = self._formatter(messages=messages).prompt
        except Exception as exc:  # a template may raise on e.g. an unsupported role order
            return BackendError(f"the model's chat template rejected the messages: {exc}")
        # The formatter ends with the assistant turn opened; a prefill continues it, which is
        # how a small model is held to a format ("Score:", then a digit) instead of chatting.
        prompt += request.prefill
        # add_bos=True adds BOS only where the GGUF says the model wants one; special=True reads
        # "<|im_start|>" and friends as control tokens, as create_chat_completion does.
        return self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)

    def _run(self, request: ChatRequest, prompt: Prompt) -> Completion:
        if isinstance(prompt, BackendError):
            return Completion("", "error", error=str(prompt))
        problem = self._refuse(request, len(prompt))
        if problem:
            return Completion("", "error", prompt_tokens=len(prompt), error=problem)
        # Llama keeps the tokens behind its KV cache in _input_ids (no public accessor) and
        # Llama.generate evaluates only what follows their common prefix with the new prompt.
        reused = _common_prefix(self._llm._input_ids.tolist(), prompt)
        start = time.perf_counter()
        try:
            out: Any = self._llm.create_completion(
                prompt,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                seed=request.seed,
                stop=list(request.stop) or None,
            )
        except Exception as exc:  # one bad request must not sink the batch (ModelBackend contract)
            error = f"llama.cpp failed on this request: {exc}"
            return Completion("", "error", prompt_tokens=len(prompt), error=error)
        choice, usage = out["choices"][0], out["usage"]
        return Completion(
            text=choice["text"],
            finish_reason=choice["finish_reason"] or "stop",
            prompt_tokens=len(prompt),
            prompt_tokens_evaluated=_evaluated(len(prompt), reused),
            completion_tokens=usage["completion_tokens"],
            seconds=time.perf_counter() - start,
        )

    def _refuse(self, request: ChatRequest, n_prompt: int) -> str:
        if request.max_tokens < 1:  # llama-cpp-python reads max_tokens <= 0 as "no limit"
            return f"max_tokens must be at least 1; it is {request.max_tokens}"
        if n_prompt >= self._n_ctx:
            return (
                f"the prompt has {n_prompt} tokens but the context window is {self._n_ctx}; "
                "use fewer or shorter seed examples, or a larger n_ctx"
            )
        return ""


def _sort_key(prompt: Prompt) -> list[int]:
    return prompt if isinstance(prompt, list) else []


def _common_prefix(cached: list[int], prompt: list[int]) -> int:
    n = 0
    for a, b in zip(cached, prompt, strict=False):
        if a != b:
            break
        n += 1
    return n


def _evaluated(n_prompt: int, reused: int) -> int:
    """Tokens llama.cpp computes: Llama.generate keeps the cached common prefix and evaluates the
    rest; when the whole prompt is cached it replays the last token to get fresh logits (and
    skips even that if the previous call ended exactly there: then we count one too many)."""
    return max(1, n_prompt - reused)
