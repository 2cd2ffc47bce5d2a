#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds tests/consumer against it twice:
# with find_package(Cairn CONFIG) and with pkg-config. Removes the scratch folder afterwards.
# With a sixth argument, PETSc's tutorial ex20adj, also loads the installed libcairn_petsc.so into
# it with -dll_append: the plugin must find libcairn next to itself without LD_LIBRARY_PATH.
# Usage: run_consumer_test.sh BUILD_DIR CONSUMER_SOURCE WORK_DIR CMAKE CXX [EX20ADJ]
set -euo pipefail
build=$1 source=$2 work=$3 cmake=$4 cxx=$5 ex20adj=${6:-}
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

"$cmake" --install "$build" --prefix "$prefix" >/dev/null
for f in include/cairn/revolve.hpp include/cairn/version.hpp lib/cmake/Cairn/CairnConfig.cmake \
         lib/pkgconfig/cairn.pc; do
  [[ -e $prefix/$f || -e $prefix/${f/lib\//lib64\/} ]] || { echo "not installed: $f"; exit 1; }
done
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n1 | xargs dirname)

echo "== CMake consumer"
"$cmake" -S "$source" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
"$cmake" --build "$work/cmake-build" >/dev/null
out=$("$work/cmake-build/consumer")
echo "$out"
[[ $out == *"r = 7, t = 490, legal = 1, forward steps = 490, gradient = 1.26765e+30"* ]]

echo "== pkg-config consumer"
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046
"$cxx" -std=c++17 "$source/main.cpp" -o "$work/pc-consumer" $(pkg-config --cflags --libs cairn)
out=$(LD_LIBRARY_PATH=$libdir "$work/pc-consumer")
echo "$out"
[[ $out == *"r = 7, t = 490, legal = 1, forward steps = 490, gradient = 1.26765e+30"* ]]
if [[ -n $ex20adj ]]; then
  echo "== the installed PETSc plugin, loaded with -dll_append"
  out=$("$ex20adj" -ts_type cn -ts_dt 0.001 -mu 100000 -ts_max_steps 15 \
    -dll_append "$libdir/libcairn_petsc.so" -ts_trajectory_type cairn -ts_trajectory_max_cps_ram 3 \
    -ts_trajectory_solution_only \
    -ts_trajectory_view)
  [[ $out == *"Cairn schedule: revolve, 15 steps, 3 checkpoints in RAM"* ]] || { echo "$out"; exit 1; }
  [[ -e $prefix/include/cairn/petsc_trajectory.h ]] || { echo "not installed: petsc_trajectory.h"; exit 1; }
  echo "plugin loaded from $libdir"
fi
echo "consumer test passed"
