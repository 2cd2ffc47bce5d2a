// What Hdf5Storage needs around HDF5 and POSIX calls (private to cairn::hdf5): identifiers closed
// by RAII, HDF5's error stack silenced and turned into text, the causes of a failed creation, and
// positioned raw reads and writes that tell what went wrong.
#pragma once

#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

namespace cairn::hdf5_detail {

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

inline std::string system_error_text(int error) {
  return std::generic_category().message(error);
}

/// Why a file cannot be created at `path`, in words, before falling back on HDF5's reason.
inline std::string creation_cause(const std::string& path, const std::string& hdf5_reason) {
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

/// Writes `count` bytes at `offset`; 0, or the errno of the failure.
inline int write_at(int fd, const void* data, std::size_t count, std::uint64_t offset) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  while (count > 0) {
    // Linux moves at most about 2 GiB per call.
    const std::size_t piece = std::min<std::size_t>(count, std::size_t{1} << 30);
    const ssize_t done = ::pwrite(fd, bytes, piece, static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) return errno;
    if (done == 0) return EIO;
    bytes += done;
    count -= static_cast<std::size_t>(done);
    offset += static_cast<std::uint64_t>(done);
  }
  return 0;
}

/// Reads `count` bytes at `offset`; "" or why not.
inline std::string read_at(int fd, void* data, std::size_t count, std::uint64_t offset) {
  auto* bytes = static_cast<unsigned char*>(data);
  while (count > 0) {
    const std::size_t piece = std::min<std::size_t>(count, std::size_t{1} << 30);
    const ssize_t done = ::pread(fd, bytes, piece, static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) return system_error_text(errno);
    if (done == 0) return "the file ends at byte " + std::to_string(offset);
    bytes += done;
    count -= static_cast<std::size_t>(done);
    offset += static_cast<std::uint64_t>(done);
  }
  return "";
}

/// Little-endian, as the tables' file types say, whatever this machine's byte order.
inline void put_le(unsigned char* out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}

inline bool same_file(const struct stat& a, dev_t device, ino_t inode) {
  return a.st_dev == device && a.st_ino == inode;
}

}  // namespace cairn::hdf5_detail
