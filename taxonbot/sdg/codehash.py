"""Which code decides the pairs a leaf's generation keeps, found by reading its imports.

Cached SDG data names a hash of that code, so a change to how documents are cut, what the blocks
ask, how replies parse or how questions are judged alike makes the data again instead of reusing
what the old code kept. The modules are not listed by hand (a list missed the question-similarity
rule the dedupe block calls): they are every taxonbot module that the generation's entry modules
import, directly or through others, at module or function level, read with `ast` (nothing runs).
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the taxonbot folder
# Where a leaf's generation starts: the loop and its key, the job, the pipeline and its blocks,
# and the sample records.
ENTRY_MODULES = (
    "taxonbot.sdg.generate",
    "taxonbot.sdg.leafjob",
    "taxonbot.sdg.pipeline",
    "taxonbot.sdg.blocks",
    "taxonbot.sdg.chunking",
    "taxonbot.sdg.grounding",
    "taxonbot.sdg.replies",
    "taxonbot.sdg.sample",
)


def generation_modules(package: Path = PACKAGE) -> list[Path]:
    """The files of every module the entry modules can import, sorted."""
    files = _module_files(package)
    seen: set[str] = set()
    todo = [name for name in ENTRY_MODULES if name in files]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [i for i in _imports(files[name], name, files) if i not in seen]
    return sorted(files[name] for name in seen)


def generation_code_hash(package: Path = PACKAGE) -> str:
    digest = hashlib.sha256()
    for path in generation_modules(package):
        relative = path.relative_to(package).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _module_files(package: Path) -> dict[str, Path]:
    found = {}
    for path in package.rglob("*.py"):
        parts = ["taxonbot", *path.relative_to(package).with_suffix("").parts]
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, module: str, files: dict[str, Path]) -> list[str]:
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [_known(alias.name, files) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}".strip(".")
            out += [_known(f"{base}.{alias.name}", files) for alias in node.names]
    return [name for name in out if name]


def _known(name: str, files: dict[str, Path]) -> str:
    """The nearest module of ours that `name` (a module or a name in one) belongs to; "" if none."""
    while name and name not in files:
        name = name.rpartition(".")[0]
    return name
