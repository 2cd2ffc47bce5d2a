#include "cairn/cuda/device_storage.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda/check.hpp"
#include "cuda/runtime.hpp"

namespace cairn::cuda {

namespace {
constexpr const char* who = "DeviceStorage";
constexpr std::size_t slot_alignment = 256;  // what cudaMalloc itself guarantees
}  // namespace

DeviceStorage::DeviceStorage(std::int64_t slots, std::size_t slot_bytes)
    : DeviceStorage(slots, slot_bytes, detail::cudart()) {}

DeviceStorage::DeviceStorage(std::int64_t slots, std::size_t slot_bytes, detail::Runtime& runtime)
    : runtime_(runtime), slots_(slots), slot_bytes_(slot_bytes) {
  if (slots < 0) {
    throw std::invalid_argument("DeviceStorage: slots = " + std::to_string(slots) +
                                " is not allowed; slots must be >= 0");
  }
  const std::size_t rounded = slot_bytes == 0 ? slot_alignment : slot_bytes;
  if (rounded > SIZE_MAX - slot_alignment) {
    throw std::invalid_argument("DeviceStorage: slot_bytes = " + std::to_string(slot_bytes) +
                                " is too large");
  }
  stride_ = (rounded + slot_alignment - 1) / slot_alignment * slot_alignment;
  const auto count = static_cast<std::size_t>(slots);
  if (count != 0 && stride_ > SIZE_MAX / count) {
    throw std::invalid_argument("DeviceStorage: " + std::to_string(slots) + " slots of " +
                                std::to_string(slot_bytes) +
                                " bytes exceed the address space; use fewer or smaller slots");
  }
  // Host bookkeeping first: if it throws, no device memory is held yet.
  step_.assign(count, -1);
  stored_bytes_.assign(count, 0);
  last_stream_.assign(count, nullptr);
  used_.assign(count, 0);
  if (count != 0) {
    const std::string what =
        std::to_string(slots) + " slots of " + std::to_string(stride_) + " bytes";
    block_ = static_cast<unsigned char*>(
        detail::allocate(runtime_, stride_ * count, false, who, what.c_str()));
  }
}

DeviceStorage::~DeviceStorage() {
  if (block_ != nullptr) (void)runtime_.free_device(block_);  // cudaFree waits for the copies
}

std::size_t DeviceStorage::checked_slot(std::int64_t slot) const {
  if (slot < 0 || slot >= slots_) {
    throw std::out_of_range("DeviceStorage: slot " + std::to_string(slot) +
                            " does not exist; slots are 0.." + std::to_string(slots_ - 1));
  }
  return static_cast<std::size_t>(slot);
}

const void* DeviceStorage::slot_data(std::int64_t slot) const {
  return slot_memory(checked_slot(slot));
}

std::int64_t DeviceStorage::held_step(std::int64_t slot) const {
  return step_[checked_slot(slot)];
}

void DeviceStorage::wait_if_other_stream(std::size_t index, cudaStream_t stream) {
  const cudaStream_t last = last_stream_[index];
  if (used_[index] != 0 && last != stream) {
    detail::check(runtime_, runtime_.stream_synchronize(last), who,
                  "waiting for the stream of the slot's previous copy");
  }
}

void DeviceStorage::store(std::int64_t slot, std::int64_t step, const StateWriter& state) {
  const std::size_t index = checked_slot(slot);
  require_state_step(who, step);
  if (state.bytes > slot_bytes_) {
    throw std::invalid_argument("DeviceStorage: a state of " + std::to_string(state.bytes) +
                                " bytes does not fit a slot of " + std::to_string(slot_bytes_) +
                                " bytes");
  }
  if (state.device_contiguous == nullptr && state.bytes != 0) {
    throw std::invalid_argument(
        "DeviceStorage: the state is not in device memory (StateWriter::device_contiguous is "
        "null); store a cairn::cuda::DeviceBuffer, or use a host level such as MemoryStorage");
  }
  // Empty while being written: if the copy cannot be enqueued, the slot claims nothing.
  if (step_[index] >= 0) --occupied_;
  step_[index] = -1;
  const auto stream = static_cast<cudaStream_t>(state.device_stream);
  wait_if_other_stream(index, stream);
  if (state.bytes != 0) {
    detail::check(runtime_,
                  runtime_.memcpy_async(slot_memory(index), state.device_contiguous, state.bytes,
                                        cudaMemcpyDeviceToDevice, stream),
                  who,
                  "storing x_" + std::to_string(step) + " (" + std::to_string(state.bytes) +
                      " bytes) in slot " + std::to_string(slot));
  }
  last_stream_[index] = stream;
  used_[index] = 1;
  step_[index] = step;
  stored_bytes_[index] = state.bytes;
  ++occupied_;
}

void DeviceStorage::restore(std::int64_t slot, std::int64_t step, const StateReader& state) {
  const std::size_t index = checked_slot(slot);
  require_state_step(who, step);
  if (step_[index] != step) {
    throw std::logic_error(
        "DeviceStorage: slot " + std::to_string(slot) + " holds " +
        (step_[index] < 0 ? std::string("nothing") : "x_" + std::to_string(step_[index])) +
        ", not x_" + std::to_string(step));
  }
  if (state.device_block == nullptr) {
    throw std::invalid_argument(
        "DeviceStorage: the state is not in device memory (StateReader::device_block is null); "
        "restore into a cairn::cuda::DeviceBuffer");
  }
  const std::size_t bytes = stored_bytes_[index];
  void* destination = state.device_block(state.context, bytes);
  const auto stream = static_cast<cudaStream_t>(state.device_stream);
  wait_if_other_stream(index, stream);
  if (bytes != 0) {
    detail::check(runtime_,
                  runtime_.memcpy_async(destination, slot_memory(index), bytes,
                                        cudaMemcpyDeviceToDevice, stream),
                  who,
                  "restoring x_" + std::to_string(step) + " (" + std::to_string(bytes) +
                      " bytes) from slot " + std::to_string(slot));
  }
  last_stream_[index] = stream;
  used_[index] = 1;
}

void DeviceStorage::free(std::int64_t slot) {
  const std::size_t index = checked_slot(slot);
  if (step_[index] >= 0) --occupied_;
  step_[index] = -1;
}

}  // namespace cairn::cuda
