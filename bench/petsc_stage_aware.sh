#!/usr/bin/env bash
# The PETSc plugin's stage-aware plan against the other plans at equal memory (issue 24):
# examples/petsc_heat2d (RK4, one rank) and PETSc's tutorial ex20adj (Crank-Nicolson), each run with
#  - revolve, solution only, C (1 + s) checkpoints        (-ts_trajectory_solution_only 1)
#  - revolve with stages kept opportunistically, C checkpoints of a solution and its stages
#                                                          (-ts_trajectory_cairn_stage_aware 0)
#  - stage-aware (MixedRevolve), the memory of C checkpoints with their stages (the default)
# all in C (1 + s) vectors. Prints recomputations (-ts_trajectory_view), wall-clock seconds (best
# of 3) and the time ratio to revolve; the gradients must be bitwise equal (heat2d) or print the
# same digits (ex20adj), else the script fails. Timings decide nothing.
# usage: bench/petsc_stage_aware.sh BUILD_DIR [--quick]
set -uo pipefail
build=${1:-build}
quick=${2:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
heat=$build/examples/petsc_heat2d/petsc_heat2d
[[ -x $heat ]] || heat=$(find "$build" -name petsc_heat2d -type f -perm -u+x | head -1)
ex20=$build/tests/petsc/petsc_ex20adj
plugin=$build/libcairn_petsc.so
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
repeats=3
[[ $quick == --quick ]] && repeats=1
status=0

# run NAME STAGES_PER_STEP PROGRAM ARGS...: prints one table row, leaves the output in $scratch/NAME
best_of() {
  local best=1e9 start end
  for ((k = 0; k < repeats; k++)); do
    start=$(date +%s.%N)
    "$@" >"$scratch/out" 2>&1 || { cat "$scratch/out"; return 1; }
    end=$(date +%s.%N)
    best=$(awk -v a="$best" -v b="$(awk -v s="$start" -v e="$end" 'BEGIN {print e - s}')" \
      'BEGIN {print (b < a ? b : a)}')
  done
  echo "$best"
}

compare() {
  local title=$1 stages=$2 c=$3
  shift 3
  local vectors=$((c * (1 + stages)))
  echo "$title: C = $c checkpoints with stages = $vectors vectors"
  printf "  %-44s %14s %10s %8s\n" plan recomputations "time (s)" ratio
  local base=""
  for plan in revolve opportunistic stage-aware; do
    case $plan in
      revolve) args=(-ts_trajectory_max_cps_ram "$vectors" -ts_trajectory_solution_only) ;;
      opportunistic) args=(-ts_trajectory_max_cps_ram "$c" -ts_trajectory_solution_only 0
        -ts_trajectory_cairn_stage_aware 0) ;;
      stage-aware) args=(-ts_trajectory_max_cps_ram "$c" -ts_trajectory_solution_only 0) ;;
    esac
    seconds=$(best_of "$@" -ts_trajectory_type cairn "${args[@]}" -ts_trajectory_view) || {
      status=1
      continue
    }
    cp "$scratch/out" "$scratch/$plan"
    recomputed=$(awk -F': ' '/Cairn recomputed steps: / {print $2}' "$scratch/$plan")
    [[ -z $base ]] && base=$seconds
    printf "  %-44s %14s %10.3f %8.3f\n" "$plan (${args[*]:0:2})" "$recomputed" "$seconds" \
      "$(awk -v a="$seconds" -v b="$base" 'BEGIN {print a / b}')"
  done
}

if [[ -x $heat ]]; then
  steps=200 grid=256
  [[ $quick == --quick ]] && steps=100 grid=64
  for c in 4 10; do
    compare "heat2d RK4 (s = 4), $grid x $grid grid, $steps steps" 4 "$c" "$heat" -da_grid_x "$grid" \
      -da_grid_y "$grid" -ts_max_steps "$steps" -ts_type rk -ts_rk_type 4 \
      -gradient_file "$scratch/g.bin"
    # bitwise: the gradient files of the three plans
    for plan in revolve opportunistic stage-aware; do
      "$heat" -da_grid_x "$grid" -da_grid_y "$grid" -ts_max_steps "$steps" -ts_type rk -ts_rk_type 4 \
        -ts_trajectory_type cairn -ts_trajectory_max_cps_ram "$c" \
        $([[ $plan == revolve ]] && echo -ts_trajectory_solution_only) \
        $([[ $plan == opportunistic ]] && echo -ts_trajectory_solution_only 0 -ts_trajectory_cairn_stage_aware 0) \
        -gradient_file "$scratch/$plan.bin" >/dev/null 2>&1
    done
    if cmp -s "$scratch/revolve.bin" "$scratch/stage-aware.bin" &&
      cmp -s "$scratch/opportunistic.bin" "$scratch/stage-aware.bin"; then
      echo "  gradients: bitwise equal"
    else
      echo "  gradients: DIFFER"
      status=1
    fi
  done
fi
if [[ -x $ex20 ]]; then
  compare "ex20adj CN (s = 2), 15 steps" 2 3 "$ex20" -ts_type cn -ts_dt 0.001 -mu 100000 \
    -ts_max_steps 15 -dll_append "$plugin"
  if ! diff <(grep -Ev "Cairn|recomputations" "$scratch/revolve") \
    <(grep -Ev "Cairn|recomputations" "$scratch/stage-aware") >/dev/null; then
    echo "  ex20adj: the stage-aware run printed other sensitivities"
    status=1
  else
    echo "  sensitivities: the same digits"
  fi
fi
exit $status
