#!/usr/bin/env python3
"""Benchmark `taxonbot check` against upstream's own tools, in one run, over one corpus.

Contenders, each a separate child process whose cost comes from os.wait4 (CPU = user + sys of
the child and of every descendant it reaped; peak RSS = the largest single process in that tree):

  ours            taxonbot check --format json <corpus dir>   (whole-tree audit mode)
  yamllint        one process, yamllint's Python API, upstream's lint config, every qna.yaml
  TaxonomyParser  instructlab-schema 0.4.2 TaxonomyParser(schema_version=0).parse() per file,
                  the flow upstream's taxonomy CI runs (it shells out to `yamllint` per v2+ file)

The baselines live in <repo>/.bench-venv, created on first use; nothing goes into the project
venv. Also measured: one-file cold start (median of N runs, against `python -c pass`) and the
scaling of ours over 1/4, 1/2 and all of the corpus. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
DEFAULT_CORPUS = HERE.parents[2] / "shared" / "corpus" / "upstream-taxonomy"
BENCH_VENV = REPO / ".bench-venv"
PINS = {"yamllint": "1.38.0", "instructlab-schema": "0.4.2"}
YAMLLINT_CONFIG = "{extends: relaxed, rules: {line-length: disable}}"
TAXONOMY_FOLDERS = "compositional_skills,knowledge"
OURS_OK = frozenset({0, 1})  # 1 = findings: a result, not a failure
DRIVER_OK = frozenset({0})
SCALING_RUNS = 3

Record = dict[str, Any]
Verdicts = dict[str, dict[str, str]]

# One process, every file: what `yamllint -d CONFIG FILES...` does, minus printing.
YAMLLINT_DRIVER = """\
import json, sys
from yamllint import linter
from yamllint.config import YamlLintConfig

list_path, out_path, config = sys.argv[1:4]
conf = YamlLintConfig(config)
errors = {}
for path in open(list_path, encoding="utf-8").read().splitlines():
    with open(path, "rb") as f:
        problems = list(linter.run(f, conf, path))
    errors[path] = sum(p.level == "error" for p in problems)
with open(out_path, "w", encoding="utf-8") as out:
    json.dump({"files": len(errors), "per_file": errors}, out)
"""

# Upstream's scripts/check-yaml.py loop: one parser, parse() per file, messages to stdout.
# A file upstream cannot parse (TaxonomyReadingException) aborts upstream's script; here it
# counts as one error and the run goes on, as the corpus's verdicts.tsv counts it.
SCHEMA_DRIVER = """\
import json, sys
from instructlab.schema.taxonomy import TaxonomyParser, TaxonomyReadingException

list_path, out_path, config, yq, folders = sys.argv[1:6]
parser = TaxonomyParser(
    taxonomy_folders=folders.split(","),
    schema_version=0,
    message_format="standard",
    yamllint_config=config,
)
parser.yq_available = yq == "on"
per_file = {}
for path in open(list_path, encoding="utf-8").read().splitlines():
    try:
        taxonomy = parser.parse(path)
    except TaxonomyReadingException as exc:
        print(f"EXCEPTION {path}: {exc.__cause__!r}")
        per_file[path] = [1, 0]
    else:
        per_file[path] = [taxonomy.errors, taxonomy.version]
with open(out_path, "w", encoding="utf-8") as out:
    json.dump({"files": len(per_file), "per_file": per_file}, out)
"""

# Spawns one measured command, reaps it with wait4 and writes down its cost. Linux counts the
# parent's RSS at fork into a child's ru_maxrss, so this bare `python -I -S` (~8 MiB) is the
# parent rather than the benchmark itself (~17 MiB); its own start-up is not in the numbers.
SPAWN_HELPER = """\
import os, sys, time
numbers, *argv = sys.argv[1:]
start = time.perf_counter()
try:
    pid = os.posix_spawnp(argv[0], argv, os.environ)
