// Scratch directories for the HDF5 tests: a fresh one removed with everything in it, and TMPDIR
// pointed somewhere for a while (where Hdf5Storage makes its files by default).
#pragma once

#include <stdlib.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>

namespace cairn_test {

/// A new directory under the temporary directory, removed with its contents at destruction.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "cairn-hdf5-test") {
    std::string name = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = name;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path),
                                                  std::filesystem::directory_iterator()));
  }
};

/// Points TMPDIR (std::filesystem::temp_directory_path) at a directory while alive.
struct ScopedTmpdir {
  std::string old;
  bool had = false;
  explicit ScopedTmpdir(const std::filesystem::path& dir) {
    if (const char* v = std::getenv("TMPDIR")) {
      old = v;
      had = true;
    }
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (had) {
      ::setenv("TMPDIR", old.c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }
  ScopedTmpdir(const ScopedTmpdir&) = delete;
  ScopedTmpdir& operator=(const ScopedTmpdir&) = delete;
};

}  // namespace cairn_test
