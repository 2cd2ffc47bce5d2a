// Turning a failed CUDA call into an exception with a message that says what failed.
#pragma once

#include <cstddef>
#include <string>

#include "cairn/cuda/error.hpp"
#include "cuda/runtime.hpp"

namespace cairn::cuda::detail {

/// Throws CudaError "<who>: <what> failed: <CUDA error string> (<name>)" unless error is success.
inline void check(Runtime& runtime, cudaError_t error, const char* who, const std::string& what) {
  if (error == cudaSuccess) return;
  runtime.clear_error();
  throw CudaError(std::string(who) + ": " + what + " failed: " + runtime.error_string(error) +
                      " (" + cudaGetErrorName(error) + ")",
                  error);
}

/// cudaMalloc (or cudaMallocHost, `host`) of `bytes`, throwing OutOfDeviceMemory on failure.
inline void* allocate(Runtime& runtime, std::size_t bytes, bool host, const char* who,
                      const char* what) {
  void* pointer = nullptr;
  const cudaError_t error =
      host ? runtime.malloc_host(&pointer, bytes) : runtime.malloc_device(&pointer, bytes);
  if (error != cudaSuccess) {
    runtime.clear_error();
    throw OutOfDeviceMemory(std::string(who) + ": " + (host ? "cudaMallocHost" : "cudaMalloc") +
                                " of " + std::to_string(bytes) + " bytes (" + what +
                                ") failed: " + runtime.error_string(error),
                            error);
  }
  return pointer;
}

}  // namespace cairn::cuda::detail
