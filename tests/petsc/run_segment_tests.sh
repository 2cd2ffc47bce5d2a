#!/usr/bin/env bash
# The plugin's runs in segments, on PETSc's own tutorials (unmodified, compiled here):
#  - TS events (hybrid/ex1adj: 2 events): cut into 3 segments, PETSc's basic type's output with a
#    4-checkpoint budget (RAM, RAM + disk, disk only, online); with 2 checkpoints refused with
#    the "events + 2" message (and no checkpoint file left);
#  - a TSSolve that restarts the clock after a change of the problem (ex9busadj): refused with
#    the reason, not a wrong gradient.
# Disk checkpoints go to a private TMPDIR that must be empty afterwards.
# usage: run_segment_tests.sh LIBCAIRN_PETSC TUTORIALS_DIR MPICC
set -uo pipefail
plugin=$1 tutorials=$2 mpicc=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch/tmp
mkdir -p "$TMPDIR"
failures=0
# shellcheck source=same_output.sh
source "$(dirname "$0")/same_output.sh"
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# shellcheck disable=SC2046
build() { "$mpicc" -O1 -o "$scratch/$1" "$tutorials/$2" $(pkg-config --cflags --libs PETSc) -lm; }
build ex1adj hybrid/ex1adj.c || fail "cannot build ex1adj"
build ex9busadj power_grid/stability_9bus/ex9busadj.c || fail "cannot build ex9busadj"
cairn=(-dll_append "$plugin" -ts_trajectory_type cairn)

# 1. Events. basic (ex1adj's default) is the reference: like cairn and PETSc's stored output it
#    prints t_0 on the last adjoint monitor line.
events=(-ts_monitor -ts_adjoint_monitor)
"$scratch/ex1adj" "${events[@]}" -ts_trajectory_dirname "$scratch/basic" >"$scratch/basic.out" 2>&1 ||
  fail "ex1adj with basic failed"
while IFS= read -r budget; do
  # shellcheck disable=SC2086
  "$scratch/ex1adj" "${events[@]}" "${cairn[@]}" $budget -ts_trajectory_view >"$scratch/out" 2>&1
  if ! grep -q "Cairn segments of the last run: 3" "$scratch/out"; then
    fail "ex1adj $budget: not 3 segments:"
    cat "$scratch/out"
  elif ! same_output "$scratch/basic.out" "$scratch/out" "$scratch/diff"; then
    fail "ex1adj $budget: other output than basic's:"
    cat "$scratch/diff"
  else
    echo "ok: ex1adj $budget: 2 events, 3 segments, basic's output"
  fi
done <<'BUDGETS'
-ts_trajectory_max_cps_ram 4
-ts_trajectory_max_cps_ram 4 -ts_trajectory_solution_only
-ts_trajectory_max_cps_ram 2 -ts_trajectory_max_cps_disk 2
-ts_trajectory_max_cps_ram 0 -ts_trajectory_max_cps_disk 4
-ts_trajectory_max_cps_ram 4 -ts_trajectory_cairn_online
BUDGETS
# Too few checkpoints for the events: refused, in RAM and with the disk file open (which must not
# be left behind).
message="a TS event at step 33 needs a checkpoint for the state after it, but all 2 hold x_0 and the states after earlier events; give -ts_trajectory_max_cps_ram at least the number of events + 2"
for budget in "-ts_trajectory_max_cps_ram 2" "-ts_trajectory_max_cps_ram 1 -ts_trajectory_max_cps_disk 1"; do
  # shellcheck disable=SC2086
  if "$scratch/ex1adj" "${events[@]}" "${cairn[@]}" $budget >"$scratch/out" 2>&1; then
    fail "ex1adj $budget succeeded; expected '$message'"
  elif ! grep -qF "$message" "$scratch/out"; then
    fail "ex1adj $budget failed without '$message':"
    cat "$scratch/out"
  else
    echo "ok: ex1adj $budget: '$message'"
  fi
done

# 2. A TSSolve that restarts the clock (ex9busadj runs to t = 5, then from t = 1 with a fault).
cp "$tutorials"/power_grid/stability_9bus/{petscoptions,X.bin,Ybus.bin} "$scratch/"
message="cairn: a TSSolve continued the run from t = 1., but the run had reached t = 5.: the program changes the problem between TSSolve calls"
if (cd "$scratch" && ./ex9busadj -viewer_binary_skip_info "${cairn[@]}" \
  -ts_trajectory_max_cps_ram 3 >"$scratch/out" 2>&1); then
  fail "ex9busadj succeeded; expected '$message'"
elif ! grep -qF "$message" "$scratch/out"; then
  fail "ex9busadj failed without '$message':"
  cat "$scratch/out"
else
  echo "ok: ex9busadj: '$message'"
fi

left=$(find "$TMPDIR" -name 'cairn-checkpoints-*')
[[ -z $left ]] || fail "checkpoint files left behind: $left"
if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all segment checks passed"
