#include "cairn/cuda/device_buffer.hpp"

#include <string>
#include <utility>

#include "cuda/check.hpp"
#include "cuda/runtime.hpp"

namespace cairn::cuda {

namespace {
constexpr const char* who = "DeviceBuffer";
}

DeviceBuffer::DeviceBuffer(std::size_t bytes, cudaStream_t stream)
    : DeviceBuffer(bytes, stream, detail::cudart()) {}

DeviceBuffer::DeviceBuffer(std::size_t bytes, cudaStream_t stream, detail::Runtime& runtime)
    : stream_(stream), runtime_(&runtime) {
  if (bytes != 0) data_ = detail::allocate(runtime, bytes, false, who, "a device state");
  bytes_ = bytes;
}

DeviceBuffer::DeviceBuffer(const DeviceBuffer& other)
    : DeviceBuffer(other.bytes_, other.stream_, other.runtime()) {
  if (bytes_ != 0) {
    detail::check(
        runtime(),
        runtime().memcpy_async(data_, other.data_, bytes_, cudaMemcpyDeviceToDevice, stream_), who,
        "copying " + std::to_string(bytes_) + " bytes device to device");
  }
}

DeviceBuffer& DeviceBuffer::operator=(const DeviceBuffer& other) {
  if (this == &other) return *this;
  if (bytes_ != other.bytes_) {
    DeviceBuffer copy(other);
    *this = std::move(copy);
    return *this;
  }
  if (data_ != nullptr && stream_ != other.stream_) {
    // Work of the old stream on this memory must be done before other's stream overwrites it.
    detail::check(runtime(), runtime().stream_synchronize(stream_), who,
                  "waiting for the buffer's previous stream");
  }
  stream_ = other.stream_;
  runtime_ = other.runtime_;
  if (bytes_ != 0) {
    detail::check(
        runtime(),
        runtime().memcpy_async(data_, other.data_, bytes_, cudaMemcpyDeviceToDevice, stream_), who,
        "copying " + std::to_string(bytes_) + " bytes device to device");
  }
  return *this;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      stream_(other.stream_),
      runtime_(other.runtime_) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    stream_ = other.stream_;
    runtime_ = other.runtime_;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  release();
}

void DeviceBuffer::release() noexcept {
  if (data_ != nullptr) (void)runtime().free_device(data_);
  data_ = nullptr;
  bytes_ = 0;
}

detail::Runtime& DeviceBuffer::runtime() const noexcept {
  return runtime_ != nullptr ? *runtime_ : detail::cudart();
}

void DeviceBuffer::copy_from_host(const void* source, bool wait) {
  if (bytes_ == 0) return;
  detail::check(runtime(),
                runtime().memcpy_async(data_, source, bytes_, cudaMemcpyHostToDevice, stream_), who,
                "copying " + std::to_string(bytes_) + " bytes host to device");
  if (wait) detail::check(runtime(), runtime().stream_synchronize(stream_), who, "waiting");
}

void DeviceBuffer::copy_to_host(void* destination, bool wait) const {
  if (bytes_ == 0) return;
  detail::check(runtime(),
                runtime().memcpy_async(destination, data_, bytes_, cudaMemcpyDeviceToHost, stream_),
                who, "copying " + std::to_string(bytes_) + " bytes device to host");
  if (wait) detail::check(runtime(), runtime().stream_synchronize(stream_), who, "waiting");
}

}  // namespace cairn::cuda
