// The T x L grid model for Python: GridLayer, GridShape, GridAction(Kind), check_grid and its
// GridCosts, and the schedules (store-all, blocked, nested) with their cost formulas and
// optimizers. Streams can hold millions of actions, so they travel as three NumPy arrays
// (kind: uint8, layer: int32, step: int64) rather than lists of Python objects.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <vector>

#include "bindings.hpp"
#include "cairn/grid.hpp"
#include "cairn/grid_schedules.hpp"

namespace cairn::python {
namespace {

using namespace pybind11::literals;

using Arrays =
    std::tuple<py::array_t<std::uint8_t>, py::array_t<std::int32_t>, py::array_t<std::int64_t>>;

Arrays to_arrays(const std::vector<GridAction>& actions) {
  const auto n = static_cast<py::ssize_t>(actions.size());
  py::array_t<std::uint8_t> kind(n);
  py::array_t<std::int32_t> layer(n);
  py::array_t<std::int64_t> step(n);
  auto k = kind.mutable_unchecked<1>();
  auto l = layer.mutable_unchecked<1>();
  auto s = step.mutable_unchecked<1>();
  for (py::ssize_t i = 0; i < n; ++i) {
    const auto& a = actions[static_cast<std::size_t>(i)];
    k(i) = static_cast<std::uint8_t>(a.kind);
    l(i) = a.layer;
    s(i) = a.step;
  }
  return Arrays{kind, layer, step};
}

std::vector<GridAction> from_arrays(const py::array_t<std::uint8_t, py::array::forcecast>& kind,
                                    const py::array_t<std::int32_t, py::array::forcecast>& layer,
                                    const py::array_t<std::int64_t, py::array::forcecast>& step) {
  if (kind.ndim() != 1 || layer.ndim() != 1 || step.ndim() != 1 || kind.size() != layer.size() ||
      kind.size() != step.size()) {
    throw py::value_error("check_grid: kind, layer and step must be 1-D and of one length");
  }
  const auto k = kind.unchecked<1>();
  const auto l = layer.unchecked<1>();
  const auto s = step.unchecked<1>();
  std::vector<GridAction> out(static_cast<std::size_t>(kind.size()));
  for (py::ssize_t i = 0; i < kind.size(); ++i) {
    if (k(i) > 2) throw py::value_error("check_grid: a kind is 0 (compute), 1 (free) or 2");
    out[static_cast<std::size_t>(i)] = GridAction{static_cast<GridActionKind>(k(i)), l(i), s(i)};
  }
  return out;
}

}  // namespace

void bind_grids(py::module_& m) {
  py::class_<GridLayer>(m, "GridLayer", "One layer of the grid: its costs and bytes.")
      .def(py::init([](double f, double b, std::uint64_t sb, std::uint64_t tb) {
             return GridLayer{f, b, sb, tb};
           }),
           "forward_cost"_a = 1.0, "backward_cost"_a = 1.0, "state_bytes"_a = 1, "tape_bytes"_a = 0)
      .def_readwrite("forward_cost", &GridLayer::forward_cost)
      .def_readwrite("backward_cost", &GridLayer::backward_cost)
      .def_readwrite("state_bytes", &GridLayer::state_bytes)
      .def_readwrite("tape_bytes", &GridLayer::tape_bytes);
  py::class_<GridShape>(m, "GridShape", "T steps of L layers; ValueError on a bad shape.")
      .def(py::init<std::int64_t, std::vector<GridLayer>>(), "steps"_a, "layers"_a)
      .def_static("uniform", &GridShape::uniform, "steps"_a, "layers"_a)
      .def_property_readonly("steps", &GridShape::steps)
      .def_property_readonly("depth", &GridShape::depth)
      .def_property_readonly("cells", &GridShape::cells)
      .def_property_readonly("column_bytes", &GridShape::column_bytes)
      .def_property_readonly("layers", &GridShape::layers)
      .def("layer", &GridShape::layer, "l"_a);
  py::enum_<GridActionKind>(m, "GridActionKind")
      .value("compute", GridActionKind::compute)
      .value("free", GridActionKind::free)
      .value("reverse", GridActionKind::reverse);
  py::class_<GridAction>(m, "GridAction", "What a grid stream does with cell (step, layer).")
      .def(py::init([](GridActionKind k, std::int32_t l, std::int64_t s) {
             return GridAction{k, l, s};
           }),
           "kind"_a, "layer"_a, "step"_a)
      .def_readwrite("kind", &GridAction::kind)
      .def_readwrite("layer", &GridAction::layer)
      .def_readwrite("step", &GridAction::step);
  py::class_<GridCosts>(m, "GridCosts", "check_grid's verdict on a stream.")
      .def_readonly("legal", &GridCosts::legal)
      .def_readonly("first_illegal_index", &GridCosts::first_illegal_index)
      .def_readonly("reason", &GridCosts::reason)
      .def_readonly("computes", &GridCosts::computes)
      .def_readonly("frees", &GridCosts::frees)
      .def_readonly("reverses", &GridCosts::reverses)
      .def_readonly("recomputes", &GridCosts::recomputes)
      .def_readonly("max_computes_per_cell", &GridCosts::max_computes_per_cell)
      .def_readonly("forward_cost", &GridCosts::forward_cost)
      .def_readonly("reverse_cost", &GridCosts::reverse_cost)
      .def_readonly("cost", &GridCosts::cost)
      .def_readonly("peak_state_bytes", &GridCosts::peak_state_bytes)
      .def_readonly("peak_state_cells", &GridCosts::peak_state_cells)
      .def_readonly("peak_adjoint_bytes", &GridCosts::peak_adjoint_bytes)
      .def_readonly("peak_bytes", &GridCosts::peak_bytes);
  m.def(
      "check_grid",
      [](const GridShape& shape, const py::array_t<std::uint8_t, py::array::forcecast>& kind,
         const py::array_t<std::int32_t, py::array::forcecast>& layer,
         const py::array_t<std::int64_t, py::array::forcecast>& step) {
        auto actions = from_arrays(kind, layer, step);
        py::gil_scoped_release release;
        return check_grid(shape, actions);
      },
      "shape"_a, "kind"_a, "layer"_a, "step"_a,
      "Replays a stream given as three arrays (kind uint8, layer int32, step int64).");
  m.def(
      "grid_store_all", [](const GridShape& s) { return to_arrays(grid_store_all(s)); }, "shape"_a,
      "Store-all's stream as three NumPy arrays (kind, layer, step).");
  py::class_<BlockedCosts>(m, "BlockedCosts", "The blocked schedule's costs in closed form.")
      .def_readonly("block_steps", &BlockedCosts::block_steps)
      .def_readonly("block_layers", &BlockedCosts::block_layers)
      .def_readonly("computes", &BlockedCosts::computes)
      .def_readonly("recomputes", &BlockedCosts::recomputes)
      .def_readonly("max_computes_per_cell", &BlockedCosts::max_computes_per_cell)
      .def_readonly("checkpoint_cells", &BlockedCosts::checkpoint_cells)
      .def_readonly("checkpoint_bytes", &BlockedCosts::checkpoint_bytes)
      .def_readonly("forward_cost", &BlockedCosts::forward_cost)
      .def_readonly("peak_state_bytes", &BlockedCosts::peak_state_bytes);
  m.def(
      "grid_blocked",
      [](const GridShape& s, std::int64_t bt, std::int64_t bl) {
        return to_arrays(grid_blocked(s, bt, bl));
      },
      "shape"_a, "block_steps"_a, "block_layers"_a,
      "The blocked stream as three NumPy arrays (kind, layer, step).");
  m.def("blocked_costs", &blocked_costs, "shape"_a, "block_steps"_a, "block_layers"_a);
  m.def("optimal_block_sizes", &optimal_block_sizes, "shape"_a, "budget_state_bytes"_a,
        "The cheapest (bt, bl) within the budget; ValueError naming the least otherwise.");
  py::enum_<GridNesting>(m, "GridNesting")
      .value("time_outer", GridNesting::time_outer)
      .value("depth_outer", GridNesting::depth_outer);
  py::class_<NestedCosts>(m, "NestedCosts", "The nested schedule's costs.")
      .def_readonly("nesting", &NestedCosts::nesting)
      .def_readonly("outer_slots", &NestedCosts::outer_slots)
      .def_readonly("inner_slots", &NestedCosts::inner_slots)
      .def_readonly("computes", &NestedCosts::computes)
      .def_readonly("recomputes", &NestedCosts::recomputes)
      .def_readonly("max_computes_per_cell", &NestedCosts::max_computes_per_cell)
      .def_readonly("forward_cost", &NestedCosts::forward_cost)
      .def_readonly("peak_state_bytes", &NestedCosts::peak_state_bytes);
  m.def(
      "grid_nested",
      [](const GridShape& s, GridNesting n, std::int64_t o, std::int64_t i) {
        return to_arrays(grid_nested(s, n, o, i));
      },
      "shape"_a, "nesting"_a, "outer_slots"_a, "inner_slots"_a,
      "The nested stream as three NumPy arrays (kind, layer, step).");
  m.def("nested_costs", &nested_costs, "shape"_a, "nesting"_a, "outer_slots"_a, "inner_slots"_a);
  m.def("optimal_nested_slots", &optimal_nested_slots, "shape"_a, "nesting"_a,
        "budget_state_bytes"_a,
        "The cheapest slots within the budget; ValueError naming the least otherwise.");
}

}  // namespace cairn::python
