#include "cairn/async_storage.hpp"

#include <condition_variable>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cairn {

namespace {

constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
constexpr std::size_t buffer_alignment = 64;

struct FreeAligned {
  void operator()(unsigned char* p) const noexcept {
    ::operator delete (p, std::align_val_t{buffer_alignment});
  }
};
using AlignedBlock = std::unique_ptr<unsigned char, FreeAligned>;

std::string state_name(std::int64_t step) {
  return step < 0 ? std::string("nothing") : "x_" + std::to_string(step);
}

std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

// Throws std::runtime_error(message) with `cause` nested.
[[noreturn]] void throw_wrapped(const std::exception_ptr& cause, const std::string& message) {
  try {
    std::rethrow_exception(cause);
  } catch (...) {
    std::throw_with_nested(std::runtime_error(message));
  }
}

}  // namespace

struct AsyncStorage::Impl {
  enum class JobKind { write, read, prefetch, free };

  struct Job {
    JobKind kind = JobKind::free;
    std::int64_t slot = 0;
    std::int64_t step = -1;  // write/read: the state; free: what the slot held
    std::size_t buffer = none;
    std::uint64_t version = 0;
  };

  // A staging buffer. `data` is written by the caller (store) or by the worker (read) only while
  // nobody else may use it: the caller picks only buffers that are not busy, and the worker
  // touches only the buffer of the job it runs. All other fields are guarded by `mutex`.
  struct Buffer {
    AlignedBlock data;
    std::size_t bytes = 0;
    std::int64_t slot = -1;  // the slot whose state it holds (or is reading), -1 for none
    std::int64_t step = -1;
    std::uint64_t version = 0;  // of the slot when filled: stale once the slot changes
    bool busy = false;          // a queued job uses it
    bool loaded = false;        // `data` holds the whole state
    bool prefetched = false;    // filled by a prefetch ...
    bool consumed = false;      // ... that a restore has used since
    std::uint64_t last_use = 0;
    std::exception_ptr error;  // of a demand read into it
    std::string error_message;
  };

  Impl(Storage& inner_storage, AsyncStorageOptions opts) : inner(inner_storage), options(opts) {}

  Storage& inner;
  const AsyncStorageOptions options;
  // Written by the worker before the constructor returns, constant afterwards.
  std::string inner_name;
  std::string label;  // "AsyncStorage(<inner_name>)", the prefix of its messages
  std::int64_t slot_count = 0;
  std::size_t bytes_per_slot = 0;

  mutable std::mutex mutex;
  std::condition_variable work;  // the worker waits for a job or for stop
  std::condition_variable done;  // callers wait for a job to finish (or for start-up)
  bool started = false;
  std::exception_ptr start_error;
  bool stop = false;

  std::vector<std::int64_t> step;      // per slot: the state held once every queued job is done
  std::vector<std::uint64_t> version;  // per slot: bumped by every store and free
  std::int64_t occupied_count = 0;
  std::vector<Buffer> buffers;
  std::vector<Job> queue;  // a ring of fixed size; the job at `head` runs until it is popped
  std::size_t head = 0;
  std::size_t queued = 0;
  std::uint64_t clock = 0;
  std::exception_ptr error;  // the first background error not yet thrown
  std::string error_message;
  std::int64_t further_errors = 0;
  AsyncStorageCounters counters;

  std::thread worker;

  // ---- caller side (mutex held where a lock is passed) ----

  std::size_t checked_slot(std::int64_t slot) const {
    if (slot < 0 || slot >= slot_count) {
      throw std::out_of_range(label + ": slot " + std::to_string(slot) +
                              " does not exist; slots are 0.." + std::to_string(slot_count - 1));
    }
    return static_cast<std::size_t>(slot);
  }

  bool current(const Buffer& b) const {
    return b.slot >= 0 && version[static_cast<std::size_t>(b.slot)] == b.version;
  }

