// The T x L grid: the checker's rules, and every schedule's stream against its closed-form
// counts (grid_schedules.hpp), over every small grid and block size.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cairn/grid.hpp"
#include "cairn/grid_schedules.hpp"
#include "cairn/revolve.hpp"

namespace {

using cairn::GridAction;
using cairn::GridActionKind;
using cairn::GridShape;

GridAction compute(std::int64_t t, std::int32_t l) {
  return {GridActionKind::compute, l, t};
}
GridAction release(std::int64_t t, std::int32_t l) {
  return {GridActionKind::free, l, t};
}
GridAction reverse(std::int64_t t, std::int32_t l) {
  return {GridActionKind::reverse, l, t};
}

// Layers with unequal sizes and costs, the same for a given seed.
GridShape random_shape(std::int64_t T, std::int64_t L, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<cairn::GridLayer> layers;
  for (std::int64_t l = 0; l < L; ++l) {
    cairn::GridLayer layer;
    layer.forward_cost = 1 + static_cast<double>(rng() % 4);
    layer.backward_cost = 1 + static_cast<double>(rng() % 3);
    layer.state_bytes = 1 + rng() % 5;
    layer.tape_bytes = rng() % 7;
    layers.push_back(layer);
  }
  return GridShape(T, layers);
}

// Every schedule reverses the cells of each layer in decreasing time, and every cell once.
void require_layer_order(const GridShape& shape, const std::vector<GridAction>& actions) {
  std::vector<std::int64_t> next(static_cast<std::size_t>(shape.depth()), shape.steps() - 1);
  for (const GridAction& a : actions) {
    if (a.kind != GridActionKind::reverse) continue;
    REQUIRE(a.step == next[static_cast<std::size_t>(a.layer)]);
    --next[static_cast<std::size_t>(a.layer)];
  }
  for (const std::int64_t n : next) REQUIRE(n == -1);
}

void require_blocked_matches(const GridShape& shape, std::int64_t bt, std::int64_t bl) {
  INFO("T = " << shape.steps() << ", L = " << shape.depth() << ", bt = " << bt << ", bl = " << bl);
  const std::vector<GridAction> stream = cairn::grid_blocked(shape, bt, bl);
  const cairn::GridCosts checked = cairn::check_grid(shape, stream);
  INFO(checked.reason);
  REQUIRE(checked.legal);
  const cairn::BlockedCosts formula = cairn::blocked_costs(shape, bt, bl);
  REQUIRE(formula.computes == checked.computes);
  REQUIRE(formula.recomputes == checked.recomputes);
  REQUIRE(formula.max_computes_per_cell == checked.max_computes_per_cell);
  REQUIRE(formula.forward_cost == checked.forward_cost);
  REQUIRE(formula.peak_state_bytes == checked.peak_state_bytes);
  require_layer_order(shape, stream);
}

void require_nested_matches(const GridShape& shape, cairn::GridNesting nesting, std::int64_t co,
                            std::int64_t ci) {
  INFO("T = " << shape.steps() << ", L = " << shape.depth() << ", nesting "
              << static_cast<int>(nesting) << ", slots " << co << " x " << ci);
  const std::vector<GridAction> stream = cairn::grid_nested(shape, nesting, co, ci);
  const cairn::GridCosts checked = cairn::check_grid(shape, stream);
  INFO(checked.reason);
  REQUIRE(checked.legal);
  const cairn::NestedCosts formula = cairn::nested_costs(shape, nesting, co, ci);
  REQUIRE(formula.computes == checked.computes);
  REQUIRE(formula.max_computes_per_cell == checked.max_computes_per_cell);
  REQUIRE(formula.forward_cost == checked.forward_cost);
  REQUIRE(formula.peak_state_bytes == checked.peak_state_bytes);
  require_layer_order(shape, stream);
}

}  // namespace

