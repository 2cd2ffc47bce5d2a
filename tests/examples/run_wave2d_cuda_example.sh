#!/usr/bin/env bash
# examples/wave2d's CUDA build end to end, on a CUDA device: the GPU Revolve gradient bit for bit
# equal to GPU store-all and to GPU multilevel (device + pinned host slots), equal to the CPU
# build's gradient to 1e-12 relative (max |g_gpu - g_cpu| / max |g_cpu|; whether it is bitwise
# equal is reported too), J likewise, and the step and adjoint counts t(T, c) + 1 and T. The
# option checks run first (they need no device); then, without a device, it prints one
# "SKIPPED: no CUDA device" line and exits 77.
# Usage: run_wave2d_cuda_example.sh PATH_TO_WAVE2D_CUDA PATH_TO_WAVE2D
set -uo pipefail
gpu=$1
cpu=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
grid=(--grid 64 --steps 300)

# Bad options: exit status 2 before any device is looked for.
out=$("$gpu" --grid 64 --steps 10 --dt 0.01 2>&1)
[[ $? == 2 && $out == *"CFL"* ]] || fail "a dt above the CFL limit must be refused with exit status 2: $out"
for option in "--host-slots 4" "--level1 device" "--write-cost 1"; do
  # shellcheck disable=SC2086 # an option and its value
  out=$("$gpu" --grid 64 --steps 10 $option 2>&1)
  [[ $? == 2 && $out == *"--schedule multilevel"* ]] || fail "$option without multilevel: $out"
done
for bad in "--steps 0" "--grid 4" "--slots 0" "--schedule all" "--host-slots 0" "--level1 disk" \
           "--no-such-option"; do
  # shellcheck disable=SC2086 # a list of options
  "$gpu" $bad >/dev/null 2>&1
  [[ $? == 2 ]] || fail "'$bad' must be refused with exit status 2"
done
if ((failures > 0)); then exit 1; fi

# Revolve with 8 device slots: t(300, 8) + 1 = 981 step calls, 300 adjoint calls, 299 restores.
out=$("$gpu" "${grid[@]}" --slots 8 --quiet --gradient "$work/revolve.txt")
rc=$?
if ((rc == 77)); then
  echo "$out" | head -1
  exit 77
fi
((rc == 0)) || fail "GPU revolve run (rc $rc): $out"
echo "$out"
for field in '"schedule":"revolve"' '"nx":64' '"steps":300' '"slots":8' '"step_calls":981,' \
             '"adjoint_calls":300,' '"restores":299,' '"peak_slots":8,' '"J":' '"seconds_step":'; do
  [[ $out == *"$field"* ]] || fail "JSON line lacks $field: $out"
done
[[ $(wc -l <"$work/revolve.txt") == 4096 ]] || fail "the gradient file must have 64 x 64 = 4096 lines"
awk '$1 != 0 { nonzero++ } END { exit !(nonzero > 3000) }' "$work/revolve.txt" ||
  fail "the GPU gradient is (nearly) all zero"
J_gpu=$(sed -n 's/.*"J":\([^,]*\),.*/\1/p' <<<"$out")

out=$("$gpu" "${grid[@]}" --schedule store-all --quiet --gradient "$work/all.txt") || fail "GPU store-all run"
[[ $out == *'"step_calls":300,"adjoint_calls":300,'* ]] || fail "store-all counts: $out"
cmp -s "$work/revolve.txt" "$work/all.txt" || fail "GPU Revolve (c = 8) and GPU store-all gradients differ"

# Fewer slots: t(300, 3) + 1 = 2300.
out=$("$gpu" "${grid[@]}" --slots 3 --quiet --gradient "$work/revolve3.txt") || fail "GPU revolve c = 3"
[[ $out == *'"step_calls":2300,"adjoint_calls":300,'* ]] || fail "c = 3 counts: $out"
cmp -s "$work/revolve3.txt" "$work/all.txt" || fail "GPU Revolve (c = 3) and store-all gradients differ"

# Multilevel over device slots and pinned host slots (spills and prefetches), bit for bit.
for levels in "--slots 4 --host-slots 4 --write-cost 2 --read-cost 1" \
              "--slots 2 --host-slots 6 --write-cost 0.5 --read-cost 0.5" \
              "--slots 4 --write-cost 0 --read-cost 0" \
              "--slots 4 --host-slots 4 --write-cost 2 --read-cost 1 --level1 device"; do
  # shellcheck disable=SC2086 # a list of options
  out=$("$gpu" "${grid[@]}" --schedule multilevel $levels --quiet --gradient "$work/multilevel.txt") ||
    fail "GPU multilevel run ($levels)"
  [[ $out == *'"schedule":"multilevel"'*'"level1_slots":'*'"adjoint_calls":300,'* ]] ||
    fail "multilevel JSON ($levels): $out"
  cmp -s "$work/multilevel.txt" "$work/all.txt" || fail "GPU multilevel ($levels) gradient differs"
done

# The CPU build's gradient and J: equal to 1e-12 relative.
out_cpu=$("$cpu" "${grid[@]}" --schedule store-all --quiet --gradient "$work/cpu.txt") || fail "CPU run"
J_cpu=$(sed -n 's/.*"J":\([^,]*\),.*/\1/p' <<<"$out_cpu")
relative=$(paste "$work/all.txt" "$work/cpu.txt" | awk '
  { d = $1 - $2; if (d < 0) d = -d; c = $2; if (c < 0) c = -c
    if (d > dmax) dmax = d; if (c > cmax) cmax = c }
  END { if (NR != 4096 || cmax == 0) print "nan"; else printf "%.3e\n", dmax / cmax }')
echo "GPU against CPU gradient: max |g_gpu - g_cpu| / max |g_cpu| = $relative"
awk -v r="$relative" 'BEGIN { exit !(r != "nan" && r + 0 <= 1e-12) }' ||
  fail "GPU and CPU gradients differ by $relative relative (> 1e-12)"
if cmp -s "$work/all.txt" "$work/cpu.txt"; then
  echo "GPU and CPU gradients are bitwise equal"
else
  echo "GPU and CPU gradients are not bitwise equal (within 1e-12 relative)"
fi
awk -v a="$J_gpu" -v b="$J_cpu" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 1e-12 * b) }' ||
  fail "GPU J = $J_gpu and CPU J = $J_cpu differ by more than 1e-12 relative"

((failures == 0)) && echo "wave2d CUDA example checks passed"
exit $((failures > 0))
