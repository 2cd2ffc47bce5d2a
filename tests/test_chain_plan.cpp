// plan_chain: the chain dynamic program against every stream of its class (enumerated here and
// judged by check_plan), against every legal stream (plan_exhaustive), its bounded split search
// against the full one, its least budget, and its errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "cairn/chain_plan.hpp"
#include "cairn/graph.hpp"
#include "graph/chain_tables.hpp"
#include "graph_testing.hpp"

using cairn::ChainPlanOptions;
using cairn::ChainPlanReport;
using cairn::GraphAction;
using cairn::GraphActionKind;
using cairn::GraphNode;
using Graph = cairn::Graph;
using Stream = std::vector<GraphAction>;

namespace {

double sum_costs(const Graph& chain) {
  double sum = 0;
  for (std::int64_t v = 0; v < chain.size(); ++v) {
    sum += chain.node(v).forward_cost + chain.node(v).backward_cost;
  }
  return sum;
}

// Every stream of chain_plan.hpp's class for layers s..t: each way to choose (a) or (b) and its
// split at every level, without looking at memory (check_plan judges the whole stream).
class ClassStreams {
 public:
  explicit ClassStreams(const Graph& chain) : chain_(chain), L_(chain.size()) {}

  const std::vector<Stream>& of(std::int64_t s, std::int64_t t) {
    const auto found = memo_.find({s, t});
    if (found != memo_.end()) return found->second;
    std::vector<Stream> all;
    if (s == t) {
      // The output goes before the backward unless the loss or its own tape keeps it; nothing
      // follows node 0's backward, which ends the stream.
      const bool kept = t + 1 == L_ || chain_.node(t).tape_holds_output;
      Stream one{{GraphActionKind::record, t}};
      if (!kept) one.push_back({GraphActionKind::free, t});
      one.push_back({GraphActionKind::backward, t});
      if (kept && t > 0) one.push_back({GraphActionKind::free, t});
      all.push_back(one);
    } else {
      for (const Stream& inner : of(s + 1, t)) {  // (a)
        Stream one{{GraphActionKind::record, s}};
        one.insert(one.end(), inner.begin(), inner.end());
        if (chain_.node(s).tape_holds_output) {
          one.push_back({GraphActionKind::backward, s});
          if (s > 0) one.push_back({GraphActionKind::free, s});
        } else {
          one.push_back({GraphActionKind::free, s});
          one.push_back({GraphActionKind::backward, s});
        }
        all.push_back(one);
      }
      for (std::int64_t k = s + 1; k <= t; ++k) {  // (b)
        Stream sweep{{GraphActionKind::compute, s}};
        for (std::int64_t j = s + 1; j < k; ++j) {
          sweep.push_back({GraphActionKind::compute, j});
          sweep.push_back({GraphActionKind::free, j - 1});
        }
        const std::vector<Stream> rights = of(k, t);  // copies: `of` may grow the memo
        const std::vector<Stream> lefts = of(s, k - 1);
        for (const Stream& right : rights) {
          for (const Stream& left : lefts) {
            Stream one = sweep;
            one.insert(one.end(), right.begin(), right.end());
            one.push_back({GraphActionKind::free, k - 1});
            one.insert(one.end(), left.begin(), left.end());
            all.push_back(one);
          }
        }
      }
    }
    return memo_[{s, t}] = std::move(all);
  }

