#!/usr/bin/env bash
# examples/petsc_heat2d on two MPI ranks: with -ts_trajectory_type cairn the gradient dJ/du(0)
# equals, to the last bit, the one of PETSc's memory type (every step and its stages stored), for
# RK4, Crank-Nicolson and backward Euler, with and without stages in the checkpoints, in RAM only,
# RAM + disk (HDF5, both ranks writing one file) and with the online schedule; also when the
# forward run is split over several TSSolve calls.
# usage: run_heat2d_tests.sh MPIEXEC PETSC_HEAT2D
set -uo pipefail
mpiexec=$1 heat=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch/tmp
mkdir -p "$TMPDIR"
oversubscribe=()
"$mpiexec" --version 2>/dev/null | grep -q "Open MPI\|OpenRTE" && oversubscribe=(--oversubscribe)
run() { "$mpiexec" -n 2 "${oversubscribe[@]}" "$heat" -da_grid_x 32 -da_grid_y 24 -ts_max_steps 40 "$@"; }
failures=0
for method in "-ts_type rk -ts_rk_type 4" "-ts_type cn" "-ts_type beuler"; do
  # shellcheck disable=SC2086
  if ! run $method -ts_trajectory_type memory -gradient_file "$scratch/memory.bin" >"$scratch/log" 2>&1; then
    echo "FAIL: memory run ($method):"
    cat "$scratch/log"
    failures=$((failures + 1))
    continue
  fi
  for only in 0 1; do
    for config in "-ts_trajectory_max_cps_ram 4" "-ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 5" \
      "-ts_trajectory_max_cps_ram 4 -ts_trajectory_cairn_online"; do
      # shellcheck disable=SC2086
      if ! run $method -ts_trajectory_type cairn $config -ts_trajectory_solution_only $only \
        -gradient_file "$scratch/cairn.bin" >"$scratch/log" 2>&1; then
        echo "FAIL: $method $config solution_only $only:"
        cat "$scratch/log"
        failures=$((failures + 1))
      elif ! cmp "$scratch/memory.bin" "$scratch/cairn.bin"; then
        echo "FAIL: $method $config solution_only $only: the gradient differs from the memory type's"
        failures=$((failures + 1))
      else
        echo "ok: $method $config -ts_trajectory_solution_only $only: bitwise equal to memory"
      fi
    done
  done
done
# A forward run made of several TSSolve calls, each carrying on where the last stopped (-solves),
# then one TSAdjointSolve: the same gradient, to the last bit, as memory's single TSSolve.
for method in "-ts_type rk -ts_rk_type 4" "-ts_type cn"; do
  # shellcheck disable=SC2086
  run $method -ts_trajectory_type memory -gradient_file "$scratch/memory.bin" >"$scratch/log" 2>&1
  for solves in 2 3; do
    for config in "-ts_trajectory_max_cps_ram 4" "-ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 5" \
      "-ts_trajectory_max_cps_ram 4 -ts_trajectory_cairn_online"; do
      # shellcheck disable=SC2086
      if ! run $method -solves "$solves" -ts_trajectory_type cairn $config \
        -gradient_file "$scratch/cairn.bin" >"$scratch/log" 2>&1; then
        echo "FAIL: $method -solves $solves $config:"
        cat "$scratch/log"
        failures=$((failures + 1))
      elif ! cmp "$scratch/memory.bin" "$scratch/cairn.bin"; then
        echo "FAIL: $method -solves $solves $config: the gradient differs from the memory type's"
        failures=$((failures + 1))
      else
        echo "ok: $method -solves $solves $config: bitwise equal to memory's single TSSolve"
      fi
    done
  done
done
left=$(find "$TMPDIR" -name 'cairn-checkpoints-*')
if [[ -n $left ]]; then
  echo "FAIL: checkpoint files left behind: $left"
  failures=$((failures + 1))
fi
((failures == 0)) || { echo "$failures failure(s)"; exit 1; }
echo "all heat2d checks passed"
