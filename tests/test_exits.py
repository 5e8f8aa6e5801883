"""Exit codes: one vocabulary (taxonbot.exits.Exit), one meaning per number, for every command.

Workflows read the numbers (pr.yml: check's 1 is findings, above 1 a broken check), so a command
never returns a bare number it made up: it returns an `Exit`, or raises an error that carries one
and `taxonbot.cli.main` turns into one line on stderr.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
import types
from pathlib import Path

import pytest

from taxonbot.cli.main import COMMANDS, main
from taxonbot.errors import CannotRun, Refused, TaxonbotError, UsageError
from taxonbot.exits import Exit

CLI = Path(__file__).resolve().parents[1] / "taxonbot" / "cli"
LIGHT_COMMANDS = ("check", "diff", "collect", "comment", "command", "preview-request", "release",
                  "announce")  # fmt: skip
# Modules another change is moving onto Exit right now (issue 18): skipped until then. Take a
# module off when it is done; never add one.
NOT_YET = frozenset({"build.py"})


def _int_constants(tree: ast.Module) -> set[str]:
    """Module-level names bound to int literals (`USAGE = 2`, `FAILED, USAGE = 1, 2`)."""
    names: set[str] = set()
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs: list[tuple[ast.expr, ast.expr]] = [(target, node.value)]
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts, strict=False))
            for name, value in pairs:
                if isinstance(name, ast.Name) and _is_int(value):
                    names.add(name.id)
    return names


def _is_int(node: ast.expr | None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    )


def bare_exits(path: Path) -> list[str]:
    """`return 2`, `return USAGE` (USAGE = 2), `sys.exit(1)`, `SystemExit(1)` in one module."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    constants = _int_constants(tree)

    def bare(node: ast.expr | None) -> bool:
        return _is_int(node) or (isinstance(node, ast.Name) and node.id in constants)

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and bare(node.value):
            found.append(f"{path.name}:{node.lineno}: return {ast.unparse(node.value)}")  # type: ignore[arg-type]
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("sys.exit", "SystemExit"):
            if node.args and bare(node.args[0]):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_command_returns_a_bare_number() -> None:
    found = [
        line for p in sorted(CLI.glob("*.py")) if p.name not in NOT_YET for line in bare_exits(p)
    ]
    assert found == [], "return an Exit member (taxonbot/exits.py) instead:\n" + "\n".join(found)


def test_the_ast_check_sees_each_spelling(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sys\nFAILED, USAGE = 1, 2\nLIMIT = 5\n"
        "def a():\n    return 0\n"
        "def b():\n    return USAGE\n"
        "def c():\n    sys.exit(1)\n"
        "def d():\n    raise SystemExit(FAILED)\n"
        "def e():\n    return Exit.OK\n"
        "def f():\n    return True\n",
        "utf-8",
    )
    assert [line.split(":")[1] for line in bare_exits(sample)] == ["5", "7", "9", "11"]


@pytest.mark.parametrize("command", LIGHT_COMMANDS)
def test_each_light_command_documents_its_exits_as_exit_members(command: str) -> None:
    exits = importlib.import_module(COMMANDS[command][0]).EXITS
    assert exits and all(type(code) is Exit for code in exits), exits
    assert Exit.OK in exits and all(text.strip() for text in exits.values())
    assert list(exits) == sorted(exits), "in order, as --help shows them"


def test_the_documented_exits_end_the_commands_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 no errors found; 1 errors found; 2 usage" in help_text


def test_the_numbers_workflows_read_never_change() -> None:
    assert (Exit.OK, Exit.NO, Exit.CANNOT) == (0, 1, 2)
    assert (Refused.exit, CannotRun.exit, UsageError.exit) == (Exit.NO, Exit.CANNOT, Exit.CANNOT)


# ---- taxonbot.cli.main maps an error a command did not handle ----------------------------------


def install(monkeypatch: pytest.MonkeyPatch, module: types.ModuleType) -> None:
    """`taxonbot boom` runs `module` (main imports it by name, as it does every command)."""
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(COMMANDS, "boom", (module.__name__, "a command for this test"))


def _command(error: TaxonbotError) -> types.ModuleType:
    module = types.ModuleType("taxonbot_test_boom")

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--flag")

    def run(args: argparse.Namespace) -> Exit:
        raise error

    module.configure, module.run = configure, run  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (Refused("the artifact names another run"), Exit.NO),
        (UsageError("--repo must be OWNER/NAME"), Exit.CANNOT),
        (CannotRun("git could not answer: run `git fetch origin main`"), Exit.CANNOT),
    ],
    ids=["refused", "usage", "cannot-run"],
)
def test_an_escaping_error_is_one_line_and_its_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: TaxonbotError,
    code: Exit,
) -> None:
    install(monkeypatch, _command(error))
    assert main(["boom"]) == code
    out, err = capsys.readouterr()
    assert out == "" and err == f"taxonbot boom: {error}\n"


def test_other_exceptions_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug is a traceback, not a polite line: only TaxonbotError is ours to word."""
    module = _command(TaxonbotError("unused"))
    module.run = lambda args: 1 // 0  # type: ignore[attr-defined]
    install(monkeypatch, module)
    with pytest.raises(ZeroDivisionError):
        main(["boom"])


def test_a_diff_git_cannot_answer_is_one_line_from_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DiffError is a CannotRun: `taxonbot diff` leaves the wording to main."""
    monkeypatch.chdir(tmp_path)  # not a git repository
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert main(["diff", "--base", "main"]) == Exit.CANNOT
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("taxonbot diff: ") and err.count("\n") == 1
