// The state type of the NumPy driver: a C-contiguous ndarray that the driver owns, checkpointed
// as its raw bytes.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "cairn/state_adapter.hpp"

namespace cairn::python {

namespace py = pybind11;

/// Whether two arrays have the same shape and dtype (so one's bytes fit the other).
inline bool same_layout(const py::array& a, const py::array& b) {
  if (a.ndim() != b.ndim()) return false;
  for (py::ssize_t k = 0; k < a.ndim(); ++k) {
    if (a.shape(k) != b.shape(k)) return false;
  }
  return PyObject_RichCompareBool(a.dtype().ptr(), b.dtype().ptr(), Py_EQ) == 1;
}

/// A new C-contiguous array with the shape, dtype and contents of the C-contiguous `a`.
inline py::array contiguous_copy(const py::array& a) {
  std::vector<py::ssize_t> shape(a.shape(), a.shape() + a.ndim());
  py::array out(a.dtype(), shape);
  if (a.nbytes() != 0)
    std::memcpy(out.mutable_data(), a.data(), static_cast<std::size_t>(a.nbytes()));
  return out;
}

/// A state (or an adjoint) of the driver. Copies are deep; assigning a state of the same shape and
/// dtype copies the bytes into the array already there, so the driver's working state stays one
/// ndarray object for a whole run (the callbacks see the same object every time) and across runs
/// of the same shape. The GIL must be held for every operation but the byte copies.
class NdState {
 public:
  NdState() = default;
  explicit NdState(py::array array) : array_(std::move(array)) { refresh(); }
  NdState(const NdState& other)
      : array_(other.array_ ? contiguous_copy(other.array_) : py::array()) {
    refresh();
  }
  NdState& operator=(const NdState& other) {
    if (this == &other) return *this;
    if (array_ && other.array_ && same_layout(array_, other.array_)) {
      if (bytes_ != 0) std::memcpy(data_, other.data_, bytes_);
    } else {
      array_ = other.array_ ? contiguous_copy(other.array_) : py::array();
      refresh();
    }
    return *this;
  }
  NdState(NdState&&) noexcept = default;
  NdState& operator=(NdState&&) noexcept = default;
  ~NdState() = default;

  const py::array& array() const noexcept { return array_; }
  void* data() const noexcept { return data_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  void refresh() {
    data_ = array_ ? array_.mutable_data() : nullptr;
    bytes_ = array_ ? static_cast<std::size_t>(array_.nbytes()) : 0;
  }
  // Not py::array's default (that allocates an empty array): a null handle until assigned.
  py::array array_ = py::reinterpret_steal<py::array>(py::handle());
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace cairn::python

template <>
struct cairn::StateAdapter<cairn::python::NdState> {
  using State = cairn::python::NdState;
  static std::size_t bytes(const State& x) noexcept { return x.bytes(); }
  static void copy_out(const State& x, void* out) noexcept {
    if (x.bytes() != 0) std::memcpy(out, x.data(), x.bytes());
  }
  static void copy_in(State& x, const void* in, std::size_t count) {
    if (count != x.bytes()) detail::state_size_mismatch(x.bytes(), count);
    if (count != 0) std::memcpy(x.data(), in, count);
  }
  static const void* contiguous(const State& x) noexcept { return x.data(); }
  static void* contiguous_for(State& x, std::size_t count) {
    if (count != x.bytes()) detail::state_size_mismatch(x.bytes(), count);
    return x.data();
  }
};
