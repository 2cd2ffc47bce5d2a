#include "graph/early_frees.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace cairn::detail {

namespace {

std::size_t idx(std::int64_t v) {
  return static_cast<std::size_t>(v);
}

bool produces(GraphActionKind kind) {
  return kind == GraphActionKind::compute || kind == GraphActionKind::record;
}

}  // namespace

std::vector<GraphAction> with_early_frees(const Graph& graph,
                                          const std::vector<GraphAction>& stream) {
  const std::int64_t n = graph.size();
  const std::int64_t m = static_cast<std::int64_t>(stream.size());
  // Where each node is run backward (m when never: its tape then pins to the end).
  std::vector<std::int64_t> backward_at(idx(n), m);
  for (std::int64_t p = 0; p < m; ++p) {
    const GraphAction& a = stream[idx(p)];
    if (a.kind == GraphActionKind::free) {
      throw std::logic_error("with_early_frees: the stream already holds a free");
    }
    if (a.kind == GraphActionKind::backward) backward_at[idx(a.node)] = p;
  }
  // free_after[p]: the position after which the output produced at p is last needed.
  std::vector<std::int64_t> free_after(idx(m), -1);
  std::vector<std::int64_t> produced_at(idx(n), -1);  // the latest production of each node
  for (std::int64_t p = 0; p < m; ++p) {
    const GraphAction& a = stream[idx(p)];
    if (a.kind == GraphActionKind::backward && a.node == n - 1) {
      // The loss reads the network's output until its backward.
      const std::int64_t q = produced_at[idx(a.node)];
      if (q >= 0) free_after[idx(q)] = std::max(free_after[idx(q)], p);
    }
    if (!produces(a.kind)) continue;
    for (const std::int64_t u : graph.inputs(a.node)) {
      const std::int64_t q = produced_at[idx(u)];
      if (q < 0) continue;  // illegal; check_plan says so
      std::int64_t& until = free_after[idx(q)];
      until = std::max(until, p);
      if (a.kind == GraphActionKind::record) until = std::max(until, backward_at[idx(a.node)]);
    }
    produced_at[idx(a.node)] = p;
    free_after[idx(p)] = std::max(free_after[idx(p)], p);
    // A recorded output its own tape keeps stays until the node's backward.
    if (a.kind == GraphActionKind::record && graph.node(a.node).tape_holds_output) {
      free_after[idx(p)] = std::max(free_after[idx(p)], backward_at[idx(a.node)]);
    }
  }
  std::vector<std::vector<std::int64_t>> frees(idx(m));
  for (std::int64_t p = 0; p < m; ++p) {
    const std::int64_t until = free_after[idx(p)];
    if (until >= 0 && until < m - 1) frees[idx(until)].push_back(stream[idx(p)].node);
  }
  std::vector<GraphAction> out;
  out.reserve(stream.size() * 2);
  for (std::int64_t p = 0; p < m; ++p) {
    out.push_back(stream[idx(p)]);
    std::vector<std::int64_t>& f = frees[idx(p)];
    std::sort(f.begin(), f.end());
    for (const std::int64_t v : f) out.push_back({GraphActionKind::free, v});
  }
  return out;
}

GraphPlan checked_plan(const Graph& graph, std::vector<GraphAction> actions, const char* method) {
  const GraphPlanCosts costs = check_plan(graph, actions);
  if (!costs.legal) {
    throw std::logic_error(std::string(method) + ": the planned stream is illegal at action " +
                           std::to_string(costs.first_illegal_index) + ": " + costs.reason +
                           " (a bug of the planner)");
  }
  GraphPlan plan;
  plan.actions = std::move(actions);
  plan.cost = costs.cost;
  plan.peak_bytes = costs.peak_bytes;
  plan.method = method;
  return plan;
}

double least_cost(const Graph& graph) {
  double cost = 0;
  for (std::int64_t v = 0; v < graph.size(); ++v) {
    cost += graph.node(v).forward_cost + graph.node(v).backward_cost;
  }
  return cost;
}

}  // namespace cairn::detail
