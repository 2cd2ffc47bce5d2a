// A state in GPU memory that cairn::Driver can hold as its working state.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "cairn/state_adapter.hpp"

namespace cairn::cuda {

namespace detail {
class Runtime;
}

/// `bytes` bytes of device memory from cudaMalloc (never managed memory), bound to a stream:
/// every copy of a DeviceBuffer is a cudaMemcpyAsync on that stream, ordered with the user's
/// kernels on it and with no host wait. The Driver holds its working state and x_T as
/// DeviceBuffers (cairn::Driver<cairn::cuda::DeviceBuffer>); DeviceStorage and
/// PinnedHostStorage copy them on their stream.
///
///  - Copy construction allocates `other.bytes()` and copies device to device on other's stream.
///  - Copy assignment makes *this a copy of `other` on other's stream and takes that stream; when
///    the sizes are equal it allocates nothing. (If *this was bound to another stream, that
///    stream is first waited for, on the host: never the case when one stream is used.)
///  - Moves transfer the memory and cost nothing; the moved-from buffer is empty.
///  - The destructor frees with cudaFree (which waits for the device to finish with it).
/// Errors throw cairn::cuda::CudaError (or OutOfDeviceMemory, a std::bad_alloc, for cudaMalloc),
/// naming the CUDA error string and the size.
class DeviceBuffer {
 public:
  /// Empty: no memory, the legacy default stream.
  DeviceBuffer() noexcept = default;
  /// Uninitialised device memory of `bytes` bytes (none for 0) bound to `stream`.
  DeviceBuffer(std::size_t bytes, cudaStream_t stream);
  /// The same through another runtime (tests use a recording fake; see src/cuda/runtime.hpp).
  DeviceBuffer(std::size_t bytes, cudaStream_t stream, detail::Runtime& runtime);
  DeviceBuffer(const DeviceBuffer& other);
  DeviceBuffer& operator=(const DeviceBuffer& other);
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  ~DeviceBuffer();

  void* data() noexcept { return data_; }
  const void* data() const noexcept { return data_; }
  std::size_t bytes() const noexcept { return bytes_; }
  cudaStream_t stream() const noexcept { return stream_; }

  /// Enqueues a copy of `bytes()` bytes from host memory (device to host for copy_to_host) on the
  /// stream; with `wait`, the host waits for the stream. For tests and for host levels.
  void copy_from_host(const void* source, bool wait = true);
  void copy_to_host(void* destination, bool wait = true) const;

 private:
  detail::Runtime& runtime() const noexcept;
  void release() noexcept;

  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  cudaStream_t stream_ = nullptr;
  detail::Runtime* runtime_ = nullptr;  // null: libcudart
};

}  // namespace cairn::cuda

namespace cairn {

/// A DeviceBuffer as a checkpointed state. Device levels copy its block on its stream (the
/// device fields of StateWriter and StateReader); a host level (MemoryStorage, AsyncStorage,
/// Hdf5Storage) gets copy_out/copy_in, which copy to and from the host and wait for the stream.
template <>
struct StateAdapter<cuda::DeviceBuffer> {
  static std::size_t bytes(const cuda::DeviceBuffer& x) noexcept { return x.bytes(); }
  static void copy_out(const cuda::DeviceBuffer& x, void* out) { x.copy_to_host(out); }
  static void copy_in(cuda::DeviceBuffer& x, const void* in, std::size_t count) {
    if (count != x.bytes()) detail::state_size_mismatch(x.bytes(), count);
    x.copy_from_host(in);
  }
  static const void* device_contiguous(const cuda::DeviceBuffer& x) noexcept { return x.data(); }
  static void* device_block(cuda::DeviceBuffer& x, std::size_t count) {
    if (count != x.bytes()) detail::state_size_mismatch(x.bytes(), count);
    return x.data();
  }
  static void* device_stream(const cuda::DeviceBuffer& x) noexcept {
    return static_cast<void*>(x.stream());
  }
};

}  // namespace cairn
