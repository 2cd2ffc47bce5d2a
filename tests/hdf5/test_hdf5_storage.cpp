#include <catch2/catch.hpp>

#include <fcntl.h>
#include <hdf5.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/async_storage.hpp"
#include "cairn/hdf5_storage.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/state_adapter.hpp"
#include "hdf5/crc32c.hpp"
#include "scratch_dirs.hpp"

namespace fs = std::filesystem;
using cairn::Hdf5Storage;
using cairn::Hdf5StorageError;
using cairn::Hdf5StorageOptions;
using Bytes = std::vector<unsigned char>;
using cairn_test::ScopedTmpdir;
using cairn_test::TempDir;

namespace {

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<unsigned char>(engine() >> 56);
  return b;
}

Bytes restored(cairn::Storage& storage, std::int64_t slot, std::int64_t step, std::size_t n) {
  Bytes b(n, 0xA5);
  storage.restore(slot, step, cairn::reader_for(b));
  return b;
}

/// A 1 MiB tmpfs mounted at `where` (created) while alive, with `flags` (e.g. MS_RDONLY).
/// mounted() is false where mounting is not permitted (it needs root, CAP_SYS_ADMIN); why() says
/// why.
struct ScopedTmpfs {
  fs::path where;
  bool ok = false;
  std::string error;
  ScopedTmpfs(const fs::path& mount_point, unsigned long flags) : where(mount_point) {
    fs::create_directory(where);
    ok = ::mount("tmpfs", where.c_str(), "tmpfs", flags, "size=1m") == 0;
    if (!ok) error = std::strerror(errno);
  }
  ~ScopedTmpfs() {
    if (ok) ::umount2(where.c_str(), MNT_DETACH);
  }
  bool mounted() const { return ok; }
  const std::string& why() const { return error; }
};

/// An HDF5 identifier closed at scope exit (the test's own reads of the file).
struct Id {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Id() {
    if (id >= 0) close(id);
  }
};

/// Options for a serial storage whose file keeps its name while it lives (unlink_while_open off),
/// for tests that change the file behind the storage's back.
Hdf5StorageOptions named() {
  Hdf5StorageOptions options;
  options.unlink_while_open = false;
  return options;
}

/// A file access list without HDF5's file locking: a live Hdf5Storage holds an exclusive lock on
/// its file, and the tests peek at the file behind its back.
hid_t unlocked_access() {
  static const hid_t fapl = [] {
    const hid_t id = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_file_locking(id, false, true);
    return id;
  }();
  return fapl;
}

/// All of a dataset (a table), as `type`.
template <typename T>
std::vector<T> read_dataset(hid_t file, const char* name, hid_t type) {
  Id dataset{H5Dopen2(file, name, H5P_DEFAULT), H5Dclose};
  REQUIRE(dataset.id >= 0);
  Id space{H5Dget_space(dataset.id), H5Sclose};
  std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.id)));
  REQUIRE(H5Dread(dataset.id, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  return values;
}

template <typename T>
std::vector<T> read_array_attribute(hid_t object, const char* name, hid_t type) {
  Id a{H5Aopen(object, name, H5P_DEFAULT), H5Aclose};
  REQUIRE(a.id >= 0);
  Id space{H5Aget_space(a.id), H5Sclose};
  const auto n = H5Sget_simple_extent_npoints(space.id);
  REQUIRE(n >= 1);
  std::vector<T> values(static_cast<std::size_t>(n));
  REQUIRE(H5Aread(a.id, type, values.data()) >= 0);
  return values;
}

/// File offset of the data of /slots/<slot> (the storage's file must be flushed, as it is after
/// every store).
std::uint64_t data_offset(const std::string& path, std::int64_t slot) {
  Id file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, unlocked_access()), H5Fclose};
  REQUIRE(file.id >= 0);
  Id dataset{H5Dopen2(file.id, ("/slots/" + std::to_string(slot)).c_str(), H5P_DEFAULT), H5Dclose};
  REQUIRE(dataset.id >= 0);
  const haddr_t offset = H5Dget_offset(dataset.id);
  REQUIRE(offset != HADDR_UNDEF);
  return offset;
}

