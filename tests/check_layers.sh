#!/usr/bin/env bash
# Fails if an include points up the layers of CONTRIBUTING.md (core -> schedules, storage ->
# drivers -> front ends), or if core, schedules or storage include anything but the C++ standard
# library and Cairn's own headers. CUDA headers (<cuda*.h>, ...) are for the optional component
# cairn::cuda alone: include/cairn/cuda/ and src/cuda/.
# Usage: check_layers.sh SOURCE_DIR
set -euo pipefail
cd "$1"

# The layer of each public header; a header missing here is an error, so a new one gets a layer.
declare -A header_layer=(
  [action.hpp]=core [action_io.hpp]=core [binomial.hpp]=core [check.hpp]=core
  [schedule.hpp]=core [version.hpp]=core
  [revolve.hpp]=schedules [store_all.hpp]=schedules [uniform.hpp]=schedules
  [online.hpp]=schedules [online_multilevel.hpp]=schedules [online_schedule.hpp]=schedules [multilevel.hpp]=schedules
  [two_level.hpp]=schedules
  [mixed.hpp]=schedules
  [heterogeneous.hpp]=schedules
  [graph.hpp]=schedules [chain_plan.hpp]=schedules [graph_planners.hpp]=schedules
  [graph_shapes.hpp]=schedules [graph_milp.hpp]=milp
  [grid.hpp]=schedules [grid_schedules.hpp]=schedules
  [storage.hpp]=storage [state_adapter.hpp]=storage [memory_storage.hpp]=storage
  [async_storage.hpp]=storage [hdf5_storage.hpp]=storage
  [driver.hpp]=drivers [grid_driver.hpp]=drivers
  [cairn.h]=frontends [petsc_trajectory.h]=frontends
)
# The optional component cairn::milp (include/cairn/graph_milp.hpp, src/milp/) plans graphs
# through CBC: it stands on the graph model (schedules) and is the one place CBC's headers appear.
# The optional component cairn::cuda (include/cairn/cuda/, src/cuda/) is a storage level: it may
# include core and storage headers, and it is the one place where CUDA's headers may appear.
# What each layer may include. ode/ is a family of problems (steppers with their adjoints) that
# stands on the standard library alone.
declare -A allowed=(
  [core]="core"
  [schedules]="core schedules"
  [storage]="core storage"
  [drivers]="core schedules storage drivers"
  [frontends]="core schedules storage drivers frontends cuda milp"
  [ode]="ode"
  [cuda]="core storage cuda"
  [milp]="core schedules milp"
)

failures=0
fail() {
  echo "check_layers: $*"
  failures=$((failures + 1))
}

# The layer of a file of the tree, or of what an include line names (public headers as
# "cairn/...", private ones by their path under src/).
layer_of_path() {
  case $1 in
    include/cairn/ode/* | cairn/ode/*) echo ode ;;
    include/cairn/cuda/* | cairn/cuda/* | src/cuda/* | cuda/*) echo cuda ;;
    include/cairn/* | cairn/*)
      local name=${1##*/}
      echo "${header_layer[$name]:-unknown}"
      ;;
    src/core/* | core/*) echo core ;;
    src/schedules/* | schedules/* | src/graph/* | graph/* | src/grid/* | grid/*) echo schedules ;;
    src/milp/* | milp/*) echo milp ;;
    src/storage/* | storage/* | src/hdf5/* | hdf5/*) echo storage ;;
    src/capi/* | capi/* | src/petsc/* | petsc/* | tools/* | python/src/*) echo frontends ;;
    *) echo unknown ;;
  esac
}

mapfile -t files < <(find include src tools python/src -name '*.hpp' -o -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' | sort)
checked=0
for file in "${files[@]}"; do
  layer=$(layer_of_path "$file")
  if [[ $layer == unknown ]]; then
    fail "$file has no layer; add it to tests/check_layers.sh (and CONTRIBUTING.md)"
    continue
  fi
  checked=$((checked + 1))
  while IFS= read -r line; do
    number=${line%%:*}
    included=$(sed -E 's/^[^"]*"([^"]+)".*$/\1/' <<<"${line#*:}")
    [[ $included == */* ]] || continue  # a file of the tool's own folder
    target=$(layer_of_path "$included")
    if [[ $target == unknown ]]; then
      fail "$file:$number includes \"$included\", which has no layer"
    elif [[ " ${allowed[$layer]} " != *" $target "* ]]; then
      fail "$file:$number ($layer) includes \"$included\" ($target); $layer may include: ${allowed[$layer]}"
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
  # The layers under the drivers build with the C++17 standard library alone (hdf5_storage is the
  # optional component cairn::hdf5).
  if [[ $layer == core || $layer == schedules || ($layer == storage && $file != *hdf5*) ]]; then
    while IFS= read -r line; do
      header=$(sed -E 's/^[^<]*<([^>]+)>.*$/\1/' <<<"${line#*:}")
      if [[ $header == */* || $header == *.* ]]; then
        fail "$file:${line%%:*} ($layer) includes <$header>; this layer needs the C++ standard library alone"
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$file" || true)
  fi
  # CUDA's headers belong to cairn::cuda alone.
  if [[ $layer != cuda ]]; then
    while IFS= read -r line; do
      fail "$file:${line%%:*} ($layer) includes a CUDA header; only include/cairn/cuda/ and src/cuda/ may"
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(cuda|cublas|cufft|curand|cusparse|nvrtc|thrust/|cub/)' "$file" || true)
  fi
done

if ((failures > 0)); then
  echo "$failures layer violation(s) in $checked files"
  exit 1
fi
echo "$checked files: every include points down the layers"
