#!/usr/bin/env bash
# Are `cairn plan`'s predictions right? Calibrates the cost of one step, one adjoint step and one
# checkpoint copy of examples/burgers1d from two runs (store-all and Revolve with 4 slots, at the
# calibration length), then compares the plan's predicted time with measured burgers1d runs of
# other lengths and slot counts. Target (issue 9): within 10%.
# Usage: bench/plan_accuracy.sh [BUILD_DIR]   (env: GRID=4000 CAL_STEPS=4000)
set -euo pipefail
build=${1:-build}
burgers=$build/examples/burgers1d
cairn=$build/tools/cairn/cairn
GRID=${GRID:-4000}
CAL_STEPS=${CAL_STEPS:-4000}
state_bytes=$((GRID * 8))
field() { sed "s/.*\"$1\":\([0-9.e+-]*\).*/\1/"; }
best_json() {  # the fastest of 3 runs (by total seconds)
  local best="" best_s=1e300 out s
  for _ in 1 2 3; do
    out=$("$burgers" --grid "$GRID" "$@" | tail -n 1)
    s=$(field seconds <<<"$out")
    if awk -v a="$s" -v b="$best_s" 'BEGIN {exit !(a < b)}'; then best=$out best_s=$s; fi
  done
  echo "$best"
}

a=$(best_json --steps "$CAL_STEPS" --schedule store-all)
b=$(best_json --steps "$CAL_STEPS" --slots 4)
# Two runs, two unknowns for the user code (step F, adjoint step B); the copy bandwidths from the
# storage time of each run: Revolve's 4 checkpoints stay in cache, store-all's do not.
read -r F B copy memory < <(awk -v ua="$(field seconds_user <<<"$a")" -v ub="$(field seconds_user <<<"$b")" \
  -v sa="$(field step_calls <<<"$a")" -v sb="$(field step_calls <<<"$b")" -v T="$CAL_STEPS" \
  -v stb="$(field seconds_storage <<<"$b")" -v movedb="$(field bytes_moved <<<"$b")" \
  -v sta="$(field seconds_storage <<<"$a")" -v moveda="$(field bytes_moved <<<"$a")" \
  'BEGIN { F = (ub - ua) / (sb - sa); B = ua / T - F * sa / T;
           printf "%.6e %.6e %.6e %.6e\n", F, B, movedb / stb, moveda / sta }')
echo "burgers1d, grid $GRID ($state_bytes bytes per state); calibrated at T = $CAL_STEPS:"
echo "  step $F s, adjoint step $B s, copies $copy bytes/s in cache, $memory bytes/s beyond"
printf '%-28s %12s %12s %8s\n' "configuration" "predicted s" "measured s" "ratio"
worst=0
for config in "10000 10" "10000 30" "10000 100" "20000 30" "5000 store-all"; do
  read -r T c <<<"$config"
  if [[ $c == store-all ]]; then
    ram=$((T * state_bytes))
    measured=$(best_json --steps "$T" --schedule store-all)
    schedule=store-all
  else
    ram=$((c * state_bytes))
    measured=$(best_json --steps "$T" --slots "$c")
    schedule=revolve
  fi
  predicted=$("$cairn" plan -T "$T" --state-bytes "$state_bytes" --step-seconds "$F" \
    --adjoint-seconds "$B" --copy-bandwidth "$copy" --memory-bandwidth "$memory" \
    --ram-bytes "$ram" -f json |
    python3 -c "import json,sys; d=json.load(sys.stdin); print([x for x in d['candidates'] if x['schedule']=='$schedule'][0]['predicted_seconds'])")
  m=$(field seconds <<<"$measured")
  ratio=$(awk -v p="$predicted" -v m="$m" 'BEGIN {printf "%.3f", p / m}')
  worst=$(awk -v w="$worst" -v r="$ratio" 'BEGIN {d = r > 1 ? r - 1 : 1 - r; print (d > w ? d : w)}')
  printf '%-28s %12.4f %12.4f %8s\n' "T = $T, $schedule ${c/store-all/}" "$predicted" "$m" "$ratio"
done
awk -v w="$worst" 'BEGIN {printf "largest deviation %.1f%%: target within 10%%: %s\n", 100 * w, (w <= 0.10 ? "met" : "NOT met")}'
