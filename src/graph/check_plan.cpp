// check_plan: replays a graph plan against the memory model of graph.hpp.
#include <algorithm>
#include <string>
#include <vector>

#include "cairn/graph.hpp"
#include "plan_rules.hpp"

namespace cairn {

namespace detail {

std::string describe(const Graph& graph, GraphAction action, Violation violation) {
  const std::string self = "node " + std::to_string(action.node);
  const std::string other = "node " + std::to_string(violation.other);
  switch (violation.kind) {
    case Violation::none:
      return {};
    case Violation::input_not_held:
      return "its input " + other + " is not held (compute or record it first)";
    case Violation::output_held:
      return "the output of " + self + " is already held (free it before evaluating it again)";
    case Violation::tape_held:
      return self + " already holds a tape";
    case Violation::already_backward:
      return self + " has already been run backward";
    case Violation::output_not_held:
      return "the output of " + self + " is not held";
    case Violation::pinned_by_tape:
      return "the tape of its consumer " + other + " keeps it alive until " + other +
             " is run backward";
    case Violation::pinned_by_own_tape:
      return "its own tape keeps it (tape_holds_output) until " + self + " is run backward";
    case Violation::output_before_backward:
      return self + " is the network's output, which the loss reads until its backward (node " +
             std::to_string(graph.size() - 1) + ")";
    case Violation::consumer_not_backward:
      return "its consumer " + other + " has not been run backward, so its gradient is incomplete";
    case Violation::no_tape:
      return self + " holds no tape (record it first)";
  }
  return {};
}

}  // namespace detail

namespace {

struct FlagState {
  std::vector<char> outputs, tapes, done;
  bool output(std::int64_t v) const { return outputs[static_cast<std::size_t>(v)] != 0; }
  bool tape(std::int64_t v) const { return tapes[static_cast<std::size_t>(v)] != 0; }
  bool backward_done(std::int64_t v) const { return done[static_cast<std::size_t>(v)] != 0; }
};

}  // namespace

GraphPlanCosts check_plan(const Graph& graph, const std::vector<GraphAction>& actions) {
  graph.validate();
  const auto n = static_cast<std::size_t>(graph.size());
  FlagState state{std::vector<char>(n, 0), std::vector<char>(n, 0), std::vector<char>(n, 0)};
  GraphPlanCosts costs;
  std::uint64_t held = 0;
  std::size_t backwards_left = n;
  // The reason names the action; built only on rejection, since plans run to many actions.
  const auto reject = [&](std::size_t index, const std::string& why) {
    costs.first_illegal_index = static_cast<std::int64_t>(index);
    costs.reason = why;
    if (index < actions.size()) {
      const GraphAction action = actions[index];
      costs.reason = "action " + std::to_string(index) + ", " + to_string(action.kind) + "(" +
                     std::to_string(action.node) + "): " + why;
    }
    costs.cost = costs.forward_cost + costs.backward_cost;
    return costs;
  };
  for (std::size_t index = 0; index < actions.size(); ++index) {
    const GraphAction action = actions[index];
    if (action.node < 0 || action.node >= graph.size()) {
      return reject(index, "no such node; nodes are 0.." + std::to_string(n - 1));
    }
    if (backwards_left == 0) return reject(index, "the plan is already complete");
    if (const auto violation = detail::violation(graph, state, action)) {
      return reject(index, detail::describe(graph, action, violation));
    }
    const std::uint64_t peak = held + detail::allocated_bytes(graph, state, action);
    if (peak > costs.peak_bytes) {
      costs.peak_bytes = peak;
      costs.peak_action_index = static_cast<std::int64_t>(index);
    }
    const auto v = static_cast<std::size_t>(action.node);
    const GraphNode& node = graph.node(action.node);
    switch (action.kind) {
      case GraphActionKind::compute:
      case GraphActionKind::record:
        costs.forward_cost += node.forward_cost;
        state.outputs[v] = 1;
        held += node.output_bytes;
        if (action.kind == GraphActionKind::record) {
          state.tapes[v] = 1;
          held += node.tape_bytes;
          ++costs.records;
        } else {
          ++costs.computes;
        }
        break;
      case GraphActionKind::free:
        state.outputs[v] = 0;
        held -= node.output_bytes;
        ++costs.frees;
        break;
      case GraphActionKind::backward:
        costs.backward_cost += node.backward_cost;
        // The buffers it creates stay; its tape, its workspace and its own buffer go (the peak
        // counted them).
        held = peak - node.tape_bytes - node.backward_workspace_bytes;
        if (detail::has_gradient(graph, state, action.node) ||
            (v + 1 == n && !graph.output_gradient_held())) {
          held -= node.output_bytes;
        }
        state.tapes[v] = 0;
        state.done[v] = 1;
        --backwards_left;
        ++costs.backwards;
        break;
    }
  }
  if (backwards_left > 0) {
    std::size_t first = n;
    while (first > 0 && state.done[first - 1] != 0) --first;
    return reject(actions.size(), "the stream ended before every node was run backward (node " +
                                      std::to_string(first - 1) + " was not)");
  }
  costs.legal = true;
  costs.cost = costs.forward_cost + costs.backward_cost;
  return costs;
}

}  // namespace cairn
