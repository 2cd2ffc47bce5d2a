#!/usr/bin/env bash
# Fails if a C, C++ or CUDA file differs from what .clang-format asks for. Skips (exit 77) unless
# clang-format 14, the version the tree is formatted with, is installed.
# Usage: check_format.sh SOURCE_DIR
set -euo pipefail
cd "$1"
formatter=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $formatter ]] || ! "$formatter" --version | grep -q "version 14\."; then
  echo "clang-format 14 not found: style check skipped"
  exit 77
fi
mapfile -t files < <(find include src tools tests bench examples python -name '*.cpp' -o -name '*.hpp' -o -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' | sort)
"$formatter" --dry-run --Werror "${files[@]}"
echo "${#files[@]} files formatted as .clang-format asks"
