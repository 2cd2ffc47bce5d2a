// Random graphs for the tests of the deep-network planners. Costs are small integers, so sums
// are exact in double and planners' costs compare with ==.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "cairn/graph.hpp"

namespace cairn::testing {

/// n nodes; node v reads v - 1 and, with probability 1/3 each, earlier nodes; outputs of 1..3
/// bytes, tapes of 0..4, forward and backward costs of 1..4.
inline Graph random_dag(std::mt19937_64& random, std::int64_t n) {
  std::uniform_int_distribution<int> size(1, 3), tape(0, 4), cost(1, 4), skip(0, 2);
  Graph graph;
  for (std::int64_t v = 0; v < n; ++v) {
    std::vector<std::int64_t> inputs;
    for (std::int64_t u = 0; u + 1 < v; ++u) {
      if (skip(random) == 0) inputs.push_back(u);
    }
    if (v > 0) inputs.push_back(v - 1);
    graph.add(GraphNode{static_cast<double>(cost(random)), static_cast<double>(cost(random)),
                        static_cast<std::uint64_t>(size(random)),
                        static_cast<std::uint64_t>(tape(random)), ""},
              inputs);
  }
  return graph;
}

/// A chain of n layers with the same distributions.
inline Graph random_chain(std::mt19937_64& random, std::int64_t n) {
  std::uniform_int_distribution<int> size(1, 3), tape(0, 4), cost(1, 4);
  std::vector<GraphNode> layers;
  for (std::int64_t v = 0; v < n; ++v) {
    layers.push_back(GraphNode{static_cast<double>(cost(random)), static_cast<double>(cost(random)),
                               static_cast<std::uint64_t>(size(random)),
                               static_cast<std::uint64_t>(tape(random)), ""});
  }
  return Graph::chain(layers);
}

/// The same graph with random workspaces: compute and record 0..3 bytes, backward 0..4 (each
/// zero half the time, so that nodes with and without scratch mix).
inline Graph with_workspaces(std::mt19937_64& random, const Graph& graph) {
  std::uniform_int_distribution<int> forward(0, 3), backward(0, 4), coin(0, 1);
  Graph out;
  for (std::int64_t v = 0; v < graph.size(); ++v) {
    GraphNode node = graph.node(v);
    node.compute_workspace_bytes =
        coin(random) != 0 ? static_cast<std::uint64_t>(forward(random)) : 0;
    node.record_workspace_bytes =
        coin(random) != 0 ? static_cast<std::uint64_t>(forward(random)) : 0;
    node.backward_workspace_bytes =
        coin(random) != 0 ? static_cast<std::uint64_t>(backward(random)) : 0;
    out.add(node, graph.inputs(v));
  }
  return out;
}

/// The same graph with tape_holds_output set on about half its nodes, their tapes then without
/// the output (as a profile reports them: the output's bytes taken out, at least 0).
inline Graph with_outputs_in_tapes(std::mt19937_64& random, const Graph& graph) {
  std::uniform_int_distribution<int> coin(0, 1);
  Graph out;
  for (std::int64_t v = 0; v < graph.size(); ++v) {
    GraphNode node = graph.node(v);
    if (coin(random) != 0) {
      node.tape_holds_output = true;
      node.tape_bytes =
          node.tape_bytes > node.output_bytes ? node.tape_bytes - node.output_bytes : 0;
    }
    out.add(node, graph.inputs(v));
  }
  return out;
}

}  // namespace cairn::testing
