"""Several sequences decoded together on one llama.cpp context, through llama-cpp-python's
low-level bindings (llama_batch, llama_decode, the KV "memory" and the sampler chain).

A call runs its jobs in groups of at most `n_seq_max` sequences whose prompts, generation
budgets and shared prefix fit the context at once. In a group the prompts' common prefix (the
system prompt and seed examples of an SDG round) is evaluated once into sequence 0 and copied
to the others (llama_memory_seq_cp: with a unified KV cache the copy shares the cells), each
sequence then evaluates its own suffix, and every step decodes one token for each live sequence
in one llama_batch. The prefix stays in the cache after the call, so the next call's shared
prefix is not evaluated again. Sampling is llama.cpp's own sampler chain, one per sequence,
with a grammar checked lazily (see Sampler).
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import llama_cpp

from taxonbot.runtime.base import BackendError
from taxonbot.runtime.batchplan import plan_groups
from taxonbot.runtime.sampling import Sampler, chain_for

MAX_SEQUENCES = 8  # sequences decoded per step; more buys little on a few CPU cores
_MAX_CAPTURED = 4096  # bytes of llama.cpp's stderr kept for an error message


@dataclass(frozen=True)
class Job:
    """One request, rendered and tokenized."""

    tokens: list[int]
    max_tokens: int
    temperature: float = 0.0  # 0: greedy
    seed: int = 0
    stop: tuple[bytes, ...] = ()
    grammar: str = ""  # GBNF whose rule "root" the reply must follow, or "" for free text


@dataclass
class Outcome:
    text: bytes = b""
    finish_reason: str = "length"  # "stop" | "length" | "error"
    completion_tokens: int = 0
    evaluated: int = 0  # prompt tokens this job's sequence computed (a shared prefix counts once)
    seconds: float = 0.0  # this job's share of the wall time (a step's time split among its jobs)
    error: str = ""


@dataclass
class _Live:
    """A sequence being decoded."""

    seq: int
    job: Job
    out: Outcome
    sampler: Sampler
    budget: int  # completion tokens it may make (max_tokens, less where the context ends)
    pos: int = 0  # the next position in its sequence
    last: int = 0  # the token to feed next
    done: bool = False


@dataclass
class Clocks:
    """Our own clocks around llama_decode (llama.cpp's perf counters count any batch of more
    than one token, a step of several sequences included, as prompt evaluation), and counts."""

    prompt_seconds: float = 0.0  # decoding prompts (prefixes and suffixes)
    decode_seconds: float = 0.0  # decoding generated tokens, one per live sequence a step
    steps: int = 0
    groups: int = 0
    sample_seconds: float = 0.0  # choosing tokens (the sampler chains and grammars)
    resampled: int = 0  # tokens a grammar rejected after the draw, drawn again under it


MIN_SHARED = 16  # tokens a follower must share with a leader for a copy to be worth a pass


class BatchedContext:
    """A llama.cpp context of `n_ctx` cells shared by up to `n_seq_max` sequences."""

    def __init__(
        self, model: Any, n_ctx: int, n_threads: int, n_seq_max: int = MAX_SEQUENCES
    ) -> None:
        params = llama_cpp.llama_context_default_params()
        self.n_ctx, self.n_seq_max, self.n_batch = n_ctx, n_seq_max, min(n_ctx, 512)
        params.n_ctx, params.n_seq_max = n_ctx, n_seq_max
        params.n_batch = params.n_ubatch = self.n_batch
        params.n_threads = params.n_threads_batch = n_threads
        # One pool of cells for all sequences: a copied prefix shares its cells instead of being
        # duplicated, and a group of many short prompts or one long one both fit. Flash
        # attention (the default, "auto", is on for CPU) skips the cells a sequence's mask hides,
        # so a step does not pay attention over the other sequences' tokens.
        params.kv_unified = True
        self.ctx = llama_cpp.llama_init_from_model(model, params)
        if not self.ctx:
            raise BackendError(f"llama.cpp could not make a context of {n_ctx} tokens")
        self.vocab = llama_cpp.llama_model_get_vocab(model)
        self._mem = llama_cpp.llama_get_memory(self.ctx)
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self._cached: list[int] = []  # the tokens held in sequence 0 from position 0
        self.clocks = Clocks()
        self.lazy_grammar = True  # False: every token under the grammar (a reference for tests)

    def close(self) -> None:
        if self.ctx:
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self.ctx)
            self.ctx = None

    def run(self, jobs: Sequence[Job]) -> list[Outcome]:
        """One Outcome per job, in order; a job that cannot run is an "error" Outcome."""
        outs = [Outcome() for _ in jobs]
        samplers: list[Sampler | None] = [None] * len(jobs)
        try:
            for i, job in enumerate(jobs):
                samplers[i], outs[i].error = self._sampler(job)
            ready = {i: s for i, s in enumerate(samplers) if s is not None}
            order = list(ready)
            for group in plan_groups([jobs[i] for i in order], self.n_ctx, self.n_seq_max):
                members = [order[k] for k in group.members]
                live = [
                    _Live(seq, jobs[i], outs[i], ready[i], budget)
                    for seq, (i, budget) in enumerate(zip(members, group.budgets, strict=True))
                ]
                self._run_group(group.prefix, live)
        finally:
            for sampler in samplers:
                if sampler is not None:
                    sampler.free()
        for out in outs:
            if out.error:
                out.finish_reason = "error"
        return outs

    def _sampler(self, job: Job) -> tuple[Sampler | None, str]:
        grammar = None
        if job.grammar:
            with _captured_stderr() as said:
                grammar = llama_cpp.llama_sampler_init_grammar(
                    self.vocab, job.grammar.encode("utf-8"), b"root"
                )
            if not grammar:
                return None, (
                    f"llama.cpp rejected the request's GBNF grammar: {_grammar_error(said)}; "
                    "fix it (the grammar needs a rule named root, see llama.cpp's "
                    "grammars/README.md) or send the request without one"
                )
        fast = chain_for(None, job)
        full = chain_for(grammar, job) if grammar else None
        return Sampler(fast, full, self.lazy_grammar, self.clocks), ""

    def _run_group(self, prefix: list[int], live: list[_Live]) -> None:
        self.clocks.groups += 1
        reused = self._keep(prefix)
        try:
            self._prompt(prefix, reused, live)
            while any(not s.done for s in live):
                self._step([s for s in live if not s.done])
        except BackendError as exc:  # llama_decode failed: these jobs fail, later groups go on
            for s in live:
                if not s.done:
                    s.out.error, s.done = str(exc), True
            llama_cpp.llama_memory_clear(self._mem, True)
            self._cached = []
            return
        for s in live[1:]:
            llama_cpp.llama_memory_seq_rm(self._mem, s.seq, -1, -1)
        llama_cpp.llama_memory_seq_rm(self._mem, 0, len(prefix), -1)
        self._cached = list(prefix)

    def _keep(self, prefix: list[int]) -> int:
        """Drop the cache past its common prefix with `prefix`; the tokens still cached."""
        common = _common_prefix(self._cached, prefix)
        if not llama_cpp.llama_memory_seq_rm(self._mem, -1, common, -1):
            llama_cpp.llama_memory_clear(self._mem, True)  # a recurrent model: no partial removal
            common = 0
        self._cached = self._cached[:common]
        return common

    def _prompt(self, prefix: list[int], reused: int, live: list[_Live]) -> None:
        rows = [(t, p, 0, False) for p, t in enumerate(prefix[reused:], start=reused)]
        first = live[0]
        for chunk in _chunks(rows, self.n_batch):
            first.out.seconds += self._decode(chunk, prompt=True)
        first.out.evaluated += len(prefix) - reused
        for s in live[1:]:
            llama_cpp.llama_memory_seq_cp(self._mem, 0, s.seq, -1, -1)
        # Members that share more than the group's prefix (the candidates of one sample differ
        # only in their last tokens) share that too: a leader evaluates its whole tail, then
        # each follower gets the shared cells copied and evaluates only what is its own.
        leaders, followers = _partners(len(prefix), live)
        self._tails(prefix, leaders, {})
        for s, leader, shared in followers:
            start, end = len(prefix), len(prefix) + shared
            llama_cpp.llama_memory_seq_cp(self._mem, leader.seq, s.seq, start, end)
        self._tails(prefix, [s for s, _, _ in followers], {s.seq: n for s, _, n in followers})

    def _tails(self, prefix: list[int], live: list[_Live], skip: dict[int, int]) -> None:
        """Evaluate each member's prompt past the prefix (less `skip[seq]` tokens already
        copied into it), sampling its first token from the last one."""
        rows = []
        for s in live:
            start = len(prefix) + skip.get(s.seq, 0)
            tail = s.job.tokens[start:]
            s.out.evaluated += len(tail)
            s.pos = len(s.job.tokens)
            rows += [(t, start + k, s.seq, k == len(tail) - 1) for k, t in enumerate(tail)]
        by_seq = {s.seq: s for s in live}
        for chunk in _chunks(rows, self.n_batch):
            seconds = self._decode(chunk, prompt=True)
            for s in live:  # each sequence pays for its own rows
                s.out.seconds += seconds * sum(r[2] == s.seq for r in chunk) / len(chunk)
            for idx, row in enumerate(chunk):
                if row[3]:
                    self._sample(by_seq[row[2]], idx)

    def _step(self, live: list[_Live]) -> None:
        seconds = self._decode([(s.last, s.pos, s.seq, True) for s in live], prompt=False)
        for idx, s in enumerate(live):
            s.pos += 1
            s.out.seconds += seconds / len(live)
            self._sample(s, idx)

    def _decode(self, rows: list[tuple[int, int, int, bool]], prompt: bool) -> float:
        batch = self._batch
        for i, (token, pos, seq, logits) in enumerate(rows):
            batch.token[i], batch.pos[i], batch.logits[i] = token, pos, logits
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
        batch.n_tokens = len(rows)
        start = time.perf_counter()
        code = llama_cpp.llama_decode(self.ctx, batch)
        seconds = time.perf_counter() - start
        if prompt:
            self.clocks.prompt_seconds += seconds
        else:
            self.clocks.decode_seconds += seconds
            self.clocks.steps += 1
        if code != 0:
            raise BackendError(
                f"llama.cpp failed to decode a batch of {len(rows)} tokens (llama_decode "
                f"returned {code}); retry with fewer or shorter requests"
            )
        return seconds

    def _sample(self, s: _Live, idx: int) -> None:
        start = time.perf_counter()
        token = s.sampler.sample(self.ctx, idx)
        self.clocks.sample_seconds += time.perf_counter() - start
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            s.out.finish_reason, s.done = "stop", True
        else:
            s.out.completion_tokens += 1
            s.last = token
            before = len(s.out.text)
            s.out.text += _piece(self.vocab, token)
            cut = _first_stop(s.out.text, s.job.stop, before)
            if cut >= 0:
                s.out.text, s.out.finish_reason, s.done = s.out.text[:cut], "stop", True
            elif s.out.completion_tokens >= s.budget:
                s.out.finish_reason, s.done = "length", True
        s.out.seconds += time.perf_counter() - start


def _first_stop(text: bytes, stops: tuple[bytes, ...], before: int) -> int:
    """Where the first stop string that the newest piece completed starts, or -1. Only stops
    that end past `before` can be new; the earliest wins. As create_completion, the text is cut
    where the stop string starts."""
    found = [text.find(s, max(0, before - len(s) + 1)) for s in stops if s]
    found = [at for at in found if at >= 0]
    return min(found) if found else -1


def _piece(vocab: Any, token: int) -> bytes:
    """The token's text as create_completion shows it (special tokens hidden)."""
    buf = ctypes.create_string_buffer(64)
    n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
    if n < 0:  # the piece is longer than the buffer: -n is its length
        buf = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
    return buf.raw[:n]


