#!/usr/bin/env bash
# Time of a full-waveform-inversion gradient (examples/wave2d) with Revolve at C slots against
# store-all (every state kept), and against what the schedule predicts from the step time f and
# adjoint time a measured in the Revolve run itself: ((t + 1) f + T a) / (T (f + a)). Also runs
# MultilevelRevolve with C RAM slots and an unlimited second level (RAM here) at prices W and R.
# Store-all keeps T states of 2 nx ny doubles: 8 GB for the defaults, so mind the memory.
# Usage: bench/wave2d_gradient.sh [BUILD_DIR]   (env: N (grid N x N), T, C, W, R)
set -euo pipefail
build=${1:-build}
program=$build/examples/wave2d
[[ -x $program ]] || { echo "no $program: build first (./run.sh demo)"; exit 1; }
N=${N:-500}
T=${T:-2000}
C=${C:-50}
W=${W:-2}
R=${R:-2}
args=(--grid "$N" --steps "$T" --quiet)
field() { sed "s/.*\"$1\":\([0-9.e+-]*\).*/\1/" <<<"$2"; }

echo "wave2d ${args[*]}: state $((2 * N * N * 8 / 1000)) kB"
revolve=$("$program" "${args[@]}" --slots "$C")
all=$("$program" "${args[@]}" --schedule store-all)
multi=$("$program" "${args[@]}" --schedule multilevel --slots "$C" --write-cost "$W" --read-cost "$R")
printf '%-34s %9s %9s %11s %9s %9s %8s %10s\n' schedule seconds storage "step calls" "f (ms)" \
  "a (ms)" ratio "ckpt MB"
for run in "revolve, c = $C|$revolve" "store-all|$all" "multilevel, $C + unlimited, W=$W R=$R|$multi"; do
  name=${run%%|*}
  json=${run#*|}
  printf '%-34s %9.3f %9.3f %11d %9.4f %9.4f %8.3f %10.1f\n' "$name" "$(field seconds "$json")" \
    "$(field seconds_storage "$json")" "$(field step_calls "$json")" "$(awk -v s="$(field seconds_step "$json")" 'BEGIN {print s * 1e3}')" \
    "$(awk -v s="$(field seconds_adjoint "$json")" 'BEGIN {print s * 1e3}')" \
    "$(awk -v a="$(field seconds "$json")" -v b="$(field seconds "$all")" 'BEGIN {print a / b}')" \
    "$(awk -v b="$(field checkpoint_bytes "$json")" 'BEGIN {print b / 1e6}')"
done
echo "Revolve's time / store-all's: measured $(awk -v a="$(field seconds "$revolve")" \
  -v b="$(field seconds "$all")" 'BEGIN {printf "%.3f", a / b}'), predicted from its own f and a" \
  "$(awk -v p="$(field predicted_ratio_to_store_all "$revolve")" 'BEGIN {printf "%.3f", p}')"
echo "J: revolve $(field J "$revolve"), store-all $(field J "$all"), multilevel $(field J "$multi")"
for run in "revolve|$revolve" "store-all|$all"; do
  json=${run#*|}
  echo "${run%%|*}: step calls x f + T x a = $(awk -v n="$(field step_calls "$json")" \
    -v f="$(field seconds_step "$json")" -v a="$(field seconds_adjoint "$json")" -v T="$T" \
    'BEGIN {printf "%.3f", n * f + T * a}') s of $(field seconds "$json") s measured;" \
    "$(field seconds_storage "$json") s in checkpoint copies"
done
