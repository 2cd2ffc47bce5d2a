// Fuzz target C: the deep-network model (include/cairn/graph.hpp). The input picks a graph of up
// to 8 nodes (costs 0..7, outputs 1..4 bytes, tapes 0..7, random skip inputs, the output gradient
// held to the end or not) and then, byte by byte, one of the actions check_plan accepts as a
// prefix (or, now and then, any action).
//
// Invariants: check_plan never throws on a valid graph; an illegal verdict names an index inside
// the stream; a complete legal stream costs its recount, at least store-all's sum(f) + sum(b),
// and at least what the exhaustive search finds within the stream's own peak (the search's
// optimum is over every legal stream, this one included).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cairn/graph.hpp"
#include "fuzz_assert.hpp"

namespace {

struct Bytes {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  bool empty() const { return at >= size; }
  unsigned next() { return at < size ? data[at++] : 0U; }
};

cairn::Graph graph_from(Bytes& in) {
  cairn::Graph graph;
  const unsigned head = in.next();  // the node count, and whether the output gradient is held
  const int n = 1 + static_cast<int>(head % 8);
  graph.set_output_gradient_held(head / 8 % 2 != 0);
  for (int v = 0; v < n; ++v) {
    const unsigned costs = in.next(), sizes = in.next(), skips = in.next();
    std::vector<std::int64_t> inputs;
    for (int u = 0; u + 1 < v; ++u) {
      if ((skips >> u) & 1U) inputs.push_back(u);
    }
    if (v > 0) inputs.push_back(v - 1);  // every node reaches the last one
    // The bytes' spare bits give the workspaces (compute and record 0..1, backward 0..3) and
    // whether the tape keeps the output.
    graph.add(cairn::GraphNode{static_cast<double>(costs % 8), static_cast<double>(costs / 8 % 8),
                               1 + sizes % 4, sizes / 4 % 8, "", sizes / 32 % 2, sizes / 64 % 2,
                               costs / 64 % 4, sizes / 128 != 0},
              inputs);
  }
  return graph;
}

bool legal_prefix(const cairn::Graph& graph, const std::vector<cairn::GraphAction>& stream) {
  const auto costs = cairn::check_plan(graph, stream);
  return costs.legal || costs.first_illegal_index == static_cast<std::int64_t>(stream.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in{data, size};
  const cairn::Graph graph = graph_from(in);
  constexpr cairn::GraphActionKind kinds[] = {
      cairn::GraphActionKind::compute, cairn::GraphActionKind::record, cairn::GraphActionKind::free,
      cairn::GraphActionKind::backward};
  std::vector<cairn::GraphAction> stream;
  while (!in.empty() && stream.size() < 80) {
    const unsigned choice = in.next();
    if (choice >= 250) {  // any action, legal or not, with a node index that may not exist
      stream.push_back({kinds[in.next() % 4], static_cast<std::int64_t>(in.next() % 10) - 1});
      continue;
    }
    std::vector<cairn::GraphAction> legal;
    for (std::int64_t v = 0; v < graph.size(); ++v) {
      for (const auto kind : kinds) {
        stream.push_back({kind, v});
        if (legal_prefix(graph, stream)) legal.push_back(stream.back());
        stream.pop_back();
      }
    }
    if (legal.empty()) break;
    stream.push_back(legal[choice % legal.size()]);
  }
  const auto costs = cairn::check_plan(graph, stream);
  if (!costs.legal) {
    FUZZ_ASSERT(costs.first_illegal_index >= 0);
    FUZZ_ASSERT(costs.first_illegal_index <= static_cast<std::int64_t>(stream.size()));
    FUZZ_ASSERT(!costs.reason.empty());
    return 0;
  }
  double recount = 0, least = 0;
  for (const auto& action : stream) {
    const auto& node = graph.node(action.node);
    if (action.kind == cairn::GraphActionKind::backward) recount += node.backward_cost;
    if (action.kind == cairn::GraphActionKind::compute ||
        action.kind == cairn::GraphActionKind::record) {
      recount += node.forward_cost;
    }
  }
  for (std::int64_t v = 0; v < graph.size(); ++v) {
    least += graph.node(v).forward_cost + graph.node(v).backward_cost;
  }
  FUZZ_ASSERT(costs.cost == recount);
  FUZZ_ASSERT(costs.cost >= least);
  FUZZ_ASSERT(cairn::plan_store_all(graph).cost == least);
  const auto best = cairn::plan_exhaustive(graph, costs.peak_bytes);
  FUZZ_ASSERT(best.peak_bytes <= costs.peak_bytes);
  FUZZ_ASSERT(best.cost <= costs.cost);
  return 0;
}
