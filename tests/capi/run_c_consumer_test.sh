#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds C (and Fortran) consumers against it:
# with a C-only CMake project, and with pkg-config (cairn, cairn-fortran). Also checks that the
# installed libcairn has a versioned soname and exports the C entry points.
# Usage: run_c_consumer_test.sh BUILD_DIR CONSUMER_SOURCE WORK_DIR CMAKE CC [FC]
set -euo pipefail
build=$1 source=$2 work=$3 cmake=$4 cc=$5 fc=${6:-}
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
[[ -e $prefix/include/cairn/cairn.h ]] || { echo "not installed: include/cairn/cairn.h"; exit 1; }
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n1 | xargs dirname)
library=$(readlink -f "$libdir/libcairn.so")
soname=$(objdump -p "$library" | awk '/SONAME/ { print $2 }')
echo "libcairn soname: $soname"
[[ $soname =~ ^libcairn\.so\.[0-9]+\.[0-9]+$ ]] || { echo "unversioned soname: $soname"; exit 1; }
exported=$(nm -D --defined-only "$library" | awk '$3 ~ /^cairn_/ { print $3 }' | sort)
for symbol in cairn_revolve_create cairn_schedule_next cairn_driver_run cairn_last_error; do
  grep -qx "$symbol" <<<"$exported" || { echo "not exported: $symbol"; exit 1; }
done
echo "$(wc -l <<<"$exported") C entry points exported"

fortran=()
[[ -n $fc ]] && fortran=(-DWITH_FORTRAN=ON -DCMAKE_Fortran_COMPILER="$fc")
echo "== CMake consumer (C${fc:+ and Fortran})"
"$cmake" -S "$source" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" "${fortran[@]}" >/dev/null
"$cmake" --build "$work/cmake-build" >/dev/null
"$work/cmake-build/c_consumer"
[[ -z $fc ]] || "$work/cmake-build/fortran_consumer"

echo "== pkg-config consumer (C${fc:+ and Fortran})"
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -pedantic -Werror "$source/consumer.c" -o "$work/pc-c" \
  $(pkg-config --cflags --libs cairn)
LD_LIBRARY_PATH=$libdir "$work/pc-c"
if [[ -n $fc ]]; then
  # shellcheck disable=SC2046
  "$fc" -std=f2008 -Wall -Wextra -Werror "$source/consumer.f90" -o "$work/pc-f" \
    $(pkg-config --cflags --libs cairn-fortran)
  LD_LIBRARY_PATH=$libdir "$work/pc-f"
fi
echo "C${fc:+ and Fortran} consumer test passed"
