#!/usr/bin/env bash
# The one device check: what a session runs on a machine with a CUDA device (the `run` tool gives
# it a copy of the working tree, no network), in about 4-5 minutes on one H200 (every part has
# its own time limit; all limits together are 660 s, a little over one 10-minute run, which only
# matters if several parts run into their limits). The machine needs Catch2 v2, CLI11 and
# nlohmann-json's headers and CMake files for the C++ tests and wave2d: where it has none, copy
# them into an ignored folder (docs/gpu.md) and name it in CMAKE_PREFIX_PATH.
# Writes OUTDIR/summary.md and one log per part:
#   env        nvidia-smi, nvcc, cmake, python3, torch (+ CUDA), torchdiffeq versions
#   build      build-gpu/: Release, CAIRN_WITH_CUDA=ON, CAIRN_WITH_PYTHON=ON with this python3,
#              HDF5/PETSc/Fortran/CLI/examples OFF, tests ON only if Catch2 is found
#   cuda       bench/cuda/device_tests.sh (the C++ device tests, the DeviceStorage bandwidth
#              benchmark), into OUTDIR/cuda/
#   wave2d     bench/cuda/wave2d_gpu.sh, if it exists, into OUTDIR/wave2d/
#   pytest     python/tests/test_torch_{cuda,gradients,counts}.py on the device
#   odeint     bench/python/odeint.py --device cuda --dtype float32, T = 10^3, C = 20
#   torchdiffeq bench/python/torchdiffeq_compare.py (cairn.torch.odeint against torchdiffeq)
#   deep_chain bench/python/deep_chain.py --device cuda: torch's checkpoint_sequential sweep against
#              cairn.torch.checkpoint_sequential (peak by max_memory_allocated, time, gradients)
#   unet       bench/python/unet.py --device cuda: structure-aware, sqrt(n) segments and the
#              optimal plan of a U-Net at equal budgets
# Each part runs whatever happened before it; its status is passed, failed (or timed out) or
# skipped (exit 77, with the reason from its log).
# Without a CUDA device (no working nvidia-smi, or torch sees none) it is a dry run: nothing is
# built, the device parts are skipped, and the torchdiffeq comparison runs its CPU self-test;
# CAIRN_GPU_CHECK_FORCE=1 runs every part anyway (they then skip themselves); CAIRN_GPU_CHECK_DRY=1
# makes it a dry run even on a device (the ctest gpu_check.dry_run), the self-test using the
# package in $CAIRN_BUILD_DIR/python (default build/python).
# Usage: bench/gpu_check.sh OUTDIR   (env: PYTHON=python3, CAIRN_GPU_CHECK_FORCE, CAIRN_GPU_CHECK_DRY,
#        CAIRN_BUILD_DIR)
# Exit: 0 if no part failed, 1 otherwise.
set -uo pipefail
if (($# != 1)); then
  echo "usage: bench/gpu_check.sh OUTDIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
cd "$root" || exit 1
python=${PYTHON:-$(command -v python3)}
build=$root/build-gpu
summary=$out/summary.md
rows=$out/.rows
: >"$rows"
failed=0
begin=$SECONDS

# part NAME LIMIT_S COMMAND...: runs COMMAND with its output in OUTDIR/NAME.log.
part() {
  local name=$1 limit=$2 start=$SECONDS rc status note
  shift 2
  if declare -F "$1" >/dev/null; then # a function of this script: run by a child bash
    # shellcheck disable=SC2163 # exports the function named by $1
    export -f "$1"
    set -- bash -c "$1"
  fi
  echo "== $name (limit ${limit} s)"
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=passed note= ;;
    77) status=skipped note=$(grep -m1 -iE 'skip|no cuda' "$out/$name.log" | cut -c1-150) ;;
    124 | 137) status=failed note="timed out after ${limit} s" ;;
    *) status=failed note="exit $rc" ;;
  esac
  [[ $status == failed ]] && failed=1
  echo "| $name | $status | $((SECONDS - start)) | ${note//|/\/} |" >>"$rows"
  echo "   $status ($((SECONDS - start)) s) ${note}"
}
# skipped NAME REASON: a part that was not run.
skipped() {
  echo "| $1 | skipped | 0 | $2 |" >>"$rows"
  echo "== $1: skipped: $2"
}

environment() {
  date -u +%Y-%m-%dT%H:%M:%SZ
  hostname
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader ||
    echo "nvidia-smi: none or failing"
  "${nvcc:-nvcc}" --version | tail -1
  cmake --version | head -1
  ninja --version | sed 's/^/ninja /'
  "$python" --version
  "$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)
print('cuda available', torch.cuda.is_available(), torch.cuda.device_count())"
  "$python" -c "import torchdiffeq; print('torchdiffeq', torchdiffeq.__version__)" 2>&1 | tail -1
  "$python" -c "import pybind11; print('pybind11', pybind11.__version__)" 2>&1 | tail -1
  return 0
}
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
export python root build nvcc
part env 30 environment

device=no
if nvidia-smi -L >/dev/null 2>&1 &&
  "$python" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
  device=yes
fi
run_all=$device
[[ ${CAIRN_GPU_CHECK_FORCE:-0} == 1 ]] && run_all=yes
why="no CUDA device (nvidia-smi or torch.cuda.is_available() says none): dry run"
if [[ ${CAIRN_GPU_CHECK_DRY:-0} == 1 ]]; then
  device=no run_all=no why="CAIRN_GPU_CHECK_DRY=1: dry run"
fi

