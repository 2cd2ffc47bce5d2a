// MixedRevolve: the dynamic program equal to exhaustive search over every legal mixed stream on
// small instances, every stream legal within its units and costing exactly what the plan says,
// never worse than Revolve, the published figures of Maddison's schedule, and the checker's rules
// for adjoint data.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cairn/action_io.hpp"
#include "cairn/binomial.hpp"
#include "cairn/check.hpp"
#include "cairn/mixed.hpp"
#include "mixed_exhaustive.hpp"

namespace {

using cairn::Action;
using cairn::MixedPrices;
using cairn::MixedRevolve;

// Replays the stream and requires: legal within the units, the checker's cost equal to
// optimal_cost() bit for bit, its counts equal to expected_costs().
cairn::CheckResult require_as_planned(MixedRevolve& schedule) {
  schedule.reset();
  const cairn::CheckResult result = cairn::check(schedule, schedule.steps(), {schedule.units()});
  INFO(result.reason);
  REQUIRE(result.legal);
  REQUIRE(cairn::cost(result.costs, schedule.cost_model()) == schedule.optimal_cost());
  REQUIRE(result.costs.forward_evaluations() == schedule.expected_costs().forward_evaluations());
  REQUIRE(result.costs.levels[0].peak_units <= schedule.units());
  REQUIRE(result.costs.reverses == schedule.steps());
  return result;
}

}  // namespace

TEST_CASE("mixed: the dynamic program equals exhaustive search over all streams", "[mixed]") {
  // Dyadic prices: every sum is exact in doubles, so equality is exact.
  const std::vector<MixedPrices> prices{{1, 1, 0}, {1, 2, 0}, {1, 1.5, 0}, {0.5, 1, 0}, {0, 1, 0}};
  int instances = 0;
  for (int w = 1; w <= 3; ++w) {
    for (int steps = 1; steps <= 7; ++steps) {
      for (int units = steps == 1 ? 0 : 1; units <= 5; ++units) {
        for (const MixedPrices& p : prices) {
          MixedRevolve schedule(steps, units, w, p);
          const double searched =
              cairn_test::exhaustive_mixed_cost(steps, units, w, p.forward, p.taped);
          INFO("T = " << steps << ", units = " << units << ", w = " << w << ", uf = " << p.forward
                      << ", ut = " << p.taped);
          REQUIRE(schedule.optimal_cost() == searched);
          require_as_planned(schedule);
          ++instances;
        }
      }
    }
  }
  CHECK(instances == 3 * (6 + 6 * 5) * 5);
}

TEST_CASE("mixed: streams legal and priced exactly over a grid of instances", "[mixed]") {
  for (std::int64_t w : {1, 2, 3, 5}) {
    for (std::int64_t steps : {2, 3, 10, 33, 64, 100}) {
      for (std::int64_t units = 1; units <= 12; ++units) {
        for (const MixedPrices& p : {MixedPrices{1, 1, 0.25}, MixedPrices{1, 2, 1}}) {
          INFO("T = " << steps << ", units = " << units << ", w = " << w);
          MixedRevolve schedule(steps, units, w, p);
          const auto result = require_as_planned(schedule);
          // Enough units for every step's adjoint data: nothing recomputed.
          if (units >= (steps - 1) * w) {
            REQUIRE(result.costs.forward_evaluations() == steps);
            REQUIRE(result.costs.stored_reverses == steps - 1);
          }
        }
      }
    }
  }
}

TEST_CASE("mixed: never more forward evaluations than Revolve with as many slots", "[mixed]") {
  // Revolve's streams are mixed streams without adjoint data, so the optimum can only be lower:
  // t(T, c) + T evaluations (advances plus the taped re-run of each reverse) bound it.
  std::int64_t strictly_better = 0, compared = 0;
  for (std::int64_t steps = 1; steps <= 300; ++steps) {
    for (std::int64_t c = 1; c <= 12; ++c) {
      MixedRevolve schedule(steps, c);
      const std::int64_t revolve = cairn::forward_cost(steps, c) + steps;
      const std::int64_t mixed = schedule.expected_costs().forward_evaluations();
      REQUIRE(static_cast<double>(mixed) == schedule.optimal_cost());
      REQUIRE(mixed <= revolve);
      strictly_better += mixed < revolve;
      ++compared;
    }
  }
  // Ties only where storage (nearly) suffices or there is nothing to gain.
  CHECK(strictly_better > compared * 9 / 10);
}

TEST_CASE("mixed: equal to Maddison's recursion as the paper states it", "[mixed]") {
  // The paper's form for equal sizes (w = 1, uf = ut = 1): n steps within s units cost n when
  // n <= s + 1 (every step's data kept), n (n + 1) / 2 - 1 with one unit, else the best of keeping
  // the first step's data (1 + M(n - 1, s - 1)) and splitting after i >= 2 steps
  // (i + M(i, s) + M(n - i, s - 1)). Written out here on its own, memoised.
  constexpr std::int64_t longest = 300, most = 16;
  std::vector<std::vector<std::int64_t>> memo(most + 1, std::vector<std::int64_t>(longest + 1, -1));
  std::function<std::int64_t(std::int64_t, std::int64_t)> paper = [&](std::int64_t n,
                                                                      std::int64_t units) {
    const std::int64_t s = std::min(units, n - 1);
    if (n <= s + 1) return n;
    if (s == 1) return n * (n + 1) / 2 - 1;
    std::int64_t& m = memo[static_cast<std::size_t>(s)][static_cast<std::size_t>(n)];
    if (m >= 0) return m;
    m = 1 + paper(n - 1, s - 1);
    for (std::int64_t i = 2; i < n; ++i) m = std::min(m, i + paper(i, s) + paper(n - i, s - 1));
    return m;
  };
  for (std::int64_t n = 2; n <= longest; n += n < 60 ? 1 : 7) {
    for (std::int64_t units = 1; units <= most; ++units) {
      INFO("T = " << n << ", units = " << units);
      const MixedRevolve schedule(n, units);
      REQUIRE(schedule.expected_costs().forward_evaluations() == paper(n, units));
    }
  }
}

