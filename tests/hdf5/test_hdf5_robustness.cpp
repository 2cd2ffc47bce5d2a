// Hdf5Storage and AsyncStorage next to a program's own HDF5 use, next to other runs at the same
// path, and after a kill: what survives and what is left behind.
#include <catch2/catch.hpp>

#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cairn/async_storage.hpp"
#include "cairn/driver.hpp"
#include "cairn/hdf5_storage.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/state_adapter.hpp"
#include "scratch_dirs.hpp"

namespace fs = std::filesystem;
using cairn::Hdf5Storage;
using cairn::Hdf5StorageError;
using cairn::Hdf5StorageOptions;
using Bytes = std::vector<unsigned char>;
using cairn_test::ScopedTmpdir;
using cairn_test::TempDir;

namespace {

/// Deterministic bytes, different for every (seed, index).
Bytes pattern(std::size_t n, std::uint64_t seed, std::uint64_t index) {
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + index * 0xBF58476D1CE4E5B9ULL + 1;
  Bytes b(n);
  for (auto& byte : b) {
    x ^= x >> 31;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 29;
    byte = static_cast<unsigned char>(x >> 56);
  }
  return b;
}

/// What a solver does between steps: writes its own HDF5 snapshot, reads it back, and takes
/// HDF5's error path on purpose (errors silenced and restored, a file that does not exist) --
/// HDF5 calls that race with Cairn's if Cairn calls HDF5 from its worker thread. Returns an empty
/// string, or what went wrong (Catch2's assertions are not for threads).
std::string own_hdf5_snapshot(const std::string& path, const Bytes& data) {
  H5E_auto2_t handler = nullptr;
  void* handler_data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &handler, &handler_data);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t missing = H5Fopen((path + ".missing").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, handler, handler_data);
  if (missing >= 0) {
    H5Fclose(missing);
    return "opened a file that does not exist";
  }
  const hsize_t n = data.size();
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return "own H5Fcreate failed";
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t dataset =
      H5Dcreate2(file, "u", H5T_NATIVE_UCHAR, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const std::int64_t stamp = static_cast<std::int64_t>(data.size());
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const hid_t attribute =
      H5Acreate2(dataset, "n", H5T_NATIVE_INT64, scalar, H5P_DEFAULT, H5P_DEFAULT);
  const bool written =
      dataset >= 0 && attribute >= 0 &&
      H5Dwrite(dataset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) >= 0 &&
      H5Awrite(attribute, H5T_NATIVE_INT64, &stamp) >= 0;
  H5Aclose(attribute);
  H5Sclose(scalar);
  H5Dclose(dataset);
  H5Sclose(space);
  if (H5Fclose(file) < 0 || !written) return "own snapshot write failed";

  const hid_t again = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (again < 0) return "own H5Fopen failed";
  Bytes back(data.size(), 0);
  const hid_t read_set = H5Dopen2(again, "u", H5P_DEFAULT);
  const bool read = read_set >= 0 && H5Dread(read_set, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL,
                                             H5P_DEFAULT, back.data()) >= 0;
  H5Dclose(read_set);
  H5Fclose(again);
  if (!read) return "own snapshot read failed";
  if (back != data) return "own snapshot came back different";
  return "";
}

/// One run of stores, prefetches and restores through an AsyncStorage over an Hdf5Storage made
/// in the temporary directory, with an own HDF5 snapshot after every store (taking `snapshot_lock`
/// around it when given). Returns an empty string or the first difference or error.
std::string async_hdf5_level(const std::string& snapshot, std::uint64_t seed, int iterations,
                             std::recursive_mutex* snapshot_lock) {
  try {
    const std::size_t n = 24 * 1024 + 8 * static_cast<std::size_t>(seed);
    const std::int64_t slots = 4;
    Hdf5Storage disk(slots, n);
    cairn::AsyncStorage storage(disk, {2, 1});
    for (int i = 0; i < iterations; ++i) {
      const Bytes state = pattern(n - static_cast<std::size_t>(i % 7), seed, i);
      storage.store(i % slots, i, cairn::writer_for(state));  // the worker writes it from now on
      std::string own;
      if (snapshot_lock != nullptr) {
        const std::lock_guard<std::recursive_mutex> lock(*snapshot_lock);
        own = own_hdf5_snapshot(snapshot, state);
      } else {
        own = own_hdf5_snapshot(snapshot, state);
      }
      if (!own.empty()) return "iteration " + std::to_string(i) + ": " + own;
      if (i >= 2) {
        const int back = i - 2;  // written by the worker by now, or still being written
        storage.prefetch((back + 1) % slots, back + 1);
        const Bytes expected = pattern(n - static_cast<std::size_t>(back % 7), seed, back);
        Bytes got(expected.size(), 0);
        storage.restore(back % slots, back, cairn::reader_for(got));
        if (got != expected) return "x_" + std::to_string(back) + " came back different";
      }
    }
    storage.flush();
    for (int i = iterations - static_cast<int>(slots); i < iterations; ++i) {
      const Bytes expected = pattern(n - static_cast<std::size_t>(i % 7), seed, i);
      Bytes got(expected.size(), 0);
      disk.restore(i % slots, i, cairn::reader_for(got));  // straight from the file, bypassing
      if (got != expected) return "x_" + std::to_string(i) + " differs in the file";
    }
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::recursive_mutex& program_hdf5_lock() {
  return cairn::hdf5_mutex();
}

// ---- a multilevel run whose step writes an HDF5 snapshot, as solvers do ----

using State = std::vector<double>;
constexpr double kH = 0.05;

void step_state(State& x) {
  const State old = x;
  const std::size_t n = x.size();
  for (std::size_t j = 0; j < n; ++j) x[j] = old[j] + kH * std::sin(old[(j + 1) % n]);
}

void adjoint_state(const State& x, State& lambda) {
  const State old = lambda;
  const std::size_t n = x.size();
  for (std::size_t m = 0; m < n; ++m) {
    lambda[m] = old[m] + old[(m + n - 1) % n] * kH * std::cos(x[m]);
  }
}

State gradient_of(cairn::Schedule& schedule, std::vector<cairn::Storage*> levels,
                  const std::string& snapshot) {
  cairn::Driver<State> driver(
      schedule, std::move(levels),
      [&](std::int64_t, State& x) {
        step_state(x);
        if (!snapshot.empty()) {
          Bytes bytes(x.size() * sizeof(double));
          std::memcpy(bytes.data(), x.data(), bytes.size());
          const std::string own = own_hdf5_snapshot(snapshot, bytes);
          if (!own.empty()) throw std::runtime_error("step callback: " + own);
        }
      },
      [](std::int64_t, const State& x, State& lambda) { adjoint_state(x, lambda); });
  State x0(200);
  for (std::size_t j = 0; j < x0.size(); ++j) x0[j] = std::sin(0.1 * static_cast<double>(j));
  return driver.run(x0, [](const State& xT) { return xT; });
}

/// Reads until end of file.
std::string read_all(int fd) {
  std::string text;
  char buffer[256];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return text;
    text.append(buffer, static_cast<std::size_t>(got));
  }
}

void write_text(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t put = ::write(fd, text.data() + done, text.size() - done);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return;
    done += static_cast<std::size_t>(put);
  }
}

}  // namespace