  // A buffer that holds, or is reading, the current state of `slot`, or `none`.
  std::size_t find(std::size_t slot) const {
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      const Buffer& b = buffers[i];
      if (b.slot == static_cast<std::int64_t>(slot) && current(b) && (b.loaded || b.busy)) {
        return i;
      }
    }
    return none;
  }

  // A buffer that no job uses: one holding nothing useful, else the least recently used copy,
  // else (unless for a prefetch) the least recently used prefetch not yet restored.
  std::size_t choose(bool for_prefetch) const {
    std::size_t best = none;
    int best_rank = 3;
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      const Buffer& b = buffers[i];
      if (b.busy) continue;
      const int rank = !current(b) || !b.loaded ? 0 : (b.prefetched && !b.consumed ? 2 : 1);
      if (for_prefetch && rank == 2) continue;
      if (rank < best_rank || (rank == best_rank && b.last_use < buffers[best].last_use)) {
        best = i;
        best_rank = rank;
      }
    }
    return best;
  }

  std::size_t acquire(std::unique_lock<std::mutex>& lock, std::int64_t* waits) {
    std::size_t b = choose(false);
    if (b == none && waits != nullptr) ++*waits;
    while (b == none) {
      done.wait(lock);
      b = choose(false);
    }
    return b;
  }

  void push(std::unique_lock<std::mutex>& lock, const Job& job) {
    done.wait(lock, [&] { return queued < queue.size(); });
    queue[(head + queued) % queue.size()] = job;
    ++queued;
    work.notify_one();
  }

  // The slot no longer holds anything: bump its version, and tell `inner` if it held a state.
  void forget(std::unique_lock<std::mutex>& lock, std::size_t slot, bool tell_inner) {
    const std::int64_t held = step[slot];
    ++version[slot];
    if (held >= 0) --occupied_count;
    step[slot] = -1;
    if (tell_inner) {
      push(lock, Job{JobKind::free, static_cast<std::int64_t>(slot), held, none, version[slot]});
    }
  }

  void throw_pending(std::unique_lock<std::mutex>& lock) {
    if (!error) return;
    const std::exception_ptr cause = error;
    std::string message = error_message;
    if (further_errors > 0) {
      message += " (and " + std::to_string(further_errors) + " more background error" +
                 (further_errors > 1 ? "s" : "") + " after it)";
    }
    error = nullptr;
    error_message.clear();
    further_errors = 0;
    lock.unlock();
    throw_wrapped(cause, message);
  }

  // ---- worker side ----

  std::string describe(const Job& job) const {
    switch (job.kind) {
      case JobKind::write:
        return "store of " + state_name(job.step) + " into slot " + std::to_string(job.slot);
      case JobKind::read:
      case JobKind::prefetch:
        return "restore of " + state_name(job.step) + " from slot " + std::to_string(job.slot);
      default:
        return "free of slot " + std::to_string(job.slot) + " (holding " + state_name(job.step) +
               ")";
    }
  }

  void start() {
    try {
      slot_count = inner.slots();
      bytes_per_slot = inner.slot_bytes();
      inner_name = inner.name();
      label = "AsyncStorage(" + inner_name + ")";
      const auto count = static_cast<std::size_t>(slot_count < 0 ? 0 : slot_count);
      step.assign(count, -1);
      version.assign(count, 0);
      for (std::size_t s = 0; s < count; ++s) {
        step[s] = inner.held_step(static_cast<std::int64_t>(s));
        if (step[s] >= 0) ++occupied_count;
      }
      buffers.resize(options.staging_buffers);
      const std::size_t size = bytes_per_slot == 0 ? 1 : bytes_per_slot;
      for (Buffer& b : buffers) {
        b.data.reset(
            static_cast<unsigned char*>(::operator new (size, std::align_val_t{buffer_alignment})));
      }
      queue.resize(4 * options.staging_buffers + 64);
    } catch (...) {
      start_error = std::current_exception();
    }
  }

  void run() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      start();
      started = true;
    }
    done.notify_all();
    if (start_error) return;
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex);
        work.wait(lock, [&] { return queued > 0 || stop; });
        if (queued == 0) return;  // stopped, and nothing left to do
        job = queue[head];
        if (job.kind == JobKind::prefetch &&
            version[static_cast<std::size_t>(job.slot)] != job.version) {
          // The slot changed since the hint: drop it without asking inner.
          Buffer& b = buffers[job.buffer];
          b.busy = false;
          b.slot = -1;
          ++counters.prefetches_stale;
          pop();
          lock.unlock();
          done.notify_all();
          continue;
        }
        ++counters.inner_calls;
      }
      std::exception_ptr failure;
      std::size_t read_bytes = 0;
      try {
        perform(job, read_bytes);
      } catch (...) {
        failure = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        finish(job, failure, read_bytes);
        pop();
      }
      done.notify_all();
    }
  }

  void pop() {
    head = (head + 1) % queue.size();
    --queued;
  }

  void perform(const Job& job, std::size_t& read_bytes) {
    switch (job.kind) {
      case JobKind::write: {
        const Buffer& b = buffers[job.buffer];
        inner.store(job.slot, job.step,
                    StateWriter{[](const void* context, void* destination) {
                                  const auto& buffer = *static_cast<const Buffer*>(context);
                                  if (buffer.bytes != 0) {
                                    std::memcpy(destination, buffer.data.get(), buffer.bytes);
                                  }
                                },
                                &b, b.bytes, b.data.get()});
        break;
      }
      case JobKind::read:
      case JobKind::prefetch: {
        struct Target {
          unsigned char* data;
          std::size_t capacity;
          std::size_t* bytes;
          unsigned char* take(std::size_t count) const {
            if (count > capacity) {
              throw std::length_error("the checkpoint has " + std::to_string(count) +
                                      " bytes, more than a slot's " + std::to_string(capacity));
            }
            *bytes = count;
            return data;
          }
        } target{buffers[job.buffer].data.get(), bytes_per_slot, &read_bytes};
        inner.restore(job.slot, job.step,
                      StateReader{[](void* context, const void* source, std::size_t count) {
                                    unsigned char* data =
                                        static_cast<Target*>(context)->take(count);
                                    if (count != 0) std::memcpy(data, source, count);
                                  },
                                  &target,
                                  [](void* context, std::size_t count) -> void* {
                                    // The staging buffer is scratch until the read is done.
                                    return static_cast<Target*>(context)->take(count);
                                  }});
        break;
      }
      default:
        inner.free(job.slot);
        break;
    }
  }

  void record(const std::exception_ptr& failure, const Job& job) {
    if (error) {
      ++further_errors;
      return;
    }
    error = failure;
    error_message = label + ": background " + describe(job) + " failed: " + what_of(failure);
  }

  void finish(const Job& job, const std::exception_ptr& failure, std::size_t read_bytes) {
    const auto slot = static_cast<std::size_t>(job.slot);
    switch (job.kind) {
      case JobKind::write: {
        Buffer& b = buffers[job.buffer];
        b.busy = false;
        if (failure) {
          b.slot = -1;
          // The slot is empty now, unless a later store or free decides it anyway.
          if (version[slot] == job.version) {
            ++version[slot];
            if (step[slot] >= 0) --occupied_count;
            step[slot] = -1;
          }
          record(failure, job);
        }
        break;
      }
      case JobKind::read:
      case JobKind::prefetch: {
        Buffer& b = buffers[job.buffer];
        b.busy = false;
        if (failure) {
          b.slot = -1;
          if (job.kind == JobKind::read) {
            b.error = failure;
            b.error_message = label + ": " + describe(job) + " failed: " + what_of(failure);
          }
        } else {
          b.loaded = true;
          b.bytes = read_bytes;
        }
        break;
      }
      default:
        if (failure) record(failure, job);
        break;
    }
  }
};