void flip_byte(const std::string& path, std::uint64_t offset) {
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  unsigned char byte = 0;
  REQUIRE(::pread(fd, &byte, 1, static_cast<off_t>(offset)) == 1);
  byte = static_cast<unsigned char>(byte ^ 0x10);
  REQUIRE(::pwrite(fd, &byte, 1, static_cast<off_t>(offset)) == 1);
  ::close(fd);
}

/// Open HDF5 files, and objects of every kind (datasets, groups, attributes, datatypes) in them.
std::int64_t open_hdf5_objects() {
  return static_cast<std::int64_t>(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL));
}

}  // namespace

TEST_CASE("CRC-32C gives the standard check values", "[hdf5]") {
  using cairn::detail::crc32c;
  using cairn::detail::crc32c_portable;
  REQUIRE(crc32c("123456789", 9) == 0xE3069283U);
  REQUIRE(crc32c_portable("123456789", 9) == 0xE3069283U);
  const Bytes zeros(32, 0x00);
  const Bytes ones(32, 0xFF);
  REQUIRE(crc32c_portable(zeros.data(), 32) == 0x8A9136AAU);  // RFC 3720, B.4
  REQUIRE(crc32c_portable(ones.data(), 32) == 0x62A8AB43U);
  REQUIRE(crc32c(nullptr, 0) == 0);
  const Bytes data = random_bytes(300, 3);
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t n = 0; start + n <= data.size(); n += 7) {
      const std::uint32_t whole = crc32c_portable(data.data() + start, n);
      REQUIRE(crc32c(data.data() + start, n) == whole);
      const std::size_t half = n / 3;
      REQUIRE(crc32c(data.data() + start + half, n - half, crc32c(data.data() + start, half)) ==
              whole);
    }
  }
}

TEST_CASE("Hdf5Storage round-trips states bitwise from 0 bytes to 24 MiB", "[hdf5]") {
  const std::size_t large = (std::size_t{24} << 20) + 5;
  Hdf5Storage storage(3, large);
  REQUIRE(storage.slots() == 3);
  REQUIRE(storage.slot_bytes() == large);
  REQUIRE(std::string(storage.name()) == "hdf5");
  REQUIRE_FALSE(fs::exists(storage.path()));  // serially the name goes at once by default
  const std::size_t sizes[] = {0, 1, 7, 8, 9, 4099, 65536, 1000003, large};
  std::int64_t step = 0;
  for (const std::size_t n : sizes) {
    const std::int64_t slot = step % 3;
    const Bytes x = random_bytes(n, static_cast<std::uint64_t>(n) + 17);
    storage.store(slot, step, cairn::writer_for(x));
    REQUIRE(storage.held_step(slot) == step);
    REQUIRE(restored(storage, slot, step, n) == x);
    ++step;
  }
  REQUIRE(storage.occupied() == 3);
  // Earlier slots still hold theirs: steps 6, 7, 8 are in slots 0, 1, 2.
  REQUIRE(restored(storage, 0, 6, sizes[6]) == random_bytes(sizes[6], sizes[6] + 17));
  REQUIRE(restored(storage, 1, 7, sizes[7]) == random_bytes(sizes[7], sizes[7] + 17));

  // Doubles through store_array-like adapters too.
  const std::vector<double> d{1.0, -0.0, 3e300, 5e-324};
  storage.store(2, 40, cairn::writer_for(d));
  std::vector<double> back(4, 0.0);
  storage.restore(2, 40, cairn::reader_for(back));
  REQUIRE(std::memcmp(back.data(), d.data(), sizeof(double) * 4) == 0);
}

TEST_CASE("Hdf5Storage stores contiguous states in place and others through its buffer", "[hdf5]") {
  // A vector offers its memory (StateWriter::contiguous); a writer without it is copied through
  // the staging buffer. Both must give the same file contents and the same checkpoint back.
  const std::size_t n = (std::size_t{3} << 20) + 11;  // above the helper-thread checksum size
  const Bytes x = random_bytes(n, 99);
  const cairn::StateWriter direct = cairn::writer_for(x);
  REQUIRE(direct.contiguous == x.data());
  cairn::StateWriter copied = direct;
  copied.contiguous = nullptr;
  int copies = 0;
  struct Context {
    const Bytes* state;
    int* copies;
  } context{&x, &copies};
  copied.context = &context;
  copied.write = [](const void* c, void* destination) {
    const auto& ctx = *static_cast<const Context*>(c);
    std::memcpy(destination, ctx.state->data(), ctx.state->size());
    ++*ctx.copies;
  };
  Hdf5Storage storage(2, n);
  storage.store(0, 5, direct);
  storage.store(1, 6, copied);
  REQUIRE(copies == 1);
  REQUIRE(restored(storage, 0, 5, n) == x);
  REQUIRE(restored(storage, 1, 6, n) == x);
}

