"""A request's llama.cpp sampler chain, with its GBNF grammar checked lazily (BatchedContext
samples every sequence of a step through one of these)."""

from __future__ import annotations

import ctypes
import math
from typing import Any, Protocol

import llama_cpp

# create_completion's defaults, so a seeded request samples as it did before batching
TOP_K, TOP_P, MIN_P = 40, 0.95, 0.05


class Counts(Protocol):
    resampled: int


class Draw(Protocol):
    """What a chain needs of a request (batched.Job has it)."""

    @property
    def temperature(self) -> float: ...
    @property
    def seed(self) -> int: ...


class Sampler:
    """A request's sampling, with its grammar checked lazily, as llama.cpp's own common sampler
    (common/sampling.cpp) does: applying a grammar to every token of the vocabulary costs about
    as much as a decoding step (measured: 19-23 ms a token on Qwen2.5's 151,936 tokens, against
    0.15 ms for the chain alone), so the token is sampled without the grammar first and kept if
    the grammar accepts it; only a rejected token is sampled again with the grammar applied to
    the whole vocabulary. Greedy picks what grammar-first would pick; sampling at a temperature
    follows llama.cpp in keeping an allowed first draw."""

    def __init__(self, fast: Any, full: Any, lazy: bool, clocks: Counts) -> None:
        self.fast, self.full = fast, full  # the chain alone; the grammar followed by the chain
        self.lazy, self.clocks = lazy, clocks
        # the grammar sampler, owned by `full` (stage 0), checked and advanced on its own
        self.grammar = llama_cpp.llama_sampler_chain_get(full, 0) if full else None
        self._one = llama_cpp.llama_token_data()
        self._check = llama_cpp.llama_token_data_array(ctypes.pointer(self._one), 1, -1, False)

    def sample(self, ctx: Any, idx: int) -> int:
        # the chain's stages (top-k, top-p, min-p, temperature, dist or greedy) keep no state
        # between tokens, so the draw that llama_sampler_sample accepts into them costs nothing
        if self.grammar is None:
            return int(llama_cpp.llama_sampler_sample(self.fast, ctx, idx))
        if self.lazy:
            token = int(llama_cpp.llama_sampler_sample(self.fast, ctx, idx))
            if self._allows(token):
                llama_cpp.llama_sampler_accept(self.grammar, token)
                return token
            self.clocks.resampled += 1
        return int(llama_cpp.llama_sampler_sample(self.full, ctx, idx))  # accepts it, grammar too

    def _allows(self, token: int) -> bool:
        self._one.id = llama_cpp.llama_token(token)
        self._one.logit, self._one.p = 0.0, 0.0
        self._check.size, self._check.selected, self._check.sorted = 1, -1, False
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self._check))
        return bool(self._one.logit != -math.inf)

    def free(self) -> None:
        llama_cpp.llama_sampler_free(self.fast)
        if self.full:
            llama_cpp.llama_sampler_free(self.full)  # frees its grammar stage


def chain_for(grammar: Any, job: Draw) -> Any:
    """llama.cpp's sampler chain for `job`, after `grammar` where one is given."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    if grammar:
        llama_cpp.llama_sampler_chain_add(chain, grammar)
    if job.temperature <= 0:
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
        return chain
    for stage in (
        llama_cpp.llama_sampler_init_top_k(TOP_K),
        llama_cpp.llama_sampler_init_top_p(TOP_P, 1),
        llama_cpp.llama_sampler_init_min_p(MIN_P, 1),
        llama_cpp.llama_sampler_init_temp(job.temperature),
        # 0xFFFFFFFF means "a random seed" to llama.cpp: keep every seed reproducible
        llama_cpp.llama_sampler_init_dist(job.seed % 0xFFFFFFFF),
    ):
        llama_cpp.llama_sampler_chain_add(chain, stage)
    return chain
