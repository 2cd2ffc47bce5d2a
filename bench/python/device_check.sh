#!/usr/bin/env bash
# Replaced by bench/gpu_check.sh, which runs these checks (the Python package built against the
# machine's PyTorch, the CUDA tests, bench/python/odeint.py in float32) and the C++ ones.
# usage: bench/python/device_check.sh [OUTDIR]   (default $OUT, else ./device-out)
exec bash "$(dirname "$(readlink -f "$0")")/../gpu_check.sh" "${1:-${OUT:-device-out}}"
