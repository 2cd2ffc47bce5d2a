#!/usr/bin/env bash
# examples/wave2d's CUDA build on a device: what checkpointing costs there.
#  (a) gradient time with Revolve at c device slots against store-all, and against the schedule's
#      prediction ((t + 1) f + T a) / (T (f + a)) from the per-call device times f and a of a
#      step and an adjoint step that wave2d_cuda measures with cudaEvents;
#  (b) spill overlap: MultilevelRevolve over c/2 device slots + c/2 pinned host slots (each host
#      store and restore priced HOST_PRICE steps, default 2, low enough that the plan uses the
#      host level: priced at the bus time of a 64 MB state, some 50 steps by estimate, it would not
#      use it at all), against
#      the same plan with both levels in device memory (--level1 device: the same actions, so the
#      ratio is the copies' cost that did not hide behind steps; target <= 1.10), and against
#      device-only Revolve with c slots. The bus time of one state in steps is printed too.
# Each run is repeated (REPEATS, default 3) and the fastest taken. Default size 2000 x 2000
# points, 1000 steps (64 MB states; store-all holds 64 GB of device memory): well under 2 minutes
# on an H200. Writes wave2d_gpu.log, wave2d_gpu.csv and wave2d_gpu_summary.txt under OUTDIR.
# Usage: bench/cuda/wave2d_gpu.sh OUTDIR [BUILD_DIR]
#   BUILD_DIR: where examples/wave2d_cuda was built (default build-gpu, else build).
#   Environment: GRID (2000), STEPS (1000), SLOTS (20), REPEATS (3), HOST_PRICE (2), BUS_GBS (25:
#   an assumed host <-> device bandwidth in GB/s, for the printed bus time of a state in steps).
# Exit: 0 if every run passed, 77 if there is no CUDA device, 1 otherwise.
set -uo pipefail
if (($# < 1 || $# > 2)); then
  echo "usage: bench/cuda/wave2d_gpu.sh OUTDIR [BUILD_DIR]" >&2
  exit 2
fi
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
if (($# == 2)); then
  build=$2
elif [[ -x $root/build-gpu/examples/wave2d_cuda ]]; then
  build=$root/build-gpu
else
  build=$root/build
fi
program=$build/examples/wave2d_cuda
if [[ ! -x $program ]]; then
  echo "wave2d_gpu: $program not found: build the target wave2d_cuda first" >&2
  exit 1
fi
grid=${GRID:-2000}
steps=${STEPS:-1000}
slots=${SLOTS:-20}
repeats=${REPEATS:-3}
bus=${BUS_GBS:-25}
host_price=${HOST_PRICE:-2}
log=$out/wave2d_gpu.log
csv=$out/wave2d_gpu.csv
summary=$out/wave2d_gpu_summary.txt
: >"$log"
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }

probe=$("$program" --grid 32 --sponge 4 --steps 4 --quiet 2>&1)
rc=$?
if ((rc == 77)); then
  say "wave2d_gpu: $(head -1 <<<"$probe")"
  exit 77
fi
if ((rc != 0)); then
  say "wave2d_gpu: the probe run failed (rc $rc): $probe"
  exit 1
fi

status=0
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,}\"]*\).*/\1/p" <<<"$2"; }
# run NAME OPTIONS...: the fastest of $repeats runs; sets $json to its JSON line.
json=
echo "name,schedule,slots,level1_slots,step_calls,adjoint_calls,seconds,seconds_step,seconds_adjoint,predicted_ratio_to_store_all" >"$csv"
run() {
  local name=$1 best='' line t
  shift
  json=
  for ((k = 0; k < repeats; ++k)); do
    echo "+ $program --grid $grid --steps $steps $* --quiet" >>"$log"
    if ! line=$("$program" --grid "$grid" --steps "$steps" "$@" --quiet 2>>"$log"); then
      say "$name: FAILED (see wave2d_gpu.log)"
      status=1
      return 1
    fi
    echo "$line" >>"$log"
    t=$(field seconds "$line")
    if [[ -z $best ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$t
      json=$line
    fi
  done
  echo "$name,$(field schedule "$json"),$(field slots "$json"),$(field level1_slots "$json"),$(field step_calls "$json"),$(field adjoint_calls "$json"),$(field seconds "$json"),$(field seconds_step "$json"),$(field seconds_adjoint "$json"),$(field predicted_ratio_to_store_all "$json")" >>"$csv"
}

say "== wave2d_cuda: $grid x $grid points, $steps steps, c = $slots, fastest of $repeats runs"
start=$SECONDS
# (a) Revolve at c device slots against store-all, and against the prediction.
if run store-all --schedule store-all; then
  all=$json
  if run revolve --schedule revolve --slots "$slots"; then
    rev=$json
    ratio=$(awk -v a="$(field seconds "$rev")" -v b="$(field seconds "$all")" 'BEGIN { printf "%.3f", a / b }')
    say "(a) store-all $(field seconds "$all") s ($(field step_calls "$all") steps), revolve c = $slots $(field seconds "$rev") s ($(field step_calls "$rev") steps): measured ratio $ratio, predicted $(field predicted_ratio_to_store_all "$rev") (f = $(field seconds_step "$rev") s, a = $(field seconds_adjoint "$rev") s per call)"
  fi
fi

# (b) Spill overlap: c/2 device + c/2 pinned host slots, each host store and restore priced
# $host_price steps.
if [[ -n ${rev:-} ]]; then
  f=$(field seconds_step "$rev")
  bytes=$(field state_bytes "$rev")
  bus_steps=$(awk -v b="$bytes" -v g="$bus" -v f="$f" 'BEGIN { printf "%.1f", b / (g * 1e9) / f }')
  price=$host_price
  half=$((slots / 2))
  levels=(--schedule multilevel --slots "$half" --host-slots "$((slots - half))" --write-cost "$price" --read-cost "$price")
  if run multilevel-pinned "${levels[@]}" --level1 pinned; then
    pinned=$json
    if run multilevel-device "${levels[@]}" --level1 device; then
      device=$json
      overlap=$(awk -v a="$(field seconds "$pinned")" -v b="$(field seconds "$device")" 'BEGIN { printf "%.3f", a / b }')
      against=$(awk -v a="$(field seconds "$pinned")" -v b="$(field seconds "$rev")" 'BEGIN { printf "%.3f", a / b }')
      verdict=$(awk -v r="$overlap" 'BEGIN { print (r <= 1.10 ? "within" : "ABOVE") }')
      say "(b) multilevel $half device + $((slots - half)) pinned slots (price $price steps per host copy; one state over the bus at $bus GB/s takes about $bus_steps steps): $(field seconds "$pinned") s, $(field step_calls "$pinned") steps, $(field prefetches_used "$pinned") prefetched restores; the same plan all on the device $(field seconds "$device") s: ratio $overlap ($verdict the 1.10 target); against device-only revolve c = $slots: $against"
    fi
  fi
fi
say "== $((SECONDS - start)) s; runs in wave2d_gpu.log, rows in wave2d_gpu.csv"
exit $status
