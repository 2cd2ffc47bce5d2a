// Checkpoint storage: numbered slots on one level (RAM, later GPU memory or disk).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace cairn {

/// A state being stored: `write(context, destination)` copies its `bytes` bytes to destination.
/// (A plain function pointer and a context keep the hot path free of allocation and virtual
/// dispatch; make one with cairn::writer_for(state).)
struct StateWriter {
  void (*write)(const void* context, void* destination);
  const void* context;
  std::size_t bytes;
  /// The state's `bytes` bytes as one contiguous block, or null. When given, a storage may read
  /// them from here (until store() returns) instead of calling write(): a file level then writes
  /// the user's memory directly and saves a copy. writer_for() sets it for contiguous states.
  const void* contiguous = nullptr;
  /// For a state in GPU memory (cairn::cuda::DeviceBuffer): its `bytes` bytes as one block of
  /// device memory, and the stream that orders work on it (a cudaStream_t, opaque here); both
  /// null for a host state. `contiguous` is always host memory: a host level ignores these two
  /// fields and calls write(), which for a device state copies to the host and waits. A device
  /// level (cairn::cuda::DeviceStorage, PinnedHostStorage) copies from here, asynchronously on
  /// `device_stream`, and refuses a writer without them. docs/gpu.md has the ordering rules.
  const void* device_contiguous = nullptr;
  void* device_stream = nullptr;
};

/// A state being restored: `read(context, source, bytes)` copies the checkpoint into it.
struct StateReader {
  void (*read)(void* context, const void* source, std::size_t bytes);
  void* context;
  /// Optional, for a state that is scratch until the restore returns (a driver's working state):
  /// returns the state's block of `bytes` bytes (throwing, as read() would, if it cannot hold
  /// them; null if the state is not one block). A storage may then read the checkpoint straight
  /// into it and verify it afterwards; if that fails, restore() throws and the state's contents
  /// are unspecified. When null (reader_for's choice), a storage touches the state only with a
  /// checkpoint it has verified.
  void* (*scratch_block)(void* context, std::size_t bytes) = nullptr;
  /// For a state in GPU memory: returns its block of device memory for `bytes` bytes (throwing,
  /// as read() would, if it cannot hold them), into which a device level copies asynchronously on
  /// `device_stream` (a cudaStream_t, opaque here). Both null for a host state; host levels
  /// ignore them. The restored contents are ready in stream order on `device_stream`, not
  /// necessarily when restore() returns.
  void* (*device_block)(void* context, std::size_t bytes) = nullptr;
  void* device_stream = nullptr;
};

/// Slots on one storage level. Storage never decides anything: a schedule says which slot to use.
///
/// Contract for every implementation:
///  - store() replaces what the slot held; if it throws, the slot is left empty and every other
///    slot keeps its checkpoint;
///  - restore() checks that the slot holds the requested state index and throws std::logic_error
///    otherwise, so a driver bug cannot silently produce a wrong gradient;
///  - a state larger than slot_bytes() is refused with std::invalid_argument, and so is a step
///    below 0 in store() and restore(): -1 is what held_step() says of an empty slot, and must
///    never match it.
class Storage {
 public:
  virtual ~Storage() = default;

  virtual std::int64_t slots() const noexcept = 0;
  /// The largest state, in bytes, that a slot holds.
  virtual std::size_t slot_bytes() const noexcept = 0;
  /// Slots holding a checkpoint now.
  virtual std::int64_t occupied() const noexcept = 0;
  /// The state index held in `slot`, or -1 if it is empty.
  virtual std::int64_t held_step(std::int64_t slot) const = 0;

  virtual void store(std::int64_t slot, std::int64_t step, const StateWriter& state) = 0;
  virtual void restore(std::int64_t slot, std::int64_t step, const StateReader& state) = 0;
  virtual void free(std::int64_t slot) = 0;

  /// A hint that `slot`, holding state `step`, will be restored soon, so that a slow level can
  /// start reading it now. It never changes what restore() returns; a hint for a slot that is
  /// overwritten or freed before the restore is dropped. The default ignores it.
  virtual void prefetch(std::int64_t slot, std::int64_t step) {
    (void)slot;
    (void)step;
  }
  /// How many restores ahead this level wants prefetch() hints: the driver hints a restore once
  /// the slot holds its state (as far as the actions executed so far go) and fewer than this many
  /// hinted restores of the level are still to come. 0, the default, means no hints, and the
  /// driver then spends nothing on look-ahead for this level.
  virtual std::int64_t prefetch_depth() const noexcept { return 0; }
  /// Finishes any work still in flight (background writes) and throws the first error it met.
  /// The default has nothing in flight.
  virtual void flush() {}

  /// A short name for messages, e.g. "ram".
  virtual const char* name() const noexcept = 0;

 protected:
  Storage() = default;
  Storage(const Storage&) = default;
  Storage& operator=(const Storage&) = default;

  /// What every level's store() and restore() check first. `who` names the level in the message;
  /// a C string, so that the check costs a comparison on the hot path and nothing more.
  static void require_state_step(const char* who, std::int64_t step) {
    if (step < 0) {
      throw std::invalid_argument(std::string(who) + ": step " + std::to_string(step) +
                                  " names no state; states are x_0, x_1, ... (step >= 0)");
    }
  }
};

}  // namespace cairn
