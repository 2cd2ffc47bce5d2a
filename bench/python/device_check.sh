#!/usr/bin/env bash
# The Python layer's checks on a machine with a CUDA device (the `device` tool runs this in a copy
# of the working tree; results go to $OUT, default ./device-out):
#   1. build the package (cairn._cairn) with the machine's own Python and PyTorch;
#   2. the CUDA tests and the gradient tests, on the device;
#   3. bench/python/odeint.py in float32 on the device (T = 10^3, 10^4; C = 10, 20, 50).
# usage: bench/python/device_check.sh   (env: PYTHON=python3, OUT=...)
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
out=${OUT:-device-out}
mkdir -p "$out"
python=${PYTHON:-$(command -v python3)}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  "$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"
} >"$out/device.txt" 2>&1
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_WITH_PYTHON=ON \
  -DPython3_EXECUTABLE="$python" -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_CLI=OFF \
  -DCAIRN_BUILD_EXAMPLES=OFF -DCAIRN_BUILD_BENCH=OFF -DCAIRN_WITH_HDF5=OFF -DCAIRN_WITH_PETSC=OFF \
  -DCAIRN_WITH_FORTRAN=OFF >"$out/build.txt" 2>&1 &&
  cmake --build build-device -j "$(nproc)" >>"$out/build.txt" 2>&1 || {
  echo "build failed: see build.txt"
  tail -30 "$out/build.txt"
  exit 1
}
export PYTHONPATH=$PWD/build-device/python PYTHONDONTWRITEBYTECODE=1
"$python" -m pytest -q -p no:cacheprovider python/tests/test_torch_cuda.py \
  python/tests/test_torch_gradients.py python/tests/test_torch_counts.py -rs >"$out/pytest.txt" 2>&1
echo "pytest exit $?" >>"$out/pytest.txt"
tail -5 "$out/pytest.txt"
timeout 300 "$python" bench/python/odeint.py --device cuda --dtype float32 --steps 1000 10000 \
  --checkpoints 10 20 50 >"$out/odeint_cuda.txt" 2>&1
cat "$out/odeint_cuda.txt"
