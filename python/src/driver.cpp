// cairn.Driver: cairn::Driver over NumPy states and Python callbacks, with MemoryStorage slots
// sized from x_0. One C++ loop per run; per action it costs a call of the callback (vectorcall,
// the same ndarray objects every time) and, for stores and restores, one memcpy.
#include <pybind11/stl.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "cairn/driver.hpp"
#include "cairn/memory_storage.hpp"
#include "nd_state.hpp"

namespace cairn::python {
namespace {

using namespace pybind11::literals;

PyObject* call2(PyObject* function, PyObject* a, PyObject* b) {
  PyObject* args[2] = {a, b};
#if PY_VERSION_HEX >= 0x03090000
  return PyObject_Vectorcall(function, args, 2, nullptr);
#else
  return _PyObject_Vectorcall(function, args, 2, nullptr);
#endif
}

PyObject* call3(PyObject* function, PyObject* a, PyObject* b, PyObject* c) {
  PyObject* args[3] = {a, b, c};
#if PY_VERSION_HEX >= 0x03090000
  return PyObject_Vectorcall(function, args, 3, nullptr);
#else
  return _PyObject_Vectorcall(function, args, 3, nullptr);
#endif
}

// A read-only view of a state's array, made once per array object (and so once per run).
class ReadOnlyView {
 public:
  const py::array& of(const NdState& state) {
    if (source_ != state.array().ptr()) {
      const py::array& a = state.array();
      std::vector<py::ssize_t> shape(a.shape(), a.shape() + a.ndim());
      std::vector<py::ssize_t> strides(a.strides(), a.strides() + a.ndim());
      view_ = py::array(a.dtype(), shape, strides, a.data(), a);
      view_.attr("flags").attr("writeable") = false;
      source_ = a.ptr();  // view_ keeps the array alive, so the pointer cannot be reused
    }
    return view_;
  }

 private:
  PyObject* source_ = nullptr;
  py::array view_ = py::reinterpret_steal<py::array>(py::handle());
};

// A C-contiguous array of `object` (converted to `dtype` unless it is None) without objects
// inside; a copy when `copy` or when the conversion needs one.
py::array numeric_array(const py::object& object, const py::object& dtype, bool copy,
                        const char* what) {
  py::object numpy = py::module_::import("numpy");
  py::array array =
      numpy.attr("array")(object, "dtype"_a = dtype, "order"_a = "C", "copy"_a = copy);
  if (array.dtype().attr("hasobject").cast<bool>()) {
    throw std::invalid_argument(std::string("Driver: ") + what +
                                " must be an array of numbers, not of dtype " +
                                py::str(array.dtype()).cast<std::string>());
  }
  return array;
}

// What a callback returned: None (or the array itself) means it worked in place; otherwise an
// array of the same shape and dtype whose values are copied in.
void take_result(PyObject* result, NdState& target, const char* callback) {
  if (result == Py_None || result == target.array().ptr()) return;
  py::array returned = py::array::ensure(py::handle(result));
  if (!returned) throw py::error_already_set();
  if (!same_layout(returned, target.array())) {
    throw py::value_error(
        std::string("Driver: ") + callback + " returned an array of shape " +
        py::str(py::getattr(returned, "shape")).cast<std::string>() + " and dtype " +
        py::str(returned.dtype()).cast<std::string>() +
        "; return None (after changing the array in place) or an array of shape " +
        py::str(py::getattr(target.array(), "shape")).cast<std::string>() + " and dtype " +
        py::str(target.array().dtype()).cast<std::string>());
  }
  if ((returned.flags() & py::array::c_style) != 0) {
    if (target.bytes() != 0) std::memcpy(target.data(), returned.data(), target.bytes());
  } else {
    py::module_::import("numpy").attr("copyto")(target.array(), returned);
  }
}

class PyDriver {
 public:
  PyDriver(py::object schedule, py::object step, py::object adjoint_step, py::object dtype,
           bool measure_time)
      : schedule_object_(std::move(schedule)),
        handle_(&schedule_object_.cast<ScheduleHandle&>()),
        step_(std::move(step)),
        adjoint_step_(std::move(adjoint_step)),
        dtype_(std::move(dtype)),
        measure_time_(measure_time) {
    if (!PyCallable_Check(step_.ptr()) || !PyCallable_Check(adjoint_step_.ptr())) {
      throw py::type_error("Driver: step and adjoint_step must be callables");
    }
    if (!dtype_.is_none()) dtype_ = py::dtype::from_args(dtype_);
  }

