#!/usr/bin/env python3
"""Derive the near-duplicate threshold of `taxonbot gaps` overlap from real contributions.

Reads every qna.yaml of the upstream corpus (../shared/corpus/upstream-taxonomy by default),
embeds each seed question with the same Embedder the bot uses, and measures:

  positives  the same question reworded
             real:      edits between two versions of one upstream leaf (versions that keep at
                        least half their questions verbatim; each changed question paired with
                        the other version's changed question it shares most words with)
             synthetic: every corpus question rewritten by one or two edits people make
                        (typo, synonym, dropped articles, a polite preamble, lowercase without
                        the question mark); labelled by construction
  negatives  questions that are not the same question
             nearest:   for each question, its nearest question in a leaf of another domain
                        (the first two path segments differ) that shares no question verbatim
                        with it: the comparison the bot makes, against leaves about other things
             random:    random pairs from different original leaves (fixed seed), for reference

The threshold is the lowest cosine (rounded up to 0.01) at which at most --fpr (0.5%) of the
nearest negatives score at or above it; the largest recall on positives under that constraint,
since recall only falls as the threshold rises. docs/overlap.md explains the choice and the
numbers. Exit 0 with a note when the corpus is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))

from taxonbot.check.rules.questions import normalise  # noqa: E402
from taxonbot.gaps.embed import Embedder  # noqa: E402
from taxonbot.gaps.questionindex import UnreadableQuestions, seed_questions  # noqa: E402
from taxonbot.gaps.rouge import rouge_l  # noqa: E402

DEFAULT_CORPUS = HERE.parents[2] / "shared" / "corpus" / "upstream-taxonomy"
PERCENTILES = (50, 90, 95, 99, 99.5, 99.9)
SYNONYMS = {
    "tell": "give", "give": "tell", "write": "compose", "compose": "write",
    "explain": "describe", "describe": "explain", "list": "name", "create": "generate",
    "generate": "create", "main": "primary", "primary": "main", "make": "create",
    "show": "give", "find": "identify", "use": "utilize", "help": "assist",
    "important": "significant", "biggest": "largest", "largest": "biggest", "kind": "type",
    "type": "kind", "different": "various", "about": "on", "convert": "transform",
    "summarize": "sum up", "extract": "pull out", "what's": "what is",
}  # fmt: skip
PREAMBLES = (
    "Could you tell me: ",
    "Please answer this: ",
    "I'd like to know: ",
    "Quick question: ",
)
_ARTICLE = re.compile(r"\b(the|a|an) ", re.IGNORECASE)
_LONG_WORD = re.compile(r"[A-Za-z]{5,}")


@dataclass(frozen=True)
class Question:
    text: str
    leaf: str  # the upstream path it was proposed at
    file: int  # which version (blob)


def load_corpus(corpus: Path) -> list[Question]:
    out: list[Question] = []
    with open(corpus / "verdicts.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for number, row in enumerate(rows):
        path = corpus / row["file"]
        if not path.is_file():
            continue
        try:
            found = seed_questions(row["file"], path.read_bytes())
        except UnreadableQuestions:
            continue
        leaf = row["original_path"].rsplit("/", 1)[0]
        out += [Question(text, leaf, number) for text in found]
    return out


# --- positives --------------------------------------------------------------------------------


def real_edits(questions: list[Question]) -> list[tuple[str, str]]:
    """Questions reworded between two versions of one leaf that are revisions of each other."""
    versions: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for q in questions:
        versions[q.leaf][q.file].append(q.text)
    pairs: set[tuple[str, str]] = set()
    for files in versions.values():
        texts = list(files.values())
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                pairs.update(_edits(a, b))
    return sorted(pairs)


def _edits(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    norm_a, norm_b = {normalise(q) for q in a}, {normalise(q) for q in b}
    if len(norm_a & norm_b) < 0.5 * min(len(norm_a), len(norm_b)) or norm_a == norm_b:
        return []  # another contribution that reused the path, or no question changed
    only_a = [q for q in a if normalise(q) not in norm_b]
    only_b = [q for q in b if normalise(q) not in norm_a]
    out = []
    for q in only_a:
        best = max(only_b, key=lambda other: rouge_l(q, other), default=None)
        if best is not None and rouge_l(q, best) >= 0.5:
            out.append((q, best))
    return out


def _typo(text: str, rng: random.Random) -> str | None:
    words = list(_LONG_WORD.finditer(text))
    if not words:
        return None
    word = rng.choice(words)
    i = rng.randrange(word.start() + 1, word.end() - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _synonym(text: str, rng: random.Random) -> str | None:
    words = text.split(" ")
    hits = [i for i, w in enumerate(words) if w.lower().strip("?.,:!") in SYNONYMS]
    if not hits:
        return None
    i = rng.choice(hits)
    core = words[i].lower().strip("?.,:!")
    swap = SYNONYMS[core]
    if words[i][:1].isupper():
        swap = swap[:1].upper() + swap[1:]
    words[i] = swap + words[i][len(core) :]  # keeps the punctuation after the word
    return " ".join(words)


def _articles(text: str, rng: random.Random) -> str | None:
    return _ARTICLE.sub("", text)


def _preamble(text: str, rng: random.Random) -> str | None:
    return rng.choice(PREAMBLES) + text[:1].lower() + text[1:]


def _casual(text: str, rng: random.Random) -> str | None:
    return text.lower().rstrip("?.! ")


EDITS: dict[str, Callable[[str, random.Random], str | None]] = {
    "typo": _typo,
    "synonym": _synonym,
    "articles": _articles,
    "preamble": _preamble,
    "casual": _casual,
}


def synthetic(texts: list[str], rng: random.Random) -> list[tuple[str, str, str]]:
    """(original, rewording, edit): each edit alone, plus two edits in a row."""
    out = []
    for text in texts:
        if len(text) > 300:
            continue  # long grounded prompts: one edit barely moves them, so they flatter recall
        for name, edit in EDITS.items():
            changed = edit(text, rng)
            if changed and changed != text:
                out.append((text, changed, name))
        first, second = rng.sample(sorted(EDITS), 2)
        changed = EDITS[first](text, rng) or text
        changed = EDITS[second](changed, rng) or changed
        if changed != text:
            out.append((text, changed, f"{first}+{second}"))
    return out


# --- negatives --------------------------------------------------------------------------------


def unrelated_mask(questions: list[Question]) -> np.ndarray:
    """True where two questions may serve as a negative: other domain, no verbatim overlap."""
    leaves = sorted({q.leaf for q in questions})
    code = np.array([leaves.index(q.leaf) for q in questions])
    related = np.eye(len(leaves), dtype=bool)
    holders: dict[str, set[int]] = defaultdict(set)
    for q, c in zip(questions, code, strict=True):
        holders[normalise(q.text)].add(int(c))
    for group in holders.values():  # copied between leaves: same contribution, not a negative
        for a in group:
            for b in group:
                related[a, b] = True
    domain = np.array(["/".join(q.leaf.split("/")[:2]) for q in questions])
    return ~(related[code][:, code] | (domain[:, None] == domain[None, :]))


def nearest_negatives(vectors: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.where(mask, vectors @ vectors.T, -np.inf)
    best = scores.argmax(axis=1)
    return scores[np.arange(len(best)), best], best


def random_negatives(questions: list[Question], vectors: np.ndarray, count: int, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(questions), count), rng.integers(0, len(questions), count)
    keep = np.array([questions[i].leaf != questions[j].leaf for i, j in zip(a, b, strict=True)])
    return np.einsum("ij,ij->i", vectors[a[keep]], vectors[b[keep]])


# --- choice -----------------------------------------------------------------------------------


def choose(negatives: np.ndarray, fpr: float) -> float:
    """The lowest threshold, on a 0.01 grid, with at most `fpr` of negatives at or above it."""
    for step in range(0, 101):
        threshold = step / 100
        if float((negatives >= threshold).mean()) <= fpr:
            return threshold
    return 1.0


def rates(pos: np.ndarray, neg: np.ndarray, threshold: float) -> dict[str, float]:
    tp, fp = int((pos >= threshold).sum()), int((neg >= threshold).sum())
    return {
        "recall": tp / max(1, len(pos)),
        "fpr": fp / max(1, len(neg)),
        "precision": tp / max(1, tp + fp),
    }


def percentiles(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {}
    return {f"p{p:g}": round(float(np.percentile(values, p)), 3) for p in PERCENTILES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--fpr", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--random-pairs", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="JSON on stdout")
    args = parser.parse_args(argv)
    if not (args.corpus / "verdicts.tsv").is_file():
        print(f"skipped: no corpus at {args.corpus} (verdicts.tsv missing)", file=sys.stderr)
        return 0
    started = time.monotonic()
    questions = load_corpus(args.corpus)
    embedder = Embedder(threads=args.threads)
    texts = [q.text for q in questions]
    vectors = embedder.embed(texts)
    rng = random.Random(args.seed)
    edits = real_edits(questions)
    made = synthetic(sorted(set(texts)), rng)
    known = dict(zip(texts, vectors, strict=True))
    pos_real = _pair_scores(embedder, known, edits)
    pos_syn = _pair_scores(embedder, known, [(a, b) for a, b, _ in made])
    neg_near, partner = nearest_negatives(vectors, unrelated_mask(questions))
    neg_random = random_negatives(questions, vectors, args.random_pairs, args.seed)
    threshold = choose(neg_near, args.fpr)
    result = {
        "corpus": str(args.corpus),
        "model": embedder.model_id,
        "questions": len(questions),
        "leaves": len({q.leaf for q in questions}),
        "fpr_target": args.fpr,
        "threshold": threshold,
        "threshold_brief_random_pairs": choose(neg_random, args.fpr),
        "counts": {
            "real_edits": len(edits),
            "synthetic": len(made),
            "nearest_negatives": len(neg_near),
            "random_negatives": len(neg_random),
        },
        "percentiles": {
            "positives_real": percentiles(pos_real),
            "positives_synthetic": percentiles(pos_syn),
            "negatives_nearest": percentiles(neg_near),
            "negatives_random": percentiles(neg_random),
        },
        "at": {
            f"{t:.2f}": rates(pos_syn, neg_near, t)
            for t in sorted({threshold - 0.05, threshold, threshold + 0.05, 0.9})
            if 0 < t <= 1
        },
        "recall_by_edit": _by_edit(made, pos_syn, threshold),
        "negatives_above": _above(questions, neg_near, partner, threshold),
        "real_edits": [
            [a, b, round(float(s), 3)] for (a, b), s in zip(edits, pos_real, strict=True)
        ],
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else _text(result))
    return 0


def _pair_scores(
    embedder: Embedder, known: dict[str, np.ndarray], pairs: list[tuple[str, str]]
) -> np.ndarray:
    """Cosine of each pair; the corpus questions' vectors are reused, only rewordings are new."""
    if not pairs:
        return np.zeros(0, np.float32)
    new = sorted({t for pair in pairs for t in pair if t not in known})
    known = {**known, **dict(zip(new, embedder.embed(new), strict=True))}
    left = np.stack([known[a] for a, _ in pairs])
    right = np.stack([known[b] for _, b in pairs])
    return np.einsum("ij,ij->i", left, right)