 private:
  const Graph& chain_;
  std::int64_t L_;
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<Stream>> memo_;
};

// plan_chain with its report; checks what must hold of every plan it returns.
cairn::GraphPlan planned(const Graph& chain, std::uint64_t budget, bool full,
                         ChainPlanReport& report) {
  ChainPlanOptions options;
  options.exhaustive_splits = full;
  options.full_search_steps = 0;  // the bounded search unless `full`
  options.report = &report;
  const cairn::GraphPlan plan = cairn::plan_chain(chain, budget, options);
  const auto costs = cairn::check_plan(chain, plan.actions);
  REQUIRE(costs.legal);
  CHECK(costs.cost == plan.cost);
  CHECK(plan.cost == report.dp_cost);  // integer costs: the sums are exact
  CHECK(costs.peak_bytes == plan.peak_bytes);
  CHECK(plan.peak_bytes == report.dp_peak_bytes);
  CHECK(plan.peak_bytes <= budget);
  CHECK(plan.method == "chain_dp");
  CHECK(report.bounded_search == !full);
  CHECK(plan.optimal == full);
  CHECK(plan.lower_bound == (full ? plan.cost : sum_costs(chain)));
  return plan;
}

// Every budget from the least to store-all's peak: the planner's cost is the cheapest stream of
// the class that fits; returns the number of instances.
int compare_with_class(std::mt19937_64& random, int chains, bool workspaces,
                       bool outputs_in_tapes = false, bool gradient_held = false) {
  int instances = 0;
  for (int trial = 0; trial < chains; ++trial) {
    const int n = 1 + trial % 7;
    Graph chain = cairn::testing::random_chain(random, n);
    if (workspaces) chain = cairn::testing::with_workspaces(random, chain);
    if (outputs_in_tapes) chain = cairn::testing::with_outputs_in_tapes(random, chain);
    chain.set_output_gradient_held(gradient_held);
    // The class's streams, judged by check_plan alone.
    std::vector<std::pair<std::uint64_t, double>> judged;  // (peak, cost)
    ClassStreams streams(chain);
    for (const Stream& stream : streams.of(0, n - 1)) {
      const auto costs = cairn::check_plan(chain, stream);
      REQUIRE(costs.legal);
      judged.emplace_back(costs.peak_bytes, costs.cost);
    }
    std::uint64_t least_peak = judged.front().first;
    for (const auto& [peak, cost] : judged) least_peak = std::min(least_peak, peak);
    const std::uint64_t least = cairn::chain_min_budget(chain);
    CHECK(least == least_peak);
    CHECK_THROWS_AS(cairn::plan_chain(chain, least - 1), std::invalid_argument);
    const std::uint64_t top = cairn::plan_store_all(chain).peak_bytes;
    for (std::uint64_t budget = least; budget <= top + 1; ++budget) {
      double cheapest = 1e300;
      for (const auto& [peak, cost] : judged) {
        if (peak <= budget) cheapest = std::min(cheapest, cost);
      }
      ChainPlanReport report;
      CHECK(planned(chain, budget, true, report).cost == cheapest);
      ++instances;
    }
  }
  return instances;
}

struct ExhaustiveTally {
  int instances = 0, differ = 0;
  double worst_gap = 0;
};

// Every budget from the least to store-all's peak, the planner against plan_exhaustive: never
// cheaper than the best stream; how often and by how much a stream outside the class is cheaper.
ExhaustiveTally against_every_stream(std::mt19937_64& random, int chains, int longest,
                                     bool workspaces, bool outputs_in_tapes = false,
                                     bool gradient_held = false) {
  ExhaustiveTally tally;
  for (int trial = 0; trial < chains; ++trial) {
    const int n = 1 + trial % longest;
    Graph chain = cairn::testing::random_chain(random, n);
    if (workspaces) chain = cairn::testing::with_workspaces(random, chain);
    if (outputs_in_tapes) chain = cairn::testing::with_outputs_in_tapes(random, chain);
    chain.set_output_gradient_held(gradient_held);
    const std::uint64_t least = cairn::chain_min_budget(chain);
    const std::uint64_t top = cairn::plan_store_all(chain).peak_bytes;
    REQUIRE(least <= top);
    // No stream at all fits below the class's least budget (in every instance without
    // workspaces; not asserted with them).
    if (!workspaces && !outputs_in_tapes) {
      CHECK_THROWS_AS(cairn::plan_exhaustive(chain, least - 1), std::invalid_argument);
    }
    for (std::uint64_t budget = least; budget <= top; ++budget) {
      ChainPlanReport report;
      const auto plan = planned(chain, budget, true, report);
      const auto best = cairn::plan_exhaustive(chain, budget);
      ++tally.instances;
      REQUIRE(plan.cost >= best.cost);
      if (plan.cost != best.cost) {
        ++tally.differ;
        tally.worst_gap = std::max(tally.worst_gap, plan.cost / best.cost - 1);
      }
    }
    ChainPlanReport report;
    const auto all = planned(chain, top, true, report);
    CHECK(all.cost == sum_costs(chain));
    CHECK(all.peak_bytes == top);
  }
  return tally;
}

}  // namespace

