#!/usr/bin/env bash
# Fails if a Python file of the project breaks PEP 8 (pycodestyle, lines up to 100 characters, as
# the C++ code's) or has what pyflakes reports (unused imports, undefined names). Skips (exit 77)
# unless both are installed (Debian: python3-pycodestyle python3-pyflakes).
# Usage: check_python_style.sh SOURCE_DIR PYTHON
set -euo pipefail
cd "$1"
python=${2:-/usr/bin/python3}
for tool in pycodestyle pyflakes; do
  if ! "$python" -m $tool --version >/dev/null 2>&1; then
    echo "$tool not found for $python: Python style check skipped"
    exit 77
  fi
done
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.py' 2>/dev/null ||
  find . -name '*.py' -not -path './build*')
"$python" -m pycodestyle --max-line-length=100 "${files[@]}"
"$python" -m pyflakes "${files[@]}"
echo "${#files[@]} Python files follow PEP 8 and pass pyflakes"
