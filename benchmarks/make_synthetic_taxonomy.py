#!/usr/bin/env python3
"""Write a synthetic taxonomy of N leaves (default 10,000) for benchmarks: valid v3 qna.yaml files.

Deterministic for a seed. About 70% skills (5 to 8 seed examples, a third of them grounded with
a context) and 30% knowledge (5 passages of 3 questions each), every leaf with attribution.txt,
so 5 to 15 questions a leaf. Questions come from templates filled with a subject in a setting,
an aspect, an audience and a form, which gives plausible and varied text: the nearest neighbours
of a question are mostly same-shaped questions about other things, the hard case for a
near-duplicate threshold. 10,000 leaves take a few seconds.

    python benchmarks/make_synthetic_taxonomy.py OUT_DIR [--leaves N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

SUBJECTS = (
    "volcanoes", "tide pools", "honeybees", "the printing press", "glaciers", "coral reefs",
    "sourdough bread", "jazz harmony", "the Roman aqueducts", "solar panels", "bird migration",
    "composting", "the immune system", "medieval castles", "container shipping", "chess openings",
    "rainforests", "electric bicycles", "the water cycle", "origami", "black holes", "wetlands",
    "public libraries", "vaccines", "the Silk Road", "wind turbines", "beekeeping", "typography",
    "river deltas", "the stock market", "mushrooms", "lighthouses", "railway signalling",
    "desert plants", "the Moon landing", "tea ceremonies", "bridges", "compilers", "earthquakes",
    "photosynthesis", "recycling", "sea turtles", "the Olympic Games", "fermentation", "maps",
)  # fmt: skip
ASPECTS = (
    "history", "main causes", "effects on people", "best-known example", "future", "costs",
    "environmental impact", "common myths", "key terms", "safety rules", "early pioneers",
    "role in daily life", "biggest challenge", "measurement", "regional differences",
)  # fmt: skip
SETTINGS = (
    "in Japan", "in the Alps", "in ancient Rome", "in the 1800s", "in West Africa", "in Peru",
    "in small towns", "in the Arctic", "in Victorian London", "in modern India", "in Brazil",
    "in the Middle Ages", "in Australia", "in Scandinavia", "in big cities", "on islands",
    "in the Sahara", "in Canada", "in the Ottoman Empire", "in Mexico", "in Antarctica",
    "in New Zealand", "in the twentieth century", "in Korea", "along the Mediterranean",
)  # fmt: skip
AUDIENCES = (
    "a ten-year-old", "a new employee", "my grandmother", "a busy manager", "a tourist",
    "a high-school class", "a podcast audience", "a skeptical friend", "an engineer",
)  # fmt: skip
FORMS = (
    "haiku", "limerick", "short story", "product description", "tweet", "news headline",
    "thank-you note", "recipe", "bullet list", "two-sentence summary", "riddle", "slogan",
)  # fmt: skip
SKILL_TEMPLATES = (
    "Write a {form} about {subject}.",
    "Could you write me a {form} about {subject} for {audience}?",
    "Explain the {aspect} of {subject} to {audience}.",
    "Give me three facts about the {aspect} of {subject}.",
    "Compose a {form} that mentions the {aspect} of {subject}.",
    "How would you describe {subject} to {audience} in one paragraph?",
    "List the steps someone should follow to learn about {subject}.",
    "Turn this idea into a {form}: {subject} and their {aspect}.",
    "What questions would {audience} ask about {subject}?",
    "Rewrite a sentence about {subject} so that {audience} understands it.",
)
GROUNDED_TEMPLATES = (
    "Summarize the text above about {subject} in a {form}.",
    "Extract every date mentioned in the passage about {subject}.",
    "Which sentence in the text best describes the {aspect} of {subject}?",
    "List the people and places this text about {subject} names.",
    "Rewrite the passage on {subject} for {audience}.",
)
KNOWLEDGE_TEMPLATES = (
    "What can you tell me about the {aspect} of {subject}?",
    "When did people first study {subject}?",
    "Why does the {aspect} of {subject} matter?",
    "How do scientists measure or count {subject}?",
    "Who is known for work on {subject}?",
    "What is a common misunderstanding about {subject}?",
    "How did the {aspect} of {subject} change over time?",
    "Where is {subject} most important today?",
    "How would you explain {subject} to {audience}?",
)
SKILL_BRANCHES = ("writing/freeform", "writing/grounded", "extraction/grounded",
                  "linguistics/style", "reasoning/explanations")  # fmt: skip
KNOWLEDGE_BRANCHES = ("science", "history", "technology", "arts", "geography", "economics")


def sentence(rng: random.Random, subject: str) -> str:
    aspect = rng.choice(ASPECTS)
    year = rng.randrange(1600, 2024)
    return (
        f"The {aspect} of {subject} has been described in many sources since {year}. "
        f"Observers note that {subject} vary from place to place, and that their {aspect} "
        f"is easier to understand with a concrete example."
    )


def fill(template: str, rng: random.Random, subject: str) -> str:
    return template.format(
        subject=subject,
        aspect=rng.choice(ASPECTS),
        audience=rng.choice(AUDIENCES),
        form=rng.choice(FORMS),
    )


def block(text: str, indent: int) -> str:
    pad = " " * indent
    return "|\n" + pad + text + "\n"


def skill_yaml(rng: random.Random, subject: str, grounded: bool) -> str:
    lines = [
        "version: 3",
        "created_by: synthetic-benchmark",
        f"task_description: Answer requests about {subject} clearly and accurately.",
        "seed_examples:",
    ]
    # A dict, not a set: a set's order changes with PYTHONHASHSEED, and so would the file.
    questions: dict[str, None] = {}
    templates = GROUNDED_TEMPLATES if grounded else SKILL_TEMPLATES
    wanted = rng.randint(5, 8)
    while len(questions) < wanted:
        questions[fill(rng.choice(templates), rng, subject)] = None
    for question in questions:
        if grounded:
            lines.append("  - context: " + block(sentence(rng, subject), 6).rstrip("\n"))
            lines.append("    question: " + block(question, 6).rstrip("\n"))
        else:
            lines.append("  - question: " + block(question, 6).rstrip("\n"))
        lines.append("    answer: " + block(f"Here is an answer about {subject}.", 6).rstrip("\n"))
    return "\n".join(lines) + "\n"


def knowledge_yaml(rng: random.Random, subject: str, number: int) -> str:
    lines = [
        "version: 3",
        f"domain: {rng.choice(KNOWLEDGE_BRANCHES)}",
        "created_by: synthetic-benchmark",
        f"document_outline: An overview of {subject}.",
        "seed_examples:",
    ]
    asked: set[str] = set()
    for _ in range(5):
        lines.append("  - context: " + block(sentence(rng, subject), 6).rstrip("\n"))
        lines.append("    questions_and_answers:")
        for _ in range(3):
            question = fill(rng.choice(KNOWLEDGE_TEMPLATES), rng, subject)
            while question in asked:
                question = fill(rng.choice(KNOWLEDGE_TEMPLATES), rng, subject)
            asked.add(question)
            lines.append("      - question: " + block(question, 10).rstrip("\n"))
            lines.append("        answer: " + block(f"It concerns {subject}.", 10).rstrip("\n"))
    lines += [
        "document:",
        f"  repo: https://github.com/synthetic-docs/doc-{number}",
        f"  commit: {rng.getrandbits(160):040x}",
        "  patterns:",
        "    - docs/overview.md",
    ]
    return "\n".join(lines) + "\n"


ATTRIBUTION = (
    "Title of work: Synthetic document {n}\n"
    "Link to work: https://github.com/synthetic-docs/doc-{n}\n"
    "License of the work: CC-BY-4.0\n"
    "Creator names: Benchmark generator\n"
)


def leaf_dir(rng: random.Random, number: int, knowledge: bool, subject: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in subject.lower())
    if knowledge:
        return f"knowledge/{rng.choice(KNOWLEDGE_BRANCHES)}/{slug}/topic_{number:05d}"
    return f"compositional_skills/{rng.choice(SKILL_BRANCHES)}/{slug}/task_{number:05d}"


def generate(out: str, leaves: int, seed: int) -> list[str]:
    """Write the tree; return the qna.yaml paths relative to `out`, in creation order."""
    rng = random.Random(seed)
    written = []
    for number in range(leaves):
        subject = f"{rng.choice(SUBJECTS)} {rng.choice(SETTINGS)}"
        knowledge = rng.random() < 0.3
        rel = leaf_dir(rng, number, knowledge, subject)
        folder = os.path.join(out, rel)
        os.makedirs(folder, exist_ok=True)
        if knowledge:
            text = knowledge_yaml(rng, subject, number)
        else:
            text = skill_yaml(rng, subject, grounded=rng.random() < 0.33)
        with open(os.path.join(folder, "attribution.txt"), "w", encoding="utf-8") as handle:
            handle.write(ATTRIBUTION.format(n=number))
        with open(os.path.join(folder, "qna.yaml"), "w", encoding="utf-8") as handle:
            handle.write(text)
        written.append(f"{rel}/qna.yaml")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--leaves", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    files = generate(args.out, args.leaves, args.seed)
    print(f"{len(files)} leaves under {args.out} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