TEST_CASE("plan_chain is the cheapest stream of its class, at every budget", "[chain_plan]") {
  std::mt19937_64 random(2101);
  const int instances = compare_with_class(random, 240, false);
  CHECK(instances == 2805);
}

// Workspaces (scratch held only while a node's forward or backward runs) move the peaks of
// records, sweeps and backwards; the recursion's memory formulas must still be check_plan's.
TEST_CASE("plan_chain with compute, record and backward workspaces, against its class",
          "[chain_plan]") {
  std::mt19937_64 random(2102);
  const int instances = compare_with_class(random, 240, true);
  CHECK(instances == 2595);
}

// Outside the class: streams that free a checkpoint before its segment is reversed, and
// recompute it later from an earlier one (a cheap layer ahead of a large output), can be
// cheaper. This seed's first 150 chains show it in 17 of 1,504 instances (300 chains: 30 of
// 3,061), by up to 19.6%; the test pins that the planner is never below the true optimum, and
// how rare the gap is.
// Tapes that keep their node's output (tape_holds_output): the output is held until the node's
// backward, so records and single layers peak higher at their backward and the stream frees the
// output after it; with workspaces as well.
TEST_CASE("plan_chain with tapes that keep outputs, against its class", "[chain_plan]") {
  std::mt19937_64 random(2103);
  const int instances = compare_with_class(random, 240, true, true);
  CHECK(instances == 2111);
}

TEST_CASE("plan_chain with tapes that keep outputs, against every legal stream", "[chain_plan]") {
  std::mt19937_64 random(23);
  const ExhaustiveTally tally = against_every_stream(random, 100, 6, true, true);
  CAPTURE(tally.instances, tally.differ);
  CHECK(tally.instances == 599);
  CHECK(tally.differ == 8);  // outside the class, rarely cheaper
}

// A caller that keeps the network output's gradient to the end (Graph::output_gradient_held, as
// cairn.torch's one autograd function does): every backward after the last node's, and the
// segments reversed after it, hold that gradient too.
TEST_CASE("plan_chain with the output gradient held to the end, against its class",
          "[chain_plan]") {
  std::mt19937_64 random(2104);
  const int instances = compare_with_class(random, 240, true, true, true);
  CHECK(instances == 1864);
}

TEST_CASE("plan_chain with the output gradient held to the end, against every legal stream",
          "[chain_plan]") {
  std::mt19937_64 random(24);
  const ExhaustiveTally tally = against_every_stream(random, 100, 6, true, true, true);
  CAPTURE(tally.instances, tally.differ);
  CHECK(tally.instances == 536);
  CHECK(tally.differ == 8);  // outside the class, rarely cheaper (as without the flag)
}

TEST_CASE("plan_chain against every legal stream (plan_exhaustive)", "[chain_plan]") {
  std::mt19937_64 random(21);
  const ExhaustiveTally tally = against_every_stream(random, 150, 7, false);
  CAPTURE(tally.instances, tally.differ, tally.worst_gap);
  CHECK(tally.instances == 1504);
  CHECK(tally.differ == 17);
  CHECK(tally.worst_gap < 0.197);
}

// With workspaces too the planner is never below the true optimum (every legal stream), and
// store-all's budget gives store-all's cost.
TEST_CASE("plan_chain with workspaces against every legal stream", "[chain_plan]") {
  std::mt19937_64 random(22);
  const ExhaustiveTally tally = against_every_stream(random, 100, 6, true);
  CAPTURE(tally.instances, tally.differ);
  CHECK(tally.instances == 855);
  CHECK(tally.differ == 5);  // outside the class, rarely cheaper (as without workspaces)
}