TEST_CASE("Hdf5Storage reads straight into a scratch state and still checks it", "[hdf5]") {
  // A reader that declares its state scratch (StateReader::scratch_block, as the driver's does)
  // gets the bytes without the staging copy; the checksum is still verified.
  const std::size_t n = (std::size_t{3} << 20) + 3;
  const Bytes x = random_bytes(n, 7);
  Hdf5Storage storage(1, n);
  storage.store(0, 2, cairn::writer_for(x));
  Bytes into(n, 0);
  cairn::StateReader scratch = cairn::reader_for(into);
  REQUIRE(scratch.scratch_block == nullptr);  // reader_for keeps the verified-copy guarantee
  scratch.scratch_block = cairn::scratch_block_function<Bytes>();
  int copies = 0;
  struct Context {
    Bytes* state;
    int* copies;
  } context{&into, &copies};
  scratch.context = &context;
  scratch.read = [](void* c, const void* source, std::size_t bytes) {
    auto& ctx = *static_cast<Context*>(c);
    std::memcpy(ctx.state->data(), source, bytes);
    ++*ctx.copies;
  };
  scratch.scratch_block = [](void* c, std::size_t bytes) -> void* {
    auto& ctx = *static_cast<Context*>(c);
    REQUIRE(bytes == ctx.state->size());
    return ctx.state->data();
  };
  storage.restore(0, 2, scratch);
  REQUIRE(copies == 0);
  REQUIRE(into == x);
  // A wrong size is refused by the block function before anything is read.
  Bytes small(10, 0);
  cairn::StateReader too_small = cairn::reader_for(small);
  too_small.scratch_block = cairn::scratch_block_function<Bytes>();
  REQUIRE_THROWS_AS(storage.restore(0, 2, too_small), std::invalid_argument);
  REQUIRE(storage.held_step(0) == 2);
}

TEST_CASE("Hdf5Storage overwrites a slot in place and keeps the count", "[hdf5]") {
  Hdf5Storage storage(2, 4096, named());
  const Bytes a = random_bytes(4096, 1);
  const Bytes b = random_bytes(1000, 2);
  storage.store(0, 1, cairn::writer_for(a));
  storage.store(1, 2, cairn::writer_for(a));
  const auto size_after_first = fs::file_size(storage.path());
  storage.store(0, 3, cairn::writer_for(b));
  REQUIRE(storage.occupied() == 2);
  REQUIRE(storage.held_step(0) == 3);
  REQUIRE(restored(storage, 0, 3, b.size()) == b);
  REQUIRE_THROWS_AS(restored(storage, 0, 1, a.size()), std::logic_error);
  for (int i = 0; i < 20; ++i) storage.store(0, 10 + i, cairn::writer_for(a));
  REQUIRE(fs::file_size(storage.path()) == size_after_first);  // space reused
  REQUIRE(restored(storage, 1, 2, a.size()) == a);
  storage.free(1);
  REQUIRE(storage.occupied() == 1);
  REQUIRE(storage.held_step(1) == -1);
  // An empty slot holds -1: "x_-1" is no state to store or to restore from it.
  REQUIRE_THROWS_WITH(restored(storage, 1, -1, a.size()),
                      Catch::Contains("step -1 names no state"));
  REQUIRE_THROWS_AS(storage.store(1, -1, cairn::writer_for(a)), std::invalid_argument);
  REQUIRE(storage.occupied() == 1);
}