TEST_CASE("check_grid accepts a hand-written stream and prices it", "[grid]") {
  const GridShape shape = GridShape::uniform(2, 2);
  // Store-all on 2 x 2: (0,0), (0,1), (1,0) held; reverse (1,1), (1,0), (0,1), (0,0).
  const std::vector<GridAction> stream = {
      compute(0, 0), compute(0, 1), compute(1, 0), reverse(1, 1), release(1, 0),
      release(0, 1), reverse(1, 0), reverse(0, 1), release(0, 0), reverse(0, 0)};
  const cairn::GridCosts c = cairn::check_grid(shape, stream);
  INFO(c.reason);
  REQUIRE(c.legal);
  REQUIRE(c.computes == 3);
  REQUIRE(c.recomputes == 0);
  REQUIRE(c.reverses == 4);
  REQUIRE(c.peak_state_cells == 3);
  REQUIRE(c.peak_state_bytes == 3);
  REQUIRE(c.cost == 3 + 8);
  REQUIRE(cairn::grid_store_all(shape).size() == stream.size());
}

TEST_CASE("check_grid says what is wrong with an illegal stream", "[grid]") {
  const GridShape shape = GridShape::uniform(2, 2);
  const auto reason = [&](const std::vector<GridAction>& s) {
    const cairn::GridCosts c = cairn::check_grid(shape, s);
    REQUIRE_FALSE(c.legal);
    return c.reason;
  };
  CHECK(reason({compute(1, 0)}) == "cell (1, 0): its input left, (0, 0), is not held");
  CHECK(reason({compute(0, 0), compute(0, 0)}) == "compute (0, 0): its output is already held");
  CHECK(reason({release(0, 0)}) == "free (0, 0): its output is not held");
  CHECK(reason({compute(0, 0), compute(0, 1), reverse(1, 0)}) ==
        "reverse (1, 0): cell (1, 1) reads it and is not reversed yet");
  CHECK(reason({compute(5, 0)}) == "cell (5, 0) is outside the 2 x 2 grid");
  const cairn::GridCosts incomplete = cairn::check_grid(shape, {compute(0, 0)});
  CHECK(incomplete.first_illegal_index == 1);
  CHECK(incomplete.reason == "the stream ended before every cell was reversed (0 of 4)");
  CHECK_THROWS_WITH(GridShape(0, {cairn::GridLayer{}}), "GridShape: steps must be >= 1, got 0");
  CHECK_THROWS_WITH(cairn::grid_blocked(shape, 3, 1),
                    "grid_blocked: block sizes must satisfy 1 <= bt <= T = 2 and 1 <= bl <= L "
                    "= 2, got bt = 3, bl = 1");
  CHECK_THROWS_WITH(cairn::grid_nested(shape, cairn::GridNesting::time_outer, 0, 1),
                    "grid_nested: outer_slots and inner_slots must be >= 1, got 0 and 1");
}

TEST_CASE("grid store-all evaluates every cell once and holds them all", "[grid]") {
  for (std::int64_t T = 1; T <= 9; ++T) {
    for (std::int64_t L = 1; L <= 9; ++L) {
      const GridShape shape = random_shape(T, L, static_cast<std::uint32_t>(T * 31 + L));
      const std::vector<GridAction> stream = cairn::grid_store_all(shape);
      const cairn::GridCosts c = cairn::check_grid(shape, stream);
      INFO("T = " << T << ", L = " << L << ": " << c.reason);
      REQUIRE(c.legal);
      REQUIRE(c.computes == T * L - 1);
      REQUIRE(c.recomputes == 0);
      REQUIRE(c.peak_state_cells == T * L - 1);
      require_layer_order(shape, stream);
      // Store-all is the blocked scheme with 1 x 1 blocks.
      REQUIRE(cairn::blocked_costs(shape, 1, 1).peak_state_bytes == c.peak_state_bytes);
    }
  }
}

TEST_CASE("blocked grid streams match their formulas for every small grid and block size",
          "[grid]") {
  for (std::int64_t T = 1; T <= 20; ++T) {
    for (std::int64_t L = 1; L <= 20; ++L) {
      const GridShape uniform = GridShape::uniform(T, L);
      const GridShape mixed = random_shape(T, L, static_cast<std::uint32_t>(T * 101 + L));
      for (std::int64_t bt = 1; bt <= T; ++bt) {
        for (std::int64_t bl = 1; bl <= L; ++bl) {
          require_blocked_matches(uniform, bt, bl);
          require_blocked_matches(mixed, bt, bl);
        }
      }
    }
  }
}

