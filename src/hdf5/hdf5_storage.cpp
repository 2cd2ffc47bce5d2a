#include "cairn/hdf5_storage.hpp"

#include <fcntl.h>
#include <hdf5.h>
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
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "hdf5/crc32c.hpp"

#ifndef H5_HAVE_PARALLEL
#error "cairn::hdf5 needs a parallel build of HDF5 (H5_HAVE_PARALLEL), e.g. Debian's hdf5-openmpi"
#endif

// File layout. One dataset per slot, /slots/<k>, one-dimensional bytes of capacity slot_bytes
// (times the number of ranks), contiguous, never filled, created when slot k is first stored:
//  - a store is then one contiguous write at a fixed file offset: no chunk index and no chunk
//    cache copy between the state and the file, so it runs at the speed of plain POSIX writes
//    (bench/hdf5_bandwidth.cpp), and overwriting a slot reuses its space: the file never grows
//    beyond slots * capacity;
//  - the step, byte counts and checksums are attributes of the slot's own dataset, where h5dump
//    shows them next to the data; a slot never stored costs no file space.
// (One chunked [slots x capacity] dataset would put the metadata of all slots on one object and
// send every write through the chunk machinery for no gain.) Under MPI the parts of the ranks lie
// one after the other in rank order at offsets given by an exclusive prefix sum of their sizes, so
// the dataset holds the distributed state as one array; `bytes` and `crc32c` have one entry per
// rank. The root group records `slots`, `slot_bytes` and `ranks`.

namespace cairn {
namespace {

namespace fs = std::filesystem;

/// Owns one HDF5 identifier and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) noexcept : id_(id), close_(close) {}
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) {
    other.id_ = H5I_INVALID_HID;
  }
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      close_ = other.close_;
      other.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }
  /// Closes now; false if HDF5 reported an error while closing.
  bool reset() noexcept {
    herr_t status = 0;
    if (id_ >= 0) status = close_(id_);
    id_ = H5I_INVALID_HID;
    return status >= 0;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

/// While alive, HDF5 prints nothing on errors (we turn them into exceptions instead). The previous
/// setting is restored afterwards, so that a program's own use of HDF5 is left as it was.
class QuietHdf5Errors {
 public:
  QuietHdf5Errors() noexcept {
    if (H5Eget_auto2(H5E_DEFAULT, &function_, &data_) < 0) function_ = nullptr;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5Errors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
  QuietHdf5Errors(const QuietHdf5Errors&) = delete;
  QuietHdf5Errors& operator=(const QuietHdf5Errors&) = delete;

 private:
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
};

/// The innermost messages of HDF5's error stack (where the failure was detected, e.g. the file
/// driver's "errno = 28, error message = 'No space left on device'"), outermost last.
std::string hdf5_cause() {
  struct Walk {
    std::string text;
    int count = 0;
  } walk;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
        auto& w = *static_cast<Walk*>(data);
        if (error->desc == nullptr || error->desc[0] == '\0' || w.count == 3) return 0;
        if (!w.text.empty()) w.text += "; ";
        // The file drivers' messages carry a time stamp, buffer addresses and so on; of those
        // keep what failed and the system's words: "file write failed: No space left on device".
        const std::string desc = error->desc;
        const std::string::size_type quoted = desc.find("error message = '");
        const std::string::size_type colon = desc.find(':');
        if (quoted != std::string::npos && colon != std::string::npos && colon < quoted) {
          const auto start = quoted + 17;
          w.text +=
              desc.substr(0, colon) + ": " + desc.substr(start, desc.find('\'', start) - start);
        } else {
          w.text += desc;
        }
        ++w.count;
        return 0;
      },
      &walk);
  H5Eclear2(H5E_DEFAULT);
  return walk.text.empty() ? std::string("HDF5 gave no reason") : "HDF5: " + walk.text;
}

std::string system_error_text(int error) {
  return std::generic_category().message(error);
}

/// Why a file cannot be created at `path`, in words, before falling back on HDF5's reason.
std::string creation_cause(const std::string& path, const std::string& hdf5_reason) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  if (!fs::exists(parent, ec)) return "the directory '" + parent.string() + "' does not exist";
  if (!fs::is_directory(parent, ec)) return "'" + parent.string() + "' is not a directory";
  if (fs::is_directory(path, ec)) return "it is a directory";
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    return "no permission to create files in '" + parent.string() + "' (" +
           system_error_text(errno) + ")";
  }
  return hdf5_reason;
}