except OSError as exc:
    sys.exit(f"cannot start {argv[0]}: {exc}")
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(numbers, "w") as f:
    rc = os.waitstatus_to_exitcode(status)
    f.write(f"{rc} {ru.ru_utime + ru.ru_stime} {wall} {ru.ru_maxrss}")
"""


class SetupError(RuntimeError):
    """The benchmark's own environment could not be prepared."""


@dataclass
class Sample:
    """One child process: exit status and what the kernel says it cost."""

    rc: int
    cpu_s: float
    wall_s: float
    peak_rss_mib: float
    stdout: Path | None = None
    stderr_tail: str = ""


@dataclass
class Tool:
    name: str
    cmd: list[str]
    ok_codes: frozenset[int]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    summary: Path | None = None  # where a driver writes its per-file results
    setup_error: str = ""


@dataclass
class Result:
    tool: str
    files: int
    ok: bool
    cpu_s: float | None = None
    wall_s: float | None = None
    peak_rss_mib: float | None = None
    rc: int | None = None
    cpu_ratio: float | None = None  # this tool's CPU / ours
    wall_ratio: float | None = None
    note: str = ""


@dataclass
class Bench:
    """Everything the measurements share."""

    corpus: Path
    workdir: Path
    files: list[str]
    verdicts: Verdicts
    ours: list[str]  # command prefix for taxonbot
    one_file: str
    runs: int
    repeat: int
    yq: str  # "on" / "off": TaxonomyParser's per-error `yq` line lookups
    bench_python: Path | None = None
    setup_error: str = ""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- measuring ------------------------------------------------------------------------------


def rss_mib(maxrss: int) -> float:
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def tail(path: Path, chars: int = 400) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(text[-chars:].strip().splitlines()[-2:])


def run_measured(cmd: Sequence[str], cwd: Path, env: dict[str, str], logs: Path) -> Sample:
    """Run cmd as a child (via SPAWN_HELPER) and return its cost as wait4 reports it."""
    out_path, err_path = logs.with_suffix(".out"), logs.with_suffix(".err")
    numbers = logs.with_suffix(".rusage")
    numbers.unlink(missing_ok=True)
    helper = [sys.executable, "-I", "-S", "-c", SPAWN_HELPER, str(numbers), *cmd]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            helper, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        helper_rc = proc.wait()
    if not numbers.is_file():
        return Sample(helper_rc or 127, 0.0, 0.0, 0.0, None, tail(err_path))
    rc, cpu, wall, maxrss = numbers.read_text(encoding="utf-8").split()
    return Sample(int(rc), float(cpu), float(wall), rss_mib(int(maxrss)), out_path, tail(err_path))


def accepted(sample: Sample, ok_codes: frozenset[int]) -> bool:
    """Exit 0, or another allowed code (1 = findings) that came with output: a bare exit 1 with
    nothing on stdout is a crash (an ImportError, say), not findings."""
    if sample.rc == 0:
        return True
    has_output = sample.stdout is not None and sample.stdout.stat().st_size > 0
    return sample.rc in ok_codes and has_output


def failure(sample: Sample) -> str:
    return f"FAILED rc={sample.rc}: {sample.stderr_tail}"


# --- the benchmark's own environment ---------------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def installed_pins(python: Path) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        "found = {}\n"
        f"for name in {sorted(PINS)!r}:\n"
        "    try:\n        found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n        pass\n"
        "print(json.dumps(found))"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def ensure_bench_venv(venv: Path) -> Path:
    """Create <repo>/.bench-venv with the pinned baselines if it is missing or stale."""
    python = venv_python(venv)
    pins = ", ".join(f"{name}=={version}" for name, version in PINS.items())
    try:
        if not python.exists():
            log(f"creating {venv} (python -m venv)")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        if installed_pins(python) == PINS:
            log(f"baselines ready in {venv}: {pins}")
            return python
        log(f"pip install {pins} into {venv}")
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        specs = [f"{name}=={version}" for name, version in PINS.items()]
        subprocess.run([*pip, *specs], check=True, stdout=sys.stderr)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SetupError(f"could not prepare {venv}: {exc}") from exc
    if installed_pins(python) != PINS:
        raise SetupError(f"{venv} still lacks {pins} after pip install")
    return python