TEST_CASE("Hdf5Storage keeps the Storage contract", "[hdf5]") {
  Hdf5Storage storage(2, 16);
  const std::vector<double> big(3, 1.0);
  REQUIRE_THROWS_AS(storage.store(0, 0, cairn::writer_for(big)), std::invalid_argument);
  REQUIRE_THROWS_WITH(storage.store(0, 0, cairn::writer_for(big)),
                      Catch::Contains("24 bytes does not fit a slot of 16 bytes"));
  REQUIRE_THROWS_AS(storage.store(2, 0, cairn::writer_for(std::vector<double>(1))),
                    std::out_of_range);
  REQUIRE_THROWS_WITH(storage.store(-1, 0, cairn::writer_for(std::vector<double>(1))),
                      Catch::Contains("slot -1 does not exist; slots are 0..1"));
  REQUIRE_THROWS_AS(storage.held_step(5), std::out_of_range);
  REQUIRE_THROWS_AS(storage.free(2), std::out_of_range);
  std::vector<double> x(2, 0.0);
  REQUIRE_THROWS_AS(storage.restore(0, 3, cairn::reader_for(x)), std::logic_error);
  REQUIRE_THROWS_WITH(storage.restore(0, 3, cairn::reader_for(x)),
                      Catch::Contains("slot 0 holds nothing, not x_3"));
  storage.store(0, 4, cairn::writer_for(std::vector<double>{1.0, 2.0}));
  REQUIRE_THROWS_WITH(storage.restore(0, 3, cairn::reader_for(x)),
                      Catch::Contains("slot 0 holds x_4, not x_3"));
  // Too large leaves the slot's checkpoint as it was.
  REQUIRE_THROWS_AS(storage.store(0, 5, cairn::writer_for(big)), std::invalid_argument);
  REQUIRE(storage.held_step(0) == 4);
  std::vector<double> wrong_size(1, 0.0);
  REQUIRE_THROWS_WITH(storage.restore(0, 4, cairn::reader_for(wrong_size)),
                      Catch::Contains("16 bytes cannot be restored into a state of 8 bytes"));
  // A failing copy of the user's state leaves the slot empty and the other slot intact.
  storage.store(1, 9, cairn::writer_for(std::vector<double>{3.0}));
  const cairn::StateWriter failing{
      [](const void*, void*) { throw std::runtime_error("copy failed"); }, nullptr, 8};
  REQUIRE_THROWS_WITH(storage.store(0, 6, failing), "copy failed");
  REQUIRE(storage.held_step(0) == -1);
  REQUIRE(storage.occupied() == 1);
  std::vector<double> y(1, 0.0);
  storage.restore(1, 9, cairn::reader_for(y));
  REQUIRE(y[0] == 3.0);

  REQUIRE_THROWS_AS(Hdf5Storage(-1, 8), std::invalid_argument);
  Hdf5Storage none(0, 8);  // T = 1 needs no slot
  REQUIRE(none.slots() == 0);
}

TEST_CASE("Hdf5Storage records step, size and checksum of every slot in its tables", "[hdf5]") {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const Bytes a = random_bytes(5000, 11);
  const Bytes b = random_bytes(123, 12);
  const std::uint32_t crc_a = cairn::detail::crc32c(a.data(), a.size());
  const std::uint32_t crc_b = cairn::detail::crc32c(b.data(), b.size());
  Hdf5StorageOptions options;
  options.path = path;
  options.keep_file = true;
  {
    Hdf5Storage storage(4, 8192, options);
    REQUIRE(storage.path() == path);
    storage.store(0, 7, cairn::writer_for(a));
    storage.store(1, 8, cairn::writer_for(b));
    storage.store(2, 9, cairn::writer_for(b));
    storage.free(2);
    // The tables are up to date after every store, while the storage lives (as after a crash).
    Id live{H5Fopen(path.c_str(), H5F_ACC_RDONLY, unlocked_access()), H5Fclose};
    REQUIRE(live.id >= 0);
    REQUIRE(read_dataset<std::int64_t>(live.id, "/step", H5T_NATIVE_INT64) ==
            std::vector<std::int64_t>{7, 8, -1, -1});  // slot 2 was freed, slot 3 never used
  }
  REQUIRE(fs::exists(path));
  Id file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  REQUIRE(file.id >= 0);
  REQUIRE(read_array_attribute<std::int64_t>(file.id, "slots", H5T_NATIVE_INT64) ==
          std::vector<std::int64_t>{4});
  REQUIRE(read_array_attribute<std::uint64_t>(file.id, "slot_bytes", H5T_NATIVE_UINT64) ==
          std::vector<std::uint64_t>{8192});
  REQUIRE(read_array_attribute<int>(file.id, "ranks", H5T_NATIVE_INT) == std::vector<int>{1});
  REQUIRE(read_dataset<std::int64_t>(file.id, "/step", H5T_NATIVE_INT64) ==
          std::vector<std::int64_t>{7, 8, -1, -1});
  REQUIRE(read_dataset<std::uint64_t>(file.id, "/bytes", H5T_NATIVE_UINT64) ==
          std::vector<std::uint64_t>{a.size(), b.size(), b.size(), 0});
  REQUIRE(read_dataset<std::uint32_t>(file.id, "/crc32c", H5T_NATIVE_UINT32) ==
          std::vector<std::uint32_t>{crc_a, crc_b, crc_b, 0});
  const Bytes* expected[] = {&a, &b, &b};
  for (int slot = 0; slot < 3; ++slot) {
    Id dataset{H5Dopen2(file.id, ("/slots/" + std::to_string(slot)).c_str(), H5P_DEFAULT),
               H5Dclose};
    REQUIRE(dataset.id >= 0);
    const Bytes& x = *expected[slot];
    // The data themselves, read through HDF5: the first `bytes` bytes of the dataset.
    Bytes data(8192);
    REQUIRE(H5Dread(dataset.id, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) >= 0);
    REQUIRE(Bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(x.size())) == x);
  }
}

