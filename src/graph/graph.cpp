// The Graph container and its checks (the model itself is stated in include/cairn/graph.hpp).
#include "cairn/graph.hpp"

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace cairn {

namespace {

std::string node_label(std::int64_t v, const GraphNode& node) {
  std::string label = "node " + std::to_string(v);
  if (!node.name.empty()) label += " (" + node.name + ")";
  return label;
}

void require_cost(double cost, const char* what, std::int64_t v, const GraphNode& node) {
  if (!(cost >= 0) || !std::isfinite(cost)) {
    throw std::invalid_argument("Graph::add: " + node_label(v, node) + " has " + what + " = " +
                                std::to_string(cost) + "; costs must be finite and >= 0");
  }
}

}  // namespace

std::int64_t Graph::add(GraphNode node, std::vector<std::int64_t> inputs) {
  const std::int64_t v = size();
  require_cost(node.forward_cost, "forward_cost", v, node);
  require_cost(node.backward_cost, "backward_cost", v, node);
  if (node.output_bytes == 0) {
    throw std::invalid_argument("Graph::add: " + node_label(v, node) +
                                " has output_bytes = 0; every output takes at least 1 byte");
  }
  std::vector<bool> seen(static_cast<std::size_t>(v), false);
  for (const std::int64_t u : inputs) {
    if (u < 0 || u >= v) {
      throw std::invalid_argument("Graph::add: " + node_label(v, node) + " reads node " +
                                  std::to_string(u) + "; inputs must be earlier nodes, 0.." +
                                  std::to_string(v - 1));
    }
    if (seen[static_cast<std::size_t>(u)]) {
      throw std::invalid_argument("Graph::add: " + node_label(v, node) + " reads node " +
                                  std::to_string(u) + " twice; list each input once");
    }
    seen[static_cast<std::size_t>(u)] = true;
  }
  for (const std::int64_t u : inputs) consumers_[static_cast<std::size_t>(u)].push_back(v);
  nodes_.push_back(std::move(node));
  inputs_.push_back(std::move(inputs));
  consumers_.emplace_back();
  return v;
}

Graph Graph::chain(std::vector<GraphNode> layers) {
  Graph graph;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::vector<std::int64_t> inputs;
    if (i > 0) inputs.push_back(static_cast<std::int64_t>(i) - 1);
    graph.add(std::move(layers[i]), std::move(inputs));
  }
  return graph;
}

const GraphNode& Graph::node(std::int64_t v) const {
  if (v < 0 || v >= size()) {
    throw std::out_of_range("Graph: node " + std::to_string(v) + " does not exist; nodes are 0.." +
                            std::to_string(size() - 1));
  }
  return nodes_[static_cast<std::size_t>(v)];
}

const std::vector<std::int64_t>& Graph::inputs(std::int64_t v) const {
  node(v);
  return inputs_[static_cast<std::size_t>(v)];
}

const std::vector<std::int64_t>& Graph::consumers(std::int64_t v) const {
  node(v);
  return consumers_[static_cast<std::size_t>(v)];
}

bool Graph::is_chain() const noexcept {
  for (std::size_t v = 0; v < inputs_.size(); ++v) {
    const auto& in = inputs_[v];
    if (v == 0 ? !in.empty() : in.size() != 1 || in[0] != static_cast<std::int64_t>(v) - 1) {
      return false;
    }
  }
  return true;
}

void Graph::validate() const {
  if (nodes_.empty()) throw std::invalid_argument("Graph: the graph has no node");
  // Nodes are topologically numbered, so one backward sweep finds who reaches the last node.
  std::vector<bool> reaches(nodes_.size(), false);
  reaches.back() = true;
  for (std::size_t v = nodes_.size(); v-- > 0;) {
    if (!reaches[v]) {
      throw std::invalid_argument(
          "Graph: " + node_label(static_cast<std::int64_t>(v), nodes_[v]) +
          " does not reach the last node (the network's output), so it has no gradient; remove "
          "it or make the output depend on it");
    }
    for (const std::int64_t u : inputs_[v]) reaches[static_cast<std::size_t>(u)] = true;
  }
}

std::uint64_t exact_memory_unit(const Graph& graph) {
  std::uint64_t unit = 0;
  for (std::int64_t v = 0; v < graph.size(); ++v) {
    const GraphNode& node = graph.node(v);
    for (const std::uint64_t bytes :
         {node.output_bytes, node.tape_bytes, node.compute_workspace_bytes,
          node.record_workspace_bytes, node.backward_workspace_bytes}) {
      unit = std::gcd(unit, bytes);
    }
  }
  return unit;
}

const char* to_string(GraphActionKind kind) noexcept {
  switch (kind) {
    case GraphActionKind::compute:
      return "compute";
    case GraphActionKind::record:
      return "record";
    case GraphActionKind::free:
      return "free";
    case GraphActionKind::backward:
      return "backward";
  }
  return "unknown";
}

}  // namespace cairn
