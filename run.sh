#!/usr/bin/env bash
# Cairn quick start (README.md). On a Debian 12 machine, as root or with sudo:
#   ./run.sh demo   installs what is missing, builds, and runs the demo
#   ./run.sh test   installs what is missing, builds, and runs the whole test suite,
#                   then the core tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
#                   then the libFuzzer targets for 30 s each
# Both are idempotent: a second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

mode=${1:-demo}
case $mode in
  demo | test) ;;
  *)
    echo "usage: ./run.sh demo|test" >&2
    exit 2
    ;;
esac

# Debian packages the build and the tests need (the core library itself needs only a C++17
# compiler): CLI11 and nlohmann-json for the cairn tool and the examples, Catch2 v2 for the tests,
# pkg-config for the install test, time (/usr/bin/time) for bench/burgers_memory.sh; parallel HDF5
# and Open MPI (headers, libraries, mpirun) for the optional component cairn::hdf5 (Hdf5Storage)
# and its two-rank test, which CMake skips with a message when they are missing; PETSc 3.18 for the
# optional component cairn::petsc (the TSTrajectory type cairn), with PETSc's own tutorials and
# their reference outputs for its tests; matplotlib for the neural ODE example's plot (--png);
# gfortran for the Fortran module cairn, its example and tests (skipped with a message without it);
# librsvg2-bin for `cairn plot --png` (rsvg-convert) and its tests; clang and libclang-rt-14-dev
# (libFuzzer and the sanitizer runtimes, which GCC lacks) for the timed fuzzing run of the test mode
# (tests/fuzz/run_fuzzers.sh, skipped with a message without); for the Python package cairn
# (docs/python.md, skipped with a message without): python3-dev (Python.h) and pybind11-dev
# (pybind11's headers and CMake package; python3-pybind11 for `python3 -m pybind11`) to build
# the module, python3-numpy (the action arrays, the NumPy driver), python3-pytest for its tests,
# python3-torch for the PyTorch layer cairn.torch and its tests, and python3-setuptools,
# python3-wheel, python3-pip and python3-venv for the offline `pip install` of the package into
# a venv that the test python.pip_install makes; python3-pycodestyle and python3-pyflakes for the
# style check of every Python file (style.python).
# coinor-libcbc-dev (CBC, the MILP solver, with its pkg-config module cbc) for the optional
# component cairn::milp (plan_milp, optimal plans of graphs with skip connections) and its tests,
# which CMake skips with a message without it.
# The optional component cairn::cuda (GPU storage levels, docs/gpu.md) needs the CUDA toolkit,
# which is no Debian package here: CMake finds nvcc on PATH or at /usr/local/cuda/bin/nvcc and
# builds it, or says it skipped it; its device tests skip without a GPU.
packages=(cmake g++ gfortran make ninja-build pkg-config catch2 libcli11-dev nlohmann-json3-dev time
  libhdf5-openmpi-dev libopenmpi-dev openmpi-bin petsc-dev libpetsc3.18-dev-examples
  python3-matplotlib librsvg2-bin clang libclang-rt-14-dev
  pybind11-dev python3-pybind11 python3-numpy python3-pytest python3-torch python3-setuptools
  python3-pip python3-venv python3-dev python3-wheel python3-pycodestyle
  python3-pyflakes coinor-libcbc-dev)
missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "== installing Debian packages: ${missing[*]}"
  sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

jobs=$(nproc)
# Configure (cheap when nothing changed); Ninja unless the folder was made with another generator.
configure() {
  local dir=$1
  shift
  local generator=()
  [[ -f $dir/CMakeCache.txt ]] || generator=(-G Ninja)
  cmake -S . -B "$dir" "${generator[@]}" -DCAIRN_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

echo "== building (build/)"
configure build -DCMAKE_BUILD_TYPE=Release

if [[ $mode == demo ]]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  echo
  echo "== build/examples/burgers1d   (dJ/dx_0 of a 1-D Burgers run: N = 4000, T = 20000, 30 slots)"
  build/examples/burgers1d --gradient "$scratch/revolve.txt"
  echo
  echo "== build/examples/burgers1d --schedule store-all   (every state kept: 19999 slots)"
  build/examples/burgers1d --schedule store-all --gradient "$scratch/store-all.txt"
  echo
  if cmp -s "$scratch/revolve.txt" "$scratch/store-all.txt"; then
    echo "== the two gradients are bitwise identical (all 4000 values, compared with cmp)"
  else
    echo "== the two gradients DIFFER" >&2
    exit 1
  fi
  echo
  echo "== build/tools/cairn/cairn info --steps 20000 --slots 30   (what Revolve promised)"
  build/tools/cairn/cairn info --steps 20000 --slots 30
  exit 0
fi

echo "== tests (build/)"
ctest --test-dir build -j "$jobs" --output-on-failure

echo "== core tests under address + undefined-behaviour sanitizers (build-sanitize/)"
# (Not the PETSc plugin: PETSc's programs load it with dlopen, after the process started without
# the sanitizer runtime; nor the Python module, for the same reason: the interpreter is not
# instrumented; nor cairn::cuda, whose runtime libcudart is not tested under the sanitizers.)
configure build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_SANITIZE=address,undefined \
  -DCAIRN_BUILD_CLI=OFF -DCAIRN_BUILD_BENCH=OFF -DCAIRN_BUILD_EXAMPLES=OFF -DCAIRN_WITH_PETSC=OFF \
  -DCAIRN_WITH_PYTHON=OFF -DCAIRN_WITH_CUDA=OFF
ctest --test-dir build-sanitize -j "$jobs" --output-on-failure

echo "== fuzzing the action-stream parser + checker and the C API, 30 s each (build-fuzz/, clang)"
bash tests/fuzz/run_fuzzers.sh build-fuzz 30
echo "== all tests passed"
