#include "cairn/hdf5_storage.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "hdf5/crc32c.hpp"
#include "hdf5/hdf5_support.hpp"
#include "hdf5/pipelined_checksum.hpp"

#ifndef H5_HAVE_PARALLEL
#error "cairn::hdf5 needs a parallel build of HDF5 (H5_HAVE_PARALLEL), e.g. Debian's hdf5-openmpi"
#endif

// File layout. One dataset per slot, /slots/<k>, one-dimensional bytes of capacity slot_bytes
// (times the number of ranks), contiguous, never filled; and three tables with one row per slot:
// /step (int64, -1 when empty), /bytes (uint64 per rank) and /crc32c (uint32 per rank), stored
// little-endian. Every dataset is created, and its space allocated, by the constructor:
//  - a store is then one contiguous write at a fixed file offset: no chunk index and no chunk
//    cache copy between the state and the file, so it runs at the speed of plain POSIX writes
//    (bench/hdf5_bandwidth.cpp), and overwriting a slot reuses its space: the file never grows
//    beyond slots * capacity plus the tables;
//  - serially, the file's layout is final once the constructor returns, so the storage closes it
//    in HDF5 and moves data and table entries with pwrite/pread at the datasets' offsets. HDF5
//    (not thread-safe here) is then never called from an AsyncStorage's worker, and a program's
//    own HDF5 calls cannot race ours. That is why the metadata are tables (raw data at known
//    offsets) and not attributes (whose place in the file HDF5 does not tell);
//  - the space is allocated, not written: the file is sparse, and a slot never stored costs no
//    disk blocks.
// (One chunked [slots x capacity] dataset would send every write through the chunk machinery for
// no gain.) Under MPI the parts of the ranks lie one after the other in rank order at offsets
// given by an exclusive prefix sum of their sizes, so the dataset holds the distributed state as
// one array; the rows of /bytes and /crc32c have one entry per rank. Under MPI data and tables go
// through HDF5's collective transfers. The root group records `slots`, `slot_bytes` and `ranks`.

namespace cairn {

// The helpers of hdf5_support.hpp and pipelined_checksum.hpp, and their std::filesystem alias fs.
using namespace hdf5_detail;

std::recursive_mutex& hdf5_mutex() noexcept {
  static std::recursive_mutex mutex;
  return mutex;
}

struct Hdf5Storage::Impl {
  struct Slot {
    Handle dataset;                 // under MPI only: open for the collective transfers
    haddr_t address = HADDR_UNDEF;  // file offset of the dataset's data
    std::int64_t step = -1;         // state index held, -1 if empty
    std::uint64_t bytes = 0;        // this rank's part
    std::uint64_t offset = 0;       // where this rank's part starts in the dataset
    std::uint32_t crc = 0;          // CRC-32C of this rank's part
  };
  struct Table {
    Handle dataset;                 // under MPI only
    haddr_t address = HADDR_UNDEF;  // file offset of row 0
    std::size_t row_bytes = 0;      // in the file
  };

  std::string path;
  bool keep_file = false;
  bool file_exists = false;  // ours to remove (rank 0)
  bool anonymous = false;    // unlinked while open (Hdf5StorageOptions::unlink_while_open)
  std::function<void(std::int64_t)> before_write;
  MPI_Comm comm = MPI_COMM_NULL;  // our duplicate, or MPI_COMM_NULL when serial
  int rank = 0;
  int ranks = 1;
  std::size_t slot_bytes = 0;
  hsize_t capacity = 1;  // elements of each slot's dataset
  // Serially every read and write goes through this descriptor; on rank 0 under MPI it only
  // holds the lock. Its device and inode tell our file from another one at the same path.
  int fd = -1;
  dev_t device = 0;
  ino_t inode = 0;

  Handle fapl;
  Handle dxpl;
  Handle file;
  Handle group;
  Table step_table;
  Table bytes_table;
  Table crc_table;
  std::vector<Slot> slots;
  std::unique_ptr<unsigned char[]> staging;
  // Scratch for the exchanges under MPI, allocated once: two 64-bit words and a CRC per rank.
  std::vector<std::uint64_t> exchange;
  std::vector<std::uint32_t> crcs;
  std::vector<unsigned char> row;  // one encoded table row

  bool parallel() const noexcept { return comm != MPI_COMM_NULL; }