build_gpu() {
  local generator=() args
  command -v ninja >/dev/null && [[ ! -f $build/CMakeCache.txt ]] && generator=(-G Ninja)
  # The options of bench/cuda/device_tests.sh (which reconfigures build-gpu/ with
  # CAIRN_GPU_PYTHON=ON below), except the examples: it turns them on itself where CLI11 and
  # nlohmann-json are found (for wave2d_cuda), and builds only its own targets.
  args=(-DCMAKE_BUILD_TYPE=Release -DCAIRN_WARNINGS_AS_ERRORS=ON -DCAIRN_WITH_CUDA=ON
    -DCAIRN_WITH_PYTHON=ON -DPython3_EXECUTABLE="$python" -DCAIRN_WITH_PETSC=OFF
    -DCAIRN_WITH_HDF5=OFF -DCAIRN_WITH_FORTRAN=OFF -DCAIRN_BUILD_CLI=OFF
    -DCAIRN_BUILD_EXAMPLES=OFF)
  if ! cmake -S "$root" -B "$build" "${generator[@]}" "${args[@]}" -DCAIRN_BUILD_TESTS=ON; then
    echo "== configure with tests failed (Catch2 v2 missing?): configuring without tests"
    cmake -S "$root" -B "$build" "${args[@]}" -DCAIRN_BUILD_TESTS=OFF || return 1
  fi
  grep -E '^CAIRN_(WITH|BUILD)_[A-Z_]+:' "$build/CMakeCache.txt"
  # The Python package is what the later parts need from here (device_tests.sh builds its own
  # targets); the whole tree with its tests would take most of this part's limit.
  cmake --build "$build" -j "$(nproc)" --target _cairn
}

if [[ $run_all == yes ]]; then
  part build 170 build_gpu
  export CAIRN_GPU_PYTHON=ON
  part cuda 80 bash bench/cuda/device_tests.sh "$out/cuda"
  if [[ -f bench/cuda/wave2d_gpu.sh ]]; then
    part wave2d 50 bash bench/cuda/wave2d_gpu.sh "$out/wave2d"
  else
    skipped wave2d "bench/cuda/wave2d_gpu.sh does not exist yet"
  fi
  export PYTHONPATH=$build/python PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
  # pytest exits 5 when nothing was collected and 0 when every test skipped: both are reported
  # by its last line in the summary.
  part pytest 60 "$python" -m pytest -q -rs -p no:cacheprovider python/tests/test_torch_cuda.py \
    python/tests/test_torch_gradients.py python/tests/test_torch_counts.py
  # T = 10^3 only (each mode in its own process, three timed gradients each: over 40 s on an
  # H200); T = 10^4 takes about 90 s by itself (16 s plain autograd, 39 s Cairn, one repeat).
  part odeint 80 "$python" bench/python/odeint.py --device cuda --dtype float32 \
    --steps 1000 --checkpoints 20 --repeat 2
  part torchdiffeq 80 "$python" bench/python/torchdiffeq_compare.py --device cuda \
    --dtype float32 --repeat 5 --json
  # The CPU-sized networks (launch-bound on a large GPU: the times compare kernel counts as much
  # as arithmetic), every configuration in one process; on an H200 deep_chain took 54 s with 5
  # rounds (3 rounds not yet timed), unet 16 s.
  part deep_chain 80 "$python" bench/python/deep_chain.py --device cuda --dtype float32 \
    --repeat 3 --json "$out/deep_chain.json" --plot "$out/deep_chain.png"
  part unet 30 "$python" bench/python/unet.py --device cuda --dtype float32 --repeat 5 \
    --json "$out/unet.json" --plot "$out/unet.png"
else
  for name in build cuda wave2d pytest odeint deep_chain unet; do skipped $name "$why"; done
  cpu_build=${CAIRN_BUILD_DIR:-$root/build}
  if [[ -d $cpu_build/python/cairn ]]; then
    # The comparison's logic on the CPU, with cairn.torch.solve_taped standing in for torchdiffeq.
    PYTHONPATH=$cpu_build/python PYTHONDONTWRITEBYTECODE=1 part torchdiffeq-self-test 60 \
      "$python" bench/python/torchdiffeq_compare.py --self-test
  else
    skipped torchdiffeq-self-test "no $cpu_build/python (a CPU build's package) to run it with"
  fi
fi

{
  echo "# Device check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  if [[ $device == yes ]]; then
    echo "Device: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
      2>/dev/null | head -1)"
  else
    echo "**Dry run:** $why. Nothing was measured."
  fi
  echo
  echo "Total: $((SECONDS - begin)) s. Logs: OUTDIR/<part>.log; the C++ parts' own logs under"
  echo "OUTDIR/cuda/ and OUTDIR/wave2d/."
  echo
  echo "| part | status | seconds | note |"
  echo "| --- | --- | --- | --- |"
  cat "$rows"
  echo
  echo "## Environment"
  echo
  echo '```'
  cat "$out/env.log"
  echo '```'
  for name in cuda wave2d; do
    if [[ -f $out/$name/summary.txt ]]; then
      printf '\n## %s (%s)\n\n```\n' "$name" "$out/$name/summary.txt"
      cat "$out/$name/summary.txt"
      echo '```'
    fi
  done
  if [[ -f $out/pytest.log ]]; then
    printf '\n## Python tests on the device\n\n```\n'
    grep -E '^(SKIPPED|FAILED|ERROR)' "$out/pytest.log" | head -20
    tail -1 "$out/pytest.log"
    echo '```'
  fi
  for name in odeint torchdiffeq torchdiffeq-self-test deep_chain unet; do
    if [[ -f $out/$name.log ]]; then
      printf '\n## %s\n\n```\n' "$name"
      grep -v '^{' "$out/$name.log" | tail -40
      echo '```'
    fi
  done
} >"$summary"
rm -f "$rows"
echo "== summary: $summary ($((SECONDS - begin)) s)"
exit $failed
