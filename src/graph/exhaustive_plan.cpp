// plan_exhaustive: Dijkstra's shortest path over every state a legal stream can reach.
//
// A state is three bit sets (outputs held, tapes held, nodes run backward); gradient buffers
// follow from the last one. Actions are edges priced f_v, b_v or 0 (free), and an edge exists
// when plan_rules.hpp allows the action and its peak fits the budget, so the cheapest path to
// "every node run backward" is the cheapest legal stream of all, not of a class of streams.
#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cairn/graph.hpp"
#include "plan_rules.hpp"

namespace cairn {

namespace {

struct BitState {
  std::uint64_t bits;
  std::int64_t n;
  bool output(std::int64_t v) const { return (bits >> v) & 1U; }
  bool tape(std::int64_t v) const { return (bits >> (n + v)) & 1U; }
  bool backward_done(std::int64_t v) const { return (bits >> (2 * n + v)) & 1U; }
};

std::uint64_t held_bytes(const Graph& graph, const BitState& state) {
  std::uint64_t bytes = 0;
  for (std::int64_t v = 0; v < state.n; ++v) {
    const GraphNode& node = graph.node(v);
    if (state.output(v)) bytes += node.output_bytes;
    if (state.tape(v)) bytes += node.tape_bytes;
    if (detail::has_gradient(graph, state, v)) bytes += node.output_bytes;
  }
  return bytes + detail::held_output_gradient(graph, state);
}

std::uint64_t after(const BitState& state, GraphAction action) {
  const std::uint64_t v = static_cast<std::uint64_t>(action.node);
  const std::uint64_t n = static_cast<std::uint64_t>(state.n);
  const std::uint64_t one = 1;
  switch (action.kind) {
    case GraphActionKind::compute:
      return state.bits | one << v;
    case GraphActionKind::record:
      return state.bits | one << v | one << (n + v);
    case GraphActionKind::free:
      return state.bits & ~(one << v);
    case GraphActionKind::backward:
      return (state.bits & ~(one << (n + v))) | one << (2 * n + v);
  }
  return state.bits;
}

struct Visit {
  double cost;
  std::uint64_t parent;
  GraphAction action;
  bool closed;
};

}  // namespace

GraphPlan plan_exhaustive(const Graph& graph, std::uint64_t budget_bytes, std::int64_t max_states) {
  graph.validate();
  const std::int64_t n = graph.size();
  if (n > 20) {
    throw std::invalid_argument("plan_exhaustive: the graph has " + std::to_string(n) +
                                " nodes; the exhaustive search takes at most 20");
  }
  const std::uint64_t all_done = ((std::uint64_t{1} << n) - 1) << (2 * n);
  std::unordered_map<std::uint64_t, Visit> visits;
  using Entry = std::pair<double, std::uint64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  visits.emplace(0, Visit{0, 0, {}, false});
  queue.push({0, 0});
  constexpr GraphActionKind kinds[] = {GraphActionKind::compute, GraphActionKind::record,
                                       GraphActionKind::free, GraphActionKind::backward};
  while (!queue.empty()) {
    const auto [cost, bits] = queue.top();
    queue.pop();
    Visit& visit = visits.at(bits);
    if (visit.closed || cost > visit.cost) continue;
    visit.closed = true;
    if ((bits & all_done) == all_done) {
      GraphPlan plan;
      plan.method = "exhaustive";
      for (std::uint64_t at = bits; at != 0;) {
        const Visit& step = visits.at(at);
        plan.actions.push_back(step.action);
        at = step.parent;
      }
      std::reverse(plan.actions.begin(), plan.actions.end());
      const GraphPlanCosts costs = check_plan(graph, plan.actions);
      if (!costs.legal || costs.peak_bytes > budget_bytes) {
        throw std::logic_error("plan_exhaustive: the stream found fails check_plan: " +
                               costs.reason);
      }
      plan.cost = costs.cost;
      plan.peak_bytes = costs.peak_bytes;
      plan.optimal = true;
      plan.lower_bound = plan.cost;
      return plan;
    }
    const BitState state{bits, n};
    const std::uint64_t held = held_bytes(graph, state);
    for (std::int64_t v = 0; v < n; ++v) {
      for (const GraphActionKind kind : kinds) {
        const GraphAction action{kind, v};
        if (detail::violation(graph, state, action)) continue;
        if (held + detail::allocated_bytes(graph, state, action) > budget_bytes) continue;
        const GraphNode& node = graph.node(v);
        const double price = kind == GraphActionKind::backward ? node.backward_cost
                             : kind == GraphActionKind::free   ? 0.0
                                                               : node.forward_cost;
        const std::uint64_t next = after(state, action);
        const auto [it, fresh] = visits.emplace(next, Visit{cost + price, bits, action, false});
        if (!fresh) {
          if (it->second.closed || it->second.cost <= cost + price) continue;
          it->second = Visit{cost + price, bits, action, false};
        }
        if (static_cast<std::int64_t>(visits.size()) > max_states) {
          throw std::length_error("plan_exhaustive: more than " + std::to_string(max_states) +
                                  " states; the graph is too large for the exhaustive search");
        }
        queue.push({cost + price, next});
      }
    }
  }
  throw std::invalid_argument("plan_exhaustive: no legal stream keeps its peak within " +
                              std::to_string(budget_bytes) + " bytes; store-all's peak is " +
                              std::to_string(plan_store_all(graph).peak_bytes) + " bytes");
}

}  // namespace cairn