  std::string where(std::int64_t slot) const {
    std::string text = "Hdf5Storage: file '" + path + "'";
    if (slot >= 0) text += ", slot " + std::to_string(slot);
    if (parallel()) text += ", rank " + std::to_string(rank);
    return text + ": ";
  }
  [[noreturn]] void fail(std::int64_t slot, const std::string& what) const {
    throw Hdf5StorageError(where(slot) + what, path, slot);
  }

  /// Under MPI: every rank learns whether any failed (`local_ok` false). Returns the lowest rank
  /// that failed, or -1. Serial: -1 or 0.
  int first_failure(bool local_ok) const {
    if (!parallel()) return local_ok ? -1 : 0;
    int mine = local_ok ? ranks : rank;
    int first = ranks;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    return first == ranks ? -1 : first;
  }

  /// Whether `path` still names the file we created.
  bool path_is_ours() const {
    struct stat info {};
    return fd >= 0 && ::lstat(path.c_str(), &info) == 0 && same_file(info, device, inode);
  }

  std::string claim(const Hdf5StorageOptions& options);
  void open(const Hdf5StorageOptions& options, std::int64_t slot_count);
  void create_layout(std::int64_t slot_count);
  Table create_table(const char* name, hid_t file_type, std::size_t element_bytes,
                     std::size_t columns, hid_t fill_type, const void* fill);
  void write_attribute(hid_t object, const char* name, hid_t type, hsize_t count, const void* data);
  /// Writes the slot's row of a table: serially at its offset, under MPI collectively (rank 0's
  /// values). `values` are native; "" or why not.
  std::string write_row(const Table& table, std::size_t slot, hid_t native_type, hid_t file_type,
                        std::size_t element_bytes, std::size_t columns, const void* values);
  /// Closes everything and removes the file unless keep_file. Never throws.
  void close() noexcept;
};

/// Rank 0: opens (or creates) the file at the path and takes its lock, before anything is
/// truncated. Returns "" or the whole message of why not.
std::string Hdf5Storage::Impl::claim(const Hdf5StorageOptions& options) {
  bool created = false;
  if (options.path.empty()) {
    std::error_code ec;
    fs::path directory = fs::temp_directory_path(ec);
    if (ec) directory = "/tmp";
    path = (directory / "cairn-checkpoints-XXXXXX.h5").string();
    std::vector<char> buffer(path.begin(), path.end());
    buffer.push_back('\0');
    fd = ::mkostemps(buffer.data(), 3, O_CLOEXEC);
    if (fd < 0) {
      return where(-1) + "cannot create a temporary file (" + system_error_text(errno) + ")";
    }
    path = buffer.data();
    created = true;
  } else {
    path = options.path;
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    created = fd >= 0;
    if (fd < 0 && errno == EEXIST) {
      if (!options.overwrite) {
        return where(-1) +
               "the file exists already; pass another path, or set "
               "Hdf5StorageOptions::overwrite to replace it";
      }
      fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    }
    if (fd < 0) {
      const int error = errno;
      return where(-1) +
             "cannot create the checkpoint file: " + creation_cause(path, system_error_text(error));
    }
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    if (created) ::unlink(path.c_str());
    ::close(fd);
    fd = -1;
    return where(-1) + "cannot inspect the checkpoint file (" + system_error_text(error) + ")";
  }
  device = info.st_dev;
  inode = info.st_ino;
  file_exists = created;
  // The lock comes before any truncation: a file another storage (or HDF5 program, whose own
  // locks are flocks too) holds is left exactly as it is. A file system without flock support
  // (ENOLCK, EOPNOTSUPP) gets no protection, as with HDF5's own locking.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    ::close(fd);
    fd = -1;
    file_exists = false;
    return where(-1) +
           "the file is in use: another Hdf5Storage or HDF5 program holds its lock; it was left "
           "as it was";
  }
  if (!created && ::ftruncate(fd, 0) != 0) {
    const int error = errno;
    ::close(fd);
    fd = -1;
    return where(-1) + "cannot truncate the existing file (" + system_error_text(error) +
           "); it was left as it was";
  }
  file_exists = true;  // locked and emptied: ours now, even if it was there before (overwrite)
  return "";
}

