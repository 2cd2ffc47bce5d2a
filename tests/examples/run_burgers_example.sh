#!/usr/bin/env bash
# examples/burgers1d end to end: options, the gradient file, the JSON line, bad input.
# Usage: run_burgers_example.sh PATH_TO_BURGERS1D
set -uo pipefail
program=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out=$("$program" --steps 700 --grid 50 --slots 4 --gradient "$work/revolve.txt") || fail "revolve run"
json=$(tail -n 1 <<<"$out")
# t(700, 4) = 5013, plus the step to x_T; 700 adjoint calls; 699 restores; 4 slots at most.
for field in '"schedule":"revolve"' '"steps":700' '"grid":50' '"step_calls":5014' \
             '"adjoint_calls":700' '"restores":699' '"peak_slots":4' '"J":' '"stores":' '"seconds":'; do
  [[ $json == *"$field"* ]] || fail "JSON line lacks $field: $json"
done
"$program" --steps 700 --grid 50 --schedule store-all --gradient "$work/all.txt" >/dev/null ||
  fail "store-all run"
[[ $(wc -l <"$work/revolve.txt") == 50 ]] || fail "gradient file must have 50 lines"
cmp -s "$work/revolve.txt" "$work/all.txt" || fail "Revolve and store-all gradients differ"
# %.17g: the longest mantissa, without sign, point and leading zeros, has 17 digits.
digits=$(awk '{ m = $1; sub(/[eE].*/, "", m); gsub(/[-+.]/, "", m); sub(/^0+/, "", m);
                if (length(m) > best) best = length(m) } END { print best }' "$work/revolve.txt")
[[ $digits == 17 ]] || fail "values must be printed with 17 significant digits (longest: $digits)"

"$program" --steps 0 >/dev/null 2>&1
[[ $? == 2 ]] || fail "--steps 0 must be refused with exit status 2"
"$program" --grid 2 >/dev/null 2>&1
[[ $? == 2 ]] || fail "--grid 2 must be refused with exit status 2"
"$program" --steps 10 --grid 8 --gradient "$work/no/such/dir/g.txt" >/dev/null 2>&1
[[ $? == 1 ]] || fail "an unwritable gradient file must fail"

((failures == 0)) && echo "burgers1d example checks passed"
exit $((failures > 0))