AsyncStorage::AsyncStorage(Storage& inner, AsyncStorageOptions options) {
  if (options.staging_buffers == 0) {
    throw std::invalid_argument(
        "AsyncStorage: staging_buffers = 0 is not allowed; it must be >= 1");
  }
  if (options.prefetch_depth > options.staging_buffers) {
    throw std::invalid_argument(
        "AsyncStorage: prefetch_depth = " + std::to_string(options.prefetch_depth) +
        " is not allowed; it must be <= staging_buffers = " +
        std::to_string(options.staging_buffers));
  }
  impl_ = std::make_unique<Impl>(inner, options);
  Impl& m = *impl_;
  m.worker = std::thread([&m] { m.run(); });
  std::unique_lock<std::mutex> lock(m.mutex);
  m.done.wait(lock, [&] { return m.started; });
  if (m.start_error) {
    const std::exception_ptr failure = m.start_error;
    lock.unlock();
    m.worker.join();
    std::rethrow_exception(failure);
  }
}

AsyncStorage::~AsyncStorage() {
  Impl& m = *impl_;
  try {
    {
      std::lock_guard<std::mutex> lock(m.mutex);
      m.stop = true;
    }
    m.work.notify_all();
    if (m.worker.joinable()) m.worker.join();
  } catch (...) {
    // A destructor must not throw; the queued work is done or abandoned either way.
  }
}

