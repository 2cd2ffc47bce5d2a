// Bandwidth of Hdf5Storage against plain POSIX I/O of the same bytes in the same directory.
//
//   cairn_bench_hdf5 [--slots N] [--mib S] [--dir D] [--repeat R] [--no-fsync]
//
// Writes N slots of S MiB (default 4 x 64 MiB) of a std::vector through Hdf5Storage (store: one
// HDF5 write straight from the vector with CRC-32C beside it, metadata flush), then reads them back
// (restore: one HDF5 read into the staging buffer, CRC-32C check, copy out; then again into a
// scratch state as the driver restores, read straight into the vector and checked there); and
// writes/reads the same N * S bytes with write()/read() of S bytes at a time into one file. Both
// sides the same way:
//  - fsync: the write time includes an fsync of the file at the end (--no-fsync: none, so the
//    writes measure the page cache);
//  - reads: the file's pages are dropped from the page cache first (fsync, then
//    posix_fadvise(DONTNEED)), so reads come from the device (--no-fsync: from the page cache);
//  - no O_DIRECT on either side (HDF5's default sec2 driver does buffered I/O).
// Each measurement is repeated R times (default 3), alternating which side goes first; the median
// is printed, with the ratio Hdf5/POSIX (target >= 0.80).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/hdf5_storage.hpp"
#include "cairn/state_adapter.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<unsigned char>;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "cairn_bench_hdf5: %s (%s)\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

void sync_and_drop(const std::string& path, bool drop) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) die("cannot open " + path);
  if (::fsync(fd) != 0) die("fsync failed");
  if (drop && ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) die("posix_fadvise failed");
  ::close(fd);
}

struct Result {
  double write_seconds;
  double read_seconds;
  double scratch_read_seconds;  // Hdf5Storage only: restores into a scratch state (the driver's)
};

Result run_hdf5(const std::string& path, int slots, const Bytes& state, Bytes& out, bool fsync) {
  cairn::Hdf5StorageOptions options;
  options.path = path;
  options.overwrite = true;
  // The bench syncs and drops the file's pages by its name, so the name must stay while it runs
  // (serial storages drop it at construction by default).
  options.unlink_while_open = false;
  cairn::Hdf5Storage storage(slots, state.size(), options);
  Result r{};
  auto t0 = Clock::now();
  for (int i = 0; i < slots; ++i) storage.store(i, i, cairn::writer_for(state));
  if (fsync) sync_and_drop(path, false);
  r.write_seconds = seconds_since(t0);
  if (fsync) sync_and_drop(path, true);
  t0 = Clock::now();
  for (int i = 0; i < slots; ++i) storage.restore(i, i, cairn::reader_for(out));
  r.read_seconds = seconds_since(t0);
  if (out != state) die("Hdf5Storage read back different bytes");
  // Again, as the driver reads: its working state is scratch, so the bytes go straight into it.
  std::fill(out.begin(), out.end(), 0);
  if (fsync) sync_and_drop(path, true);
  cairn::StateReader scratch = cairn::reader_for(out);
  scratch.scratch_block = cairn::scratch_block_function<Bytes>();
  t0 = Clock::now();
  for (int i = 0; i < slots; ++i) storage.restore(i, i, scratch);
  r.scratch_read_seconds = seconds_since(t0);
  if (out != state) die("Hdf5Storage read back different bytes into a scratch state");
  return r;
}

