// Kernels for the device tests and the benchmark (kernels.cu), callable from host C++.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace cairn_test {

/// x[i] = value + i, on `stream`.
void fill(double* x, std::size_t n, double value, cudaStream_t stream);
/// Keeps the device busy for about `cycles` clock cycles on `stream` (one thread).
void spin(std::int64_t cycles, cudaStream_t stream);
/// One step of a small nonlinear model, x[i] = sin(x[i]) + 0.5 x[i] + 0.001 step, in place.
void model_step(std::int64_t step, double* x, std::size_t n, cudaStream_t stream);
/// Its adjoint from x_i: lambda[i] *= cos(x[i]) + 0.5.
void model_adjoint(const double* x, double* lambda, std::size_t n, cudaStream_t stream);

}  // namespace cairn_test
