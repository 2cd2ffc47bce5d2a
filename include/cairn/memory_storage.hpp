// Checkpoints in host memory, allocated once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "cairn/state_adapter.hpp"
#include "cairn/storage.hpp"

namespace cairn {

/// `slots` slots of `slot_bytes` bytes each in one block of host memory, every slot aligned to
/// `alignment` bytes (default 64, a cache line), allocated by the constructor: storing and
/// restoring are one memcpy each and never allocate. Memory: slots * round_up(slot_bytes,
/// alignment) bytes plus 16 bytes of bookkeeping per slot. Pages are touched only when a slot is
/// first written, so unused slots cost no resident memory.
///
/// Besides the Storage interface it stores arrays directly (`store_array`, `restore_array`) for
/// states given as a pointer and a length.
class MemoryStorage final : public Storage {
 public:
  /// Throws std::invalid_argument for slots < 0, alignment not a power of two, or a size that
  /// overflows; std::bad_alloc if the block cannot be allocated.
  MemoryStorage(std::int64_t slots, std::size_t slot_bytes, std::size_t alignment = 64);

  std::int64_t slots() const noexcept override { return slots_; }
  std::size_t slot_bytes() const noexcept override { return slot_bytes_; }
  std::int64_t occupied() const noexcept override { return occupied_; }
  std::int64_t held_step(std::int64_t slot) const override;

  void store(std::int64_t slot, std::int64_t step, const StateWriter& state) override;
  void restore(std::int64_t slot, std::int64_t step, const StateReader& state) override;
  void free(std::int64_t slot) override;
  const char* name() const noexcept override { return "ram"; }

  /// Stores `count` values starting at `data` (trivially copyable T).
  template <typename T>
  void store_array(std::int64_t slot, std::int64_t step, const T* data, std::size_t count);
  /// Restores into `count` values starting at `data`; the checkpoint must have that size.
  template <typename T>
  void restore_array(std::int64_t slot, std::int64_t step, T* data, std::size_t count);

  /// Start of a slot's memory (aligned), for tests and for code that wants to read in place.
  const void* slot_data(std::int64_t slot) const;

 private:
  struct FreeAligned {
    std::size_t alignment;
    void operator()(unsigned char* p) const noexcept;
  };
  std::size_t checked_slot(std::int64_t slot) const;
  unsigned char* slot_memory(std::size_t index) const { return block_.get() + index * stride_; }

  std::int64_t slots_;
  std::size_t slot_bytes_;
  std::size_t stride_;
  std::unique_ptr<unsigned char, FreeAligned> block_;
  std::vector<std::int64_t> step_;         // state index per slot, -1 if empty
  std::vector<std::size_t> stored_bytes_;  // bytes written per slot
  std::int64_t occupied_ = 0;
};

template <typename T>
void MemoryStorage::store_array(std::int64_t slot, std::int64_t step, const T* data,
                                std::size_t count) {
  static_assert(std::is_trivially_copyable_v<T>, "store_array needs a trivially copyable type");
  const std::pair<const T*, std::size_t> array{data, count};
  store(slot, step,
        StateWriter{[](const void* context, void* destination) {
                      const auto& a =
                          *static_cast<const std::pair<const T*, std::size_t>*>(context);
                      if (a.second != 0) std::memcpy(destination, a.first, a.second * sizeof(T));
                    },
                    &array, count * sizeof(T)});
}

template <typename T>
void MemoryStorage::restore_array(std::int64_t slot, std::int64_t step, T* data,
                                  std::size_t count) {
  static_assert(std::is_trivially_copyable_v<T>, "restore_array needs a trivially copyable type");
  std::pair<T*, std::size_t> array{data, count};
  restore(slot, step,
          StateReader{[](void* context, const void* source, std::size_t bytes) {
                        auto& a = *static_cast<std::pair<T*, std::size_t>*>(context);
                        if (bytes != a.second * sizeof(T)) {
                          detail::state_size_mismatch(a.second * sizeof(T), bytes);
                        }
                        if (bytes != 0) std::memcpy(a.first, source, bytes);
                      },
                      &array});
}

}  // namespace cairn
