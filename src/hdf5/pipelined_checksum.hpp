// CRC-32C of checkpoint bytes beside the I/O that moves them (private to cairn::hdf5): a large
// state's checksum is computed on a helper thread while it is written, or piece by piece while it
// is read.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>

#include "hdf5/crc32c.hpp"

namespace cairn::hdf5_detail {

constexpr std::size_t kOverlapBytes = std::size_t{1} << 20;

/// Computes the CRC-32C of `bytes` bytes at `data` into *crc: on a helper thread for a large
/// state (joined by the destructor), else in the constructor.
class Checksummer {
 public:
  Checksummer(const unsigned char* data, std::size_t bytes, std::uint32_t* crc) {
    if (bytes >= kOverlapBytes) {
      try {
        helper_ = std::thread([=] { *crc = detail::crc32c(data, bytes); });
        return;
      } catch (const std::system_error&) {  // no thread to be had: do it here
      }
    }
    *crc = detail::crc32c(data, bytes);
  }
  ~Checksummer() {
    if (helper_.joinable()) helper_.join();
  }
  Checksummer(const Checksummer&) = delete;
  Checksummer& operator=(const Checksummer&) = delete;

 private:
  std::thread helper_;
};

/// The CRC-32C of a buffer filled from the front in pieces: ready(n) says the first n bytes are
/// in; a helper thread checksums them while the next piece is read. finish() returns the CRC of
/// the bytes made ready (all of them unless a read failed).
class PipelinedChecksum {
 public:
  PipelinedChecksum(const unsigned char* data, std::size_t bytes) : data_(data), bytes_(bytes) {
    try {
      helper_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {  // no thread: finish() does it all
    }
  }
  ~PipelinedChecksum() { finish(); }
  PipelinedChecksum(const PipelinedChecksum&) = delete;
  PipelinedChecksum& operator=(const PipelinedChecksum&) = delete;

  void ready(std::size_t bytes) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      ready_ = bytes;
    }
    wake_.notify_one();
  }
  std::uint32_t finish() {
    if (helper_.joinable()) {
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
      }
      wake_.notify_one();
      helper_.join();
    }
    if (done_ < ready_) {
      crc_ = detail::crc32c(data_ + done_, ready_ - done_, crc_);
      done_ = ready_;
    }
    return crc_;
  }

 private:
  void run() {
    for (;;) {
      std::size_t available = 0;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return ready_ > done_ || stop_; });
        if (ready_ == done_) return;  // stopped, nothing left
        available = ready_;
      }
      crc_ = detail::crc32c(data_ + done_, available - done_, crc_);
      done_ = available;
      if (done_ == bytes_) return;
    }
  }

  const unsigned char* data_;
  std::size_t bytes_;
  std::size_t ready_ = 0;  // guarded by mutex_
  bool stop_ = false;      // guarded by mutex_
  std::size_t done_ = 0;   // the helper's until joined
  std::uint32_t crc_ = 0;  // the helper's until joined
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread helper_;
};

}  // namespace cairn::hdf5_detail