TEST_CASE("Hdf5Storage removes its file at destruction unless keep_file", "[hdf5]") {
  TempDir dir;
  const ScopedTmpdir tmpdir(dir.path);
  std::string path;
  {
    // The default: a temporary file whose name is gone once the constructor returns.
    Hdf5Storage storage(2, 64);
    path = storage.path();
    REQUIRE(fs::path(path).parent_path() == dir.path);
    REQUIRE(fs::path(path).filename().string().rfind("cairn-checkpoints-", 0) == 0);
    storage.store(0, 0, cairn::writer_for(random_bytes(64, 1)));
    REQUIRE_FALSE(fs::exists(path));
    REQUIRE(dir.entries() == 0);
  }
  {
    Hdf5Storage storage(2, 64, named());
    path = storage.path();
    storage.store(0, 0, cairn::writer_for(random_bytes(64, 1)));
    REQUIRE(fs::exists(path));
  }
  REQUIRE_FALSE(fs::exists(path));
  REQUIRE(dir.entries() == 0);

  // Two storages at once get two files.
  {
    Hdf5Storage one(1, 8, named());
    Hdf5Storage two(1, 8, named());
    REQUIRE(one.path() != two.path());
    REQUIRE(dir.entries() == 2);
  }
  REQUIRE(dir.entries() == 0);

  Hdf5StorageOptions keep;
  keep.keep_file = true;
  {
    Hdf5Storage storage(2, 64, keep);
    path = storage.path();
  }
  REQUIRE(fs::exists(path));
  fs::remove(path);

  // A user's path is removed too, and an existing file is not taken over unless asked.
  Hdf5StorageOptions options;
  options.path = dir.file("mine.h5");
  { Hdf5Storage storage(1, 8, options); }
  REQUIRE_FALSE(fs::exists(options.path));
  {
    std::FILE* f = std::fopen(options.path.c_str(), "w");
    std::fclose(f);
  }
  try {
    Hdf5Storage storage(1, 8, options);
    FAIL("an existing file was taken over");
  } catch (const Hdf5StorageError& e) {
    REQUIRE_THAT(e.what(), Catch::Contains(options.path) && Catch::Contains("exists already"));
    REQUIRE(e.path() == options.path);
    REQUIRE(e.slot() == -1);
  }
  REQUIRE(fs::exists(options.path));  // not ours: left alone
  options.overwrite = true;
  { Hdf5Storage storage(1, 8, options); }
  REQUIRE_FALSE(fs::exists(options.path));
}

