#!/usr/bin/env bash
# examples/c_heat1d (C API) and examples/fortran_heat1d (Fortran module) must print the gradient
# of examples/burgers1d for the same input, byte for byte, and the same J line.
# Usage: run_c_fortran_examples.sh BURGERS1D C_HEAT1D [FORTRAN_HEAT1D]
# Without FORTRAN_HEAT1D (not built) the C example is checked and the script exits 77
# after saying so (ctest reports the test as skipped).
set -uo pipefail
burgers=$1 c_example=$2 fortran_example=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

examples=("$c_example")
[[ -n $fortran_example ]] && examples+=("$fortran_example")
for input in "--steps 700 --grid 50 --slots 4" "--steps 1 --grid 3 --slots 1" \
             "--steps 2000 --grid 120 --slots 9" "--steps 300 --grid 64 --slots 400"; do
  # shellcheck disable=SC2086 # the input is a list of options
  reference=$("$burgers" $input --gradient "$work/cpp.txt") || { fail "burgers1d $input"; continue; }
  j_line=$(grep '^J = ' <<<"$reference")
  for example in "${examples[@]}"; do
    name=$(basename "$example")
    # shellcheck disable=SC2086
    out=$("$example" $input --gradient "$work/$name.txt") || { fail "$name $input"; continue; }
    if cmp -s "$work/cpp.txt" "$work/$name.txt"; then
      echo "$name $input: gradient identical to burgers1d's ($(wc -l <"$work/$name.txt") values)"
    else
      fail "$name $input: the gradient differs from burgers1d's"
      diff "$work/cpp.txt" "$work/$name.txt" | head -n 4
    fi
    [[ $(grep '^J = ' <<<"$out") == "$j_line" ]] || fail "$name $input: J line differs: $out"
  done
done

for example in "${examples[@]}"; do
  name=$(basename "$example")
  "$example" --steps 0 >/dev/null 2>&1
  [[ $? == 2 ]] || fail "$name --steps 0 must be refused with exit status 2"
  "$example" --grid >/dev/null 2>&1
  [[ $? == 2 ]] || fail "$name with an option lacking its value must exit with status 2"
  "$example" --steps 10 --grid 8 --gradient "$work/no/such/dir/g.txt" >/dev/null 2>&1
  [[ $? == 1 ]] || fail "$name: an unwritable gradient file must fail with exit status 1"
done

((failures == 0)) || exit 1
if [[ -z $fortran_example ]]; then
  echo "SKIPPED the Fortran example: it was not built (no Fortran compiler, or" \
    "-DCAIRN_WITH_FORTRAN=OFF; Debian: apt install gfortran)"
  exit 77
fi
echo "C and Fortran examples print burgers1d's gradient"
