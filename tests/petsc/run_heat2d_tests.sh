#!/usr/bin/env bash
# examples/petsc_heat2d on two MPI ranks: with -ts_trajectory_type cairn the gradient dJ/du(0)
# equals, to the last bit, the one of PETSc's memory type (every step and its stages stored), for
# RK4, Crank-Nicolson and backward Euler, with and without stages in the checkpoints (stage-aware
# or not), in RAM only,
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
# With -ts_trajectory_solution_only 0 the first is the stage-aware plan (MixedRevolve), the last
# the opportunistic one (every checkpoint with its stages).
configs=("-ts_trajectory_max_cps_ram 4" "-ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 5"
  "-ts_trajectory_max_cps_ram 4 -ts_trajectory_cairn_online"
  "-ts_trajectory_max_cps_ram 4 -ts_trajectory_cairn_stage_aware 0")
# bitwise WHAT ARGS...: a cairn run with ARGS writes the gradient of the memory run before it.
bitwise() {
  local what=$1
  shift
  if ! run "$@" -ts_trajectory_type cairn -gradient_file "$scratch/cairn.bin" >"$scratch/log" 2>&1; then
    echo "FAIL: $what:"
    cat "$scratch/log"
    failures=$((failures + 1))
  elif ! cmp "$scratch/memory.bin" "$scratch/cairn.bin"; then
    echo "FAIL: $what: the gradient differs from the memory type's"
    failures=$((failures + 1))
  else
    echo "ok: $what: bitwise equal to memory"
  fi
}
for method in "-ts_type rk -ts_rk_type 4" "-ts_type cn" "-ts_type beuler"; do
  # shellcheck disable=SC2086
  if ! run $method -ts_trajectory_type memory -gradient_file "$scratch/memory.bin" >"$scratch/log" 2>&1; then
    echo "FAIL: memory run ($method):"
    cat "$scratch/log"
    failures=$((failures + 1))
    continue
  fi
  for config in "${configs[@]}"; do
    for only in 0 1; do
      # shellcheck disable=SC2086
      bitwise "$method $config -ts_trajectory_solution_only $only" $method $config \
        -ts_trajectory_solution_only $only
    done
    # A forward run made of several TSSolve calls, each carrying on where the last stopped
    # (-solves), then one TSAdjointSolve: the gradient of memory's single TSSolve.
    [[ $method == "-ts_type beuler" ]] && continue
    for solves in 2 3; do
      # shellcheck disable=SC2086
      bitwise "$method -solves $solves $config (memory: one TSSolve)" $method -solves "$solves" \
        $config
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
