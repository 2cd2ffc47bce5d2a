#!/usr/bin/env bash
# examples/burgers1d end to end: options, the gradient file, the JSON line, bad input.
# Usage: run_burgers_example.sh PATH_TO_BURGERS1D [hdf5|no-hdf5]
set -uo pipefail
program=$1
disk=${2:-no-hdf5}
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

# A disk level: MultilevelRevolve over 2 RAM + 3 disk slots. Every variant (HDF5 behind the
# asynchronous wrapper, HDF5 on the solver's thread, disk priced so the plan changes, the disk level
# in RAM) must give the store-all gradient bit for bit, and no checkpoint file may remain.
"$program" --steps 300 --grid 40 --schedule store-all --gradient "$work/all300.txt" >/dev/null ||
  fail "store-all run, T = 300"
variants=("--disk-in-ram")
if [[ $disk == hdf5 ]]; then
  variants+=("--disk-path $work/ckpt.h5" "--sync-disk --disk-path $work/ckpt.h5"
             "--write-cost 3 --read-cost 2 --disk-path $work/ckpt.h5")
fi
for variant in "${variants[@]}"; do
  # shellcheck disable=SC2086 # the variant is a list of options
  out=$("$program" --steps 300 --grid 40 --slots 2 --disk-slots 3 $variant \
    --gradient "$work/disk.txt") || fail "disk run ($variant)"
  json=$(tail -n 1 <<<"$out")
  [[ $json == *'"schedule":"multilevel"'*'"disk_slots":3'* ]] || fail "disk run JSON ($variant): $json"
  [[ $json == *'"adjoint_calls":300'*'"peak_slots":5'* ]] || fail "disk run counts ($variant): $json"
  cmp -s "$work/disk.txt" "$work/all300.txt" || fail "disk run ($variant) gradient differs"
  [[ ! -e $work/ckpt.h5 ]] || fail "the checkpoint file remains after the run ($variant)"
done
if [[ $disk == hdf5 ]]; then
  # A directory that does not exist: a clear error naming the file, exit status 1.
  out=$("$program" --steps 50 --grid 8 --slots 1 --disk-slots 2 --disk-path "$work/none/c.h5" 2>&1)
  [[ $? == 1 && $out == *"$work/none/c.h5"* ]] || fail "an unwritable --disk-path must fail: $out"
else
  out=$("$program" --steps 50 --grid 8 --slots 1 --disk-slots 2 2>&1)
  [[ $? == 1 && $out == *"built without HDF5"* ]] || fail "no-HDF5 build must say so: $out"
fi
"$program" --steps 50 --grid 8 --disk-path "$work/c.h5" >/dev/null 2>&1
[[ $? == 2 ]] || fail "--disk-path without --disk-slots must be refused with exit status 2"

# Online: the run ends at a time, with the time step adapted to the state, so T shows only at the
# end; the gradient must be store-all's over the same T adaptive steps, bit for bit.
for slots in 1 3 8; do
  out=$("$program" --online --end-time 12 --grid 48 --slots $slots --gradient "$work/online.txt") ||
    fail "online run (c = $slots)"
  json=$(tail -n 1 <<<"$out")
  T=$(sed -n 's/.*"steps":\([0-9]*\).*/\1/p' <<<"$json")
  [[ $json == *'"schedule":"online"'*'"adaptive_dt":true,"end_time":12.0'* && $T -gt 100 ]] ||
    fail "online JSON (c = $slots): $json"
  [[ $json == *"\"adjoint_calls\":$T,"* ]] || fail "online run must reverse its $T steps: $json"
  "$program" --adaptive-dt --steps "$T" --grid 48 --schedule store-all \
    --gradient "$work/online-all.txt" >/dev/null || fail "store-all with adaptive dt, T = $T"
  cmp -s "$work/online.txt" "$work/online-all.txt" ||
    fail "online gradient (c = $slots, T = $T) differs from store-all"
done
"$program" --online --grid 8 >/dev/null 2>&1
[[ $? == 2 ]] || fail "--online without --end-time must be refused with exit status 2"
out=$("$program" --online --end-time 1 --grid 8 --disk-slots 2 2>&1)
[[ $? == 1 && $out == *"--online works with --slots only"* ]] || fail "--online with a disk: $out"

"$program" --steps 0 >/dev/null 2>&1
[[ $? == 2 ]] || fail "--steps 0 must be refused with exit status 2"
"$program" --grid 2 >/dev/null 2>&1
[[ $? == 2 ]] || fail "--grid 2 must be refused with exit status 2"
"$program" --steps 10 --grid 8 --gradient "$work/no/such/dir/g.txt" >/dev/null 2>&1
[[ $? == 1 ]] || fail "an unwritable gradient file must fail"

((failures == 0)) && echo "burgers1d example checks passed"
exit $((failures > 0))