/// A fresh, empty file with a unique name in the temporary directory.
std::string make_temporary_file() {
  std::error_code ec;
  fs::path directory = fs::temp_directory_path(ec);
  if (ec) directory = "/tmp";
  std::string name = (directory / "cairn-checkpoints-XXXXXX.h5").string();
  std::vector<char> buffer(name.begin(), name.end());
  buffer.push_back('\0');
  const int fd = ::mkstemps(buffer.data(), 3);
  if (fd < 0) {
    const int error = errno;
    throw Hdf5StorageError("Hdf5Storage: file '" + name + "': cannot create a temporary file (" +
                               system_error_text(error) + ")",
                           name, -1);
  }
  ::close(fd);
  return std::string(buffer.data());
}

}  // namespace

struct Hdf5Storage::Impl {
  struct Slot {
    Handle dataset;
    Handle step_attribute;
    Handle bytes_attribute;
    Handle crc_attribute;
    haddr_t address = HADDR_UNDEF;  // file offset of the dataset's data, once allocated
    std::int64_t step = -1;         // state index held, -1 if empty
    std::uint64_t bytes = 0;        // this rank's part
    std::uint64_t offset = 0;       // where this rank's part starts in the dataset
    std::uint32_t crc = 0;          // CRC-32C of this rank's part
  };

  std::string path;
  bool keep_file = false;
  bool file_exists = false;  // ours to remove
  bool anonymous = false;    // unlinked while open (Hdf5StorageOptions::unlink_while_open)
  std::function<void(std::int64_t)> before_write;
  MPI_Comm comm = MPI_COMM_NULL;  // our duplicate, or MPI_COMM_NULL when serial
  int rank = 0;
  int ranks = 1;
  std::size_t slot_bytes = 0;
  hsize_t capacity = 1;  // elements of each slot's dataset

  Handle fapl;
  Handle dxpl;
  Handle file;
  Handle group;
  std::vector<Slot> slots;
  std::unique_ptr<unsigned char[]> staging;
  // Scratch for the exchanges under MPI, allocated once: two 64-bit words and a CRC per rank.
  std::vector<std::uint64_t> exchange;
  std::vector<std::uint32_t> crcs;

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

  void open(const Hdf5StorageOptions& options, std::int64_t slot_count);
  void create_slot(std::size_t index);
  void write_attribute(hid_t object, const char* name, hid_t type, hsize_t count, const void* data);
  /// Closes everything and removes the file unless keep_file. Never throws.
  void close() noexcept;
};

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
  // The file's name: the user's, or a fresh temporary file (made by rank 0 under MPI).
  bool truncate = options.overwrite;
  std::string problem;
  if (rank == 0) {
    try {
      if (options.path.empty()) {
        path = make_temporary_file();
        file_exists = true;
        truncate = true;
      } else {
        path = options.path;
        std::error_code ec;
        if (!options.overwrite && fs::exists(path, ec)) {
          problem = "Hdf5Storage: file '" + path +
                    "': the file exists already; pass another path, or set "
                    "Hdf5StorageOptions::overwrite to replace it";
        }
      }
    } catch (const std::exception& e) {
      problem = e.what();
      if (path.empty()) path = options.path;
    }
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
    int t = truncate ? 1 : 0;
    MPI_Bcast(&t, 1, MPI_INT, 0, comm);
    truncate = t != 0;
  }
  if (!problem.empty()) throw Hdf5StorageError(problem, path, -1);

  fapl = Handle(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  bool ok = fapl.valid();
  if (ok && parallel()) ok = H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL) >= 0;
  if (ok && !parallel()) ok = H5Pset_fapl_sec2(fapl.get()) >= 0;
  // No sieve buffer: a slot is written and read in one piece, and a cached copy of raw data would
  // hide a file changed behind our back from the checksum.
  if (ok) ok = H5Pset_sieve_buf_size(fapl.get(), 0) >= 0;
  if (!ok) fail(-1, "cannot set up file access (" + hdf5_cause() + ")");

  file = Handle(
      H5Fcreate(path.c_str(), truncate ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()),
      H5Fclose);
  if (!file.valid()) {
    const std::string reason = hdf5_cause();
    fail(-1, "cannot create the checkpoint file: " + creation_cause(path, reason));
  }
  file_exists = true;

  group = Handle(H5Gcreate2(file.get(), "slots", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail(-1, "cannot create group /slots (" + hdf5_cause() + ")");
  const std::uint64_t bytes_per_slot = slot_bytes;
  write_attribute(file.get(), "slots", H5T_NATIVE_INT64, 0, &slot_count);
  write_attribute(file.get(), "slot_bytes", H5T_NATIVE_UINT64, 0, &bytes_per_slot);
  write_attribute(file.get(), "ranks", H5T_NATIVE_INT, 0, &ranks);
  if (options.unlink_while_open && !options.keep_file) {
    // Once every rank has the file open, drop its name: the data live until the file is closed,
    // and nothing is left behind however the process ends.
    if (parallel()) MPI_Barrier(comm);
    if (rank == 0) ::unlink(path.c_str());
    file_exists = false;
    anonymous = true;
  }

  dxpl = Handle(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  ok = dxpl.valid();
  if (ok && parallel()) ok = H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE) >= 0;
  if (!ok) fail(-1, "cannot set up data transfers (" + hdf5_cause() + ")");
  if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) {
    fail(-1, "cannot write the file's header (" + hdf5_cause() + ")");
  }
}

