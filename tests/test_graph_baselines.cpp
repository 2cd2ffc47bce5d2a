// The baselines of graph planning (sqrt(n) segments, the structure-aware cut) and the network
// shapes they are measured on.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/graph.hpp"
#include "cairn/graph_planners.hpp"
#include "cairn/graph_shapes.hpp"
#include "graph_testing.hpp"

using cairn::Graph;
using cairn::GraphAction;
using cairn::GraphActionKind;
using cairn::GraphPlan;

namespace {

// The plan is legal and its cost and peak are check_plan's.
void require_checked(const Graph& graph, const GraphPlan& plan) {
  const auto costs = cairn::check_plan(graph, plan.actions);
  INFO(plan.method << ": " << costs.reason);
  REQUIRE(costs.legal);
  CHECK(plan.cost == costs.cost);
  CHECK(plan.peak_bytes == costs.peak_bytes);
}

double sum_f(const Graph& g, std::int64_t begin, std::int64_t end) {
  double s = 0;
  for (std::int64_t v = begin; v < end; ++v) s += g.node(v).forward_cost;
  return s;
}
double sum_b(const Graph& g) {
  double s = 0;
  for (std::int64_t v = 0; v < g.size(); ++v) s += g.node(v).backward_cost;
  return s;
}

std::int64_t count(const std::vector<GraphAction>& actions, GraphActionKind kind, std::int64_t v) {
  std::int64_t c = 0;
  for (const GraphAction& a : actions) c += a.kind == kind && a.node == v;
  return c;
}

}  // namespace

TEST_CASE("Every baseline plan is legal, for every segment count, on random DAGs",
          "[graph_baselines]") {
  std::mt19937_64 random(2101);
  for (int trial = 0; trial < 150; ++trial) {
    const std::int64_t n = 1 + trial % 24;
    const Graph graph = cairn::testing::random_dag(random, n);
    for (std::int64_t k = 0; k <= n; ++k) require_checked(graph, cairn::plan_segments(graph, k));
    const GraphPlan structure = cairn::plan_structure_aware(graph);
    require_checked(graph, structure);
    // Every node is evaluated at most twice, and the cost is at least store-all's.
    for (std::int64_t v = 0; v < n; ++v) {
      CHECK(count(structure.actions, GraphActionKind::compute, v) +
                count(structure.actions, GraphActionKind::record, v) <=
            2);
    }
    const double least = cairn::plan_store_all(graph).cost;
    CHECK(structure.cost >= least);
    CHECK(structure.lower_bound == least);
  }
}

TEST_CASE(
    "plan_segments(graph, 1) is store-all, and (graph, n) evaluates every node but the last twice",
    "[graph_baselines]") {
  std::mt19937_64 random(2102);
  for (int trial = 0; trial < 60; ++trial) {
    const std::int64_t n = 1 + trial % 15;
    const Graph graph = cairn::testing::random_dag(random, n);
    const GraphPlan one = cairn::plan_segments(graph, 1);
    const GraphPlan store_all = cairn::plan_store_all(graph);
    CHECK(one.cost == store_all.cost);
    CHECK(one.peak_bytes == store_all.peak_bytes);
    CHECK(one.optimal);
    const GraphPlan each = cairn::plan_segments(graph, n);
    CHECK(each.cost == sum_f(graph, 0, n) + sum_f(graph, 0, n - 1) + sum_b(graph));
    for (std::int64_t v = 0; v + 1 < n; ++v) {
      CHECK(count(each.actions, GraphActionKind::compute, v) == 1);
      CHECK(count(each.actions, GraphActionKind::record, v) == 1);
    }
  }
  const Graph graph = cairn::testing::random_dag(random, 5);
  CHECK_THROWS_AS(cairn::plan_segments(graph, -1), std::invalid_argument);
  CHECK_THROWS_WITH(cairn::plan_segments(graph, 6), Catch::Contains("must be in [1, 5]"));
}

