"""The composed YAML tree we keep: plain values plus the line:col of every node and key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from taxonbot.taxonomy.findings import Position, clip

YamlPath = tuple[str | int, ...]
_NO_KEY = object()


@dataclass(slots=True)
class Node:
    """One YAML node. Scalars keep their text; None only for an empty, `~` or `null` value."""

    kind: str  # "map" | "seq" | "scalar"
    pos: Position
    value: str | None = None
    items: list[Node] = field(default_factory=list)
    keys: list[Node] = field(default_factory=list)  # for maps: key nodes, parallel to items
    flow: bool = False  # `[a, b]` / `{a: b}` rather than block style
    end_line: int = 0  # scalars: the line where the text ends (block scalars span lines)
    # maps: each key's first slot in `keys`, so a lookup costs the same for 5 keys or 50,000
    index: dict[str | None, int] | None = None

    def to_python(self) -> Any:
        if self.kind == "scalar":
            return self.value
        if self.kind == "seq":
            return [child.to_python() for child in self.items]
        return {k.value: v.to_python() for k, v in zip(self.keys, self.items, strict=True)}

    def child(self, step: str | int) -> Node | None:
        if self.kind == "seq" and isinstance(step, int) and 0 <= step < len(self.items):
            return self.items[step]
        if self.kind == "map" and isinstance(step, str):
            slot = self.slot(step)
            if slot is not None and slot < len(self.items):
                return self.items[slot]
        return None

    def key_node(self, name: str | None) -> Node | None:
        slot = self.slot(name) if self.kind == "map" else None
        return None if slot is None else self.keys[slot]

    def slot(self, name: str | None) -> int | None:
        """Where the first key called `name` sits in `keys` (the loader keeps the index)."""
        if self.index is None:
            self.index = {}
            for at, key in enumerate(self.keys):
                self.index.setdefault(key.value, at)
        return self.index.get(name)


def walk(root: Node) -> Iterator[Node]:
    """Every node, parents before children, without recursion (depth is capped anyway)."""
    todo = [root]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(reversed(node.items))
        todo.extend(reversed(node.keys))


def locate(root: Node | None, path: YamlPath, *, key: bool = False) -> Position:
    """Position of the node at `path`, or of its nearest existing ancestor.

    With `key=True` the last step names a mapping key and we point at the key itself,
    which is where an editor should put the cursor for "unexpected key" findings.
    """
    node = root
    if node is None:
        return Position()
    steps = list(path)
    last = steps.pop() if key and steps else _NO_KEY
    for step in steps:
        nxt = node.child(step)
        if nxt is None:
            return node.pos
        node = nxt
    if last is not _NO_KEY:
        key_node = node.key_node(last)  # type: ignore[arg-type]  # a null key is None
        if key_node is not None:
            return key_node.pos
    return node.pos


def format_path(path: YamlPath) -> str:
    """`("seed_examples", 2, "answer")` -> `seed_examples[2].answer`."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            name = clip(str(step))
            out += f".{name}" if out else name
    return out