  py::array forward(const py::object& x0) {
    const NdState initial(numeric_array(x0, dtype_, false, "x0"));
    ScheduleHandle::Guard guard(*handle_);
    handle_->forget_position();
    return driver_for(initial.bytes()).forward(initial).array();
  }

  py::array backward(const py::object& lambda) {
    NdState adjoint(numeric_array(lambda, py::none(), true, "lam_T"));
    ScheduleHandle::Guard guard(*handle_);
    return driver_for(slot_bytes_).backward(std::move(adjoint)).array();
  }

  py::array run(const py::object& x0, const py::object& terminal) {
    const NdState initial(numeric_array(x0, dtype_, false, "x0"));
    ScheduleHandle::Guard guard(*handle_);
    handle_->forget_position();
    return driver_for(initial.bytes()).run(initial, terminal_function(terminal)).array();
  }

  void start(const py::object& x0) {
    const NdState initial(numeric_array(x0, dtype_, false, "x0"));
    ScheduleHandle::Guard guard(*handle_);
    handle_->forget_position();
    driver_for(initial.bytes()).start(initial);
  }

  void step() {
    ScheduleHandle::Guard guard(*handle_);
    driver_for(slot_bytes_).step();
  }

  py::array finish(const py::object& terminal) {
    ScheduleHandle::Guard guard(*handle_);
    handle_->forget_position();
    return driver_for(slot_bytes_).finish(terminal_function(terminal)).array();
  }

  py::object state() {
    if (!driver_ || !driver_->state().array()) return py::none();
    return state_view_.of(driver_->state());
  }

  std::int64_t steps() const { return driver_ ? driver_->steps() : 0; }

  py::dict statistics() const {
    const DriverStatistics s = driver_ ? driver_->statistics() : DriverStatistics{};
    return py::dict(
        "actions"_a = s.actions, "step_calls"_a = s.step_calls, "adjoint_calls"_a = s.adjoint_calls,
        "stores"_a = s.stores, "restores"_a = s.restores, "frees"_a = s.frees,
        "bytes_stored"_a = s.bytes_stored, "bytes_restored"_a = s.bytes_restored,
        "peak_slots"_a = s.peak_slots, "steps"_a = s.steps, "seconds_total"_a = s.seconds_total,
        "seconds_user"_a = s.seconds_user, "seconds_storage"_a = s.seconds_storage,
        "seconds_driver"_a = s.seconds_driver());
  }

  const py::object& schedule() const noexcept { return schedule_object_; }

 private:
  using CoreDriver = cairn::Driver<NdState>;

  // The driver whose slots hold states of `bytes` bytes, made (with its storage) when the size
  // changes. Its slots: the schedule's per level, allocated once (pages touched when used).
  CoreDriver& driver_for(std::size_t bytes) {
    if (driver_ && bytes == slot_bytes_) return *driver_;
    driver_.reset();
    storage_.clear();
    std::vector<Storage*> levels;
    for (const std::int64_t slots : handle_->slots_per_level()) {
      storage_.push_back(std::make_unique<MemoryStorage>(slots, bytes));
      levels.push_back(storage_.back().get());
    }
    DriverOptions options;
    options.measure_time = measure_time_;
    driver_ = std::make_unique<CoreDriver>(
        handle_->schedule(), std::move(levels),
        [this](std::int64_t i, NdState& x) { call_step(i, x); },
        [this](std::int64_t i, const NdState& x, NdState& lambda) { call_adjoint(i, x, lambda); },
        std::move(options));
    slot_bytes_ = bytes;
    return *driver_;
  }

