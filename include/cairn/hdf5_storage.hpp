// Checkpoints in one HDF5 file per run, serial or distributed over MPI ranks (component
// cairn::hdf5, built when parallel HDF5 and MPI are found; see docs/storage.md).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "cairn/storage.hpp"

namespace cairn {

/// The lock that Cairn holds around every call it makes into HDF5. HDF5 as Debian builds it (and
/// as most sites do) is not thread-safe: no two threads of a process may be inside HDF5 at once,
/// and its error handler and error stack are process-wide. A program that calls HDF5 itself, on a
/// thread other than the one that constructs and destroys its Hdf5Storage objects, holds this
/// lock around those calls (docs/storage.md, "Threads and the program's own HDF5"). Recursive, so
/// that code holding it may construct an Hdf5Storage.
std::recursive_mutex& hdf5_mutex() noexcept;

/// What Hdf5Storage throws when the file system or the file lets it down: the message names the
/// file, the slot (when there is one) and the cause, e.g.
///   Hdf5Storage: file '/tmp/cairn-3xYz1Q.h5', slot 2: checksum mismatch restoring x_40 (...)
class Hdf5StorageError : public std::runtime_error {
 public:
  Hdf5StorageError(const std::string& message, std::string path, std::int64_t slot)
      : std::runtime_error(message), path_(std::move(path)), slot_(slot) {}
  /// The checkpoint file.
  const std::string& path() const noexcept { return path_; }
  /// The slot concerned, or -1 for the file as a whole (creating, opening).
  std::int64_t slot() const noexcept { return slot_; }

 private:
  std::string path_;
  std::int64_t slot_;
};

struct Hdf5StorageOptions {
  /// The checkpoint file. Empty (the default): a fresh file with a unique name in the system's
  /// temporary directory (std::filesystem::temp_directory_path(), i.e. $TMPDIR or /tmp), made with
  /// mkstemp. Under MPI every rank must pass the same path, on a file system that all ranks see;
  /// with the default, rank 0 makes the name and sends it to the others (fine on one node).
  std::string path;
  /// Keep the file when the storage is destroyed (to inspect it); by default it is removed, whether
  /// the run finished or failed.
  bool keep_file = false;
  /// Replace a file that already exists at `path`; by default such a file is an error, so that a
  /// typo cannot overwrite (and then remove) a file that is not ours. Even with overwrite, a file
  /// that another live Hdf5Storage (or HDF5 program) holds locked is refused, and left untouched.
  bool overwrite = false;
  /// Remove the file's name as soon as every rank has it open (ignored with keep_file): the data
  /// stay reachable through the open file until the storage is destroyed, and nothing is left on
  /// disk even when the process is killed (SIGKILL, the OOM killer) or MPI_Abort ends it. Unset
  /// (the default): yes serially; no under MPI, where ranks on other nodes may reach the file
  /// through a network file system that loses an open file's data once its name is gone (NFS).
  /// Set it to true or false to choose. A restore still tells a truncated file by its size, since
  /// the storage keeps its own descriptor of the file.
  std::optional<bool> unlink_while_open;
  /// Test-only fault injection: called with the slot just before a slot's bytes are written. An
  /// exception it throws is handled exactly as a failed write (for example a full disk): the store
  /// throws Hdf5StorageError with its message as the cause and the slot is left empty.
  std::function<void(std::int64_t slot)> before_write;
};

/// `slots` checkpoint slots of at most `slot_bytes` bytes each (per rank under MPI), kept in one
/// HDF5 file: dataset /slots/<k> holds slot k; the tables /step (int64 per slot, -1 when empty),
/// /bytes and /crc32c (uint64 and uint32 per slot and rank) say what it holds. Every restore
/// recomputes the CRC-32C of what it read and throws Hdf5StorageError if it differs from what was
/// stored, so a file changed or truncated behind our back cannot give a wrong gradient.
///
/// The constructor lays the whole file out (every dataset contiguous, its space allocated at once:
/// a sparse file, so a slot never stored costs no disk blocks on file systems that have them).
/// Serially it then closes the file in HDF5 and store, restore and free are plain pwrite/pread
/// calls at the datasets' offsets through the storage's own descriptor: after the constructor a
/// serial Hdf5Storage never calls HDF5, so an AsyncStorage's worker over it cannot race a
/// program's own HDF5 calls. Under MPI store, restore and free make collective HDF5 calls, holding
/// hdf5_mutex().
///
/// The storage holds an exclusive flock(2) on its file while it exists. Another Hdf5Storage (in
/// this or another process), or an HDF5 program with its file locking on, that finds the file
/// locked is refused before anything is truncated. The destructor removes the file only if the
/// path still names the file the storage created (same device and inode).
///
/// Memory: one staging buffer of slot_bytes (a contiguous state -- StateWriter::contiguous -- is
/// written from its own memory; any other is copied into the buffer first; a restore reads into
/// the buffer, checks and copies out), allocated by the constructor, plus a few bytes per
/// slot. File: at most slots * slot_bytes bytes (times the number of ranks) plus a few KiB. I/O
/// per store: one write of the state's bytes and four writes of a few bytes (the slot's entries in
/// the tables); per restore: one read of the state's bytes. Serially nothing is fsynced; under MPI
/// each store ends with HDF5's flush, an MPI_File_sync, so a store waits for the device.
///
/// Under MPI (second constructor) each rank holds its own part of a distributed state; parts may
/// differ in size between ranks and from one store to the next. The constructor, store, restore,
/// free and the destructor are then COLLECTIVE: every rank of the communicator must call them in
/// the same order with the same slot and step. An error on one rank makes the call throw on every
/// rank. Destroy the storage before MPI_Finalize.
///
/// Errors: a bad slot index std::out_of_range; the wrong step on restore std::logic_error; a state
/// larger than slot_bytes std::invalid_argument; the file system or the file failing (cannot create
/// the file, the file in use by another storage, disk full, data changed or truncated)
/// Hdf5StorageError. After any of them the store's slot is empty and every other slot keeps its
/// checkpoint.
class Hdf5Storage final : public Storage {
 public:
  /// Serial: this process writes and reads the whole state. Needs no MPI_Init.
  Hdf5Storage(std::int64_t slots, std::size_t slot_bytes, Hdf5StorageOptions options = {});
  /// Distributed: collective over `comm` (duplicated; the file is opened with the MPI-IO driver and
  /// data move with collective transfers). slot_bytes is the per-rank limit.
  Hdf5Storage(MPI_Comm comm, std::int64_t slots, std::size_t slot_bytes,
              Hdf5StorageOptions options = {});
  /// Closes the file and removes it unless keep_file, or unless its path names another file by now
  /// (collective under MPI). Never throws.
  ~Hdf5Storage() override;
  Hdf5Storage(const Hdf5Storage&) = delete;
  Hdf5Storage& operator=(const Hdf5Storage&) = delete;

  std::int64_t slots() const noexcept override { return slots_; }
  std::size_t slot_bytes() const noexcept override { return slot_bytes_; }
  std::int64_t occupied() const noexcept override { return occupied_; }
  std::int64_t held_step(std::int64_t slot) const override;

  void store(std::int64_t slot, std::int64_t step, const StateWriter& state) override;
  void restore(std::int64_t slot, std::int64_t step, const StateReader& state) override;
  void free(std::int64_t slot) override;
  const char* name() const noexcept override { return "hdf5"; }

  /// The checkpoint file.
  const std::string& path() const noexcept;

 private:
  struct Impl;
  std::int64_t slots_;
  std::size_t slot_bytes_;
  std::int64_t occupied_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