TEST_CASE("blocked grid streams match their formulas on every grid up to 40 x 40", "[grid]") {
  for (std::int64_t T = 1; T <= 40; ++T) {
    for (std::int64_t L = 1; L <= 40; L += (T % 3 == 0 ? 1 : 3)) {
      const GridShape shape = random_shape(T, L, static_cast<std::uint32_t>(T * 7 + L));
      for (const std::int64_t bt : {std::int64_t{1}, std::int64_t{2}, T / 3, T / 2, T - 1, T}) {
        for (const std::int64_t bl : {std::int64_t{1}, std::int64_t{3}, L / 2, L - 1, L}) {
          if (bt >= 1 && bt <= T && bl >= 1 && bl <= L) require_blocked_matches(shape, bt, bl);
        }
      }
    }
  }
}

TEST_CASE("optimal_block_sizes equals the exhaustive search over (bt, bl) on the checker",
          "[grid]") {
  for (const auto& [T, L] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 1}, {5, 3}, {12, 4}, {9, 9}, {17, 6}, {30, 5}}) {
    const GridShape shape = random_shape(T, L, static_cast<std::uint32_t>(T + 1000 * L));
    // Every (bt, bl) priced by the checker.
    std::vector<cairn::GridCosts> all;
    std::vector<std::pair<std::int64_t, std::int64_t>> sizes;
    std::uint64_t least = ~std::uint64_t{0}, most = 0;
    for (std::int64_t bt = 1; bt <= T; ++bt) {
      for (std::int64_t bl = 1; bl <= L; ++bl) {
        all.push_back(cairn::check_grid(shape, cairn::grid_blocked(shape, bt, bl)));
        sizes.emplace_back(bt, bl);
        least = std::min(least, all.back().peak_state_bytes);
        most = std::max(most, all.back().peak_state_bytes);
      }
    }
    for (std::uint64_t budget = least; budget <= most; ++budget) {
      double best = -1;
      std::uint64_t best_peak = 0;
      for (const cairn::GridCosts& c : all) {
        if (c.peak_state_bytes > budget) continue;
        if (best < 0 || c.forward_cost < best ||
            (c.forward_cost == best && c.peak_state_bytes < best_peak)) {
          best = c.forward_cost;
          best_peak = c.peak_state_bytes;
        }
      }
      const cairn::BlockedCosts chosen = cairn::optimal_block_sizes(shape, budget);
      INFO("T = " << T << ", L = " << L << ", budget " << budget);
      REQUIRE(chosen.forward_cost == best);
      REQUIRE(chosen.peak_state_bytes == best_peak);
    }
    if (least > 1) {
      CHECK_THROWS_WITH(cairn::optimal_block_sizes(shape, least - 1),
                        Catch::Contains("the blocked scheme needs " + std::to_string(least)));
    }
  }
}

TEST_CASE("nested grid streams match their formulas", "[grid]") {
  for (const cairn::GridNesting nesting :
       {cairn::GridNesting::time_outer, cairn::GridNesting::depth_outer}) {
    for (std::int64_t T = 1; T <= 14; ++T) {
      for (std::int64_t L = 1; L <= 9; ++L) {
        const GridShape shape = random_shape(T, L, static_cast<std::uint32_t>(T * 13 + L));
        for (std::int64_t co = 1; co <= T + 1; ++co) {
          for (std::int64_t ci = 1; ci <= L + 1; ++ci)
            require_nested_matches(shape, nesting, co, ci);
        }
      }
    }
    for (std::int64_t T : {20, 33, 40}) {
      for (std::int64_t L : {1, 6, 17, 40}) {
        const GridShape shape = random_shape(T, L, static_cast<std::uint32_t>(T * 17 + L));
        for (std::int64_t co : {1, 2, 3, 5, 9}) {
          for (std::int64_t ci : {1, 2, 4, 40}) require_nested_matches(shape, nesting, co, ci);
        }
      }
    }
  }
}