std::int64_t AsyncStorage::slots() const noexcept {
  return impl_->slot_count;
}

std::size_t AsyncStorage::slot_bytes() const noexcept {
  return impl_->bytes_per_slot;
}

std::int64_t AsyncStorage::occupied() const noexcept {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->occupied_count;
}

std::int64_t AsyncStorage::held_step(std::int64_t slot) const {
  const std::size_t index = impl_->checked_slot(slot);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->step[index];
}

std::int64_t AsyncStorage::prefetch_depth() const noexcept {
  return static_cast<std::int64_t>(impl_->options.prefetch_depth);
}

const char* AsyncStorage::name() const noexcept {
  return impl_->inner_name.c_str();
}

AsyncStorageCounters AsyncStorage::counters() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->counters;
}

void AsyncStorage::store(std::int64_t slot, std::int64_t step, const StateWriter& state) {
  Impl& m = *impl_;
  const std::size_t index = m.checked_slot(slot);
  require_state_step(m.label.c_str(), step);
  if (state.bytes > m.bytes_per_slot) {
    throw std::invalid_argument(m.label + ": a state of " + std::to_string(state.bytes) +
                                " bytes does not fit a slot of " +
                                std::to_string(m.bytes_per_slot) + " bytes");
  }
  std::unique_lock<std::mutex> lock(m.mutex);
  if (m.error) {
    m.forget(lock, index, m.step[index] >= 0);  // a store that throws leaves its slot empty
    m.throw_pending(lock);
  }
  const std::size_t chosen = m.acquire(lock, &m.counters.store_waits);
  Impl::Buffer& b = m.buffers[chosen];
  b.busy = true;  // ours until the write is done: no one else picks it
  b.slot = -1;
  b.loaded = false;
  lock.unlock();
  try {
    state.write(state.context, b.data.get());
  } catch (...) {
    lock.lock();
    b.busy = false;
    m.forget(lock, index, m.step[index] >= 0);
    throw;
  }
  lock.lock();
  if (m.step[index] >= 0) --m.occupied_count;
  m.step[index] = step;
  ++m.occupied_count;
  const std::uint64_t version = ++m.version[index];
  b.bytes = state.bytes;
  b.slot = slot;
  b.step = step;
  b.version = version;
  b.loaded = true;
  b.prefetched = false;
  b.consumed = false;
  b.last_use = ++m.clock;
  ++m.counters.stores;
  m.push(lock, Impl::Job{Impl::JobKind::write, slot, step, chosen, version});
}

