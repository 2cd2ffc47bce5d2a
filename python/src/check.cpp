// cairn.check and its results (CheckResult, ScheduleCosts, LevelCosts), and cairn.cost.
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "cairn/check.hpp"

namespace cairn::python {
namespace {

using namespace pybind11::literals;

std::vector<std::int64_t> slot_counts(const py::object& slots) {
  if (PyLong_Check(slots.ptr())) return {slots.cast<std::int64_t>()};
  return slots.cast<std::vector<std::int64_t>>();
}

void check_kind(const Action& a, std::size_t index) {
  if (static_cast<unsigned>(a.kind) > static_cast<unsigned>(ActionKind::reverse_stored)) {
    throw std::invalid_argument("check: actions[" + std::to_string(index) +
                                "].kind = " + std::to_string(static_cast<unsigned>(a.kind)) +
                                " is no cairn.ActionKind (0..7)");
  }
}

CheckResult check_actions(const py::object& actions, std::int64_t steps, const py::object& slots,
                          bool count_advances_per_step, std::optional<std::int64_t> max_actions) {
  const std::int64_t limit = max_actions.value_or(std::numeric_limits<std::int64_t>::max());
  if (limit < 0) throw std::invalid_argument("check: max_actions must be >= 0");
  if (py::isinstance<ScheduleHandle>(actions)) {
    // As cairn::check does: from the schedule's current position, until end, the first illegal
    // action or max_actions, over as many reverse sweeps as the schedule has. Unused actions of
    // the last batch are given back to the schedule.
    auto& handle = actions.cast<ScheduleHandle&>();
    ScheduleChecker checker(steps, slot_counts(slots), count_advances_per_step,
                            handle.schedule().sweeps(), handle.schedule().adjoint_data_units());
    ScheduleHandle::Guard guard(handle);
    py::gil_scoped_release release;
    std::array<Action, 256> batch;
    std::int64_t fed = 0;
    while (fed < limit && !checker.failed() && !checker.ended()) {
      const auto want = static_cast<std::size_t>(
          std::min<std::int64_t>(limit - fed, static_cast<std::int64_t>(batch.size())));
      const std::size_t n = handle.read(batch.data(), want);
      if (n == 0) break;
      std::size_t used = 0;
      while (used < n) {
        ++fed;
        if (!checker.feed(batch[used++]) || checker.ended()) break;
      }
      if (used < n) handle.unread(batch.data() + used, n - used);
    }
    return checker.finish();
  }
  ScheduleChecker checker(steps, slot_counts(slots), count_advances_per_step);
  if (py::isinstance<py::array>(actions)) {
    std::size_t count = 0;
    const py::array array = actions.cast<py::array>();
    const Action* data = action_data(array, count);
    if (static_cast<std::uint64_t>(limit) < count) count = static_cast<std::size_t>(limit);
    py::gil_scoped_release release;
    for (std::size_t i = 0; i < count; ++i) {
      check_kind(data[i], i);
      if (!checker.feed(data[i])) break;
    }
    return checker.finish();
  }
  std::int64_t fed = 0;
  for (const py::handle item : actions) {
    if (fed++ >= limit) break;
    if (!py::isinstance<Action>(item)) {
      throw py::type_error(
          "check: actions must be a cairn.Schedule, an array of "
          "cairn.ACTION_DTYPE or an iterable of cairn.Action; found " +
          py::repr(item).cast<std::string>());
    }
    if (!checker.feed(item.cast<const Action&>())) break;
  }
  return checker.finish();
}

std::string costs_repr(const ScheduleCosts& c) {
  return "ScheduleCosts(actions=" + std::to_string(c.actions) +
         ", forward_steps=" + std::to_string(c.forward_steps) +
         ", max_advances_per_step=" + std::to_string(c.max_advances_per_step) +
         ", reverses=" + std::to_string(c.reverses) + ", stores=" + std::to_string(c.stores()) +
         ", restores=" + std::to_string(c.restores()) + ")";
}

}  // namespace

void bind_check(py::module_& m) {
  py::class_<LevelCosts>(m, "LevelCosts", "What a stream did on one storage level.")
      .def_readonly("stores", &LevelCosts::stores)
      .def_readonly("restores", &LevelCosts::restores)
      .def_readonly("frees", &LevelCosts::frees)
      .def_readonly("peak_slots", &LevelCosts::peak_slots)
      .def_readonly("adjoint_stores", &LevelCosts::adjoint_stores)
      .def_readonly("peak_units", &LevelCosts::peak_units)
      .def("__repr__", [](const LevelCosts& l) {
        return "LevelCosts(stores=" + std::to_string(l.stores) +
               ", restores=" + std::to_string(l.restores) + ", frees=" + std::to_string(l.frees) +
               ", peak_slots=" + std::to_string(l.peak_slots) + ")";
      });

  py::class_<ScheduleCosts>(m, "ScheduleCosts",
                            "What a stream costs (counts cover the actions accepted before the "
                            "first illegal one).")
      .def_readonly("actions", &ScheduleCosts::actions)
      .def_readonly("advances", &ScheduleCosts::advances)
      .def_readonly("forward_steps", &ScheduleCosts::forward_steps)
      .def_readonly("max_advances_per_step", &ScheduleCosts::max_advances_per_step)
      .def_readonly("reverses", &ScheduleCosts::reverses)
      .def_readonly("stored_reverses", &ScheduleCosts::stored_reverses)
      .def_readonly("adjoint_stores", &ScheduleCosts::adjoint_stores)
      .def_property_readonly("taped_steps", &ScheduleCosts::taped_steps)
      .def_property_readonly("forward_evaluations", &ScheduleCosts::forward_evaluations)
      .def_readonly("levels", &ScheduleCosts::levels)
      .def_property_readonly("stores", &ScheduleCosts::stores)
      .def_property_readonly("restores", &ScheduleCosts::restores)
      .def("__repr__", &costs_repr);

  py::class_<CheckResult>(m, "CheckResult", "The checker's verdict on a stream; true if legal.")
      .def_readonly("legal", &CheckResult::legal)
      .def_readonly("first_illegal_index", &CheckResult::first_illegal_index)
      .def_readonly("reason", &CheckResult::reason)
      .def_readonly("costs", &CheckResult::costs)
      .def("__bool__", [](const CheckResult& r) { return r.legal; })
      .def("__repr__", [](const CheckResult& r) {
        if (r.legal) return "CheckResult(legal, " + costs_repr(r.costs) + ")";
        return "CheckResult(illegal at " + std::to_string(r.first_illegal_index) + ": " + r.reason +
               ")";
      });

  m.def("check", &check_actions, "actions"_a, "steps"_a, "slots_per_level"_a,
        "count_advances_per_step"_a = true, "max_actions"_a = py::none(),
        "Replays a stream (a Schedule from its current position, an array of ACTION_DTYPE, or an "
        "iterable of Action) through the checker: legal or not, and what it costs.");

  m.def(
      "cost",
      [](const ScheduleCosts& costs, double forward_step, double backward_step,
         std::vector<double> write, std::vector<double> read, double taped_step) {
        return cost(costs, CostModel{forward_step, backward_step, std::move(write), std::move(read),
                                     taped_step});
      },
      "costs"_a, "forward_step"_a = 1.0, "backward_step"_a = 0.0, "write"_a = std::vector<double>{},
      "read"_a = std::vector<double>{}, "taped_step"_a = 0.0,
      "uf * forward_steps + ut * taped_steps + ub * reverses + sum over levels of (write * stores "
      "+ read * restores).");
}

}  // namespace cairn::python