TEST_CASE("mixed: Maddison's published figures", "[mixed]") {
  // T = 1000, 10 units: 3921 evaluations against Revolve's 4636 (15% fewer).
  MixedRevolve thousand(1000, 10);
  CHECK(thousand.expected_costs().forward_evaluations() == 3921);
  CHECK(cairn::forward_cost(1000, 10) + 1000 == 4636);
  require_as_planned(thousand);
  // One unit: T (T + 1) / 2 - 1, one fewer than Revolve's T (T + 1) / 2.
  MixedRevolve one(50, 1);
  CHECK(one.expected_costs().forward_evaluations() == 50 * 51 / 2 - 1);
}

TEST_CASE("mixed: the published T = 10^4, 50 units figure", "[mixed][slow]") {
  MixedRevolve schedule(10000, 50);
  CHECK(schedule.expected_costs().forward_evaluations() == 28912);
  CHECK(cairn::forward_cost(10000, 50) + 10000 == 38622);
}

TEST_CASE("mixed: bad arguments say what is allowed", "[mixed]") {
  const auto message = [](auto make) {
    try {
      make();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  CHECK(message([] { MixedRevolve(0, 3); }).find("steps >= 1") != std::string::npos);
  CHECK(message([] { MixedRevolve(5, 0); }).find("units >= 1") != std::string::npos);
  CHECK(message([] { MixedRevolve(5, 2, 0); }).find(">= 1 unit") != std::string::npos);
  CHECK(message([] {
          MixedRevolve(5, 2, 1, {-1, 1, 0});
        }).find("the forward price uf = -1.000000 is not allowed; it must be finite and >= 0") !=
        std::string::npos);
  CHECK(message([] {
          MixedRevolve(5, 2, 1, {0, 0, 1});
        }).find("the taped price ut = 0.000000 is not allowed; it must be finite and > 0") !=
        std::string::npos);
  CHECK(message([] {
          MixedRevolve(5, 2, 1, {1, 0.5, 0});
        }).find("at least uf") != std::string::npos);
  CHECK(message([] { MixedRevolve(100000, 50, 1, {}, 1000); }).find("max_table_bytes") !=
        std::string::npos);
  MixedRevolve single(1, 0);  // one step needs no unit
  CHECK(single.next() == Action::make_reverse(0));
  CHECK(single.next() == Action::make_end());
}

TEST_CASE("checker: adjoint data rules", "[mixed][checker]") {
  using cairn::ScheduleChecker;
  const auto verdict = [](std::vector<Action> stream, std::int64_t units, std::int64_t w) {
    ScheduleChecker checker(3, {units}, true, 1, w);
    for (const Action& a : stream) checker.feed(a);
    return checker.finish();
  };
  const std::vector<Action> good{
      Action::make_store_adjoint(0, 0),  Action::make_store_adjoint(1, 1),  Action::make_reverse(2),
      Action::make_reverse_stored(1, 1), Action::make_reverse_stored(0, 0), Action::make_end()};
  const auto ok = verdict(good, 2, 1);
  INFO(ok.reason);
  REQUIRE(ok.legal);
  CHECK(ok.costs.forward_steps == 0);
  CHECK(ok.costs.taped_steps() == 3);
  CHECK(ok.costs.forward_evaluations() == 3);
  CHECK(ok.costs.stored_reverses == 2);
  CHECK(ok.costs.levels[0].peak_units == 2);
  CHECK(cairn::cost(ok.costs, cairn::CostModel{1, 0.5, {}, {}, 2}) == 3 * 2 + 3 * 0.5);
  // Two records of 2 units do not fit in 3 units.
  const auto full = verdict(good, 3, 2);
  CHECK_FALSE(full.legal);
  CHECK(full.first_illegal_index == 1);
  CHECK(full.reason.find("has 3 units and would hold 4") != std::string::npos);
  // reverse_stored needs the data of that very step, and consumes it.
  const auto wrong = verdict({Action::make_store_adjoint(0, 0), Action::make_advance(1, 2),
                              Action::make_reverse_stored(0, 2)},
                             2, 1);
  CHECK(wrong.reason.find("holds the adjoint data of step 0, not the adjoint data of step 2") !=
        std::string::npos);
  // Adjoint data restarts nothing.
  const auto restart =
      verdict({Action::make_store_adjoint(0, 0), Action::make_restore(0, 0)}, 2, 1);
  CHECK(restart.reason.find("holds the adjoint data of step 0, not x_0") != std::string::npos);
  // The text forms.
  CHECK(cairn::to_json(Action::make_store_adjoint(3, 7, 0)) ==
        R"({"op":"store_adjoint","slot":3,"step":7,"level":"ram"})");
  CHECK(cairn::to_json(Action::make_reverse_stored(3, 7, 0)) ==
        R"({"op":"reverse_stored","slot":3,"step":7,"level":"ram"})");
}
