#!/usr/bin/env bash
# examples/wave2d end to end: the Revolve, store-all and multilevel gradients bit for bit, the
# Taylor test (rate 2), the step and adjoint counts t(T, c) + 1 and T, the JSON line, bad options.
# Usage: run_wave2d_example.sh PATH_TO_WAVE2D
set -uo pipefail
program=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
grid=(--grid 64 --steps 300)

# Revolve with 8 slots and the Taylor test: t(300, 8) = 4 * 300 - C(12, 9) = 980 (r = 4), plus the
# step to x_T; 300 adjoint calls; 299 restores; 8 slots at most.
out=$("$program" "${grid[@]}" --slots 8 --taylor --gradient "$work/revolve.txt") || fail "revolve run"
echo "$out"
json=$(tail -n 1 <<<"$out")
for field in '"schedule":"revolve"' '"nx":64' '"ny":64' '"steps":300' '"slots":8' '"step_calls":981,' \
             '"adjoint_calls":300,' '"restores":299,' '"peak_slots":8,' '"J":' '"stores":' \
             '"seconds":' '"checkpoint_bytes":524288,' '"rates":'; do
  [[ $json == *"$field"* ]] || fail "JSON line lacks $field: $json"
done
# J(c + e dc) - J(c) - e <g, dc> must fall by 4 per halving of e: every rate in 2 +- 0.1.
rates=$(sed -n 's/.*"rates":\[\([^]]*\)\].*/\1/p' <<<"$json")
[[ $(tr ',' '\n' <<<"$rates" | wc -l) == 4 ]] || fail "expected 4 Taylor rates: '$rates'"
tr ',' '\n' <<<"$rates" | awk '{ if ($1 < 1.9 || $1 > 2.1) bad = 1 } END { exit bad }' ||
  fail "Taylor rates must be 2 +- 0.1: $rates"
[[ $(wc -l <"$work/revolve.txt") == 4096 ]] || fail "the gradient file must have 64 x 64 = 4096 lines"
# %.17g: the longest mantissa, without sign, point and leading zeros, has 17 digits.
digits=$(awk '{ m = $1; sub(/[eE].*/, "", m); gsub(/[-+.]/, "", m); sub(/^0+/, "", m);
                if (length(m) > best) best = length(m) } END { print best }' "$work/revolve.txt")
[[ $digits == 17 ]] || fail "values must be printed with 17 significant digits (longest: $digits)"
awk '$1 != 0 { nonzero++ } END { exit !(nonzero > 3000) }' "$work/revolve.txt" ||
  fail "the gradient is (nearly) all zero"

out=$("$program" "${grid[@]}" --schedule store-all --quiet --gradient "$work/all.txt") ||
  fail "store-all run"
[[ $(wc -l <<<"$out") == 1 ]] || fail "--quiet must print the JSON line alone: $out"
[[ $out == *'"schedule":"store-all"'*'"step_calls":300,"adjoint_calls":300,'* ]] ||
  fail "store-all counts: $out"
cmp -s "$work/revolve.txt" "$work/all.txt" || fail "Revolve (c = 8) and store-all gradients differ"

# Fewer slots: t(300, 3) = 11 * 300 - C(14, 4) = 2299 (r = 11).
out=$("$program" "${grid[@]}" --slots 3 --quiet --gradient "$work/revolve3.txt") || fail "revolve c = 3"
[[ $out == *'"step_calls":2300,"adjoint_calls":300,'*'"peak_slots":3,'* ]] || fail "c = 3 counts: $out"
cmp -s "$work/revolve3.txt" "$work/all.txt" || fail "Revolve (c = 3) and store-all gradients differ"

# MultilevelRevolve over 4 RAM slots and an unlimited second level, at several prices: the same
# gradient, bit for bit. With both prices 0 the plan is Revolve with unlimited slots: T steps.
for prices in "--write-cost 2 --read-cost 1" "--write-cost 0 --read-cost 0" "--write-cost 50 --read-cost 50"; do
  # shellcheck disable=SC2086 # the prices are a list of options
  out=$("$program" "${grid[@]}" --schedule multilevel --slots 4 $prices --quiet \
    --gradient "$work/multilevel.txt") || fail "multilevel run ($prices)"
  [[ $out == *'"schedule":"multilevel"'*'"level1_slots":'*'"adjoint_calls":300,'* ]] ||
    fail "multilevel JSON ($prices): $out"
  cmp -s "$work/multilevel.txt" "$work/all.txt" || fail "multilevel ($prices) gradient differs"
done
out=$("$program" "${grid[@]}" --schedule multilevel --slots 4 --write-cost 0 --read-cost 0 --quiet)
[[ $out == *'"step_calls":300,'* ]] || fail "a free second level must need no recomputation: $out"

# Bad options: exit status 2 and a message that says what is wrong.
out=$("$program" --grid 64 --steps 10 --dt 0.01 2>&1)
[[ $? == 2 && $out == *"CFL"* && $out == *"dt <= h / (c_max sqrt(2))"* ]] ||
  fail "a dt above the CFL limit must be refused with exit status 2: $out"
out=$("$program" --grid 20 --steps 10 2>&1)
[[ $? == 2 && $out == *"2 --sponge + 8"* ]] || fail "a grid too small for the sponge: $out"
out=$("$program" --grid 64 --steps 10 --write-cost 1 2>&1)
[[ $? == 2 && $out == *"--schedule multilevel"* ]] || fail "--write-cost without multilevel: $out"
for bad in "--steps 0" "--grid 4" "--slots 0" "--schedule all" "--dt -1" "--grid 64 --nx 64" \
           "--frequency 0" "--no-such-option"; do
  # shellcheck disable=SC2086 # a list of options
  "$program" $bad >/dev/null 2>&1
  [[ $? == 2 ]] || fail "'$bad' must be refused with exit status 2"
done
"$program" --grid 32 --sponge 4 --steps 10 --gradient "$work/no/such/dir/g.txt" >/dev/null 2>&1
[[ $? == 1 ]] || fail "an unwritable gradient file must fail with exit status 1"

((failures == 0)) && echo "wave2d example checks passed"
exit $((failures > 0))
