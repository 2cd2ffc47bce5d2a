// Checkpoints in GPU memory, copied on the user's stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cairn/storage.hpp"

namespace cairn::cuda {

namespace detail {
class Runtime;
}

/// `slots` slots of `slot_bytes` bytes in one block of device memory (cudaMalloc, never managed
/// memory; each slot aligned to 256 bytes), allocated by the constructor. store() and restore()
/// are one device-to-device cudaMemcpyAsync each, on the state's stream (StateWriter's and
/// StateReader's device_stream, e.g. a DeviceBuffer's): ordered with the user's kernels on that
/// stream by the stream itself, with no event, no host wait and no allocation. A store returns
/// once the copy is enqueued; the state may then be overwritten by later work on its stream.
///
/// Only device states are accepted (a writer or reader without a device block is refused with
/// std::invalid_argument). The Storage contract holds: store replaces the slot, a failed store
/// (the copy could not be enqueued) leaves that slot empty and every other slot intact, restore
/// of a step the slot does not hold throws std::logic_error, a state larger than slot_bytes is
/// std::invalid_argument. A slot used from a different stream than its last copy was enqueued on
/// is first waited for on the host (correct but slow; one stream per run never does this).
///
/// Memory: slots * round_up(slot_bytes, 256) bytes of device memory, plus 25 bytes per slot of
/// host bookkeeping. Allocation failure throws OutOfDeviceMemory (a std::bad_alloc naming the
/// bytes and the CUDA error) and leaves nothing allocated.
class DeviceStorage final : public Storage {
 public:
  DeviceStorage(std::int64_t slots, std::size_t slot_bytes);
  /// The same through another runtime (tests: a recording fake, src/cuda/runtime.hpp).
  DeviceStorage(std::int64_t slots, std::size_t slot_bytes, detail::Runtime& runtime);
  ~DeviceStorage() override;
  DeviceStorage(const DeviceStorage&) = delete;
  DeviceStorage& operator=(const DeviceStorage&) = delete;

  std::int64_t slots() const noexcept override { return slots_; }
  std::size_t slot_bytes() const noexcept override { return slot_bytes_; }
  std::int64_t occupied() const noexcept override { return occupied_; }
  std::int64_t held_step(std::int64_t slot) const override;

  void store(std::int64_t slot, std::int64_t step, const StateWriter& state) override;
  void restore(std::int64_t slot, std::int64_t step, const StateReader& state) override;
  void free(std::int64_t slot) override;
  const char* name() const noexcept override { return "device"; }

  /// The slot's device memory (for tests and for code that reads a checkpoint in place).
  const void* slot_data(std::int64_t slot) const;

 private:
  std::size_t checked_slot(std::int64_t slot) const;
  unsigned char* slot_memory(std::size_t index) const { return block_ + index * stride_; }
  void wait_if_other_stream(std::size_t index, cudaStream_t stream);

  detail::Runtime& runtime_;
  std::int64_t slots_;
  std::size_t slot_bytes_;
  std::size_t stride_ = 0;
  unsigned char* block_ = nullptr;
  std::vector<std::int64_t> step_;         // state index per slot, -1 if empty
  std::vector<std::size_t> stored_bytes_;  // bytes held per slot
  std::vector<cudaStream_t> last_stream_;  // the stream of the slot's last copy
  std::vector<char> used_;                 // whether the slot has had a copy
  std::int64_t occupied_ = 0;
};

}  // namespace cairn::cuda
