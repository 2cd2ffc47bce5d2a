// Errors of the CUDA component cairn::cuda.
#pragma once

#include <cuda_runtime_api.h>

#include <new>
#include <stdexcept>
#include <string>

namespace cairn::cuda {

/// A CUDA runtime call failed. what() names the operation, the sizes involved and the CUDA
/// error string; code() is the cudaError_t.
class CudaError : public std::runtime_error {
 public:
  CudaError(const std::string& message, cudaError_t code)
      : std::runtime_error(message), code_(code) {}
  cudaError_t code() const noexcept { return code_; }

 private:
  cudaError_t code_;
};

/// Device or pinned host memory could not be allocated: a std::bad_alloc (so code that handles
/// running out of memory handles this too) whose what() names the bytes asked for and the CUDA
/// error. Nothing the failing constructor had allocated is left behind.
class OutOfDeviceMemory : public std::bad_alloc {
 public:
  OutOfDeviceMemory(const std::string& message, cudaError_t code)
      : message_(message), code_(code) {}
  const char* what() const noexcept override { return message_.what(); }
  cudaError_t code() const noexcept { return code_; }

 private:
  std::runtime_error message_;  // its copy never throws, unlike std::string's
  cudaError_t code_;
};

}  // namespace cairn::cuda