// The bounded split search is not proven, and with unequal sizes it is not exact: it is compared
// with the full one here, plan for plan, and both are checked as every plan is.
TEST_CASE("plan_chain's bounded split search against the full one", "[chain_plan]") {
  std::mt19937_64 random(7);
  int instances = 0, same_stream = 0, same_cost = 0;
  double worst_gap = 0;
  for (int trial = 0; trial < 160; ++trial) {
    const int n = 2 + trial % 7 + (trial % 5 == 0 ? 30 : 0);
    const Graph chain = cairn::testing::random_chain(random, n);
    const std::uint64_t least = cairn::chain_min_budget(chain);
    const std::uint64_t top = cairn::plan_store_all(chain).peak_bytes;
    const std::uint64_t step = n > 10 ? 7 : 1;
    for (std::uint64_t budget = least; budget <= top; budget += step) {
      ChainPlanReport full_report, bounded_report;
      const auto full = planned(chain, budget, true, full_report);
      const auto bounded = planned(chain, budget, false, bounded_report);
      ++instances;
      REQUIRE(bounded.cost >= full.cost);
      if (bounded.actions == full.actions) ++same_stream;
      if (bounded.cost == full.cost) {
        ++same_cost;
      } else {
        worst_gap = std::max(worst_gap, bounded.cost / full.cost - 1);
      }
    }
  }
  // This seed: 2,409 instances, the same stream in 2,026, the same cost in 2,209 (92%), the
  // worst 34.7% above the full search's (a tight budget).
  CAPTURE(instances, same_stream, same_cost, worst_gap);
  CHECK(instances == 2409);
  CHECK(same_stream == 2026);
  CHECK(same_cost == 2209);
  CHECK(worst_gap < 0.35);
}

// The full search's inner loop runs four splits at a time (and in AVX2 where the processor has
// it); it must find what the plain loop finds, the first least split, bit for bit, whatever the
// range's length and offset, with ties (small integer costs) and infinite parts.
TEST_CASE("the full search's vectorized split loop finds the plain loop's split", "[chain_plan]") {
  const double infinite = std::numeric_limits<double>::infinity();
  std::mt19937_64 random(11);
  std::uniform_int_distribution<int> small(0, 3), chance(0, 9);
  int ranges = 0, found = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    const std::int64_t n = trial % 45;  // array length
    std::vector<double> prefix(static_cast<std::size_t>(n)), right(prefix), left(prefix);
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      prefix[i] = small(random) + 0.25 * small(random);
      right[i] = chance(random) == 0 ? infinite : small(random);
      left[i] = chance(random) == 0 ? infinite : 0.5 * small(random);
    }
    const bool all_infinite = trial % 17 == 0;
    if (all_infinite) std::fill(right.begin(), right.end(), infinite);
    const double base = -0.75 * small(random);
    for (std::int64_t lo = 0; lo < std::min<std::int64_t>(n, 6); ++lo) {
      const std::int64_t hi =
          lo - 1 + static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(n - lo + 1));
      std::int64_t expected = -1;
      double least = infinite;
      for (std::int64_t k = lo; k <= hi; ++k) {
        const double c = base + prefix.data()[k] + right.data()[k] + left.data()[k];
        if (c < least) {
          least = c;
          expected = k;
        }
      }
      CAPTURE(trial, n, lo, hi);
      const cairn::detail::LeastSplit found_split = cairn::detail::least_cost_split(
          base, prefix.data(), right.data(), left.data() + lo, lo, hi);
      REQUIRE(found_split.split == expected);
      REQUIRE(found_split.cost == least);
      ++ranges;
      if (expected >= 0) ++found;
    }
  }
  CHECK(ranges == 22131);  // this seed; 18,780 with a finite least
  CHECK(found == 18780);
}