def _partners(shared: int, live: list[_Live]) -> tuple[list[_Live], list[tuple[_Live, _Live, int]]]:
    """Split a group into leaders and followers: a follower shares at least MIN_SHARED tokens
    past the group's prefix with a leader (the one it shares most with), and keeps at least one
    token of its own to sample from."""
    leaders: list[_Live] = []
    followers: list[tuple[_Live, _Live, int]] = []  # (follower, its leader, tokens shared)
    for s in live:
        tail = s.job.tokens[shared:]
        best, most = None, 0
        for leader in leaders:
            n = _common_prefix(leader.job.tokens[shared:], tail)
            if n > most:
                best, most = leader, n
        most = min(most, len(tail) - 1)
        if best is not None and most >= MIN_SHARED:
            followers.append((s, best, most))
        else:
            leaders.append(s)
    return leaders, followers


def _chunks(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """What C code writes to file descriptor 2 while the block runs, kept from the terminal:
    llama.cpp's grammar parser prints why it rejects a grammar there (fprintf(stderr)), not
    through its log callback. The lines come back once the block ends."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield lines
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                tmp.seek(0)
                lines += tmp.read(_MAX_CAPTURED).decode("utf-8", errors="replace").splitlines()
    finally:
        os.close(saved)


def _grammar_error(lines: list[str]) -> str:
    """The parser's own reason ("Undefined rule identifier 'foo'"), or its first line."""
    for line in lines:
        if "error parsing grammar:" in line:
            return line.split("error parsing grammar:", 1)[1].strip()
    return next((line.strip() for line in lines if line.strip()), "no reason given")
