"""The safe loader for untrusted `qna.yaml` bytes.

Why not `yaml.safe_load`: it expands aliases (billion laughs), keeps the last of duplicate keys,
turns `answer: no` into False and `version: 3.10` into 3.1, drops line numbers, and PyYAML's
composer recurses once per nesting level (the C one segfaults near 30,000 levels). We read
libyaml's flat event stream instead, which never recurses, and compose it ourselves with an
explicit stack, a depth cap, and every scalar kept as text until the schema types it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from taxonbot.taxonomy.findings import Finding, Position, error, quoted
from taxonbot.taxonomy.invisible import YAML_REFUSES, invisible_findings, nothing_visible
from taxonbot.taxonomy.textlines import Mark, byte_position, mark_positions, position_of_offset
from taxonbot.taxonomy.yamlerrors import syntax_finding
from taxonbot.taxonomy.yamlnode import Node

DEFAULT_MAX_BYTES = 256 * 1024
DEFAULT_MAX_DEPTH = 64
MAX_REPEATS = 3  # per rule and file: an alias bomb must not become 10,000 findings

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_FOREIGN_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


@dataclass(frozen=True)
class LoadLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH


@dataclass
class Loaded:
    """What the loader could make of one file: the text (if decodable) and tree (if parsable)."""

    path: str
    text: str | None = None
    root: Node | None = None
    findings: list[Finding] = field(default_factory=list)
    scalar_lines: set[int] = field(default_factory=set)  # inside multi-line scalars
    block_maps: list[Node] = field(default_factory=list)  # for the indentation rule

    @property
    def ok(self) -> bool:
        return self.root is not None


def read_bytes(path: str, limits: LoadLimits, out: Loaded) -> bytes | None:
    try:
        info = os.lstat(path)
    except OSError as exc:
        out.findings.append(
            error(
                "file.unreadable",
                path,
                Position(),
                f"The file cannot be read ({exc.strerror}).",
                "Check that the path exists and is a file you can read.",
            )
        )
        return None
    if stat.S_ISLNK(info.st_mode):
        out.findings.append(
            error(
                "file.symlink",
                path,
                Position(),
                "This is a symbolic link, not a file; taxonomy files must be regular files.",
                "Replace the link with a copy of the file's content.",
            )
        )
        return None
    if not stat.S_ISREG(info.st_mode):
        out.findings.append(
            error(
                "file.not-regular",
                path,
                Position(),
                "This is not a regular file.",
                "Taxonomy entries must be plain text files.",
            )
        )
        return None
    with open(path, "rb") as handle:
        data = handle.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        out.findings.append(
            error(
                "file.too-large",
                path,
                Position(),
                f"The file is larger than {limits.max_bytes // 1024} KiB "
                f"({max(info.st_size, len(data)) // 1024} KiB or more).",
                "Keep seed examples short; put long source material in the knowledge document.",
            )
        )
        return None
    return data


def decode(path: str, data: bytes, out: Loaded) -> str | None:
    for bom, name in _FOREIGN_BOMS:
        if data.startswith(bom):
            out.findings.append(
                error(
                    "encoding.not-utf8",
                    path,
                    Position(),
                    f"The file is encoded as {name}; taxonomy files must be UTF-8.",
                    "Save the file as UTF-8 (in most editors: File > Save with encoding > UTF-8).",
                )
            )
            return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a leading UTF-8 BOM is harmless and some editors add it
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.findings.append(
            error(
                "encoding.not-utf8",
                path,
                byte_position(data, exc.start),
                f"Byte 0x{data[exc.start]:02x} here is not valid UTF-8.",
                "Save the file as UTF-8, or retype the character at this position.",
            )
        )
        return None
    blank = nothing_visible(path, text)
    if blank is not None:  # clearer than a stray BOM or a one-scalar document of U+200B
        out.findings += [blank, *invisible_findings(path, text)]
        return None
    stray = text.find("\ufeff")
    if stray >= 0:
        out.findings.append(
            error(
                "encoding.stray-bom",
                path,
                position_of_offset(text, stray),
                "An invisible byte-order mark (U+FEFF) sits in the middle of the file.",
                "Delete the invisible character at this position (often left by copy and paste).",
            )
        )
        return None
    return text


def load(path: str, limits: LoadLimits | None = None) -> Loaded:
    """Read, decode and compose one file. Never raises for bad content; findings say why."""
    limits = limits or LoadLimits()
    out = Loaded(path)
    data = read_bytes(path, limits, out)
    if data is None:
        return out
    out.text = decode(path, data, out)
    if out.text is None:
        return out
    return compose_text(path, out.text, limits, out)


def compose_text(path: str, text: str, limits: LoadLimits, out: Loaded | None = None) -> Loaded:
    out = out or Loaded(path, text)
    hidden = invisible_findings(path, text)
    if hidden:
        out.findings += hidden
        if YAML_REFUSES.search(text):  # libyaml would stop at the first, less clearly
            return out
    composer = _Composer(path, limits.max_depth, out, mark_positions(text))
    parser = yaml.CBaseLoader(text)
    try:
        while parser.check_event():
            if not composer.feed(parser.get_event()):  # type: ignore[arg-type]
                break
    except yaml.MarkedYAMLError as exc:
        out.findings.append(syntax_finding(path, exc, text))
        return out
    except yaml.YAMLError as exc:  # reader errors (U+FFFE, U+FFFF) carry a byte offset, no mark
        out.findings.append(syntax_finding(path, exc, text))
        return out
    finally:
        parser.dispose()
    out.root = composer.finish()
    if out.root is None and not out.findings:
        out.findings.append(
            error(
                "file.empty",
                path,
                Position(),
                "The file is empty (or holds only comments).",
                "Fill in the template from taxonomy/CONTRIBUTING.md, or delete the file.",
            )
        )
    return out


class _Composer:
    """Builds Nodes from events with an explicit stack; refuses what a qna.yaml never needs."""

    def __init__(
        self, path: str, max_depth: int, out: Loaded, place: Callable[[Mark], Position] | None
    ) -> None:
        self.path = path
        # libyaml's mark -> GitHub's line:col (taxonomy/textlines.py); None: libyaml's own
        self.place = place
        self.max_depth = max_depth
        self.out = out
        self.findings = out.findings
        self.stack: list[Node] = []
        self.pending_key: list[Node | None] = []
        self.roots: list[Node] = []
        self.counts: dict[str, int] = {}
        self.fatal = False

    def report(self, rule: str, pos: Position, message: str, hint: str) -> None:
        seen = self.counts.get(rule, 0)
        self.counts[rule] = seen + 1
        if seen < MAX_REPEATS:
            self.findings.append(error(rule, self.path, pos, message, hint))

    def feed(self, event: yaml.Event) -> bool:
        # Dispatch on the exact class, scalars first: this runs once per event of every file.
        cls = event.__class__
        mark = event.start_mark
        if not mark:
            pos = Position()
        else:  # textlines.mark_position, inlined: this runs once per event of every file
            pos = self.place(mark) if self.place else Position(mark.line + 1, mark.column + 1)
        if cls is yaml.ScalarEvent:
            self.scalar(event, pos)  # type: ignore[arg-type]
        elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
            return self.open(event, pos)  # type: ignore[arg-type]
        elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
            self.stack.pop()
            self.pending_key.pop()
        elif cls is yaml.AliasEvent:
            self.report(
                "yaml.alias",
                pos,
                f"{quoted(f'*{event.anchor}')} repeats another part of the file (a YAML alias).",  # type: ignore[attr-defined]
                "Write the text out in full; anchors and aliases are not allowed in qna.yaml.",
            )
            self.attach(Node("scalar", pos, None))
        elif cls is yaml.DocumentStartEvent and self.roots:
            self.report(
                "yaml.multi-document",
                pos,
                "The file holds more than one YAML document (a second `---`).",
                "Keep one document per qna.yaml; remove the extra `---` line.",
            )
            return False
        return True

    def scalar(self, event: yaml.ScalarEvent, pos: Position) -> None:
        if event.anchor is not None or event.tag is not None:
            self.check_props(event, pos)
        value = event.value
        plain = event.implicit[0] and not event.style
        node = Node("scalar", pos, None if plain and value in _NULLS else value)
        mark = event.end_mark
        # A block scalar ends at column 1 of the line after its text: that line is not inside.
        if mark and self.place:
            end_at = self.place(mark)
            end = end_at.line - (end_at.col == 1)
        else:
            end = (mark.line + (mark.column > 0)) if mark else pos.line
        node.end_line = end
        if end > pos.line:
            self.out.scalar_lines.update(range(pos.line + 1, end + 1))
        self.attach(node)

    def open(self, event: yaml.CollectionStartEvent, pos: Position) -> bool:
        if event.anchor is not None or event.tag is not None:
            self.check_props(event, pos)
        if len(self.stack) >= self.max_depth:
            self.report(
                "yaml.too-deep",
                pos,
                f"The content is nested more than {self.max_depth} levels deep "
                f"({len(self.stack) + 1} levels here; the limit is {self.max_depth}).",
                "A qna.yaml needs only a few levels; flatten the structure.",
            )
            self.fatal = True
            return False
        kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
        node = Node(kind, pos, flow=bool(event.flow_style))
        if kind == "map":
            node.index = {}  # kept as keys arrive: the duplicate scan is one lookup per key
            if not node.flow:
                self.out.block_maps.append(node)
        self.attach(node)
        self.stack.append(node)
        self.pending_key.append(None)
        return True

    def attach(self, node: Node) -> None:
        if not self.stack:
            self.roots.append(node)
            return
        parent = self.stack[-1]
        if parent.kind == "seq":
            parent.items.append(node)
            return
        key = self.pending_key[-1]
        if key is None:
            self.pending_key[-1] = self.check_key(parent, node)
            return
        if parent.index is not None:
            parent.index.setdefault(key.value, len(parent.keys))
        parent.keys.append(key)
        parent.items.append(node)
        self.pending_key[-1] = None

    def check_key(self, parent: Node, key: Node) -> Node:
        if key.kind != "scalar":
            self.report(
                "yaml.complex-key",
                key.pos,
                "A list or mapping is used as a key.",
                "Keys must be plain words such as `question:`.",
            )
            return Node("scalar", key.pos, f"<complex key at line {key.pos.line}>")
        if key.value == "<<":
            self.report(
                "yaml.merge-key",
                key.pos,
                "`<<` merges another mapping in (a YAML merge key).",
                "Write the fields out in full; merge keys are not allowed in qna.yaml.",
            )
        slot = parent.slot(key.value)
        if slot is not None:
            self.report(
                "yaml.duplicate-key",
                key.pos,
                f"{quoted(key.value)} appears twice in this mapping "
                f"(first at line {parent.keys[slot].pos.line}); YAML would silently keep only one.",
                "Delete one of the two, or merge their content.",
            )
        return key

    def check_props(self, event: yaml.NodeEvent, pos: Position) -> None:
        tag = getattr(event, "tag", None)
        if event.anchor is not None:
            self.report(
                "yaml.anchor",
                pos,
                f"{quoted('&' + str(event.anchor))} marks this part for reuse (a YAML anchor).",
                "Remove the anchor; write repeated text out in full.",
            )
        if tag is not None and tag != "!":
            self.report(
                "yaml.tag",
                pos,
                f"The explicit tag {quoted(tag)} asks YAML for a special type.",
                "Remove the tag; every value in qna.yaml is plain text.",
            )

    def finish(self) -> Node | None:
        if self.fatal:
            return None
        return self.roots[0] if self.roots else None
