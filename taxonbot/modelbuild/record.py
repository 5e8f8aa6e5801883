"""The build record: manifest.json (what makes the build reproducible) and the model card.

The model card is a Hugging Face README.md: YAML front matter (license, base_model, tags,
library_name, pipeline_tag), then what the build is, the contributions it credits (by PR and
author, escaped: no @-mentions, no backlinks, no raw HTML), evaluation, training data and
settings, and how to reproduce it. Every untrusted string (titles, names, leaf paths) goes
through taxonbot.markdown.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
from pathlib import Path
from typing import Any

import yaml

from taxonbot.diskwrite import write_atomic
from taxonbot.markdown import code, inline

MANIFEST_FORMAT = "taxonbot-build/1"
TOOLS = ("taxonbot", "torch", "transformers", "accelerate", "llama_cpp_python", "gguf", "numpy")


def tool_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            found[name] = importlib.metadata.version(name.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_json(path: Path, body: dict[str, Any]) -> None:
    """`body` as the whole of `path`, never a zero-byte or half file (taxonbot.diskwrite)."""
    write_atomic(path, json.dumps(body, indent=1, sort_keys=False) + "\n")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_card(manifest: dict[str, Any], contributions: list[dict[str, Any]], eval_md: str) -> str:
    version = manifest["version"]
    base = manifest["base"]
    front = {
        "license": "apache-2.0",
        "base_model": base.get("name", "unknown"),
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
        "tags": ["instructlab", "lab", "taxonomy", "community-build", "gguf"],
        "language": ["en"],
    }
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).rstrip(),
        "---",
        "",
        f"# Community build {inline(version)}",
        "",
        "A community model built by taxonbot from the taxonomy at commit "
        f"{code(manifest['taxonomy_commit'][:12])}: synthetic data generated from the "
        "merged `qna.yaml` seeds, then tuned in two phases (knowledge, then skills with a "
        f"replay buffer) from {inline(base.get('name', 'the base model'))}.",
        "",
        f"- Publishable: **{'yes' if manifest['publishable'] else 'no'}** — "
        f"{inline(manifest['evaluation'].get('summary', ''))}",
        f"- Files: `model/` (Hugging Face safetensors + tokenizer), "
        f"`{manifest['export']['gguf']['file']}` (llama.cpp, "
        f"{manifest['export']['gguf']['quant']})",
        "",
        "## Contributions in this build",
        "",
    ]
    if contributions:
        for item in contributions:
            pr = f"PR {item['number']}" if item.get("number") else "direct commit"
            people = [p.get("login") or p.get("name") or "" for p in item.get("authors", [])]
            who = ", ".join(code(str(p)) for p in people if p) or "unknown"
            title = inline(str(item.get("title") or ""))
            paths = [str(leaf.get("path", "")) for leaf in item.get("leaves", [])]
            leaves = ", ".join(code(path) for path in paths[:6])
            lines.append(f"- {pr} by {who}: {title}" + (f" ({leaves})" if leaves else ""))
    else:
        lines.append("No new contributions since the previous build.")
    failed = [leaf for leaf in manifest["data"]["leaves"] if leaf["status"] == "failed"]
    if failed:
        lines += ["", "Leaves excluded from this build (generation failed):", ""]
        for leaf in failed:
            lines.append(f"- {code(leaf['leaf'])}: {inline(leaf.get('reason', ''))}")
    data = manifest["data"]
    mixing = manifest["mixing"]
    lines += [
        "",
        eval_md.rstrip() or "## Evaluation\n\nNot evaluated.",
        "",
        "## Training data",
        "",
        f"- Leaves: {len(data['leaves'])} ({data['cached']} reused from the data cache, "
        f"{data['generated']} generated, {len(failed)} failed)",
        f"- Phase 1 (knowledge): {mixing['phase1']['samples']} samples{_own(mixing['phase1'])}",
        f"- Phase 2 (skills + replay): {mixing['phase2']['samples']} samples "
        f"(replay of knowledge {mixing['ratios']['replay_knowledge']:.0%}, "
        f"of the previous build's data {mixing['ratios']['replay_previous']:.0%})"
        f"{_own(mixing['phase2'])}",
        f"- Teacher: {inline(manifest['teacher'].get('model', 'unknown'))}",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    for name, value in sorted(manifest["training"]["config"].items()):
        lines.append(f"| {inline(name)} | {inline(str(value))} |")
    lines += [
        "",
        "![loss](plots/loss.png)",
        "",
        "![scores](plots/scores.png)",
        "",
        "## Reproduce",
        "",
        "`manifest.json` records the taxonomy commit, every leaf's blob id and data hash, the "
        "base model's hash, the pipeline and template versions, the hyperparameters, the seeds "
        "and the tool versions. With the same inputs:",
        "",
        "```",
        f"taxonbot build --commit {manifest['taxonomy_commit']} "
        + ("--previous PREVIOUS_BUILD" if manifest.get("previous") else "--base-model BASE.gguf")
        + f" --seed {manifest['seed']}",
        "```",
        "",
        "## Limitations",
        "",
        "A small community model tuned on synthetic data from a small teacher: it can be wrong "
        "with confidence. Check its answers before relying on them.",
        "",
    ]
    return "\n".join(lines)


def _own(phase: dict[str, Any]) -> str:
    count = phase.get("replay_self", 0)
    return f", {count} of them the start model's own answers to general requests" if count else ""