void AsyncStorage::restore(std::int64_t slot, std::int64_t step, const StateReader& state) {
  Impl& m = *impl_;
  const std::size_t index = m.checked_slot(slot);
  require_state_step(m.label.c_str(), step);
  std::unique_lock<std::mutex> lock(m.mutex);
  m.throw_pending(lock);
  if (m.step[index] != step) {
    throw std::logic_error(m.label + ": slot " + std::to_string(slot) + " holds " +
                           state_name(m.step[index]) + ", not x_" + std::to_string(step));
  }
  std::size_t chosen = m.find(index);
  if (chosen != none) {
    Impl::Buffer& b = m.buffers[chosen];
    if (!b.loaded) m.done.wait(lock, [&] { return !b.busy; });  // a prefetch in flight
    if (m.current(b) && b.loaded) {
      ++(b.prefetched ? m.counters.restores_prefetched : m.counters.restores_staged);
    } else {
      chosen = none;  // the prefetch failed: read again, and say why if that fails too
    }
  }
  if (chosen == none) {
    chosen = m.acquire(lock, nullptr);
    Impl::Buffer& b = m.buffers[chosen];
    b.busy = true;
    b.slot = slot;
    b.step = step;
    b.version = m.version[index];
    b.loaded = false;
    b.prefetched = false;
    b.error = nullptr;
    m.push(lock, Impl::Job{Impl::JobKind::read, slot, step, chosen, b.version});
    m.done.wait(lock, [&] { return !b.busy; });
    if (b.error) {
      const std::exception_ptr cause = b.error;
      const std::string message = b.error_message;
      b.error = nullptr;
      m.throw_pending(lock);  // an earlier failure (e.g. of this slot's store) is the real cause
      lock.unlock();
      throw_wrapped(cause, message);
    }
    ++m.counters.restores_read;
  }
  Impl::Buffer& b = m.buffers[chosen];
  b.consumed = true;
  b.last_use = ++m.clock;
  const unsigned char* data = b.data.get();
  const std::size_t bytes = b.bytes;
  lock.unlock();
  // Only this thread hands out buffers, so this one stays as it is while we copy from it (the
  // worker may be reading it for a write, which is fine).
  state.read(state.context, data, bytes);
}

void AsyncStorage::free(std::int64_t slot) {
  Impl& m = *impl_;
  const std::size_t index = m.checked_slot(slot);
  std::unique_lock<std::mutex> lock(m.mutex);
  m.forget(lock, index, true);
  m.throw_pending(lock);
}

void AsyncStorage::prefetch(std::int64_t slot, std::int64_t step) {
  Impl& m = *impl_;
  if (slot < 0 || slot >= m.slot_count) return;  // the restore itself will complain
  const auto index = static_cast<std::size_t>(slot);
  std::unique_lock<std::mutex> lock(m.mutex);
  m.throw_pending(lock);
  if (m.step[index] != step || step < 0) {
    ++m.counters.prefetches_dropped;
    return;
  }
  if (m.find(index) != none) return;  // already staged or on its way
  const std::size_t chosen = m.choose(true);
  if (chosen == none || m.queued == m.queue.size()) {
    ++m.counters.prefetches_dropped;  // no buffer to spare: a hint never waits
    return;
  }
  Impl::Buffer& b = m.buffers[chosen];
  b.busy = true;
  b.slot = slot;
  b.step = step;
  b.version = m.version[index];
  b.loaded = false;
  b.prefetched = true;
  b.consumed = false;
  b.last_use = ++m.clock;
  ++m.counters.prefetches;
  m.push(lock, Impl::Job{Impl::JobKind::prefetch, slot, step, chosen, b.version});
}

void AsyncStorage::flush() {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mutex);
  m.done.wait(lock, [&] { return m.queued == 0; });
  m.throw_pending(lock);
}

}  // namespace cairn
