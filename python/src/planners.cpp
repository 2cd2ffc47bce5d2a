// The Python classes of the schedules planned by dynamic programming: MultilevelRevolve (with
// StorageLevel) and HeterogeneousRevolve. Planning runs with the GIL released.
#include <pybind11/stl.h>

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "cairn/heterogeneous.hpp"
#include "cairn/mixed.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/two_level.hpp"

namespace cairn::python {
namespace {

using namespace pybind11::literals;

// A level given as a StorageLevel, an int (slots, free I/O) or a (slots[, write[, read]]) tuple.
StorageLevel to_level(const py::handle& item, const std::string& where) {
  if (py::isinstance<StorageLevel>(item)) return item.cast<StorageLevel>();
  if (PyLong_Check(item.ptr())) return StorageLevel{item.cast<std::int64_t>(), 0, 0};
  if (py::isinstance<py::sequence>(item) && !py::isinstance<py::str>(item)) {
    const auto fields = item.cast<py::sequence>();
    if (fields.size() >= 1 && fields.size() <= 3) {
      StorageLevel level{fields[0].cast<std::int64_t>(), 0, 0};
      if (fields.size() >= 2) level.write_cost = fields[1].cast<double>();
      if (fields.size() == 3) level.read_cost = fields[2].cast<double>();
      return level;
    }
  }
  throw py::type_error(where +
                       " must be a cairn.StorageLevel, an int (slots) or a tuple (slots, "
                       "write_cost, read_cost), not " +
                       py::str(item).cast<std::string>());
}

std::vector<double> doubles(const py::object& values, const char* what) {
  auto array = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(values);
  if (!array || array.ndim() != 1) {
    throw py::value_error(std::string("HeterogeneousRevolve: ") + what +
                          " must be a 1-D sequence of numbers");
  }
  return std::vector<double>(array.data(), array.data() + array.size());
}

std::vector<std::uint64_t> sizes(const py::object& values) {
  auto array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(values);
  if (!array || array.ndim() != 1) {
    throw py::value_error("HeterogeneousRevolve: state_bytes must be a 1-D sequence of integers");
  }
  std::vector<std::uint64_t> out(static_cast<std::size_t>(array.size()));
  for (py::ssize_t i = 0; i < array.size(); ++i) {
    if (array.data()[i] < 0) {
      throw std::invalid_argument("HeterogeneousRevolve: state_bytes[" + std::to_string(i) +
                                  "] = " + std::to_string(array.data()[i]) + " is negative");
    }
    out[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(array.data()[i]);
  }
  return out;
}

std::uint64_t non_negative(std::int64_t value, const char* what) {
  if (value < 0) {
    throw std::invalid_argument(std::string("HeterogeneousRevolve: ") + what + " = " +
                                std::to_string(value) + " must be >= 0");
  }
  return static_cast<std::uint64_t>(value);
}

std::string level_repr(const StorageLevel& level) {
  const std::string slots =
      level.slots == unlimited_slots ? std::string("UNLIMITED") : std::to_string(level.slots);
  return "StorageLevel(slots=" + slots +
         ", write_cost=" + py::repr(py::float_(level.write_cost)).cast<std::string>() +
         ", read_cost=" + py::repr(py::float_(level.read_cost)).cast<std::string>() + ")";
}

}  // namespace

void bind_planners(py::module_& m) {
  m.attr("UNLIMITED") = unlimited_slots;
  py::class_<StorageLevel>(m, "StorageLevel",
                           "A storage level: its slots (or cairn.UNLIMITED, last level only) and "
                           "the cost of one store (write) and one restore (read).")
      .def(py::init([](std::int64_t slots, double write_cost, double read_cost) {
             return StorageLevel{slots, write_cost, read_cost};
           }),
           "slots"_a, "write_cost"_a = 0.0, "read_cost"_a = 0.0)
      .def_readonly("slots", &StorageLevel::slots)
      .def_readonly("write_cost", &StorageLevel::write_cost)
      .def_readonly("read_cost", &StorageLevel::read_cost)
      .def("__eq__",
           [](const StorageLevel& a, const StorageLevel& b) {
             return a.slots == b.slots && a.write_cost == b.write_cost &&
                    a.read_cost == b.read_cost;
           })
      .def("__repr__", &level_repr);

  using MultilevelHandle = TypedHandle<MultilevelRevolve>;
  py::class_<MultilevelHandle, ScheduleHandle>(
      m, "MultilevelRevolve",
      "The cheapest schedule over one, two or three storage levels, the fastest first (RAM, "
      "disk; or device, pinned host, disk) with write/read costs per level and costs per "
      "forward and backward step (H-Revolve, Disk-Revolve).")
      .def(py::init([](std::int64_t steps, const py::sequence& levels, double forward_cost,
                       double backward_cost, std::size_t max_table_bytes) {
             std::vector<StorageLevel> list;
             for (std::size_t k = 0; k < levels.size(); ++k)
               list.push_back(
                   to_level(levels[k], "MultilevelRevolve: levels[" + std::to_string(k) + "]"));
             py::gil_scoped_release release;
             auto schedule = std::make_unique<MultilevelRevolve>(
                 steps, std::move(list), StepCosts{forward_cost, backward_cost}, max_table_bytes);
             std::vector<std::int64_t> slots = schedule->slots_per_level();
             return std::make_unique<MultilevelHandle>(std::move(schedule), std::move(slots));
           }),
           "steps"_a, "levels"_a, "forward_cost"_a = 1.0, "backward_cost"_a = 0.0,
           "max_table_bytes"_a = MultilevelRevolve::default_max_table_bytes)
      .def_property_readonly("steps", [](const MultilevelHandle& h) { return h.get().steps(); })
      .def_property_readonly("levels", [](const MultilevelHandle& h) { return h.get().levels(); })
      .def_property_readonly("forward_cost",
                             [](const MultilevelHandle& h) { return h.get().step_costs().forward; })
      .def_property_readonly(
          "backward_cost", [](const MultilevelHandle& h) { return h.get().step_costs().backward; })
      .def_property_readonly("optimal_cost",
                             [](const MultilevelHandle& h) { return h.get().optimal_cost(); })
      .def_property_readonly("action_count",
                             [](const MultilevelHandle& h) { return h.get().action_count(); })
      .def_property_readonly("table_bytes",
                             [](const MultilevelHandle& h) { return h.get().table_bytes(); })
      .def("__repr__", [](const MultilevelHandle& h) {
        std::string levels;
        for (const StorageLevel& level : h.get().levels()) {
          levels += (levels.empty() ? "" : ", ") + level_repr(level);
        }
        return "MultilevelRevolve(steps=" + std::to_string(h.get().steps()) + ", levels=[" +
               levels + "])";
      });

  using TwoLevelHandle = TypedHandle<TwoLevelRevolve>;
  py::class_<TwoLevelHandle, ScheduleHandle>(
      m, "TwoLevelRevolve",
      "RAM + disk for long runs: the cheapest disk-first schedule (Disk-Revolve, H-Revolve), "
      "planned in milliseconds for any T and generated as it is read; `sweeps` > 1 gives several "
      "adjoint sweeps from one forward run (docs/multilevel.md).")
      .def(py::init([](std::int64_t steps, const py::handle& ram, const py::handle& disk,
                       double forward_cost, double backward_cost, std::int64_t sweeps,
                       std::size_t max_table_bytes) {
             const StorageLevel ram_level = to_level(ram, "TwoLevelRevolve: ram");
             const StorageLevel disk_level = to_level(disk, "TwoLevelRevolve: disk");
             py::gil_scoped_release release;
             auto schedule = std::make_unique<TwoLevelRevolve>(
                 steps, ram_level, disk_level, StepCosts{forward_cost, backward_cost}, sweeps,
                 max_table_bytes);
             std::vector<std::int64_t> slots = schedule->slots_per_level();
             return std::make_unique<TwoLevelHandle>(std::move(schedule), std::move(slots));
           }),
           "steps"_a, "ram"_a, "disk"_a, "forward_cost"_a = 1.0, "backward_cost"_a = 0.0,
           "sweeps"_a = 1, "max_table_bytes"_a = TwoLevelRevolve::default_max_table_bytes)
      .def_property_readonly("steps", [](const TwoLevelHandle& h) { return h.get().steps(); })
      .def_property_readonly("sweeps", [](const TwoLevelHandle& h) { return h.get().sweeps(); })
      .def_property_readonly("optimal_cost",
                             [](const TwoLevelHandle& h) { return h.get().optimal_cost(); })
      .def_property_readonly("disk_checkpoints",
                             [](const TwoLevelHandle& h) { return h.get().disk_checkpoints(); })
      .def_property_readonly("period", [](const TwoLevelHandle& h) { return h.get().period(); })
      .def_property_readonly("longest_segment",
                             [](const TwoLevelHandle& h) { return h.get().longest_segment(); })
      .def_property_readonly("proven_optimal",
                             [](const TwoLevelHandle& h) { return h.get().proven_optimal(); })
      .def_property_readonly("table_bytes",
                             [](const TwoLevelHandle& h) { return h.get().table_bytes(); })
      .def("__repr__", [](const TwoLevelHandle& h) {
        return "TwoLevelRevolve(steps=" + std::to_string(h.get().steps()) +
               ", sweeps=" + std::to_string(h.get().sweeps()) + ")";
      });

  using MixedHandle = TypedHandle<MixedRevolve>;
  py::class_<MixedHandle, ScheduleHandle>(
      m, "MixedRevolve",
      "Maddison's mixed checkpointing: each of `units` storage units holds a restart state or the "
      "adjoint data of one step (adjoint_units units each, e.g. 4 for rk4's stage inputs), "
      "whichever the optimal schedule wants; never more forward evaluations than Revolve with as "
      "many slots (docs/mixed.md).")
      .def(py::init([](std::int64_t steps, std::int64_t units, std::int64_t adjoint_units,
                       double forward_cost, double taped_cost, double backward_cost,
                       std::size_t max_table_bytes) {
             py::gil_scoped_release release;
             auto schedule = std::make_unique<MixedRevolve>(
                 steps, units, adjoint_units, MixedPrices{forward_cost, taped_cost, backward_cost},
                 max_table_bytes);
             std::vector<std::int64_t> slots = schedule->slots_per_level();
             return std::make_unique<MixedHandle>(std::move(schedule), std::move(slots));
           }),
           "steps"_a, "units"_a, "adjoint_units"_a = 1, "forward_cost"_a = 1.0,
           "taped_cost"_a = 1.0, "backward_cost"_a = 0.0,
           "max_table_bytes"_a = MixedRevolve::default_max_table_bytes)
      .def_property_readonly("steps", [](const MixedHandle& h) { return h.get().steps(); })
      .def_property_readonly("units", [](const MixedHandle& h) { return h.get().units(); })
      .def_property_readonly("adjoint_units",
                             [](const MixedHandle& h) { return h.get().adjoint_data_units(); })
      .def_property_readonly("optimal_cost",
                             [](const MixedHandle& h) { return h.get().optimal_cost(); })
      .def_property_readonly(
          "forward_evaluations",
          [](const MixedHandle& h) { return h.get().expected_costs().forward_evaluations(); })
      .def_property_readonly("table_bytes",
                             [](const MixedHandle& h) { return h.get().table_bytes(); })
      .def("__repr__", [](const MixedHandle& h) {
        return "MixedRevolve(steps=" + std::to_string(h.get().steps()) +
               ", units=" + std::to_string(h.get().units()) +
               ", adjoint_units=" + std::to_string(h.get().adjoint_data_units()) + ")";
      });

  using HeterogeneousHandle = TypedHandle<HeterogeneousRevolve>;
  py::class_<HeterogeneousHandle, ScheduleHandle>(
      m, "HeterogeneousRevolve",
      "The cheapest nested schedule for a chain of T steps with their own forward and backward "
      "costs and state sizes (state_bytes[i] is the size of x_i), within budget_bytes of "
      "checkpoints (x_0's included).")
      .def(py::init([](const py::object& forward_costs, const py::object& backward_costs,
                       const py::object& state_bytes, std::int64_t budget_bytes,
                       std::int64_t memory_unit, std::size_t max_table_bytes,
                       bool exhaustive_splits) {
             const std::vector<double> f = doubles(forward_costs, "forward_costs");
             const std::vector<double> b = doubles(backward_costs, "backward_costs");
             const std::vector<std::uint64_t> s = sizes(state_bytes);
             if (b.size() != f.size() || s.size() != f.size()) {
               throw std::invalid_argument(
                   "HeterogeneousRevolve: forward_costs, backward_costs and state_bytes must "
                   "have the same length T (got " +
                   std::to_string(f.size()) + ", " + std::to_string(b.size()) + " and " +
                   std::to_string(s.size()) + ")");
             }
             std::vector<ChainStep> chain(f.size());
             for (std::size_t i = 0; i < f.size(); ++i) chain[i] = ChainStep{f[i], b[i], s[i]};
             const std::uint64_t budget = non_negative(budget_bytes, "budget_bytes");
             const std::uint64_t unit = non_negative(memory_unit, "memory_unit");
             py::gil_scoped_release release;
             auto schedule = std::make_unique<HeterogeneousRevolve>(
                 std::move(chain), budget, unit, max_table_bytes, exhaustive_splits);
             const std::int64_t slots = schedule->slots();
             return std::make_unique<HeterogeneousHandle>(std::move(schedule),
                                                          std::vector<std::int64_t>{slots});
           }),
           "forward_costs"_a, "backward_costs"_a, "state_bytes"_a, "budget_bytes"_a,
           "memory_unit"_a = 0, "max_table_bytes"_a = HeterogeneousRevolve::default_max_table_bytes,
           "exhaustive_splits"_a = false)
      .def_property_readonly("steps", [](const HeterogeneousHandle& h) { return h.get().steps(); })
      .def_property_readonly("optimal_cost",
                             [](const HeterogeneousHandle& h) { return h.get().optimal_cost(); })
      .def_property_readonly("slots", [](const HeterogeneousHandle& h) { return h.get().slots(); })
      .def_property_readonly("peak_bytes",
                             [](const HeterogeneousHandle& h) { return h.get().peak_bytes(); })
      .def_property_readonly("memory_unit",
                             [](const HeterogeneousHandle& h) { return h.get().memory_unit(); })
      .def_property_readonly("table_bytes",
                             [](const HeterogeneousHandle& h) { return h.get().table_bytes(); })
      .def_property_readonly("action_count",
                             [](const HeterogeneousHandle& h) { return h.get().action_count(); })
      .def_property_readonly("bounded_search",
                             [](const HeterogeneousHandle& h) { return h.get().bounded_search(); })
      .def("__repr__", [](const HeterogeneousHandle& h) {
        return "HeterogeneousRevolve(steps=" + std::to_string(h.get().steps()) +
               ", peak_bytes=" + std::to_string(h.get().peak_bytes()) + ")";
      });
}

}  // namespace cairn::python
