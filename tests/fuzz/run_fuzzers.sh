#!/usr/bin/env bash
# A short timed run of the libFuzzer targets (tests/fuzz/CMakeLists.txt): configures a Clang
# build in BUILD_DIR with -DCAIRN_FUZZ=ON if it has none, builds only the fuzzers, runs each for
# SECONDS on a copy of its committed corpus (the corpus in the tree never changes), and fails on
# any crash, sanitizer report, timeout or memory blow-up, printing the reproducer. Without Clang
# or its libFuzzer runtime it says so and succeeds: fuzzing is an extra, the replays of the
# corpora in every ctest run are the gate.
#   usage: tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
build=$1
seconds=$2
targets=(action_stream c_api graph_plan)

if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "== fuzzing SKIPPED: clang/clang++ not found (Debian: apt install clang libclang-rt-14-dev)"
  exit 0
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/probe.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" 2>"$probe/log"; then
  echo "== fuzzing SKIPPED: clang++ cannot link -fsanitize=fuzzer,address,undefined" \
    "(Debian: apt install libclang-rt-14-dev):"
  sed 's/^/   /' "$probe/log" | head -5
  exit 0
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
  # Only what the fuzzers need; the tests' folder is configured (the targets live there) but
  # only the fuzzers are built. -O1 -g is what libFuzzer recommends: fast enough, good stacks.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DCAIRN_FUZZ=ON -DCAIRN_WARNINGS_AS_ERRORS=ON -DCAIRN_BUILD_CLI=OFF \
    -DCAIRN_BUILD_BENCH=OFF -DCAIRN_BUILD_EXAMPLES=OFF -DCAIRN_WITH_PETSC=OFF \
    -DCAIRN_WITH_HDF5=OFF -DCAIRN_WITH_FORTRAN=OFF -DCAIRN_WITH_PYTHON=OFF -DCAIRN_WITH_CUDA=OFF >/dev/null
fi
build_targets=()
for target in "${targets[@]}"; do
  # The parser's target is absent where the CLI11 or nlohmann-json headers are (the configure
  # step then defines a skipped fuzz.replay_action_stream saying so).
  if cmake --build "$build" --target help | grep -q "^cairn_fuzz_$target:"; then
    build_targets+=("cairn_fuzz_$target")
  else
    echo "== fuzzing cairn_fuzz_$target SKIPPED: not configured (missing CLI11 or nlohmann-json)"
  fi
done
((${#build_targets[@]} > 0)) || exit 0
cmake --build "$build" -j "$(nproc)" --target "${build_targets[@]}"

work=$(mktemp -d)
trap 'rm -rf "$probe" "$work"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# The targets run side by side, one core each.
pids=()
for exe in "${build_targets[@]}"; do
  target=${exe#cairn_fuzz_}
  cp -r "$root/tests/fuzz/corpus/$target" "$work/$target-corpus"
  mkdir "$work/$target-artifacts"
  "$build/tests/fuzz/$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/$target-artifacts/" "$work/$target-corpus" \
    >"$work/$target.log" 2>&1 &
  pids+=($!)
done
failed=0
for k in "${!pids[@]}"; do
  exe=${build_targets[$k]}
  target=${exe#cairn_fuzz_}
  status=0
  wait "${pids[$k]}" || status=$?
  # crash-, leak-, timeout- and oom- files are findings; slow-unit- files are only reported.
  artifacts=()
  for artifact in "$work/$target-artifacts"/*; do
    case $(basename "$artifact") in
      slow-unit-*) echo "== $exe: a slow input (not a failure): $(od -An -tx1 -v "$artifact" | head -c 300)" ;;
      '*') ;;
      *) artifacts+=("$artifact") ;;
    esac
  done
  if ((status != 0)) || ((${#artifacts[@]} > 0)); then
    failed=1
    echo "== FUZZING FOUND A PROBLEM in $exe (exit status $status); the end of its log:"
    tail -n 60 "$work/$target.log"
    mkdir -p "$build/fuzz-findings"
    for artifact in "${artifacts[@]}"; do
      kept="$build/fuzz-findings/$target-$(basename "$artifact")"
      cp "$artifact" "$kept"
      echo "== reproducer ($(stat -c %s "$kept") bytes), kept as $kept; as hex:"
      od -An -tx1 -v "$kept" | head -n 40
      echo "== replay it: $build/tests/fuzz/$exe $kept"
    done
  else
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$')
    corpus=$(find "$work/$target-corpus" -type f | wc -l)
    echo "== $exe: ${runs:-?} inputs in ${seconds} s, no problem found (corpus of $corpus inputs;" \
      "the committed one is unchanged)"
  fi
done
exit "$failed"
