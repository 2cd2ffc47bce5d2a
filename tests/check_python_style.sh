#!/usr/bin/env bash
# Fails if a Python file of the project breaks PEP 8 (pycodestyle, lines up to 100 characters, as
# the C++ code's). Skips (exit 77) unless pycodestyle is installed (Debian: python3-pycodestyle).
# Usage: check_python_style.sh SOURCE_DIR PYTHON
set -euo pipefail
cd "$1"
python=${2:-/usr/bin/python3}
if ! "$python" -m pycodestyle --version >/dev/null 2>&1; then
  echo "pycodestyle not found for $python: Python style check skipped"
  exit 77
fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.py' 2>/dev/null ||
  find . -name '*.py' -not -path './build*')
"$python" -m pycodestyle --max-line-length=100 "${files[@]}"
echo "${#files[@]} Python files follow PEP 8"
