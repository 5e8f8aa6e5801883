"""The light path stays light: `taxonbot check` never imports the heavy stack.

A contributor runs the check in pre-commit or on a CI runner without torch, llama.cpp or
GitHub libraries; importing any of them would cost seconds (or fail where they are absent).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "llama_cpp", "numpy", "matplotlib", "git", "github", "jinja2")


def test_check_imports_nothing_heavy() -> None:
    probe = (
        "import sys, json\n"
        "from taxonbot.cli.main import main\n"
        "code = main(['check', '--format', 'json', 'taxonomy'])\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
