#!/usr/bin/env bash
# Neural ODE (examples/neural_ode, the spiral task): memory against the number of steps, time of a
# gradient through Revolve against store-all, and the final test loss after 2000 iterations; with
# a plain PyTorch version of the same demo beside it where python3-torch is installed
# (bench/neural_ode_torch.py; Debian: apt install python3-torch).
# Usage: bench/neural_ode.sh [BUILD_DIR]   (env: SEEDS="0 1 2 3 4" TORCH_SEEDS="0 1 2")
set -euo pipefail
build=${1:-build}
program=$build/examples/neural_ode
[[ -x $program ]] || { echo "no $program: build first (./run.sh demo)"; exit 1; }
here=$(dirname "$(readlink -f "$0")")
SEEDS=${SEEDS:-"0 1 2 3 4"}
TORCH_SEEDS=${TORCH_SEEDS:-"0 1 2"}
torch=no
/usr/bin/python3 -c "import torch" 2>/dev/null && torch=yes
field() { sed "s/.*\"$1\": *\([^,}]*\).*/\1/"; }

echo "== peak resident memory, --mode full (one trajectory of T = 999 x substeps steps), 2 iterations"
printf '%8s %-26s %12s %14s %12s\n' "T" "backward pass" "peak MiB" "checkpoints B" "s/iteration"
for substeps in 1 10 100; do
  for schedule in "--schedule store-all" "--slots 20"; do
    # shellcheck disable=SC2086
    out=$("$program" --mode full --substeps "$substeps" --iterations 2 $schedule --quiet)
    printf '%8s %-26s %12.2f %14s %12.4f\n' "$(field steps_per_gradient <<<"$out")" \
      "cairn ${schedule#--}" "$(field peak_rss_mib <<<"$out")" "$(field checkpoint_bytes <<<"$out")" \
      "$(field seconds_per_iteration <<<"$out")"
  done
  if [[ $torch == yes && $substeps -le 10 ]]; then
    out=$(/usr/bin/python3 "$here/neural_ode_torch.py" --mode full --substeps "$substeps" --iterations 2)
    printf '%8s %-26s %12.2f %14s %12.4f\n' "$((999 * substeps))" "pytorch autograd" \
      "$(field peak_rss_mib <<<"$out")" "-" "$(field seconds_per_iteration <<<"$out")"
  fi
done

echo
echo "== gradient time, Revolve (c = 20) / store-all"
"$build/bench/cairn_bench_neural_ode" 20

echo
echo "== the demo: 2000 iterations, batches of 20 x 10 points, RK4 with 2 substeps"
printf '%-34s %6s %16s %14s\n' "implementation" "seed" "final test loss" "ms/iteration"
for seed in $SEEDS; do
  out=$("$program" --iterations 2000 --seed "$seed" --slots 4 --quiet)
  printf '%-34s %6s %16.4f %14.3f\n' "cairn, Revolve c = 4" "$seed" \
    "$(field final_test_loss <<<"$out")" "$(awk -v s="$(field seconds_per_iteration <<<"$out")" 'BEGIN {print s * 1000}')"
done
if [[ $torch == yes ]]; then
  for seed in $TORCH_SEEDS; do
    out=$(/usr/bin/python3 "$here/neural_ode_torch.py" --iterations 2000 --seed "$seed")
    printf '%-34s %6s %16.4f %14.3f\n' "pytorch autograd (1 thread)" "$seed" \
      "$(field final_test_loss <<<"$out")" "$(awk -v s="$(field seconds_per_iteration <<<"$out")" 'BEGIN {print s * 1000}')"
  done
else
  echo "(python3-torch not installed: no PyTorch column)"
fi