void Hdf5Storage::Impl::create_slot(std::size_t index) {
  Slot& s = slots[index];
  const std::string name = std::to_string(index);
  const auto slot = static_cast<std::int64_t>(index);
  Handle space(H5Screate_simple(1, &capacity, nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  bool ok = space.valid() && dcpl.valid() && H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS) >= 0 &&
            H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER) >= 0;
  if (ok) {
    s.dataset = Handle(H5Dcreate2(group.get(), name.c_str(), H5T_NATIVE_UCHAR, space.get(),
                                  H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                       H5Dclose);
    ok = s.dataset.valid();
  }
  if (!ok) fail(slot, "cannot create dataset /slots/" + name + " (" + hdf5_cause() + ")");
  const auto count = static_cast<hsize_t>(ranks);
  Handle scalar(H5Screate(H5S_SCALAR), H5Sclose);
  Handle per_rank(H5Screate_simple(1, &count, nullptr), H5Sclose);
  if (scalar.valid() && per_rank.valid()) {
    s.step_attribute = Handle(H5Acreate2(s.dataset.get(), "step", H5T_NATIVE_INT64, scalar.get(),
                                         H5P_DEFAULT, H5P_DEFAULT),
                              H5Aclose);
    s.bytes_attribute = Handle(H5Acreate2(s.dataset.get(), "bytes", H5T_NATIVE_UINT64,
                                          per_rank.get(), H5P_DEFAULT, H5P_DEFAULT),
                               H5Aclose);
    s.crc_attribute = Handle(H5Acreate2(s.dataset.get(), "crc32c", H5T_NATIVE_UINT32,
                                        per_rank.get(), H5P_DEFAULT, H5P_DEFAULT),
                             H5Aclose);
  }
  if (!s.step_attribute.valid() || !s.bytes_attribute.valid() || !s.crc_attribute.valid()) {
    fail(slot, "cannot create the attributes of /slots/" + name + " (" + hdf5_cause() + ")");
  }
}

void Hdf5Storage::Impl::close() noexcept {
  QuietHdf5Errors quiet;
  int finalized = 0;
  if (parallel()) MPI_Finalized(&finalized);
  if (finalized == 0) {
    for (Slot& s : slots) {
      s.step_attribute.reset();
      s.bytes_attribute.reset();
      s.crc_attribute.reset();
      s.dataset.reset();
    }
    group.reset();
    file.reset();  // collective under MPI; a failure (say a full disk) cannot be reported here
    dxpl.reset();
    fapl.reset();
  }
  if (parallel() && finalized == 0) MPI_Barrier(comm);  // every rank has closed the file
  if (file_exists && !keep_file && rank == 0) ::unlink(path.c_str());
  file_exists = false;
  if (parallel() && finalized == 0) MPI_Comm_free(&comm);
  comm = MPI_COMM_NULL;
  H5Eclear2(H5E_DEFAULT);
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
  QuietHdf5Errors quiet;
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

// Checksums of large states run on a helper thread while HDF5 moves the bytes (CRC-32C costs
// about as much as copying them), so that a store or restore costs about one write or read.
constexpr std::size_t kOverlapBytes = std::size_t{1} << 20;
constexpr hsize_t kReadPiece = hsize_t{8} << 20;

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

}  // namespace

std::int64_t Hdf5Storage::held_step(std::int64_t slot) const {
  return impl_->slots[checked_slot(slot, slots_)].step;
}

void Hdf5Storage::store(std::int64_t slot, std::int64_t step, const StateWriter& state) {
  QuietHdf5Errors quiet;
  Impl& m = *impl_;
  const std::size_t index = checked_slot(slot, slots_);
  Impl::Slot& s = m.slots[index];

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

  // 2. The slot is empty from here until the new checkpoint is complete.
  if (s.step >= 0) --occupied_;
  s.step = -1;
  if (copy_error) std::rethrow_exception(copy_error);
  if (copy_failed >= 0) {
    m.fail(slot, "rank " + std::to_string(copy_failed) + " failed to copy its part of x_" +
                     std::to_string(step) + "; see its message");
  }
  if (!s.dataset.valid()) m.create_slot(index);
  const std::int64_t empty = -1;
  if (H5Awrite(s.step_attribute.get(), H5T_NATIVE_INT64, &empty) < 0) {
    m.fail(slot, "cannot mark the slot empty (" + hdf5_cause() + ")");
  }

  // 3. The data: this rank's part at its offset, in one (collective) write; a large part's
  // checksum is computed meanwhile on a helper thread (both only read the source).
  std::string problem;
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
    if (count != 0 || m.parallel()) {
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

  // 4. The attributes (the same values on every rank), then the metadata to the file, so that
  // a failure shows here and not when the file is closed.
  std::uint64_t* sizes = m.exchange.data();
  for (int r = 0; r < m.ranks; ++r) sizes[r] = m.exchange[2 * static_cast<std::size_t>(r)];
  const std::uint32_t* all_crcs = &crc;
  if (m.parallel()) {
    MPI_Allgather(&crc, 1, MPI_UINT32_T, m.crcs.data(), 1, MPI_UINT32_T, m.comm);
    all_crcs = m.crcs.data();
  }
  if (H5Awrite(s.bytes_attribute.get(), H5T_NATIVE_UINT64, sizes) < 0 ||
      H5Awrite(s.crc_attribute.get(), H5T_NATIVE_UINT32, all_crcs) < 0 ||
      H5Awrite(s.step_attribute.get(), H5T_NATIVE_INT64, &step) < 0 ||
      H5Fflush(m.file.get(), H5F_SCOPE_LOCAL) < 0) {
    m.fail(slot, "cannot record x_" + std::to_string(step) + " in the file (" + hdf5_cause() + ")");
  }
  if (s.address == HADDR_UNDEF) s.address = H5Dget_offset(s.dataset.get());
  s.step = step;
  s.bytes = state.bytes;
  s.offset = offset;
  s.crc = crc;
  ++occupied_;
}

void Hdf5Storage::restore(std::int64_t slot, std::int64_t step, const StateReader& state) {
  QuietHdf5Errors quiet;
  Impl& m = *impl_;
  const std::size_t index = checked_slot(slot, slots_);
  Impl::Slot& s = m.slots[index];
  if (s.step != step) {
    throw std::logic_error("Hdf5Storage: slot " + std::to_string(slot) + " holds " +
                           (s.step < 0 ? std::string("nothing") : "x_" + std::to_string(s.step)) +
                           ", not x_" + std::to_string(step));
  }

  std::string problem;
  // A file cut short reads as zeros past its end: say so rather than only "checksum mismatch".
  if (s.bytes != 0 && s.address != HADDR_UNDEF && !m.anonymous) {
    struct stat info {};
    const std::uint64_t end = s.address + s.offset + s.bytes;
    if (::stat(m.path.c_str(), &info) != 0) {
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
  if (s.bytes != 0 || m.parallel()) {
    const hsize_t count = problem.empty() ? static_cast<hsize_t>(s.bytes) : 0;
    Handle file_space(H5Dget_space(s.dataset.get()), H5Sclose);
    Handle memory_space;
    bool read = file_space.valid();
    if (m.parallel() || count < kOverlapBytes) {
      // One (collective) read, then the checksum.
      read = read && select(file_space.get(), memory_space, s.offset, count) &&
             H5Dread(s.dataset.get(), H5T_NATIVE_UCHAR, memory_space.get(), file_space.get(),
                     m.dxpl.get(), target) >= 0;
      if (read) crc = detail::crc32c(target, s.bytes);
    } else {
      // Serial and large: read in pieces while a helper thread checksums the pieces already in.
      PipelinedChecksum checksum(target, s.bytes);
      for (hsize_t done = 0; read && done < count; done += kReadPiece) {
        const hsize_t piece = std::min<hsize_t>(kReadPiece, count - done);
        read = select(file_space.get(), memory_space, s.offset + done, piece) &&
               H5Dread(s.dataset.get(), H5T_NATIVE_UCHAR, memory_space.get(), file_space.get(),
                       m.dxpl.get(), target + done) >= 0;
        if (read) checksum.ready(static_cast<std::size_t>(done + piece));
      }
      crc = checksum.finish();
    }
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
  QuietHdf5Errors quiet;
  Impl& m = *impl_;
  Impl::Slot& s = m.slots[checked_slot(slot, slots_)];
  if (s.step >= 0) --occupied_;
  s.step = -1;
  const std::int64_t empty = -1;
  if (s.step_attribute.valid() && H5Awrite(s.step_attribute.get(), H5T_NATIVE_INT64, &empty) < 0) {
    m.fail(slot, "cannot mark the slot empty (" + hdf5_cause() + ")");
  }
}

}  // namespace cairn