void Hdf5Storage::Impl::write_attribute(hid_t object, const char* name, hid_t type, hsize_t count,
                                        const void* data) {
  Handle space(count == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle attribute;
  if (space.valid()) {
    attribute =
        Handle(H5Acreate2(object, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  }
  if (!attribute.valid() || H5Awrite(attribute.get(), type, data) < 0) {
    fail(-1, std::string("cannot write attribute '") + name + "' (" + hdf5_cause() + ")");
  }
}

void Hdf5Storage::Impl::open(const Hdf5StorageOptions& options, std::int64_t slot_count) {
  std::string problem;
  if (rank == 0) {
    try {
      problem = claim(options);
    } catch (const std::exception& e) {
      problem = e.what();
    }
    if (path.empty()) path = options.path;
  }
  if (parallel()) {
    int bad = problem.empty() ? 0 : 1;
    MPI_Bcast(&bad, 1, MPI_INT, 0, comm);
    if (bad != 0 && rank != 0) {
      throw Hdf5StorageError(
          "Hdf5Storage: rank 0 could not create the checkpoint file (see its "
          "message); file '" +
              options.path + "'",
          options.path, -1);
    }
    unsigned long length = path.size();
    MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG, 0, comm);
    path.resize(length);
    MPI_Bcast(path.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
  }
  if (!problem.empty()) throw Hdf5StorageError(problem, path, -1);

  fapl = Handle(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  bool ok = fapl.valid();
  if (ok && parallel()) ok = H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL) >= 0;
  if (ok && !parallel()) ok = H5Pset_fapl_sec2(fapl.get()) >= 0;
  // No sieve buffer: a slot is written and read in one piece, and a cached copy of raw data would
  // hide a file changed behind our back from the checksum.
  if (ok) ok = H5Pset_sieve_buf_size(fapl.get(), 0) >= 0;
  // The file is locked already, by our descriptor (claim); HDF5's own flock on its descriptor
  // would conflict with it.
  if (ok) ok = H5Pset_file_locking(fapl.get(), false, true) >= 0;
  if (!ok) fail(-1, "cannot set up file access (" + hdf5_cause() + ")");

  // The file is ours and empty (claim); the truncation is no more than a formality.
  file = Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!file.valid()) {
    const std::string reason = hdf5_cause();
    fail(-1, "cannot create the checkpoint file: " + creation_cause(path, reason));
  }
  // HDF5 opened the path anew: it must still be the file we locked.
  const bool ours = rank != 0 || path_is_ours();
  if (!ours) file_exists = false;
  if (first_failure(ours) >= 0) {
    fail(-1,
         "the file was replaced by another while it was being created; that one is left as "
         "it is");
  }

  create_layout(slot_count);
  dxpl = Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  ok = dxpl.valid();
  if (ok && parallel()) ok = H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE) >= 0;
  if (!ok) fail(-1, "cannot set up data transfers (" + hdf5_cause() + ")");
  if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) {
    fail(-1, "cannot write the file's header (" + hdf5_cause() + ")");
  }

  if (!parallel()) {
    // The layout is final: from here on only our descriptor touches the file, and HDF5 is not
    // called again (see the file layout above).
    group.reset();
    dxpl.reset();
    if (!file.reset()) fail(-1, "cannot close the file's HDF5 side (" + hdf5_cause() + ")");
    fapl.reset();
  }
  if (options.unlink_while_open.value_or(!parallel()) && !options.keep_file) {
    // Once every rank has the file open, drop its name: the data live until the file is closed,
    // and nothing is left behind however the process ends.
    if (parallel()) MPI_Barrier(comm);
    if (rank == 0 && path_is_ours()) ::unlink(path.c_str());
    file_exists = false;
    anonymous = true;
  }
}

Hdf5Storage::Impl::Table Hdf5Storage::Impl::create_table(const char* name, hid_t file_type,
                                                         std::size_t element_bytes,
                                                         std::size_t columns, hid_t fill_type,
                                                         const void* fill) {
  Table table;
  table.row_bytes = element_bytes * columns;
  const hsize_t dims[2] = {static_cast<hsize_t>(slots.size()), static_cast<hsize_t>(columns)};
  Handle space(H5Screate_simple(columns == 1 ? 1 : 2, dims, nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  bool ok = space.valid() && dcpl.valid() && H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS) >= 0 &&
            H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY) >= 0 &&
            H5Pset_fill_value(dcpl.get(), fill_type, fill) >= 0 &&
            H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_ALLOC) >= 0;
  if (ok) {
    table.dataset = Handle(
        H5Dcreate2(file.get(), name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
        H5Dclose);
    ok = table.dataset.valid();
  }
  if (ok && !slots.empty()) {
    table.address = H5Dget_offset(table.dataset.get());
    ok = table.address != HADDR_UNDEF;
  }
  if (!ok) fail(-1, std::string("cannot create the table /") + name + " (" + hdf5_cause() + ")");
  if (!parallel()) table.dataset.reset();
  return table;
}

