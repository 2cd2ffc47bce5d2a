#!/usr/bin/env bash
# Peak resident memory of burgers1d, N = 10^5 grid points (an 800 kB state), T = 20000 steps, for
# Revolve with c = 10, 50, 200 slots and for store-all, each measured by /usr/bin/time -v in this
# run. Target: peak <= (c + 4) states + the peak of a store-all run with T = 1 (the program's
# fixed cost), i.e. memory independent of T. Prints the ratio of each peak to its bound.
# Usage: bench/burgers_memory.sh [BUILD_DIR]   (default build; needs Debian's `time` package)
set -euo pipefail
build=${1:-build}
program=$build/examples/burgers1d
[[ -x $program ]] || { echo "no $program: build first (./run.sh demo)"; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time: apt-get install time"; exit 1; }
N=100000
T=20000
state_kb=$(((N * 8 + 1023) / 1024))  # KiB, the unit of /usr/bin/time's "kbytes"

peak_kb() {  # prints the peak resident set of the command, in KiB
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'
}

base=$(peak_kb "$program" --grid $N --steps 1 --schedule store-all)
echo "burgers1d --grid $N (state $state_kb KiB): baseline peak with T = 1: $base KiB"
printf '%-12s %12s %14s %8s  %s\n' "schedule" "peak KiB" "bound KiB" "ratio" "target: ratio <= 1"
for c in 10 50 200; do
  peak=$(peak_kb "$program" --grid $N --steps $T --slots $c)
  bound=$((base + (c + 4) * state_kb))
  ratio=$(awk -v p="$peak" -v b="$bound" 'BEGIN {printf "%.3f", p / b}')
  verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1 ? "met" : "NOT met")}')
  printf '%-12s %12s %14s %8s  %s\n' "revolve c=$c" "$peak" "$bound" "$ratio" "$verdict"
done
peak=$(peak_kb "$program" --grid $N --steps $T --schedule store-all)
bound=$((base + (T - 1 + 4) * state_kb))
ratio=$(awk -v p="$peak" -v b="$bound" 'BEGIN {printf "%.3f", p / b}')
printf '%-12s %12s %14s %8s  %s\n' "store-all" "$peak" "$bound" "$ratio" "(T - 1 + 4 states: for comparison)"