TEST_CASE("Hdf5Storage with unlink_while_open works on a file that has no name", "[hdf5]") {
  TempDir dir;
  const ScopedTmpdir tmpdir(dir.path);
  Hdf5StorageOptions options;
  options.unlink_while_open = true;
  std::string path;
  {
    Hdf5Storage storage(3, 4096, options);
    path = storage.path();
    REQUIRE_FALSE(fs::exists(path));  // gone at once: a killed process leaves nothing behind
    REQUIRE(dir.entries() == 0);
    const auto a = random_bytes(4096, 7);
    const auto b = random_bytes(1000, 8);
    storage.store(0, 0, cairn::writer_for(a));
    storage.store(2, 5, cairn::writer_for(b));
    std::vector<unsigned char> back(4096);
    storage.restore(0, 0, cairn::reader_for(back));
    REQUIRE(back == a);
    back.assign(1000, 0);
    storage.restore(2, 5, cairn::reader_for(back));
    REQUIRE(back == b);
    // A new file may take the old name meanwhile: the destructor must not remove it.
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fclose(f);
  }
  REQUIRE(fs::exists(path));
  fs::remove(path);

  // keep_file wins: the file keeps its name.
  options.keep_file = true;
  {
    Hdf5Storage storage(1, 8, options);
    path = storage.path();
    REQUIRE(fs::exists(path));
  }
  REQUIRE(fs::exists(path));
  fs::remove(path);
}

TEST_CASE("Hdf5Storage says which path it cannot write and why", "[hdf5]") {
  TempDir dir;
  Hdf5StorageOptions options;
  options.path = dir.file("no-such-directory/run.h5");
  REQUIRE_THROWS_AS(Hdf5Storage(2, 8, options), Hdf5StorageError);
  REQUIRE_THROWS_WITH(
      Hdf5Storage(2, 8, options),
      Catch::Contains("file '" + options.path + "'") && Catch::Contains("cannot create") &&
          Catch::Contains("'" + dir.file("no-such-directory") + "' does not exist"));
  options.path = dir.path.string();  // a directory
  REQUIRE_THROWS_WITH(Hdf5Storage(2, 8, options),
                      Catch::Contains(options.path) && Catch::Contains("exists already"));
  options.overwrite = true;
  REQUIRE_THROWS_WITH(Hdf5Storage(2, 8, options),
                      Catch::Contains(options.path) && Catch::Contains("it is a directory"));
  if (::geteuid() != 0) {  // root may write anywhere
    const fs::path locked = dir.path / "locked";
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    options.path = (locked / "run.h5").string();
    REQUIRE_THROWS_WITH(Hdf5Storage(2, 8, options),
                        Catch::Contains(options.path) && Catch::Contains("no permission"));
    fs::permissions(locked, fs::perms::owner_all);
  }
  REQUIRE(dir.entries() == 0);
}

TEST_CASE("Hdf5Storage detects bytes changed behind its back by their checksum", "[hdf5]") {
  TempDir dir;
  const ScopedTmpdir tmpdir(dir.path);
  Hdf5Storage storage(2, 1 << 18, named());
  const Bytes a = random_bytes(1 << 18, 5);
  const Bytes b = random_bytes(1 << 17, 6);
  storage.store(0, 3, cairn::writer_for(a));
  storage.store(1, 4, cairn::writer_for(b));
  flip_byte(storage.path(), data_offset(storage.path(), 1) + 1000);

  Bytes user(b.size(), 0x5A);
  const Bytes user_before = user;
  try {
    storage.restore(1, 4, cairn::reader_for(user));
    FAIL("a changed checkpoint was restored");
  } catch (const Hdf5StorageError& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("file '" + storage.path() + "'") &&
                               Catch::Contains("slot 1") && Catch::Contains("checksum mismatch") &&
                               Catch::Contains("x_4"));
    REQUIRE(e.slot() == 1);
  }
  REQUIRE(user == user_before);                     // the user's state is untouched
  REQUIRE(restored(storage, 0, 3, a.size()) == a);  // the other slot is fine
  storage.store(1, 5, cairn::writer_for(b));        // and the slot can be used again
  REQUIRE(restored(storage, 1, 5, b.size()) == b);
}

TEST_CASE("Hdf5Storage reports a file truncated behind its back", "[hdf5]") {
  TempDir dir;
  const ScopedTmpdir tmpdir(dir.path);
  {
    Hdf5Storage storage(2, 1 << 16, named());
    const Bytes a = random_bytes(1 << 16, 7);
    storage.store(0, 1, cairn::writer_for(a));
    storage.store(1, 2, cairn::writer_for(a));
    REQUIRE(::truncate(storage.path().c_str(), 4096) == 0);
    Bytes user(a.size(), 0);
    REQUIRE_THROWS_WITH(storage.restore(1, 2, cairn::reader_for(user)),
                        Catch::Contains("file '" + storage.path() + "'") &&
                            Catch::Contains("slot 1") && Catch::Contains("truncated") &&
                            Catch::Contains("it has 4096 bytes"));
    REQUIRE(user == Bytes(a.size(), 0));
  }
  REQUIRE(dir.entries() == 0);  // removed all the same
}

