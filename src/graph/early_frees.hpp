// The frees of a stream, placed as early as the memory model allows (internal to the planners).
#pragma once

#include <vector>

#include "cairn/graph.hpp"

namespace cairn::detail {

/// `stream` holds compute, record and backward actions only. Returns it with a free(u) after the
/// last action that needs each produced output u: its last read before u is produced again, or
/// the backward of the last consumer whose tape pins it, whichever is later (the network's
/// output: its own backward, since the loss reads it). Frees after the
/// final action are left out (the caller releases what is held then). Several frees after one
/// action come in increasing node order. Legality is check_plan()'s to judge: a stream that
/// produces u again while a tape still pins it stays illegal.
std::vector<GraphAction> with_early_frees(const Graph& graph,
                                          const std::vector<GraphAction>& stream);

/// check_plan() on `actions`, filled into a GraphPlan; throws std::logic_error naming `method`
/// when the stream is illegal (a planner's bug, never the caller's).
GraphPlan checked_plan(const Graph& graph, std::vector<GraphAction> actions, const char* method);

/// sum f_v + sum b_v: the cost of store-all, the least any complete stream can have.
double least_cost(const Graph& graph);

}  // namespace cairn::detail
