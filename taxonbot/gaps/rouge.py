"""ROUGE-L: how much of a reference survives, in order, in a candidate (Lin, 2004).

The F-measure of the longest common subsequence of lowercase word tokens, with beta = 1 (recall
and precision weigh the same), as `rouge-score`'s `rougeL` without stemming, except that letters
outside ASCII count as word characters: rouge-score drops them, which would score every answer
in Japanese or Greek 0 and turn "café" into "caf". Both texts are cut
at MAX_TOKENS words first: the dynamic programme is O(n * m), and a model that rambles on for
10,000 words must not cost 10^8 steps.
"""

from __future__ import annotations

import re

MAX_TOKENS = 512
_TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits, in any script


def tokens(text: str, limit: int = MAX_TOKENS) -> list[str]:
    found: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        if len(found) >= limit:
            break
        found.append(match.group())
    return found


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, in O(len(a) * len(b)) time, O(len(b)) memory."""
    if len(b) > len(a):
        a, b = b, a
    row = [0] * (len(b) + 1)
    for word in a:
        diagonal = 0  # row[j - 1] of the previous row
        for j, other in enumerate(b, start=1):
            above = row[j]
            row[j] = diagonal + 1 if word == other else max(above, row[j - 1])
            diagonal = above
    return row[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 in [0, 1]; 0.0 when either text has no words."""
    cand, ref = tokens(candidate), tokens(reference)
    if not cand or not ref:
        return 0.0
    common = lcs_length(cand, ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(cand), common / len(ref)
    return 2 * precision * recall / (precision + recall)