TEST_CASE("nested Revolve's computes are the two Revolve counts composed", "[grid]") {
  // Uniform layers: L t(T, c_o) + T t(L, c_i) computes, t the Revolve count.
  for (std::int64_t T : {7, 25, 100}) {
    for (std::int64_t L : {3, 10}) {
      for (std::int64_t co : {2, 3, 5}) {
        for (std::int64_t ci : {1, 2, 3}) {
          const cairn::NestedCosts c =
              cairn::nested_costs(GridShape::uniform(T, L), cairn::GridNesting::time_outer, co, ci);
          const std::int64_t expected = L * cairn::Revolve(T, std::min(co, T)).forward_steps() +
                                        T * cairn::Revolve(L, std::min(ci, L)).forward_steps();
          REQUIRE(c.computes == expected);
          REQUIRE(c.max_computes_per_cell == cairn::Revolve(T, std::min(co, T)).repetitions() +
                                                 cairn::Revolve(L, std::min(ci, L)).repetitions());
        }
      }
    }
  }
}

TEST_CASE("optimal_nested_slots equals the search over every slot split", "[grid]") {
  for (const cairn::GridNesting nesting :
       {cairn::GridNesting::time_outer, cairn::GridNesting::depth_outer}) {
    for (const auto& [T, L] :
         std::vector<std::pair<std::int64_t, std::int64_t>>{{6, 3}, {12, 5}, {20, 4}, {9, 9}}) {
      const GridShape shape = random_shape(T, L, static_cast<std::uint32_t>(3 * T + L));
      std::vector<cairn::NestedCosts> all;
      const std::int64_t outer = nesting == cairn::GridNesting::time_outer ? T : L;
      const std::int64_t inner = nesting == cairn::GridNesting::time_outer ? L : T;
      std::uint64_t least = ~std::uint64_t{0}, most = 0;
      for (std::int64_t co = 1; co <= outer; ++co) {
        for (std::int64_t ci = 1; ci <= inner; ++ci) {
          all.push_back(cairn::nested_costs(shape, nesting, co, ci));
          least = std::min(least, all.back().peak_state_bytes);
          most = std::max(most, all.back().peak_state_bytes);
        }
      }
      for (std::uint64_t budget = least; budget <= most; ++budget) {
        double best = -1;
        std::uint64_t best_peak = 0;
        for (const cairn::NestedCosts& c : all) {
          if (c.peak_state_bytes > budget) continue;
          if (best < 0 || c.forward_cost < best ||
              (c.forward_cost == best && c.peak_state_bytes < best_peak)) {
            best = c.forward_cost;
            best_peak = c.peak_state_bytes;
          }
        }
        const cairn::NestedCosts chosen = cairn::optimal_nested_slots(shape, nesting, budget);
        INFO("T = " << T << ", L = " << L << ", nesting " << static_cast<int>(nesting)
                    << ", budget " << budget << ": chose " << chosen.outer_slots << " x "
                    << chosen.inner_slots);
        REQUIRE(chosen.forward_cost == best);
        REQUIRE(chosen.peak_state_bytes <= budget);
      }
    }
  }
}

TEST_CASE("the continuous block optimum is the cube root, or the square root when clamped",
          "[grid]") {
  const cairn::ContinuousBlockOptimum a = cairn::continuous_block_optimum(1000, 64, 1, 0);
  CHECK(a.block_steps == Approx(40.0));
  CHECK(a.block_layers == Approx(40.0));
  const cairn::ContinuousBlockOptimum b = cairn::continuous_block_optimum(10000, 4, 1, 0);
  CHECK(b.block_layers == 4);
  CHECK(b.block_steps == Approx(100.0));
  const cairn::ContinuousBlockOptimum c = cairn::continuous_block_optimum(1000, 64, 1, 2);
  CHECK(c.block_steps == 1);
  CHECK(c.block_layers == 1);
  CHECK_THROWS(cairn::continuous_block_optimum(10, 10, 0, 1));
}
