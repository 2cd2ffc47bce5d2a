#!/usr/bin/env bash
# The C++ GPU checks of cairn::cuda on a machine with a CUDA device, from a copy of the working
# tree alone (no network): builds build-gpu/ (Release, CAIRN_WITH_CUDA=ON, Python off), runs the
# cuda.* ctests (host-side tests on the fake runtime, the device tests, the benchmark's smoke
# run) and example.wave2d_cuda (the GPU wave2d gradient against GPU store-all, multilevel and the
# CPU build), the bandwidth benchmark up to 1 GiB states and bench/cuda/wave2d_gpu.sh (Revolve
# against store-all and its prediction; spill overlap), and writes logs and summary.txt under
# OUTDIR (CAIRN_GPU_PYTHON=ON keeps the Python package in build-gpu/: bench/gpu_check.sh sets it).
# Well under 5 minutes on one H200 (the build is most of it). The wave2d parts need CLI11 and
# nlohmann-json (the examples' dependencies); without them they are left out and said so.
# Usage: bench/cuda/device_tests.sh OUTDIR
# Exit: 0 if every step passed, 77 if there is no CUDA device (after the build, which still has to
# pass), 1 otherwise.
set -uo pipefail
if (($# != 1)); then
  echo "usage: bench/cuda/device_tests.sh OUTDIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
build=$root/build-gpu
summary=$out/summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }
status=0

say "== cairn::cuda device checks, $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$summary"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
"$nvcc" --version 2>&1 | tail -1 | sed 's/^/nvcc: /' | tee -a "$summary"

generator=()
command -v ninja >/dev/null && [[ ! -f $build/CMakeCache.txt ]] && generator=(-G Ninja)
configure() {
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCAIRN_WARNINGS_AS_ERRORS=ON -DCAIRN_WITH_CUDA=ON \
    -DCAIRN_WITH_PYTHON="${CAIRN_GPU_PYTHON:-OFF}" -DCAIRN_WITH_PETSC=OFF -DCAIRN_WITH_HDF5=OFF \
    -DCAIRN_WITH_FORTRAN=OFF -DCAIRN_BUILD_CLI=OFF "$@"
}
start=$SECONDS
targets=(cairn_cuda_host_tests cairn_cuda_device_tests cairn_bench_device_storage wave2d wave2d_cuda)
tests=yes
examples=yes
if ! configure -DCAIRN_BUILD_TESTS=ON -DCAIRN_BUILD_EXAMPLES=ON >"$out/configure.log" 2>&1; then
  say "configure with the examples failed (CLI11 or nlohmann-json missing?), see configure.log; no wave2d"
  examples=no
  targets=(cairn_cuda_host_tests cairn_cuda_device_tests cairn_bench_device_storage)
  if ! configure -DCAIRN_BUILD_TESTS=ON -DCAIRN_BUILD_EXAMPLES=OFF \
    >"$out/configure-no-examples.log" 2>&1; then
    # The tests need Catch2 v2; a machine without it still runs the benchmark.
    say "configure with tests failed (Catch2 v2 missing?), see configure-no-examples.log; benchmark only"
    tests=no
    targets=(cairn_bench_device_storage)
    configure -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_EXAMPLES=OFF >"$out/configure-no-tests.log" 2>&1 || {
      say "configure: FAILED (see configure-no-tests.log)"
      exit 1
    }
  fi
fi
if cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >"$out/build.log" 2>&1; then
  say "build: ok ($((SECONDS - start)) s)"
else
  say "build: FAILED (see build.log)"
  exit 1
fi

if [[ $tests == yes ]]; then
  start=$SECONDS
  ctest --test-dir "$build" -R '^(cuda\.|example\.wave2d_cuda$)' --output-on-failure --timeout 300 \
    >"$out/ctest.log" 2>&1
  rc=$?
  say "ctest -R '^(cuda.|example.wave2d_cuda$)': rc $rc ($((SECONDS - start)) s): $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1)"
  grep -E 'Skipped|SKIPPED|Failed|\*\*\*' "$out/ctest.log" | sed 's/^/  /' | tee -a "$summary"
  ((rc == 0)) || status=1
  "$build/tests/cuda/cairn_cuda_device_tests" --durations yes >"$out/device_tests.log" 2>&1
  rc=$?
  if ((rc == 77)); then
    say "device tests: $(head -1 "$out/device_tests.log")"
    say "== no CUDA device: nothing measured"
    exit 77
  fi
  say "device tests: rc $rc: $(grep -E '^(All tests passed|test cases:)' "$out/device_tests.log" | tail -1)"
  ((rc == 0)) || status=1
else
  status=1
fi

start=$SECONDS
"$build/bench/cairn_bench_device_storage" "$out/device_storage_bandwidth.csv" 1024 \
  >"$out/device_storage_bandwidth.log" 2>&1
rc=$?
say "bandwidth benchmark: rc $rc ($((SECONDS - start)) s)"
sed 's/^/  /' "$out/device_storage_bandwidth.log" | tee -a "$summary"
((rc == 0)) || status=1

if [[ $examples == yes ]]; then
  start=$SECONDS
  "$root/bench/cuda/wave2d_gpu.sh" "$out" "$build" >"$out/wave2d_gpu.out" 2>&1
  rc=$?
  say "wave2d benchmark: rc $rc ($((SECONDS - start)) s)"
  sed 's/^/  /' "$out/wave2d_gpu_summary.txt" | tee -a "$summary"
  ((rc == 0)) || status=1
else
  say "wave2d benchmark: not run (no examples)"
  status=1
fi
say "== done: $([[ $status == 0 ]] && echo 'every step passed' || echo 'SOME STEPS FAILED OR DID NOT RUN')"
exit $status
