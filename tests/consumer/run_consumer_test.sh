#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds tests/consumer against it twice:
# with find_package(Cairn CONFIG) and with pkg-config. Removes the scratch folder afterwards.
# Usage: run_consumer_test.sh BUILD_DIR CONSUMER_SOURCE WORK_DIR CMAKE CXX
set -euo pipefail
build=$1 source=$2 work=$3 cmake=$4 cxx=$5
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
echo "consumer test passed"
