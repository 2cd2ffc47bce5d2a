// Checkpoints in one HDF5 file per run, serial or distributed over MPI ranks (component
// cairn::hdf5, built when parallel HDF5 and MPI are found; see docs/storage.md).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "cairn/storage.hpp"

namespace cairn {

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
  /// typo cannot overwrite (and then remove) a file that is not ours.
  bool overwrite = false;
  /// Remove the file's name as soon as every rank has it open (ignored with keep_file): the data
  /// stay reachable through the open file until the storage is destroyed, and nothing is left on
  /// disk even when the process is killed or MPI_Abort ends it. The price: restores can no longer
  /// tell a truncated file by its size (the checksum still catches changed data).
  bool unlink_while_open = false;
  /// Test-only fault injection: called with the slot just before a slot's bytes are written. An
  /// exception it throws is handled exactly as a failed write (for example a full disk): the store
  /// throws Hdf5StorageError with its message as the cause and the slot is left empty.
  std::function<void(std::int64_t slot)> before_write;
};

/// `slots` checkpoint slots of at most `slot_bytes` bytes each (per rank under MPI), kept in one
/// HDF5 file: dataset /slots/<k> holds slot k, with attributes `step` (int64), `bytes` (uint64 per
/// rank) and `crc32c` (uint32 per rank). Every restore recomputes the CRC-32C of what it read and
/// throws Hdf5StorageError if it differs from what was stored, so a file changed or truncated
/// behind our back cannot give a wrong gradient.
///
/// Memory: one staging buffer of slot_bytes (a contiguous state -- StateWriter::contiguous -- is
/// written from its own memory; any other is copied into the buffer first; a restore reads into
/// the buffer, checks and copies out), allocated by the constructor, plus a few bytes per
/// slot. File: at most slots * slot_bytes bytes (times the number of ranks), a slot's space being
/// allocated when the slot is first written. I/O per store: one write of the state's bytes and a
/// metadata flush of a few KiB; per restore: one read of the state's bytes. Serially nothing is
/// fsynced; under MPI HDF5's flush is an MPI_File_sync, so a store waits for the device.
///
/// Under MPI (second constructor) each rank holds its own part of a distributed state; parts may
/// differ in size between ranks and from one store to the next. The constructor, store, restore,
/// free and the destructor are then COLLECTIVE: every rank of the communicator must call them in
/// the same order with the same slot and step. An error on one rank makes the call throw on every
/// rank. Destroy the storage before MPI_Finalize.
///
/// Errors: a bad slot index std::out_of_range; the wrong step on restore std::logic_error; a state
/// larger than slot_bytes std::invalid_argument; the file system or the file failing (cannot create
/// the file, disk full, data changed or truncated) Hdf5StorageError. After any of them the store's
/// slot is empty and every other slot keeps its checkpoint.
class Hdf5Storage final : public Storage {
 public:
  /// Serial: this process writes and reads the whole state. Needs no MPI_Init.
  Hdf5Storage(std::int64_t slots, std::size_t slot_bytes, Hdf5StorageOptions options = {});
  /// Distributed: collective over `comm` (duplicated; the file is opened with the MPI-IO driver and
  /// data move with collective transfers). slot_bytes is the per-rank limit.
  Hdf5Storage(MPI_Comm comm, std::int64_t slots, std::size_t slot_bytes,
              Hdf5StorageOptions options = {});
  /// Closes the file and removes it unless keep_file (collective under MPI). Never throws.
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