namespace {

/// Slots 0 and 2 (and 1 if `overwrite`) of `storage` (3 slots of n bytes) hold states, a separate
/// MemoryStorage holds one; `fail_store` must make the store of x_9 into slot 1 throw. Checks that
/// the error is clear and that nothing else was harmed.
void check_failed_store_harms_nothing(Hdf5Storage& storage, std::size_t n, bool overwrite,
                                      const std::function<void()>& fail_store, const char* cause) {
  const Bytes a = random_bytes(n, 21);
  const Bytes b = random_bytes(n, 22);
  cairn::MemoryStorage ram(1, n);
  ram.store(0, 5, cairn::writer_for(a));
  storage.store(0, 7, cairn::writer_for(a));
  storage.store(2, 8, cairn::writer_for(b));
  if (overwrite) storage.store(1, 6, cairn::writer_for(b));
  try {
    fail_store();
    FAIL("the store did not fail");
  } catch (const Hdf5StorageError& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("file '" + storage.path() + "'") &&
                               Catch::Contains("slot 1") && Catch::Contains("cannot write x_9") &&
                               Catch::Contains(cause));
    REQUIRE(e.slot() == 1);
  }
  REQUIRE(storage.held_step(1) == -1);
  REQUIRE(storage.occupied() == 2);
  REQUIRE(restored(storage, 0, 7, n) == a);
  REQUIRE(restored(storage, 2, 8, n) == b);
  REQUIRE(restored(ram, 0, 5, n) == a);
}

}  // namespace

TEST_CASE("Hdf5Storage: a write failure (injected) leaves that slot empty and all else intact",
          "[hdf5]") {
  TempDir dir;
  const ScopedTmpdir tmpdir(dir.path);
  bool disk_full = false;
  Hdf5StorageOptions options;
  options.before_write = [&](std::int64_t slot) {
    if (disk_full && slot == 1) throw std::runtime_error("No space left on device (injected)");
  };
  {
    const std::size_t n = 100000;
    Hdf5Storage storage(3, n, options);
    const Bytes user = random_bytes(n, 99);
    const Bytes user_before = user;
    check_failed_store_harms_nothing(
        storage, n, true,
        [&] {
          disk_full = true;
          storage.store(1, 9, cairn::writer_for(user));
        },
        "No space left on device (injected)");
    REQUIRE(user == user_before);
    disk_full = false;  // space again: the slot works
    storage.store(1, 10, cairn::writer_for(user));
    REQUIRE(restored(storage, 1, 10, n) == user);
  }
  REQUIRE(dir.entries() == 0);
}

