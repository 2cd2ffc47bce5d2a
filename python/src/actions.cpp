// cairn.ActionKind, cairn.Action and cairn.ACTION_DTYPE: the Action vocabulary in Python.
#include <pybind11/stl.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "cairn/action.hpp"
#include "cairn/action_io.hpp"

namespace cairn::python {
namespace {

// Created once at import; the module object keeps references too, so these live as long as the
// interpreter uses the module (they are leaked at exit on purpose: no destructor runs after
// Python finalised).
py::dtype* g_action_dtype = nullptr;
constexpr int kind_count = static_cast<int>(ActionKind::reverse_stored) + 1;
std::array<PyObject*, kind_count> g_kind_members{};

ActionKind checked_kind(int kind) {
  if (kind < 0 || kind >= kind_count) {
    throw std::invalid_argument(
        "Action: kind must be 0..7 (ADVANCE, STORE, RESTORE, REVERSE, "
        "FREE, END, STORE_ADJOINT, REVERSE_STORED), not " +
        std::to_string(kind));
  }
  return static_cast<ActionKind>(kind);
}

std::string repr(const Action& a) {
  const std::string kind = to_string(a.kind);
  switch (a.kind) {
    case ActionKind::advance:
      return "Action(advance, from=" + std::to_string(a.from()) + ", to=" + std::to_string(a.to) +
             ")";
    case ActionKind::store:
    case ActionKind::restore:
    case ActionKind::store_adjoint:
    case ActionKind::reverse_stored:
      return "Action(" + kind + ", slot=" + std::to_string(a.slot) +
             ", step=" + std::to_string(a.step) + ", level=" + std::to_string(a.level) + ")";
    case ActionKind::reverse:
      return "Action(reverse, step=" + std::to_string(a.step) + ")";
    case ActionKind::free:
      return "Action(free, slot=" + std::to_string(a.slot) + ", level=" + std::to_string(a.level) +
             ")";
    case ActionKind::end:
      break;
  }
  return "Action(end)";
}

}  // namespace

py::dtype action_dtype() {
  return *g_action_dtype;
}

py::array new_action_array(std::size_t count) {
  return py::array(*g_action_dtype, std::vector<py::ssize_t>{static_cast<py::ssize_t>(count)});
}

const Action* action_data(const py::array& array, std::size_t& count) {
  if (PyObject_RichCompareBool(array.dtype().ptr(), g_action_dtype->ptr(), Py_EQ) != 1) {
    throw py::type_error("expected an array of cairn.ACTION_DTYPE, got dtype " +
                         py::str(array.dtype()).cast<std::string>());
  }
  if (array.ndim() != 1 || (array.flags() & py::array::c_style) == 0) {
    throw py::value_error("expected a 1-D C-contiguous array of cairn.ACTION_DTYPE");
  }
  count = static_cast<std::size_t>(array.shape(0));
  return static_cast<const Action*>(array.data());
}

py::object kind_object(ActionKind kind) {
  return py::reinterpret_borrow<py::object>(g_kind_members[static_cast<std::size_t>(kind)]);
}

void bind_actions(py::module_& m) {
  using namespace pybind11::literals;
  // ActionKind is an IntEnum (not a pybind11 enum), so that it is an int everywhere NumPy or user
  // code compares the `kind` field of an action array with it.
  py::list members;
  const char* kind_names[] = {"ADVANCE", "STORE", "RESTORE",       "REVERSE",
                              "FREE",    "END",   "STORE_ADJOINT", "REVERSE_STORED"};
  for (int k = 0; k < kind_count; ++k) members.append(py::make_tuple(kind_names[k], k));
  py::object kind_enum = py::module_::import("enum").attr("IntEnum")(
      "ActionKind", members, "module"_a = "cairn", "qualname"_a = "ActionKind");
  kind_enum.attr("__doc__") =
      "What an action asks the driver to do (the order of the C++ enum cairn::ActionKind).";
  m.attr("ActionKind") = kind_enum;
  for (int k = 0; k < kind_count; ++k) {
    py::object member = kind_enum(k);
    m.attr(kind_names[k]) = member;
    g_kind_members[static_cast<std::size_t>(k)] = member.release().ptr();
  }

  g_action_dtype = new py::dtype(py::dtype::from_args(py::dict(
      "names"_a = py::make_tuple("kind", "level", "slot", "step", "to"),
      "formats"_a = py::make_tuple("u1", "i4", "i8", "i8", "i8"),
      "offsets"_a =
          py::make_tuple(offsetof(Action, kind), offsetof(Action, level), offsetof(Action, slot),
                         offsetof(Action, step), offsetof(Action, to)),
      "itemsize"_a = sizeof(Action))));
  m.attr("ACTION_DTYPE") = *g_action_dtype;

  py::class_<Action>(m, "Action",
                     "One instruction of a schedule (immutable). Fields by kind: advance: from_, "
                     "to; store/restore/store_adjoint/reverse_stored: slot, step, level; reverse: "
                     "step; free: slot, level; end: none. Unused fields are 0.")
      .def(py::init(
               [](int kind, std::int64_t slot, std::int64_t step, std::int64_t to, Level level) {
                 return Action{checked_kind(kind), level, slot, step, to};
               }),
           "kind"_a, "slot"_a = 0, "step"_a = 0, "to"_a = 0, "level"_a = 0)
      .def_static("advance", &Action::make_advance, "from_"_a, "to"_a)
      .def_static("store", &Action::make_store, "slot"_a, "step"_a, "level"_a = 0)
      .def_static("restore", &Action::make_restore, "slot"_a, "step"_a, "level"_a = 0)
      .def_static("reverse", &Action::make_reverse, "step"_a)
      .def_static("free", &Action::make_free, "slot"_a, "level"_a = 0)
      .def_static("end", &Action::make_end)
      .def_static("store_adjoint", &Action::make_store_adjoint, "slot"_a, "step"_a, "level"_a = 0)
      .def_static("reverse_stored", &Action::make_reverse_stored, "slot"_a, "step"_a, "level"_a = 0)
      .def_property_readonly("kind", [](const Action& a) { return kind_object(a.kind); })
      .def_readonly("level", &Action::level)
      .def_readonly("slot", &Action::slot)
      .def_readonly("step", &Action::step)
      .def_readonly("to", &Action::to)
      .def_property_readonly("from_", &Action::from)
      .def(
          "to_json",
          [](const Action& a, const std::optional<std::vector<std::string>>& names) {
            return names ? to_json(a, *names) : to_json(a);
          },
          "level_names"_a = py::none(),
          "The JSON-lines form of `cairn schedule` (e.g. {\"op\":\"advance\",\"from\":0,"
          "\"to\":6}); levels are named \"ram\", \"disk\" unless level_names says otherwise.")
      .def("to_text", [](const Action& a) { return to_text(a); })
      .def("__repr__", &repr)
      .def(
          "__eq__", [](const Action& a, const Action& b) { return a == b; }, py::is_operator())
      .def(
          "__ne__", [](const Action& a, const Action& b) { return a != b; }, py::is_operator())
      .def("__hash__",
           [](const Action& a) {
             return py::hash(
                 py::make_tuple(static_cast<int>(a.kind), a.level, a.slot, a.step, a.to));
           })
      .def("__reduce__", [](const Action& a) {
        return py::make_tuple(
            py::module_::import("cairn").attr("Action"),
            py::make_tuple(static_cast<int>(a.kind), a.slot, a.step, a.to, a.level));
      });
}

}  // namespace cairn::python