  void call_step(std::int64_t i, NdState& x) {
    PyObject* index = PyLong_FromLongLong(i);
    if (index == nullptr) throw py::error_already_set();
    PyObject* result = call2(step_.ptr(), index, x.array().ptr());
    Py_DECREF(index);
    if (result == nullptr) throw py::error_already_set();
    const auto owned = py::reinterpret_steal<py::object>(result);
    take_result(result, x, "step(i, x)");
  }

  void call_adjoint(std::int64_t i, const NdState& x, NdState& lambda) {
    PyObject* index = PyLong_FromLongLong(i);
    if (index == nullptr) throw py::error_already_set();
    PyObject* result =
        call3(adjoint_step_.ptr(), index, state_view_.of(x).ptr(), lambda.array().ptr());
    Py_DECREF(index);
    if (result == nullptr) throw py::error_already_set();
    const auto owned = py::reinterpret_steal<py::object>(result);
    take_result(result, lambda, "adjoint_step(i, x, lam)");
  }

  std::function<NdState(const NdState&)> terminal_function(const py::object& terminal) {
    if (!PyCallable_Check(terminal.ptr())) {
      throw py::type_error("Driver: terminal must be a callable terminal(x_T) -> lam_T");
    }
    return [this, terminal](const NdState& final_state) {
      py::object lambda = terminal(final_view_.of(final_state));
      return NdState(numeric_array(lambda, py::none(), true, "terminal(x_T)"));
    };
  }

  py::object schedule_object_;
  ScheduleHandle* handle_;
  py::object step_;
  py::object adjoint_step_;
  py::object dtype_;
  bool measure_time_;
  std::vector<std::unique_ptr<MemoryStorage>> storage_;
  std::size_t slot_bytes_ = 0;
  std::unique_ptr<CoreDriver> driver_;
  ReadOnlyView state_view_;
  ReadOnlyView final_view_;
};

}  // namespace

void bind_driver(py::module_& m) {
  py::class_<PyDriver>(
      m, "Driver",
      "Runs Python callbacks through a schedule: step(i, x) advances x from x_i to x_{i+1} in "
      "place (or returns the new state), adjoint_step(i, x, lam) turns lam from lambda_{i+1} "
      "into lambda_i in place (x = x_i, read-only). See docs/python.md.")
      .def(py::init<py::object, py::object, py::object, py::object, bool>(), "schedule"_a, "step"_a,
           "adjoint_step"_a, py::kw_only(), "dtype"_a = py::none(), "measure_time"_a = false)
      .def("forward", &PyDriver::forward, "x0"_a,
           "Forward sweep from x0, storing checkpoints; returns x_T (a new array).")
      .def("backward", &PyDriver::backward, "lam_T"_a,
           "Reverse sweep after forward(): returns lambda_0 (a new array) for lambda_T.")
      .def("run", &PyDriver::run, "x0"_a, "terminal"_a,
           "forward and backward in one: returns lambda_0 for lambda_T = terminal(x_T).")
      .def("start", &PyDriver::start, "x0"_a, "Online schedules: starts a run from x0.")
      .def("step", &PyDriver::step, "Online schedules: one step (and what the schedule keeps).")
      .def("finish", &PyDriver::finish, "terminal"_a,
           "Online schedules: ends the run (T = steps) and returns lambda_0.")
      .def_property_readonly("state", &PyDriver::state,
                             "Online runs: the working state x_steps (a read-only view).")
      .def_property_readonly("steps", &PyDriver::steps)
      .def_property_readonly("statistics", &PyDriver::statistics)
      .def_property_readonly("schedule", &PyDriver::schedule);
}

}  // namespace cairn::python
