#!/usr/bin/env bash
# PETSc's tutorial ex20adj (Van der Pol, CN, 15 steps), unmodified, with the TSTrajectory type
# cairn loaded through -dll_append: the argument sets of its revolve tests must print PETSc's own
# reference output (output/ex20adj_2.out), the recomputations must be the optimum t(15, c), and
# bad options must fail with a clear message. Disk checkpoints go to a private TMPDIR that must be
# empty afterwards.
# Then ex20opt_ic, the same problem in a TAO loop (TSSolve and TSAdjointSolve many times over),
# must print what it prints with PETSc's memory type.
# usage: run_ex20adj_tests.sh EX20ADJ LIBCAIRN_PETSC OUTPUT_DIR CAIRN_CLI EX20OPT_IC
set -uo pipefail
ex=$1 plugin=$2 reference=$3/ex20adj_2.out cli=$4 optimiser=$5
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch/tmp
mkdir -p "$TMPDIR"
base=(-ts_type cn -ts_dt 0.001 -mu 100000 -ts_max_steps 15 -dll_append "$plugin")
failures=0
# shellcheck source=same_output.sh
source "$(dirname "$0")/same_output.sh"
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# 1. Sensitivities equal to PETSc's reference output, digit for digit. The first four are the
#    revolve tests 8, 9, 12 and 13 of ex20adj.c; the online pair mirrors tests 10 and 11.
while IFS= read -r args; do
  # shellcheck disable=SC2086
  if ! "$ex" "${base[@]}" -ts_trajectory_type cairn $args >"$scratch/out" 2>&1; then
    fail "ex20adj $args exited with an error:"
    cat "$scratch/out"
  elif ! diff -u "$reference" "$scratch/out" >"$scratch/diff"; then
    fail "ex20adj $args printed other sensitivities than $reference:"
    cat "$scratch/diff"
  else
    echo "ok: ex20adj -ts_trajectory_type cairn $args matches ex20adj_2.out"
  fi
done <<'ARGS'
-ts_trajectory_max_cps_ram 5 -ts_trajectory_solution_only
-ts_trajectory_max_cps_ram 5 -ts_trajectory_solution_only 0
-ts_trajectory_max_cps_ram 5 -ts_trajectory_solution_only 0 -ts_trajectory_cairn_stage_aware 0
-ts_trajectory_max_cps_ram 2 -ts_trajectory_solution_only 0
-ts_trajectory_max_cps_ram 3 -ts_trajectory_max_cps_disk 8 -ts_trajectory_solution_only
-ts_trajectory_max_cps_ram 3 -ts_trajectory_max_cps_disk 8 -ts_trajectory_solution_only 0
-ts_trajectory_max_cps_ram 5 -ts_trajectory_cairn_online -ts_trajectory_solution_only
-ts_trajectory_max_cps_ram 5 -ts_trajectory_cairn_online -ts_trajectory_solution_only 0
-ts_trajectory_max_cps_ram 1 -ts_trajectory_solution_only
-ts_trajectory_max_cps_ram 0 -ts_trajectory_max_cps_disk 4 -ts_trajectory_solution_only
ARGS

# 2. Recomputations: with the solution only, the trajectory's TSStep calls are the schedule's
#    forward steps, and for Revolve that is the optimum t(T, c) of the closed form.
for c in 1 2 3 5 8 14; do
  expected=$("$cli" info --steps 15 --slots "$c" | awk '/forward steps t\(T,c\)/ {print $4}')
  got=$("$ex" "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram "$c" \
    -ts_trajectory_solution_only -ts_trajectory_view 2>&1 |
    awk -F'= ' '/total number of recomputations/ {print $2}')
  if [[ $got != "$expected" ]]; then
    fail "c = $c: $got recomputations, but t(15, $c) = $expected"
  else
    echo "ok: c = $c: $got recomputations = t(15, $c)"
  fi