TEST_CASE("AsyncStorage over Hdf5Storage: a background write failure names file and slot",
          "[hdf5]") {
  // The failing write runs on the I/O thread after store() has returned; it surfaces at the next
  // call with the file and the slot in the message, the other slots keep their checkpoints, and
  // the user's state was never touched.
  TempDir dir;
  const ScopedTmpdir tmpdir(dir.path);
  Hdf5StorageOptions options;
  options.before_write = [](std::int64_t slot) {
    if (slot == 1) throw std::runtime_error("No space left on device (injected)");
  };
  {
    const std::size_t n = 50000;
    Hdf5Storage disk(3, n, options);
    const std::string path = disk.path();
    cairn::AsyncStorage storage(disk);
    const Bytes zero = random_bytes(n, 1);
    const Bytes one = random_bytes(n, 2);
    const Bytes one_before = one;
    storage.store(0, 4, cairn::writer_for(zero));
    storage.store(1, 8, cairn::writer_for(one));  // returns: the write is queued
    std::string message;
    try {
      storage.flush();
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    INFO(message);
    REQUIRE(message.find(path) != std::string::npos);
    REQUIRE(message.find("slot 1") != std::string::npos);
    REQUIRE(message.find("No space left on device (injected)") != std::string::npos);
    REQUIRE(storage.held_step(1) == -1);
    REQUIRE(one == one_before);
    Bytes back(n, 0);
    storage.restore(0, 4, cairn::reader_for(back));
    REQUIRE(back == zero);
  }
  REQUIRE(dir.entries() == 0);
}

TEST_CASE("Hdf5Storage: a read-only file system gives a clear error even to root", "[hdf5]") {
  // Permissions do not stop root; a read-only mount does.
  TempDir dir;
  const ScopedTmpfs tmpfs(dir.path / "readonly", MS_RDONLY);
  if (!tmpfs.mounted()) {
    WARN("skipped: cannot mount a read-only tmpfs here (" << tmpfs.why()
                                                          << "); needs root (CAP_SYS_ADMIN)");
    return;
  }
  const fs::path& mount_point = tmpfs.where;
  Hdf5StorageOptions options;
  options.path = (mount_point / "run.h5").string();
  try {
    Hdf5Storage storage(2, 64, options);
    FAIL("a checkpoint file was created on a read-only file system");
  } catch (const Hdf5StorageError& e) {
    INFO(e.what());
    CHECK(e.path() == options.path);
    CHECK(std::string(e.what()).find(options.path) != std::string::npos);
    CHECK(std::string(e.what()).find("Read-only file system") != std::string::npos);
  }
  REQUIRE(fs::is_empty(mount_point));
}

TEST_CASE("Hdf5Storage: a full file system (1 MiB tmpfs) gives a clear error", "[hdf5]") {
  TempDir dir;
  const ScopedTmpfs tmpfs(dir.path / "small", 0);
  if (!tmpfs.mounted()) {
    WARN("skipped: cannot mount a 1 MiB tmpfs here (" << tmpfs.why()
                                                      << "); needs root (CAP_SYS_ADMIN)");
    return;
  }
  const fs::path& mount_point = tmpfs.where;
  {
    const std::size_t n = 400 * 1024;  // two fit in 1 MiB, a third does not
    Hdf5StorageOptions options;
    options.path = (mount_point / "run.h5").string();
    Hdf5Storage storage(3, n, options);
    const Bytes user = random_bytes(n, 98);
    const Bytes user_before = user;
    check_failed_store_harms_nothing(
        storage, n, false, [&] { storage.store(1, 9, cairn::writer_for(user)); },
        "No space left on device");
    REQUIRE(user == user_before);
  }
  REQUIRE(fs::is_empty(mount_point));  // the file was removed after the failure
}

TEST_CASE("Hdf5Storage leaves no HDF5 object open and no file behind", "[hdf5]") {
  TempDir dir;
  const ScopedTmpdir tmpdir(dir.path);
  const auto before = open_hdf5_objects();
  REQUIRE(before == 0);
  {
    Hdf5Storage storage(3, 4096);
    const Bytes a = random_bytes(4096, 1);
    storage.store(0, 0, cairn::writer_for(a));
    storage.store(1, 1, cairn::writer_for(a));
    storage.free(0);
    REQUIRE(restored(storage, 1, 1, a.size()) == a);
    // Serially the file is closed in HDF5 once laid out: store and restore never call HDF5.
    REQUIRE(open_hdf5_objects() == before);
  }
  REQUIRE(open_hdf5_objects() == before);
  {  // after failures as well
    Hdf5StorageOptions options;
    options.before_write = [](std::int64_t) { throw std::runtime_error("injected"); };
    Hdf5Storage storage(1, 64, options);
    REQUIRE_THROWS_AS(storage.store(0, 0, cairn::writer_for(random_bytes(64, 1))),
                      Hdf5StorageError);
  }
  {
    Hdf5Storage storage(1, 1 << 16, named());
    storage.store(0, 0, cairn::writer_for(random_bytes(1 << 16, 1)));
    REQUIRE(::truncate(storage.path().c_str(), 100) == 0);
    Bytes x(1 << 16);
    REQUIRE_THROWS_AS(storage.restore(0, 0, cairn::reader_for(x)), Hdf5StorageError);
  }
  Hdf5StorageOptions bad;
  bad.path = dir.file("missing/run.h5");
  REQUIRE_THROWS_AS(Hdf5Storage(1, 8, bad), Hdf5StorageError);
  REQUIRE(open_hdf5_objects() == before);
  REQUIRE(dir.entries() == 0);
}
