#include "cuda/runtime.hpp"

namespace cairn::cuda::detail {
namespace {

class Cudart final : public Runtime {
 public:
  cudaError_t malloc_device(void** pointer, std::size_t bytes) override {
    return cudaMalloc(pointer, bytes);
  }
  cudaError_t free_device(void* pointer) override { return cudaFree(pointer); }
  cudaError_t malloc_host(void** pointer, std::size_t bytes) override {
    return cudaMallocHost(pointer, bytes);
  }
  cudaError_t free_host(void* pointer) override { return cudaFreeHost(pointer); }
  cudaError_t memcpy_async(void* destination, const void* source, std::size_t bytes,
                           cudaMemcpyKind kind, cudaStream_t stream) override {
    return cudaMemcpyAsync(destination, source, bytes, kind, stream);
  }
  cudaError_t stream_create(cudaStream_t* stream) override {
    return cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking);
  }
  cudaError_t stream_destroy(cudaStream_t stream) override { return cudaStreamDestroy(stream); }
  cudaError_t stream_synchronize(cudaStream_t stream) override {
    return cudaStreamSynchronize(stream);
  }
  cudaError_t stream_wait_event(cudaStream_t stream, cudaEvent_t event) override {
    return cudaStreamWaitEvent(stream, event, 0);
  }
  cudaError_t event_create(cudaEvent_t* event) override {
    return cudaEventCreateWithFlags(event, cudaEventDisableTiming);
  }
  cudaError_t event_destroy(cudaEvent_t event) override { return cudaEventDestroy(event); }
  cudaError_t event_record(cudaEvent_t event, cudaStream_t stream) override {
    return cudaEventRecord(event, stream);
  }
  void clear_error() override { (void)cudaGetLastError(); }
  const char* error_string(cudaError_t error) override { return cudaGetErrorString(error); }
};

}  // namespace

Runtime& cudart() {
  static Cudart runtime;
  return runtime;
}

}  // namespace cairn::cuda::detail