done
# With stages stored opportunistically (-ts_trajectory_cairn_stage_aware 0), a slot that still
# holds x_n and the stages of step n-1 -> n spares that step: strictly fewer recomputations than
# t(15, 5) = 23, and the sum is the schedule's.
view=$("$ex" "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 5 \
  -ts_trajectory_solution_only 0 -ts_trajectory_cairn_stage_aware 0 -ts_trajectory_view 2>&1)
recomputed=$(awk -F': ' '/Cairn recomputed steps: / {print $2}' <<<"$view")
reused=$(awk -F': ' '/Cairn taped steps served from stored stages/ {print $2}' <<<"$view")
opportunistic=$recomputed
if ((recomputed + reused != 23 || reused < 1)); then
  fail "stages: $recomputed recomputed + $reused served from stages, expected a sum of 23"
else
  echo "ok: stages stored: $recomputed recomputed + $reused served from stages = 23"
fi
# The stage-aware plan (the default with -ts_trajectory_solution_only 0): in the memory of C
# checkpoints with their stages (C (1 + s) vectors), x_0 kept in one of them, MixedRevolve in the
# others with records of 1 + s vectors.
# Its recomputations are exactly the plan's forward evaluations - T, as the cairn tool counts
# them, and fewer than the opportunistic plan's.
for c in 1 2 3 5; do
  view=$("$ex" "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram "$c" \
    -ts_trajectory_solution_only 0 -ts_trajectory_view 2>&1)
  got=$(awk -F': ' '/Cairn recomputed steps: / {print $2}' <<<"$view")
  w=$(sed -n "s/.*a step's solution and stages \([0-9]*\)$/\1/p" <<<"$view")
  evaluations=$("$cli" schedule -T 15 -c $((c * w - 1)) --schedule mixed --adjoint-units "$w" -f summary |
    sed -n 's/.*"forward_evaluations":\([0-9]*\).*/\1/p')
  if [[ -z $w || -z $evaluations || $got != $((evaluations - 15)) ]]; then
    fail "stage-aware, c = $c: $got recomputations, expected $evaluations - 15 (w = $w): $view"
  elif ((c == 5 && got >= opportunistic)); then
    fail "stage-aware, c = 5: $got recomputations, not fewer than the opportunistic $opportunistic"
  else
    echo "ok: stage-aware, c = $c (w = $w): $got recomputations = forward evaluations - 15"
  fi
done

# 2b. A step count from -ts_max_time: fixed steps end where PETSc's rule says,
#     min(-ts_max_steps, ceil((max_time - t_0) / dt)), so the offline schedule runs and the
#     recomputations are again t(15, c). A run that ends one step before the count (MATCHSTEP
#     stretches the last step when only 1e-7 of one is left) is replanned from x_0, not refused.
by_time=(-ts_type cn -ts_dt 0.001 -mu 100000 -ts_max_steps 100000 -dll_append "$plugin")
"$ex" "${by_time[@]}" -ts_max_time 0.015 -ts_trajectory_type memory >"$scratch/memory" 2>&1
for c in 2 3 5; do
  expected=$("$cli" info --steps 15 --slots "$c" | awk '/forward steps t\(T,c\)/ {print $4}')
  view=$("$ex" "${by_time[@]}" -ts_max_time 0.015 -ts_trajectory_type cairn \
    -ts_trajectory_max_cps_ram "$c" -ts_trajectory_solution_only -ts_trajectory_view 2>&1)
  got=$(awk -F': ' '/Cairn recomputed steps/ {print $2}' <<<"$view")
  if ! grep -q "Cairn step count planned from ceil((max_time - t_0) / dt)" <<<"$view"; then
    fail "-ts_max_time 0.015, c = $c: the step count was not planned from the time"
  elif [[ $got != "$expected" ]]; then
    fail "-ts_max_time 0.015, c = $c: $got recomputations, but t(15, $c) = $expected"
  elif ! same_output "$scratch/memory" <(printf "%s\n" "$view") "$scratch/diff"; then
    fail "-ts_max_time 0.015, c = $c: other sensitivities than memory's:"
    cat "$scratch/diff"
  else
    echo "ok: -ts_max_time 0.015, c = $c: planned from the time, $got recomputations = t(15, $c)"
  fi
done
"$ex" "${by_time[@]}" -ts_max_time 0.0150000001 -ts_trajectory_type memory >"$scratch/memory" 2>&1
view=$("$ex" "${by_time[@]}" -ts_max_time 0.0150000001 -ts_trajectory_type cairn \
  -ts_trajectory_max_cps_ram 3 -ts_trajectory_view 2>&1)
if ! grep -q "Cairn: the run ended after 15 of the 16 steps planned; replanned from x_0" <<<"$view"; then
  fail "-ts_max_time 0.0150000001: no replanning after 15 of 16 steps: $view"
elif ! same_output "$scratch/memory" <(printf "%s\n" "$view") "$scratch/diff"; then
  fail "-ts_max_time 0.0150000001: other sensitivities than memory's:"
  cat "$scratch/diff"
else
  echo "ok: -ts_max_time 0.0150000001: 15 of 16 planned steps, replanned, memory's sensitivities"
fi

# 3. Adaptive steps (TSAdapt basic): the step count is unknown, so the online schedule runs; it
#    must print what PETSc's memory type (every step stored) prints.
adaptive=(-ts_type cn -ts_dt 0.001 -mu 100000 -ts_max_steps 15 -ts_adapt_type basic)
"$ex" "${adaptive[@]}" -ts_trajectory_type memory >"$scratch/memory" 2>&1
# In RAM (OnlineRevolve), and over RAM and disk (OnlineMultilevelRevolve, x_0 in RAM or on disk):
# each budget with the -ts_trajectory_view line that shows the schedule it chose.
while IFS='|' read -r budget shows; do
  # shellcheck disable=SC2086
  "$ex" "${adaptive[@]}" -dll_append "$plugin" -ts_trajectory_type cairn $budget \
    -ts_trajectory_view >"$scratch/cairn" 2>&1
  if ! grep -qF "$shows" "$scratch/cairn"; then
    fail "adaptive steps, $budget: no '$shows':"
    cat "$scratch/cairn"
  elif ! same_output "$scratch/memory" "$scratch/cairn" "$scratch/diff"; then
    fail "adaptive steps, $budget: cairn and memory print different sensitivities:"
    cat "$scratch/diff"
  else
    echo "ok: adaptive steps, $budget: '$shows', what the memory type prints"
  fi
done <<'BUDGETS'
-ts_trajectory_max_cps_ram 3|Cairn schedule: online (the step count was unknown: adaptive time steps)
-ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 4|Cairn online disk level
-ts_trajectory_max_cps_ram 0 -ts_trajectory_max_cps_disk 3|Cairn online disk level
BUDGETS

# 4. -ts_trajectory_monitor prints every action.
monitor=$("$ex" "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 5 \
  -ts_trajectory_solution_only -ts_trajectory_monitor 2>&1)
for line in "cairn: store x_0 in RAM slot 0" "cairn: advance x_0 -> x_6 (TSSolve)" \
  "cairn: reverse step 14: x_15 and its stages are still in the TS" \
  "cairn: restore x_12 from RAM slot 4" "cairn: reverse step 0: recompute x_0 -> x_1" \
  "cairn: every step reversed"; do
  grep -qF "$line" <<<"$monitor" || fail "-ts_trajectory_monitor does not print '$line'"
done
echo "ok: -ts_trajectory_monitor"

# 5. Repeated use: ex20opt_ic's first test (TAO with gradients only; no -ts_max_steps there, so
#    the online schedule runs, once per gradient).
while IFS= read -r args; do
  # shellcheck disable=SC2086
  "$optimiser" $args >"$scratch/memory" 2>&1
  # shellcheck disable=SC2086
  "$optimiser" $args -dll_append "$plugin" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 4 \
    >"$scratch/cairn" 2>&1
  if ! grep -q "TAO,  Function value" "$scratch/memory" || ! diff "$scratch/memory" "$scratch/cairn"; then
    fail "ex20opt_ic $args: cairn and memory print different optimisation histories"
  else
    echo "ok: ex20opt_ic $args: $(grep -c 'TAO,' "$scratch/cairn") TAO iterations as with memory"
  fi
done <<'ARGS'
-ts_type cn -viewer_binary_skip_info -tao_monitor -mu 1000 -ts_dt 0.03125
ARGS

# 6. Bad input: a PETSc error naming the option, what was wrong and what is allowed.
expect_error() {
  local message=$1
  shift
  if "$ex" "$@" >"$scratch/out" 2>&1; then
    fail "ex20adj $* succeeded; expected the error '$message'"
  elif ! grep -qF "$message" "$scratch/out"; then
    fail "ex20adj $* failed without the message '$message':"
    cat "$scratch/out"
  else
    echo "ok: error '$message'"
  fi
}
expect_error "cairn: -ts_trajectory_max_cps_ram -3 is not allowed: give the number of checkpoints in RAM (at least 1; 0 only with disk checkpoints), or -1 (the default) to keep every step" \
  "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram -3
# Counts are parsed in 64 bits: beyond that, or not a whole number, is an error; within it, a count
# above 2^32 is that count (PetscOptionsInt wrapped 4294967298 to 2 checkpoints).
expect_error "cairn: -ts_trajectory_max_cps_ram 9223372036854775808 is not allowed: give a whole number from -1 to 9223372036854775807" \
  "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 9223372036854775808
expect_error "cairn: -ts_trajectory_max_cps_disk 2.5 is not allowed: give a whole number" \
  "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 2.5
# A slot for every state: Revolve advances each step once, t(15, 15) = 14 (with the wrapped 2
# checkpoints it was t(15, 2) = 40); online runs to x_15 first, 15 steps.
all_slots=$("$cli" info --steps 15 --slots 15 | awk '/forward steps t\(T,c\)/ {print $4}')
while read -r expected args; do
  # shellcheck disable=SC2086
  recomputations=$("$ex" "${base[@]}" -ts_trajectory_type cairn $args -ts_trajectory_solution_only \
    -ts_trajectory_view 2>&1 | awk -F'= ' '/total number of recomputations/ {print $2}')
  [[ $expected == all ]] && expected=$all_slots
  if [[ $recomputations != "$expected" ]]; then
    fail "ex20adj $args: $recomputations recomputations, expected $expected"
  else
    echo "ok: ex20adj $args: not wrapped ($recomputations recomputations)"
  fi
done <<'ARGS'
all -ts_trajectory_max_cps_ram 4294967298
all -ts_trajectory_max_cps_ram 9223372036854775807
15 -ts_trajectory_max_cps_ram 4294967298 -ts_trajectory_cairn_online
ARGS
expect_error "cairn: -ts_trajectory_max_cps_disk -2 is not allowed" \
  "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk -2
expect_error "must be finite and >= 0 (the price of one checkpoint's write or read, in forward steps)" \
  "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 3 \
  -ts_trajectory_cairn_disk_read_cost -1
expect_error "the online schedule is used, and it needs -ts_trajectory_max_cps_ram C >= 1" \
  "${adaptive[@]}" -dll_append "$plugin" -ts_trajectory_type cairn
expect_error "cairn: cannot open the disk checkpoint file: Hdf5Storage: file '$scratch/missing/c.h5'" \
  "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 4 \
  -ts_trajectory_cairn_disk_file "$scratch/missing/c.h5"
# ex20opt_ic's Hessian (second-order adjoint, TSAdjointSetForward): the checkpoints hold the
# tangent linear sensitivities too, so the Hessian columns (-mode 1) equal a finite difference of
# gradients (-mode 2) to the digits printed (relative 1e-4), and are the same, digit for digit,
# for every budget. (PETSc 3.18's own types do not pass this check: memory keeps the final
# sensitivities for every step, basic reads them back shifted by one for this method.)
for ts_type in beuler cn; do
  hessian=(-ts_type "$ts_type" -mu 100 -ts_dt 0.01)
  fd=$("$optimiser" "${hessian[@]}" -mode 2 2>&1 | tail -2 | tr '\n' ' ')
  first=""
  while IFS= read -r budget; do
    # shellcheck disable=SC2086
    columns=$("$optimiser" "${hessian[@]}" -mode 1 -dll_append "$plugin" \
      -ts_trajectory_type cairn $budget 2>&1 | grep -A2 'column of the Hessian' |
      grep -v 'column\|--' | tr '\n' ' ')
    [[ -z $first ]] && first=$columns
    # FD prints row by row, the adjoint column by column: H is symmetric, compare entrywise.
    if ! awk -v a="$columns" -v b="$fd" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ");
        if (n != 4) exit 1;
        for (i = 1; i <= 4; i++) {
          d = x[i] - y[i]; if (d < 0) d = -d;
          m = (x[i] < 0 ? -x[i] : x[i]); if (m < 1e-3) m = 1e-3;
          if (d > 1e-4 * m) exit 1 } }'; then
      fail "ex20opt_ic -ts_type $ts_type $budget: Hessian '$columns' is not the finite difference '$fd'"
    elif [[ $columns != "$first" ]]; then
      fail "ex20opt_ic -ts_type $ts_type $budget: Hessian '$columns' differs from '$first'"
    else
      echo "ok: ex20opt_ic -ts_type $ts_type $budget: Hessian $columns = finite differences"
    fi
  done <<'BUDGETS'
-ts_trajectory_max_cps_ram 3
-ts_trajectory_max_cps_ram 3 -ts_trajectory_solution_only
-ts_trajectory_max_cps_ram 2 -ts_trajectory_cairn_online
-ts_trajectory_max_cps_ram 1 -ts_trajectory_max_cps_disk 3
BUDGETS
done
touch "$scratch/taken.h5"
expect_error "the file exists already" \
  "${base[@]}" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 4 \
  -ts_trajectory_cairn_disk_file "$scratch/taken.h5"
[[ -s $scratch/taken.h5 ]] && fail "a refused disk file was written to"

# 7. Nothing left behind by the disk runs above, the failed ones included.
# (Open MPI keeps its own session folders there for a moment after a run: only ours count.)
left=$(find "$TMPDIR" -name 'cairn-checkpoints-*')
if [[ -n $left ]]; then
  fail "checkpoint files left behind: $left"
else
  echo "ok: no checkpoint file left behind"
fi

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all ex20adj checks passed"
