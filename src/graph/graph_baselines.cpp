// Store-all's two relatives that every optimal plan is measured against: sqrt(n) segments over
// the topological order (torch's checkpoint_sequential) and the structure-aware cut.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/graph_planners.hpp"
#include "graph/early_frees.hpp"

namespace cairn {

namespace {

struct Segment {
  std::int64_t begin, end;  // nodes [begin, end)
};

// The forward pass computes every segment but the last without a tape and records the last;
// the backward runs the last segment backward, then records each earlier one again and runs it
// backward. Outputs live exactly as long as a later read or a pinning tape needs them, so what a
// segment reads from earlier ones is kept from the forward pass on.
std::vector<GraphAction> segment_stream(const std::vector<Segment>& segments) {
  std::vector<GraphAction> stream;
  const std::size_t k = segments.size();
  for (std::size_t s = 0; s < k; ++s) {
    const GraphActionKind kind = s + 1 < k ? GraphActionKind::compute : GraphActionKind::record;
    for (std::int64_t v = segments[s].begin; v < segments[s].end; ++v) stream.push_back({kind, v});
  }
  for (std::size_t s = k; s-- > 0;) {
    if (s + 1 < k) {
      for (std::int64_t v = segments[s].begin; v < segments[s].end; ++v) {
        stream.push_back({GraphActionKind::record, v});
      }
    }
    for (std::int64_t v = segments[s].end; v-- > segments[s].begin;) {
      stream.push_back({GraphActionKind::backward, v});
    }
  }
  return stream;
}

GraphPlan plan_cut(const Graph& graph, const std::vector<Segment>& segments, const char* method) {
  GraphPlan plan = detail::checked_plan(
      graph, detail::with_early_frees(graph, segment_stream(segments)), method);
  plan.lower_bound = detail::least_cost(graph);
  plan.optimal = plan.cost <= plan.lower_bound;
  return plan;
}

}  // namespace

GraphPlan plan_segments(const Graph& graph, std::int64_t segments) {
  graph.validate();
  const std::int64_t n = graph.size();
  if (segments < 0 || segments > n) {
    throw std::invalid_argument("plan_segments: segments = " + std::to_string(segments) +
                                " is not allowed for a graph of " + std::to_string(n) +
                                " nodes; it must be in [1, " + std::to_string(n) +
                                "], or 0 for round(sqrt(n))");
  }
  if (segments == 0) {
    segments = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
    segments = std::max<std::int64_t>(1, std::min(segments, n));
  }
  // torch.utils.checkpoint.checkpoint_sequential's split: segments - 1 runs of n / segments
  // nodes, and the last run takes the rest.
  const std::int64_t size = n / segments;
  std::vector<Segment> cut;
  for (std::int64_t s = 0; s + 1 < segments; ++s) cut.push_back({s * size, (s + 1) * size});
  cut.push_back({(segments - 1) * size, n});
  return plan_cut(graph, cut, "segments");
}

GraphPlan plan_structure_aware(const Graph& graph) {
  graph.validate();
  const std::int64_t n = graph.size();
  std::vector<Segment> cut;
  std::int64_t begin = 0;
  for (std::int64_t v = 0; v + 1 < n; ++v) {
    bool skip_read = false;
    for (const std::int64_t w : graph.consumers(v)) skip_read = skip_read || w != v + 1;
    if (skip_read) {
      cut.push_back({begin, v + 1});
      begin = v + 1;
    }
  }
  cut.push_back({begin, n});
  return plan_cut(graph, cut, "structure_aware");
}

}  // namespace cairn
