// The deep-network model: Graph's checks, check_plan's rules, store-all and the exhaustive
// search (which the chain and graph planners' tests use as their reference).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/graph.hpp"
#include "graph_testing.hpp"

using cairn::Graph;
using cairn::GraphAction;
using cairn::GraphActionKind;
using cairn::GraphNode;

namespace {

GraphAction act(GraphActionKind kind, std::int64_t node) {
  return GraphAction{kind, node};
}
constexpr auto compute = GraphActionKind::compute;
constexpr auto record = GraphActionKind::record;
constexpr auto free_ = GraphActionKind::free;
constexpr auto backward = GraphActionKind::backward;

std::string reason_of(const Graph& graph, const std::vector<GraphAction>& actions) {
  const auto costs = cairn::check_plan(graph, actions);
  CHECK_FALSE(costs.legal);
  return costs.reason;
}

}  // namespace

TEST_CASE("Graph rejects what is not a topologically numbered DAG of valid nodes", "[graph]") {
  Graph graph;
  CHECK_THROWS_WITH(graph.validate(), Catch::Contains("no node"));
  graph.add(GraphNode{});
  CHECK_THROWS_WITH(graph.add(GraphNode{}, {1}), Catch::Contains("earlier nodes, 0..0"));
  CHECK_THROWS_WITH(graph.add(GraphNode{}, {0, 0}), Catch::Contains("twice"));
  CHECK_THROWS_WITH(graph.add(GraphNode{-1, 1, 1, 0, "conv"}),
                    Catch::Contains("(conv) has forward_cost"));
  CHECK_THROWS_WITH(graph.add(GraphNode{1, 1, 0, 0, ""}), Catch::Contains("output_bytes = 0"));
  CHECK(graph.size() == 1);  // the failed adds left nothing behind
  graph.add(GraphNode{}, {0});
  graph.add(GraphNode{}, {0});  // node 2 does not feed node 3, the output
  graph.add(GraphNode{}, {1});
  CHECK_THROWS_WITH(graph.validate(), Catch::Contains("node 2 does not reach the last node"));
  CHECK(graph.consumers(0) == std::vector<std::int64_t>{1, 2});
  CHECK_THROWS_AS(graph.node(4), std::out_of_range);
  CHECK(Graph::chain({GraphNode{}, GraphNode{}, GraphNode{}}).is_chain());
  CHECK_FALSE(graph.is_chain());
}

