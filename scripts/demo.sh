#!/usr/bin/env bash
# The main job, end to end on this machine, no GitHub needed: set up, then check a pull request.
# A throwaway git repository gets the community taxonomy on `main` and the example contribution
# in examples/pull_request/ on a branch; the bot then runs on that branch as CI would.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh full
here="$(pwd)"
out="${here}/out/demo"
rm -rf "$out" && mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid
git -C "$work" init --quiet -b main
cp -R taxonomy "$work/taxonomy"
git -C "$work" add -A && git -C "$work" commit --quiet -m "community taxonomy"
tb="${here}/.venv/bin/taxonbot"

echo "== 1. The community tree on main (audit mode) =="
(cd "$work" && "$tb" check taxonomy || true) | tail -n 1

git -C "$work" checkout --quiet -b contributor/email-skills
cp -R examples/pull_request/. "$work/taxonomy/"
git -C "$work" add -A && git -C "$work" commit --quiet -m "Add two email skills"


echo "== 2. The pull request (changed files, PR policy) =="
set +e
(cd "$work" && "$tb" check --base main)
status=$?
(cd "$work" && "$tb" check --base main --format markdown) > "$out/check.md"
set -e
echo "check exit status: $status (1 = the PR needs changes); Markdown for the PR comment: out/demo/check.md"

echo "== 3. SDG preview of the changed leaves on the offline default model (CPU; the bundled SmolLM2 if set-up could not join it) =="
(cd "$work" && "$tb" preview --base main --pairs 10 --time-budget 240 --out "$out/preview")
echo "Preview data: out/demo/preview/preview.json, kept pairs: out/demo/preview/pairs.jsonl"

echo "== 4. Gaps: coverage of the tree, overlap and novelty of the changed leaves =="
(cd "$work" && HF_HUB_OFFLINE=1 "$tb" gaps --base main --out "$out/gaps" --cache "$out/cache")
echo "Gaps: out/demo/gaps/gaps.json, gaps.md, coverage.png"

echo "== 5. The PR comment: results bundled as CI does, planned and applied to an in-memory PR =="
(cd "$work" && "$tb" check --base main --format json > "$out/check.json" || true)
(cd "$work" && "$tb" diff --base main --format json > "$out/diff.json")
head_sha="$(git -C "$work" rev-parse HEAD)"
"$tb" collect --check "$out/check.json" --diff "$out/diff.json" --gaps "$out/gaps/gaps.json" \
  --preview "$out/preview/preview.json" --head-sha "$head_sha" --run-id 1 --run-attempt 1 \
  --out "$out/result.json"
# The trusted side checks the PR's files itself (here: read from the branch's working tree).
(cd "$work" && "$tb" comment --result "$out/result.json" --repo community/taxonomy \
  --head-sha "$head_sha" --head-repo contributor/taxonomy --head-branch contributor/email-skills \
  --run-id 1 --run-attempt 1 --local "$out/comment.md")
if .venv/bin/python -c "import cmarkgfm" 2>/dev/null; then
  .venv/bin/python -c "import cmarkgfm, sys; print(cmarkgfm.github_flavored_markdown_to_html(open(sys.argv[1]).read()))" \
    "$out/comment.md" > "$out/comment.html"
  echo "Rendered as GitHub would: out/demo/comment.html"
fi
echo "----- the comment (out/demo/comment.md) -----"
cat "$out/comment.md"
