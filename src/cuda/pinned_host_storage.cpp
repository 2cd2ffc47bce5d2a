#include "cairn/cuda/pinned_host_storage.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda/check.hpp"
#include "cuda/runtime.hpp"

namespace cairn::cuda {

namespace {
constexpr const char* who = "PinnedHostStorage";
constexpr std::size_t slot_alignment = 256;

std::size_t checked_product(std::size_t a, std::size_t b, const std::string& what) {
  if (a != 0 && b > SIZE_MAX / a) {
    throw std::invalid_argument("PinnedHostStorage: " + what + " exceed the address space");
  }
  return a * b;
}
}  // namespace

PinnedHostStorage::Resources::~Resources() {
  if (runtime == nullptr) return;
  // Nothing of ours may still be in flight when the memory goes.
  if (spill_stream != nullptr) (void)runtime->stream_synchronize(spill_stream);
  if (fetch_stream != nullptr) (void)runtime->stream_synchronize(fetch_stream);
  for (cudaEvent_t event : events) (void)runtime->event_destroy(event);
  if (fetch_stream != nullptr) (void)runtime->stream_destroy(fetch_stream);
  if (spill_stream != nullptr) (void)runtime->stream_destroy(spill_stream);
  if (device != nullptr) (void)runtime->free_device(device);  // waits for the device
  if (host != nullptr) (void)runtime->free_host(host);
}

cudaEvent_t PinnedHostStorage::Resources::new_event(const char* what) {
  cudaEvent_t event = nullptr;
  events.reserve(events.size() + 1);  // so that push_back cannot throw with the event made
  detail::check(*runtime, runtime->event_create(&event), who, what);
  events.push_back(event);
  return event;
}

PinnedHostStorage::PinnedHostStorage(std::int64_t slots, std::size_t slot_bytes,
                                     PinnedHostOptions options)
    : PinnedHostStorage(slots, slot_bytes, options, detail::cudart()) {}

PinnedHostStorage::PinnedHostStorage(std::int64_t slots, std::size_t slot_bytes,
                                     PinnedHostOptions options, detail::Runtime& runtime)
    : runtime_(runtime), slots_(slots), slot_bytes_(slot_bytes), options_(options) {
  if (slots < 0) {
    throw std::invalid_argument("PinnedHostStorage: slots = " + std::to_string(slots) +
                                " is not allowed; slots must be >= 0");
  }
  if (options.spill_buffers < 0 || options.prefetch_buffers < 0) {
    throw std::invalid_argument(
        "PinnedHostStorage: spill_buffers = " + std::to_string(options.spill_buffers) +
        " and prefetch_buffers = " + std::to_string(options.prefetch_buffers) +
        " are not allowed; both must be >= 0");
  }
  const std::size_t rounded = slot_bytes == 0 ? slot_alignment : slot_bytes;
  if (rounded > SIZE_MAX - slot_alignment) {
    throw std::invalid_argument("PinnedHostStorage: slot_bytes = " + std::to_string(slot_bytes) +
                                " is too large");
  }
  stride_ = (rounded + slot_alignment - 1) / slot_alignment * slot_alignment;
  const auto count = static_cast<std::size_t>(slots);
  const auto buffers = static_cast<std::size_t>(options.spill_buffers) +
                       static_cast<std::size_t>(options.prefetch_buffers);
  const std::size_t host_bytes = checked_product(count, stride_, "the slots");
  const std::size_t device_bytes = checked_product(buffers, stride_, "the staging buffers");
  slot_.resize(count);
  spill_.resize(static_cast<std::size_t>(options.spill_buffers));
  fetch_.resize(static_cast<std::size_t>(options.prefetch_buffers));

  resources_.runtime = &runtime_;
  if (host_bytes != 0) {
    resources_.host = static_cast<unsigned char*>(detail::allocate(
        runtime_, host_bytes, true, who,
        (std::to_string(slots) + " slots of " + std::to_string(stride_) + " bytes").c_str()));
  }
  if (device_bytes != 0) {
    resources_.device = static_cast<unsigned char*>(detail::allocate(
        runtime_, device_bytes, false, who,
        (std::to_string(buffers) + " staging buffers of " + std::to_string(stride_) + " bytes")
            .c_str()));
  }
  detail::check(runtime_, runtime_.stream_create(&resources_.spill_stream), who,
                "creating the spill stream");
  detail::check(runtime_, runtime_.stream_create(&resources_.fetch_stream), who,
                "creating the fetch stream");
  ready_ = resources_.new_event("creating an event");
  for (Slot& s : slot_) {
    s.written = resources_.new_event("creating an event");
    s.read = resources_.new_event("creating an event");
  }
  for (SpillBuffer& b : spill_) b.spilled = resources_.new_event("creating an event");
  for (FetchBuffer& f : fetch_) {
    f.fetched = resources_.new_event("creating an event");
    f.consumed = resources_.new_event("creating an event");
  }
}

PinnedHostStorage::~PinnedHostStorage() = default;

std::size_t PinnedHostStorage::checked_slot(std::int64_t slot) const {
  if (slot < 0 || slot >= slots_) {
    throw std::out_of_range("PinnedHostStorage: slot " + std::to_string(slot) +
                            " does not exist; slots are 0.." + std::to_string(slots_ - 1));
  }
  return static_cast<std::size_t>(slot);
}

const void* PinnedHostStorage::slot_data(std::int64_t slot) const {
  return host_slot(checked_slot(slot));
}

std::int64_t PinnedHostStorage::held_step(std::int64_t slot) const {
  return slot_[checked_slot(slot)].step;
}

void PinnedHostStorage::call(cudaError_t error, const char* what) {
  detail::check(runtime_, error, who, what);
}

void PinnedHostStorage::drop_prefetch(Slot& s) {
  if (s.fetched_into >= 0) {
    // The buffer's copy may still be in flight on F; the next copy into it is ordered after it
    // on F, and its "consumed" event is still the last restore's.
    fetch_[static_cast<std::size_t>(s.fetched_into)].slot = -1;
    s.fetched_into = -1;
  }
}

void PinnedHostStorage::store(std::int64_t slot, std::int64_t step, const StateWriter& state) {
  const std::size_t index = checked_slot(slot);
  require_state_step(who, step);
  if (state.bytes > slot_bytes_) {
    throw std::invalid_argument("PinnedHostStorage: a state of " + std::to_string(state.bytes) +
                                " bytes does not fit a slot of " + std::to_string(slot_bytes_) +
                                " bytes");
  }
  if (state.device_contiguous == nullptr && state.bytes != 0) {
    throw std::invalid_argument(
        "PinnedHostStorage: the state is not in device memory (StateWriter::device_contiguous "
        "is null); store a cairn::cuda::DeviceBuffer, or use MemoryStorage for host states");
  }
  Slot& s = slot_[index];
  // Empty while being written: if a call fails, the slot claims nothing.
  if (s.step >= 0) --occupied_;
  s.step = -1;
  drop_prefetch(s);
  const auto compute = static_cast<cudaStream_t>(state.device_stream);
  const cudaStream_t spill = resources_.spill_stream;
  if (state.bytes != 0) {
    const void* source = state.device_contiguous;
    SpillBuffer* buffer = nullptr;
    if (!spill_.empty()) {
      buffer = &spill_[next_spill_];
      unsigned char* staging = spill_buffer(next_spill_);
      next_spill_ = (next_spill_ + 1) % spill_.size();
      if (buffer->recorded) call(runtime_.stream_wait_event(compute, buffer->spilled), "waiting");
      call(runtime_.memcpy_async(staging, source, state.bytes, cudaMemcpyDeviceToDevice, compute),
           "copying a state into a spill buffer");
      source = staging;
    }
    call(runtime_.event_record(ready_, compute), "recording an event");
    call(runtime_.stream_wait_event(spill, ready_), "waiting");
    if (s.read_recorded) call(runtime_.stream_wait_event(spill, s.read), "waiting");
    call(
        runtime_.memcpy_async(host_slot(index), source, state.bytes, cudaMemcpyDeviceToHost, spill),
        "copying a state to pinned host memory");
    if (buffer != nullptr) {
      call(runtime_.event_record(buffer->spilled, spill), "recording an event");
      buffer->recorded = true;
    }
    call(runtime_.event_record(s.written, spill), "recording an event");
    s.written_recorded = true;
    if (buffer == nullptr) call(runtime_.stream_wait_event(compute, s.written), "waiting");
  }
  s.step = step;
  s.bytes = state.bytes;
  ++occupied_;
}

void PinnedHostStorage::restore(std::int64_t slot, std::int64_t step, const StateReader& state) {
  const std::size_t index = checked_slot(slot);
  require_state_step(who, step);
  Slot& s = slot_[index];
  if (s.step != step) {
    throw std::logic_error("PinnedHostStorage: slot " + std::to_string(slot) + " holds " +
                           (s.step < 0 ? std::string("nothing") : "x_" + std::to_string(s.step)) +
                           ", not x_" + std::to_string(step));
  }
  if (state.device_block == nullptr) {
    throw std::invalid_argument(
        "PinnedHostStorage: the state is not in device memory (StateReader::device_block is "
        "null); restore into a cairn::cuda::DeviceBuffer");
  }
  void* destination = state.device_block(state.context, s.bytes);
  const auto compute = static_cast<cudaStream_t>(state.device_stream);
  if (s.bytes == 0) return;
  if (s.fetched_into >= 0) {
    const auto f = static_cast<std::size_t>(s.fetched_into);
    FetchBuffer& buffer = fetch_[f];
    buffer.slot = -1;
    s.fetched_into = -1;
    call(runtime_.stream_wait_event(compute, buffer.fetched), "waiting");
    call(runtime_.memcpy_async(destination, fetch_buffer(f), s.bytes, cudaMemcpyDeviceToDevice,
                               compute),
         "copying a prefetched checkpoint into the state");
    call(runtime_.event_record(buffer.consumed, compute), "recording an event");
    buffer.consumed_recorded = true;
    ++prefetches_used_;
    return;
  }
  if (s.written_recorded) call(runtime_.stream_wait_event(compute, s.written), "waiting");
  call(runtime_.memcpy_async(destination, host_slot(index), s.bytes, cudaMemcpyHostToDevice,
                             compute),
       "copying a checkpoint from pinned host memory into the state");
  call(runtime_.event_record(s.read, compute), "recording an event");
  s.read_recorded = true;
}

void PinnedHostStorage::prefetch(std::int64_t slot, std::int64_t step) {
  const std::size_t index = checked_slot(slot);
  Slot& s = slot_[index];
  if (s.step != step || step < 0 || s.fetched_into >= 0 || s.bytes == 0) return;
  std::size_t f = 0;
  while (f < fetch_.size() && fetch_[f].slot >= 0) ++f;
  if (f == fetch_.size()) return;  // every buffer holds a prefetch still to be restored: a hint
  FetchBuffer& buffer = fetch_[f];
  const cudaStream_t fetch = resources_.fetch_stream;
  if (buffer.consumed_recorded) call(runtime_.stream_wait_event(fetch, buffer.consumed), "waiting");
  if (s.written_recorded) call(runtime_.stream_wait_event(fetch, s.written), "waiting");
  call(runtime_.memcpy_async(fetch_buffer(f), host_slot(index), s.bytes, cudaMemcpyHostToDevice,
                             fetch),
       "prefetching a checkpoint from pinned host memory");
  call(runtime_.event_record(buffer.fetched, fetch), "recording an event");
  call(runtime_.event_record(s.read, fetch), "recording an event");
  s.read_recorded = true;
  buffer.slot = slot;
  s.fetched_into = static_cast<std::int64_t>(f);
  ++prefetches_started_;
}

void PinnedHostStorage::free(std::int64_t slot) {
  Slot& s = slot_[checked_slot(slot)];
  if (s.step >= 0) --occupied_;
  s.step = -1;
  drop_prefetch(s);
}

void PinnedHostStorage::flush() {
  const cudaError_t spilled = runtime_.stream_synchronize(resources_.spill_stream);
  const cudaError_t fetched = runtime_.stream_synchronize(resources_.fetch_stream);
  call(spilled, "a copy to pinned host memory");
  call(fetched, "a prefetch from pinned host memory");
}

}  // namespace cairn::cuda