TEST_CASE("check_plan enforces every rule of the model, with the reason", "[graph]") {
  // 0 -> 1 -> 2 and a skip 0 -> 2.
  Graph graph;
  graph.add(GraphNode{1, 1, 2, 3, "a"});
  graph.add(GraphNode{1, 1, 1, 1, "b"}, {0});
  graph.add(GraphNode{1, 1, 1, 0, "c"}, {0, 1});
  CHECK_THAT(reason_of(graph, {act(compute, 1)}),
             Catch::Contains("action 0, compute(1): its input node 0 is not held"));
  CHECK_THAT(reason_of(graph, {act(compute, 0), act(record, 0)}), Catch::Contains("already held"));
  CHECK_THAT(reason_of(graph, {act(record, 0), act(record, 1), act(free_, 0)}),
             Catch::Contains("tape of its consumer node 1 keeps it alive"));
  CHECK_THAT(reason_of(graph, {act(record, 0), act(record, 1), act(record, 2), act(free_, 2)}),
             Catch::Contains("network's output"));
  CHECK_THAT(reason_of(graph, {act(record, 0), act(backward, 0)}),
             Catch::Contains("consumer node 1 has not been run backward"));
  CHECK_THAT(
      reason_of(graph, {act(compute, 0), act(compute, 1), act(compute, 2), act(backward, 2)}),
      Catch::Contains("holds no tape"));
  CHECK_THAT(reason_of(graph, {act(compute, 7)}), Catch::Contains("no such node; nodes are 0..2"));
  CHECK_THAT(reason_of(graph, {act(record, 0)}),
             Catch::Contains("ended before every node was run backward (node 2 was not)"));

  // The store-all stream, counted by hand: the peak is at backward(2), which holds the outputs
  // 2 + 1 + 1, the tapes 3 + 1 + 0, and creates the buffers of 2 (1, from the loss), 0 (2), 1 (1).
  const auto plan = cairn::plan_store_all(graph);
  const auto costs = cairn::check_plan(graph, plan.actions);
  REQUIRE(costs.legal);
  CHECK(costs.peak_bytes == 4 + 4 + 4);
  CHECK(costs.peak_action_index == 3);
  CHECK(costs.cost == 6);
  CHECK(costs.records == 3);
  CHECK(costs.backwards == 3);
  CHECK(costs.frees == 3);
  CHECK_THAT(reason_of(graph,
                       [&] {
                         auto more = plan.actions;
                         more.push_back(act(compute, 0));
                         return more;
                       }()),
             Catch::Contains("already complete"));

  // Workspaces count only while their action runs: a record workspace of 6 bytes on node 1
  // makes record(1) the peak (5 held + 1 + 1 + 6); a backward workspace of 3 on node 2 then
  // makes backward(2) the peak (12 + 3), and the actions after it hold what they held before.
  Graph scratch;
  scratch.add(GraphNode{1, 1, 2, 3, "a"});
  scratch.add(GraphNode{1, 1, 1, 1, "b", 0, 6, 0}, {0});
  const auto forward_peak = cairn::check_plan(scratch, cairn::plan_store_all(scratch).actions);
  CHECK(forward_peak.peak_bytes == 5 + 1 + 1 + 6);
  CHECK(forward_peak.peak_action_index == 1);
  Graph both;
  both.add(GraphNode{1, 1, 2, 3, "a"});
  both.add(GraphNode{1, 1, 1, 1, "b", 9, 6, 0}, {0});  // (no compute in store-all: 9 unused)
  both.add(GraphNode{1, 1, 1, 0, "c", 0, 0, 3}, {0, 1});
  const auto with = cairn::check_plan(both, plan.actions);
  REQUIRE(with.legal);
  CHECK(with.peak_bytes == 12 + 3);
  CHECK(with.peak_action_index == 3);
  CHECK(with.cost == costs.cost);

  // A tape that keeps its node's output (tape_holds_output): that output may not be freed
  // while the tape is held, and store-all frees it after the node's backward instead.
  Graph kept;
  kept.add(GraphNode{1, 1, 2, 3, "a"});
  GraphNode tanh_like{1, 1, 1, 0, "b"};
  tanh_like.tape_holds_output = true;
  kept.add(tanh_like, {0});
  kept.add(GraphNode{1, 1, 1, 0, "c"}, {1});
  CHECK_THAT(reason_of(kept, {act(record, 0), act(record, 1), act(free_, 1)}),
             Catch::Contains("its own tape keeps it (tape_holds_output) until node 1"));
  const auto kept_plan = cairn::plan_store_all(kept);
  const auto kept_costs = cairn::check_plan(kept, kept_plan.actions);
  REQUIRE(kept_costs.legal);
  CHECK(kept_plan.actions[5] == act(backward, 1));
  CHECK(kept_plan.actions[6] == act(free_, 1));
}

