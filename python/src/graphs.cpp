// The deep-network model for Python: GraphNode, Graph, GraphAction(Kind), check_plan and its
// GraphPlanCosts, GraphPlan, and the planners (store-all, exhaustive, chain dynamic programming,
// segments, structure-aware, and the MILP where the package was built with CBC). Planning runs
// with the GIL released; a plan's actions come as a list of GraphAction or, for speed, as one
// array of GRAPH_ACTION_DTYPE.
#include <pybind11/stl.h>

#include <cstddef>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "cairn/chain_plan.hpp"
#include "cairn/graph.hpp"
#include "cairn/graph_planners.hpp"
#ifdef CAIRN_PYTHON_WITH_MILP
#include "cairn/graph_milp.hpp"
#endif

namespace cairn::python {
namespace {

using namespace pybind11::literals;

static_assert(sizeof(GraphAction) == 16, "GraphAction must be 16 bytes for GRAPH_ACTION_DTYPE");
static_assert(offsetof(GraphAction, kind) == 0 && sizeof(GraphActionKind) == 1, "kind: u1 @ 0");
static_assert(offsetof(GraphAction, node) == 8, "GraphAction::node: i8 @ 8");

// Created once and never destroyed: a py::object destructor running after the interpreter's
// finalization would need the GIL that no longer exists.
py::dtype graph_action_dtype() {
  static py::dtype* dtype = [] {
    py::list names, formats, offsets;
    names.append("kind");
    formats.append("u1");
    offsets.append(0);
    names.append("node");
    formats.append("<i8");
    offsets.append(8);
    return new py::dtype(py::dtype::from_args(py::dict("names"_a = names, "formats"_a = formats,
                                                       "offsets"_a = offsets, "itemsize"_a = 16)));
  }();
  return *dtype;
}

py::array to_array(const std::vector<GraphAction>& actions) {
  py::array out(graph_action_dtype(),
                std::vector<py::ssize_t>{static_cast<py::ssize_t>(actions.size())});
  if (!actions.empty()) {
    std::memcpy(out.mutable_data(), actions.data(), actions.size() * sizeof(GraphAction));
  }
  return out;
}

// A stream given as an array of GRAPH_ACTION_DTYPE, or any iterable of GraphAction or
// (kind, node) pairs.
std::vector<GraphAction> to_actions(const py::object& actions) {
  std::vector<GraphAction> out;
  if (py::isinstance<py::array>(actions)) {
    const auto array = actions.cast<py::array>();
    if (PyObject_RichCompareBool(array.dtype().ptr(), graph_action_dtype().ptr(), Py_EQ) != 1 ||
        array.ndim() != 1 || !(array.flags() & py::array::c_style)) {
      throw py::type_error(
          "check_plan: an array of actions must be 1-D, C-contiguous and of "
          "cairn.GRAPH_ACTION_DTYPE");
    }
    out.resize(static_cast<std::size_t>(array.size()));
    if (!out.empty()) std::memcpy(out.data(), array.data(), out.size() * sizeof(GraphAction));
  } else {
    for (const py::handle item : actions) {
      if (py::isinstance<GraphAction>(item)) {
        out.push_back(item.cast<GraphAction>());
        continue;
      }
      const auto pair = item.cast<std::pair<std::int64_t, std::int64_t>>();
      out.push_back(GraphAction{static_cast<GraphActionKind>(pair.first), pair.second});
    }
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (static_cast<unsigned>(out[i].kind) > static_cast<unsigned>(GraphActionKind::backward)) {
      throw std::invalid_argument("check_plan: actions[" + std::to_string(i) +
                                  "].kind = " + std::to_string(static_cast<unsigned>(out[i].kind)) +
                                  " is no cairn.GraphActionKind (0..3)");
    }
  }
  return out;
}

std::uint64_t budget(std::int64_t bytes, const char* who) {
  if (bytes < 0) {
    throw std::invalid_argument(std::string(who) + ": budget_bytes = " + std::to_string(bytes) +
                                " must be >= 0");
  }
  return static_cast<std::uint64_t>(bytes);
}

ChainPlanOptions chain_options(std::int64_t memory_unit, std::size_t max_table_bytes,
                               bool exhaustive_splits, const char* who) {
  if (memory_unit < 0) {
    throw std::invalid_argument(std::string(who) + ": memory_unit = " +
                                std::to_string(memory_unit) + " must be >= 0 (0: exact)");
  }
  ChainPlanOptions options;
  options.memory_unit = static_cast<std::uint64_t>(memory_unit);
  options.max_table_bytes = max_table_bytes;
  options.exhaustive_splits = exhaustive_splits;
  return options;
}

std::string node_repr(const GraphNode& n) {
  return "GraphNode(forward_cost=" + py::repr(py::float_(n.forward_cost)).cast<std::string>() +
         ", backward_cost=" + py::repr(py::float_(n.backward_cost)).cast<std::string>() +
         ", output_bytes=" + std::to_string(n.output_bytes) +
         ", tape_bytes=" + std::to_string(n.tape_bytes) +
         ", name=" + py::repr(py::str(n.name)).cast<std::string>() +
         (n.compute_workspace_bytes != 0
              ? ", compute_workspace_bytes=" + std::to_string(n.compute_workspace_bytes)
              : std::string()) +
         (n.record_workspace_bytes != 0
              ? ", record_workspace_bytes=" + std::to_string(n.record_workspace_bytes)
              : std::string()) +
         (n.backward_workspace_bytes != 0
              ? ", backward_workspace_bytes=" + std::to_string(n.backward_workspace_bytes)
              : std::string()) +
         (n.tape_holds_output ? std::string(", tape_holds_output=True") : std::string()) + ")";
}

std::string action_repr(const GraphAction& a) {
  return std::string("GraphAction.") + to_string(a.kind) + "(" + std::to_string(a.node) + ")";
}

void bind_model(py::module_& m) {
  py::class_<GraphNode>(m, "GraphNode",
                        "One operation of a forward pass: forward and backward costs, the bytes "
                        "of its output and of its autograd tape beyond its inputs, the scratch "
                        "its forward and its backward hold only while they run, and whether "
                        "its tape keeps its output.")
      .def(py::init([](double f, double b, std::uint64_t a, std::uint64_t tape, std::string name,
                       std::uint64_t compute_workspace, std::uint64_t record_workspace,
                       std::uint64_t backward_workspace, bool tape_holds_output) {
             GraphNode node{f, b, a, tape, std::move(name)};
             node.compute_workspace_bytes = compute_workspace;
             node.record_workspace_bytes = record_workspace;
             node.backward_workspace_bytes = backward_workspace;
             node.tape_holds_output = tape_holds_output;
             return node;
           }),
           "forward_cost"_a = 1.0, "backward_cost"_a = 1.0, "output_bytes"_a = 1,
           "tape_bytes"_a = 0, "name"_a = "", py::kw_only(), "compute_workspace_bytes"_a = 0,
           "record_workspace_bytes"_a = 0, "backward_workspace_bytes"_a = 0,
           "tape_holds_output"_a = false)
      .def_readwrite("forward_cost", &GraphNode::forward_cost)
      .def_readwrite("backward_cost", &GraphNode::backward_cost)
      .def_readwrite("output_bytes", &GraphNode::output_bytes)
      .def_readwrite("tape_bytes", &GraphNode::tape_bytes)
      .def_readwrite("name", &GraphNode::name)
      .def_readwrite("compute_workspace_bytes", &GraphNode::compute_workspace_bytes)
      .def_readwrite("record_workspace_bytes", &GraphNode::record_workspace_bytes)
      .def_readwrite("backward_workspace_bytes", &GraphNode::backward_workspace_bytes)
      .def_readwrite("tape_holds_output", &GraphNode::tape_holds_output)
      .def("__repr__", &node_repr);

  py::class_<Graph>(m, "Graph",
                    "A DAG of GraphNodes in topological order: node v reads earlier nodes only; "
                    "a node without inputs reads the network input; the last node is the output.")
      .def(py::init<>())
      .def("add", &Graph::add, "node"_a, "inputs"_a = std::vector<std::int64_t>{},
           "Adds node v = len(graph) reading the outputs of `inputs`; returns v.")
      .def_static("chain", &Graph::chain, "layers"_a, "The chain layer 0 -> layer 1 -> ...")
      .def("size", &Graph::size)
      .def("__len__", &Graph::size)
      .def("node", &Graph::node, "v"_a, py::return_value_policy::copy)
      .def("inputs", &Graph::inputs, "v"_a, py::return_value_policy::copy)
      .def("consumers", &Graph::consumers, "v"_a, py::return_value_policy::copy)
      .def("is_chain", &Graph::is_chain)
      .def("validate", &Graph::validate)
      .def_property("output_gradient_held", &Graph::output_gradient_held,
                    &Graph::set_output_gradient_held,
                    "Whether the network output's gradient stays held from the last node's "
                    "backward to the end of the stream (cairn.torch's graphs: the autograd "
                    "engine keeps it while the plan's one function runs); False by default.")
      .def("__repr__", [](const Graph& g) {
        return "Graph(size=" + std::to_string(g.size()) +
               (g.is_chain() ? ", chain)" : std::string(")"));
      });

  py::enum_<GraphActionKind>(m, "GraphActionKind")
      .value("COMPUTE", GraphActionKind::compute)
      .value("RECORD", GraphActionKind::record)
      .value("FREE", GraphActionKind::free)
      .value("BACKWARD", GraphActionKind::backward);
  m.attr("GRAPH_ACTION_DTYPE") = graph_action_dtype();

  py::class_<GraphAction>(m, "GraphAction", "What a graph plan does with one node.")
      .def(py::init([](GraphActionKind kind, std::int64_t node) {
             return GraphAction{kind, node};
           }),
           "kind"_a, "node"_a)
      .def_readonly("kind", &GraphAction::kind)
      .def_readonly("node", &GraphAction::node)
      .def("__eq__", [](const GraphAction& a, const GraphAction& b) { return a == b; })
      .def("__hash__",
           [](const GraphAction& a) {
             return py::hash(py::make_tuple(static_cast<int>(a.kind), a.node));
           })
      .def("__repr__", &action_repr);

  py::class_<GraphPlanCosts>(m, "GraphPlanCosts", "check_plan's verdict on a stream.")
      .def_readonly("legal", &GraphPlanCosts::legal)
      .def_readonly("first_illegal_index", &GraphPlanCosts::first_illegal_index)
      .def_readonly("reason", &GraphPlanCosts::reason)
      .def_readonly("forward_cost", &GraphPlanCosts::forward_cost)
      .def_readonly("backward_cost", &GraphPlanCosts::backward_cost)
      .def_readonly("cost", &GraphPlanCosts::cost)
      .def_readonly("peak_bytes", &GraphPlanCosts::peak_bytes)
      .def_readonly("peak_action_index", &GraphPlanCosts::peak_action_index)
      .def_readonly("computes", &GraphPlanCosts::computes)
      .def_readonly("records", &GraphPlanCosts::records)
      .def_readonly("frees", &GraphPlanCosts::frees)
      .def_readonly("backwards", &GraphPlanCosts::backwards)
      .def("__bool__", [](const GraphPlanCosts& c) { return c.legal; })
      .def("__repr__", [](const GraphPlanCosts& c) {
        return std::string("GraphPlanCosts(legal=") + (c.legal ? "True" : "False") +
               (c.legal ? "" : ", reason=" + py::repr(py::str(c.reason)).cast<std::string>()) +
               ", cost=" + py::repr(py::float_(c.cost)).cast<std::string>() +
               ", peak_bytes=" + std::to_string(c.peak_bytes) + ")";
      });

  py::class_<GraphPlan>(m, "GraphPlan", "A complete legal stream and what it costs.")
      .def_property_readonly(
          "actions", [](const GraphPlan& p) { return p.actions; },
          "The stream as a list of GraphAction (action_array() is faster).")
      .def(
          "action_array", [](const GraphPlan& p) { return to_array(p.actions); },
          "The stream as a 1-D array of GRAPH_ACTION_DTYPE (fields kind, node).")
      .def_readonly("cost", &GraphPlan::cost)
      .def_readonly("peak_bytes", &GraphPlan::peak_bytes)
      .def_readonly("method", &GraphPlan::method)
      .def_readonly("optimal", &GraphPlan::optimal)
      .def_readonly("lower_bound", &GraphPlan::lower_bound)
      .def("__len__", [](const GraphPlan& p) { return p.actions.size(); })
      .def("__repr__", [](const GraphPlan& p) {
        return "GraphPlan(method=" + py::repr(py::str(p.method)).cast<std::string>() +
               ", actions=" + std::to_string(p.actions.size()) +
               ", cost=" + py::repr(py::float_(p.cost)).cast<std::string>() +
               ", peak_bytes=" + std::to_string(p.peak_bytes) +
               ", optimal=" + (p.optimal ? "True" : "False") + ")";
      });
}

void bind_graph_planners(py::module_& m) {
  m.def("exact_memory_unit", &exact_memory_unit, "graph"_a,
        "The greatest common divisor of every size in the graph (outputs, tapes, workspaces): "
        "the unit plan_chain and plan_milp count in by default (memory_unit=0).");
  m.def(
      "check_plan",
      [](const Graph& graph, const py::object& actions) {
        std::vector<GraphAction> stream = to_actions(actions);
        py::gil_scoped_release release;
        return check_plan(graph, stream);
      },
      "graph"_a, "actions"_a,
      "Replays a stream (GraphPlan.actions, an array of GRAPH_ACTION_DTYPE, or (kind, node) "
      "pairs) against the memory model: legality, costs, peak bytes.");
  m.def(
      "plan_store_all",
      [](const Graph& graph) {
        py::gil_scoped_release release;
        return plan_store_all(graph);
      },
      "graph"_a, "Record everything, then run everything backward: the least cost.");
  m.def(
      "plan_exhaustive",
      [](const Graph& graph, std::int64_t budget_bytes, std::int64_t max_states) {
        const std::uint64_t b = budget(budget_bytes, "plan_exhaustive");
        py::gil_scoped_release release;
        return plan_exhaustive(graph, b, max_states);
      },
      "graph"_a, "budget_bytes"_a, "max_states"_a = 20'000'000,
      "The cheapest of all legal streams within the budget (tiny graphs, tests).");
  m.def(
      "plan_chain",
      [](const Graph& graph, std::int64_t budget_bytes, std::int64_t memory_unit,
         std::size_t max_table_bytes, bool exhaustive_splits) {
        const std::uint64_t b = budget(budget_bytes, "plan_chain");
        const ChainPlanOptions options =
            chain_options(memory_unit, max_table_bytes, exhaustive_splits, "plan_chain");
        py::gil_scoped_release release;
        return plan_chain(graph, b, options);
      },
      "graph"_a, "budget_bytes"_a, "memory_unit"_a = 0, "max_table_bytes"_a = std::size_t{1} << 30,
      "exhaustive_splits"_a = false, "The cheapest plan for a chain within the budget.");
  m.def(
      "chain_min_budget",
      [](const Graph& graph, std::int64_t memory_unit, std::size_t max_table_bytes) {
        const ChainPlanOptions options =
            chain_options(memory_unit, max_table_bytes, false, "chain_min_budget");
        py::gil_scoped_release release;
        return chain_min_budget(graph, options);
      },
      "graph"_a, "memory_unit"_a = 0, "max_table_bytes"_a = std::size_t{1} << 30,
      "The least budget for which plan_chain finds a plan.");
  m.def(
      "plan_segments",
      [](const Graph& graph, std::int64_t segments) {
        py::gil_scoped_release release;
        return plan_segments(graph, segments);
      },
      "graph"_a, "segments"_a = 0,
      "Chen's sqrt(n) segments over the topological order (0: round(sqrt(n))).");
  m.def(
      "plan_structure_aware",
      [](const Graph& graph) {
        py::gil_scoped_release release;
        return plan_structure_aware(graph);
      },
      "graph"_a, "Keep what skip connections read, recompute inside the blocks.");
#ifdef CAIRN_PYTHON_WITH_MILP
  m.attr("HAS_MILP") = true;
  m.def(
      "plan_milp",
      [](const Graph& graph, std::int64_t budget_bytes, double time_limit_seconds, int threads,
         double relative_gap, bool warm_start, bool log) {
        const std::uint64_t b = budget(budget_bytes, "plan_milp");
        const MilpOptions options{time_limit_seconds, threads, relative_gap, warm_start, log};
        py::gil_scoped_release release;
        return plan_milp(graph, b, options);
      },
      "graph"_a, "budget_bytes"_a, "time_limit_seconds"_a = 60.0, "threads"_a = 1,
      "relative_gap"_a = 0.0, "warm_start"_a = true, "log"_a = false,
      "The cheapest plan of a graph within the budget in the MILP's class (CBC); past the time "
      "limit the best found, with optimal False and lower_bound CBC's bound.");
  m.def(
      "milp_min_budget",
      [](const Graph& graph, double time_limit_seconds, int threads) {
        MilpOptions options;
        options.time_limit_seconds = time_limit_seconds;
        options.threads = threads;
        py::gil_scoped_release release;
        return milp_min_budget(graph, options);
      },
      "graph"_a, "time_limit_seconds"_a = 60.0, "threads"_a = 1,
      "The least budget for which plan_milp finds a plan.");
#else
  m.attr("HAS_MILP") = false;
  const auto no_cbc = [](const char* who) {
    return std::runtime_error(
        std::string(who) +
        ": this cairn package was built without CBC (the optional component cairn::milp); "
        "install coinor-libcbc-dev and rebuild, or plan with plan_structure_aware, "
        "plan_segments or plan_exhaustive (tiny graphs)");
  };
  m.def(
      "plan_milp",
      [no_cbc](const py::args&, const py::kwargs&) -> GraphPlan { throw no_cbc("plan_milp"); },
      "The optimal plan of a graph within a budget: unavailable, built without CBC.");
  m.def(
      "milp_min_budget",
      [no_cbc](const py::args&, const py::kwargs&) -> std::uint64_t {
        throw no_cbc("milp_min_budget");
      },
      "The least budget of plan_milp: unavailable, built without CBC.");
#endif
}

}  // namespace

void bind_graphs(py::module_& m) {
  bind_model(m);
  bind_graph_planners(m);
}

}  // namespace cairn::python