void Hdf5Storage::Impl::create_layout(std::int64_t slot_count) {
  group = Handle(H5Gcreate2(file.get(), "slots", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail(-1, "cannot create group /slots (" + hdf5_cause() + ")");
  const std::uint64_t bytes_per_slot = slot_bytes;
  write_attribute(file.get(), "slots", H5T_NATIVE_INT64, 0, &slot_count);
  write_attribute(file.get(), "slot_bytes", H5T_NATIVE_UINT64, 0, &bytes_per_slot);
  write_attribute(file.get(), "ranks", H5T_NATIVE_INT, 0, &ranks);

  Handle space(H5Screate_simple(1, &capacity, nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  const bool ok = space.valid() && dcpl.valid() && H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS) >= 0 &&
                  H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY) >= 0 &&
                  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER) >= 0;
  if (!ok) fail(-1, "cannot set up the slots' datasets (" + hdf5_cause() + ")");
  for (std::size_t index = 0; index < slots.size(); ++index) {
    Slot& s = slots[index];
    const std::string name = std::to_string(index);
    s.dataset = Handle(H5Dcreate2(group.get(), name.c_str(), H5T_NATIVE_UCHAR, space.get(),
                                  H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                       H5Dclose);
    if (s.dataset.valid()) s.address = H5Dget_offset(s.dataset.get());
    if (!s.dataset.valid() || s.address == HADDR_UNDEF) {
      fail(static_cast<std::int64_t>(index),
           "cannot create dataset /slots/" + name + " (" + hdf5_cause() + ")");
    }
    if (!parallel()) s.dataset.reset();
  }

  const std::int64_t empty = -1;
  const std::uint64_t zero = 0;
  const auto columns = static_cast<std::size_t>(ranks);
  step_table = create_table("step", H5T_STD_I64LE, 8, 1, H5T_NATIVE_INT64, &empty);
  bytes_table = create_table("bytes", H5T_STD_U64LE, 8, columns, H5T_NATIVE_UINT64, &zero);
  crc_table = create_table("crc32c", H5T_STD_U32LE, 4, columns, H5T_NATIVE_UINT64, &zero);
  row.assign(8 * columns, 0);
}

std::string Hdf5Storage::Impl::write_row(const Table& table, std::size_t slot, hid_t native_type,
                                         hid_t file_type, std::size_t element_bytes,
                                         std::size_t columns, const void* values) {
  if (!parallel()) {
    for (std::size_t c = 0; c < columns; ++c) {
      std::uint64_t value = 0;
      if (element_bytes == 8) {
        std::memcpy(&value, static_cast<const unsigned char*>(values) + 8 * c, 8);
      } else {
        std::uint32_t narrow = 0;
        std::memcpy(&narrow, static_cast<const unsigned char*>(values) + 4 * c, 4);
        value = narrow;
      }
      put_le(row.data() + element_bytes * c, value, static_cast<int>(element_bytes));
    }
    const int error =
        write_at(fd, row.data(), table.row_bytes, table.address + slot * table.row_bytes);
    return error == 0 ? std::string() : system_error_text(error);
  }
  (void)file_type;
  Handle file_space(H5Dget_space(table.dataset.get()), H5Sclose);
  const hsize_t start[2] = {static_cast<hsize_t>(slot), 0};
  const hsize_t count[2] = {1, static_cast<hsize_t>(columns)};
  const hsize_t memory_count = columns;
  Handle memory_space(H5Screate_simple(1, &memory_count, nullptr), H5Sclose);
  // Every rank has the same values; rank 0 writes them, the others join the collective call.
  bool ok = file_space.valid() && memory_space.valid();
  if (ok && rank == 0) {
    ok = H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) >= 0;
  } else if (ok) {
    ok = H5Sselect_none(file_space.get()) >= 0 && H5Sselect_none(memory_space.get()) >= 0;
  }
  ok = ok && H5Dwrite(table.dataset.get(), native_type, memory_space.get(), file_space.get(),
                      dxpl.get(), values) >= 0;
  return ok ? std::string() : hdf5_cause();
}

void Hdf5Storage::Impl::close() noexcept {
  if (file.valid() || fapl.valid() || group.valid() || parallel()) {
    const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
    QuietHdf5Errors quiet;
    int finalized = 0;
    if (parallel()) MPI_Finalized(&finalized);
    if (finalized == 0) {
      for (Slot& s : slots) s.dataset.reset();
      step_table.dataset.reset();
      bytes_table.dataset.reset();
      crc_table.dataset.reset();
      group.reset();
      file.reset();  // collective under MPI; a failure (say a full disk) cannot be reported here
      dxpl.reset();
      fapl.reset();
      H5Eclear2(H5E_DEFAULT);
    }
    if (parallel() && finalized == 0) MPI_Barrier(comm);  // every rank has closed the file
    if (parallel() && finalized == 0) MPI_Comm_free(&comm);
    comm = MPI_COMM_NULL;
  }
  // Only the file we created, and only while the path still names it: a file made at the same
  // path since ours was moved or removed belongs to someone else. Removed before our descriptor
  // (and so the lock) goes, so that nobody can take the path over in between.
  if (file_exists && !keep_file && rank == 0 && path_is_ours()) ::unlink(path.c_str());
  file_exists = false;
  if (fd >= 0) ::close(fd);
  fd = -1;
}

namespace {

void check_arguments(std::int64_t slots, std::size_t slot_bytes, int ranks) {
  if (slots < 0) {
    throw std::invalid_argument("Hdf5Storage: slots = " + std::to_string(slots) +
                                " is not allowed; slots must be >= 0");
  }
  // The staging buffer and each dataset must be addressable.
  if (slot_bytes > (std::size_t{1} << 62) / static_cast<std::size_t>(ranks)) {
    throw std::invalid_argument("Hdf5Storage: slot_bytes = " + std::to_string(slot_bytes) +
                                " is too large");
  }
}

}  // namespace

Hdf5Storage::Hdf5Storage(std::int64_t slots, std::size_t slot_bytes, Hdf5StorageOptions options)
    : Hdf5Storage(MPI_COMM_NULL, slots, slot_bytes, std::move(options)) {}

Hdf5Storage::Hdf5Storage(MPI_Comm comm, std::int64_t slots, std::size_t slot_bytes,
                         Hdf5StorageOptions options)
    : slots_(slots), slot_bytes_(slot_bytes), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (comm != MPI_COMM_NULL) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized == 0) {
      throw std::invalid_argument(
          "Hdf5Storage: a communicator was given but MPI is not initialized");
    }
    MPI_Comm_dup(comm, &m.comm);
    MPI_Comm_rank(m.comm, &m.rank);
    MPI_Comm_size(m.comm, &m.ranks);
  }
  try {
    check_arguments(slots, slot_bytes, m.ranks);
    m.keep_file = options.keep_file;
    m.before_write = std::move(options.before_write);
    m.slot_bytes = slot_bytes;
    m.capacity =
        std::max<hsize_t>(1, static_cast<hsize_t>(slot_bytes) * static_cast<hsize_t>(m.ranks));
    m.slots.resize(static_cast<std::size_t>(slots));
    m.staging.reset(new unsigned char[std::max<std::size_t>(slot_bytes, 1)]);
    // Touched now, so that the first store does not pay for the page faults.
    std::memset(m.staging.get(), 0, std::max<std::size_t>(slot_bytes, 1));
    m.exchange.assign(2 * static_cast<std::size_t>(m.ranks), 0);
    m.crcs.assign(static_cast<std::size_t>(m.ranks), 0);
    const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
    QuietHdf5Errors quiet;
    m.open(options, slots);
  } catch (...) {
    m.close();
    throw;
  }
}

