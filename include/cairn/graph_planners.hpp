// The baselines every optimal graph plan is compared with, planned in the same vocabulary.
#pragma once

#include <cstdint>

#include "cairn/graph.hpp"

namespace cairn {

/// Chen et al.'s sqrt(n) scheme over the topological order 0..n-1, as
/// torch.utils.checkpoint.checkpoint_sequential runs it: `segments` consecutive runs of nodes
/// (torch's split: segments - 1 runs of n / segments nodes, the last run the rest); the forward
/// pass computes every segment but the last without a tape, keeping only what later segments read
/// from it, and records the last; the backward runs the last segment backward, then records each
/// earlier segment again and runs it backward, last segment first. Every output is freed after
/// the last action that needs it (a read, or the backward of a consumer whose tape pins it). On a
/// chain the cost is sum f + (sum f over all segments but the last) + sum b; segments = 1 is
/// store-all. segments = 0 means round(sqrt(n)). Throws std::invalid_argument for segments < 0
/// or > n. lower_bound is sum f + sum b (no plan costs less); optimal says whether it is reached.
GraphPlan plan_segments(const Graph& graph, std::int64_t segments = 0);

/// The structure-aware rule: keep the outputs that skip connections read (those with a consumer
/// other than the next node), and recompute inside the blocks between them. It is the segment
/// plan above with a cut after every such node: the forward pass keeps them, and each block is
/// recorded again for its backward. A chain has one block (store-all); a DenseNet block, where
/// every layer is read by later ones, keeps every output and recomputes one tape at a time.
GraphPlan plan_structure_aware(const Graph& graph);

}  // namespace cairn
