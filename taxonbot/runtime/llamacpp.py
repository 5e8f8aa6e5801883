"""The local backend: a GGUF model run in-process by llama-cpp-python, on CPU.

Heavy: imports llama_cpp at module level, so only `open_backend` (lazily) and the SDG commands
import this module; `taxonbot check` never does. llama_cpp.Llama loads the model and serves its
tokenizer, metadata and chat template; the decoding runs batched on a context of its own
(`batched.BatchedContext`), several requests per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from taxonbot.runtime.base import BackendError, ChatRequest, Completion, RuntimeStats
from taxonbot.runtime.batched import MAX_SEQUENCES, BatchedContext, Job, Outcome
from taxonbot.runtime.gguf import check_gguf, default_model_path, fast_fingerprint, text_sha256

Prompt = list[int] | BackendError  # a rendered, tokenized prompt, or why it could not be made
# Llama's own context is never decoded on (BatchedContext has the real one): keep it small.
_IDLE_CTX = 256


class LlamaCppBackend:
    name = "llama.cpp"

    def __init__(
        self,
        model_path: str | None = None,
        n_ctx: int = 4096,
        n_threads: int = 2,
        seed: int = 0,
        n_seq_max: int = MAX_SEQUENCES,
    ) -> None:
        self._path = check_gguf(model_path or default_model_path())
        self._n_ctx = n_ctx
        self._llm: Any = None
        self._engine: BatchedContext | None = None
        try:
            # verbose=False also routes llama.cpp's C logs through a callback that drops all but
            # errors, and silences the load banner.
            # n_threads_batch too: its default is every core, which a shared CI runner lacks.
            self._llm = llama_cpp.Llama(
                str(self._path),
                n_ctx=_IDLE_CTX,
                n_batch=_IDLE_CTX,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                seed=seed,
                verbose=False,
            )
            self._engine = BatchedContext(self._llm.model, n_ctx, n_threads, n_seq_max)
        except (ValueError, RuntimeError, BackendError) as exc:
            self.close()
            raise BackendError(f"llama.cpp could not load {self._path}: {exc}") from exc
        self._template = str(self._llm.metadata.get("tokenizer.chat_template", ""))
        if not self._template:
            self.close()
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
        """All runnable requests decode together (see batched.py); a request that cannot run
        comes back as an "error" Completion and the others go on. Answers keep input order."""
        if self._engine is None:
            raise BackendError("the llama.cpp backend is closed")
        results: list[Completion | None] = [None] * len(requests)
        jobs: dict[int, Job] = {}
        for i, request in enumerate(requests):
            prompt = self._tokenize(request)
            if isinstance(prompt, BackendError):
                results[i] = Completion("", "error", error=str(prompt))
            elif problem := self._refuse(request, len(prompt)):
                results[i] = Completion("", "error", prompt_tokens=len(prompt), error=problem)
            else:
                jobs[i] = _job(request, prompt)
        clocks = self._engine.clocks
        before = (clocks.prompt_seconds, clocks.decode_seconds)
        for i, out in zip(jobs, self._engine.run(list(jobs.values())), strict=True):
            results[i] = _completion(out, len(jobs[i].tokens))
        self.stats.decode_seconds += clocks.decode_seconds - before[1]
        prompt_s = self.stats.extra.get("prompt_eval_seconds", 0.0)
        self.stats.extra["prompt_eval_seconds"] = prompt_s + clocks.prompt_seconds - before[0]
        done = [r for r in results if r is not None]
        for result in done:
            self.stats.add(result)
        return done

    def describe(self) -> dict[str, str]:
        return {
            "backend": self.name,
            "model": self._path.name,
            "model_bytes": str(self._path.stat().st_size),
            "model_sha256_head_tail": fast_fingerprint(self._path),
            "chat_template_sha256": text_sha256(self._template),
            "n_ctx": str(self._n_ctx),
        }

    def count_tokens(self, text: str) -> int:
        """The model's own tokenizer, as a prompt's text is tokenized (special tokens read)."""
        if self._llm is None:
            raise BackendError("the llama.cpp backend is closed")
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def close(self) -> None:
        # Idempotent, and describe() stays safe afterwards: it no longer touches the model,
        # whose freed handle would segfault inside llama.cpp. The context goes before the model.
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._llm is not None:
            self._llm.close()
            self._llm = None

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

    def _refuse(self, request: ChatRequest, n_prompt: int) -> str:
        if request.max_tokens < 1:  # llama-cpp-python reads max_tokens <= 0 as "no limit"
            return f"max_tokens must be at least 1; it is {request.max_tokens}"
        if n_prompt >= self._n_ctx:
            return (
                f"the prompt has {n_prompt} tokens but the context window is {self._n_ctx}; "
                "use fewer or shorter seed examples, or a larger n_ctx"
            )
        return ""


def _job(request: ChatRequest, prompt: list[int]) -> Job:
    return Job(
        tokens=prompt,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        seed=request.seed,
        stop=tuple(s.encode("utf-8") for s in request.stop),
        grammar=request.grammar,
    )


def _completion(out: Outcome, n_prompt: int) -> Completion:
    if out.finish_reason == "error":
        return Completion("", "error", prompt_tokens=n_prompt, error=out.error)
    return Completion(
        # as create_completion: bytes cut inside a character (a token cap) are dropped
        text=out.text.decode("utf-8", errors="ignore"),
        finish_reason=out.finish_reason,
        prompt_tokens=n_prompt,
        prompt_tokens_evaluated=out.evaluated,
        completion_tokens=out.completion_tokens,
        seconds=out.seconds,
    )