Hdf5Storage::~Hdf5Storage() {
  impl_->close();
}

const std::string& Hdf5Storage::path() const noexcept {
  return impl_->path;
}

namespace {

std::size_t checked_slot(std::int64_t slot, std::int64_t slots) {
  if (slot < 0 || slot >= slots) {
    throw std::out_of_range("Hdf5Storage: slot " + std::to_string(slot) +
                            " does not exist; slots are 0.." + std::to_string(slots - 1));
  }
  return static_cast<std::size_t>(slot);
}

/// Selects [offset, offset + count) of `file_space` and the whole of a fresh memory space of
/// `count` bytes, or nothing of either when count is 0 (a rank with an empty part still joins a
/// collective transfer).
bool select(hid_t file_space, Handle& memory_space, hsize_t offset, hsize_t count) {
  const hsize_t memory_count = std::max<hsize_t>(count, 1);
  memory_space = Handle(H5Screate_simple(1, &memory_count, nullptr), H5Sclose);
  if (!memory_space.valid()) return false;
  if (count == 0) return H5Sselect_none(file_space) >= 0 && H5Sselect_none(memory_space.get()) >= 0;
  return H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &offset, nullptr, &count, nullptr) >= 0;
}

/// Under MPI, for the duration of a call: Cairn's hold on HDF5 (hdf5_mutex) and HDF5's error
/// printing off. Serially nothing: no HDF5 call follows.
class Hdf5Call {
 public:
  explicit Hdf5Call(bool parallel) {
    if (parallel) {
      lock_ = std::unique_lock<std::recursive_mutex>(hdf5_mutex());
      quiet_.emplace();
    }
  }

