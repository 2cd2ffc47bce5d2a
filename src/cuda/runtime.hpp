// The CUDA runtime calls of cairn::cuda behind one small interface: the real one over cudart
// (runtime_cudart.cpp), and a recording fake in the tests (tests/cuda/fake_runtime.hpp), so that
// the host-side logic (slot bookkeeping, the order of copies, events and waits, error paths) is
// tested without a device. Private to the component.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace cairn::cuda::detail {

class Runtime {
 public:
  virtual ~Runtime() = default;
  Runtime() = default;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  virtual cudaError_t malloc_device(void** pointer, std::size_t bytes) = 0;  // cudaMalloc
  virtual cudaError_t free_device(void* pointer) = 0;                        // cudaFree
  virtual cudaError_t malloc_host(void** pointer, std::size_t bytes) = 0;    // cudaMallocHost
  virtual cudaError_t free_host(void* pointer) = 0;                          // cudaFreeHost
  virtual cudaError_t memcpy_async(void* destination, const void* source, std::size_t bytes,
                                   cudaMemcpyKind kind, cudaStream_t stream) = 0;
  /// A stream that does not synchronise with the legacy default stream.
  virtual cudaError_t stream_create(cudaStream_t* stream) = 0;
  virtual cudaError_t stream_destroy(cudaStream_t stream) = 0;
  /// Host waits: never on the hot path (flush, destructors, cross-stream fallbacks).
  virtual cudaError_t stream_synchronize(cudaStream_t stream) = 0;
  virtual cudaError_t stream_wait_event(cudaStream_t stream, cudaEvent_t event) = 0;
  /// An event without timing (cudaEventDisableTiming: cheaper to record and wait on).
  virtual cudaError_t event_create(cudaEvent_t* event) = 0;
  virtual cudaError_t event_destroy(cudaEvent_t event) = 0;
  virtual cudaError_t event_record(cudaEvent_t event, cudaStream_t stream) = 0;
  /// Clears the runtime's last error after a failure it reported (cudaGetLastError).
  virtual void clear_error() = 0;
  virtual const char* error_string(cudaError_t error) = 0;
};

/// The runtime over libcudart.
Runtime& cudart();

}  // namespace cairn::cuda::detail