TEST_CASE("check_plan keeps the output gradient to the end where the caller holds it", "[graph]") {
  // Node 0 (output 5) -> node 1 (output 3); node 0's backward needs 10 bytes of workspace.
  GraphNode first{1, 1, 5, 0, "first"};
  first.backward_workspace_bytes = 10;
  Graph chain = Graph::chain({first, GraphNode{1, 1, 3, 0, "second"}});
  const std::vector<GraphAction> stream{act(record, 0), act(record, 1), act(backward, 1),
                                        act(free_, 1), act(backward, 0)};
  // backward(1) peaks at 5 + 3 held + 3 (its gradient, from the loss) + 5 (node 0's): 16; then
  // node 0's output and gradient are held, 10, and backward(0) adds its workspace: 20.
  const auto dropped = cairn::check_plan(chain, stream);
  REQUIRE(dropped.legal);
  CHECK(dropped.peak_bytes == 20);
  CHECK(dropped.peak_action_index == 4);
  // Held to the end, the 3 bytes of node 1's gradient are still there at backward(0).
  chain.set_output_gradient_held(true);
  const auto held = cairn::check_plan(chain, stream);
  REQUIRE(held.legal);
  CHECK(held.peak_bytes == 23);
  CHECK(held.cost == dropped.cost);
  // Freeing node 0's output first, no stream goes below 5 + 3 + 10 at backward(0) (16 at
  // backward(1) without the held gradient).
  CHECK(cairn::plan_store_all(chain).peak_bytes == 18);
  CHECK(cairn::plan_exhaustive(chain, 18).cost == 4);
  CHECK_THROWS_AS(cairn::plan_exhaustive(chain, 17), std::invalid_argument);
  chain.set_output_gradient_held(false);
  CHECK(cairn::plan_store_all(chain).peak_bytes == 16);
}

TEST_CASE("Store-all and the exhaustive search agree on random DAGs", "[graph]") {
  std::mt19937_64 random(21);
  int instances = 0;
  for (int trial = 0; trial < 150; ++trial) {
    Graph graph = cairn::testing::random_dag(random, 2 + trial % 5);
    if (trial % 2 == 1) graph = cairn::testing::with_workspaces(random, graph);
    if (trial % 3 == 2) graph = cairn::testing::with_outputs_in_tapes(random, graph);
    graph.set_output_gradient_held(trial % 4 == 3);
    const auto store_all = cairn::plan_store_all(graph);
    double least = 0;
    for (std::int64_t v = 0; v < graph.size(); ++v) {
      least += graph.node(v).forward_cost + graph.node(v).backward_cost;
    }
    REQUIRE(cairn::check_plan(graph, store_all.actions).legal);
    CHECK(store_all.cost == least);
    // The search finds store-all's cost at store-all's peak, and never less; a smaller budget
    // costs at least as much and stays within it; the least budget is where it starts to throw.
    double previous = least;
    std::uint64_t budget = store_all.peak_bytes;
    for (;; --budget) {
      cairn::GraphPlan plan;
      try {
        plan = cairn::plan_exhaustive(graph, budget);
      } catch (const std::invalid_argument& e) {
        CHECK_THAT(e.what(), Catch::Contains("no legal stream keeps its peak within"));
        break;
      }
      const auto costs = cairn::check_plan(graph, plan.actions);
      REQUIRE(costs.legal);
      CHECK(costs.peak_bytes <= budget);
      CHECK(costs.cost == plan.cost);
      CHECK(plan.cost >= previous);
      if (budget == store_all.peak_bytes) CHECK(plan.cost == least);
      previous = plan.cost;
      ++instances;
    }
  }
  CHECK(instances > 300);
}

TEST_CASE("The exhaustive search recomputes when memory is short", "[graph]") {
  // Four equal layers, outputs of 1 byte, no tape beyond the input: the least budget and the
  // cost there are found by the search, and recomputation shows as extra forward cost.
  std::vector<GraphNode> layers(4, GraphNode{1, 1, 1, 0, ""});
  const Graph chain = Graph::chain(layers);
  const auto store_all = cairn::plan_store_all(chain);
  CHECK(store_all.cost == 8);
  std::uint64_t least = store_all.peak_bytes;
  while (least > 0) {
    try {
      cairn::plan_exhaustive(chain, least - 1);
      --least;
    } catch (const std::invalid_argument&) {
      break;
    }
  }
  const auto tight = cairn::plan_exhaustive(chain, least);
  CHECK(tight.cost > store_all.cost);
  CHECK(cairn::check_plan(chain, tight.actions).computes > 0);
  CHECK_THROWS_AS(cairn::plan_exhaustive(Graph::chain(std::vector<GraphNode>(21)), 100),
                  std::invalid_argument);
}

