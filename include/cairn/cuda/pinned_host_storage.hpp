// Checkpoints of device states in pinned host memory, spilled and prefetched asynchronously.
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

struct PinnedHostOptions {
  /// Device buffers a store first copies the state into (device to device, on the state's
  /// stream) so that the state is free again at once while the copy to the host runs on the
  /// spill stream. With 0 the host copy reads the state itself, and the state's stream waits
  /// for it (no device memory spent, no overlap of a spill with the next steps).
  std::int64_t spill_buffers = 2;
  /// Device buffers for restores started ahead of need (prefetch()); also prefetch_depth().
  std::int64_t prefetch_buffers = 2;
};

/// `slots` slots of `slot_bytes` bytes of pinned host memory (cudaMallocHost, one block) below
/// a device level: it holds device states (cairn::cuda::DeviceBuffer), copying on two streams
/// of its own, a spill stream (device to host) and a fetch stream (host to device). No call of
/// store(), restore() or prefetch() waits on the host; the state's stream (the compute stream C)
/// waits on events where it must. The ordering rules (events per slot and per buffer):
///
///  store(s):   [spill buffer b] C waits b's "spilled" event (b's previous host copy is done),
///              copies state -> b, records "ready"; the spill stream S waits "ready" and slot
///              s's "read" event (no restore or prefetch still reads the old checkpoint), copies
///              b -> host slot s, records b's "spilled" and s's "written".
///              [no spill buffers] C records "ready"; S waits it and s's "read", copies state ->
///              host slot s, records s's "written"; C waits "written" (the state may change only
///              after it has been read).
///  prefetch(s):[fetch buffer f, if one is free] the fetch stream F waits f's "consumed" event
///              (the last restore from f has read it) and s's "written", copies host slot s ->
///              f, records f's "fetched" and s's "read".
///  restore(s): [prefetched into f] C waits f's "fetched", copies f -> state, records f's
///              "consumed". [not prefetched] C waits s's "written", copies host slot s ->
///              state, records s's "read".
///  flush():    the host waits for S and F and throws the first error they report.
///
/// A store or free of a slot drops its prefetch. The Storage contract holds (a failed store
/// leaves that slot empty, a wrong step throws std::logic_error, an oversized state
/// std::invalid_argument). Memory: slots * round_up(slot_bytes, 256) pinned host bytes, and
/// (spill_buffers + prefetch_buffers) * round_up(slot_bytes, 256) device bytes. Allocation
/// failure throws OutOfDeviceMemory and leaves nothing allocated.
class PinnedHostStorage final : public Storage {
 public:
  PinnedHostStorage(std::int64_t slots, std::size_t slot_bytes, PinnedHostOptions options = {});
  /// The same through another runtime (tests: a recording fake, src/cuda/runtime.hpp).
  PinnedHostStorage(std::int64_t slots, std::size_t slot_bytes, PinnedHostOptions options,
                    detail::Runtime& runtime);
  ~PinnedHostStorage() override;
  PinnedHostStorage(const PinnedHostStorage&) = delete;
  PinnedHostStorage& operator=(const PinnedHostStorage&) = delete;

  std::int64_t slots() const noexcept override { return slots_; }
  std::size_t slot_bytes() const noexcept override { return slot_bytes_; }
  std::int64_t occupied() const noexcept override { return occupied_; }
  std::int64_t held_step(std::int64_t slot) const override;

  void store(std::int64_t slot, std::int64_t step, const StateWriter& state) override;
  void restore(std::int64_t slot, std::int64_t step, const StateReader& state) override;
  void free(std::int64_t slot) override;
  void prefetch(std::int64_t slot, std::int64_t step) override;
  std::int64_t prefetch_depth() const noexcept override { return options_.prefetch_buffers; }
  void flush() override;
  const char* name() const noexcept override { return "pinned"; }

  /// The slot's pinned host memory; its contents are final after flush().
  const void* slot_data(std::int64_t slot) const;
  /// Prefetches started and restores served from a prefetch (for tests and benchmarks).
  std::int64_t prefetches_started() const noexcept { return prefetches_started_; }
  std::int64_t prefetches_used() const noexcept { return prefetches_used_; }

 private:
  struct Slot {
    std::int64_t step = -1;
    std::size_t bytes = 0;
    cudaEvent_t written = nullptr;  // recorded on S after the host copy of the last store
    cudaEvent_t read = nullptr;     // recorded after the last copy out of the host slot
    bool written_recorded = false;
    bool read_recorded = false;
    std::int64_t fetched_into = -1;  // the prefetch buffer holding it, or -1
  };
  struct SpillBuffer {
    cudaEvent_t spilled = nullptr;  // recorded on S after the copy out of it
    bool recorded = false;
  };
  struct FetchBuffer {
    cudaEvent_t fetched = nullptr;   // recorded on F after the copy into it
    cudaEvent_t consumed = nullptr;  // recorded on C after the restore read it
    bool consumed_recorded = false;
    std::int64_t slot = -1;  // whose checkpoint it holds, or -1 if free
  };
  // Everything allocated, released by its destructor (also when the constructor throws).
  struct Resources {
    detail::Runtime* runtime = nullptr;
    unsigned char* host = nullptr;
    unsigned char* device = nullptr;  // spill buffers, then prefetch buffers
    cudaStream_t spill_stream = nullptr;
    cudaStream_t fetch_stream = nullptr;
    std::vector<cudaEvent_t> events;
    Resources() = default;
    Resources(const Resources&) = delete;
    Resources& operator=(const Resources&) = delete;
    ~Resources();
    cudaEvent_t new_event(const char* who);
  };

  std::size_t checked_slot(std::int64_t slot) const;
  unsigned char* host_slot(std::size_t index) const { return resources_.host + index * stride_; }
  unsigned char* spill_buffer(std::size_t b) const { return resources_.device + b * stride_; }
  unsigned char* fetch_buffer(std::size_t f) const {
    return resources_.device + (static_cast<std::size_t>(options_.spill_buffers) + f) * stride_;
  }
  void drop_prefetch(Slot& slot);
  void call(cudaError_t error, const char* what);

  detail::Runtime& runtime_;
  std::int64_t slots_;
  std::size_t slot_bytes_;
  PinnedHostOptions options_;
  std::size_t stride_ = 0;
  Resources resources_;
  cudaEvent_t ready_ = nullptr;  // recorded on the state's stream before a spill
  std::vector<Slot> slot_;
  std::vector<SpillBuffer> spill_;
  std::vector<FetchBuffer> fetch_;
  std::size_t next_spill_ = 0;
  std::int64_t occupied_ = 0;
  std::int64_t prefetches_started_ = 0;
  std::int64_t prefetches_used_ = 0;
};

}  // namespace cairn::cuda
