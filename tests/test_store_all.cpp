#include <catch2/catch.hpp>

#include "cairn/check.hpp"
#include "cairn/revolve.hpp"
#include "cairn/store_all.hpp"

TEST_CASE("StoreAll is legal without recomputation and has the counts of Revolve(T T)",
          "[store_all]") {
  for (std::int64_t T = 1; T <= 2000; ++T) {
    cairn::StoreAll schedule(T);
    const auto result = cairn::check(schedule, T, {schedule.slots()});
    INFO("T = " << T << ": " << result.reason);
    REQUIRE(result.legal);
    REQUIRE(result.costs.forward_steps == T - 1);
    REQUIRE(result.costs.max_advances_per_step == (T > 1 ? 1 : 0));
    REQUIRE(result.costs.stores() == T - 1);
    REQUIRE(result.costs.restores() == T - 1);
    REQUIRE(result.costs.levels[0].peak_slots == T - 1);
    cairn::Revolve revolve(T, T);
    const auto reference = cairn::check(revolve, T, {T});
    REQUIRE(result.costs.forward_steps == reference.costs.forward_steps);
    REQUIRE(result.costs.stores() == reference.costs.stores());
    REQUIRE(result.costs.restores() == reference.costs.restores());
  }
  REQUIRE_THROWS_AS(cairn::StoreAll(0), std::invalid_argument);
}

TEST_CASE("StoreAll on disk: every checkpoint on the level asked for, none in RAM", "[store_all]") {
  for (std::int64_t T = 1; T <= 300; ++T) {
    cairn::StoreAll schedule(T, 1);
    REQUIRE(schedule.level() == 1);
    const auto result = cairn::check(schedule, T, {0, schedule.slots()});
    INFO("T = " << T << ": " << result.reason);
    REQUIRE(result.legal);
    REQUIRE(result.costs.levels[0].stores == 0);
    REQUIRE(result.costs.levels[1].stores == T - 1);
    REQUIRE(result.costs.levels[1].restores == T - 1);
    REQUIRE(result.costs.forward_steps == T - 1);
    // (T - 1) (uf + w + r) + T ub with uf = 1, ub = 1, disk write 2, read 3.
    const cairn::CostModel model{1, 1, {0, 2}, {0, 3}};
    REQUIRE(cairn::cost(result.costs, model) == static_cast<double>(6 * (T - 1) + T));
  }
  REQUIRE_THROWS_WITH(cairn::StoreAll(10, -1), Catch::Matchers::Contains("level = -1"));
}
