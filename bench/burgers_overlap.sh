#!/usr/bin/env bash
# Does the disk level stall the solver? burgers1d with C RAM + D disk slots (HDF5 behind an
# AsyncStorage) against the same run with the disk level backed by RAM (--disk-in-ram): the same
# MultilevelRevolve stream (zero disk prices, so it has Revolve's shape with C + D slots), the same
# stores and restores, only where level 1 lives differs. Each step busy-waits U microseconds so
# that a step costs more than writing one checkpoint (the issue's condition). Also runs the HDF5
# level without the background thread (--sync-disk) to show what the overlap saves.
# Target (issue 4): wall time of the disk run / wall time of the RAM run <= 1.10.
# Usage: bench/burgers_overlap.sh [BUILD_DIR] [DISK_DIR]   (defaults: build, the temp directory)
set -euo pipefail
build=${1:-build}
dir=${2:-${TMPDIR:-/tmp}}
program=$build/examples/burgers1d
[[ -x $program ]] || { echo "no $program: build first (./run.sh demo)"; exit 1; }
N=${N:-200000}  # 1.6 MB per state
T=${T:-400}
C=${C:-4}
D=${D:-8}
U=${U:-2000}
args=(--grid "$N" --steps "$T" --slots "$C" --disk-slots "$D" --step-delay-us "$U")

seconds() { tail -n 1 | sed 's/.*"seconds":\([0-9.e+-]*\).*/\1/'; }
best() {  # fastest of 3 runs of burgers1d with the given extra options
  local b=1e300 s
  for _ in 1 2 3; do
    s=$("$program" "${args[@]}" "$@" | seconds)
    b=$(awk -v a="$b" -v s="$s" 'BEGIN {print (s < a ? s : a)}')
  done
  echo "$b"
}
echo "burgers1d ${args[*]}  (state $((N * 8 / 1000)) kB, disk files in $dir)"
ram=$(best --disk-in-ram)
async=$(best --disk-path "$dir/cairn-overlap-$$.h5")
sync=$(best --disk-path "$dir/cairn-overlap-$$.h5" --sync-disk)
printf '%-28s %10s %8s\n' "level 1 backed by" "seconds" "ratio"
printf '%-28s %10.3f %8s\n' "RAM (baseline)" "$ram" "1.000"
printf '%-28s %10.3f %8.3f  target <= 1.10: %s\n' "HDF5 + AsyncStorage" "$async" \
  "$(awk -v a="$async" -v r="$ram" 'BEGIN {print a / r}')" \
  "$(awk -v a="$async" -v r="$ram" 'BEGIN {print (a / r <= 1.10 ? "met" : "NOT met")}')"
printf '%-28s %10.3f %8.3f\n' "HDF5, synchronous" "$sync" \
  "$(awk -v a="$sync" -v r="$ram" 'BEGIN {print a / r}')"
