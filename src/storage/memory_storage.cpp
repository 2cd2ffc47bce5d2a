#include "cairn/memory_storage.hpp"

#include <new>
#include <stdexcept>
#include <string>

namespace cairn {

void MemoryStorage::FreeAligned::operator()(unsigned char* p) const noexcept {
  ::operator delete (p, std::align_val_t{alignment});
}

MemoryStorage::MemoryStorage(std::int64_t slots, std::size_t slot_bytes, std::size_t alignment)
    : slots_(slots), slot_bytes_(slot_bytes), stride_(0), block_(nullptr, FreeAligned{alignment}) {
  if (slots < 0) {
    throw std::invalid_argument("MemoryStorage: slots = " + std::to_string(slots) +
                                " is not allowed; slots must be >= 0");
  }
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    throw std::invalid_argument("MemoryStorage: alignment = " + std::to_string(alignment) +
                                " is not allowed; it must be a power of two");
  }
  const std::size_t rounded = slot_bytes == 0 ? alignment : slot_bytes;
  if (rounded > SIZE_MAX - alignment) {
    throw std::invalid_argument("MemoryStorage: slot_bytes = " + std::to_string(slot_bytes) +
                                " is too large");
  }
  stride_ = (rounded + alignment - 1) / alignment * alignment;
  const auto count = static_cast<std::size_t>(slots);
  if (count != 0 && stride_ > SIZE_MAX / count) {
    throw std::invalid_argument("MemoryStorage: " + std::to_string(slots) + " slots of " +
                                std::to_string(slot_bytes) +
                                " bytes exceed the address space; use fewer or smaller slots");
  }
  if (count != 0) {
    block_.reset(
        static_cast<unsigned char*>(::operator new (stride_* count, std::align_val_t{alignment})));
  }
  step_.assign(count, -1);
  stored_bytes_.assign(count, 0);
}

std::size_t MemoryStorage::checked_slot(std::int64_t slot) const {
  if (slot < 0 || slot >= slots_) {
    throw std::out_of_range("MemoryStorage: slot " + std::to_string(slot) +
                            " does not exist; slots are 0.." + std::to_string(slots_ - 1));
  }
  return static_cast<std::size_t>(slot);
}

const void* MemoryStorage::slot_data(std::int64_t slot) const {
  return slot_memory(checked_slot(slot));
}

std::int64_t MemoryStorage::held_step(std::int64_t slot) const {
  return step_[checked_slot(slot)];
}

void MemoryStorage::store(std::int64_t slot, std::int64_t step, const StateWriter& state) {
  const std::size_t index = checked_slot(slot);
  require_state_step("MemoryStorage", step);
  if (state.bytes > slot_bytes_) {
    throw std::invalid_argument("MemoryStorage: a state of " + std::to_string(state.bytes) +
                                " bytes does not fit a slot of " + std::to_string(slot_bytes_) +
                                " bytes");
  }
  // Empty while being written: if the copy throws, the slot does not claim a state it lacks.
  if (step_[index] >= 0) --occupied_;
  step_[index] = -1;
  state.write(state.context, slot_memory(index));
  step_[index] = step;
  stored_bytes_[index] = state.bytes;
  ++occupied_;
}

void MemoryStorage::restore(std::int64_t slot, std::int64_t step, const StateReader& state) {
  const std::size_t index = checked_slot(slot);
  // An empty slot holds -1: without this, restoring "x_-1" from it would read nothing as a state.
  require_state_step("MemoryStorage", step);
  if (step_[index] != step) {
    throw std::logic_error(
        "MemoryStorage: slot " + std::to_string(slot) + " holds " +
        (step_[index] < 0 ? std::string("nothing") : "x_" + std::to_string(step_[index])) +
        ", not x_" + std::to_string(step));
  }
  state.read(state.context, slot_memory(index), stored_bytes_[index]);
}

void MemoryStorage::free(std::int64_t slot) {
  const std::size_t index = checked_slot(slot);
  if (step_[index] >= 0) --occupied_;
  step_[index] = -1;
}

}  // namespace cairn