 private:
  std::unique_lock<std::recursive_mutex> lock_;
  std::optional<QuietHdf5Errors> quiet_;  // destroyed before the lock is released
};

// Checksums of large states run on a helper thread while HDF5 moves the bytes (CRC-32C costs
// about as much as copying them), so that a store or restore costs about one write or read.
constexpr hsize_t kReadPiece = hsize_t{8} << 20;

}  // namespace

std::int64_t Hdf5Storage::held_step(std::int64_t slot) const {
  return impl_->slots[checked_slot(slot, slots_)].step;
}

void Hdf5Storage::store(std::int64_t slot, std::int64_t step, const StateWriter& state) {
  Impl& m = *impl_;
  const std::size_t index = checked_slot(slot, slots_);
  require_state_step("Hdf5Storage", step);
  Impl::Slot& s = m.slots[index];
  const Hdf5Call call(m.parallel());

  // 1. Sizes: every rank learns every part's size (and whether its copy worked). A contiguous
  // state is written from where it lies; any other is copied into the staging buffer first.
  const bool fits = state.bytes <= slot_bytes_;
  std::exception_ptr copy_error;
  const auto* source = static_cast<const unsigned char*>(state.contiguous);
  if (fits && source == nullptr) {
    try {
      state.write(state.context, m.staging.get());
      source = m.staging.get();
    } catch (...) {
      copy_error = std::current_exception();
    }
  }
  std::uint64_t mine[2] = {state.bytes, fits ? (copy_error ? 2U : 0U) : 1U};
  if (m.parallel()) {
    MPI_Allgather(mine, 2, MPI_UINT64_T, m.exchange.data(), 2, MPI_UINT64_T, m.comm);
  } else {
    m.exchange[0] = mine[0];
    m.exchange[1] = mine[1];
  }
  std::uint64_t offset = 0;
  int copy_failed = -1;
  for (int r = 0; r < m.ranks; ++r) {
    const auto bytes = m.exchange[2 * static_cast<std::size_t>(r)];
    const auto status = m.exchange[2 * static_cast<std::size_t>(r) + 1];
    if (status == 1) {
      throw std::invalid_argument("Hdf5Storage: a state " +
                                  (m.parallel() ? "part of rank " + std::to_string(r) + " " : "") +
                                  "of " + std::to_string(bytes) + " bytes does not fit a slot of " +
                                  std::to_string(slot_bytes_) + " bytes");
    }
    if (status == 2 && copy_failed < 0) copy_failed = r;
    if (r < m.rank) offset += bytes;
  }

  // 2. The slot is empty from here until the new checkpoint is complete, in the file as well.
  if (s.step >= 0) --occupied_;
  s.step = -1;
  if (copy_error) std::rethrow_exception(copy_error);
  if (copy_failed >= 0) {
    m.fail(slot, "rank " + std::to_string(copy_failed) + " failed to copy its part of x_" +
                     std::to_string(step) + "; see its message");
  }
  const std::int64_t empty = -1;
  std::string problem =
      m.write_row(m.step_table, index, H5T_NATIVE_INT64, H5T_STD_I64LE, 8, 1, &empty);
  if (m.first_failure(problem.empty()) >= 0) {
    m.fail(slot, "cannot mark the slot empty (" + problem + ")");
  }

  // 3. The data: this rank's part at its offset, in one (collective) write; a large part's
  // checksum is computed meanwhile on a helper thread (both only read the source).
  if (m.before_write) {
    try {
      m.before_write(slot);
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  std::uint32_t crc = 0;
  {
    Checksummer checksum(source, state.bytes, &crc);
    // A rank whose write was refused still joins the other ranks' collective write, with nothing.
    const hsize_t count = problem.empty() ? static_cast<hsize_t>(state.bytes) : 0;
    if (!m.parallel()) {
      if (count != 0) {
        const int error = write_at(m.fd, source, state.bytes, s.address);
        if (error != 0) problem = system_error_text(error);
      }
    } else {
      Handle file_space(H5Dget_space(s.dataset.get()), H5Sclose);
      Handle memory_space;
      const bool written = file_space.valid() &&
                           select(file_space.get(), memory_space, offset, count) &&
                           H5Dwrite(s.dataset.get(), H5T_NATIVE_UCHAR, memory_space.get(),
                                    file_space.get(), m.dxpl.get(), source) >= 0;
      if (!written && problem.empty()) problem = hdf5_cause();
      H5Eclear2(H5E_DEFAULT);
    }
  }
  const int failed = m.first_failure(problem.empty());
  if (failed >= 0) {
    m.fail(slot, "cannot write x_" + std::to_string(step) + " (" + std::to_string(state.bytes) +
                     " bytes): " +
                     (failed == m.rank ? problem
                                       : "rank " + std::to_string(failed) + " failed to write"));
  }

  // 4. The slot's rows of the tables (the same values on every rank), the step last, so that a
  // file read after a crash never pairs a step with another state's sizes or checksums.
  std::uint64_t* sizes = m.exchange.data();
  for (int r = 0; r < m.ranks; ++r) sizes[r] = m.exchange[2 * static_cast<std::size_t>(r)];
  const std::uint32_t* all_crcs = &crc;
  if (m.parallel()) {
    MPI_Allgather(&crc, 1, MPI_UINT32_T, m.crcs.data(), 1, MPI_UINT32_T, m.comm);
    all_crcs = m.crcs.data();
  }
  const auto columns = static_cast<std::size_t>(m.ranks);
  problem = m.write_row(m.bytes_table, index, H5T_NATIVE_UINT64, H5T_STD_U64LE, 8, columns, sizes);
  if (problem.empty()) {
    problem =
        m.write_row(m.crc_table, index, H5T_NATIVE_UINT32, H5T_STD_U32LE, 4, columns, all_crcs);
  }
  if (problem.empty()) {
    problem = m.write_row(m.step_table, index, H5T_NATIVE_INT64, H5T_STD_I64LE, 8, 1, &step);
  }
  // Under MPI a failure shows here rather than when the file is closed (and the data are on the
  // device: MPI_File_sync).
  if (problem.empty() && m.parallel() && H5Fflush(m.file.get(), H5F_SCOPE_LOCAL) < 0) {
    problem = hdf5_cause();
  }
  if (m.first_failure(problem.empty()) >= 0) {
    m.fail(slot, "cannot record x_" + std::to_string(step) + " in the file (" + problem + ")");
  }
  s.step = step;
  s.bytes = state.bytes;
  s.offset = offset;
  s.crc = crc;
  ++occupied_;
}

void Hdf5Storage::restore(std::int64_t slot, std::int64_t step, const StateReader& state) {
  Impl& m = *impl_;
  const std::size_t index = checked_slot(slot, slots_);
  require_state_step("Hdf5Storage", step);
  Impl::Slot& s = m.slots[index];
  if (s.step != step) {
    throw std::logic_error("Hdf5Storage: slot " + std::to_string(slot) + " holds " +
                           (s.step < 0 ? std::string("nothing") : "x_" + std::to_string(s.step)) +
                           ", not x_" + std::to_string(step));
  }
  const Hdf5Call call(m.parallel());

  std::string problem;
  // A file cut short reads as zeros past its end: say so rather than only "checksum mismatch".
  // Serially our own descriptor tells, name or no name; under MPI the path does.
  if (s.bytes != 0 && (!m.parallel() || !m.anonymous)) {
    struct stat info {};
    const std::uint64_t end = s.address + s.offset + s.bytes;
    const int status = m.parallel() ? ::stat(m.path.c_str(), &info) : ::fstat(m.fd, &info);
    if (status != 0) {
      problem = "the file is gone (" + system_error_text(errno) + ")";
    } else if (static_cast<std::uint64_t>(info.st_size) < end) {
      problem = "the file was truncated behind our back: it has " + std::to_string(info.st_size) +
                " bytes, but the slot's data end at byte " + std::to_string(end);
    }
  }
  // Reads go through the staging buffer and reach the state only once the checksum has passed,
  // so a failed restore leaves the caller's state as it was -- unless the caller says its state is
  // scratch (StateReader::scratch_block, as the driver does): then, serially, the bytes are read
  // straight into it, saving a copy. Under MPI the staging buffer is always used, so that a size
  // error on one rank cannot break the collective read.
  unsigned char* target = m.staging.get();
  bool direct = false;
  if (problem.empty() && !m.parallel() && state.scratch_block != nullptr && s.bytes != 0) {
    if (auto* block = static_cast<unsigned char*>(state.scratch_block(state.context, s.bytes))) {
      target = block;
      direct = true;
    }
  }
  std::uint32_t crc = 0;
  const hsize_t count = problem.empty() ? static_cast<hsize_t>(s.bytes) : 0;
  if (!m.parallel()) {
    std::string why;
    if (count != 0 && count < kOverlapBytes) {
      why = read_at(m.fd, target, s.bytes, s.address);
      if (why.empty()) crc = detail::crc32c(target, s.bytes);
    } else if (count != 0) {
      // Large: read in pieces while a helper thread checksums the pieces already in.
      PipelinedChecksum checksum(target, s.bytes);
      for (hsize_t done = 0; why.empty() && done < count; done += kReadPiece) {
        const hsize_t piece = std::min<hsize_t>(kReadPiece, count - done);
        why = read_at(m.fd, target + done, static_cast<std::size_t>(piece), s.address + done);
        if (why.empty()) checksum.ready(static_cast<std::size_t>(done + piece));
      }
      crc = checksum.finish();
    }
    if (!why.empty()) problem = "the data cannot be read (" + why + ")";
  } else {
    // One collective read, then the checksum.
    Handle file_space(H5Dget_space(s.dataset.get()), H5Sclose);
    Handle memory_space;
    const bool read = file_space.valid() &&
                      select(file_space.get(), memory_space, s.offset, count) &&
                      H5Dread(s.dataset.get(), H5T_NATIVE_UCHAR, memory_space.get(),
                              file_space.get(), m.dxpl.get(), target) >= 0;
    if (read) crc = detail::crc32c(target, s.bytes);
    if (!read && problem.empty()) problem = "the data cannot be read (" + hdf5_cause() + ")";
    H5Eclear2(H5E_DEFAULT);
  }
  if (problem.empty()) {
    if (crc != s.crc) {
      char text[96];
      std::snprintf(text, sizeof text, "computed crc32c 0x%08x, stored 0x%08x", crc, s.crc);
      problem = "checksum mismatch (" + std::string(text) + " over " + std::to_string(s.bytes) +
                " bytes): the file was changed behind our back";
    }
  }
  const int failed = m.first_failure(problem.empty());
  if (failed >= 0) {
    m.fail(slot,
           "cannot restore x_" + std::to_string(step) + ": " +
               (failed == m.rank ? problem : "rank " + std::to_string(failed) + " failed to read"));
  }
  if (!direct) state.read(state.context, m.staging.get(), s.bytes);
}

void Hdf5Storage::free(std::int64_t slot) {
  Impl& m = *impl_;
  const std::size_t index = checked_slot(slot, slots_);
  Impl::Slot& s = m.slots[index];
  const Hdf5Call call(m.parallel());
  if (s.step >= 0) --occupied_;
  s.step = -1;
  const std::int64_t empty = -1;
  const std::string problem =
      m.write_row(m.step_table, index, H5T_NATIVE_INT64, H5T_STD_I64LE, 8, 1, &empty);
  if (m.first_failure(problem.empty()) >= 0) {
    m.fail(slot, "cannot mark the slot empty (" + problem + ")");
  }
}

}  // namespace cairn