TEST_CASE("Hdf5Storage behind AsyncStorage survives the program's own HDF5 calls", "[hdf5]") {
  // The worker stores and reads while this thread writes, reads and fails HDF5 calls of its own,
  // without any lock: a serial Hdf5Storage makes no HDF5 call after its constructor.
  TempDir dir("cairn-hdf5-robust");
  const ScopedTmpdir tmpdir(dir.path);
  const std::string own = async_hdf5_level(dir.file("solver-snapshot.h5"), 1, 600, nullptr);
  INFO(own);
  REQUIRE(own.empty());
  REQUIRE(dir.entries() == 1);  // the solver's snapshot only
}

TEST_CASE("Hdf5Storage: a multilevel run whose step writes its own HDF5 snapshot", "[hdf5]") {
  TempDir dir("cairn-hdf5-robust");
  const ScopedTmpdir tmpdir(dir.path);
  const std::int64_t T = 300;
  const std::size_t bytes = 200 * sizeof(double);
  cairn::MultilevelRevolve schedule(
      T, {cairn::StorageLevel{2, 0, 0}, cairn::StorageLevel{4, 0.5, 0.5}});
  cairn::MemoryStorage ram(2, bytes);
  cairn::MemoryStorage ram_disk(4, bytes);
  const State reference = gradient_of(schedule, {&ram, &ram_disk}, "");

  Hdf5Storage disk(4, bytes);
  cairn::AsyncStorage async(disk);
  for (int repeat = 0; repeat < 3; ++repeat) {
    const State gradient = gradient_of(schedule, {&ram, &async}, dir.file("snapshot.h5"));
    REQUIRE(gradient.size() == reference.size());
    REQUIRE(std::memcmp(gradient.data(), reference.data(), bytes) == 0);
  }
}

TEST_CASE("Hdf5Storage: two threads, each with its own AsyncStorage over Hdf5Storage", "[hdf5]") {
  // Constructors and destructors of both storages may overlap with the other thread's HDF5
  // snapshots, so the snapshots take cairn::hdf5_mutex(), as docs/storage.md asks.
  TempDir dir("cairn-hdf5-robust");
  const ScopedTmpdir tmpdir(dir.path);
  for (int round = 0; round < 3; ++round) {
    std::string first;
    std::string second;
    std::thread a([&] {
      first = async_hdf5_level(dir.file("a.h5"), 10 + static_cast<std::uint64_t>(round), 250,
                               &program_hdf5_lock());
    });
    std::thread b([&] {
      second = async_hdf5_level(dir.file("b.h5"), 20 + static_cast<std::uint64_t>(round), 250,
                                &program_hdf5_lock());
    });
    a.join();
    b.join();
    INFO("round " << round << ": " << first << " / " << second);
    REQUIRE(first.empty());
    REQUIRE(second.empty());
  }
  REQUIRE(dir.entries() == 2);  // the two snapshots; no checkpoint file is left
}

