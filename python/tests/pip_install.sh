#!/usr/bin/env bash
# ctest python.pip_install: `pip install --no-index --no-build-isolation` of a copy of the source
# tree (its git-tracked and untracked-but-not-ignored files) into a venv made with
# --system-site-packages (numpy, torch visible), offline; then cairn is imported from the venv,
# outside both trees, and checks a Revolve stream. Leaves nothing in the source tree.
#   usage: pip_install.sh PYTHON SOURCE_DIR WORK_DIR
set -euo pipefail
python=$1
source=$2
work=$3
start=$(date +%s)
rm -rf "$work"
mkdir -p "$work/src"
if git -C "$source" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$source" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$source" && while IFS= read -r -d '' file; do
      [[ -f $file ]] && printf '%s\0' "$file"
    done) | (cd "$source" && xargs -0 cp --parents -t "$work/src")
else
  tar -C "$source" --exclude='./build*' --exclude='.git' -cf - . | tar -C "$work/src" -xf -
fi
"$python" -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install --no-index --no-build-isolation --no-deps -q "$work/src"
cd "$work"
"$work/venv/bin/python" - "$source" <<'PY'
import os
import sys

import cairn

source = os.path.realpath(sys.argv[1])
venv = os.path.realpath(sys.prefix)
where = os.path.realpath(cairn.__file__)
assert where.startswith(venv + os.sep), f"cairn imported from {where}, not from the venv {venv}"
assert not where.startswith(os.path.join(source, "python") + os.sep), where
result = cairn.check(cairn.Revolve(100, 3), 100, 3)
assert result and result.costs.forward_steps == cairn.forward_cost(100, 3) == 490
print(f"cairn {cairn.__version__} installed at {os.path.dirname(where)}: Revolve(100, 3) legal, "
      f"{result.costs.forward_steps} forward steps")
PY
echo "pip install and check took $(($(date +%s) - start)) s"