// The full search's observer (bench/chain_split_landscape.cpp) sees each state with splits once,
// after it is final: the least of its splits' costs is never below the state's least, and it is
// the least, first reached at the decision's split, where the decision is a split.
TEST_CASE("the full search's observer sees every split of every state", "[chain_plan]") {
  std::mt19937_64 random(17);
  std::uniform_int_distribution<int> size(0, 3), tape(0, 4), cost(1, 4), coin(0, 1);
  int states = 0, splits = 0;
  for (int trial = 0; trial < 60; ++trial) {
    cairn::detail::ChainUnits chain;
    const int L = 2 + trial % 11;
    for (int i = 0; i < L; ++i) {
      chain.forward.push_back(cost(random));
      chain.backward.push_back(2.0 * cost(random));
      chain.output.push_back(1 + size(random));
      chain.tape.push_back(tape(random));
      chain.compute_workspace.push_back(size(random));
      chain.record_workspace.push_back(size(random));
      chain.backward_workspace.push_back(size(random));
      chain.holds_output.push_back(coin(random));
    }
    chain.held_gradient = coin(random) != 0 ? chain.output.back() : 0;
    const std::int64_t memory = cairn::detail::store_all_memory(chain);
    cairn::detail::ChainTables tables(chain, memory, std::size_t{1} << 26, false, 1);
    std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::int64_t> first_least;
    tables.observe([&](const cairn::detail::SplitCosts& state) {
      REQUIRE(state.lo == state.s + 1);
      REQUIRE(state.hi <= state.t);
      double least = std::numeric_limits<double>::infinity();
      std::int64_t first = -1;
      for (std::int64_t k = state.lo; k <= state.hi; ++k) {
        if (state.cost(k) < least) {
          least = state.cost(k);
          first = k;
        }
        ++splits;
      }
      CHECK(least >= state.best);
      const bool fresh =
          first_least
              .emplace(std::make_tuple(state.s, state.t, state.m), least == state.best ? first : -1)
              .second;
      CHECK(fresh);
    });
    tables.fill();
    for (std::int64_t m = 0; m <= memory; ++m) {
      for (std::int64_t s = 0; s < L; ++s) {
        for (std::int64_t t = s + 1; t < L; ++t) {
          const std::uint16_t decision = tables.decision(s, t, m);
          if (decision == 0) continue;
          CAPTURE(trial, m, s, t);
          const auto seen = first_least.find(std::make_tuple(s, t, m));
          REQUIRE(seen != first_least.end());
          CHECK(seen->second == s + decision);
          ++states;
        }
      }
    }
  }
  CHECK(states == 10552);  // this seed: the states whose decision is a split
  CHECK(splits == 220120);
}

TEST_CASE("plan_chain's errors say what is wrong", "[chain_plan]") {
  std::mt19937_64 random(3);
  const Graph chain = cairn::testing::random_chain(random, 6);
  const std::uint64_t least = cairn::chain_min_budget(chain);
  CHECK_THROWS_AS(cairn::plan_chain(chain, least - 1), std::invalid_argument);
  CHECK_THROWS_WITH(cairn::plan_chain(chain, least - 1),
                    Catch::Contains(std::to_string(least) + " bytes"));
  CHECK_NOTHROW(cairn::plan_chain(chain, least));

  Graph skip;
  skip.add(GraphNode{});
  skip.add(GraphNode{}, {0});
  skip.add(GraphNode{}, {0, 1});
  CHECK_THROWS_AS(cairn::plan_chain(skip, 100), std::invalid_argument);
  CHECK_THROWS_WITH(cairn::plan_chain(skip, 100), Catch::Contains("not a chain"));
  CHECK_THROWS_AS(cairn::chain_min_budget(skip), std::invalid_argument);
  CHECK_THROWS_AS(cairn::plan_chain(Graph{}, 100), std::invalid_argument);

  ChainPlanOptions tight;
  tight.max_table_bytes = 100;
  CHECK_THROWS_AS(cairn::plan_chain(chain, least + 10, tight), std::length_error);
  CHECK_THROWS_WITH(cairn::plan_chain(chain, least + 10, tight),
                    Catch::Contains("max_table_bytes"));
}