Result run_posix(const std::string& path, int slots, const Bytes& state, Bytes& out, bool fsync) {
  Result r{};
  auto t0 = Clock::now();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("cannot create " + path);
  for (int i = 0; i < slots; ++i) {
    std::size_t done = 0;
    while (done < state.size()) {
      const ssize_t n = ::write(fd, state.data() + done, state.size() - done);
      if (n < 0) die("write failed");
      done += static_cast<std::size_t>(n);
    }
  }
  if (fsync && ::fsync(fd) != 0) die("fsync failed");
  ::close(fd);
  r.write_seconds = seconds_since(t0);
  if (fsync) sync_and_drop(path, true);
  t0 = Clock::now();
  fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) die("cannot open " + path);
  for (int i = 0; i < slots; ++i) {
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
      if (n <= 0) die("read failed");
      done += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  r.read_seconds = seconds_since(t0);
  if (out != state) die("POSIX read back different bytes");
  ::unlink(path.c_str());
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int slots = 4;
  std::size_t mib = 64;
  int repeat = 3;
  bool fsync = true;
  std::string dir = std::filesystem::temp_directory_path().string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--slots" && has_value) {
      slots = std::atoi(argv[++i]);
    } else if (a == "--mib" && has_value) {
      mib = static_cast<std::size_t>(std::atoll(argv[++i]));
    } else if (a == "--repeat" && has_value) {
      repeat = std::atoi(argv[++i]);
    } else if (a == "--dir" && has_value) {
      dir = argv[++i];
    } else if (a == "--no-fsync") {
      fsync = false;
    } else {
      std::fprintf(stderr, "usage: %s [--slots N] [--mib S] [--dir D] [--repeat R] [--no-fsync]\n",
                   argv[0]);
      return 2;
    }
  }
  if (slots < 1 || mib < 1 || repeat < 1) {
    std::fprintf(stderr, "slots, mib and repeat must be >= 1\n");
    return 2;
  }
  const std::size_t bytes = mib << 20;
  Bytes state(bytes);
  std::mt19937_64 engine(42);
  for (std::size_t i = 0; i + 8 <= bytes; i += 8) {
    const std::uint64_t w = engine();
    std::memcpy(state.data() + i, &w, 8);
  }
  Bytes out(bytes, 0);
  const std::string stem = dir + "/cairn-bench-" + std::to_string(::getpid());
  const std::string h5 = stem + ".h5";
  const std::string raw = stem + ".raw";

  std::vector<double> hw, hr, hs, pw, pr;
  try {
    for (int k = 0; k < repeat; ++k) {
      Result h{};
      Result p{};
      if (k % 2 == 0) {
        h = run_hdf5(h5, slots, state, out, fsync);
        ::unlink(h5.c_str());
        p = run_posix(raw, slots, state, out, fsync);
      } else {
        p = run_posix(raw, slots, state, out, fsync);
        h = run_hdf5(h5, slots, state, out, fsync);
        ::unlink(h5.c_str());
      }
      hw.push_back(h.write_seconds);
      hr.push_back(h.read_seconds);
      hs.push_back(h.scratch_read_seconds);
      pw.push_back(p.write_seconds);
      pr.push_back(p.read_seconds);
    }
  } catch (const std::exception& e) {
    ::unlink(h5.c_str());
    ::unlink(raw.c_str());
    std::fprintf(stderr, "cairn_bench_hdf5: %s\n", e.what());
    return 1;
  }
  const double total = static_cast<double>(bytes) * slots / 1e9;
  const double hdf5_write = total / median(hw);
  const double hdf5_read = total / median(hr);
  const double hdf5_scratch_read = total / median(hs);
  const double posix_write = total / median(pw);
  const double posix_read = total / median(pr);
  std::printf("cairn_bench_hdf5: %d slots x %zu MiB in %s, median of %d runs\n", slots, mib,
              dir.c_str(), repeat);
  std::printf(
      "  fsync after the writes: %s; page cache dropped before the reads: %s; O_DIRECT: no\n",
      fsync ? "yes" : "no", fsync ? "yes (posix_fadvise DONTNEED)" : "no");
  std::printf("                 write GB/s   read GB/s\n");
  std::printf("  Hdf5Storage    %10.2f  %10.2f\n", hdf5_write, hdf5_read);
  std::printf("  POSIX          %10.2f  %10.2f\n", posix_write, posix_read);
  std::printf("  Hdf5 / POSIX   %10.2f  %10.2f   (target >= 0.80)\n", hdf5_write / posix_write,
              hdf5_read / posix_read);
  std::printf("  read into a scratch state, as the driver does (checked in place):\n");
  std::printf("  Hdf5Storage                %10.2f\n", hdf5_scratch_read);
  std::printf("  Hdf5 / POSIX               %10.2f   (target >= 0.80)\n",
              hdf5_scratch_read / posix_read);
  return 0;
}