def _by_edit(made: list[tuple[str, str, str]], scores: np.ndarray, t: float) -> dict[str, Any]:
    groups: dict[str, list[float]] = defaultdict(list)
    for (_, _, name), score in zip(made, scores, strict=True):
        groups["two edits" if "+" in name else name].append(float(score))
    return {
        k: {"n": len(v), "recall": round(float(np.mean(np.array(v) >= t)), 3)}
        for k, v in sorted(groups.items())
    }


def _above(questions: list[Question], scores: np.ndarray, partner: np.ndarray, t: float) -> Any:
    seen, out = set(), []
    for i in np.argsort(-scores):
        if scores[i] < t:
            break
        key = frozenset((int(i), int(partner[i])))
        if key not in seen:
            seen.add(key)
            out.append([round(float(scores[i]), 3), questions[i].text, questions[partner[i]].text])
    return out


def _text(result: dict[str, Any]) -> str:
    lines = [
        f"corpus {result['corpus']}: {result['questions']} questions in {result['leaves']} "
        f"upstream leaves; model {result['model']}; {result['seconds']} s",
        f"pairs: {json.dumps(result['counts'])}",
        "",
        f"{'similarity percentiles':28}"
        + "".join(f"{p:>8}" for p in ("p50", "p90", "p95", "p99", "p99.5", "p99.9")),
    ]
    for name, values in result["percentiles"].items():
        lines.append(f"{name:28}" + "".join(f"{v:>8.3f}" for v in values.values()))
    lines += [
        "",
        f"chosen threshold {result['threshold']:.2f}: the lowest with <= "
        f"{100 * result['fpr_target']:g}% of nearest negatives at or above it",
        f"(the same rule on random pairs would give {result['threshold_brief_random_pairs']:.2f}:"
        " random pairs are too easy to tell apart; see docs/overlap.md)",
        "",
        "synthetic positives against nearest negatives (precision at this mix of "
        f"{result['counts']['synthetic']} positives to {result['counts']['nearest_negatives']} "
        "negatives):",
        f"{'threshold':>10} {'recall':>8} {'FPR':>8} {'precision':>10}",
    ]
    for t, r in result["at"].items():
        lines.append(f"{t:>10} {r['recall']:>8.3f} {r['fpr']:>8.4f} {r['precision']:>10.3f}")
    lines += ["", "synthetic recall by edit at the threshold:"]
    lines += [
        f"  {k:10} n={v['n']:<6} recall {v['recall']:.3f}"
        for k, v in result["recall_by_edit"].items()
    ]
    lines += ["", "nearest negatives at or above the threshold (read them: most are real overlap):"]
    lines += [f"  {s:.3f}  {a[:70]!r} ~ {b[:70]!r}" for s, a, b in result["negatives_above"]]
    lines += ["", "real edits between versions of one leaf (too few to measure; read them):"]
    lines += [f"  {s:.3f}  {a[:70]!r} ~ {b[:70]!r}" for a, b, s in result["real_edits"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