TEST_CASE("On a chain, k segments cost sum f + (sum f over all but the last segment) + sum b",
          "[graph_baselines]") {
  std::mt19937_64 random(2103);
  for (int trial = 0; trial < 40; ++trial) {
    const std::int64_t n = 1 + trial % 20;
    const Graph chain = cairn::testing::random_chain(random, n);
    for (std::int64_t k = 1; k <= n; ++k) {
      const GraphPlan plan = cairn::plan_segments(chain, k);
      // torch's split: k - 1 segments of n / k layers, the last the rest.
      const std::int64_t last_begin = (k - 1) * (n / k);
      CHECK(plan.cost == sum_f(chain, 0, n) + sum_f(chain, 0, last_begin) + sum_b(chain));
    }
    // round(sqrt(n)) segments by default.
    const auto k = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
    CHECK(cairn::plan_segments(chain).actions == cairn::plan_segments(chain, k).actions);
    // A chain has no skip connection: the structure-aware plan keeps nothing and is store-all.
    CHECK(cairn::plan_structure_aware(chain).cost == cairn::plan_store_all(chain).cost);
  }
}

TEST_CASE("The structure-aware plan keeps a U-Net's encoder outputs for the decoder",
          "[graph_baselines]") {
  for (int levels = 1; levels <= 5; ++levels) {
    const Graph g = cairn::unet({levels, 8, 64, 3, 2, 1});
    const GraphPlan plan = cairn::plan_structure_aware(g);
    require_checked(g, plan);
    for (int l = 0; l < levels; ++l) {
      const std::int64_t enc = 2 * l;
      const std::int64_t dec = g.size() - 2 - 2 * l;
      REQUIRE(g.node(enc).name == "enc_" + std::to_string(l));
      REQUIRE(g.node(dec).name == "dec_" + std::to_string(l));
      // From its first evaluation (in the forward pass) to the record of dec_l, enc_l is held.
      std::size_t first = 0, read = 0;
      while (plan.actions[first].node != enc) ++first;
      while (
          !(plan.actions[read].kind == GraphActionKind::record && plan.actions[read].node == dec))
        ++read;
      REQUIRE(first < read);
      for (std::size_t i = first + 1; i < read; ++i) {
        CHECK_FALSE((plan.actions[i].node == enc && plan.actions[i].kind == GraphActionKind::free));
      }
    }
    // Less memory than store-all (every tape but the last block's is recomputed) at a higher cost.
    const GraphPlan store_all = cairn::plan_store_all(g);
    CHECK(plan.peak_bytes < store_all.peak_bytes);
    CHECK(plan.cost > store_all.cost);
  }
}

TEST_CASE("U-Net and DenseNet-121 shapes", "[graph_baselines]") {
  const Graph u = cairn::unet();
  u.validate();
  CHECK(u.size() == 18);
  CHECK(cairn::unet({5, 64, 256, 3, 2, 1}).size() == 22);
  // enc_l's output halves from level to level (4 times fewer pixels, twice the channels).
  for (std::int64_t l = 0; l + 1 < 4; ++l) {
    CHECK(u.node(2 * l).output_bytes == 2 * u.node(2 * l + 2).output_bytes);
  }
  CHECK(u.node(0).output_bytes == 64ull * 256 * 256 * 4);
  CHECK(u.inputs(u.size() - 2) == std::vector<std::int64_t>{u.size() - 3, 0});
  const Graph d = cairn::densenet();
  d.validate();
  CHECK(d.size() == 63);
  // Dense layer j of block 1 (node j + 1) reads the stem and the j layers before it; the first
  // transition reads all 7.
  for (std::int64_t j = 0; j < 6; ++j)
    CHECK(d.inputs(j + 1).size() == static_cast<std::size_t>(j + 1));
  CHECK(d.node(7).name == "transition1");
  CHECK(d.inputs(7).size() == 7);
  CHECK(d.inputs(62).size() == 17);  // the head: block 4's input and its 16 layers
  CHECK_THROWS_AS(cairn::unet({3, 8, 12, 3, 2, 1}), std::invalid_argument);
}
