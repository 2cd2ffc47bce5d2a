// Asynchronous I/O for a slow storage level: stores return once the state is copied into a staging
// buffer, and one background thread does every call into the wrapped storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "cairn/storage.hpp"

namespace cairn {

struct AsyncStorageOptions {
  /// Staging buffers of inner.slot_bytes() bytes each, allocated by the constructor (>= 1). A
  /// store waits only when every buffer is busy with a write or read still in flight.
  std::size_t staging_buffers = 2;
  /// What prefetch_depth() reports: how many restores ahead the driver hints (0: no hints). At
  /// most staging_buffers; with the default one buffer stays free for stores.
  std::size_t prefetch_depth = 1;
};

/// What an AsyncStorage did, for tests and tuning (counted since construction).
struct AsyncStorageCounters {
  std::int64_t stores = 0;               ///< store() calls that queued a write
  std::int64_t store_waits = 0;          ///< of them, how many waited for a free staging buffer
  std::int64_t restores_staged = 0;      ///< restores served from the copy of a store
  std::int64_t restores_prefetched = 0;  ///< restores served from a prefetch (maybe in flight)
  std::int64_t restores_read = 0;        ///< restores that queued a read and waited for it
  std::int64_t prefetches = 0;           ///< prefetch() calls that queued a read
  std::int64_t prefetches_dropped = 0;   ///< prefetch() calls that were ignored (see prefetch)
  std::int64_t prefetches_stale = 0;     ///< queued prefetches skipped: the slot changed first
  std::int64_t inner_calls = 0;          ///< store/restore/free calls made into the inner storage
};

/// Wraps another Storage (a disk, a parallel file) so that its writes overlap the computation.
///
/// - store() copies the state into a free staging buffer on the calling thread (waiting for one
///   if all are busy), queues the write of that buffer, and returns. The caller's state is never
///   touched again after store() returns.
/// - Every call into `inner` (the constructor's queries included) is made by one worker thread,
///   in the order the actions were issued, so `inner` need not be thread-safe. It must not share
///   unsynchronised state with the rest of the program either: a serial Hdf5Storage, for one, makes
///   no HDF5 call after its constructor, so the worker never races the program's own HDF5 calls
///   (docs/storage.md, "Threads and the program's own HDF5").
/// - restore() is served from a staging buffer when the freshest copy of the slot is still in
///   one (a store not yet written or a buffer not yet reused), else from a prefetch, else it
///   queues a read and waits for it; the copy into the caller's state is made on the calling
///   thread.
/// - prefetch(slot, step) queues a read of the slot into a staging buffer if the slot holds
///   `step` (as seen by the actions issued so far) and a buffer is free; it never waits.
/// - slots(), slot_bytes(), occupied() and held_step() describe the state as if every queued
///   action had completed; the Storage contract holds for the whole (a wrong step on restore
///   throws std::logic_error and a state larger than slot_bytes() std::invalid_argument, at once).
/// - An exception in the worker (e.g. "disk full" from inner.store) is kept and thrown from the
///   next store/restore/free/prefetch/flush as std::runtime_error (with the original nested)
///   whose message names the inner storage, the operation, the slot and the state index, and
///   includes the original message. The slot of a failed store is then empty; other slots keep
///   their checkpoints. A failed prefetch is dropped (the restore reads again).
/// - flush() waits until every queued action is done and throws a pending error. The destructor
///   finishes the queued actions and joins the worker; it never throws (errors are dropped).
///
/// Memory: staging_buffers * slot_bytes() bytes, one thread, and a queue of fixed size, all made
/// by the constructor. One AsyncStorage is used from one thread at a time (like MemoryStorage);
/// `inner` must outlive it and must not be used directly while it exists.
class AsyncStorage final : public Storage {
 public:
  /// Starts the worker, which reads inner's size and current checkpoints. Throws
  /// std::invalid_argument for staging_buffers = 0 or prefetch_depth > staging_buffers, and
  /// whatever those queries or the allocation of the buffers throw.
  explicit AsyncStorage(Storage& inner, AsyncStorageOptions options = {});
  ~AsyncStorage() override;
  AsyncStorage(const AsyncStorage&) = delete;
  AsyncStorage& operator=(const AsyncStorage&) = delete;

  std::int64_t slots() const noexcept override;
  std::size_t slot_bytes() const noexcept override;
  std::int64_t occupied() const noexcept override;
  std::int64_t held_step(std::int64_t slot) const override;

  void store(std::int64_t slot, std::int64_t step, const StateWriter& state) override;
  void restore(std::int64_t slot, std::int64_t step, const StateReader& state) override;
  void free(std::int64_t slot) override;
  void prefetch(std::int64_t slot, std::int64_t step) override;
  std::int64_t prefetch_depth() const noexcept override;
  void flush() override;

  /// The inner storage's name.
  const char* name() const noexcept override;

  AsyncStorageCounters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
