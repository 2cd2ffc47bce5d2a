// The baselines every optimal graph plan is compared with, planned in the same vocabulary.
#pragma once

#include <cstdint>

#include "cairn/graph.hpp"

namespace cairn {

/// Chen et al.'s sqrt(n) scheme over the topological order 0..n-1, as
/// torch.utils.checkpoint.checkpoint_sequential runs it: `segments` consecutive runs of nodes;
/// the forward pass computes every segment but the last without a tape, keeping only what later
/// segments read from it; the backward records each segment again and runs it backward, last
/// segment first. segments = 0 means round(sqrt(n)). Throws std::invalid_argument for
/// segments < 0 or > n.
GraphPlan plan_segments(const Graph& graph, std::int64_t segments = 0);

/// The structure-aware rule: keep the outputs that skip connections read (those with a consumer
/// other than the next node), and recompute inside the blocks between them.
GraphPlan plan_structure_aware(const Graph& graph);

}  // namespace cairn