namespace {

// The bytes a state holds, counted from scratch: outputs, tapes, and a gradient buffer for each
// node not yet run backward that some finished consumer has sent a gradient to.
std::uint64_t recount(const Graph& graph, const std::vector<char>& output,
                      const std::vector<char>& tape, const std::vector<char>& done) {
  std::uint64_t bytes = 0;
  for (std::int64_t v = 0; v < graph.size(); ++v) {
    const auto i = static_cast<std::size_t>(v);
    if (output[i]) bytes += graph.node(v).output_bytes;
    if (tape[i]) bytes += graph.node(v).tape_bytes;
    bool gradient = false;
    for (const std::int64_t w : graph.consumers(v)) gradient |= done[static_cast<std::size_t>(w)];
    if (gradient && !done[i]) bytes += graph.node(v).output_bytes;
  }
  const auto top = static_cast<std::size_t>(graph.size() - 1);
  if (graph.output_gradient_held() && done[top]) bytes += graph.node(graph.size() - 1).output_bytes;
  return bytes;
}

}  // namespace

TEST_CASE("check_plan's running count equals a recount from scratch on random walks", "[graph]") {
  // Random legal streams, found by trying every action and keeping those check_plan accepts as
  // a prefix; the peak is then recomputed from the states before and after each action.
  std::mt19937_64 random(2112);
  for (int trial = 0; trial < 120; ++trial) {
    Graph graph = cairn::testing::random_dag(random, 2 + trial % 6);
    if (trial % 2 == 1) graph = cairn::testing::with_workspaces(random, graph);
    if (trial % 3 == 2) graph = cairn::testing::with_outputs_in_tapes(random, graph);
    graph.set_output_gradient_held(trial % 4 == 3);
    const auto n = static_cast<std::size_t>(graph.size());
    std::vector<char> output(n, 0), tape(n, 0), done(n, 0);
    std::vector<GraphAction> stream;
    std::uint64_t peak = 0;
    for (std::int64_t length = 0; length < 60; ++length) {
      std::vector<GraphAction> legal;
      for (std::int64_t v = 0; v < graph.size(); ++v) {
        for (const auto kind : {compute, record, free_, backward}) {
          stream.push_back(act(kind, v));
          // Legal as a prefix: complete, or failing only for ending too early.
          const auto costs = cairn::check_plan(graph, stream);
          if (costs.legal || costs.first_illegal_index == length + 1) legal.push_back(act(kind, v));
          stream.pop_back();
        }
      }
      if (legal.empty()) break;  // complete
      const GraphAction next = legal[random() % legal.size()];
      const auto i = static_cast<std::size_t>(next.node);
      const GraphNode& node = graph.node(next.node);
      const std::uint64_t before = recount(graph, output, tape, done);
      switch (next.kind) {
        case compute:
          output[i] = 1;
          peak = std::max(peak, recount(graph, output, tape, done) + node.compute_workspace_bytes);
          break;
        case record:
          output[i] = tape[i] = 1;
          peak = std::max(peak, recount(graph, output, tape, done) + node.record_workspace_bytes);
          break;
        case free_:
          output[i] = 0;
          break;
        case backward: {
          // Allocated: the input buffers that did not exist, and the loss's buffer for the last.
          done[i] = 1;
          tape[i] = 0;
          std::uint64_t allocated = node.backward_workspace_bytes;
          if (next.node == graph.size() - 1) allocated += node.output_bytes;
          for (const std::int64_t u : graph.inputs(next.node)) {
            bool had = false;
            for (const std::int64_t w : graph.consumers(u)) {
              had |= w != next.node && done[static_cast<std::size_t>(w)];
            }
            if (!had) allocated += graph.node(u).output_bytes;
          }
          peak = std::max(peak, before + allocated);
          break;
        }
      }
      stream.push_back(next);
      const auto costs = cairn::check_plan(graph, stream);
      REQUIRE((costs.legal || costs.first_illegal_index == length + 1));
      CHECK(costs.peak_bytes == peak);
    }
  }
}
