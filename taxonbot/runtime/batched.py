"""Several sequences decoded together on one llama.cpp context, through llama-cpp-python's
low-level bindings (llama_batch, llama_decode, the KV "memory" and the sampler chain).

Continuous batching: up to `n_seq_max` requests decode at once, one token each per step in one
llama_batch, and a request that ends frees its slot for the next one at once, its prompt
evaluated in the same llama_batch as the others' next tokens. Requests run in token order, so
that neighbours share the longest prefix. Sequence 0 holds a prompt prefix that the requests
still to come share (the system prompt and seed examples of an SDG round): a request that joins
gets those cells copied (llama_memory_seq_cp: with a unified KV cache the copy shares the
cells) and evaluates only the rest; requests that join together evaluate what they share in
one row (a token with several sequence ids), sequence 0 included where it takes up a new
prefix. The prefix stays after the call, so the next call's shared prompt is not evaluated
again. Sampling is llama.cpp's own sampler chain, one per request, with a grammar checked
lazily (see Sampler). The arithmetic (budgets, cells, shared rows) is in batchplan.py.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import llama_cpp

from taxonbot.runtime.base import BackendError
from taxonbot.runtime.batchplan import Row, budget, cells, prompt_rows
from taxonbot.runtime.sampling import Sampler, chain_for

# ggml's CPU backend multiplies K-quant weights by 8 or more rows through its "tiled" path,
# which unpacks the weight matrix anew on every call (GGML_CPU_TILED_MM, read once, at the first
# such multiply). A decode step of 8-16 sequences does not repay that: on 2 cores here a step
# of 8 took 270 ms instead of 177 on Qwen2.5-1.5B (its q6_K output matrix) and 95 instead of 85
# on the 0.5B, while a 512-token prompt gained 5-7 % (benchmarks/README.md, "the tiled path").
# Off unless set; whoever sets it keeps their choice.
os.environ.setdefault("GGML_CPU_TILED_MM", "0")
MAX_SEQUENCES = 8  # sequences decoded per step; more buys little on a few CPU cores
HOLDER = 0  # the sequence that keeps the shared prompt prefix between requests and calls
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
    evaluated: int = 0  # prompt tokens this job's sequence computed (a shared row counts once)
    seconds: float = 0.0  # this job's share of the wall time (a batch's time split by its rows)
    error: str = ""


@dataclass
class _Live:
    """A request holding a sequence."""

    seq: int
    job: Job
    out: Outcome
    sampler: Sampler
    budget: int  # completion tokens it may make (max_tokens, less where the context ends)
    start: int  # prompt positions copied from the holder when it joined
    shared: int  # its leading cells that the holder holds too
    pos: int = 0  # the next position in its sequence
    last: int = 0  # the token to feed next
    started: bool = False  # its prompt is evaluated and its first token sampled
    done: bool = False

    def cells(self) -> int:
        return cells(len(self.job.tokens), self.budget, self.shared)


@dataclass
class Clocks:
    """Our own clocks around llama_decode (llama.cpp's perf counters count any batch of more
    than one token, a step of several sequences included, as prompt evaluation), and counts.
    A batch that mixes prompt rows and generated tokens splits its time between the two
    clocks by rows."""

    prompt_seconds: float = 0.0  # evaluating prompts
    decode_seconds: float = 0.0  # decoding generated tokens, one per live sequence a step
    steps: int = 0  # llama_decode calls that decoded generated tokens
    stepped: int = 0  # generated tokens those steps decoded (stepped / steps: the batch width)
    joined: int = 0  # requests that joined while others were decoding (a freed slot refilled)
    sample_seconds: float = 0.0  # choosing tokens (the sampler chains and grammars)
    resampled: int = 0  # tokens a grammar rejected after the draw, drawn again under it


class BatchedContext:
    """A llama.cpp context of `n_ctx` cells shared by up to `n_seq_max` requests at once."""

    def __init__(
        self, model: Any, n_ctx: int, n_threads: int, n_seq_max: int = MAX_SEQUENCES
    ) -> None:
        params = llama_cpp.llama_context_default_params()
        self.n_ctx, self.n_seq_max, self.n_batch = n_ctx, n_seq_max, min(n_ctx, 512)
        params.n_ctx, params.n_seq_max = n_ctx, n_seq_max + 1  # and the holder
        params.n_batch = params.n_ubatch = self.n_batch
        params.n_threads = params.n_threads_batch = n_threads
        # One pool of cells for all sequences: a copied prefix shares its cells instead of being
        # duplicated, many short prompts or one long one both fit, and a token may belong to
        # several sequences (llama.cpp allows such coupled sequences only with a unified
        # cache). Flash attention (the default, "auto", is on for CPU) skips the cells a
        # sequence's mask hides, so a step does not pay attention over the others' tokens.
        params.kv_unified = True
        self.ctx = llama_cpp.llama_init_from_model(model, params)
        if not self.ctx:
            raise BackendError(f"llama.cpp could not make a context of {n_ctx} tokens")
        self.vocab = llama_cpp.llama_model_get_vocab(model)
        self._mem = llama_cpp.llama_get_memory(self.ctx)
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, n_seq_max + 1)
        # A recurrent or hybrid model keeps one state per sequence: nothing to copy or share.
        self._shares = not (
            llama_cpp.llama_model_is_recurrent(model) or llama_cpp.llama_model_is_hybrid(model)
        )
        self._cached: list[int] = []  # the tokens the holder keeps, from position 0
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
            ready = [i for i, s in enumerate(samplers) if s is not None]
            pending = deque(sorted(ready, key=lambda i: jobs[i].tokens))
            live: dict[int, _Live] = {}
            while pending or live:
                joined = self._join(pending, live, jobs, outs, samplers)
                try:
                    self._turn(live, joined, pending[0] if pending else None, jobs)
                except BackendError as exc:  # llama_decode failed: these fail, the rest go on
                    for s in live.values():
                        s.out.error = str(exc)
                    live.clear()
                    llama_cpp.llama_memory_clear(self._mem, True)
                    self._cached = []
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

    def _join(
        self,
        pending: deque[int],
        live: dict[int, _Live],
        jobs: Sequence[Job],
        outs: list[Outcome],
        samplers: list[Sampler | None],
    ) -> list[_Live]:
        """Requests that take the free sequences while their cells fit beside the others'
        (the holder's prefix once, then each one's prompt and budget); each gets the holder's
        cells it shares copied."""
        free = [q for q in range(1, self.n_seq_max + 1) if q not in live]
        joined: list[_Live] = []
        while free and pending:
            job = jobs[pending[0]]
            start = min(self._common(job.tokens), len(job.tokens) - 1)
            cap = budget(len(job.tokens), job.max_tokens, self.n_ctx)
            used = len(self._cached) + sum(s.cells() for s in live.values())
            if used + cells(len(job.tokens), cap, start) > self.n_ctx:
                if live:
                    break  # wait for cells to free
                self._trim(start)  # alone, it fits once the holder keeps only what it shares
            i = pending.popleft()
            sampler = samplers[i]
            assert sampler is not None
            s = _Live(free.pop(0), job, outs[i], sampler, cap, start, start)
            if start:
                llama_cpp.llama_memory_seq_cp(self._mem, HOLDER, s.seq, 0, start)
            self.clocks.joined += any(x.started for x in live.values())
            live[s.seq] = s
            joined.append(s)
        return joined

    def _common(self, tokens: Sequence[int]) -> int:
        return _common_prefix(self._cached, tokens) if self._shares else 0

    def _trim(self, keep: int) -> None:
        """The holder keeps its first `keep` tokens."""
        if keep < len(self._cached):
            if not llama_cpp.llama_memory_seq_rm(self._mem, HOLDER, keep, -1):
                raise BackendError("llama.cpp could not shorten the cached prompt")
            self._cached = self._cached[:keep]

    def _turn(
        self, live: dict[int, _Live], joined: list[_Live], upcoming: int | None, jobs: Sequence[Job]
    ) -> None:
        """One llama_batch (or several, n_batch rows each): the next token of every started
        sequence, and the prompts of those that joined; then the finished ones leave."""
        holder = None
        if joined and self._shares:
            # The holder takes up the prefix that the last request joining shares with the
            # next one (or, none left, with those joining: the next call may share it), in
            # the rows that evaluate it anyway, where that is more than it holds for them.
            last = joined[-1]
            if upcoming is not None:
                nxt = jobs[upcoming].tokens
                end, now = _common_prefix(last.job.tokens, nxt), self._common(nxt)
            else:
                end, now = _common_prefix(joined[0].job.tokens, last.job.tokens), last.start
            if end > now:
                self._trim(last.start)
                for s in live.values():
                    s.shared = min(s.shared, last.start)
                holder = (HOLDER, last.seq, end)
                self._cached, last.shared = list(last.job.tokens[:end]), end
        steps = [Row(s.last, s.pos, [s.seq], True) for s in live.values() if s.started]
        entries = [(s.seq, s.job.tokens, s.start) for s in joined]
        tails, ends = prompt_rows(entries, holder, share=self._shares)
        samplers_at: dict[int, list[_Live]] = {}
        for s in joined:
            samplers_at.setdefault(len(steps) + ends[s.seq], []).append(s)
            s.pos, s.started = len(s.job.tokens), True
        rows = steps + tails
        for first in range(0, len(rows), self.n_batch):
            chunk = rows[first : first + self.n_batch]
            stepping = max(0, min(len(steps) - first, len(chunk)))
            share = self._decode(chunk, stepping) / len(chunk)
            for idx, row in enumerate(chunk, start=first):
                owner = live[row.seqs[0]]
                owner.out.seconds += share
                if idx < len(steps):
                    owner.pos += 1
                    self._sample(owner, idx - first)
                else:
                    owner.out.evaluated += 1
                    for s in samplers_at.get(idx, ()):
                        self._sample(s, idx - first)
        for s in [s for s in live.values() if s.done]:
            llama_cpp.llama_memory_seq_rm(self._mem, s.seq, -1, -1)
            del live[s.seq]

    def _decode(self, rows: list[Row], stepping: int) -> float:
        """Decode `rows`, the first `stepping` of them generated tokens; the seconds taken."""
        batch = self._batch
        for i, row in enumerate(rows):
            batch.token[i], batch.pos[i], batch.logits[i] = row.token, row.pos, row.logits
            batch.n_seq_id[i] = len(row.seqs)
            for k, seq in enumerate(row.seqs):
                batch.seq_id[i][k] = seq
        batch.n_tokens = len(rows)
        start = time.perf_counter()
        code = llama_cpp.llama_decode(self.ctx, batch)
        seconds = time.perf_counter() - start
        self.clocks.decode_seconds += seconds * stepping / len(rows)
        self.clocks.prompt_seconds += seconds * (len(rows) - stepping) / len(rows)
        if stepping:
            self.clocks.steps += 1
            self.clocks.stepped += stepping
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
