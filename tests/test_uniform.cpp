#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "cairn/check.hpp"
#include "cairn/uniform.hpp"

TEST_CASE("Uniform is legal with the textbook counts for every T and k up to 60", "[uniform]") {
  for (std::int64_t T = 1; T <= 60; ++T) {
    for (std::int64_t k = 1; k <= T + 2; ++k) {
      cairn::Uniform schedule(T, k);
      const std::int64_t slots = cairn::Uniform::slots_needed(T, k);
      REQUIRE(schedule.slots() == slots);
      const auto result = cairn::check(schedule, T, {slots});
      INFO("T = " << T << ", k = " << k << ": " << result.reason);
      REQUIRE(result.legal);
      const std::int64_t m = (T + k - 1) / k;
      // Forward sweep to x_{T-1}, then each segment [s, e) once more up to x_{e-1}.
      REQUIRE(result.costs.forward_steps == 2 * T - 1 - m);
      REQUIRE(result.costs.forward_steps == cairn::Uniform::forward_steps(T, k));
      if (T % k == 0) {
        // The textbook's N C_f + N (1 - 1/k) C_f is our advances plus the Driver's final step.
        REQUIRE(result.costs.forward_steps + 1 == T + T - T / k);
      }
      // No step is advanced more than twice (once forward, once in its segment's recomputation).
      REQUIRE(result.costs.max_advances_per_step <= 2);
      REQUIRE(result.costs.levels[0].peak_slots <= slots);
      std::int64_t buffer_stores = 0;
      for (std::int64_t s = 0; s < T; s += k)
        buffer_stores += std::max<std::int64_t>(std::min(k, T - s) - 2, 0);
      REQUIRE(result.costs.stores() == m + buffer_stores);
      REQUIRE(result.costs.restores() == T);
    }
  }
  REQUIRE_THROWS_WITH(cairn::Uniform(0, 3), Catch::Contains("steps must be an integer >= 1"));
  REQUIRE_THROWS_WITH(cairn::Uniform(10, 0), Catch::Contains("interval k must be >= 1"));
}

TEST_CASE("Uniform's optimal interval minimises alpha a / k + beta k / 2", "[uniform]") {
  for (double alpha : {0.5, 1.0, 3.0}) {
    for (double a : {1.0, 10.0, 1000.0, 1e6}) {
      for (double beta : {0.1, 1.0, 7.0}) {
        const std::int64_t k = cairn::Uniform::optimal_interval(alpha, a, beta);
        const double star = std::sqrt(2 * alpha * a / beta);
        INFO("alpha " << alpha << " a " << a << " beta " << beta << " k* " << star);
        REQUIRE(k >= 1);
        REQUIRE(std::abs(static_cast<double>(k) - star) < 1.0 + 1e-9);
        // No integer does better (checked on a wide window around k*).
        const double best = cairn::Uniform::interval_objective(alpha, a, beta, k);
        for (std::int64_t j = std::max<std::int64_t>(1, k - 50); j <= k + 50; ++j) {
          REQUIRE(best <= cairn::Uniform::interval_objective(alpha, a, beta, j));
        }
      }
    }
  }
  // The seed article's example: a = 100 states of memory per unit, alpha = beta = 1: k* =
  // sqrt(200).
  CHECK(cairn::Uniform::optimal_interval(1, 100, 1) == 14);
  REQUIRE_THROWS_WITH(cairn::Uniform::optimal_interval(1, -1, 1), Catch::Contains("> 0"));
}

TEST_CASE("Uniform's best interval for a slot budget is the cheapest that fits", "[uniform]") {
  for (std::int64_t T = 1; T <= 1000; ++T) {
    std::int64_t least = T + 10;
    for (std::int64_t k = 1; k <= T; ++k)
      least = std::min(least, cairn::Uniform::slots_needed(T, k));
    for (std::int64_t slots = least; slots <= least + 40; ++slots) {
      const std::int64_t k = cairn::Uniform::best_interval_for_slots(T, slots);
      REQUIRE(cairn::Uniform::slots_needed(T, k) <= slots);
      for (std::int64_t j = 1; j <= T; ++j) {
        if (cairn::Uniform::slots_needed(T, j) <= slots) {
          REQUIRE(cairn::Uniform::forward_steps(T, k) <= cairn::Uniform::forward_steps(T, j));
        }
      }
    }
    if (least > 1) {
      REQUIRE_THROWS_WITH(cairn::Uniform::best_interval_for_slots(T, least - 1),
                          Catch::Contains("needs at least " + std::to_string(least)));
    }
  }
}

TEST_CASE("Uniform: T up to 2^63 - 1 without overflow, buffers or long searches", "[uniform]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  // 2 T - 1 - ceil(T / k) does not fit: an overflow error (the C API's CAIRN_ERROR_OVERFLOW), not
  // a negative count.
  REQUIRE_THROWS_AS(cairn::Uniform::forward_steps(kMax, 1000000), std::overflow_error);
  REQUIRE_THROWS_AS(cairn::Uniform::forward_steps(kMax, kMax), std::overflow_error);
  REQUIRE(cairn::Uniform::forward_steps(std::int64_t{1} << 62, std::int64_t{1} << 62) == kMax - 1);
  REQUIRE(cairn::Uniform::forward_steps(std::int64_t{1} << 62, 2) ==
          (std::int64_t{1} << 62) - 1 + (std::int64_t{1} << 61));
  // The stream holds a few integers: a huge interval costs no buffer (it reserved 3k actions).
  cairn::Uniform wide(kMax, kMax);
  REQUIRE(wide.slots() == kMax - 2 + 1);
  REQUIRE(wide.next() == cairn::Action::make_store(0, 0));
  REQUIRE(wide.next() == cairn::Action::make_advance(0, kMax - 1));
  REQUIRE(wide.next() == cairn::Action::make_restore(0, 0));
  REQUIRE(wide.next() == cairn::Action::make_advance(0, 1));
  REQUIRE(wide.next() == cairn::Action::make_store(1, 1));
  cairn::Uniform many(kMax, 1000000);
  REQUIRE(many.next() == cairn::Action::make_store(0, 0));
  REQUIRE(many.next() == cairn::Action::make_advance(0, 1000000));
  REQUIRE(many.next() == cairn::Action::make_store(1, 1000000));
  // The best interval for T = 2^63 - 1 is found by bisection (a scan to 2 sqrt(T) took 52 s): the
  // smallest k whose slots fit, checked against its neighbour.
  for (const std::int64_t slots : {std::int64_t{6074001000}, std::int64_t{1} << 40, kMax}) {
    const std::int64_t k = cairn::Uniform::best_interval_for_slots(kMax, slots);
    INFO("slots = " << slots << ", k = " << k);
    REQUIRE(cairn::Uniform::slots_needed(kMax, k) <= slots);
    REQUIRE((k == 1 || cairn::Uniform::slots_needed(kMax, k - 1) > slots));
  }
  // About 2 sqrt(T) - 2 = 6074000997.6 slots at least.
  REQUIRE_THROWS_WITH(cairn::Uniform::best_interval_for_slots(kMax, 3),
                      Catch::Contains("needs at least 6074000998"));
}
