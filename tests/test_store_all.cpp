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