def prepare_baselines(skip: bool) -> tuple[Path | None, str]:
    if skip:
        return None, "skipped (--skip-baselines)"
    try:
        return ensure_bench_venv(BENCH_VENV), ""
    except SetupError as exc:
        log(str(exc))
        return None, str(exc)


def yq_is_mikefarah() -> bool:
    """TaxonomyParser asks `yq '<path> | line'` for each schema error's line. Only mikefarah's
    yq (what GitHub's runners ship) answers that; any other `yq` just fails once per error."""
    yq = shutil.which("yq")
    if yq is None:
        return False
    done = subprocess.run([yq, "--version"], capture_output=True, text=True, check=False)
    return "mikefarah" in done.stdout + done.stderr


def write_drivers(workdir: Path) -> None:
    (workdir / "yamllint_driver.py").write_text(YAMLLINT_DRIVER, encoding="utf-8")
    (workdir / "schema_driver.py").write_text(SCHEMA_DRIVER, encoding="utf-8")


# --- corpus ----------------------------------------------------------------------------------


def discover(corpus: Path) -> list[str]:
    """Every qna.yaml below the corpus, as sorted paths relative to it (children run there)."""
    return sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("qna.yaml"))


def load_verdicts(corpus: Path) -> Verdicts:
    tsv = corpus / "verdicts.tsv"
    if not tsv.is_file():
        return {}
    with tsv.open(encoding="utf-8", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def pick_one_file(files: list[str], verdicts: Verdicts) -> str:
    """A qna.yaml that upstream passed cleanly (schema and lint), for the cold-start timing."""
    for name in files:
        row = verdicts.get(name)
        clean = row is not None and row["upstream_ok"] == "1" and row["yamllint_errors"] == "0"
        if clean and not name.startswith("foundational_skills/"):
            return name
    return files[0]


def write_list(workdir: Path, name: str, files: Sequence[str]) -> Path:
    path = workdir / f"{name}.files"
    path.write_text("\n".join(files) + "\n", encoding="utf-8")
    return path


# --- contenders ------------------------------------------------------------------------------


def ours_prefix(override: str | None) -> list[str]:
    """`taxonbot` beside the running interpreter (the project venv), else `python -m bot`."""
    if override:
        return shlex.split(override)
    script = Path(sys.executable).parent / "taxonbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "taxonbot"]


def ours_tool(bench: Bench, targets: Sequence[str]) -> Tool:
    return Tool("ours", [*bench.ours, "check", "--format", "json", *targets], OURS_OK)


def baseline_env(bench_python: Path) -> dict[str, str]:
    """PATH starts at the bench venv: TaxonomyParser's `yamllint` subprocess is the pinned one."""
    env = dict(os.environ)
    env["PATH"] = f"{bench_python.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env


def driver_tool(bench: Bench, name: str, listing: Path, extra: Sequence[str]) -> Tool:
    """A baseline driver over the files in `listing`, run by the bench venv's python."""
    driver = "yamllint_driver.py" if name.startswith("yamllint") else "schema_driver.py"
    summary = bench.workdir / f"{listing.stem}-{Path(driver).stem}.json"
    python = str(bench.bench_python or "python")
    cmd = [python, str(bench.workdir / driver), str(listing), str(summary), *extra]
    env = baseline_env(bench.bench_python) if bench.bench_python else dict(os.environ)
    return Tool(name, cmd, DRIVER_OK, env, summary, bench.setup_error)


def baseline_tools(bench: Bench) -> list[Tool]:
    listing = write_list(bench.workdir, "all", bench.files)
    schema_args = [YAMLLINT_CONFIG, bench.yq, TAXONOMY_FOLDERS]
    return [
        driver_tool(bench, "yamllint", listing, [YAMLLINT_CONFIG]),
        driver_tool(bench, "TaxonomyParser", listing, schema_args),
    ]


def cold_start_tools(bench: Bench) -> list[Tool]:
    """The one-file commands: bare python, ours, and (when installed) the two baselines."""
    one = bench.one_file
    tools = [
        Tool("python -c pass", [sys.executable, "-c", "pass"], DRIVER_OK),
        Tool("taxonbot check <file>", [*bench.ours, "check", one], OURS_OK),
    ]
    if bench.bench_python is None:
        return tools
    yamllint_cli = [str(bench.bench_python.parent / "yamllint"), "-d", YAMLLINT_CONFIG, one]
    env = baseline_env(bench.bench_python)
    listing = write_list(bench.workdir, "one", [one])
    schema_args = [YAMLLINT_CONFIG, bench.yq, TAXONOMY_FOLDERS]
    return [
        *tools,
        Tool("yamllint CLI <file>", yamllint_cli, DRIVER_OK, env),
        driver_tool(bench, "TaxonomyParser <file>", listing, schema_args),
    ]


# --- what each tool said, checked against upstream's recorded verdicts -----------------------


def read_per_file(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    per_file = loaded.get("per_file") if isinstance(loaded, dict) else None
    return per_file if isinstance(per_file, dict) else {}


def yamllint_agreement(per_file: dict[str, int], verdicts: Verdicts) -> str:
    both = [f for f in per_file if f in verdicts]
    same = sum(per_file[f] == int(verdicts[f]["yamllint_errors"]) for f in both)
    return f"error counts match verdicts.tsv on {same}/{len(both)} files"


def schema_agreement(per_file: dict[str, list[int]], verdicts: Verdicts) -> str:
    """verdicts.tsv counts lint apart; TaxonomyParser adds yamllint's errors for v2+ files."""
    both = [f for f in per_file if f in verdicts and not f.startswith("foundational_skills/")]
    same = 0
    for name in both:
        errors, version = per_file[name]
        row = verdicts[name]
        lint = int(row["yamllint_errors"]) if version > 1 else 0
        same += errors == int(row["upstream_errors"]) + lint
    return f"error counts match verdicts.tsv on {same}/{len(both)} files (foundational skipped)"


def ours_note(sample: Sample) -> str:
    """Best effort: count findings in our JSON output, whatever its exact shape."""
    try:
        doc = json.loads(sample.stdout.read_text(encoding="utf-8")) if sample.stdout else None
    except (OSError, ValueError):
        return "stdout is not JSON"
    summary = doc.get("summary") if isinstance(doc, dict) else None
    if isinstance(summary, dict) and {"files", "errors", "warnings"} <= summary.keys():
        counts = (summary["files"], summary["errors"], summary["warnings"])
        return "checked {} files: {} errors, {} warnings".format(*counts)
    if isinstance(doc, dict):
        doc = doc.get("findings", doc)
    return f"{len(doc)} findings" if isinstance(doc, list) else ""


def describe(tool: Tool, sample: Sample, verdicts: Verdicts) -> str:
    per_file = read_per_file(tool.summary)
    if not (per_file and verdicts):
        return ours_note(sample) if tool.name == "ours" else ""
    if tool.name == "yamllint":
        return yamllint_agreement(per_file, verdicts)
    return schema_agreement(per_file, verdicts)


# --- the three measurements ------------------------------------------------------------------


def best_of(tool: Tool, bench: Bench, runs: int) -> Sample:
    """Run a tool `runs` times; keep the cheapest accepted run (or the last failure)."""
    logs = bench.workdir / tool.name
    samples = [run_measured(tool.cmd, bench.corpus, tool.env, logs) for _ in range(runs)]
    good = [s for s in samples if accepted(s, tool.ok_codes)]
    return min(good, key=lambda s: s.cpu_s) if good else samples[-1]


def measure_tool(tool: Tool, bench: Bench) -> Result:
    files = len(bench.files)
    if tool.setup_error:
        log(f"{tool.name}: not run ({tool.setup_error})")
        return Result(tool.name, files, ok=False, note=f"not run: {tool.setup_error}")
    log(f"{tool.name}: running on {files} files")
    sample = best_of(tool, bench, bench.repeat)
    if not accepted(sample, tool.ok_codes):
        log(f"{tool.name}: {failure(sample)}")
        return Result(tool.name, files, ok=False, rc=sample.rc, note=failure(sample))
    log(f"{tool.name}: {sample.cpu_s:.2f} s CPU, {sample.wall_s:.2f} s wall")
    return Result(
        tool.name,
        files,
        ok=True,
        cpu_s=sample.cpu_s,
        wall_s=sample.wall_s,
        peak_rss_mib=sample.peak_rss_mib,
        rc=sample.rc,
        note=describe(tool, sample, bench.verdicts),
    )


def add_ratios(results: list[Result]) -> None:
    ours = next((r for r in results if r.tool == "ours" and r.ok), None)
    if ours is None or not ours.cpu_s or not ours.wall_s:
        return
    for r in results:
        if r.ok and r.cpu_s is not None and r.wall_s is not None:
            r.cpu_ratio = r.cpu_s / ours.cpu_s
            r.wall_ratio = r.wall_s / ours.wall_s


def cold_start(tool: Tool, bench: Bench) -> Record:
    """Median wall time of `runs` fresh processes, after one untimed warm-up (disk cache, pyc)."""
    logs = bench.workdir / "cold"
    warm = run_measured(tool.cmd, bench.corpus, tool.env, logs)
    if not accepted(warm, tool.ok_codes):
        log(f"cold start {tool.name}: {failure(warm)}")
        return {"name": tool.name, "ok": False, "note": failure(warm)}
    samples = [run_measured(tool.cmd, bench.corpus, tool.env, logs) for _ in range(bench.runs)]
    walls = [s.wall_s for s in samples]
    bad = [s for s in samples if not accepted(s, tool.ok_codes)]
    return {
        "name": tool.name,
        "ok": not bad,
        "median_wall_ms": 1000 * statistics.median(walls),
        "min_wall_ms": 1000 * min(walls),
        "max_wall_ms": 1000 * max(walls),
        "median_cpu_ms": 1000 * statistics.median(s.cpu_s for s in samples),
        "peak_rss_mib": max(s.peak_rss_mib for s in samples),
        "note": f"{len(bad)} runs failed: {failure(bad[0])}" if bad else "",
    }


def cold_starts(bench: Bench) -> list[Record]:
    log(f"cold start: {bench.runs} runs each on {bench.one_file}")
    rows = [cold_start(tool, bench) for tool in cold_start_tools(bench)]
    python_ms = rows[0].get("median_wall_ms")
    for row in rows:
        if python_ms is not None and "median_wall_ms" in row:
            row["over_python_ms"] = row["median_wall_ms"] - python_ms
    return rows


def scaling(bench: Bench) -> Record:
    """Ours over interleaved 1/4 and 1/2 subsets and the whole list (explicit paths each time),
    best of SCALING_RUNS each: these runs are short, so one noisy run would skew the verdict."""
    files, points = bench.files, []
    for label, subset in (("1/4", files[::4]), ("1/2", files[::2]), ("all", files)):
        log(f"scaling: ours on {label} ({len(subset)} files)")
        sample = best_of(ours_tool(bench, subset), bench, max(SCALING_RUNS, bench.repeat))
        point: Record = {"fraction": label, "files": len(subset), "ok": False, "note": ""}
        if accepted(sample, OURS_OK):
            point |= {"ok": True, "cpu_s": sample.cpu_s, "wall_s": sample.wall_s}
            point["peak_rss_mib"] = sample.peak_rss_mib
        else:
            point["note"] = failure(sample)
        points.append(point)
    return {"points": points, "verdict": scaling_verdict(points)}


def scaling_verdict(points: list[Record]) -> str:
    """Compare marginal CPU per file on the second step (1/2→all) with the first (1/4→1/2);
    a second step much dearer than the first means cost grows faster than the file count."""
    if not all(p["ok"] for p in points):
        return "n/a (a run failed)"
    (n1, c1), (n2, c2), (n3, c3) = ((p["files"], p["cpu_s"]) for p in points)
    if n2 == n1 or n3 == n2 or c2 <= c1:
        return "n/a (too few files or too little work to tell)"
    first, second = (c2 - c1) / (n2 - n1), (c3 - c2) / (n3 - n2)
    ratio = second / first
    shape = "linear" if ratio <= 1.5 else "SUPER-LINEAR?"
    return (
        f"{shape}: {1000 * first:.2f} then {1000 * second:.2f} ms CPU per extra file "
        f"(ratio {ratio:.2f}); fixed cost ≈ {c1 - first * n1:.2f} s"
    )


# --- output ----------------------------------------------------------------------------------

Column = tuple[str, str, str]  # header, record key, format spec ("" = str())

RESULT_COLUMNS: list[Column] = [
    ("tool", "tool", ""),
    ("files", "files", ""),
    ("CPU s", "cpu_s", ".2f"),
    ("wall s", "wall_s", ".2f"),
    ("peak RSS MiB", "peak_rss_mib", ".1f"),
    ("CPU ÷ ours", "cpu_ratio", ".1f"),
    ("wall ÷ ours", "wall_ratio", ".1f"),
    ("notes", "note", ""),
]
COLD_COLUMNS: list[Column] = [
    ("command", "name", ""),
    ("median ms", "median_wall_ms", ".0f"),
    ("min", "min_wall_ms", ".0f"),
    ("max", "max_wall_ms", ".0f"),
    ("CPU ms", "median_cpu_ms", ".0f"),
    ("vs python", "over_python_ms", "+.0f"),
    ("peak RSS MiB", "peak_rss_mib", ".1f"),
    ("notes", "note", ""),
]
SCALING_COLUMNS: list[Column] = [
    ("share", "fraction", ""),
    ("files", "files", ""),
    ("CPU s", "cpu_s", ".2f"),
    ("wall s", "wall_s", ".2f"),
    ("peak RSS MiB", "peak_rss_mib", ".1f"),
    ("notes", "note", ""),
]


def cell(value: object, spec: str, width: int = 90) -> str:
    if value is None:
        return "-"
    if spec and isinstance(value, int | float):
        return format(value, spec)
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def table(columns: Sequence[Column], records: Sequence[Record]) -> str:
    headers = [header for header, _, _ in columns]
    rows = [[cell(r.get(key), spec) for _, key, spec in columns] for r in records]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def render(report: Record) -> str:
    meta = report["meta"]
    out = [
        f"corpus {meta['corpus']}: {meta['files']} qna.yaml; {meta['host']}",
        f"load average before / after: {meta['load_before']} / {meta['load_after']}",
        f"TaxonomyParser yq line lookups: {meta['yq']}; "
        f"peak RSS floor (a bare `true`): {meta['rss_floor_mib']:.1f} MiB",
        "",
        table(RESULT_COLUMNS, report["results"]),
    ]
    if report.get("cold_start"):
        out += ["", f"one-file cold start, median of {meta['runs']}: {meta['one_file']}"]
        out.append(table(COLD_COLUMNS, report["cold_start"]))
    if report.get("scaling"):
        out += ["", "scaling of ours (explicit file lists, interleaved subsets)"]
        out += [table(SCALING_COLUMNS, report["scaling"]["points"]), report["scaling"]["verdict"]]
    return "\n".join(out)


def all_ok(report: Record) -> bool:
    """False when any contender failed anywhere: the numbers printed are then incomplete."""
    rows = [*report["results"], *report.get("cold_start", [])]
    rows += report.get("scaling", {}).get("points", [])
    return all(r["ok"] for r in rows)


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of qna.yaml files")
    p.add_argument("--json", action="store_true", help="JSON on stdout (tables go to stderr)")
    p.add_argument("--runs", type=int, default=11, help="cold-start runs per command (median)")
    p.add_argument("--repeat", type=int, default=1, help="whole-corpus runs per tool (best kept)")
    p.add_argument("--one-file", help="qna.yaml (relative to the corpus) for the cold start")
    p.add_argument("--no-cold-start", action="store_true", help="skip the one-file timings")
    p.add_argument("--no-scaling", action="store_true", help="skip the 1/4, 1/2, all runs")
    p.add_argument("--skip-baselines", action="store_true", help="measure ours only")
    p.add_argument("--ours-cmd", help="command prefix to run instead of taxonbot (testing only)")
    return p.parse_args(argv)


def host_line() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def rss_floor(bench: Bench) -> float:
    """Peak RSS reported for `true`: what any measured command starts from."""
    true = shutil.which("true") or "true"
    logs = bench.workdir / "floor"
    return run_measured([true], bench.corpus, dict(os.environ), logs).peak_rss_mib


def make_bench(args: argparse.Namespace, corpus: Path, files: list[str], workdir: Path) -> Bench:
    verdicts = load_verdicts(corpus)
    bench_python, setup_error = prepare_baselines(args.skip_baselines)
    write_drivers(workdir)
    return Bench(
        corpus=corpus,
        workdir=workdir,
        files=files,
        verdicts=verdicts,
        ours=ours_prefix(args.ours_cmd),
        one_file=args.one_file or pick_one_file(files, verdicts),
        runs=args.runs,
        repeat=max(1, args.repeat),
        yq="on" if yq_is_mikefarah() else "off",
        bench_python=bench_python,
        setup_error=setup_error,
    )


def run_all(args: argparse.Namespace, bench: Bench) -> Record:
    meta: Record = {"corpus": str(bench.corpus), "files": len(bench.files), "host": host_line()}
    meta |= {"load_before": load(), "yq": bench.yq, "runs": bench.runs, "repeat": bench.repeat}
    meta |= {"one_file": bench.one_file, "ours_cmd": bench.ours, "pins": PINS}
    meta["rss_floor_mib"] = rss_floor(bench)
    tools = [ours_tool(bench, [str(bench.corpus)])]
    tools += [] if args.skip_baselines else baseline_tools(bench)
    results = [measure_tool(tool, bench) for tool in tools]
    add_ratios(results)
    report: Record = {"meta": meta, "results": [asdict(r) for r in results]}
    if not args.no_cold_start:
        report["cold_start"] = cold_starts(bench)
    if not args.no_scaling and results[0].ok:
        report["scaling"] = scaling(bench)
    elif not args.no_scaling:
        log("scaling: skipped, ours failed on the whole corpus")
    meta["load_after"] = load()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = args.corpus.resolve()
    if not corpus.is_dir():
        print(f"check_bench: corpus folder not found: {corpus} (use --corpus DIR)", file=sys.stderr)
        return 2
    files = discover(corpus)
    if not files:
        print(f"check_bench: no qna.yaml files below {corpus}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="check-bench-") as tmp:
        report = run_all(args, make_bench(args, corpus, files, Path(tmp)))
    if args.json:
        print(render(report), file=sys.stderr)
        print(json.dumps(report, indent=2, default=str))
    else:
        print(render(report))
    return 0 if all_ok(report) else 1


if __name__ == "__main__":
    sys.exit(main())
