// The chain the planning benchmarks share: layers with random unequal costs and sizes.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "cairn/graph.hpp"

namespace cairn::bench {

/// L layers with outputs of 1..4 units, tapes of 0..8, forward costs in [0.5, 2] and backward
/// twice that, from a fixed seed.
inline Graph random_layer_chain(int layers) {
  std::mt19937_64 random(1);
  std::uniform_real_distribution<double> cost(0.5, 2.0);
  std::uniform_int_distribution<int> size(1, 4), tape(0, 8);
  std::vector<GraphNode> nodes(static_cast<std::size_t>(layers));
  for (auto& node : nodes) {
    const double f = cost(random);
    node = GraphNode{f, 2 * f, static_cast<std::uint64_t>(size(random)),
                     static_cast<std::uint64_t>(tape(random)), ""};
  }
  return Graph::chain(nodes);
}

}  // namespace cairn::bench
