// plan_store_all: every node recorded once, the backward in reverse order.
#include <vector>

#include "cairn/graph.hpp"

namespace cairn {

GraphPlan plan_store_all(const Graph& graph) {
  graph.validate();
  const std::int64_t n = graph.size();
  GraphPlan plan;
  plan.method = "store_all";
  plan.actions.reserve(static_cast<std::size_t>(3 * n));
  for (std::int64_t v = 0; v < n; ++v) plan.actions.push_back({GraphActionKind::record, v});
  // An output is free to go once every consumer has run backward: only their tapes pinned it.
  // Nodes run backward in decreasing order, so "every consumer" means "the smallest consumer".
  // An output its own tape keeps goes after its own backward (its consumers are done by then).
  for (std::int64_t v = n - 1; v >= 0; --v) {
    plan.actions.push_back({GraphActionKind::backward, v});
    // (Not after node 0's backward, which completes the stream.)
    if (v > 0 && (v == n - 1 || graph.node(v).tape_holds_output)) {
      plan.actions.push_back({GraphActionKind::free, v});
    }
    for (const std::int64_t u : graph.inputs(v)) {
      if (graph.consumers(u).front() == v && !graph.node(u).tape_holds_output) {
        plan.actions.push_back({GraphActionKind::free, u});
      }
    }
  }
  const GraphPlanCosts costs = check_plan(graph, plan.actions);
  plan.cost = costs.cost;
  plan.peak_bytes = costs.peak_bytes;
  plan.optimal = true;  // sum f + sum b: every node must be evaluated and run backward once
  plan.lower_bound = plan.cost;
  return plan;
}

}  // namespace cairn