TEST_CASE("Hdf5Storage: the destructor removes only the file it created", "[hdf5]") {
  TempDir dir("cairn-hdf5-robust");
  const std::string path = dir.file("run.h5");
  for (const bool rename_it : {true, false}) {
    INFO((rename_it ? "renamed" : "removed") << " behind the first storage's back");
    Hdf5StorageOptions first_options;
    first_options.path = path;
    first_options.unlink_while_open = false;  // the name stays, so that there is one to confuse
    auto first = std::make_unique<Hdf5Storage>(2, 64, first_options);
    first->store(0, 0, cairn::writer_for(pattern(64, 1, 0)));
    if (rename_it) {
      fs::rename(path, dir.file("moved.h5"));
    } else {
      fs::remove(path);
    }
    Hdf5StorageOptions second_options;
    second_options.path = path;
    second_options.keep_file = true;
    {
      Hdf5Storage second(2, 64, second_options);
      second.store(1, 3, cairn::writer_for(pattern(64, 2, 3)));
    }
    REQUIRE(fs::exists(path));
    const auto size = fs::file_size(path);
    first.reset();  // must not remove the second storage's file
    REQUIRE(fs::exists(path));
    REQUIRE(fs::file_size(path) == size);
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(file >= 0);
    H5Fclose(file);
    fs::remove(path);
    if (rename_it) fs::remove(dir.file("moved.h5"));  // moved away: no longer the storage's own
  }
  REQUIRE(dir.entries() == 0);
}

TEST_CASE("Hdf5Storage: overwrite never truncates a file that a live storage holds", "[hdf5]") {
  TempDir dir("cairn-hdf5-robust");
  const std::string path = dir.file("live.h5");
  const std::size_t n = 4096;
  // The second run is another process, forked before the first storage exists so that it shares
  // no HDF5 state with it: it waits for the first storage, then tries to take over its file.
  int go[2];
  int result[2];
  REQUIRE(::pipe(go) == 0);
  REQUIRE(::pipe(result) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(go[1]);
    ::close(result[0]);
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) ::_exit(4);
    int status = 3;
    try {
      Hdf5StorageOptions options;
      options.path = path;
      options.overwrite = true;
      Hdf5Storage second(3, n, options);
      write_text(result[1], "the second storage took over the live file");
      status = 2;
    } catch (const Hdf5StorageError& e) {
      write_text(result[1], e.what());
      status = 0;
    } catch (const std::exception& e) {
      write_text(result[1], std::string("not an Hdf5StorageError: ") + e.what());
    }
    ::_exit(status);
  }
  ::close(go[0]);
  ::close(result[1]);

  Hdf5StorageOptions options;
  options.path = path;
  options.unlink_while_open = false;
  Hdf5Storage first(3, n, options);
  for (std::int64_t slot = 0; slot < 3; ++slot) {
    first.store(slot, 10 + slot,
                cairn::writer_for(pattern(n, 5, static_cast<std::uint64_t>(slot))));
  }
  const auto size = fs::file_size(path);
  REQUIRE(::write(go[1], "g", 1) == 1);
  ::close(go[1]);
  const std::string message = read_all(result[0]);
  ::close(result[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("the second process said: " << message);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(message, Catch::Contains(path) && Catch::Contains("in use"));

  // The same from this process (a second storage in the same program).
  Hdf5StorageOptions again;
  again.path = path;
  again.overwrite = true;
  std::string same_process;
  try {
    Hdf5Storage second(3, n, again);
  } catch (const Hdf5StorageError& e) {
    same_process = e.what();
  }
  CHECK_THAT(same_process, Catch::Contains(path) && Catch::Contains("in use"));

  REQUIRE(fs::file_size(path) == size);
  for (std::int64_t slot = 0; slot < 3; ++slot) {
    Bytes back(n, 0);
    first.restore(slot, 10 + slot, cairn::reader_for(back));
    REQUIRE(back == pattern(n, 5, static_cast<std::uint64_t>(slot)));
  }
}

TEST_CASE("Hdf5Storage: a process killed with SIGKILL leaves no checkpoint file", "[hdf5]") {
  TempDir dir("cairn-hdf5-robust");
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    std::unique_ptr<Hdf5Storage> storage;
    try {
      ::setenv("TMPDIR", dir.path.c_str(), 1);
      storage = std::make_unique<Hdf5Storage>(2, 4096);  // defaults, as burgers1d --disk-slots
      storage->store(0, 0, cairn::writer_for(pattern(4096, 9, 0)));
    } catch (const std::exception& e) {
      write_text(ready[1], e.what());
      ::_exit(1);
    }
    write_text(ready[1], "stored");
    for (;;) ::pause();  // killed here, with the storage alive
  }
  ::close(ready[1]);
  char word[6] = {};
  const ssize_t got = ::read(ready[0], word, sizeof word);
  ::close(ready[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(got == 6);
  REQUIRE(std::string(word, 6) == "stored");
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  REQUIRE(dir.entries() == 0);
}
