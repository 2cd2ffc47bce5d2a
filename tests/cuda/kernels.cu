#include <cuda_runtime.h>

#include "kernels.hpp"

namespace cairn_test {
namespace {

__global__ void fill_kernel(double* x, std::size_t n, double value) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    x[i] = value + static_cast<double>(i);
  }
}

__global__ void spin_kernel(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

__global__ void step_kernel(long long step, double* x, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    x[i] = sin(x[i]) + 0.5 * x[i] + 0.001 * static_cast<double>(step);
  }
}

__global__ void adjoint_kernel(const double* x, double* lambda, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    lambda[i] *= cos(x[i]) + 0.5;
  }
}

unsigned blocks(std::size_t n) {
  const std::size_t b = (n + 255) / 256;
  return static_cast<unsigned>(b < 1024 ? (b == 0 ? 1 : b) : 1024);
}

}  // namespace

void fill(double* x, std::size_t n, double value, cudaStream_t stream) {
  fill_kernel<<<blocks(n), 256, 0, stream>>>(x, n, value);
}

void spin(std::int64_t cycles, cudaStream_t stream) {
  spin_kernel<<<1, 1, 0, stream>>>(static_cast<long long>(cycles));
}

void model_step(std::int64_t step, double* x, std::size_t n, cudaStream_t stream) {
  step_kernel<<<blocks(n), 256, 0, stream>>>(static_cast<long long>(step), x, n);
}

void model_adjoint(const double* x, double* lambda, std::size_t n, cudaStream_t stream) {
  adjoint_kernel<<<blocks(n), 256, 0, stream>>>(x, lambda, n);
}

}  // namespace cairn_test