TEST_CASE("plan_chain with a coarser memory unit stays within the budget", "[chain_plan]") {
  std::mt19937_64 random(5);
  int store_all_direct = 0;
  for (int trial = 0; trial < 40; ++trial) {
    // Sizes of 100..900 bytes: gcd 100 is exact; units of 256 round them up.
    std::uniform_int_distribution<int> size(1, 9), tape(0, 9), cost(1, 4);
    std::vector<GraphNode> layers;
    for (int v = 0; v < 6; ++v) {
      layers.push_back(GraphNode{double(cost(random)), double(cost(random)),
                                 std::uint64_t(100 * size(random)),
                                 std::uint64_t(100 * tape(random)), ""});
    }
    const Graph chain = Graph::chain(layers);
    ChainPlanOptions exact;
    const std::uint64_t least = cairn::chain_min_budget(chain, exact);
    CHECK(least % 100 == 0);
    ChainPlanOptions coarse;
    coarse.memory_unit = 256;
    const std::uint64_t coarse_least = cairn::chain_min_budget(chain, coarse);
    CHECK(coarse_least % 256 == 0);
    CHECK(coarse_least >= least);
    for (std::uint64_t budget = coarse_least; budget < coarse_least + 3000; budget += 137) {
      const auto fine = cairn::plan_chain(chain, budget, exact);
      const auto rough = cairn::plan_chain(chain, budget, coarse);
      CHECK(rough.peak_bytes <= budget);
      CHECK(rough.cost >= fine.cost);
      CHECK(cairn::check_plan(chain, rough.actions).legal);
    }
    // At store-all's peak the rounded sizes do not fit, but store-all does: it is the plan.
    const auto store_all = cairn::plan_store_all(chain);
    ChainPlanReport report;
    coarse.report = &report;
    const auto rough = cairn::plan_chain(chain, store_all.peak_bytes, coarse);
    CHECK(rough.cost == sum_costs(chain));
    CHECK(rough.peak_bytes == store_all.peak_bytes);
    CHECK(rough.optimal);
    CHECK(report.table_bytes == 0);
    CHECK(report.threads == 0);
    ++store_all_direct;
  }
  CHECK(store_all_direct == 40);
}

TEST_CASE("plan_chain with room for everything is store-all", "[chain_plan]") {
  std::mt19937_64 random(11);
  for (int n : {1, 2, 5, 40, 120}) {
    const Graph chain = cairn::testing::random_chain(random, n);
    const auto store_all = cairn::plan_store_all(chain);
    for (std::uint64_t budget : {store_all.peak_bytes, store_all.peak_bytes * 10}) {
      const auto plan = cairn::plan_chain(chain, budget);
      CHECK(plan.cost == sum_costs(chain));
      CHECK(plan.peak_bytes == store_all.peak_bytes);
    }
  }
}

// Threads fill the memory planes in a pipeline (chain_tables.cpp); what they compute is the same
// whatever their number, so the plan must be too: stream for stream, in both searches, with the
// first layer's tape empty (row 0 then reads its own plane) and with the output gradient held.
TEST_CASE("plan_chain's plan does not depend on the number of threads", "[chain_plan]") {
  std::mt19937_64 random(13);
  int compared = 0;
  for (const int n : {2, 7, 60, 230}) {
    // One chain of 230 (threads by default from 200 layers): these take most of the time.
    for (int trial = 0; trial < (n > 200 ? 1 : 3); ++trial) {
      Graph chain = cairn::testing::random_chain(random, n);
      if (trial == 0) {
        std::vector<GraphNode> layers;
        for (std::int64_t v = 0; v < chain.size(); ++v) layers.push_back(chain.node(v));
        layers[0].tape_bytes = 0;
        chain = Graph::chain(layers);
      }
      // With the output gradient held, the segments ending at the last layer read their left
      // parts from an older plane, which another thread may have filled.
      chain.set_output_gradient_held(trial % 2 == 0);
      const std::uint64_t least = cairn::chain_min_budget(chain);
      const std::uint64_t top = cairn::plan_store_all(chain).peak_bytes;
      for (const std::uint64_t budget : {least, least + (top - least) / 3, top}) {
        for (const bool full : {false, true}) {
          if (full && n > 60) continue;
          ChainPlanOptions options;
          options.exhaustive_splits = full;
          options.full_search_steps = 0;
          options.threads = 1;
          const cairn::GraphPlan one = cairn::plan_chain(chain, budget, options);
          for (const unsigned threads : {2u, 3u, 4u, 0u}) {
            options.threads = threads;
            ChainPlanReport report;
            options.report = &report;
            const cairn::GraphPlan many = cairn::plan_chain(chain, budget, options);
            CAPTURE(n, trial, budget, full, threads);
            CHECK(many.actions == one.actions);
            CHECK(many.cost == one.cost);
            CHECK(many.peak_bytes == one.peak_bytes);
            const auto planes = static_cast<unsigned>(report.memory_units + 1);
            if (threads != 0) CHECK(report.threads == std::min(threads, planes));
            ++compared;
          }
        }
      }
    }
  }
  CHECK(compared == 228);
}
